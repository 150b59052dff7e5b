//! Sign in with Apple end to end against the Apple stand-in: `response_mode=form_post`
//! and cognate's same-origin relay of that cross-site POST, the ES256 client secret
//! JWT the stand-in verifies, the name Apple sends on the first authorization only, and
//! `CreateIdentityProvider`'s checks of Apple's details.

use cognate::federation::LinkingPolicy;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use openidconnect::core::{CoreAuthenticationFlow, CoreClient, CoreProviderMetadata};
use openidconnect::{
    AuthorizationCode, ClientId, CsrfToken, IssuerUrl, Nonce, PkceCodeChallenge, RedirectUrl,
    Scope, TokenResponse,
};
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::federation::{Standins, federated};
use crate::helpers::{
    CALLBACK, Pkce, TestApp, browser, html_unescape, jwt_claims, location, query_param,
};

const ADA_APPLE: &str = "000001.00000000000000000000000000000001.0001";
/// A P-256 key that is not the stand-in team's.
const OTHER_KEY: &str = "-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgzXX1skfeD4aO28LD
7DxAPDnUcKZIhVOT0z3/6N0wtBChRANCAAQ6INCuIZ4qhklNafFVbj5u9VzcKL0t
grVXn3+1c3/vSX4b2VFj9kyMFrlW1mtet2NIbpl3wJoMwcGYfS59O4lW
-----END PRIVATE KEY-----
";
/// An EC key on P-384: a valid PEM key, but not one ES256 can sign with.
const P384_KEY: &str = "-----BEGIN PRIVATE KEY-----
MIG2AgEAMBAGByqGSM49AgEGBSuBBAAiBIGeMIGbAgEBBDArgh1LujfMJSaMR4pW
hCZlx1eOFUc5Vc5gEPKNHZQYqyeB4EYLm/U+04zn1nDFJhmhZANiAASorUJ2B8xa
YEBlGaRhRAKkVBRbdhSDyQaCKb4YmWl03Dv/CZlCOrPJpefTFU1DQUeFAigZpkfT
CLc1BPxDnHAAAutJuYX2spHAgmGHWJEubUw0+dmAi2F4D82p7mnBXGc=
-----END PRIVATE KEY-----
";

/// The `action` and the hidden fields of a form-posting page.
fn posted_form(html: &str) -> (Option<String>, Vec<(String, String)>) {
    let attr = |tag: &str, name: &str| {
        let key = format!("{name}=\"");
        let at = tag.find(&key)? + key.len();
        Some(html_unescape(&tag[at..at + tag[at..].find('"')?]))
    };
    let form = &html[html.find("<form").expect("a form")..];
    let action = attr(&form[..form.find('>').unwrap()], "action");
    let fields = form
        .split("<input")
        .skip(1)
        .map(|tag| &tag[..tag.find('>').unwrap()])
        .map(|tag| (attr(tag, "name").unwrap(), attr(tag, "value").unwrap()))
        .collect();
    (action, fields)
}

fn field<'a>(fields: &'a [(String, String)], name: &str) -> Option<&'a str> {
    fields
        .iter()
        .find(|(n, _)| n == name)
        .map(|(_, v)| v.as_str())
}

/// A client without cookies: Apple's cross-site POST carries no `SameSite=Lax` cookie.
fn cookieless() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

/// What the browser went through from the app's authorize URL to its last answer.
struct AppleRound {
    /// Where cognate sent the browser at Apple.
    provider_authorize: String,
    /// The fields Apple's page posted to cognate.
    posted: Vec<(String, String)>,
    /// The relay page's fields, posted back by the browser itself.
    relayed: Vec<(String, String)>,
    /// cognate's answer to the relayed POST.
    back: reqwest::Response,
}

/// authorize → Apple stand-in (as `identity`) → its form post → cognate's relay page →
/// the relayed POST with the browser's cookies, in `b`.
async fn sign_in_with_apple(b: &reqwest::Client, authorize: &str, identity: &str) -> AppleRound {
    sign_in_with_quirk(b, authorize, identity, None).await
}

/// [`sign_in_with_apple`], the stand-in misbehaving as `quirk` asks.
async fn sign_in_with_quirk(
    b: &reqwest::Client,
    authorize: &str,
    identity: &str,
    quirk: Option<&str>,
) -> AppleRound {
    let res = b.get(authorize).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::FOUND, "authorize goes to Apple");
    let provider_authorize = location(&res);
    let mut decide = url::Url::parse(&provider_authorize).unwrap();
    let path = decide
        .path()
        .replace("/apple/auth/authorize", "/apple/decide");
    decide.set_path(&path);
    decide.query_pairs_mut().append_pair("identity", identity);
    if let Some(quirk) = quirk {
        decide.query_pairs_mut().append_pair("quirk", quirk);
    }
    let page = cookieless().get(decide).send().await.unwrap();
    assert_eq!(
        page.status(),
        StatusCode::OK,
        "Apple answers with a form post"
    );
    let (action, posted) = posted_form(&page.text().await.unwrap());
    let action = action.expect("Apple's form posts to the redirect URI");
    // Apple's page posts cross-site: no cookie comes with it.
    let relay = cookieless()
        .post(&action)
        .form(&posted)
        .send()
        .await
        .unwrap();
    assert_eq!(relay.status(), StatusCode::OK);
    assert!(
        relay.headers().get("set-cookie").is_none(),
        "the relay step leaves the session alone"
    );
    let csp = relay.headers()["content-security-policy"].to_str().unwrap();
    assert!(csp.contains("script-src 'sha256-"), "{csp}");
    let (relay_action, relayed) = posted_form(&relay.text().await.unwrap());
    assert_eq!(relay_action, None, "the relay posts to its own URL");
    let back = b.post(&action).form(&relayed).send().await.unwrap();
    AppleRound {
        provider_authorize,
        posted,
        relayed,
        back,
    }
}

async fn apple_app() -> (TestApp, Standins, cognate::clients::AppClient) {
    federated(
        TestApp::spawn_with(crate::domains::with_keys).await,
        LinkingPolicy::Separate,
    )
    .await
}

async fn ada(app: &TestApp) -> cognate::users::User {
    app.state
        .store
        .user_by_name(&app.pool_id, &format!("SignInWithApple_{ADA_APPLE}"))
        .await
        .unwrap()
        .expect("Ada's Apple user")
}

// Matrix: FD-07
#[tokio::test]
async fn an_oidc_app_signs_in_with_apple_through_the_form_post_and_gets_the_name_once() {
    // Arrange: the app is an openidconnect relying party.
    let (app, _s, client) = apple_app().await;
    let http = openidconnect::reqwest::ClientBuilder::new()
        .redirect(openidconnect::reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let meta = CoreProviderMetadata::discover_async(IssuerUrl::new(app.issuer()).unwrap(), &http)
        .await
        .unwrap();
    let rp =
        CoreClient::from_provider_metadata(meta, ClientId::new(client.client_id.clone()), None)
            .set_redirect_uri(RedirectUrl::new(CALLBACK.into()).unwrap());
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let (url, state, nonce) = rp
        .authorize_url(
            CoreAuthenticationFlow::AuthorizationCode,
            || CsrfToken::new("opaque-state".into()),
            Nonce::new_random,
        )
        .add_scope(Scope::new("email".into()))
        .add_scope(Scope::new("profile".into()))
        .add_extra_param("identity_provider", "SignInWithApple")
        .set_pkce_challenge(challenge)
        .url();

    // Act
    let round = sign_in_with_apple(&browser(), url.as_str(), "ada").await;

    // Assert: Apple was asked for a form post with cognate's own state and a nonce.
    let asked = |name| query_param(&round.provider_authorize, name);
    assert_eq!(asked("response_mode").as_deref(), Some("form_post"));
    assert_eq!(asked("scope").as_deref(), Some("email name"));
    assert!(asked("nonce").is_some());
    assert_ne!(asked("state").as_deref(), Some("opaque-state"));
    let user = field(&round.posted, "user").expect("the first authorization names the user");
    assert_eq!(field(&round.relayed, "user"), Some(user));
    assert_eq!(field(&round.relayed, "relayed"), Some("1"));
    let to = location(&round.back);
    assert!(to.starts_with(CALLBACK), "{to}");
    assert_eq!(
        query_param(&to, "state").as_deref(),
        Some(state.secret().as_str())
    );
    let tokens = rp
        .exchange_code(AuthorizationCode::new(query_param(&to, "code").unwrap()))
        .unwrap()
        .set_pkce_verifier(verifier)
        .request_async(&http)
        .await
        .unwrap();
    let id_token = tokens.id_token().unwrap();
    id_token
        .claims(&rp.id_token_verifier(), &nonce)
        .expect("a valid ID token");
    let claims = jwt_claims(&id_token.to_string());
    assert_eq!(
        claims["cognito:username"],
        format!("SignInWithApple_{ADA_APPLE}")
    );
    assert_eq!(claims["email"], "ada@example.com");
    assert_eq!(
        claims["email_verified"], true,
        "Apple's \"true\" string counts"
    );
    assert_eq!(claims["name"], "Ada Lovelace");
    assert_eq!(claims["identities"][0]["providerType"], "SignInWithApple");
    let user = ada(&app).await;
    assert_eq!(user.attributes["given_name"], "Ada");
    assert_eq!(user.attributes["family_name"], "Lovelace");

    // A second sign-in: Apple sends no name now, and the stored one stays.
    let url = app.authorize_url(
        &client,
        Some(&Pkce::new()),
        &[("identity_provider", "SignInWithApple")],
    );
    let round = sign_in_with_apple(&browser(), &url, "ada").await;
    assert_eq!(field(&round.posted, "user"), None);
    assert!(location(&round.back).starts_with(CALLBACK));
    let again = ada(&app).await;
    assert_eq!(again.user_id, user.user_id, "the same user");
    assert_eq!(again.attributes["name"], "Ada Lovelace");
    assert_eq!(again.attributes["given_name"], "Ada");
    assert_eq!(again.attributes["email"], "ada@example.com");
}

#[tokio::test]
async fn the_login_page_offers_continue_with_apple() {
    let (app, s, client) = apple_app().await;
    let b = browser();
    let res = b
        .get(app.authorize_url(&client, Some(&Pkce::new()), &[]))
        .send()
        .await
        .unwrap();
    let html = b
        .get(location(&res))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let label = html.find("Continue with Apple").expect("an Apple button");
    let start = html[..label].rfind("href=\"").unwrap() + "href=\"".len();
    let href = html_unescape(&html[start..start + html[start..].find('"').unwrap()]);
    let res = b.get(&href).send().await.unwrap();
    assert!(
        location(&res).starts_with(&format!("{}/apple/auth/authorize", s.base)),
        "{}",
        location(&res)
    );
}

// Matrix: FD-07
#[tokio::test]
async fn apples_post_alone_or_relayed_by_another_browser_signs_nobody_in() {
    let (app, _s, client) = apple_app().await;
    let url = app.authorize_url(
        &client,
        Some(&Pkce::new()),
        &[("identity_provider", "SignInWithApple")],
    );
    let victim = browser();
    let res = victim.get(&url).send().await.unwrap();
    let mut decide = url::Url::parse(&location(&res)).unwrap();
    let path = decide
        .path()
        .replace("/apple/auth/authorize", "/apple/decide");
    decide.set_path(&path);
    decide.query_pairs_mut().append_pair("identity", "ada");
    let page = cookieless().get(decide).send().await.unwrap();
    let (action, posted) = posted_form(&page.text().await.unwrap());
    let action = action.unwrap();
    let mut relayed = posted.clone();
    relayed.push(("relayed".into(), "1".into()));

    // Without the browser's cookie, even marked as relayed: refused, nothing consumed.
    let res = cookieless()
        .post(&action)
        .form(&relayed)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    // Another browser, with a session of its own.
    let other = browser();
    other.get(&url).send().await.unwrap();
    let res = other.post(&action).form(&relayed).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    assert!(res.headers().get("location").is_none());
    assert!(
        app.state
            .store
            .user_by_name(&app.pool_id, &format!("SignInWithApple_{ADA_APPLE}"))
            .await
            .unwrap()
            .is_none()
    );
    // The browser that started it still finishes.
    let res = victim.post(&action).form(&relayed).send().await.unwrap();
    assert!(location(&res).starts_with(CALLBACK), "{}", res.status());
}

// Matrix: FD-08
#[tokio::test]
async fn a_wrong_team_key_is_refused_by_apple_and_shown_as_a_clean_error_page() {
    let (app, _s, client) = apple_app().await;
    cognate::federation::update_provider(&app.state, &app.pool_id, "SignInWithApple", |p| {
        p.client_secret = Some(OTHER_KEY.into());
    })
    .await
    .unwrap();
    let url = app.authorize_url(
        &client,
        Some(&Pkce::new()),
        &[("identity_provider", "SignInWithApple")],
    );
    let round = sign_in_with_apple(&browser(), &url, "ada").await;
    assert_eq!(round.back.status(), StatusCode::BAD_REQUEST);
    let html = round.back.text().await.unwrap();
    assert!(
        html.contains("SignInWithApple could not be verified"),
        "{html}"
    );
    assert!(!html.contains("BEGIN PRIVATE KEY"));
    assert!(
        app.state
            .store
            .user_by_name(&app.pool_id, &format!("SignInWithApple_{ADA_APPLE}"))
            .await
            .unwrap()
            .is_none()
    );
}

// Matrix: FD-03
#[tokio::test]
async fn defective_apple_id_tokens_are_refused_and_nothing_is_created() {
    let (app, _s, client) = apple_app().await;
    let url = app.authorize_url(
        &client,
        Some(&Pkce::new()),
        &[("identity_provider", "SignInWithApple")],
    );
    for quirk in [
        "wrong_aud",
        "wrong_iss",
        "bad_signature",
        "wrong_nonce",
        "expired",
    ] {
        let round = sign_in_with_quirk(&browser(), &url, "ada", Some(quirk)).await;
        assert_eq!(
            round.back.status(),
            StatusCode::BAD_REQUEST,
            "{quirk} {:?}",
            round.back.headers().get("location")
        );
        assert!(round.back.headers().get("location").is_none(), "{quirk}");
    }
    assert!(
        app.state
            .store
            .user_by_name(&app.pool_id, &format!("SignInWithApple_{ADA_APPLE}"))
            .await
            .unwrap()
            .is_none()
    );
}

/// A client secret JWT as Apple's docs describe it, with `change` applied to the claims
/// and signed with `pem` under `kid`.
fn client_secret(s: &Standins, pem: &str, kid: &str, change: impl FnOnce(&mut Value)) -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    let mut claims = json!({
        "iss": cognate::standin::APPLE_TEAM_ID,
        "iat": now,
        "exp": now + 300,
        "aud": format!("{}/apple", s.base),
        "sub": "SignInWithApple-client",
    });
    change(&mut claims);
    let mut header = Header::new(Algorithm::ES256);
    header.kid = Some(kid.into());
    jsonwebtoken::encode(
        &header,
        &claims,
        &EncodingKey::from_ec_pem(pem.as_bytes()).unwrap(),
    )
    .unwrap()
}

// Matrix: FD-08
#[tokio::test]
async fn the_apple_stand_in_refuses_any_client_secret_but_the_team_keys() {
    let s = Standins::spawn().await;
    let team = cognate::standin::APPLE_TEAM_KEY;
    let kid = cognate::standin::APPLE_KEY_ID;
    let token = |secret: String| {
        let url = format!("{}/apple/auth/token", s.base);
        async move {
            let res = reqwest::Client::new()
                .post(url)
                .form(&[
                    ("grant_type", "authorization_code"),
                    ("code", "no-such-code"),
                    ("redirect_uri", "http://localhost/cb"),
                    ("client_id", "SignInWithApple-client"),
                    ("client_secret", &secret),
                ])
                .send()
                .await
                .unwrap();
            let body: Value = res.json().await.unwrap();
            body["error"].as_str().unwrap().to_string()
        }
    };
    let now = |c: &Value| c["iat"].as_i64().unwrap();
    let refused = [
        ("another key", client_secret(&s, OTHER_KEY, kid, |_| {})),
        ("another kid", client_secret(&s, team, "OTHERKEY", |_| {})),
        (
            "another team",
            client_secret(&s, team, kid, |c| c["iss"] = "OTHERTEAM".into()),
        ),
        (
            "another client",
            client_secret(&s, team, kid, |c| c["sub"] = "someone-else".into()),
        ),
        (
            "another audience",
            client_secret(&s, team, kid, |c| c["aud"] = "https://example.com".into()),
        ),
        (
            "expired",
            client_secret(&s, team, kid, |c| c["exp"] = (now(c) - 60).into()),
        ),
        (
            "over six months",
            client_secret(&s, team, kid, |c| {
                c["exp"] = (now(c) + 200 * 24 * 3600).into()
            }),
        ),
        ("not a JWT", "a-static-secret".to_string()),
    ];
    for (why, secret) in refused {
        assert_eq!(token(secret).await, "invalid_client", "{why}");
    }
    // The team's own secret passes client authentication; the code is then unknown.
    assert_eq!(
        token(client_secret(&s, team, kid, |_| {})).await,
        "invalid_grant"
    );
}

// Matrix: FD-08
#[tokio::test]
async fn create_identity_provider_checks_apples_details_and_never_describes_the_key() {
    let app = TestApp::spawn_with(crate::domains::with_keys).await;
    let details = json!({
        "client_id": "com.example.web",
        "team_id": "TEAM123456",
        "key_id": "KEY1234567",
        "private_key": cognate::standin::APPLE_TEAM_KEY,
        "authorize_scopes": "email name",
    });
    let create = |name: &str, details: Value| {
        let body = json!({
            "UserPoolId": app.pool_id,
            "ProviderName": name,
            "ProviderType": "SignInWithApple",
            "ProviderDetails": details,
        });
        let app = &app;
        async move { crate::domains::api(app, "CreateIdentityProvider", body).await }
    };
    let without = |key: &str| {
        let mut d = details.clone();
        d.as_object_mut().unwrap().remove(key);
        d
    };
    let with_key = |pem: &str| {
        let mut d = details.clone();
        d["private_key"] = pem.into();
        d
    };
    for (why, bad) in [
        ("no team_id", without("team_id")),
        ("no key_id", without("key_id")),
        ("no private_key", without("private_key")),
        ("not a key", with_key("not a key")),
        ("a P-384 key", with_key(P384_KEY)),
    ] {
        let (status, body) = create("SignInWithApple", bad).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{why}: {body}");
        assert_eq!(body["__type"], "InvalidParameterException", "{why}");
        assert!(
            !body.to_string().contains("BEGIN PRIVATE KEY"),
            "{why}: {body}"
        );
    }

    let (status, created) = create("SignInWithApple", details.clone()).await;
    assert_eq!(status, StatusCode::OK, "{created}");
    let (_, described) = crate::domains::api(
        &app,
        "DescribeIdentityProvider",
        json!({ "UserPoolId": app.pool_id, "ProviderName": "SignInWithApple" }),
    )
    .await;
    let d = &described["IdentityProvider"]["ProviderDetails"];
    assert_eq!(
        described["IdentityProvider"]["ProviderType"],
        "SignInWithApple"
    );
    assert_eq!(d["team_id"], "TEAM123456");
    assert_eq!(d["key_id"], "KEY1234567");
    assert_eq!(d["authorize_url"], Value::Null);
    assert!(d.get("private_key").is_none() && d.get("client_secret").is_none());
    assert!(!described.to_string().contains("PRIVATE KEY"));
    // Sending the described details back keeps the key.
    let (status, body) = crate::domains::api(
        &app,
        "UpdateIdentityProvider",
        json!({ "UserPoolId": app.pool_id, "ProviderName": "SignInWithApple",
                "ProviderDetails": d }),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let idp = cognate::federation::provider(&app.state, &app.pool_id, "SignInWithApple")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        idp.client_secret.as_deref(),
        Some(cognate::standin::APPLE_TEAM_KEY)
    );
    let endpoints = idp.endpoints().unwrap();
    assert_eq!(
        endpoints.authorize,
        "https://appleid.apple.com/auth/authorize"
    );
    assert_eq!(endpoints.token, "https://appleid.apple.com/auth/token");
    assert_eq!(
        endpoints.issuer.as_deref(),
        Some("https://appleid.apple.com")
    );
    assert_eq!(
        endpoints.jwks.as_deref(),
        Some("https://appleid.apple.com/auth/keys")
    );
}
