//! The operations every surface performs, whatever its wire format: the hosted pages,
//! the federation callback, `/oauth2/token` and the Cognito API adapt these and add no
//! rules of their own.

pub mod refresh;
