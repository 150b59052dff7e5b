//! Security matrix rows JW-01 … JW-06: crafted tokens at every place cognate reads one
//! (userInfo, the API's `GetUser`, `/oauth2/revoke`, and `/logout`'s `id_token_hint`,
//! which Cognito's logout does not take: it must change nothing). Where a row needs a
//! token cognate itself signed with odd contents, the test unseals the pool's private
//! key with the master key, as an attacker who had stolen it could: the verifier must
//! still refuse anything it did not mean to issue.

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use hmac::Mac;
use rsa::pkcs1::EncodeRsaPublicKey;
use rsa::pkcs8::{EncodePrivateKey, EncodePublicKey, LineEnding};
use serde_json::{Value, json};

use crate::helpers::{LOGOUT, TestApp, jwt_claims, location};
use crate::sec_token::{account_client, api, fresh_tokens, s};

fn b64(bytes: impl AsRef<[u8]>) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

/// The pool's newest key: its id and the private key, unsealed.
async fn our_key(app: &TestApp) -> (String, aws_lc_rs::signature::RsaKeyPair) {
    let stored = app
        .state
        .store
        .signing_keys(&app.pool_id)
        .await
        .unwrap()
        .remove(0);
    let der = app
        .state
        .keys
        .master()
        .open(&stored.kid, &stored.private_enc)
        .unwrap();
    let pair = aws_lc_rs::signature::RsaKeyPair::from_pkcs8(&der).unwrap();
    (stored.kid, pair)
}

fn rs256(pair: &aws_lc_rs::signature::RsaKeyPair, header: &str, payload: &str) -> String {
    let input = format!("{}.{}", b64(header), b64(payload));
    let mut sig = vec![0u8; pair.public_modulus_len()];
    pair.sign(
        &aws_lc_rs::signature::RSA_PKCS1_SHA256,
        &aws_lc_rs::rand::SystemRandom::new(),
        input.as_bytes(),
        &mut sig,
    )
    .unwrap();
    format!("{input}.{}", b64(sig))
}

fn hs256(key: &[u8], header: &str, payload: &str) -> String {
    let input = format!("{}.{}", b64(header), b64(payload));
    let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(key).unwrap();
    mac.update(input.as_bytes());
    format!("{input}.{}", b64(mac.finalize().into_bytes()))
}

/// Everything a crafted token needs: a live sign-in whose access token carries the
/// API's scope, and the pool's key.
struct Lab {
    app: TestApp,
    tokens: Value,
    claims: Value,
    kid: String,
    key: aws_lc_rs::signature::RsaKeyPair,
    client_id: String,
}

impl Lab {
    async fn new() -> Self {
        let app = TestApp::spawn().await;
        let client = account_client(&app).await;
        let tokens =
            fresh_tokens(&app, &client, "openid email aws.cognito.signin.user.admin").await;
        let claims = jwt_claims(s(&tokens, "access_token"));
        let (kid, key) = our_key(&app).await;
        Self {
            app,
            tokens,
            claims,
            kid,
            key,
            client_id: client.client_id,
        }
    }

    fn header(&self) -> String {
        json!({"alg": "RS256", "kid": self.kid}).to_string()
    }

    /// The live access token's claims, re-signed by our key with `edit` applied.
    fn signed(&self, edit: impl FnOnce(&mut Value)) -> String {
        let mut c = self.claims.clone();
        edit(&mut c);
        rs256(&self.key, &self.header(), &c.to_string())
    }

    /// The token is refused everywhere, and the live sign-in it imitates survives.
    async fn assert_refused(&self, token: &str, case: &str) {
        let app = &self.app;
        let res = app.userinfo(token).await;
        assert_eq!(res.status(), 401, "{case}: userInfo");
        let challenge = res.headers()["www-authenticate"]
            .to_str()
            .unwrap()
            .to_string();
        assert!(
            challenge.contains("error=\"invalid_token\""),
            "{case}: {challenge}"
        );
        let res = api(app, "GetUser", json!({"AccessToken": token})).await;
        assert_eq!(res.status(), 400, "{case}: GetUser");
        let body: Value = res.json().await.unwrap();
        assert_eq!(body["__type"], "NotAuthorizedException", "{case}: {body}");
        // Revoking a token that does not verify is revoking an unknown token: 200 and
        // nothing revoked.
        let res = app
            .http
            .post(app.url("/oauth2/revoke"))
            .form(&[("token", token), ("client_id", &self.client_id)])
            .send()
            .await
            .unwrap();
        // (400 only for an empty token, which is a missing parameter.)
        assert!(
            res.status() == 200 || res.status() == 413 || (token.is_empty() && res.status() == 400),
            "{case}: revoke {}",
            res.status()
        );
        // As an id_token_hint it changes nothing: an unregistered logout_uri is still
        // refused.
        let res = app
            .http
            .get(app.url("/logout"))
            .query(&[
                ("client_id", self.client_id.as_str()),
                ("logout_uri", "https://evil.example.com/"),
                ("id_token_hint", token),
            ])
            .send()
            .await
            .unwrap();
        assert!(
            res.status().is_client_error(),
            "{case}: logout {}",
            res.status()
        );
        assert!(
            res.headers().get("location").is_none(),
            "{case}: logout redirected"
        );
        self.assert_alive(case).await;
    }

    async fn assert_alive(&self, case: &str) {
        assert_eq!(
            self.app
                .userinfo(s(&self.tokens, "access_token"))
                .await
                .status(),
            200,
            "{case}: the real sign-in must survive"
        );
    }
}

// Matrix: JW-01
#[tokio::test]
async fn alg_none_in_every_spelling_is_refused() {
    let lab = Lab::new().await;
    let real = s(&lab.tokens, "access_token");
    let payload = real.split('.').nth(1).unwrap();
    let sig = real.split('.').nth(2).unwrap();
    for alg in ["none", "None", "NONE", "nOnE"] {
        for kid in [None, Some(lab.kid.as_str())] {
            let mut header = json!({"alg": alg, "typ": "JWT"});
            if let Some(k) = kid {
                header["kid"] = k.into();
            }
            let h = b64(header.to_string());
            for token in [
                format!("{h}.{payload}."),
                format!("{h}.{payload}"),
                format!("{h}.{payload}.{sig}"),
            ] {
                lab.assert_refused(&token, &format!("alg {alg}")).await;
            }
        }
    }
    // The id token as a hint at logout with a registered URI: logout works as without
    // it, and the session is over.
    let app = &lab.app;
    let res = app
        .http
        .get(app.url("/logout"))
        .query(&[
            ("client_id", lab.client_id.as_str()),
            ("logout_uri", LOGOUT),
            ("id_token_hint", s(&lab.tokens, "id_token")),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(location(&res), LOGOUT);
}

// Matrix: JW-02
#[tokio::test]
async fn hs256_keyed_with_our_public_key_is_refused() {
    let lab = Lab::new().await;
    let jwks: Value = lab
        .app
        .http
        .get(lab.app.url("/.well-known/jwks.json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let jwk = jwks["keys"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["kid"] == lab.kid.as_str())
        .unwrap()
        .clone();
    let n = URL_SAFE_NO_PAD.decode(jwk["n"].as_str().unwrap()).unwrap();
    let e = URL_SAFE_NO_PAD.decode(jwk["e"].as_str().unwrap()).unwrap();
    let public = rsa::RsaPublicKey::new(
        rsa::BigUint::from_bytes_be(&n),
        rsa::BigUint::from_bytes_be(&e),
    )
    .unwrap();
    let spki_pem = public.to_public_key_pem(LineEnding::LF).unwrap();
    let pkcs1_pem = public.to_pkcs1_pem(LineEnding::LF).unwrap();
    let keys: Vec<(&str, Vec<u8>)> = vec![
        ("SPKI PEM", spki_pem.as_bytes().to_vec()),
        (
            "SPKI PEM without newline",
            spki_pem.trim_end().as_bytes().to_vec(),
        ),
        ("PKCS#1 PEM", pkcs1_pem.as_bytes().to_vec()),
        (
            "SPKI DER",
            public.to_public_key_der().unwrap().as_bytes().to_vec(),
        ),
        (
            "PKCS#1 DER",
            public.to_pkcs1_der().unwrap().as_bytes().to_vec(),
        ),
        ("JWK JSON", jwk.to_string().into_bytes()),
        ("JWKS JSON", jwks.to_string().into_bytes()),
        ("raw modulus", n.clone()),
        (
            "modulus base64url",
            jwk["n"].as_str().unwrap().as_bytes().to_vec(),
        ),
    ];
    let payload = lab.claims.to_string();
    for (name, key) in keys {
        for header in [
            json!({"alg": "HS256", "kid": lab.kid}),
            json!({"alg": "HS256", "kid": lab.kid, "typ": "JWT"}),
            json!({"alg": "HS256"}),
        ] {
            let token = hs256(&key, &header.to_string(), &payload);
            lab.assert_refused(&token, &format!("HS256 with {name}"))
                .await;
        }
    }
    // Control: the same claims signed by our key are accepted.
    let ok = lab.signed(|_| {});
    assert_eq!(lab.app.userinfo(&ok).await.status(), 200);
}

// Matrix: JW-03
#[tokio::test]
async fn header_supplied_keys_and_odd_kids_are_refused_without_any_fetch() {
    let lab = Lab::new().await;
    // A listener a jku/x5u fetch would reach.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let trap = format!("http://{}/jwks.json", listener.local_addr().unwrap());
    // An attacker's own key, offered inline.
    let theirs = tokio::task::spawn_blocking(|| {
        rsa::RsaPrivateKey::new(&mut rand::rngs::OsRng, 2048).unwrap()
    })
    .await
    .unwrap();
    let their_pair =
        aws_lc_rs::signature::RsaKeyPair::from_pkcs8(theirs.to_pkcs8_der().unwrap().as_bytes())
            .unwrap();
    let their_jwk = {
        use rsa::traits::PublicKeyParts;
        json!({"kty": "RSA", "kid": lab.kid, "alg": "RS256",
               "n": b64(theirs.n().to_bytes_be()), "e": b64(theirs.e().to_bytes_be())})
    };
    let their_cert = STANDARD.encode(theirs.to_public_key().to_public_key_der().unwrap());
    let payload = lab.claims.to_string();

    let long_kid = "k".repeat(10 * 1024);
    for kid in [
        "../../dev/null",
        "/etc/passwd",
        "' OR '1'='1",
        "\u{0}",
        &long_kid,
        "",
    ] {
        let header = json!({"alg": "RS256", "kid": kid}).to_string();
        // Signed by our real key, but under a kid that is not ours.
        lab.assert_refused(
            &rs256(&lab.key, &header, &payload),
            &format!("kid {:.20}", kid),
        )
        .await;
    }
    let headers = [
        json!({"alg": "RS256", "kid": lab.kid, "jku": trap}),
        json!({"alg": "RS256", "jku": trap}),
        json!({"alg": "RS256", "kid": "elsewhere", "x5u": trap}),
        json!({"alg": "RS256", "kid": lab.kid, "jwk": their_jwk}),
        json!({"alg": "RS256", "jwk": their_jwk}),
        json!({"alg": "RS256", "kid": lab.kid, "x5c": [their_cert]}),
    ];
    for header in &headers {
        let token = rs256(&their_pair, &header.to_string(), &payload);
        lab.assert_refused(&token, &format!("{header:.60}")).await;
    }
    // With our own key too: a header carrying a key reference is not ours.
    for header in &headers[..1] {
        let token = rs256(&lab.key, &header.to_string(), &payload);
        lab.assert_refused(&token, "jku on a token signed by our key")
            .await;
    }
    // Nothing ever connected to the listener.
    let accepted =
        tokio::time::timeout(std::time::Duration::from_millis(300), listener.accept()).await;
    assert!(
        accepted.is_err(),
        "the server fetched a header-supplied URL"
    );
}

// Matrix: JW-04
#[tokio::test]
async fn expiry_and_issue_times_are_enforced() {
    let lab = Lab::new().await;
    let now = lab.app.state.clock.now();
    type Edit = Box<dyn Fn(&mut Value)>;
    let cases: Vec<(&str, Edit)> = vec![
        (
            "exp just past",
            Box::new(move |c| c["exp"] = (now - 1).into()),
        ),
        (
            "exp long past",
            Box::new(move |c| c["exp"] = (now - 3600).into()),
        ),
        (
            "exp missing",
            Box::new(|c| {
                c.as_object_mut().unwrap().remove("exp");
            }),
        ),
        (
            "exp in milliseconds",
            Box::new(move |c| c["exp"] = ((now + 3600) * 1000).into()),
        ),
        (
            "exp as a string",
            Box::new(move |c| c["exp"] = (now + 3600).to_string().into()),
        ),
        (
            "exp as a float",
            Box::new(move |c| c["exp"] = ((now + 3600) as f64 + 0.5).into()),
        ),
        (
            "exp far future",
            Box::new(move |c| c["exp"] = (now + 10 * 86400).into()),
        ),
        (
            "nbf in the future",
            Box::new(move |c| c["nbf"] = (now + 3600).into()),
        ),
        (
            "iat in the future",
            Box::new(move |c| {
                c["iat"] = (now + 3600).into();
                c["exp"] = (now + 7200).into();
            }),
        ),
        (
            "iat missing",
            Box::new(|c| {
                c.as_object_mut().unwrap().remove("iat");
            }),
        ),
        (
            "iss missing",
            Box::new(|c| {
                c.as_object_mut().unwrap().remove("iss");
            }),
        ),
    ];
    for (name, edit) in cases {
        lab.assert_refused(&lab.signed(edit), name).await;
    }
    // Within the documented leeway (60 s) for clock skew, nbf and iat pass; and a
    // correctly formed token signed by our key passes (the refusals above are the
    // claims', not the signer's).
    for (name, token) in [
        ("control", lab.signed(|_| {})),
        ("nbf now", lab.signed(|c| c["nbf"] = now.into())),
        (
            "iat 30 s ahead",
            lab.signed(|c| c["iat"] = (now + 30).into()),
        ),
    ] {
        assert_eq!(lab.app.userinfo(&token).await.status(), 200, "{name}");
    }
    // Moving the clock past exp (no leeway on expiry) refuses the real token too.
    let exp = lab.claims["exp"].as_i64().unwrap();
    lab.app.state.clock.advance(exp - now);
    assert_eq!(
        lab.app
            .userinfo(s(&lab.tokens, "access_token"))
            .await
            .status(),
        401
    );
}

// Matrix: JW-05
#[tokio::test]
async fn tokens_of_another_issuer_or_of_the_wrong_use_are_refused() {
    let lab = Lab::new().await;
    let app = &lab.app;
    // A second pool on the same server, with its own key.
    let other = cognate::pool::create(&app.state, "other pool", "eu-west-1")
        .await
        .unwrap();
    let other_keys = app
        .state
        .keys
        .pool(&app.state.store, &other.pool_id)
        .await
        .unwrap()
        .unwrap();
    let other_iss = format!("{}/{}", app.base(), other.pool_id);
    let mut c = lab.claims.clone();
    c["iss"] = other_iss.clone().into();
    lab.assert_refused(&other_keys.sign(&c), "the other pool's token")
        .await;
    lab.assert_refused(&other_keys.sign(&lab.claims), "other pool's key, our iss")
        .await;
    lab.assert_refused(
        &lab.signed(|c| c["iss"] = other_iss.clone().into()),
        "our key, other pool's iss",
    )
    .await;
    lab.assert_refused(
        &lab.signed(|c| c["iss"] = "https://cognito-idp.us-east-1.amazonaws.com/x".into()),
        "foreign region",
    )
    .await;
    lab.assert_refused(
        &lab.signed(|c| c["iss"] = format!("{}/", app.issuer()).into()),
        "issuer with a trailing slash",
    )
    .await;
    // The ID token (token_use=id) is not an access token.
    lab.assert_refused(s(&lab.tokens, "id_token"), "ID token at userInfo")
        .await;
    lab.assert_refused(
        &lab.signed(|c| c["token_use"] = "id".into()),
        "token_use id",
    )
    .await;
    lab.assert_refused(
        &lab.signed(|c| {
            c.as_object_mut().unwrap().remove("token_use");
        }),
        "no token_use",
    )
    .await;
    // The pool's token at the other pool's endpoints.
    let res = app
        .http
        .get(format!("{other_iss}/oauth2/userInfo"))
        .bearer_auth(s(&lab.tokens, "access_token"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 401);
    // An access token of another client of the pool cannot be revoked by this one.
    let res = app
        .http
        .post(app.url("/oauth2/revoke"))
        .basic_auth(&app.confidential.client_id, Some(&app.secret))
        .form(&[("token", s(&lab.tokens, "access_token"))])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 400);
    lab.assert_alive("after another client's revoke").await;
}

// Matrix: JW-06
#[tokio::test]
async fn tampered_or_non_canonical_tokens_are_refused_and_never_a_500() {
    let lab = Lab::new().await;
    let real = s(&lab.tokens, "access_token").to_string();
    let parts: Vec<&str> = real.split('.').collect();
    let (h, p, sig) = (parts[0], parts[1], parts[2]);
    let mut tampered = lab.claims.clone();
    tampered["username"] = "mallory".into();
    let tampered = b64(tampered.to_string());
    // The signature's last character carries 4 unused bits (256 bytes → 342 chars):
    // flip them to get a non-canonical encoding of the same bytes.
    let last = sig.chars().last().unwrap();
    let alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let idx = alphabet.find(last).unwrap();
    let sibling = alphabet.chars().nth((idx & !0xf) | (!idx & 0xf)).unwrap();
    let non_canonical_sig = format!("{}{sibling}", &sig[..sig.len() - 1]);
    assert_ne!(non_canonical_sig, sig);
    let std_sig = STANDARD.encode(URL_SAFE_NO_PAD.decode(sig).unwrap());
    let cases: Vec<(&str, String)> = vec![
        ("payload tampered", format!("{h}.{tampered}.{sig}")),
        ("signature stripped", format!("{h}.{p}.")),
        ("two segments", format!("{h}.{p}")),
        ("four segments", format!("{h}.{p}.{sig}.{sig}")),
        ("padded payload", format!("{h}.{p}==.{sig}")),
        ("padded header", format!("{h}=.{p}.{sig}")),
        ("padded signature", format!("{h}.{p}.{sig}==")),
        ("standard alphabet signature", format!("{h}.{p}.{std_sig}")),
        (
            "non-canonical trailing bits",
            format!("{h}.{p}.{non_canonical_sig}"),
        ),
        ("whitespace inside", format!("{h}. {p}.{sig}")),
        ("empty", String::new()),
        ("dots", "..".into()),
        ("garbage", "not-a-jwt".into()),
        (
            "binary header",
            format!("{}.{p}.{sig}", b64([0xff, 0xfe, 0x00])),
        ),
        (
            "header not an object",
            format!("{}.{p}.{sig}", b64("[1,2]")),
        ),
        // Larger header blocks never reach a handler (431: hosted_forms' HU-11 test).
        ("20 KB", format!("{h}.{p}.{}", "A".repeat(20 * 1024))),
    ];
    for (name, token) in &cases {
        lab.assert_refused(token, name).await;
    }
    // Signed by our key, yet not what cognate issues: duplicate members (a parser
    // differential), an unknown critical header, a nested JSON payload.
    let claims = lab.claims.to_string();
    let dup_payload = format!(
        "{},\"sub\":{}}}",
        &claims[..claims.len() - 1],
        lab.claims["sub"]
    );
    let dup_use = format!("{},\"token_use\":\"access\"}}", &claims[..claims.len() - 1]);
    let signed_cases = [
        (
            "duplicate sub",
            rs256(&lab.key, &lab.header(), &dup_payload),
        ),
        (
            "duplicate token_use",
            rs256(&lab.key, &lab.header(), &dup_use),
        ),
        (
            "duplicate alg",
            rs256(
                &lab.key,
                &format!(r#"{{"alg":"none","alg":"RS256","kid":"{}"}}"#, lab.kid),
                &claims,
            ),
        ),
        (
            "duplicate kid",
            rs256(
                &lab.key,
                &format!(r#"{{"alg":"RS256","kid":"x","kid":"{}"}}"#, lab.kid),
                &claims,
            ),
        ),
        (
            "unknown crit",
            rs256(
                &lab.key,
                &json!({"alg": "RS256", "kid": lab.kid, "crit": ["exp2"], "exp2": 1}).to_string(),
                &claims,
            ),
        ),
        (
            "payload not an object",
            rs256(&lab.key, &lab.header(), &format!("[{claims}]")),
        ),
    ];
    for (name, token) in &signed_cases {
        lab.assert_refused(token, name).await;
    }
    // A 1 MB token: refused without a 5xx wherever it is sent (the request may be
    // refused for its size before any token parsing).
    let huge = format!("{h}.{}.{sig}", "A".repeat(1024 * 1024));
    let app = &lab.app;
    let statuses = [
        app.http
            .get(app.url("/oauth2/userInfo"))
            .bearer_auth(&huge)
            .send()
            .await
            .map(|r| r.status()),
        app.http
            .post(app.url("/oauth2/revoke"))
            .form(&[("token", huge.as_str()), ("client_id", &lab.client_id)])
            .send()
            .await
            .map(|r| r.status()),
        app.http
            .post(format!("{}/", app.base()))
            .header("content-type", "application/x-amz-json-1.1")
            .header("x-amz-target", "AWSCognitoIdentityProviderService.GetUser")
            .body(json!({"AccessToken": huge}).to_string())
            .send()
            .await
            .map(|r| r.status()),
    ];
    // A closed connection (hyper's header limit) is a refusal too; a 5xx is not.
    for status in statuses.into_iter().flatten() {
        assert!(
            [400, 401, 413, 431].contains(&status.as_u16()),
            "1 MB token: {status}"
        );
    }
    lab.assert_alive("after the crafted tokens").await;
}
