//! What every hosted page starts from: the validated authorization request it carries
//! in its URL, the pool's settings, the language, the CSRF token and the client's look.

use axum::response::{IntoResponse, Response};
use tower_sessions::Session;

use super::csrf;
use super::i18n::{Texts, texts};
use super::pages::Chrome;
use crate::error::AppError;
use crate::oauth::authorize::{self, AuthorizeRequest, page_url};
use crate::pool::Pool;
use crate::state::Inner;

/// A hosted page's request context.
pub struct Flow {
    pub req: AuthorizeRequest,
    pub pool: Pool,
    pub t: &'static Texts,
    pub csrf: String,
}

impl Flow {
    /// Validates the request a page carries; a bad one answers as `/oauth2/authorize`
    /// would (an error page, or an error redirect to a trusted URI).
    pub async fn open(
        app: &Inner,
        pool_id: &str,
        session: &Session,
        query: Option<&str>,
    ) -> Result<Self, Response> {
        let req = authorize::validate(app, pool_id, query.unwrap_or_default())
            .await
            .map_err(IntoResponse::into_response)?;
        let pool = app
            .store
            .pool_by_id(pool_id)
            .await
            .map_err(AppError::from)
            .and_then(|p| p.ok_or(AppError::NotFound("user pool")))
            .map_err(IntoResponse::into_response)?;
        let csrf = csrf::token(session, pool_id)
            .await
            .map_err(IntoResponse::into_response)?;
        let t = texts(req.lang.as_deref());
        Ok(Self { req, pool, t, csrf })
    }

    /// Checks a posted form's CSRF token.
    pub async fn check_csrf(
        &self,
        session: &Session,
        presented: Option<&String>,
    ) -> Result<(), Response> {
        csrf::verify(
            session,
            &self.req.pool_id,
            presented.map(String::as_str).unwrap_or_default(),
        )
        .await
        .map_err(IntoResponse::into_response)
    }

    /// Another hosted page of the same flow.
    pub fn url(&self, app: &Inner, page: &str) -> String {
        page_url(app, &self.req, page)
    }

    /// The frame every page shares, titled `heading`.
    pub fn chrome<'a>(&'a self, app: &'a Inner, heading: &str) -> Chrome<'a> {
        let client = &self.req.client;
        let title = match &client.branding.page_title {
            Some(title) => title.clone(),
            None => format!("{heading} · {}", client.name),
        };
        Chrome {
            base: &app.config.public_url,
            lang: self.t.lang,
            title,
            client_name: &client.name,
            logo_url: client.branding.logo_url.as_deref(),
            client_css: client.branding.has_stylesheet().then(|| {
                format!(
                    "{}/{}/branding/{}.css?v={}",
                    app.config.public_url, self.req.pool_id, client.client_id, client.updated_at
                )
            }),
        }
    }
}
