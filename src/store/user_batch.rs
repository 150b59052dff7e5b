//! Many new users at once (`cognate user import`): one transaction per batch, written by
//! multi-row inserts, where creating users one by one costs several statements and a
//! commit each.

use std::collections::HashSet;
use std::fmt::Write;

use super::{Store, StoreError, on_db};
use crate::model::users::{NewUser, username_key};

/// Bound parameters one statement may carry: SQLite's limit, the lower of the two
/// (PostgreSQL's is 65535).
const MAX_PARAMS: usize = 32766;

/// Parameters every row of the users insert shares: `$1` pool, `$2` now, `$3` enabled.
const SHARED: usize = 3;
/// Parameters of one users row.
const USER_PARAMS: usize = 6;
/// Parameters of one attribute row (the pool is `$1`).
const ATTRIBUTE_PARAMS: usize = 3;

impl Store {
    /// Inserts `users` (each with the id it gets) and their attributes in one
    /// transaction, skipping each whose username the pool already has, including one
    /// taken by an earlier user of `users`. The ids of the users inserted. Pending codes
    /// are not written: `users` must have none.
    pub async fn insert_users(
        &self,
        pool_id: &str,
        users: &[(String, NewUser)],
        now: i64,
    ) -> Result<HashSet<String>, StoreError> {
        if users.iter().any(|(_, u)| u.pending_code.is_some()) {
            return Err(StoreError::Corrupt(
                "a user inserted in a batch has a pending code".into(),
            ));
        }
        on_db!(&self.db, |p| {
            let mut tx = p.begin().await?;
            let mut inserted = HashSet::with_capacity(users.len());
            for chunk in users.chunks((MAX_PARAMS - SHARED) / USER_PARAMS) {
                let sql = users_insert(chunk.len());
                let mut query = sqlx::query_scalar::<_, String>(&sql)
                    .persistent(false)
                    .bind(pool_id)
                    .bind(now)
                    .bind(true);
                for (user_id, new) in chunk {
                    query = query
                        .bind(user_id)
                        .bind(&new.username)
                        .bind(new.status.as_str())
                        .bind(&new.password_hash)
                        .bind(new.password_hash.as_ref().map(|_| now))
                        .bind(username_key(&new.username));
                }
                inserted.extend(query.fetch_all(&mut *tx).await?);
            }
            let attributes: Vec<(&String, &String, &String)> = users
                .iter()
                .filter(|(id, _)| inserted.contains(id))
                .flat_map(|(id, new)| new.attributes.iter().map(move |(n, v)| (id, n, v)))
                .collect();
            for chunk in attributes.chunks((MAX_PARAMS - 1) / ATTRIBUTE_PARAMS) {
                let sql = attributes_insert(chunk.len());
                let mut query = sqlx::query(&sql).persistent(false).bind(pool_id);
                for (user_id, name, value) in chunk {
                    query = query.bind(*user_id).bind(*name).bind(*value);
                }
                query.execute(&mut *tx).await?;
            }
            tx.commit().await?;
            Ok(inserted)
        })
    }
}

/// The users insert of `rows` rows: a taken username is skipped (`do nothing`), and
/// `returning` names the users inserted. Statements vary in their number of rows, so
/// they are not kept prepared (`persistent(false)` above).
fn users_insert(rows: usize) -> String {
    let mut sql = format!(
        "insert into users ({}, username_lc) values ",
        super::users::INSERT_COLUMNS
    );
    for row in 0..rows {
        let n = SHARED + row * USER_PARAMS;
        let (id, name, status, hash, set_at, key) = (n + 1, n + 2, n + 3, n + 4, n + 5, n + 6);
        let comma = if row == 0 { "" } else { "," };
        // The order of INSERT_COLUMNS.
        let _ = write!(
            sql,
            "{comma}(${id}, $1, ${name}, ${status}, $3, ${hash}, $2, $2, ${set_at}, ${key})"
        );
    }
    sql.push_str(" on conflict (pool_id, username_lc) do nothing returning user_id");
    sql
}

/// The attributes insert of `rows` rows.
fn attributes_insert(rows: usize) -> String {
    let mut sql =
        String::from("insert into user_attributes (user_id, pool_id, name, value) values ");
    for row in 0..rows {
        let n = 1 + row * ATTRIBUTE_PARAMS;
        let comma = if row == 0 { "" } else { "," };
        let _ = write!(sql, "{comma}(${}, $1, ${}, ${})", n + 1, n + 2, n + 3);
    }
    sql
}
