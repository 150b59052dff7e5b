//! What a stolen database gives away (security matrix SE-01…SE-03): every table is read
//! back after a realistic setup and searched for passwords, secrets, keys and tokens.

use cognate::users::UserStatus;
use reqwest::StatusCode;
use sqlx::{Connection, Row};

use crate::account::{code_in, get, submit};
use crate::helpers::{PASSWORD, Pkce, TestApp, assert_oauth_error, browser, location, query_param};

/// Every value of every table, as text (blobs lossily), with its table's name.
async fn dump(app: &TestApp) -> Vec<(String, String)> {
    let url = &app.backend.database_url;
    let mut out = Vec::new();
    if url.starts_with("postgres") {
        let mut c = sqlx::PgConnection::connect(url).await.unwrap();
        let tables: Vec<(String, String)> = sqlx::query_as(
            "select table_schema, table_name from information_schema.tables \
             where table_schema not in ('pg_catalog', 'information_schema') and table_type = 'BASE TABLE'",
        )
        .fetch_all(&mut c)
        .await
        .unwrap();
        for (schema, table) in tables {
            let sql = format!("select row_to_json(t)::text from \"{schema}\".\"{table}\" t");
            for row in sqlx::query_scalar::<_, String>(&sql)
                .fetch_all(&mut c)
                .await
                .unwrap()
            {
                out.push((table.clone(), row));
            }
        }
    } else {
        let mut c = sqlx::SqliteConnection::connect(url).await.unwrap();
        let tables: Vec<String> =
            sqlx::query_scalar("select name from sqlite_master where type = 'table'")
                .fetch_all(&mut c)
                .await
                .unwrap();
        for table in tables {
            let rows = sqlx::query(&format!("select * from \"{table}\""))
                .fetch_all(&mut c)
                .await
                .unwrap();
            for row in rows {
                let mut text = String::new();
                for i in 0..row.columns().len() {
                    let value = row
                        .try_get::<String, _>(i)
                        .or_else(|_| {
                            row.try_get::<Vec<u8>, _>(i)
                                .map(|b| String::from_utf8_lossy(&b).into_owned())
                        })
                        .or_else(|_| row.try_get::<i64, _>(i).map(|n| n.to_string()))
                        .unwrap_or_default();
                    text.push_str(&value);
                    text.push('|');
                }
                out.push((table.clone(), text));
            }
        }
    }
    out
}

fn found<'a>(dump: &'a [(String, String)], needle: &str) -> Vec<&'a str> {
    dump.iter()
        .filter(|(_, row)| row.contains(needle))
        .map(|(table, _)| table.as_str())
        .collect()
}

async fn scalar(app: &TestApp, sql: &str) -> Vec<String> {
    let url = &app.backend.database_url;
    if url.starts_with("postgres") {
        let mut c = sqlx::PgConnection::connect(url).await.unwrap();
        sqlx::query_scalar(sql).fetch_all(&mut c).await.unwrap()
    } else {
        let mut c = sqlx::SqliteConnection::connect(url).await.unwrap();
        sqlx::query_scalar(sql).fetch_all(&mut c).await.unwrap()
    }
}

// Matrix: SE-01, SE-02, SE-03
#[tokio::test]
async fn a_dumped_database_holds_no_password_secret_key_or_redeemable_token() {
    // Arrange: two users with one password, tokens, an unredeemed code, a reset code.
    let app = TestApp::spawn().await;
    app.create_user("bob", UserStatus::Confirmed).await;
    let tokens = app.tokens().await;
    let refresh = tokens["refresh_token"].as_str().unwrap().to_string();
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
    let b = browser();
    let page = get(&b, &app.page("forgotPassword", &Pkce::new(), &[])).await;
    let res = submit(&b, &page, &[("username", "bob")]).await;
    get(&b, &location(&res)).await;
    let reset_code = code_in(&app.last_mail("bob@example.com").await.body_text);
    let session = b
        .get(app.page("login", &Pkce::new(), &[]))
        .send()
        .await
        .unwrap();
    assert_eq!(session.status(), StatusCode::OK);

    let dump = dump(&app).await;
    assert!(dump.len() > 10, "the dump read the tables");

    // SE-01: argon2id PHC strings, salted per user.
    let hashes = scalar(
        &app,
        "select password_hash from users where username in ('alice', 'bob')",
    )
    .await;
    assert_eq!(hashes.len(), 2);
    for h in &hashes {
        assert!(h.starts_with("$argon2id$v=19$"), "{h}");
    }
    assert_ne!(hashes[0], hashes[1], "same password, different salts");
    assert!(
        found(&dump, PASSWORD).is_empty(),
        "{:?}",
        found(&dump, PASSWORD)
    );

    // SE-02: no client secret, no private key in the clear.
    assert!(
        found(&dump, &app.secret).is_empty(),
        "{:?}",
        found(&dump, &app.secret)
    );
    for marker in ["PRIVATE KEY", "-----BEGIN", "\"d\":"] {
        assert!(
            found(&dump, marker).is_empty(),
            "{marker}: {:?}",
            found(&dump, marker)
        );
    }

    // SE-03: codes and tokens only as digests. (The development outbox keeps whole
    // messages, codes included: it stands in for the user's mailbox; with SMTP it is
    // not written.)
    for (what, secret) in [
        ("code", &code),
        ("refresh token", &refresh),
        ("reset code", &reset_code),
    ] {
        let tables: Vec<&str> = found(&dump, secret)
            .into_iter()
            .filter(|t| *t != "outbox")
            .collect();
        assert!(tables.is_empty(), "{what} stored in {tables:?}");
    }
    // A stored digest is not a credential.
    let code_hashes = scalar(&app, "select code_hash from auth_codes").await;
    assert!(!code_hashes.is_empty());
    for code_hash in &code_hashes {
        let form = [
            ("grant_type", "authorization_code"),
            ("code", code_hash.as_str()),
            ("redirect_uri", crate::helpers::CALLBACK),
        ];
        assert_oauth_error(
            app.token_request(&app.confidential, &form).await,
            StatusCode::BAD_REQUEST,
            "invalid_grant",
        )
        .await;
    }
    for token_hash in scalar(&app, "select token_hash from refresh_tokens").await {
        assert_oauth_error(
            app.refresh(&app.public, &token_hash).await,
            StatusCode::BAD_REQUEST,
            "invalid_grant",
        )
        .await;
    }
    // The real code and token still work: the refusals above were about the digests.
    assert_eq!(
        app.exchange(&app.confidential, &code, None).await.status(),
        StatusCode::OK
    );
    assert_eq!(
        app.refresh(&app.public, &refresh).await.status(),
        StatusCode::OK
    );
}
