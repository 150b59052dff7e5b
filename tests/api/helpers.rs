//! The test harness: a real server on a loopback port, a cookie-keeping browser that
//! never follows redirects, and helpers for the flows most tests need.

use std::collections::BTreeMap;
use std::net::SocketAddr;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use cognate::clients::{AppClient, NewClient};
use cognate::config::{Config, StoreArgs};
use cognate::crypto::{MasterKey, random_token};
use cognate::state::AppState;
use cognate::users::UserStatus;
use reqwest::StatusCode;
use reqwest::redirect::Policy;
use serde_json::Value;
use sha2::{Digest, Sha256};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

pub const CALLBACK: &str = "http://localhost:3000/callback";
pub const LOGOUT: &str = "http://localhost:3000/signed-out";
pub const PASSWORD: &str = "Correct-horse-9";

/// Where a test's data lives; kept so the server can be restarted on the same data.
pub struct Backend {
    pub database_url: String,
    pub master_key: String,
    _dir: Option<tempfile::TempDir>,
}

impl Backend {
    /// A temp SQLite file, or a fresh PostgreSQL database when
    /// `COGNATE_TEST_POSTGRES_URL` is set.
    async fn fresh() -> Self {
        let master_key = MasterKey::generate_base64();
        match std::env::var("COGNATE_TEST_POSTGRES_URL") {
            Ok(admin_url) if !admin_url.is_empty() => {
                use sqlx::Connection;
                let name = format!(
                    "cognate_t_{}",
                    random_token(8).to_lowercase().replace(['-', '_'], "x")
                );
                let mut admin = sqlx::PgConnection::connect(&admin_url)
                    .await
                    .expect("COGNATE_TEST_POSTGRES_URL must reach a PostgreSQL server");
                sqlx::query(&format!("create database {name}"))
                    .execute(&mut admin)
                    .await
                    .unwrap();
                let mut url = url::Url::parse(&admin_url).unwrap();
                url.set_path(&name);
                Self {
                    database_url: url.to_string(),
                    master_key,
                    _dir: None,
                }
            }
            _ => {
                let dir = tempfile::tempdir().unwrap();
                let database_url = format!("sqlite://{}", dir.path().join("cognate.db").display());
                Self {
                    database_url,
                    master_key,
                    _dir: Some(dir),
                }
            }
        }
    }

    pub fn store_args(&self) -> StoreArgs {
        StoreArgs {
            database_url: self.database_url.clone(),
            master_key: Some(self.master_key.clone()),
            master_key_file: None,
        }
    }
}

/// A running server with a seeded pool: a public client (PKCE), a confidential
/// client, and the confirmed user `alice`.
pub struct TestApp {
    pub addr: SocketAddr,
    pub state: AppState,
    pub backend: Backend,
    pub pool_id: String,
    pub public: AppClient,
    pub confidential: AppClient,
    pub secret: String,
    pub browser: reqwest::Client,
    /// A plain HTTP client for app-to-server calls (no cookies, no redirects).
    pub http: reqwest::Client,
    shutdown: Option<oneshot::Sender<()>>,
    server: Option<JoinHandle<()>>,
}

pub fn browser() -> reqwest::Client {
    reqwest::Client::builder()
        .cookie_store(true)
        .redirect(Policy::none())
        .build()
        .unwrap()
}

impl TestApp {
    pub async fn spawn() -> Self {
        let backend = Backend::fresh().await;
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let state = open(&backend, addr).await;
        let pool = cognate::pool::create(&state, "test pool", "us-east-1")
            .await
            .unwrap();
        let mut new = NewClient::new("Public App");
        new.callback_urls = vec![CALLBACK.into(), "https://app.example.com/cb".into()];
        new.logout_urls = vec![LOGOUT.into()];
        new.allowed_scopes = ["openid", "email", "profile", "phone"]
            .map(String::from)
            .to_vec();
        let (public, _) = cognate::clients::create(&state, &pool.pool_id, &new)
            .await
            .unwrap();
        new.name = "Confidential App".into();
        new.generate_secret = true;
        let (confidential, secret) = cognate::clients::create(&state, &pool.pool_id, &new)
            .await
            .unwrap();
        let mut app = Self {
            addr,
            backend,
            pool_id: pool.pool_id,
            public,
            confidential,
            secret: secret.unwrap(),
            browser: browser(),
            http: reqwest::Client::builder()
                .redirect(Policy::none())
                .build()
                .unwrap(),
            state,
            shutdown: None,
            server: None,
        };
        app.create_user("alice", UserStatus::Confirmed).await;
        app.start(listener);
        app
    }

    fn start(&mut self, listener: tokio::net::TcpListener) {
        let (tx, rx) = oneshot::channel::<()>();
        let router = cognate::router(self.state.clone());
        self.server = Some(tokio::spawn(async move {
            axum::serve(
                listener,
                router.into_make_service_with_connect_info::<SocketAddr>(),
            )
            .with_graceful_shutdown(async {
                let _ = rx.await;
            })
            .await
            .unwrap();
        }));
        self.shutdown = Some(tx);
    }

    /// Stops the server and starts a new process state (fresh caches, new pools of
    /// connections) on the same data and port: what a restart keeps, this keeps.
    pub async fn restart(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(server) = self.server.take() {
            server.await.unwrap();
        }
        self.state = open(&self.backend, self.addr).await;
        let listener = tokio::net::TcpListener::bind(self.addr).await.unwrap();
        self.start(listener);
    }

    pub async fn create_user(&self, username: &str, status: UserStatus) -> cognate::users::User {
        let attributes = BTreeMap::from([
            ("email".to_string(), format!("{username}@example.com")),
            ("email_verified".to_string(), "true".to_string()),
            ("name".to_string(), format!("{username} Example")),
            ("phone_number".to_string(), "+15555550100".to_string()),
            ("custom:team".to_string(), "blue".to_string()),
        ]);
        cognate::users::create(
            &self.state,
            &self.pool_id,
            username,
            Some(PASSWORD),
            status,
            attributes,
        )
        .await
        .unwrap()
    }

    pub fn base(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn issuer(&self) -> String {
        format!("http://{}/{}", self.addr, self.pool_id)
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.issuer())
    }

    /// An authorization URL for `client` with the default scopes and `extra` params.
    pub fn authorize_url(
        &self,
        client: &AppClient,
        pkce: Option<&Pkce>,
        extra: &[(&str, &str)],
    ) -> String {
        let mut params = vec![
            ("response_type", "code"),
            ("client_id", client.client_id.as_str()),
            ("redirect_uri", CALLBACK),
            ("scope", "openid email profile"),
            ("state", "st-1"),
        ];
        if let Some(p) = pkce {
            params.push(("code_challenge", &p.challenge));
            params.push(("code_challenge_method", "S256"));
        }
        for (k, v) in extra {
            params.retain(|(key, _)| key != k);
            params.push((k, v));
        }
        cognate::oauth::redirect::with_params(&self.url("/oauth2/authorize"), &params)
    }

    /// Signs `username` in through the hosted page and returns the callback's code.
    pub async fn login_and_authorize(&self, client: &AppClient, pkce: Option<&Pkce>) -> String {
        let callback = self
            .sign_in(
                &self.browser,
                &self.authorize_url(client, pkce, &[]),
                "alice",
                PASSWORD,
            )
            .await;
        query_param(&callback, "code").expect("callback has a code")
    }

    /// Follows authorize → login page → posts the form; returns the callback URL.
    pub async fn sign_in(
        &self,
        browser: &reqwest::Client,
        authorize_url: &str,
        username: &str,
        password: &str,
    ) -> String {
        let res = browser.get(authorize_url).send().await.unwrap();
        assert_eq!(
            res.status(),
            StatusCode::FOUND,
            "authorize should redirect to the login page"
        );
        let login = location(&res);
        assert!(login.starts_with(&self.url("/login?")), "{login}");
        let page = browser.get(&login).send().await.unwrap();
        assert_eq!(page.status(), StatusCode::OK);
        let form = Form::parse(&page.text().await.unwrap());
        let res = browser
            .post(&form.action)
            .form(&[
                ("csrf_token", form.csrf.as_str()),
                ("username", username),
                ("password", password),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::FOUND, "sign-in should succeed");
        location(&res)
    }

    /// Redeems a code at the token endpoint as `client` (Basic auth for confidential).
    pub async fn exchange(
        &self,
        client: &AppClient,
        code: &str,
        verifier: Option<&str>,
    ) -> reqwest::Response {
        let mut form = vec![
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", CALLBACK),
        ];
        if let Some(v) = verifier {
            form.push(("code_verifier", v));
        }
        self.token_request(client, &form).await
    }

    pub async fn refresh(&self, client: &AppClient, refresh_token: &str) -> reqwest::Response {
        self.token_request(
            client,
            &[
                ("grant_type", "refresh_token"),
                ("refresh_token", refresh_token),
            ],
        )
        .await
    }

    pub async fn token_request(
        &self,
        client: &AppClient,
        form: &[(&str, &str)],
    ) -> reqwest::Response {
        let req = self.http.post(self.url("/oauth2/token"));
        let req = if client.is_public() {
            let mut form = form.to_vec();
            form.push(("client_id", &client.client_id));
            req.form(&form)
        } else {
            req.basic_auth(&client.client_id, Some(&self.secret))
                .form(form)
        };
        req.send().await.unwrap()
    }

    /// Signs in with the public client and redeems the code: the token response.
    pub async fn tokens(&self) -> Value {
        let pkce = Pkce::new();
        let code = self.login_and_authorize(&self.public, Some(&pkce)).await;
        let res = self
            .exchange(&self.public, &code, Some(&pkce.verifier))
            .await;
        assert_eq!(res.status(), StatusCode::OK);
        res.json().await.unwrap()
    }

    pub async fn userinfo(&self, access_token: &str) -> reqwest::Response {
        self.http
            .get(self.url("/oauth2/userInfo"))
            .bearer_auth(access_token)
            .send()
            .await
            .unwrap()
    }
}

async fn open(backend: &Backend, addr: SocketAddr) -> AppState {
    let config = Config::new(&format!("http://{addr}"), None).unwrap();
    cognate::server::open(&backend.store_args(), config)
        .await
        .unwrap()
}

/// A PKCE verifier and its S256 challenge.
pub struct Pkce {
    pub verifier: String,
    pub challenge: String,
}

impl Pkce {
    pub fn new() -> Self {
        let verifier = random_token(32);
        let challenge = URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()));
        Self {
            verifier,
            challenge,
        }
    }
}

/// The hosted page's form: where it posts and its CSRF token.
pub struct Form {
    pub action: String,
    pub csrf: String,
}

impl Form {
    pub fn parse(html: &str) -> Self {
        Self {
            action: html_unescape(&attr_after(html, "<form", "action")),
            csrf: html_unescape(&attr_after(html, "name=\"csrf_token\"", "value")),
        }
    }
}

fn attr_after(html: &str, anchor: &str, attr: &str) -> String {
    let start = html
        .find(anchor)
        .unwrap_or_else(|| panic!("no {anchor} in page:\n{html}"));
    let rest = &html[start..];
    let key = format!("{attr}=\"");
    let at = rest.find(&key).unwrap() + key.len();
    let end = rest[at..].find('"').unwrap();
    rest[at..at + end].to_string()
}

pub fn html_unescape(s: &str) -> String {
    s.replace("&#38;", "&")
        .replace("&amp;", "&")
        .replace("&#34;", "\"")
        .replace("&#39;", "'")
        .replace("&#60;", "<")
        .replace("&#62;", ">")
}

pub fn location(res: &reqwest::Response) -> String {
    res.headers()
        .get("location")
        .unwrap_or_else(|| panic!("no Location header (status {})", res.status()))
        .to_str()
        .unwrap()
        .to_string()
}

pub fn query_param(url: &str, name: &str) -> Option<String> {
    url::Url::parse(url)
        .unwrap()
        .query_pairs()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}

/// Decodes a JWT's payload without verifying it (tests verify separately).
pub fn jwt_claims(token: &str) -> Value {
    let payload = token.split('.').nth(1).unwrap();
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap()
}

/// Asserts an OAuth JSON error (RFC 6749 §5.2).
pub async fn assert_oauth_error(res: reqwest::Response, status: StatusCode, error: &str) {
    assert_eq!(res.status(), status);
    assert_eq!(res.headers().get("cache-control").unwrap(), "no-store");
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["error"], error, "{body}");
}
