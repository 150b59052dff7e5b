//! `user_mfa`: a user's second factors. Secrets arrive and leave sealed; the one-time
//! rule for TOTP codes is a conditional update, so two instances cannot both accept
//! the same code.

use super::{Store, StoreError, on_db};

/// A user's `user_mfa` row.
#[derive(Clone, Default, sqlx::FromRow)]
pub struct MfaRow {
    pub totp_secret: Option<String>,
    pub totp_pending: Option<String>,
    pub totp_last_step: i64,
    pub totp_enabled: bool,
    pub email_enabled: bool,
    pub preferred: Option<String>,
}

/// Shows no secret.
impl std::fmt::Debug for MfaRow {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MfaRow")
            .field("totp_verified", &self.totp_secret.is_some())
            .field("totp_enabled", &self.totp_enabled)
            .field("email_enabled", &self.email_enabled)
            .field("preferred", &self.preferred)
            .finish_non_exhaustive()
    }
}

impl Store {
    /// The user's factors (none: the default row).
    pub async fn user_mfa(&self, user_id: &str) -> Result<MfaRow, StoreError> {
        const SQL: &str = "select totp_secret, totp_pending, totp_last_step, totp_enabled, \
                           email_enabled, preferred from user_mfa where user_id = $1";
        let row: Option<MfaRow> = on_db!(&self.db, |p| sqlx::query_as(SQL)
            .bind(user_id)
            .fetch_optional(p)
            .await)?;
        Ok(row.unwrap_or_default())
    }

    /// Keeps `sealed` as the user's unproven authenticator key, replacing any earlier
    /// unproven one; the verified key, if any, stays in use until a code proves this one.
    pub async fn set_totp_pending(
        &self,
        pool_id: &str,
        user_id: &str,
        sealed: &str,
    ) -> Result<(), StoreError> {
        const SQL: &str = "insert into user_mfa (user_id, pool_id, totp_pending) values ($1, $2, $3) \
                           on conflict (user_id) do update set totp_pending = excluded.totp_pending";
        on_db!(&self.db, |p| sqlx::query(SQL)
            .bind(user_id)
            .bind(pool_id)
            .bind(sealed)
            .execute(p)
            .await
            .map(|_| ()))?;
        Ok(())
    }

    /// Makes the unproven key `pending` (as read) the user's authenticator, with the
    /// step its first code was for; `enable` turns TOTP on as well. False if the
    /// pending key changed meanwhile.
    pub async fn promote_totp(
        &self,
        user_id: &str,
        pending: &str,
        step: i64,
        enable: bool,
    ) -> Result<bool, StoreError> {
        const SQL: &str = "update user_mfa set totp_secret = totp_pending, totp_pending = null, \
                           totp_last_step = $3, totp_enabled = (totp_enabled or $4) \
                           where user_id = $1 and totp_pending = $2";
        let n = on_db!(&self.db, |p| sqlx::query(SQL)
            .bind(user_id)
            .bind(pending)
            .bind(step)
            .bind(enable)
            .execute(p)
            .await
            .map(|r| r.rows_affected()))?;
        Ok(n == 1)
    }

    /// Records that a code for `step` was accepted; false if that step or a later one
    /// already was (the code was used).
    pub async fn use_totp_step(&self, user_id: &str, step: i64) -> Result<bool, StoreError> {
        const SQL: &str = "update user_mfa set totp_last_step = $2 \
                           where user_id = $1 and totp_last_step < $2";
        let n = on_db!(&self.db, |p| sqlx::query(SQL)
            .bind(user_id)
            .bind(step)
            .execute(p)
            .await
            .map(|r| r.rows_affected()))?;
        Ok(n == 1)
    }

    /// Writes the user's MFA preferences (`SetUserMFAPreference`).
    pub async fn set_mfa_preference(
        &self,
        pool_id: &str,
        user_id: &str,
        totp_enabled: bool,
        email_enabled: bool,
        preferred: Option<&str>,
    ) -> Result<(), StoreError> {
        const SQL: &str = "insert into user_mfa (user_id, pool_id, totp_enabled, email_enabled, preferred) \
                           values ($1, $2, $3, $4, $5) on conflict (user_id) do update set \
                           totp_enabled = excluded.totp_enabled, email_enabled = excluded.email_enabled, \
                           preferred = excluded.preferred";
        on_db!(&self.db, |p| sqlx::query(SQL)
            .bind(user_id)
            .bind(pool_id)
            .bind(totp_enabled)
            .bind(email_enabled)
            .bind(preferred)
            .execute(p)
            .await
            .map(|_| ()))?;
        Ok(())
    }

    /// Forgets the user's authenticator (`AdminDeleteSoftwareToken`): TOTP is off, and
    /// no longer preferred.
    pub async fn delete_totp(&self, user_id: &str) -> Result<(), StoreError> {
        const SQL: &str = "update user_mfa set totp_secret = null, totp_pending = null, \
                           totp_enabled = false, \
                           preferred = case when preferred = 'SOFTWARE_TOKEN_MFA' then null else preferred end \
                           where user_id = $1";
        on_db!(&self.db, |p| sqlx::query(SQL)
            .bind(user_id)
            .execute(p)
            .await
            .map(|_| ()))?;
        Ok(())
    }
}
