//! The administrator's user rules (`cognate::users::admin`, behind Cognito's `Admin*`
//! actions) where a browser or the database matters: revoking sign-ins, and listing
//! filters that must match alike on SQLite and PostgreSQL.

use std::collections::BTreeMap;

use cognate::users::UserStatus;
use cognate::users::admin::{self, Match, UserFilter};
use reqwest::StatusCode;

use crate::helpers::{PASSWORD, Pkce, TestApp, assert_oauth_error, browser, query_param};

/// Signs alice in from a browser of its own (a new sign-in, not the session's), and
/// returns the token response.
async fn sign_in(app: &TestApp) -> serde_json::Value {
    let pkce = Pkce::new();
    let url = app.authorize_url(&app.public, Some(&pkce), &[]);
    let callback = app.sign_in(&browser(), &url, "alice", PASSWORD).await;
    let code = query_param(&callback, "code").unwrap();
    let res = app.exchange(&app.public, &code, Some(&pkce.verifier)).await;
    assert_eq!(res.status(), StatusCode::OK);
    res.json().await.unwrap()
}

async fn refresh_works(app: &TestApp, refresh_token: &str) -> bool {
    app.refresh(&app.public, refresh_token).await.status() == StatusCode::OK
}

// Matrix: TK-10
#[tokio::test]
async fn disabling_a_user_revokes_its_sign_ins_and_enabling_does_not_restore_them() {
    // Arrange
    let app = TestApp::spawn().await;
    let pool = admin::pool(&app.state, &app.pool_id).await.unwrap();
    let tokens = sign_in(&app).await;
    let refresh = tokens["refresh_token"].as_str().unwrap();
    // Act
    admin::set_enabled(&app.state, &pool, "alice", false)
        .await
        .unwrap();
    admin::set_enabled(&app.state, &pool, "alice", true)
        .await
        .unwrap();
    // Assert
    assert_oauth_error(
        app.refresh(&app.public, refresh).await,
        StatusCode::BAD_REQUEST,
        "invalid_grant",
    )
    .await;
    let fresh = sign_in(&app).await;
    assert!(refresh_works(&app, fresh["refresh_token"].as_str().unwrap()).await);
}

// Matrix: TK-10
#[tokio::test]
async fn a_global_sign_out_revokes_every_sign_in_of_the_user() {
    // Arrange
    let app = TestApp::spawn().await;
    let pool = admin::pool(&app.state, &app.pool_id).await.unwrap();
    let first = sign_in(&app).await;
    let second = sign_in(&app).await;
    // Act
    admin::global_sign_out(&app.state, &pool, "ALICE")
        .await
        .unwrap();
    // Assert
    for tokens in [first, second] {
        assert!(!refresh_works(&app, tokens["refresh_token"].as_str().unwrap()).await);
    }
}

/// Users whose `name`s test case folding and `like` escaping.
const NAMES: &[(&str, &str)] = &[
    ("u-ascii", "Anna Smith"),
    ("u-lower", "anna smith"),
    ("u-percent", "100% Anna"),
    ("u-underscore", "a_b"),
    ("u-plain", "axb"),
    ("u-backslash", r"a\b"),
    ("u-accent-upper", "Émile"),
    ("u-accent-lower", "émile"),
    ("u-quote", r#"say "hi""#),
];

async fn seeded() -> (TestApp, cognate::pool::Pool) {
    let app = TestApp::spawn().await;
    for (username, name) in NAMES {
        let attributes = BTreeMap::from([("name".to_string(), name.to_string())]);
        cognate::users::create(
            &app.state,
            &app.pool_id,
            username,
            None,
            UserStatus::Confirmed,
            attributes,
        )
        .await
        .unwrap();
    }
    let pool = admin::pool(&app.state, &app.pool_id).await.unwrap();
    (app, pool)
}

async fn matching(app: &TestApp, pool: &cognate::pool::Pool, filter: UserFilter) -> Vec<String> {
    let page = admin::list_users(&app.state, pool, Some(&filter), None, 60)
        .await
        .unwrap();
    assert!(page.next.is_none());
    page.items.into_iter().map(|u| u.username).collect()
}

fn name(m: Match) -> UserFilter {
    UserFilter::Attribute("name", m)
}

#[tokio::test]
async fn filters_fold_ascii_case_only_and_treat_wildcards_literally_on_every_backend() {
    let (app, pool) = seeded().await;
    let exact = |v: &str| name(Match::Exact(v.into()));
    let prefix = |v: &str| name(Match::Prefix(v.into()));
    for (filter, expected) in [
        (exact("ANNA SMITH"), vec!["u-ascii", "u-lower"]),
        (prefix("anna"), vec!["u-ascii", "u-lower"]),
        (prefix("100%"), vec!["u-percent"]),
        (prefix("a_"), vec!["u-underscore"]),
        (prefix("a%"), vec![]),
        (prefix(r"a\"), vec!["u-backslash"]),
        (exact(r"A\B"), vec!["u-backslash"]),
        (prefix(r#"say "H"#), vec!["u-quote"]),
        // Only ASCII letters fold: the one folding SQLite and PostgreSQL share.
        (exact("Émile"), vec!["u-accent-upper"]),
        (exact("émile"), vec!["u-accent-lower"]),
        (prefix("É"), vec!["u-accent-upper"]),
        // alice of the test pool is named too.
        (
            prefix(""),
            NAMES.iter().map(|(u, _)| *u).chain(["alice"]).collect(),
        ),
    ] {
        let mut expected: Vec<String> = expected.into_iter().map(String::from).collect();
        expected.sort();
        assert_eq!(
            matching(&app, &pool, filter.clone()).await,
            expected,
            "{filter:?}"
        );
    }
    assert_eq!(
        matching(
            &app,
            &pool,
            UserFilter::Username(Match::Prefix("U-ACC".into()))
        )
        .await,
        ["u-accent-lower", "u-accent-upper"]
    );
    assert_eq!(
        matching(
            &app,
            &pool,
            UserFilter::Username(Match::Prefix("u_".into()))
        )
        .await,
        Vec::<String>::new()
    );
    assert_eq!(
        matching(
            &app,
            &pool,
            UserFilter::Status(Match::Prefix("conf".into()))
        )
        .await
        .len(),
        NAMES.len() + 1,
        "alice is confirmed too"
    );
}

#[tokio::test]
async fn a_page_continues_after_its_key_while_users_come_and_go() {
    // Arrange
    let (app, pool) = seeded().await;
    let first = admin::list_users(&app.state, &pool, None, None, 4)
        .await
        .unwrap();
    let names: Vec<&str> = first.items.iter().map(|u| u.username.as_str()).collect();
    assert_eq!(
        names,
        ["alice", "u-accent-lower", "u-accent-upper", "u-ascii"]
    );
    let key = first.next.expect("more users follow");
    // Act: one user appears before the key, one after; one after it goes.
    for username in ["a-early", "u-zz-late"] {
        cognate::users::create(
            &app.state,
            &app.pool_id,
            username,
            None,
            UserStatus::Confirmed,
            BTreeMap::new(),
        )
        .await
        .unwrap();
    }
    let gone = app
        .state
        .store
        .user_by_name(&app.pool_id, "u-lower")
        .await
        .unwrap()
        .unwrap();
    app.state.store.delete_user(&gone.user_id).await.unwrap();
    let rest = admin::list_users(&app.state, &pool, None, Some(&key), 60)
        .await
        .unwrap();
    // Assert
    let names: Vec<&str> = rest.items.iter().map(|u| u.username.as_str()).collect();
    assert_eq!(
        names,
        [
            "u-backslash",
            "u-percent",
            "u-plain",
            "u-quote",
            "u-underscore",
            "u-zz-late"
        ]
    );
    assert!(rest.next.is_none());
}
