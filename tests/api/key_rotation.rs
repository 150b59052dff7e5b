//! Signing-key rotation across instances (JW-07): the new key signs, the old one stays
//! published and verifies until it is retired, and JWKS never carries private members.

use serde_json::Value;

use crate::helpers::TestApp;

fn kid(token: &str) -> String {
    let header = token.split('.').next().unwrap();
    let bytes =
        base64::Engine::decode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, header).unwrap();
    serde_json::from_slice::<Value>(&bytes).unwrap()["kid"]
        .as_str()
        .unwrap()
        .to_string()
}

async fn published(app: &TestApp) -> Vec<String> {
    let jwks: Value = app
        .http
        .get(app.url("/.well-known/jwks.json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let keys = jwks["keys"].as_array().unwrap();
    for key in keys {
        for private in ["d", "p", "q", "dp", "dq", "qi", "k"] {
            assert!(
                key.get(private).is_none(),
                "JWKS publishes {private}: {key}"
            );
        }
    }
    keys.iter()
        .map(|k| k["kid"].as_str().unwrap().to_string())
        .collect()
}

// Matrix: JW-07, PS-10
#[tokio::test]
async fn a_rotation_on_another_instance_reaches_this_one_and_old_tokens_verify_until_retired() {
    let app = TestApp::spawn().await;
    let old = app.tokens().await;
    let old_access = old["access_token"].as_str().unwrap();
    let first = published(&app).await;
    assert_eq!(first, vec![kid(old_access)]);

    // Act: another instance (same database) rotates.
    let config = cognate::config::Config::new(&app.issuer(), None).unwrap();
    let other = cognate::server::open(&app.backend.store_args(), config)
        .await
        .unwrap();
    let now = other.clock.now();
    let rotation = other
        .keys
        .rotate(&other.store, &app.pool_id, now, 86400)
        .await
        .unwrap()
        .expect("the pool exists");
    assert!(rotation.retired.is_empty());

    // A token of the new key verifies here at once (unknown kid → reload, at most once
    // a second), before this instance's cache TTL has passed.
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    let issuer = app.issuer();
    let claims = serde_json::json!({
        "iss": issuer, "iat": now, "exp": now + 600, "token_use": "access", "origin_jti": "x",
        "sub": "s", "client_id": app.public.client_id, "scope": "openid",
    });
    let keys = other
        .keys
        .pool(&other.store, &app.pool_id)
        .await
        .unwrap()
        .unwrap();
    let new_token = keys.sign(&claims);
    assert_eq!(kid(&new_token), rotation.kid);
    assert!(
        app.state
            .keys
            .pool_for_kid(&app.state.store, &app.pool_id, &rotation.kid)
            .await
            .unwrap()
            .unwrap()
            .verify(&new_token, std::slice::from_ref(&issuer), now)
            .is_some(),
        "a new-key token must verify on this instance"
    );

    // Within the TTL (0 here) this instance signs with the new key and publishes both,
    // with distinct kids; the old token still works.
    app.state.keys.set_cache_ttl(0);
    let both = published(&app).await;
    assert_eq!(both, vec![rotation.kid.clone(), first[0].clone()]);
    let res = app
        .refresh(&app.public, old["refresh_token"].as_str().unwrap())
        .await;
    assert_eq!(res.status(), 200);
    let fresh: Value = res.json().await.unwrap();
    assert_eq!(kid(fresh["access_token"].as_str().unwrap()), rotation.kid);
    assert_eq!(app.userinfo(old_access).await.status(), 200);

    // Retiring: a key superseded longer ago than retire_after leaves the JWKS, and its
    // tokens are refused.
    tokio::time::sleep(std::time::Duration::from_millis(2100)).await;
    // A window shorter than the key cache is refused; with no cache, none is needed.
    let refused = other
        .keys
        .rotate(&other.store, &app.pool_id, other.clock.now(), 0)
        .await;
    assert!(refused.is_err(), "retire-after 0 under a 60 s key cache");
    other.keys.set_cache_ttl(0);
    let later = other
        .keys
        .rotate(&other.store, &app.pool_id, other.clock.now(), 0)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(later.retired, first);
    let after = published(&app).await;
    assert!(!after.contains(&first[0]) && after.contains(&rotation.kid));
    assert_eq!(app.userinfo(old_access).await.status(), 401);
    assert_eq!(
        app.userinfo(fresh["access_token"].as_str().unwrap())
            .await
            .status(),
        200
    );
}
