//! The admin CLI, run as a separate process on the same database as a live server.

use serde_json::Value;

use reqwest::StatusCode;

use crate::helpers::{PASSWORD, TestApp, assert_oauth_error, jwt_claims};

/// Runs the CLI with `COGNATE_USER_PASSWORD` set, as most tests want.
fn cognate(app: &TestApp, args: &[&str]) -> Result<Value, String> {
    run(app, args, Some(PASSWORD))
}

/// Runs the CLI without `COGNATE_USER_PASSWORD`: only what the arguments say.
fn cognate_bare(app: &TestApp, args: &[&str]) -> Result<Value, String> {
    run(app, args, None)
}

/// The CLI's JSON output, or its error message.
fn run(app: &TestApp, args: &[&str], password: Option<&str>) -> Result<Value, String> {
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_cognate"));
    command
        .args(args)
        .env("DATABASE_URL", &app.backend.database_url)
        .env("COGNATE_MASTER_KEY", &app.backend.master_key)
        .env_remove("COGNATE_USER_PASSWORD");
    if let Some(password) = password {
        command.env("COGNATE_USER_PASSWORD", password);
    }
    let out = command.output().unwrap();
    if out.status.success() {
        Ok(serde_json::from_slice(&out.stdout).expect("JSON output"))
    } else {
        Err(String::from_utf8_lossy(&out.stderr).into_owned())
    }
}

#[tokio::test]
async fn the_cli_provisions_a_pool_that_the_running_server_serves() {
    // Arrange: a running server, and the CLI beside it.
    let app = TestApp::spawn().await;
    // Act
    let pool = cognate(&app, &["pool", "create", "--name", "cli pool"]).unwrap();
    let pool_id = pool["pool_id"].as_str().unwrap();
    let client = cognate(
        &app,
        &[
            "client",
            "create",
            "--pool",
            pool_id,
            "--name",
            "web",
            "--secret",
            "--callback-url",
            "https://app.example.com/cb",
        ],
    )
    .unwrap();
    let secret = client["client_secret"].as_str().unwrap();
    cognate(
        &app,
        &[
            "user",
            "create",
            "--pool",
            pool_id,
            "--username",
            "bob",
            "--attribute",
            "email=bob@example.com",
        ],
    )
    .unwrap();
    cognate(
        &app,
        &[
            "group",
            "create",
            "--pool",
            pool_id,
            "--name",
            "ops",
            "--precedence",
            "3",
        ],
    )
    .unwrap();
    cognate(
        &app,
        &[
            "group",
            "add-user",
            "--pool",
            pool_id,
            "--group",
            "ops",
            "--username",
            "bob",
        ],
    )
    .unwrap();

    // Assert: lists show it, and the server serves the new pool.
    let pools = cognate(&app, &["pool", "list"]).unwrap();
    assert!(
        pools
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p["pool_id"] == pool_id)
    );
    let users = cognate(&app, &["user", "list", "--pool", pool_id]).unwrap();
    assert_eq!(users[0]["username"], "bob");
    assert_eq!(users[0]["attributes"]["email"], "bob@example.com");
    assert!(users[0].get("password_hash").is_none(), "no hash in output");
    let clients = cognate(&app, &["client", "list", "--pool", pool_id]).unwrap();
    assert!(
        clients[0].get("client_secret").is_none(),
        "the secret is shown once only"
    );
    assert_eq!(
        cognate(&app, &["group", "list", "--pool", pool_id]).unwrap()[0]["group_name"],
        "ops"
    );
    assert_eq!(secret.len(), 52);
    let discovery = app
        .http
        .get(format!(
            "{}/{pool_id}/.well-known/openid-configuration",
            app.base()
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(discovery.status(), 200);
}

#[tokio::test]
async fn the_cli_refuses_bad_input_with_a_clear_message() {
    let app = TestApp::spawn().await;
    let pool = app.pool_id.as_str();
    let err = cognate(
        &app,
        &[
            "client",
            "create",
            "--pool",
            pool,
            "--name",
            "x",
            "--callback-url",
            "http://evil.example.com/cb",
        ],
    )
    .unwrap_err();
    assert!(err.contains("http is allowed only for localhost"), "{err}");
    let email = "--attribute=email=alice@example.com";
    let err = cognate(
        &app,
        &[
            "user",
            "create",
            "--pool",
            pool,
            "--username",
            "alice",
            email,
        ],
    )
    .unwrap_err();
    assert!(err.contains("already exists"), "{err}");
    // The refused insert's connection went back to the pool rolled back (issue 21).
    assert!(!err.contains("inside a transaction"), "{err}");
    let weak = std::process::Command::new(env!("CARGO_BIN_EXE_cognate"))
        .args([
            "user",
            "create",
            "--pool",
            pool,
            "--username",
            "weak",
            "--password",
            "short",
            "--attribute",
            "email=weak@example.com",
        ])
        .env("DATABASE_URL", &app.backend.database_url)
        .env("COGNATE_MASTER_KEY", &app.backend.master_key)
        .output()
        .unwrap();
    assert!(!weak.status.success());
    assert!(String::from_utf8_lossy(&weak.stderr).contains("Password must contain"));
    let err = cognate(
        &app,
        &[
            "group",
            "add-user",
            "--pool",
            pool,
            "--group",
            "nosuch",
            "--username",
            "alice",
        ],
    )
    .unwrap_err();
    assert!(err.contains("group not found"), "{err}");
}

#[tokio::test]
async fn global_sign_out_revokes_earlier_sign_ins_and_ends_sessions() {
    // Arrange: a sign-in with a refresh token and a hosted-UI session.
    let app = TestApp::spawn().await;
    let tokens = app.tokens().await;
    let refresh = tokens["refresh_token"].as_str().unwrap();
    assert!(app.signed_in(&app.browser).await);

    // Act: a cut-off before the sign-in (an RFC 3339 time in 2001) revokes nothing...
    let none = cognate(
        &app,
        &[
            "pool",
            "global-sign-out",
            "--pool",
            &app.pool_id,
            "--issued-before",
            "2001-09-09T01:46:40Z",
        ],
    )
    .unwrap();
    assert_eq!(none["revoked_sign_ins"], 0);
    assert_eq!(none["issued_before"], 1_000_000_000);
    assert_eq!(
        app.refresh(&app.public, refresh).await.status(),
        StatusCode::OK
    );

    // ... the default cut-off, now, revokes it.
    let all = cognate(&app, &["pool", "global-sign-out", "--pool", &app.pool_id]).unwrap();

    // Assert: two sign-ins, the redeemed one and the code `signed_in` got.
    assert_eq!(all["revoked_sign_ins"], 2);
    assert_oauth_error(
        app.refresh(&app.public, refresh).await,
        StatusCode::BAD_REQUEST,
        "invalid_grant",
    )
    .await;
    assert!(
        !app.signed_in(&app.browser).await,
        "the hosted session survived"
    );
    // signing in again works
    let again = app.tokens().await;
    let refresh = again["refresh_token"].as_str().unwrap();
    assert_eq!(
        app.refresh(&app.public, refresh).await.status(),
        StatusCode::OK
    );

    // A cut-off in the very second its tokens were issued (times are whole seconds)
    // revokes that sign-in: a revocation errs on the side of revoking.
    let this_second = jwt_claims(again["access_token"].as_str().unwrap())["iat"]
        .as_i64()
        .unwrap()
        .to_string();
    let same = cognate(
        &app,
        &[
            "pool",
            "global-sign-out",
            "--pool",
            &app.pool_id,
            "--issued-before",
            &this_second,
        ],
    )
    .unwrap();
    assert_eq!(same["revoked_sign_ins"], 1);
    assert_oauth_error(
        app.refresh(&app.public, refresh).await,
        StatusCode::BAD_REQUEST,
        "invalid_grant",
    )
    .await;
}

#[tokio::test]
async fn global_sign_out_needs_a_known_pool_and_a_readable_time() {
    let app = TestApp::spawn().await;
    let err = cognate(
        &app,
        &["pool", "global-sign-out", "--pool", "us-east-1_nosuch"],
    )
    .unwrap_err();
    assert!(err.contains("no user pool us-east-1_nosuch"), "{err}");
    let err = cognate(
        &app,
        &[
            "pool",
            "global-sign-out",
            "--all-pools",
            "--issued-before",
            "yesterday",
        ],
    )
    .unwrap_err();
    assert!(err.contains("neither Unix seconds nor RFC 3339"), "{err}");
    let err = cognate(&app, &["pool", "global-sign-out"]).unwrap_err();
    assert!(err.contains("--pool"), "{err}");
}

#[tokio::test]
async fn user_create_refuses_a_user_who_could_never_sign_in() {
    // Arrange: the test pool requires an email address.
    let app = TestApp::spawn().await;
    let pool = app.pool_id.as_str();
    let create = |extra: &[&str]| {
        let mut args = vec!["user", "create", "--pool", pool, "--username", "carol"];
        args.extend_from_slice(extra);
        cognate_bare(&app, &args)
    };
    // Act + Assert: no password at all.
    let err = create(&["--attribute", "email=carol@example.com"]).unwrap_err();
    assert!(err.contains("--temporary-password"), "{err}");
    // A required attribute missing, with a password or a generated one.
    let err = create(&["--password", PASSWORD]).unwrap_err();
    assert!(err.contains("attribute email is required"), "{err}");
    let err = create(&["--temporary-password"]).unwrap_err();
    assert!(err.contains("attribute email is required"), "{err}");
    assert!(
        app.state
            .store
            .user_by_name(pool, "carol")
            .await
            .unwrap()
            .is_none()
    );
}

#[tokio::test]
async fn a_generated_temporary_password_is_printed_once_and_must_be_replaced() {
    // Arrange: a client that allows USER_PASSWORD_AUTH, set through the CLI's flag.
    let app = TestApp::spawn().await;
    let pool = app.pool_id.as_str();
    let client = cognate_bare(
        &app,
        &[
            "client",
            "create",
            "--pool",
            pool,
            "--name",
            "api",
            "--explicit-auth-flow",
            "ALLOW_USER_PASSWORD_AUTH",
            "--explicit-auth-flow",
            "ALLOW_REFRESH_TOKEN_AUTH",
            "--auth-session-validity",
            "5",
        ],
    )
    .unwrap();
    assert_eq!(
        client["explicit_auth_flows"],
        serde_json::json!(["ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"]),
        "{client}"
    );
    let client_id = client["client_id"].as_str().unwrap();
    // Act
    let user = cognate_bare(
        &app,
        &[
            "user",
            "create",
            "--pool",
            pool,
            "--username",
            "dave",
            "--attribute",
            "email=dave@example.com",
            "--temporary-password",
        ],
    )
    .unwrap();
    // Assert: the printed password signs in, to the new-password challenge.
    assert_eq!(user["status"], "FORCE_CHANGE_PASSWORD", "{user}");
    let temporary = user["temporary_password"].as_str().unwrap();
    let (status, body) = app
        .api_call(
            "InitiateAuth",
            &serde_json::json!({
                "ClientId": client_id,
                "AuthFlow": "USER_PASSWORD_AUTH",
                "AuthParameters": {"USERNAME": "dave", "PASSWORD": temporary},
            }),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["ChallengeName"], "NEW_PASSWORD_REQUIRED", "{body}");
}
