//! The administrator's queries over `users`, `user_attributes`, `memberships` and
//! `user_identities`: keyset-paged listings (Cognito's `ListUsers`,
//! `ListUsersInGroup`, `AdminListGroupsForUser`) and the writes the `Admin*` actions
//! need beyond `users.rs`.
//!
//! Pages are keyset pages: `where username_lc > $after order by username_lc limit $n`,
//! which the unique index `(pool_id, username_lc)` serves, so a page costs the same at
//! any depth and a user is listed exactly once even while others are added or removed.
//! On PostgreSQL the order is the database's collation (bytewise under `C`/`C.UTF-8`,
//! as on SQLite); the set of users and the exactly-once guarantee hold under any.
//!
//! Filters compare attribute values case-insensitively for ASCII letters only, the
//! one case folding both backends agree on: SQLite's `lower()` folds ASCII only, so
//! PostgreSQL's runs under the `C` collation, and the value is folded in Rust alike.
//! Prefixes use `like` with `%`, `_` and `\` escaped, never a range (a range depends on
//! the collation).

use std::collections::BTreeMap;

use super::users::{COLUMNS, UserRow};
use super::{Db, Store, StoreError, on_db};
use crate::model::groups::Group;
use crate::model::users::User;
use crate::model::users::{Match, UserFilter};

/// A value bound to a dynamically built query.
enum Arg {
    Text(String),
    Bool(bool),
    Int(i64),
}

impl Store {
    /// Up to `limit` users of a pool whose `username_lc` sorts after `after` (`""` for
    /// the first page), in that order, matching `filter` if given.
    pub async fn users_page(
        &self,
        pool_id: &str,
        filter: Option<&UserFilter>,
        after: &str,
        limit: i64,
    ) -> Result<Vec<User>, StoreError> {
        let mut args = vec![Arg::Text(pool_id.into()), Arg::Text(after.into())];
        let condition = match filter {
            None => String::new(),
            Some(UserFilter::Nothing) => return Ok(Vec::new()),
            Some(f) => format!(" and {}", self.filter_sql(f, &mut args)),
        };
        args.push(Arg::Int(limit));
        let sql = format!(
            "select {COLUMNS} from users where pool_id = $1 and username_lc > $2{condition} \
             order by username_lc limit ${}",
            args.len()
        );
        let rows = self.user_rows(&sql, args).await?;
        self.users_with_attributes(rows).await
    }

    /// Up to `limit` members of a group after `after`, in `username_lc` order.
    pub async fn users_in_group_page(
        &self,
        pool_id: &str,
        group_name: &str,
        after: &str,
        limit: i64,
    ) -> Result<Vec<User>, StoreError> {
        let sql = format!(
            "select {COLUMNS} from users where pool_id = $1 and username_lc > $3 \
             and exists (select 1 from memberships m where m.pool_id = $1 \
                         and m.group_name = $2 and m.user_id = users.user_id) \
             order by username_lc limit $4"
        );
        let args = vec![
            Arg::Text(pool_id.into()),
            Arg::Text(group_name.into()),
            Arg::Text(after.into()),
            Arg::Int(limit),
        ];
        let rows = self.user_rows(&sql, args).await?;
        self.users_with_attributes(rows).await
    }

    /// Up to `limit` groups of a user whose name sorts after `after`, by name.
    pub async fn groups_of_user_page(
        &self,
        user_id: &str,
        after: &str,
        limit: i64,
    ) -> Result<Vec<Group>, StoreError> {
        const SQL: &str = "select g.pool_id, g.group_name, g.description, g.precedence, g.role_arn, \
                                  g.created_at, g.updated_at \
                           from memberships m join groups g \
                             on g.pool_id = m.pool_id and g.group_name = m.group_name \
                           where m.user_id = $1 and g.group_name > $2 \
                           order by g.group_name limit $3";
        let rows = on_db!(&self.db, |p| sqlx::query_as(SQL)
            .bind(user_id)
            .bind(after)
            .bind(limit)
            .fetch_all(p)
            .await)?;
        Ok(rows)
    }

    /// Sets and removes attributes of a user in one transaction, and marks the user
    /// modified.
    pub async fn update_user_attributes(
        &self,
        pool_id: &str,
        user_id: &str,
        set: &BTreeMap<String, String>,
        remove: &[String],
        now: i64,
    ) -> Result<(), StoreError> {
        const SET: &str = "insert into user_attributes (user_id, pool_id, name, value) values ($1, $2, $3, $4) \
                           on conflict (user_id, name) do update set value = excluded.value";
        const REMOVE: &str = "delete from user_attributes where user_id = $1 and name = $2";
        // A value written outright supersedes a change held until verified.
        const UNPEND: &str = "delete from pending_attributes where user_id = $1 and name = $2";
        const TOUCH: &str = "update users set updated_at = $2 where user_id = $1";
        on_db!(&self.db, |p| {
            let mut tx = self.timed(p.begin()).await?;
            for (name, value) in set {
                sqlx::query(SET)
                    .bind(user_id)
                    .bind(pool_id)
                    .bind(name)
                    .bind(value)
                    .execute(&mut *tx)
                    .await?;
            }
            for name in set.keys().chain(remove) {
                sqlx::query(UNPEND)
                    .bind(user_id)
                    .bind(name)
                    .execute(&mut *tx)
                    .await?;
            }
            for name in remove {
                sqlx::query(REMOVE)
                    .bind(user_id)
                    .bind(name)
                    .execute(&mut *tx)
                    .await?;
            }
            sqlx::query(TOUCH)
                .bind(user_id)
                .bind(now)
                .execute(&mut *tx)
                .await?;
            tx.commit().await
        })?;
        Ok(())
    }

    /// Holds `value` as the user's pending `name` until it is verified, replacing any
    /// pending value before it.
    pub async fn set_pending_attribute(
        &self,
        user_id: &str,
        name: &str,
        value: &str,
        now: i64,
    ) -> Result<(), StoreError> {
        const SQL: &str = "insert into pending_attributes (user_id, name, value, created_at) \
                           values ($1, $2, $3, $4) on conflict (user_id, name) \
                           do update set value = excluded.value, created_at = excluded.created_at";
        on_db!(&self.db, |p| sqlx::query(SQL)
            .bind(user_id)
            .bind(name)
            .bind(value)
            .bind(now)
            .execute(p)
            .await
            .map(|r| r.rows_affected()))?;
        Ok(())
    }

    /// The user's pending value of `name`, if a change is waiting for verification.
    pub async fn pending_attribute(
        &self,
        user_id: &str,
        name: &str,
    ) -> Result<Option<String>, StoreError> {
        const SQL: &str = "select value from pending_attributes where user_id = $1 and name = $2";
        let value = on_db!(&self.db, |p| sqlx::query_scalar(SQL)
            .bind(user_id)
            .bind(name)
            .fetch_optional(p)
            .await)?;
        Ok(value)
    }

    /// Enables or disables a user.
    pub async fn update_user_enabled(
        &self,
        user_id: &str,
        enabled: bool,
        now: i64,
    ) -> Result<(), StoreError> {
        const SQL: &str = "update users set enabled = $2, updated_at = $3 where user_id = $1";
        on_db!(&self.db, |p| sqlx::query(SQL)
            .bind(user_id)
            .bind(enabled)
            .bind(now)
            .execute(p)
            .await
            .map(|r| r.rows_affected()))?;
        Ok(())
    }

    /// Removes a provider identity's link; returns the user it was linked to.
    pub async fn delete_identity(
        &self,
        pool_id: &str,
        provider: &str,
        subject: &str,
    ) -> Result<Option<String>, StoreError> {
        const SQL: &str = "delete from user_identities \
                           where pool_id = $1 and provider_name = $2 and provider_subject = $3 \
                           returning user_id";
        let row = on_db!(&self.db, |p| sqlx::query_scalar(SQL)
            .bind(pool_id)
            .bind(provider)
            .bind(subject)
            .fetch_optional(p)
            .await)?;
        Ok(row)
    }

    /// How many provider identities are linked to a user.
    pub async fn identity_count(&self, user_id: &str) -> Result<i64, StoreError> {
        const SQL: &str = "select count(*) from user_identities where user_id = $1";
        let n = on_db!(&self.db, |p| sqlx::query_scalar(SQL)
            .bind(user_id)
            .fetch_one(p)
            .await)?;
        Ok(n)
    }

    /// The SQL condition (on `users`) for a filter, pushing its values onto `args`.
    fn filter_sql(&self, filter: &UserFilter, args: &mut Vec<Arg>) -> String {
        let mut next = |value: String| {
            args.push(Arg::Text(value));
            format!("${}", args.len())
        };
        match filter {
            // `username_lc` holds `username_key` of the name, so fold the value alike.
            UserFilter::Username(m) => compare(
                "username_lc",
                m,
                crate::model::users::username_key,
                &mut next,
            ),
            UserFilter::Sub(m) => compare("user_id", m, str::to_ascii_lowercase, &mut next),
            // Stored in upper case; Cognito compares statuses case-insensitively.
            UserFilter::Status(m) => compare("status", m, str::to_ascii_uppercase, &mut next),
            UserFilter::Attribute(name, m) => {
                let name = next((*name).to_string());
                let folded = match &self.db {
                    Db::Sqlite(_) => "lower(a.value)",
                    Db::Postgres(_) => "lower(a.value collate \"C\")",
                };
                let matches = compare(folded, m, str::to_ascii_lowercase, &mut next);
                format!(
                    "exists (select 1 from user_attributes a where a.user_id = users.user_id \
                     and a.name = {name} and {matches})"
                )
            }
            UserFilter::Enabled(enabled) => {
                args.push(Arg::Bool(*enabled));
                format!("enabled = ${}", args.len())
            }
            UserFilter::Nothing => "1 = 0".into(),
        }
    }

    async fn user_rows(&self, sql: &str, args: Vec<Arg>) -> Result<Vec<UserRow>, StoreError> {
        let rows = on_db!(&self.db, |p| {
            let mut q = sqlx::query_as::<_, UserRow>(sql);
            for arg in args {
                q = match arg {
                    Arg::Text(s) => q.bind(s),
                    Arg::Bool(b) => q.bind(b),
                    Arg::Int(i) => q.bind(i),
                };
            }
            q.fetch_all(p).await
        })?;
        Ok(rows)
    }

    /// Users for rows, their attributes read in one query.
    async fn users_with_attributes(&self, rows: Vec<UserRow>) -> Result<Vec<User>, StoreError> {
        if rows.is_empty() {
            return Ok(Vec::new());
        }
        let placeholders = (1..=rows.len())
            .map(|i| format!("${i}"))
            .collect::<Vec<_>>()
            .join(", ");
        let sql = format!(
            "select user_id, name, value from user_attributes where user_id in ({placeholders})"
        );
        let attrs: Vec<(String, String, String)> = on_db!(&self.db, |p| {
            let mut q = sqlx::query_as(&sql);
            for r in &rows {
                q = q.bind(r.user_id.as_str());
            }
            q.fetch_all(p).await
        })?;
        let mut by_user: BTreeMap<String, BTreeMap<String, String>> = BTreeMap::new();
        for (user_id, name, value) in attrs {
            by_user.entry(user_id).or_default().insert(name, value);
        }
        rows.into_iter()
            .map(|r| {
                let attributes = by_user.remove(&r.user_id).unwrap_or_default();
                r.into_user(attributes)
            })
            .collect()
    }
}

/// `column` compared with a match's value, folded like the column: `=` exactly, or
/// `like` with the prefix's wildcards escaped (`\` is the escape character).
fn compare(
    column: &str,
    m: &Match,
    fold: fn(&str) -> String,
    next: &mut impl FnMut(String) -> String,
) -> String {
    match m {
        Match::Exact(v) => format!("{column} = {}", next(fold(v))),
        Match::Prefix(p) => {
            let pattern = format!("{}%", escape_like(&fold(p)));
            format!("{column} like {} escape '\\'", next(pattern))
        }
    }
}

fn escape_like(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn like_wildcards_and_the_escape_character_are_escaped() {
        assert_eq!(escape_like(r"a%b_c\d"), r"a\%b\_c\\d");
        let mut bound = Vec::new();
        let mut next = |v: String| {
            bound.push(v);
            format!("${}", bound.len())
        };
        let sql = compare(
            "c",
            &Match::Prefix("Ab_".into()),
            str::to_ascii_lowercase,
            &mut next,
        );
        assert_eq!(sql, r"c like $1 escape '\'");
        assert_eq!(bound, [r"ab\_%"]);
    }
}
