//! Both backends must have the same migrations, by file name, and the migrations that
//! move data keep it.

use std::borrow::Cow;
use std::path::Path;

use cognate::store::{Db, Store};
use serde_json::json;

use crate::helpers::Backend;

#[test]
fn sqlite_and_postgres_migrations_have_the_same_files() {
    let list = |dir: &str| {
        let mut names: Vec<String> =
            std::fs::read_dir(format!("{}/migrations/{dir}", env!("CARGO_MANIFEST_DIR")))
                .unwrap()
                .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                .collect();
        names.sort();
        names
    };
    let sqlite = list("sqlite");
    assert!(!sqlite.is_empty());
    assert_eq!(sqlite, list("postgres"));
}

/// Applies the migrations before `version` to `store`'s database.
async fn migrate_before(store: &Store, version: i64) {
    let dialect = match &store.db {
        Db::Sqlite(_) => "sqlite",
        Db::Postgres(_) => "postgres",
    };
    let dir = format!("{}/migrations/{dialect}", env!("CARGO_MANIFEST_DIR"));
    let mut migrator = sqlx::migrate::Migrator::new(Path::new(&dir)).await.unwrap();
    let earlier = migrator.iter().filter(|m| m.version < version).cloned();
    migrator.migrations = Cow::Owned(earlier.collect());
    match &store.db {
        Db::Sqlite(p) => migrator.run(p).await.unwrap(),
        Db::Postgres(p) => migrator.run(p).await.unwrap(),
    }
}

/// Runs one statement with `binds` (text, integers and booleans as JSON values).
async fn execute(store: &Store, sql: &str, binds: &[serde_json::Value]) {
    macro_rules! bound {
        ($q:expr) => {{
            let mut q = $q;
            for v in binds {
                q = match v {
                    serde_json::Value::Bool(b) => q.bind(*b),
                    serde_json::Value::Number(n) => q.bind(n.as_i64().unwrap()),
                    serde_json::Value::Null => q.bind(None::<String>),
                    other => q.bind(other.as_str().unwrap().to_string()),
                };
            }
            q
        }};
    }
    match &store.db {
        Db::Sqlite(p) => bound!(sqlx::query(sql)).execute(p).await.map(|_| ()),
        Db::Postgres(p) => bound!(sqlx::query(sql)).execute(p).await.map(|_| ()),
    }
    .unwrap_or_else(|e| panic!("{sql}: {e}"));
}

#[tokio::test]
async fn client_settings_stored_in_columns_survive_the_move_into_one_document() {
    // Arrange: the schema before 0013, with a client whose settings are all set
    // (list columns holding JSON text, a boolean turned off).
    let backend = Backend::fresh().await;
    let store = Store::connect(&backend.database_url).await.unwrap();
    migrate_before(&store, 13).await;
    execute(
        &store,
        "insert into user_pools (pool_id, name, settings, created_at, updated_at) \
         values ('us-east-1_Old', 'old pool', '{}', 10, 10)",
        &[],
    )
    .await;
    execute(
        &store,
        "insert into app_clients (client_id, pool_id, name, secret_digest, secret_enc, \
         callback_urls, logout_urls, allowed_scopes, allowed_flows, id_token_validity, \
         access_token_validity, refresh_token_validity, return_to_allow_list, \
         state_separator, state_encoding, branding, write_attributes, \
         supported_identity_providers, explicit_auth_flows, refresh_token_retry_grace, \
         refresh_token_rotation, created_at, updated_at) values ($1, 'us-east-1_Old', $2, \
         $3, null, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, \
         $20, $21)",
        &[
            json!("oldclient"),
            json!("Old \"quoted\" App"),
            json!("ab12"),
            json!(r#"["https://app.example.com/cb","http://localhost:3000/cb"]"#),
            json!(r#"["https://app.example.com/bye"]"#),
            json!(r#"["openid","email"]"#),
            json!(r#"["code"]"#),
            json!(900),
            json!(1800),
            json!(7200),
            json!(r#"["https://app.example.com"]"#),
            json!("-"),
            json!("hex"),
            json!(r##"{"page_title":"Old","primary_color":"#123456"}"##),
            json!(r#"["email","custom:team"]"#),
            json!(r#"["COGNITO","Google"]"#),
            json!(r#"["ALLOW_USER_PASSWORD_AUTH"]"#),
            json!(0),
            json!(false),
            json!(20),
            json!(30),
        ],
    )
    .await;

    // Act: the server starts and applies the rest.
    drop(store);
    let config = cognate::config::Config::new("http://127.0.0.1:9", None).unwrap();
    let app = cognate::server::open(&backend.store_args(), config)
        .await
        .unwrap();

    // Assert: every setting reads back as it was stored.
    let client = app
        .store
        .client_by_id("us-east-1_Old", "oldclient")
        .await
        .unwrap()
        .expect("the client survives");
    assert_eq!(client.secret_digest.as_deref(), Some("ab12"));
    assert_eq!((client.created_at, client.updated_at), (20, 30));
    assert_eq!(
        serde_json::to_value(&client.settings).unwrap(),
        json!({
            "name": "Old \"quoted\" App",
            "callback_urls": ["https://app.example.com/cb", "http://localhost:3000/cb"],
            "logout_urls": ["https://app.example.com/bye"],
            "allowed_scopes": ["openid", "email"],
            "allowed_flows": ["code"],
            "id_token_validity": 900,
            "access_token_validity": 1800,
            "refresh_token_validity": 7200,
            "state_relay": {
                "allow_list": ["https://app.example.com"],
                "separator": "-",
                "encoding": "hex"
            },
            "branding": {
                "display_name": null,
                "page_title": "Old",
                "logo_url": null,
                "primary_color": "#123456",
                "background_color": null,
                "css": null
            },
            "write_attributes": ["email", "custom:team"],
            "supported_identity_providers": ["COGNITO", "Google"],
            "explicit_auth_flows": ["ALLOW_USER_PASSWORD_AUTH"],
            "refresh_token_retry_grace": 0,
            "refresh_token_rotation": false,
            // Settings added later take their defaults.
            "read_attributes": [],
            "auth_session_validity": 3,
            "enable_token_revocation": true,
            "reported": {
                "token_validity_units": null,
                "refresh_token_rotation": null,
                "default_redirect_uri": null
            }
        })
    );
    client.settings.validate().unwrap();
}

#[tokio::test]
async fn users_stored_before_password_ages_take_their_last_change_as_the_password_time() {
    // Arrange: the schema before 0016, with a user holding a password and one without.
    let backend = Backend::fresh().await;
    let store = Store::connect(&backend.database_url).await.unwrap();
    migrate_before(&store, 16).await;
    execute(
        &store,
        "insert into user_pools (pool_id, name, settings, created_at, updated_at) \
         values ('us-east-1_Old', 'old pool', '{}', 10, 10)",
        &[],
    )
    .await;
    for (id, hash) in [("with", json!("$argon2id$x")), ("without", json!(null))] {
        execute(
            &store,
            "insert into users (user_id, pool_id, username, username_lc, status, enabled, \
             password_hash, created_at, updated_at) \
             values ($1, 'us-east-1_Old', $1, $1, 'FORCE_CHANGE_PASSWORD', true, $2, 20, 30)",
            &[json!(id), hash],
        )
        .await;
    }

    // Act: the server starts and applies the rest.
    drop(store);
    let config = cognate::config::Config::new("http://127.0.0.1:9", None).unwrap();
    let app = cognate::server::open(&backend.store_args(), config)
        .await
        .unwrap();

    // Assert: the password's age starts no earlier than it can have been set.
    let user = |id: &'static str| {
        let store = &app.store;
        async move {
            store
                .user_by_id("us-east-1_Old", id)
                .await
                .unwrap()
                .unwrap()
        }
    };
    assert_eq!(user("with").await.password_set_at, Some(30));
    assert_eq!(user("without").await.password_set_at, None);
}
