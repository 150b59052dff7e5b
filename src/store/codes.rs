//! `user_codes`: one live code per user and purpose, stored hashed, consumed by a
//! single conditional `delete … returning`.

use super::{Store, StoreError, on_db};

/// Inside a confirmation's transaction `$tx`: marks the unconfirmed user `$user_id` of
/// `$pool_id` confirmed with a verified email; evaluates to false if there was no such
/// user. A macro because it runs on either backend's transaction.
macro_rules! confirm_in {
    ($tx:expr, $user_id:expr, $pool_id:expr, $now:expr) => {{
        const CONFIRM: &str = "update users set status = 'CONFIRMED', updated_at = $2 \
                               where user_id = $1 and pool_id = $3 and status = 'UNCONFIRMED' \
                               returning user_id";
        const VERIFIED: &str = "insert into user_attributes (user_id, pool_id, name, value) \
                                values ($1, $2, 'email_verified', 'true') \
                                on conflict (user_id, name) do update set value = excluded.value";
        let confirmed: Option<String> = sqlx::query_scalar(CONFIRM)
            .bind($user_id)
            .bind($now)
            .bind($pool_id)
            .fetch_optional(&mut *$tx)
            .await?;
        if confirmed.is_some() {
            sqlx::query(VERIFIED)
                .bind($user_id)
                .bind($pool_id)
                .execute(&mut *$tx)
                .await?;
        }
        confirmed.is_some()
    }};
}

/// A stored code's state, for deciding why a presented code failed.
#[derive(Debug, sqlx::FromRow)]
pub struct CodeRow {
    pub code_hash: String,
    pub attempts: i64,
    pub expires_at: i64,
}

impl Store {
    /// Stores a new code for `(user, purpose)`, sent to `destination`, replacing any
    /// earlier one.
    #[expect(
        clippy::too_many_arguments,
        reason = "one row's columns; a struct would only rename them"
    )]
    pub async fn replace_code(
        &self,
        user_id: &str,
        purpose: &str,
        code_hash: &str,
        link_hash: Option<&str>,
        destination: &str,
        now: i64,
        expires_at: i64,
    ) -> Result<(), StoreError> {
        const DELETE: &str = "delete from user_codes where user_id = $1 and purpose = $2";
        const INSERT: &str = "insert into user_codes (user_id, purpose, code_hash, link_hash, attempts, created_at, expires_at, destination) \
                              values ($1, $2, $3, $4, 0, $5, $6, $7)";
        on_db!(&self.db, |p| {
            let mut tx = self.timed(p.begin()).await?;
            sqlx::query(DELETE)
                .bind(user_id)
                .bind(purpose)
                .execute(&mut *tx)
                .await?;
            sqlx::query(INSERT)
                .bind(user_id)
                .bind(purpose)
                .bind(code_hash)
                .bind(link_hash)
                .bind(now)
                .bind(expires_at)
                .bind(destination)
                .execute(&mut *tx)
                .await?;
            tx.commit().await
        })?;
        Ok(())
    }

    /// Deletes the code of `(user, purpose)` if it is still `code_hash`; whether it was.
    pub async fn delete_code(
        &self,
        user_id: &str,
        purpose: &str,
        code_hash: &str,
    ) -> Result<bool, StoreError> {
        const SQL: &str =
            "delete from user_codes where user_id = $1 and purpose = $2 and code_hash = $3";
        let n = on_db!(&self.db, |p| sqlx::query(SQL)
            .bind(user_id)
            .bind(purpose)
            .bind(code_hash)
            .execute(p)
            .await
            .map(|r| r.rows_affected()))?;
        Ok(n == 1)
    }

    /// The stored code of `(user, purpose)`, without counting an attempt.
    pub async fn user_code(
        &self,
        user_id: &str,
        purpose: &str,
    ) -> Result<Option<CodeRow>, StoreError> {
        const SQL: &str = "select code_hash, attempts, expires_at from user_codes where user_id = $1 and purpose = $2";
        let row = on_db!(&self.db, |p| sqlx::query_as(SQL)
            .bind(user_id)
            .bind(purpose)
            .fetch_optional(p)
            .await)?;
        Ok(row)
    }

    /// Counts an attempt at the code of `(user, purpose)` if fewer than `limit` were
    /// counted, and returns the code as it is after counting; `None` if there is no
    /// code or no attempt left. One statement, so concurrent attempts (on any instance)
    /// are counted one by one and never more than `limit` are let through to compare.
    pub async fn attempt_code(
        &self,
        user_id: &str,
        purpose: &str,
        limit: i64,
    ) -> Result<Option<CodeRow>, StoreError> {
        const SQL: &str = "update user_codes set attempts = attempts + 1 \
                           where user_id = $1 and purpose = $2 and attempts < $3 \
                           returning code_hash, attempts, expires_at";
        let row = on_db!(&self.db, |p| sqlx::query_as(SQL)
            .bind(user_id)
            .bind(purpose)
            .bind(limit)
            .fetch_optional(p)
            .await)?;
        Ok(row)
    }

    /// [`Store::attempt_code`] for a stand-in code kept in `throttles` under `key`
    /// (`failures` is one more than its attempts, `blocked_until` its expiry): starts
    /// it, expiring at `expires_at`, when it does not exist. Returns its attempts and
    /// expiry after counting; `None` if it had no attempt left.
    pub async fn attempt_stand_in(
        &self,
        key: &str,
        now: i64,
        expires_at: i64,
        limit: i64,
    ) -> Result<Option<(i64, i64)>, StoreError> {
        const SQL: &str = "insert into throttles (throttle_key, failures, first_at, blocked_until) \
                           values ($1, 2, $2, $3) \
                           on conflict (throttle_key) do update set failures = throttles.failures + 1 \
                           where throttles.failures <= $4 \
                           returning failures - 1, blocked_until";
        let row = on_db!(&self.db, |p| sqlx::query_as(SQL)
            .bind(key)
            .bind(now)
            .bind(expires_at)
            .bind(limit)
            .fetch_optional(p)
            .await)?;
        Ok(row)
    }

    /// Verifies the email address of `user_id` with its code, in one transaction: the
    /// code is consumed and `email_verified` set, only while the address is still the
    /// one the code was sent to, or nothing happens (false). A code sent to the user's
    /// pending address (`pending_attributes`) makes it the address, verified. The address's row is
    /// locked first, so a concurrent change of address waits for this and unverifies
    /// after it, never the other way round.
    pub async fn verify_email(
        &self,
        pool_id: &str,
        user_id: &str,
        purpose: &str,
        code_hash: &str,
        now: i64,
    ) -> Result<bool, StoreError> {
        const CONSUME: &str = "delete from user_codes where user_id = $1 and purpose = $2 \
                               and code_hash = $3 returning destination";
        // A no-op write: takes the row lock, and (PostgreSQL) re-reads a row changed
        // concurrently before matching it.
        const STILL: &str = "update user_attributes set value = value \
                             where user_id = $1 and name = 'email' and value = $2 returning user_id";
        const VERIFIED: &str = "insert into user_attributes (user_id, pool_id, name, value) \
                                values ($1, $2, 'email_verified', 'true') \
                                on conflict (user_id, name) do update set value = excluded.value";
        const PENDING: &str = "delete from pending_attributes \
                               where user_id = $1 and name = 'email' and value = $2 returning value";
        const REPLACE: &str = "insert into user_attributes (user_id, pool_id, name, value) \
                               values ($1, $2, 'email', $3) \
                               on conflict (user_id, name) do update set value = excluded.value";
        const TOUCH: &str = "update users set updated_at = $2 where user_id = $1";
        on_db!(&self.db, |p| {
            let mut tx = self.timed(p.begin()).await?;
            let destination: Option<Option<String>> = sqlx::query_scalar(CONSUME)
                .bind(user_id)
                .bind(purpose)
                .bind(code_hash)
                .fetch_optional(&mut *tx)
                .await?;
            let Some(Some(destination)) = destination else {
                return Ok(false);
            };
            let still: Option<String> = sqlx::query_scalar(STILL)
                .bind(user_id)
                .bind(&destination)
                .fetch_optional(&mut *tx)
                .await?;
            if still.is_none() {
                // A change held until verified: the proven address replaces the old one.
                let pending: Option<String> = sqlx::query_scalar(PENDING)
                    .bind(user_id)
                    .bind(&destination)
                    .fetch_optional(&mut *tx)
                    .await?;
                if pending.is_none() {
                    return Ok(false);
                }
                sqlx::query(REPLACE)
                    .bind(user_id)
                    .bind(pool_id)
                    .bind(&destination)
                    .execute(&mut *tx)
                    .await?;
            }
            sqlx::query(VERIFIED)
                .bind(user_id)
                .bind(pool_id)
                .execute(&mut *tx)
                .await?;
            sqlx::query(TOUCH)
                .bind(user_id)
                .bind(now)
                .execute(&mut *tx)
                .await?;
            tx.commit().await?;
            Ok(true)
        })
    }

    /// Confirms a sign-up with its code, in one transaction: the code is consumed, the
    /// user confirmed and the email marked verified, or nothing happens (a crash in
    /// between never leaves the code used up and the user unconfirmed). False if the
    /// code is no longer the one presented (used concurrently) or the user is not
    /// unconfirmed any more.
    pub async fn confirm_user(
        &self,
        pool_id: &str,
        user_id: &str,
        code_hash: &str,
        now: i64,
    ) -> Result<bool, StoreError> {
        const CONSUME: &str = "delete from user_codes where user_id = $1 and purpose = 'signup' \
                               and code_hash = $2 returning user_id";
        on_db!(&self.db, |p| {
            let mut tx = self.timed(p.begin()).await?;
            let consumed: Option<String> = sqlx::query_scalar(CONSUME)
                .bind(user_id)
                .bind(code_hash)
                .fetch_optional(&mut *tx)
                .await?;
            if consumed.is_none() || !confirm_in!(tx, user_id, pool_id, now) {
                return Ok(false);
            }
            tx.commit().await?;
            Ok(true)
        })
    }

    /// Confirms a sign-up from its one-click link (live, of a user of `pool_id`), in
    /// one transaction like [`Store::confirm_user`]; the user it confirmed.
    pub async fn confirm_user_by_link(
        &self,
        pool_id: &str,
        link_hash: &str,
        now: i64,
    ) -> Result<Option<String>, StoreError> {
        const CONSUME: &str = "delete from user_codes where link_hash = $1 and purpose = 'signup' \
                               and expires_at > $2 returning user_id";
        on_db!(&self.db, |p| {
            let mut tx = self.timed(p.begin()).await?;
            let consumed: Option<String> = sqlx::query_scalar(CONSUME)
                .bind(link_hash)
                .bind(now)
                .fetch_optional(&mut *tx)
                .await?;
            let Some(user_id) = consumed else {
                return Ok(None);
            };
            if !confirm_in!(tx, &user_id, pool_id, now) {
                return Ok(None);
            }
            tx.commit().await?;
            Ok(Some(user_id))
        })
    }

    /// Finishes a password reset in one transaction: consumes the reset code, sets the
    /// new password hash (and SRP verifier, `None` clearing it), confirms the user, ends
    /// its hosted-UI sessions and revokes its refresh-token families. False (nothing
    /// changed) if the code is no longer the one presented.
    pub async fn reset_password(
        &self,
        user_id: &str,
        code_hash: &str,
        password_hash: &str,
        srp_verifier: Option<&[u8]>,
        history_keep: i64,
        now: i64,
    ) -> Result<bool, StoreError> {
        const CONSUME: &str = "delete from user_codes where user_id = $1 and purpose = 'reset' \
                               and code_hash = $2 returning user_id";
        const PASSWORD: &str = "update users set password_hash = $2, srp_verifier = $3, \
                                status = 'CONFIRMED', updated_at = $4, password_set_at = $4, \
                                session_epoch = session_epoch + 1, \
                                credential_version = credential_version + 1 where user_id = $1";
        const REVOKE: &str =
            "update token_families set revoked_at = $2 where user_id = $1 and revoked_at is null";
        on_db!(&self.db, |p| {
            let mut tx = self.timed(p.begin()).await?;
            let consumed: Option<String> = sqlx::query_scalar(CONSUME)
                .bind(user_id)
                .bind(code_hash)
                .fetch_optional(&mut *tx)
                .await?;
            if consumed.is_none() {
                return Ok(false);
            }
            super::users::remember_password!(tx, user_id, history_keep, now);
            sqlx::query(PASSWORD)
                .bind(user_id)
                .bind(password_hash)
                .bind(srp_verifier)
                .bind(now)
                .execute(&mut *tx)
                .await?;
            sqlx::query(REVOKE)
                .bind(user_id)
                .bind(now)
                .execute(&mut *tx)
                .await?;
            tx.commit().await?;
            Ok(true)
        })
    }
}
