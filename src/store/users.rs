//! `users`, `user_attributes`.

use std::collections::BTreeMap;

use super::{Store, StoreError, on_db};
use crate::model::users::{NewUser, User, UserStatus};

/// A `users` row; [`UserRow::into_user`] adds its attributes.
#[derive(sqlx::FromRow)]
pub(super) struct UserRow {
    pub(super) user_id: String,
    pool_id: String,
    username: String,
    status: String,
    enabled: bool,
    password_hash: Option<String>,
    created_at: i64,
    updated_at: i64,
    credential_version: i64,
    password_set_at: Option<i64>,
}

/// The columns a new user is inserted with.
pub(super) const INSERT_COLUMNS: &str = "user_id, pool_id, username, status, enabled, password_hash, created_at, updated_at, \
     password_set_at";

/// Inserts the rows of a new user (the user, its attributes, its pending code) inside
/// the caller's transaction `$tx`.
macro_rules! insert_user_rows {
    ($tx:expr, $pool_id:expr, $user_id:expr, $new:expr, $now:expr) => {{
        let new: &crate::model::users::NewUser = $new;
        let sql = format!(
            "insert into users ({}, username_lc) values ($1, $2, $3, $4, $5, $6, $7, $7, $8, $9)",
            $crate::store::users::INSERT_COLUMNS
        );
        sqlx::query(&sql)
            .bind($user_id)
            .bind($pool_id)
            .bind(&new.username)
            .bind(new.status.as_str())
            .bind(true)
            .bind(&new.password_hash)
            .bind($now)
            .bind(new.password_hash.as_ref().map(|_| $now))
            .bind(crate::model::users::username_key(&new.username))
            .execute(&mut **$tx)
            .await?;
        for (name, value) in &new.attributes {
            sqlx::query(
                "insert into user_attributes (user_id, pool_id, name, value) values ($1, $2, $3, $4)",
            )
            .bind($user_id)
            .bind($pool_id)
            .bind(name)
            .bind(value)
            .execute(&mut **$tx)
            .await?;
        }
        if let Some(c) = &new.pending_code {
            sqlx::query(
                "insert into user_codes (user_id, purpose, code_hash, link_hash, attempts, created_at, expires_at) \
                 values ($1, $2, $3, $4, 0, $5, $6)",
            )
            .bind($user_id)
            .bind(c.purpose)
            .bind(&c.code_hash)
            .bind(&c.link_hash)
            .bind($now)
            .bind(c.expires_at)
            .execute(&mut **$tx)
            .await?;
        }
    }};
}
pub(super) use insert_user_rows;

/// Inside the caller's transaction `$tx`, before a new password replaces the current one:
/// keeps the current hash in `password_history` and trims the history to the newest
/// `$keep` (0 empties it), so no more is kept than the pool's policy needs.
macro_rules! remember_password {
    ($tx:expr, $user_id:expr, $keep:expr, $now:expr) => {{
        let keep: i64 = $keep;
        if keep > 0 {
            sqlx::query(
                "insert into password_history (user_id, password_hash, created_at) \
                 select user_id, password_hash, $2 from users \
                 where user_id = $1 and password_hash is not null",
            )
            .bind($user_id)
            .bind($now)
            .execute(&mut *$tx)
            .await?;
        }
        sqlx::query(
            "delete from password_history where user_id = $1 and seq not in \
             (select seq from password_history where user_id = $1 order by seq desc limit $2)",
        )
        .bind($user_id)
        .bind(keep)
        .execute(&mut *$tx)
        .await?;
    }};
}
pub(super) use remember_password;

/// The columns a [`UserRow`] is read from.
pub(super) const COLUMNS: &str = "user_id, pool_id, username, status, enabled, password_hash, \
                                  created_at, updated_at, credential_version, password_set_at";

/// A new password for [`Store::update_password`].
pub struct PasswordChange<'a> {
    pub user_id: &'a str,
    pub password_hash: &'a str,
    /// The sealed SRP verifier; `None` clears it (a pool without SRP).
    pub srp_verifier: Option<&'a [u8]>,
    pub status: UserStatus,
    /// Write only while the user's credential version is still this one (the version a
    /// challenge or a signed-in caller proved the old password at); `None` writes
    /// whatever it is (an administrator).
    pub expected_version: Option<i64>,
    /// A sign-in (`origin_jti`) of the user that survives the change: the caller of
    /// `ChangePassword`, who just proved the old password and chose the new one.
    pub keep_sign_in: Option<&'a str>,
    /// How many replaced passwords to keep for the pool's `PasswordHistorySize` (the
    /// size less one: the new password is the user's own hash).
    pub history_keep: i64,
}

impl Store {
    /// Inserts a user, its attributes and its pending code in one transaction.
    pub async fn insert_user(
        &self,
        pool_id: &str,
        user_id: &str,
        new: &NewUser,
        now: i64,
    ) -> Result<(), StoreError> {
        on_db!(&self.db, |p| {
            let mut tx = self.timed(p.begin()).await?;
            insert_user_rows!(&mut tx, pool_id, user_id, new, now);
            tx.commit().await
        })?;
        Ok(())
    }

    /// Looks a user up by username, case-insensitively.
    pub async fn user_by_name(
        &self,
        pool_id: &str,
        name: &str,
    ) -> Result<Option<User>, StoreError> {
        // No stored name holds a NUL (usernames are validated), and PostgreSQL refuses
        // NUL in text parameters: answer "no such user", not an error.
        if name.contains('\0') {
            return Ok(None);
        }
        let sql = format!(
            "select {COLUMNS}, {} as attributes from users u where pool_id = $1 and username_lc = $2",
            attributes_json(&self.db, "u")
        );
        let row: Option<UserWithAttributes> = on_db!(&self.db, |p| sqlx::query_as(&sql)
            .bind(pool_id)
            .bind(crate::model::users::username_key(name))
            .fetch_optional(p)
            .await)?;
        row.map(UserWithAttributes::into_user).transpose()
    }

    /// Looks a user up by `sub`.
    pub async fn user_by_id(
        &self,
        pool_id: &str,
        user_id: &str,
    ) -> Result<Option<User>, StoreError> {
        let sql = format!(
            "select {COLUMNS}, {} as attributes from users u where pool_id = $1 and user_id = $2",
            attributes_json(&self.db, "u")
        );
        let row: Option<UserWithAttributes> = on_db!(&self.db, |p| sqlx::query_as(&sql)
            .bind(pool_id)
            .bind(user_id)
            .fetch_optional(p)
            .await)?;
        row.map(UserWithAttributes::into_user).transpose()
    }

    /// The users of a pool whose attribute `name` is `value` (case-insensitive).
    pub async fn users_by_attribute(
        &self,
        pool_id: &str,
        name: &str,
        value: &str,
    ) -> Result<Vec<User>, StoreError> {
        const SQL: &str = "select user_id from user_attributes where pool_id = $1 and name = $2 and lower(value) = $3";
        let ids: Vec<String> = on_db!(&self.db, |p| sqlx::query_scalar(SQL)
            .bind(pool_id)
            .bind(name)
            .bind(value.to_lowercase())
            .fetch_all(p)
            .await)?;
        let mut users = Vec::new();
        for id in ids {
            users.extend(self.user_by_id(pool_id, &id).await?);
        }
        Ok(users)
    }

    /// All users of a pool, by username.
    pub async fn users(&self, pool_id: &str) -> Result<Vec<User>, StoreError> {
        let sql = format!(
            "select {COLUMNS}, {} as attributes from users u where pool_id = $1 order by username_lc",
            attributes_json(&self.db, "u")
        );
        let rows: Vec<UserWithAttributes> = on_db!(&self.db, |p| sqlx::query_as(&sql)
            .bind(pool_id)
            .fetch_all(p)
            .await)?;
        rows.into_iter()
            .map(UserWithAttributes::into_user)
            .collect()
    }

    /// Sets a user's status.
    pub async fn update_user_status(
        &self,
        user_id: &str,
        status: UserStatus,
        now: i64,
    ) -> Result<(), StoreError> {
        const SQL: &str = "update users set status = $2, updated_at = $3 where user_id = $1";
        on_db!(&self.db, |p| sqlx::query(SQL)
            .bind(user_id)
            .bind(status.as_str())
            .bind(now)
            .execute(p)
            .await
            .map(|r| r.rows_affected()))?;
        Ok(())
    }

    /// Sets a user's password (hash and SRP verifier) and status, and bumps the
    /// credential version and session epoch in the same statement: every sign-in, hosted
    /// session and pending challenge begun with the old password ends, including one
    /// committing concurrently (it carries the old version). The new version, or `None`
    /// (nothing changed) when `expected_version` is no longer current.
    pub async fn update_password(
        &self,
        change: &PasswordChange<'_>,
        now: i64,
    ) -> Result<Option<i64>, StoreError> {
        // -1 stands for "any version": one statement for both backends, no typed NULL.
        const SQL: &str = "update users set password_hash = $2, srp_verifier = $3, status = $4, \
                           updated_at = $5, password_set_at = $5, session_epoch = session_epoch + 1, \
                           credential_version = credential_version + 1 \
                           where user_id = $1 and ($6 < 0 or credential_version = $6) \
                           returning credential_version";
        // The kept sign-in moves to the new version only from the one just replaced.
        const KEEP: &str = "update token_families set credential_version = $3 \
                            where origin_jti = $1 and user_id = $2 and revoked_at is null \
                            and credential_version = $3 - 1";
        on_db!(&self.db, |p| {
            let mut tx = self.timed(p.begin()).await?;
            // Rolled back with the rest when the version no longer matches.
            remember_password!(tx, change.user_id, change.history_keep, now);
            let version: Option<i64> = sqlx::query_scalar(SQL)
                .bind(change.user_id)
                .bind(change.password_hash)
                .bind(change.srp_verifier)
                .bind(change.status.as_str())
                .bind(now)
                .bind(change.expected_version.unwrap_or(-1))
                .fetch_optional(&mut *tx)
                .await?;
            let Some(version) = version else {
                return Ok(None);
            };
            if let Some(origin_jti) = change.keep_sign_in {
                sqlx::query(KEEP)
                    .bind(origin_jti)
                    .bind(change.user_id)
                    .bind(version)
                    .execute(&mut *tx)
                    .await?;
            }
            tx.commit().await?;
            Ok(Some(version))
        })
    }

    /// The hashes of the user's newest `limit` replaced passwords, newest first.
    pub async fn password_history(
        &self,
        user_id: &str,
        limit: i64,
    ) -> Result<Vec<String>, StoreError> {
        const SQL: &str = "select password_hash from password_history where user_id = $1 \
                           order by seq desc limit $2";
        let hashes = on_db!(&self.db, |p| sqlx::query_scalar(SQL)
            .bind(user_id)
            .bind(limit)
            .fetch_all(p)
            .await)?;
        Ok(hashes)
    }

    /// An administrator's password reset (`AdminResetUserPassword`): the user must set
    /// a new password by code, and every sign-in and pending challenge begun with the
    /// old one ends (the credential version and session epoch are bumped).
    pub async fn require_password_reset(&self, user_id: &str, now: i64) -> Result<(), StoreError> {
        const SQL: &str = "update users set status = 'RESET_REQUIRED', updated_at = $2, \
                           session_epoch = session_epoch + 1, \
                           credential_version = credential_version + 1 where user_id = $1";
        on_db!(&self.db, |p| sqlx::query(SQL)
            .bind(user_id)
            .bind(now)
            .execute(p)
            .await
            .map(|r| r.rows_affected()))?;
        Ok(())
    }

    /// A counter bumped whenever the user is signed out everywhere (a new password,
    /// global sign-out, disabling): a hosted-UI session is valid only while the value
    /// it started with is current. `None` for a user that does not exist.
    pub async fn session_epoch(&self, user_id: &str) -> Result<Option<i64>, StoreError> {
        const SQL: &str = "select session_epoch from users where user_id = $1";
        let epoch = on_db!(&self.db, |p| sqlx::query_scalar(SQL)
            .bind(user_id)
            .fetch_optional(p)
            .await)?;
        Ok(epoch)
    }

    /// Replaces the hash `old_hash` of the same password with `new_hash` (and the SRP
    /// verifier it could not give): no version changes, since the password is the same;
    /// nothing happens when the password changed meanwhile. Whether it was replaced.
    pub async fn upgrade_password_hash(
        &self,
        user_id: &str,
        old_hash: &str,
        new_hash: &str,
        srp_verifier: Option<&[u8]>,
    ) -> Result<bool, StoreError> {
        const SQL: &str = "update users set password_hash = $3, srp_verifier = $4 \
                           where user_id = $1 and password_hash = $2";
        let n = on_db!(&self.db, |p| sqlx::query(SQL)
            .bind(user_id)
            .bind(old_hash)
            .bind(new_hash)
            .bind(srp_verifier)
            .execute(p)
            .await
            .map(|r| r.rows_affected()))?;
        Ok(n == 1)
    }

    /// Stores a user's sealed SRP verifier (`None` clears it).
    pub async fn set_srp_verifier(
        &self,
        user_id: &str,
        sealed: Option<&[u8]>,
    ) -> Result<(), StoreError> {
        const SQL: &str = "update users set srp_verifier = $2 where user_id = $1";
        on_db!(&self.db, |p| sqlx::query(SQL)
            .bind(user_id)
            .bind(sealed)
            .execute(p)
            .await
            .map(|r| r.rows_affected()))?;
        Ok(())
    }

    /// A user's sealed SRP verifier.
    pub async fn srp_verifier(&self, user_id: &str) -> Result<Option<Vec<u8>>, StoreError> {
        const SQL: &str = "select srp_verifier from users where user_id = $1";
        let v: Option<Option<Vec<u8>>> = on_db!(&self.db, |p| sqlx::query_scalar(SQL)
            .bind(user_id)
            .fetch_optional(p)
            .await)?;
        Ok(v.flatten())
    }

    /// Sets one attribute.
    pub async fn set_attribute(
        &self,
        pool_id: &str,
        user_id: &str,
        name: &str,
        value: &str,
    ) -> Result<(), StoreError> {
        const SQL: &str = "insert into user_attributes (user_id, pool_id, name, value) values ($1, $2, $3, $4) \
                           on conflict (user_id, name) do update set value = excluded.value";
        on_db!(&self.db, |p| sqlx::query(SQL)
            .bind(user_id)
            .bind(pool_id)
            .bind(name)
            .bind(value)
            .execute(p)
            .await
            .map(|r| r.rows_affected()))?;
        Ok(())
    }

    /// Deletes a user with everything that belongs to it.
    pub async fn delete_user(&self, user_id: &str) -> Result<(), StoreError> {
        const SQL: &str = "delete from users where user_id = $1";
        on_db!(&self.db, |p| sqlx::query(SQL)
            .bind(user_id)
            .execute(p)
            .await
            .map(|r| r.rows_affected()))?;
        Ok(())
    }
}

/// The attributes of the user `alias.user_id` as [`super::json_rows`] (name, value).
pub(super) fn attributes_json(db: &super::Db, alias: &str) -> String {
    super::json_rows(
        db,
        "a.name, a.value",
        &format!("from user_attributes a where a.user_id = {alias}.user_id"),
        "a.name",
    )
}

/// A `users` row with its attributes in one (`attributes_json`).
#[derive(sqlx::FromRow)]
pub(super) struct UserWithAttributes {
    #[sqlx(flatten)]
    pub(super) row: UserRow,
    pub(super) attributes: String,
}

impl UserWithAttributes {
    pub(super) fn into_user(self) -> Result<User, StoreError> {
        let pairs: Vec<(String, String)> = serde_json::from_str(&self.attributes)
            .map_err(|e| StoreError::Corrupt(format!("user attributes: {e}")))?;
        self.row.into_user(pairs.into_iter().collect())
    }
}

impl UserRow {
    /// The user this row holds, with its attributes.
    pub(super) fn into_user(
        self,
        attributes: BTreeMap<String, String>,
    ) -> Result<User, StoreError> {
        let status = UserStatus::parse(&self.status)
            .ok_or_else(|| StoreError::Corrupt(format!("user status {:?}", self.status)))?;
        Ok(User {
            user_id: self.user_id,
            pool_id: self.pool_id,
            username: self.username,
            status,
            enabled: self.enabled,
            password_hash: self.password_hash,
            attributes,
            created_at: self.created_at,
            updated_at: self.updated_at,
            credential_version: self.credential_version,
            password_set_at: self.password_set_at,
        })
    }
}
