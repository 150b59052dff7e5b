//! userInfo refuses every token it did not issue, or that was revoked.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::Value;

use crate::helpers::{TestApp, jwt_claims};

async fn assert_refused(app: &TestApp, token: &str) {
    let res = app.userinfo(token).await;
    assert_eq!(res.status(), 401, "token should be refused");
    let challenge = res
        .headers()
        .get("www-authenticate")
        .unwrap()
        .to_str()
        .unwrap()
        .to_string();
    assert!(challenge.contains("invalid_token"), "{challenge}");
}

// Matrix: UI-01
#[tokio::test]
async fn userinfo_returns_the_users_claims_for_a_valid_token() {
    let app = TestApp::spawn().await;
    let tokens = app.tokens().await;
    let res = app.userinfo(tokens["access_token"].as_str().unwrap()).await;
    assert_eq!(res.status(), 200);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["username"], "alice");
    assert_eq!(body["email"], "alice@example.com");
    assert_eq!(
        body["sub"],
        jwt_claims(tokens["id_token"].as_str().unwrap())["sub"]
    );
}

// Matrix: JW-06, UI-01
#[tokio::test]
async fn a_tampered_token_is_refused() {
    let app = TestApp::spawn().await;
    let tokens = app.tokens().await;
    let token = tokens["access_token"].as_str().unwrap();
    let parts: Vec<&str> = token.split('.').collect();
    let mut claims = jwt_claims(token);
    claims["username"] = "mallory".into();
    let forged_payload = URL_SAFE_NO_PAD.encode(claims.to_string());
    assert_refused(&app, &format!("{}.{forged_payload}.{}", parts[0], parts[2])).await;
    assert_refused(&app, &format!("{}.{}.", parts[0], parts[1])).await;
    assert_refused(&app, "not-a-jwt").await;
}

// Matrix: JW-05, UI-01
#[tokio::test]
async fn a_token_signed_with_a_foreign_key_is_refused() {
    // Arrange: a second server's pool signs a token with its own key; the claims are
    // rewritten to look like ours, and the kid is ours.
    let app = TestApp::spawn().await;
    let other = TestApp::spawn().await;
    let ours = app.tokens().await;
    let theirs = other.tokens().await;
    let our_header = ours["access_token"]
        .as_str()
        .unwrap()
        .split('.')
        .next()
        .unwrap()
        .to_string();
    let mut claims = jwt_claims(ours["access_token"].as_str().unwrap());
    claims["iss"] = app.issuer().into();
    let keys = other
        .state
        .keys
        .pool(&other.state.store, &other.pool_id)
        .await
        .unwrap()
        .unwrap();
    let foreign = keys.sign(&claims);
    // Act + Assert: the other pool's token as is, and re-signed with our kid.
    assert_refused(&app, theirs["access_token"].as_str().unwrap()).await;
    let sig = foreign.rsplit('.').next().unwrap();
    let payload = foreign.split('.').nth(1).unwrap();
    assert_refused(&app, &format!("{our_header}.{payload}.{sig}")).await;
}

// Matrix: JW-01, JW-02
#[tokio::test]
async fn an_alg_none_or_hs256_token_is_refused() {
    let app = TestApp::spawn().await;
    let tokens = app.tokens().await;
    let payload = tokens["access_token"]
        .as_str()
        .unwrap()
        .split('.')
        .nth(1)
        .unwrap()
        .to_string();
    let none = URL_SAFE_NO_PAD.encode(r#"{"alg":"none","typ":"JWT"}"#);
    assert_refused(&app, &format!("{none}.{payload}.")).await;
    let hs = URL_SAFE_NO_PAD.encode(r#"{"alg":"HS256","typ":"JWT"}"#);
    assert_refused(&app, &format!("{hs}.{payload}.AAAA")).await;
}

// Matrix: UI-01, JW-05
#[tokio::test]
async fn an_id_token_is_not_an_access_token() {
    let app = TestApp::spawn().await;
    let tokens = app.tokens().await;
    assert_refused(&app, tokens["id_token"].as_str().unwrap()).await;
}

// Matrix: UI-01, JW-04
#[tokio::test]
async fn an_expired_access_token_is_refused() {
    let app = TestApp::spawn().await;
    let tokens = app.tokens().await;
    app.state.clock.advance(3601);
    assert_refused(&app, tokens["access_token"].as_str().unwrap()).await;
}

// Matrix: RV-01
#[tokio::test]
async fn revoking_a_refresh_token_invalidates_access_tokens_from_it() {
    let app = TestApp::spawn().await;
    let tokens = app.tokens().await;
    let res = app
        .http
        .post(app.url("/oauth2/revoke"))
        .form(&[
            ("token", tokens["refresh_token"].as_str().unwrap()),
            ("client_id", &app.public.client_id),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert_refused(&app, tokens["access_token"].as_str().unwrap()).await;
    // Revoking an unknown token is not an error (RFC 7009 §2.2).
    let unknown = app
        .http
        .post(app.url("/oauth2/revoke"))
        .form(&[
            ("token", "nonsense"),
            ("client_id", app.public.client_id.as_str()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(unknown.status(), 200);
}

// Matrix: RV-01
#[tokio::test]
async fn a_client_cannot_revoke_another_clients_token() {
    let app = TestApp::spawn().await;
    let tokens = app.tokens().await;
    let res = app
        .http
        .post(app.url("/oauth2/revoke"))
        .basic_auth(&app.confidential.client_id, Some(&app.secret))
        .form(&[("token", tokens["refresh_token"].as_str().unwrap())])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 400);
    assert_eq!(
        app.userinfo(tokens["access_token"].as_str().unwrap())
            .await
            .status(),
        200
    );
}

// Matrix: UI-01
#[tokio::test]
async fn a_disabled_or_deleted_user_loses_userinfo() {
    let app = TestApp::spawn().await;
    let tokens = app.tokens().await;
    let sub = jwt_claims(tokens["access_token"].as_str().unwrap())["sub"]
        .as_str()
        .unwrap()
        .to_string();
    // Disabling is an admin operation of a later issue; the store's flag is what it sets.
    if let cognate::store::Db::Sqlite(p) = &app.state.store.db {
        sqlx::query("update users set enabled = false where user_id = $1")
            .bind(&sub)
            .execute(p)
            .await
            .unwrap();
    } else if let cognate::store::Db::Postgres(p) = &app.state.store.db {
        sqlx::query("update users set enabled = false where user_id = $1")
            .bind(&sub)
            .execute(p)
            .await
            .unwrap();
    }
    assert_refused(&app, tokens["access_token"].as_str().unwrap()).await;
}
