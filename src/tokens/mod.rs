//! Tokens: per-pool RSA keys (generated with `rsa`, sealed at rest, signing through
//! aws-lc-rs with the parsed key kept in memory), RS256 JWTs, and Cognito's claims.

pub mod claims;
pub mod issue;
pub mod jwt;
pub mod keys;
pub mod verify;

pub use keys::{KeyRing, PoolKeys};
