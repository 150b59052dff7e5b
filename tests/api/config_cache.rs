//! Caches of clients, pools and signing keys on several instances: a change made on one
//! instance (or by the CLI) is seen on another within the config check interval
//! (`serve --config-check-ms`), and at once on the instance that made it.

use std::net::SocketAddr;
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use cognate::state::AppState;
use hmac::{Hmac, Mac};
use reqwest::StatusCode;
use serde_json::{Value, json};
use sha2::Sha256;

use crate::helpers::{CALLBACK, PASSWORD, TestApp};

/// Another instance on `app`'s database, checking the config version every `check`.
struct Instance {
    state: AppState,
    addr: SocketAddr,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Instance {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn instance(app: &TestApp, check: Duration) -> Instance {
    let config = cognate::config::Config::new(&app.base(), None)
        .unwrap()
        .with_rate_limits(cognate::rate_limit::RateLimits::OFF);
    let state = cognate::server::open(&app.backend.store_args(), config)
        .await
        .unwrap();
    state.store.set_config_check(check);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let task = tokio::spawn(cognate::server::serve_http(
        listener,
        cognate::router(state.clone()),
        app.state.config.connection_limits(),
        std::future::pending(),
    ));
    Instance { state, addr, task }
}

/// The status of `/oauth2/authorize` for the public client and `redirect_uri` at `addr`.
async fn authorize_status(app: &TestApp, addr: SocketAddr, redirect_uri: &str) -> StatusCode {
    let url = app
        .authorize_url(&app.public, None, &[("redirect_uri", redirect_uri)])
        .replace(&app.addr.to_string(), &addr.to_string());
    app.http.get(url).send().await.unwrap().status()
}

fn secret_hash(secret: &str, username: &str, client_id: &str) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(username.as_bytes());
    mac.update(client_id.as_bytes());
    STANDARD.encode(mac.finalize().into_bytes())
}

/// `USER_PASSWORD_AUTH` for alice at `addr` with the confidential client and `secret`.
async fn password_auth(
    app: &TestApp,
    addr: SocketAddr,
    client_id: &str,
    secret: Option<&str>,
) -> (StatusCode, Value) {
    let mut params = json!({ "USERNAME": "alice", "PASSWORD": PASSWORD });
    if let Some(secret) = secret {
        params["SECRET_HASH"] = secret_hash(secret, "alice", client_id).into();
    }
    app.api_call_at(
        addr,
        "InitiateAuth",
        &json!({ "AuthFlow": "USER_PASSWORD_AUTH", "ClientId": client_id, "AuthParameters": params }),
    )
    .await
}

/// The default check interval, plus room for a loaded test machine to answer.
fn past_the_bound() -> Duration {
    cognate::store::DEFAULT_CONFIG_CHECK + Duration::from_millis(200)
}

#[tokio::test]
async fn a_client_changed_on_one_instance_is_seen_on_another_within_the_check_interval() {
    // Arrange: instance B reads the client (a callback URL it allows) into its cache.
    let app = TestApp::spawn().await;
    let b = instance(&app, cognate::store::DEFAULT_CONFIG_CHECK).await;
    assert_eq!(
        authorize_status(&app, b.addr, CALLBACK).await,
        StatusCode::FOUND
    );
    assert_eq!(
        authorize_status(&app, b.addr, "https://app.example.com/cb").await,
        StatusCode::FOUND
    );

    // Act: instance A removes the callback URL.
    cognate::clients::update(&app.state, &app.pool_id, &app.public.client_id, |s| {
        s.callback_urls.retain(|u| u != CALLBACK)
    })
    .await
    .unwrap();

    // Assert: A refuses it at once, B within the interval; the URL kept still works.
    assert_eq!(
        authorize_status(&app, app.addr, CALLBACK).await,
        StatusCode::BAD_REQUEST
    );
    tokio::time::sleep(past_the_bound()).await;
    assert_eq!(
        authorize_status(&app, b.addr, CALLBACK).await,
        StatusCode::BAD_REQUEST
    );
    assert_eq!(
        authorize_status(&app, b.addr, "https://app.example.com/cb").await,
        StatusCode::FOUND
    );

    // A deleted client is unknown on B within the interval too.
    cognate::clients::delete(&app.state, &app.pool_id, &app.public.client_id)
        .await
        .unwrap();
    tokio::time::sleep(past_the_bound()).await;
    assert_eq!(
        authorize_status(&app, b.addr, "https://app.example.com/cb").await,
        StatusCode::BAD_REQUEST
    );
}

#[tokio::test]
async fn an_instance_serves_its_cached_client_until_its_check_then_reads_the_change() {
    // B checks once a minute: within this test, only what it read before counts.
    let app = TestApp::spawn().await;
    let b = instance(&app, Duration::from_secs(60)).await;
    assert_eq!(
        authorize_status(&app, b.addr, CALLBACK).await,
        StatusCode::FOUND
    );
    cognate::clients::update(&app.state, &app.pool_id, &app.public.client_id, |s| {
        s.callback_urls.retain(|u| u != CALLBACK)
    })
    .await
    .unwrap();
    // The cache is what B answers from: the change is not seen before its check...
    assert_eq!(
        authorize_status(&app, b.addr, CALLBACK).await,
        StatusCode::FOUND
    );
    // ...and is at the check.
    b.state.store.set_config_check(Duration::ZERO);
    assert_eq!(
        authorize_status(&app, b.addr, CALLBACK).await,
        StatusCode::BAD_REQUEST
    );
}

#[tokio::test]
async fn a_rotated_client_secret_is_the_only_one_accepted_on_every_instance() {
    // Arrange: the confidential client allows USER_PASSWORD_AUTH; B has its secret and
    // its secret digest cached (SECRET_HASH, and client_secret_basic on the token endpoint).
    let app = TestApp::spawn().await;
    let id = app.confidential.client_id.clone();
    cognate::clients::update(&app.state, &app.pool_id, &id, |s| {
        s.explicit_auth_flows = vec![
            "ALLOW_USER_PASSWORD_AUTH".into(),
            "ALLOW_REFRESH_TOKEN_AUTH".into(),
        ];
        s.refresh_token_rotation = false;
    })
    .await
    .unwrap();
    let b = instance(&app, cognate::store::DEFAULT_CONFIG_CHECK).await;
    let (status, body) = password_auth(&app, b.addr, &id, Some(&app.secret)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let refresh = body["AuthenticationResult"]["RefreshToken"]
        .as_str()
        .unwrap()
        .to_string();
    let token_at_b = |secret: String| {
        let (http, refresh, id) = (app.http.clone(), refresh.clone(), id.clone());
        let url = format!("http://{}/{}/oauth2/token", b.addr, app.pool_id);
        async move {
            http.post(url)
                .basic_auth(&id, Some(&secret))
                .form(&[("grant_type", "refresh_token"), ("refresh_token", &refresh)])
                .send()
                .await
                .unwrap()
                .status()
        }
    };
    assert_eq!(token_at_b(app.secret.clone()).await, StatusCode::OK);

    // Act: A rotates the secret.
    let new = cognate::clients::set_secret(
        &app.state,
        &app.pool_id,
        &id,
        cognate::clients::NewSecret::Generate,
    )
    .await
    .unwrap()
    .unwrap();

    // Assert: A takes only the new secret at once; B within the interval.
    assert_eq!(
        password_auth(&app, app.addr, &id, Some(&app.secret))
            .await
            .0,
        StatusCode::BAD_REQUEST
    );
    assert_eq!(
        password_auth(&app, app.addr, &id, Some(&new)).await.0,
        StatusCode::OK
    );
    tokio::time::sleep(past_the_bound()).await;
    assert_eq!(
        password_auth(&app, b.addr, &id, Some(&app.secret)).await.0,
        StatusCode::BAD_REQUEST
    );
    assert_eq!(
        password_auth(&app, b.addr, &id, Some(&new)).await.0,
        StatusCode::OK
    );
    assert_eq!(
        token_at_b(app.secret.clone()).await,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(token_at_b(new.clone()).await, StatusCode::OK);
}

#[tokio::test]
async fn a_pool_setting_changed_on_one_instance_applies_on_another_within_the_check_interval() {
    // Arrange: the public client allows USER_PASSWORD_AUTH, and B signs alice in
    // without a second factor (the pool's MFA setting, read from B's cache).
    let app = TestApp::spawn().await;
    let id = app.public.client_id.clone();
    cognate::clients::update(&app.state, &app.pool_id, &id, |s| {
        s.explicit_auth_flows = vec!["ALLOW_USER_PASSWORD_AUTH".into()]
    })
    .await
    .unwrap();
    let b = instance(&app, cognate::store::DEFAULT_CONFIG_CHECK).await;
    let (status, body) = password_auth(&app, b.addr, &id, None).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(body["AuthenticationResult"].is_object(), "{body}");

    // Act: A makes MFA required (an authenticator, which alice has yet to set up).
    crate::hosted_mfa::require_mfa(&app, true, false).await;

    // Assert: both instances ask for the setup, B within the interval.
    let (_, body) = password_auth(&app, app.addr, &id, None).await;
    assert_eq!(body["ChallengeName"], "MFA_SETUP", "{body}");
    tokio::time::sleep(past_the_bound()).await;
    let (_, body) = password_auth(&app, b.addr, &id, None).await;
    assert_eq!(body["ChallengeName"], "MFA_SETUP", "{body}");
}

fn kid(token: &str) -> String {
    let header = token.split('.').next().unwrap();
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(header)
        .unwrap();
    serde_json::from_slice::<Value>(&bytes).unwrap()["kid"]
        .as_str()
        .unwrap()
        .to_string()
}

#[tokio::test]
async fn a_key_rotated_on_one_instance_signs_on_another_within_the_check_interval() {
    // Arrange: B signs with the pool's first key (and would keep it for the 60 s key
    // cache TTL without the config version).
    let app = TestApp::spawn().await;
    let b = instance(&app, cognate::store::DEFAULT_CONFIG_CHECK).await;
    let tokens = app.tokens().await;
    let first = kid(tokens["access_token"].as_str().unwrap());
    let refresh_at_b = |token: String| {
        let (http, id) = (app.http.clone(), app.public.client_id.clone());
        let url = format!("http://{}/{}/oauth2/token", b.addr, app.pool_id);
        async move {
            let res = http
                .post(url)
                .form(&[
                    ("grant_type", "refresh_token"),
                    ("refresh_token", token.as_str()),
                    ("client_id", id.as_str()),
                ])
                .send()
                .await
                .unwrap();
            assert_eq!(res.status(), StatusCode::OK);
            res.json::<Value>().await.unwrap()
        }
    };
    let at_b = refresh_at_b(tokens["refresh_token"].as_str().unwrap().to_string()).await;
    assert_eq!(kid(at_b["access_token"].as_str().unwrap()), first);

    // Act: A rotates.
    let now = app.state.clock.now();
    let rotation = app
        .state
        .keys
        .rotate(&app.state.store, &app.pool_id, now, 86400)
        .await
        .unwrap()
        .unwrap();

    // Assert: B signs with the new key within the interval.
    tokio::time::sleep(past_the_bound()).await;
    let later = refresh_at_b(at_b["refresh_token"].as_str().unwrap().to_string()).await;
    assert_eq!(kid(later["access_token"].as_str().unwrap()), rotation.kid);
    assert_ne!(rotation.kid, first);
}

#[tokio::test]
async fn a_change_written_by_another_process_reaches_a_running_instance() {
    // What the CLI does while servers run: its own store on the same database, no
    // word to the servers but the config version its writes raise.
    let app = TestApp::spawn().await;
    assert_eq!(
        authorize_status(&app, app.addr, CALLBACK).await,
        StatusCode::FOUND
    );
    let cli = cognate::store::Store::connect(&app.backend.database_url)
        .await
        .unwrap();
    let mut settings = app.public.settings.clone();
    settings.callback_urls.retain(|u| u != CALLBACK);
    assert!(
        cli.update_client(&app.pool_id, &app.public.client_id, &settings, 0)
            .await
            .unwrap()
    );
    tokio::time::sleep(past_the_bound()).await;
    assert_eq!(
        authorize_status(&app, app.addr, CALLBACK).await,
        StatusCode::BAD_REQUEST
    );
}
