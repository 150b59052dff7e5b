//! `/metrics` (issue 20 item 2): a mixed workload against a server on loopback, then
//! the scrape's series, on both backends; random paths add no series; the bearer token
//! and the separate listener refuse what they should. tests/python/test_metrics.py
//! reads the same exposition with the Prometheus project's own parser
//! (`prometheus_client`): a Rust one that reads label values holding `{` and `}` (route
//! templates) was not to be had.

use std::collections::BTreeSet;

use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::{PASSWORD, Pkce, TestApp, browser, query_param};

/// `/metrics` of `app` (at the root, not under the pool).
fn metrics_url(app: &TestApp) -> String {
    format!("{}/metrics", app.base())
}

/// `/metrics` of `app`.
async fn scrape(app: &TestApp) -> String {
    let res = app.http.get(metrics_url(app)).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let content_type = res.headers()["content-type"].to_str().unwrap().to_string();
    assert!(
        content_type.starts_with("text/plain; version=0.0.4"),
        "{content_type}"
    );
    res.text().await.unwrap()
}

/// The value of the series written `series` (name and labels as rendered), or `None`.
fn series(text: &str, series: &str) -> Option<f64> {
    text.lines()
        .find_map(|l| l.strip_prefix(series)?.strip_prefix(' ')?.parse().ok())
}

/// [`series`], which must be there.
fn value(text: &str, name: &str) -> f64 {
    series(text, name).unwrap_or_else(|| panic!("no series {name} in\n{text}"))
}

/// Every `route` label value of the request counter.
fn routes(text: &str) -> BTreeSet<String> {
    text.lines()
        .filter_map(|l| l.strip_prefix("cognate_http_requests_total{route=\""))
        .map(|l| l.split("\",status=").next().unwrap().to_string())
        .collect()
}

/// A client the API may sign in with a password.
async fn password_client(app: &TestApp) -> String {
    let mut settings = cognate::clients::ClientSettings::new("Password App");
    settings.explicit_auth_flows = vec!["ALLOW_USER_PASSWORD_AUTH".into()];
    let (client, _) = cognate::clients::create(
        &app.state,
        &app.pool_id,
        &settings,
        cognate::clients::NewSecret::None,
    )
    .await
    .unwrap();
    client.client_id
}

async fn initiate_auth(
    app: &TestApp,
    client_id: &str,
    username: &str,
    password: &str,
) -> StatusCode {
    let (status, _) = app
        .api_call(
            "InitiateAuth",
            &json!({ "ClientId": client_id, "AuthFlow": "USER_PASSWORD_AUTH",
                     "AuthParameters": { "USERNAME": username, "PASSWORD": password } }),
        )
        .await;
    status
}

#[tokio::test]
async fn a_mixed_workload_shows_in_every_metric_family() {
    // Arrange: webhooks may reach loopback (`--trigger-allow-private`).
    let app = TestApp::spawn_with(|c| {
        c.with_rate_limits(cognate::rate_limit::RateLimits::OFF)
            .with_triggers(cognate::config::TriggerOptions {
                allow_private: true,
                ..Default::default()
            })
    })
    .await;
    let api_client = password_client(&app).await;

    // Act: hosted sign-in and code exchange, refresh, a replayed refresh token.
    let pkce = Pkce::new();
    let code = app.login_and_authorize(&app.public, Some(&pkce)).await;
    let res = app.exchange(&app.public, &code, Some(&pkce.verifier)).await;
    assert_eq!(res.status(), StatusCode::OK);
    let tokens: serde_json::Value = res.json().await.unwrap();
    let first = tokens["refresh_token"].as_str().unwrap();
    assert_eq!(
        app.refresh(&app.public, first).await.status(),
        StatusCode::OK
    );
    assert_eq!(
        app.refresh(&app.public, first).await.status(),
        StatusCode::BAD_REQUEST
    );
    // API password sign-ins: one right, then wrong ones until the throttle refuses.
    assert_eq!(
        initiate_auth(&app, &api_client, "alice", PASSWORD).await,
        StatusCode::OK
    );
    for _ in 0..cognate::throttle::FREE_FAILURES + 2 {
        let status = initiate_auth(&app, &api_client, "mallory", "wrong password").await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
    }
    // A reset code by mail (to the outbox).
    let (status, body) = app
        .api_call(
            "ForgotPassword",
            &json!({ "ClientId": app.public.client_id, "Username": "alice" }),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    // A pre token generation trigger that cannot be reached stops the next refresh.
    cognate::pool::update(&app.state, &app.pool_id, |s| {
        s.lambda_config.pre_token_generation = Some("http://127.0.0.1:1/hook".into());
    })
    .await
    .unwrap();
    let authorize = app.authorize_url(&app.confidential, None, &[]);
    let callback = app.sign_in(&browser(), &authorize, "alice", PASSWORD).await;
    let code = query_param(&callback, "code").unwrap();
    let res = app.exchange(&app.confidential, &code, None).await;
    assert_ne!(res.status(), StatusCode::OK);
    let text = scrape(&app).await;

    // Assert: requests by route template and status, with their latency.
    let token = "route=\"/{pool_id}/oauth2/token\"";
    let ok = format!("cognate_http_requests_total{{{token},status=\"200\"}}");
    assert_eq!(value(&text, &ok), 2.0);
    let latency = "cognate_http_request_duration_seconds";
    let count = value(&text, &format!("{latency}_count{{{token}}}"));
    assert!(count >= 4.0, "{count}");
    let inf = format!("{latency}_bucket{{{token},le=\"+Inf\"}}");
    assert_eq!(value(&text, &inf), count);
    let fast = format!("{latency}_bucket{{{token},le=\"0.001\"}}");
    assert!(value(&text, &fast) <= count);
    let routes = routes(&text);
    assert!(routes.contains("/{pool_id}/login"), "{routes:?}");
    assert!(
        routes
            .iter()
            .all(|r| r.starts_with('/') && !r.contains(&app.pool_id)),
        "{routes:?}"
    );
    // Sign-ins by flow and outcome; every series exists before its first count.
    let sign_ins = |flow: &str, outcome: &str| {
        let name = format!("cognate_sign_ins_total{{flow=\"{flow}\",outcome=\"{outcome}\"}}");
        value(&text, &name)
    };
    assert_eq!(sign_ins("hosted_page", "success"), 2.0);
    assert_eq!(sign_ins("password", "success"), 1.0);
    assert!(sign_ins("password", "failure") >= cognate::throttle::FREE_FAILURES as f64);
    assert!(sign_ins("password", "throttled") >= 1.0);
    assert_eq!(sign_ins("refresh", "success"), 1.0);
    assert_eq!(sign_ins("refresh", "failure"), 1.0);
    for flow in ["srp", "custom", "federated"] {
        assert_eq!(sign_ins(flow, "success"), 0.0);
    }
    // Tokens by grant, refresh reuse, throttles.
    let tokens = |grant: &str| {
        value(
            &text,
            &format!("cognate_tokens_issued_total{{grant=\"{grant}\"}}"),
        )
    };
    assert_eq!(tokens("authorization_code"), 1.0);
    assert_eq!(tokens("refresh_token"), 1.0);
    assert_eq!(tokens("api"), 1.0);
    assert_eq!(tokens("client_credentials"), 0.0);
    assert_eq!(value(&text, "cognate_refresh_token_reuse_total"), 1.0);
    assert!(value(&text, "cognate_throttled_total{throttle=\"sign_in\"}") >= 1.0);
    // Mail.
    let mail = "cognate_mail_messages_total{kind=\"reset\",outcome=\"sent\"}";
    assert_eq!(value(&text, mail), 1.0);
    // The trigger call by source and outcome, with its time.
    let trigger = "trigger=\"TokenGeneration_HostedAuth\"";
    let calls = format!("cognate_trigger_invocations_total{{{trigger},outcome=\"unreachable\"}}");
    assert_eq!(value(&text, &calls), 1.0);
    let took = format!("cognate_trigger_duration_seconds_count{{{trigger}}}");
    assert_eq!(value(&text, &took), 1.0);
    // The database pool and the hashing queue.
    let db = match app.state.store.db {
        cognate::store::Db::Sqlite(_) => "{backend=\"sqlite\"}",
        cognate::store::Db::Postgres(_) => "{backend=\"postgres\"}",
    };
    let max = value(&text, &format!("cognate_db_pool_max_connections{db}"));
    let open = value(&text, &format!("cognate_db_pool_connections{db}"));
    let idle = value(&text, &format!("cognate_db_pool_idle_connections{db}"));
    assert!(
        open >= 1.0 && open <= max && idle <= open,
        "{max} {open} {idle}"
    );
    let waits = value(&text, &format!("cognate_db_pool_acquire_seconds_count{db}"));
    assert!(
        waits >= 1.0,
        "the code and refresh paths take connections: {waits}"
    );
    let slots = value(&text, "cognate_password_hash_slots");
    assert_eq!(slots, cognate::users::password::slot_count() as f64);
    assert!(value(&text, "cognate_password_hash_slots_in_use") <= slots);
    assert_eq!(value(&text, "cognate_password_hash_waiting"), 0.0);
    assert_eq!(value(&text, "cognate_auth_events_dropped_total"), 0.0);
}

#[tokio::test]
async fn random_paths_add_no_series() {
    // Arrange
    let app = TestApp::spawn().await;
    app.http.get(app.url("/no-such-page")).send().await.unwrap();
    app.http
        .get(format!("{}/no-such-page", app.base()))
        .send()
        .await
        .unwrap();
    let before = routes(&scrape(&app).await);

    // Act: paths no one registered, under a pool and not.
    let mut tokens = Vec::new();
    for _ in 0..40 {
        let token = cognate::crypto::random_alnum(12, true);
        for path in [
            format!("/{token}"),
            format!("/{token}/oauth2/token"),
            format!("/{}/{token}", app.pool_id),
        ] {
            let url = format!("{}{path}", app.base());
            app.http.get(url).send().await.unwrap();
        }
        tokens.push(token);
    }
    let after = routes(&scrape(&app).await);

    // Assert: at most the routes' templates those paths matched, none of their text.
    assert!(after.len() <= before.len() + 3, "{before:?} -> {after:?}");
    for token in &tokens {
        assert!(
            after.iter().all(|r| !r.contains(token.as_str())),
            "{after:?}"
        );
    }
}

#[tokio::test]
async fn a_metrics_token_is_required_when_set() {
    // Arrange
    let app = TestApp::spawn_with(|c| {
        c.with_rate_limits(cognate::rate_limit::RateLimits::OFF)
            .with_metrics(cognate::config::MetricsAccess {
                listen: None,
                token: Some("scrape-me-7f3a".into()),
            })
    })
    .await;
    let get = |auth: Option<&'static str>| {
        let mut req = app.http.get(metrics_url(&app));
        if let Some(auth) = auth {
            req = req.header("authorization", auth);
        }
        req.send()
    };

    // Act
    let none = get(None).await.unwrap();
    let wrong = get(Some("Bearer scrape-me-7f3b")).await.unwrap();
    let basic = get(Some("Basic c2NyYXBlLW1lLTdmM2E=")).await.unwrap();
    let right = get(Some("Bearer scrape-me-7f3a")).await.unwrap();

    // Assert
    for refused in [none, wrong, basic] {
        assert_eq!(refused.status(), StatusCode::UNAUTHORIZED);
        assert_eq!(refused.headers()["www-authenticate"], "Bearer");
        let body = refused.text().await.unwrap();
        assert!(!body.contains("cognate_"), "{body}");
    }
    assert_eq!(right.status(), StatusCode::OK);
    let text = right.text().await.unwrap();
    assert!(
        series(&text, "cognate_refresh_token_reuse_total").is_some(),
        "{text}"
    );
}

#[tokio::test]
async fn a_separate_metrics_listener_takes_metrics_off_the_main_one() {
    // Arrange
    let app = TestApp::spawn_with(|c| {
        c.with_rate_limits(cognate::rate_limit::RateLimits::OFF)
            .with_metrics(cognate::config::MetricsAccess {
                listen: Some("127.0.0.1:0".parse().unwrap()),
                token: None,
            })
    })
    .await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(cognate::server::serve_http(
        listener,
        cognate::metrics_router(app.state.clone()),
        app.state.config.connection_limits(),
        std::future::pending(),
    ));

    // Act
    let main = app.http.get(metrics_url(&app)).send().await.unwrap();
    let own = reqwest::get(format!("http://{addr}/metrics"))
        .await
        .unwrap();
    let other = reqwest::get(format!("http://{addr}/health")).await.unwrap();

    // Assert
    assert_eq!(main.status(), StatusCode::NOT_FOUND);
    assert!(!main.text().await.unwrap().contains("cognate_"));
    assert_eq!(own.status(), StatusCode::OK);
    let text = own.text().await.unwrap();
    assert!(
        series(&text, "cognate_password_hash_slots").is_some(),
        "{text}"
    );
    assert_eq!(other.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn a_message_the_smtp_server_does_not_take_is_counted_as_failed() {
    // Arrange: an instance whose SMTP server is a loopback port nobody listens on.
    let app = TestApp::spawn().await;
    let closed = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let mail = cognate::mail::Mailer::from_config(&cognate::config::MailConfig {
        smtp_host: Some("127.0.0.1".into()),
        smtp_port: Some(closed),
        smtp_tls: cognate::config::SmtpTls::None,
        ..Default::default()
    })
    .unwrap();
    let config = cognate::config::Config::new(&app.base(), None)
        .unwrap()
        .with_rate_limits(cognate::rate_limit::RateLimits::OFF);
    let state = cognate::server::open_with_mailer(&app.backend.store_args(), config, mail)
        .await
        .unwrap();
    let body = json!({ "ClientId": app.public.client_id, "Username": "alice" });
    let req = axum::http::Request::post("/")
        .header(
            "x-amz-target",
            "AWSCognitoIdentityProviderService.ForgotPassword",
        )
        .header("content-type", "application/x-amz-json-1.1")
        .body(axum::body::Body::from(body.to_string()))
        .unwrap();

    // Act
    tower::ServiceExt::oneshot(cognate::router(state.clone()), req)
        .await
        .unwrap();

    // Assert
    let text = state.metrics.render(&Default::default());
    let failed = "cognate_mail_messages_total{kind=\"reset\",outcome=\"failed\"}";
    assert_eq!(series(&text, failed), Some(1.0), "{text}");
    let sent = "cognate_mail_messages_total{kind=\"reset\",outcome=\"sent\"}";
    assert_eq!(series(&text, sent), None, "{text}");
}
