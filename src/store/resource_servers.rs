//! `resource_servers`.

use super::management::{Keyset, PageAt};
use super::{Store, StoreError, on_db};
use crate::model::resource_servers::{ResourceServer, Scope};

#[derive(sqlx::FromRow)]
struct Row {
    pool_id: String,
    identifier: String,
    name: String,
    scopes: String,
    created_at: i64,
    updated_at: i64,
}

impl TryFrom<Row> for ResourceServer {
    type Error = StoreError;
    fn try_from(r: Row) -> Result<Self, StoreError> {
        Ok(ResourceServer {
            pool_id: r.pool_id,
            identifier: r.identifier,
            name: r.name,
            scopes: serde_json::from_str::<Vec<Scope>>(&r.scopes)?,
            created_at: r.created_at,
            updated_at: r.updated_at,
        })
    }
}

const COLUMNS: &str = "pool_id, identifier, name, scopes, created_at, updated_at";
const KEYSET: Keyset = Keyset::new("resource_servers", COLUMNS, "identifier");

fn scopes_json(server: &ResourceServer) -> String {
    serde_json::to_string(&server.scopes).expect("scopes always serialise")
}

impl Store {
    pub async fn insert_resource_server(&self, s: &ResourceServer) -> Result<(), StoreError> {
        let sql =
            format!("insert into resource_servers ({COLUMNS}) values ($1, $2, $3, $4, $5, $6)");
        on_db!(&self.db, |p| sqlx::query(&sql)
            .bind(&s.pool_id)
            .bind(&s.identifier)
            .bind(&s.name)
            .bind(scopes_json(s))
            .bind(s.created_at)
            .bind(s.updated_at)
            .execute(p)
            .await
            .map(|r| r.rows_affected()))?;
        Ok(())
    }

    pub async fn resource_server(
        &self,
        pool_id: &str,
        identifier: &str,
    ) -> Result<Option<ResourceServer>, StoreError> {
        let sql = format!(
            "select {COLUMNS} from resource_servers where pool_id = $1 and identifier = $2"
        );
        let row: Option<Row> = on_db!(&self.db, |p| sqlx::query_as(&sql)
            .bind(pool_id)
            .bind(identifier)
            .fetch_optional(p)
            .await)?;
        row.map(TryInto::try_into).transpose()
    }

    /// A pool's resource servers in identifier order, all of them.
    pub async fn resource_servers(&self, pool_id: &str) -> Result<Vec<ResourceServer>, StoreError> {
        let all = PageAt {
            pool_id: Some(pool_id),
            after: "",
            limit: i64::MAX,
        };
        self.resource_servers_page(all).await
    }

    /// A page of a pool's resource servers, by identifier.
    pub async fn resource_servers_page(
        &self,
        at: PageAt<'_>,
    ) -> Result<Vec<ResourceServer>, StoreError> {
        let rows: Vec<Row> = self.keyset_page(&KEYSET, at).await?;
        rows.into_iter().map(TryInto::try_into).collect()
    }

    /// Stores a resource server's name and scopes; false if it does not exist.
    pub async fn update_resource_server(&self, s: &ResourceServer) -> Result<bool, StoreError> {
        const SQL: &str = "update resource_servers set name = $3, scopes = $4, updated_at = $5 \
                           where pool_id = $1 and identifier = $2";
        let n = on_db!(&self.db, |p| sqlx::query(SQL)
            .bind(&s.pool_id)
            .bind(&s.identifier)
            .bind(&s.name)
            .bind(scopes_json(s))
            .bind(s.updated_at)
            .execute(p)
            .await
            .map(|r| r.rows_affected()))?;
        Ok(n > 0)
    }

    pub async fn delete_resource_server(
        &self,
        pool_id: &str,
        identifier: &str,
    ) -> Result<bool, StoreError> {
        const SQL: &str = "delete from resource_servers where pool_id = $1 and identifier = $2";
        let n = on_db!(&self.db, |p| sqlx::query(SQL)
            .bind(pool_id)
            .bind(identifier)
            .execute(p)
            .await
            .map(|r| r.rows_affected()))?;
        Ok(n > 0)
    }
}
