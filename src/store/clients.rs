//! `app_clients`.

use super::{Store, StoreError, json_list, on_db};
use crate::clients::{AppClient, NewClient};

#[derive(sqlx::FromRow)]
struct ClientRow {
    client_id: String,
    pool_id: String,
    name: String,
    secret_digest: Option<String>,
    callback_urls: String,
    logout_urls: String,
    allowed_scopes: String,
    allowed_flows: String,
    id_token_validity: i64,
    access_token_validity: i64,
    refresh_token_validity: i64,
    created_at: i64,
    updated_at: i64,
}

impl TryFrom<ClientRow> for AppClient {
    type Error = StoreError;
    fn try_from(r: ClientRow) -> Result<Self, StoreError> {
        Ok(AppClient {
            client_id: r.client_id,
            pool_id: r.pool_id,
            name: r.name,
            secret_digest: r.secret_digest,
            callback_urls: serde_json::from_str(&r.callback_urls)?,
            logout_urls: serde_json::from_str(&r.logout_urls)?,
            allowed_scopes: serde_json::from_str(&r.allowed_scopes)?,
            allowed_flows: serde_json::from_str(&r.allowed_flows)?,
            id_token_validity: r.id_token_validity,
            access_token_validity: r.access_token_validity,
            refresh_token_validity: r.refresh_token_validity,
            created_at: r.created_at,
            updated_at: r.updated_at,
        })
    }
}

const COLUMNS: &str = "client_id, pool_id, name, secret_digest, callback_urls, logout_urls, \
     allowed_scopes, allowed_flows, id_token_validity, access_token_validity, \
     refresh_token_validity, created_at, updated_at";

impl Store {
    /// Inserts a client; `secret` is `(digest, sealed secret)` for confidential clients.
    pub async fn insert_client(
        &self,
        pool_id: &str,
        client_id: &str,
        new: &NewClient,
        secret: Option<(String, Vec<u8>)>,
        now: i64,
    ) -> Result<(), StoreError> {
        let sql = format!(
            "insert into app_clients ({COLUMNS}, secret_enc) \
             values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $12, $13)"
        );
        let (digest, sealed) = secret.unzip();
        on_db!(&self.db, |p| sqlx::query(&sql)
            .bind(client_id)
            .bind(pool_id)
            .bind(&new.name)
            .bind(&digest)
            .bind(json_list(&new.callback_urls))
            .bind(json_list(&new.logout_urls))
            .bind(json_list(&new.allowed_scopes))
            .bind(json_list(&new.allowed_flows))
            .bind(new.id_token_validity)
            .bind(new.access_token_validity)
            .bind(new.refresh_token_validity)
            .bind(now)
            .bind(&sealed)
            .execute(p)
            .await
            .map(|r| r.rows_affected()))?;
        Ok(())
    }

    pub async fn client_by_id(
        &self,
        pool_id: &str,
        client_id: &str,
    ) -> Result<Option<AppClient>, StoreError> {
        let sql =
            format!("select {COLUMNS} from app_clients where pool_id = $1 and client_id = $2");
        let row: Option<ClientRow> = on_db!(&self.db, |p| sqlx::query_as(&sql)
            .bind(pool_id)
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

    /// The sealed secret of a confidential client, for the API calls that return it.
    pub async fn client_secret_sealed(
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
