//! Many new users at once (`cognate user import`): one transaction per batch, written by
//! multi-row inserts, where creating users one by one costs several statements and a
//! commit each.

use std::collections::HashSet;
use std::fmt::Write;

use super::{Db, Store, StoreError, on_db};
use crate::model::users::{NewUser, username_key};

/// Bound parameters one statement may carry: SQLite's limit, the lower of the two
/// (PostgreSQL's is 65535).
const MAX_PARAMS: usize = 32766;

/// Parameters of one users row: the columns of `INSERT_COLUMNS` and `username_lc`.
const USER_PARAMS: usize = 10;
/// Parameters of one attribute row.
const ATTRIBUTE_PARAMS: usize = 4;

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
        let numbered = matches!(self.db, Db::Postgres(_));
        on_db!(&self.db, |p| {
            let mut tx = self.timed(p.begin()).await?;
            let mut inserted = HashSet::with_capacity(users.len());
            for chunk in users.chunks(MAX_PARAMS / USER_PARAMS) {
                let sql = values_insert(
                    numbered,
                    &format!(
                        "insert into users ({}, username_lc)",
                        super::users::INSERT_COLUMNS
                    ),
                    (chunk.len(), USER_PARAMS),
                    " on conflict (pool_id, username_lc) do nothing returning user_id",
                );
                let mut query = sqlx::query_scalar::<_, String>(&sql).persistent(false);
                for (user_id, new) in chunk {
                    query = query
                        .bind(user_id)
                        .bind(pool_id)
                        .bind(&new.username)
                        .bind(new.status.as_str())
                        .bind(true)
                        .bind(&new.password_hash)
                        .bind(now)
                        .bind(now)
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
            for chunk in attributes.chunks(MAX_PARAMS / ATTRIBUTE_PARAMS) {
                let sql = values_insert(
                    numbered,
                    "insert into user_attributes (user_id, pool_id, name, value)",
                    (chunk.len(), ATTRIBUTE_PARAMS),
                    "",
                );
                let mut query = sqlx::query(&sql).persistent(false);
                for (user_id, name, value) in chunk {
                    query = query.bind(*user_id).bind(pool_id).bind(*name).bind(*value);
                }
                query.execute(&mut *tx).await?;
            }
            tx.commit().await?;
            Ok(inserted)
        })
    }
}

/// `head values (…), (…) tail` with `rows` rows of `width` parameters, bound in order:
/// `$1, $2, …` for PostgreSQL, SQLite's anonymous `?` (it looks each named or numbered
/// one up in a list, which costs time quadratic in a statement's thousands of them).
/// Statements vary in their number of rows, so they are not kept prepared
/// (`persistent(false)`).
fn values_insert(numbered: bool, head: &str, (rows, width): (usize, usize), tail: &str) -> String {
    let mut sql = String::with_capacity(head.len() + tail.len() + rows * width * 7);
    sql.push_str(head);
    sql.push_str(" values ");
    for row in 0..rows {
        sql.push_str(if row == 0 { "(" } else { ", (" });
        for column in 0..width {
            if column > 0 {
                sql.push_str(", ");
            }
            if numbered {
                let _ = write!(sql, "${}", row * width + column + 1);
            } else {
                sql.push('?');
            }
        }
        sql.push(')');
    }
    sql.push_str(tail);
    sql
}
