//! `/logout` (Cognito's): ends the hosted-UI session and sends the browser to a
//! `logout_uri` that must be one of the client's registered logout URLs.

use axum::Router;
use axum::extract::{Path, RawQuery, State};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use tower_sessions::Session;

use super::params::Params;
use crate::clients::redirect::is_registered;
use crate::error::AppError;
use crate::state::AppState;

pub fn routes() -> Router<AppState> {
    Router::new().route("/{pool_id}/logout", get(logout))
}

async fn logout(
    State(app): State<AppState>,
    Path(pool_id): Path<String>,
    session: Session,
    RawQuery(query): RawQuery,
) -> Result<Response, AppError> {
    let params = Params::parse(query.as_deref().unwrap_or_default()).map_err(AppError::Invalid)?;
    let client_id = params
        .get("client_id")
        .ok_or_else(|| AppError::Invalid("client_id is missing.".into()))?;
    let client = match crate::pool::is_pool_id(&pool_id) {
        true => app.store.client_by_id(&pool_id, client_id).await?,
        false => None,
    }
    .ok_or_else(|| AppError::Invalid("The client_id is not known to this user pool.".into()))?;
    let logout_uri = params
        .get("logout_uri")
        .ok_or_else(|| AppError::Invalid("logout_uri is missing.".into()))?;
    if !is_registered(&client.logout_urls, logout_uri) {
        return Err(AppError::Invalid(
            "The logout_uri is not registered for this client.".into(),
        ));
    }
    session
        .flush()
        .await
        .map_err(|e| anyhow::anyhow!("end session: {e}"))?;
    Ok(super::found(logout_uri).into_response())
}
