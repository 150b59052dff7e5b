//! `AdminListUserAuthEvents`: a user's auth events in Cognito's `AuthEventType`
//! shape, newest first. Cognito logs these only with threat protection on and knows
//! five event types; cognate maps the events that are one of them (sign-ins, second
//! factors and federated sign-ins as `SignIn`, sign-ups, password resets and changes)
//! and leaves out the rest (tokens, revocations, admin changes: `cognate events` shows
//! those). No risk is assessed, so `EventRisk` is never sent.

use serde::Deserialize;
use serde_json::{Value, json};

use super::paging::{Paging, page_size};
use super::{ActionResult, CognitoError, parse};
use crate::state::Inner;
use crate::store::{AuthEventFilter, AuthEventRow};

/// The kinds Cognito has an event type for.
const LISTED: &[&str] = &[
    "sign_in",
    "throttled",
    "mfa_challenge",
    "federation_sign_in",
    "sign_up",
    "forgot_password",
    "password_reset",
    "password_change",
];

pub async fn run(app: &Inner, action: &str, request: &Value) -> Option<ActionResult> {
    match action {
        "AdminListUserAuthEvents" => Some(admin_list_user_auth_events(app, request).await),
        _ => None,
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Request {
    user_pool_id: String,
    username: String,
    max_results: Option<i64>,
    next_token: Option<String>,
}

async fn admin_list_user_auth_events(app: &Inner, request: &Value) -> ActionResult {
    let req: Request = parse(request)?;
    let pool = super::management::existing_pool(app, &req.user_pool_id).await?;
    let user = app
        .store
        .user_by_name(&pool.pool_id, &req.username)
        .await?
        .ok_or_else(CognitoError::user_not_found)?;
    // MaxResults 0 or none means 60, as on Cognito.
    let size = page_size(req.max_results, "maxResults", 0, 60)?;
    let listing = ["AdminListUserAuthEvents", &pool.pool_id, &user.user_id];
    let page = Paging::new(app.keys.master(), &listing, req.next_token.as_deref(), size)?;
    let before_id = match page.after() {
        Some(key) => Some(
            key.parse::<i64>()
                .map_err(|_| CognitoError::invalid("Invalid pagination token."))?,
        ),
        None => None,
    };
    let rows = app
        .store
        .auth_events(&AuthEventFilter {
            pool_id: Some(&pool.pool_id),
            username: Some(&user.username),
            user_sub: Some(&user.user_id),
            kinds: Some(LISTED),
            before_id,
            limit: i64::try_from(size).unwrap_or(60) + 1,
            ..Default::default()
        })
        .await?;
    let more = rows.len() > size;
    let rows = &rows[..rows.len().min(size)];
    let next = rows.last().filter(|_| more).map(|r| r.id.to_string());
    let events = rows.iter().map(auth_event_type).collect();
    Ok(page.answer("AuthEvents", events, next.as_deref()))
}

/// One event as Cognito's `AuthEventType`.
fn auth_event_type(row: &AuthEventRow) -> Value {
    let passed = row.outcome == "pass";
    let event_type = match row.kind.as_str() {
        "sign_up" => "SignUp",
        "forgot_password" | "password_reset" => "ForgotPassword",
        "password_change" => "PasswordChange",
        _ => "SignIn",
    };
    let challenge = match row.kind.as_str() {
        "sign_in" | "throttled" => Some("Password"),
        "mfa_challenge" => Some("Mfa"),
        _ => None,
    };
    let mut event = json!({
        "EventId": row.event_id,
        "EventType": event_type,
        "CreationDate": row.at,
        "EventResponse": if passed { "Pass" } else { "Fail" },
        "ChallengeResponses": challenge.map_or_else(Vec::new, |name| vec![json!({
            "ChallengeName": name,
            "ChallengeResponse": if passed { "Success" } else { "Failure" },
        })]),
    });
    let mut context = serde_json::Map::new();
    if let Some(ip) = &row.source_ip {
        context.insert("IpAddress".into(), json!(ip));
    }
    if let Some(agent) = &row.user_agent {
        context.insert("DeviceName".into(), json!(agent));
    }
    if !context.is_empty() {
        event["EventContextData"] = Value::Object(context);
    }
    event
}
