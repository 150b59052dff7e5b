//! The command line: `cognate serve` and admin commands that work on the same database
//! (the server may be running), printing JSON so scripts and tests can use them.

use std::collections::BTreeMap;

use anyhow::{Context, bail};
use clap::{Parser, Subcommand};
use serde_json::{Value, json};

use crate::clients::NewClient;
use crate::config::{Config, ServeArgs, StoreArgs};
use crate::oauth::state_split::{StateEncoding, StateRelay};
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

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Run the server (creates a demo pool on an empty database).
    Serve(ServeArgs),
    /// User pools.
    #[command(subcommand)]
    Pool(PoolCmd),
    /// App clients.
    #[command(subcommand)]
    Client(ClientCmd),
    /// Users.
    #[command(subcommand)]
    User(UserCmd),
    /// Groups and memberships.
    #[command(subcommand)]
    Group(GroupCmd),
    /// Messages kept instead of sent (no SMTP server), newest first.
    Outbox {
        /// Only messages to this address (case-insensitive).
        #[arg(long)]
        to: Option<String>,
        /// At most this many messages.
        #[arg(long, default_value_t = 20, value_parser = clap::value_parser!(i64).range(1..=1000))]
        limit: i64,
    },
}

#[derive(Subcommand, Debug)]
pub enum PoolCmd {
    /// Create a pool (and its signing key).
    Create {
        #[arg(long)]
        name: String,
        #[arg(long, default_value = "us-east-1")]
        region: String,
    },
    /// List pools.
    List,
}

#[derive(Subcommand, Debug)]
pub enum ClientCmd {
    /// Create an app client.
    Create {
        #[arg(long)]
        pool: String,
        #[arg(long)]
        name: String,
        /// Callback URL (repeat for several).
        #[arg(long = "callback-url")]
        callback_urls: Vec<String>,
        /// Logout URL (repeat for several).
        #[arg(long = "logout-url")]
        logout_urls: Vec<String>,
        /// Allowed scopes, space-separated.
        #[arg(long, default_value = "openid email profile")]
        scopes: String,
        /// Generate a client secret (a confidential client); without it the client is
        /// public and must use PKCE.
        #[arg(long)]
        secret: bool,
        #[arg(long, default_value_t = 3600)]
        id_token_validity: i64,
        #[arg(long, default_value_t = 3600)]
        access_token_validity: i64,
        #[arg(long, default_value_t = 30 * 86400)]
        refresh_token_validity: i64,
        #[command(flatten)]
        relay: RelayArgs,
    },
    /// Change an app client's settings; options not given keep their value.
    Update {
        #[arg(long)]
        pool: String,
        #[arg(long)]
        client_id: String,
        /// Replace the callback URLs (repeat for several).
        #[arg(long = "callback-url")]
        callback_urls: Vec<String>,
        /// Replace the logout URLs (repeat for several).
        #[arg(long = "logout-url")]
        logout_urls: Vec<String>,
        /// Replace the allowed scopes, space-separated.
        #[arg(long)]
        scopes: Option<String>,
        /// Remove the return-to allow-list (the state becomes opaque again).
        #[arg(long, conflicts_with = "return_to")]
        clear_return_to: bool,
        #[command(flatten)]
        relay: RelayArgs,
    },
    /// List a pool's clients.
    List {
        #[arg(long)]
        pool: String,
    },
}

#[derive(Subcommand, Debug)]
pub enum UserCmd {
    /// Create a user.
    Create {
        #[arg(long)]
        pool: String,
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
    },
    /// List a pool's users.
    List {
        #[arg(long)]
        pool: String,
    },
}

#[derive(Subcommand, Debug)]
pub enum GroupCmd {
    /// Create a group.
    Create {
        #[arg(long)]
        pool: String,
        #[arg(long)]
        name: String,
        #[arg(long)]
        description: Option<String>,
        #[arg(long)]
        precedence: Option<i64>,
    },
    /// List a pool's groups.
    List {
        #[arg(long)]
        pool: String,
    },
    /// Add a user to a group.
    AddUser {
        #[arg(long)]
        pool: String,
        #[arg(long)]
        group: String,
        #[arg(long)]
        username: String,
    },
    /// Remove a user from a group.
    RemoveUser {
        #[arg(long)]
        pool: String,
        #[arg(long)]
        group: String,
        #[arg(long)]
        username: String,
    },
}

/// Overloaded-state settings of a client.
#[derive(clap::Args, Debug)]
pub struct RelayArgs {
    /// An allowed return-to URL prefix for an overloaded state `<nonce>_<return-to>`
    /// (repeat for several; replaces the list).
    #[arg(long = "return-to")]
    return_to: Vec<String>,
    /// The character between the nonce and the return-to (default `_`).
    #[arg(long)]
    state_separator: Option<char>,
    /// How the return-to part is encoded: plain, hex or base64url.
    #[arg(long, value_parser = ["plain", "hex", "base64url"])]
    state_encoding: Option<String>,
}

impl RelayArgs {
    fn apply(self, relay: &mut StateRelay) {
        if !self.return_to.is_empty() {
            relay.allow_list = self.return_to;
        }
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

fn parse_attribute(s: &str) -> Result<(String, String), String> {
    s.split_once('=')
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .ok_or_else(|| format!("{s:?} is not name=value"))
}

/// Runs a parsed command line.
pub async fn run(cli: Cli) -> anyhow::Result<()> {
    if let Command::Serve(args) = &cli.command {
        return crate::server::serve(&cli.store, args).await;
    }
    let app = crate::server::open(&cli.store, Config::new("http://127.0.0.1:9229", None)?).await?;
    let out = admin(&app, cli.command).await?;
    println!("{}", serde_json::to_string_pretty(&out)?);
    Ok(())
}

async fn admin(app: &AppState, command: Command) -> anyhow::Result<Value> {
    Ok(match command {
        Command::Serve(_) => unreachable!("handled by run"),
        Command::Pool(PoolCmd::Create { name, region }) => {
            json!(crate::pool::create(app, &name, &region).await?)
        }
        Command::Pool(PoolCmd::List) => json!(app.store.pools().await?),
        Command::Client(ClientCmd::Create {
            pool,
            name,
            callback_urls,
            logout_urls,
            scopes,
            secret,
            id_token_validity,
            access_token_validity,
            refresh_token_validity,
            relay,
        }) => {
            let mut new = NewClient {
                generate_secret: secret,
                callback_urls,
                logout_urls,
                allowed_scopes: scopes.split_whitespace().map(str::to_string).collect(),
                id_token_validity,
                access_token_validity,
                refresh_token_validity,
                ..NewClient::new(&name)
            };
            relay.apply(&mut new.state_relay);
            let (client, secret) = crate::clients::create(app, &pool, &new).await?;
            let mut out = json!(client);
            out["client_secret"] = json!(secret);
            out
        }
        Command::Client(ClientCmd::Update {
            pool,
            client_id,
            callback_urls,
            logout_urls,
            scopes,
            clear_return_to,
            relay,
        }) => {
            let client = crate::clients::update(app, &pool, &client_id, |c| {
                if !callback_urls.is_empty() {
                    c.callback_urls = callback_urls;
                }
                if !logout_urls.is_empty() {
                    c.logout_urls = logout_urls;
                }
                if let Some(scopes) = scopes {
                    c.allowed_scopes = scopes.split_whitespace().map(str::to_string).collect();
                }
                if clear_return_to {
                    c.state_relay.allow_list.clear();
                }
                relay.apply(&mut c.state_relay);
            })
            .await?;
            json!(client)
        }
        Command::Client(ClientCmd::List { pool }) => json!(app.store.clients(&pool).await?),
        Command::User(UserCmd::Create {
            pool,
            username,
            password,
            attributes,
            status,
        }) => {
            let status = match UserStatus::parse(&status) {
                Some(
                    s @ (UserStatus::Confirmed
                    | UserStatus::Unconfirmed
                    | UserStatus::ForceChangePassword),
                ) => s,
                _ => bail!("status must be CONFIRMED, UNCONFIRMED or FORCE_CHANGE_PASSWORD"),
            };
            let attributes: BTreeMap<_, _> = attributes.into_iter().collect();
            json!(
                crate::users::create(
                    app,
                    &pool,
                    &username,
                    password.as_deref(),
                    status,
                    attributes
                )
                .await?
            )
        }
        Command::User(UserCmd::List { pool }) => json!(app.store.users(&pool).await?),
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
