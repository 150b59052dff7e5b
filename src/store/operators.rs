//! `console_operators` and `console_sessions`: the admin console's own accounts and
//! their signed-in browsers. Secrets arrive sealed or digested; the one-time rule for
//! TOTP codes is a conditional update, as for users' codes.

use super::{Store, StoreError, on_db};

/// A console operator's row.
#[derive(Clone, sqlx::FromRow)]
pub struct OperatorRow {
    pub operator_id: String,
    pub name: String,
    pub password_hash: String,
    /// The authenticator key, sealed with the master key (base64).
    pub totp_secret: String,
    pub created_at: i64,
    pub last_sign_in_at: Option<i64>,
}

/// Shows no secret.
impl std::fmt::Debug for OperatorRow {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OperatorRow")
            .field("operator_id", &self.operator_id)
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

/// A console session with its operator's name.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct ConsoleSessionRow {
    pub operator_id: String,
    pub name: String,
    pub created_at: i64,
    pub seen_at: i64,
    pub reauth_at: i64,
}

const COLUMNS: &str = "operator_id, name, password_hash, totp_secret, created_at, last_sign_in_at";

impl Store {
    /// Adds an operator; `Conflict` if the name (case-insensitive) is taken.
    pub async fn insert_operator(
        &self,
        row: &OperatorRow,
        name_lc: &str,
    ) -> Result<(), StoreError> {
        const SQL: &str = "insert into console_operators (operator_id, name, name_lc, \
                           password_hash, totp_secret, created_at) values ($1, $2, $3, $4, $5, $6)";
        on_db!(&self.db, |p| sqlx::query(SQL)
            .bind(&row.operator_id)
            .bind(&row.name)
            .bind(name_lc)
            .bind(&row.password_hash)
            .bind(&row.totp_secret)
            .bind(row.created_at)
            .execute(p)
            .await
            .map(|_| ()))?;
        Ok(())
    }

    /// The operator named `name_lc` (lower case).
    pub async fn operator_by_name(&self, name_lc: &str) -> Result<Option<OperatorRow>, StoreError> {
        let sql = format!("select {COLUMNS} from console_operators where name_lc = $1");
        let row = on_db!(&self.db, |p| sqlx::query_as(&sql)
            .bind(name_lc)
            .fetch_optional(p)
            .await)?;
        Ok(row)
    }

    /// The operator with this id.
    pub async fn operator_by_id(
        &self,
        operator_id: &str,
    ) -> Result<Option<OperatorRow>, StoreError> {
        let sql = format!("select {COLUMNS} from console_operators where operator_id = $1");
        let row = on_db!(&self.db, |p| sqlx::query_as(&sql)
            .bind(operator_id)
            .fetch_optional(p)
            .await)?;
        Ok(row)
    }

    /// Every operator, by name.
    pub async fn operators(&self) -> Result<Vec<OperatorRow>, StoreError> {
        let sql = format!("select {COLUMNS} from console_operators order by name_lc");
        let rows = on_db!(&self.db, |p| sqlx::query_as(&sql).fetch_all(p).await)?;
        Ok(rows)
    }

    /// Deletes the operator named `name_lc` and its sessions; false if none.
    pub async fn delete_operator(&self, name_lc: &str) -> Result<bool, StoreError> {
        const SESSIONS: &str = "delete from console_sessions where operator_id in \
                                (select operator_id from console_operators where name_lc = $1)";
        const SQL: &str = "delete from console_operators where name_lc = $1";
        let n = on_db!(&self.db, |p| async {
            let mut tx = p.begin().await?;
            sqlx::query(SESSIONS)
                .bind(name_lc)
                .execute(&mut *tx)
                .await?;
            let n = sqlx::query(SQL)
                .bind(name_lc)
                .execute(&mut *tx)
                .await?
                .rows_affected();
            tx.commit().await?;
            Ok::<_, sqlx::Error>(n)
        }
        .await)?;
        Ok(n == 1)
    }

    /// Records that a code for `step` was accepted; false if that step or a later one
    /// already was (the code was used).
    pub async fn use_operator_totp_step(
        &self,
        operator_id: &str,
        step: i64,
    ) -> Result<bool, StoreError> {
        const SQL: &str = "update console_operators set totp_last_step = $2 \
                           where operator_id = $1 and totp_last_step < $2";
        let n = on_db!(&self.db, |p| sqlx::query(SQL)
            .bind(operator_id)
            .bind(step)
            .execute(p)
            .await
            .map(|r| r.rows_affected()))?;
        Ok(n == 1)
    }

    /// Starts a console session for the operator, signed in at `now`.
    pub async fn insert_console_session(
        &self,
        digest: &str,
        operator_id: &str,
        now: i64,
    ) -> Result<(), StoreError> {
        const SQL: &str = "insert into console_sessions (session_digest, operator_id, created_at, \
                           seen_at, reauth_at) values ($1, $2, $3, $3, $3)";
        const SIGN_IN: &str =
            "update console_operators set last_sign_in_at = $2 where operator_id = $1";
        on_db!(&self.db, |p| async {
            let mut tx = p.begin().await?;
            sqlx::query(SQL)
                .bind(digest)
                .bind(operator_id)
                .bind(now)
                .execute(&mut *tx)
                .await?;
            sqlx::query(SIGN_IN)
                .bind(operator_id)
                .bind(now)
                .execute(&mut *tx)
                .await?;
            tx.commit().await
        }
        .await)?;
        Ok(())
    }

    /// The session stored under `digest`, with its operator, if both exist.
    pub async fn console_session(
        &self,
        digest: &str,
    ) -> Result<Option<ConsoleSessionRow>, StoreError> {
        const SQL: &str = "select s.operator_id, o.name, s.created_at, s.seen_at, s.reauth_at \
                           from console_sessions s join console_operators o \
                           on o.operator_id = s.operator_id where s.session_digest = $1";
        let row = on_db!(&self.db, |p| sqlx::query_as(SQL)
            .bind(digest)
            .fetch_optional(p)
            .await)?;
        Ok(row)
    }

    /// Marks the session as used at `now` (the idle timeout starts again).
    pub async fn touch_console_session(&self, digest: &str, now: i64) -> Result<(), StoreError> {
        const SQL: &str = "update console_sessions set seen_at = $2 where session_digest = $1";
        on_db!(&self.db, |p| sqlx::query(SQL)
            .bind(digest)
            .bind(now)
            .execute(p)
            .await
            .map(|_| ()))?;
        Ok(())
    }

    /// Records a re-authentication at `now`.
    pub async fn reauth_console_session(&self, digest: &str, now: i64) -> Result<(), StoreError> {
        const SQL: &str =
            "update console_sessions set reauth_at = $2, seen_at = $2 where session_digest = $1";
        on_db!(&self.db, |p| sqlx::query(SQL)
            .bind(digest)
            .bind(now)
            .execute(p)
            .await
            .map(|_| ()))?;
        Ok(())
    }

    /// Ends the session under `digest`, and every session idle since `idle_before` or
    /// started before `started_before` (stale ones, whoever's).
    pub async fn delete_console_session(
        &self,
        digest: &str,
        idle_before: i64,
        started_before: i64,
    ) -> Result<(), StoreError> {
        const SQL: &str = "delete from console_sessions where session_digest = $1 \
                           or seen_at < $2 or created_at < $3";
        on_db!(&self.db, |p| sqlx::query(SQL)
            .bind(digest)
            .bind(idle_before)
            .bind(started_before)
            .execute(p)
            .await
            .map(|_| ()))?;
        Ok(())
    }
}
