//! `schema_attributes`: a pool's declared attributes.

use super::{Store, StoreError, on_db};
use crate::model::schema::{Schema, SchemaAttribute};

#[derive(sqlx::FromRow)]
struct SchemaRow {
    name: String,
    data_type: String,
    mutable: bool,
    developer_only: bool,
    constraints: String,
}

/// Declares attribute `$a` of `$pool_id` on `$conn` (inside a caller's transaction).
macro_rules! insert {
    ($conn:expr, $pool_id:expr, $a:expr, $now:expr) => {
        sqlx::query(
            "insert into schema_attributes \
             (pool_id, name, data_type, mutable, developer_only, constraints, created_at) \
             values ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind($pool_id)
        .bind(&$a.name)
        .bind(&$a.data_type)
        .bind($a.mutable)
        .bind($a.developer_only)
        .bind(serde_json::to_string(&$a.constraints).unwrap_or_else(|_| "{}".into()))
        .bind($now)
        .execute($conn)
        .await?
    };
}
pub(super) use insert;

/// The attributes of the pool `pool_expr` declares, as [`super::json_rows`] (name,
/// data type, mutable, developer-only, constraints), for reading with other rows.
pub(super) fn schema_json(db: &super::Db, pool_expr: &str) -> String {
    super::json_rows(
        db,
        "s.name, s.data_type, s.mutable, s.developer_only, s.constraints",
        &format!("from schema_attributes s where s.pool_id = {pool_expr}"),
        "s.name",
    )
}

/// A schema aggregated by [`schema_json`]. Booleans arrive as JSON booleans from
/// PostgreSQL and as 0 or 1 from SQLite.
pub(super) fn schema_from_json(text: &str) -> Result<Schema, StoreError> {
    type Row = (String, String, serde_json::Value, serde_json::Value, String);
    let rows: Vec<Row> = serde_json::from_str(text)
        .map_err(|e| StoreError::Corrupt(format!("schema attributes: {e}")))?;
    let flag = |v: &serde_json::Value| v.as_bool().unwrap_or_else(|| v.as_i64() == Some(1));
    Ok(Schema::new(
        rows.into_iter()
            .map(
                |(name, data_type, mutable, developer_only, constraints)| SchemaAttribute {
                    name,
                    data_type,
                    mutable: flag(&mutable),
                    developer_only: flag(&developer_only),
                    constraints: serde_json::from_str(&constraints).unwrap_or_default(),
                },
            )
            .collect(),
    ))
}

impl Store {
    /// The attributes `pool_id` declares.
    pub async fn schema(&self, pool_id: &str) -> Result<Schema, StoreError> {
        const SQL: &str = "select name, data_type, mutable, developer_only, constraints \
                           from schema_attributes where pool_id = $1 order by name";
        let rows: Vec<SchemaRow> = on_db!(&self.db, |p| sqlx::query_as(SQL)
            .bind(pool_id)
            .fetch_all(p)
            .await)?;
        Ok(Schema::new(
            rows.into_iter()
                .map(|r| SchemaAttribute {
                    name: r.name,
                    data_type: r.data_type,
                    mutable: r.mutable,
                    developer_only: r.developer_only,
                    // Bounds that do not read (written by hand) bound nothing.
                    constraints: serde_json::from_str(&r.constraints).unwrap_or_default(),
                })
                .collect(),
        ))
    }

    /// Declares attributes; a name already declared is a conflict.
    pub async fn insert_schema_attributes(
        &self,
        pool_id: &str,
        attributes: &[SchemaAttribute],
        now: i64,
    ) -> Result<(), StoreError> {
        on_db!(&self.db, |p| {
            let mut tx = self.timed(p.begin()).await?;
            for a in attributes {
                insert!(&mut *tx, pool_id, a, now);
            }
            tx.commit().await
        })?;
        Ok(())
    }
}
