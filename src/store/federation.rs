//! `identity_providers`, `federation_requests`, `user_identities`, `preregistrations`.

use std::collections::BTreeMap;

use super::{Store, StoreError, on_db};
use crate::model::federation::{IdentityProvider, LinkingPolicy, NewProvider, ProviderType};
use crate::model::users::NewUser;

#[derive(sqlx::FromRow)]
pub(super) struct ProviderRow {
    pool_id: String,
    provider_name: String,
    provider_type: String,
    details: String,
    client_secret_enc: Option<Vec<u8>>,
    attribute_mapping: String,
    linking_policy: String,
    idp_identifiers: String,
    created_at: i64,
    updated_at: i64,
}

impl ProviderRow {
    pub(super) fn into_provider(self) -> Result<(IdentityProvider, Option<Vec<u8>>), StoreError> {
        let corrupt = |what: &str| StoreError::Corrupt(format!("identity provider {what}"));
        Ok((
            IdentityProvider {
                pool_id: self.pool_id,
                provider_name: self.provider_name,
                provider_type: ProviderType::parse(&self.provider_type)
                    .ok_or_else(|| corrupt("type"))?,
                details: serde_json::from_str(&self.details)?,
                client_secret: None,
                attribute_mapping: serde_json::from_str(&self.attribute_mapping)?,
                linking_policy: LinkingPolicy::parse(&self.linking_policy)
                    .ok_or_else(|| corrupt("linking policy"))?,
                idp_identifiers: serde_json::from_str(&self.idp_identifiers)?,
                created_at: self.created_at,
                updated_at: self.updated_at,
            },
            self.client_secret_enc,
        ))
    }
}

pub(super) const PROVIDER_COLUMNS: &str = "pool_id, provider_name, provider_type, details, client_secret_enc, \
     attribute_mapping, linking_policy, idp_identifiers, created_at, updated_at";

/// A pending sign-in at a provider.
#[derive(Debug, sqlx::FromRow)]
pub struct FederationRequest {
    pub pool_id: String,
    pub provider_name: String,
    pub browser_binding: String,
    pub authorize_query: String,
    pub pkce_verifier: String,
    pub nonce: String,
    pub expires_at: i64,
}

/// A provider identity linked to a user, as the `identities` claim shows it.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct LinkedIdentity {
    pub provider_name: String,
    pub provider_type: String,
    pub provider_subject: String,
    pub created_at: i64,
}

impl Store {
    /// Creates or replaces a provider.
    pub async fn put_identity_provider(
        &self,
        pool_id: &str,
        p: &NewProvider,
        sealed_secret: Option<Vec<u8>>,
        now: i64,
    ) -> Result<(), StoreError> {
        let sql = format!(
            "insert into identity_providers ({PROVIDER_COLUMNS}) values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9) \
             on conflict (pool_id, provider_name) do update set provider_type = excluded.provider_type, \
               details = excluded.details, client_secret_enc = excluded.client_secret_enc, \
               attribute_mapping = excluded.attribute_mapping, linking_policy = excluded.linking_policy, \
               idp_identifiers = excluded.idp_identifiers, \
               updated_at = excluded.updated_at"
        );
        let details = serde_json::to_string(&p.details)?;
        let mapping = serde_json::to_string(&p.attribute_mapping)?;
        on_db!(&self.db, |c| sqlx::query(&sql)
            .bind(pool_id)
            .bind(&p.provider_name)
            .bind(p.provider_type.as_str())
            .bind(&details)
            .bind(&sealed_secret)
            .bind(&mapping)
            .bind(p.linking_policy.as_str())
            .bind(serde_json::to_string(&p.idp_identifiers)?)
            .bind(now)
            .execute(c)
            .await
            .map(|r| r.rows_affected()))?;
        Ok(())
    }

    /// A provider and its sealed client secret.
    pub async fn identity_provider(
        &self,
        pool_id: &str,
        name: &str,
    ) -> Result<Option<(IdentityProvider, Option<Vec<u8>>)>, StoreError> {
        let sql = format!(
            "select {PROVIDER_COLUMNS} from identity_providers where pool_id = $1 and provider_name = $2"
        );
        let row: Option<ProviderRow> = on_db!(&self.db, |c| sqlx::query_as(&sql)
            .bind(pool_id)
            .bind(name)
            .fetch_optional(c)
            .await)?;
        row.map(ProviderRow::into_provider).transpose()
    }

    /// A pool's providers (secrets not included).
    pub async fn identity_providers(
        &self,
        pool_id: &str,
    ) -> Result<Vec<IdentityProvider>, StoreError> {
        let sql = format!(
            "select {PROVIDER_COLUMNS} from identity_providers where pool_id = $1 order by provider_name"
        );
        let rows: Vec<ProviderRow> = on_db!(&self.db, |c| sqlx::query_as(&sql)
            .bind(pool_id)
            .fetch_all(c)
            .await)?;
        rows.into_iter()
            .map(|r| r.into_provider().map(|(p, _)| p))
            .collect()
    }

    pub async fn insert_federation_request(
        &self,
        handle_hash: &str,
        r: &FederationRequest,
        now: i64,
    ) -> Result<(), StoreError> {
        const SQL: &str = "insert into federation_requests (handle_hash, pool_id, provider_name, browser_binding, \
             authorize_query, pkce_verifier, nonce, created_at, expires_at) values ($1, $2, $3, $4, $5, $6, $7, $8, $9)";
        on_db!(&self.db, |c| sqlx::query(SQL)
            .bind(handle_hash)
            .bind(&r.pool_id)
            .bind(&r.provider_name)
            .bind(&r.browser_binding)
            .bind(&r.authorize_query)
            .bind(&r.pkce_verifier)
            .bind(&r.nonce)
            .bind(now)
            .bind(r.expires_at)
            .execute(c)
            .await
            .map(|r| r.rows_affected()))?;
        Ok(())
    }

    /// Consumes a pending request for the browser that started it: returned once, to
    /// one caller. A handle presented with another browser's binding matches nothing
    /// and stays usable, so whoever merely saw it cannot burn it.
    pub async fn take_federation_request(
        &self,
        handle_hash: &str,
        browser_binding: &str,
    ) -> Result<Option<FederationRequest>, StoreError> {
        const SQL: &str = "delete from federation_requests where handle_hash = $1 and browser_binding = $2 \
             returning pool_id, provider_name, browser_binding, authorize_query, pkce_verifier, nonce, expires_at";
        let row = on_db!(&self.db, |c| sqlx::query_as(SQL)
            .bind(handle_hash)
            .bind(browser_binding)
            .fetch_optional(c)
            .await)?;
        Ok(row)
    }

    /// The user a provider identity is linked to.
    pub async fn user_of_identity(
        &self,
        pool_id: &str,
        provider: &str,
        subject: &str,
    ) -> Result<Option<String>, StoreError> {
        const SQL: &str = "select user_id from user_identities \
                           where pool_id = $1 and provider_name = $2 and provider_subject = $3";
        let row = on_db!(&self.db, |c| sqlx::query_scalar(SQL)
            .bind(pool_id)
            .bind(provider)
            .bind(subject)
            .fetch_optional(c)
            .await)?;
        Ok(row)
    }

    /// Links an identity to a user; `Conflict` if the identity is linked already.
    pub async fn insert_identity(
        &self,
        pool_id: &str,
        provider: &str,
        subject: &str,
        user_id: &str,
        now: i64,
    ) -> Result<(), StoreError> {
        const SQL: &str = "insert into user_identities (pool_id, provider_name, provider_subject, user_id, created_at) \
                           values ($1, $2, $3, $4, $5)";
        on_db!(&self.db, |c| sqlx::query(SQL)
            .bind(pool_id)
            .bind(provider)
            .bind(subject)
            .bind(user_id)
            .bind(now)
            .execute(c)
            .await
            .map(|r| r.rows_affected()))?;
        Ok(())
    }

    /// The identities linked to a user, oldest first.
    pub async fn identities_of_user(
        &self,
        user_id: &str,
    ) -> Result<Vec<LinkedIdentity>, StoreError> {
        const SQL: &str = "select i.provider_name, coalesce(p.provider_type, i.provider_name) as provider_type, \
                                  i.provider_subject, i.created_at \
                           from user_identities i left join identity_providers p \
                             on p.pool_id = i.pool_id and p.provider_name = i.provider_name \
                           where i.user_id = $1 order by i.created_at, i.provider_name";
        let rows = on_db!(&self.db, |c| sqlx::query_as(SQL)
            .bind(user_id)
            .fetch_all(c)
            .await)?;
        Ok(rows)
    }

    /// Registers an identity ahead of its first sign-in.
    #[allow(clippy::too_many_arguments)]
    pub async fn insert_preregistration(
        &self,
        pool_id: &str,
        provider: &str,
        match_kind: &str,
        match_value: &str,
        groups: &[String],
        attributes: &BTreeMap<String, String>,
        now: i64,
    ) -> Result<(), StoreError> {
        const SQL: &str = "insert into preregistrations (pool_id, provider_name, match_kind, match_value, groups, \
                           attributes, created_at) values ($1, $2, $3, $4, $5, $6, $7)";
        let groups = serde_json::to_string(groups)?;
        let attributes = serde_json::to_string(attributes)?;
        on_db!(&self.db, |c| sqlx::query(SQL)
            .bind(pool_id)
            .bind(provider)
            .bind(match_kind)
            .bind(match_value)
            .bind(&groups)
            .bind(&attributes)
            .bind(now)
            .execute(c)
            .await
            .map(|r| r.rows_affected()))?;
        Ok(())
    }

    /// Whether a pre-registration waits for this identity (read only).
    pub async fn has_preregistration(
        &self,
        pool_id: &str,
        provider: &str,
        match_kind: &str,
        match_value: &str,
    ) -> Result<bool, StoreError> {
        const SQL: &str = "select 1 from preregistrations \
                           where pool_id = $1 and provider_name = $2 and match_kind = $3 and match_value = $4";
        let row: Option<(i32,)> = on_db!(&self.db, |c| sqlx::query_as(SQL)
            .bind(pool_id)
            .bind(provider)
            .bind(match_kind)
            .bind(match_value)
            .fetch_optional(c)
            .await)?;
        Ok(row.is_some())
    }

    /// Creates an external user in one transaction: claims the first pre-registration
    /// of `claims` (`(match_kind, match_value)`, in order) and adds its attributes, links
    /// the identity, and puts the user in `groups` and the claimed ones (creating groups
    /// that do not exist). A conflict (the username or identity taken) leaves everything,
    /// the pre-registration included, as it was.
    #[expect(
        clippy::too_many_arguments,
        reason = "one transaction over the user, its identity, its claim and its groups"
    )]
    pub async fn insert_external_user(
        &self,
        pool_id: &str,
        user_id: &str,
        new: &NewUser,
        provider: &str,
        subject: &str,
        claims: &[(&str, &str)],
        groups: &[String],
        now: i64,
    ) -> Result<(), StoreError> {
        const CLAIM: &str = "delete from preregistrations \
                             where pool_id = $1 and provider_name = $2 and match_kind = $3 and match_value = $4 \
                             returning groups, attributes";
        const IDENTITY: &str = "insert into user_identities (pool_id, provider_name, provider_subject, user_id, created_at) \
                                values ($1, $2, $3, $4, $5)";
        const GROUP: &str = "insert into groups (pool_id, group_name, created_at, updated_at) \
                             values ($1, $2, $3, $3) on conflict do nothing";
        const MEMBER: &str = "insert into memberships (pool_id, group_name, user_id) values ($1, $2, $3) \
                              on conflict do nothing";
        on_db!(&self.db, |c| {
            let mut tx = c.begin().await?;
            let mut claimed = None;
            for (kind, value) in claims {
                let row: Option<(String, String)> = sqlx::query_as(CLAIM)
                    .bind(pool_id)
                    .bind(provider)
                    .bind(kind)
                    .bind(value)
                    .fetch_optional(&mut *tx)
                    .await?;
                if row.is_some() {
                    claimed = row;
                    break;
                }
            }
            let (extra_groups, extra_attributes): (Vec<String>, BTreeMap<String, String>) =
                match &claimed {
                    Some((g, a)) => (
                        serde_json::from_str(g).map_err(corrupt)?,
                        serde_json::from_str(a).map_err(corrupt)?,
                    ),
                    None => Default::default(),
                };
            let mut new = new.clone();
            new.attributes.extend(extra_attributes);
            super::users::insert_user_rows!(&mut tx, pool_id, user_id, &new, now);
            sqlx::query(IDENTITY)
                .bind(pool_id)
                .bind(provider)
                .bind(subject)
                .bind(user_id)
                .bind(now)
                .execute(&mut *tx)
                .await?;
            for group in groups.iter().chain(&extra_groups) {
                sqlx::query(GROUP)
                    .bind(pool_id)
                    .bind(group)
                    .bind(now)
                    .execute(&mut *tx)
                    .await?;
                sqlx::query(MEMBER)
                    .bind(pool_id)
                    .bind(group)
                    .bind(user_id)
                    .execute(&mut *tx)
                    .await?;
            }
            tx.commit().await
        })?;
        Ok(())
    }
}

/// A stored JSON column that does not parse, as the database error it is.
fn corrupt(e: serde_json::Error) -> sqlx::Error {
    sqlx::Error::Decode(Box::new(e))
}
