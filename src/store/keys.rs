//! `signing_keys`.

use super::{Store, StoreError, on_db};

/// A pool's signing key as stored: the private part sealed with the master key.
#[derive(sqlx::FromRow)]
pub struct StoredKey {
    pub kid: String,
    pub pool_id: String,
    pub private_enc: Vec<u8>,
    pub jwk_n: String,
    pub jwk_e: String,
    pub created_at: i64,
}

impl Store {
    pub async fn insert_signing_key(&self, key: &StoredKey) -> Result<(), StoreError> {
        const SQL: &str = "insert into signing_keys (kid, pool_id, private_enc, jwk_n, jwk_e, created_at) \
                           values ($1, $2, $3, $4, $5, $6)";
        on_db!(&self.db, |p| sqlx::query(SQL)
            .bind(&key.kid)
            .bind(&key.pool_id)
            .bind(&key.private_enc)
            .bind(&key.jwk_n)
            .bind(&key.jwk_e)
            .bind(key.created_at)
            .execute(p)
            .await
            .map(|r| r.rows_affected()))?;
        self.config_changed();
        Ok(())
    }

    /// A pool's keys, newest first (the newest signs; all verify).
    pub async fn signing_keys(&self, pool_id: &str) -> Result<Vec<StoredKey>, StoreError> {
        const SQL: &str = "select kid, pool_id, private_enc, jwk_n, jwk_e, created_at \
                           from signing_keys where pool_id = $1 order by created_at desc, kid";
        let rows = on_db!(&self.db, |p| sqlx::query_as(SQL)
            .bind(pool_id)
            .fetch_all(p)
            .await)?;
        Ok(rows)
    }

    /// Deletes the keys of a pool that a newer key superseded before `superseded_before`
    /// (never the newest); returns their kids.
    pub async fn retire_signing_keys(
        &self,
        pool_id: &str,
        superseded_before: i64,
    ) -> Result<Vec<String>, StoreError> {
        const SQL: &str = "delete from signing_keys where pool_id = $1 and exists \
             (select 1 from signing_keys newer where newer.pool_id = signing_keys.pool_id \
              and newer.created_at > signing_keys.created_at and newer.created_at < $2) \
             returning kid";
        let kids = on_db!(&self.db, |p| sqlx::query_scalar(SQL)
            .bind(pool_id)
            .bind(superseded_before)
            .fetch_all(p)
            .await)?;
        self.config_changed();
        Ok(kids)
    }
}
