//! Security matrix rows of `/oauth2/token` (TK-*): replayed and cross-bound codes,
//! PKCE at redemption, client authentication, response hygiene, refresh-token
//! rotation with its retry grace period, scope on refresh, and what ends a sign-in.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use cognate::clients::{AppClient, ClientSettings};
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{
    CALLBACK, PASSWORD, Pkce, TestApp, assert_oauth_error, browser, jwt_claims, query_param,
};

/// Signs alice in from a browser of its own: the callback's code for `client`.
async fn code_for(app: &TestApp, client: &AppClient, pkce: Option<&Pkce>) -> String {
    let url = app.authorize_url(client, pkce, &[]);
    let callback = app.sign_in(&browser(), &url, "alice", PASSWORD).await;
    query_param(&callback, "code").unwrap()
}

/// Signs alice in from a browser of its own and redeems the code as `client`.
pub(crate) async fn fresh_tokens(app: &TestApp, client: &AppClient, scope: &str) -> Value {
    let pkce = Pkce::new();
    let url = app.authorize_url(client, Some(&pkce), &[("scope", scope)]);
    let callback = app.sign_in(&browser(), &url, "alice", PASSWORD).await;
    let code = query_param(&callback, "code").unwrap();
    let res = app.exchange(client, &code, Some(&pkce.verifier)).await;
    assert_eq!(res.status(), StatusCode::OK);
    res.json().await.unwrap()
}

pub(crate) fn s<'a>(v: &'a Value, key: &str) -> &'a str {
    v[key]
        .as_str()
        .unwrap_or_else(|| panic!("{key} missing in {v}"))
}

/// Whether a sign-in is dead: its refresh token refused, its access token refused.
pub(crate) async fn assert_revoked(app: &TestApp, client: &AppClient, tokens: &Value) {
    assert_oauth_error(
        app.refresh(client, s(tokens, "refresh_token")).await,
        StatusCode::BAD_REQUEST,
        "invalid_grant",
    )
    .await;
    assert_eq!(app.userinfo(s(tokens, "access_token")).await.status(), 401);
}

// Matrix: TK-01
#[tokio::test]
async fn a_code_replayed_thirty_seconds_later_is_refused_and_revokes_the_first_tokens() {
    let app = TestApp::spawn().await;
    let pkce = Pkce::new();
    let code = code_for(&app, &app.public, Some(&pkce)).await;
    let first = app.exchange(&app.public, &code, Some(&pkce.verifier)).await;
    assert_eq!(first.status(), 200);
    let first: Value = first.json().await.unwrap();
    assert_eq!(app.userinfo(s(&first, "access_token")).await.status(), 200);
    app.state.clock.advance(30);
    let second = app.exchange(&app.public, &code, Some(&pkce.verifier)).await;
    assert_oauth_error(second, StatusCode::BAD_REQUEST, "invalid_grant").await;
    assert_revoked(&app, &app.public, &first).await;
}

/// A second confidential client of the same pool, with its secret.
async fn second_confidential(app: &TestApp) -> (AppClient, String) {
    let mut new = ClientSettings::new("Confidential B");
    new.callback_urls = vec![CALLBACK.into()];
    let (client, secret) = cognate::clients::create(
        &app.state,
        &app.pool_id,
        &new,
        cognate::clients::NewSecret::Generate,
    )
    .await
    .unwrap();
    (client, secret.unwrap())
}

async fn redeem_as(
    app: &TestApp,
    client: &AppClient,
    secret: &str,
    form: &[(&str, &str)],
) -> reqwest::Response {
    app.http
        .post(app.url("/oauth2/token"))
        .basic_auth(&client.client_id, Some(secret))
        .form(form)
        .send()
        .await
        .unwrap()
}

// Matrix: TK-03
#[tokio::test]
async fn a_code_redeemed_by_another_client_or_for_another_redirect_uri_is_refused_and_burned() {
    let app = TestApp::spawn().await;
    let (b, b_secret) = second_confidential(&app).await;
    // Client B, with its own valid credentials, presents A's code: refused, and the
    // code is burned (a cross-client attempt means it leaked).
    let code = code_for(&app, &app.confidential, None).await;
    let form = [
        ("grant_type", "authorization_code"),
        ("code", code.as_str()),
        ("redirect_uri", CALLBACK),
    ];
    assert_oauth_error(
        redeem_as(&app, &b, &b_secret, &form).await,
        StatusCode::BAD_REQUEST,
        "invalid_grant",
    )
    .await;
    assert_oauth_error(
        app.exchange(&app.confidential, &code, None).await,
        StatusCode::BAD_REQUEST,
        "invalid_grant",
    )
    .await;

    // Another registered redirect URI: refused, and burned.
    let code = code_for(&app, &app.confidential, None).await;
    let res = app
        .token_request(
            &app.confidential,
            &[
                ("grant_type", "authorization_code"),
                ("code", &code),
                ("redirect_uri", "https://app.example.com/cb"),
            ],
        )
        .await;
    assert_oauth_error(res, StatusCode::BAD_REQUEST, "invalid_grant").await;
    assert_oauth_error(
        app.exchange(&app.confidential, &code, None).await,
        StatusCode::BAD_REQUEST,
        "invalid_grant",
    )
    .await;

    // No redirect_uri at all: the row expects invalid_grant; cognate answers
    // invalid_request, which RFC 6749 §5.2 defines for a missing required parameter (and
    // Cognito requires redirect_uri too). The code is not consumed by a malformed
    // request, so the right request still redeems it.
    let code = code_for(&app, &app.confidential, None).await;
    let res = app
        .token_request(
            &app.confidential,
            &[("grant_type", "authorization_code"), ("code", &code)],
        )
        .await;
    assert_oauth_error(res, StatusCode::BAD_REQUEST, "invalid_request").await;
    assert_eq!(
        app.exchange(&app.confidential, &code, None).await.status(),
        200
    );
}

// Matrix: TK-04
#[tokio::test]
async fn every_bad_code_verifier_is_refused() {
    let app = TestApp::spawn().await;
    type Verifier = Box<dyn Fn(&Pkce) -> Option<String>>;
    let cases: Vec<(&str, Verifier)> = vec![
        ("missing", Box::new(|_| None)),
        ("wrong", Box::new(|_| Some(Pkce::new().verifier))),
        ("42 chars", Box::new(|p| Some(p.verifier[..42].to_string()))),
        (
            "129 chars",
            Box::new(|p| {
                Some(format!(
                    "{}{}",
                    p.verifier,
                    "a".repeat(129 - p.verifier.len())
                ))
            }),
        ),
        (
            "bad charset",
            Box::new(|p| Some(format!("{}+/=", &p.verifier[..40]))),
        ),
        (
            "the challenge itself",
            Box::new(|p| Some(p.challenge.clone())),
        ),
        (
            "trailing space",
            Box::new(|p| Some(format!("{} ", p.verifier))),
        ),
    ];
    for (name, verifier) in cases {
        let pkce = Pkce::new();
        let code = code_for(&app, &app.public, Some(&pkce)).await;
        let v = verifier(&pkce);
        let res = app.exchange(&app.public, &code, v.as_deref()).await;
        assert_eq!(res.status(), StatusCode::BAD_REQUEST, "{name}");
        let body: Value = res.json().await.unwrap();
        assert!(
            body["error"] == "invalid_grant" || body["error"] == "invalid_request",
            "{name}: {body}"
        );
    }
    // Downgrade: a verifier for a code issued without a challenge.
    let code = code_for(&app, &app.confidential, None).await;
    let res = app
        .exchange(&app.confidential, &code, Some(&Pkce::new().verifier))
        .await;
    assert_oauth_error(res, StatusCode::BAD_REQUEST, "invalid_grant").await;
}

// Matrix: TK-05
#[tokio::test]
async fn a_code_lives_at_most_its_lifetime() {
    let lifetime = cognate::flows::code::CODE_LIFETIME;
    assert!(lifetime <= 600, "RFC 6749 §4.1.2: at most 10 minutes");
    let app = TestApp::spawn().await;
    app.state.clock.freeze();
    // One second before the end it still redeems.
    let pkce = Pkce::new();
    let code = code_for(&app, &app.public, Some(&pkce)).await;
    app.state.clock.advance(lifetime - 1);
    let res = app.exchange(&app.public, &code, Some(&pkce.verifier)).await;
    assert_eq!(res.status(), 200);
    // Lifetime + 1 s: refused.
    let pkce = Pkce::new();
    let code = code_for(&app, &app.public, Some(&pkce)).await;
    app.state.clock.advance(lifetime + 1);
    let res = app.exchange(&app.public, &code, Some(&pkce.verifier)).await;
    assert_oauth_error(res, StatusCode::BAD_REQUEST, "invalid_grant").await;
}

/// A token request with a raw `Authorization` header and form.
async fn raw_auth(
    app: &TestApp,
    authorization: Option<&str>,
    form: &[(&str, &str)],
) -> reqwest::Response {
    let mut req = app.http.post(app.url("/oauth2/token")).form(form);
    if let Some(a) = authorization {
        req = req.header("authorization", a);
    }
    req.send().await.unwrap()
}

async fn assert_invalid_client(res: reqwest::Response, basic_used: bool, case: &str) {
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED, "{case}");
    let challenge = res
        .headers()
        .get("www-authenticate")
        .map(|v| v.to_str().unwrap().to_string());
    if basic_used {
        assert!(
            challenge.as_deref().is_some_and(|c| c.starts_with("Basic")),
            "{case}: {challenge:?}"
        );
    }
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["error"], "invalid_client", "{case}: {body}");
}

// Matrix: TK-06
#[tokio::test]
async fn every_client_authentication_mistake_is_invalid_client() {
    let app = TestApp::spawn().await;
    let code = code_for(&app, &app.confidential, None).await;
    let id = app.confidential.client_id.as_str();
    let secret = app.secret.as_str();
    let grant = [
        ("grant_type", "authorization_code"),
        ("code", code.as_str()),
        ("redirect_uri", CALLBACK),
    ];
    let basic = |user: &str| format!("Basic {}", STANDARD.encode(user));
    let with = |extra: &[(&'static str, String)]| {
        let mut f: Vec<(&str, String)> = grant.iter().map(|(k, v)| (*k, v.to_string())).collect();
        f.extend(extra.iter().cloned());
        f
    };
    let header_cases: Vec<(&str, String)> = vec![
        ("wrong secret", basic(&format!("{id}:not-the-secret"))),
        ("unknown client", basic(&format!("nosuchclient:{secret}"))),
        ("bad base64", format!("Basic {id}:{secret}")),
        (
            "base64 with junk",
            format!("Basic {}!!", STANDARD.encode(format!("{id}:{secret}"))),
        ),
        ("no colon", basic(&format!("{id}{secret}"))),
        (
            "un-encoded colon in secret",
            basic(&format!("{id}:{secret}:x")),
        ),
        (
            "secret with trailing space",
            basic(&format!("{id}:{secret} ")),
        ),
        (
            "secret with trailing %20",
            basic(&format!("{id}:{secret}%20")),
        ),
        ("empty secret", basic(&format!("{id}:"))),
        ("wrong scheme", format!("Bearer {secret}")),
        ("empty", "Basic ".into()),
    ];
    for (case, header) in &header_cases {
        let res = raw_auth(&app, Some(header), &grant).await;
        assert_invalid_client(res, true, case).await;
    }
    // Both methods at once, even with correct credentials in each.
    let form = with(&[("client_id", id.into()), ("client_secret", secret.into())]);
    let pairs: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let res = raw_auth(&app, Some(&basic(&format!("{id}:{secret}"))), &pairs).await;
    assert_invalid_client(res, true, "Basic and body together").await;

    let body_cases: Vec<(&str, Vec<(&'static str, String)>)> = vec![
        (
            "wrong body secret",
            vec![("client_id", id.into()), ("client_secret", "nope".into())],
        ),
        (
            "body secret with trailing space",
            vec![
                ("client_id", id.into()),
                ("client_secret", format!("{secret} ")),
            ],
        ),
        ("no secret", vec![("client_id", id.into())]),
        (
            "secret for a public client",
            vec![
                ("client_id", app.public.client_id.clone()),
                ("client_secret", secret.into()),
            ],
        ),
        ("nothing", vec![]),
    ];
    for (case, extra) in body_cases {
        let form = with(&extra);
        let pairs: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
        assert_invalid_client(raw_auth(&app, None, &pairs).await, false, case).await;
    }
    // Basic for a public client (which has no secret) is refused too.
    let res = raw_auth(
        &app,
        Some(&basic(&format!("{}:{secret}", app.public.client_id))),
        &grant,
    )
    .await;
    assert_invalid_client(res, true, "Basic for a public client").await;
    // None of these consumed the code: the right credentials still redeem it.
    assert_eq!(
        app.exchange(&app.confidential, &code, None).await.status(),
        200
    );
    // The comparison itself is constant-time over fixed-length SHA-256 digests
    // (`AppClient::verify_secret` with `crypto::ct_eq`); a latency test over loopback on
    // a shared 2-core machine would only be noise.
}

/// Asserts the token response hygiene of RFC 6749 §5.1 on a successful grant.
async fn assert_hygienic(res: reqwest::Response, grant: &str) -> Value {
    assert_eq!(res.status(), StatusCode::OK, "{grant}");
    let h = res.headers();
    assert_eq!(h["cache-control"], "no-store", "{grant}");
    assert_eq!(h["pragma"], "no-cache", "{grant}");
    assert!(
        h["content-type"]
            .to_str()
            .unwrap()
            .starts_with("application/json"),
        "{grant}"
    );
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["token_type"], "Bearer", "{grant}");
    assert!(
        body["expires_in"].as_i64().is_some_and(|e| e > 0),
        "{grant}"
    );
    if let Some(rt) = body["refresh_token"].as_str() {
        // ≥ 128 bits: at least 22 base64url characters of CSPRNG output.
        assert!(rt.len() >= 22, "{grant}: {rt}");
        assert!(
            rt.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'),
            "{grant}"
        );
    }
    body
}

// Matrix: TK-07
#[tokio::test]
async fn every_successful_grant_is_no_store_json_bearer() {
    let app = TestApp::spawn().await;
    let pkce = Pkce::new();
    let code = code_for(&app, &app.public, Some(&pkce)).await;
    let public = assert_hygienic(
        app.exchange(&app.public, &code, Some(&pkce.verifier)).await,
        "authorization_code (public)",
    )
    .await;
    let code = code_for(&app, &app.confidential, None).await;
    let confidential = assert_hygienic(
        app.exchange(&app.confidential, &code, None).await,
        "authorization_code (confidential)",
    )
    .await;
    let refreshed = assert_hygienic(
        app.refresh(&app.public, s(&public, "refresh_token")).await,
        "refresh_token",
    )
    .await;
    let refreshed_c = assert_hygienic(
        app.refresh(&app.confidential, s(&confidential, "refresh_token"))
            .await,
        "refresh_token (confidential)",
    )
    .await;
    let handles = [
        s(&public, "refresh_token"),
        s(&confidential, "refresh_token"),
        s(&refreshed, "refresh_token"),
        s(&refreshed_c, "refresh_token"),
    ];
    let distinct: std::collections::HashSet<_> = handles.iter().collect();
    assert_eq!(distinct.len(), handles.len());
    // Refusals are no-store too (assert_oauth_error checks it).
    assert_oauth_error(
        app.refresh(&app.public, "garbage").await,
        StatusCode::BAD_REQUEST,
        "invalid_grant",
    )
    .await;
}

/// A public client whose refresh tokens may be retried for `grace` seconds after use.
async fn client_with_grace(app: &TestApp, grace: i64) -> AppClient {
    let mut new = ClientSettings::new("Retrying App");
    new.callback_urls = vec![CALLBACK.into()];
    new.allowed_scopes = ["openid", "email", "profile"].map(String::from).to_vec();
    new.refresh_token_rotation = true;
    new.refresh_token_retry_grace = grace;
    cognate::clients::create(
        &app.state,
        &app.pool_id,
        &new,
        cognate::clients::NewSecret::None,
    )
    .await
    .unwrap()
    .0
}

// Matrix: TK-08
#[tokio::test]
async fn a_refresh_token_may_be_retried_within_the_grace_period_and_a_later_reuse_revokes_the_family()
 {
    let app = TestApp::spawn().await;
    let client = client_with_grace(&app, 30).await;
    let first = fresh_tokens(&app, &client, "openid email").await;
    let rt1 = s(&first, "refresh_token");
    let second: Value = app.refresh(&client, rt1).await.json().await.unwrap();
    let rt2 = s(&second, "refresh_token");
    assert_ne!(rt1, rt2, "rotation");

    // Inside the grace period (a client that lost the response retries): new tokens,
    // nothing revoked.
    app.state.clock.advance(20);
    let retry = app.refresh(&client, rt1).await;
    assert_eq!(retry.status(), 200, "retry within the grace period");
    let retry: Value = retry.json().await.unwrap();
    assert_eq!(app.userinfo(s(&second, "access_token")).await.status(), 200);
    assert_eq!(app.userinfo(s(&retry, "access_token")).await.status(), 200);

    // After the grace period: a reuse, and the whole family is revoked.
    app.state.clock.advance(11);
    assert_oauth_error(
        app.refresh(&client, rt1).await,
        StatusCode::BAD_REQUEST,
        "invalid_grant",
    )
    .await;
    assert_revoked(&app, &client, &second).await;
    assert_revoked(&app, &client, &retry).await;
}

// Matrix: TK-08
#[tokio::test]
async fn without_a_grace_period_an_immediate_reuse_revokes_the_family() {
    // A rotating client (the test app's, like the demo's) with the default grace
    // period of 0 s: the strictest reading of RFC 9700 §4.14.2.
    let app = TestApp::spawn().await;
    let first = fresh_tokens(&app, &app.public, "openid").await;
    let rt1 = s(&first, "refresh_token");
    let second: Value = app.refresh(&app.public, rt1).await.json().await.unwrap();
    assert_oauth_error(
        app.refresh(&app.public, rt1).await,
        StatusCode::BAD_REQUEST,
        "invalid_grant",
    )
    .await;
    // RT2 after the reuse was detected: refused, AT2 dead.
    assert_revoked(&app, &app.public, &second).await;
    // The grace period is bounded as Cognito bounds RetryGracePeriodSeconds.
    let mut new = ClientSettings::new("Too Graceful");
    new.callback_urls = vec![CALLBACK.into()];
    new.refresh_token_retry_grace = 61;
    assert!(
        cognate::clients::create(
            &app.state,
            &app.pool_id,
            &new,
            cognate::clients::NewSecret::None
        )
        .await
        .is_err()
    );
}

// Matrix: TK-09
#[tokio::test]
async fn another_clients_refresh_token_and_scope_escalation_are_refused() {
    let app = TestApp::spawn().await;
    let a = fresh_tokens(&app, &app.public, "openid email").await;
    let rt = s(&a, "refresh_token");
    // Client B (with valid credentials) presents A's refresh token.
    let res = app.refresh(&app.confidential, rt).await;
    assert_oauth_error(res, StatusCode::BAD_REQUEST, "invalid_grant").await;
    // A's token is untouched by that attempt.
    let res = app.refresh(&app.public, rt).await;
    assert_eq!(res.status(), 200, "A's refresh token still works");
    let refreshed: Value = res.json().await.unwrap();
    let rt = s(&refreshed, "refresh_token").to_string();

    // Broader than granted: invalid_scope, and the token is not consumed.
    for scope in [
        "openid email profile",
        "phone",
        "openid aws.cognito.signin.user.admin",
    ] {
        let res = app
            .token_request(
                &app.public,
                &[
                    ("grant_type", "refresh_token"),
                    ("refresh_token", &rt),
                    ("scope", scope),
                ],
            )
            .await;
        assert_oauth_error(res, StatusCode::BAD_REQUEST, "invalid_scope").await;
    }
    // Narrower: allowed, and the access token carries only that scope.
    let res = app
        .token_request(
            &app.public,
            &[
                ("grant_type", "refresh_token"),
                ("refresh_token", &rt),
                ("scope", "openid"),
            ],
        )
        .await;
    assert_eq!(res.status(), 200);
    let narrow: Value = res.json().await.unwrap();
    assert_eq!(jwt_claims(s(&narrow, "access_token"))["scope"], "openid");
    let info: Value = app
        .userinfo(s(&narrow, "access_token"))
        .await
        .json()
        .await
        .unwrap();
    assert!(
        info.get("email").is_none(),
        "email scope was dropped: {info}"
    );
    // The refreshed ID token keeps iss, sub, aud (and azp if any).
    let before = jwt_claims(s(&a, "id_token"));
    for t in [&refreshed, &narrow] {
        let after = jwt_claims(s(t, "id_token"));
        for claim in ["iss", "sub", "aud", "azp"] {
            assert_eq!(before.get(claim), after.get(claim), "{claim}");
        }
    }
    // Omitting scope later still gives the originally granted scopes.
    let res = app.refresh(&app.public, s(&narrow, "refresh_token")).await;
    let full: Value = res.json().await.unwrap();
    assert_eq!(
        jwt_claims(s(&full, "access_token"))["scope"],
        "openid email"
    );
}

/// A public client that may also ask for the Cognito API's own scope.
pub(crate) async fn account_client(app: &TestApp) -> AppClient {
    let mut new = ClientSettings::new("Account App");
    new.refresh_token_rotation = true;
    new.callback_urls = vec![CALLBACK.into()];
    new.logout_urls = vec![crate::helpers::LOGOUT.into()];
    new.allowed_scopes = [
        "openid",
        "email",
        "profile",
        "aws.cognito.signin.user.admin",
    ]
    .map(String::from)
    .to_vec();
    cognate::clients::create(
        &app.state,
        &app.pool_id,
        &new,
        cognate::clients::NewSecret::None,
    )
    .await
    .unwrap()
    .0
}

/// Calls an unsigned action of the Cognito JSON API.
pub(crate) async fn api(app: &TestApp, action: &str, body: Value) -> reqwest::Response {
    app.http
        .post(format!("{}/", app.base()))
        .header("content-type", "application/x-amz-json-1.1")
        .header(
            "x-amz-target",
            format!("AWSCognitoIdentityProviderService.{action}"),
        )
        .body(body.to_string())
        .send()
        .await
        .unwrap()
}

// Matrix: TK-10
#[tokio::test]
async fn refresh_fails_after_every_event_that_ends_a_sign_in() {
    let app = TestApp::spawn().await;
    let pool = cognate::users::admin::pool(&app.state, &app.pool_id)
        .await
        .unwrap();
    let acct = account_client(&app).await;
    let client_id = acct.client_id.clone();

    // Password reset (ForgotPassword + ConfirmForgotPassword).
    let t = fresh_tokens(&app, &acct, "openid").await;
    let res = api(
        &app,
        "ForgotPassword",
        json!({"ClientId": client_id, "Username": "alice"}),
    )
    .await;
    assert_eq!(res.status(), 200, "{}", res.text().await.unwrap());
    let mail = app.last_mail("alice@example.com").await;
    let code = crate::account::code_in(&mail.body_text);
    let res = api(
        &app,
        "ConfirmForgotPassword",
        json!({"ClientId": client_id, "Username": "alice", "ConfirmationCode": code, "Password": PASSWORD}),
    )
    .await;
    assert_eq!(res.status(), 200, "{}", res.text().await.unwrap());
    assert_revoked(&app, &acct, &t).await;

    // GlobalSignOut with the user's own access token.
    let t = fresh_tokens(&app, &acct, "openid aws.cognito.signin.user.admin").await;
    let res = api(
        &app,
        "GlobalSignOut",
        json!({"AccessToken": s(&t, "access_token")}),
    )
    .await;
    assert_eq!(res.status(), 200, "{}", res.text().await.unwrap());
    assert_revoked(&app, &acct, &t).await;

    // RevokeToken.
    let t = fresh_tokens(&app, &acct, "openid").await;
    let res = api(
        &app,
        "RevokeToken",
        json!({"ClientId": client_id, "Token": s(&t, "refresh_token")}),
    )
    .await;
    assert_eq!(res.status(), 200, "{}", res.text().await.unwrap());
    assert_revoked(&app, &acct, &t).await;

    // AdminUserGlobalSignOut, AdminDisableUser, AdminDeleteUser: the functions the
    // signed API actions call (tests/python covers their SigV4 front).
    let t = fresh_tokens(&app, &acct, "openid").await;
    cognate::users::admin::global_sign_out(&app.state, &pool, "alice")
        .await
        .unwrap();
    assert_revoked(&app, &acct, &t).await;

    let t = fresh_tokens(&app, &acct, "openid").await;
    cognate::users::admin::set_enabled(&app.state, &pool, "alice", false)
        .await
        .unwrap();
    assert_revoked(&app, &acct, &t).await;
    cognate::users::admin::set_enabled(&app.state, &pool, "alice", true)
        .await
        .unwrap();
    assert_revoked(&app, &acct, &t).await;

    // Past the absolute lifetime: counted from the sign-in, not extended by refreshes.
    let t = fresh_tokens(&app, &acct, "openid").await;
    let validity = acct.refresh_token_validity;
    app.state.clock.advance(validity - 10);
    let r: Value = app
        .refresh(&acct, s(&t, "refresh_token"))
        .await
        .json()
        .await
        .unwrap();
    app.state.clock.advance(11);
    assert_oauth_error(
        app.refresh(&acct, s(&r, "refresh_token")).await,
        StatusCode::BAD_REQUEST,
        "invalid_grant",
    )
    .await;

    let t = fresh_tokens(&app, &acct, "openid").await;
    cognate::users::admin::delete_user(&app.state, &pool, "alice")
        .await
        .unwrap();
    assert_revoked(&app, &acct, &t).await;
}

/// A second instance on the test's database, as behind a load balancer: its own
/// process state (caches, connection pool) and the same public URL. Its base URL, and
/// the task serving it.
pub(crate) async fn second_instance(app: &TestApp) -> (String, tokio::task::JoinHandle<()>) {
    let config = cognate::config::Config::new(&app.base(), None)
        .unwrap()
        .with_rate_limits(cognate::rate_limit::RateLimits::OFF);
    let state = cognate::server::open(&app.backend.store_args(), config)
        .await
        .unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let router = cognate::router(state);
    let task = tokio::spawn(async move {
        axum::serve(
            listener,
            router.into_make_service_with_connect_info::<std::net::SocketAddr>(),
        )
        .await
        .unwrap();
    });
    (base, task)
}

/// Redemptions of one code released together from `contenders` tasks, spread over
/// the instances at `bases`: the count of 200s, and the other answers.
async fn race_one_code(app: &TestApp, bases: &[String], contenders: usize) -> (usize, Vec<String>) {
    let code = code_for(app, &app.confidential, None).await;
    let barrier = std::sync::Arc::new(tokio::sync::Barrier::new(contenders));
    let tasks: Vec<_> = (0..contenders)
        .map(|i| {
            let url = format!("{}/{}/oauth2/token", bases[i % bases.len()], app.pool_id);
            let (http, client_id, secret) = (
                app.http.clone(),
                app.confidential.client_id.clone(),
                app.secret.clone(),
            );
            let (code, barrier) = (code.clone(), barrier.clone());
            tokio::spawn(async move {
                let request = http.post(url).basic_auth(client_id, Some(secret)).form(&[
                    ("grant_type", "authorization_code"),
                    ("code", code.as_str()),
                    ("redirect_uri", CALLBACK),
                ]);
                barrier.wait().await;
                let res = request.send().await.unwrap();
                (res.status(), res.text().await.unwrap())
            })
        })
        .collect();
    let mut wins = 0;
    let mut others = Vec::new();
    for task in tasks {
        let (status, body) = task.await.unwrap();
        if status == StatusCode::OK {
            wins += 1;
        } else {
            others.push(format!("{status} {body}"));
        }
    }
    (wins, others)
}

/// Twenty redemptions of one code at once: exactly one gets tokens, nineteen get
/// `invalid_grant` (never a 500 or a second set of tokens). On one instance, and on two
/// instances sharing the database (the fault harness's R-5 repeats this 200 times
/// across two processes on PostgreSQL).
// Matrix: TK-02
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn twenty_parallel_redemptions_of_one_code_yield_exactly_one_token_set() {
    let app = TestApp::spawn().await;
    let (b, b_task) = second_instance(&app).await;
    for (setup, bases) in [
        ("one instance", vec![app.base()]),
        ("two instances", vec![app.base(), b.clone()]),
    ] {
        for round in 0..10 {
            let (wins, others) = race_one_code(&app, &bases, 20).await;
            assert_eq!(wins, 1, "{setup}, round {round}: {others:?}");
            assert_eq!(others.len(), 19);
            for other in &others {
                assert!(
                    other.starts_with("400 ") && other.contains("\"invalid_grant\""),
                    "{setup}, round {round}: {other}"
                );
            }
        }
    }
    b_task.abort();
}
