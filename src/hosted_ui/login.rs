//! The hosted sign-in page. It carries the validated authorization request in its URL
//! (as Cognito's `/login` does), so nothing is stored before the user signs in; on
//! success it records the session and completes the authorization.

use axum::Form;
use axum::Router;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde::Deserialize;
use tower_sessions::Session;

use super::pages::{LoginPage, render};
use super::{csrf, session};
use crate::error::AppError;
use crate::oauth::authorize::{self, AuthorizeRequest, complete, login_url};
use crate::state::{AppState, Inner};
use crate::users::{UserStatus, password};

pub fn routes() -> Router<AppState> {
    Router::new().route("/{pool_id}/login", get(get_login).post(post_login))
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct LoginForm {
    csrf_token: String,
    username: String,
    password: String,
}

/// One message for an unknown user and a wrong password, so the page does not reveal
/// which accounts exist.
const BAD_CREDENTIALS: &str = "Incorrect username or password.";

async fn get_login(
    State(app): State<AppState>,
    Path(pool_id): Path<String>,
    session: Session,
    RawQuery(query): RawQuery,
) -> Response {
    match authorize::validate(&app, &pool_id, query.as_deref().unwrap_or_default()).await {
        Ok(req) => login_page(&app, &req, &session, "", None, StatusCode::OK)
            .await
            .into_response(),
        Err(rejection) => rejection.into_response(),
    }
}

async fn post_login(
    State(app): State<AppState>,
    Path(pool_id): Path<String>,
    session: Session,
    RawQuery(query): RawQuery,
    Form(form): Form<LoginForm>,
) -> Response {
    let req = match authorize::validate(&app, &pool_id, query.as_deref().unwrap_or_default()).await
    {
        Ok(req) => req,
        Err(rejection) => return rejection.into_response(),
    };
    if let Err(e) = csrf::verify(&session, &form.csrf_token).await {
        return e.into_response();
    }
    sign_in(&app, &req, &session, &form).await.into_response()
}

async fn sign_in(
    app: &Inner,
    req: &AuthorizeRequest,
    session: &Session,
    form: &LoginForm,
) -> Result<Response, AppError> {
    let user = app.store.user_by_name(&req.pool_id, &form.username).await?;
    let hash = user.as_ref().and_then(|u| u.password_hash.as_deref());
    let verified = password::verify(hash, &form.password).await;
    let retry = |message| {
        login_page(
            app,
            req,
            session,
            &form.username,
            Some(message),
            StatusCode::UNAUTHORIZED,
        )
    };
    let user = match user {
        Some(user) if verified => user,
        _ => return retry(BAD_CREDENTIALS).await,
    };
    // Past this point the password was right, so naming the account's state leaks nothing.
    if !user.enabled {
        return retry("User is disabled.").await;
    }
    match user.status {
        UserStatus::Confirmed => {}
        UserStatus::Unconfirmed => return retry("User is not confirmed.").await,
        // TODO(#4): the new-password and reset pages.
        _ => return retry("This account needs a new password before it can sign in.").await,
    }
    let auth_time = app.clock.now();
    session::sign_in(session, &req.pool_id, &user.user_id, auth_time).await?;
    tracing::info!(pool_id = %req.pool_id, user_id = %user.user_id, "signed in");
    complete(app, req, &user, auth_time).await
}

async fn login_page(
    app: &Inner,
    req: &AuthorizeRequest,
    session: &Session,
    username: &str,
    error: Option<&str>,
    status: StatusCode,
) -> Result<Response, AppError> {
    let csrf_token = csrf::token(session).await?;
    Ok(render(
        status,
        &LoginPage {
            base: &app.config.public_url,
            client_name: &req.client.name,
            action: &login_url(app, req),
            csrf_token: &csrf_token,
            username,
            error,
        },
    ))
}
