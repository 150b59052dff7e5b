//! `SetUICustomization` and `GetUICustomization`: the hosted pages' stylesheet and
//! logo for all of a pool's clients (`ClientId` `ALL`, the default) or for one client.
//! The logo is served at `ImageUrl`, under the pool's URL; the rules are in
//! [`crate::pool::ui`].

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde::Deserialize;
use serde_json::{Value, json};

use super::existing_pool;
use crate::cognito_api::{ActionResult, CognitoError, parse};
use crate::error::AppError;
use crate::pool::ui::{self, ALL, UiCustomization};
use crate::state::Inner;

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct SetUiCustomizationRequest {
    user_pool_id: String,
    client_id: Option<String>,
    #[serde(rename = "CSS")]
    css: Option<String>,
    /// The image's bytes, base64 in AWS JSON.
    image_file: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct GetUiCustomizationRequest {
    user_pool_id: String,
    client_id: Option<String>,
}

/// `UICustomizationType`.
fn ui_customization_type(app: &Inner, ui: &UiCustomization) -> Value {
    let mut v = json!({
        "UserPoolId": ui.pool_id,
        "ClientId": ui.client_id,
        // Changes with every change, so pages can link it with a cache-busting query.
        "CSSVersion": ui.updated_at.to_string(),
        "CreationDate": ui.created_at,
        "LastModifiedDate": ui.updated_at,
    });
    if let Some(css) = &ui.css {
        v["CSS"] = json!(css);
    }
    if ui.image_type.is_some() {
        let pool_base = format!("{}/{}", app.config.public_url, ui.pool_id);
        v["ImageUrl"] = json!(ui::image_url(&pool_base, ui));
    }
    v
}

/// Cognito's error for a client the pool does not have.
fn target_error(e: AppError, pool_id: &str, client_id: &str) -> CognitoError {
    match e {
        AppError::NotFound("client") => {
            CognitoError::not_found(format!("User pool client {client_id} does not exist."))
        }
        AppError::NotFound(_) => super::pool_not_found(pool_id),
        other => other.into(),
    }
}

pub(super) async fn set_ui_customization(app: &Inner, request: &Value) -> ActionResult {
    let req: SetUiCustomizationRequest = parse(request)?;
    let pool = existing_pool(app, &req.user_pool_id).await?;
    let client_id = req.client_id.as_deref().unwrap_or(ALL);
    let image = req
        .image_file
        .as_deref()
        .map(|b64| {
            STANDARD.decode(b64).map_err(|_| {
                CognitoError::new("SerializationException", "ImageFile is not base64.")
            })
        })
        .transpose()?;
    let set = ui::set(
        app,
        &pool.pool_id,
        client_id,
        req.css.as_deref(),
        image.as_deref(),
    )
    .await
    .map_err(|e| target_error(e, &pool.pool_id, client_id))?;
    let shape = match &set {
        Some(ui) => ui_customization_type(app, ui),
        // Reset: nothing is set for this client id.
        None => json!({ "UserPoolId": pool.pool_id, "ClientId": client_id }),
    };
    Ok(json!({ "UICustomization": shape }))
}

pub(super) async fn get_ui_customization(app: &Inner, request: &Value) -> ActionResult {
    let req: GetUiCustomizationRequest = parse(request)?;
    let pool = existing_pool(app, &req.user_pool_id).await?;
    let client_id = req.client_id.as_deref().unwrap_or(ALL);
    ui::check_target(app, &pool.pool_id, client_id)
        .await
        .map_err(|e| target_error(e, &pool.pool_id, client_id))?;
    // A client without its own customization shows the pool's (`ClientId` `ALL`), as
    // Cognito's does; with none at all the answer is empty, as Cognito's is.
    let shape = match ui::effective(app, &pool.pool_id, client_id).await? {
        Some(ui) => ui_customization_type(app, &ui),
        None => json!({}),
    };
    Ok(json!({ "UICustomization": shape }))
}
