//! A user's second factors: an authenticator app (TOTP, RFC 6238: SHA-1, six digits,
//! 30-second steps, as every authenticator and Cognito use) and codes by e-mail. An
//! authenticator's key is made here, shown once, kept sealed, and proven by a first
//! code before it counts; each code is good once, within a step either side of now.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use rand::RngCore;
use totp_rs::{Algorithm, Secret, TOTP};

use super::User;
use crate::error::AppError;
use crate::services::Services;
use crate::store::MfaRow;

/// Seconds a code stands for.
const STEP: u64 = 30;
/// Bytes of an authenticator key: 160 bits, RFC 4226's recommendation.
const KEY_BYTES: usize = 20;

/// A second factor, by Cognito's name for it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Factor {
    SoftwareToken,
    Email,
}

impl Factor {
    pub fn as_str(self) -> &'static str {
        match self {
            Factor::SoftwareToken => "SOFTWARE_TOKEN_MFA",
            Factor::Email => "EMAIL_OTP",
        }
    }

    pub fn parse(name: &str) -> Option<Factor> {
        match name {
            "SOFTWARE_TOKEN_MFA" => Some(Factor::SoftwareToken),
            "EMAIL_OTP" => Some(Factor::Email),
            _ => None,
        }
    }
}

/// What a user has of each factor.
#[derive(Clone, Debug, Default)]
pub struct Factors(MfaRow);

impl Factors {
    /// Whether an authenticator was proven by a code.
    pub fn totp_verified(&self) -> bool {
        self.0.totp_secret.is_some()
    }

    /// The factors the user turned on (Cognito's `UserMFASettingList`).
    pub fn enabled(&self) -> Vec<Factor> {
        let mut on = Vec::new();
        if self.0.totp_enabled && self.totp_verified() {
            on.push(Factor::SoftwareToken);
        }
        if self.0.email_enabled {
            on.push(Factor::Email);
        }
        on
    }

    /// The factor the user prefers (Cognito's `PreferredMfaSetting`), if it is on.
    pub fn preferred(&self) -> Option<Factor> {
        self.0
            .preferred
            .as_deref()
            .and_then(Factor::parse)
            .filter(|f| self.enabled().contains(f))
    }

    /// The factor a sign-in asks for: the preferred one, else the authenticator, else
    /// e-mail.
    pub fn challenge(&self) -> Option<Factor> {
        self.preferred().or_else(|| self.enabled().first().copied())
    }
}

/// The user's factors.
pub async fn factors(app: &Services, user: &User) -> Result<Factors, AppError> {
    Ok(Factors(app.store.user_mfa(&user.user_id).await?))
}

fn seal_context(user: &User) -> String {
    format!("totp:{}", user.user_id)
}

fn open_key(app: &Services, user: &User, sealed: &str) -> Result<Vec<u8>, AppError> {
    let bytes = STANDARD
        .decode(sealed)
        .map_err(|e| anyhow::anyhow!("stored authenticator key: {e}"))?;
    Ok(app
        .keys
        .master()
        .open(&seal_context(user), &bytes)
        .map_err(|e| anyhow::anyhow!("unseal authenticator key: {e}"))?)
}

/// A new authenticator key for the user, kept until a code proves it
/// ([`verify_pending`]); the base32 text to show (Cognito's `SecretCode`).
pub async fn associate(app: &Services, user: &User) -> Result<String, AppError> {
    let key = new_key();
    let sealed = STANDARD.encode(app.keys.master().seal(&seal_context(user), &key));
    app.store
        .set_totp_pending(&user.pool_id, &user.user_id, &sealed)
        .await?;
    Ok(base32(&key))
}

/// The key [`associate`] handed out last and no code has proven yet, as its base32
/// text: a page shown again shows the same key.
pub async fn pending_secret(app: &Services, user: &User) -> Result<Option<String>, AppError> {
    let row = app.store.user_mfa(&user.user_id).await?;
    row.totp_pending
        .map(|sealed| Ok(base32(&open_key(app, user, &sealed)?)))
        .transpose()
}

/// A new random authenticator key (160 bits).
pub fn new_key() -> Vec<u8> {
    let mut key = vec![0u8; KEY_BYTES];
    rand::rngs::OsRng.fill_bytes(&mut key);
    key
}

/// An authenticator key as the base32 text people type or scan.
pub fn base32(key: &[u8]) -> String {
    Secret::Raw(key.to_vec()).to_encoded().to_string()
}

fn totp(key: Vec<u8>, issuer: &str, account: &str) -> TOTP {
    // Labels may not hold a colon (it separates issuer and account in the URI).
    TOTP::new_unchecked(
        Algorithm::SHA1,
        6,
        1,
        STEP,
        key,
        Some(issuer.replace(':', " ")),
        account.replace(':', " "),
    )
}

/// The code an authenticator with the base32 key `secret_code` shows at `now` (epoch
/// seconds): what a test or a command-line authenticator computes.
pub fn code_at(secret_code: &str, now: i64) -> Option<String> {
    let key = Secret::Encoded(secret_code.to_string()).to_bytes().ok()?;
    Some(totp(key, "", "").generate(u64::try_from(now).ok()?))
}

/// The step `code` was computed for, if it is the key's code for now or the step
/// either side (clocks drift, people type slowly).
pub fn matching_step(key: &[u8], code: &str, now: i64) -> Option<i64> {
    let code = code.trim();
    if code.len() != 6 || !code.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let totp = totp(key.to_vec(), "", "");
    let now = u64::try_from(now).ok()?;
    let current = now / STEP;
    let mut found = None;
    // Every candidate is computed and compared, so the time does not tell which matched.
    for step in [current.saturating_sub(1), current, current + 1] {
        let expected = totp.generate(step * STEP);
        if crate::crypto::ct_eq(expected.as_bytes(), code.as_bytes()) {
            found = Some(step as i64);
        }
    }
    found
}

/// How a presented authenticator code fared.
#[derive(Debug, PartialEq, Eq)]
pub enum CodeCheck {
    Accepted,
    Mismatch,
    /// Right, but a code for this step (or a later one) was accepted already.
    Used,
    /// The user has no authenticator (or none waiting to be proven).
    NoAuthenticator,
}

/// Proves the authenticator key handed out last with its first code: it becomes the
/// user's authenticator (and `enable`d: turned on as well).
pub async fn verify_pending(
    app: &Services,
    user: &User,
    code: &str,
    enable: bool,
) -> Result<CodeCheck, AppError> {
    let row = app.store.user_mfa(&user.user_id).await?;
    let Some(pending) = row.totp_pending else {
        return Ok(CodeCheck::NoAuthenticator);
    };
    let key = open_key(app, user, &pending)?;
    let Some(step) = matching_step(&key, code, app.clock.now()) else {
        return Ok(CodeCheck::Mismatch);
    };
    Ok(
        if app
            .store
            .promote_totp(&user.user_id, &pending, step, enable)
            .await?
        {
            CodeCheck::Accepted
        } else {
            // Another AssociateSoftwareToken replaced the key meanwhile.
            CodeCheck::Mismatch
        },
    )
}

/// Checks a code from the user's authenticator, and uses it up.
pub async fn check_code(app: &Services, user: &User, code: &str) -> Result<CodeCheck, AppError> {
    let row = app.store.user_mfa(&user.user_id).await?;
    let Some(sealed) = row.totp_secret else {
        return Ok(CodeCheck::NoAuthenticator);
    };
    let key = open_key(app, user, &sealed)?;
    let Some(step) = matching_step(&key, code, app.clock.now()) else {
        return Ok(CodeCheck::Mismatch);
    };
    Ok(if app.store.use_totp_step(&user.user_id, step).await? {
        CodeCheck::Accepted
    } else {
        CodeCheck::Used
    })
}

/// Forgets the user's authenticator (`AdminDeleteSoftwareToken`, the console's MFA
/// reset): the user lost it and sets up a new one at the next sign-in that asks for it.
/// TOTP is off and no longer preferred; other factors stay as they were.
pub async fn delete_software_token(app: &Services, user: &User) -> Result<(), AppError> {
    app.store.delete_totp(&user.user_id).await?;
    tracing::info!(pool_id = %user.pool_id, user_id = %user.user_id, "authenticator deleted by an administrator");
    Ok(())
}

/// The `otpauth://` URI an authenticator app reads from the QR code.
pub fn otpauth_uri(secret_code: &str, issuer: &str, account: &str) -> Option<String> {
    let key = Secret::Encoded(secret_code.to_string()).to_bytes().ok()?;
    Some(totp(key, issuer, account).get_url())
}

/// `text` as a QR code in SVG, drawn on the server so the page needs no script.
pub fn qr_svg(text: &str) -> Option<String> {
    let code = qrcode::QrCode::new(text.as_bytes()).ok()?;
    Some(
        code.render::<qrcode::render::svg::Color>()
            .min_dimensions(200, 200)
            .quiet_zone(true)
            .build(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_code_matches_its_step_and_the_neighbours_only() {
        let key = b"12345678901234567890".to_vec();
        // RFC 6238's SHA-1 vector at T = 59: 94287082, whose last six digits are ours.
        assert_eq!(matching_step(&key, "287082", 59), Some(1));
        assert_eq!(matching_step(&key, "287082", 59 + 30), Some(1));
        assert_eq!(matching_step(&key, "287082", 59 + 60), None);
        assert_eq!(matching_step(&key, "28708", 59), None);
        assert_eq!(matching_step(&key, "28708x", 59), None);
    }

    #[test]
    fn the_uri_names_issuer_and_account_without_colons() {
        let uri = otpauth_uri(&base32(&[7u8; 20]), "My:Pool", "ada").unwrap();
        assert!(uri.starts_with("otpauth://totp/My%20Pool:ada?"), "{uri}");
        assert!(qr_svg(&uri).unwrap().starts_with("<?xml"));
    }
}
