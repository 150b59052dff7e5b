//! `GET /dev/outbox`: the newest kept messages, for development without an SMTP server.
//! It shows codes and temporary passwords, so `lib.rs` mounts it only with
//! `serve --dev` and the outbox mailer; everywhere else the path is a 404.
//! A page of the server's own, beside the hosted pages whose chrome it shares; the mail
//! itself (`crate::mail`) knows nothing of HTTP.

use askama::Template;
use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::get;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use super::pages::Chrome;
use crate::error::AppError;
use crate::state::AppState;
use crate::store::OutboxMessage;

/// How many messages the page lists.
pub const LIMIT: i64 = 50;

/// The development outbox page.
#[derive(Template)]
#[template(path = "mail/dev_outbox.html")]
pub struct DevOutboxPage<'a> {
    pub chrome: Chrome<'a>,
    pub limit: i64,
    pub messages: Vec<DevOutboxRow<'a>>,
}

/// One kept message as the page shows it.
pub struct DevOutboxRow<'a> {
    pub subject: &'a str,
    pub recipient: &'a str,
    pub kind: &'a str,
    pub pool_id: &'a str,
    /// UTC, RFC 3339.
    pub created: String,
    pub body_text: &'a str,
}

impl<'a> From<&'a OutboxMessage> for DevOutboxRow<'a> {
    fn from(m: &'a OutboxMessage) -> Self {
        let created = OffsetDateTime::from_unix_timestamp(m.created_at)
            .ok()
            .and_then(|t| t.format(&Rfc3339).ok())
            .unwrap_or_else(|| m.created_at.to_string());
        Self {
            subject: &m.subject,
            recipient: &m.recipient,
            kind: &m.kind,
            pool_id: &m.pool_id,
            created,
            body_text: &m.body_text,
        }
    }
}

/// The page's route; merged by `lib.rs` only in development mode.
pub fn routes() -> Router<AppState> {
    Router::new().route("/dev/outbox", get(get_dev_outbox))
}

async fn get_dev_outbox(State(app): State<AppState>) -> Result<Response, AppError> {
    let messages = app.store.outbox(None, LIMIT).await?;
    let page = DevOutboxPage {
        chrome: Chrome {
            base: String::new(),
            lang: "en",
            title: "Outbox (development)".to_string(),
            client_name: "cognate",
            logo_url: None,
            client_css: None,
        },
        limit: LIMIT,
        messages: messages.iter().map(DevOutboxRow::from).collect(),
    };
    Ok(super::pages::render(StatusCode::OK, &page))
}
