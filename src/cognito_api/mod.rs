//! The Cognito user-pool API (`X-Amz-Target` operations) and what its sign-in flows need.

pub mod srp;
