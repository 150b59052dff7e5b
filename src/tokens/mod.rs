//! Tokens: RS256 JWTs signed with the pool's keys (`crate::keys`), Cognito's claims,
//! issuing a token set and verifying the pool's own tokens.

pub mod claims;
pub mod issue;
pub mod jwt;
pub mod verify;

/// A space-separated scope list (a request's `scope`, a grant as stored) as its scopes.
pub fn split_scopes(scopes: &str) -> Vec<String> {
    scopes
        .split(' ')
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect()
}
