//! `user_pool_domains`: the host names pools are served at.

use super::{Store, StoreError, on_db};
use crate::model::domains::{DomainKind, PoolDomain};

#[derive(sqlx::FromRow)]
struct Row {
    name: String,
    pool_id: String,
    kind: String,
    certificate_arn: Option<String>,
    managed_login_version: i64,
    created_at: i64,
    updated_at: i64,
}

impl TryFrom<Row> for PoolDomain {
    type Error = StoreError;
    fn try_from(r: Row) -> Result<Self, StoreError> {
        Ok(PoolDomain {
            kind: DomainKind::parse(&r.kind)
                .ok_or_else(|| StoreError::Corrupt(format!("domain kind {:?}", r.kind)))?,
            name: r.name,
            pool_id: r.pool_id,
            certificate_arn: r.certificate_arn,
            managed_login_version: r.managed_login_version,
            created_at: r.created_at,
            updated_at: r.updated_at,
        })
    }
}

const COLUMNS: &str =
    "name, pool_id, kind, certificate_arn, managed_login_version, created_at, updated_at";

impl Store {
    /// Stores a new domain; `Conflict` when the name is taken or the pool already has a
    /// domain of that kind.
    pub async fn insert_domain(&self, d: &PoolDomain) -> Result<(), StoreError> {
        let sql = format!(
            "insert into user_pool_domains ({COLUMNS}) values ($1, $2, $3, $4, $5, $6, $7)"
        );
        on_db!(&self.db, |p| sqlx::query(&sql)
            .bind(&d.name)
            .bind(&d.pool_id)
            .bind(d.kind.as_str())
            .bind(&d.certificate_arn)
            .bind(d.managed_login_version)
            .bind(d.created_at)
            .bind(d.updated_at)
            .execute(p)
            .await
            .map(|_| ()))?;
        self.config_changed();
        Ok(())
    }

    /// The domain named `name` (a prefix, or a custom host name), whichever pool has it.
    pub async fn domain_by_name(&self, name: &str) -> Result<Option<PoolDomain>, StoreError> {
        let sql = format!("select {COLUMNS} from user_pool_domains where name = $1");
        let row: Option<Row> = on_db!(&self.db, |p| sqlx::query_as(&sql)
            .bind(name)
            .fetch_optional(p)
            .await)?;
        row.map(TryInto::try_into).transpose()
    }

    /// A pool's domains (at most one of each kind), prefix first.
    pub async fn domains_of_pool(&self, pool_id: &str) -> Result<Vec<PoolDomain>, StoreError> {
        let sql = format!(
            "select {COLUMNS} from user_pool_domains where pool_id = $1 order by kind desc"
        );
        let rows: Vec<Row> = on_db!(&self.db, |p| sqlx::query_as(&sql)
            .bind(pool_id)
            .fetch_all(p)
            .await)?;
        rows.into_iter().map(TryInto::try_into).collect()
    }

    /// Stores a domain's certificate and managed login version; false if the pool has
    /// no domain of that name.
    pub async fn update_domain(&self, d: &PoolDomain) -> Result<bool, StoreError> {
        const SQL: &str = "update user_pool_domains set certificate_arn = $3, \
                           managed_login_version = $4, updated_at = $5 \
                           where name = $1 and pool_id = $2";
        let n = on_db!(&self.db, |p| sqlx::query(SQL)
            .bind(&d.name)
            .bind(&d.pool_id)
            .bind(&d.certificate_arn)
            .bind(d.managed_login_version)
            .bind(d.updated_at)
            .execute(p)
            .await
            .map(|r| r.rows_affected()))?;
        self.config_changed();
        Ok(n > 0)
    }

    /// Deletes the domain `name` of `pool_id`; false if the pool has no such domain.
    pub async fn delete_domain(&self, name: &str, pool_id: &str) -> Result<bool, StoreError> {
        const SQL: &str = "delete from user_pool_domains where name = $1 and pool_id = $2";
        let n = on_db!(&self.db, |p| sqlx::query(SQL)
            .bind(name)
            .bind(pool_id)
            .execute(p)
            .await
            .map(|r| r.rows_affected()))?;
        self.config_changed();
        Ok(n > 0)
    }
}
