//! `user_codes`: one live code per user and purpose, stored hashed, consumed by a
//! single conditional `delete … returning`.

use super::{Store, StoreError, on_db};

/// A stored code's state, for deciding why a presented code failed.
#[derive(Debug, sqlx::FromRow)]
pub struct CodeRow {
    pub code_hash: String,
    pub attempts: i64,
    pub expires_at: i64,
}

impl Store {
    /// Stores a new code for `(user, purpose)`, replacing any earlier one.
    pub async fn replace_code(
        &self,
        user_id: &str,
        purpose: &str,
        code_hash: &str,
        link_hash: Option<&str>,
        now: i64,
        expires_at: i64,
    ) -> Result<(), StoreError> {
        const DELETE: &str = "delete from user_codes where user_id = $1 and purpose = $2";
        const INSERT: &str = "insert into user_codes (user_id, purpose, code_hash, link_hash, attempts, created_at, expires_at) \
                              values ($1, $2, $3, $4, 0, $5, $6)";
        on_db!(&self.db, |p| {
            let mut tx = p.begin().await?;
            sqlx::query(DELETE)
                .bind(user_id)
                .bind(purpose)
                .execute(&mut *tx)
                .await?;
            sqlx::query(INSERT)
                .bind(user_id)
                .bind(purpose)
                .bind(code_hash)
                .bind(link_hash)
                .bind(now)
                .bind(expires_at)
                .execute(&mut *tx)
                .await?;
            tx.commit().await
        })?;
        Ok(())
    }

    pub async fn user_code(
        &self,
        user_id: &str,
        purpose: &str,
    ) -> Result<Option<CodeRow>, StoreError> {
        const SQL: &str = "select code_hash, attempts, expires_at from user_codes where user_id = $1 and purpose = $2";
        let row = on_db!(&self.db, |p| sqlx::query_as(SQL)
            .bind(user_id)
            .bind(purpose)
            .fetch_optional(p)
            .await)?;
        Ok(row)
    }

    /// Counts a wrong attempt; returns the new count.
    pub async fn count_code_attempt(
        &self,
        user_id: &str,
        purpose: &str,
    ) -> Result<i64, StoreError> {
        const SQL: &str = "update user_codes set attempts = attempts + 1 \
                           where user_id = $1 and purpose = $2 returning attempts";
        let n: Option<i64> = on_db!(&self.db, |p| sqlx::query_scalar(SQL)
            .bind(user_id)
            .bind(purpose)
            .fetch_optional(p)
            .await)?;
        Ok(n.unwrap_or(i64::MAX))
    }

    /// Consumes the code if it is still the one presented: true once, for one caller.
    pub async fn consume_user_code(
        &self,
        user_id: &str,
        purpose: &str,
        code_hash: &str,
    ) -> Result<bool, StoreError> {
        const SQL: &str = "delete from user_codes where user_id = $1 and purpose = $2 and code_hash = $3 \
                           returning user_id";
        let row: Option<String> = on_db!(&self.db, |p| sqlx::query_scalar(SQL)
            .bind(user_id)
            .bind(purpose)
            .bind(code_hash)
            .fetch_optional(p)
            .await)?;
        Ok(row.is_some())
    }

    /// Consumes a one-click link: the user it confirms, if live.
    pub async fn consume_link(
        &self,
        link_hash: &str,
        now: i64,
    ) -> Result<Option<String>, StoreError> {
        const SQL: &str =
            "delete from user_codes where link_hash = $1 and expires_at > $2 returning user_id";
        let row = on_db!(&self.db, |p| sqlx::query_scalar(SQL)
            .bind(link_hash)
            .bind(now)
            .fetch_optional(p)
            .await)?;
        Ok(row)
    }
}
