//! `/oauth2/idpresponse`: the provider sends the browser back here. The handle must
//! exist, be unused, unexpired and belong to this browser's session; only then is the
//! code redeemed and the identity verified, and only after that is anything created.
//!
//! Sign in with Apple answers with `response_mode=form_post`: a cross-site POST from
//! Apple's page, which carries no `SameSite=Lax` cookie, so no session to check the
//! handle's binding against. Rather than weaken the binding (or the cookie), that POST
//! is answered with a page that posts the same fields back here at once (a script
//! allowed by its hash, and a button without scripts): that second POST comes from
//! cognate's own page, is same-site, and carries the cookie. The relay step reads and
//! writes no session, so Apple's POST cannot replace the browser's session cookie, and
//! keeps the code and Apple's `user` field out of URLs.

use axum::Router;
use axum::extract::{Path, RawQuery, State};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use tower_sessions::Session;

use super::idp_start::BINDING;
use crate::crypto::{Secret, sha256_hex};
use crate::error::AppError;
use crate::federation::{ProviderType, apple, profile};
use crate::flows::external::{self, Denied};
use crate::host_routing::Via;
use crate::oauth::authorize::{self, complete};
use crate::oauth::form_post;
use crate::oauth::params::Params;
use crate::session;
use crate::state::AppState;

pub fn routes() -> Router<AppState> {
    Router::new().route(
        "/{pool_id}/oauth2/idpresponse",
        get(idpresponse).post(post_idpresponse),
    )
}

/// Why a handle is refused: unknown, used, expired or another browser's, without
/// telling which (that would confirm a guessed or leaked handle).
const HANDLE_REFUSED: &str = "This sign-in was already completed, has expired or was started in another \
     browser. Start again from the application.";

fn stop(message: &str) -> Response {
    AppError::Invalid(message.to_string()).into_response()
}

/// The fields a form-posted answer may carry, relayed as they came.
const RELAYED: [&str; 5] = ["state", "code", "user", "error", "error_description"];
/// Marks the relayed POST, which is then processed.
const RELAY_MARK: &str = "relayed";
async fn idpresponse(
    State(app): State<AppState>,
    Path(pool_id): Path<String>,
    via: Via,
    session: Session,
    RawQuery(query): RawQuery,
) -> Response {
    let Ok(params) = Params::parse(query.as_deref().unwrap_or_default()) else {
        return stop("The provider's answer is malformed.");
    };
    finish(&app, &pool_id, via, &session, &params).await
}

/// A form-posted answer (Apple's `response_mode=form_post`): relayed once through
/// cognate's own page so that the browser's session comes with it (module doc).
async fn post_idpresponse(
    State(app): State<AppState>,
    Path(pool_id): Path<String>,
    via: Via,
    session: Session,
    body: String,
) -> Response {
    let Ok(params) = Params::parse(&body) else {
        return stop("The provider's answer is malformed.");
    };
    if params.get(RELAY_MARK).is_some() {
        return finish(&app, &pool_id, via, &session, &params).await;
    }
    let fields: Vec<(&str, &str)> = RELAYED
        .iter()
        .filter_map(|&name| Some((name, params.get(name)?)))
        .chain([(RELAY_MARK, "1")])
        .collect();
    form_post::page("Signing in…", None, &fields)
}

/// Checks the handle against this browser, then redeems the code and signs in.
async fn finish(
    app: &AppState,
    pool_id: &str,
    via: Via,
    session: &Session,
    params: &Params,
) -> Response {
    let Some(handle) = params.get("state") else {
        return stop("The provider's answer has no state. Start again from the application.");
    };
    // The handle is consumed only together with this browser's binding (one atomic
    // statement): another browser presenting it, say from a leaked URL, consumes
    // nothing, and the browser that started the sign-in can still finish it. Both
    // values are hashes of secrets, so the database's comparison tells nothing.
    let binding: Option<String> = session.get(BINDING).await.ok().flatten();
    let Some(binding) = binding else {
        return stop(HANDLE_REFUSED);
    };
    let request = match app
        .store
        .take_federation_request(
            &app.keys.digests().secret(Secret::FederationHandle, handle),
            &sha256_hex(&binding),
        )
        .await
    {
        Ok(Some(r)) => r,
        Ok(None) => return stop(HANDLE_REFUSED),
        Err(e) => return AppError::from(e).into_response(),
    };
    if request.pool_id != pool_id || request.expires_at <= app.clock.now() {
        return stop(HANDLE_REFUSED);
    }
    // The provider sends the browser back to the host the sign-in started on (the
    // redirect URI it was given), so this request came the same way.
    let req = match authorize::validate(app, pool_id, via.0, &request.authorize_query).await {
        Ok(req) => req,
        Err(rejection) => return rejection.into_response(),
    };
    match params.get("error") {
        // Apple's word for it.
        Some("access_denied" | "user_cancelled_authorize") => {
            return req
                .error_redirect(
                    "access_denied",
                    "the user cancelled the sign-in at the provider",
                )
                .into_response();
        }
        Some(_) => {
            return stop("The provider could not sign you in. Try again from the application.");
        }
        None => {}
    }
    let Some(code) = params.get("code") else {
        return stop("The provider's answer has no code.");
    };
    let idp = match crate::federation::provider(app, pool_id, &request.provider_name).await {
        Ok(Some(idp)) => idp,
        Ok(None) => return stop("This identity provider is no longer configured."),
        Err(e) => return e.into_response(),
    };
    let redirect_uri = crate::federation::redirect_uri(&req.base(app).pool);
    let mut profile = match profile::fetch(app, &idp, code, &request, &redirect_uri).await {
        Ok(p) => p,
        Err(e) => {
            tracing::warn!(pool_id = %pool_id, provider = %idp.provider_name, error = %format!("{e:#}"), "federated sign-in failed");
            app.metrics.sign_in(
                crate::metrics::SignInFlow::Federated,
                crate::metrics::SignInOutcome::Failure,
            );
            return stop(&format!(
                "{} could not be verified. Try again from the application.",
                idp.provider_name
            ));
        }
    };
    if idp.provider_type == ProviderType::SignInWithApple
        && let Some(user) = params.get("user")
    {
        apple::add_user_field(&mut profile, user);
    }
    let user =
        match external::resolve(app, &idp, &profile, &req.client.client_id).await {
            Ok(user) => user,
            Err(Denied::Internal(e)) => return e.into_response(),
            // As Cognito: back to the application with the trigger's message.
            Err(Denied::Trigger(e)) => {
                return req
                    .error_redirect("invalid_request", &e.to_string())
                    .into_response();
            }
            Err(denied) => return AppError::Forbidden(match denied {
                Denied::EmailTaken => {
                    "An account with this email address already exists. Sign in with your password."
                }
                _ => "This account is disabled.",
            })
            .into_response(),
        };
    let auth_time = app.clock.now();
    if let Err(e) = session::sign_in(app, session, pool_id, &user, auth_time).await {
        return e.into_response();
    }
    tracing::info!(pool_id = %pool_id, user_id = %user.user_id, provider = %idp.provider_name, "signed in through a provider");
    complete(app, &req, &user, auth_time).await.into_response()
}
