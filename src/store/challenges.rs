//! `answered_challenges`: the custom sign-in sessions already answered, so each is
//! answered once (`flows::custom_auth`).

use super::{Store, StoreError, on_db};

impl Store {
    /// Marks the session `session_id` (of `pool_id`, valid until `expires_at`)
    /// answered: `false` when it already was. Sessions expired by `now` are forgotten
    /// first, as nothing can answer them any more.
    pub async fn answer_challenge_session(
        &self,
        pool_id: &str,
        session_id: &str,
        expires_at: i64,
        now: i64,
    ) -> Result<bool, StoreError> {
        const FORGET: &str = "delete from answered_challenges where expires_at <= $1";
        const SQL: &str = "insert into answered_challenges (session_id, pool_id, expires_at) \
                           values ($1, $2, $3) on conflict (session_id) do nothing";
        on_db!(&self.db, |p| sqlx::query(FORGET)
            .bind(now)
            .execute(p)
            .await
            .map(|r| r.rows_affected()))?;
        let inserted = on_db!(&self.db, |p| sqlx::query(SQL)
            .bind(session_id)
            .bind(pool_id)
            .bind(expires_at)
            .execute(p)
            .await
            .map(|r| r.rows_affected()))?;
        Ok(inserted == 1)
    }
}
