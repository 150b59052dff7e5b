//! What every hosted page starts from: the validated authorization request it carries
//! in its URL, the pool's settings, the language, the CSRF token and the client's look.
//! Handlers take it as an extractor ([`Flow`], or [`FlowForm`] for a posted form whose
//! CSRF token it checks), with the session's pending step ([`Step`]), and return
//! `Result<Response, PageError>`.

use axum::extract::{Form, FromRequest, FromRequestParts, Path, Request};
use axum::http::request::Parts;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use tower_sessions::Session;

use super::csrf;
use super::i18n::{Texts, texts};
use super::pages::Chrome;
use super::{Fields, field};
use crate::error::AppError;
use crate::host_routing::ThroughDomain;
use crate::oauth::authorize::{self, AuthorizeRequest, Rejection, page_url};
use crate::pool::Pool;
use crate::pool::ui::{self, UiCustomization};
use crate::session::{self, StepKind};
use crate::state::{AppState, Inner};

/// Why a hosted page answers with something other than itself.
pub enum PageError {
    /// An error page.
    App(AppError),
    /// A bad authorization request, answered as `/oauth2/authorize` answers it (an
    /// error page, or an error redirect to a trusted URI).
    Authorize(Rejection),
    /// A request axum could not read, with axum's own answer.
    Request(Response),
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        match self {
            PageError::App(e) => e.into_response(),
            PageError::Authorize(r) => r.into_response(),
            PageError::Request(res) => res,
        }
    }
}

impl From<AppError> for PageError {
    fn from(e: AppError) -> Self {
        PageError::App(e)
    }
}

impl From<Rejection> for PageError {
    fn from(r: Rejection) -> Self {
        PageError::Authorize(r)
    }
}

/// Turns an axum extractor's rejection into a [`PageError`].
fn unreadable(rejection: impl IntoResponse) -> PageError {
    PageError::Request(rejection.into_response())
}

/// The page's pool, from the first segment of its path.
#[derive(Deserialize)]
struct PoolPath {
    pool_id: String,
}

/// The pool a page is for, and the browser's session.
async fn pool_and_session(
    parts: &mut Parts,
    app: &AppState,
) -> Result<(String, Session), PageError> {
    let Path(PoolPath { pool_id }) = Path::from_request_parts(parts, app)
        .await
        .map_err(unreadable)?;
    let session = Session::from_request_parts(parts, app)
        .await
        .map_err(unreadable)?;
    Ok((pool_id, session))
}

/// The domain the request came through, if it was routed by `Host`.
fn via(parts: &Parts) -> Option<ThroughDomain> {
    parts.extensions.get::<ThroughDomain>().cloned()
}

/// A hosted page's request context.
pub struct Flow {
    pub req: AuthorizeRequest,
    pub pool: Pool,
    pub t: &'static Texts,
    pub csrf: String,
    /// The Cognito UI customization in force for the client, if any.
    pub ui: Option<UiCustomization>,
}

impl FromRequestParts<AppState> for Flow {
    type Rejection = PageError;

    async fn from_request_parts(parts: &mut Parts, app: &AppState) -> Result<Self, PageError> {
        let (pool_id, session) = pool_and_session(parts, app).await?;
        Flow::open(app, &pool_id, via(parts), &session, parts.uri.query()).await
    }
}

/// A posted form and the [`Flow`] it belongs to; its CSRF token is checked.
pub struct FlowForm {
    pub flow: Flow,
    pub form: Fields,
}

impl FromRequest<AppState> for FlowForm {
    type Rejection = PageError;

    /// Reads the path, the session and the form, then opens the flow, then checks the
    /// token: a page's handler used to, in this order.
    async fn from_request(req: Request, app: &AppState) -> Result<Self, PageError> {
        let (mut parts, body) = req.into_parts();
        let (pool_id, session) = pool_and_session(&mut parts, app).await?;
        let through = via(&parts);
        let query = parts.uri.query().map(str::to_owned);
        let Form(form) = Form::<Fields>::from_request(Request::from_parts(parts, body), app)
            .await
            .map_err(unreadable)?;
        let flow = Flow::open(app, &pool_id, through, &session, query.as_deref()).await?;
        flow.check_csrf(&session, &form).await?;
        Ok(Self { flow, form })
    }
}

/// This session's pending step of kind `K` for the page's pool, unless it expired.
pub struct Step<K: StepKind>(pub Option<K::Step>);

impl<K: StepKind> FromRequestParts<AppState> for Step<K> {
    type Rejection = PageError;

    async fn from_request_parts(parts: &mut Parts, app: &AppState) -> Result<Self, PageError> {
        let (pool_id, session) = pool_and_session(parts, app).await?;
        let step = session::step::<K>(&session, &pool_id, app.clock.now()).await?;
        Ok(Self(step))
    }
}

impl Flow {
    /// Validates the request a page carries; a bad one answers as `/oauth2/authorize`
    /// would.
    async fn open(
        app: &Inner,
        pool_id: &str,
        through: Option<ThroughDomain>,
        session: &Session,
        query: Option<&str>,
    ) -> Result<Self, PageError> {
        let req = authorize::validate(app, pool_id, through, query.unwrap_or_default()).await?;
        let pool = app
            .store
            .pool_by_id(pool_id)
            .await
            .map_err(AppError::from)?
            .ok_or(AppError::NotFound("user pool"))?;
        let csrf = csrf::token(session, pool_id).await?;
        let t = texts(req.lang.as_deref());
        let ui = ui::effective(app, pool_id, &req.client.client_id).await?;
        Ok(Self {
            req,
            pool,
            t,
            csrf,
            ui,
        })
    }

    /// Checks a posted form's CSRF token.
    async fn check_csrf(&self, session: &Session, form: &Fields) -> Result<(), AppError> {
        csrf::verify(session, &self.req.pool_id, field(form, "csrf_token")).await
    }

    /// Another hosted page of the same flow, on the host this one was served from.
    pub fn url(&self, app: &Inner, page: &str) -> String {
        page_url(app, &self.req, page)
    }

    /// Sends the browser on to another hosted page of the same flow.
    pub fn go(&self, app: &Inner, page: &str) -> Response {
        Redirect::to(&self.url(app, page)).into_response()
    }

    /// The frame every page shares, titled `heading`.
    pub fn chrome<'a>(&'a self, app: &'a Inner, heading: &str) -> Chrome<'a> {
        let client = &self.req.client;
        let name = client.display_name();
        let title = match &client.branding.page_title {
            Some(title) => title.clone(),
            None => format!("{heading} · {name}"),
        };
        // Links stay on the host the page is served at (the public URL, or a domain).
        let base = self.req.base(app);
        let custom = self.ui.as_ref();
        // A logo set through the Cognito API wins over cognate's own branding.
        let logo_url = match custom.filter(|u| u.image_type.is_some()) {
            Some(u) => Some(ui::image_url(&base.pool, u)),
            None => client.branding.logo_url.clone(),
        };
        let has_css = client.branding.has_stylesheet() || custom.is_some_and(|u| u.css.is_some());
        Chrome {
            base: base.site,
            lang: self.t.lang,
            title,
            client_name: name,
            logo_url,
            client_css: has_css.then(|| {
                format!(
                    "{}/branding/{}.css?v={}.{}",
                    base.pool,
                    client.client_id,
                    client.updated_at,
                    custom.map_or(0, |u| u.updated_at)
                )
            }),
        }
    }
}
