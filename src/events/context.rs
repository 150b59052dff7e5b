//! The request an event happens in: its id, the client's address and user agent. The
//! HTTP surface sets it once per request (`within`), and [`current`] reads it where an
//! event is recorded, so the shared operations need no extra parameters for it. Outside
//! a request (the CLI, background tasks) it is empty.

use std::future::Future;
use std::net::IpAddr;

/// Longest user agent kept; the rest is cut.
const MAX_USER_AGENT: usize = 256;

/// Longest request id accepted from a client (`x-request-id`); longer ones are
/// replaced by a generated id.
pub const MAX_REQUEST_ID: usize = 128;

#[derive(Debug, Clone, Default)]
pub struct RequestContext {
    pub request_id: Option<String>,
    pub source_ip: Option<IpAddr>,
    pub user_agent: Option<String>,
}

impl RequestContext {
    pub fn new(
        request_id: Option<&str>,
        source_ip: Option<IpAddr>,
        user_agent: Option<&str>,
    ) -> Self {
        Self {
            request_id: request_id
                .filter(|id| is_request_id(id))
                .map(str::to_string),
            source_ip,
            user_agent: user_agent.map(|ua| ua.chars().take(MAX_USER_AGENT).collect()),
        }
    }
}

/// Whether a client's `x-request-id` is kept: short and made of the characters ids
/// are made of, so it can be neither a log-injection vector nor a smuggled payload.
pub fn is_request_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= MAX_REQUEST_ID
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b':'))
}

tokio::task_local! {
    static REQUEST: RequestContext;
}

/// Runs `f` with `context` as the current request's.
pub async fn within<F: Future>(context: RequestContext, f: F) -> F::Output {
    REQUEST.scope(context, f).await
}

/// The current request's context; empty outside a request.
pub fn current() -> RequestContext {
    REQUEST.try_with(Clone::clone).unwrap_or_default()
}
