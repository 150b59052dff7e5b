//! What a reader of the database gets (security matrix PS-05, PS-09): given a copy of
//! every table and nothing else, no stored value works as a session cookie, an
//! authorization code, a refresh token, a confirmation link or a federation state, and
//! a code cannot be recovered offline; the SQLite files are the owner's alone; `--help`
//! does not print the database password.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use cognate::crypto::{MasterKey, Secret, sha256_hex};
use cognate::federation::{LinkingPolicy, NewProvider, ProviderDetails, ProviderType};
use cognate::users::UserStatus;
use reqwest::StatusCode;
use reqwest::cookie::CookieStore;
use sqlx::{Connection, Row};

use crate::account::{code_in, get, link_in, sign_up, submit};
use crate::helpers::{
    CALLBACK, PASSWORD, Pkce, TestApp, assert_oauth_error, browser, location, query_param,
};

const NEW_PASSWORD: &str = "Brand-new-pass-7";

/// Every value of every column of every table but the outbox (it stands in for the
/// users' mailboxes; with SMTP it is not written), as bytes: what a backup holds.
async fn copy_of_the_database(app: &TestApp) -> Vec<(String, Vec<u8>)> {
    let url = &app.backend.database_url;
    let mut out = Vec::new();
    if url.starts_with("postgres") {
        let mut c = sqlx::PgConnection::connect(url).await.unwrap();
        let columns: Vec<(String, String, String, String)> = sqlx::query_as(
            "select table_schema, table_name, column_name, data_type from information_schema.columns \
             where table_schema not in ('pg_catalog', 'information_schema')",
        )
        .fetch_all(&mut c)
        .await
        .unwrap();
        for (schema, table, column, data_type) in columns {
            if table == "outbox" {
                continue;
            }
            let from = format!("from \"{schema}\".\"{table}\" where \"{column}\" is not null");
            let values: Vec<Vec<u8>> = if data_type == "bytea" {
                sqlx::query_scalar(&format!("select \"{column}\" {from}"))
                    .fetch_all(&mut c)
                    .await
                    .unwrap()
            } else {
                let texts: Vec<String> =
                    sqlx::query_scalar(&format!("select \"{column}\"::text {from}"))
                        .fetch_all(&mut c)
                        .await
                        .unwrap();
                texts.into_iter().map(String::into_bytes).collect()
            };
            out.extend(values.into_iter().map(|v| (table.clone(), v)));
        }
    } else {
        let mut c = sqlx::SqliteConnection::connect(url).await.unwrap();
        let tables: Vec<String> =
            sqlx::query_scalar("select name from sqlite_master where type = 'table'")
                .fetch_all(&mut c)
                .await
                .unwrap();
        for table in tables.into_iter().filter(|t| t != "outbox") {
            let rows = sqlx::query(&format!("select * from \"{table}\""))
                .fetch_all(&mut c)
                .await
                .unwrap();
            for row in rows {
                for i in 0..row.columns().len() {
                    let value = row
                        .try_get::<String, _>(i)
                        .map(String::into_bytes)
                        .or_else(|_| row.try_get::<Vec<u8>, _>(i))
                        .unwrap_or_default();
                    out.push((table.clone(), value));
                }
            }
        }
    }
    out
}

/// What a reader would try: every stored value long enough to be a secret (session
/// ids are the shortest, 22 characters), and every run of token characters inside one
/// (in JSON, in the sessions' serialised data).
fn candidates(copy: &[(String, Vec<u8>)]) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for (_, value) in copy {
        let text = String::from_utf8_lossy(value);
        // Whole values that a form could carry (binary ones are tried by their runs).
        if text.len() >= 16 && !text.chars().any(char::is_control) {
            out.insert(text.to_string());
        }
        for run in text.split(|c: char| !(c.is_ascii_alphanumeric() || c == '-' || c == '_')) {
            if run.len() >= 16 {
                out.insert(run.to_string());
            }
        }
    }
    out
}

/// Whether `value` could travel in a cookie or a URL path as it is.
fn is_token(value: &str) -> bool {
    value
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

/// Values of one query against the database, as text.
async fn column(app: &TestApp, sql: &str) -> Vec<String> {
    let url = &app.backend.database_url;
    if url.starts_with("postgres") {
        let mut c = sqlx::PgConnection::connect(url).await.unwrap();
        sqlx::query_scalar(sql).fetch_all(&mut c).await.unwrap()
    } else {
        let mut c = sqlx::SqliteConnection::connect(url).await.unwrap();
        sqlx::query_scalar(sql).fetch_all(&mut c).await.unwrap()
    }
}

async fn execute(app: &TestApp, sql: &str) {
    let url = &app.backend.database_url;
    if url.starts_with("postgres") {
        let mut c = sqlx::PgConnection::connect(url).await.unwrap();
        sqlx::query(sql).execute(&mut c).await.unwrap();
    } else {
        let mut c = sqlx::SqliteConnection::connect(url).await.unwrap();
        sqlx::query(sql).execute(&mut c).await.unwrap();
    }
}

fn session_table(app: &TestApp) -> &'static str {
    match app.backend.database_url.starts_with("postgres") {
        true => "tower_sessions.session",
        false => "tower_sessions",
    }
}

/// Whether a browser presenting `cookie` as its session gets a code without signing in
/// (`prompt=none`), or is told to sign in.
async fn cookie_signs_in(app: &TestApp, cookie: &str) -> bool {
    let res = app
        .http
        .get(app.authorize_url(&app.confidential, None, &[("prompt", "none")]))
        .header("cookie", format!("cognate_session={cookie}"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::FOUND);
    let to = location(&res);
    assert!(to.starts_with(CALLBACK), "{to}");
    match query_param(&to, "code") {
        Some(_) => true,
        None => {
            assert_eq!(query_param(&to, "error").as_deref(), Some("login_required"));
            false
        }
    }
}

/// The federation callback, from the browser that started the sign-in, with `state`
/// and the provider's "user cancelled" answer: a known handle goes back to the app,
/// anything else is refused there.
async fn federation_state_accepted(app: &TestApp, b: &reqwest::Client, state: &str) -> bool {
    let url = cognate::clients::redirect::with_params(
        &app.url("/oauth2/idpresponse"),
        &[("state", state), ("error", "access_denied")],
    );
    let res = b.get(url).send().await.unwrap();
    match res.status() {
        StatusCode::FOUND => {
            assert!(location(&res).starts_with(CALLBACK));
            true
        }
        status => {
            assert_eq!(status, StatusCode::BAD_REQUEST);
            assert!(res.text().await.unwrap().contains("already completed"));
            false
        }
    }
}

/// Signs in a fresh cookie-keeping browser as alice; returns it, its session cookie's
/// value, and the callback URL.
async fn signed_in_browser(app: &TestApp) -> (reqwest::Client, String) {
    let jar = Arc::new(reqwest::cookie::Jar::default());
    let b = reqwest::Client::builder()
        .cookie_provider(jar.clone())
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    app.sign_in(
        &b,
        &app.authorize_url(&app.confidential, None, &[]),
        "alice",
        PASSWORD,
    )
    .await;
    let cookies = jar.cookies(&app.base().parse().unwrap()).unwrap();
    let cookie = cookies
        .to_str()
        .unwrap()
        .split("; ")
        .find_map(|c| c.strip_prefix("cognate_session="))
        .expect("a session cookie")
        .to_string();
    (b, cookie)
}

/// Starts a sign-in at Facebook (never contacted): the browser and the handle, which
/// cognate sent to the provider as `state`.
async fn pending_federation(app: &TestApp) -> (reqwest::Client, String) {
    let new = NewProvider {
        provider_name: "Facebook".into(),
        provider_type: ProviderType::Facebook,
        details: ProviderDetails {
            client_id: "facebook-client".into(),
            ..ProviderDetails::default()
        },
        client_secret: Some("facebook-secret".into()),
        attribute_mapping: BTreeMap::new(),
        linking_policy: LinkingPolicy::default(),
        idp_identifiers: vec![],
    };
    cognate::federation::put_provider(&app.state, &app.pool_id, new)
        .await
        .unwrap();
    cognate::clients::update(&app.state, &app.pool_id, &app.public.client_id, |c| {
        c.supported_identity_providers = vec!["COGNITO".into(), "Facebook".into()];
    })
    .await
    .unwrap();
    let b = browser();
    let pkce = Pkce::new();
    let res = b
        .get(app.authorize_url(
            &app.public,
            Some(&pkce),
            &[("identity_provider", "Facebook")],
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::FOUND);
    let handle = query_param(&location(&res), "state").expect("a state for the provider");
    (b, handle)
}

// Matrix: PS-05
#[tokio::test]
async fn no_value_in_a_copy_of_the_database_opens_a_session_or_redeems_anything() {
    // Arrange: a signed-in browser, an unredeemed code, a refresh token, a pending
    // reset code, an unused confirmation link and a pending federation handle.
    let app = TestApp::spawn().await;
    app.create_user("bob", UserStatus::Confirmed).await;
    let (_alice, cookie) = signed_in_browser(&app).await;
    let code = {
        let callback = app
            .sign_in(
                &browser(),
                &app.authorize_url(&app.confidential, None, &[]),
                "alice",
                PASSWORD,
            )
            .await;
        query_param(&callback, "code").unwrap()
    };
    let refresh = app.tokens().await["refresh_token"]
        .as_str()
        .unwrap()
        .to_string();
    let resetting = browser();
    let page = get(&resetting, &app.page("forgotPassword", &Pkce::new(), &[])).await;
    let res = submit(&resetting, &page, &[("username", "bob")]).await;
    let mut reset_page = get(&resetting, &location(&res)).await;
    let reset_code = code_in(&app.last_mail("bob@example.com").await.body_text);
    sign_up(&app, &browser(), &Pkce::new(), "carol", "carol@example.com").await;
    let link = link_in(&app.last_mail("carol@example.com").await.body_text);
    let link_token = link
        .split("/confirmLink/")
        .nth(1)
        .unwrap()
        .split('?')
        .next()
        .unwrap()
        .to_string();
    let (federating, handle) = pending_federation(&app).await;

    // Act: a reader copies the database.
    let copy = copy_of_the_database(&app).await;
    let tried = candidates(&copy);
    let stored = |table: &str| copy.iter().filter(|(t, _)| t == table).count();
    for table in [
        "auth_codes",
        "refresh_tokens",
        "user_codes",
        "federation_requests",
    ] {
        assert!(stored(table) > 0, "nothing copied from {table}");
    }
    let row_ids = column(&app, &format!("select id from {}", session_table(&app))).await;
    assert!(!row_ids.is_empty());
    assert!(
        row_ids.iter().all(|id| tried.contains(id)),
        "session rows are tried"
    );
    // The secrets themselves are not in the copy (the reader must use what is).
    for secret in [&cookie, &code, &refresh, &link_token, &handle] {
        assert!(!tried.contains(secret.as_str()));
    }

    // Assert: every value is refused in every role.
    for value in &tried {
        if is_token(value) {
            assert!(
                !cookie_signs_in(&app, value).await,
                "a stored value opened a session: {value}"
            );
            let res = app
                .http
                .get(link.replace(&link_token, value))
                .send()
                .await
                .unwrap();
            assert_eq!(res.status(), StatusCode::BAD_REQUEST, "link {value}");
        }
        let form = [
            ("grant_type", "authorization_code"),
            ("code", value.as_str()),
            ("redirect_uri", CALLBACK),
        ];
        assert_oauth_error(
            app.token_request(&app.confidential, &form).await,
            StatusCode::BAD_REQUEST,
            "invalid_grant",
        )
        .await;
        for client in [&app.public, &app.confidential] {
            assert_oauth_error(
                app.refresh(client, value).await,
                StatusCode::BAD_REQUEST,
                "invalid_grant",
            )
            .await;
        }
        assert!(
            !federation_state_accepted(&app, &federating, value).await,
            "a stored value was taken as a federation state: {value}"
        );
    }
    // Reset codes allow five attempts: the stored digests themselves, typed as codes.
    // (A six-digit code's digest is the one worth searching: see the next test.)
    let code_digests = column(&app, "select code_hash from user_codes").await;
    for value in code_digests.iter().take(3) {
        let res = submit(
            &resetting,
            &reset_page,
            &[
                ("code", value),
                ("password", NEW_PASSWORD),
                ("confirm_password", NEW_PASSWORD),
            ],
        )
        .await;
        assert_eq!(res.status(), StatusCode::BAD_REQUEST);
        let html = res.text().await.unwrap();
        reset_page.form = Some(crate::helpers::Form::parse(&html));
    }

    // The real secrets still work: the refusals above were about the values.
    assert!(cookie_signs_in(&app, &cookie).await);
    assert_eq!(
        app.exchange(&app.confidential, &code, None).await.status(),
        StatusCode::OK
    );
    assert_eq!(
        app.refresh(&app.public, &refresh).await.status(),
        StatusCode::OK
    );
    let res = submit(
        &resetting,
        &reset_page,
        &[
            ("code", &reset_code),
            ("password", NEW_PASSWORD),
            ("confirm_password", NEW_PASSWORD),
        ],
    )
    .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let res = app.http.get(&link).send().await.unwrap();
    assert!(res.status().is_redirection(), "{}", res.status());
    assert!(federation_state_accepted(&app, &federating, &handle).await);
}

// Matrix: PS-05
#[tokio::test]
async fn a_reset_code_cannot_be_searched_offline_from_its_stored_digest() {
    // Arrange: bob asks for a reset code.
    let app = TestApp::spawn().await;
    let bob = app.create_user("bob", UserStatus::Confirmed).await;
    let b = browser();
    let page = get(&b, &app.page("forgotPassword", &Pkce::new(), &[])).await;
    submit(&b, &page, &[("username", "bob")]).await;
    let code = code_in(&app.last_mail("bob@example.com").await.body_text);
    // Act: a reader takes the digest and the user id from a copy.
    let rows = column(
        &app,
        &format!(
            "select code_hash from user_codes where user_id = '{}'",
            bob.user_id
        ),
    )
    .await;
    let [digest] = rows.as_slice() else {
        panic!("one code for bob: {rows:?}")
    };
    // Assert: trying all 10^6 codes under the unkeyed digests finds nothing …
    let found = (0..1_000_000u32).find(|n| {
        let guess = format!("{n:06}");
        sha256_hex(&format!("{}:{guess}", bob.user_id)) == *digest || sha256_hex(&guess) == *digest
    });
    assert_eq!(found, None, "the code was recovered from its digest");
    // … while the server's key does give the stored digest: the reader lacks only it.
    let key = MasterKey::from_base64(&app.backend.master_key).unwrap();
    let keyed = key
        .digests()
        .secret(Secret::UserCode, &format!("{}:{code}", bob.user_id));
    assert_eq!(&keyed, digest);
}

// Matrix: PS-05
#[tokio::test]
async fn codes_and_tokens_stored_before_keyed_digests_work_after_the_upgrade() {
    // Arrange: a refresh token and a reset code as an earlier version stored them
    // (plain SHA-256), a signed-in browser, and a database not converted yet.
    let mut app = TestApp::spawn().await;
    let bob = app.create_user("bob", UserStatus::Confirmed).await;
    let refresh = app.tokens().await["refresh_token"]
        .as_str()
        .unwrap()
        .to_string();
    let b = browser();
    let page = get(&b, &app.page("forgotPassword", &Pkce::new(), &[])).await;
    submit(&b, &page, &[("username", "bob")]).await;
    let code = code_in(&app.last_mail("bob@example.com").await.body_text);
    let digests = MasterKey::from_base64(&app.backend.master_key)
        .unwrap()
        .digests()
        .clone();
    execute(
        &app,
        &format!(
            "update refresh_tokens set token_hash = '{}' where token_hash = '{}'",
            sha256_hex(&refresh),
            digests.secret(Secret::RefreshToken, &refresh)
        ),
    )
    .await;
    execute(
        &app,
        &format!(
            "update user_codes set code_hash = '{}' where user_id = '{}'",
            sha256_hex(&format!("{}:{code}", bob.user_id)),
            bob.user_id
        ),
    )
    .await;
    execute(&app, "delete from data_upgrades").await;
    assert!(app.signed_in(&app.browser).await);
    assert_eq!(
        app.refresh(&app.public, &refresh).await.status(),
        StatusCode::BAD_REQUEST,
        "a plain digest is not looked up"
    );

    // Act: the new version starts on it.
    app.restart().await;

    // Assert: the token and the code work; sessions ended (their rows were keyed by
    // the cookie's value).
    let res = app.refresh(&app.public, &refresh).await;
    assert_eq!(res.status(), StatusCode::OK);
    let rotated: serde_json::Value = res.json().await.unwrap();
    let sessions = column(&app, &format!("select id from {}", session_table(&app))).await;
    assert!(!app.signed_in(&app.browser).await);
    assert!(sessions.is_empty(), "{sessions:?}");
    let b = browser();
    let reset = get(&b, &app.page("confirmForgotPassword", &Pkce::new(), &[])).await;
    let res = submit(
        &b,
        &reset,
        &[
            ("username", "bob"),
            ("code", &code),
            ("password", NEW_PASSWORD),
            ("confirm_password", NEW_PASSWORD),
        ],
    )
    .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    // A second start converts nothing again.
    app.restart().await;
    let next = rotated["refresh_token"].as_str().unwrap_or(&refresh);
    assert_eq!(
        app.refresh(&app.public, next).await.status(),
        StatusCode::OK
    );
}

/// The permission bits others have on `path`.
#[cfg(unix)]
fn others_bits(path: &std::path::Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .permissions()
        .mode()
        & 0o077
}

// Matrix: PS-09
#[cfg(unix)]
#[tokio::test]
async fn the_sqlite_database_its_journal_files_and_key_file_are_owner_only() {
    // Arrange: a fresh path, no key given (one is generated beside the database).
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("cognate.db");
    let args = cognate::config::StoreArgs {
        database_url: format!("sqlite://{}", db.display()),
        master_key: None,
        master_key_file: None,
    };
    // Act: open it as the server does, and write through it.
    let app = cognate::server::open(
        &args,
        cognate::config::Config::new("http://127.0.0.1:1", None).unwrap(),
    )
    .await
    .unwrap();
    cognate::pool::create(&app, "files", "us-east-1")
        .await
        .unwrap();
    // Assert
    for suffix in ["", "-wal", "-shm", ".master-key"] {
        let path = std::path::PathBuf::from(format!("{}{suffix}", db.display()));
        assert_eq!(
            others_bits(&path),
            0,
            "{} is readable by others",
            path.display()
        );
    }
}

// Matrix: PS-09
#[cfg(unix)]
#[tokio::test]
async fn a_database_file_left_readable_by_others_is_made_owner_only() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("cognate.db");
    let url = format!("sqlite://{}", db.display());
    drop(cognate::store::Store::connect(&url).await.unwrap());
    std::fs::set_permissions(&db, std::fs::Permissions::from_mode(0o644)).unwrap();
    let store = cognate::store::Store::connect(&url).await.unwrap();
    store.migrate().await.unwrap();
    for suffix in ["", "-wal", "-shm"] {
        let path = std::path::PathBuf::from(format!("{}{suffix}", db.display()));
        assert_eq!(
            others_bits(&path),
            0,
            "{} is readable by others",
            path.display()
        );
    }
}

// Matrix: PS-09
#[test]
fn serve_help_does_not_print_the_database_password() {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_cognate"))
        .args(["serve", "--help"])
        .env("DATABASE_URL", "postgres://u:s3cret@db.example/cognate")
        .output()
        .unwrap();
    assert!(out.status.success());
    let help = String::from_utf8_lossy(&out.stdout);
    assert!(help.contains("DATABASE_URL"), "{help}");
    assert!(!help.contains("s3cret"), "{help}");
}
