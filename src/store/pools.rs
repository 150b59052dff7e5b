//! `user_pools`. Pools by id are read through this instance's cache ([`super::cache`]);
//! every method that writes them drops it.

use super::{Store, StoreError, on_db};
use crate::model::pool::{Pool, PoolSettings};
use crate::model::schema::SchemaAttribute;

#[derive(sqlx::FromRow)]
pub(super) struct PoolRow {
    pool_id: String,
    name: String,
    settings: String,
    created_at: i64,
    updated_at: i64,
}

impl TryFrom<PoolRow> for Pool {
    type Error = StoreError;
    fn try_from(r: PoolRow) -> Result<Self, StoreError> {
        Ok(Pool {
            pool_id: r.pool_id,
            name: r.name,
            settings: serde_json::from_str(&r.settings)?,
            created_at: r.created_at,
            updated_at: r.updated_at,
        })
    }
}

pub(super) const COLUMNS: &str = "pool_id, name, settings, created_at, updated_at";

impl Store {
    /// Creates a pool with its declared attributes, in one transaction.
    pub async fn insert_pool(
        &self,
        pool_id: &str,
        name: &str,
        settings: &PoolSettings,
        schema: &[SchemaAttribute],
        now: i64,
    ) -> Result<(), StoreError> {
        const SQL: &str = "insert into user_pools (pool_id, name, settings, created_at, updated_at) \
                           values ($1, $2, $3, $4, $4)";
        let settings = serde_json::to_string(settings)?;
        on_db!(&self.db, |p| {
            let mut tx = self.timed(p.begin()).await?;
            sqlx::query(SQL)
                .bind(pool_id)
                .bind(name)
                .bind(&settings)
                .bind(now)
                .execute(&mut *tx)
                .await?;
            for a in schema {
                super::schema::insert!(&mut *tx, pool_id, a, now);
            }
            tx.commit().await
        })?;
        self.config_changed();
        Ok(())
    }

    /// Replaces a pool's settings.
    pub async fn update_pool_settings(
        &self,
        pool_id: &str,
        settings: &PoolSettings,
        now: i64,
    ) -> Result<(), StoreError> {
        const SQL: &str = "update user_pools set settings = $2, updated_at = $3 where pool_id = $1";
        let settings = serde_json::to_string(settings)?;
        on_db!(&self.db, |p| sqlx::query(SQL)
            .bind(pool_id)
            .bind(&settings)
            .bind(now)
            .execute(p)
            .await
            .map(|r| r.rows_affected()))?;
        self.config_changed();
        Ok(())
    }

    pub async fn pool_by_id(&self, pool_id: &str) -> Result<Option<Pool>, StoreError> {
        let pool = self.pool_cached(pool_id).await?;
        Ok(pool.map(|p| Pool::clone(&p)))
    }

    /// A pool from the database, past the cache.
    pub(super) async fn pool_row(&self, pool_id: &str) -> Result<Option<Pool>, StoreError> {
        let sql = format!("select {COLUMNS} from user_pools where pool_id = $1");
        let row: Option<PoolRow> = on_db!(&self.db, |p| sqlx::query_as(&sql)
            .bind(pool_id)
            .fetch_optional(p)
            .await)?;
        row.map(Pool::try_from).transpose()
    }

    /// How many users `pool_id` has (Cognito's `EstimatedNumberOfUsers`).
    pub async fn count_users(&self, pool_id: &str) -> Result<i64, StoreError> {
        const SQL: &str = "select count(*) from users where pool_id = $1";
        Ok(on_db!(&self.db, |p| sqlx::query_scalar(SQL)
            .bind(pool_id)
            .fetch_one(p)
            .await)?)
    }

    pub async fn pools(&self) -> Result<Vec<Pool>, StoreError> {
        let sql = format!("select {COLUMNS} from user_pools order by created_at, pool_id");
        let rows: Vec<PoolRow> = on_db!(&self.db, |p| sqlx::query_as(&sql).fetch_all(p).await)?;
        rows.into_iter().map(Pool::try_from).collect()
    }
}
