//! What `cognate apply` needs beyond the other tables' methods: the pool's
//! pre-registrations listed and removed, the objects a file declared
//! (`declared_objects`), and a client's secret replaced.

use std::collections::BTreeMap;

use super::{Store, StoreError, on_db};

/// An identity registered ahead of its first sign-in.
#[derive(Clone, Debug)]
pub struct Preregistration {
    pub provider_name: String,
    /// `subject` or `email`.
    pub match_kind: String,
    pub match_value: String,
    pub groups: Vec<String>,
    pub attributes: BTreeMap<String, String>,
}

impl Store {
    /// A pool's pre-registrations, by provider, kind and value.
    pub async fn preregistrations(
        &self,
        pool_id: &str,
    ) -> Result<Vec<Preregistration>, StoreError> {
        const SQL: &str = "select provider_name, match_kind, match_value, groups, attributes \
                           from preregistrations where pool_id = $1 \
                           order by provider_name, match_kind, match_value";
        let rows: Vec<(String, String, String, String, String)> =
            on_db!(&self.db, |p| sqlx::query_as(SQL)
                .bind(pool_id)
                .fetch_all(p)
                .await)?;
        rows.into_iter()
            .map(
                |(provider_name, match_kind, match_value, groups, attributes)| {
                    Ok(Preregistration {
                        provider_name,
                        match_kind,
                        match_value,
                        groups: serde_json::from_str(&groups)?,
                        attributes: serde_json::from_str(&attributes)?,
                    })
                },
            )
            .collect()
    }

    /// Removes a pre-registration; false if there was none.
    pub async fn delete_preregistration(
        &self,
        pool_id: &str,
        provider: &str,
        match_kind: &str,
        match_value: &str,
    ) -> Result<bool, StoreError> {
        const SQL: &str = "delete from preregistrations \
                           where pool_id = $1 and provider_name = $2 and match_kind = $3 and match_value = $4";
        let n = on_db!(&self.db, |p| sqlx::query(SQL)
            .bind(pool_id)
            .bind(provider)
            .bind(match_kind)
            .bind(match_value)
            .execute(p)
            .await
            .map(|r| r.rows_affected()))?;
        Ok(n > 0)
    }

    /// The `(kind, key)` of every object a file declared in `pool_id`.
    pub async fn declared_objects(
        &self,
        pool_id: &str,
    ) -> Result<Vec<(String, String)>, StoreError> {
        const SQL: &str = "select kind, object_key from declared_objects where pool_id = $1 \
                           order by kind, object_key";
        Ok(on_db!(&self.db, |p| sqlx::query_as(SQL)
            .bind(pool_id)
            .fetch_all(p)
            .await)?)
    }

    /// Records the objects a file now declares in `pool_id`, replacing the last record.
    pub async fn set_declared_objects(
        &self,
        pool_id: &str,
        objects: &[(&str, String)],
    ) -> Result<(), StoreError> {
        const CLEAR: &str = "delete from declared_objects where pool_id = $1";
        const ADD: &str = "insert into declared_objects (pool_id, kind, object_key) values ($1, $2, $3) \
                           on conflict do nothing";
        on_db!(&self.db, |p| {
            let mut tx = self.timed(p.begin()).await?;
            sqlx::query(CLEAR).bind(pool_id).execute(&mut *tx).await?;
            for (kind, key) in objects {
                sqlx::query(ADD)
                    .bind(pool_id)
                    .bind(kind)
                    .bind(key)
                    .execute(&mut *tx)
                    .await?;
            }
            tx.commit().await
        })?;
        Ok(())
    }

    /// Replaces a client's secret: `(digest, sealed secret)`, or none (a public client).
    pub async fn set_client_secret(
        &self,
        pool_id: &str,
        client_id: &str,
        secret: Option<(String, Vec<u8>)>,
        now: i64,
    ) -> Result<bool, StoreError> {
        const SQL: &str = "update app_clients set secret_digest = $3, secret_enc = $4, updated_at = $5 \
                           where pool_id = $1 and client_id = $2";
        let (digest, sealed) = secret.unzip();
        let n = on_db!(&self.db, |p| sqlx::query(SQL)
            .bind(pool_id)
            .bind(client_id)
            .bind(&digest)
            .bind(&sealed)
            .bind(now)
            .execute(p)
            .await
            .map(|r| r.rows_affected()))?;
        self.config_changed();
        Ok(n > 0)
    }
}
