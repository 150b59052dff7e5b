//! CSRF for the console's forms. The token is a keyed digest of the console cookie's
//! value (a signed-in session's, or the random value the sign-in page hands out), so it
//! is bound to the browser's session, the same on every instance, and never stored. A
//! post is refused when the token is missing or wrong (compared in constant time), or
//! when the browser says it came from another site (`Sec-Fetch-Site`, `Origin`). The
//! cookie is `SameSite=Strict` besides.

use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde::de::DeserializeOwned;

use crate::crypto::ct_eq;
use crate::hosted_ui::csrf::from_elsewhere;
use crate::state::AppState;

const FOREIGN: &str = "This form has expired or did not come from the console. \
                       Go back, reload the page and try again.";

/// The CSRF token for the console cookie's value `cookie`.
pub fn token(app: &AppState, cookie: &str) -> String {
    hex::encode(
        app.keys
            .digests()
            .keyed_digest("console-csrf", &[cookie.as_bytes()]),
    )
}

/// A console form whose CSRF token and origin were checked; its fields as `T`.
pub struct Checked<T>(pub T);

#[derive(Deserialize, Default)]
struct TokenField {
    #[serde(default)]
    csrf_token: String,
}

impl<T: DeserializeOwned + Send> FromRequest<AppState> for Checked<T> {
    type Rejection = Response;

    async fn from_request(req: Request, app: &AppState) -> Result<Self, Response> {
        // The console sends `Referrer-Policy: no-referrer`, so its own forms post with
        // `Origin: null`: the fetch metadata tells then.
        if from_elsewhere(&own_origin(app), req.headers()) {
            return Err(forbidden());
        }
        let cookie = super::auth::cookie_value(app, req.headers()).unwrap_or_default();
        let body = Bytes::from_request(req, app)
            .await
            .map_err(IntoResponse::into_response)?;
        let presented: TokenField = serde_urlencoded::from_bytes(&body).unwrap_or_default();
        let expected = token(app, &cookie);
        if cookie.is_empty()
            || presented.csrf_token.is_empty()
            || !ct_eq(expected.as_bytes(), presented.csrf_token.as_bytes())
        {
            return Err(forbidden());
        }
        serde_urlencoded::from_bytes(&body)
            .map(Checked)
            .map_err(|e| {
                super::refusal(
                    StatusCode::BAD_REQUEST,
                    &format!("The form is not valid: {e}."),
                )
            })
    }
}

fn forbidden() -> Response {
    super::refusal(StatusCode::FORBIDDEN, FOREIGN)
}

/// The origin the console is served from (the public URL's).
fn own_origin(app: &AppState) -> String {
    url::Url::parse(&app.config.public_url)
        .map(|u| u.origin().ascii_serialization())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderMap;

    #[test]
    fn posts_from_other_sites_are_told_apart() {
        let ours = "https://id.example.com";
        let headers = |pairs: &[(&'static str, &'static str)]| {
            let mut h = HeaderMap::new();
            for (k, v) in pairs {
                h.insert(*k, v.parse().unwrap());
            }
            h
        };
        assert!(!from_elsewhere(ours, &headers(&[])));
        assert!(!from_elsewhere(
            ours,
            &headers(&[("origin", "null"), ("sec-fetch-site", "same-origin")])
        ));
        assert!(!from_elsewhere(
            ours,
            &headers(&[("origin", "https://id.example.com")])
        ));
        assert!(from_elsewhere(
            ours,
            &headers(&[("origin", "https://evil.test")])
        ));
        assert!(from_elsewhere(
            ours,
            &headers(&[("sec-fetch-site", "cross-site")])
        ));
        assert!(from_elsewhere(
            ours,
            &headers(&[("sec-fetch-site", "same-site")])
        ));
    }
}
