//! `/oauth2/authorize` (RFC 6749 §4.1.1, OIDC Core §3.1.2, RFC 7636). The request is
//! validated here, once, for the endpoint and for the login page that carries it on.
//! Until `client_id` and `redirect_uri` are trusted, errors are an HTML page and never
//! a redirect (RFC 6749 §4.1.2.1); after that they go back to the client.

use axum::Router;
use axum::extract::{Path, RawQuery, State};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use tower_sessions::Session;

use super::params::Params;
use crate::clients::redirect::{is_registered, with_params};
use crate::clients::state_split::Split;
use crate::clients::{AppClient, FLOW_CODE};
use crate::error::AppError;
use crate::events::{Event, Kind, Reason};
use crate::flows::code;
use crate::host_routing::{Base, ThroughDomain, Via};
use crate::pkce;
use crate::session;
use crate::state::{AppState, Inner};
use crate::users::User;

/// Longest accepted value of any authorization parameter.
const MAX_PARAM_LEN: usize = 2048;

pub fn routes() -> Router<AppState> {
    Router::new().route("/{pool_id}/oauth2/authorize", get(authorize))
}

/// A validated authorization request.
#[derive(Debug)]
pub struct AuthorizeRequest {
    pub pool_id: String,
    pub client: AppClient,
    pub redirect_uri: String,
    pub scopes: Vec<String>,
    pub state: Option<String>,
    /// Where the browser goes back to: the redirect URI, or the validated return-to of
    /// an overloaded state. The code stays bound to `redirect_uri`.
    pub landing: String,
    /// The `state` sent back: the app's state, or the nonce part of an overloaded one.
    pub reply_state: Option<String>,
    pub nonce: Option<String>,
    pub code_challenge: Option<String>,
    pub prompt: Option<String>,
    /// OIDC `max_age`: a session older than this many seconds must sign in again.
    pub max_age: Option<i64>,
    /// The hosted pages' language (`lang`, as Cognito's hosted UI takes it).
    pub lang: Option<String>,
    /// Passed on to an identity provider.
    pub login_hint: Option<String>,
    /// `identity_provider`, or the provider an `idp_identifier` names: skip the login
    /// page and go straight to that provider.
    pub identity_provider: Option<String>,
    /// The parameters re-encoded, to carry the request to the login page.
    pub query: String,
    /// The pool's domain the request came through, if it was routed by `Host`: every
    /// hosted page's link stays on that host ([`AuthorizeRequest::base`]).
    pub via: Option<ThroughDomain>,
}

/// Why a request stops, and where the browser learns it.
#[derive(Debug)]
pub enum Rejection {
    /// The client or redirect URI is not trusted: an error page, no redirect.
    Page(AppError),
    /// A trusted redirect URI receives `error=…`.
    Redirect(String),
}

impl IntoResponse for Rejection {
    fn into_response(self) -> Response {
        match self {
            Rejection::Page(e) => e.into_response(),
            Rejection::Redirect(location) => super::found(&location),
        }
    }
}

impl From<AppError> for Rejection {
    fn from(e: AppError) -> Self {
        Rejection::Page(e)
    }
}

impl AuthorizeRequest {
    /// The redirect that reports `error` to the client: where a code would have gone
    /// (the validated return-to of an overloaded state, else the redirect URI), with
    /// the `state` a code would have carried (the nonce, else the app's state).
    pub fn error_redirect(&self, error: &str, description: &str) -> Rejection {
        error_redirect(
            &self.landing,
            error,
            description,
            self.reply_state.as_deref(),
        )
    }

    /// Where the pool's routes are for this request: the public URL's path form, or the
    /// domain it came through.
    pub fn base(&self, app: &Inner) -> Base {
        Base::of(app, self.via.as_ref(), &self.pool_id)
    }

    /// Whether `prompt`, a space-separated list (OIDC Core §3.1.2.1), holds `value`.
    pub fn prompts(&self, value: &str) -> bool {
        self.prompt
            .as_deref()
            .is_some_and(|p| p.split(' ').any(|v| v == value))
    }
}

fn error_redirect(
    redirect_uri: &str,
    error: &str,
    description: &str,
    state: Option<&str>,
) -> Rejection {
    let description = clean_description(description);
    let mut params = vec![
        ("error", error),
        ("error_description", description.as_str()),
    ];
    if let Some(state) = state {
        params.push(("state", state));
    }
    Rejection::Redirect(with_params(redirect_uri, &params))
}

/// An `error_description` within RFC 6749 §4.1.2.1's characters (printable ASCII
/// without `"` and backslash): descriptions may quote request values, which must not bring
/// control characters or quotes into the client's callback.
fn clean_description(description: &str) -> String {
    description
        .chars()
        .map(|c| match c {
            ' '..='~' if c != '"' && c != '\\' => c,
            _ => '?',
        })
        .collect()
}

/// Validates an authorization request given as a raw query string, which came
/// `via` one of the pool's domains or not.
pub async fn validate(
    app: &Inner,
    pool_id: &str,
    via: Option<ThroughDomain>,
    raw_query: &str,
) -> Result<AuthorizeRequest, Rejection> {
    let page = |msg: &str| Rejection::Page(AppError::Invalid(msg.to_string()));
    let params = Params::parse(raw_query).map_err(|e| page(&e))?;
    let client_id = params
        .get("client_id")
        .ok_or_else(|| page("client_id is missing."))?;
    let client = match crate::pool::is_pool_id(pool_id) {
        true => app
            .store
            .client_by_id(pool_id, client_id)
            .await
            .map_err(AppError::from)?,
        false => None,
    }
    .ok_or_else(|| page("The client_id is not known to this user pool."))?;
    let redirect_uri = params
        .get("redirect_uri")
        .ok_or_else(|| page("redirect_uri is missing."))?;
    if !is_registered(&client.callback_urls, redirect_uri) {
        app.record(
            Event::new(Kind::RefusedRedirect, pool_id)
                .client(&client.client_id)
                .failed(Reason::Refused),
        );
        return Err(page("The redirect_uri is not registered for this client."));
    }

    // From here on the redirect URI is trusted: errors go back to the client. An
    // overloaded state is split first: a return-to the allow-list refuses stops the
    // flow here, on a page, so no redirect is ever derived from it.
    let state = params.get("state");
    let (landing, reply_state) = match state.map(|s| client.state_relay.split(s)) {
        None | Some(Ok(Split::Opaque)) => (redirect_uri.to_string(), state.map(str::to_string)),
        Some(Ok(Split::Relay { nonce, target })) => (target.to_string(), Some(nonce)),
        Some(Err(refusal)) => {
            app.metrics.state_refused(refusal.kind());
            tracing::warn!(client_id = %client.client_id, reason = refusal.kind(), "overloaded state refused");
            app.record(
                Event::new(Kind::RefusedState, pool_id)
                    .client(&client.client_id)
                    .failed(Reason::Refused),
            );
            return Err(page(&format!(
                "The state parameter was refused: {refusal}."
            )));
        }
    };
    let fail = |error: &str, description: &str| {
        error_redirect(&landing, error, description, reply_state.as_deref())
    };
    if let Some(name) = params.oversized(MAX_PARAM_LEN) {
        let description = format!("{name} is longer than {MAX_PARAM_LEN} bytes");
        let reply_state = reply_state.as_deref().filter(|_| name != "state");
        return Err(error_redirect(
            &landing,
            "invalid_request",
            &description,
            reply_state,
        ));
    }
    match params.get("response_type") {
        None => return Err(fail("invalid_request", "response_type is missing")),
        Some("code") => {}
        Some(_) => {
            return Err(fail(
                "unsupported_response_type",
                "only response_type=code is supported",
            ));
        }
    }
    // Discovery advertises `query` only; a client asking for another mode would not
    // read the answer where it expects it.
    if params.get("response_mode").is_some_and(|m| m != "query") {
        return Err(fail(
            "invalid_request",
            "only response_mode=query is supported",
        ));
    }
    if !client.allows_flow(FLOW_CODE) {
        return Err(fail(
            "unauthorized_client",
            "the client may not use the code flow",
        ));
    }
    let scopes = match params.get("scope") {
        None => client.allowed_scopes.clone(),
        Some(requested) => {
            let mut scopes: Vec<String> = Vec::new();
            for s in requested.split(' ').filter(|s| !s.is_empty()) {
                if !client.allowed_scopes.iter().any(|a| a == s) {
                    return Err(fail(
                        "invalid_scope",
                        &format!("scope {s} is not allowed for this client"),
                    ));
                }
                if !scopes.iter().any(|x| x == s) {
                    scopes.push(s.to_string());
                }
            }
            scopes
        }
    };
    let code_challenge = params.get("code_challenge");
    match (code_challenge, params.get("code_challenge_method")) {
        (None, None) if client.is_public() => {
            return Err(fail(
                "invalid_request",
                "PKCE (code_challenge with S256) is required for public clients",
            ));
        }
        (None, None) => {}
        (Some(_), Some(m)) if m != "S256" => {
            return Err(fail(
                "invalid_request",
                "code_challenge_method must be S256",
            ));
        }
        (Some(_), None) => {
            return Err(fail(
                "invalid_request",
                "code_challenge_method must be S256",
            ));
        }
        (None, Some(_)) => return Err(fail("invalid_request", "code_challenge is missing")),
        (Some(c), Some(_)) if !pkce::is_valid_challenge(c) => {
            return Err(fail("invalid_request", "code_challenge is malformed"));
        }
        (Some(_), Some(_)) => {}
    }
    let identity_provider = match (
        params.get("identity_provider"),
        params.get("idp_identifier"),
    ) {
        (Some(name), _) => Some(name.to_string()),
        (None, Some(identifier)) => {
            match crate::federation::provider_by_identifier(app, pool_id, identifier).await? {
                Some(name) => Some(name),
                None => {
                    return Err(fail(
                        "invalid_request",
                        "no identity provider has that idp_identifier",
                    ));
                }
            }
        }
        (None, None) => None,
    };
    let max_age = match params.get("max_age").map(str::parse::<u32>) {
        None => None,
        Some(Ok(seconds)) => Some(i64::from(seconds)),
        Some(Err(_)) => {
            return Err(fail(
                "invalid_request",
                "max_age must be a number of seconds",
            ));
        }
    };
    let prompt = params.get("prompt");
    if prompt.is_some_and(|p| p.split(' ').any(|x| x == "none") && p.contains(' ')) {
        return Err(fail(
            "invalid_request",
            "prompt=none cannot be combined with other values",
        ));
    }
    Ok(AuthorizeRequest {
        pool_id: pool_id.to_string(),
        redirect_uri: redirect_uri.to_string(),
        scopes,
        state: state.map(str::to_string),
        landing,
        reply_state,
        nonce: params.get("nonce").map(str::to_string),
        code_challenge: code_challenge.map(str::to_string),
        prompt: prompt.map(str::to_string),
        max_age,
        lang: params.get("lang").map(str::to_string),
        login_hint: params.get("login_hint").map(str::to_string),
        identity_provider,
        query: params.encode(),
        client,
        via,
    })
}

/// Ends a successful sign-in: a single-use code for the request (`flows::code`), and
/// the browser sent to the callback with it.
pub async fn complete(
    app: &Inner,
    req: &AuthorizeRequest,
    user: &User,
    auth_time: i64,
) -> Result<Response, AppError> {
    let grant = code::Grant {
        client: &req.client,
        redirect_uri: &req.redirect_uri,
        scopes: &req.scopes,
        nonce: req.nonce.as_deref(),
        code_challenge: req.code_challenge.as_deref(),
    };
    let Some(code) = code::issue_code(app, &grant, user, auth_time).await? else {
        return Err(AppError::Forbidden(
            "This account cannot sign in. Contact the application's administrator.",
        ));
    };
    let mut params = vec![("code", code.as_str())];
    if let Some(state) = &req.reply_state {
        params.push(("state", state));
    }
    Ok(super::found(&with_params(&req.landing, &params)))
}

/// A hosted page (`login`, `signup`, …) carrying a validated request, at the base the
/// request came through.
pub fn page_url(app: &Inner, req: &AuthorizeRequest, page: &str) -> String {
    format!("{}/{page}?{}", req.base(app).pool, req.query)
}

async fn authorize(
    State(app): State<AppState>,
    Path(pool_id): Path<String>,
    via: Via,
    session: Session,
    RawQuery(query): RawQuery,
) -> Response {
    let req = match validate(&app, &pool_id, via.0, query.as_deref().unwrap_or_default()).await {
        Ok(req) => req,
        Err(rejection) => return rejection.into_response(),
    };
    // `login` (or `select_account`: the hosted UI has no chooser, so a sign-in form)
    // anywhere in the list forces a new sign-in, whatever else the list asks for.
    let fresh_sign_in = req.prompts("login") || req.prompts("select_account");
    if !fresh_sign_in {
        match session::current_user(&app, &session, &pool_id).await {
            Ok(Some((_, auth_time)))
                if req
                    .max_age
                    .is_some_and(|max| app.clock.now() - auth_time > max) => {}
            Ok(Some((user, auth_time))) => {
                return complete(&app, &req, &user, auth_time).await.into_response();
            }
            Ok(None) => {}
            Err(e) => return e.into_response(),
        }
    }
    if req.prompts("none") {
        return req
            .error_redirect("login_required", "the user is not signed in")
            .into_response();
    }
    if let Some(provider) = req
        .identity_provider
        .clone()
        .filter(|p| p != crate::clients::COGNITO)
    {
        return match super::idp_start::start(&app, &session, &req, &provider).await {
            Ok(res) => res,
            Err(rejection) => rejection.into_response(),
        };
    }
    super::found(&page_url(&app, &req, "login"))
}
