//! `master_key_check`: which master key this database's secrets are sealed with.

use super::{Store, StoreError, StoredKey, on_db};

impl Store {
    /// The recorded check value of the master key, if any.
    pub async fn master_key_check(&self) -> Result<Option<String>, StoreError> {
        const SQL: &str = "select check_value from master_key_check where id = 1";
        Ok(on_db!(&self.db, |p| sqlx::query_scalar(SQL)
            .fetch_optional(p)
            .await)?)
    }

    /// Records the master key's check value unless one is recorded already (another
    /// instance may have been first: read it back).
    pub async fn insert_master_key_check(&self, value: &str, now: i64) -> Result<(), StoreError> {
        const SQL: &str = "insert into master_key_check (id, check_value, created_at) \
                           values (1, $1, $2) on conflict do nothing";
        on_db!(&self.db, |p| sqlx::query(SQL)
            .bind(value)
            .bind(now)
            .execute(p)
            .await
            .map(|r| r.rows_affected()))?;
        Ok(())
    }

    /// Any one sealed signing key, to try a master key on.
    pub async fn any_signing_key(&self) -> Result<Option<StoredKey>, StoreError> {
        const SQL: &str = "select kid, pool_id, private_enc, jwk_n, jwk_e, created_at \
                           from signing_keys order by created_at limit 1";
        Ok(on_db!(&self.db, |p| sqlx::query_as(SQL)
            .fetch_optional(p)
            .await)?)
    }
}
