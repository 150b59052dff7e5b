//! The operations every surface performs, whatever its wire format: the hosted pages,
//! the federation callback, `/oauth2/token` and the Cognito API adapt these and add no
//! rules of their own. Each is the one place where what happens before and after it
//! (the triggers) is decided.

pub mod attributes;
pub mod client_credentials;
pub mod code;
pub mod custom_auth;
pub mod external;
pub mod mfa;
pub mod migration;
pub mod pre_token;
pub mod recovery;
pub mod refresh;
pub mod sign_in;
pub mod sign_up;

use crate::clients::AppClient;
use crate::events::{Event, Grant, Kind};
use crate::services::Services;
use crate::users::{Refusal, User};

/// An account operation's event: with the user when it passed (if known), else with
/// the name given and why it failed; a refusal for too many attempts is recorded as
/// throttling.
pub(crate) fn outcome(
    mut event: Event,
    username: &str,
    result: Result<Option<&User>, &Refusal>,
) -> Event {
    match result {
        Ok(Some(user)) => event.user(user),
        Ok(None) => event.username(username),
        Err(refusal) => {
            if matches!(refusal, Refusal::Throttled(_)) {
                event.kind = Kind::Throttled;
            }
            event.username(username).failed(refusal.event_reason())
        }
    }
}

/// Records tokens issued to `client` (for `user`, unless a client credentials grant):
/// an event and a count.
fn record_issued(app: &Services, client: &AppClient, user: Option<&User>, grant: Grant) {
    app.metrics.tokens_issued(grant);
    let mut event = Event::new(Kind::TokenIssued, &client.pool_id)
        .client(&client.client_id)
        .grant(grant);
    if let Some(user) = user {
        event = event.user(user);
    }
    app.record(event);
}
