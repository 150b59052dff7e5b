//! What the admin console reads (issue 20 item 3), through the real store on SQLite and,
//! with `COGNATE_TEST_POSTGRES_URL`, PostgreSQL: event counts per hour and day for the
//! dashboard's charts, the event search behind the event log page, and the trigger log
//! page by page.

use cognate::console::activity::{Activity, Window};
use cognate::store::{
    AuthEventCount, AuthEventFilter, AuthEventRow, NewTriggerLog, TriggerLogFilter,
};
use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::{PASSWORD, TestApp};

/// 2026-12-07 00:00:00 UTC: an hour and a day boundary.
const MIDNIGHT: i64 = 1_796_601_600;
const HOUR: i64 = 3_600;
const DAY: i64 = 86_400;

/// An event at `at` of `kind` with `outcome` in `pool`, by `user`.
fn event(at: i64, kind: &str, outcome: &str, pool: &str, user: &str) -> AuthEventRow {
    AuthEventRow {
        id: 0,
        event_id: uuid::Uuid::new_v4().to_string(),
        at,
        kind: kind.into(),
        outcome: outcome.into(),
        reason: (outcome == "fail").then(|| "bad_credentials".into()),
        grant_type: None,
        pool_id: Some(pool.into()),
        client_id: None,
        user_sub: None,
        username: Some(user.into()),
        source_ip: None,
        user_agent: None,
        request_id: None,
        actor: None,
        action: None,
        target: None,
    }
}

fn count(bucket: i64, kind: &str, outcome: &str, count: i64) -> AuthEventCount {
    AuthEventCount {
        bucket,
        kind: kind.into(),
        outcome: outcome.into(),
        count,
    }
}

/// The events `f` selects.
async fn search(app: &TestApp, f: AuthEventFilter<'_>) -> Vec<AuthEventRow> {
    app.state.store.auth_events(&f).await.unwrap()
}

/// A page of two of the test pool's trigger log entries, below `before_id`.
async fn trigger_page(
    app: &TestApp,
    before_id: Option<i64>,
) -> Vec<cognate::store::TriggerLogEntry> {
    app.state
        .store
        .trigger_log(&TriggerLogFilter {
            pool_id: Some(&app.pool_id),
            before_id,
            limit: 2,
            ..Default::default()
        })
        .await
        .unwrap()
}

#[tokio::test]
async fn sign_ins_failures_and_sign_ups_made_through_the_api_are_charted_for_their_pool() {
    // Arrange
    let app = TestApp::spawn().await;
    let client_id = app.public.client_id.clone();
    app.allow_api_flows(&["ALLOW_USER_PASSWORD_AUTH"]).await;
    let sign_in = |password: &'static str| {
        json!({"ClientId": client_id, "AuthFlow": "USER_PASSWORD_AUTH",
               "AuthParameters": {"USERNAME": "alice", "PASSWORD": password}})
    };
    // Another pool's events are not this pool's.
    app.state
        .store
        .insert_auth_events(&[event(
            app.state.clock.now(),
            "sign_in",
            "pass",
            "us-east-1_other",
            "bob",
        )])
        .await
        .unwrap();

    // Act: two sign-ins, one wrong password, one sign-up.
    for password in [PASSWORD, PASSWORD, "Wrong-password-1"] {
        let (status, body) = app.api_call("InitiateAuth", &sign_in(password)).await;
        let expected = if password == PASSWORD {
            StatusCode::OK
        } else {
            StatusCode::BAD_REQUEST
        };
        assert_eq!(status, expected, "{body}");
    }
    let (status, body) = app
        .api_call(
            "SignUp",
            &json!({"ClientId": client_id, "Username": "nina", "Password": PASSWORD,
                   "UserAttributes": [{"Name": "email", "Value": "nina@example.com"}]}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    app.flushed().await;
    let now = app.state.clock.now();

    // Assert: in both windows (summed, in case an hour ended during the test).
    for window in [Window::Hours24, Window::Days30] {
        let a = Activity::load(&app.state.store, &app.pool_id, window, now)
            .await
            .unwrap();
        let total = |v: &[u64]| v.iter().sum::<u64>();
        assert_eq!(total(&a.sign_ins), 2, "{window:?}");
        assert_eq!(total(&a.failures), 1, "{window:?}");
        assert_eq!(total(&a.sign_ups), 1, "{window:?}");
        assert_eq!(a.sign_ins.len(), window.buckets());
        // The newest bucket holds them (or, at an hour's turn, the one before).
        let last = window.buckets() - 1;
        assert_eq!(a.sign_ins[last - 1] + a.sign_ins[last], 2);
        let svg = a.chart().svg();
        assert!(svg.contains("Totals: Sign-ins 2, Failures 1, Sign-ups 1."));
    }
}

#[tokio::test]
async fn event_counts_are_bucketed_by_hour_and_day_on_the_stored_time() {
    // Arrange: events either side of hour and day boundaries, in two pools.
    let app = TestApp::spawn().await;
    let pool = app.pool_id.as_str();
    let rows = [
        event(MIDNIGHT - 1, "sign_in", "pass", pool, "a"),
        event(MIDNIGHT, "sign_in", "pass", pool, "a"),
        event(MIDNIGHT + HOUR - 1, "sign_in", "pass", pool, "a"),
        event(MIDNIGHT + HOUR - 1, "sign_in", "fail", pool, "a"),
        event(MIDNIGHT + HOUR, "sign_up", "pass", pool, "b"),
        event(MIDNIGHT + DAY + 5, "sign_in", "pass", pool, "a"),
        event(MIDNIGHT + HOUR, "sign_in", "pass", "us-east-1_other", "c"),
    ];
    app.state.store.insert_auth_events(&rows).await.unwrap();
    let store = &app.state.store;

    // Act
    let hourly = store
        .auth_event_counts(pool, HOUR, MIDNIGHT - HOUR, MIDNIGHT + 2 * HOUR)
        .await
        .unwrap();
    let daily = store
        .auth_event_counts(pool, DAY, MIDNIGHT - DAY, MIDNIGHT + 2 * DAY)
        .await
        .unwrap();
    // The range is half-open: an event at its end is not counted.
    let until_excluded = store
        .auth_event_counts(pool, HOUR, MIDNIGHT, MIDNIGHT + HOUR)
        .await
        .unwrap();
    // A bad bucket width is no division by zero.
    let zero_width = store
        .auth_event_counts(pool, 0, MIDNIGHT, MIDNIGHT + 1)
        .await
        .unwrap();
    let nothing = store
        .auth_event_counts("us-east-1_nothing", HOUR, 0, i64::MAX)
        .await
        .unwrap();

    // Assert
    assert_eq!(
        hourly,
        [
            count(MIDNIGHT - HOUR, "sign_in", "pass", 1),
            count(MIDNIGHT, "sign_in", "fail", 1),
            count(MIDNIGHT, "sign_in", "pass", 2),
            count(MIDNIGHT + HOUR, "sign_up", "pass", 1),
        ]
    );
    assert_eq!(
        daily,
        [
            count(MIDNIGHT - DAY, "sign_in", "pass", 1),
            count(MIDNIGHT, "sign_in", "fail", 1),
            count(MIDNIGHT, "sign_in", "pass", 2),
            count(MIDNIGHT, "sign_up", "pass", 1),
            count(MIDNIGHT + DAY, "sign_in", "pass", 1),
        ]
    );
    assert_eq!(
        until_excluded,
        [
            count(MIDNIGHT, "sign_in", "fail", 1),
            count(MIDNIGHT, "sign_in", "pass", 2),
        ]
    );
    assert_eq!(zero_width, [count(MIDNIGHT, "sign_in", "pass", 1)]);
    assert!(nothing.is_empty());

    // The dashboard's 30-day window ending the next day puts them on their days.
    let a = Activity::load(store, pool, Window::Days30, MIDNIGHT + DAY + 60)
        .await
        .unwrap();
    assert_eq!(a.sign_ins[27..], [1, 2, 1]);
    assert_eq!(a.failures[27..], [0, 1, 0]);
    assert_eq!(a.sign_ups[27..], [0, 1, 0]);
}

#[tokio::test]
async fn the_event_search_filters_failures_users_kinds_and_time_and_pages_newest_first() {
    // Arrange: an hour of events, one a minute, every third a failure, two users.
    let app = TestApp::spawn().await;
    let pool = app.pool_id.as_str();
    let rows: Vec<AuthEventRow> = (0..60)
        .map(|m| {
            let outcome = if m % 3 == 0 { "fail" } else { "pass" };
            let user = if m % 2 == 0 { "Ann" } else { "ben" };
            event(MIDNIGHT + 60 * m, "sign_in", outcome, pool, user)
        })
        .chain([event(MIDNIGHT, "sign_up", "pass", pool, "ann")])
        .collect();
    app.state.store.insert_auth_events(&rows).await.unwrap();

    // Act + Assert: failures only.
    let failed = search(
        &app,
        AuthEventFilter {
            pool_id: Some(pool),
            outcome: Some("fail"),
            limit: 100,
            ..Default::default()
        },
    )
    .await;
    assert_eq!(failed.len(), 20);
    assert!(failed.iter().all(|e| e.outcome == "fail"));
    assert!(failed.windows(2).all(|w| w[0].id > w[1].id), "newest first");

    // A time range, half-open: minutes 10 to 19.
    let ranged = search(
        &app,
        AuthEventFilter {
            pool_id: Some(pool),
            since: Some(MIDNIGHT + 600),
            until: Some(MIDNIGHT + 1_200),
            limit: 100,
            ..Default::default()
        },
    )
    .await;
    assert_eq!(ranged.len(), 10);
    assert_eq!(ranged.first().unwrap().at, MIDNIGHT + 1_140);
    assert_eq!(ranged.last().unwrap().at, MIDNIGHT + 600);

    // A user (any case) and a kind, failures only.
    let ann = search(
        &app,
        AuthEventFilter {
            pool_id: Some(pool),
            username: Some("ANN"),
            kind: Some("sign_in"),
            outcome: Some("fail"),
            limit: 100,
            ..Default::default()
        },
    )
    .await;
    // Even minutes divisible by 3: 0, 6, …, 54.
    assert_eq!(ann.len(), 10);
    assert!(ann.iter().all(|e| e.username.as_deref() == Some("Ann")));

    // Pages of 25, newest first, each starting below the last one shown.
    let mut seen = Vec::new();
    let mut before_id = None;
    loop {
        let page = search(
            &app,
            AuthEventFilter {
                pool_id: Some(pool),
                before_id,
                limit: 25,
                ..Default::default()
            },
        )
        .await;
        if page.is_empty() {
            break;
        }
        before_id = page.last().map(|e| e.id);
        seen.extend(page.into_iter().map(|e| e.id));
    }
    assert_eq!(seen.len(), 61);
    assert!(seen.windows(2).all(|w| w[0] > w[1]));

    // Another pool sees none of them.
    let other = search(
        &app,
        AuthEventFilter {
            pool_id: Some("us-east-1_other"),
            limit: 100,
            ..Default::default()
        },
    )
    .await;
    assert!(other.is_empty());
}

#[tokio::test]
async fn the_trigger_log_reads_a_pools_entries_newest_first_page_by_page() {
    // Arrange: five entries in this pool, two in another, interleaved.
    let app = TestApp::spawn().await;
    let other = cognate::pool::create_with_settings(
        &app.state,
        "other pool",
        "us-east-1",
        cognate::pool::PoolSettings::default(),
        &[],
    )
    .await
    .unwrap();
    let store = &app.state.store;
    for i in 0..7 {
        let pool = if i % 3 == 2 {
            other.pool_id.as_str()
        } else {
            app.pool_id.as_str()
        };
        let user = format!("user{i}");
        store
            .insert_trigger_log(
                &NewTriggerLog {
                    pool_id: pool,
                    at: MIDNIGHT + i,
                    trigger_source: "PreSignUp_SignUp",
                    user_name: &user,
                    client_id: None,
                    target: "https://hooks.example.com/pre",
                    duration_ms: 12,
                    outcome: if i == 4 { "unreachable" } else { "ok" },
                    error: (i == 4).then_some("timed out"),
                    request: "{}",
                    response: None,
                },
                100,
            )
            .await
            .unwrap();
    }

    // Act
    let first = trigger_page(&app, None).await;
    let second = trigger_page(&app, first.last().map(|e| e.id)).await;
    let third = trigger_page(&app, second.last().map(|e| e.id)).await;
    let fourth = trigger_page(&app, third.last().map(|e| e.id)).await;

    // Assert
    let users = |p: &[cognate::store::TriggerLogEntry]| {
        p.iter().map(|e| e.user_name.clone()).collect::<Vec<_>>()
    };
    assert_eq!(users(&first), ["user6", "user4"]);
    assert_eq!(users(&second), ["user3", "user1"]);
    assert_eq!(users(&third), ["user0"]);
    assert!(fourth.is_empty());
    assert_eq!(first[1].error.as_deref(), Some("timed out"));
    assert!(
        first
            .iter()
            .chain(&second)
            .chain(&third)
            .all(|e| e.pool_id == app.pool_id)
    );
}

#[tokio::test]
async fn a_users_live_sign_ins_are_listed_until_they_are_signed_out_everywhere() {
    // Arrange: alice signs in twice through the API; another user once.
    let app = TestApp::spawn().await;
    let client_id = app.public.client_id.clone();
    app.allow_api_flows(&["ALLOW_USER_PASSWORD_AUTH"]).await;
    let bob = app
        .create_user("bob", cognate::users::UserStatus::Confirmed)
        .await;
    for user in ["alice", "alice", "bob"] {
        let (status, body) = app
            .api_call(
                "InitiateAuth",
                &json!({"ClientId": client_id, "AuthFlow": "USER_PASSWORD_AUTH",
                       "AuthParameters": {"USERNAME": user, "PASSWORD": PASSWORD}}),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
    }
    let alice = app
        .state
        .store
        .user_by_name(&app.pool_id, "alice")
        .await
        .unwrap()
        .unwrap();
    let live = |user_id: String| {
        let store = app.state.store.clone();
        let now = app.state.clock.now();
        async move {
            store
                .live_families_of_user(&user_id, now, 10)
                .await
                .unwrap()
        }
    };

    // Act + Assert
    let families = live(alice.user_id.clone()).await;
    assert_eq!(families.len(), 2);
    assert!(
        families
            .iter()
            .all(|f| f.user_id == alice.user_id && f.client_id == client_id && !f.is_revoked())
    );
    // An expired sign-in is not live.
    let later = app.state.clock.now() + 10 * 365 * 86_400;
    let expired = app
        .state
        .store
        .live_families_of_user(&alice.user_id, later, 10)
        .await
        .unwrap();
    assert!(expired.is_empty());

    let pool = cognate::users::admin::pool(&app.state, &app.pool_id)
        .await
        .unwrap();
    cognate::users::admin::global_sign_out(&app.state, &pool, "alice")
        .await
        .unwrap();
    assert!(live(alice.user_id.clone()).await.is_empty());
    assert_eq!(live(bob.user_id.clone()).await.len(), 1);
}
