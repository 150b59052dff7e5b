//! `throttles`: failed sign-ins per key, shared by every instance.

use super::{Store, StoreError, on_db};

impl Store {
    /// Until when `key` is blocked (0 if never).
    pub async fn throttle_blocked_until(&self, key: &str) -> Result<i64, StoreError> {
        const SQL: &str = "select blocked_until from throttles where throttle_key = $1";
        let v: Option<i64> = on_db!(&self.db, |p| sqlx::query_scalar(SQL)
            .bind(key)
            .fetch_optional(p)
            .await)?;
        Ok(v.unwrap_or(0))
    }

    /// Counts a failure for `key`; a count older than `window_start` starts over.
    /// Returns the failures counted in the current window.
    pub async fn count_failure(
        &self,
        key: &str,
        now: i64,
        window_start: i64,
    ) -> Result<i64, StoreError> {
        const SQL: &str = "insert into throttles (throttle_key, failures, first_at, blocked_until) values ($1, 1, $2, 0) \
             on conflict (throttle_key) do update set \
               failures = case when throttles.first_at < $3 then 1 else throttles.failures + 1 end, \
               first_at = case when throttles.first_at < $3 then $2 else throttles.first_at end \
             returning failures";
        let n: i64 = on_db!(&self.db, |p| sqlx::query_scalar(SQL)
            .bind(key)
            .bind(now)
            .bind(window_start)
            .fetch_one(p)
            .await)?;
        Ok(n)
    }

    pub async fn block_until(&self, key: &str, until: i64) -> Result<(), StoreError> {
        const SQL: &str = "update throttles set blocked_until = $2 where throttle_key = $1";
        on_db!(&self.db, |p| sqlx::query(SQL)
            .bind(key)
            .bind(until)
            .execute(p)
            .await
            .map(|r| r.rows_affected()))?;
        Ok(())
    }

    pub async fn clear_throttle(&self, key: &str) -> Result<(), StoreError> {
        const SQL: &str = "delete from throttles where throttle_key = $1";
        on_db!(&self.db, |p| sqlx::query(SQL)
            .bind(key)
            .execute(p)
            .await
            .map(|r| r.rows_affected()))?;
        Ok(())
    }
}
