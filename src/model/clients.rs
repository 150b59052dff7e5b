//! App clients and their settings, the overloaded-state relay included.

use serde::{Deserialize, Serialize};

/// An app client: its identity, its secret's digest and its settings. It reads as
/// its settings (`client.callback_urls`), which are what the operator sets.
#[derive(Clone, Debug, Serialize)]
pub struct AppClient {
    pub client_id: String,
    pub pool_id: String,
    #[serde(skip)]
    pub secret_digest: Option<String>,
    #[serde(flatten)]
    pub settings: ClientSettings,
    pub created_at: i64,
    pub updated_at: i64,
}

/// Everything an operator sets on an app client, defined once: the store keeps it as
/// one JSON document, the Cognito API and the CLI change it, and the domain reads it.
/// A new setting is a field here with its default in [`Default`] (which also fills it
/// in for clients stored before it existed), its check in [`Self::validate`], and
/// the surfaces that expose it.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(default)]
pub struct ClientSettings {
    pub name: String,
    pub callback_urls: Vec<String>,
    pub logout_urls: Vec<String>,
    pub allowed_scopes: Vec<String>,
    pub allowed_flows: Vec<String>,
    /// Validities in seconds.
    pub id_token_validity: i64,
    pub access_token_validity: i64,
    pub refresh_token_validity: i64,
    /// Return-to allow-list and state grammar (overloaded `state`).
    pub state_relay: StateRelay,
    pub branding: Branding,
    /// The attributes users of this client may write (none listed: every one); the
    /// `custom:*` ones among them are offered at sign-up.
    pub write_attributes: Vec<String>,
    /// The attributes this client may read in ID tokens, at userInfo and through
    /// `GetUser` (Cognito's `ReadAttributes`; none listed: every one). Kept as sent,
    /// so the API reports it back so.
    pub read_attributes: Vec<String>,
    /// Minutes a sign-in challenge's session lasts (Cognito's `AuthSessionValidity`,
    /// 3 to 15).
    pub auth_session_validity: i64,
    /// Whether the client's refresh tokens may be revoked (`RevokeToken`,
    /// `/oauth2/revoke`; Cognito's `EnableTokenRevocation`).
    pub enable_token_revocation: bool,
    /// `COGNITO` (the pool's own users) and the provider names this client offers.
    pub supported_identity_providers: Vec<String>,
    /// The Cognito API's sign-in flows (`ALLOW_USER_SRP_AUTH`, …).
    pub explicit_auth_flows: Vec<String>,
    /// Seconds a rotated refresh token may still be retried (Cognito's
    /// `RetryGracePeriodSeconds`, 0 to 60; 0 = a second use revokes the sign-in).
    pub refresh_token_retry_grace: i64,
    /// Whether `/oauth2/token` replaces a refresh token at each use (Cognito's
    /// `RefreshTokenRotation` `Feature`). On unless turned off; when off, the token
    /// stays valid until it expires and no new one is returned.
    pub refresh_token_rotation: bool,
    /// What the Cognito API was sent for settings it reports back only when they were
    /// set (Cognito leaves unset blocks out of its answers).
    pub reported: ReportedClientSettings,
}

/// The Cognito API's client settings as sent, for those it reports only when set.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct ReportedClientSettings {
    /// `TokenValidityUnits`, with Cognito's defaults for the units not sent; the
    /// validities are reported in these units (hours, hours and days when `None`).
    pub token_validity_units: Option<TokenValidityUnits>,
    /// `RefreshTokenRotation` exactly as sent.
    pub refresh_token_rotation: Option<RefreshTokenRotation>,
    /// `DefaultRedirectURI`, one of the callback URLs.
    pub default_redirect_uri: Option<String>,
}

/// Cognito's `TokenValidityUnitsType`: `seconds`, `minutes`, `hours` or `days`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenValidityUnits {
    pub access_token: String,
    pub id_token: String,
    pub refresh_token: String,
}

/// Cognito's `RefreshTokenRotationType`, as sent.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RefreshTokenRotation {
    pub feature: String,
    pub retry_grace_period_seconds: Option<i64>,
}

/// How a client's hosted pages look. Colours are CSS hex colours; the stylesheet is
/// the operator's own CSS, served from cognate's origin after the defaults, so it can
/// restyle anything (the content security policy keeps it to stylesheets and images).
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct Branding {
    /// The name people know the app by, shown on its pages instead of the client's
    /// name (which is often a technical one).
    pub display_name: Option<String>,
    pub page_title: Option<String>,
    pub logo_url: Option<String>,
    pub primary_color: Option<String>,
    pub background_color: Option<String>,
    pub css: Option<String>,
}

/// How a client encodes the return-to part of its state.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum StateEncoding {
    #[default]
    Plain,
    Hex,
    Base64url,
}

/// A client's state grammar and allow-list.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(default)]
pub struct StateRelay {
    /// Absolute URLs; empty means the state is opaque.
    pub allow_list: Vec<String>,
    pub separator: char,
    pub encoding: StateEncoding,
}
