//! The console's app client pages: the list, creating one, editing its settings
//! (callbacks, sign-out URLs, flows, scopes, providers, token lifetimes, the return-to
//! allow-list and state grammar), a "try a state" checker that runs the same splitter
//! as `/oauth2/authorize`, branding with a link to the real login page, and deleting
//! one (after re-authentication). Changes go through `crate::clients`.

use askama::Template;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::get;
use serde::Deserialize;

use super::pages::{Frame, ok, render, time};
use super::pools::{ConfirmDelete, PoolHead, load};
use super::{Answer, Checked, Operator, record, see_other};
use crate::clients::state_split::{Split, StateEncoding};
use crate::clients::{AppClient, ClientSettings, FLOW_CLIENT_CREDENTIALS, FLOW_CODE, NewSecret};
use crate::error::AppError;
use crate::model::pool::Pool;
use crate::state::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route(
            "/admin/pools/{pool}/clients",
            get(get_clients).post(post_clients),
        )
        .route(
            "/admin/pools/{pool}/clients/{client}",
            get(get_client).post(post_client),
        )
        .route(
            "/admin/pools/{pool}/clients/{client}/branding",
            get(get_branding).post(post_branding),
        )
        .route(
            "/admin/pools/{pool}/clients/{client}/delete",
            get(get_delete).post(post_delete),
        )
}

fn client_path(pool_id: &str, client_id: &str) -> String {
    format!("/admin/pools/{pool_id}/clients/{client_id}")
}

/// One line per entry, blank lines dropped.
fn lines(text: &str) -> Vec<String> {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(str::to_string)
        .collect()
}

/// Entries separated by spaces or commas.
fn words(text: &str) -> Vec<String> {
    text.split([' ', ',', '\n', '\r', '\t'])
        .filter(|w| !w.is_empty())
        .map(str::to_string)
        .collect()
}

struct ClientRow {
    client_id: String,
    name: String,
    has_secret: bool,
    created: String,
}

#[derive(Template)]
#[template(path = "console/clients.html")]
struct ClientsPage {
    frame: Frame,
    head: PoolHead,
    clients: Vec<ClientRow>,
    name: String,
}

async fn clients_page(
    app: &AppState,
    operator: &Operator,
    pool: &Pool,
    status: StatusCode,
    error: Option<String>,
    name: String,
) -> Answer {
    let clients = app
        .store
        .clients(&pool.pool_id)
        .await?
        .into_iter()
        .map(|c| ClientRow {
            has_secret: c.secret_digest.is_some(),
            created: time(c.created_at),
            client_id: c.client_id,
            name: c.settings.name,
        })
        .collect();
    let frame = Frame::new(operator, "pools", format!("App clients of {}", pool.name)).error(error);
    Ok(render(
        status,
        &ClientsPage {
            frame,
            head: PoolHead::new(pool, "clients"),
            clients,
            name,
        },
    ))
}

async fn get_clients(
    State(app): State<AppState>,
    operator: Operator,
    Path(pool_id): Path<String>,
) -> Answer {
    let pool = load(&app, &pool_id).await?;
    clients_page(&app, &operator, &pool, StatusCode::OK, None, String::new()).await
}

#[derive(Deserialize)]
struct NewClient {
    #[serde(default)]
    name: String,
    #[serde(default)]
    secret: Option<String>,
}

async fn post_clients(
    State(app): State<AppState>,
    operator: Operator,
    Path(pool_id): Path<String>,
    Checked(form): Checked<NewClient>,
) -> Answer {
    let pool = load(&app, &pool_id).await?;
    let settings = ClientSettings::new(form.name.trim());
    let secret = match form.secret.is_some() {
        true => NewSecret::Generate,
        false => NewSecret::None,
    };
    match crate::clients::create(&app, &pool_id, &settings, secret).await {
        Ok((client, secret)) => {
            record(
                &app,
                &operator,
                "CreateUserPoolClient",
                Some(&pool_id),
                Some(&client.client_id),
                true,
            );
            // The secret is shown once, on this answer (a redirect would lose it).
            let notice = match &secret {
                Some(_) => "Client created. Copy its secret now: it is not shown again.",
                None => "Client created.",
            };
            client_page(
                &app,
                &operator,
                &pool,
                client,
                ClientExtras {
                    notice: Some(notice.into()),
                    secret,
                    ..Default::default()
                },
            )
            .await
        }
        Err(e @ AppError::Invalid(_)) => {
            record(
                &app,
                &operator,
                "CreateUserPoolClient",
                Some(&pool_id),
                None,
                false,
            );
            clients_page(
                &app,
                &operator,
                &pool,
                StatusCode::BAD_REQUEST,
                Some(e.to_string()),
                form.name,
            )
            .await
        }
        Err(e) => Err(e.into()),
    }
}

/// What a client page shows besides the client: a notice or error, a new secret,
/// a checked state, the form as posted (after an error).
#[derive(Default)]
struct ClientExtras {
    notice: Option<String>,
    error: Option<String>,
    status: Option<StatusCode>,
    secret: Option<String>,
    state: Option<StateCheck>,
    form: Option<ClientForm>,
}

/// The "try a state" checker's answer.
struct StateCheck {
    state: String,
    accepted: bool,
    /// What happens, or why it is refused.
    outcome: String,
}

#[derive(Template)]
#[template(path = "console/client.html")]
struct ClientPage {
    frame: Frame,
    head: PoolHead,
    client: AppClient,
    form: ClientForm,
    secret: Option<String>,
    state: Option<StateCheck>,
    created: String,
    preview: Option<String>,
}

impl ClientPage {
    fn encoding_selected(&self, name: &str) -> bool {
        self.form.state_encoding == name
    }
}

async fn client_page(
    app: &AppState,
    operator: &Operator,
    pool: &Pool,
    client: AppClient,
    extras: ClientExtras,
) -> Answer {
    let frame = Frame::new(
        operator,
        "pools",
        format!("App client {}", client.settings.name),
    )
    .notice(extras.notice)
    .error(extras.error);
    let form = extras
        .form
        .unwrap_or_else(|| ClientForm::of(&client.settings));
    let preview = login_preview(app, &client);
    Ok(render(
        extras.status.unwrap_or(StatusCode::OK),
        &ClientPage {
            frame,
            head: PoolHead::new(pool, "clients"),
            created: time(client.created_at),
            client,
            form,
            secret: extras.secret,
            state: extras.state,
            preview,
        },
    ))
}

/// The real login page of the client, for the branding preview: an authorize request
/// to its first callback, with a throwaway PKCE challenge (nobody holds its verifier,
/// so a sign-in through the preview yields nothing). `None` without a callback.
fn login_preview(app: &AppState, client: &AppClient) -> Option<String> {
    let callback = client.settings.callback_urls.first()?;
    let query = serde_urlencoded::to_string([
        ("response_type", "code"),
        ("client_id", client.client_id.as_str()),
        ("redirect_uri", callback.as_str()),
        ("scope", "openid"),
        ("code_challenge", &crate::crypto::random_token(32)),
        ("code_challenge_method", "S256"),
    ])
    .ok()?;
    Some(format!(
        "{}/{}/login?{query}",
        app.public_url, client.pool_id
    ))
}

async fn load_client(
    app: &AppState,
    pool_id: &str,
    client_id: &str,
) -> Result<AppClient, AppError> {
    app.store
        .client_by_id(pool_id, client_id)
        .await?
        .ok_or(AppError::NotFound("client"))
}

#[derive(Deserialize)]
struct TryState {
    /// A state to try (the checker's form).
    state: Option<String>,
    /// Set after a save.
    saved: Option<String>,
}

async fn get_client(
    State(app): State<AppState>,
    operator: Operator,
    Path((pool_id, client_id)): Path<(String, String)>,
    Query(q): Query<TryState>,
) -> Answer {
    let pool = load(&app, &pool_id).await?;
    let client = load_client(&app, &pool_id, &client_id).await?;
    let state = q.state.map(|state| check_state(&client, state));
    client_page(
        &app,
        &operator,
        &pool,
        client,
        ClientExtras {
            state,
            notice: q.saved.map(|_| "Saved.".to_string()),
            ..Default::default()
        },
    )
    .await
}

/// Runs `state` through the client's grammar, as `/oauth2/authorize` does.
fn check_state(client: &AppClient, state: String) -> StateCheck {
    let (accepted, outcome) = match client.settings.state_relay.split(&state) {
        Ok(Split::Opaque) if client.settings.state_relay.allow_list.is_empty() => (
            true,
            "Accepted: this client has no return-to allow-list, so the state is passed back unchanged."
                .to_string(),
        ),
        Ok(Split::Opaque) => (
            true,
            "Accepted: the state has no separator, so it is passed back unchanged.".to_string(),
        ),
        Ok(Split::Relay { nonce, target }) => (
            true,
            format!(
                "Accepted: after sign-in the browser goes to {target} with the code, and \
                 state={nonce}."
            ),
        ),
        Err(refusal) => (
            false,
            format!("Refused ({}): {refusal}. Authorize shows an error page.", refusal.kind()),
        ),
    };
    StateCheck {
        state,
        accepted,
        outcome,
    }
}

/// The settings form, as shown and as posted.
#[derive(Deserialize, Default)]
struct ClientForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    callback_urls: String,
    #[serde(default)]
    logout_urls: String,
    #[serde(default)]
    flow_code: Option<String>,
    #[serde(default)]
    flow_client_credentials: Option<String>,
    #[serde(default)]
    scopes: String,
    #[serde(default)]
    providers: String,
    #[serde(default)]
    id_token_validity: String,
    #[serde(default)]
    access_token_validity: String,
    #[serde(default)]
    refresh_token_validity: String,
    #[serde(default)]
    refresh_token_rotation: Option<String>,
    #[serde(default)]
    allow_list: String,
    #[serde(default)]
    state_separator: String,
    #[serde(default)]
    state_encoding: String,
}

impl ClientForm {
    fn of(s: &ClientSettings) -> Self {
        let on = |b: bool| b.then(|| "on".to_string());
        Self {
            name: s.name.clone(),
            callback_urls: s.callback_urls.join("\n"),
            logout_urls: s.logout_urls.join("\n"),
            flow_code: on(s.allowed_flows.iter().any(|f| f == FLOW_CODE)),
            flow_client_credentials: on(s
                .allowed_flows
                .iter()
                .any(|f| f == FLOW_CLIENT_CREDENTIALS)),
            scopes: s.allowed_scopes.join(" "),
            providers: s.supported_identity_providers.join(" "),
            id_token_validity: s.id_token_validity.to_string(),
            access_token_validity: s.access_token_validity.to_string(),
            refresh_token_validity: s.refresh_token_validity.to_string(),
            refresh_token_rotation: on(s.refresh_token_rotation),
            allow_list: s.state_relay.allow_list.join("\n"),
            state_separator: s.state_relay.separator.to_string(),
            state_encoding: s.state_relay.encoding.as_str().to_string(),
        }
    }

    /// The settings this form asks for, over `s`; an error names the bad field.
    fn apply(&self, s: &mut ClientSettings) -> Result<(), String> {
        let seconds = |text: &str, what: &str| {
            text.trim()
                .parse::<i64>()
                .map_err(|_| format!("the {what} validity must be a whole number of seconds"))
        };
        s.name = self.name.trim().to_string();
        s.callback_urls = lines(&self.callback_urls);
        s.logout_urls = lines(&self.logout_urls);
        let implicit: Vec<String> = s
            .allowed_flows
            .iter()
            .filter(|f| *f != FLOW_CODE && *f != FLOW_CLIENT_CREDENTIALS)
            .cloned()
            .collect();
        let mut flows = Vec::new();
        if self.flow_code.is_some() {
            flows.push(FLOW_CODE.to_string());
        }
        flows.extend(implicit);
        if self.flow_client_credentials.is_some() {
            flows.push(FLOW_CLIENT_CREDENTIALS.to_string());
        }
        s.allowed_flows = flows;
        s.allowed_scopes = words(&self.scopes);
        s.supported_identity_providers = words(&self.providers);
        s.id_token_validity = seconds(&self.id_token_validity, "ID token")?;
        s.access_token_validity = seconds(&self.access_token_validity, "access token")?;
        s.refresh_token_validity = seconds(&self.refresh_token_validity, "refresh token")?;
        s.refresh_token_rotation = self.refresh_token_rotation.is_some();
        if !s.refresh_token_rotation {
            s.refresh_token_retry_grace = 0;
        }
        s.state_relay.allow_list = lines(&self.allow_list);
        let mut separator = self.state_separator.trim().chars();
        s.state_relay.separator = match (separator.next(), separator.next()) {
            (Some(c), None) => c,
            _ => return Err("the state separator must be one character".into()),
        };
        s.state_relay.encoding = StateEncoding::parse(&self.state_encoding)
            .ok_or("the state encoding must be plain, hex or base64url")?;
        // The token validities the API reports in its own units are seconds here.
        s.reported.token_validity_units = None;
        Ok(())
    }
}

async fn post_client(
    State(app): State<AppState>,
    operator: Operator,
    Path((pool_id, client_id)): Path<(String, String)>,
    Checked(form): Checked<ClientForm>,
) -> Answer {
    let pool = load(&app, &pool_id).await?;
    let client = load_client(&app, &pool_id, &client_id).await?;
    let mut settings = client.settings.clone();
    let checked = match form.apply(&mut settings) {
        Ok(()) => {
            crate::clients::check_identity_providers(
                &app,
                &pool_id,
                &settings.supported_identity_providers,
            )
            .await
        }
        Err(e) => Err(AppError::Invalid(e)),
    };
    let result = match checked {
        Ok(()) => crate::clients::update(&app, &pool_id, &client_id, |s| *s = settings).await,
        Err(e) => Err(e),
    };
    record(
        &app,
        &operator,
        "UpdateUserPoolClient",
        Some(&pool_id),
        Some(&client_id),
        result.is_ok(),
    );
    match result {
        Ok(_) => Ok(see_other(&format!(
            "{}?saved=1",
            client_path(&pool_id, &client_id)
        ))),
        Err(e @ AppError::Invalid(_)) => {
            client_page(
                &app,
                &operator,
                &pool,
                client,
                ClientExtras {
                    error: Some(e.to_string()),
                    status: Some(StatusCode::BAD_REQUEST),
                    form: Some(form),
                    ..Default::default()
                },
            )
            .await
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(Template)]
#[template(path = "console/branding.html")]
struct BrandingPage {
    frame: Frame,
    head: PoolHead,
    client: AppClient,
    form: BrandingForm,
    preview: Option<String>,
}

/// The branding form, as shown and as posted.
#[derive(Deserialize, Default)]
struct BrandingForm {
    #[serde(default)]
    display_name: String,
    #[serde(default)]
    page_title: String,
    #[serde(default)]
    logo_url: String,
    #[serde(default)]
    primary_color: String,
    #[serde(default)]
    background_color: String,
    #[serde(default)]
    css: String,
}

impl BrandingForm {
    fn of(client: &AppClient) -> Self {
        let b = &client.settings.branding;
        let text = |v: &Option<String>| v.clone().unwrap_or_default();
        Self {
            display_name: text(&b.display_name),
            page_title: text(&b.page_title),
            logo_url: text(&b.logo_url),
            primary_color: text(&b.primary_color),
            background_color: text(&b.background_color),
            css: text(&b.css),
        }
    }

    fn apply(&self, s: &mut ClientSettings) {
        let opt = |v: &str| Some(v.trim().to_string()).filter(|v| !v.is_empty());
        let b = &mut s.branding;
        b.display_name = opt(&self.display_name);
        b.page_title = opt(&self.page_title);
        b.logo_url = opt(&self.logo_url);
        b.primary_color = opt(&self.primary_color);
        b.background_color = opt(&self.background_color);
        b.css = Some(self.css.clone()).filter(|c| !c.trim().is_empty());
    }
}

fn branding_page(
    app: &AppState,
    operator: &Operator,
    pool: &Pool,
    client: AppClient,
    form: Option<BrandingForm>,
    notice: Option<String>,
    error: Option<String>,
) -> Response {
    // An error is about the form just posted.
    let status = match error {
        Some(_) => StatusCode::BAD_REQUEST,
        None => StatusCode::OK,
    };
    let frame = Frame::new(
        operator,
        "pools",
        format!("Branding of {}", client.settings.name),
    )
    .notice(notice)
    .error(error);
    render(
        status,
        &BrandingPage {
            frame,
            head: PoolHead::new(pool, "clients"),
            form: form.unwrap_or_else(|| BrandingForm::of(&client)),
            preview: login_preview(app, &client),
            client,
        },
    )
}

#[derive(Deserialize)]
struct Saved {
    saved: Option<String>,
}

async fn get_branding(
    State(app): State<AppState>,
    operator: Operator,
    Path((pool_id, client_id)): Path<(String, String)>,
    Query(q): Query<Saved>,
) -> Answer {
    let pool = load(&app, &pool_id).await?;
    let client = load_client(&app, &pool_id, &client_id).await?;
    let notice = q
        .saved
        .map(|_| "Branding saved. Open the login page to see it.".to_string());
    Ok(branding_page(
        &app, &operator, &pool, client, None, notice, None,
    ))
}

async fn post_branding(
    State(app): State<AppState>,
    operator: Operator,
    Path((pool_id, client_id)): Path<(String, String)>,
    Checked(form): Checked<BrandingForm>,
) -> Answer {
    let pool = load(&app, &pool_id).await?;
    let client = load_client(&app, &pool_id, &client_id).await?;
    let result = crate::clients::update(&app, &pool_id, &client_id, |s| form.apply(s)).await;
    record(
        &app,
        &operator,
        "UpdateUserPoolClient",
        Some(&pool_id),
        Some(&client_id),
        result.is_ok(),
    );
    match result {
        Ok(_) => Ok(see_other(&format!(
            "{}/branding?saved=1",
            client_path(&pool_id, &client_id)
        ))),
        Err(e @ AppError::Invalid(_)) => Ok(branding_page(
            &app,
            &operator,
            &pool,
            client,
            Some(form),
            None,
            Some(e.to_string()),
        )),
        Err(e) => Err(e.into()),
    }
}

async fn get_delete(
    State(app): State<AppState>,
    operator: Operator,
    Path((pool_id, client_id)): Path<(String, String)>,
) -> Answer {
    let pool = load(&app, &pool_id).await?;
    let client = load_client(&app, &pool_id, &client_id).await?;
    let path = format!("{}/delete", client_path(&pool_id, &client_id));
    if let Some(res) = operator.require_recent(&app, &path) {
        return Ok(res);
    }
    Ok(ok(&ConfirmDelete {
        frame: Frame::new(
            &operator,
            "pools",
            format!("Delete app client {}", client.settings.name),
        ),
        what: format!(
            "the app client {} ({}) of the pool {}; its codes and refresh tokens stop working",
            client.settings.name, client.client_id, pool.name
        ),
        action: path,
        back: client_path(&pool_id, &client_id),
    }))
}

#[derive(Deserialize)]
struct NoFields {}

async fn post_delete(
    State(app): State<AppState>,
    operator: Operator,
    Path((pool_id, client_id)): Path<(String, String)>,
    Checked(NoFields {}): Checked<NoFields>,
) -> Answer {
    let path = format!("{}/delete", client_path(&pool_id, &client_id));
    if let Some(res) = operator.require_recent(&app, &path) {
        return Ok(res);
    }
    let result = crate::clients::delete(&app, &pool_id, &client_id).await;
    record(
        &app,
        &operator,
        "DeleteUserPoolClient",
        Some(&pool_id),
        Some(&client_id),
        result.is_ok(),
    );
    result?;
    Ok(see_other(&format!("/admin/pools/{pool_id}/clients")))
}
