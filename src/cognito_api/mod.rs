//! The Cognito JSON API (`POST /`, AWS JSON 1.1, `X-Amz-Target`): caller authentication.
pub mod sigv4;
