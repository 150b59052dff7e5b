//! `groups`, `memberships`.

use super::{Store, StoreError, on_db};
use crate::model::groups::Group;

pub(super) const COLUMNS: &str =
    "pool_id, group_name, description, precedence, role_arn, created_at, updated_at";

impl Store {
    pub async fn insert_group(&self, group: &Group) -> Result<(), StoreError> {
        let sql = format!("insert into groups ({COLUMNS}) values ($1, $2, $3, $4, $5, $6, $7)");
        on_db!(&self.db, |p| sqlx::query(&sql)
            .bind(&group.pool_id)
            .bind(&group.group_name)
            .bind(&group.description)
            .bind(group.precedence)
            .bind(&group.role_arn)
            .bind(group.created_at)
            .bind(group.updated_at)
            .execute(p)
            .await
            .map(|r| r.rows_affected()))?;
        Ok(())
    }

    pub async fn groups(&self, pool_id: &str) -> Result<Vec<Group>, StoreError> {
        let sql = format!("select {COLUMNS} from groups where pool_id = $1 order by group_name");
        let rows = on_db!(&self.db, |p| sqlx::query_as(&sql)
            .bind(pool_id)
            .fetch_all(p)
            .await)?;
        Ok(rows)
    }

    pub async fn group_by_name(
        &self,
        pool_id: &str,
        name: &str,
    ) -> Result<Option<Group>, StoreError> {
        let sql = format!("select {COLUMNS} from groups where pool_id = $1 and group_name = $2");
        let row = on_db!(&self.db, |p| sqlx::query_as(&sql)
            .bind(pool_id)
            .bind(name)
            .fetch_optional(p)
            .await)?;
        Ok(row)
    }

    /// Adds a membership; adding twice is not an error (Cognito's behaviour).
    pub async fn insert_membership(
        &self,
        pool_id: &str,
        group_name: &str,
        user_id: &str,
    ) -> Result<(), StoreError> {
        const SQL: &str = "insert into memberships (pool_id, group_name, user_id) values ($1, $2, $3) \
                           on conflict do nothing";
        on_db!(&self.db, |p| sqlx::query(SQL)
            .bind(pool_id)
            .bind(group_name)
            .bind(user_id)
            .execute(p)
            .await
            .map(|r| r.rows_affected()))?;
        Ok(())
    }

    /// Removes a membership; true if it existed.
    pub async fn delete_membership(
        &self,
        pool_id: &str,
        group_name: &str,
        user_id: &str,
    ) -> Result<bool, StoreError> {
        const SQL: &str =
            "delete from memberships where pool_id = $1 and group_name = $2 and user_id = $3";
        let done = on_db!(&self.db, |p| sqlx::query(SQL)
            .bind(pool_id)
            .bind(group_name)
            .bind(user_id)
            .execute(p)
            .await
            .map(|r| r.rows_affected()))?;
        Ok(done > 0)
    }

    /// The user's groups, in token order: by precedence (unset last), then name.
    pub async fn groups_of_user(&self, user_id: &str) -> Result<Vec<Group>, StoreError> {
        const SQL: &str = "select g.pool_id, g.group_name, g.description, g.precedence, g.role_arn, \
                                  g.created_at, g.updated_at \
                           from memberships m join groups g \
                             on g.pool_id = m.pool_id and g.group_name = m.group_name \
                           where m.user_id = $1 \
                           order by g.precedence is null, g.precedence, g.group_name";
        let rows = on_db!(&self.db, |p| sqlx::query_as(SQL)
            .bind(user_id)
            .fetch_all(p)
            .await)?;
        Ok(rows)
    }
}
