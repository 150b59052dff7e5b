//! Pre token generation, raised by every operation that issues a user's tokens
//! (`TokenGeneration_HostedAuth` at code redemption, `_Authentication` for the API's
//! sign-ins, `_RefreshTokens` at every refresh, on either surface), before the tokens
//! are signed.

use std::collections::BTreeMap;

use crate::clients::AppClient;
use crate::error::AppError;
use crate::services::Services;
use crate::triggers::{self, events::ClaimsOverride};
use crate::users::User;

/// What the pool's pre token generation trigger changes in `user`'s tokens; `None`
/// when the pool has none (found without a lookup when cached).
pub async fn claims_override(
    app: &Services,
    client: &AppClient,
    user: &User,
    scopes: &[String],
    source: &str,
    client_metadata: Option<&BTreeMap<String, String>>,
) -> Result<Option<ClaimsOverride>, AppError> {
    let Some(settings) = triggers::settings_of(app, &client.pool_id).await? else {
        return Ok(None);
    };
    let groups = app.store.groups_of_user(&user.user_id).await?;
    Ok(triggers::events::pre_token_generation(
        app,
        &settings,
        source,
        &client.client_id,
        user,
        &groups,
        scopes,
        client_metadata,
    )
    .await?)
}
