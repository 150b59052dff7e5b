//! The hosted pages' look as Cognito's `SetUICustomization` sets it: a stylesheet and
//! a logo for all of a pool's clients (`ALL`) or for one client, whose own setting then
//! wins over `ALL`. The stylesheet is served from cognate's origin as a stylesheet
//! (never inlined), so the pages' content security policy stays `style-src 'self'`;
//! it still may not contain `</`, so it could never close a `<style>` element either.

use crate::error::AppError;
pub use crate::model::pool::UiCustomization;
use crate::services::Services;

/// The client id of the customization every client of a pool shares.
pub const ALL: &str = "ALL";

/// Cognito's limits on the stylesheet (characters) and the logo (bytes).
pub const MAX_CSS_LEN: usize = 131_072;
pub const MAX_IMAGE_LEN: usize = 131_072;

/// The media type of a PNG or JPEG logo, read from its first bytes; other images
/// (SVG above all, which can carry script) are refused.
pub fn image_type(bytes: &[u8]) -> Option<&'static str> {
    if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        Some("image/png")
    } else if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        Some("image/jpeg")
    } else {
        None
    }
}

/// Where the hosted pages (and `GetUICustomization`'s `ImageUrl`) find a
/// customization's logo: under the pool's routes (`pool_base`: `<public-url>/<pool-id>`,
/// or a domain's origin), versioned by its last change.
pub fn image_url(pool_base: &str, ui: &UiCustomization) -> String {
    format!("{pool_base}/ui-image/{}?v={}", ui.client_id, ui.updated_at)
}

/// Checks a stylesheet: at most [`MAX_CSS_LEN`] characters, no `</` (which could end
/// a `<style>` element) and no NUL.
pub fn validate_css(css: &str) -> Result<(), String> {
    if css.chars().count() > MAX_CSS_LEN {
        return Err(format!("CSS must be at most {MAX_CSS_LEN} characters"));
    }
    if css.contains("</") || css.contains('\0') {
        return Err("CSS must not contain \"</\" or NUL characters".into());
    }
    Ok(())
}

/// Sets the customization of `client_id` (`ALL` or one of the pool's clients), or
/// resets it when neither `css` nor `image` is given; returns what is now in force
/// for that client id, if anything.
pub async fn set(
    app: &Services,
    pool_id: &str,
    client_id: &str,
    css: Option<&str>,
    image: Option<&[u8]>,
) -> Result<Option<UiCustomization>, AppError> {
    check_target(app, pool_id, client_id).await?;
    if let Some(css) = css {
        validate_css(css).map_err(AppError::Invalid)?;
    }
    let image = match image {
        None => None,
        Some(bytes) if bytes.len() > MAX_IMAGE_LEN => {
            return Err(AppError::Invalid(format!(
                "ImageFile must be at most {MAX_IMAGE_LEN} bytes"
            )));
        }
        Some(bytes) => {
            let media_type = image_type(bytes)
                .ok_or_else(|| AppError::Invalid("ImageFile must be a PNG or JPEG image".into()))?;
            Some((bytes, media_type))
        }
    };
    app.store
        .set_ui_customization(pool_id, client_id, css, image, app.clock.now())
        .await?;
    Ok(app.store.ui_customization(pool_id, client_id).await?)
}

/// The customization in force for `client_id`: its own, else the pool's `ALL`.
pub async fn effective(
    app: &Services,
    pool_id: &str,
    client_id: &str,
) -> Result<Option<UiCustomization>, AppError> {
    if client_id != ALL
        && let Some(own) = app.store.ui_customization(pool_id, client_id).await?
    {
        return Ok(Some(own));
    }
    Ok(app.store.ui_customization(pool_id, ALL).await?)
}

/// Checks that the pool exists and `client_id` is `ALL` or one of its clients.
pub async fn check_target(app: &Services, pool_id: &str, client_id: &str) -> Result<(), AppError> {
    if app.store.pool_by_id(pool_id).await?.is_none() {
        return Err(AppError::NotFound("user pool"));
    }
    if client_id != ALL && app.store.client_by_id(pool_id, client_id).await?.is_none() {
        return Err(AppError::NotFound("client"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_png_and_jpeg_logos_are_recognised() {
        assert_eq!(image_type(b"\x89PNG\r\n\x1a\nrest"), Some("image/png"));
        assert_eq!(image_type(&[0xFF, 0xD8, 0xFF, 0xE0]), Some("image/jpeg"));
        assert_eq!(image_type(b"GIF89a"), None);
        assert_eq!(
            image_type(b"<svg xmlns='http://www.w3.org/2000/svg'/>"),
            None
        );
        assert_eq!(image_type(b""), None);
    }

    #[test]
    fn a_stylesheet_cannot_close_a_style_element() {
        assert!(validate_css(".banner-customizable { color: #fff; }").is_ok());
        assert!(validate_css("a{}</style><script>alert(1)</script>").is_err());
        assert!(validate_css("a{}</STYLE>").is_err());
        assert!(validate_css(&"a".repeat(MAX_CSS_LEN + 1)).is_err());
    }
}
