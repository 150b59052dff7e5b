//! The console's identity providers page: list, create and edit Google, Facebook,
//! Login with Amazon and OIDC providers (client id and secret, scopes, issuer and
//! endpoint overrides, linking policy), and delete one (after re-authentication).
//! Secrets are write-only: an edit that leaves the secret empty keeps the stored one.
//! Changes go through `crate::federation`.

use std::collections::BTreeMap;

use askama::Template;
use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use serde::Deserialize;

use super::pages::{Frame, render};
use super::pools::{PoolHead, load};
use super::{Answer, Checked, Operator, record, see_other};
use crate::error::AppError;
use crate::model::federation::{
    IdentityProvider, LinkingPolicy, NewProvider, ProviderDetails, ProviderType,
};
use crate::model::pool::Pool;
use crate::state::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route(
            "/admin/pools/{pool}/providers",
            get(get_providers).post(post_providers),
        )
        .route(
            "/admin/pools/{pool}/providers/{name}",
            get(get_provider).post(post_provider),
        )
        .route(
            "/admin/pools/{pool}/providers/{name}/delete",
            post(delete_provider),
        )
}

/// The types the console creates (Sign in with Apple needs a private key file: the
/// CLI and `apply` make those).
const TYPES: [&str; 4] = ["Google", "Facebook", "LoginWithAmazon", "OIDC"];

/// The provider form, as shown and as posted.
#[derive(Deserialize, Default)]
struct ProviderForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    provider_type: String,
    #[serde(default)]
    client_id: String,
    /// Empty on an edit: keep the stored secret.
    #[serde(default)]
    client_secret: String,
    #[serde(default)]
    authorize_scopes: String,
    #[serde(default)]
    oidc_issuer: String,
    #[serde(default)]
    authorize_url: String,
    #[serde(default)]
    token_url: String,
    #[serde(default)]
    attributes_url: String,
    #[serde(default)]
    jwks_uri: String,
    #[serde(default)]
    linking_policy: String,
}

fn opt(v: &str) -> Option<String> {
    Some(v.trim().to_string()).filter(|v| !v.is_empty())
}

impl ProviderForm {
    fn of(p: &IdentityProvider) -> Self {
        let d = &p.details;
        let t = |v: &Option<String>| v.clone().unwrap_or_default();
        Self {
            name: p.provider_name.clone(),
            provider_type: p.provider_type.as_str().to_string(),
            client_id: d.client_id.clone(),
            client_secret: String::new(),
            authorize_scopes: d.authorize_scopes.clone(),
            oidc_issuer: t(&d.oidc_issuer),
            authorize_url: t(&d.authorize_url),
            token_url: t(&d.token_url),
            attributes_url: t(&d.attributes_url),
            jwks_uri: t(&d.jwks_uri),
            linking_policy: linking_name(p.linking_policy).to_string(),
        }
    }

    fn linking(&self) -> Result<LinkingPolicy, AppError> {
        match self.linking_policy.as_str() {
            "" | "separate" => Ok(LinkingPolicy::Separate),
            "link" => Ok(LinkingPolicy::Link),
            "deny" => Ok(LinkingPolicy::Deny),
            _ => Err(AppError::Invalid(
                "the linking policy must be separate, link or deny".into(),
            )),
        }
    }

    /// The details this form gives, over `d` (an edit keeps what the form lacks).
    fn details(&self, d: &mut ProviderDetails) {
        d.client_id = self.client_id.trim().to_string();
        d.authorize_scopes = self.authorize_scopes.trim().to_string();
        d.oidc_issuer = opt(&self.oidc_issuer);
        d.authorize_url = opt(&self.authorize_url);
        d.token_url = opt(&self.token_url);
        d.attributes_url = opt(&self.attributes_url);
        d.jwks_uri = opt(&self.jwks_uri);
    }
}

fn linking_name(p: LinkingPolicy) -> &'static str {
    match p {
        LinkingPolicy::Separate => "separate",
        LinkingPolicy::Link => "link",
        LinkingPolicy::Deny => "deny",
    }
}

#[derive(Template)]
#[template(path = "console/providers.html")]
struct ProvidersPage {
    frame: Frame,
    head: PoolHead,
    providers: Vec<IdentityProvider>,
    form: ProviderForm,
    /// The provider being edited (its form posts there), or `None` for a new one.
    editing: Option<String>,
}

impl ProvidersPage {
    fn types(&self) -> [&'static str; 4] {
        TYPES
    }

    fn type_selected(&self, t: &str) -> bool {
        self.form.provider_type == t
    }

    fn linking_selected(&self, p: &str) -> bool {
        self.form.linking_policy == p || (p == "separate" && self.form.linking_policy.is_empty())
    }
}

async fn page(
    app: &AppState,
    operator: &Operator,
    pool: &Pool,
    form: ProviderForm,
    editing: Option<String>,
    error: Option<String>,
) -> Answer {
    let providers = app.store.identity_providers(&pool.pool_id).await?;
    let status = match error {
        Some(_) => StatusCode::BAD_REQUEST,
        None => StatusCode::OK,
    };
    let title = match &editing {
        Some(name) => format!("Identity provider {name}"),
        None => format!("Identity providers of {}", pool.name),
    };
    let frame = Frame::new(operator, "pools", title).error(error);
    Ok(render(
        status,
        &ProvidersPage {
            frame,
            head: PoolHead::new(pool, "providers"),
            providers,
            form,
            editing,
        },
    ))
}

async fn get_providers(
    State(app): State<AppState>,
    operator: Operator,
    Path(pool_id): Path<String>,
) -> Answer {
    let pool = load(&app, &pool_id).await?;
    let form = ProviderForm {
        provider_type: "Google".into(),
        authorize_scopes: "openid email profile".into(),
        ..Default::default()
    };
    page(&app, &operator, &pool, form, None, None).await
}

async fn post_providers(
    State(app): State<AppState>,
    operator: Operator,
    Path(pool_id): Path<String>,
    Checked(form): Checked<ProviderForm>,
) -> Answer {
    let pool = load(&app, &pool_id).await?;
    let made = match (
        ProviderType::parse(&form.provider_type).filter(|t| TYPES.contains(&t.as_str())),
        form.linking(),
    ) {
        (Some(provider_type), Ok(linking_policy)) => {
            let mut details = ProviderDetails::default();
            form.details(&mut details);
            Ok(NewProvider {
                provider_name: form.name.trim().to_string(),
                provider_type,
                details,
                client_secret: opt(&form.client_secret),
                attribute_mapping: BTreeMap::new(),
                linking_policy,
                idp_identifiers: Vec::new(),
            })
        }
        (None, _) => Err(AppError::Invalid(
            "the type must be Google, Facebook, LoginWithAmazon or OIDC".into(),
        )),
        (_, Err(e)) => Err(e),
    };
    let result = match made {
        Ok(new) => crate::federation::create_provider(&app, &pool_id, new).await,
        Err(e) => Err(e),
    };
    record(
        &app,
        &operator,
        "CreateIdentityProvider",
        Some(&pool_id),
        Some(form.name.trim()),
        result.is_ok(),
    );
    match result {
        Ok(_) => Ok(see_other(&format!("/admin/pools/{pool_id}/providers"))),
        Err(e @ (AppError::Invalid(_) | AppError::Conflict(_))) => {
            let form = ProviderForm {
                client_secret: String::new(),
                ..form
            };
            page(&app, &operator, &pool, form, None, Some(e.to_string())).await
        }
        Err(e) => Err(e.into()),
    }
}

async fn get_provider(
    State(app): State<AppState>,
    operator: Operator,
    Path((pool_id, name)): Path<(String, String)>,
) -> Answer {
    let pool = load(&app, &pool_id).await?;
    let provider = crate::federation::provider(&app, &pool_id, &name)
        .await?
        .ok_or(AppError::NotFound("identity provider"))?;
    let form = ProviderForm::of(&provider);
    page(
        &app,
        &operator,
        &pool,
        form,
        Some(provider.provider_name),
        None,
    )
    .await
}

async fn post_provider(
    State(app): State<AppState>,
    operator: Operator,
    Path((pool_id, name)): Path<(String, String)>,
    Checked(form): Checked<ProviderForm>,
) -> Answer {
    let pool = load(&app, &pool_id).await?;
    let result = match form.linking() {
        Ok(linking) => {
            crate::federation::update_provider(&app, &pool_id, &name, |p| {
                form.details(&mut p.details);
                p.linking_policy = linking;
                if let Some(secret) = opt(&form.client_secret) {
                    p.client_secret = Some(secret);
                }
            })
            .await
        }
        Err(e) => Err(e),
    };
    record(
        &app,
        &operator,
        "UpdateIdentityProvider",
        Some(&pool_id),
        Some(&name),
        result.is_ok(),
    );
    match result {
        Ok(_) => Ok(see_other(&format!("/admin/pools/{pool_id}/providers"))),
        Err(e @ AppError::Invalid(_)) => {
            let form = ProviderForm {
                client_secret: String::new(),
                ..form
            };
            page(
                &app,
                &operator,
                &pool,
                form,
                Some(name),
                Some(e.to_string()),
            )
            .await
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(Deserialize)]
struct NoFields {}

async fn delete_provider(
    State(app): State<AppState>,
    operator: Operator,
    Path((pool_id, name)): Path<(String, String)>,
    Checked(NoFields {}): Checked<NoFields>,
) -> Answer {
    let back = format!("/admin/pools/{pool_id}/providers");
    if let Some(res) = operator.require_recent(&app, &back) {
        return Ok(res);
    }
    let result = crate::federation::delete_provider(&app, &pool_id, &name).await;
    record(
        &app,
        &operator,
        "DeleteIdentityProvider",
        Some(&pool_id),
        Some(&name),
        result.is_ok(),
    );
    result?;
    Ok(see_other(&back))
}
