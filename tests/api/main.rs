//! The integration suite: one test binary, one module per feature. Every test runs a
//! real server on a loopback port; on SQLite always, and on PostgreSQL when
//! `COGNATE_TEST_POSTGRES_URL` is set.

mod account;
mod admin_users;
mod authorize;
mod browser;
mod browser_account;
mod cli;
mod client_credentials;
mod declared;
mod domains;
mod federation;
mod helpers;
mod honoured;
mod hosted_forms;
mod key_rotation;
mod layers;
mod login;
mod mail;
mod management;
mod matrix;
mod migrations;
mod oidc_flow;
mod payloads;
mod rate_limits;
mod restart;
mod sec_at_rest;
mod sec_authorize;
mod sec_connections;
mod sec_credentials;
mod sec_endpoints;
mod sec_jwt;
mod sec_master_key;
mod sec_no_store;
mod sec_probe_attributes;
mod sec_probe_browser;
mod sec_probe_codes;
mod sec_robustness;
mod sec_session;
mod sec_token;
mod standin;
mod state_relay;
mod storage_secrets;
mod token;
mod triggers;
mod userinfo;
