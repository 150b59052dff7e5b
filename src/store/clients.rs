//! `app_clients`.

use super::{Store, StoreError, json_list, on_db};
use crate::clients::state_split::{StateEncoding, StateRelay};
use crate::clients::{AppClient, NewClient};

#[derive(sqlx::FromRow)]
pub(super) struct ClientRow {
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
    return_to_allow_list: String,
    state_separator: String,
    state_encoding: String,
    branding: String,
    write_attributes: String,
    supported_identity_providers: String,
    explicit_auth_flows: String,
    created_at: i64,
    updated_at: i64,
    refresh_token_retry_grace: i64,
    refresh_token_rotation: bool,
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
            state_relay: StateRelay {
                allow_list: serde_json::from_str(&r.return_to_allow_list)?,
                separator: r.state_separator.chars().next().unwrap_or('_'),
                encoding: StateEncoding::parse(&r.state_encoding).ok_or_else(|| {
                    StoreError::Corrupt(format!("state encoding {:?}", r.state_encoding))
                })?,
            },
            branding: serde_json::from_str(&r.branding)?,
            write_attributes: serde_json::from_str(&r.write_attributes)?,
            supported_identity_providers: serde_json::from_str(&r.supported_identity_providers)?,
            explicit_auth_flows: serde_json::from_str(&r.explicit_auth_flows)?,
            refresh_token_retry_grace: r.refresh_token_retry_grace,
            refresh_token_rotation: r.refresh_token_rotation,
            created_at: r.created_at,
            updated_at: r.updated_at,
        })
    }
}

pub(super) const COLUMNS: &str = "client_id, pool_id, name, secret_digest, callback_urls, logout_urls, \
     allowed_scopes, allowed_flows, id_token_validity, access_token_validity, \
     refresh_token_validity, return_to_allow_list, state_separator, state_encoding, \
     branding, write_attributes, supported_identity_providers, explicit_auth_flows, created_at, \
     updated_at, refresh_token_retry_grace, refresh_token_rotation";

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
             values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $19, $21, $22, $20)"
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
            .bind(json_list(&new.state_relay.allow_list))
            .bind(new.state_relay.separator.to_string())
            .bind(new.state_relay.encoding.as_str())
            .bind(serde_json::to_string(&new.branding)?)
            .bind(json_list(&new.write_attributes))
            .bind(json_list(&new.supported_identity_providers))
            .bind(json_list(&new.explicit_auth_flows))
            .bind(now)
            .bind(&sealed)
            .bind(new.refresh_token_retry_grace)
            .bind(new.refresh_token_rotation)
            .execute(p)
            .await
            .map(|r| r.rows_affected()))?;
        Ok(())
    }

    /// Replaces a client's settings.
    pub async fn update_client(
        &self,
        pool_id: &str,
        client_id: &str,
        new: &NewClient,
        now: i64,
    ) -> Result<(), StoreError> {
        const SQL: &str = "update app_clients set name = $3, callback_urls = $4, logout_urls = $5, \
             allowed_scopes = $6, allowed_flows = $7, id_token_validity = $8, \
             access_token_validity = $9, refresh_token_validity = $10, return_to_allow_list = $11, \
             state_separator = $12, state_encoding = $13, branding = $14, write_attributes = $15, \
             supported_identity_providers = $16, explicit_auth_flows = $17, updated_at = $18, \
             refresh_token_retry_grace = $19, refresh_token_rotation = $20 where pool_id = $1 and client_id = $2";
        on_db!(&self.db, |p| sqlx::query(SQL)
            .bind(pool_id)
            .bind(client_id)
            .bind(&new.name)
            .bind(json_list(&new.callback_urls))
            .bind(json_list(&new.logout_urls))
            .bind(json_list(&new.allowed_scopes))
            .bind(json_list(&new.allowed_flows))
            .bind(new.id_token_validity)
            .bind(new.access_token_validity)
            .bind(new.refresh_token_validity)
            .bind(json_list(&new.state_relay.allow_list))
            .bind(new.state_relay.separator.to_string())
            .bind(new.state_relay.encoding.as_str())
            .bind(serde_json::to_string(&new.branding)?)
            .bind(json_list(&new.write_attributes))
            .bind(json_list(&new.supported_identity_providers))
            .bind(json_list(&new.explicit_auth_flows))
            .bind(now)
            .bind(new.refresh_token_retry_grace)
            .bind(new.refresh_token_rotation)
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

    /// A client by id alone (client ids are unique across pools; the Cognito API's
    /// public actions name only the client).
    pub async fn client_anywhere(&self, client_id: &str) -> Result<Option<AppClient>, StoreError> {
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
