//! Throttling of failed sign-ins, per username and per client address, shared by
//! every instance through the database. The first failures are free; after that each
//! failure blocks the key for twice as long as the last, up to a cap, and a success
//! clears the username's count. Code messages are capped per user the same way.

use crate::store::{Store, StoreError};

/// Failures of one username within the window that cost nothing.
pub const FREE_FAILURES: i64 = 5;
/// Failures from one client address within the window that cost nothing: many users
/// may share an address (offices, NAT), so it takes a spray of guesses across accounts
/// (credential stuffing) to block one.
pub const ADDRESS_FREE_FAILURES: i64 = 50;
/// Failures older than this are forgotten.
pub const WINDOW: i64 = 15 * 60;
/// The longest block.
pub const MAX_BLOCK: i64 = 15 * 60;

const ADDRESS_PREFIX: &str = "ip:";

/// The keys a sign-in attempt is counted under.
pub fn keys(pool_id: &str, username: &str, address: Option<std::net::IpAddr>) -> Vec<String> {
    let mut keys = vec![format!(
        "user:{pool_id}:{}",
        // PostgreSQL text cannot hold NUL, which a refused name may carry.
        crate::model::users::username_key(username).replace('\0', "\\0")
    )];
    if let Some(ip) = address {
        keys.push(format!("{ADDRESS_PREFIX}{ip}"));
    }
    keys
}

/// The keys a console operator's sign-in is counted under: the operator's name, in a
/// space of its own (no pool user shares it), and the client address, shared with the
/// pools' sign-ins (one spray of guesses is one spray wherever it lands).
pub fn console_keys(name: &str, address: Option<std::net::IpAddr>) -> Vec<String> {
    let mut keys = vec![format!(
        "console:{}",
        name.trim().to_lowercase().replace('\0', "\\0")
    )];
    if let Some(ip) = address {
        keys.push(format!("{ADDRESS_PREFIX}{ip}"));
    }
    keys
}

/// Seconds until the longest block among `keys` ends, if any is blocked.
pub async fn blocked_for(
    store: &Store,
    keys: &[String],
    now: i64,
) -> Result<Option<i64>, StoreError> {
    let mut longest = 0;
    for key in keys {
        longest = longest.max(store.throttle_blocked_until(key).await? - now);
    }
    Ok((longest > 0).then_some(longest))
}

/// Counts a failure under every key.
pub async fn record_failure(store: &Store, keys: &[String], now: i64) -> Result<(), StoreError> {
    for key in keys {
        let failures = store.count_failure(key, now, now - WINDOW).await?;
        let free = if key.starts_with(ADDRESS_PREFIX) {
            ADDRESS_FREE_FAILURES
        } else {
            FREE_FAILURES
        };
        if failures >= free {
            // Times are whole seconds, so a one-second block could end at once: the
            // first block is two seconds (at least one full second), then doubles.
            let exponent = (failures - free + 1).min(20) as u32;
            store
                .block_until(key, now + (1i64 << exponent).min(MAX_BLOCK))
                .await?;
        }
    }
    Ok(())
}

/// Forgets the failures of a username after a successful sign-in.
pub async fn record_success(store: &Store, keys: &[String]) -> Result<(), StoreError> {
    if let Some(user_key) = keys.first() {
        store.clear_throttle(user_key).await?;
    }
    Ok(())
}

/// Code messages (sign-up, resend, password reset) one user may be sent per window, so
/// nobody can flood a mailbox through the public pages.
pub const MESSAGES_PER_WINDOW: i64 = 5;
/// The message cap's window.
pub const MESSAGE_WINDOW: i64 = 60 * 60;

/// Counts a code message to `user_id`; `Err` holds the seconds until another may go.
pub async fn allow_message(
    store: &Store,
    user_id: &str,
    now: i64,
) -> Result<Result<(), i64>, StoreError> {
    allow_under(store, &format!("mail:{user_id}"), now).await
}

/// Counts a request for a code to `name` (ResendConfirmationCode, ForgotPassword) under
/// the same cap as [`allow_message`], whether or not an account has that name and
/// whether or not a message goes: the cap then falls on the same request for a real
/// and an unknown name (`PreventUserExistenceErrors`).
pub async fn allow_code_request(
    store: &Store,
    pool_id: &str,
    name: &str,
    now: i64,
) -> Result<Result<(), i64>, StoreError> {
    let name = crate::model::users::username_key(name).replace('\0', "\\0");
    allow_under(store, &format!("mail:{pool_id}:{name}"), now).await
}

async fn allow_under(store: &Store, key: &str, now: i64) -> Result<Result<(), i64>, StoreError> {
    let blocked = store.throttle_blocked_until(key).await? - now;
    if blocked > 0 {
        return Ok(Err(blocked));
    }
    let sent = store.count_failure(key, now, now - MESSAGE_WINDOW).await?;
    if sent > MESSAGES_PER_WINDOW {
        store.block_until(key, now + MESSAGE_WINDOW).await?;
        return Ok(Err(MESSAGE_WINDOW));
    }
    Ok(Ok(()))
}
