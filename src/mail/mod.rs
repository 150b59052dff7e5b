//! Mail: verification codes, reset codes and temporary passwords. Messages are rendered
//! from templates (or the pool's own, see [`render`]) and kept in the database's
//! outbox.

mod render;

use serde::Serialize;

pub use render::{CODE_PLACEHOLDER, MessageTemplates, Override, USERNAME_PLACEHOLDER, render};

use crate::store::{OutboxMessage, Store, StoreError};

/// What a message is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum MessageKind {
    Verification,
    Reset,
    TemporaryPassword,
}

impl MessageKind {
    pub fn as_str(self) -> &'static str {
        match self {
            MessageKind::Verification => "verification",
            MessageKind::Reset => "reset",
            MessageKind::TemporaryPassword => "temporary_password",
        }
    }
}

/// A message to send. `code` is the secret it carries (a code or a temporary
/// password); it is never logged.
#[derive(Debug)]
pub struct Outgoing<'a> {
    pub pool_id: &'a str,
    pub to: &'a str,
    pub kind: MessageKind,
    pub username: &'a str,
    pub code: &'a str,
    /// A one-click link (sign-up confirmation).
    pub link: Option<&'a str>,
}

/// A rendered message.
#[derive(Debug)]
pub struct Rendered {
    pub subject: String,
    pub text: String,
    pub html: String,
}

/// Why a message could not be sent; the user is told to try again.
#[derive(Debug, thiserror::Error)]
pub enum MailError {
    #[error("the message could not be sent")]
    Send(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Where messages go.
#[derive(Debug, Clone)]
pub enum Mailer {
    /// Kept in the database's outbox.
    Outbox,
}

impl Mailer {
    /// Renders a message with its pool's templates and delivers it.
    pub async fn send(&self, store: &Store, msg: &Outgoing<'_>, now: i64) -> Result<(), MailError> {
        let pool = store.pool_by_id(msg.pool_id).await?;
        let templates = pool.map(|p| p.settings.messages).unwrap_or_default();
        let rendered = render(msg, &templates);
        match self {
            Mailer::Outbox => {
                let message = OutboxMessage {
                    message_id: uuid::Uuid::new_v4().to_string(),
                    pool_id: msg.pool_id.to_string(),
                    recipient: msg.to.to_string(),
                    kind: msg.kind.as_str().to_string(),
                    subject: rendered.subject,
                    body_text: rendered.text,
                    body_html: rendered.html,
                    created_at: now,
                };
                store.insert_outbox(&message).await?;
            }
        }
        tracing::info!(
            pool_id = msg.pool_id,
            kind = msg.kind.as_str(),
            "message sent"
        );
        Ok(())
    }
}
