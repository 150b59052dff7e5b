//! Federation end to end against the in-repo stand-in providers, served on their own
//! loopback port like a real provider: Google, Facebook, Login with Amazon and a
//! generic OIDC provider (discovered from its issuer), with the `openidconnect` crate
//! as the app's relying party. Sign in with Apple, configured here too, has its own
//! file (`federation_apple`).

use std::collections::BTreeMap;

use cognate::clients::{AppClient, ClientSettings};
use cognate::federation::{LinkingPolicy, NewProvider, ProviderDetails, ProviderType};
use openidconnect::core::{CoreAuthenticationFlow, CoreClient, CoreProviderMetadata};
use openidconnect::{
    AuthorizationCode, ClientId, CsrfToken, IssuerUrl, Nonce, PkceCodeChallenge, RedirectUrl,
    Scope, TokenResponse,
};
use reqwest::StatusCode;
use serde_json::Value;

use crate::helpers::{CALLBACK, Pkce, TestApp, browser, jwt_claims, location, query_param};

pub const ADA_GOOGLE: &str = "100000000000000000001";
const ADA_FACEBOOK: &str = "10150000000000001";
const ADA_AMAZON: &str = "amzn1.account.ADA0000000000000000000000001";

/// The stand-in providers on their own port.
pub struct Standins {
    pub base: String,
}

impl Standins {
    pub async fn spawn() -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}/_standin", listener.local_addr().unwrap());
        let router = axum::Router::new().nest("/_standin", cognate::standin::router(&base));
        tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
        Self { base }
    }
}

/// Configures the five providers at the stand-ins, and a client offering them all.
pub async fn federated_app(policy: LinkingPolicy) -> (TestApp, Standins, AppClient) {
    federated(TestApp::spawn().await, policy).await
}

/// [`federated_app`] on a given server.
pub async fn federated(app: TestApp, policy: LinkingPolicy) -> (TestApp, Standins, AppClient) {
    let s = Standins::spawn().await;
    let providers = [
        ("Google", ProviderType::Google, "google"),
        ("Facebook", ProviderType::Facebook, "facebook"),
        ("LoginWithAmazon", ProviderType::LoginWithAmazon, "amazon"),
        ("Corp", ProviderType::Oidc, "google"),
        ("SignInWithApple", ProviderType::SignInWithApple, "apple"),
    ];
    for (name, provider_type, path) in providers {
        let base = format!("{}/{path}", s.base);
        let details = match provider_type {
            ProviderType::Google => ProviderDetails {
                authorize_url: Some(format!("{base}/authorize")),
                token_url: Some(format!("{base}/token")),
                attributes_url: Some(format!("{base}/userinfo")),
                oidc_issuer: Some(base.clone()),
                jwks_uri: Some(format!("{base}/jwks")),
                ..ProviderDetails::default()
            },
            // Only the issuer: everything else comes from discovery.
            ProviderType::Oidc => ProviderDetails {
                oidc_issuer: Some(base.clone()),
                ..ProviderDetails::default()
            },
            ProviderType::Facebook => ProviderDetails {
                authorize_url: Some(format!("{base}/dialog/oauth")),
                token_url: Some(format!("{base}/oauth/access_token")),
                attributes_url: Some(format!("{base}/me")),
                ..ProviderDetails::default()
            },
            ProviderType::LoginWithAmazon => ProviderDetails {
                authorize_url: Some(format!("{base}/ap/oa")),
                token_url: Some(format!("{base}/auth/o2/token")),
                attributes_url: Some(format!("{base}/user/profile")),
                ..ProviderDetails::default()
            },
            ProviderType::SignInWithApple => ProviderDetails {
                authorize_url: Some(format!("{base}/auth/authorize")),
                token_url: Some(format!("{base}/auth/token")),
                oidc_issuer: Some(base.clone()),
                jwks_uri: Some(format!("{base}/auth/keys")),
                team_id: Some(cognate::standin::APPLE_TEAM_ID.into()),
                key_id: Some(cognate::standin::APPLE_KEY_ID.into()),
                ..ProviderDetails::default()
            },
        };
        // Apple's secret is the team key the stand-in knows.
        let secret = match provider_type {
            ProviderType::SignInWithApple => cognate::standin::APPLE_TEAM_KEY.to_string(),
            _ => format!("{name}-secret"),
        };
        let new = NewProvider {
            provider_name: name.into(),
            provider_type,
            details: ProviderDetails {
                client_id: format!("{name}-client"),
                ..details
            },
            client_secret: Some(secret),
            attribute_mapping: BTreeMap::new(),
            linking_policy: policy,
            idp_identifiers: vec![format!("{}.example", name.to_lowercase())],
        };
        cognate::federation::put_provider(&app.state, &app.pool_id, new)
            .await
            .unwrap();
    }
    let client = cognate::clients::update(&app.state, &app.pool_id, &app.public.client_id, |c| {
        c.supported_identity_providers = [
            "COGNITO",
            "Google",
            "Facebook",
            "LoginWithAmazon",
            "Corp",
            "SignInWithApple",
        ]
        .map(String::from)
        .to_vec();
        c.state_relay.allow_list = vec!["https://app.example.com".into()];
    })
    .await
    .unwrap();
    (app, s, client)
}

/// The stand-in's "choose an identity" endpoint for a provider authorization URL.
fn decide_url(provider_authorize: &str, identity: &str, quirk: Option<&str>) -> String {
    let mut url = url::Url::parse(provider_authorize).unwrap();
    let path = url.path().to_string();
    let decide = [
        "/google/authorize",
        "/facebook/dialog/oauth",
        "/amazon/ap/oa",
    ]
    .iter()
    .find_map(|p| {
        path.strip_suffix(p)
            .map(|prefix| format!("{prefix}{}", &p[..p[1..].find('/').unwrap() + 1]))
    })
    .map(|prefix| format!("{prefix}/decide"))
    .unwrap_or_else(|| panic!("not a stand-in authorize URL: {provider_authorize}"));
    url.set_path(&decide);
    url.query_pairs_mut().append_pair("identity", identity);
    if let Some(q) = quirk {
        url.query_pairs_mut().append_pair("quirk", q);
    }
    url.to_string()
}

/// Runs authorize → provider → idpresponse in `b`; returns where the browser is sent
/// at the end (the app's callback on success) and the provider's authorize URL.
pub async fn federate(
    b: &reqwest::Client,
    authorize: &str,
    identity: &str,
    quirk: Option<&str>,
) -> (reqwest::Response, String) {
    let res = b.get(authorize).send().await.unwrap();
    assert_eq!(
        res.status(),
        StatusCode::FOUND,
        "authorize goes to the provider"
    );
    let provider_authorize = location(&res);
    let decided = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
        .get(decide_url(&provider_authorize, identity, quirk))
        .send()
        .await
        .unwrap();
    assert_eq!(decided.status(), StatusCode::FOUND);
    let back = b.get(location(&decided)).send().await.unwrap();
    (back, provider_authorize)
}

async fn user_count(app: &TestApp) -> usize {
    app.state.store.users(&app.pool_id).await.unwrap().len()
}

#[tokio::test]
async fn a_first_google_sign_in_creates_the_user_and_group_and_an_oidc_app_gets_identities() {
    // Arrange: the app is an openidconnect relying party.
    let (app, _s, client) = federated_app(LinkingPolicy::Separate).await;
    let http = openidconnect::reqwest::ClientBuilder::new()
        .redirect(openidconnect::reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let meta = CoreProviderMetadata::discover_async(IssuerUrl::new(app.issuer()).unwrap(), &http)
        .await
        .unwrap();
    let rp =
        CoreClient::from_provider_metadata(meta, ClientId::new(client.client_id.clone()), None)
            .set_redirect_uri(RedirectUrl::new(CALLBACK.into()).unwrap());
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let (url, state, nonce) = rp
        .authorize_url(
            CoreAuthenticationFlow::AuthorizationCode,
            // This client splits states at "_" (return-to allow-list): keep it opaque.
            || CsrfToken::new("opaque-state".into()),
            Nonce::new_random,
        )
        .add_scope(Scope::new("email".into()))
        .add_extra_param("identity_provider", "Google")
        .add_extra_param("prompt", "select_account")
        .add_extra_param("login_hint", "ada@example.com")
        .set_pkce_challenge(challenge)
        .url();
    // Act
    let b = browser();
    let (back, provider_authorize) = federate(&b, url.as_str(), "ada", None).await;
    // Assert: cognate sent its own state, PKCE, a nonce, and passed prompt/login_hint on.
    assert_ne!(
        query_param(&provider_authorize, "state").as_deref(),
        Some(state.secret().as_str())
    );
    assert_eq!(
        query_param(&provider_authorize, "code_challenge_method").as_deref(),
        Some("S256")
    );
    assert!(query_param(&provider_authorize, "nonce").is_some());
    assert_eq!(
        query_param(&provider_authorize, "prompt").as_deref(),
        Some("select_account")
    );
    assert_eq!(
        query_param(&provider_authorize, "login_hint").as_deref(),
        Some("ada@example.com")
    );
    assert_eq!(
        query_param(&provider_authorize, "redirect_uri").unwrap(),
        app.url("/oauth2/idpresponse")
    );
    let to = location(&back);
    assert!(to.starts_with(CALLBACK), "{to}");
    assert_eq!(
        query_param(&to, "state").as_deref(),
        Some(state.secret().as_str())
    );
    let tokens = rp
        .exchange_code(AuthorizationCode::new(query_param(&to, "code").unwrap()))
        .unwrap()
        .set_pkce_verifier(verifier)
        .request_async(&http)
        .await
        .unwrap();
    let id_token = tokens.id_token().unwrap();
    id_token
        .claims(&rp.id_token_verifier(), &nonce)
        .expect("a valid ID token");
    let claims = jwt_claims(&id_token.to_string());
    assert_eq!(claims["cognito:username"], format!("Google_{ADA_GOOGLE}"));
    assert_eq!(claims["email"], "ada@example.com");
    assert_eq!(
        claims["cognito:groups"],
        serde_json::json!([format!("{}_Google", app.pool_id)])
    );
    let identity = &claims["identities"][0];
    assert_eq!(identity["userId"], ADA_GOOGLE);
    assert_eq!(identity["providerName"], "Google");
    assert_eq!(identity["providerType"], "Google");
    assert_eq!(identity["primary"], "true");
    assert!(
        identity["dateCreated"]
            .as_str()
            .unwrap()
            .parse::<i64>()
            .is_ok()
    );
    let user = app
        .state
        .store
        .user_by_name(&app.pool_id, &format!("Google_{ADA_GOOGLE}"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(user.status, cognate::users::UserStatus::ExternalProvider);
}

// Matrix: FD-05
#[tokio::test]
async fn a_second_sign_in_updates_the_mapped_attributes() {
    let (app, _s, client) = federated_app(LinkingPolicy::Separate).await;
    let url = app.authorize_url(
        &client,
        Some(&Pkce::new()),
        &[("identity_provider", "Google")],
    );
    federate(&browser(), &url, "ada", None).await;
    let user = app
        .state
        .store
        .user_by_name(&app.pool_id, &format!("Google_{ADA_GOOGLE}"))
        .await
        .unwrap()
        .unwrap();
    app.state
        .store
        .set_attribute(&app.pool_id, &user.user_id, "name", "Stale Name")
        .await
        .unwrap();
    let count = user_count(&app).await;
    federate(&browser(), &url, "ada", None).await;
    let user = app
        .state
        .store
        .user_by_id(&app.pool_id, &user.user_id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(user.attributes["name"], "Ada Lovelace");
    assert_eq!(user_count(&app).await, count, "no second user");
}

#[tokio::test]
async fn facebook_amazon_and_a_discovered_oidc_provider_sign_in() {
    let (app, _s, client) = federated_app(LinkingPolicy::Separate).await;
    for (provider, subject) in [
        ("Facebook", ADA_FACEBOOK),
        ("LoginWithAmazon", ADA_AMAZON),
        ("Corp", ADA_GOOGLE),
    ] {
        let pkce = Pkce::new();
        let url = app.authorize_url(&client, Some(&pkce), &[("identity_provider", provider)]);
        let (back, _) = federate(&browser(), &url, "ada", None).await;
        let to = location(&back);
        assert!(to.starts_with(CALLBACK), "{provider}: {to}");
        let tokens: Value = app
            .exchange(
                &client,
                &query_param(&to, "code").unwrap(),
                Some(&pkce.verifier),
            )
            .await
            .json()
            .await
            .unwrap();
        let claims = jwt_claims(tokens["id_token"].as_str().unwrap());
        assert_eq!(
            claims["cognito:username"],
            format!("{provider}_{subject}"),
            "{provider}"
        );
        assert_eq!(claims["email"], "ada@example.com", "{provider}");
        assert_eq!(claims["identities"][0]["providerName"], provider);
        assert_eq!(
            claims["cognito:groups"][0],
            format!("{}_{provider}", app.pool_id)
        );
    }
}

#[tokio::test]
async fn the_login_page_button_and_idp_identifier_both_reach_the_provider() {
    let (app, s, client) = federated_app(LinkingPolicy::Separate).await;
    let b = browser();
    let res = b
        .get(app.authorize_url(&client, Some(&Pkce::new()), &[]))
        .send()
        .await
        .unwrap();
    let html = b
        .get(location(&res))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains("Continue with Google") && html.contains("Continue with Amazon"));
    let start = html.find("provider-button\" href=\"").unwrap() + "provider-button\" href=\"".len();
    let href =
        crate::helpers::html_unescape(&html[start..start + html[start..].find('"').unwrap()]);
    let res = b.get(&href).send().await.unwrap();
    assert!(
        location(&res).starts_with(&s.base),
        "the button goes straight to a provider"
    );
    let res = b
        .get(app.authorize_url(
            &client,
            Some(&Pkce::new()),
            &[("idp_identifier", "facebook.example")],
        ))
        .send()
        .await
        .unwrap();
    assert!(location(&res).starts_with(&format!("{}/facebook/", s.base)));
}

// Matrix: FD-04
#[tokio::test]
async fn a_linked_identity_signs_in_as_the_native_user() {
    let (app, _s, client) = federated_app(LinkingPolicy::Separate).await;
    cognate::users::link_identity(&app.state, &app.pool_id, "alice", "Google", ADA_GOOGLE)
        .await
        .unwrap();
    let pkce = Pkce::new();
    let url = app.authorize_url(&client, Some(&pkce), &[("identity_provider", "Google")]);
    let (back, _) = federate(&browser(), &url, "ada", None).await;
    let tokens: Value = app
        .exchange(
            &client,
            &query_param(&location(&back), "code").unwrap(),
            Some(&pkce.verifier),
        )
        .await
        .json()
        .await
        .unwrap();
    let claims = jwt_claims(tokens["id_token"].as_str().unwrap());
    assert_eq!(claims["cognito:username"], "alice");
    assert_eq!(claims["identities"][0]["userId"], ADA_GOOGLE);
}

// Matrix: FD-04
#[tokio::test]
async fn linking_policies_use_only_verified_emails() {
    // link: Ada's verified address matches a native user with a verified address.
    let (app, _s, client) = federated_app(LinkingPolicy::Link).await;
    let native =
        crate::account::create_user_with_email(&app, "ada-native", "ada@example.com").await;
    let url = app.authorize_url(
        &client,
        Some(&Pkce::new()),
        &[("identity_provider", "Google")],
    );
    federate(&browser(), &url, "ada", None).await;
    assert_eq!(
        app.state
            .store
            .user_of_identity(&app.pool_id, "Google", ADA_GOOGLE)
            .await
            .unwrap()
            .as_deref(),
        Some(native.user_id.as_str())
    );
    // Grace's address is not verified by the provider: never linked, a separate user.
    crate::account::create_user_with_email(&app, "grace-native", "grace@example.com").await;
    federate(&browser(), &url, "grace", None).await;
    let grace = app
        .state
        .store
        .user_of_identity(&app.pool_id, "Google", "100000000000000000002")
        .await
        .unwrap()
        .unwrap();
    let grace = app
        .state
        .store
        .user_by_id(&app.pool_id, &grace)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(grace.username, "Google_100000000000000000002");

    // deny: refused, nothing created.
    let (app, _s, client) = federated_app(LinkingPolicy::Deny).await;
    crate::account::create_user_with_email(&app, "ada-native", "ada@example.com").await;
    let before = user_count(&app).await;
    let url = app.authorize_url(
        &client,
        Some(&Pkce::new()),
        &[("identity_provider", "Google")],
    );
    let (back, _) = federate(&browser(), &url, "ada", None).await;
    assert_eq!(back.status(), StatusCode::FORBIDDEN);
    assert!(back.headers().get("location").is_none());
    assert_eq!(user_count(&app).await, before);
}

#[tokio::test]
async fn a_preregistered_identity_gets_its_groups_and_attributes_at_first_sign_in() {
    let (app, _s, client) = federated_app(LinkingPolicy::Separate).await;
    cognate::groups::create(&app.state, &app.pool_id, "editors", None, Some(1))
        .await
        .unwrap();
    let attrs = BTreeMap::from([("custom:team".to_string(), "red".to_string())]);
    cognate::flows::external::preregister(
        &app.state,
        &app.pool_id,
        "Google",
        Some(ADA_GOOGLE),
        None,
        &["editors".into()],
        &attrs,
    )
    .await
    .unwrap();
    cognate::flows::external::preregister(
        &app.state,
        &app.pool_id,
        "Corp",
        None,
        Some("ada@example.com"),
        &["editors".into()],
        &BTreeMap::new(),
    )
    .await
    .unwrap();
    for (provider, claimed_by) in [("Google", "subject"), ("Corp", "verified email")] {
        let pkce = Pkce::new();
        let url = app.authorize_url(&client, Some(&pkce), &[("identity_provider", provider)]);
        let (back, _) = federate(&browser(), &url, "ada", None).await;
        let tokens: Value = app
            .exchange(
                &client,
                &query_param(&location(&back), "code").unwrap(),
                Some(&pkce.verifier),
            )
            .await
            .json()
            .await
            .unwrap();
        let claims = jwt_claims(tokens["id_token"].as_str().unwrap());
        let groups: Vec<&str> = claims["cognito:groups"]
            .as_array()
            .unwrap()
            .iter()
            .map(|g| g.as_str().unwrap())
            .collect();
        assert!(
            groups.contains(&"editors"),
            "{provider} by {claimed_by}: {groups:?}"
        );
    }
    let ada = app
        .state
        .store
        .user_by_name(&app.pool_id, &format!("Google_{ADA_GOOGLE}"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(ada.attributes["custom:team"], "red");
}

#[tokio::test]
async fn an_overloaded_state_survives_the_round_trip() {
    let (app, _s, client) = federated_app(LinkingPolicy::Separate).await;
    let state = "n0nce_https://app.example.com/orders/7";
    let url = app.authorize_url(
        &client,
        Some(&Pkce::new()),
        &[
            (
                "identity_provider",
                "Amazon".replace("Amazon", "LoginWithAmazon").as_str(),
            ),
            ("state", state),
        ],
    );
    let (back, _) = federate(&browser(), &url, "ada", None).await;
    let to = location(&back);
    assert!(
        to.starts_with("https://app.example.com/orders/7?code="),
        "{to}"
    );
    assert_eq!(query_param(&to, "state").as_deref(), Some("n0nce"));
}

#[tokio::test]
async fn cancelling_at_the_provider_returns_access_denied_to_the_app() {
    let (app, _s, client) = federated_app(LinkingPolicy::Separate).await;
    let before = user_count(&app).await;
    let url = app.authorize_url(
        &client,
        Some(&Pkce::new()),
        &[("identity_provider", "Google")],
    );
    let b = browser();
    let res = b.get(&url).send().await.unwrap();
    let mut decide = url::Url::parse(&decide_url(&location(&res), "", None)).unwrap();
    decide.query_pairs_mut().append_pair("cancel", "1");
    let cancelled = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
        .get(decide.as_str())
        .send()
        .await
        .unwrap();
    let back = b.get(location(&cancelled)).send().await.unwrap();
    let to = location(&back);
    assert!(to.starts_with(CALLBACK));
    assert_eq!(query_param(&to, "error").as_deref(), Some("access_denied"));
    assert_eq!(query_param(&to, "state").as_deref(), Some("st-1"));
    assert_eq!(user_count(&app).await, before);
}

// Matrix: FD-03
#[tokio::test]
async fn defective_id_tokens_are_refused_and_nothing_is_created() {
    let (app, _s, client) = federated_app(LinkingPolicy::Separate).await;
    let before = user_count(&app).await;
    for quirk in [
        "wrong_aud",
        "wrong_iss",
        "bad_signature",
        "wrong_nonce",
        "expired",
    ] {
        let b = browser();
        let url = app.authorize_url(
            &client,
            Some(&Pkce::new()),
            &[("identity_provider", "Google")],
        );
        let (back, _) = federate(&b, &url, "ada", Some(quirk)).await;
        assert_eq!(back.status(), StatusCode::BAD_REQUEST, "{quirk}");
        assert!(back.headers().get("location").is_none(), "{quirk}");
        // No session either: authorize shows the login page again.
        let again = b
            .get(app.authorize_url(&client, Some(&Pkce::new()), &[]))
            .send()
            .await
            .unwrap();
        assert!(location(&again).contains("/login?"), "{quirk}");
    }
    assert_eq!(user_count(&app).await, before);
}

// Matrix: FD-01, FD-02
#[tokio::test]
async fn a_replayed_unknown_or_foreign_handle_is_refused() {
    let (app, _s, client) = federated_app(LinkingPolicy::Separate).await;
    let b = browser();
    let url = app.authorize_url(
        &client,
        Some(&Pkce::new()),
        &[("identity_provider", "Google")],
    );
    let res = b.get(&url).send().await.unwrap();
    let decided = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
        .get(decide_url(&location(&res), "ada", None))
        .send()
        .await
        .unwrap();
    let callback = location(&decided);
    // Another browser cannot use it (nor burn it: see PR-07 below).
    let foreign = browser().get(&callback).send().await.unwrap();
    assert_eq!(foreign.status(), StatusCode::BAD_REQUEST);
    // The real browser uses it once; a replay is refused.
    let done = b.get(&callback).send().await.unwrap();
    assert!(location(&done).starts_with(CALLBACK));
    let replay = b.get(&callback).send().await.unwrap();
    assert_eq!(replay.status(), StatusCode::BAD_REQUEST);
    let unknown = b
        .get(app.url("/oauth2/idpresponse?code=x&state=nonsense"))
        .send()
        .await
        .unwrap();
    assert_eq!(unknown.status(), StatusCode::BAD_REQUEST);
    assert_eq!(user_count(&app).await, 2, "alice and ada");
}

// Matrix: PR-07
#[tokio::test]
async fn a_handle_another_browser_presents_is_refused_and_its_owner_still_finishes() {
    // Arrange: browser A is back from the provider with its handle; browser B has a
    // session (and binding) of its own from a sign-in it started.
    let (app, _s, client) = federated_app(LinkingPolicy::Separate).await;
    let a = browser();
    let pkce = Pkce::new();
    let url = app.authorize_url(&client, Some(&pkce), &[("identity_provider", "Google")]);
    let to_provider = location(&a.get(&url).send().await.unwrap());
    let decided = browser()
        .get(decide_url(&to_provider, "ada", None))
        .send()
        .await
        .unwrap();
    let callback = location(&decided);
    let b = browser();
    let started = b.get(&url).send().await.unwrap();
    assert_eq!(started.status(), StatusCode::FOUND, "B has its own binding");

    // Act: B presents A's handle, twice, and so does a browser without any session.
    let mut refusals = Vec::new();
    for jar in [&b, &b, &browser()] {
        refusals.push(jar.get(&callback).send().await.unwrap());
    }

    // Assert: an error page each time, no redirect, nobody created; then A finishes.
    for res in refusals {
        assert_eq!(res.status(), StatusCode::BAD_REQUEST);
        assert!(res.headers().get("location").is_none());
        let page = res.text().await.unwrap();
        assert!(page.contains("started in another"), "{page}");
    }
    assert_eq!(user_count(&app).await, 1, "only alice");
    let back = a.get(&callback).send().await.unwrap();
    assert_eq!(back.status(), StatusCode::FOUND);
    let landed = location(&back);
    assert!(landed.starts_with(CALLBACK), "{landed}");
    let code = query_param(&landed, "code").unwrap();
    let res = app.exchange(&client, &code, Some(&pkce.verifier)).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(user_count(&app).await, 2, "ada signed in");
}

// Matrix: FD-06
#[tokio::test]
async fn an_unreachable_provider_is_an_error_page() {
    let (app, _s, client) = federated_app(LinkingPolicy::Separate).await;
    let mut idp = cognate::federation::provider(&app.state, &app.pool_id, "Facebook")
        .await
        .unwrap()
        .unwrap();
    idp.details.token_url = Some("http://127.0.0.1:9/oauth/access_token".into());
    cognate::federation::put_provider(
        &app.state,
        &app.pool_id,
        NewProvider {
            provider_name: idp.provider_name,
            provider_type: idp.provider_type,
            details: idp.details,
            client_secret: idp.client_secret,
            attribute_mapping: idp.attribute_mapping,
            linking_policy: idp.linking_policy,
            idp_identifiers: idp.idp_identifiers,
        },
    )
    .await
    .unwrap();
    let url = app.authorize_url(
        &client,
        Some(&Pkce::new()),
        &[("identity_provider", "Facebook")],
    );
    let (back, _) = federate(&browser(), &url, "ada", None).await;
    assert_eq!(back.status(), StatusCode::BAD_REQUEST);
    assert_eq!(user_count(&app).await, 1);
}

#[tokio::test]
async fn a_provider_without_an_email_still_signs_in() {
    let (app, _s, client) = federated_app(LinkingPolicy::Link).await;
    for provider in ["Google", "Facebook", "LoginWithAmazon"] {
        let url = app.authorize_url(
            &client,
            Some(&Pkce::new()),
            &[("identity_provider", provider)],
        );
        let (back, _) = federate(&browser(), &url, "anon", None).await;
        assert!(location(&back).starts_with(CALLBACK), "{provider}");
    }
}

#[tokio::test]
async fn a_provider_the_client_does_not_offer_is_refused() {
    let app = TestApp::spawn().await;
    let res = browser()
        .get(app.authorize_url(
            &app.public,
            Some(&Pkce::new()),
            &[("identity_provider", "Google")],
        ))
        .send()
        .await
        .unwrap();
    let to = location(&res);
    assert!(to.starts_with(CALLBACK));
    assert_eq!(
        query_param(&to, "error").as_deref(),
        Some("invalid_request")
    );
    let _ = ClientSettings::new("unused");
}

#[tokio::test]
async fn an_unlinked_external_identity_signs_in_next_time_as_a_new_user() {
    // Arrange: ada's first Google sign-in made the external user Google_<subject>.
    let (app, _s, client) = federated_app(LinkingPolicy::Separate).await;
    let sign_in_sub = || async {
        let pkce = Pkce::new();
        let url = app.authorize_url(&client, Some(&pkce), &[("identity_provider", "Google")]);
        let (back, _) = federate(&browser(), &url, "ada", None).await;
        let tokens: Value = app
            .exchange(
                &client,
                &query_param(&location(&back), "code").unwrap(),
                Some(&pkce.verifier),
            )
            .await
            .json()
            .await
            .unwrap();
        let claims = jwt_claims(tokens["id_token"].as_str().unwrap());
        assert_eq!(claims["cognito:username"], format!("Google_{ADA_GOOGLE}"));
        claims["sub"].as_str().unwrap().to_string()
    };
    let first = sign_in_sub().await;
    let pool = cognate::users::admin::pool(&app.state, &app.pool_id)
        .await
        .unwrap();
    // Act
    cognate::users::admin::unlink_provider(&app.state, &pool, "Google", ADA_GOOGLE)
        .await
        .unwrap();
    // Assert: the old user went with its identity, and the next sign-in makes a new one.
    assert!(
        app.state
            .store
            .user_by_id(&app.pool_id, &first)
            .await
            .unwrap()
            .is_none()
    );
    let second = sign_in_sub().await;
    assert_ne!(first, second);
}

// Matrix: AZ-08
#[tokio::test]
async fn only_an_enabled_provider_spelt_exactly_is_reached_and_hints_go_url_encoded() {
    let (app, s, _) = federated_app(LinkingPolicy::Separate).await;
    // This client offers Google only; Facebook is configured in the pool.
    let client = cognate::clients::update(&app.state, &app.pool_id, &app.public.client_id, |c| {
        c.supported_identity_providers = ["COGNITO", "Google"].map(String::from).to_vec();
    })
    .await
    .unwrap();
    for provider in [
        "Facebook",
        "google",
        "GOOGLE",
        "Google ",
        "NoSuchProvider",
        "cognito",
    ] {
        let res = browser()
            .get(app.authorize_url(
                &client,
                Some(&Pkce::new()),
                &[("identity_provider", provider)],
            ))
            .send()
            .await
            .unwrap();
        let to = location(&res);
        assert!(
            !to.starts_with(&s.base),
            "{provider:?} reached the provider: {to}"
        );
        assert!(
            to.starts_with(&format!("{CALLBACK}?")),
            "{provider:?}: {to}"
        );
        assert_eq!(
            query_param(&to, "error").as_deref(),
            Some("invalid_request"),
            "{provider:?}"
        );
        assert_eq!(query_param(&to, "state").as_deref(), Some("st-1"));
    }
    // idp_identifier of a provider the client does not offer.
    let res = browser()
        .get(app.authorize_url(
            &client,
            Some(&Pkce::new()),
            &[("idp_identifier", "facebook.example")],
        ))
        .send()
        .await
        .unwrap();
    assert!(!location(&res).starts_with(&s.base));
    // The enabled one is reached, with the hint URL-encoded and intact.
    let hint = "a\"&b=<c>'d%20e@example.com";
    let res = browser()
        .get(app.authorize_url(
            &client,
            Some(&Pkce::new()),
            &[("identity_provider", "Google"), ("login_hint", hint)],
        ))
        .send()
        .await
        .unwrap();
    let to = location(&res);
    assert!(to.starts_with(&s.base), "{to}");
    assert!(!to.contains('"') && !to.contains('<'), "{to}");
    assert_eq!(query_param(&to, "login_hint").as_deref(), Some(hint));
    let pairs: Vec<_> = url::Url::parse(&to)
        .unwrap()
        .query_pairs()
        .map(|(k, _)| k.into_owned())
        .collect();
    assert!(
        !pairs.iter().any(|k| k == "b"),
        "the hint split into parameters"
    );
}

// Matrix: PR-02
#[tokio::test]
async fn an_unconfirmed_account_claiming_a_verified_address_is_never_a_link_target() {
    // Mallory signed up with Ada's address and a stored claim that it is verified (what
    // an unsigned SignUp could store before), but never confirmed it.
    let (app, _s, client) = federated_app(LinkingPolicy::Link).await;
    let attributes = BTreeMap::from([
        ("email".to_string(), "ada@example.com".to_string()),
        ("email_verified".to_string(), "true".to_string()),
    ]);
    let mallory = cognate::users::create(
        &app.state,
        &app.pool_id,
        "mallory",
        Some(crate::helpers::PASSWORD),
        cognate::users::UserStatus::Unconfirmed,
        attributes,
    )
    .await
    .unwrap();
    let url = app.authorize_url(
        &client,
        Some(&Pkce::new()),
        &[("identity_provider", "Google")],
    );
    let (back, _) = federate(&browser(), &url, "ada", None).await;
    assert_eq!(back.status(), StatusCode::FOUND);
    assert!(location(&back).starts_with(CALLBACK), "Ada signs in");
    let linked = app
        .state
        .store
        .user_of_identity(&app.pool_id, "Google", ADA_GOOGLE)
        .await
        .unwrap()
        .unwrap();
    assert_ne!(
        linked, mallory.user_id,
        "Ada's identity went to Mallory's account"
    );
    let ada = app
        .state
        .store
        .user_by_id(&app.pool_id, &linked)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(ada.username, format!("Google_{ADA_GOOGLE}"));
}

/// An unsigned Cognito API call to `app`: (status, JSON body).
async fn api(app: &TestApp, action: &str, body: Value) -> (StatusCode, Value) {
    let res = reqwest::Client::new()
        .post(format!("{}/", app.base()))
        .header("content-type", "application/x-amz-json-1.1")
        .header(
            "x-amz-target",
            format!("AWSCognitoIdentityProviderService.{action}"),
        )
        .body(body.to_string())
        .send()
        .await
        .unwrap();
    (res.status(), res.json().await.unwrap())
}

// Matrix: PS-06
#[tokio::test]
async fn facebook_and_amazon_addresses_never_count_as_verified() {
    // Ada's native account has her verified address; her Facebook and Amazon profiles
    // carry it too, but neither provider asserts that it was verified.
    let (app, _s, client) = federated_app(LinkingPolicy::Link).await;
    let native =
        crate::account::create_user_with_email(&app, "ada-native", "ada@example.com").await;
    cognate::groups::create(&app.state, &app.pool_id, "editors", None, None)
        .await
        .unwrap();
    for (provider, subject) in [("Facebook", ADA_FACEBOOK), ("LoginWithAmazon", ADA_AMAZON)] {
        cognate::flows::external::preregister(
            &app.state,
            &app.pool_id,
            provider,
            None,
            Some("ada@example.com"),
            &["editors".into()],
            &BTreeMap::new(),
        )
        .await
        .unwrap();
        let url = app.authorize_url(
            &client,
            Some(&Pkce::new()),
            &[("identity_provider", provider)],
        );
        let (back, _) = federate(&browser(), &url, "ada", None).await;
        assert!(
            location(&back).starts_with(CALLBACK),
            "{provider}: signs in"
        );
        let store = &app.state.store;
        let linked = store
            .user_of_identity(&app.pool_id, provider, subject)
            .await
            .unwrap()
            .unwrap();
        assert_ne!(
            linked, native.user_id,
            "{provider} linked by an unasserted address"
        );
        let user = store
            .user_by_id(&app.pool_id, &linked)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(user.username, format!("{provider}_{subject}"));
        assert_eq!(user.attributes["email"], "ada@example.com");
        assert_eq!(user.attributes["email_verified"], "false", "{provider}");
        let groups = store.groups_of_user(&user.user_id).await.unwrap();
        assert!(
            !groups.iter().any(|g| g.group_name == "editors"),
            "{provider} claimed a pre-registration by an unasserted address"
        );
    }
}

// Matrix: PS-07
#[tokio::test]
async fn a_native_sign_up_cannot_take_a_providers_username_form() {
    let (app, _s, client) = federated_app(LinkingPolicy::Separate).await;
    cognate::groups::create(&app.state, &app.pool_id, "buyers", None, None)
        .await
        .unwrap();
    let attrs = BTreeMap::from([("custom:team".to_string(), "gold".to_string())]);
    cognate::flows::external::preregister(
        &app.state,
        &app.pool_id,
        "LoginWithAmazon",
        Some(ADA_AMAZON),
        None,
        &["buyers".into()],
        &attrs,
    )
    .await
    .unwrap();
    // The external form of a configured provider, in any case, is refused.
    for username in [
        format!("loginwithamazon_{ADA_AMAZON}"),
        format!("LoginWithAmazon_{ADA_AMAZON}"),
        "GOOGLE_1".to_string(),
    ] {
        let (status, body) = api(
            &app,
            "SignUp",
            serde_json::json!({
                "ClientId": app.public.client_id,
                "Username": username,
                "Password": crate::helpers::PASSWORD,
                "UserAttributes": [{"Name": "email", "Value": "mallory@example.com"}],
            }),
        )
        .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{username}: {body}");
        assert_eq!(body["__type"], "InvalidParameterException", "{username}");
    }
    // A name that only looks alike for a provider the pool does not have is a name.
    let (status, body) = api(
        &app,
        "SignUp",
        serde_json::json!({
            "ClientId": app.public.client_id,
            "Username": "Okta_1",
            "Password": crate::helpers::PASSWORD,
            "UserAttributes": [{"Name": "email", "Value": "okta@example.com"}],
        }),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");

    // The real Amazon user's first sign-in works and gets what was pre-registered.
    let url = app.authorize_url(
        &client,
        Some(&Pkce::new()),
        &[("identity_provider", "LoginWithAmazon")],
    );
    let (back, _) = federate(&browser(), &url, "ada", None).await;
    assert!(location(&back).starts_with(CALLBACK));
    let ada = app
        .state
        .store
        .user_by_name(&app.pool_id, &format!("LoginWithAmazon_{ADA_AMAZON}"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(ada.attributes["custom:team"], "gold");
    let groups = app.state.store.groups_of_user(&ada.user_id).await.unwrap();
    assert!(
        groups.iter().any(|g| g.group_name == "buyers"),
        "{groups:?}"
    );
}

// Matrix: PS-07
#[tokio::test]
async fn a_failed_first_sign_in_leaves_the_preregistration_waiting() {
    let (app, _s, client) = federated_app(LinkingPolicy::Separate).await;
    cognate::groups::create(&app.state, &app.pool_id, "buyers", None, None)
        .await
        .unwrap();
    cognate::flows::external::preregister(
        &app.state,
        &app.pool_id,
        "LoginWithAmazon",
        Some(ADA_AMAZON),
        None,
        &["buyers".into()],
        &BTreeMap::new(),
    )
    .await
    .unwrap();
    // A user that already holds the external name (created before the provider rule,
    // or by another path) makes the creation fail…
    let new = cognate::users::NewUser {
        username: format!("LoginWithAmazon_{ADA_AMAZON}"),
        password_hash: None,
        status: cognate::users::UserStatus::Confirmed,
        attributes: BTreeMap::new(),
        pending_code: None,
    };
    app.state
        .store
        .insert_user(&app.pool_id, "squatter", &new, 0)
        .await
        .unwrap();
    let url = app.authorize_url(
        &client,
        Some(&Pkce::new()),
        &[("identity_provider", "LoginWithAmazon")],
    );
    let (back, _) = federate(&browser(), &url, "ada", None).await;
    let went = back
        .headers()
        .get("location")
        .map(|l| l.to_str().unwrap().to_string());
    assert!(went.is_none_or(|l| !l.contains("code=")), "no sign-in");
    // …and the pre-registration is still there for when the name is free again.
    assert!(
        app.state
            .store
            .has_preregistration(&app.pool_id, "LoginWithAmazon", "subject", ADA_AMAZON)
            .await
            .unwrap()
    );
    app.state.store.delete_user("squatter").await.unwrap();
    let (back, _) = federate(&browser(), &url, "ada", None).await;
    assert!(location(&back).starts_with(CALLBACK));
    let ada = app
        .state
        .store
        .user_by_name(&app.pool_id, &format!("LoginWithAmazon_{ADA_AMAZON}"))
        .await
        .unwrap()
        .unwrap();
    let groups = app.state.store.groups_of_user(&ada.user_id).await.unwrap();
    assert!(
        groups.iter().any(|g| g.group_name == "buyers"),
        "{groups:?}"
    );
}

#[tokio::test]
async fn a_sign_in_through_a_custom_domain_comes_back_to_the_domain_from_the_provider() {
    // Arrange: the pool has a custom domain; the browser reaches it by that name.
    let (app, _s, client) = federated_app(LinkingPolicy::Separate).await;
    let host = "login.example.org";
    let custom = cognate::domains::NewDomain {
        name: host,
        certificate_arn: Some("arn:aws:acm:us-east-1:123456789012:certificate/federation"),
        managed_login_version: None,
    };
    cognate::domains::create(&app.state, &app.pool_id, &custom)
        .await
        .unwrap();
    let domain = format!("http://{host}:{}", app.addr.port());
    let b = reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .resolve(host, app.addr)
        .build()
        .unwrap();
    let pkce = Pkce::new();
    let authorize = app
        .authorize_url(&client, Some(&pkce), &[("identity_provider", "Google")])
        .replace(&app.issuer(), &domain);

    // Act
    let (back, provider_authorize) = federate(&b, &authorize, "ada", None).await;

    // Assert: the provider was told to return to the domain, where the session is.
    assert_eq!(
        query_param(&provider_authorize, "redirect_uri").unwrap(),
        format!("{domain}/oauth2/idpresponse")
    );
    let to = location(&back);
    assert!(to.starts_with(CALLBACK), "{to}");
    let code = query_param(&to, "code").unwrap();
    let res = app.exchange(&client, &code, Some(&pkce.verifier)).await;
    assert_eq!(res.status(), StatusCode::OK);
    let tokens: Value = res.json().await.unwrap();
    let claims = jwt_claims(tokens["id_token"].as_str().unwrap());
    assert_eq!(claims["iss"], domain.as_str());
    assert_eq!(claims["cognito:username"], format!("Google_{ADA_GOOGLE}"));
}

/// A trigger webhook on loopback recording each event's source; it refuses the pre
/// sign-up of Grace's Google identity.
async fn trigger_receiver() -> (String, std::sync::Arc<std::sync::Mutex<Vec<String>>>) {
    let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let record = seen.clone();
    let handler = move |axum::Json(event): axum::Json<Value>| {
        let record = record.clone();
        async move {
            let source = event["triggerSource"].as_str().unwrap().to_string();
            record.lock().unwrap().push(source.clone());
            if source == "PreSignUp_ExternalProvider"
                && event["userName"] == "Google_100000000000000000002"
            {
                return (
                    StatusCode::BAD_REQUEST,
                    axum::Json(serde_json::json!({"message": "Grace may not sign up"})),
                );
            }
            (StatusCode::OK, axum::Json(event))
        }
    };
    let router = axum::Router::new().route("/hook", axum::routing::post(handler));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    (url, seen)
}

// Firing table: first federated sign-in; later federated sign-ins; federated pre
// sign-up refused.
#[tokio::test]
async fn a_first_federated_sign_in_fires_pre_sign_up_and_post_confirmation_later_ones_pre_and_post_authentication_never_migration()
 {
    // Arrange: every trigger points at one receiver (loopback: the development flag).
    let app = TestApp::spawn_with(|c| {
        c.with_triggers(cognate::config::TriggerOptions {
            allow_private: true,
            ..Default::default()
        })
    })
    .await;
    let (app, _s, client) = federated(app, LinkingPolicy::Separate).await;
    let (hook, seen) = trigger_receiver().await;
    let pool_id = app.pool_id.clone();
    cognate::pool::update(&app.state, &pool_id, |s| {
        let c = &mut s.lambda_config;
        for t in [
            &mut c.pre_sign_up,
            &mut c.post_confirmation,
            &mut c.pre_authentication,
            &mut c.post_authentication,
            &mut c.user_migration,
            &mut c.pre_token_generation,
        ] {
            *t = Some(hook.clone());
        }
        cognate::triggers::new_secret(&app.state, &pool_id, s);
    })
    .await
    .unwrap();
    let pkce = Pkce::new();
    let url = app.authorize_url(&client, Some(&pkce), &[("identity_provider", "Google")]);
    // Act: Ada's first sign-in, with the code redeemed.
    let (back, _) = federate(&browser(), &url, "ada", None).await;
    let code = query_param(&location(&back), "code").expect("a code");
    let tokens = app.exchange(&client, &code, Some(&pkce.verifier)).await;
    assert_eq!(tokens.status(), StatusCode::OK);
    // Assert
    assert_eq!(
        std::mem::take(&mut *seen.lock().unwrap()),
        [
            "PreSignUp_ExternalProvider",
            "PostConfirmation_ConfirmSignUp",
            "TokenGeneration_HostedAuth"
        ]
    );
    // Act: her second sign-in creates nothing: it is a sign-in of a user the pool has
    // (AWS's "Lambda triggers for federated users"), never a migration.
    let pkce = Pkce::new();
    let url = app.authorize_url(&client, Some(&pkce), &[("identity_provider", "Google")]);
    let (back, _) = federate(&browser(), &url, "ada", None).await;
    let code = query_param(&location(&back), "code").expect("a code");
    app.exchange(&client, &code, Some(&pkce.verifier)).await;
    assert_eq!(
        std::mem::take(&mut *seen.lock().unwrap()),
        [
            "PreAuthentication_Authentication",
            "PostAuthentication_Authentication",
            "TokenGeneration_HostedAuth"
        ]
    );
    // Act: Grace's pre sign-up is refused.
    let count = user_count(&app).await;
    let (back, _) = federate(&browser(), &url, "grace", None).await;
    // Assert: back to the app with the message, as Cognito does; no user.
    let to = location(&back);
    assert!(to.starts_with(CALLBACK), "{to}");
    assert_eq!(
        query_param(&to, "error").as_deref(),
        Some("invalid_request")
    );
    assert_eq!(
        query_param(&to, "error_description").as_deref(),
        Some("PreSignUp failed with error Grace may not sign up.")
    );
    assert_eq!(user_count(&app).await, count, "nothing created");
    assert_eq!(*seen.lock().unwrap(), ["PreSignUp_ExternalProvider"]);
}
