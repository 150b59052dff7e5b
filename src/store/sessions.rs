//! Hosted-UI sessions in the same database as everything else, so any instance behind
//! a load balancer serves any browser. tower-sessions has one store per backend; this
//! puts both behind one type so the router's type does not depend on the backend.
//!
//! The cookie carries the session id; the row is keyed by a keyed digest of it
//! ([`Secret::SessionId`]), so a reader of the database (a backup, a replica) finds no
//! value that a browser could present.

use async_trait::async_trait;
use tower_sessions::session::{Id, Record};
use tower_sessions::session_store::{self, SessionStore};
use tower_sessions_sqlx_store::{PostgresStore, SqliteStore};

use super::{Db, Store, StoreError};
use crate::crypto::{Digests, Secret};

/// Session store over whichever database the server uses.
#[derive(Clone, Debug)]
pub struct Sessions {
    backend: Backend,
    digests: Digests,
}

#[derive(Clone, Debug)]
enum Backend {
    Sqlite(SqliteStore),
    Postgres(PostgresStore),
}

impl Store {
    /// The session store for this database, keying rows with `digests`.
    pub fn session_store(&self, digests: &Digests) -> Sessions {
        Sessions {
            backend: self.session_backend(),
            digests: digests.clone(),
        }
    }

    fn session_backend(&self) -> Backend {
        match &self.db {
            Db::Sqlite(p) => Backend::Sqlite(SqliteStore::new(p.clone())),
            Db::Postgres(p) => Backend::Postgres(PostgresStore::new(p.clone())),
        }
    }

    /// Creates the session table if missing.
    pub(super) async fn migrate_sessions(&self) -> Result<(), StoreError> {
        match self.session_backend() {
            Backend::Sqlite(s) => s.migrate().await?,
            Backend::Postgres(s) => s.migrate().await?,
        }
        Ok(())
    }

    /// The session table of this database.
    pub(super) fn session_table(&self) -> &'static str {
        match &self.db {
            Db::Sqlite(_) => "tower_sessions",
            Db::Postgres(_) => "tower_sessions.session",
        }
    }
}

impl Sessions {
    /// Removes expired sessions.
    pub async fn delete_expired(&self) -> session_store::Result<()> {
        use tower_sessions::ExpiredDeletion;
        match &self.backend {
            Backend::Sqlite(s) => s.delete_expired().await,
            Backend::Postgres(s) => s.delete_expired().await,
        }
    }

    /// The id of the row holding session `id`: 128 bits of its keyed digest, the size
    /// of a session id.
    fn row_id(&self, id: &Id) -> Id {
        let digest = self
            .digests
            .secret_bytes(Secret::SessionId, &id.to_string());
        let mut half = [0u8; 16];
        half.copy_from_slice(&digest[..16]);
        Id(i128::from_le_bytes(half))
    }

    async fn delete_row(&self, row_id: &Id) -> session_store::Result<()> {
        match &self.backend {
            Backend::Sqlite(s) => s.delete(row_id).await,
            Backend::Postgres(s) => s.delete(row_id).await,
        }
    }

    /// `record` as stored: under its row id (the serialised record repeats the id).
    fn stored(&self, record: &Record) -> Record {
        Record {
            id: self.row_id(&record.id),
            ..record.clone()
        }
    }
}

#[async_trait]
impl SessionStore for Sessions {
    async fn create(&self, record: &mut Record) -> session_store::Result<()> {
        loop {
            let mut stored = self.stored(record);
            let row_id = stored.id;
            match &self.backend {
                Backend::Sqlite(s) => s.create(&mut stored).await?,
                Backend::Postgres(s) => s.create(&mut stored).await?,
            }
            if stored.id == row_id {
                return Ok(());
            }
            // The row id was taken (the backend stored the record under a random id
            // instead, whose session id nobody knows): drop it and try another id.
            self.delete_row(&stored.id).await?;
            record.id = Id::default();
        }
    }

    async fn save(&self, record: &Record) -> session_store::Result<()> {
        let stored = self.stored(record);
        match &self.backend {
            Backend::Sqlite(s) => s.save(&stored).await,
            Backend::Postgres(s) => s.save(&stored).await,
        }
    }

    async fn load(&self, id: &Id) -> session_store::Result<Option<Record>> {
        let row_id = self.row_id(id);
        let loaded = match &self.backend {
            Backend::Sqlite(s) => s.load(&row_id).await?,
            Backend::Postgres(s) => s.load(&row_id).await?,
        };
        Ok(loaded.map(|record| Record { id: *id, ..record }))
    }

    async fn delete(&self, id: &Id) -> session_store::Result<()> {
        self.delete_row(&self.row_id(id)).await
    }
}

/// The session store's backend (the database) failed: the database is unavailable for a
/// while (see `AppError::is_transient`), not a bug.
#[derive(Debug, thiserror::Error)]
#[error("session store: {0}")]
pub struct StoreUnavailable(pub String);
