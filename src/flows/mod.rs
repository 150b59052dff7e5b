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
