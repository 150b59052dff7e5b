//! The master key and the keys it seals (docs/SECURITY_MATRIX.md PS-08, PS-10): a wrong
//! key is refused before it seals anything, a lost SQLite key file is not replaced by
//! a new one, `/health` fails when the database's secrets are another key's, a signing
//! key cannot be retired while instances may still sign with it, and a code is redeemed
//! only at a callback the client still has.

use cognate::config::Config;
use cognate::crypto::MasterKey;
use reqwest::StatusCode;

use crate::helpers::{CALLBACK, Pkce, TestApp, assert_oauth_error};

fn cli(database_url: &str, master_key: &str, args: &[&str]) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_cognate"))
        .args(args)
        .env("DATABASE_URL", database_url)
        .env("COGNATE_MASTER_KEY", master_key)
        .env_remove("COGNATE_MASTER_KEY_FILE")
        .output()
        .unwrap()
}

// Matrix: PS-08
#[tokio::test]
async fn a_wrong_master_key_is_refused_before_it_seals_anything() {
    let app = TestApp::spawn().await;
    let wrong = MasterKey::generate_base64();
    let db = &app.backend.database_url;

    // An instance started with another key does not start.
    let mut args = app.backend.store_args();
    args.master_key = Some(wrong.clone());
    let config = Config::new(&app.base(), None).unwrap();
    let err = cognate::server::open(&args, config)
        .await
        .err()
        .expect("refused");
    assert!(format!("{err:#}").contains("does not open"), "{err:#}");

    // The CLI neither: no key is rotated in, so the pool keeps working everywhere.
    let keys_before = app
        .state
        .store
        .signing_keys(&app.pool_id)
        .await
        .unwrap()
        .len();
    let out = cli(db, &wrong, &["pool", "rotate-keys", "--pool", &app.pool_id]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("does not open"));
    let keys_after = app
        .state
        .store
        .signing_keys(&app.pool_id)
        .await
        .unwrap()
        .len();
    assert_eq!(keys_before, keys_after);
    let jwks = app
        .http
        .get(app.url("/.well-known/jwks.json"))
        .send()
        .await
        .unwrap();
    assert_eq!(jwks.status(), StatusCode::OK);
    let code = app
        .login_and_authorize(&app.public, Some(&Pkce::new()))
        .await;
    assert!(!code.is_empty());

    // The right key still works for the CLI.
    let out = cli(db, &app.backend.master_key, &["pool", "list"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

// Matrix: PS-08
#[tokio::test]
async fn health_fails_when_the_database_is_sealed_with_another_key() {
    let app = TestApp::spawn().await;
    let health = |app: &TestApp| {
        let url = format!("{}/health", app.base());
        let http = app.http.clone();
        async move { http.get(url).send().await.unwrap().status() }
    };
    assert_eq!(health(&app).await, StatusCode::OK);
    // As if another deployment's database were restored under this instance.
    let sql = "update master_key_check set check_value = 'another key'";
    match &app.state.store.db {
        cognate::store::Db::Sqlite(p) => sqlx::query(sql).execute(p).await.map(|_| ()),
        cognate::store::Db::Postgres(p) => sqlx::query(sql).execute(p).await.map(|_| ()),
    }
    .unwrap();
    assert_eq!(health(&app).await, StatusCode::SERVICE_UNAVAILABLE);
}

// Matrix: PS-08
#[tokio::test]
async fn a_lost_sqlite_key_file_is_not_silently_replaced() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("cognate.db").display());
    let key_file = dir.path().join("cognate.db.master-key");
    let run = || {
        std::process::Command::new(env!("CARGO_BIN_EXE_cognate"))
            .args(["pool", "create", "--name", "p"])
            .env("DATABASE_URL", &db)
            .env_remove("COGNATE_MASTER_KEY")
            .env_remove("COGNATE_MASTER_KEY_FILE")
            .output()
            .unwrap()
    };
    let first = run();
    assert!(
        first.status.success(),
        "{}",
        String::from_utf8_lossy(&first.stderr)
    );
    assert!(key_file.exists(), "a new database gets a key");
    std::fs::remove_file(&key_file).unwrap();
    let second = run();
    assert!(!second.status.success());
    assert!(String::from_utf8_lossy(&second.stderr).contains("is missing"));
    assert!(
        !key_file.exists(),
        "no new key was made for a database with data"
    );
}

// Matrix: PS-10
#[tokio::test]
async fn a_code_is_redeemed_only_at_a_callback_the_client_still_has() {
    let app = TestApp::spawn().await;
    let pkce = Pkce::new();
    let code = app.login_and_authorize(&app.public, Some(&pkce)).await;
    // Another instance (here the API of the same database) removes the callback.
    let client = cognate::clients::update(&app.state, &app.pool_id, &app.public.client_id, |c| {
        c.callback_urls.retain(|u| u != CALLBACK)
    })
    .await
    .unwrap();
    let res = app.exchange(&client, &code, Some(&pkce.verifier)).await;
    assert_oauth_error(res, StatusCode::BAD_REQUEST, "invalid_grant").await;
}
