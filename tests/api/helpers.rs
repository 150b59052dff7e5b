//! The test harness: a real server on a loopback port, a cookie-keeping browser that
//! never follows redirects, and helpers for the flows most tests need.

use std::collections::BTreeMap;
use std::net::SocketAddr;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use cognate::clients::{AppClient, ClientSettings};
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
    pub async fn fresh() -> Self {
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
    configure: fn(Config) -> Config,
}

pub fn browser() -> reqwest::Client {
    reqwest::Client::builder()
        .cookie_store(true)
        .redirect(Policy::none())
        .build()
        .unwrap()
}

impl TestApp {
    /// A server without request-rate limits: a test is one client sending many requests.
    pub async fn spawn() -> Self {
        Self::spawn_with(|c| c.with_rate_limits(cognate::rate_limit::RateLimits::OFF)).await
    }

    /// A server whose config `configure` changes (e.g. to keep the default limits).
    pub async fn spawn_with(configure: fn(Config) -> Config) -> Self {
        let backend = Backend::fresh().await;
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let state = open(&backend, addr, configure).await;
        let pool = cognate::pool::create_with_settings(
            &state,
            "test pool",
            "us-east-1",
            cognate::pool::PoolSettings::default(),
            &[cognate::users::schema::SchemaAttribute::string(
                "custom:team",
            )],
        )
        .await
        .unwrap();
        let mut new = ClientSettings::new("Public App");
        new.callback_urls = vec![CALLBACK.into(), "https://app.example.com/cb".into()];
        new.logout_urls = vec![LOGOUT.into()];
        new.allowed_scopes = ["openid", "email", "profile", "phone"]
            .map(String::from)
            .to_vec();
        // Rotating, as the demo client and every public client should (the default is
        // Cognito's: no rotation; tests that want that say so).
        new.refresh_token_rotation = true;
        let (public, _) = cognate::clients::create(
            &state,
            &pool.pool_id,
            &new,
            cognate::clients::NewSecret::None,
        )
        .await
        .unwrap();
        new.name = "Confidential App".into();
        let (confidential, secret) = cognate::clients::create(
            &state,
            &pool.pool_id,
            &new,
            cognate::clients::NewSecret::Generate,
        )
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
            configure,
        };
        app.create_user("alice", UserStatus::Confirmed).await;
        app.start(listener);
        app
    }

    fn start(&mut self, listener: tokio::net::TcpListener) {
        let (tx, rx) = oneshot::channel::<()>();
        // Through the server's own accept loop, so its timeouts are what tests meet.
        let router = cognate::router(self.state.clone());
        let limits = self.state.config.connection_limits();
        self.server = Some(tokio::spawn(cognate::server::serve_http(
            listener,
            router,
            limits,
            async {
                let _ = rx.await;
            },
        )));
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
        self.state = open(&self.backend, self.addr, self.configure).await;
        let listener = tokio::net::TcpListener::bind(self.addr).await.unwrap();
        self.start(listener);
    }

    /// A second instance on this app's database, as behind a load balancer: its own
    /// process state (caches, connection pool) and the same public URL, without
    /// request-rate limits. Its address, and the task serving it (abort to stop).
    pub async fn second_instance(&self) -> (SocketAddr, JoinHandle<()>) {
        let config = Config::new(&self.base(), None)
            .unwrap()
            .with_rate_limits(cognate::rate_limit::RateLimits::OFF);
        let state = cognate::server::open(&self.backend.store_args(), config)
            .await
            .unwrap();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let router = cognate::router(state);
        let limits = self.state.config.connection_limits();
        let task = tokio::spawn(cognate::server::serve_http(
            listener,
            router,
            limits,
            std::future::pending(),
        ));
        (addr, task)
    }

    /// One Cognito API call (unsigned: the public actions): its status and JSON body.
    pub async fn api_call(&self, action: &str, body: &Value) -> (StatusCode, Value) {
        self.api_call_at(self.addr, action, body).await
    }

    /// [`Self::api_call`] to the server at `addr` (another instance on the same database).
    pub async fn api_call_at(
        &self,
        addr: SocketAddr,
        action: &str,
        body: &Value,
    ) -> (StatusCode, Value) {
        let res = self
            .http
            .post(format!("http://{addr}/"))
            .header(
                "x-amz-target",
                format!("AWSCognitoIdentityProviderService.{action}"),
            )
            .header("content-type", "application/x-amz-json-1.1")
            .body(body.to_string())
            .send()
            .await
            .unwrap();
        let status = res.status();
        (status, res.json().await.unwrap_or(Value::Null))
    }

    /// Lets the public client use the API's sign-in `flows` (`ALLOW_USER_PASSWORD_AUTH`, …).
    pub async fn allow_api_flows(&self, flows: &[&str]) {
        let flows: Vec<String> = flows.iter().map(|f| f.to_string()).collect();
        cognate::clients::update(&self.state, &self.pool_id, &self.public.client_id, |s| {
            s.explicit_auth_flows = flows;
        })
        .await
        .unwrap();
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
        cognate::clients::redirect::with_params(&self.url("/oauth2/authorize"), &params)
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
        let res = self
            .post_login(browser, authorize_url, username, password)
            .await;
        assert_eq!(res.status(), StatusCode::FOUND, "sign-in should succeed");
        location(&res)
    }

    /// Follows `authorize_url` to the login page and posts `username` and `password`
    /// on its form; the answer to the post.
    pub async fn post_login(
        &self,
        browser: &reqwest::Client,
        authorize_url: &str,
        username: &str,
        password: &str,
    ) -> reqwest::Response {
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
        browser
            .post(&form.action)
            .form(&[
                ("csrf_token", form.csrf.as_str()),
                ("username", username),
                ("password", password),
            ])
            .send()
            .await
            .unwrap()
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

    /// Whether browser `b` is signed in on the hosted pages: authorize answers with a
    /// code at once (otherwise it shows the login page; anything else fails the test).
    pub async fn signed_in(&self, b: &reqwest::Client) -> bool {
        let res = b
            .get(self.authorize_url(&self.public, Some(&Pkce::new()), &[]))
            .send()
            .await
            .unwrap();
        let to = location(&res);
        assert!(to.starts_with(CALLBACK) || to.contains("/login?"), "{to}");
        to.starts_with(CALLBACK)
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

async fn open(backend: &Backend, addr: SocketAddr, configure: fn(Config) -> Config) -> AppState {
    let config = configure(Config::new(&format!("http://{addr}"), None).unwrap());
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
/// A raw HTTP/1.1 request for a Cognito API action, closing its connection after the
/// answer.
pub fn raw_api_request(action: &str, body: &Value) -> Vec<u8> {
    let body = body.to_string();
    format!(
        "POST / HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/x-amz-json-1.1\r\n\
         X-Amz-Target: AWSCognitoIdentityProviderService.{action}\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

/// Sends every request to its address on a connection of its own, holding back each
/// one's last byte until all the rest are written, then sends the last bytes together,
/// so the servers receive the requests at once. The raw answers, in `requests`' order.
/// Bounded: panics after 60 s.
pub async fn release_together(requests: Vec<(SocketAddr, Vec<u8>)>) -> Vec<String> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let run = async {
        let mut held = Vec::new();
        for (addr, request) in requests {
            let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
            let (body, last) = request.split_at(request.len() - 1);
            stream.write_all(body).await.unwrap();
            held.push((stream, last[0]));
        }
        let release = std::sync::Arc::new(tokio::sync::Barrier::new(held.len()));
        let tasks: Vec<_> = held
            .into_iter()
            .map(|(mut stream, last)| {
                let release = release.clone();
                tokio::spawn(async move {
                    release.wait().await;
                    stream.write_all(&[last]).await.unwrap();
                    let mut answer = Vec::new();
                    stream.read_to_end(&mut answer).await.unwrap();
                    String::from_utf8_lossy(&answer).into_owned()
                })
            })
            .collect();
        let mut answers = Vec::new();
        for task in tasks {
            answers.push(task.await.unwrap());
        }
        answers
    };
    tokio::time::timeout(std::time::Duration::from_secs(60), run)
        .await
        .expect("the released requests were answered within 60 s")
}

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

// ---------------------------------------------------------------------------------------
// Headless Chromium, driven over WebDriver (fantoccini + Debian's chromium-driver).

/// Debian's `chromium-driver`; `./test.sh` installs it.
pub const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
/// Debian's `chromium` launcher script.
pub const CHROMIUM: &str = "/usr/bin/chromium";

/// One browser at a time: Chromium plus a server and the test itself is all that 2
/// cores run reliably, and each test's browser stays isolated.
static BROWSER_SLOT: tokio::sync::Semaphore = tokio::sync::Semaphore::const_new(1);

/// How long to wait for chromedriver to answer, for a URL to appear, and for shutdown.
const BROWSER_WAIT: std::time::Duration = std::time::Duration::from_secs(20);

/// A headless Chromium session with its own chromedriver process and empty profile.
/// Dropping it stops chromedriver, which quits Chromium; the profile is then deleted.
///
/// ```ignore
/// let Some(browser) = Browser::new().await else { return };
/// browser.goto(&app.authorize_url(&app.public, Some(&pkce), &[])).await;
/// browser.fill("Username", "alice").await;
/// browser.click_button("Sign in").await;
/// ```
pub struct Browser {
    /// The WebDriver client, for anything the helpers below don't cover.
    pub client: fantoccini::Client,
    _driver: Chromedriver,
    _profile: tempfile::TempDir,
    _slot: tokio::sync::SemaphorePermit<'static>,
}

impl Browser {
    /// Starts chromedriver and Chromium, or returns `None` (after printing why) when
    /// `COGNATE_BROWSER_TESTS` is not set, so plain `cargo test` works without Chromium.
    /// With it set, a missing or broken browser fails the test.
    pub async fn new() -> Option<Self> {
        Self::with_args(&[]).await
    }

    /// [`Browser::new`] with `extra` Chromium flags, e.g.
    /// `--host-resolver-rules=MAP login.example.test 127.0.0.1` to reach the test
    /// server under a host name.
    pub async fn with_args(extra: &[&str]) -> Option<Self> {
        if std::env::var_os("COGNATE_BROWSER_TESTS").is_none_or(|v| v.is_empty()) {
            println!("SKIPPED: browser tests need COGNATE_BROWSER_TESTS=1 (./test.sh sets it)");
            return None;
        }
        for path in [CHROMEDRIVER, CHROMIUM] {
            assert!(
                std::path::Path::new(path).exists(),
                "{path} is missing: install Debian's chromium and chromium-driver \
                 (./test.sh does: apt-get install chromium chromium-driver)"
            );
        }
        let slot = BROWSER_SLOT.acquire().await.expect("browser slot");
        let profile = tempfile::tempdir().unwrap();
        let driver = Chromedriver::start(profile.path()).await;
        // The flags Chromium needs as root on a machine without network: no sandbox (root),
        // no GPU, and none of the background fetches (updates, sync, QUIC probes) that
        // the closed network would refuse and that slow start-up down.
        let args = [
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            // a container's /dev/shm may be tiny; /tmp always fits
            "--disable-dev-shm-usage",
            "--window-size=1280,900",
        ]
        .map(String::from)
        .into_iter()
        .chain([format!(
            "--user-data-dir={}",
            profile.path().join("chromium").display()
        )])
        .chain(extra.iter().map(|a| a.to_string()))
        .collect::<Vec<_>>();
        let mut capabilities = serde_json::Map::new();
        capabilities.insert(
            "goog:chromeOptions".into(),
            serde_json::json!({ "binary": CHROMIUM, "args": args }),
        );
        let client = match connect(driver.port, capabilities).await {
            Ok(client) => client,
            Err(e) => {
                let log = std::fs::read_to_string(profile.path().join("chromedriver.log"))
                    .unwrap_or_default();
                panic!("Chromium did not start through chromedriver: {e}\n{log}")
            }
        };
        Some(Self {
            client,
            _driver: driver,
            _profile: profile,
            _slot: slot,
        })
    }

    /// Opens `url` and waits for the page to load. Use `127.0.0.1` URLs (`app.url(..)`):
    /// the pages' CSP allows stylesheets only from the server's public URL.
    pub async fn goto(&self, url: &str) {
        self.client
            .goto(url)
            .await
            .unwrap_or_else(|e| panic!("open {url}: {e}"));
    }

    /// The address bar. After a navigation that failed (say a callback nobody listens
    /// on), Chromium shows its error page but this is still the URL it tried to open.
    pub async fn current_url(&self) -> url::Url {
        self.client.current_url().await.expect("current URL")
    }

    /// Waits until the address bar starts with `prefix` and returns the full URL.
    pub async fn wait_for_url(&self, prefix: &str) -> url::Url {
        let deadline = tokio::time::Instant::now() + BROWSER_WAIT;
        loop {
            let url = self.current_url().await;
            if url.as_str().starts_with(prefix) {
                return url;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "the browser stayed on {url}, expected {prefix}…\n{}",
                self.text().await
            );
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
    }

    /// Waits until the page's visible text contains `needle` (a re-rendered form, a
    /// message) and returns the text.
    pub async fn wait_for_text(&self, needle: &str) -> String {
        let deadline = tokio::time::Instant::now() + BROWSER_WAIT;
        loop {
            let text = self.text().await;
            if text.contains(needle) {
                return text;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "{needle:?} never appeared on {}:\n{text}",
                self.current_url().await
            );
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
    }

    /// The form control labelled `label` (`<label for=..>label</label>`); panics if the
    /// page has no such label, so it doubles as an accessibility check.
    pub async fn labelled_field(&self, label: &str) -> fantoccini::elements::Element {
        let xpath = format!("//label[normalize-space(.)={}]", xpath_literal(label));
        let Some(found) = self.find_xpath(&xpath).await else {
            panic!("no label {label:?} on the page:\n{}", self.text().await)
        };
        let id = found
            .attr("for")
            .await
            .unwrap()
            .unwrap_or_else(|| panic!("label {label:?} has no `for`"));
        self.client
            .find(fantoccini::Locator::Id(&id))
            .await
            .unwrap_or_else(|_| panic!("label {label:?} points at a missing #{id}"))
    }

    /// Types `value` into the field labelled `label_or_name`, or else the field whose
    /// `name` it is, replacing what the field held.
    pub async fn fill(&self, label_or_name: &str, value: &str) {
        let xpath = format!(
            "//label[normalize-space(.)={}]",
            xpath_literal(label_or_name)
        );
        let field = if self.find_xpath(&xpath).await.is_some() {
            self.labelled_field(label_or_name).await
        } else {
            let xpath = format!("//*[@name={}]", xpath_literal(label_or_name));
            let Some(field) = self.find_xpath(&xpath).await else {
                panic!(
                    "no field labelled or named {label_or_name:?}:\n{}",
                    self.text().await
                )
            };
            field
        };
        field.clear().await.unwrap();
        field.send_keys(value).await.unwrap();
    }

    /// Clicks the button whose text (or submit input whose value) is `text`.
    pub async fn click_button(&self, text: &str) {
        let lit = xpath_literal(text);
        let xpath = format!(
            "//button[normalize-space(.)={lit}] | //input[@type='submit' and @value={lit}]"
        );
        let Some(button) = self.find_xpath(&xpath).await else {
            panic!("no button {text:?} on the page:\n{}", self.text().await)
        };
        button.click().await.unwrap();
    }

    /// Clicks the link whose visible text is `text`.
    pub async fn click_link(&self, text: &str) {
        let xpath = format!("//a[normalize-space(.)={}]", xpath_literal(text));
        let Some(link) = self.find_xpath(&xpath).await else {
            panic!("no link {text:?} on the page:\n{}", self.text().await)
        };
        link.click().await.unwrap();
    }

    async fn find_xpath(&self, xpath: &str) -> Option<fantoccini::elements::Element> {
        self.client
            .find(fantoccini::Locator::XPath(xpath))
            .await
            .ok()
    }

    /// The page's visible text, as a person reads it.
    pub async fn text(&self) -> String {
        match self.client.find(fantoccini::Locator::Css("body")).await {
            Ok(body) => body.text().await.unwrap_or_default(),
            Err(_) => String::new(),
        }
    }

    /// The computed value of a CSS `property` (e.g. `background-color`) of the first
    /// element matching `selector`, as the browser resolves it (`rgb(36, 84, 214)`).
    pub async fn computed_style(&self, selector: &str, property: &str) -> String {
        let value = self
            .client
            .execute(
                "const el = document.querySelector(arguments[0]);
                 return el ? getComputedStyle(el).getPropertyValue(arguments[1]) : null;",
                vec![selector.into(), property.into()],
            )
            .await
            .unwrap();
        value
            .as_str()
            .unwrap_or_else(|| panic!("no element matches {selector:?}"))
            .to_string()
    }

    /// Saves a PNG of the viewport to `target/screenshots/<name>.png` for review and
    /// returns its path.
    pub async fn screenshot(&self, name: &str) -> std::path::PathBuf {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("target/screenshots");
        let path = dir.join(format!("{name}.png"));
        // `name` may name a subfolder (`pages/login-390`).
        std::fs::create_dir_all(path.parent().unwrap_or(&dir)).unwrap();
        let png = self.client.screenshot().await.expect("screenshot");
        std::fs::write(&path, png).unwrap();
        path
    }
}

/// A chromedriver process, owned from the moment it is spawned so that a panic anywhere
/// in a test (or in `Browser::new`) still stops it and the Chromium it started.
struct Chromedriver {
    child: std::process::Child,
    port: u16,
}

impl Chromedriver {
    /// Starts chromedriver on a free loopback port and waits until it answers. Retries
    /// when another process took the port between our probe and chromedriver's bind.
    async fn start(dir: &std::path::Path) -> Self {
        let mut last_error = String::new();
        for _ in 0..3 {
            let port = std::net::TcpListener::bind("127.0.0.1:0")
                .and_then(|l| l.local_addr())
                .unwrap()
                .port();
            let log = std::fs::File::create(dir.join("chromedriver.log")).unwrap();
            let child = std::process::Command::new(CHROMEDRIVER)
                .arg(format!("--port={port}"))
                .stdin(std::process::Stdio::null())
                .stdout(log.try_clone().unwrap())
                .stderr(log)
                .spawn()
                .unwrap_or_else(|e| panic!("start {CHROMEDRIVER}: {e}"));
            let mut driver = Self { child, port };
            let status = format!("http://127.0.0.1:{port}/status");
            let http = reqwest::Client::new();
            let deadline = tokio::time::Instant::now() + BROWSER_WAIT;
            last_error = format!("chromedriver did not answer on port {port}");
            while tokio::time::Instant::now() < deadline {
                if let Some(exit) = driver.child.try_wait().unwrap() {
                    last_error = format!(
                        "chromedriver exited with {exit}:\n{}",
                        std::fs::read_to_string(dir.join("chromedriver.log")).unwrap_or_default()
                    );
                    break;
                }
                if let Ok(res) = http.get(&status).send().await
                    && res.status().is_success()
                {
                    return driver;
                }
                tokio::time::sleep(std::time::Duration::from_millis(50)).await;
            }
        }
        panic!("{last_error}")
    }
}

impl Drop for Chromedriver {
    /// Asks chromedriver to quit (it closes the browsers it started: killing it outright
    /// would orphan Chromium), then makes sure the process is gone. Synchronous, so it
    /// also runs while a test unwinds.
    fn drop(&mut self) {
        use std::io::{Read, Write};
        let timeout = std::time::Duration::from_secs(5);
        if self.child.try_wait().ok().flatten().is_some() {
            return;
        }
        if let Ok(mut stream) = std::net::TcpStream::connect(("127.0.0.1", self.port)) {
            let _ = stream.set_read_timeout(Some(timeout));
            let _ = stream.set_write_timeout(Some(timeout));
            let _ = stream.write_all(
                b"GET /shutdown HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n",
            );
            let _ = stream.read_to_end(&mut Vec::new());
        }
        let deadline = std::time::Instant::now() + timeout;
        while std::time::Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

async fn connect(
    port: u16,
    capabilities: serde_json::Map<String, serde_json::Value>,
) -> Result<fantoccini::Client, fantoccini::error::NewSessionError> {
    // chromedriver speaks plain http on loopback: no TLS connector, so no crypto provider.
    let connector = hyper_util::client::legacy::connect::HttpConnector::new();
    fantoccini::ClientBuilder::new(connector)
        .capabilities(capabilities)
        .connect(&format!("http://127.0.0.1:{port}"))
        .await
}

/// `s` as an XPath 1.0 string literal (which has no escapes: quotes need `concat`).
fn xpath_literal(s: &str) -> String {
    if !s.contains('\'') {
        format!("'{s}'")
    } else if !s.contains('"') {
        format!("\"{s}\"")
    } else {
        let parts: Vec<String> = s.split('\'').map(|p| format!("'{p}'")).collect();
        format!("concat({})", parts.join(", \"'\", "))
    }
}
