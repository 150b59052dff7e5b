//! Triggers raised by the shared operations (issue 16), with a signed webhook served
//! on loopback: pre token generation at `/oauth2/token` (hosted sign-in and refresh),
//! the signature (Standard Webhooks), the trigger log, `/metrics`, and refused
//! loopback, private and metadata addresses. The loopback webhooks are reached with the
//! development flag (`--trigger-allow-private`), as a developer would.

use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use axum::http::HeaderMap;
use serde_json::{Value, json};

use crate::helpers::{Pkce, TestApp, jwt_claims};

/// A server with the development flag, so webhooks on loopback are reached.
async fn spawn_allowing_private() -> TestApp {
    TestApp::spawn_with(|c| {
        crate::domains::with_keys(c).with_triggers(cognate::config::TriggerOptions {
            allow_private: true,
            ..Default::default()
        })
    })
    .await
}

/// A webhook that checks cognate's Standard Webhooks signature with `secret` and adds
/// a claim; records each event's trigger source, or `bad signature`.
async fn webhook(secret: String) -> (String, Arc<Mutex<Vec<String>>>) {
    webhook_answering(secret, |mut event| {
        event["response"]["claimsOverrideDetails"] =
            json!({"claimsToAddOrOverride": {"tenant": "acme"}});
        (axum::http::StatusCode::OK, event)
    })
    .await
}

/// A webhook that checks cognate's Standard Webhooks signature with `secret`, records
/// each event's trigger source (or `bad signature`, answered 401), and answers what
/// `answer` makes of the event.
async fn webhook_answering(
    secret: String,
    answer: fn(Value) -> (axum::http::StatusCode, Value),
) -> (String, Arc<Mutex<Vec<String>>>) {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let record = seen.clone();
    let handler = move |headers: HeaderMap, body: Bytes| {
        let record = record.clone();
        let secret = secret.clone();
        async move {
            let body = String::from_utf8(body.to_vec()).unwrap();
            let header = |name: &str| headers[name].to_str().unwrap().to_string();
            let (id, signature) = (header("webhook-id"), header("webhook-signature"));
            let t: i64 = header("webhook-timestamp").parse().unwrap();
            assert!(id.starts_with("msg_"), "{id}");
            // Standard Webhooks: any of the space-separated signatures may match.
            let expected = cognate::triggers::signature(&secret, &id, t, &body);
            if !signature.split(' ').any(|s| s == expected) {
                record.lock().unwrap().push("bad signature".into());
                return (
                    axum::http::StatusCode::UNAUTHORIZED,
                    axum::Json(json!({"message": "bad signature"})),
                );
            }
            let event: Value = serde_json::from_str(&body).unwrap();
            record
                .lock()
                .unwrap()
                .push(event["triggerSource"].as_str().unwrap().to_string());
            let (status, out) = answer(event);
            (status, axum::Json(out))
        }
    };
    let router = axum::Router::new().route("/hook", axum::routing::post(handler));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    (format!("http://{addr}/hook"), seen)
}

/// A new trigger secret for the test pool.
async fn new_pool_secret(app: &TestApp) -> String {
    let mut secret = String::new();
    cognate::pool::update(&app.state, &app.pool_id, |s| {
        secret = cognate::triggers::new_secret(&app.state, &app.pool_id, s);
    })
    .await
    .unwrap();
    secret
}

async fn set_pre_token(app: &TestApp, target: &str) -> String {
    let target = target.to_string();
    let mut secret = String::new();
    cognate::pool::update(&app.state, &app.pool_id, |s| {
        s.lambda_config.pre_token_generation = Some(target);
        secret = cognate::triggers::new_secret(&app.state, &app.pool_id, s);
    })
    .await
    .unwrap();
    secret
}

// Matrix: WH-01
#[tokio::test]
async fn pre_token_generation_fires_for_hosted_sign_in_and_refresh_at_the_token_endpoint() {
    // Arrange
    let app = spawn_allowing_private().await;
    let secret = new_pool_secret(&app).await;
    let (url, seen) = webhook(secret).await;
    set_pre_token_keep_secret(&app, &url).await;
    // Act
    let pkce = Pkce::new();
    let code = app.login_and_authorize(&app.public, Some(&pkce)).await;
    let tokens: Value = app
        .exchange(&app.public, &code, Some(&pkce.verifier))
        .await
        .json()
        .await
        .unwrap();
    let refreshed: Value = app
        .refresh(&app.public, tokens["refresh_token"].as_str().unwrap())
        .await
        .json()
        .await
        .unwrap();
    // Assert
    assert_eq!(
        jwt_claims(tokens["id_token"].as_str().unwrap())["tenant"],
        "acme"
    );
    assert_eq!(
        jwt_claims(refreshed["id_token"].as_str().unwrap())["tenant"],
        "acme"
    );
    assert_eq!(
        *seen.lock().unwrap(),
        [
            "TokenGeneration_HostedAuth",
            "TokenGeneration_RefreshTokens"
        ]
    );
    let log = app
        .state
        .store
        .trigger_log(&cognate::store::TriggerLogFilter {
            pool_id: Some(&app.pool_id),
            limit: 10,
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(log.len(), 2);
    assert!(log.iter().all(|e| e.outcome == "ok" && e.target == url));
    assert_eq!(
        app.state
            .metrics
            .trigger_calls("TokenGeneration_HostedAuth", "ok"),
        1
    );
}

async fn set_pre_token_keep_secret(app: &TestApp, target: &str) {
    let target = target.to_string();
    cognate::pool::update(&app.state, &app.pool_id, |s| {
        s.lambda_config.pre_token_generation = Some(target);
    })
    .await
    .unwrap();
}

#[tokio::test]
async fn a_webhook_that_cannot_verify_the_signature_stops_the_token() {
    // Arrange
    let app = spawn_allowing_private().await;
    let (url, seen) = webhook("not-the-pools-secret".into()).await;
    set_pre_token(&app, &url).await;
    // Act
    let pkce = Pkce::new();
    let code = app.login_and_authorize(&app.public, Some(&pkce)).await;
    let res = app.exchange(&app.public, &code, Some(&pkce.verifier)).await;
    // Assert
    assert!(res.status().is_client_error());
    assert_eq!(*seen.lock().unwrap(), ["bad signature"]);
}

/// A loopback listener that counts the connections made to it.
async fn counting_listener() -> (std::net::SocketAddr, Arc<std::sync::atomic::AtomicUsize>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let count = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let counted = count.clone();
    tokio::spawn(async move {
        while let Ok((_socket, _)) = listener.accept().await {
            counted.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        }
    });
    (addr, count)
}

async fn sign_up(app: &TestApp, username: &str) -> (u16, Value) {
    let (status, body) = app
        .api_call(
            "SignUp",
            &json!({
                "ClientId": app.public.client_id,
                "Username": username,
                "Password": crate::helpers::PASSWORD,
                "UserAttributes": [{"Name": "email", "Value": format!("{username}@example.com")}],
            }),
        )
        .await;
    (status.into(), body)
}

// Matrix: WH-03
#[tokio::test]
async fn loopback_private_and_metadata_webhooks_are_refused_when_configured_and_when_sent() {
    // Arrange: no development flag; a loopback listener that must see no connection.
    let app = TestApp::spawn_with(crate::domains::with_keys).await;
    let (addr, connections) = counting_listener().await;
    let port = addr.port();
    // Act + Assert: refused when configured, through the API, in every spelling.
    for target in [
        format!("http://127.0.0.1:{port}/hook"),
        format!("https://127.0.0.1:{port}/hook"),
        format!("https://localhost:{port}/hook"),
        format!("https://[::1]:{port}/hook"),
        format!("https://[::ffff:127.0.0.1]:{port}/hook"),
        format!("https://2130706433:{port}/hook"),
        format!("https://0x7f.1:{port}/hook"),
        "https://0.0.0.0/hook".to_string(),
        "https://10.0.0.1/hook".to_string(),
        "https://192.168.1.1/hook".to_string(),
        "https://100.64.0.1/hook".to_string(),
        "https://[fd00::1]/hook".to_string(),
        "https://169.254.169.254/latest/meta-data".to_string(),
        "https://[fe80::1]/hook".to_string(),
    ] {
        let (status, body) = crate::domains::api(
            &app,
            "UpdateUserPool",
            json!({"UserPoolId": app.pool_id, "LambdaConfig": {"PreSignUp": target}}),
        )
        .await;
        assert_eq!(status, 400, "{target}");
        assert_eq!(body["__type"], "InvalidParameterException", "{target}");
    }
    let pool = app
        .state
        .store
        .pool_by_id(&app.pool_id)
        .await
        .unwrap()
        .unwrap();
    assert!(pool.settings.lambda_config.pre_sign_up.is_none());
    // A target stored before (or behind) the check is refused again at send time, on
    // the literal address and on the address a name resolves to.
    for (i, target) in [
        format!("https://127.0.0.1:{port}/hook"),
        format!("http://127.0.0.1:{port}/hook"),
        format!("https://localhost:{port}/hook"),
    ]
    .into_iter()
    .enumerate()
    {
        let mut settings = pool.settings.clone();
        settings.lambda_config.pre_sign_up = Some(target.clone());
        cognate::triggers::new_secret(&app.state, &app.pool_id, &mut settings);
        app.state
            .store
            .update_pool(&app.pool_id, &pool.name, &settings, 0)
            .await
            .unwrap();
        let username = format!("mallory{i}");
        let (status, body) = sign_up(&app, &username).await;
        assert_eq!(status, 400, "{target}");
        assert_eq!(body["__type"], "UnexpectedLambdaException", "{target}");
        assert!(
            app.state
                .store
                .user_by_name(&app.pool_id, &username)
                .await
                .unwrap()
                .is_none()
        );
    }
    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    assert_eq!(connections.load(std::sync::atomic::Ordering::SeqCst), 0);
}

// Matrix: WH-03
#[tokio::test]
async fn metadata_addresses_are_refused_even_with_the_development_flag() {
    let app = spawn_allowing_private().await;
    let (status, body) = crate::domains::api(
        &app,
        "UpdateUserPool",
        json!({"UserPoolId": app.pool_id,
               "LambdaConfig": {"PreSignUp": "http://169.254.169.254/latest/meta-data"}}),
    )
    .await;
    assert_eq!(status, 400);
    assert_eq!(body["__type"], "InvalidParameterException");
}

// Matrix: WH-01
#[tokio::test]
async fn after_a_rotation_deliveries_carry_both_signatures_for_a_day() {
    // Arrange: a pool whose secret is rotated once.
    let app = spawn_allowing_private().await;
    let mut old = String::new();
    let mut new = String::new();
    cognate::pool::update(&app.state, &app.pool_id, |s| {
        old = cognate::triggers::new_secret(&app.state, &app.pool_id, s);
        new = cognate::triggers::new_secret(&app.state, &app.pool_id, s);
    })
    .await
    .unwrap();
    assert_ne!(old, new);
    let (old_url, old_seen) = webhook(old).await;
    let (new_url, new_seen) = webhook(new).await;
    // Act + Assert: receivers holding either secret verify the delivery.
    for url in [&old_url, &new_url] {
        set_pre_token_keep_secret(&app, url).await;
        let res = hosted_tokens(&app).await;
        assert_eq!(res.status(), 200, "{url}");
    }
    // A day later only the new secret signs.
    app.state
        .clock
        .advance(cognate::triggers::ROTATION_OVERLAP_SECONDS + 1);
    for url in [&old_url, &new_url] {
        set_pre_token_keep_secret(&app, url).await;
        hosted_tokens(&app).await;
    }
    assert_eq!(
        *old_seen.lock().unwrap(),
        ["TokenGeneration_HostedAuth", "bad signature"]
    );
    assert_eq!(
        *new_seen.lock().unwrap(),
        ["TokenGeneration_HostedAuth", "TokenGeneration_HostedAuth"]
    );
}

/// A hosted sign-in in a new browser, and its code redeemed.
async fn hosted_tokens(app: &TestApp) -> reqwest::Response {
    let pkce = Pkce::new();
    let url = app.authorize_url(&app.public, Some(&pkce), &[]);
    let callback = app
        .sign_in(
            &crate::helpers::browser(),
            &url,
            "alice",
            crate::helpers::PASSWORD,
        )
        .await;
    let code = crate::helpers::query_param(&callback, "code").unwrap();
    app.exchange(&app.public, &code, Some(&pkce.verifier)).await
}

/// A webhook (with the pool's `secret`) that refuses the pre authentication of
/// `mallory` and lets everything else through.
async fn sign_in_webhook(secret: String) -> (String, Arc<Mutex<Vec<String>>>) {
    webhook_answering(secret, |event| {
        if event["triggerSource"] == "PreAuthentication_Authentication"
            && event["userName"] == "mallory"
        {
            let refusal = json!({"message": "Mallory is locked out"});
            return (axum::http::StatusCode::FORBIDDEN, refusal);
        }
        (axum::http::StatusCode::OK, event)
    })
    .await
}

// Firing table: hosted login page (password) -> PreAuthentication_Authentication,
// PostAuthentication_Authentication, then at /oauth2/token TokenGeneration_HostedAuth;
// a pre authentication refusal is shown on the login page.
#[tokio::test]
async fn the_hosted_login_page_fires_pre_and_post_authentication_and_shows_a_refusal() {
    // Arrange: pre and post authentication and pre token generation at one webhook.
    let app = spawn_allowing_private().await;
    let secret = new_pool_secret(&app).await;
    let (url, seen) = sign_in_webhook(secret).await;
    cognate::pool::update(&app.state, &app.pool_id, |s| {
        let c = &mut s.lambda_config;
        for t in [
            &mut c.pre_authentication,
            &mut c.post_authentication,
            &mut c.pre_token_generation,
        ] {
            *t = Some(url.clone());
        }
    })
    .await
    .unwrap();
    cognate::users::create(
        &app.state,
        &app.pool_id,
        "mallory",
        Some(crate::helpers::PASSWORD),
        cognate::users::UserStatus::Confirmed,
        Default::default(),
    )
    .await
    .unwrap();
    // Act: Alice signs in through the hosted page and her code is redeemed.
    let tokens = hosted_tokens(&app).await;
    // Assert
    assert_eq!(tokens.status(), reqwest::StatusCode::OK);
    assert_eq!(
        std::mem::take(&mut *seen.lock().unwrap()),
        [
            "PreAuthentication_Authentication",
            "PostAuthentication_Authentication",
            "TokenGeneration_HostedAuth"
        ]
    );
    // Act: Mallory's pre authentication is refused.
    let authorize = app.authorize_url(&app.public, Some(&Pkce::new()), &[]);
    let refused = app
        .post_login(
            &crate::helpers::browser(),
            &authorize,
            "mallory",
            crate::helpers::PASSWORD,
        )
        .await;
    // Assert: the login page again, with the handler's message, as Cognito's hosted UI
    // shows it; no sign-in.
    assert_eq!(refused.status(), reqwest::StatusCode::BAD_REQUEST);
    let html = refused.text().await.unwrap();
    assert!(
        html.contains("PreAuthentication failed with error Mallory is locked out."),
        "{html}"
    );
    assert!(html.contains("name=\"password\""), "the login form again");
    assert_eq!(*seen.lock().unwrap(), ["PreAuthentication_Authentication"]);
}

/// The claim the pre token webhook adds, as a relying party declares it.
#[derive(Debug, Clone, serde::Deserialize, serde::Serialize)]
struct TenantClaims {
    tenant: String,
}

impl openidconnect::AdditionalClaims for TenantClaims {}

type TenantIdToken = openidconnect::IdToken<
    TenantClaims,
    openidconnect::core::CoreGenderClaim,
    openidconnect::core::CoreJweContentEncryptionAlgorithm,
    openidconnect::core::CoreJwsSigningAlgorithm,
>;

// Firing table: hosted login -> TokenGeneration_HostedAuth, the claim verified by a
// real OIDC client.
#[tokio::test]
async fn a_pre_token_webhooks_claim_is_in_an_id_token_the_openidconnect_crate_verifies() {
    use openidconnect::core::{CoreAuthenticationFlow, CoreClient, CoreProviderMetadata};
    use openidconnect::{
        AuthorizationCode, ClientId, CsrfToken, IssuerUrl, Nonce, PkceCodeChallenge, RedirectUrl,
        TokenResponse,
    };
    // Arrange: a pre token webhook adding `tenant`, and a relying party from discovery.
    let app = spawn_allowing_private().await;
    let secret = new_pool_secret(&app).await;
    let (url, _seen) = webhook(secret).await;
    set_pre_token_keep_secret(&app, &url).await;
    let http = crate::oidc_flow::rp_http();
    let metadata =
        CoreProviderMetadata::discover_async(IssuerUrl::new(app.issuer()).unwrap(), &http)
            .await
            .unwrap();
    let client = CoreClient::from_provider_metadata(
        metadata,
        ClientId::new(app.public.client_id.clone()),
        None,
    )
    .set_redirect_uri(RedirectUrl::new(crate::helpers::CALLBACK.to_string()).unwrap());
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let (auth_url, _, nonce) = client
        .authorize_url(
            CoreAuthenticationFlow::AuthorizationCode,
            CsrfToken::new_random,
            Nonce::new_random,
        )
        .set_pkce_challenge(challenge)
        .url();
    // Act
    let callback = app
        .sign_in(
            &crate::helpers::browser(),
            auth_url.as_str(),
            "alice",
            crate::helpers::PASSWORD,
        )
        .await;
    let code = crate::helpers::query_param(&callback, "code").unwrap();
    let tokens = client
        .exchange_code(AuthorizationCode::new(code))
        .unwrap()
        .set_pkce_verifier(verifier)
        .request_async(&http)
        .await
        .unwrap();
    // Assert: the library checks signature, issuer, audience, expiry and nonce, and
    // hands over the trigger's claim.
    let raw = tokens.id_token().expect("an ID token").to_string();
    let id_token: TenantIdToken = raw.parse().unwrap();
    let claims = id_token
        .claims(&client.id_token_verifier(), &nonce)
        .expect("the ID token verifies");
    assert_eq!(claims.additional_claims().tenant, "acme");
}
