//! The whole flow with the `openidconnect` crate as the relying party: discovery,
//! authorization URL with PKCE and nonce, the hosted login form, code exchange, ID token
//! signature and nonce verified by the library, userinfo, refresh, revoke.

use openidconnect::core::{
    CoreAuthenticationFlow, CoreClient, CoreProviderMetadata, CoreUserInfoClaims,
};
use openidconnect::{
    AccessTokenHash, AuthorizationCode, ClientId, ClientSecret, CsrfToken, IssuerUrl, Nonce,
    OAuth2TokenResponse, PkceCodeChallenge, RedirectUrl, Scope, TokenResponse,
};

use crate::helpers::{CALLBACK, PASSWORD, TestApp, query_param};

pub fn rp_http() -> openidconnect::reqwest::Client {
    openidconnect::reqwest::ClientBuilder::new()
        .redirect(openidconnect::reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

// Matrix: GN-01
#[tokio::test]
async fn an_openidconnect_relying_party_completes_the_whole_flow() {
    // Arrange: discovery gives the library everything it needs.
    let app = TestApp::spawn().await;
    let http = rp_http();
    let metadata =
        CoreProviderMetadata::discover_async(IssuerUrl::new(app.issuer()).unwrap(), &http)
            .await
            .expect("discovery and JWKS");
    let client = CoreClient::from_provider_metadata(
        metadata,
        ClientId::new(app.public.client_id.clone()),
        None,
    )
    .set_redirect_uri(RedirectUrl::new(CALLBACK.to_string()).unwrap());
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let (auth_url, csrf_state, nonce) = client
        .authorize_url(
            CoreAuthenticationFlow::AuthorizationCode,
            CsrfToken::new_random,
            Nonce::new_random,
        )
        .add_scope(Scope::new("email".into()))
        .add_scope(Scope::new("profile".into()))
        .set_pkce_challenge(challenge)
        .url();

    // Act: the browser signs in on the hosted page.
    let callback = app
        .sign_in(&app.browser, auth_url.as_str(), "alice", PASSWORD)
        .await;
    assert!(callback.starts_with(CALLBACK), "{callback}");
    assert_eq!(
        query_param(&callback, "state").as_deref(),
        Some(csrf_state.secret().as_str())
    );
    let code = query_param(&callback, "code").unwrap();
    let tokens = client
        .exchange_code(AuthorizationCode::new(code))
        .unwrap()
        .set_pkce_verifier(verifier)
        .request_async(&http)
        .await
        .expect("code exchange");

    // Assert: the library verifies signature, issuer, audience, expiry and nonce.
    let id_token = tokens.id_token().expect("an ID token for openid");
    let id_verifier = client.id_token_verifier();
    let claims = id_token
        .claims(&id_verifier, &nonce)
        .expect("valid ID token");
    let expected_hash = AccessTokenHash::from_token(
        tokens.access_token(),
        id_token.signing_alg().unwrap(),
        id_token.signing_key(&id_verifier).unwrap(),
    )
    .unwrap();
    assert_eq!(claims.access_token_hash(), Some(&expected_hash));
    assert_eq!(
        claims.email().map(|e| e.as_str()),
        Some("alice@example.com")
    );
    assert_eq!(claims.email_verified(), Some(true));
    let alice = app
        .state
        .store
        .user_by_name(&app.pool_id, "alice")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(claims.subject().as_str(), alice.user_id);

    let info: CoreUserInfoClaims = client
        .user_info(
            tokens.access_token().clone(),
            Some(claims.subject().clone()),
        )
        .unwrap()
        .request_async(&http)
        .await
        .expect("userinfo");
    assert_eq!(info.email().map(|e| e.as_str()), Some("alice@example.com"));

    let refresh = tokens.refresh_token().expect("a refresh token").clone();
    let refreshed = client
        .exchange_refresh_token(&refresh)
        .unwrap()
        .request_async(&http)
        .await
        .expect("refresh");
    let refreshed_id = refreshed.id_token().expect("refresh returns an ID token");
    let refreshed_claims = refreshed_id
        .claims(&id_verifier, |_: Option<&Nonce>| Ok(()))
        .expect("refreshed ID token verifies");
    assert_eq!(refreshed_claims.subject(), claims.subject());

    let rotated = refreshed
        .refresh_token()
        .expect("rotation returns a new refresh token")
        .clone();
    // oauth2 refuses a revocation URL that is not https (ConfigurationError::InsecureUrl)
    // and the test server is plain http on loopback, so revoke is posted per RFC 7009.
    let revoked = app
        .http
        .post(app.url("/oauth2/revoke"))
        .form(&[
            ("token", rotated.secret().as_str()),
            ("client_id", app.public.client_id.as_str()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(revoked.status(), 200);
    let after = client
        .exchange_refresh_token(&rotated)
        .unwrap()
        .request_async(&http)
        .await;
    assert!(after.is_err(), "a revoked refresh token must not refresh");
    let userinfo = app.userinfo(refreshed.access_token().secret()).await;
    assert_eq!(
        userinfo.status(),
        401,
        "access tokens of a revoked sign-in are refused"
    );
}

#[tokio::test]
async fn a_confidential_client_authenticates_with_its_secret() {
    let app = TestApp::spawn().await;
    let http = rp_http();
    let metadata =
        CoreProviderMetadata::discover_async(IssuerUrl::new(app.issuer()).unwrap(), &http)
            .await
            .unwrap();
    let client = CoreClient::from_provider_metadata(
        metadata,
        ClientId::new(app.confidential.client_id.clone()),
        Some(ClientSecret::new(app.secret.clone())),
    )
    .set_redirect_uri(RedirectUrl::new(CALLBACK.to_string()).unwrap());
    let (auth_url, _, nonce) = client
        .authorize_url(
            CoreAuthenticationFlow::AuthorizationCode,
            CsrfToken::new_random,
            Nonce::new_random,
        )
        .url();
    let callback = app
        .sign_in(&app.browser, auth_url.as_str(), "alice", PASSWORD)
        .await;
    let code = query_param(&callback, "code").unwrap();
    let tokens = client
        .exchange_code(AuthorizationCode::new(code))
        .unwrap()
        .request_async(&http)
        .await
        .expect("a confidential client needs no PKCE");
    let claims = tokens
        .id_token()
        .unwrap()
        .claims(&client.id_token_verifier(), &nonce)
        .unwrap();
    assert_eq!(claims.audiences()[0].as_str(), app.confidential.client_id);
}
