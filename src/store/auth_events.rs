//! `auth_events`: the auth event log (issue 20), written in batches by
//! the events module's background writer and pruned by count and age.

use serde::Serialize;

use super::{Store, StoreError, on_db};

/// The columns written per event, in insert order.
const COLUMNS: &str = "event_id, at, kind, outcome, reason, grant_type, pool_id, client_id, \
     user_sub, username, source_ip, user_agent, request_id, actor, action, target";
const COLUMN_COUNT: usize = 16;

/// An event as stored: identifiers and names from closed sets only.
#[derive(Debug, Clone, Serialize, sqlx::FromRow, PartialEq, Eq)]
pub struct AuthEventRow {
    #[serde(skip)]
    pub id: i64,
    pub event_id: String,
    /// Epoch seconds.
    pub at: i64,
    pub kind: String,
    pub outcome: String,
    pub reason: Option<String>,
    pub grant_type: Option<String>,
    pub pool_id: Option<String>,
    pub client_id: Option<String>,
    pub user_sub: Option<String>,
    pub username: Option<String>,
    pub source_ip: Option<String>,
    pub user_agent: Option<String>,
    pub request_id: Option<String>,
    pub actor: Option<String>,
    pub action: Option<String>,
    pub target: Option<String>,
}

/// How many events of one kind and outcome fell in one time bucket.
#[derive(Debug, Clone, sqlx::FromRow, PartialEq, Eq)]
pub struct AuthEventCount {
    /// The bucket's first epoch second (a multiple of the bucket width).
    pub bucket: i64,
    pub kind: String,
    pub outcome: String,
    pub count: i64,
}

/// Which events to read.
#[derive(Debug, Default)]
pub struct AuthEventFilter<'a> {
    pub pool_id: Option<&'a str>,
    /// Compared case-insensitively; with `user_sub`, an event naming either matches.
    pub username: Option<&'a str>,
    pub user_sub: Option<&'a str>,
    pub kind: Option<&'a str>,
    /// Only these kinds (names from a closed set, never input).
    pub kinds: Option<&'static [&'static str]>,
    /// Only events with this outcome (`pass` or `fail`; the console's "failed only").
    pub outcome: Option<&'a str>,
    /// Only events at or after this epoch second.
    pub since: Option<i64>,
    /// Only events before this epoch second.
    pub until: Option<i64>,
    /// Only events with an id above this (`--follow`, pagination).
    pub after_id: Option<i64>,
    /// Only events with an id below this (newest-first pagination).
    pub before_id: Option<i64>,
    /// Oldest first (`--follow`) rather than newest first.
    pub oldest_first: bool,
    pub limit: i64,
}

impl Store {
    /// Writes a batch of events in one statement.
    pub async fn insert_auth_events(&self, rows: &[AuthEventRow]) -> Result<(), StoreError> {
        if rows.is_empty() {
            return Ok(());
        }
        let values: Vec<String> = (0..rows.len())
            .map(|r| {
                let marks: Vec<String> = (1..=COLUMN_COUNT)
                    .map(|c| format!("${}", r * COLUMN_COUNT + c))
                    .collect();
                format!("({})", marks.join(", "))
            })
            .collect();
        let sql = format!(
            "insert into auth_events ({COLUMNS}) values {}",
            values.join(", ")
        );
        on_db!(&self.db, |p| {
            let mut q = sqlx::query(&sql);
            for e in rows {
                q = q
                    .bind(&e.event_id)
                    .bind(e.at)
                    .bind(&e.kind)
                    .bind(&e.outcome)
                    .bind(&e.reason)
                    .bind(&e.grant_type)
                    .bind(&e.pool_id)
                    .bind(&e.client_id)
                    .bind(&e.user_sub)
                    .bind(&e.username)
                    .bind(&e.source_ip)
                    .bind(&e.user_agent)
                    .bind(&e.request_id)
                    .bind(&e.actor)
                    .bind(&e.action)
                    .bind(&e.target);
            }
            q.execute(p).await.map(|_| ())
        })?;
        Ok(())
    }

    /// Events matching `f`, newest first unless `f.oldest_first`.
    pub async fn auth_events(
        &self,
        f: &AuthEventFilter<'_>,
    ) -> Result<Vec<AuthEventRow>, StoreError> {
        let order = if f.oldest_first { "asc" } else { "desc" };
        let kinds = match f.kinds {
            Some(kinds) => {
                let quoted: Vec<String> = kinds.iter().map(|k| format!("'{k}'")).collect();
                format!("and kind in ({})", quoted.join(", "))
            }
            None => String::new(),
        };
        let sql = format!(
            "select id, {COLUMNS} from auth_events \
             where ($1 is null or pool_id = $1) \
             and (($2 is null and $8 is null) or lower(username) = lower($2) or user_sub = $8) \
             and ($3 is null or kind = $3) {kinds} and at >= $4 and id > $5 and id < $6 \
             and ($9 is null or outcome = $9) and at < $10 \
             order by id {order} limit $7"
        );
        let rows = on_db!(&self.db, |p| sqlx::query_as(&sql)
            .bind(f.pool_id)
            .bind(f.username)
            .bind(f.kind)
            .bind(f.since.unwrap_or(i64::MIN))
            .bind(f.after_id.unwrap_or(0))
            .bind(f.before_id.unwrap_or(i64::MAX))
            .bind(f.limit)
            .bind(f.user_sub)
            .bind(f.outcome)
            .bind(f.until.unwrap_or(i64::MAX))
            .fetch_all(p)
            .await)?;
        Ok(rows)
    }

    /// How many of a pool's events of each kind and outcome fell in each `bucket`-second
    /// slice (3600: hours, 86400: UTC days) of `[from, until)`, oldest bucket first.
    /// Buckets with no events are absent. The bucket is integer arithmetic on the
    /// stored epoch second, the same on both backends; the scan is the `at` index.
    pub async fn auth_event_counts(
        &self,
        pool_id: &str,
        bucket: i64,
        from: i64,
        until: i64,
    ) -> Result<Vec<AuthEventCount>, StoreError> {
        const SQL: &str = "select (at / $1) * $1 as bucket, kind, outcome, count(*) as count \
             from auth_events where at >= $2 and at < $3 and pool_id = $4 \
             group by (at / $1) * $1, kind, outcome order by bucket, kind, outcome";
        // A zero or negative width would divide by zero or invert the buckets.
        let bucket = bucket.max(1);
        let rows = on_db!(&self.db, |p| sqlx::query_as(SQL)
            .bind(bucket)
            .bind(from)
            .bind(until)
            .bind(pool_id)
            .fetch_all(p)
            .await)?;
        Ok(rows)
    }

    /// Deletes events older than `before` (epoch seconds) and all but the newest
    /// `keep`; two indexed range deletes, whatever the table's size. The count of
    /// events deleted.
    pub async fn prune_auth_events(&self, before: i64, keep: i64) -> Result<u64, StoreError> {
        const BY_AGE: &str = "delete from auth_events where at < $1";
        const BY_COUNT: &str = "delete from auth_events where id <= \
             (select id from auth_events order by id desc limit 1 offset $1)";
        let aged = on_db!(&self.db, |p| sqlx::query(BY_AGE)
            .bind(before)
            .execute(p)
            .await
            .map(|r| r.rows_affected()))?;
        let counted = on_db!(&self.db, |p| sqlx::query(BY_COUNT)
            .bind(keep)
            .execute(p)
            .await
            .map(|r| r.rows_affected()))?;
        Ok(aged + counted)
    }
}
