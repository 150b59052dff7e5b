//! In-repo stand-ins for Google (OpenID Connect), Facebook (Graph API), Login with
//! Amazon and Sign in with Apple: just enough of each provider's authorization-code flow (RFC 6749 §4.1, with
//! PKCE per RFC 7636) for federation to run on a laptop without credentials or
//! internet, and for tests to drive it. A consent page offers fixed test identities
//! ([`IDENTITIES`]); a [`Quirk`] makes a stand-in misbehave on purpose.
//!
//! Development only: the stand-ins accept any client and any redirect URI (an open
//! redirector), and sign anyone in as anyone. Never mount them on a public deployment.

mod amazon;
mod apple;
mod consent;
mod facebook;
mod google;
mod identities;
mod keys;
mod memory;
mod quirks;
mod token;

use std::ops::Deref;
use std::sync::Arc;

use axum::Router;

pub use apple::{APPLE_KEY_ID, APPLE_TEAM_ID, APPLE_TEAM_KEY};
pub use identities::{IDENTITIES, Identity, identity};
pub use quirks::Quirk;

use keys::Keys;
use memory::Memory;

/// The provider a stand-in imitates; codes and tokens of one are refused by the others.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Provider {
    Google,
    Facebook,
    Amazon,
    Apple,
}

impl Provider {
    /// The name on the consent page.
    fn display_name(self) -> &'static str {
        match self {
            Provider::Google => "Google",
            Provider::Facebook => "Facebook",
            Provider::Amazon => "Login with Amazon",
            Provider::Apple => "Apple",
        }
    }

    /// Whether its token endpoint returns an ID token (so ID-token quirks apply).
    fn issues_id_tokens(self) -> bool {
        matches!(self, Provider::Google | Provider::Apple)
    }

    /// Where its endpoints live under the mount point.
    fn slug(self) -> &'static str {
        match self {
            Provider::Google => "google",
            Provider::Facebook => "facebook",
            Provider::Amazon => "amazon",
            Provider::Apple => "apple",
        }
    }
}

/// The stand-ins' shared state.
#[derive(Clone)]
struct StandIn(Arc<Inner>);

struct Inner {
    /// The absolute URL of the mount point, without a trailing slash.
    base: String,
    keys: Keys,
    memory: Memory,
}

impl Deref for StandIn {
    type Target = Inner;
    fn deref(&self) -> &Inner {
        &self.0
    }
}

impl Inner {
    /// The absolute URL of `path` (starting with `/`) of `provider`.
    fn url(&self, provider: Provider, path: &str) -> String {
        format!("{}/{}{path}", self.base, provider.slug())
    }
}

/// The four stand-ins, to be nested at the mount point whose absolute URL is
/// `base_url` (e.g. `{public_url}/_standin`): every URL they publish (issuer,
/// endpoints, form actions) is built from it. Google lives under `/google`, Facebook
/// under `/facebook`, Login with Amazon under `/amazon`, Apple under `/apple`.
///
/// Generates two RSA keys, which blocks for a moment: call it at startup.
pub fn router(base_url: &str) -> Router {
    let state = StandIn(Arc::new(Inner {
        base: base_url.trim_end_matches('/').to_string(),
        keys: Keys::generate(),
        memory: Memory::default(),
    }));
    Router::new()
        .merge(google::routes())
        .merge(facebook::routes())
        .merge(amazon::routes())
        .merge(apple::routes())
        .with_state(state)
}
