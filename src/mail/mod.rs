//! Mail: verification codes, reset codes and temporary passwords. Messages are rendered
//! from templates (or the pool's own, see [`render`]) and sent by SMTP when it is
//! configured; otherwise they are kept in the database's outbox, which `cognate outbox`
//! prints and, in development mode, `/dev/outbox` shows.

mod render;
mod smtp;

use serde::Serialize;

pub use render::{
    CODE_PLACEHOLDER, Custom, LINK_PLACEHOLDER, MessageTemplates, Override, USERNAME_PLACEHOLDER,
    render, render_custom,
};

use crate::config::MailConfig;
use crate::store::{OutboxMessage, Store, StoreError};

/// What a message is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum MessageKind {
    Verification,
    Reset,
    TemporaryPassword,
    /// A sign-in's e-mailed second factor (`EMAIL_OTP`).
    Mfa,
}

impl MessageKind {
    pub fn as_str(self) -> &'static str {
        match self {
            MessageKind::Verification => "verification",
            MessageKind::Reset => "reset",
            MessageKind::TemporaryPassword => "temporary_password",
            MessageKind::Mfa => "mfa",
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

/// Why a message could not be sent; the user is told to try again. `Send` carries the
/// transport's error with the code and the recipient's address removed.
#[derive(Debug, thiserror::Error)]
pub enum MailError {
    #[error("the message could not be sent")]
    Send(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Where messages go.
#[derive(Clone)]
pub enum Mailer {
    /// Kept in the database's outbox.
    Outbox,
    /// Sent through an SMTP server (connections are pooled by the transport).
    Smtp {
        transport: lettre::AsyncSmtpTransport<lettre::Tokio1Executor>,
        from: lettre::message::Mailbox,
    },
}

/// Names the variant and sender only: the transport holds the SMTP credentials.
impl std::fmt::Debug for Mailer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Mailer::Outbox => f.write_str("Outbox"),
            Mailer::Smtp { from, .. } => f
                .debug_struct("Smtp")
                .field("from", &from.to_string())
                .finish_non_exhaustive(),
        }
    }
}

impl Mailer {
    /// SMTP when a host is configured, else the outbox. Fails on a bad sender address,
    /// host or half-given credentials; nothing is contacted until the first message.
    /// An SMTP mailer must be built and dropped inside a Tokio runtime (its connection
    /// pool is a task).
    pub fn from_config(config: &MailConfig) -> anyhow::Result<Self> {
        match &config.smtp_host {
            Some(host) => smtp::mailer(host, config),
            None => Ok(Mailer::Outbox),
        }
    }

    /// Whether messages are kept in the outbox rather than sent.
    pub fn is_outbox(&self) -> bool {
        matches!(self, Mailer::Outbox)
    }

    /// Renders a message with its pool's templates and delivers it. A failure is
    /// logged here (pool, kind and the cleaned-up error; never the code, the address or
    /// the body) and returned as [`MailError::Send`] for a "try again" message.
    pub async fn send(&self, store: &Store, msg: &Outgoing<'_>, now: i64) -> Result<(), MailError> {
        self.send_custom(store, msg, None, now).await
    }

    /// [`Mailer::send`], with a custom message trigger's subject and message in place
    /// of the pool's when given ([`render_custom`]).
    pub async fn send_custom(
        &self,
        store: &Store,
        msg: &Outgoing<'_>,
        custom: Option<&Custom>,
        now: i64,
    ) -> Result<(), MailError> {
        let pool = store.pool_by_id(msg.pool_id).await?;
        let templates = pool.map(|p| p.settings.messages).unwrap_or_default();
        let rendered = match custom {
            Some(c) => render_custom(msg, &templates, c),
            None => render(msg, &templates),
        };
        match self {
            Mailer::Outbox => {
                let message = OutboxMessage {
                    // Time-ordered, so messages of the same second keep their order.
                    message_id: uuid::Uuid::now_v7().to_string(),
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
            Mailer::Smtp { transport, from } => {
                if let Err(e) = smtp::send(transport, from, msg.to, rendered).await {
                    let error = redact(&format!("{e:#}"), &[msg.code, msg.to]);
                    tracing::warn!(
                        pool_id = msg.pool_id,
                        kind = msg.kind.as_str(),
                        error = %error,
                        "sending mail failed"
                    );
                    return Err(MailError::Send(error));
                }
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

/// Replaces each secret in `text` with `[redacted]`, ignoring ASCII case (servers
/// may echo an address in another case). Empty secrets are skipped.
fn redact(text: &str, secrets: &[&str]) -> String {
    let mut out = text.to_string();
    for secret in secrets.iter().filter(|s| !s.is_empty()) {
        let needle = secret.to_ascii_lowercase();
        // ASCII lower-casing keeps byte offsets, so positions in `lower` fit `out`.
        let lower = out.to_ascii_lowercase();
        let mut cleaned = String::with_capacity(out.len());
        let mut last = 0;
        for (at, _) in lower.match_indices(&needle) {
            cleaned.push_str(&out[last..at]);
            cleaned.push_str("[redacted]");
            last = at + needle.len();
        }
        cleaned.push_str(&out[last..]);
        out = cleaned;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redaction_removes_codes_and_addresses_in_any_case() {
        let text = "550 <Alice@Example.com> rejected: 123456, again 123456";
        let out = redact(text, &["123456", "alice@example.com", ""]);
        assert_eq!(
            out,
            "550 <[redacted]> rejected: [redacted], again [redacted]"
        );
    }

    #[test]
    fn without_an_smtp_host_messages_go_to_the_outbox() {
        let mailer = Mailer::from_config(&MailConfig::default()).unwrap();
        assert!(mailer.is_outbox());
    }
}
