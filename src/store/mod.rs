//! Persistence. Only this module writes SQL. SQLite by default, PostgreSQL to scale
//! out; the backend is picked from the URL scheme. Queries are runtime-checked, with
//! `$N` placeholders that both drivers bind, and one store contract is exercised by
//! the integration suite on both databases.

mod admin_users;
mod auth_events;
mod cache;
mod challenges;
mod checkpoint;
mod clients;
mod codes;
mod declared;
mod domains;
mod federation;
mod groups;
mod import_jobs;
mod key_check;
mod keys;
mod management;
mod mfa;
mod operators;
mod outbox;
mod pools;
mod resource_servers;
mod schema;
pub mod sessions;
mod throttles;
mod tokens;
mod trigger_log;
mod ui_customizations;
mod upgrades;
mod user_batch;
mod users;

pub use auth_events::{AuthEventCount, AuthEventFilter, AuthEventRow};
pub use cache::DEFAULT_CONFIG_CHECK;
pub use codes::CodeRow;
pub use declared::Preregistration;
pub use federation::{FederationRequest, LinkedIdentity};
pub use import_jobs::{ImportJobRow, JobColumn, JobEnd};
pub use keys::StoredKey;
pub use management::PageAt;
pub use mfa::MfaRow;
pub use operators::{ConsoleSessionRow, OperatorRow};
pub use outbox::OutboxMessage;
pub use tokens::{Directory, Family, NewCode, RedeemedCode, RefreshOutcome};
pub use trigger_log::{NewTriggerLog, TriggerLogEntry, TriggerLogFilter};
pub use users::PasswordChange;

use std::str::FromStr;
use std::time::Duration;

use sqlx::postgres::{PgPool, PgPoolOptions};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};

/// A scalar subquery giving the rows of `from` (its `from … where …`) as a JSON text
/// array of arrays (`[[a, b], …]`, `[]` for none), each row the values `row` lists, in
/// the order `order`: a request reads an object and its parts in one statement (one
/// hop to SQLite's connection thread, one round trip to PostgreSQL) instead of one
/// statement per part.
pub(crate) fn json_rows(db: &Db, row: &str, from: &str, order: &str) -> String {
    match db {
        Db::Sqlite(_) => format!(
            "(select coalesce(json_group_array(json_array({row}) order by {order}), '[]') {from})"
        ),
        Db::Postgres(_) => format!(
            "(select coalesce(json_agg(json_build_array({row}) order by {order}), '[]'::json)::text {from})"
        ),
    }
}

/// The two backends. Each query runs through [`on_db!`] on whichever is configured.
#[derive(Clone, Debug)]
pub enum Db {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

/// Runs the same expression against whichever pool `$db` holds; `$p` names the pool,
/// or, in a store made by [`Store::begin`], the connection of its one transaction (a
/// `begin()` inside then opens a savepoint). Every store method is written
/// `on_db!(&self.db, |p| …)`, so each runs unchanged inside or outside a transaction.
macro_rules! on_db {
    (&$store:ident.db, |$p:ident| $run:expr) => {
        match &$store.tx {
            Some(tx) => {
                #[allow(unused_imports)]
                use sqlx::Acquire as _;
                let mut guard = tx.lock().await;
                match &mut *guard {
                    $crate::store::Tx::Sqlite(t) => {
                        let $p = &mut **t;
                        $run
                    }
                    $crate::store::Tx::Postgres(t) => {
                        let $p = &mut **t;
                        $run
                    }
                }
            }
            None => on_db!(&$store.db => |$p| $run),
        }
    };
    ($db:expr => |$p:ident| $run:expr) => {
        match $db {
            $crate::store::Db::Sqlite($p) => $run,
            $crate::store::Db::Postgres($p) => $run,
        }
    };
}
pub(crate) use on_db;

/// Errors of the storage layer; mapped once into `AppError` above it.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("already exists")]
    Conflict,
    #[error("unsupported database URL (use sqlite:// or postgres://)")]
    UnsupportedUrl,
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
    #[error(transparent)]
    Db(sqlx::Error),
    #[error(transparent)]
    Migrate(#[from] sqlx::migrate::MigrateError),
}

impl StoreError {
    /// True when the database is unavailable for a while (locked, unreachable,
    /// restarting, out of space) rather than refusing this request: callers answer 503
    /// with `Retry-After` (fail closed), and the pool recovers without a restart.
    pub fn is_transient(&self) -> bool {
        matches!(self, StoreError::Db(e) if is_transient(e))
    }
}

/// See [`StoreError::is_transient`].
pub fn is_transient(e: &sqlx::Error) -> bool {
    use sqlx::Error as E;
    match e {
        E::PoolTimedOut | E::PoolClosed | E::Io(_) | E::Tls(_) | E::WorkerCrashed => true,
        E::Database(d) => {
            if let Some(e) = d.try_downcast_ref::<sqlx::sqlite::SqliteError>() {
                // Primary result codes: BUSY, LOCKED, IOERR, FULL, CANTOPEN.
                let code = sqlx::error::DatabaseError::code(e)
                    .and_then(|c| c.parse::<i32>().ok())
                    .unwrap_or(0);
                matches!(code & 0xff, 5 | 6 | 10 | 13 | 14)
            } else {
                // Connection exceptions, insufficient resources (disk full), operator
                // intervention (shutdown, starting up), serialization failure, deadlock.
                let code = d.code().unwrap_or_default();
                ["08", "53", "57P", "40001", "40P01"]
                    .iter()
                    .any(|prefix| code.starts_with(prefix))
            }
        }
        _ => false,
    }
}

impl From<sqlx::Error> for StoreError {
    fn from(e: sqlx::Error) -> Self {
        match &e {
            sqlx::Error::Database(d) if d.is_unique_violation() => StoreError::Conflict,
            _ => StoreError::Db(e),
        }
    }
}

impl From<serde_json::Error> for StoreError {
    fn from(e: serde_json::Error) -> Self {
        StoreError::Corrupt(e.to_string())
    }
}

/// How long a SQLite write waits for another writer's lock before the request is
/// answered 503 (retryable).
pub const SQLITE_BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// How long a request waits for a PostgreSQL connection (e.g. while the server
/// restarts) before it is answered 503; the pool reconnects by itself afterwards.
pub const PG_ACQUIRE_TIMEOUT: Duration = Duration::from_secs(5);

/// Decides whether a SQLite connection goes back to the pool: not if it is still
/// inside a transaction. A `COMMIT` that meets a full disk (or an I/O error) can leave
/// SQLite's transaction open, holding the write lock, while the `ROLLBACK` sqlx sends
/// on drop fails too; kept, that connection would lock every other writer out until a
/// restart. Closing it rolls back, and the pool opens a fresh one on demand. sqlx's
/// count is the whole check (asking SQLite would cost a hop to the connection's thread
/// on every release): it stays raised when that `COMMIT` and `ROLLBACK` fail, and the
/// one statement that opens a savepoint of its own closes its connection on an error
/// ([`Store::rotate_refresh_token`]).
///
/// A transaction left by an error path (a `?` between `begin` and `commit`, e.g. a
/// duplicate username refused by the unique key) is rolled back by sqlx when dropped,
/// but that `ROLLBACK` is only queued on the connection's worker thread, and the pool
/// calls this before it runs: wait for it (a ping runs after every queued command), or
/// every refused write would close a healthy connection as if it were stuck.
async fn release_sqlite(conn: &mut sqlx::SqliteConnection) -> Result<bool, sqlx::Error> {
    use sqlx::Connection;
    if conn.is_in_transaction() {
        // Only then: a ping is a hop to the connection's thread of its own.
        conn.ping().await?;
        if conn.is_in_transaction() {
            tracing::warn!("closing a database connection left inside a transaction");
            return Ok(false);
        }
    }
    Ok(true)
}

/// Makes the SQLite database at `path` readable by its owner only (0600), creating it
/// empty if missing, before SQLite opens it: SQLite gives the `-wal` and `-shm` files it
/// creates the database file's permissions, and all three hold codes' and tokens'
/// digests and session data. A file left readable by others (created by an earlier
/// version) is tightened. Failures are logged: SQLite reports a file it cannot open.
#[cfg(unix)]
fn keep_private(path: &std::path::Path) {
    use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
    let name = path.to_string_lossy();
    if name.is_empty() || name == ":memory:" || name.starts_with("file:") {
        return;
    }
    let created = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path);
    if created.is_ok() {
        return;
    }
    for suffix in ["", "-wal", "-shm"] {
        let file = std::path::PathBuf::from(format!("{name}{suffix}"));
        let Ok(meta) = std::fs::metadata(&file) else {
            continue;
        };
        let mode = meta.permissions().mode();
        if mode & 0o077 == 0 {
            continue;
        }
        let file_path = file.display();
        match std::fs::set_permissions(&file, std::fs::Permissions::from_mode(mode & 0o700)) {
            Ok(()) => {
                tracing::warn!(path = %file_path, "a database file readable by others made owner-only")
            }
            Err(e) => {
                tracing::warn!(path = %file_path, error = %e, "a database file is readable by others")
            }
        }
    }
}

/// Handle to the database; cheap to clone.
#[derive(Clone, Debug)]
pub struct Store {
    pub db: Db,
    /// SQLite: one connection held open for the process's lifetime, used only for the
    /// background WAL checkpoints (`checkpoint`). When the last connection to a WAL
    /// database closes, SQLite removes the WAL index; the pool closes connections (idle
    /// ones, ones left inside a transaction), and on a full disk the next one could not
    /// create the index again, so even reads failed.
    _keeper: Option<std::sync::Arc<tokio::sync::Mutex<sqlx::SqliteConnection>>>,
    /// Set in a store made by [`Store::begin`]: the transaction every statement joins.
    tx: Option<std::sync::Arc<tokio::sync::Mutex<Tx>>>,
    /// This process's caches of clients and pools ([`cache`]), shared by every clone.
    caches: std::sync::Arc<cache::Caches>,
    /// Waits for a connection where the store takes one itself, for `/metrics`.
    acquire_wait: std::sync::Arc<crate::metrics::Histogram>,
}

/// An open transaction of either backend.
pub(crate) enum Tx {
    Sqlite(sqlx::Transaction<'static, sqlx::Sqlite>),
    Postgres(sqlx::Transaction<'static, sqlx::Postgres>),
}

impl std::fmt::Debug for Tx {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Tx")
    }
}

impl Store {
    /// Connects to `url` (`sqlite://path` creates the file if missing; `postgres://…`).
    pub async fn connect(url: &str) -> Result<Self, StoreError> {
        let mut keeper = None;
        let db = if url.starts_with("sqlite:") {
            let options = SqliteConnectOptions::from_str(url)?
                .create_if_missing(true)
                .journal_mode(SqliteJournalMode::Wal)
                // WAL with NORMAL: a commit survives a crash of the process (kill -9,
                // R-2), and is synced to disk at the next checkpoint rather than each
                // time; only a power loss or OS crash can lose the last commits.
                .synchronous(SqliteSynchronous::Normal)
                .busy_timeout(SQLITE_BUSY_TIMEOUT)
                // 1 MiB of page cache per connection instead of 2: the operating
                // system caches the file too, and 8 connections' caches were most of
                // what 10k users added to the resident size.
                .pragma("cache_size", "-1024")
                // Checkpoints run in the background (`checkpoint`), not in a commit.
                .pragma("wal_autocheckpoint", checkpoint::BACKSTOP_PAGES)
                .foreign_keys(true);
            #[cfg(unix)]
            if !url.contains("mode=memory") {
                keep_private(options.get_filename());
            }
            let pool = SqlitePoolOptions::new()
                .max_connections(8)
                // A file cannot hang up: the ping sqlx sends before lending an idle
                // connection would only cost a hop to its thread on every statement
                // (sqlx still pings on release, which flushes a queued rollback).
                .test_before_acquire(false)
                .after_release(|conn, _| Box::pin(release_sqlite(conn)))
                .connect_with(options.clone())
                .await?;
            let conn = sqlx::ConnectOptions::connect(&options).await?;
            let kept = std::sync::Arc::new(tokio::sync::Mutex::new(conn));
            checkpoint::spawn(std::sync::Arc::downgrade(&kept));
            keeper = Some(kept);
            Db::Sqlite(pool)
        } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            Db::Postgres(
                PgPoolOptions::new()
                    .max_connections(16)
                    .acquire_timeout(PG_ACQUIRE_TIMEOUT)
                    // Single use (codes, refresh tokens, usernames) rests on conditional
                    // updates and unique keys, which are exact under read committed; a
                    // server-wide `serializable` default would only add retries.
                    .after_connect(|conn, _| {
                        Box::pin(async move {
                            sqlx::Executor::execute(
                                conn,
                                "set session characteristics as transaction isolation level read committed",
                            )
                            .await
                            .map(|_| ())
                        })
                    })
                    .connect(url)
                    .await?,
            )
        } else {
            return Err(StoreError::UnsupportedUrl);
        };
        Ok(Self {
            db,
            _keeper: keeper,
            tx: None,
            caches: Default::default(),
            acquire_wait: Default::default(),
        })
    }

    /// The connection pool's size, idle connections and acquire waits, for `/metrics`.
    pub fn pool_gauges(&self, gauges: &mut crate::metrics::Gauges) {
        let (backend, max, open, idle) = match &self.db {
            Db::Sqlite(p) => (
                "sqlite",
                p.options().get_max_connections(),
                p.size(),
                p.num_idle(),
            ),
            Db::Postgres(p) => (
                "postgres",
                p.options().get_max_connections(),
                p.size(),
                p.num_idle(),
            ),
        };
        gauges.db_backend = backend;
        gauges.db_connections_max = u64::from(max);
        gauges.db_connections_open = u64::from(open);
        gauges.db_connections_idle = idle as u64;
        gauges.db_acquire = Some(self.acquire_wait.clone());
    }

    /// `acquire` (a connection or a transaction from the pool), timed.
    async fn timed<T>(&self, acquire: impl std::future::Future<Output = T>) -> T {
        let started = std::time::Instant::now();
        let out = acquire.await;
        self.acquire_wait.observe(started.elapsed());
        out
    }

    /// A store whose statements all run in one new transaction, for changes that must
    /// land whole or not at all (`cognate apply`): [`Self::commit`] ends it, dropping
    /// it rolls back. On SQLite it holds the write lock until then.
    pub async fn begin(&self) -> Result<Store, StoreError> {
        let tx = match &self.db {
            Db::Sqlite(p) => Tx::Sqlite(self.timed(p.begin()).await?),
            Db::Postgres(p) => Tx::Postgres(self.timed(p.begin()).await?),
        };
        Ok(Store {
            db: self.db.clone(),
            _keeper: self._keeper.clone(),
            tx: Some(std::sync::Arc::new(tokio::sync::Mutex::new(tx))),
            caches: self.caches.clone(),
            acquire_wait: self.acquire_wait.clone(),
        })
    }

    /// Commits the transaction of a store made by [`Self::begin`] (no clone of it may
    /// be left); a store without one has nothing to commit. This instance's caches are
    /// dropped after the commit: whatever the transaction changed is read afresh.
    pub async fn commit(self) -> Result<(), StoreError> {
        let Some(tx) = self.tx else {
            return Ok(());
        };
        let tx = std::sync::Arc::into_inner(tx)
            .ok_or_else(|| StoreError::Corrupt("a transaction committed while in use".into()))?;
        let committed = match tx.into_inner() {
            Tx::Sqlite(t) => t.commit().await,
            Tx::Postgres(t) => t.commit().await,
        };
        self.caches.drop_all();
        Ok(committed?)
    }

    /// Applies pending migrations, including the session table.
    pub async fn migrate(&self) -> Result<(), StoreError> {
        match &self.db {
            Db::Sqlite(p) => sqlx::migrate!("./migrations/sqlite").run(p).await?,
            Db::Postgres(p) => sqlx::migrate!("./migrations/postgres").run(p).await?,
        }
        self.migrate_sessions().await?;
        Ok(())
    }

    /// The database server's clock in epoch seconds (PostgreSQL only: SQLite's clock
    /// is this host's).
    pub async fn database_now(&self) -> Result<Option<i64>, StoreError> {
        const SQL: &str = "select cast(extract(epoch from clock_timestamp()) as bigint)";
        match &self.db {
            Db::Sqlite(_) => Ok(None),
            Db::Postgres(p) => Ok(Some(sqlx::query_scalar(SQL).fetch_one(p).await?)),
        }
    }

    /// True when no user pool exists yet (first start).
    pub async fn is_empty(&self) -> Result<bool, StoreError> {
        const SQL: &str = "select count(*) from user_pools";
        let n: i64 = on_db!(&self.db, |p| sqlx::query_scalar(SQL).fetch_one(p).await)?;
        Ok(n == 0)
    }

    /// Deletes rows that can no longer be used: codes an hour after expiry (kept that long
    /// to recognise replays) and families a day after expiry (the longest access token).
    pub async fn delete_expired(&self, now: i64) -> Result<(), StoreError> {
        const CODES: &str = "delete from auth_codes where expires_at < $1";
        const FAMILIES: &str = "delete from token_families where expires_at < $1";
        on_db!(&self.db, |p| {
            let mut tx = self.timed(p.begin()).await?;
            sqlx::query(CODES)
                .bind(now - 3600)
                .execute(&mut *tx)
                .await?;
            sqlx::query(FAMILIES)
                .bind(now - 86400)
                .execute(&mut *tx)
                .await?;
            tx.commit().await
        })?;
        Ok(())
    }
}
