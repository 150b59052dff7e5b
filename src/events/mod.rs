//! Auth events (issue 20): one [`Event`] per thing an operator audits — sign-ins and
//! their failures, sign-ups, confirmations, password changes and resets, MFA, federated
//! sign-ins, tokens issued, refresh reuse, revocations, sign-outs, throttling, refused
//! redirects and admin changes — with the request's id, address and user agent.
//!
//! An event cannot carry a password, code or token: every field is an identifier
//! (pool, client, user, request) or a name from a closed set ([`Kind`], [`Reason`],
//! [`Grant`]); there is no free-form payload. Events are queued in memory and written
//! in batches by a background task ([`sink`]), so recording one adds no database round
//! trip to the request that caused it.

pub mod context;
pub mod sink;

use std::net::IpAddr;

pub use context::{RequestContext, current, within};
pub use sink::{EventSink, Retention};

use crate::store::AuthEventRow;

/// What happened. Stored by [`Kind::name`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    SignIn,
    SignUp,
    ConfirmSignUp,
    PasswordChange,
    /// A reset was asked for (forgot password).
    ForgotPassword,
    /// A reset was completed with its code.
    PasswordReset,
    MfaEnrolment,
    MfaChallenge,
    FederationSignIn,
    FederationLink,
    /// Tokens issued, with the grant in [`Event::grant`].
    TokenIssued,
    /// A rotated-out refresh token came back: its family was revoked.
    RefreshReuse,
    Revocation,
    GlobalSignOut,
    /// Refused for too many failed attempts.
    Throttled,
    /// A redirect URI or return-to target refused at authorize.
    RefusedRedirect,
    /// A `state` refused by the client's state grammar.
    RefusedState,
    /// An API key, the CLI or a console operator changed a pool, client, user or other object.
    AdminChange,
}

impl Kind {
    pub const ALL: [Kind; 18] = [
        Kind::SignIn,
        Kind::SignUp,
        Kind::ConfirmSignUp,
        Kind::PasswordChange,
        Kind::ForgotPassword,
        Kind::PasswordReset,
        Kind::MfaEnrolment,
        Kind::MfaChallenge,
        Kind::FederationSignIn,
        Kind::FederationLink,
        Kind::TokenIssued,
        Kind::RefreshReuse,
        Kind::Revocation,
        Kind::GlobalSignOut,
        Kind::Throttled,
        Kind::RefusedRedirect,
        Kind::RefusedState,
        Kind::AdminChange,
    ];

    /// The stored and printed name.
    pub fn name(self) -> &'static str {
        match self {
            Kind::SignIn => "sign_in",
            Kind::SignUp => "sign_up",
            Kind::ConfirmSignUp => "confirm_sign_up",
            Kind::PasswordChange => "password_change",
            Kind::ForgotPassword => "forgot_password",
            Kind::PasswordReset => "password_reset",
            Kind::MfaEnrolment => "mfa_enrolment",
            Kind::MfaChallenge => "mfa_challenge",
            Kind::FederationSignIn => "federation_sign_in",
            Kind::FederationLink => "federation_link",
            Kind::TokenIssued => "token_issued",
            Kind::RefreshReuse => "refresh_reuse",
            Kind::Revocation => "revocation",
            Kind::GlobalSignOut => "global_sign_out",
            Kind::Throttled => "throttled",
            Kind::RefusedRedirect => "refused_redirect",
            Kind::RefusedState => "refused_state",
            Kind::AdminChange => "admin_change",
        }
    }

    /// The kind of a stored or typed name.
    pub fn parse(name: &str) -> Option<Kind> {
        Kind::ALL.into_iter().find(|k| k.name() == name)
    }
}

/// Why something failed: a closed set, so no message (which might quote input) is
/// ever stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reason {
    BadCredentials,
    Throttled,
    NotConfirmed,
    Disabled,
    ResetRequired,
    TemporaryPasswordExpired,
    InvalidPassword,
    PasswordReused,
    UsernameExists,
    InvalidParameter,
    CodeMismatch,
    ExpiredCode,
    TooManyAttempts,
    MfaUnavailable,
    DeliveryFailed,
    InvalidGrant,
    NotAuthorized,
    NotFound,
    Refused,
    Internal,
}

impl Reason {
    pub fn name(self) -> &'static str {
        match self {
            Reason::BadCredentials => "bad_credentials",
            Reason::Throttled => "throttled",
            Reason::NotConfirmed => "not_confirmed",
            Reason::Disabled => "disabled",
            Reason::ResetRequired => "reset_required",
            Reason::TemporaryPasswordExpired => "temporary_password_expired",
            Reason::InvalidPassword => "invalid_password",
            Reason::PasswordReused => "password_reused",
            Reason::UsernameExists => "username_exists",
            Reason::InvalidParameter => "invalid_parameter",
            Reason::CodeMismatch => "code_mismatch",
            Reason::ExpiredCode => "expired_code",
            Reason::TooManyAttempts => "too_many_attempts",
            Reason::MfaUnavailable => "mfa_unavailable",
            Reason::DeliveryFailed => "delivery_failed",
            Reason::InvalidGrant => "invalid_grant",
            Reason::NotAuthorized => "not_authorized",
            Reason::NotFound => "not_found",
            Reason::Refused => "refused",
            Reason::Internal => "internal",
        }
    }
}

/// How tokens were obtained.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Grant {
    AuthorizationCode,
    RefreshToken,
    ClientCredentials,
    /// The Cognito API's `InitiateAuth`/`RespondToAuthChallenge` (password, SRP,
    /// custom or MFA), which answer tokens directly.
    Api,
}

impl Grant {
    pub const ALL: [Grant; 4] = [
        Grant::AuthorizationCode,
        Grant::RefreshToken,
        Grant::ClientCredentials,
        Grant::Api,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Grant::AuthorizationCode => "authorization_code",
            Grant::RefreshToken => "refresh_token",
            Grant::ClientCredentials => "client_credentials",
            Grant::Api => "api",
        }
    }
}

/// Who made an admin change: an API access key (its id), the CLI, or a console
/// operator (by name).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Actor {
    ApiKey(String),
    Cli,
    Console(String),
}

/// One auth event, before the request's context and time are added.
#[derive(Debug, Clone)]
pub struct Event {
    pub kind: Kind,
    /// `None` when it passed.
    pub failure: Option<Reason>,
    pub grant: Option<Grant>,
    pub pool_id: Option<String>,
    pub client_id: Option<String>,
    pub user_sub: Option<String>,
    pub username: Option<String>,
    /// Admin changes: who, which action (a Cognito API action or CLI command name),
    /// and the object's identifier.
    pub admin: Option<(Actor, &'static str, Option<String>)>,
}

impl Event {
    /// An event of `kind` in `pool_id` that passed.
    pub fn new(kind: Kind, pool_id: &str) -> Self {
        Self {
            kind,
            failure: None,
            grant: None,
            pool_id: Some(pool_id.to_string()),
            client_id: None,
            user_sub: None,
            username: None,
            admin: None,
        }
    }

    /// An admin change by `actor`: `action` on `target` (a user name, client id, group
    /// name…) in `pool_id`, if it names a pool.
    pub fn admin(
        actor: Actor,
        action: &'static str,
        pool_id: Option<&str>,
        target: Option<&str>,
    ) -> Self {
        Self {
            pool_id: pool_id.map(str::to_string),
            admin: Some((actor, action, target.map(str::to_string))),
            ..Self::new(Kind::AdminChange, "")
        }
    }

    pub fn client(mut self, client_id: &str) -> Self {
        self.client_id = Some(client_id.to_string()).filter(|c| !c.is_empty());
        self
    }

    /// The user, by `sub` and user name.
    pub fn user(mut self, user: &crate::model::users::User) -> Self {
        self.user_sub = Some(user.user_id.clone());
        self.username = Some(user.username.clone());
        self
    }

    /// The user by `sub` alone, when the name is not at hand.
    pub fn user_sub(mut self, sub: &str) -> Self {
        self.user_sub = Some(sub.to_string());
        self
    }

    /// The user by the name given, when no account may exist (a failed sign-in).
    pub fn username(mut self, username: &str) -> Self {
        self.username = Some(username.to_string()).filter(|u| !u.is_empty());
        self
    }

    pub fn grant(mut self, grant: Grant) -> Self {
        self.grant = Some(grant);
        self
    }

    pub fn failed(mut self, reason: Reason) -> Self {
        self.failure = Some(reason);
        self
    }

    /// The row to store, with the request's context and `at` (epoch seconds).
    pub fn into_row(self, context: &RequestContext, at: i64) -> AuthEventRow {
        let (actor, action, target) = match self.admin {
            Some((actor, action, target)) => {
                let actor = match actor {
                    Actor::ApiKey(id) => id,
                    Actor::Cli => "cli".to_string(),
                    Actor::Console(name) => format!("console:{name}"),
                };
                (Some(actor), Some(action.to_string()), target)
            }
            None => (None, None, None),
        };
        AuthEventRow {
            id: 0,
            event_id: uuid::Uuid::now_v7().to_string(),
            at,
            kind: self.kind.name().to_string(),
            outcome: match self.failure {
                None => "pass",
                Some(_) => "fail",
            }
            .to_string(),
            reason: self.failure.map(|r| r.name().to_string()),
            grant_type: self.grant.map(|g| g.name().to_string()),
            pool_id: self.pool_id.filter(|p| !p.is_empty()),
            client_id: self.client_id,
            user_sub: self.user_sub,
            username: self.username,
            source_ip: context.source_ip.map(|ip: IpAddr| ip.to_string()),
            user_agent: context.user_agent.clone(),
            request_id: context.request_id.clone(),
            actor,
            action,
            target,
        }
    }
}
