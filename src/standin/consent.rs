//! The browser half the stand-ins share: the authorization request (RFC 6749
//! §4.1.1, OIDC Core §3.1.2.1), the consent page that picks a test identity, and
//! `…/decide`, which turns the pick into a code or an `access_denied` answer: a
//! redirect, or with `response_mode=form_post` (OAuth 2.0 Form Post Response Mode,
//! which Apple requires for its `name` and `email` scopes) an auto-submitting form.

use askama::Template;
use axum::Router;
use axum::extract::{RawQuery, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::get;
use url::Url;

use super::identities::{IDENTITIES, Identity, identity};
use super::memory::{Grant, has_scope};
use super::quirks::Quirk;
use super::{Inner, Provider, StandIn};
use crate::clients::redirect::with_params;
use crate::hosted_ui::pages::{Chrome, error_page, render};
use crate::oauth::form_post;
use crate::oauth::found;
use crate::oauth::params::Params;
use crate::pkce;

/// Longest parameter value accepted; grants are kept in memory.
const MAX_PARAM: usize = 4096;

/// The request parameters the consent form carries to `…/decide` as hidden fields.
const CARRIED: [&str; 11] = [
    "client_id",
    "redirect_uri",
    "response_type",
    "scope",
    "state",
    "nonce",
    "code_challenge",
    "code_challenge_method",
    "prompt",
    "login_hint",
    "response_mode",
];

/// The authorize and decide routes of `provider`; `authorize_path` is the provider's
/// own name for its authorization endpoint.
pub(super) fn routes(provider: Provider, authorize_path: &str) -> Router<StandIn> {
    let decide_path = format!("/{}/decide", provider.slug());
    Router::new()
        .route(
            authorize_path,
            get(
                move |State(s): State<StandIn>, RawQuery(q): RawQuery| async move {
                    get_authorize(&s, provider, q.as_deref().unwrap_or_default())
                },
            ),
        )
        .route(
            &decide_path,
            // GET lets tests skip the page: `…/decide?<request>&identity=ada`.
            get(
                move |State(s): State<StandIn>, RawQuery(q): RawQuery| async move {
                    decide(&s, provider, q.as_deref().unwrap_or_default())
                },
            )
            .post(move |State(s): State<StandIn>, body: String| async move {
                decide(&s, provider, &body)
            }),
        )
}

/// A validated authorization request.
struct AuthRequest<'a> {
    provider: Provider,
    client_id: &'a str,
    redirect_uri: &'a str,
    state: Option<&'a str>,
    nonce: Option<&'a str>,
    scope: &'a str,
    code_challenge: Option<&'a str>,
    prompt: Option<&'a str>,
    form_post: bool,
}

impl<'a> AuthRequest<'a> {
    /// Checks what a relying party can get wrong. `response_type` is required at the
    /// authorization endpoint (Facebook defaults it) and optional at `…/decide`, so
    /// tests can call it with the fewest parameters.
    fn parse(provider: Provider, params: &'a Params, at_authorize: bool) -> Result<Self, String> {
        if let Some(name) = params.oversized(MAX_PARAM) {
            return Err(format!("{name} is longer than {MAX_PARAM} bytes"));
        }
        let client_id = params.get("client_id").ok_or("client_id is required")?;
        let redirect_uri = params
            .get("redirect_uri")
            .ok_or("redirect_uri is required")?;
        check_redirect_uri(redirect_uri)?;
        match params.get("response_type") {
            Some("code") => {}
            Some(_) => return Err("response_type must be code".into()),
            None if at_authorize && provider != Provider::Facebook => {
                return Err("response_type=code is required".into());
            }
            None => {}
        }
        let code_challenge = params.get("code_challenge");
        // `plain` protects nothing, so only S256 is offered; an absent method is read as
        // S256 (RFC 7636 says plain) so tests may omit it.
        match (code_challenge, params.get("code_challenge_method")) {
            (Some(c), None | Some("S256")) if pkce::is_valid_challenge(c) => {}
            (Some(_), None | Some("S256")) => {
                return Err(
                    "code_challenge must be 43 to 128 characters of [A-Za-z0-9-._~]".into(),
                );
            }
            (Some(_), Some(_)) => return Err("code_challenge_method must be S256".into()),
            (None, Some(_)) => {
                return Err("code_challenge_method was sent without a code_challenge".into());
            }
            (None, None) => {}
        }
        let scope = params.get("scope").unwrap_or_default();
        let form_post = match (provider, params.get("response_mode")) {
            (Provider::Apple, Some("form_post")) => true,
            // Apple's rule: the name and email are only ever posted, never in a URL.
            (Provider::Apple, None | Some("query"))
                if has_scope(scope, "name") || has_scope(scope, "email") =>
            {
                return Err(
                    "response_mode must be form_post when name or email scope is requested".into(),
                );
            }
            (Provider::Apple, None | Some("query")) => false,
            (Provider::Apple, Some(_)) => {
                return Err("response_mode must be query or form_post".into());
            }
            // The other stand-ins answer with redirects only, as before.
            _ => false,
        };
        Ok(Self {
            provider,
            client_id,
            redirect_uri,
            state: params.get("state"),
            nonce: params.get("nonce"),
            scope,
            code_challenge,
            prompt: params.get("prompt"),
            form_post,
        })
    }

    /// `params` and the request's `state` to `redirect_uri`: in its query, or posted.
    fn back(&self, params: &[(&str, &str)]) -> Response {
        let mut params = params.to_vec();
        if let Some(state) = self.state {
            params.push(("state", state));
        }
        if self.form_post {
            let title = format!("Returning from {} (stand-in)", self.provider.display_name());
            return form_post::page(&title, Some(self.redirect_uri), &params);
        }
        found(&with_params(self.redirect_uri, &params))
    }
}

/// An absolute http(s) URL without a fragment (RFC 6749 §3.1.2), in printable ASCII so
/// it can go into a `Location` header as is. Not checked against a registration: the
/// stand-ins have no client registry.
fn check_redirect_uri(raw: &str) -> Result<(), String> {
    let refuse = |why: &str| Err(format!("redirect_uri {why}"));
    if !raw.bytes().all(|b| b.is_ascii_graphic()) {
        return refuse("must be printable ASCII (percent-encode the rest)");
    }
    let Ok(url) = Url::parse(raw) else {
        return refuse("must be an absolute URL");
    };
    if !matches!(url.scheme(), "http" | "https") || url.host().is_none() {
        return refuse("must be an http or https URL");
    }
    if url.fragment().is_some() {
        return refuse("must not have a fragment");
    }
    Ok(())
}

/// The consent page: which provider this imitates, what was asked, and a button per
/// test identity.
#[derive(Template)]
#[template(path = "standin/consent.html")]
struct ConsentPage<'a> {
    chrome: Chrome<'a>,
    provider: &'static str,
    client_id: &'a str,
    scope: &'a str,
    prompt: &'a str,
    login_hint: &'a str,
    action: String,
    hidden: Vec<(&'static str, &'a str)>,
    identities: &'static [Identity],
    quirks: Vec<&'static str>,
}

/// `GET` the authorization endpoint: the consent page, or a 400 page for a request
/// that cannot be answered with a redirect.
fn get_authorize(s: &Inner, provider: Provider, query: &str) -> Response {
    let params = match Params::parse(query) {
        Ok(p) => p,
        Err(e) => return error_page(StatusCode::BAD_REQUEST, &e),
    };
    let req = match AuthRequest::parse(provider, &params, true) {
        Ok(r) => r,
        Err(e) => return error_page(StatusCode::BAD_REQUEST, &e),
    };
    // The stand-in keeps no session, so it can never sign in without asking
    // (OIDC Core §3.1.2.6).
    if provider == Provider::Google
        && req
            .prompt
            .is_some_and(|p| p.split(' ').any(|v| v == "none"))
    {
        return req.back(&[
            ("error", "login_required"),
            (
                "error_description",
                "the stand-in keeps no session; prompt=none cannot succeed",
            ),
        ]);
    }
    let title = format!("Sign in with {} (stand-in)", provider.display_name());
    let page = ConsentPage {
        chrome: Chrome {
            base: String::new(),
            lang: "en",
            title,
            client_name: "",
            logo_url: None,
            client_css: None,
        },
        provider: provider.display_name(),
        client_id: req.client_id,
        scope: req.scope,
        prompt: req.prompt.unwrap_or("(none)"),
        login_hint: params.get("login_hint").unwrap_or("(none)"),
        action: s.url(provider, "/decide"),
        hidden: CARRIED
            .iter()
            .filter_map(|&name| Some((name, params.get(name)?)))
            .collect(),
        identities: IDENTITIES,
        quirks: Quirk::ALL
            .iter()
            .filter(|(_, q)| provider.issues_id_tokens() || !q.is_id_token_only())
            .map(|(name, _)| *name)
            .collect(),
    };
    render(StatusCode::OK, &page)
}

/// `…/decide`: the request again, plus `identity=<key>` (or `cancel`, or no identity,
/// to refuse) and an optional `quirk`. No CSRF token, unlike the hosted UI's forms:
/// there is no session to bind it to, and the form carries no authority, since anyone
/// may ask for any identity here by design.
fn decide(s: &Inner, provider: Provider, raw: &str) -> Response {
    let params = match Params::parse(raw) {
        Ok(p) => p,
        Err(e) => return error_page(StatusCode::BAD_REQUEST, &e),
    };
    let req = match AuthRequest::parse(provider, &params, false) {
        Ok(r) => r,
        Err(e) => return error_page(StatusCode::BAD_REQUEST, &e),
    };
    let key = match params.get("identity") {
        Some(key) if params.get("cancel").is_none() => key,
        _ => return cancelled(&req, provider),
    };
    let Some(identity) = identity(key) else {
        return error_page(
            StatusCode::BAD_REQUEST,
            "there is no such test identity; use ada, grace or anon",
        );
    };
    let quirk = match params.get("quirk").map(Quirk::parse) {
        None => None,
        Some(None) => {
            let names: Vec<_> = Quirk::ALL.iter().map(|(n, _)| *n).collect();
            let msg = format!("unknown quirk; known quirks are {}", names.join(", "));
            return error_page(StatusCode::BAD_REQUEST, &msg);
        }
        Some(Some(q)) if q.is_id_token_only() && !provider.issues_id_tokens() => {
            let msg = format!(
                "quirk {} concerns ID tokens, which only the Google and Apple stand-ins issue",
                q.name()
            );
            return error_page(StatusCode::BAD_REQUEST, &msg);
        }
        Some(quirk) => quirk,
    };
    let code = s.memory.insert_grant(Grant {
        provider,
        client_id: req.client_id.to_string(),
        redirect_uri: req.redirect_uri.to_string(),
        nonce: req.nonce.map(str::to_string),
        code_challenge: req.code_challenge.map(str::to_string),
        scope: req.scope.to_string(),
        identity,
        quirk,
    });
    // Apple tells a client who the person is once, at their first authorization.
    let user = (provider == Provider::Apple
        && s.memory.first_authorization(req.client_id, identity))
    .then(|| super::apple::user_field(req.scope, identity))
    .flatten();
    match &user {
        Some(user) => req.back(&[("code", &code), ("user", user)]),
        None => req.back(&[("code", &code)]),
    }
}

/// The user pressed Cancel: `access_denied` (RFC 6749 §4.1.2.1), worded as each
/// provider does.
fn cancelled(req: &AuthRequest<'_>, provider: Provider) -> Response {
    let description = "The user cancelled at the stand-in's consent page.";
    match provider {
        // Facebook adds its own reason field, which clients branch on.
        Provider::Facebook => req.back(&[
            ("error", "access_denied"),
            ("error_reason", "user_denied"),
            ("error_description", description),
        ]),
        // Apple's own error code, and no description.
        Provider::Apple => req.back(&[("error", "user_cancelled_authorize")]),
        Provider::Google | Provider::Amazon => req.back(&[
            ("error", "access_denied"),
            ("error_description", description),
        ]),
    }
}
