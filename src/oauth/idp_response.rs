//! `/oauth2/idpresponse`: the provider sends the browser back here. The handle must
//! exist, be unused, unexpired and belong to this browser's session; only then is the
//! code redeemed and the identity verified, and only after that is anything created.

use axum::Router;
use axum::extract::{Path, RawQuery, State};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use tower_sessions::Session;

use super::idp_start::BINDING;
use crate::crypto::{Secret, sha256_hex};
use crate::error::AppError;
use crate::federation::profile;
use crate::flows::external::{self, Denied};
use crate::host_routing::Via;
use crate::oauth::authorize::{self, complete};
use crate::oauth::params::Params;
use crate::session;
use crate::state::AppState;

pub fn routes() -> Router<AppState> {
    Router::new().route("/{pool_id}/oauth2/idpresponse", get(idpresponse))
}

/// Why a handle is refused: unknown, used, expired or another browser's, without
/// telling which (that would confirm a guessed or leaked handle).
const HANDLE_REFUSED: &str = "This sign-in was already completed, has expired or was started in another \
     browser. Start again from the application.";

fn stop(message: &str) -> Response {
    AppError::Invalid(message.to_string()).into_response()
}

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
    let req = match authorize::validate(&app, &pool_id, via.0, &request.authorize_query).await {
        Ok(req) => req,
        Err(rejection) => return rejection.into_response(),
    };
    match params.get("error") {
        Some("access_denied") => {
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
    let idp = match crate::federation::provider(&app, &pool_id, &request.provider_name).await {
        Ok(Some(idp)) => idp,
        Ok(None) => return stop("This identity provider is no longer configured."),
        Err(e) => return e.into_response(),
    };
    let redirect_uri = crate::federation::redirect_uri(&req.base(&app).pool);
    let profile = match profile::fetch(&app, &idp, code, &request, &redirect_uri).await {
        Ok(p) => p,
        Err(e) => {
            tracing::warn!(pool_id = %pool_id, provider = %idp.provider_name, error = %format!("{e:#}"), "federated sign-in failed");
            return stop(&format!(
                "{} could not be verified. Try again from the application.",
                idp.provider_name
            ));
        }
    };
    let user =
        match external::resolve(&app, &idp, &profile, &req.client.client_id).await {
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
    if let Err(e) = session::sign_in(&app, &session, &pool_id, &user, auth_time).await {
        return e.into_response();
    }
    tracing::info!(pool_id = %pool_id, user_id = %user.user_id, provider = %idp.provider_name, "signed in through a provider");
    complete(&app, &req, &user, auth_time).await.into_response()
}
