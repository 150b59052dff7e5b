//! The second probe's findings on one-time codes (docs/SECURITY_MATRIX.md §2.17): many
//! guesses released together over two instances on one database count no more attempts
//! than the limit allows, for reset, sign-up and stand-in codes alike. The hosted pages
//! check codes through the same domain code (`users::codes`), so these races cover them.

use std::net::SocketAddr;

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{PASSWORD, TestApp, raw_api_request, release_together};
use cognate::users::UserStatus;
use cognate::users::codes::MAX_ATTEMPTS;

/// Guesses per round, spread over the two instances (under the per-address cap of
/// open connections of each).
const GUESSES: usize = 120;
const NEW_PASSWORD: &str = "Brand-new-pass-7";

/// What one race's answers were.
#[derive(Debug, Default)]
struct Tally {
    accepted: usize,
    mismatches: usize,
    limit_exceeded: usize,
    others: Vec<String>,
}

fn tally(answers: &[String]) -> Tally {
    let mut t = Tally::default();
    for answer in answers {
        if answer.starts_with("HTTP/1.1 200 ") {
            t.accepted += 1;
        } else if answer.starts_with("HTTP/1.1 400 ")
            && answer.contains("\"CodeMismatchException\"")
        {
            t.mismatches += 1;
        } else if answer.starts_with("HTTP/1.1 400 ")
            && answer.contains("\"LimitExceededException\"")
        {
            t.limit_exceeded += 1;
        } else {
            t.others
                .push(answer.lines().next().unwrap_or_default().to_string());
        }
    }
    t
}

/// A wrong code for `code`, different for each `i`.
fn wrong_code(code: &str, i: usize) -> String {
    let n: usize = code.parse().unwrap();
    format!("{:06}", (n + 1 + i) % 1_000_000)
}

/// `GUESSES` requests of `action` released together over `instances`: wrong codes,
/// with the right one (if given) in the middle of them. `body` makes a request from a
/// code.
async fn race(
    instances: &[SocketAddr],
    action: &str,
    right: Option<&str>,
    wrong_for: &str,
    body: impl Fn(&str) -> Value,
) -> Tally {
    let requests = (0..GUESSES)
        .map(|i| {
            let code = match right {
                Some(right) if i == GUESSES / 2 => right.to_string(),
                _ => wrong_code(wrong_for, i),
            };
            (
                instances[i % instances.len()],
                raw_api_request(action, &body(&code)),
            )
        })
        .collect();
    tally(&release_together(requests).await)
}

/// The attempts stored with the user's code, if it still has one.
async fn stored_attempts(app: &TestApp, username: &str, purpose: &str) -> Option<i64> {
    let user = app
        .state
        .store
        .user_by_name(&app.pool_id, username)
        .await
        .unwrap()
        .unwrap();
    let row = app
        .state
        .store
        .user_code(&user.user_id, purpose)
        .await
        .unwrap();
    row.map(|r| r.attempts)
}

/// Checks a race's tally: no error but the code's own, at most one winner, and the
/// limit's worth of codes compared: exactly 4 `CodeMismatchException`s (the fifth
/// counted attempt uses the code up and answers `LimitExceededException`, as on
/// Cognito). When the right code won (only possible among the first five counted), the
/// name has no code any more and later guesses meet its stand-in, which answers up to 4
/// mismatches of its own.
fn assert_bounded(what: &str, t: &Tally) {
    let mismatches_allowed = MAX_ATTEMPTS as usize - 1;
    assert!(t.others.is_empty(), "{what}: {:?}", t.others);
    assert!(t.accepted <= 1, "{what}: {t:?}");
    assert_eq!(
        t.mismatches + t.accepted + t.limit_exceeded,
        GUESSES,
        "{what}"
    );
    if t.accepted == 0 {
        assert_eq!(
            t.mismatches, mismatches_allowed,
            "{what}: more codes compared than the limit allows: {t:?}"
        );
    } else {
        assert!(
            t.mismatches <= 2 * mismatches_allowed,
            "{what}: more codes compared than the limit allows: {t:?}"
        );
    }
}

/// Whether `username`'s password is still `password`.
async fn password_is(app: &TestApp, username: &str, password: &str) -> bool {
    let user = app
        .state
        .store
        .user_by_name(&app.pool_id, username)
        .await
        .unwrap()
        .unwrap();
    cognate::users::password::verify(user.password_hash.as_deref(), password).await
}

/// 120 `ConfirmForgotPassword` calls released together over two instances sharing the
/// database, with the right code among the wrong ones: the stored attempts never pass
/// the limit, no more than 5 codes are compared, and unless the right code was among
/// the first 5 counted (then it alone wins) it is refused afterwards and the password
/// stays. Three rounds, on SQLite and (with `COGNATE_TEST_POSTGRES_URL`) PostgreSQL.
// Matrix: PS-01
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn reset_code_guesses_released_together_on_two_instances_count_at_most_the_limit() {
    let app = TestApp::spawn().await;
    let (b, b_task) = app.second_instance().await;
    let instances = [app.addr, b];
    for round in 0..3 {
        let name = format!("reset{round}");
        let email = format!("{name}@example.com");
        crate::account::create_user_with_email(&app, &name, &email).await;
        let (status, _) = app
            .api_call(
                "ForgotPassword",
                &json!({"ClientId": app.public.client_id, "Username": name}),
            )
            .await;
        assert_eq!(status, StatusCode::OK);
        let code = crate::account::code_in(&app.last_mail(&email).await.body_text);
        let body = |code: &str| {
            json!({"ClientId": app.public.client_id, "Username": name,
                   "ConfirmationCode": code, "Password": NEW_PASSWORD})
        };
        let t = race(
            &instances,
            "ConfirmForgotPassword",
            Some(&code),
            &code,
            &body,
        )
        .await;
        assert_bounded(&format!("round {round}"), &t);
        if t.accepted == 1 {
            assert!(password_is(&app, &name, NEW_PASSWORD).await);
            continue;
        }
        let attempts = stored_attempts(&app, &name, "reset").await;
        assert_eq!(attempts, Some(MAX_ATTEMPTS), "round {round}: {t:?}");
        // The right code, now: the code is dead.
        let (status, answer) = app.api_call("ConfirmForgotPassword", &body(&code)).await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert_eq!(answer["__type"], "LimitExceededException", "round {round}");
        assert!(password_is(&app, &name, PASSWORD).await, "round {round}");
        assert_eq!(
            stored_attempts(&app, &name, "reset").await,
            Some(MAX_ATTEMPTS)
        );
    }
    b_task.abort();
}

/// The same race on `ConfirmSignUp`: at most 5 codes compared, and the right code,
/// unless it won, refused afterwards with the user still unconfirmed.
// Matrix: PS-01
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sign_up_code_guesses_released_together_on_two_instances_count_at_most_the_limit() {
    let app = TestApp::spawn().await;
    let (b, b_task) = app.second_instance().await;
    let instances = [app.addr, b];
    for round in 0..3 {
        let name = format!("joiner{round}");
        let email = format!("{name}@example.com");
        let (status, answer) = app
            .api_call(
                "SignUp",
                &json!({"ClientId": app.public.client_id, "Username": name, "Password": PASSWORD,
                        "UserAttributes": [{"Name": "email", "Value": email}]}),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{answer}");
        let code = crate::account::code_in(&app.last_mail(&email).await.body_text);
        let body = |code: &str| json!({"ClientId": app.public.client_id, "Username": name, "ConfirmationCode": code});
        let t = race(&instances, "ConfirmSignUp", Some(&code), &code, &body).await;
        assert_bounded(&format!("round {round}"), &t);
        let user = app
            .state
            .store
            .user_by_name(&app.pool_id, &name)
            .await
            .unwrap()
            .unwrap();
        if t.accepted == 1 {
            assert_eq!(user.status, UserStatus::Confirmed);
            continue;
        }
        assert_eq!(
            stored_attempts(&app, &name, "signup").await,
            Some(MAX_ATTEMPTS)
        );
        let (_, answer) = app.api_call("ConfirmSignUp", &body(&code)).await;
        assert_eq!(answer["__type"], "LimitExceededException", "round {round}");
        assert_eq!(user.status, UserStatus::Unconfirmed);
        let user = app
            .state
            .store
            .user_by_name(&app.pool_id, &name)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(user.status, UserStatus::Unconfirmed, "round {round}");
    }
    b_task.abort();
}

/// Stand-in codes (a name sent no code) race like real ones: exactly 4
/// `CodeMismatchException`s, then `LimitExceededException`, as a real code with only
/// wrong guesses answers; so a race does not tell an account from an unknown name.
// Matrix: PS-01
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn stand_in_and_real_codes_answer_a_race_alike() {
    let app = TestApp::spawn().await;
    let (b, b_task) = app.second_instance().await;
    let instances = [app.addr, b];
    crate::account::create_user_with_email(&app, "real", "real@example.com").await;
    for name in ["real", "ghost"] {
        let (status, _) = app
            .api_call(
                "ForgotPassword",
                &json!({"ClientId": app.public.client_id, "Username": name}),
            )
            .await;
        assert_eq!(status, StatusCode::OK);
    }
    // Guesses around the real code, never it.
    let code = crate::account::code_in(&app.last_mail("real@example.com").await.body_text);
    for name in ["real", "ghost"] {
        let t = race(&instances, "ConfirmForgotPassword", None, &code, |code| {
            json!({"ClientId": app.public.client_id, "Username": name,
                   "ConfirmationCode": code, "Password": NEW_PASSWORD})
        })
        .await;
        assert_eq!(t.accepted, 0, "{name}");
        assert_bounded(name, &t);
    }
    b_task.abort();
}
