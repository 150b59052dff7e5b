//! The console's user pages and logs (issue 20 item 3), over HTTP with a cookie-keeping
//! client: find users with `ListUsers`' filter, act on them through the same domain
//! functions as the Cognito API (each change one admin event by `console:<operator>`),
//! and read what happened on the event log, trigger log and activity pages.

use cognate::store::{AuthEventRow, NewTriggerLog};
use cognate::users::UserStatus;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::console::{Console, csrf_of, operator};
use crate::helpers::{PASSWORD, Pkce, TestApp, html_unescape, location, query_param};

/// A test app whose public client also signs in through the API (password and
/// refresh token), with the user `alison` besides `alice`.
async fn spawn() -> TestApp {
    let app = TestApp::spawn().await;
    app.allow_api_flows(&["ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"])
        .await;
    app.create_user("alison", UserStatus::Confirmed).await;
    app.create_user("bob", UserStatus::Confirmed).await;
    app
}

/// The href of the first link whose text is `text`.
fn link(html: &str, text: &str) -> String {
    let end = html
        .find(&format!(">{text}</a>"))
        .unwrap_or_else(|| panic!("no link {text:?} in:\n{html}"));
    let start = html[..end].rfind("href=\"").unwrap() + "href=\"".len();
    let close = html[start..].find('"').unwrap();
    html_unescape(&html[start..start + close])
}

/// An InitiateAuth through the Cognito API.
async fn initiate(app: &TestApp, flow: &str, parameters: Value) -> (StatusCode, Value) {
    app.api_call(
        "InitiateAuth",
        &json!({"ClientId": app.public.client_id, "AuthFlow": flow,
                "AuthParameters": parameters}),
    )
    .await
}

/// The admin changes among events written after event `after`.
async fn admin_changes(app: &TestApp, after: i64) -> Vec<AuthEventRow> {
    app.events_since(after)
        .await
        .into_iter()
        .filter(|e| e.kind == "admin_change")
        .collect()
}

// Matrix: CO-09
#[tokio::test]
async fn an_operator_finds_a_user_by_filter_and_disabling_them_refuses_their_refresh_tokens() {
    // Arrange: alison holds a refresh token from the hosted pages and one from the API.
    let app = spawn().await;
    let pkce = Pkce::new();
    let b = crate::helpers::browser();
    let callback = app
        .sign_in(
            &b,
            &app.authorize_url(&app.public, Some(&pkce), &[]),
            "alison",
            PASSWORD,
        )
        .await;
    let code_ = query_param(&callback, "code").unwrap();
    let res = app
        .exchange(&app.public, &code_, Some(&pkce.verifier))
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let hosted: Value = res.json().await.unwrap();
    let hosted_refresh = hosted["refresh_token"].as_str().unwrap().to_string();
    let (status, body) = initiate(
        &app,
        "USER_PASSWORD_AUTH",
        json!({"USERNAME": "alison", "PASSWORD": PASSWORD}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let api_refresh = body["AuthenticationResult"]["RefreshToken"]
        .as_str()
        .unwrap()
        .to_string();
    // And one wrong password, for the failures.
    let (status, _) = initiate(
        &app,
        "USER_PASSWORD_AUTH",
        json!({"USERNAME": "alison", "PASSWORD": "Wrong-password-1"}),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let op = operator(&app, "ops").await;
    let console = Console::sign_in(&app, &op).await;

    // Act: find her by the start of her email.
    let users = format!("/admin/pools/{}/users", app.pool_id);
    let (status, html) = console
        .get(&format!("{users}?filter=email+%5E%3D+%22alis%22"))
        .await;

    // Assert: she alone is listed.
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("alison@example.com"), "{html}");
    assert!(!html.contains("alice@example.com") && !html.contains(">bob<"));
    let user_page = link(&html, "alison");
    assert_eq!(user_page, format!("{users}/alison"));
    let (status, html) = console.get(&user_page).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("CONFIRMED") && html.contains("Enabled"));
    assert!(
        html.contains("Live sign-ins") && html.matches(&app.public.client_id).count() >= 2,
        "both sign-ins are listed"
    );

    // Act: disable her (confirmed on its own page; the sign-in was just now).
    let before = app.last_event_id().await;
    let disable = link(&html, "Disable…");
    let (status, confirm) = console.get(&disable).await;
    assert_eq!(status, StatusCode::OK);
    assert!(confirm.contains("every sign-in they have"));
    let res = console.post(&disable, &[]).await;

    // Assert: back on her page, disabled, and her refresh tokens refused everywhere.
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&res), format!("{user_page}?done=disable"));
    let (_, html) = console.get(&location(&res)).await;
    assert!(html.contains("The user was disabled and signed out everywhere."));
    assert!(html.contains("Disabled") && html.contains("No live sign-ins"));
    let res = app.refresh(&app.public, &hosted_refresh).await;
    crate::helpers::assert_oauth_error(res, StatusCode::BAD_REQUEST, "invalid_grant").await;
    // The client rotates refresh tokens, so the API's refresh is GetTokensFromRefreshToken
    // (REFRESH_TOKEN_AUTH would be refused for the rotation alone).
    let (status, body) = app
        .api_call(
            "GetTokensFromRefreshToken",
            &json!({"ClientId": app.public.client_id, "RefreshToken": api_refresh}),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["__type"], "NotAuthorizedException", "{body}");
    // One admin event, by the operator, naming the Cognito action and the user.
    let changes = admin_changes(&app, before).await;
    assert_eq!(changes.len(), 1, "{changes:#?}");
    let e = &changes[0];
    assert_eq!(e.action.as_deref(), Some("AdminDisableUser"));
    assert_eq!(e.actor.as_deref(), Some("console:ops"));
    assert_eq!(e.target.as_deref(), Some("alison"));
    assert_eq!(e.pool_id.as_deref(), Some(app.pool_id.as_str()));
    assert_eq!(e.outcome, "pass");

    // The event log shows the change, and her sign-ins by her sub.
    let events = format!("/admin/pools/{}/events", app.pool_id);
    let (status, html) = console.get(&format!("{events}?kind=admin_change")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        html.contains("AdminDisableUser on alison by console:ops"),
        "{html}"
    );
    assert!(!html.contains("<td>sign_in</td>"));
    let (_, user_html) = console.get(&user_page).await;
    let (status, html) = console.get(&link(&user_html, "This user's events")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("<td>sign_in</td>") && html.contains("<td>alison</td>"));
    assert!(!html.contains("<td>alice</td>"));
    // Failures only: the wrong password, none that passed.
    let (_, html) = console.get(&format!("{events}?failed=on")).await;
    assert!(
        html.contains("<td class=\"fail\">failed: bad_credentials</td>"),
        "{html}"
    );
    assert!(!html.contains("<td>passed</td>"));
}

/// An action's path segment, its form fields and the Cognito action recorded.
type Step = (
    &'static str,
    &'static [(&'static str, &'static str)],
    &'static str,
);

// Matrix: CO-09
#[tokio::test]
async fn every_user_action_goes_through_its_cognito_action_and_records_one_admin_event() {
    // Arrange
    let app = spawn().await;
    cognate::groups::create(&app.state, &app.pool_id, "admins", None, None)
        .await
        .unwrap();
    let op = operator(&app, "ops").await;
    let console = Console::sign_in(&app, &op).await;
    let alison = format!("/admin/pools/{}/users/alison", app.pool_id);
    let alison_row = || async {
        app.state
            .store
            .user_by_name(&app.pool_id, "alison")
            .await
            .unwrap()
            .unwrap()
    };
    let steps: [Step; 6] = [
        ("add-group", &[("group", "admins")], "AdminAddUserToGroup"),
        (
            "remove-group",
            &[("group", "admins")],
            "AdminRemoveUserFromGroup",
        ),
        ("sign-out", &[], "AdminUserGlobalSignOut"),
        ("reset-mfa", &[], "AdminDeleteSoftwareToken"),
        ("disable", &[], "AdminDisableUser"),
        ("enable", &[], "AdminEnableUser"),
    ];

    for (slug, fields, action) in steps {
        // Act
        let before = app.last_event_id().await;
        let res = console.post(&format!("{alison}/{slug}"), fields).await;
        // Assert
        assert_eq!(res.status(), StatusCode::SEE_OTHER, "{slug}");
        assert_eq!(location(&res), format!("{alison}?done={slug}"));
        let changes = admin_changes(&app, before).await;
        assert_eq!(changes.len(), 1, "{slug}: {changes:#?}");
        assert_eq!(changes[0].action.as_deref(), Some(action));
        assert_eq!(changes[0].actor.as_deref(), Some("console:ops"));
        assert_eq!(changes[0].outcome, "pass");
        if slug == "add-group" {
            let groups = app
                .state
                .store
                .groups_of_user(&alison_row().await.user_id)
                .await
                .unwrap();
            assert_eq!(groups.len(), 1);
            let (_, html) = console.get(&alison).await;
            assert!(html.contains("aria-label=\"Remove from admins\""));
        }
    }
    assert!(alison_row().await.enabled);

    // A password reset, as AdminResetUserPassword: a code is mailed, the status is
    // RESET_REQUIRED and the old password no longer signs in.
    let before = app.last_event_id().await;
    let res = console.post(&format!("{alison}/reset-password"), &[]).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(alison_row().await.status, UserStatus::ResetRequired);
    assert!(
        !app.last_mail("alison@example.com")
            .await
            .body_text
            .is_empty()
    );
    let (status, _) = initiate(
        &app,
        "USER_PASSWORD_AUTH",
        json!({"USERNAME": "alison", "PASSWORD": PASSWORD}),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let changes = admin_changes(&app, before).await;
    assert_eq!(changes.len(), 1);
    assert_eq!(changes[0].action.as_deref(), Some("AdminResetUserPassword"));

    // A refused action (a group that does not exist): explained on the page and
    // recorded as failed.
    let before = app.last_event_id().await;
    let res = console
        .post(&format!("{alison}/add-group"), &[("group", "nobody")])
        .await;
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    let html = res.text().await.unwrap();
    assert!(html.contains("role=\"alert\"") && html.contains("Group not found."));
    let changes = admin_changes(&app, before).await;
    assert_eq!(changes.len(), 1);
    assert_eq!(changes[0].outcome, "fail");
}

// Matrix: CO-03, CO-07
// (destructive user actions ask again; user forms need the CSRF token)
#[tokio::test]
async fn destructive_user_actions_ask_again_and_forged_posts_change_nothing() {
    // Arrange: signed in six minutes ago.
    let app = spawn().await;
    let op = operator(&app, "ops").await;
    let console = Console::sign_in(&app, &op).await;
    app.state.clock.advance(6 * 60);
    let alison = format!("/admin/pools/{}/users/alison", app.pool_id);
    let disable = format!("{alison}/disable");
    let before = app.last_event_id().await;

    // Act + Assert: the confirmation page and the post both send to re-authenticate.
    let res = console
        .b
        .get(format!("{}{disable}", console.base))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert!(location(&res).starts_with("/admin/reauth?next="));
    let res = console.post(&disable, &[]).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert!(location(&res).starts_with("/admin/reauth?next="));
    // Non-destructive actions do not ask.
    let res = console.post(&format!("{alison}/enable"), &[]).await;
    assert_eq!(location(&res), format!("{alison}?done=enable"));

    // A post without the CSRF token is refused and changes nothing.
    let res = console
        .b
        .post(format!("{}{alison}/enable", console.base))
        .form(&[("group", "x")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    let changes = admin_changes(&app, before).await;
    assert_eq!(changes.len(), 1, "only the enable: {changes:#?}");
    assert!(
        app.state
            .store
            .user_by_name(&app.pool_id, "alison")
            .await
            .unwrap()
            .unwrap()
            .enabled
    );

    // After password and a fresh code, the confirmation page opens and disables.
    let res = console.reauthenticate(&app, &op, &disable).await;
    assert_eq!(location(&res), disable);
    let (status, html) = console.get(&disable).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(csrf_of(&html), console.csrf);
    let res = console.post(&disable, &[]).await;
    assert_eq!(location(&res), format!("{alison}?done=disable"));
}

// Matrix: CO-10
#[tokio::test]
async fn bad_searches_and_unknown_users_are_explained_without_a_server_error() {
    // Arrange
    let app = spawn().await;
    let op = operator(&app, "ops").await;
    let console = Console::sign_in(&app, &op).await;
    let pool = format!("/admin/pools/{}", app.pool_id);

    for (path, status, says) in [
        (
            format!("{pool}/users?filter=password+%3D+%22x%22"),
            StatusCode::BAD_REQUEST,
            "Cannot filter on attribute",
        ),
        (
            format!("{pool}/users?filter=email+%3D"),
            StatusCode::BAD_REQUEST,
            "Invalid filter",
        ),
        (
            format!("{pool}/events?from=yesterday"),
            StatusCode::BAD_REQUEST,
            "The start time is not valid",
        ),
        (
            format!("{pool}/events?kind=%3Cscript%3E"),
            StatusCode::BAD_REQUEST,
            "Unknown event kind",
        ),
        (
            format!("{pool}/triggers/log?source=a%27b"),
            StatusCode::BAD_REQUEST,
            "trigger source must be",
        ),
        (format!("{pool}/users/nobody"), StatusCode::NOT_FOUND, ""),
        (
            format!("{pool}/users/alison/explode"),
            StatusCode::NOT_FOUND,
            "",
        ),
        (
            "/admin/pools/us-east-1_nothere/events".to_string(),
            StatusCode::NOT_FOUND,
            "",
        ),
    ] {
        let (got, html) = console.get(&path).await;
        assert_eq!(got, status, "{path}: {html}");
        assert!(html.contains(says), "{path}: {html}");
        assert!(!html.contains("<script"), "{path}");
    }
    // An unknown user's action is the console's 404, recorded as failed.
    let before = app.last_event_id().await;
    let res = console
        .post(&format!("{pool}/users/nobody/enable"), &[])
        .await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    let changes = admin_changes(&app, before).await;
    assert_eq!(changes.len(), 1);
    assert_eq!(changes[0].outcome, "fail");
    // Without a console session, every page sends to the sign-in page.
    let res = crate::helpers::browser()
        .get(format!("{}{pool}/users", app.base()))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&res), "/admin/login");
}

// Matrix: CO-10
#[tokio::test]
async fn the_dashboard_charts_activity_and_the_trigger_log_pages_newest_first() {
    // Arrange: a sign-in, a failure and a sign-up; 55 trigger invocations.
    let app = spawn().await;
    for password in [PASSWORD, "Wrong-password-1"] {
        initiate(
            &app,
            "USER_PASSWORD_AUTH",
            json!({"USERNAME": "alison", "PASSWORD": password}),
        )
        .await;
    }
    let (status, body) = app
        .api_call(
            "SignUp",
            &json!({"ClientId": app.public.client_id, "Username": "nina", "Password": PASSWORD,
                   "UserAttributes": [{"Name": "email", "Value": "nina@example.com"}]}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    for i in 0..55 {
        app.state
            .store
            .insert_trigger_log(
                &NewTriggerLog {
                    pool_id: &app.pool_id,
                    at: app.state.clock.now(),
                    trigger_source: "PreSignUp_SignUp",
                    user_name: &format!("user{i:02}"),
                    client_id: None,
                    target: "https://hooks.example.com/pre",
                    duration_ms: 7,
                    outcome: if i == 54 { "unreachable" } else { "ok" },
                    error: (i == 54).then_some("connection <refused>"),
                    request: "{\"userName\":\"<b>x</b>\"}",
                    response: None,
                },
                1_000,
            )
            .await
            .unwrap();
    }
    app.flushed().await;
    let op = operator(&app, "ops").await;
    let console = Console::sign_in(&app, &op).await;
    let pool = format!("/admin/pools/{}", app.pool_id);

    // Act + Assert: two charts, each summarising the counts.
    let (status, html) = console.get(&format!("{pool}/dashboard")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(html.matches("<svg").count(), 2);
    assert_eq!(
        html.matches("Totals: Sign-ins 1, Failures 1, Sign-ups 1.")
            .count(),
        4,
        "aria-label and title of both charts"
    );
    assert!(html.contains("role=\"img\"") && !html.contains("<script"));

    // The trigger log: the newest first, 50 to a page, payloads escaped.
    let (status, html) = console.get(&format!("{pool}/triggers/log")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.find("user54").unwrap() < html.find("user53").unwrap());
    assert!(
        html.contains("unreachable: connection &#60;refused&#62;"),
        "{html}"
    );
    assert!(!html.contains("<b>x</b>") && html.contains("&#60;b&#62;x&#60;/b&#62;"));
    assert!(!html.contains("<td>user04</td>"));
    let older = link(&html, "Older invocations");
    let (_, html) = console.get(&format!("{pool}/triggers/log{older}")).await;
    assert!(html.contains("<td>user04</td>") && html.contains("<td>user00</td>"));
    assert!(!html.contains("<td>user05</td>") && !html.contains("Older invocations"));
}

#[tokio::test]
async fn the_event_log_pages_newest_first_and_keeps_its_filters() {
    // Arrange: 60 failed and 5 passed sign-ins of alison, a minute apart.
    let app = spawn().await;
    let start = app.state.clock.now() - 3_600;
    let rows: Vec<AuthEventRow> = (0..65)
        .map(|i| AuthEventRow {
            id: 0,
            event_id: uuid::Uuid::new_v4().to_string(),
            at: start + 60 * i,
            kind: "sign_in".into(),
            outcome: if i < 60 { "fail" } else { "pass" }.into(),
            reason: (i < 60).then(|| "bad_credentials".into()),
            grant_type: None,
            pool_id: Some(app.pool_id.clone()),
            client_id: None,
            user_sub: None,
            username: Some(format!("user{i:02}")),
            source_ip: None,
            user_agent: None,
            request_id: None,
            actor: None,
            action: None,
            target: None,
        })
        .collect();
    app.state.store.insert_auth_events(&rows).await.unwrap();
    let op = operator(&app, "ops").await;
    let console = Console::sign_in(&app, &op).await;
    let events = format!("/admin/pools/{}/events", app.pool_id);

    // Act: failures only, then the next page.
    let (status, first) = console
        .get(&format!("{events}?kind=sign_in&failed=on"))
        .await;
    let older = link(&first, "Older events");
    let (_, second) = console.get(&format!("{events}{older}")).await;

    // Assert: 50 newest failures, then the other 10, the filters kept.
    assert_eq!(status, StatusCode::OK);
    assert_eq!(first.matches("failed: bad_credentials").count(), 50);
    assert!(first.find("<td>user59</td>").unwrap() < first.find("<td>user58</td>").unwrap());
    assert!(!first.contains("<td>user60</td>") && !first.contains("<td>user09</td>"));
    assert!(older.contains("kind=sign_in") && older.contains("failed=on"));
    assert_eq!(second.matches("failed: bad_credentials").count(), 10);
    assert!(second.contains("<td>user09</td>") && second.contains("<td>user00</td>"));
    assert!(!second.contains("Older events") && second.contains("Newest events"));
    // A time range: minutes 10 to 14 of the hour.
    let from = cognate::console::pages::time(start + 600);
    let to = cognate::console::pages::time(start + 900);
    let query = serde_urlencoded::to_string([("from", from), ("to", to)]).unwrap();
    let (_, ranged) = console.get(&format!("{events}?{query}")).await;
    assert_eq!(ranged.matches("<td>sign_in</td>").count(), 5);
    assert!(ranged.contains("<td>user10</td>") && ranged.contains("<td>user14</td>"));
}

#[tokio::test]
async fn the_user_search_pages_and_links_names_with_any_characters() {
    // Arrange: 52 users named `m00`…, one with characters a path must encode.
    let app = spawn().await;
    for i in 0..51 {
        cognate::users::create(
            &app.state,
            &app.pool_id,
            &format!("m{i:02}"),
            None,
            UserStatus::Confirmed,
            Default::default(),
        )
        .await
        .unwrap();
    }
    let odd = "m99/../x?y#z%2F@é";
    cognate::users::create(
        &app.state,
        &app.pool_id,
        odd,
        None,
        UserStatus::Confirmed,
        Default::default(),
    )
    .await
    .unwrap();
    let op = operator(&app, "ops").await;
    let console = Console::sign_in(&app, &op).await;
    let users = format!("/admin/pools/{}/users", app.pool_id);

    // Act: every name starting with `m`, page by page.
    let (status, first) = console
        .get(&format!("{users}?filter=username+%5E%3D+%22m%22"))
        .await;
    let more = link(&first, "More users");
    let (_, second) = console.get(&format!("{users}{more}")).await;

    // Assert: 50, then the other 2, the filter kept.
    assert_eq!(status, StatusCode::OK);
    assert!(first.contains(">m00</a>") && first.contains(">m49</a>"));
    assert!(!first.contains(">m50</a>") && !first.contains("alison"));
    assert!(second.contains(">m50</a>") && !second.contains(">m49</a>"));
    assert!(!second.contains("More users"));
    // The odd name's link opens its page.
    let path = link(&second, odd);
    assert!(path.starts_with(&format!("{users}/m99%2F%2E%2E%2Fx%3Fy%23z%252F%40")));
    let (status, html) = console.get(&path).await;
    assert_eq!(status, StatusCode::OK, "{path}");
    assert!(html.contains(&format!("<h1>User {odd}</h1>")), "{html}");
}
