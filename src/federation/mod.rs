//! Federation with external identity providers; today only the in-repo stand-ins that
//! imitate Google, Facebook and Login with Amazon, so federation works offline.

pub mod standin;
