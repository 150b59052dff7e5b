//! `serve --test-clock`: an endpoint that moves the server's clock forward, so test
//! suites driving the server from outside (Python, the fault harness) can check
//! expiry and lockout without sleeping (Keycloak's `setTimeOffset`). Off by default;
//! never enable it in production, since whoever can reach it can expire every code
//! and session.

use axum::extract::State;
use axum::routing::post;
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::error::AppError;
use crate::state::AppState;

pub fn routes() -> Router<AppState> {
    Router::new().route("/_test/clock", post(advance))
}

#[derive(Deserialize)]
struct Advance {
    /// Seconds to move forward; the clock never goes back.
    advance_seconds: u32,
}

async fn advance(
    State(app): State<AppState>,
    body: Result<Json<Advance>, axum::extract::rejection::JsonRejection>,
) -> Result<Json<Value>, AppError> {
    let Json(req) = body.map_err(|e| AppError::Invalid(e.body_text()))?;
    app.clock.advance(i64::from(req.advance_seconds));
    tracing::warn!(seconds = req.advance_seconds, "test clock moved forward");
    Ok(Json(json!({ "now": app.clock.now() })))
}
