//! The stand-in identity providers alone on a loopback port, nested at `/_standin` as
//! the server will mount them: Google driven by the `openidconnect` crate (discovery,
//! PKCE, nonce, ID token verification, each quirk), Facebook's Graph API shape, Login
//! with Amazon, cancellation, and malformed requests.

use axum::Router;
use cognate::standin;
use openidconnect::core::{
    CoreAuthPrompt, CoreAuthenticationFlow, CoreClient, CoreErrorResponseType, CoreIdToken,
    CoreProviderMetadata, CoreTokenResponse, CoreUserInfoClaims,
};
use openidconnect::{
    AccessTokenHash, AuthorizationCode, ClaimsVerificationError, ClientId, ClientSecret, CsrfToken,
    EndpointMaybeSet, EndpointNotSet, EndpointSet, IssuerUrl, LoginHint, Nonce,
    OAuth2TokenResponse, PkceCodeChallenge, PkceCodeVerifier, RedirectUrl, RequestTokenError,
    Scope, TokenResponse,
};
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{Pkce, html_unescape, location, query_param};

const REDIRECT: &str = "http://localhost:3000/cb";
const CLIENT_ID: &str = "standin-client";
const SECRET: &str = "any-secret";

/// The stand-ins on their own server.
struct StandIns {
    base: String,
    http: reqwest::Client,
}

impl StandIns {
    async fn spawn() -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}/_standin", listener.local_addr().unwrap());
        let app = Router::new().nest("/_standin", standin::router(&base));
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        Self {
            base,
            http: rp_http(),
        }
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    async fn get(&self, path: &str) -> reqwest::Response {
        self.http.get(self.url(path)).send().await.unwrap()
    }

    /// `GET {path}/decide` with `params`: the redirect back to the client.
    async fn decide(&self, provider: &str, params: &[(&str, &str)]) -> String {
        let res = self
            .http
            .get(self.url(&format!("/{provider}/decide")))
            .query(params)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::FOUND, "decide should redirect");
        location(&res)
    }

    /// A code for `identity` from `provider`'s decide, for `REDIRECT` and `CLIENT_ID`.
    async fn code(&self, provider: &str, identity: &str, extra: &[(&str, &str)]) -> String {
        let mut params = vec![
            ("client_id", CLIENT_ID),
            ("redirect_uri", REDIRECT),
            ("state", "st-1"),
            ("identity", identity),
        ];
        params.extend_from_slice(extra);
        let back = self.decide(provider, &params).await;
        assert!(back.starts_with(REDIRECT), "{back}");
        assert_eq!(query_param(&back, "state").as_deref(), Some("st-1"));
        query_param(&back, "code").expect("a code")
    }
}

fn rp_http() -> reqwest::Client {
    openidconnect::reqwest::ClientBuilder::new()
        .redirect(openidconnect::reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

/// A confidential `openidconnect` client, configured by discovery.
type Rp = CoreClient<
    EndpointSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointMaybeSet,
    EndpointMaybeSet,
>;

async fn google_client(s: &StandIns) -> Rp {
    let issuer = IssuerUrl::new(s.url("/google")).unwrap();
    let metadata = CoreProviderMetadata::discover_async(issuer, &s.http)
        .await
        .expect("discovery and JWKS");
    CoreClient::from_provider_metadata(
        metadata,
        ClientId::new(CLIENT_ID.into()),
        Some(ClientSecret::new(SECRET.into())),
    )
    .set_redirect_uri(RedirectUrl::new(REDIRECT.into()).unwrap())
}

/// One Google sign-in prepared by the client: the authorization URL and what the
/// client keeps to check the answer.
struct Attempt {
    auth_url: url::Url,
    state: CsrfToken,
    nonce: Nonce,
    verifier: PkceCodeVerifier,
}

fn google_attempt(client: &Rp) -> Attempt {
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let (auth_url, state, nonce) = client
        .authorize_url(
            CoreAuthenticationFlow::AuthorizationCode,
            CsrfToken::new_random,
            Nonce::new_random,
        )
        .add_scope(Scope::new("email".into()))
        .add_scope(Scope::new("profile".into()))
        .add_prompt(CoreAuthPrompt::SelectAccount)
        .set_login_hint(LoginHint::new("ada@example.com".into()))
        .set_pkce_challenge(challenge)
        .url();
    Attempt {
        auth_url,
        state,
        nonce,
        verifier,
    }
}

impl Attempt {
    /// Skips the page: the authorization request sent straight to `decide` with
    /// `extra` (identity, quirk); returns the code.
    async fn decide(&self, s: &StandIns, extra: &[(&str, &str)]) -> String {
        let mut url = self.auth_url.clone();
        url.set_path(&url.path().replace("/authorize", "/decide"));
        url.query_pairs_mut().extend_pairs(extra);
        let res = s.http.get(url).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::FOUND);
        let back = location(&res);
        assert!(back.starts_with(REDIRECT), "{back}");
        assert_eq!(
            query_param(&back, "state").as_deref(),
            Some(self.state.secret().as_str())
        );
        query_param(&back, "code").expect("a code")
    }
}

async fn exchange(
    s: &StandIns,
    client: &Rp,
    code: &str,
    verifier: PkceCodeVerifier,
) -> CoreTokenResponse {
    client
        .exchange_code(AuthorizationCode::new(code.into()))
        .unwrap()
        .set_pkce_verifier(verifier)
        .request_async(&s.http)
        .await
        .expect("code exchange")
}

/// Asserts that a token request failed with the OAuth error `invalid_grant`.
fn assert_invalid_grant<T: std::fmt::Debug, E: std::error::Error>(
    result: Result<
        T,
        RequestTokenError<E, openidconnect::StandardErrorResponse<CoreErrorResponseType>>,
    >,
) {
    match result {
        Err(RequestTokenError::ServerResponse(e)) => {
            assert_eq!(*e.error(), CoreErrorResponseType::InvalidGrant, "{e:?}")
        }
        other => panic!("expected invalid_grant, got {other:?}"),
    }
}

#[tokio::test]
async fn google_discovery_publishes_every_url_under_the_mount_point() {
    // Arrange
    let s = StandIns::spawn().await;
    // Act
    let doc: Value = s
        .get("/google/.well-known/openid-configuration")
        .await
        .json()
        .await
        .unwrap();
    let jwks: Value = s.get("/google/jwks").await.json().await.unwrap();
    // Assert
    let google = s.url("/google");
    assert_eq!(doc["issuer"], google);
    for (field, path) in [
        ("authorization_endpoint", "/authorize"),
        ("token_endpoint", "/token"),
        ("userinfo_endpoint", "/userinfo"),
        ("jwks_uri", "/jwks"),
    ] {
        assert_eq!(doc[field], format!("{google}{path}"), "{field}");
    }
    assert_eq!(doc["code_challenge_methods_supported"], json!(["S256"]));
    assert_eq!(
        doc["token_endpoint_auth_methods_supported"],
        json!(["client_secret_basic", "client_secret_post"])
    );
    let keys = jwks["keys"].as_array().unwrap();
    assert_eq!(keys.len(), 1, "only the real key is published");
    assert_eq!(keys[0]["kty"], "RSA");
    assert_eq!(keys[0]["alg"], "RS256");
    assert_eq!(keys[0]["use"], "sig");
}

#[tokio::test]
async fn google_signs_ada_in_through_openidconnect_with_pkce_and_nonce() {
    // Arrange
    let s = StandIns::spawn().await;
    let client = google_client(&s).await;
    let attempt = google_attempt(&client);

    // Act: the consent page, then Ada's button, then the code exchange.
    let page = s.http.get(attempt.auth_url.clone()).send().await.unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    let html = page.text().await.unwrap();
    let code = attempt.decide(&s, &[("identity", "ada")]).await;
    let tokens = exchange(&s, &client, &code, attempt.verifier).await;

    // Assert: the page says what it is and shows what it was sent.
    assert!(html.contains("Stand-in for Google"), "{html}");
    assert!(html.contains("not the real provider"), "{html}");
    assert!(html.contains("prompt: select_account"), "{html}");
    assert!(html.contains("login_hint: ada@example.com"), "{html}");
    assert!(html.contains("Continue as Ada Lovelace"), "{html}");
    assert!(html.contains("Cancel"), "{html}");
    // The library verifies signature, issuer, audience, expiry and nonce.
    let id_token = tokens.id_token().expect("an ID token");
    let verifier = client.id_token_verifier();
    let claims = id_token
        .claims(&verifier, &attempt.nonce)
        .expect("valid ID token");
    assert_eq!(claims.subject().as_str(), "100000000000000000001");
    assert_eq!(claims.email().map(|e| e.as_str()), Some("ada@example.com"));
    assert_eq!(claims.email_verified(), Some(true));
    assert_eq!(
        claims.name().and_then(|n| n.get(None)).map(|n| n.as_str()),
        Some("Ada Lovelace")
    );
    assert_eq!(
        claims
            .given_name()
            .and_then(|n| n.get(None))
            .map(|n| n.as_str()),
        Some("Ada")
    );
    let expected_hash = AccessTokenHash::from_token(
        tokens.access_token(),
        id_token.signing_alg().unwrap(),
        id_token.signing_key(&verifier).unwrap(),
    )
    .unwrap();
    assert_eq!(claims.access_token_hash(), Some(&expected_hash));
    let info: CoreUserInfoClaims = client
        .user_info(
            tokens.access_token().clone(),
            Some(claims.subject().clone()),
        )
        .unwrap()
        .request_async(&s.http)
        .await
        .expect("userinfo");
    assert_eq!(info.email().map(|e| e.as_str()), Some("ada@example.com"));
    // A code is single use.
    let again = client
        .exchange_code(AuthorizationCode::new(code))
        .unwrap()
        .set_pkce_verifier(PkceCodeVerifier::new("x".repeat(43)))
        .request_async(&s.http)
        .await;
    assert_invalid_grant(again);
}

#[tokio::test]
async fn google_refuses_a_code_redeemed_with_the_wrong_verifier() {
    // Arrange
    let s = StandIns::spawn().await;
    let client = google_client(&s).await;
    let attempt = google_attempt(&client);
    let code = attempt.decide(&s, &[("identity", "ada")]).await;
    let (_, wrong) = PkceCodeChallenge::new_random_sha256();
    // Act
    let result = client
        .exchange_code(AuthorizationCode::new(code))
        .unwrap()
        .set_pkce_verifier(wrong)
        .request_async(&s.http)
        .await;
    // Assert
    assert_invalid_grant(result);
}

#[tokio::test]
async fn each_google_quirk_makes_openidconnect_refuse_the_id_token() {
    // Arrange
    let s = StandIns::spawn().await;
    let client = google_client(&s).await;
    let verifier = client.id_token_verifier();
    for quirk in [
        "wrong_aud",
        "wrong_iss",
        "bad_signature",
        "wrong_nonce",
        "expired",
    ] {
        let attempt = google_attempt(&client);
        let code = attempt
            .decide(&s, &[("identity", "ada"), ("quirk", quirk)])
            .await;
        let tokens = exchange(&s, &client, &code, attempt.verifier).await;
        let id_token: &CoreIdToken = tokens.id_token().unwrap();
        // Act
        let result = id_token.claims(&verifier, &attempt.nonce);
        // Assert
        let err = result.expect_err(quirk);
        let expected = matches!(
            (quirk, &err),
            ("wrong_aud", ClaimsVerificationError::InvalidAudience(_))
                | ("wrong_iss", ClaimsVerificationError::InvalidIssuer(_))
                | (
                    "bad_signature",
                    ClaimsVerificationError::SignatureVerification(_)
                )
                | ("wrong_nonce", ClaimsVerificationError::InvalidNonce(_))
                | ("expired", ClaimsVerificationError::Expired(_))
        );
        assert!(expected, "{quirk} failed for another reason: {err:?}");
    }
}

#[tokio::test]
async fn google_releases_the_email_only_when_there_is_one_to_release() {
    // Arrange
    let s = StandIns::spawn().await;
    let client = google_client(&s).await;
    let verifier = client.id_token_verifier();
    for (identity, quirk, email, verified) in [
        ("ada", "no_email", None, None),
        ("grace", "", Some("grace@example.com"), Some(false)),
        ("anon", "", None, None),
    ] {
        let attempt = google_attempt(&client);
        // Act
        let code = attempt
            .decide(&s, &[("identity", identity), ("quirk", quirk)])
            .await;
        let tokens = exchange(&s, &client, &code, attempt.verifier).await;
        // Assert
        let claims = tokens
            .id_token()
            .unwrap()
            .claims(&verifier, &attempt.nonce)
            .expect("a valid ID token");
        assert_eq!(claims.email().map(|e| e.as_str()), email, "{identity}");
        assert_eq!(claims.email_verified(), verified, "{identity}");
        assert!(claims.name().is_some(), "{identity} has a name");
    }
}

#[tokio::test]
async fn the_consent_form_carries_the_request_to_decide() {
    // Arrange
    let s = StandIns::spawn().await;
    let pkce = Pkce::new();
    let query = [
        ("client_id", CLIENT_ID),
        ("redirect_uri", "http://localhost:3000/cb?app=1"),
        ("response_type", "code"),
        ("scope", "openid email"),
        ("state", "a&b"),
        ("code_challenge", pkce.challenge.as_str()),
        ("code_challenge_method", "S256"),
    ];
    let page = s
        .http
        .get(s.url("/google/authorize"))
        .query(&query)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let (action, mut fields) = parse_form(&page);
    fields.push(("identity".into(), "grace".into()));
    // Act: what a browser sends for "Continue as Grace Hopper".
    let res = s.http.post(&action).form(&fields).send().await.unwrap();
    // Assert
    assert_eq!(res.status(), StatusCode::FOUND);
    let back = location(&res);
    assert!(
        back.starts_with("http://localhost:3000/cb?app=1&code="),
        "{back}"
    );
    assert_eq!(query_param(&back, "state").as_deref(), Some("a&b"));
    let code = query_param(&back, "code").unwrap();
    let tokens: Value = s
        .http
        .post(s.url("/google/token"))
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", code.as_str()),
            ("redirect_uri", "http://localhost:3000/cb?app=1"),
            ("client_id", CLIENT_ID),
            ("client_secret", SECRET),
            ("code_verifier", pkce.verifier.as_str()),
        ])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let userinfo: Value = s
        .http
        .get(s.url("/google/userinfo"))
        .bearer_auth(tokens["access_token"].as_str().unwrap())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        userinfo,
        json!({
            "sub": "100000000000000000002",
            "email": "grace@example.com",
            "email_verified": false,
        }),
        "no profile scope, so no names"
    );
}

/// The consent form's action and hidden fields.
fn parse_form(html: &str) -> (String, Vec<(String, String)>) {
    let attr = |tag: &str, name: &str| {
        let key = format!("{name}=\"");
        let at = tag.find(&key).unwrap() + key.len();
        let len = tag[at..].find('"').unwrap();
        html_unescape(&tag[at..at + len])
    };
    let form = &html[html.find("<form").unwrap()..];
    let action = attr(&form[..form.find('>').unwrap()], "action");
    let fields = form
        .split("<input ")
        .skip(1)
        .filter(|tag| tag.starts_with("type=\"hidden\""))
        .map(|tag| {
            let tag = &tag[..tag.find('>').unwrap()];
            (attr(tag, "name"), attr(tag, "value"))
        })
        .collect();
    (action, fields)
}

#[tokio::test]
async fn the_consent_page_escapes_what_it_echoes() {
    // Arrange
    let s = StandIns::spawn().await;
    // Act
    let res = s
        .http
        .get(s.url("/facebook/dialog/oauth"))
        .query(&[
            ("client_id", "<b>app</b>"),
            ("redirect_uri", REDIRECT),
            ("login_hint", "<script>alert(1)</script>"),
        ])
        .send()
        .await
        .unwrap();
    // Assert
    assert_eq!(res.status(), StatusCode::OK);
    let html = res.text().await.unwrap();
    assert!(html.contains("Stand-in for Facebook"), "{html}");
    assert!(!html.contains("<script>"), "{html}");
    assert!(!html.contains("<b>app"), "{html}");
    assert!(html.contains("&#60;script&#62;"), "{html}");
}

#[tokio::test]
async fn facebook_answers_me_with_the_fields_each_identity_has() {
    // Arrange
    let s = StandIns::spawn().await;
    for (identity, expected) in [
        (
            "ada",
            json!({"id": "10150000000000001", "name": "Ada Lovelace", "email": "ada@example.com"}),
        ),
        (
            "grace",
            json!({"id": "10150000000000002", "name": "Grace Hopper", "email": "grace@example.com"}),
        ),
        (
            "anon",
            json!({"id": "10150000000000003", "name": "Anonymous Tester"}),
        ),
    ] {
        let pkce = Pkce::new();
        let code = s
            .code(
                "facebook",
                identity,
                &[
                    ("scope", "public_profile,email"),
                    ("code_challenge", &pkce.challenge),
                ],
            )
            .await;
        // Act: Facebook takes the exchange as a GET with query parameters.
        let res = s
            .http
            .get(s.url("/facebook/oauth/access_token"))
            .query(&[
                ("client_id", CLIENT_ID),
                ("client_secret", SECRET),
                ("redirect_uri", REDIRECT),
                ("code", &code),
                ("code_verifier", &pkce.verifier),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::OK);
        let token: Value = res.json().await.unwrap();
        let access_token = token["access_token"].as_str().unwrap();
        let me: Value = s
            .http
            .get(s.url("/facebook/me"))
            .query(&[("fields", "id,name,email"), ("access_token", access_token)])
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        // Assert
        assert_eq!(token["token_type"], "bearer");
        assert_eq!(token["expires_in"], 5183944);
        assert_eq!(me, expected, "{identity}");
    }
}

#[tokio::test]
async fn facebook_errors_are_graph_api_oauth_exceptions() {
    // Arrange
    let s = StandIns::spawn().await;
    let code = s.code("facebook", "ada", &[]).await;
    let exchange = || {
        s.http
            .post(s.url("/facebook/oauth/access_token"))
            .form(&[
                ("client_id", CLIENT_ID),
                ("client_secret", SECRET),
                ("redirect_uri", REDIRECT),
                ("code", code.as_str()),
            ])
            .send()
    };
    let first = exchange().await.unwrap();
    assert_eq!(first.status(), StatusCode::OK);
    let token: Value = first.json().await.unwrap();
    // Act
    let reused = exchange().await.unwrap();
    let bad_token = s
        .http
        .get(s.url("/facebook/me?fields=id"))
        .bearer_auth("EAAnot-a-token")
        .send()
        .await
        .unwrap();
    let bearer = s
        .http
        .get(s.url("/facebook/me"))
        .bearer_auth(token["access_token"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    // Assert
    assert_eq!(reused.status(), StatusCode::BAD_REQUEST);
    let body: Value = reused.json().await.unwrap();
    assert_eq!(body["error"]["type"], "OAuthException");
    assert_eq!(body["error"]["code"], 100);
    assert_eq!(bad_token.status(), StatusCode::BAD_REQUEST);
    let body: Value = bad_token.json().await.unwrap();
    assert_eq!(body["error"]["type"], "OAuthException");
    assert_eq!(bearer.status(), StatusCode::OK, "a bearer token works too");
    let me: Value = bearer.json().await.unwrap();
    assert_eq!(
        me,
        json!({"id": "10150000000000001", "name": "Ada Lovelace"}),
        "the default fields are id and name"
    );
}

#[tokio::test]
async fn amazon_exchanges_a_code_and_returns_the_profile() {
    // Arrange
    let s = StandIns::spawn().await;
    for (identity, expected) in [
        (
            "ada",
            json!({
                "user_id": "amzn1.account.ADA0000000000000000000000001",
                "name": "Ada Lovelace",
                "email": "ada@example.com",
            }),
        ),
        (
            "anon",
            json!({
                "user_id": "amzn1.account.ANON000000000000000000000003",
                "name": "Anonymous Tester",
            }),
        ),
    ] {
        let code = s.code("amazon", identity, &[("scope", "profile")]).await;
        // Act: HTTP Basic client authentication this time.
        let res = s
            .http
            .post(s.url("/amazon/auth/o2/token"))
            .basic_auth(CLIENT_ID, Some(SECRET))
            .form(&[
                ("grant_type", "authorization_code"),
                ("code", code.as_str()),
                ("redirect_uri", REDIRECT),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::OK);
        let token: Value = res.json().await.unwrap();
        let profile: Value = s
            .http
            .get(s.url("/amazon/user/profile"))
            .bearer_auth(token["access_token"].as_str().unwrap())
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        // Assert
        assert!(token["access_token"].as_str().unwrap().starts_with("Atza|"));
        assert!(
            token["refresh_token"]
                .as_str()
                .unwrap()
                .starts_with("Atzr|")
        );
        assert_eq!(token["token_type"], "bearer");
        assert_eq!(token["expires_in"], 3600);
        assert_eq!(profile, expected, "{identity}");
    }
    let refused = s
        .http
        .get(s.url("/amazon/user/profile"))
        .bearer_auth("Atza|forged")
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), StatusCode::UNAUTHORIZED);
    let body: Value = refused.json().await.unwrap();
    assert_eq!(body["error"], "invalid_token");
}

#[tokio::test]
async fn codes_and_tokens_of_one_stand_in_are_refused_by_another() {
    // Arrange
    let s = StandIns::spawn().await;
    let code = s.code("amazon", "ada", &[]).await;
    // Act
    let res = s
        .http
        .post(s.url("/google/token"))
        .basic_auth(CLIENT_ID, Some(SECRET))
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", code.as_str()),
            ("redirect_uri", REDIRECT),
        ])
        .send()
        .await
        .unwrap();
    // Assert
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["error"], "invalid_grant");
}

#[tokio::test]
async fn cancelling_redirects_with_access_denied_and_the_state() {
    // Arrange
    let s = StandIns::spawn().await;
    for (provider, params) in [
        (
            "google",
            vec![("identity", "ada"), ("cancel", "1")], // Cancel wins over an identity.
        ),
        ("facebook", vec![]),
        ("amazon", vec![("identity", "")]),
    ] {
        let mut query = vec![
            ("client_id", CLIENT_ID),
            ("redirect_uri", "http://localhost:3000/cb?app=1"),
            ("state", "st-9"),
        ];
        query.extend(params);
        // Act
        let back = s.decide(provider, &query).await;
        // Assert
        assert!(
            back.starts_with("http://localhost:3000/cb?app=1&error=access_denied"),
            "{back}"
        );
        assert_eq!(query_param(&back, "state").as_deref(), Some("st-9"));
        assert_eq!(query_param(&back, "code"), None);
        let reason = query_param(&back, "error_reason");
        assert_eq!(
            reason.as_deref(),
            (provider == "facebook").then_some("user_denied")
        );
    }
}

#[tokio::test]
async fn google_answers_prompt_none_with_login_required() {
    // Arrange: the stand-in keeps no session, so it can never skip the page.
    let s = StandIns::spawn().await;
    // Act
    let res = s
        .http
        .get(s.url("/google/authorize"))
        .query(&[
            ("client_id", CLIENT_ID),
            ("redirect_uri", REDIRECT),
            ("response_type", "code"),
            ("state", "st-2"),
            ("prompt", "none"),
        ])
        .send()
        .await
        .unwrap();
    // Assert
    assert_eq!(res.status(), StatusCode::FOUND);
    let back = location(&res);
    assert_eq!(
        query_param(&back, "error").as_deref(),
        Some("login_required")
    );
    assert_eq!(query_param(&back, "state").as_deref(), Some("st-2"));
}

#[tokio::test]
async fn malformed_requests_get_a_400_not_a_panic() {
    // Arrange
    let s = StandIns::spawn().await;
    let pages = [
        (
            "/google/authorize?client_id=c&response_type=code",
            "redirect_uri is required",
        ),
        (
            "/google/authorize?client_id=c&redirect_uri=/cb&response_type=code",
            "absolute URL",
        ),
        (
            "/google/authorize?client_id=c&redirect_uri=javascript:alert(1)&response_type=code",
            "http or https",
        ),
        (
            "/google/authorize?client_id=c&redirect_uri=http://localhost/cb",
            "response_type",
        ),
        (
            "/amazon/ap/oa?client_id=c&redirect_uri=http://localhost/cb&response_type=token",
            "response_type must be code",
        ),
        (
            "/facebook/dialog/oauth?client_id=c&redirect_uri=http://localhost/cb&code_challenge=short",
            "code_challenge",
        ),
        (
            "/google/decide?client_id=c&redirect_uri=http://localhost/cb&identity=nobody",
            "no such test identity",
        ),
        (
            "/google/decide?client_id=c&redirect_uri=http://localhost/cb&identity=ada&quirk=odd",
            "unknown quirk",
        ),
        (
            "/amazon/decide?client_id=c&redirect_uri=http://localhost/cb&identity=ada&quirk=expired",
            "only the Google and Apple stand-ins",
        ),
        (
            "/apple/auth/authorize?client_id=c&redirect_uri=http://localhost/cb&response_type=code&scope=name",
            "response_mode must be form_post",
        ),
        (
            "/google/decide?client_id=c&client_id=d&redirect_uri=http://localhost/cb",
            "more than once",
        ),
    ];
    for (path, message) in pages {
        // Act
        let res = s.get(path).await;
        // Assert
        assert_eq!(res.status(), StatusCode::BAD_REQUEST, "{path}");
        let html = res.text().await.unwrap();
        assert!(html.contains(message), "{path}: {html}");
    }
    let json_errors = [
        (
            "/google/token",
            vec![],
            StatusCode::BAD_REQUEST,
            "invalid_request",
        ),
        (
            "/google/token",
            vec![("grant_type", "refresh_token")],
            StatusCode::BAD_REQUEST,
            "unsupported_grant_type",
        ),
        (
            "/amazon/auth/o2/token",
            vec![
                ("grant_type", "authorization_code"),
                ("client_id", CLIENT_ID),
            ],
            StatusCode::UNAUTHORIZED,
            "invalid_client",
        ),
        (
            "/google/token",
            vec![
                ("grant_type", "authorization_code"),
                ("client_id", CLIENT_ID),
                ("client_secret", SECRET),
                ("code", "nonsense"),
                ("redirect_uri", REDIRECT),
            ],
            StatusCode::BAD_REQUEST,
            "invalid_grant",
        ),
    ];
    for (path, form, status, error) in json_errors {
        let res = s.http.post(s.url(path)).form(&form).send().await.unwrap();
        assert_eq!(res.status(), status, "{path} {form:?}");
        assert_eq!(res.headers()["cache-control"], "no-store");
        let body: Value = res.json().await.unwrap();
        assert_eq!(body["error"], error, "{path} {form:?}: {body}");
    }
    let unauthenticated = s.get("/google/userinfo").await;
    assert_eq!(unauthenticated.status(), StatusCode::UNAUTHORIZED);
    // Still serving after all of that.
    assert_eq!(
        s.get("/google/jwks").await.status(),
        StatusCode::OK,
        "the server survived"
    );
}
