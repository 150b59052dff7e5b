//! A pool's users in the console (issue 20 item 3): search with `ListUsers`' own filter
//! syntax (`email ^= "ali"`, parsed by [`crate::cognito_api::list_users::parse`]), a
//! user's page (attributes, groups, status, MFA, live sign-ins), and the actions an
//! administrator takes — each through the same domain function as its Cognito API
//! action, recorded as one admin event under that action's name with the operator as
//! the actor:
//!
//! | console action       | Cognito action             | re-authentication |
//! |----------------------|----------------------------|-------------------|
//! | enable               | `AdminEnableUser`          | no                |
//! | disable              | `AdminDisableUser`         | yes               |
//! | reset password       | `AdminResetUserPassword`   | yes               |
//! | sign out everywhere  | `AdminUserGlobalSignOut`   | yes               |
//! | reset MFA            | `AdminDeleteSoftwareToken` | yes               |
//! | add to group         | `AdminAddUserToGroup`      | no                |
//! | remove from group    | `AdminRemoveUserFromGroup` | no                |
//!
//! The destructive ones end the user's sign-ins or credentials, so they are confirmed
//! on a page of their own after a recent password and code.

use askama::Template;
use axum::Router;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::routing::get;
use serde::{Deserialize, Serialize};

use super::logs::events_of_user;
use super::pages::{Frame, ok, render, time};
use super::paths::user_path;
use super::pools::{PoolHead, load};
use super::{Answer, Checked, Failure, Operator, record, see_other};
use crate::cognito_api::list_users;
use crate::error::AppError;
use crate::model::pool::Pool;
use crate::state::AppState;
use crate::users::User;
use crate::users::admin::{self, AdminError};

/// Users per page of the search.
const PAGE: usize = 50;
/// Live sign-ins listed on a user's page.
const SESSIONS: i64 = 50;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/admin/pools/{pool}/users", get(get_users))
        .route("/admin/pools/{pool}/users/{user}", get(get_user))
        .route(
            "/admin/pools/{pool}/users/{user}/{action}",
            get(get_action).post(post_action),
        )
}

/// What an operator may do to a user.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Enable,
    Disable,
    ResetPassword,
    SignOut,
    ResetMfa,
    AddGroup,
    RemoveGroup,
}

impl Action {
    const ALL: [Action; 7] = [
        Action::Enable,
        Action::Disable,
        Action::ResetPassword,
        Action::SignOut,
        Action::ResetMfa,
        Action::AddGroup,
        Action::RemoveGroup,
    ];

    /// The action's path segment.
    pub fn slug(self) -> &'static str {
        match self {
            Action::Enable => "enable",
            Action::Disable => "disable",
            Action::ResetPassword => "reset-password",
            Action::SignOut => "sign-out",
            Action::ResetMfa => "reset-mfa",
            Action::AddGroup => "add-group",
            Action::RemoveGroup => "remove-group",
        }
    }

    fn parse(slug: &str) -> Option<Action> {
        Action::ALL.into_iter().find(|a| a.slug() == slug)
    }

    /// The Cognito API action it is: the admin event's action.
    pub fn api_name(self) -> &'static str {
        match self {
            Action::Enable => "AdminEnableUser",
            Action::Disable => "AdminDisableUser",
            Action::ResetPassword => "AdminResetUserPassword",
            Action::SignOut => "AdminUserGlobalSignOut",
            Action::ResetMfa => "AdminDeleteSoftwareToken",
            Action::AddGroup => "AdminAddUserToGroup",
            Action::RemoveGroup => "AdminRemoveUserFromGroup",
        }
    }

    /// Whether it ends the user's sign-ins or credentials: confirmed after a recent
    /// re-authentication.
    pub fn is_destructive(self) -> bool {
        matches!(
            self,
            Action::Disable | Action::ResetPassword | Action::SignOut | Action::ResetMfa
        )
    }

    /// What the confirmation page says it does, and its button.
    fn confirm(self, username: &str) -> (String, &'static str) {
        match self {
            Action::Disable => (
                format!(
                    "Disable {username}: they can no longer sign in, and every sign-in they \
                     have (refresh tokens, hosted-UI sessions) ends now."
                ),
                "Disable user",
            ),
            Action::ResetPassword => (
                format!(
                    "Reset the password of {username}: their password stops working, every \
                     sign-in ends, and a reset code is mailed to them."
                ),
                "Reset password",
            ),
            Action::SignOut => (
                format!(
                    "Sign {username} out everywhere: every refresh token and hosted-UI \
                     session of theirs ends now."
                ),
                "Sign out everywhere",
            ),
            Action::ResetMfa => (
                format!(
                    "Reset the authenticator of {username}: their TOTP authenticator is \
                     forgotten; they set up a new one when next asked."
                ),
                "Reset MFA",
            ),
            _ => (String::new(), ""),
        }
    }

    /// What the user's page says after it was done.
    fn done(self) -> &'static str {
        match self {
            Action::Enable => "The user was enabled.",
            Action::Disable => "The user was disabled and signed out everywhere.",
            Action::ResetPassword => "The password was reset; a code was mailed to the user.",
            Action::SignOut => "The user was signed out everywhere.",
            Action::ResetMfa => "The user's authenticator was reset.",
            Action::AddGroup => "The user was added to the group.",
            Action::RemoveGroup => "The user was removed from the group.",
        }
    }
}

/// An administrator's refusal as the page's message; a missing user is the console's
/// 404 and an internal failure its 500.
fn refusal_message(e: AdminError) -> Result<String, Failure> {
    match e {
        AdminError::Internal(e) => Err(e.into()),
        AdminError::UserNotFound => Err(AppError::NotFound("user").into()),
        other => Ok(other.to_string()),
    }
}

/// The search's query string.
#[derive(Debug, Default, Clone, Deserialize, Serialize)]
#[serde(default)]
struct UsersQuery {
    /// `ListUsers`' `Filter`: `attribute = "value"` or `attribute ^= "value"`.
    #[serde(skip_serializing_if = "String::is_empty")]
    filter: String,
    /// The page continues after this user's key.
    #[serde(skip_serializing_if = "String::is_empty")]
    after: String,
}

/// A user as a row of the search.
struct UserRow {
    username: String,
    path: String,
    email: String,
    status: &'static str,
    enabled: bool,
    created: String,
}

#[derive(Template)]
#[template(path = "console/users.html")]
struct UsersPage {
    frame: Frame,
    head: PoolHead,
    filter: String,
    attributes: &'static [&'static str],
    users: Vec<UserRow>,
    next: Option<String>,
    paged: bool,
}

async fn get_users(
    State(app): State<AppState>,
    operator: Operator,
    Path(pool_id): Path<String>,
    query: Result<Query<UsersQuery>, QueryRejection>,
) -> Answer {
    let pool = load(&app, &pool_id).await?;
    let query = query.map(|Query(q)| q).unwrap_or_default();
    let after = Some(query.after.as_str()).filter(|a| !a.is_empty());
    let (status, error, users, next) = match list_users::parse(&query.filter) {
        Ok(filter) => {
            let page = match admin::list_users(&app, &pool, filter.as_ref(), after, PAGE).await {
                Ok(page) => page,
                Err(e) => return Err(AppError::Invalid(refusal_message(e)?).into()),
            };
            let next = page.next.map(|key| {
                serde_urlencoded::to_string(UsersQuery {
                    filter: query.filter.clone(),
                    after: key,
                })
                .unwrap_or_default()
            });
            let rows = page.items.iter().map(|u| user_row(&pool, u)).collect();
            (StatusCode::OK, None, rows, next)
        }
        Err(message) => (StatusCode::BAD_REQUEST, Some(message), Vec::new(), None),
    };
    let frame = Frame::new(&operator, "pools", format!("Users of {}", pool.name)).error(error);
    Ok(render(
        status,
        &UsersPage {
            frame,
            head: PoolHead::new(&pool, "users"),
            filter: query.filter.clone(),
            attributes: list_users::FILTER_ATTRIBUTES,
            users,
            next,
            paged: after.is_some(),
        },
    ))
}

fn user_row(pool: &Pool, u: &User) -> UserRow {
    UserRow {
        path: user_path(&pool.pool_id, &u.username),
        username: u.username.clone(),
        email: u.attributes.get("email").cloned().unwrap_or_default(),
        status: u.status.as_str(),
        enabled: u.enabled,
        created: time(u.created_at),
    }
}

/// A live sign-in as a row of the user's page.
struct SessionRow {
    client_id: String,
    signed_in: String,
    expires: String,
}

#[derive(Template)]
#[template(path = "console/user.html")]
struct UserPage {
    frame: Frame,
    head: PoolHead,
    username: String,
    /// The user's console path, which the action forms post under.
    path: String,
    sub: String,
    status: &'static str,
    enabled: bool,
    created: String,
    updated: String,
    attributes: Vec<(String, String)>,
    groups: Vec<String>,
    /// The pool's groups the user is not in (to add them to).
    other_groups: Vec<String>,
    mfa: Vec<&'static str>,
    preferred_mfa: &'static str,
    has_authenticator: bool,
    sessions: Vec<SessionRow>,
    events: String,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct Done {
    done: String,
}

async fn get_user(
    State(app): State<AppState>,
    operator: Operator,
    Path((pool_id, username)): Path<(String, String)>,
    done: Result<Query<Done>, QueryRejection>,
) -> Answer {
    let pool = load(&app, &pool_id).await?;
    // The notice comes from a fixed list, never from the query's text.
    let notice = done
        .ok()
        .and_then(|Query(d)| Action::parse(&d.done))
        .map(|a| a.done().to_string());
    user_page(
        &app,
        &operator,
        &pool,
        &username,
        StatusCode::OK,
        notice,
        None,
    )
    .await
}

async fn user_page(
    app: &AppState,
    operator: &Operator,
    pool: &Pool,
    username: &str,
    status: StatusCode,
    notice: Option<String>,
    error: Option<String>,
) -> Answer {
    let user = match admin::user(app, pool, username).await {
        Ok(user) => user,
        Err(e) => return Err(refusal_message(e).err().unwrap_or_else(not_found)),
    };
    let groups: Vec<String> = app
        .store
        .groups_of_user(&user.user_id)
        .await?
        .into_iter()
        .map(|g| g.group_name)
        .collect();
    let other_groups = app
        .store
        .groups(&pool.pool_id)
        .await?
        .into_iter()
        .map(|g| g.group_name)
        .filter(|g| !groups.contains(g))
        .collect();
    let factors = crate::users::mfa::factors(app, &user).await?;
    let now = app.clock.now();
    let sessions = app
        .store
        .live_families_of_user(&user.user_id, now, SESSIONS)
        .await?
        .into_iter()
        .map(|f| SessionRow {
            client_id: f.client_id,
            signed_in: time(f.auth_time),
            expires: time(f.expires_at),
        })
        .collect();
    let frame = Frame::new(operator, "pools", format!("User {}", user.username))
        .notice(notice)
        .error(error);
    Ok(render(
        status,
        &UserPage {
            frame,
            head: PoolHead::new(pool, "users"),
            path: user_path(&pool.pool_id, &user.username),
            events: events_of_user(&pool.pool_id, &user.user_id),
            sub: user.user_id.clone(),
            status: user.status.as_str(),
            enabled: user.enabled,
            created: time(user.created_at),
            updated: time(user.updated_at),
            attributes: user.attributes.clone().into_iter().collect(),
            groups,
            other_groups,
            mfa: factors.enabled().into_iter().map(|f| f.as_str()).collect(),
            preferred_mfa: factors.preferred().map_or("", |f| f.as_str()),
            has_authenticator: factors.totp_verified(),
            sessions,
            username: user.username,
        },
    ))
}

fn not_found() -> Failure {
    Failure(AppError::NotFound("user"))
}

#[derive(Template)]
#[template(path = "console/confirm_action.html")]
struct ConfirmAction {
    frame: Frame,
    head: PoolHead,
    what: String,
    button: &'static str,
    action: String,
    back: String,
}

/// A destructive action's confirmation page, after a recent re-authentication.
async fn get_action(
    State(app): State<AppState>,
    operator: Operator,
    Path((pool_id, username, action)): Path<(String, String, String)>,
) -> Answer {
    let action = Action::parse(&action)
        .filter(|a| a.is_destructive())
        .ok_or(AppError::NotFound("page"))?;
    let pool = load(&app, &pool_id).await?;
    let user = admin::user(&app, &pool, &username)
        .await
        .map_err(|e| refusal_message(e).err().unwrap_or_else(not_found))?;
    let back = user_path(&pool.pool_id, &user.username);
    let path = format!("{back}/{}", action.slug());
    if let Some(res) = operator.require_recent(&app, &path) {
        return Ok(res);
    }
    let (what, button) = action.confirm(&user.username);
    Ok(ok(&ConfirmAction {
        frame: Frame::new(&operator, "pools", button),
        head: PoolHead::new(&pool, "users"),
        what,
        button,
        action: path,
        back,
    }))
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct ActionForm {
    /// The group, for adding and removing.
    group: String,
}

async fn post_action(
    State(app): State<AppState>,
    operator: Operator,
    Path((pool_id, username, action)): Path<(String, String, String)>,
    Checked(form): Checked<ActionForm>,
) -> Answer {
    let action = Action::parse(&action).ok_or(AppError::NotFound("page"))?;
    let pool = load(&app, &pool_id).await?;
    let path = user_path(&pool.pool_id, &username);
    if action.is_destructive()
        && let Some(res) = operator.require_recent(&app, &format!("{path}/{}", action.slug()))
    {
        return Ok(res);
    }
    let result = act(&app, &pool, &username, action, form.group.trim()).await;
    record(
        &app,
        &operator,
        action.api_name(),
        Some(&pool.pool_id),
        Some(&username),
        result.is_ok(),
    );
    match result {
        Ok(()) => Ok(see_other(&format!("{path}?done={}", action.slug()))),
        Err(e) => {
            let message = refusal_message(e)?;
            user_page(
                &app,
                &operator,
                &pool,
                &username,
                StatusCode::BAD_REQUEST,
                None,
                Some(message),
            )
            .await
        }
    }
}

/// Does `action`, through the functions the Cognito API's actions call.
async fn act(
    app: &AppState,
    pool: &Pool,
    username: &str,
    action: Action,
    group: &str,
) -> Result<(), AdminError> {
    match action {
        Action::Enable => admin::set_enabled(app, pool, username, true).await,
        Action::Disable => admin::set_enabled(app, pool, username, false).await,
        Action::ResetPassword => admin::reset_password(app, pool, username, None).await,
        Action::SignOut => admin::global_sign_out(app, pool, username).await,
        Action::ResetMfa => {
            let user = admin::user(app, pool, username).await?;
            crate::users::mfa::delete_software_token(app, &user)
                .await
                .map_err(AdminError::from)
        }
        Action::AddGroup | Action::RemoveGroup if group.is_empty() => {
            Err(AdminError::InvalidParameter("Choose a group.".into()))
        }
        Action::AddGroup => admin::set_membership(app, pool, username, group, true).await,
        Action::RemoveGroup => admin::set_membership(app, pool, username, group, false).await,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn actions_round_trip_and_the_destructive_ones_are_confirmed() {
        for a in Action::ALL {
            assert_eq!(Action::parse(a.slug()), Some(a));
            assert!(a.api_name().starts_with("Admin"));
            let (what, button) = a.confirm("ann");
            assert_eq!(a.is_destructive(), !what.is_empty() && !button.is_empty());
        }
        assert_eq!(Action::parse("delete"), None);
    }
}
