//! `outbox`: messages kept instead of sent when no SMTP server is configured.

use serde::Serialize;

use super::{Store, StoreError, on_db};

/// A kept message.
#[derive(Clone, Debug, Serialize, sqlx::FromRow)]
pub struct OutboxMessage {
    pub message_id: String,
    pub pool_id: String,
    pub recipient: String,
    pub kind: String,
    pub subject: String,
    pub body_text: String,
    pub body_html: String,
    pub created_at: i64,
}

const COLUMNS: &str =
    "message_id, pool_id, recipient, kind, subject, body_text, body_html, created_at";

impl Store {
    pub async fn insert_outbox(&self, m: &OutboxMessage) -> Result<(), StoreError> {
        let sql = format!("insert into outbox ({COLUMNS}) values ($1, $2, $3, $4, $5, $6, $7, $8)");
        on_db!(&self.db, |p| sqlx::query(&sql)
            .bind(&m.message_id)
            .bind(&m.pool_id)
            .bind(&m.recipient)
            .bind(&m.kind)
            .bind(&m.subject)
            .bind(&m.body_text)
            .bind(&m.body_html)
            .bind(m.created_at)
            .execute(p)
            .await
            .map(|r| r.rows_affected()))?;
        Ok(())
    }

    /// Kept messages, newest first; filtered by recipient (case-insensitive) if given.
    pub async fn outbox(
        &self,
        recipient: Option<&str>,
        limit: i64,
    ) -> Result<Vec<OutboxMessage>, StoreError> {
        let sql = format!(
            "select {COLUMNS} from outbox where ($1 = '' or lower(recipient) = $1) \
             order by created_at desc, message_id desc limit $2"
        );
        let recipient = recipient.unwrap_or_default().to_lowercase();
        let rows = on_db!(&self.db, |p| sqlx::query_as(&sql)
            .bind(&recipient)
            .bind(limit)
            .fetch_all(p)
            .await)?;
        Ok(rows)
    }
}
