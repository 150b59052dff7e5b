//! Hosted-UI sessions in the same database as everything else, so any instance behind
//! a load balancer serves any browser. tower-sessions has one store per backend; this
//! enum puts both behind one type so the router's type does not depend on the backend.

use async_trait::async_trait;
use tower_sessions::session::{Id, Record};
use tower_sessions::session_store::{self, SessionStore};
use tower_sessions_sqlx_store::{PostgresStore, SqliteStore};

use super::{Db, Store, StoreError};

/// Session store over whichever database the server uses.
#[derive(Clone, Debug)]
pub enum Sessions {
    Sqlite(SqliteStore),
    Postgres(PostgresStore),
}

impl Store {
    /// The session store for this database.
    pub fn session_store(&self) -> Sessions {
        match &self.db {
            Db::Sqlite(p) => Sessions::Sqlite(SqliteStore::new(p.clone())),
            Db::Postgres(p) => Sessions::Postgres(PostgresStore::new(p.clone())),
        }
    }
}

impl Sessions {
    /// Creates the session table if missing.
    pub async fn migrate(&self) -> Result<(), StoreError> {
        match self {
            Sessions::Sqlite(s) => s.migrate().await?,
            Sessions::Postgres(s) => s.migrate().await?,
        }
        Ok(())
    }

    /// Removes expired sessions.
    pub async fn delete_expired(&self) -> session_store::Result<()> {
        use tower_sessions::ExpiredDeletion;
        match self {
            Sessions::Sqlite(s) => s.delete_expired().await,
            Sessions::Postgres(s) => s.delete_expired().await,
        }
    }
}

#[async_trait]
impl SessionStore for Sessions {
    async fn create(&self, record: &mut Record) -> session_store::Result<()> {
        match self {
            Sessions::Sqlite(s) => s.create(record).await,
            Sessions::Postgres(s) => s.create(record).await,
        }
    }

    async fn save(&self, record: &Record) -> session_store::Result<()> {
        match self {
            Sessions::Sqlite(s) => s.save(record).await,
            Sessions::Postgres(s) => s.save(record).await,
        }
    }

    async fn load(&self, id: &Id) -> session_store::Result<Option<Record>> {
        match self {
            Sessions::Sqlite(s) => s.load(id).await,
            Sessions::Postgres(s) => s.load(id).await,
        }
    }

    async fn delete(&self, id: &Id) -> session_store::Result<()> {
        match self {
            Sessions::Sqlite(s) => s.delete(id).await,
            Sessions::Postgres(s) => s.delete(id).await,
        }
    }
}
