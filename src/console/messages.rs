//! The console's mail templates page: a pool's own subject and message for each kind
//! of mail (or the default), with a preview rendered by the same code that renders
//! real mail (`crate::mail::render`), for a sample user and code. Previewing changes
//! nothing; saving goes through `crate::pool::update`.

use askama::Template;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::routing::get;
use serde::Deserialize;

use super::pages::{Frame, render};
use super::pools::{PoolHead, load};
use super::{Answer, Checked, Operator, record, see_other};
use crate::error::AppError;
use crate::mail::{MessageKind, Outgoing, Rendered};
use crate::mail::{MessageTemplates, Override};
use crate::model::pool::Pool;
use crate::state::AppState;

pub fn routes() -> Router<AppState> {
    Router::new().route(
        "/admin/pools/{pool}/messages",
        get(get_messages).post(post_messages),
    )
}

/// The kinds, as (name in the URL, label).
const KINDS: [(MessageKind, &str); 4] = [
    (MessageKind::Verification, "Verification code"),
    (MessageKind::Reset, "Password reset code"),
    (
        MessageKind::TemporaryPassword,
        "Invitation with a temporary password",
    ),
    (MessageKind::Mfa, "Sign-in code (e-mail MFA)"),
];

fn kind_named(name: &str) -> MessageKind {
    KINDS
        .iter()
        .map(|(k, _)| *k)
        .find(|k| k.as_str() == name)
        .unwrap_or(MessageKind::Verification)
}

fn slot(templates: &mut MessageTemplates, kind: MessageKind) -> &mut Option<Override> {
    match kind {
        MessageKind::Verification => &mut templates.verification,
        MessageKind::Reset => &mut templates.reset,
        MessageKind::TemporaryPassword => &mut templates.temporary_password,
        MessageKind::Mfa => &mut templates.mfa,
    }
}

/// The message a sample user would get with `templates`.
fn preview(pool_id: &str, kind: MessageKind, templates: &MessageTemplates) -> Rendered {
    let code = match kind {
        MessageKind::TemporaryPassword => "Tmp-Pa55word!",
        _ => "123456",
    };
    crate::mail::render(
        &Outgoing {
            pool_id,
            to: "jane@example.com",
            kind,
            username: "jane.doe",
            code,
            link: None,
        },
        templates,
    )
}

#[derive(Template)]
#[template(path = "console/messages.html")]
struct MessagesPage {
    frame: Frame,
    head: PoolHead,
    kind: &'static str,
    form: MessageForm,
    /// Whether the pool has its own template for this kind.
    custom: bool,
    preview: Rendered,
    /// Whether the preview is of unsaved text.
    unsaved: bool,
}

impl MessagesPage {
    fn is_current(&self, name: &str) -> bool {
        self.kind == name
    }

    fn is_invitation(&self) -> bool {
        self.kind == MessageKind::TemporaryPassword.as_str()
    }

    fn kinds(&self) -> Vec<(&'static str, &'static str)> {
        KINDS.iter().map(|(k, l)| (k.as_str(), *l)).collect()
    }
}

#[derive(Deserialize, Default)]
struct MessageForm {
    #[serde(default)]
    kind: String,
    #[serde(default)]
    subject: String,
    #[serde(default)]
    body: String,
    /// `preview`, `save` or `default` (back to the default template).
    #[serde(default)]
    action: String,
}

#[derive(Deserialize)]
struct Which {
    kind: Option<String>,
    saved: Option<String>,
}

#[expect(clippy::too_many_arguments, reason = "one page's parts")]
fn page(
    operator: &Operator,
    pool: &Pool,
    kind: MessageKind,
    form: Option<MessageForm>,
    preview_of: &MessageTemplates,
    unsaved: bool,
    notice: Option<String>,
    error: Option<String>,
) -> Answer {
    let custom = pool.settings.messages.get(kind).is_some();
    let form = form.unwrap_or_else(|| {
        let current = pool.settings.messages.get(kind);
        MessageForm {
            kind: kind.as_str().to_string(),
            subject: current.map(|o| o.subject.clone()).unwrap_or_default(),
            body: current.map(|o| o.body.clone()).unwrap_or_default(),
            action: String::new(),
        }
    });
    let status = match error {
        Some(_) => StatusCode::BAD_REQUEST,
        None => StatusCode::OK,
    };
    let frame = Frame::new(operator, "pools", format!("Messages of {}", pool.name))
        .notice(notice)
        .error(error);
    Ok(render(
        status,
        &MessagesPage {
            frame,
            head: PoolHead::new(pool, "messages"),
            kind: kind.as_str(),
            form,
            custom,
            preview: preview(&pool.pool_id, kind, preview_of),
            unsaved,
        },
    ))
}

async fn get_messages(
    State(app): State<AppState>,
    operator: Operator,
    Path(pool_id): Path<String>,
    Query(q): Query<Which>,
) -> Answer {
    let pool = load(&app, &pool_id).await?;
    let kind = kind_named(q.kind.as_deref().unwrap_or_default());
    let notice = q.saved.map(|_| "Saved.".to_string());
    let templates = pool.settings.messages.clone();
    page(
        &operator, &pool, kind, None, &templates, false, notice, None,
    )
}

async fn post_messages(
    State(app): State<AppState>,
    operator: Operator,
    Path(pool_id): Path<String>,
    Checked(form): Checked<MessageForm>,
) -> Answer {
    let pool = load(&app, &pool_id).await?;
    let kind = kind_named(&form.kind);
    let mut templates = pool.settings.messages.clone();
    let own = Override {
        subject: form.subject.trim().to_string(),
        body: form.body.replace("\r\n", "\n"),
    };
    *slot(&mut templates, kind) = match form.action.as_str() {
        "default" => None,
        _ => Some(own.clone()),
    };
    if let Err(e) = own.check(kind).map_err(AppError::Invalid)
        && form.action != "default"
    {
        let current = pool.settings.messages.clone();
        return page(
            &operator,
            &pool,
            kind,
            Some(form),
            &current,
            false,
            None,
            Some(e.to_string()),
        );
    }
    if form.action == "preview" {
        return page(
            &operator,
            &pool,
            kind,
            Some(form),
            &templates,
            true,
            None,
            None,
        );
    }
    let result = crate::pool::update(&app, &pool_id, |s| s.messages = templates).await;
    record(
        &app,
        &operator,
        "UpdateUserPool",
        Some(&pool_id),
        Some(kind.as_str()),
        result.is_ok(),
    );
    match result {
        Ok(_) => Ok(see_other(&format!(
            "/admin/pools/{pool_id}/messages?kind={}&saved=1",
            kind.as_str()
        ))),
        Err(e @ AppError::Invalid(_)) => {
            let current = pool.settings.messages.clone();
            page(
                &operator,
                &pool,
                kind,
                Some(form),
                &current,
                false,
                None,
                Some(e.to_string()),
            )
        }
        Err(e) => Err(e.into()),
    }
}
