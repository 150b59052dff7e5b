//! The demo set-up created on an empty database, so the login page and the README's
//! examples (browser sign-in, boto3, the AWS CLI) work at once, and `cognate demo`,
//! which prints its facts again without creating anything.
//!
//! The demo user's password and the demo API key's secret are derived from the master
//! key (keyed digests), so they are random per installation, never published, stored
//! nowhere, and `cognate demo` can print them again from the same key.

use std::collections::BTreeMap;

use anyhow::Context;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest, Sha256};

use crate::api_keys::ApiKeys;
use crate::clients::{ClientSettings, NewSecret};
use crate::crypto::{MasterKey, random_token};
use crate::state::AppState;
use crate::users::UserStatus;

pub const CALLBACK: &str = "http://localhost:3000/callback";
/// The demo pool's name, by which `cognate demo` finds it.
const POOL_NAME: &str = "demo";
/// The demo app client's name.
const CLIENT_NAME: &str = "demo-app";
/// The demo user's username.
const USERNAME: &str = "demo";
/// The demo API key's access key id.
pub const API_KEY_ID: &str = "cognatedemo";
/// The region the demo pool is in (and its examples name).
const REGION: &str = "us-east-1";

/// The demo user's password: a keyed digest of the pool id, shaped to meet Cognito's
/// default policy (upper and lower case, a digit, a symbol).
fn password(master: &MasterKey, pool_id: &str) -> String {
    let digest = master.keyed_digest("demo user password", &[pool_id.as_bytes()]);
    format!("Demo-{}-1a", &URL_SAFE_NO_PAD.encode(digest)[..12])
}

/// The demo API key's secret.
fn api_secret(master: &MasterKey) -> String {
    hex::encode(&master.keyed_digest("demo api key", &[])[..20])
}

/// The API key `serve --dev` accepts when `COGNATE_API_KEYS` is not set: the demo's,
/// derived from this installation's master key, so no published key ever opens the
/// admin API.
pub fn dev_api_keys(master: &MasterKey) -> ApiKeys {
    ApiKeys::parse(&format!("{API_KEY_ID}:{}", api_secret(master)))
        .expect("the demo API key is well-formed")
}

/// Creates the demo pool, client and user, and prints their facts; with `standins`,
/// also identity providers at the stand-ins (`serve --dev`), offered by the demo client.
pub async fn seed(app: &AppState, standins: bool) -> anyhow::Result<()> {
    let pool = crate::pool::create(app, POOL_NAME, REGION).await?;
    let mut new = ClientSettings::new(CLIENT_NAME);
    new.callback_urls = vec![CALLBACK.to_string()];
    new.logout_urls = vec!["http://localhost:3000/".to_string()];
    // A browser app is a public client: a leaked refresh token should be caught when
    // used twice (RFC 9700 §4.14.2), so the demo rotates, as public clients should.
    new.refresh_token_rotation = true;
    // The README's boto3 and AWS CLI examples sign in with a password; SRP is what
    // Amplify and pycognito use.
    new.explicit_auth_flows = [
        "ALLOW_USER_PASSWORD_AUTH",
        "ALLOW_USER_SRP_AUTH",
        "ALLOW_REFRESH_TOKEN_AUTH",
    ]
    .map(String::from)
    .to_vec();
    if standins {
        new.supported_identity_providers
            .extend(standin_providers(app, &pool.pool_id).await?);
    }
    crate::clients::create(app, &pool.pool_id, &new, NewSecret::None).await?;
    let attributes = BTreeMap::from([
        ("email".to_string(), "demo@example.com".to_string()),
        ("email_verified".to_string(), "true".to_string()),
        ("name".to_string(), "Demo User".to_string()),
    ]);
    let password = password(app.keys.master(), &pool.pool_id);
    crate::users::create(
        app,
        &pool.pool_id,
        USERNAME,
        Some(&password),
        UserStatus::Confirmed,
        attributes,
    )
    .await?;
    println!("\nA demo user pool was created on this empty database.");
    print!("{}", facts(app).await?.text());
    Ok(())
}

/// What the demo is and how to use it, read from the database.
pub struct Facts {
    public_url: String,
    pool_id: String,
    issuer: String,
    /// The pool's routes (the path form, whatever the issuer).
    base: String,
    client_id: String,
    /// None when the demo user's password was changed since.
    password: Option<String>,
    api_secret: String,
    /// Whether the API key is the one this process accepts (the server knows; the
    /// `cognate demo` command does not).
    api_key_accepted: Option<bool>,
    standins: bool,
}

/// The facts of the demo in `app`'s database; an error when it has none.
pub async fn facts(app: &AppState) -> anyhow::Result<Facts> {
    let pools = app.store.pools().await?;
    let pool = pools.iter().find(|p| p.name == POOL_NAME).context(
        "this database has no demo pool (`cognate serve` creates one on an empty database)",
    )?;
    let client = app
        .store
        .clients(&pool.pool_id)
        .await?
        .into_iter()
        .find(|c| c.name == CLIENT_NAME)
        .context("the demo pool has no demo-app client")?;
    let user = app
        .store
        .user_by_name(&pool.pool_id, USERNAME)
        .await?
        .context("the demo pool has no demo user")?;
    let password = password(app.keys.master(), &pool.pool_id);
    let unchanged = crate::users::password::verify(user.password_hash.as_deref(), &password).await;
    let api_secret = api_secret(app.keys.master());
    Ok(Facts {
        public_url: app.config.public_url.clone(),
        pool_id: pool.pool_id.clone(),
        issuer: app.issuer(&pool.pool_id).await?,
        base: app.hosts.path_base(&pool.pool_id),
        client_id: client.client_id.clone(),
        password: unchanged.then_some(password),
        api_key_accepted: (!app.config.api_keys.is_empty())
            .then(|| app.config.api_keys.secret_for(API_KEY_ID) == Some(api_secret.as_str())),
        api_secret,
        standins: client
            .supported_identity_providers
            .iter()
            .any(|p| p != crate::clients::COGNITO),
    })
}

impl Facts {
    /// The facts for a person: credentials, the API key, where mail goes, and an
    /// authorize URL with a fresh PKCE verifier with the command that redeems its code.
    pub fn text(&self) -> String {
        let Facts {
            public_url,
            pool_id,
            issuer,
            base,
            client_id,
            ..
        } = self;
        let verifier = random_token(32);
        let challenge = URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()));
        let authorize = crate::clients::redirect::with_params(
            &format!("{base}/oauth2/authorize"),
            &[
                ("response_type", "code"),
                ("client_id", client_id),
                ("redirect_uri", CALLBACK),
                ("scope", "openid email profile"),
                ("state", "demo"),
                ("code_challenge", &challenge),
                ("code_challenge_method", "S256"),
            ],
        );
        let password = self
            .password
            .as_deref()
            .unwrap_or("(changed since the demo was made; not shown)");
        let api_key = match self.api_key_accepted {
            Some(true) | None => "",
            Some(false) => " (not accepted now: COGNATE_API_KEYS is set)",
        };
        let standins = match self.standins {
            true => {
                "\n  providers     Google, Facebook, Amazon, Apple: STAND-INS served by `serve --dev`, not the real ones"
            }
            false => "",
        };
        format!(
            "\n  issuer        {issuer}\
             \n  pool id       {pool_id}\
             \n  client id     {client_id} (public, PKCE, callback {CALLBACK})\
             \n  user          {USERNAME}\
             \n  password      {password}\
             \n  API key       {API_KEY_ID} / {secret} (Cognito API at {public_url}, region {REGION}; \
             accepted by `serve --dev` when COGNATE_API_KEYS is not set){api_key}\
             \n  mail          `cognate outbox`; with --dev also {public_url}/dev/outbox{standins}\
             \n\nOpen this URL to sign in:\n\n  {authorize}\n\
             \nThen redeem the code from the callback URL:\n\
             \n  curl -s {base}/oauth2/token -d grant_type=authorization_code -d client_id={client_id} \\\
             \n       -d redirect_uri={CALLBACK} -d code_verifier={verifier} -d code=<code>\n\
             \nFor boto3 and the AWS CLI, in your shell:  eval \"$(cognate demo --env)\"\
             \n`cognate demo` prints these facts again.\n",
            secret = self.api_secret,
        )
    }

    /// The facts as shell `export` lines, for `eval "$(cognate demo --env)"`: what
    /// boto3 and the AWS CLI read from the environment, and the demo's ids.
    pub fn env(&self) -> String {
        let quote = |v: &str| format!("'{}'", v.replace('\'', r"'\''"));
        let vars = [
            ("COGNATE_URL", self.public_url.as_str()),
            ("POOL", &self.pool_id),
            ("CLIENT", &self.client_id),
            ("DEMO_USER", USERNAME),
            ("DEMO_PASSWORD", self.password.as_deref().unwrap_or("")),
            ("AWS_ACCESS_KEY_ID", API_KEY_ID),
            ("AWS_SECRET_ACCESS_KEY", &self.api_secret),
            ("AWS_DEFAULT_REGION", REGION),
        ];
        vars.iter()
            .map(|(name, value)| format!("export {name}={}\n", quote(value)))
            .collect()
    }
}

/// Google, Facebook, LoginWithAmazon and SignInWithApple pointing at the stand-ins
/// under `/_standin`.
async fn standin_providers(app: &AppState, pool_id: &str) -> anyhow::Result<Vec<String>> {
    use crate::federation::{LinkingPolicy, NewProvider, ProviderDetails, ProviderType};
    let base = format!("{}/_standin", app.config.public_url);
    let providers = [
        (
            ProviderType::Google,
            "google/authorize",
            "google/token",
            "google/userinfo",
        ),
        (
            ProviderType::Facebook,
            "facebook/dialog/oauth",
            "facebook/oauth/access_token",
            "facebook/me",
        ),
        (
            ProviderType::LoginWithAmazon,
            "amazon/ap/oa",
            "amazon/auth/o2/token",
            "amazon/user/profile",
        ),
        (
            ProviderType::SignInWithApple,
            "apple/auth/authorize",
            "apple/auth/token",
            "",
        ),
    ];
    let mut names = Vec::new();
    for (provider_type, authorize, token, attributes) in providers {
        let apple = provider_type == ProviderType::SignInWithApple;
        let (issuer, jwks) = match provider_type {
            ProviderType::Google => (Some("google"), Some("google/jwks")),
            ProviderType::SignInWithApple => (Some("apple"), Some("apple/auth/keys")),
            _ => (None, None),
        };
        let new = NewProvider {
            provider_name: provider_type.as_str().to_string(),
            provider_type,
            details: ProviderDetails {
                client_id: "demo-client".into(),
                authorize_url: Some(format!("{base}/{authorize}")),
                token_url: Some(format!("{base}/{token}")),
                attributes_url: (!apple).then(|| format!("{base}/{attributes}")),
                oidc_issuer: issuer.map(|p| format!("{base}/{p}")),
                jwks_uri: jwks.map(|p| format!("{base}/{p}")),
                team_id: apple.then(|| crate::standin::APPLE_TEAM_ID.into()),
                key_id: apple.then(|| crate::standin::APPLE_KEY_ID.into()),
                ..ProviderDetails::default()
            },
            // Apple's "secret" is the team key that signs each client secret JWT.
            client_secret: Some(match apple {
                true => crate::standin::APPLE_TEAM_KEY.into(),
                false => "demo-secret".into(),
            }),
            attribute_mapping: Default::default(),
            linking_policy: LinkingPolicy::Separate,
            idp_identifiers: Vec::new(),
        };
        names.push(
            crate::federation::put_provider(app, pool_id, new)
                .await?
                .provider_name,
        );
    }
    Ok(names)
}
