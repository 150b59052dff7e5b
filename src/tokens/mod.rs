//! Tokens: RS256 JWTs signed with the pool's keys (`crate::keys`), Cognito's claims,
//! issuing a token set and verifying the pool's own tokens.

pub mod claims;
pub mod issue;
pub mod jwt;
pub mod verify;
