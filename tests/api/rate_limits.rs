//! Request-rate limits per client address (token endpoint, hosted-page posts, the JSON
//! API), per-address failure throttling against credential stuffing, and the cap on
//! code messages per user.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{Form, PASSWORD, Pkce, TestApp, browser, location};
use cognate::config::Config;
use cognate::rate_limit::RateLimits;

fn limits(spec: &str) -> RateLimits {
    spec.parse().unwrap()
}

/// A token request the endpoint refuses (unknown client) unless it is rate-limited.
async fn token_request(app: &TestApp, forwarded_for: &str) -> reqwest::Response {
    app.http
        .post(app.url("/oauth2/token"))
        .header("x-forwarded-for", forwarded_for)
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_id", "nobody"),
        ])
        .send()
        .await
        .unwrap()
}

async fn api_call(app: &TestApp, target: &str, body: Value) -> reqwest::Response {
    app.http
        .post(format!("http://{}/", app.addr))
        .header(
            "x-amz-target",
            format!("AWSCognitoIdentityProviderService.{target}"),
        )
        .header("content-type", "application/x-amz-json-1.1")
        .body(body.to_string())
        .send()
        .await
        .unwrap()
}

/// The hosted login page's URL, reached through authorize in browser `b`.
async fn login_page(app: &TestApp, b: &reqwest::Client) -> String {
    let url = app.authorize_url(&app.public, Some(&Pkce::new()), &[]);
    location(&b.get(url).send().await.unwrap())
}

fn retry_after(res: &reqwest::Response) -> u64 {
    res.headers()
        .get("retry-after")
        .expect("Retry-After is set")
        .to_str()
        .unwrap()
        .parse()
        .unwrap()
}

// Matrix: RL-01
#[tokio::test]
async fn the_default_token_limit_admits_a_burst_of_200_then_answers_429() {
    // 300 connections at once from one address: over the default connection cap
    // (PR-04), which this test is not about.
    let app =
        std::sync::Arc::new(TestApp::spawn_with(|c| c.with_connection_limits(4096, 1000)).await);
    // All at once, so the bucket (50/s) cannot refill much meanwhile.
    let mut requests = tokio::task::JoinSet::new();
    for _ in 0..300 {
        let app = app.clone();
        requests.spawn(async move { token_request(&app, "198.51.100.1").await });
    }
    let responses = requests.join_all().await;
    let count = |status| responses.iter().filter(|r| r.status() == status).count();
    let admitted = count(StatusCode::UNAUTHORIZED);
    let refused = count(StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(admitted + refused, 300);
    assert!(admitted >= 200, "the burst of 200 is admitted: {admitted}");
    assert!(refused > 0, "the rest is refused");
    let res = responses
        .into_iter()
        .find(|r| r.status() == StatusCode::TOO_MANY_REQUESTS)
        .unwrap();
    assert!(retry_after(&res) >= 1);
    assert_eq!(res.headers()["cache-control"], "no-store");
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["error"], "temporarily_unavailable");
}

// Matrix: RL-01
#[tokio::test]
async fn forwarded_addresses_do_not_escape_the_limit_unless_the_proxy_is_trusted() {
    let app = TestApp::spawn_with(|c| c.with_rate_limits(limits("token=1/3"))).await;
    // Rotating X-Forwarded-For from an untrusted peer changes nothing.
    for i in 0..3 {
        let res = token_request(&app, &format!("203.0.113.{i}")).await;
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    }
    let res = token_request(&app, "203.0.113.99").await;
    assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
    let metrics = app
        .http
        .get(format!("http://{}/metrics", app.addr))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        metrics.contains("cognate_rate_limited_total{category=\"token\"} 1"),
        "{metrics}"
    );

    // Behind a trusted proxy each forwarded client has its own bucket.
    fn behind_proxy(c: Config) -> Config {
        c.with_rate_limits("token=1/3".parse().unwrap())
            .with_trusted_proxies(vec!["127.0.0.1/32".parse().unwrap()])
    }
    let app = TestApp::spawn_with(behind_proxy).await;
    for i in 0..3 {
        assert_eq!(
            token_request(&app, "198.51.100.7").await.status(),
            StatusCode::UNAUTHORIZED,
            "request {i}"
        );
    }
    assert_eq!(
        token_request(&app, "198.51.100.7").await.status(),
        StatusCode::TOO_MANY_REQUESTS
    );
    assert_eq!(
        token_request(&app, "198.51.100.8").await.status(),
        StatusCode::UNAUTHORIZED
    );
}

// Matrix: RL-01
#[tokio::test]
async fn hosted_page_posts_over_the_limit_get_a_429_page_and_change_nothing() {
    let app = TestApp::spawn_with(|c| c.with_rate_limits(limits("form=1/2"))).await;
    let b = browser();
    let login = login_page(&app, &b).await;
    let form = Form::parse(&b.get(&login).send().await.unwrap().text().await.unwrap());
    let post = |password: &'static str| {
        b.post(&form.action)
            .form(&[
                ("csrf_token", form.csrf.as_str()),
                ("username", "alice"),
                ("password", password),
            ])
            .send()
    };
    for _ in 0..2 {
        assert_eq!(
            post("wrong").await.unwrap().status(),
            StatusCode::UNAUTHORIZED
        );
    }
    // Over the limit even the right password is not checked.
    let res = post(PASSWORD).await.unwrap();
    assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(retry_after(&res) >= 1);
    assert!(
        res.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    assert!(res.headers().get("location").is_none());
    // GETs are not form posts: the page still loads.
    assert_eq!(b.get(&login).send().await.unwrap().status(), StatusCode::OK);
}

// Matrix: RL-01
#[tokio::test]
async fn api_calls_over_the_limit_get_too_many_requests_exception() {
    let app = TestApp::spawn_with(|c| c.with_rate_limits(limits("api=1/2"))).await;
    let body = json!({"ClientId": app.public.client_id, "Username": "nobody"});
    for _ in 0..2 {
        let res = api_call(&app, "ForgotPassword", body.clone()).await;
        assert_eq!(res.status(), StatusCode::OK);
    }
    let res = api_call(&app, "ForgotPassword", body).await;
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    assert!(retry_after(&res) >= 1);
    let error: Value = res.json().await.unwrap();
    assert_eq!(error["__type"], "TooManyRequestsException");
}

// Matrix: HU-08
#[tokio::test]
async fn credential_stuffing_from_one_address_is_throttled_without_locking_victims() {
    let app = TestApp::spawn().await;
    let b = browser();
    let login = login_page(&app, &b).await;
    let mut form = Form::parse(&b.get(&login).send().await.unwrap().text().await.unwrap());
    let attempt = async |form: &Form, username: &str, password: &str| {
        b.post(&form.action)
            .form(&[
                ("csrf_token", form.csrf.as_str()),
                ("username", username),
                ("password", password),
            ])
            .send()
            .await
            .unwrap()
    };
    // One password sprayed over many usernames: each name fails once, so no username
    // is throttled, but the address is after its free failures.
    let free = cognate::throttle::ADDRESS_FREE_FAILURES;
    for i in 0..free {
        let res = attempt(&form, &format!("victim{i}"), "Summer2026!").await;
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED, "attempt {i}");
        form = Form::parse(&res.text().await.unwrap());
    }
    let res = attempt(&form, "alice", PASSWORD).await;
    assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(retry_after(&res) >= 1);

    // Alice is not locked: the block ends, and her own count was never touched.
    app.state.clock.advance(cognate::throttle::WINDOW + 1);
    let form = Form::parse(&b.get(&login).send().await.unwrap().text().await.unwrap());
    let res = attempt(&form, "alice", PASSWORD).await;
    assert_eq!(res.status(), StatusCode::FOUND);
}

// Matrix: RL-02
#[tokio::test]
async fn code_messages_to_one_user_are_capped_per_hour() {
    let app = TestApp::spawn().await;
    let to = "bomb@example.com";
    let res = api_call(
        &app,
        "SignUp",
        json!({
            "ClientId": app.public.client_id,
            "Username": "target",
            "Password": PASSWORD,
            "UserAttributes": [{"Name": "email", "Value": to}],
        }),
    )
    .await;
    assert_eq!(
        res.status(),
        StatusCode::OK,
        "{}",
        res.text().await.unwrap()
    );
    let resend = json!({"ClientId": app.public.client_id, "Username": "target"});
    let per_window = cognate::throttle::MESSAGES_PER_WINDOW as usize;
    for _ in 1..per_window {
        let res = api_call(&app, "ResendConfirmationCode", resend.clone()).await;
        assert_eq!(res.status(), StatusCode::OK);
    }
    let res = api_call(&app, "ResendConfirmationCode", resend.clone()).await;
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    assert!(retry_after(&res) >= 1);
    let error: Value = res.json().await.unwrap();
    assert_eq!(error["__type"], "LimitExceededException");
    let sent = app.state.store.outbox(Some(to), 100).await.unwrap().len();
    assert_eq!(sent, per_window, "the refused resend sent nothing");

    // The cap is per window, not for ever.
    app.state
        .clock
        .advance(cognate::throttle::MESSAGE_WINDOW + 1);
    let res = api_call(&app, "ResendConfirmationCode", resend).await;
    assert_eq!(res.status(), StatusCode::OK);
}
