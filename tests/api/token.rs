//! The token endpoint's refusals, each with its exact RFC 6749 §5.2 error.

use reqwest::StatusCode;
use serde_json::Value;

use crate::helpers::{Pkce, TestApp, assert_oauth_error, jwt_claims};

// Matrix: TK-01
#[tokio::test]
async fn a_reused_code_is_refused_and_revokes_what_the_first_redemption_issued() {
    // Arrange
    let app = TestApp::spawn().await;
    let pkce = Pkce::new();
    let code = app.login_and_authorize(&app.public, Some(&pkce)).await;
    let first: Value = app
        .exchange(&app.public, &code, Some(&pkce.verifier))
        .await
        .json()
        .await
        .unwrap();
    // Act
    let second = app.exchange(&app.public, &code, Some(&pkce.verifier)).await;
    // Assert
    assert_oauth_error(second, StatusCode::BAD_REQUEST, "invalid_grant").await;
    let refresh = app
        .refresh(&app.public, first["refresh_token"].as_str().unwrap())
        .await;
    assert_oauth_error(refresh, StatusCode::BAD_REQUEST, "invalid_grant").await;
    assert_eq!(
        app.userinfo(first["access_token"].as_str().unwrap())
            .await
            .status(),
        401
    );
}

// Matrix: TK-03
#[tokio::test]
async fn a_different_redirect_uri_is_refused() {
    let app = TestApp::spawn().await;
    let pkce = Pkce::new();
    let code = app.login_and_authorize(&app.public, Some(&pkce)).await;
    let res = app
        .token_request(
            &app.public,
            &[
                ("grant_type", "authorization_code"),
                ("code", &code),
                ("redirect_uri", "https://app.example.com/cb"),
                ("code_verifier", &pkce.verifier),
            ],
        )
        .await;
    assert_oauth_error(res, StatusCode::BAD_REQUEST, "invalid_grant").await;
}

// Matrix: TK-04
#[tokio::test]
async fn a_wrong_pkce_verifier_is_refused_and_burns_the_code() {
    let app = TestApp::spawn().await;
    let pkce = Pkce::new();
    let code = app.login_and_authorize(&app.public, Some(&pkce)).await;
    let wrong = Pkce::new();
    let res = app
        .exchange(&app.public, &code, Some(&wrong.verifier))
        .await;
    assert_oauth_error(res, StatusCode::BAD_REQUEST, "invalid_grant").await;
    let missing = app.exchange(&app.public, &code, None).await;
    assert_oauth_error(missing, StatusCode::BAD_REQUEST, "invalid_grant").await;
    let right = app.exchange(&app.public, &code, Some(&pkce.verifier)).await;
    assert_oauth_error(right, StatusCode::BAD_REQUEST, "invalid_grant").await;
}

// Matrix: TK-04
#[tokio::test]
async fn a_verifier_for_a_code_issued_without_a_challenge_is_refused() {
    let app = TestApp::spawn().await;
    let code = app.login_and_authorize(&app.confidential, None).await;
    let res = app
        .exchange(&app.confidential, &code, Some(&Pkce::new().verifier))
        .await;
    assert_oauth_error(res, StatusCode::BAD_REQUEST, "invalid_grant").await;
}

// Matrix: TK-05
#[tokio::test]
async fn an_expired_code_is_refused() {
    let app = TestApp::spawn().await;
    let pkce = Pkce::new();
    let code = app.login_and_authorize(&app.public, Some(&pkce)).await;
    app.state
        .clock
        .advance(cognate::flows::code::CODE_LIFETIME + 1);
    let res = app.exchange(&app.public, &code, Some(&pkce.verifier)).await;
    assert_oauth_error(res, StatusCode::BAD_REQUEST, "invalid_grant").await;
}

// Matrix: TK-03
#[tokio::test]
async fn a_code_is_bound_to_the_client_it_was_issued_to() {
    let app = TestApp::spawn().await;
    let pkce = Pkce::new();
    let code = app.login_and_authorize(&app.public, Some(&pkce)).await;
    let res = app
        .exchange(&app.confidential, &code, Some(&pkce.verifier))
        .await;
    assert_oauth_error(res, StatusCode::BAD_REQUEST, "invalid_grant").await;
}

// Matrix: TK-06
#[tokio::test]
async fn a_wrong_client_secret_is_refused_with_401() {
    let app = TestApp::spawn().await;
    let code = app.login_and_authorize(&app.confidential, None).await;
    let res = app
        .http
        .post(app.url("/oauth2/token"))
        .basic_auth(&app.confidential.client_id, Some("not-the-secret"))
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", code.as_str()),
            ("redirect_uri", crate::helpers::CALLBACK),
        ])
        .send()
        .await
        .unwrap();
    assert!(res.headers().get("www-authenticate").is_some());
    assert_oauth_error(res, StatusCode::UNAUTHORIZED, "invalid_client").await;
    // The code was not consumed by a request that failed client authentication.
    let ok = app.exchange(&app.confidential, &code, None).await;
    assert_eq!(ok.status(), 200);
}

// Matrix: TK-06
#[tokio::test]
async fn a_confidential_client_without_its_secret_is_refused() {
    let app = TestApp::spawn().await;
    let res = app
        .http
        .post(app.url("/oauth2/token"))
        .form(&[
            ("grant_type", "refresh_token"),
            ("refresh_token", "x"),
            ("client_id", &app.confidential.client_id),
        ])
        .send()
        .await
        .unwrap();
    assert_oauth_error(res, StatusCode::UNAUTHORIZED, "invalid_client").await;
}

// Matrix: TK-06
#[tokio::test]
async fn an_unknown_client_is_refused_with_401() {
    let app = TestApp::spawn().await;
    let res = app
        .http
        .post(app.url("/oauth2/token"))
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", "x"),
            ("client_id", "nosuchclient"),
        ])
        .send()
        .await
        .unwrap();
    assert_oauth_error(res, StatusCode::UNAUTHORIZED, "invalid_client").await;
}

#[tokio::test]
async fn the_secret_may_also_be_sent_in_the_form_body() {
    let app = TestApp::spawn().await;
    let code = app.login_and_authorize(&app.confidential, None).await;
    let res = app
        .http
        .post(app.url("/oauth2/token"))
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", code.as_str()),
            ("redirect_uri", crate::helpers::CALLBACK),
            ("client_id", &app.confidential.client_id),
            ("client_secret", &app.secret),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
}

#[tokio::test]
async fn malformed_token_requests_get_invalid_request_or_unsupported_grant_type() {
    let app = TestApp::spawn().await;
    let id = app.public.client_id.as_str();
    let unsupported = app
        .token_request(&app.public, &[("grant_type", "password")])
        .await;
    assert_oauth_error(
        unsupported,
        StatusCode::BAD_REQUEST,
        "unsupported_grant_type",
    )
    .await;
    let missing = app.token_request(&app.public, &[("code", "x")]).await;
    assert_oauth_error(missing, StatusCode::BAD_REQUEST, "invalid_request").await;
    let repeated = app
        .http
        .post(app.url("/oauth2/token"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!(
            "grant_type=authorization_code&grant_type=refresh_token&client_id={id}"
        ))
        .send()
        .await
        .unwrap();
    assert_oauth_error(repeated, StatusCode::BAD_REQUEST, "invalid_request").await;
    let json = app
        .http
        .post(app.url("/oauth2/token"))
        .json(&serde_json::json!({ "grant_type": "authorization_code", "client_id": id }))
        .send()
        .await
        .unwrap();
    assert_oauth_error(json, StatusCode::BAD_REQUEST, "invalid_request").await;
}

// Matrix: TK-08
#[tokio::test]
async fn a_rotated_refresh_token_reused_revokes_the_whole_sign_in() {
    // Arrange
    let app = TestApp::spawn().await;
    let tokens = app.tokens().await;
    let original = tokens["refresh_token"].as_str().unwrap();
    let rotated: Value = app
        .refresh(&app.public, original)
        .await
        .json()
        .await
        .unwrap();
    let newest = rotated["refresh_token"].as_str().unwrap();
    assert_ne!(newest, original);
    // Act: the old token comes back (a thief, or a replay).
    let reuse = app.refresh(&app.public, original).await;
    // Assert: refused, and the legitimate newest token is dead too.
    assert_oauth_error(reuse, StatusCode::BAD_REQUEST, "invalid_grant").await;
    let newest_res = app.refresh(&app.public, newest).await;
    assert_oauth_error(newest_res, StatusCode::BAD_REQUEST, "invalid_grant").await;
    assert_eq!(
        app.userinfo(rotated["access_token"].as_str().unwrap())
            .await
            .status(),
        401
    );
}

#[tokio::test]
async fn a_group_change_shows_at_the_next_refresh() {
    let app = TestApp::spawn().await;
    cognate::groups::create(&app.state, &app.pool_id, "admins", None, Some(1))
        .await
        .unwrap();
    cognate::groups::create(&app.state, &app.pool_id, "staff", None, Some(0))
        .await
        .unwrap();
    cognate::groups::set_membership(&app.state, &app.pool_id, "admins", "alice", true)
        .await
        .unwrap();
    let tokens = app.tokens().await;
    assert_eq!(
        jwt_claims(tokens["id_token"].as_str().unwrap())["cognito:groups"],
        serde_json::json!(["admins"])
    );

    cognate::groups::set_membership(&app.state, &app.pool_id, "staff", "alice", true)
        .await
        .unwrap();
    let refreshed: Value = app
        .refresh(&app.public, tokens["refresh_token"].as_str().unwrap())
        .await
        .json()
        .await
        .unwrap();
    // Ordered by precedence, as Cognito orders them.
    let groups = serde_json::json!(["staff", "admins"]);
    assert_eq!(
        jwt_claims(refreshed["id_token"].as_str().unwrap())["cognito:groups"],
        groups
    );
    assert_eq!(
        jwt_claims(refreshed["access_token"].as_str().unwrap())["cognito:groups"],
        groups
    );

    cognate::groups::set_membership(&app.state, &app.pool_id, "staff", "alice", false)
        .await
        .unwrap();
    cognate::groups::set_membership(&app.state, &app.pool_id, "admins", "alice", false)
        .await
        .unwrap();
    let again: Value = app
        .refresh(&app.public, refreshed["refresh_token"].as_str().unwrap())
        .await
        .json()
        .await
        .unwrap();
    assert!(
        jwt_claims(again["id_token"].as_str().unwrap())
            .get("cognito:groups")
            .is_none()
    );
}

#[tokio::test]
async fn group_roles_show_in_id_tokens_with_the_best_precedences_role_preferred() {
    // Arrange: two roles at the best precedence, a third group without precedence.
    let app = TestApp::spawn().await;
    let role = |name: &str| format!("arn:aws:iam::123456789012:role/{name}");
    let groups = [
        ("admins", Some(1), Some(role("admin"))),
        ("staff", Some(1), Some(role("staff"))),
        ("readers", None, Some(role("reader"))),
        ("plain", Some(0), None),
    ];
    for (name, precedence, arn) in &groups {
        cognate::groups::create_with_role(
            &app.state,
            &app.pool_id,
            name,
            None,
            *precedence,
            arn.as_deref(),
        )
        .await
        .unwrap();
    }
    let join = |name: &'static str, yes: bool| {
        cognate::groups::set_membership(&app.state, &app.pool_id, name, "alice", yes)
    };
    for name in ["admins", "readers", "plain"] {
        join(name, true).await.unwrap();
    }
    // Act
    let tokens = app.tokens().await;
    // Assert: every role once; the preferred one from the best precedence with a role.
    let id = jwt_claims(tokens["id_token"].as_str().unwrap());
    assert_eq!(
        id["cognito:roles"],
        serde_json::json!([role("admin"), role("reader")])
    );
    assert_eq!(id["cognito:preferred_role"], role("admin"));
    let access = jwt_claims(tokens["access_token"].as_str().unwrap());
    assert!(access.get("cognito:roles").is_none());

    // Two roles at the same best precedence: no preferred role, as on Cognito.
    join("staff", true).await.unwrap();
    let refreshed: Value = app
        .refresh(&app.public, tokens["refresh_token"].as_str().unwrap())
        .await
        .json()
        .await
        .unwrap();
    let id = jwt_claims(refreshed["id_token"].as_str().unwrap());
    assert_eq!(id["cognito:roles"].as_array().unwrap().len(), 3);
    assert!(id.get("cognito:preferred_role").is_none());

    // Only a group without precedence has a role: it is the preferred one.
    join("admins", false).await.unwrap();
    join("staff", false).await.unwrap();
    let again: Value = app
        .refresh(&app.public, refreshed["refresh_token"].as_str().unwrap())
        .await
        .json()
        .await
        .unwrap();
    let id = jwt_claims(again["id_token"].as_str().unwrap());
    assert_eq!(id["cognito:roles"], serde_json::json!([role("reader")]));
    assert_eq!(id["cognito:preferred_role"], role("reader"));
}

// Matrix: TK-07
#[tokio::test]
async fn tokens_carry_cognitos_claims() {
    let app = TestApp::spawn().await;
    let tokens = app.tokens().await;
    assert_eq!(tokens["token_type"], "Bearer");
    assert_eq!(tokens["expires_in"], 3600);
    let id = jwt_claims(tokens["id_token"].as_str().unwrap());
    let access = jwt_claims(tokens["access_token"].as_str().unwrap());
    assert_eq!(id["token_use"], "id");
    assert_eq!(id["cognito:username"], "alice");
    assert_eq!(id["aud"], app.public.client_id);
    assert_eq!(id["iss"], app.issuer());
    assert_eq!(id["email"], "alice@example.com");
    assert_eq!(id["email_verified"], true);
    assert_eq!(id["name"], "alice Example");
    assert_eq!(id["custom:team"], "blue");
    assert!(
        id.get("phone_number").is_none(),
        "phone scope was not requested"
    );
    assert_eq!(
        id["exp"].as_i64().unwrap() - id["iat"].as_i64().unwrap(),
        3600
    );
    for claim in ["sub", "auth_time", "jti", "origin_jti", "event_id"] {
        assert!(id.get(claim).is_some(), "ID token lacks {claim}");
        assert!(access.get(claim).is_some(), "access token lacks {claim}");
    }
    assert_eq!(access["token_use"], "access");
    assert_eq!(access["client_id"], app.public.client_id);
    assert_eq!(access["username"], "alice");
    assert_eq!(access["scope"], "openid email profile");
    assert_eq!(access["origin_jti"], id["origin_jti"]);
    assert_ne!(access["jti"], id["jti"]);
    assert!(access.get("aud").is_none());
}

/// `at_hash` (OIDC Core §3.1.3.6) is in ID tokens from `/oauth2/token`, for the code
/// and for a refresh alike, and matches the access token issued with it. (ID tokens
/// from the Cognito API carry none, as Cognito's: tests/python/test_auth.py.)
#[tokio::test]
async fn id_tokens_from_the_token_endpoint_carry_a_matching_at_hash() {
    use base64::Engine;
    use sha2::Digest;
    let at_hash = |access: &str| {
        let digest = sha2::Sha256::digest(access.as_bytes());
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(&digest[..16])
    };
    let app = TestApp::spawn().await;
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
    for set in [&tokens, &refreshed] {
        let claims = jwt_claims(set["id_token"].as_str().unwrap());
        assert_eq!(
            claims["at_hash"],
            at_hash(set["access_token"].as_str().unwrap()),
            "{set}"
        );
    }
}
