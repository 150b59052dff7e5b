//! The `client_credentials` grant (RFC 6749 §4.4) with Cognito's resource servers: a
//! confidential client enabled for it gets one access token for custom scopes, as
//! itself; nothing else gets one. And refresh-token rotation turned off (Cognito's
//! `RefreshTokenRotation` `DISABLED`): the refresh token stays valid, none is returned.

use cognate::clients::{AppClient, ClientSettings, FLOW_CLIENT_CREDENTIALS};
use cognate::resource_servers::Scope;
use reqwest::StatusCode;
use serde_json::Value;

use crate::helpers::{TestApp, assert_oauth_error, jwt_claims};

const READ: &str = "https://api.example.com/read";
const WRITE: &str = "https://api.example.com/write";

/// A resource server with `read` and `write`, and a machine client allowed both:
/// returns the client and its secret.
async fn machine_client(app: &TestApp) -> (AppClient, String) {
    let scope = |name: &str| Scope {
        name: name.into(),
        description: format!("{name} things"),
    };
    cognate::resource_servers::create(
        &app.state,
        &app.pool_id,
        "https://api.example.com",
        "Example API",
        vec![scope("read"), scope("write")],
    )
    .await
    .unwrap();
    let mut new = ClientSettings::new("Machine");
    new.allowed_flows = vec![FLOW_CLIENT_CREDENTIALS.into()];
    new.allowed_scopes = vec![READ.into(), WRITE.into()];
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

/// A `client_credentials` request authenticated with Basic `id:secret` (or `client_id`
/// alone when there is no secret), with `extra` form fields.
async fn cc_request(
    app: &TestApp,
    client_id: &str,
    secret: Option<&str>,
    extra: &[(&str, &str)],
) -> reqwest::Response {
    let mut form = vec![("grant_type", "client_credentials")];
    form.extend_from_slice(extra);
    let req = app.http.post(app.url("/oauth2/token"));
    let req = match secret {
        Some(s) => req.basic_auth(client_id, Some(s)),
        None => {
            form.push(("client_id", client_id));
            req
        }
    };
    req.form(&form).send().await.unwrap()
}

#[tokio::test]
async fn a_machine_client_gets_one_access_token_with_cognitos_claims() {
    // Arrange
    let app = TestApp::spawn().await;
    let (client, secret) = machine_client(&app).await;
    // Act: no scope asked for means every custom scope the client is allowed.
    let res = cc_request(&app, &client.client_id, Some(&secret), &[]).await;
    // Assert
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.headers()["cache-control"], "no-store");
    let body: Value = res.json().await.unwrap();
    let members: Vec<&str> = body
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(members, ["access_token", "expires_in", "token_type"]);
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["expires_in"], 3600);
    let claims = jwt_claims(body["access_token"].as_str().unwrap());
    assert_eq!(claims["sub"], client.client_id.as_str());
    assert_eq!(claims["client_id"], client.client_id.as_str());
    assert_eq!(claims["token_use"], "access");
    assert_eq!(claims["scope"], format!("{READ} {WRITE}"));
    assert_eq!(claims["iss"], app.issuer());
    assert!(claims.get("username").is_none());
    // The token verifies with the pool's published keys.
    let keys = app
        .state
        .keys
        .pool(&app.state.store, &app.pool_id)
        .await
        .unwrap()
        .unwrap();
    let now = app.state.clock.now();
    assert!(
        keys.verify(body["access_token"].as_str().unwrap(), &[app.issuer()], now)
            .is_some()
    );
    // There is no user behind it, so userInfo refuses it.
    let userinfo = app.userinfo(body["access_token"].as_str().unwrap()).await;
    assert_eq!(userinfo.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn a_machine_client_may_ask_for_fewer_scopes_but_not_others() {
    let app = TestApp::spawn().await;
    let (client, secret) = machine_client(&app).await;
    let res = cc_request(&app, &client.client_id, Some(&secret), &[("scope", READ)]).await;
    assert_eq!(res.status(), StatusCode::OK);
    let body: Value = res.json().await.unwrap();
    assert_eq!(
        jwt_claims(body["access_token"].as_str().unwrap())["scope"],
        READ
    );
    let other = cc_request(
        &app,
        &client.client_id,
        Some(&secret),
        &[("scope", "https://api.example.com/admin")],
    )
    .await;
    assert_oauth_error(other, StatusCode::BAD_REQUEST, "invalid_scope").await;
}

#[tokio::test]
async fn a_deleted_resource_server_takes_its_scopes_out_of_new_tokens() {
    let app = TestApp::spawn().await;
    let (client, secret) = machine_client(&app).await;
    cognate::resource_servers::delete(&app.state, &app.pool_id, "https://api.example.com")
        .await
        .unwrap();
    let res = cc_request(&app, &client.client_id, Some(&secret), &[]).await;
    assert_oauth_error(res, StatusCode::BAD_REQUEST, "invalid_scope").await;
}

// Matrix: TK-11
#[tokio::test]
async fn the_password_grant_is_unsupported() {
    let app = TestApp::spawn().await;
    let res = app
        .token_request(
            &app.confidential,
            &[
                ("grant_type", "password"),
                ("username", "alice"),
                ("password", crate::helpers::PASSWORD),
            ],
        )
        .await;
    assert_oauth_error(res, StatusCode::BAD_REQUEST, "unsupported_grant_type").await;
}

// Matrix: TK-11
#[tokio::test]
async fn client_credentials_is_refused_to_public_clients_and_clients_not_enabled() {
    // Arrange: a resource server exists, so only the clients' settings refuse.
    let app = TestApp::spawn().await;
    machine_client(&app).await;
    // Act / Assert: the public client (no secret) and the confidential code-flow
    // client both authenticate, and neither may use the grant.
    for (client_id, secret) in [
        (app.public.client_id.as_str(), None),
        (
            app.confidential.client_id.as_str(),
            Some(app.secret.as_str()),
        ),
    ] {
        let res = cc_request(&app, client_id, secret, &[("scope", READ)]).await;
        assert_eq!(res.status(), StatusCode::BAD_REQUEST);
        let body: Value = res.json().await.unwrap();
        assert_eq!(body["error"], "unauthorized_client", "{client_id}");
        assert!(body.get("access_token").is_none());
    }
}

// Matrix: TK-11
#[tokio::test]
async fn client_credentials_asking_for_openid_is_an_invalid_scope() {
    let app = TestApp::spawn().await;
    let (client, secret) = machine_client(&app).await;
    for scope in ["openid", &format!("openid {READ}"), "profile"] {
        let res = cc_request(&app, &client.client_id, Some(&secret), &[("scope", scope)]).await;
        assert_oauth_error(res, StatusCode::BAD_REQUEST, "invalid_scope").await;
    }
}

// Matrix: TK-11
#[tokio::test]
async fn client_credentials_responses_never_carry_an_id_or_refresh_token() {
    let app = TestApp::spawn().await;
    let (client, secret) = machine_client(&app).await;
    for extra in [
        vec![],
        vec![("scope", READ)],
        vec![("scope", "openid")],
        vec![("scope", "offline_access")],
    ] {
        let res = cc_request(&app, &client.client_id, Some(&secret), &extra).await;
        let body: Value = res.json().await.unwrap();
        assert!(body.get("id_token").is_none(), "{body}");
        assert!(body.get("refresh_token").is_none(), "{body}");
    }
    // A wrong secret is a client-authentication failure, not a grant error.
    let res = cc_request(&app, &client.client_id, Some("wrong"), &[]).await;
    assert_oauth_error(res, StatusCode::UNAUTHORIZED, "invalid_client").await;
}

// Matrix: TK-08
#[tokio::test]
async fn with_rotation_disabled_a_refresh_token_stays_valid_and_none_is_returned() {
    // Arrange: the public client with rotation turned off.
    let app = TestApp::spawn().await;
    cognate::clients::update(&app.state, &app.pool_id, &app.public.client_id, |c| {
        c.refresh_token_rotation = false
    })
    .await
    .unwrap();
    let tokens = app.tokens().await;
    let refresh = tokens["refresh_token"].as_str().unwrap();
    let public = app
        .state
        .store
        .client_by_id(&app.pool_id, &app.public.client_id)
        .await
        .unwrap()
        .unwrap();
    // Act / Assert: the same token works again and again; no new one comes back.
    for _ in 0..3 {
        let res = app.refresh(&public, refresh).await;
        assert_eq!(res.status(), StatusCode::OK);
        let body: Value = res.json().await.unwrap();
        assert!(body.get("refresh_token").is_none(), "{body}");
        assert!(body["access_token"].is_string());
        assert!(body["id_token"].is_string());
    }
    // Revocation still ends it.
    let revoke = app
        .http
        .post(app.url("/oauth2/revoke"))
        .form(&[("token", refresh), ("client_id", &public.client_id)])
        .send()
        .await
        .unwrap();
    assert_eq!(revoke.status(), StatusCode::OK);
    let after = app.refresh(&public, refresh).await;
    assert_oauth_error(after, StatusCode::BAD_REQUEST, "invalid_grant").await;
}
