//! `trigger_log`: every trigger invocation, newest kept per pool.

use serde::Serialize;

use super::{Store, StoreError, on_db};

/// One invocation to record.
pub struct NewTriggerLog<'a> {
    pub pool_id: &'a str,
    pub at: i64,
    pub trigger_source: &'a str,
    pub user_name: &'a str,
    pub client_id: Option<&'a str>,
    pub target: &'a str,
    pub duration_ms: i64,
    pub outcome: &'a str,
    pub error: Option<&'a str>,
    /// The event sent, redacted, as JSON text.
    pub request: &'a str,
    /// The event returned, redacted, as JSON text.
    pub response: Option<&'a str>,
}

/// A recorded invocation.
#[derive(Debug, Serialize, sqlx::FromRow)]
pub struct TriggerLogEntry {
    pub id: i64,
    pub pool_id: String,
    pub at: i64,
    pub trigger_source: String,
    pub user_name: String,
    pub client_id: Option<String>,
    pub target: String,
    pub duration_ms: i64,
    pub outcome: String,
    pub error: Option<String>,
    pub request: String,
    pub response: Option<String>,
}

/// Which entries to read.
#[derive(Debug, Default)]
pub struct TriggerLogFilter<'a> {
    pub pool_id: Option<&'a str>,
    pub trigger_source: Option<&'a str>,
    /// Only entries after this id (`--follow`).
    pub after_id: Option<i64>,
    /// Only entries before this id (newest-first paging: the last id of the page shown).
    pub before_id: Option<i64>,
    pub limit: i64,
}

impl Store {
    /// Records an invocation and drops the pool's entries beyond the newest `keep`.
    pub async fn insert_trigger_log(
        &self,
        e: &NewTriggerLog<'_>,
        keep: i64,
    ) -> Result<(), StoreError> {
        const INSERT: &str = "insert into trigger_log (pool_id, at, trigger_source, user_name, \
             client_id, target, duration_ms, outcome, error, request, response) \
             values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)";
        const PRUNE: &str = "delete from trigger_log where pool_id = $1 and id <= \
             (select id from trigger_log where pool_id = $1 order by id desc limit 1 offset $2)";
        on_db!(&self.db, |p| sqlx::query(INSERT)
            .bind(e.pool_id)
            .bind(e.at)
            .bind(e.trigger_source)
            .bind(e.user_name)
            .bind(e.client_id)
            .bind(e.target)
            .bind(e.duration_ms)
            .bind(e.outcome)
            .bind(e.error)
            .bind(e.request)
            .bind(e.response)
            .execute(p)
            .await
            .map(|_| ()))?;
        on_db!(&self.db, |p| sqlx::query(PRUNE)
            .bind(e.pool_id)
            .bind(keep)
            .execute(p)
            .await
            .map(|_| ()))?;
        Ok(())
    }

    /// Recorded invocations, newest first (oldest first after `after_id`); a page of
    /// older ones with `before_id`.
    pub async fn trigger_log(
        &self,
        f: &TriggerLogFilter<'_>,
    ) -> Result<Vec<TriggerLogEntry>, StoreError> {
        let order = if f.after_id.is_some() { "asc" } else { "desc" };
        let sql = format!(
            "select id, pool_id, at, trigger_source, user_name, client_id, target, duration_ms, \
             outcome, error, request, response from trigger_log \
             where ($1 is null or pool_id = $1) and ($2 is null or trigger_source = $2) \
             and id > $3 and id < $5 order by id {order} limit $4"
        );
        let rows = on_db!(&self.db, |p| sqlx::query_as(&sql)
            .bind(f.pool_id)
            .bind(f.trigger_source)
            .bind(f.after_id.unwrap_or(0))
            .bind(f.limit)
            .bind(f.before_id.unwrap_or(i64::MAX))
            .fetch_all(p)
            .await)?;
        Ok(rows)
    }
}
