//! The command line: `cognate serve` and admin commands that work on the same database
//! (the server may be running), printing JSON so scripts and tests can use them.

use std::collections::BTreeMap;

use anyhow::{Context, bail};
use clap::{Parser, Subcommand};
use serde_json::{Value, json};

use crate::clients::state_split::{StateEncoding, StateRelay};
use crate::clients::{ClientSettings, NewSecret};
use crate::config::{Config, ServeArgs, StoreArgs};
use crate::events::{Actor, Event, Reason};
use crate::state::AppState;
use crate::users::UserStatus;

#[derive(Parser, Debug)]
#[command(
    name = "cognate",
    version,
    about = "A self-hosted, Cognito-compatible user pool and OIDC server"
)]
pub struct Cli {
    #[command(flatten)]
    pub store: StoreArgs,
    #[command(subcommand)]
    pub command: Command,
}

/// The file `plan` and `apply` read.
#[derive(clap::Args, Debug)]
pub struct ApplyArgs {
    /// The file (YAML or JSON; see docs/config-as-code.md).
    #[arg(long, short)]
    file: std::path::PathBuf,
    /// Also delete what an earlier `apply` declared and this file no longer does
    /// (never objects made another way: sign-ups, API calls).
    #[arg(long)]
    prune: bool,
}

/// Where `export` and `import-from-cognito` write a file and its secrets.
#[derive(clap::Args, Debug)]
pub struct FileOutput {
    /// Write client and provider secrets into this folder (one file each, owner
    /// only), referenced as `file:`; without it, clients get `generate` and
    /// providers an `env:` name to set.
    #[arg(long)]
    secrets_dir: Option<std::path::PathBuf>,
    /// Write here instead of stdout.
    #[arg(long, short)]
    output: Option<std::path::PathBuf>,
    /// `yaml` or `json`.
    #[arg(long, default_value = "yaml", value_parser = ["yaml", "json"])]
    format: String,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Run the server (creates a demo pool on an empty database).
    Serve(Box<ServeArgs>),
    /// User pools.
    #[command(subcommand)]
    Pool(PoolCmd),
    /// App clients.
    #[command(subcommand)]
    Client(Box<ClientCmd>),
    /// Users.
    #[command(subcommand, alias = "users")]
    User(UserCmd),
    /// Groups and memberships.
    #[command(subcommand)]
    Group(GroupCmd),
    /// Print the demo's facts again (its ids, the demo user's password, the demo API
    /// key, and a sign-in URL with a fresh PKCE verifier); creates nothing.
    Demo {
        /// The server's public URL, as `serve` has it (its `--public-url`, or
        /// `http://<listen>`).
        #[arg(
            long,
            env = "COGNATE_PUBLIC_URL",
            default_value = "http://127.0.0.1:9229"
        )]
        public_url: String,
        /// Print shell `export` lines instead (COGNATE_URL, POOL, CLIENT, DEMO_USER,
        /// DEMO_PASSWORD and the AWS_* variables boto3 and the AWS CLI read), for
        /// `eval "$(cognate demo --env)"`.
        #[arg(long)]
        env: bool,
    },
    /// Messages kept instead of sent (no SMTP server), newest first.
    Outbox {
        /// Only messages to this address (case-insensitive).
        #[arg(long)]
        to: Option<String>,
        /// At most this many messages.
        #[arg(long, default_value_t = 20, value_parser = clap::value_parser!(i64).range(1..=1000))]
        limit: i64,
    },
    /// Trigger invocations.
    #[command(subcommand)]
    Triggers(TriggersCmd),
    /// Auth events (sign-ins, sign-ups, tokens, refusals, admin changes), newest
    /// first, one JSON object a line.
    Events {
        /// Only this pool's events.
        #[arg(long)]
        pool: Option<String>,
        /// Only this user's (by user name, case-insensitive).
        #[arg(long)]
        user: Option<String>,
        /// Only this kind (`sign_in`, `token_issued`, `admin_change`, …).
        #[arg(long, value_parser = parse_kind)]
        kind: Option<crate::events::Kind>,
        /// Only events at or after this time (Unix seconds or RFC 3339).
        #[arg(long, value_parser = parse_time)]
        since: Option<i64>,
        /// At most this many events.
        #[arg(long, default_value_t = 100, value_parser = clap::value_parser!(i64).range(1..=10_000))]
        limit: i64,
        /// Then keep printing new events, oldest first, until interrupted.
        #[arg(long)]
        follow: bool,
    },
    /// Identity providers (Google, Facebook, Login with Amazon, Sign in with Apple, OIDC), links and
    /// pre-registered identities.
    #[command(subcommand)]
    Idp(Box<IdpCmd>),
    /// Admin console operators (their own accounts, never pool users): sign in at
    /// `/admin` with name, password and an authenticator code.
    #[command(subcommand)]
    Operator(OperatorCmd),
    /// Show what `apply` would change to bring the database to a file (YAML or JSON:
    /// pools, clients, providers, resource servers, groups, users); writes nothing.
    Plan(ApplyArgs),
    /// Bring the database to a file, each pool in one transaction; a second run
    /// changes nothing.
    Apply(ApplyArgs),
    /// Write pools as a file `apply` accepts (to stdout, or `--output`).
    Export {
        /// Only this pool (repeat; all pools when left out).
        #[arg(long = "pool")]
        pools: Vec<String>,
        /// Include users' password hashes, so they move without a reset. Anyone who
        /// reads the file can then attack the passwords offline.
        #[arg(long)]
        with_password_hashes: bool,
        #[command(flatten)]
        out: FileOutput,
    },
    /// Read a live Cognito user pool (AWS credentials from the environment) into a
    /// file `apply` accepts: settings, clients (ids kept), identity providers, resource
    /// servers, groups, users and external users. Cognito never exports password
    /// hashes: native users come in as RESET_REQUIRED.
    ImportFromCognito {
        /// The pool's id (`us-east-1_AbC…`).
        #[arg(long)]
        pool: String,
        /// Else AWS_REGION, else the pool id's prefix.
        #[arg(long)]
        region: Option<String>,
        /// Else `https://cognito-idp.<region>.amazonaws.com`.
        #[arg(long)]
        endpoint_url: Option<String>,
        /// Leave native users out, for a UserMigration trigger to bring each over at
        /// the first sign-in with the old password (their groups are not kept).
        #[arg(long)]
        leave_users_to_migration: bool,
        #[command(flatten)]
        out: FileOutput,
    },
    /// The cryptographic bound for `bench/run`: RS256 signatures and argon2id hashes
    /// per CPU-second with the server's own backends. Needs no database.
    #[command(hide = true)]
    BenchBound {
        /// Seconds spent on each measurement.
        #[arg(long, default_value_t = 3.0)]
        seconds: f64,
    },
}

#[derive(Subcommand, Debug)]
#[expect(
    clippy::large_enum_variant,
    reason = "parsed once per run, and already boxed in Command"
)]
pub enum IdpCmd {
    /// Create or replace a pool's identity provider.
    Put {
        /// The user pool's id (`cognate pool list`).
        #[arg(long)]
        pool: String,
        /// The provider's name in this pool (e.g. Google); users become <name>_<subject>.
        #[arg(long)]
        name: String,
        /// Google, Facebook, LoginWithAmazon, SignInWithApple or OIDC.
        #[arg(long = "type")]
        provider_type: String,
        /// The client id the provider issued to this pool.
        #[arg(long)]
        client_id: String,
        /// The client secret (or COGNATE_IDP_CLIENT_SECRET); for SignInWithApple, the
        /// team's private key in PEM.
        #[arg(long, env = "COGNATE_IDP_CLIENT_SECRET", hide_env_values = true)]
        client_secret: Option<String>,
        /// Scopes asked of the provider (default: the type's usual set).
        #[arg(long)]
        authorize_scopes: Option<String>,
        /// Override the provider's authorization endpoint (default: the type's).
        #[arg(long)]
        authorize_url: Option<String>,
        /// Override the provider's token endpoint (default: the type's).
        #[arg(long)]
        token_url: Option<String>,
        /// Override the provider's profile endpoint (Facebook Graph `/me`, Amazon `/user/profile`).
        #[arg(long)]
        attributes_url: Option<String>,
        /// The OIDC provider's issuer; its discovery document supplies the endpoints not given.
        #[arg(long)]
        oidc_issuer: Option<String>,
        /// Override the provider's JWKS URL (default: from discovery).
        #[arg(long)]
        jwks_uri: Option<String>,
        /// Sign in with Apple: the Apple developer team id.
        #[arg(long)]
        team_id: Option<String>,
        /// Sign in with Apple: the id of the team's private key.
        #[arg(long)]
        key_id: Option<String>,
        /// pool_attribute=provider_attribute (repeat; default: Cognito's mapping).
        #[arg(long = "map", value_parser = parse_attribute)]
        mapping: Vec<(String, String)>,
        /// When a verified email matches a native user: separate, link or deny.
        #[arg(long, default_value = "separate")]
        linking: String,
        /// A name apps may pass as idp_identifier (repeat).
        #[arg(long = "idp-identifier")]
        idp_identifiers: Vec<String>,
    },
    /// List a pool's identity providers.
    List {
        /// The user pool's id (`cognate pool list`).
        #[arg(long)]
        pool: String,
    },
    /// Link a provider identity to an existing user (AdminLinkProviderForUser).
    Link {
        /// The user pool's id (`cognate pool list`).
        #[arg(long)]
        pool: String,
        /// The existing user to link the identity to.
        #[arg(long)]
        username: String,
        /// The provider's name in this pool (e.g. Google).
        #[arg(long)]
        provider: String,
        /// The provider's subject (Google/OIDC sub, Facebook id, Amazon user_id).
        #[arg(long)]
        subject: String,
    },
    /// Register an identity before its first sign-in, with groups and attributes.
    Preregister {
        /// The user pool's id (`cognate pool list`).
        #[arg(long)]
        pool: String,
        /// The provider's name in this pool (e.g. Google).
        #[arg(long)]
        provider: String,
        /// The provider's subject (Google/OIDC sub, Facebook id, Amazon user_id).
        #[arg(long, conflicts_with = "email", required_unless_present = "email")]
        subject: Option<String>,
        /// Matched only against an email the provider says is verified.
        #[arg(long)]
        email: Option<String>,
        /// A group the user joins at the first sign-in (repeat).
        #[arg(long = "group")]
        groups: Vec<String>,
        /// An attribute as name=value, set at the first sign-in (repeat).
        #[arg(long = "attribute", value_parser = parse_attribute)]
        attributes: Vec<(String, String)>,
    },
}

#[derive(Subcommand, Debug)]
pub enum TriggersCmd {
    /// The trigger log: invocations with their redacted events, newest first (JSON).
    Log {
        /// Only this pool's invocations (default: every pool's).
        #[arg(long)]
        pool: Option<String>,
        /// Only this trigger source (`PreSignUp_SignUp`, …).
        #[arg(long)]
        source: Option<String>,
        /// At most this many invocations.
        #[arg(long, default_value_t = 20, value_parser = clap::value_parser!(i64).range(1..=1000))]
        limit: i64,
        /// Keep printing new invocations (one JSON object a line) until interrupted.
        #[arg(long)]
        follow: bool,
    },
}

#[derive(Subcommand, Debug)]
pub enum OperatorCmd {
    /// Create an operator. Prints the authenticator key (`totp_secret`) and its
    /// `otpauth://` URI once: add it to an authenticator app now.
    Create {
        /// The operator's name (letters, digits, '.', '_', '-', '@').
        name: String,
        /// The password, at least 12 characters (or set COGNATE_OPERATOR_PASSWORD;
        /// without either it is asked for).
        #[arg(long, env = "COGNATE_OPERATOR_PASSWORD", hide_env_values = true)]
        password: Option<String>,
    },
    /// List operators.
    List,
    /// Delete an operator (its console sessions end).
    Delete {
        /// The operator's name.
        name: String,
    },
}

#[derive(Subcommand, Debug)]
pub enum PoolCmd {
    /// Make a new secret for the pool's webhook triggers and print it (the old one
    /// stops working at once).
    TriggerSecret {
        /// The user pool's id (`cognate pool list`).
        #[arg(long)]
        pool: String,
    },
    /// Create a pool (and its signing key).
    Create {
        /// The pool's name.
        #[arg(long)]
        name: String,
        /// The region in the pool's id (`<region>_<9 alphanumerics>`).
        #[arg(long, default_value = "us-east-1")]
        region: String,
        /// Declare a custom attribute: `team` or `custom:team`, `:immutable` after it for
        /// one that cannot change once set (repeat). Undeclared ones are refused.
        #[arg(long = "custom-attribute")]
        custom_attributes: Vec<String>,
    },
    /// List pools.
    List,
    /// Rotate a pool's signing key: a new key signs (on running instances within their
    /// key cache TTL), older keys stay in the JWKS so their tokens verify, and keys
    /// superseded more than --retire-after seconds ago are deleted.
    RotateKeys {
        /// The user pool's id (`cognate pool list`).
        #[arg(long)]
        pool: String,
        /// Keep superseded keys published this long (at least the longest ID/access
        /// token lifetime plus the key cache TTL; less than the TTL is refused).
        #[arg(long, default_value_t = crate::keys::DEFAULT_RETIRE_AFTER_SECONDS,
              value_parser = clap::value_parser!(i64).range(0..))]
        retire_after: i64,
        /// The servers' key cache TTL (`serve --key-cache-seconds`).
        #[arg(long, env = "COGNATE_KEY_CACHE_SECONDS",
              default_value_t = crate::keys::DEFAULT_KEY_CACHE_SECONDS)]
        key_cache_seconds: u64,
    },
    /// Sign everyone out: revoke the refresh tokens of sign-ins that began at or before
    /// --issued-before (default: now; the whole of that second counts) and end all
    /// hosted-UI sessions. Run it after
    /// restoring a backup, with the restore time, so that tokens revoked after the
    /// backup was taken stay revoked.
    GlobalSignOut {
        /// The pool to sign out (or --all-pools).
        #[arg(
            long,
            required_unless_present = "all_pools",
            conflicts_with = "all_pools"
        )]
        pool: Option<String>,
        /// Sign out every pool's users.
        #[arg(long)]
        all_pools: bool,
        /// Unix seconds or RFC 3339 (`2026-12-04T18:00:00Z`).
        #[arg(long, value_parser = parse_time)]
        issued_before: Option<i64>,
    },
    /// Change a pool's settings; options not given keep their value.
    Update {
        /// The user pool's id (`cognate pool list`).
        #[arg(long)]
        pool: String,
        /// Use the email address as the username (`true`/`false`).
        #[arg(long)]
        email_as_username: Option<bool>,
        /// Standard attributes sign-up must collect (repeat; replaces the list).
        #[arg(long = "required-attribute")]
        required_attributes: Vec<String>,
        /// Whether people may sign themselves up.
        #[arg(long)]
        allow_self_signup: Option<bool>,
        /// Hide whether an account exists from sign-up (Cognito's
        /// PreventUserExistenceErrors).
        #[arg(long)]
        prevent_user_existence_errors: Option<bool>,
        /// Minimum password length.
        #[arg(long)]
        password_min_length: Option<usize>,
        /// Require an uppercase letter, a lowercase letter, a number and a symbol.
        #[arg(long)]
        password_require_all_classes: Option<bool>,
        /// Set a trigger: `PreSignUp=<Lambda ARN or https URL>` (repeat); an empty
        /// target (`PreSignUp=`) removes it.
        #[arg(long = "trigger", value_parser = parse_attribute)]
        triggers: Vec<(String, String)>,
    },
}

#[derive(Subcommand, Debug)]
pub enum ClientCmd {
    /// Create an app client; settings not given take their defaults.
    Create {
        /// The user pool's id (`cognate pool list`).
        #[arg(long)]
        pool: String,
        /// The client's name (shown on the hosted pages).
        #[arg(long)]
        name: String,
        /// Generate a client secret (a confidential client); without it the client is
        /// public and must use PKCE.
        #[arg(long)]
        secret: bool,
        #[command(flatten)]
        settings: ClientSettingsArgs,
    },
    /// Change an app client's settings; options not given keep their value.
    Update {
        /// The user pool's id (`cognate pool list`).
        #[arg(long)]
        pool: String,
        /// The client's id (`cognate client list`).
        #[arg(long)]
        client_id: String,
        #[command(flatten)]
        settings: ClientSettingsArgs,
    },
    /// List a pool's clients.
    List {
        /// The user pool's id (`cognate pool list`).
        #[arg(long)]
        pool: String,
    },
}

#[derive(Subcommand, Debug)]
pub enum UserCmd {
    /// Create a user.
    Create {
        /// The user pool's id (`cognate pool list`).
        #[arg(long)]
        pool: String,
        /// The username (or the email address, in a pool that uses email as username).
        #[arg(long)]
        username: String,
        /// The password (or set COGNATE_USER_PASSWORD to keep it out of the process list).
        #[arg(long, env = "COGNATE_USER_PASSWORD", hide_env_values = true)]
        password: Option<String>,
        /// An attribute as name=value (repeat for several).
        #[arg(long = "attribute", value_parser = parse_attribute)]
        attributes: Vec<(String, String)>,
        /// CONFIRMED, UNCONFIRMED or FORCE_CHANGE_PASSWORD.
        #[arg(long, default_value = "CONFIRMED")]
        status: String,
        /// A password hash exported by another system instead of a password: a PHC
        /// string (argon2id/argon2i, scrypt, pbkdf2-sha256/-sha512) or bcrypt
        /// ($2a$/$2b$/$2y$). It becomes argon2id at the user's first sign-in.
        #[arg(long, conflicts_with = "password")]
        password_hash: Option<String>,
        /// Instead of a password: generate a temporary one, printed once (as
        /// `temporary_password`), which the user replaces at the first sign-in
        /// (FORCE_CHANGE_PASSWORD), as AdminCreateUser does; nothing is mailed.
        #[arg(long, conflicts_with_all = ["password", "password_hash", "status"])]
        temporary_password: bool,
    },
    /// List a pool's users.
    List {
        /// The user pool's id (`cognate pool list`).
        #[arg(long)]
        pool: String,
    },
    /// Import users from JSON lines (`{"username", "attributes", "status",
    /// "password_hash"}` per line) or CSV in Cognito's import format (a `.csv` file;
    /// `password_hash` may be added as a column). Prints a summary: imported, skipped
    /// (username taken) and failed lines with their reasons.
    Import {
        /// The user pool's id (`cognate pool list`).
        #[arg(long)]
        pool: String,
        /// The file.
        file: String,
    },
}

#[derive(Subcommand, Debug)]
pub enum GroupCmd {
    /// Create a group.
    Create {
        /// The user pool's id (`cognate pool list`).
        #[arg(long)]
        pool: String,
        /// The group's name (appears in `cognito:groups`).
        #[arg(long)]
        name: String,
        /// A description of the group.
        #[arg(long)]
        description: Option<String>,
        /// Precedence: the lowest number's role wins in `cognito:preferred_role` (0 or more).
        #[arg(long)]
        precedence: Option<i64>,
    },
    /// List a pool's groups.
    List {
        /// The user pool's id (`cognate pool list`).
        #[arg(long)]
        pool: String,
    },
    /// Add a user to a group.
    AddUser {
        /// The user pool's id (`cognate pool list`).
        #[arg(long)]
        pool: String,
        /// The group's name.
        #[arg(long)]
        group: String,
        /// The user's username.
        #[arg(long)]
        username: String,
    },
    /// Remove a user from a group.
    RemoveUser {
        /// The user pool's id (`cognate pool list`).
        #[arg(long)]
        pool: String,
        /// The group's name.
        #[arg(long)]
        group: String,
        /// The user's username.
        #[arg(long)]
        username: String,
    },
}

/// The app-client settings `client create` and `client update` set, applied onto
/// [`ClientSettings`] in one place: an option not given keeps the default (create)
/// or the current value (update); a list option replaces the whole list.
#[derive(clap::Args, Debug)]
pub struct ClientSettingsArgs {
    /// Callback URL (repeat for several).
    #[arg(long = "callback-url")]
    callback_urls: Vec<String>,
    /// Logout URL (repeat for several).
    #[arg(long = "logout-url")]
    logout_urls: Vec<String>,
    /// Allowed scopes, space-separated (default "openid email profile").
    #[arg(long)]
    scopes: Option<String>,
    /// ID token validity in seconds (default 3600).
    #[arg(long)]
    id_token_validity: Option<i64>,
    /// Access token validity in seconds (default 3600).
    #[arg(long)]
    access_token_validity: Option<i64>,
    /// Refresh token validity in seconds (default 30 days).
    #[arg(long)]
    refresh_token_validity: Option<i64>,
    /// Rotate refresh tokens: each use returns a new one, and a used one presented
    /// again revokes the sign-in (default off, as on Cognito; turn it on for public
    /// clients).
    #[arg(long, value_parser = ["enabled", "disabled"])]
    refresh_token_rotation: Option<String>,
    /// Seconds a used refresh token may be retried (0 to 60; default 0: a second use
    /// revokes the sign-in).
    #[arg(long)]
    refresh_retry_grace: Option<i64>,
    /// An OAuth flow the client may use at /oauth2/token: code, or client_credentials
    /// for a confidential client with custom scopes (repeat; replaces the list; default
    /// code). Cognito's AllowedOAuthFlows.
    #[arg(long = "oauth-flow", value_parser = [crate::clients::FLOW_CODE, crate::clients::FLOW_CLIENT_CREDENTIALS])]
    oauth_flows: Vec<String>,
    /// A Cognito API sign-in flow the client allows (repeat; replaces the list; default
    /// ALLOW_USER_SRP_AUTH and ALLOW_REFRESH_TOKEN_AUTH). Cognito's ExplicitAuthFlows.
    #[arg(long = "explicit-auth-flow", value_parser = clap::builder::PossibleValuesParser::new(crate::clients::AUTH_FLOWS))]
    explicit_auth_flows: Vec<String>,
    /// An attribute this client may read in ID tokens, at userInfo and through GetUser
    /// (repeat; replaces the list; none: every attribute). Cognito's ReadAttributes.
    #[arg(long = "read-attribute")]
    read_attributes: Vec<String>,
    /// Minutes a sign-in challenge's session lasts (3 to 15; default 3). Cognito's
    /// AuthSessionValidity.
    #[arg(long)]
    auth_session_validity: Option<i64>,
    /// Whether the client's refresh tokens may be revoked (RevokeToken, /oauth2/revoke;
    /// default enabled). Cognito's EnableTokenRevocation.
    #[arg(long, value_parser = ["enabled", "disabled"])]
    token_revocation: Option<String>,
    #[command(flatten)]
    relay: RelayArgs,
    #[command(flatten)]
    branding: BrandingArgs,
}

/// Each [`ClientSettings`] field (as stored) and the `client create|update` option that
/// sets it; empty for those no option sets. A test holds it to the struct, so a new
/// setting cannot be left out of the CLI unnoticed.
#[cfg(test)]
const SETTING_OPTIONS: &[(&str, &str)] = &[
    ("name", "name"),
    ("callback_urls", "callback-url"),
    ("logout_urls", "logout-url"),
    ("allowed_scopes", "scopes"),
    ("allowed_flows", "oauth-flow"),
    ("id_token_validity", "id-token-validity"),
    ("access_token_validity", "access-token-validity"),
    ("refresh_token_validity", "refresh-token-validity"),
    ("state_relay", "return-to"),
    ("branding", "page-title"),
    ("write_attributes", "write-attribute"),
    ("read_attributes", "read-attribute"),
    ("auth_session_validity", "auth-session-validity"),
    ("enable_token_revocation", "token-revocation"),
    ("supported_identity_providers", "identity-provider"),
    ("explicit_auth_flows", "explicit-auth-flow"),
    ("refresh_token_retry_grace", "refresh-retry-grace"),
    ("refresh_token_rotation", "refresh-token-rotation"),
    // What the Cognito API was sent, reported back as sent: the API's alone.
    ("reported", ""),
];

impl ClientSettingsArgs {
    /// The change these options make, once the files they name are read.
    fn into_change(self) -> anyhow::Result<impl FnOnce(&mut ClientSettings)> {
        let css = self
            .branding
            .css_file
            .as_ref()
            .map(|path| {
                std::fs::read_to_string(path).with_context(|| format!("read {}", path.display()))
            })
            .transpose()?;
        Ok(move |s: &mut ClientSettings| {
            replace_list(&mut s.callback_urls, self.callback_urls);
            replace_list(&mut s.logout_urls, self.logout_urls);
            if let Some(scopes) = self.scopes {
                s.allowed_scopes = scopes.split_whitespace().map(str::to_string).collect();
            }
            let validities = [
                (&mut s.id_token_validity, self.id_token_validity),
                (&mut s.access_token_validity, self.access_token_validity),
                (&mut s.refresh_token_validity, self.refresh_token_validity),
                (&mut s.refresh_token_retry_grace, self.refresh_retry_grace),
            ];
            for (setting, given) in validities {
                if let Some(value) = given {
                    *setting = value;
                }
            }
            if let Some(rotation) = self.refresh_token_rotation {
                s.refresh_token_rotation = rotation == "enabled";
            }
            replace_list(&mut s.allowed_flows, self.oauth_flows);
            replace_list(&mut s.explicit_auth_flows, self.explicit_auth_flows);
            replace_list(&mut s.read_attributes, self.read_attributes);
            if let Some(minutes) = self.auth_session_validity {
                s.auth_session_validity = minutes;
            }
            if let Some(revocation) = self.token_revocation {
                s.enable_token_revocation = revocation == "enabled";
            }
            self.relay.apply(&mut s.state_relay);
            self.branding.apply(s, css);
        })
    }
}

/// A list option replaces the list when given at all.
fn replace_list(list: &mut Vec<String>, given: Vec<String>) {
    if !given.is_empty() {
        *list = given;
    }
}

/// Overloaded-state settings of a client.
#[derive(clap::Args, Debug)]
pub struct RelayArgs {
    /// An allowed return-to URL prefix for an overloaded state `<nonce>_<return-to>`
    /// (repeat for several; replaces the list).
    #[arg(long = "return-to")]
    return_to: Vec<String>,
    /// Remove the return-to allow-list (the state becomes opaque again).
    #[arg(long, conflicts_with = "return_to")]
    clear_return_to: bool,
    /// The character between the nonce and the return-to (default `_`).
    #[arg(long)]
    state_separator: Option<char>,
    /// How the return-to part is encoded: plain, hex or base64url.
    #[arg(long, value_parser = ["plain", "hex", "base64url"])]
    state_encoding: Option<String>,
}

impl RelayArgs {
    fn apply(self, relay: &mut StateRelay) {
        if self.clear_return_to {
            relay.allow_list.clear();
        }
        replace_list(&mut relay.allow_list, self.return_to);
        if let Some(sep) = self.state_separator {
            relay.separator = sep;
        }
        if let Some(encoding) = self
            .state_encoding
            .as_deref()
            .and_then(StateEncoding::parse)
        {
            relay.encoding = encoding;
        }
    }
}

/// How a client's hosted pages look, and what its sign-up form collects.
#[derive(clap::Args, Debug)]
pub struct BrandingArgs {
    /// The name the hosted pages show users for this client (default: its name).
    #[arg(long)]
    display_name: Option<String>,
    /// The page title shown in the browser tab.
    #[arg(long)]
    page_title: Option<String>,
    /// An https URL of the logo shown above every form.
    #[arg(long)]
    logo_url: Option<String>,
    /// The accent colour (buttons, links, focus), e.g. #2454d6.
    #[arg(long)]
    primary_color: Option<String>,
    /// The page background colour.
    #[arg(long)]
    background_color: Option<String>,
    /// A stylesheet file applied after the defaults (anything may be restyled).
    #[arg(long)]
    css_file: Option<std::path::PathBuf>,
    /// An attribute users of this client may write (repeat; replaces the list; none:
    /// every attribute). The `custom:*` ones are offered at sign-up.
    #[arg(long = "write-attribute")]
    write_attributes: Vec<String>,
    /// An identity provider the client offers: COGNITO or a provider name (repeat;
    /// replaces the list).
    #[arg(long = "identity-provider")]
    identity_providers: Vec<String>,
}

impl BrandingArgs {
    /// Applies the options; `css` is the stylesheet file's text, read beforehand.
    fn apply(self, s: &mut ClientSettings, css: Option<String>) {
        let b = &mut s.branding;
        b.display_name = self.display_name.or(b.display_name.take());
        b.page_title = self.page_title.or(b.page_title.take());
        b.logo_url = self.logo_url.or(b.logo_url.take());
        b.primary_color = self.primary_color.or(b.primary_color.take());
        b.background_color = self.background_color.or(b.background_color.take());
        b.css = css.or(b.css.take());
        replace_list(&mut s.write_attributes, self.write_attributes);
        replace_list(&mut s.supported_identity_providers, self.identity_providers);
    }
}

fn parse_attribute(s: &str) -> Result<(String, String), String> {
    s.split_once('=')
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .ok_or_else(|| format!("{s:?} is not name=value"))
}

/// An auth event kind by its name.
fn parse_kind(s: &str) -> Result<crate::events::Kind, String> {
    crate::events::Kind::parse(s).ok_or_else(|| {
        let names: Vec<_> = crate::events::Kind::ALL.iter().map(|k| k.name()).collect();
        format!("{s:?} is not an event kind ({})", names.join(", "))
    })
}

/// `cognate events`: prints matching events as JSON lines, newest first; with
/// `follow`, then polls for newer ones and prints them as they come.
async fn print_events(
    app: &AppState,
    mut filter: crate::store::AuthEventFilter<'_>,
    follow: bool,
) -> anyhow::Result<()> {
    use std::io::Write;
    let events = app.store.auth_events(&filter).await?;
    let mut out = std::io::stdout().lock();
    for e in &events {
        writeln!(out, "{}", serde_json::to_string(e)?)?;
    }
    out.flush()?;
    drop(out);
    if !follow {
        return Ok(());
    }
    filter.oldest_first = true;
    filter.after_id = Some(events.first().map_or(0, |e| e.id));
    if events.is_empty() {
        // Nothing matched yet: start after the newest event of any kind.
        let newest = app
            .store
            .auth_events(&crate::store::AuthEventFilter {
                limit: 1,
                ..Default::default()
            })
            .await?;
        filter.after_id = Some(newest.first().map_or(0, |e| e.id));
    }
    loop {
        tokio::time::sleep(std::time::Duration::from_millis(500)).await;
        let mut out = std::io::stdout().lock();
        for e in app.store.auth_events(&filter).await? {
            filter.after_id = Some(e.id);
            writeln!(out, "{}", serde_json::to_string(&e)?)?;
        }
        out.flush()?;
    }
}

/// A time on the command line: Unix seconds or RFC 3339.
fn parse_time(s: &str) -> Result<i64, String> {
    if let Ok(seconds) = s.parse::<i64>() {
        return Ok(seconds);
    }
    time::OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339)
        .map(|t| t.unix_timestamp())
        .map_err(|e| format!("{s:?} is neither Unix seconds nor RFC 3339: {e}"))
}

/// Runs a parsed command line.
pub async fn run(cli: Cli) -> anyhow::Result<()> {
    if let Command::Serve(args) = &cli.command {
        return crate::server::serve(&cli.store, args).await;
    }
    if let Command::BenchBound { seconds } = cli.command {
        let out = tokio::task::spawn_blocking(move || crate::bench_bound::run(seconds)).await??;
        println!("{out}");
        return Ok(());
    }
    if let Command::Plan(args) | Command::Apply(args) = &cli.command {
        let desired = crate::declared::load(&args.file).map_err(|problems| {
            for p in &problems.0 {
                eprintln!("{}: {p}", args.file.display());
            }
            anyhow::anyhow!("{} problem(s) in {}", problems.0.len(), args.file.display())
        })?;
        let app =
            crate::server::open(&cli.store, Config::new("http://127.0.0.1:9229", None)?).await?;
        let applying = matches!(cli.command, Command::Apply(_));
        let pools = if applying {
            crate::declared::apply(&app, &desired, args.prune).await?
        } else {
            crate::declared::plan(&app, &desired, args.prune).await?
        };
        for pool in &pools {
            print!("{}", pool.render());
            if applying && !pool.changes.is_empty() {
                // One admin change per pool the file changed; its plan text says what.
                let event = Event::admin(Actor::Cli, "apply", Some(&pool.pool_id), None);
                crate::events::sink::write_now(&app.store, event, app.clock.now()).await?;
            }
        }
        let changes: usize = pools.iter().map(|p| p.changes.len()).sum();
        match (changes, applying) {
            (0, _) => println!("No changes."),
            (n, true) => println!("Applied {n} change(s)."),
            (n, false) => println!("{n} change(s) to apply."),
        }
        return Ok(());
    }
    if let Command::ImportFromCognito {
        pool,
        region,
        endpoint_url,
        leave_users_to_migration,
        out,
    } = cli.command
    {
        let options = crate::declared::from_cognito::ImportOptions {
            pool_id: pool,
            region,
            endpoint_url,
            secrets_dir: out.secrets_dir.clone(),
            leave_users_to_migration,
        };
        let imported = crate::declared::from_cognito::import(&options).await?;
        for note in &imported.notes {
            if note.starts_with("warning: ") {
                eprintln!("{note}");
            } else {
                eprintln!("note: {note}");
            }
        }
        return write_document(&imported.document, out);
    }
    if let Command::Demo { public_url, env } = &cli.command {
        let app = crate::server::open(&cli.store, Config::new(public_url, None)?).await?;
        let facts = crate::demo::facts(&app).await?;
        print!("{}", if *env { facts.env() } else { facts.text() });
        return Ok(());
    }
    let app = crate::server::open(&cli.store, Config::new("http://127.0.0.1:9229", None)?).await?;
    if let Command::Export {
        pools,
        with_password_hashes,
        out,
    } = cli.command
    {
        if with_password_hashes {
            eprintln!(
                "warning: the file holds password hashes; keep it as carefully as the database"
            );
        }
        let options = crate::declared::ExportOptions {
            pools,
            with_password_hashes,
            secrets_dir: out.secrets_dir.clone(),
        };
        let exported = crate::declared::export(&app, &options).await?;
        for name in &exported.env_needed {
            eprintln!("note: set {name} to the provider's client secret before `apply`");
        }
        return write_document(&exported.document, out);
    }
    if let Command::Events {
        pool,
        user,
        kind,
        since,
        limit,
        follow,
    } = &cli.command
    {
        let filter = crate::store::AuthEventFilter {
            pool_id: pool.as_deref(),
            username: user.as_deref(),
            kind: kind.map(|k| k.name()),
            since: *since,
            limit: *limit,
            ..Default::default()
        };
        return print_events(&app, filter, *follow).await;
    }
    let change = admin_change(&cli.command).map(|(action, pool, target)| {
        (action, pool.map(str::to_string), target.map(str::to_string))
    });
    let out = admin(&app, cli.command).await;
    if let Some((action, pool, target)) = change {
        let mut event = Event::admin(Actor::Cli, action, pool.as_deref(), target.as_deref());
        if out.is_err() {
            event = event.failed(Reason::Refused);
        }
        crate::events::sink::write_now(&app.store, event, app.clock.now()).await?;
    }
    println!("{}", serde_json::to_string_pretty(&out?)?);
    Ok(())
}

/// A command that changes something, as an admin change: its name, pool and the
/// object it acts on. Reads (lists, logs) are none.
fn admin_change(command: &Command) -> Option<(&'static str, Option<&str>, Option<&str>)> {
    fn some(s: &str) -> Option<&str> {
        Some(s)
    }
    Some(match command {
        Command::Pool(PoolCmd::Create { name, .. }) => ("pool create", None, some(name)),
        Command::Pool(PoolCmd::RotateKeys { pool, .. }) => ("pool rotate-keys", some(pool), None),
        Command::Pool(PoolCmd::GlobalSignOut { pool, .. }) => {
            ("pool global-sign-out", pool.as_deref(), None)
        }
        Command::Pool(PoolCmd::Update { pool, .. }) => ("pool update", some(pool), None),
        Command::Pool(PoolCmd::TriggerSecret { pool }) => ("pool trigger-secret", some(pool), None),
        Command::Client(cmd) => match &**cmd {
            ClientCmd::Create { pool, name, .. } => ("client create", some(pool), some(name)),
            ClientCmd::Update {
                pool, client_id, ..
            } => ("client update", some(pool), some(client_id)),
            ClientCmd::List { .. } => return None,
        },
        Command::User(UserCmd::Create { pool, username, .. }) => {
            ("user create", some(pool), some(username))
        }
        Command::User(UserCmd::Import { pool, .. }) => ("user import", some(pool), None),
        Command::Group(GroupCmd::Create { pool, name, .. }) => {
            ("group create", some(pool), some(name))
        }
        Command::Group(GroupCmd::AddUser { pool, username, .. }) => {
            ("group add-user", some(pool), some(username))
        }
        Command::Group(GroupCmd::RemoveUser { pool, username, .. }) => {
            ("group remove-user", some(pool), some(username))
        }
        Command::Idp(cmd) => match &**cmd {
            IdpCmd::Put { pool, name, .. } => ("idp put", some(pool), some(name)),
            IdpCmd::Link { pool, username, .. } => ("idp link", some(pool), some(username)),
            IdpCmd::Preregister { pool, provider, .. } => {
                ("idp preregister", some(pool), some(provider))
            }
            IdpCmd::List { .. } => return None,
        },
        Command::Operator(OperatorCmd::Create { name, .. }) => {
            ("operator create", None, some(name))
        }
        Command::Operator(OperatorCmd::Delete { name }) => ("operator delete", None, some(name)),
        _ => return None,
    })
}

/// Asks for a new operator's password on the terminal (twice, without echo where the
/// terminal allows it), or reads one line from a pipe.
fn prompt_password() -> anyhow::Result<String> {
    use std::io::{BufRead, IsTerminal, Write};
    let stdin = std::io::stdin();
    let tty = stdin.is_terminal();
    let echo = |on: bool| {
        if tty {
            let _ = std::process::Command::new("stty")
                .arg(if on { "echo" } else { "-echo" })
                .stdin(std::process::Stdio::inherit())
                .status();
        }
    };
    let read = |label: &str| -> anyhow::Result<String> {
        if tty {
            eprint!("{label}: ");
            std::io::stderr().flush()?;
        }
        echo(false);
        let mut line = String::new();
        let got = stdin.lock().read_line(&mut line);
        echo(true);
        if tty {
            eprintln!();
        }
        got.context("read the password")?;
        Ok(line.trim_end_matches(['\r', '\n']).to_string())
    };
    let password = read("Password")?;
    if tty && read("Password again")? != password {
        bail!("the passwords differ");
    }
    if password.is_empty() {
        bail!("give the operator a password: COGNATE_OPERATOR_PASSWORD, --password, or type it");
    }
    Ok(password)
}

/// Writes a file of `plan`/`apply`'s format as YAML or JSON, to `output` or stdout.
fn write_document(document: &Value, out: FileOutput) -> anyhow::Result<()> {
    let text = match out.format.as_str() {
        "json" => serde_json::to_string_pretty(document)? + "\n",
        _ => serde_yaml_ng::to_string(document)?,
    };
    match out.output {
        Some(path) => {
            std::fs::write(&path, text).with_context(|| format!("write {}", path.display()))
        }
        None => {
            print!("{text}");
            Ok(())
        }
    }
}

/// Sets (or with an empty target removes) one trigger of `config`; false for a name
/// that is not a trigger.
fn set_trigger(config: &mut crate::triggers::LambdaConfig, name: &str, target: String) -> bool {
    let target = (!target.is_empty()).then_some(target);
    let slot = match name {
        "PreSignUp" => &mut config.pre_sign_up,
        "CustomMessage" => &mut config.custom_message,
        "PostConfirmation" => &mut config.post_confirmation,
        "PreAuthentication" => &mut config.pre_authentication,
        "PostAuthentication" => &mut config.post_authentication,
        "DefineAuthChallenge" => &mut config.define_auth_challenge,
        "CreateAuthChallenge" => &mut config.create_auth_challenge,
        "VerifyAuthChallengeResponse" => &mut config.verify_auth_challenge_response,
        "PreTokenGeneration" => &mut config.pre_token_generation,
        "UserMigration" => &mut config.user_migration,
        _ => return false,
    };
    *slot = target;
    true
}

/// `team`, `custom:team` or `team:immutable` as a declared string attribute.
fn declaration(spec: &str) -> crate::users::schema::SchemaAttribute {
    let spec = spec.strip_prefix("custom:").unwrap_or(spec);
    let (name, immutable) = match spec.strip_suffix(":immutable") {
        Some(name) => (name, true),
        None => (spec, false),
    };
    let mut a = crate::users::schema::SchemaAttribute::string(&format!("custom:{name}"));
    a.mutable = !immutable;
    a
}

async fn admin(app: &AppState, command: Command) -> anyhow::Result<Value> {
    Ok(match command {
        Command::Serve(_)
        | Command::BenchBound { .. }
        | Command::Plan(_)
        | Command::Apply(_)
        | Command::Export { .. }
        | Command::Demo { .. }
        | Command::Events { .. }
        | Command::ImportFromCognito { .. } => unreachable!("handled by run"),
        Command::Pool(PoolCmd::Create {
            name,
            region,
            custom_attributes,
        }) => {
            let schema: Vec<_> = custom_attributes.iter().map(|a| declaration(a)).collect();
            json!(
                crate::pool::create_with_settings(
                    app,
                    &name,
                    &region,
                    crate::pool::PoolSettings::default(),
                    &schema
                )
                .await?
            )
        }
        Command::Pool(PoolCmd::List) => json!(app.store.pools().await?),
        Command::Pool(PoolCmd::RotateKeys {
            pool,
            retire_after,
            key_cache_seconds,
        }) => {
            app.keys.set_cache_ttl(key_cache_seconds);
            json!(
                app.keys
                    .rotate(&app.store, &pool, app.clock.now(), retire_after)
                    .await?
                    .with_context(|| format!("no user pool {pool}"))?
            )
        }
        Command::Pool(PoolCmd::GlobalSignOut {
            pool,
            all_pools: _,
            issued_before,
        }) => {
            let now = app.clock.now();
            if let Some(pool) = &pool {
                app.store
                    .pool_by_id(pool)
                    .await?
                    .with_context(|| format!("no user pool {pool}"))?;
            }
            let before = issued_before.unwrap_or(now);
            let revoked = app
                .store
                .global_sign_out(pool.as_deref(), before, now)
                .await?;
            json!({ "revoked_sign_ins": revoked, "issued_before": before })
        }
        Command::Pool(PoolCmd::Update {
            pool,
            email_as_username,
            required_attributes,
            allow_self_signup,
            prevent_user_existence_errors,
            password_min_length,
            password_require_all_classes,
            triggers,
        }) => {
            if let Some((name, _)) = triggers
                .iter()
                .find(|(name, _)| !set_trigger(&mut Default::default(), name, String::new()))
            {
                anyhow::bail!("{name:?} is not a trigger (PreSignUp, PostConfirmation, …)");
            }
            json!(
                crate::pool::update(app, &pool, |s| {
                    for (name, target) in triggers {
                        set_trigger(&mut s.lambda_config, &name, target);
                    }
                    if let Some(on) = email_as_username {
                        s.username_attributes = if on { vec!["email".into()] } else { Vec::new() };
                    }
                    if !required_attributes.is_empty() {
                        s.required_attributes = required_attributes;
                    }
                    if let Some(on) = allow_self_signup {
                        s.allow_self_signup = on;
                    }
                    if let Some(on) = prevent_user_existence_errors {
                        s.prevent_user_existence_errors = on;
                    }
                    if let Some(n) = password_min_length {
                        s.password_policy.minimum_length = n;
                    }
                    if let Some(on) = password_require_all_classes {
                        let p = &mut s.password_policy;
                        (
                            p.require_uppercase,
                            p.require_lowercase,
                            p.require_numbers,
                            p.require_symbols,
                        ) = (on, on, on, on);
                    }
                })
                .await?
            )
        }
        Command::Pool(PoolCmd::TriggerSecret { pool }) => {
            let mut secret = String::new();
            crate::pool::update(app, &pool, |s| {
                secret = crate::triggers::new_secret(app, &pool, s);
            })
            .await?;
            json!({
                "pool_id": pool,
                "secret": secret,
                "headers": "Standard Webhooks 1.0: webhook-id, webhook-timestamp, webhook-signature: v1,<base64 HMAC-SHA256(base64-decoded secret after whsec_, \"<id>.<timestamp>.<body>\")>",
                "previous_secret_signs_for_seconds": crate::triggers::ROTATION_OVERLAP_SECONDS,
            })
        }
        Command::Triggers(TriggersCmd::Log {
            pool,
            source,
            limit,
            follow,
        }) => {
            let mut filter = crate::store::TriggerLogFilter {
                pool_id: pool.as_deref(),
                trigger_source: source.as_deref(),
                limit,
                ..Default::default()
            };
            let entries = app.store.trigger_log(&filter).await?;
            if !follow {
                return Ok(json!(entries));
            }
            let mut last = entries.first().map_or(0, |e| e.id);
            for e in entries.iter().rev() {
                println!("{}", serde_json::to_string(e)?);
            }
            loop {
                tokio::time::sleep(std::time::Duration::from_millis(500)).await;
                filter.after_id = Some(last);
                for e in app.store.trigger_log(&filter).await? {
                    last = e.id;
                    println!("{}", serde_json::to_string(&e)?);
                }
            }
        }
        Command::Client(cmd) => client_admin(app, *cmd).await?,
        Command::Idp(cmd) => idp_admin(app, *cmd).await?,
        Command::Operator(OperatorCmd::Create { name, password }) => {
            let password = match password {
                Some(p) => p,
                None => prompt_password()?,
            };
            json!(crate::operators::create(app, &name, &password).await?)
        }
        Command::Operator(OperatorCmd::List) => json!(crate::operators::list(app).await?),
        Command::Operator(OperatorCmd::Delete { name }) => {
            crate::operators::delete(app, &name).await?;
            json!({ "deleted": name })
        }
        Command::User(UserCmd::Create {
            pool,
            username,
            password,
            attributes,
            status,
            password_hash,
            temporary_password,
        }) => {
            let attributes: BTreeMap<_, _> = attributes.into_iter().collect();
            let pool = app
                .store
                .pool_by_id(&pool)
                .await?
                .with_context(|| format!("no user pool {pool}"))?;
            // A user the pool's own sign-up would refuse for a missing attribute.
            pool.settings
                .check_required(&attributes)
                .map_err(anyhow::Error::msg)?;
            if temporary_password {
                return temporary_user(app, &pool, username, attributes).await;
            }
            let pool = pool.pool_id;
            let status = match UserStatus::parse(&status) {
                Some(
                    s @ (UserStatus::Confirmed
                    | UserStatus::Unconfirmed
                    | UserStatus::ForceChangePassword),
                ) => s,
                _ => bail!("status must be CONFIRMED, UNCONFIRMED or FORCE_CHANGE_PASSWORD"),
            };
            let user = match (password_hash, password) {
                (Some(hash), _) => {
                    crate::users::create_with_hash(app, &pool, &username, &hash, status, attributes)
                        .await?
                }
                (None, Some(password)) => {
                    crate::users::create(app, &pool, &username, Some(&password), status, attributes)
                        .await?
                }
                // A user without any password could never sign in.
                (None, None) => bail!(
                    "give the user a password: --password (or COGNATE_USER_PASSWORD), \
                     --password-hash, or --temporary-password to generate one"
                ),
            };
            json!(user)
        }
        Command::User(UserCmd::List { pool }) => json!(app.store.users(&pool).await?),
        Command::User(UserCmd::Import { pool, file }) => {
            json!(import_users(app, &pool, &file).await?)
        }
        Command::Group(GroupCmd::Create {
            pool,
            name,
            description,
            precedence,
        }) => json!(
            crate::groups::create(app, &pool, &name, description.as_deref(), precedence).await?
        ),
        Command::Group(GroupCmd::List { pool }) => json!(app.store.groups(&pool).await?),
        Command::Group(GroupCmd::AddUser {
            pool,
            group,
            username,
        }) => {
            crate::groups::set_membership(app, &pool, &group, &username, true).await?;
            json!({ "pool_id": pool, "group_name": group, "username": username, "member": true })
        }
        Command::Group(GroupCmd::RemoveUser {
            pool,
            group,
            username,
        }) => {
            crate::groups::set_membership(app, &pool, &group, &username, false)
                .await
                .context("remove membership")?;
            json!({ "pool_id": pool, "group_name": group, "username": username, "member": false })
        }
        Command::Outbox { to, limit } => json!(app.store.outbox(to.as_deref(), limit).await?),
    })
}

/// `user create --temporary-password`: AdminCreateUser's own operation (its checks, the
/// pre sign-up trigger) with a generated password, printed this once.
async fn temporary_user(
    app: &AppState,
    pool: &crate::pool::Pool,
    username: String,
    attributes: BTreeMap<String, String>,
) -> anyhow::Result<Value> {
    use crate::users::admin::{Invitation, create_user, generate_password};
    let temporary = generate_password(&pool.settings.password_policy);
    let invite = Invitation {
        username,
        attributes,
        temporary_password: Some(temporary.clone()),
        send: false,
        ..Invitation::default()
    };
    let mut out = json!(create_user(app, pool, invite).await?);
    out["temporary_password"] = json!(temporary);
    Ok(out)
}

async fn client_admin(app: &AppState, command: ClientCmd) -> anyhow::Result<Value> {
    Ok(match command {
        ClientCmd::Create {
            pool,
            name,
            secret,
            settings,
        } => {
            let mut new = ClientSettings::new(&name);
            (settings.into_change()?)(&mut new);
            let secret = if secret {
                NewSecret::Generate
            } else {
                NewSecret::None
            };
            let (client, secret) = crate::clients::create(app, &pool, &new, secret).await?;
            if client.is_public() && !client.refresh_token_rotation {
                eprintln!(
                    "warning: {} is a public client without refresh-token rotation: a leaked \
                     refresh token stays usable until it expires. Consider \
                     --refresh-token-rotation enabled.",
                    client.client_id
                );
            }
            let mut out = json!(client);
            out["client_secret"] = json!(secret);
            out
        }
        ClientCmd::Update {
            pool,
            client_id,
            settings,
        } => json!(crate::clients::update(app, &pool, &client_id, settings.into_change()?).await?),
        ClientCmd::List { pool } => json!(app.store.clients(&pool).await?),
    })
}

async fn idp_admin(app: &AppState, command: IdpCmd) -> anyhow::Result<Value> {
    use crate::federation::{self, LinkingPolicy, NewProvider, ProviderDetails, ProviderType};
    Ok(match command {
        IdpCmd::Put {
            pool,
            name,
            provider_type,
            client_id,
            client_secret,
            authorize_scopes,
            authorize_url,
            token_url,
            attributes_url,
            oidc_issuer,
            jwks_uri,
            team_id,
            key_id,
            mapping,
            linking,
            idp_identifiers,
        } => {
            let provider_type = ProviderType::parse(&provider_type).context(
                "--type must be Google, Facebook, LoginWithAmazon, SignInWithApple or OIDC",
            )?;
            let linking_policy = LinkingPolicy::parse(&linking)
                .context("--linking must be separate, link or deny")?;
            let new = NewProvider {
                provider_name: name,
                provider_type,
                details: ProviderDetails {
                    client_id,
                    authorize_scopes: authorize_scopes.unwrap_or_default(),
                    authorize_url,
                    token_url,
                    attributes_url,
                    oidc_issuer,
                    jwks_uri,
                    team_id,
                    key_id,
                },
                client_secret,
                attribute_mapping: mapping.into_iter().collect(),
                linking_policy,
                idp_identifiers,
            };
            json!(federation::put_provider(app, &pool, new).await?)
        }
        IdpCmd::List { pool } => json!(app.store.identity_providers(&pool).await?),
        IdpCmd::Link {
            pool,
            username,
            provider,
            subject,
        } => {
            let user =
                crate::users::link_identity(app, &pool, &username, &provider, &subject).await?;
            json!({ "username": user.username, "provider_name": provider, "provider_subject": subject })
        }
        IdpCmd::Preregister {
            pool,
            provider,
            subject,
            email,
            groups,
            attributes,
        } => {
            let attributes: BTreeMap<_, _> = attributes.into_iter().collect();
            crate::flows::external::preregister(
                app,
                &pool,
                &provider,
                subject.as_deref(),
                email.as_deref(),
                &groups,
                &attributes,
            )
            .await?;
            json!({ "provider_name": provider, "subject": subject, "email": email, "groups": groups })
        }
    })
}

/// `user import`: streams the file into the pool with a progress bar on a terminal.
async fn import_users(
    app: &crate::services::Services,
    pool: &str,
    file: &str,
) -> anyhow::Result<crate::users::import::Summary> {
    use crate::users::import::{Format, import};
    if app.store.pool_by_id(pool).await?.is_none() {
        bail!("no user pool {pool}");
    }
    let f = std::fs::File::open(file).with_context(|| format!("open {file}"))?;
    let bar = indicatif::ProgressBar::new(f.metadata()?.len());
    bar.set_style(
        indicatif::ProgressStyle::with_template("{bar:40} {bytes}/{total_bytes} {eta}")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    let input = std::io::BufReader::new(f);
    let summary = import(app, pool, input, Format::of(file), |read| {
        bar.set_position(read)
    })
    .await;
    bar.finish_and_clear();
    Ok(summary?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    /// The options of `cmd` and its subcommands that have no help text.
    fn undocumented(cmd: &clap::Command, path: &str, out: &mut Vec<String>) {
        for arg in cmd.get_arguments() {
            let auto = matches!(arg.get_id().as_str(), "help" | "version");
            if arg.get_help().is_none() && !auto {
                out.push(format!("{path} {}", arg.get_id()));
            }
        }
        for sub in cmd.get_subcommands() {
            undocumented(sub, &format!("{path} {}", sub.get_name()), out);
        }
    }

    #[test]
    fn every_client_setting_has_an_option_of_client_create() {
        let stored = serde_json::to_value(ClientSettings::default()).unwrap();
        let fields: Vec<&str> = stored
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        let mapped: Vec<&str> = SETTING_OPTIONS.iter().map(|(f, _)| *f).collect();
        let mut sorted = mapped.clone();
        sorted.sort_unstable();
        assert_eq!(
            fields, sorted,
            "SETTING_OPTIONS must list every ClientSettings field"
        );
        let cli = Cli::command();
        let create = cli
            .find_subcommand("client")
            .and_then(|c| c.find_subcommand("create"))
            .unwrap();
        for (field, option) in SETTING_OPTIONS.iter().filter(|(_, o)| !o.is_empty()) {
            assert!(
                create
                    .get_arguments()
                    .any(|a| a.get_long() == Some(*option)),
                "{field}: no --{option} on client create"
            );
        }
    }

    #[test]
    fn every_option_of_every_command_has_help_text() {
        let mut missing = Vec::new();
        undocumented(&Cli::command(), "cognate", &mut missing);
        assert!(missing.is_empty(), "options without help: {missing:#?}");
    }
}
