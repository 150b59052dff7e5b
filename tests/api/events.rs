//! Auth events (issue 20): each action that records one, done through its surface
//! (hosted pages, `/oauth2/*`, the Cognito API), leaves exactly one event with the
//! pool, client, user, address, user agent, outcome and request id; retention prunes
//! by count and by age.

use cognate::events::{Actor, Event, Kind};
use cognate::store::{AuthEventFilter, AuthEventRow};
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{CALLBACK, PASSWORD, Pkce, TestApp};

/// The action of the marker event [`TestApp::events_since`] flushes with.
const MARKER: &str = "test marker";

impl TestApp {
    /// The id of the newest event written so far (after everything queued).
    pub(crate) async fn last_event_id(&self) -> i64 {
        self.flushed().await.last().map_or(0, |e| e.id)
    }

    /// Every event written, oldest first, once everything queued before this call is
    /// in the table: the writer keeps the queue's order, so when a marker queued now
    /// is written, so is everything before it.
    pub(crate) async fn flushed(&self) -> Vec<AuthEventRow> {
        let mark = uuid::Uuid::new_v4().to_string();
        self.state
            .record(Event::admin(Actor::Cli, MARKER, None, Some(&mark)));
        for _ in 0..200 {
            let rows = self.all_events().await;
            if rows
                .iter()
                .any(|e| e.target.as_deref() == Some(mark.as_str()))
            {
                return rows;
            }
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        panic!("the event writer did not write the marker");
    }

    async fn all_events(&self) -> Vec<AuthEventRow> {
        self.state
            .store
            .auth_events(&AuthEventFilter {
                oldest_first: true,
                limit: 10_000,
                ..Default::default()
            })
            .await
            .unwrap()
    }

    /// The events recorded after event `after`, markers left out.
    pub(crate) async fn events_since(&self, after: i64) -> Vec<AuthEventRow> {
        self.flushed()
            .await
            .into_iter()
            .filter(|e| e.id > after && e.action.as_deref() != Some(MARKER))
            .collect()
    }

    /// The one event `act` recorded.
    async fn one_event(&self, after: i64) -> AuthEventRow {
        let events = self.events_since(after).await;
        assert_eq!(events.len(), 1, "exactly one event: {events:#?}");
        events.into_iter().next().unwrap()
    }
}

fn kind(e: &AuthEventRow) -> &str {
    &e.kind
}

#[tokio::test]
async fn a_hosted_sign_in_records_its_failure_and_success_with_the_request_context() {
    // Arrange
    let app = TestApp::spawn().await;
    let alice = app
        .state
        .store
        .user_by_name(&app.pool_id, "alice")
        .await
        .unwrap()
        .unwrap();
    let before = app.last_event_id().await;

    // Act: a wrong password, with a request id of the client's own.
    let res = app
        .post_login(
            &app.browser,
            &app.authorize_url(&app.public, Some(&Pkce::new()), &[]),
            "alice",
            "Wrong-password-1",
        )
        .await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    let failure = app.one_event(before).await;

    // Assert
    assert_eq!(kind(&failure), "sign_in");
    assert_eq!(failure.outcome, "fail");
    assert_eq!(failure.reason.as_deref(), Some("bad_credentials"));
    assert_eq!(failure.pool_id.as_deref(), Some(app.pool_id.as_str()));
    assert_eq!(
        failure.client_id.as_deref(),
        Some(app.public.client_id.as_str())
    );
    assert_eq!(failure.username.as_deref(), Some("alice"));
    assert_eq!(failure.source_ip.as_deref(), Some("127.0.0.1"));
    assert!(
        failure
            .request_id
            .as_deref()
            .is_some_and(|id| id.len() >= 32)
    );
    let echoed = res.headers()["x-request-id"].to_str().unwrap();
    assert_eq!(failure.request_id.as_deref(), Some(echoed));

    // Act: the right password.
    let before = app.last_event_id().await;
    let callback = app
        .sign_in(
            &app.browser,
            &app.authorize_url(&app.public, Some(&Pkce::new()), &[]),
            "alice",
            PASSWORD,
        )
        .await;
    assert!(callback.starts_with(CALLBACK));
    let success = app.one_event(before).await;
    assert_eq!(kind(&success), "sign_in");
    assert_eq!(success.outcome, "pass");
    assert_eq!(success.reason, None);
    assert_eq!(success.user_sub.as_deref(), Some(alice.user_id.as_str()));
    assert_eq!(success.username.as_deref(), Some("alice"));
}

#[tokio::test]
async fn a_client_request_id_is_kept_echoed_and_recorded_and_an_odd_one_replaced() {
    // Arrange
    let app = TestApp::spawn().await;
    let token_url = app.url("/oauth2/token");
    let form = [
        ("grant_type", "client_credentials"),
        ("client_id", app.public.client_id.as_str()),
    ];
    // Act
    let kept = app
        .http
        .post(&token_url)
        .header("x-request-id", "trace-abc-123")
        .form(&form)
        .send()
        .await
        .unwrap();
    let odd = app
        .http
        .post(&token_url)
        .header("x-request-id", "a b\"c<script>")
        .form(&form)
        .send()
        .await
        .unwrap();
    // Assert
    assert_eq!(kept.headers()["x-request-id"], "trace-abc-123");
    let replaced = odd.headers()["x-request-id"].to_str().unwrap();
    assert_ne!(replaced, "a b\"c<script>");
    assert!(uuid::Uuid::parse_str(replaced).is_ok(), "{replaced}");
}

#[tokio::test]
async fn token_grants_reuse_and_revocation_each_record_one_event() {
    // Arrange
    let app = TestApp::spawn().await;
    let pkce = Pkce::new();
    let code = app.login_and_authorize(&app.public, Some(&pkce)).await;

    // Act / Assert: the code's tokens.
    let before = app.last_event_id().await;
    let res = app.exchange(&app.public, &code, Some(&pkce.verifier)).await;
    assert_eq!(res.status(), StatusCode::OK);
    let tokens: Value = res.json().await.unwrap();
    let issued = app.one_event(before).await;
    assert_eq!(kind(&issued), "token_issued");
    assert_eq!(issued.grant_type.as_deref(), Some("authorization_code"));
    assert_eq!(issued.username.as_deref(), Some("alice"));
    assert_eq!(
        issued.client_id.as_deref(),
        Some(app.public.client_id.as_str())
    );

    // A refresh.
    let original = tokens["refresh_token"].as_str().unwrap();
    let before = app.last_event_id().await;
    let res = app.refresh(&app.public, original).await;
    assert_eq!(res.status(), StatusCode::OK);
    let refreshed = app.one_event(before).await;
    assert_eq!(kind(&refreshed), "token_issued");
    assert_eq!(refreshed.grant_type.as_deref(), Some("refresh_token"));

    // The rotated-out token again: reuse.
    let before = app.last_event_id().await;
    let reuse = app.refresh(&app.public, original).await;
    assert_eq!(reuse.status(), StatusCode::BAD_REQUEST);
    let reused = app.one_event(before).await;
    assert_eq!(kind(&reused), "refresh_reuse");
    assert_eq!(reused.outcome, "fail");
    assert_eq!(reused.username.as_deref(), Some("alice"));

    // A revocation of a live sign-in (another browser's).
    let pkce = Pkce::new();
    let callback = app
        .sign_in(
            &crate::helpers::browser(),
            &app.authorize_url(&app.public, Some(&pkce), &[]),
            "alice",
            PASSWORD,
        )
        .await;
    let code = crate::helpers::query_param(&callback, "code").unwrap();
    let tokens: Value = app
        .exchange(&app.public, &code, Some(&pkce.verifier))
        .await
        .json()
        .await
        .unwrap();
    let before = app.last_event_id().await;
    let res = app
        .http
        .post(app.url("/oauth2/revoke"))
        .form(&[
            ("token", tokens["refresh_token"].as_str().unwrap()),
            ("client_id", app.public.client_id.as_str()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let revoked = app.one_event(before).await;
    assert_eq!(kind(&revoked), "revocation");
    assert!(revoked.user_sub.is_some());
}

#[tokio::test]
async fn an_unregistered_redirect_uri_records_a_refusal() {
    // Arrange
    let app = TestApp::spawn().await;
    let before = app.last_event_id().await;
    let url = app
        .authorize_url(&app.public, None, &[])
        .replace("localhost%3A3000", "evil.example");
    // Act
    let res = app.browser.get(&url).send().await.unwrap();
    // Assert
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    let refused = app.one_event(before).await;
    assert_eq!(kind(&refused), "refused_redirect");
    assert_eq!(refused.outcome, "fail");
}

#[tokio::test]
async fn a_state_whose_return_to_is_not_allowed_records_a_refusal() {
    // Arrange: a client relaying only to the app's origin.
    let app = TestApp::spawn().await;
    let mut settings = cognate::clients::ClientSettings::new("Relay App");
    settings.callback_urls = vec![CALLBACK.into()];
    settings.state_relay.allow_list = vec!["https://app.example.com".into()];
    let (client, _) = cognate::clients::create(
        &app.state,
        &app.pool_id,
        &settings,
        cognate::clients::NewSecret::None,
    )
    .await
    .unwrap();
    let before = app.last_event_id().await;
    let url = app.authorize_url(
        &client,
        Some(&Pkce::new()),
        &[("state", "nonce123_https://evil.example/")],
    );
    // Act
    let res = app.browser.get(&url).send().await.unwrap();
    // Assert: refused on a page, one event naming the client and no state.
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    let refused = app.one_event(before).await;
    assert_eq!(kind(&refused), "refused_state");
    assert_eq!(refused.outcome, "fail");
    assert_eq!(
        refused.client_id.as_deref(),
        Some(client.client_id.as_str())
    );
    assert!(!format!("{refused:?}").contains("evil.example"));
}

#[tokio::test]
async fn account_actions_through_the_api_each_record_one_event() {
    // Arrange
    let app = TestApp::spawn().await;
    let client_id = app.public.client_id.clone();
    app.allow_api_flows(&["ALLOW_USER_PASSWORD_AUTH"]).await;
    let call = |action: &'static str, body: Value| {
        let app = &app;
        async move {
            let (status, body) = app.api_call(action, &body).await;
            assert_eq!(status, StatusCode::OK, "{action}: {body}");
            body
        }
    };

    // Sign-up.
    let before = app.last_event_id().await;
    call(
        "SignUp",
        json!({"ClientId": client_id, "Username": "nina", "Password": PASSWORD,
               "UserAttributes": [{"Name": "email", "Value": "nina@example.com"}]}),
    )
    .await;
    let e = app.one_event(before).await;
    assert_eq!((kind(&e), e.username.as_deref()), ("sign_up", Some("nina")));
    assert!(e.user_sub.is_some());

    // Confirmation with the mailed code.
    let code = crate::account::code_in(&app.last_mail("nina@example.com").await.body_text);
    let before = app.last_event_id().await;
    call(
        "ConfirmSignUp",
        json!({"ClientId": client_id, "Username": "nina", "ConfirmationCode": code}),
    )
    .await;
    let e = app.one_event(before).await;
    assert_eq!((kind(&e), e.outcome.as_str()), ("confirm_sign_up", "pass"));

    // An API sign-in: the sign-in and its tokens.
    let before = app.last_event_id().await;
    let auth = call(
        "InitiateAuth",
        json!({"ClientId": client_id, "AuthFlow": "USER_PASSWORD_AUTH",
               "AuthParameters": {"USERNAME": "nina", "PASSWORD": PASSWORD}}),
    )
    .await;
    let events = app.events_since(before).await;
    let kinds: Vec<_> = events.iter().map(|e| e.kind.as_str()).collect();
    assert_eq!(kinds, ["sign_in", "token_issued"]);
    assert_eq!(events[1].grant_type.as_deref(), Some("api"));
    let access = auth["AuthenticationResult"]["AccessToken"]
        .as_str()
        .unwrap();

    // A password change.
    let before = app.last_event_id().await;
    call(
        "ChangePassword",
        json!({"AccessToken": access, "PreviousPassword": PASSWORD,
               "ProposedPassword": "Changed-horse-9"}),
    )
    .await;
    let e = app.one_event(before).await;
    assert_eq!((kind(&e), e.outcome.as_str()), ("password_change", "pass"));

    // A reset: asked for, then done with the code.
    let before = app.last_event_id().await;
    call(
        "ForgotPassword",
        json!({"ClientId": client_id, "Username": "nina"}),
    )
    .await;
    let e = app.one_event(before).await;
    assert_eq!(kind(&e), "forgot_password");
    let code = crate::account::code_in(&app.last_mail("nina@example.com").await.body_text);
    let before = app.last_event_id().await;
    call(
        "ConfirmForgotPassword",
        json!({"ClientId": client_id, "Username": "nina", "ConfirmationCode": code,
               "Password": "Reset-horse-9"}),
    )
    .await;
    let e = app.one_event(before).await;
    assert_eq!((kind(&e), e.outcome.as_str()), ("password_reset", "pass"));

    // A global sign-out.
    let auth = call(
        "InitiateAuth",
        json!({"ClientId": client_id, "AuthFlow": "USER_PASSWORD_AUTH",
               "AuthParameters": {"USERNAME": "nina", "PASSWORD": "Reset-horse-9"}}),
    )
    .await;
    let access = auth["AuthenticationResult"]["AccessToken"]
        .as_str()
        .unwrap();
    let before = app.last_event_id().await;
    call("GlobalSignOut", json!({"AccessToken": access})).await;
    let e = app.one_event(before).await;
    assert_eq!(
        (kind(&e), e.username.as_deref()),
        ("global_sign_out", Some("nina"))
    );
}

#[tokio::test]
async fn retention_prunes_the_oldest_events_by_count_and_by_age() {
    // Arrange: five events, the first two a day old.
    let app = TestApp::spawn().await;
    let now = app.state.clock.now();
    let start = app.last_event_id().await;
    for at in [now - 86_400, now - 86_400, now, now, now] {
        app.state
            .events
            .record(Event::new(Kind::SignIn, &app.pool_id), at);
    }
    let ours = |rows: Vec<AuthEventRow>| -> Vec<i64> {
        rows.into_iter()
            .filter(|e| e.id > start && e.action.as_deref() != Some(MARKER))
            .map(|e| e.at)
            .collect()
    };
    assert_eq!(ours(app.flushed().await).len(), 5);
    // Act: keep an hour.
    let retention = cognate::events::Retention {
        max_count: 1_000,
        max_age_seconds: 3_600,
    };
    cognate::events::sink::prune(&app.state.store, retention, now)
        .await
        .unwrap();
    // Assert: the day-old ones are gone.
    assert_eq!(ours(app.all_events().await), [now, now, now]);
    // Act: keep two.
    let retention = cognate::events::Retention {
        max_count: 2,
        ..retention
    };
    cognate::events::sink::prune(&app.state.store, retention, now)
        .await
        .unwrap();
    // Assert: only the newest two are left, of every event.
    assert_eq!(app.all_events().await.len(), 2);
}

/// `cognate <args>` on the app's database: its standard output as JSON lines.
fn cli(app: &TestApp, args: &[&str]) -> Vec<Value> {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_cognate"))
        .args(args)
        .env("DATABASE_URL", &app.backend.database_url)
        .env("COGNATE_MASTER_KEY", &app.backend.master_key)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    match args[0] {
        "events" => text
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect(),
        _ => vec![serde_json::from_str(&text).unwrap()],
    }
}

#[tokio::test]
async fn the_cli_records_its_changes_and_reads_events_back_with_filters() {
    // Arrange: a failed sign-in, and a group made with the CLI.
    let app = TestApp::spawn().await;
    let _ = app
        .post_login(
            &app.browser,
            &app.authorize_url(&app.public, Some(&Pkce::new()), &[]),
            "alice",
            "Wrong-password-1",
        )
        .await;
    app.flushed().await;
    cli(
        &app,
        &[
            "group",
            "create",
            "--pool",
            &app.pool_id,
            "--name",
            "admins",
        ],
    );
    // Act
    let sign_ins = cli(
        &app,
        &[
            "events",
            "--pool",
            &app.pool_id,
            "--user",
            "ALICE",
            "--kind",
            "sign_in",
        ],
    );
    let changes = cli(
        &app,
        &["events", "--kind", "admin_change", "--pool", &app.pool_id],
    );
    // Assert: one failed sign-in (the name matched case-insensitively) and one change
    // by the CLI, as JSON lines.
    assert_eq!(sign_ins.len(), 1, "{sign_ins:?}");
    assert_eq!(sign_ins[0]["reason"], "bad_credentials");
    assert_eq!(changes.len(), 1, "{changes:?}");
    assert_eq!(changes[0]["actor"], "cli");
    assert_eq!(changes[0]["action"], "group create");
    assert_eq!(changes[0]["target"], "admins");
}

#[tokio::test]
async fn mfa_enrolment_and_a_wrong_second_factor_each_record_one_event() {
    // Arrange: an API sign-in's access token.
    let app = TestApp::spawn().await;
    let client_id = app.public.client_id.clone();
    app.allow_api_flows(&["ALLOW_USER_PASSWORD_AUTH"]).await;
    let sign_in = json!({"ClientId": client_id, "AuthFlow": "USER_PASSWORD_AUTH",
                         "AuthParameters": {"USERNAME": "alice", "PASSWORD": PASSWORD}});
    let (_, auth) = app.api_call("InitiateAuth", &sign_in).await;
    let access = auth["AuthenticationResult"]["AccessToken"].clone();
    let (status, associated) = app
        .api_call("AssociateSoftwareToken", &json!({"AccessToken": access}))
        .await;
    assert_eq!(status, StatusCode::OK, "{associated}");
    let secret = associated["SecretCode"].as_str().unwrap().to_string();

    // Act: the authenticator's first code.
    let before = app.last_event_id().await;
    let code = crate::hosted_mfa::totp(&secret, app.state.clock.now());
    let (status, body) = app
        .api_call(
            "VerifySoftwareToken",
            &json!({"AccessToken": access, "UserCode": code}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    // Assert
    let e = app.one_event(before).await;
    assert_eq!((kind(&e), e.outcome.as_str()), ("mfa_enrolment", "pass"));
    assert_eq!(e.username.as_deref(), Some("alice"));

    // Act: with the factor on, a sign-in is challenged and answered wrongly.
    crate::hosted_mfa::require_mfa(&app, true, false).await;
    let (status, body) = app
        .api_call(
            "SetUserMFAPreference",
            &json!({"AccessToken": access,
                    "SoftwareTokenMfaSettings": {"Enabled": true, "PreferredMfa": true}}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (_, challenge) = app.api_call("InitiateAuth", &sign_in).await;
    assert_eq!(
        challenge["ChallengeName"], "SOFTWARE_TOKEN_MFA",
        "{challenge}"
    );
    let near: Vec<String> = (-2..=2)
        .map(|s| crate::hosted_mfa::totp(&secret, app.state.clock.now() + s * 30))
        .collect();
    let wrong = (123_456..)
        .map(|n| n.to_string())
        .find(|c| !near.contains(c))
        .unwrap();
    let before = app.last_event_id().await;
    let (status, _) = app
        .api_call(
            "RespondToAuthChallenge",
            &json!({"ClientId": client_id, "ChallengeName": "SOFTWARE_TOKEN_MFA",
                    "Session": challenge["Session"],
                    "ChallengeResponses": {"USERNAME": "alice", "SOFTWARE_TOKEN_MFA_CODE": wrong}}),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    // Assert
    let e = app.one_event(before).await;
    assert_eq!((kind(&e), e.outcome.as_str()), ("mfa_challenge", "fail"));
    assert_eq!(e.reason.as_deref(), Some("code_mismatch"));
    assert!(e.user_sub.is_some());
}

#[tokio::test]
async fn a_throttled_sign_in_is_recorded_as_throttling() {
    // Arrange: failures up to the free ones.
    let app = TestApp::spawn().await;
    let client_id = app.public.client_id.clone();
    app.allow_api_flows(&["ALLOW_USER_PASSWORD_AUTH"]).await;
    let wrong = json!({"ClientId": client_id, "AuthFlow": "USER_PASSWORD_AUTH",
                       "AuthParameters": {"USERNAME": "alice", "PASSWORD": "Wrong-horse-9"}});
    for _ in 0..20 {
        let before = app.last_event_id().await;
        let (_, body) = app.api_call("InitiateAuth", &wrong).await;
        if body["__type"] == "TooManyRequestsException" {
            // Assert: the refusal is one throttling event, not a failed sign-in.
            let e = app.one_event(before).await;
            assert_eq!((kind(&e), e.outcome.as_str()), ("throttled", "fail"));
            assert_eq!(e.reason.as_deref(), Some("throttled"));
            assert_eq!(e.username.as_deref(), Some("alice"));
            return;
        }
        assert_eq!(body["__type"], "NotAuthorizedException", "{body}");
    }
    panic!("never throttled");
}

#[tokio::test]
async fn events_follow_prints_new_events_as_they_come() {
    use std::io::BufRead;
    // Arrange: one failed sign-in before following.
    let app = TestApp::spawn().await;
    let fail = || async {
        app.post_login(
            &crate::helpers::browser(),
            &app.authorize_url(&app.public, Some(&Pkce::new()), &[]),
            "alice",
            "Wrong-password-1",
        )
        .await
    };
    fail().await;
    app.flushed().await;
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_cognate"))
        .args(["events", "--follow", "--kind", "sign_in", "--limit", "1"])
        .env("DATABASE_URL", &app.backend.database_url)
        .env("COGNATE_MASTER_KEY", &app.backend.master_key)
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in std::io::BufReader::new(stdout).lines() {
            if tx.send(line.unwrap()).is_err() {
                break;
            }
        }
    });
    let next_line = || rx.recv_timeout(std::time::Duration::from_secs(60));
    // The event before: printed first, once the command has read the table.
    let first: Value = serde_json::from_str(&next_line().unwrap()).unwrap();
    // Act: another failed sign-in while it follows.
    fail().await;
    // Written before this test's thread blocks on the child's output (the server's
    // writer runs on this test's runtime).
    app.flushed().await;
    let second = next_line();
    child.kill().unwrap();
    child.wait().unwrap();
    // Assert: the new event comes as a JSON line of its own.
    let second: Value = serde_json::from_str(&second.unwrap()).unwrap();
    assert_eq!(first["kind"], "sign_in");
    assert_eq!(second["kind"], "sign_in");
    assert_ne!(first["event_id"], second["event_id"]);
}

#[tokio::test]
async fn a_federated_sign_in_that_links_records_the_link_and_the_sign_in() {
    // Arrange: a native user with Ada's verified address, and a linking provider.
    let (app, _standins, client) =
        crate::federation::federated_app(cognate::federation::LinkingPolicy::Link).await;
    let native =
        crate::account::create_user_with_email(&app, "ada-native", "ada@example.com").await;
    let url = app.authorize_url(
        &client,
        Some(&Pkce::new()),
        &[("identity_provider", "Google")],
    );
    let before = app.last_event_id().await;
    // Act
    let (back, _) =
        crate::federation::federate(&crate::helpers::browser(), &url, "ada", None).await;
    assert_eq!(back.status(), StatusCode::FOUND);
    // Assert: the link, then the sign-in, both as the native user.
    let events = app.events_since(before).await;
    let kinds: Vec<_> = events.iter().map(|e| e.kind.as_str()).collect();
    assert_eq!(kinds, ["federation_link", "federation_sign_in"]);
    for e in &events {
        assert_eq!(e.user_sub.as_deref(), Some(native.user_id.as_str()));
        assert_eq!(e.client_id.as_deref(), Some(client.client_id.as_str()));
        assert_eq!(e.outcome, "pass");
    }
}
