//! The demo set-up created on an empty database, so the login page works at once.

use std::collections::BTreeMap;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest, Sha256};

use crate::clients::{ClientSettings, NewSecret};
use crate::crypto::random_token;
use crate::state::AppState;
use crate::users::UserStatus;

pub const CALLBACK: &str = "http://localhost:3000/callback";

/// Creates the demo pool, client and user; with `standins`, also identity providers at
/// the stand-ins (`serve --dev`), offered by the demo client.
pub async fn seed(app: &AppState, standins: bool) -> anyhow::Result<()> {
    let pool = crate::pool::create(app, "demo", "us-east-1").await?;
    let mut new = ClientSettings::new("demo-app");
    new.callback_urls = vec![CALLBACK.to_string()];
    new.logout_urls = vec!["http://localhost:3000/".to_string()];
    // A browser app is a public client: a leaked refresh token should be caught when
    // used twice (RFC 9700 §4.14.2), so the demo rotates, as public clients should.
    new.refresh_token_rotation = true;
    if standins {
        new.supported_identity_providers
            .extend(standin_providers(app, &pool.pool_id).await?);
    }
    let (client, _) = crate::clients::create(app, &pool.pool_id, &new, NewSecret::None).await?;
    // Random, so a demo left running somewhere is not open to a published password.
    let password = format!("Demo-{}-1a", random_token(9));
    let attributes = BTreeMap::from([
        ("email".to_string(), "demo@example.com".to_string()),
        ("email_verified".to_string(), "true".to_string()),
        ("name".to_string(), "Demo User".to_string()),
    ]);
    crate::users::create(
        app,
        &pool.pool_id,
        "demo",
        Some(&password),
        UserStatus::Confirmed,
        attributes,
    )
    .await?;

    let issuer = app.issuer(&pool.pool_id).await?;
    // The routes are under the path form whatever the issuer (`--cognito-issuer`).
    let base = app.hosts.path_base(&pool.pool_id);
    let verifier = random_token(32);
    let challenge = URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()));
    let authorize = crate::clients::redirect::with_params(
        &format!("{base}/oauth2/authorize"),
        &[
            ("response_type", "code"),
            ("client_id", &client.client_id),
            ("redirect_uri", CALLBACK),
            ("scope", "openid email profile"),
            ("state", "demo"),
            ("code_challenge", &challenge),
            ("code_challenge_method", "S256"),
        ],
    );
    println!(
        "\nA demo user pool was created on this empty database.\n\
         \n  issuer        {issuer}\
         \n  client id     {client_id} (public, PKCE, callback {CALLBACK})\
         \n  user          demo\
         \n  password      {password}{standin_note}\
         \n\nOpen this URL to sign in:\n\n  {authorize}\n\
         \nThen redeem the code from the callback URL:\n\
         \n  curl -s {base}/oauth2/token -d grant_type=authorization_code -d client_id={client_id} \\\
         \n       -d redirect_uri={CALLBACK} -d code_verifier={verifier} -d code=<code>\n",
        client_id = client.client_id,
        standin_note = if standins {
            "\n  providers     Google, Facebook, Amazon, Apple: STAND-INS served by this server (serve --dev), not the real ones"
        } else {
            ""
        },
    );
    Ok(())
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
