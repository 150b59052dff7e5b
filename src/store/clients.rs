//! `app_clients`: a client's identity and secret in columns, its settings
//! ([`ClientSettings`]) as one JSON document, so a new setting needs no new column.
//! Clients by id and their secrets are read through this instance's cache
//! ([`super::cache`]); every method that writes them drops it.

use super::{Store, StoreError, on_db};
use crate::model::clients::{AppClient, ClientSettings};

#[derive(sqlx::FromRow)]
pub(super) struct ClientRow {
    client_id: String,
    pool_id: String,
    secret_digest: Option<String>,
    created_at: i64,
    updated_at: i64,
    settings: String,
}

impl TryFrom<ClientRow> for AppClient {
    type Error = StoreError;
    fn try_from(r: ClientRow) -> Result<Self, StoreError> {
        Ok(AppClient {
            client_id: r.client_id,
            pool_id: r.pool_id,
            secret_digest: r.secret_digest,
            settings: serde_json::from_str(&r.settings)?,
            created_at: r.created_at,
            updated_at: r.updated_at,
        })
    }
}

pub(super) const COLUMNS: &str =
    "client_id, pool_id, secret_digest, settings, created_at, updated_at";

impl Store {
    /// Inserts a client; `secret` is `(digest, sealed secret)` for confidential clients.
    pub async fn insert_client(
        &self,
        pool_id: &str,
        client_id: &str,
        settings: &ClientSettings,
        secret: Option<(String, Vec<u8>)>,
        now: i64,
    ) -> Result<(), StoreError> {
        const SQL: &str = "insert into app_clients \
             (client_id, pool_id, secret_digest, secret_enc, settings, created_at, updated_at) \
             values ($1, $2, $3, $4, $5, $6, $6)";
        let (digest, sealed) = secret.unzip();
        let settings = serde_json::to_string(settings)?;
        on_db!(&self.db, |p| sqlx::query(SQL)
            .bind(client_id)
            .bind(pool_id)
            .bind(&digest)
            .bind(&sealed)
            .bind(&settings)
            .bind(now)
            .execute(p)
            .await
            .map(|_| ()))?;
        self.config_changed();
        Ok(())
    }

    /// Replaces a client's settings; false if there is no such client.
    pub async fn update_client(
        &self,
        pool_id: &str,
        client_id: &str,
        settings: &ClientSettings,
        now: i64,
    ) -> Result<bool, StoreError> {
        const SQL: &str = "update app_clients set settings = $1, updated_at = $2 \
                           where pool_id = $3 and client_id = $4";
        let settings = serde_json::to_string(settings)?;
        let updated = on_db!(&self.db, |p| sqlx::query(SQL)
            .bind(&settings)
            .bind(now)
            .bind(pool_id)
            .bind(client_id)
            .execute(p)
            .await
            .map(|r| r.rows_affected()))?;
        self.config_changed();
        Ok(updated > 0)
    }

    /// A client of `pool_id` by id.
    pub async fn client_by_id(
        &self,
        pool_id: &str,
        client_id: &str,
    ) -> Result<Option<AppClient>, StoreError> {
        // Client ids are unique across pools (the primary key).
        let client = self.client_cached(client_id).await?;
        Ok(client
            .filter(|c| c.pool_id == pool_id)
            .map(|c| AppClient::clone(&c)))
    }

    /// A client by id alone (client ids are unique across pools; the Cognito API's
    /// public actions name only the client).
    pub async fn client_anywhere(&self, client_id: &str) -> Result<Option<AppClient>, StoreError> {
        let client = self.client_cached(client_id).await?;
        Ok(client.map(|c| AppClient::clone(&c)))
    }

    /// A client from the database, past the cache.
    pub(super) async fn client_row(
        &self,
        client_id: &str,
    ) -> Result<Option<AppClient>, StoreError> {
        let sql = format!("select {COLUMNS} from app_clients where client_id = $1");
        let row: Option<ClientRow> = on_db!(&self.db, |p| sqlx::query_as(&sql)
            .bind(client_id)
            .fetch_optional(p)
            .await)?;
        row.map(AppClient::try_from).transpose()
    }

    pub async fn clients(&self, pool_id: &str) -> Result<Vec<AppClient>, StoreError> {
        let sql = format!(
            "select {COLUMNS} from app_clients where pool_id = $1 order by created_at, client_id"
        );
        let rows: Vec<ClientRow> = on_db!(&self.db, |p| sqlx::query_as(&sql)
            .bind(pool_id)
            .fetch_all(p)
            .await)?;
        rows.into_iter().map(AppClient::try_from).collect()
    }

    /// The sealed secret of a confidential client, for the API calls that return it and
    /// the `SECRET_HASH` check.
    pub async fn client_secret_sealed(
        &self,
        client_id: &str,
    ) -> Result<Option<Vec<u8>>, StoreError> {
        let sealed = self.client_secret_cached(client_id).await?;
        Ok(sealed.map(|s| Vec::clone(&s)))
    }

    /// A client's sealed secret from the database, past the cache.
    pub(super) async fn client_secret_row(
        &self,
        client_id: &str,
    ) -> Result<Option<Vec<u8>>, StoreError> {
        const SQL: &str = "select secret_enc from app_clients where client_id = $1";
        let row: Option<Option<Vec<u8>>> = on_db!(&self.db, |p| sqlx::query_scalar(SQL)
            .bind(client_id)
            .fetch_optional(p)
            .await)?;
        Ok(row.flatten())
    }
}
