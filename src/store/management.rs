//! What the management API needs beyond the per-table files: keyset pages over
//! `user_pools`, `app_clients`, `groups`, `identity_providers` and `resource_servers`
//! (ordered by their key, so a page continues after the last key), renames and updates, and deletes that
//! also remove the rows no foreign key cascades to (codes, token families, pending
//! federation sign-ins, the outbox and throttle counters carry ids without one).

use super::clients::{COLUMNS as CLIENT_COLUMNS, ClientRow};
use super::federation::{PROVIDER_COLUMNS, ProviderRow};
use super::groups::COLUMNS as GROUP_COLUMNS;
use super::pools::{COLUMNS as POOL_COLUMNS, PoolRow};
use super::{Store, StoreError, on_db};
use crate::model::clients::AppClient;
use crate::model::federation::{IdentityProvider, NewProvider};
use crate::model::groups::Group;
use crate::model::pool::{Pool, PoolSettings};

/// A row both drivers can read.
pub(super) trait AnyRow:
    Send
    + Unpin
    + for<'r> sqlx::FromRow<'r, sqlx::sqlite::SqliteRow>
    + for<'r> sqlx::FromRow<'r, sqlx::postgres::PgRow>
{
}

impl<R> AnyRow for R where
    R: Send
        + Unpin
        + for<'r> sqlx::FromRow<'r, sqlx::sqlite::SqliteRow>
        + for<'r> sqlx::FromRow<'r, sqlx::postgres::PgRow>
{
}

/// Which page of a keyset listing to read: the rows of one pool (none for the pools
/// themselves) whose key sorts after `after` (every key is non-empty, so `""` starts
/// at the beginning), at most `limit` of them, by key.
#[derive(Clone, Copy, Debug)]
pub struct PageAt<'a> {
    pub pool_id: Option<&'a str>,
    pub after: &'a str,
    pub limit: i64,
}

/// Where a keyset listing reads: the table, its columns and the key it is ordered by.
pub(super) struct Keyset {
    table: &'static str,
    columns: &'static str,
    key: &'static str,
}

impl Keyset {
    pub(super) const fn new(table: &'static str, columns: &'static str, key: &'static str) -> Self {
        Self {
            table,
            columns,
            key,
        }
    }
}

const POOLS: Keyset = Keyset::new("user_pools", POOL_COLUMNS, "pool_id");
const CLIENTS: Keyset = Keyset::new("app_clients", CLIENT_COLUMNS, "client_id");
const GROUPS: Keyset = Keyset::new("groups", GROUP_COLUMNS, "group_name");
const PROVIDERS: Keyset = Keyset::new("identity_providers", PROVIDER_COLUMNS, "provider_name");

impl Store {
    /// The page `at` of the listing `from`.
    pub(super) async fn keyset_page<R: AnyRow>(
        &self,
        from: &Keyset,
        at: PageAt<'_>,
    ) -> Result<Vec<R>, StoreError> {
        let Keyset {
            table,
            columns,
            key,
        } = from;
        let scope = if at.pool_id.is_some() {
            "pool_id = $3 and "
        } else {
            ""
        };
        let sql = format!(
            "select {columns} from {table} where {scope}{key} > $1 order by {key} limit $2"
        );
        let rows = on_db!(&self.db, |p| {
            let query = sqlx::query_as(&sql).bind(at.after).bind(at.limit);
            match at.pool_id {
                Some(pool_id) => query.bind(pool_id).fetch_all(p).await,
                None => query.fetch_all(p).await,
            }
        })?;
        Ok(rows)
    }

    /// A page of pools, by id.
    pub async fn pools_page(&self, at: PageAt<'_>) -> Result<Vec<Pool>, StoreError> {
        let rows: Vec<PoolRow> = self.keyset_page(&POOLS, at).await?;
        rows.into_iter().map(Pool::try_from).collect()
    }

    /// A page of a pool's clients, by id.
    pub async fn clients_page(&self, at: PageAt<'_>) -> Result<Vec<AppClient>, StoreError> {
        let rows: Vec<ClientRow> = self.keyset_page(&CLIENTS, at).await?;
        rows.into_iter().map(AppClient::try_from).collect()
    }

    /// A page of a pool's groups, by name.
    pub async fn groups_page(&self, at: PageAt<'_>) -> Result<Vec<Group>, StoreError> {
        self.keyset_page(&GROUPS, at).await
    }

    /// A page of a pool's identity providers, by name (secrets not included).
    pub async fn identity_providers_page(
        &self,
        at: PageAt<'_>,
    ) -> Result<Vec<IdentityProvider>, StoreError> {
        let rows: Vec<ProviderRow> = self.keyset_page(&PROVIDERS, at).await?;
        let providers = rows.into_iter().map(|r| r.into_provider().map(|(p, _)| p));
        providers.collect()
    }

    /// Replaces a pool's name and settings in one statement.
    pub async fn update_pool(
        &self,
        pool_id: &str,
        name: &str,
        settings: &PoolSettings,
        now: i64,
    ) -> Result<(), StoreError> {
        const SQL: &str =
            "update user_pools set name = $2, settings = $3, updated_at = $4 where pool_id = $1";
        let settings = serde_json::to_string(settings)?;
        on_db!(&self.db, |p| sqlx::query(SQL)
            .bind(pool_id)
            .bind(name)
            .bind(&settings)
            .bind(now)
            .execute(p)
            .await
            .map(|r| r.rows_affected()))?;
        self.config_changed();
        Ok(())
    }

    /// Deletes a pool and everything in it, in one transaction; false if there was no
    /// such pool. Clients, users (with their attributes, codes, memberships and linked
    /// identities), groups, providers, pre-registrations and signing keys go by
    /// `on delete cascade`; the rest is deleted here.
    pub async fn delete_pool(&self, pool_id: &str) -> Result<bool, StoreError> {
        const CHILDREN: &[&str] = &[
            "delete from auth_codes where pool_id = $1",
            // Refresh tokens go with their family (`on delete cascade`).
            "delete from token_families where pool_id = $1",
            "delete from federation_requests where pool_id = $1",
            "delete from outbox where pool_id = $1",
        ];
        // Keys are `user:<pool>:<username>`; `like` would read the `_` in pool ids as a
        // wildcard, so compare the prefix instead.
        const THROTTLES: &str =
            "delete from throttles where substr(throttle_key, 1, length($1)) = $1";
        const POOL: &str = "delete from user_pools where pool_id = $1";
        let throttle_prefix = format!("user:{pool_id}:");
        let deleted = on_db!(&self.db, |p| {
            let mut tx = self.timed(p.begin()).await?;
            for sql in CHILDREN {
                sqlx::query(sql).bind(pool_id).execute(&mut *tx).await?;
            }
            sqlx::query(THROTTLES)
                .bind(&throttle_prefix)
                .execute(&mut *tx)
                .await?;
            let n = sqlx::query(POOL)
                .bind(pool_id)
                .execute(&mut *tx)
                .await?
                .rows_affected();
            tx.commit().await.map(|()| n)
        })?;
        self.config_changed();
        Ok(deleted > 0)
    }

    /// Deletes a client with its unredeemed codes and its token families (so its
    /// refresh tokens stop working), in one transaction; false if there was none.
    pub async fn delete_client(&self, pool_id: &str, client_id: &str) -> Result<bool, StoreError> {
        const CHILDREN: &[&str] = &[
            "delete from auth_codes where pool_id = $1 and client_id = $2",
            "delete from token_families where pool_id = $1 and client_id = $2",
            "delete from ui_customizations where pool_id = $1 and client_id = $2",
            "delete from app_clients where pool_id = $1 and client_id = $2",
        ];
        let deleted = on_db!(&self.db, |p| {
            let mut tx = self.timed(p.begin()).await?;
            let mut n = 0;
            for sql in CHILDREN {
                n = sqlx::query(sql)
                    .bind(pool_id)
                    .bind(client_id)
                    .execute(&mut *tx)
                    .await?
                    .rows_affected();
            }
            tx.commit().await.map(|()| n)
        })?;
        self.config_changed();
        Ok(deleted > 0)
    }

    /// Replaces a group's description, precedence and role; false if there is no such
    /// group.
    pub async fn update_group(&self, group: &Group) -> Result<bool, StoreError> {
        const SQL: &str = "update groups set description = $3, precedence = $4, role_arn = $5, \
                           updated_at = $6 where pool_id = $1 and group_name = $2";
        let n = on_db!(&self.db, |p| sqlx::query(SQL)
            .bind(&group.pool_id)
            .bind(&group.group_name)
            .bind(&group.description)
            .bind(group.precedence)
            .bind(&group.role_arn)
            .bind(group.updated_at)
            .execute(p)
            .await
            .map(|r| r.rows_affected()))?;
        Ok(n > 0)
    }

    /// Deletes a group; its memberships go by `on delete cascade`. False if there was
    /// no such group.
    pub async fn delete_group(&self, pool_id: &str, name: &str) -> Result<bool, StoreError> {
        const SQL: &str = "delete from groups where pool_id = $1 and group_name = $2";
        let n = on_db!(&self.db, |p| sqlx::query(SQL)
            .bind(pool_id)
            .bind(name)
            .execute(p)
            .await
            .map(|r| r.rows_affected()))?;
        Ok(n > 0)
    }

    /// Inserts a provider; `Conflict` if the pool has one of that name already.
    pub async fn insert_identity_provider(
        &self,
        pool_id: &str,
        p: &NewProvider,
        sealed_secret: Option<Vec<u8>>,
        now: i64,
    ) -> Result<(), StoreError> {
        let sql = format!(
            "insert into identity_providers ({PROVIDER_COLUMNS}) \
             values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9)"
        );
        let details = serde_json::to_string(&p.details)?;
        let mapping = serde_json::to_string(&p.attribute_mapping)?;
        let identifiers = serde_json::to_string(&p.idp_identifiers)?;
        on_db!(&self.db, |c| sqlx::query(&sql)
            .bind(pool_id)
            .bind(&p.provider_name)
            .bind(p.provider_type.as_str())
            .bind(&details)
            .bind(&sealed_secret)
            .bind(&mapping)
            .bind(p.linking_policy.as_str())
            .bind(&identifiers)
            .bind(now)
            .execute(c)
            .await
            .map(|r| r.rows_affected()))?;
        Ok(())
    }

    /// Deletes a provider and the sign-ins pending at it, in one transaction; false if
    /// there was none. Users it created and their linked identities stay (as on
    /// Cognito), and so do pre-registrations, which a provider of the same name
    /// created later would honour.
    pub async fn delete_identity_provider(
        &self,
        pool_id: &str,
        name: &str,
    ) -> Result<bool, StoreError> {
        const PENDING: &str =
            "delete from federation_requests where pool_id = $1 and provider_name = $2";
        const PROVIDER: &str =
            "delete from identity_providers where pool_id = $1 and provider_name = $2";
        let deleted = on_db!(&self.db, |c| {
            let mut tx = c.begin().await?;
            sqlx::query(PENDING)
                .bind(pool_id)
                .bind(name)
                .execute(&mut *tx)
                .await?;
            let n = sqlx::query(PROVIDER)
                .bind(pool_id)
                .bind(name)
                .execute(&mut *tx)
                .await?
                .rows_affected();
            tx.commit().await.map(|()| n)
        })?;
        Ok(deleted > 0)
    }
}
