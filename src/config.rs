//! Configuration from command-line flags, each also read from an environment variable.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};

use crate::api_keys::ApiKeys;
use crate::crypto::MasterKey;

/// Where the data lives and the key that seals secrets in it; shared by `serve` and the
/// admin commands, which work on the same database.
#[derive(clap::Args, Debug, Clone)]
pub struct StoreArgs {
    /// Database URL: `sqlite://path` (created if missing) or `postgres://…`.
    #[arg(
        long,
        env = "DATABASE_URL",
        // It may carry the database password: `--help` must not print it.
        hide_env_values = true,
        default_value = "sqlite://cognate.db",
        global = true
    )]
    pub database_url: String,
    /// Master key (32 bytes, base64) sealing private keys and client secrets at rest.
    #[arg(
        long,
        env = "COGNATE_MASTER_KEY",
        hide_env_values = true,
        global = true
    )]
    pub master_key: Option<String>,
    /// File holding the master key. With SQLite and neither option, a key is generated
    /// into `<database file>.master-key` on first use.
    #[arg(long, env = "COGNATE_MASTER_KEY_FILE", global = true)]
    pub master_key_file: Option<PathBuf>,
}

impl StoreArgs {
    /// Loads the master key from the flag, the file, or (SQLite development setups
    /// only) a generated file beside the database. Prints a path, never the key.
    pub fn load_master_key(&self) -> anyhow::Result<MasterKey> {
        if let Some(text) = &self.master_key {
            return Ok(MasterKey::from_base64(text)?);
        }
        let path = match (&self.master_key_file, sqlite_path(&self.database_url)) {
            (Some(path), _) => path.clone(),
            (None, Some(db)) => {
                let path = PathBuf::from(format!("{}.master-key", db.display()));
                // A key is made only with a new database: one that holds data and lost
                // its key needs that key back, not a new one that opens nothing.
                let has_data = std::fs::metadata(&db).is_ok_and(|m| m.len() > 0);
                if !path.exists() && has_data {
                    bail!(
                        "{} is missing, but {} holds data sealed with it: restore the key file \
                         (a new key would open none of its secrets)",
                        path.display(),
                        db.display()
                    );
                }
                if !path.exists() {
                    write_new_key(&path)?;
                    eprintln!("generated a master key in {}", path.display());
                }
                path
            }
            (None, None) => bail!(
                "a master key is required for this database: set --master-key-file or \
                 COGNATE_MASTER_KEY_FILE (32 random bytes, base64)"
            ),
        };
        let text = std::fs::read_to_string(&path)
            .with_context(|| format!("read master key file {}", path.display()))?;
        MasterKey::from_base64(&text).with_context(|| format!("master key in {}", path.display()))
    }
}

/// Whether `name` is a lower-case DNS host name: labels of 1 to 63 letters, digits and
/// inner hyphens, at most 253 characters, and not an IPv4 address (its last label has
/// a letter).
pub fn is_host_name(name: &str) -> bool {
    let label_ok = |l: &str| {
        (1..=63).contains(&l.len())
            && l.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
            && !l.starts_with('-')
            && !l.ends_with('-')
    };
    name.len() <= 253
        && name.split('.').all(label_ok)
        && name
            .rsplit('.')
            .next()
            .is_some_and(|tld| tld.bytes().any(|b| b.is_ascii_lowercase()))
}

/// The file behind a `sqlite:` URL, if it names one.
fn sqlite_path(url: &str) -> Option<PathBuf> {
    let rest = url.strip_prefix("sqlite:")?;
    let rest = rest.strip_prefix("//").unwrap_or(rest);
    let path = rest.split('?').next().unwrap_or_default();
    (!path.is_empty() && !path.starts_with(":memory:")).then(|| PathBuf::from(path))
}

fn write_new_key(path: &Path) -> anyhow::Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options
        .open(path)
        .with_context(|| format!("create master key file {}", path.display()))?;
    file.write_all(MasterKey::generate_base64().as_bytes())?;
    Ok(())
}

/// Flags of `cognate serve`.
#[derive(clap::Args, Debug, Clone)]
pub struct ServeArgs {
    /// Address to listen on.
    #[arg(long, env = "COGNATE_LISTEN", default_value = "127.0.0.1:9229")]
    pub listen: SocketAddr,
    /// Public base URL, used in issuers and discovery (default: http://<listen>).
    #[arg(long, env = "COGNATE_PUBLIC_URL")]
    pub public_url: Option<String>,
    /// Mark cookies `Secure` (default: when the public URL is https).
    #[arg(long, env = "COGNATE_SECURE_COOKIES", value_parser = clap::builder::BoolishValueParser::new())]
    pub secure_cookies: Option<bool>,
    /// Do not create the demo pool, client and user on an empty database.
    #[arg(long, env = "COGNATE_NO_DEMO", value_parser = clap::builder::BoolishValueParser::new())]
    pub no_demo: bool,
    /// Development mode: serve `/dev/outbox`, which shows kept messages (codes
    /// included), when no SMTP server is configured, and the stand-in Google, Facebook
    /// and Amazon at `/_standin` (the demo offers them). Never in production.
    #[arg(long, env = "COGNATE_DEV", value_parser = clap::builder::BoolishValueParser::new())]
    pub dev: bool,
    /// Access keys for the Cognito API's signed (admin) actions, as
    /// `ACCESS_KEY_ID:SECRET[,…]`. Without any, those actions are refused, except
    /// with `--dev`, which accepts the demo's key (`cognate demo` prints it).
    #[arg(long, env = "COGNATE_API_KEYS", hide_env_values = true)]
    pub api_keys: Option<String>,
    /// Request-rate limits per client address: `off`, or changes to the defaults as
    /// `category=RATE/BURST` or `category=off` (categories token, form, api; RATE per
    /// second), e.g. `token=100/400,form=off`. Defaults: token=50/200, form=5/60,
    /// api=25/200.
    #[arg(long, env = "COGNATE_RATE_LIMITS", default_value = "")]
    pub rate_limits: crate::rate_limit::RateLimits,
    /// Proxies whose `X-Forwarded-For` names the client (and whose `X-Forwarded-Host`
    /// names the host asked for), as CIDR ranges (`10.0.0.0/8,127.0.0.1/32`). From
    /// anyone else those headers are ignored.
    #[arg(long, env = "COGNATE_TRUSTED_PROXIES", value_delimiter = ',')]
    pub trusted_proxies: Vec<ipnet::IpNet>,
    /// The base domain of prefix domains (`CreateUserPoolDomain` without a certificate):
    /// the prefix `myapp` is served at `myapp.auth.<base>`. Without it, prefix domains
    /// are recorded but not served.
    #[arg(long, env = "COGNATE_DOMAIN_BASE")]
    pub domain_base: Option<String>,
    /// Issue tokens with Cognito's issuer, `https://cognito-idp.<region>.amazonaws.com/
    /// <pool-id>`, for apps that hard-code it. That issuer's discovery document is not
    /// served at that address.
    #[arg(long, env = "COGNATE_COGNITO_ISSUER", value_parser = clap::builder::BoolishValueParser::new())]
    pub cognito_issuer: bool,
    /// Tests only: serve `POST /_test/clock`, which moves this server's clock forward
    /// so expiry and lockout can be tested without waiting. Never in production.
    #[arg(long, env = "COGNATE_TEST_CLOCK", value_parser = clap::builder::BoolishValueParser::new())]
    pub test_clock: bool,
    /// How long each pool's signing keys are cached before they are read again: after
    /// a rotation, this instance signs with the new key within this many seconds.
    #[arg(long, env = "COGNATE_KEY_CACHE_SECONDS", default_value_t = crate::keys::DEFAULT_KEY_CACHE_SECONDS)]
    pub key_cache_seconds: u64,
    /// Milliseconds between this instance's reads of the database's config version:
    /// a change to a pool, an app client, a signing key or a domain made by another
    /// instance or the CLI is seen here within this time (at once when made here).
    /// 0 reads it before every cached read.
    #[arg(long, env = "COGNATE_CONFIG_CHECK_MS",
          default_value_t = crate::store::DEFAULT_CONFIG_CHECK.as_millis() as u64)]
    pub config_check_ms: u64,
    /// Seconds a client has to send a request's headers; a slower one (slowloris) is
    /// disconnected.
    #[arg(long, env = "COGNATE_HEADER_READ_TIMEOUT", default_value_t = DEFAULT_HEADER_READ_TIMEOUT_SECONDS)]
    pub header_read_timeout: u64,
    /// Seconds a client has, once its headers are in, to send the whole request body;
    /// a slower one gets 408 and is disconnected.
    #[arg(long, env = "COGNATE_BODY_READ_TIMEOUT", default_value_t = DEFAULT_BODY_READ_TIMEOUT_SECONDS)]
    pub body_read_timeout: u64,
    /// Open connections at most, all clients together; beyond it a new connection is
    /// closed at once. Lowered at start to fit the open-file limit.
    #[arg(long, env = "COGNATE_MAX_CONNECTIONS", default_value_t = DEFAULT_MAX_CONNECTIONS)]
    pub max_connections: usize,
    /// Open connections at most from one client address (an IPv6 address counts by its
    /// /64); beyond it a new connection gets 429 and is closed. Trusted proxies
    /// (`--trusted-proxies`) are exempt: all their clients share their address.
    #[arg(long, env = "COGNATE_MAX_CONNECTIONS_PER_ADDRESS", default_value_t = DEFAULT_MAX_CONNECTIONS_PER_ADDRESS)]
    pub max_connections_per_address: usize,
    #[command(flatten)]
    pub mail: MailConfig,
    /// Base URL of the Lambda Invoke API that triggers named by a Lambda ARN are
    /// invoked at (`POST <url>/2015-03-31/functions/<name>/invocations`): a local
    /// `sam local start-lambda` or the runners in `tools/lambda_runner/`. Without it,
    /// AWS Lambda itself in the ARN's region when AWS credentials are set
    /// (`AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN`; requests are
    /// SigV4-signed whenever they are), else such triggers fail with
    /// UnexpectedLambdaException.
    #[arg(long, env = "COGNATE_LAMBDA_ENDPOINT")]
    pub lambda_endpoint: Option<String>,
    /// Development only: let webhook triggers reach loopback, private (RFC 1918),
    /// CGNAT and unique-local addresses, over plain http too. Link-local and metadata
    /// addresses stay refused.
    #[arg(long, env = "COGNATE_TRIGGER_ALLOW_PRIVATE", value_parser = clap::builder::BoolishValueParser::new())]
    pub trigger_allow_private: bool,
    /// Auth events kept at most (`cognate events`); older ones are deleted by the
    /// periodic clean-up (every 10 minutes).
    #[arg(long, env = "COGNATE_EVENTS_MAX_COUNT", default_value_t = crate::events::sink::DEFAULT_MAX_COUNT,
          value_parser = clap::value_parser!(i64).range(1..))]
    pub events_max_count: i64,
    /// Days an auth event is kept at most.
    #[arg(long, env = "COGNATE_EVENTS_MAX_AGE_DAYS", default_value_t = crate::events::sink::DEFAULT_MAX_AGE_DAYS,
          value_parser = clap::value_parser!(i64).range(1..=36_500))]
    pub events_max_age_days: i64,
    /// Log lines as `text` (for people) or `json` (one JSON object per line, with the
    /// request id, for log collectors).
    #[arg(long, env = "COGNATE_LOG_FORMAT", value_enum, default_value_t = LogFormat::Text)]
    pub log_format: LogFormat,
    /// Serve `/metrics` on this address instead of `--listen` (e.g. a port only the
    /// monitoring network reaches). Default: `/metrics` is on `--listen`.
    #[arg(long, env = "COGNATE_METRICS_LISTEN")]
    pub metrics_listen: Option<SocketAddr>,
    /// Require `Authorization: Bearer <token>` at `/metrics`. Default: none (the
    /// metrics name no user, client or address).
    #[arg(long, env = "COGNATE_METRICS_TOKEN", hide_env_values = true)]
    pub metrics_token: Option<String>,
}

/// Who may read `/metrics`, and where (`serve --metrics-listen`, `--metrics-token`).
#[derive(Clone, Default)]
pub struct MetricsAccess {
    /// A listener of its own; then the main one has no `/metrics`.
    pub listen: Option<SocketAddr>,
    /// The bearer token a scrape must send.
    pub token: Option<String>,
}

/// Never the token.
impl std::fmt::Debug for MetricsAccess {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MetricsAccess")
            .field("listen", &self.listen)
            .field("token", &self.token.as_ref().map(|_| "<redacted>"))
            .finish()
    }
}

/// How log lines are written (`serve --log-format`).
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum LogFormat {
    #[default]
    Text,
    Json,
}

/// Where triggers go (`serve --lambda-endpoint`, `--trigger-allow-private`).
#[derive(Clone, Debug, Default)]
pub struct TriggerOptions {
    pub lambda_endpoint: Option<String>,
    pub allow_private: bool,
    /// Signs Lambda invocations (SigV4); from the standard `AWS_ACCESS_KEY_ID`,
    /// `AWS_SECRET_ACCESS_KEY` and `AWS_SESSION_TOKEN`.
    pub aws_credentials: Option<AwsCredentials>,
}

/// The operator's AWS credentials, for invoking Lambda functions on AWS itself.
#[derive(Clone)]
pub struct AwsCredentials {
    pub access_key_id: String,
    pub secret_access_key: String,
    pub session_token: Option<String>,
}

impl std::fmt::Debug for AwsCredentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AwsCredentials")
            .field("access_key_id", &self.access_key_id)
            .finish_non_exhaustive()
    }
}

impl AwsCredentials {
    /// The standard environment variables, when both keys are set.
    pub fn from_env() -> Option<Self> {
        let var = |name| std::env::var(name).ok().filter(|v: &String| !v.is_empty());
        Some(Self {
            access_key_id: var("AWS_ACCESS_KEY_ID")?,
            secret_access_key: var("AWS_SECRET_ACCESS_KEY")?,
            session_token: var("AWS_SESSION_TOKEN"),
        })
    }
}

impl TriggerOptions {
    /// The options of commands other than `serve` (the CLI's `pool update --trigger`):
    /// the development flag from `COGNATE_TRIGGER_ALLOW_PRIVATE`.
    pub fn from_env() -> Self {
        let allow_private = std::env::var("COGNATE_TRIGGER_ALLOW_PRIVATE").is_ok_and(|v| {
            ["1", "true", "yes", "on", "y", "t"].contains(&v.trim().to_ascii_lowercase().as_str())
        });
        Self {
            lambda_endpoint: None,
            allow_private,
            aws_credentials: None,
        }
    }
}

/// The default of `--header-read-timeout`: ample for any real client on a slow link.
pub const DEFAULT_HEADER_READ_TIMEOUT_SECONDS: u64 = 10;

/// The default of `--body-read-timeout`: bodies are small (64 KiB at most).
pub const DEFAULT_BODY_READ_TIMEOUT_SECONDS: u64 = 10;

/// The default of `--max-connections`.
pub const DEFAULT_MAX_CONNECTIONS: usize = 4096;

/// The default of `--max-connections-per-address`: a browser opens about six, and an
/// office behind one NAT address many more.
pub const DEFAULT_MAX_CONNECTIONS_PER_ADDRESS: usize = 128;

/// What the accept loop enforces on each connection (`server::serve_http`).
#[derive(Clone, Debug)]
pub struct ConnectionLimits {
    /// How long a client has to send a request's headers.
    pub header_read_timeout: std::time::Duration,
    /// Open connections at most, all clients together.
    pub max_total: usize,
    /// Open connections at most from one client address (an IPv6 /64).
    pub max_per_address: usize,
    /// Peers exempt from the per-address limit: trusted proxies, whose address all
    /// their clients share.
    pub exempt: Vec<ipnet::IpNet>,
}

impl Default for ConnectionLimits {
    fn default() -> Self {
        Self {
            header_read_timeout: std::time::Duration::from_secs(
                DEFAULT_HEADER_READ_TIMEOUT_SECONDS,
            ),
            max_total: DEFAULT_MAX_CONNECTIONS,
            max_per_address: DEFAULT_MAX_CONNECTIONS_PER_ADDRESS,
            exempt: Vec::new(),
        }
    }
}

/// The sender used when `--mail-from` is not given.
pub const DEFAULT_MAIL_FROM: &str = "cognate <no-reply@localhost>";

/// How mail leaves: by SMTP when `--smtp-host` is set, else into the database's outbox.
#[derive(clap::Args, Clone)]
pub struct MailConfig {
    /// SMTP server to send mail through; without it, messages go to the outbox.
    #[arg(long, env = "COGNATE_SMTP_HOST")]
    pub smtp_host: Option<String>,
    /// SMTP port (default: 587 for starttls, 465 for tls, 25 for none).
    #[arg(long, env = "COGNATE_SMTP_PORT")]
    pub smtp_port: Option<u16>,
    /// Transport security: `starttls` (upgrade, required), `tls` (implicit TLS) or
    /// `none` (plain text; for a relay on the same host).
    #[arg(long, env = "COGNATE_SMTP_TLS", value_enum, default_value_t = SmtpTls::Starttls)]
    pub smtp_tls: SmtpTls,
    /// SMTP user name (with --smtp-password).
    #[arg(long, env = "COGNATE_SMTP_USERNAME", hide_env_values = true)]
    pub smtp_username: Option<String>,
    /// SMTP password (prefer the environment variable: flags show in the process list).
    #[arg(long, env = "COGNATE_SMTP_PASSWORD", hide_env_values = true)]
    pub smtp_password: Option<String>,
    /// The sender, as `Name <address>` or `address`.
    #[arg(long, env = "COGNATE_MAIL_FROM", default_value = DEFAULT_MAIL_FROM)]
    pub mail_from: String,
}

/// SMTP transport security.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum SmtpTls {
    None,
    Starttls,
    Tls,
}

impl SmtpTls {
    /// The usual port for the mode (RFC 8314 §3.3 for implicit TLS, RFC 6409 for
    /// submission).
    pub fn default_port(self) -> u16 {
        match self {
            SmtpTls::None => 25,
            SmtpTls::Starttls => 587,
            SmtpTls::Tls => 465,
        }
    }
}

impl Default for MailConfig {
    /// No SMTP server: messages go to the outbox.
    fn default() -> Self {
        Self {
            smtp_host: None,
            smtp_port: None,
            smtp_tls: SmtpTls::Starttls,
            smtp_username: None,
            smtp_password: None,
            mail_from: DEFAULT_MAIL_FROM.to_string(),
        }
    }
}

/// Shows whether a password is set, never the password.
impl std::fmt::Debug for MailConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MailConfig")
            .field("smtp_host", &self.smtp_host)
            .field("smtp_port", &self.smtp_port)
            .field("smtp_tls", &self.smtp_tls)
            .field("smtp_username", &self.smtp_username)
            .field(
                "smtp_password",
                &self.smtp_password.as_ref().map(|_| "<redacted>"),
            )
            .field("mail_from", &self.mail_from)
            .finish()
    }
}

/// What the running server needs to know.
#[derive(Clone, Debug)]
pub struct Config {
    /// Base URL without a trailing slash; a pool's issuer is `<public_url>/<pool_id>`.
    pub public_url: String,
    pub secure_cookies: bool,
    /// Development mode (`serve --dev`): enables `/dev/outbox` with the outbox mailer.
    pub dev: bool,
    /// Access keys for the Cognito API's signed actions, parsed from `AKID:SECRET,…`.
    pub api_keys: ApiKeys,
    pub rate_limits: crate::rate_limit::RateLimits,
    pub trusted_proxies: Vec<ipnet::IpNet>,
    /// The base domain of prefix domains (`--domain-base`), lower case, without dots at
    /// either end: the prefix `myapp` is served at `myapp.auth.<domain_base>`.
    pub domain_base: Option<String>,
    /// Tokens name Cognito's issuer (`--cognito-issuer`).
    pub cognito_issuer: bool,
    /// Serve `POST /_test/clock` (`serve --test-clock`).
    pub test_clock: bool,
    /// How long a client has to send a request's headers (`--header-read-timeout`).
    pub header_read_timeout: std::time::Duration,
    /// How long a client has to send a request's body (`--body-read-timeout`).
    pub body_read_timeout: std::time::Duration,
    /// Open connections at most (`--max-connections`).
    pub max_connections: usize,
    /// Open connections at most per client address (`--max-connections-per-address`).
    pub max_connections_per_address: usize,
    /// Where triggers go.
    pub triggers: TriggerOptions,
    /// How long auth events are kept (`--events-max-count`, `--events-max-age-days`).
    pub events_retention: crate::events::Retention,
    /// Who may read `/metrics`, and where.
    pub metrics: MetricsAccess,
}

impl Config {
    /// Builds the config, checking the public URL is an absolute http(s) URL.
    pub fn new(public_url: &str, secure_cookies: Option<bool>) -> anyhow::Result<Self> {
        let parsed = url::Url::parse(public_url).context("public URL")?;
        if !matches!(parsed.scheme(), "http" | "https") || parsed.query().is_some() {
            bail!("the public URL must be an http(s) URL without a query");
        }
        let public_url = public_url.trim_end_matches('/').to_string();
        Ok(Self {
            secure_cookies: secure_cookies.unwrap_or(parsed.scheme() == "https"),
            public_url,
            dev: false,
            api_keys: ApiKeys::default(),
            rate_limits: Default::default(),
            trusted_proxies: Vec::new(),
            domain_base: None,
            cognito_issuer: false,
            test_clock: false,
            header_read_timeout: std::time::Duration::from_secs(
                DEFAULT_HEADER_READ_TIMEOUT_SECONDS,
            ),
            body_read_timeout: std::time::Duration::from_secs(DEFAULT_BODY_READ_TIMEOUT_SECONDS),
            max_connections: DEFAULT_MAX_CONNECTIONS,
            max_connections_per_address: DEFAULT_MAX_CONNECTIONS_PER_ADDRESS,
            triggers: TriggerOptions::from_env(),
            events_retention: Default::default(),
            metrics: MetricsAccess::default(),
        })
    }

    /// Sets how long auth events are kept.
    pub fn with_events_retention(mut self, retention: crate::events::Retention) -> Self {
        self.events_retention = retention;
        self
    }

    /// Turns development mode on or off.
    pub fn with_dev(mut self, dev: bool) -> Self {
        self.dev = dev;
        self
    }

    pub fn from_serve_args(args: &ServeArgs) -> anyhow::Result<Self> {
        let default = format!("http://{}", args.listen);
        // Without keys, `serve --dev` accepts the demo's (`server::serve`).
        let spec = args.api_keys.clone().unwrap_or_default();
        let api_keys =
            ApiKeys::parse(&spec).map_err(|e| anyhow::anyhow!("COGNATE_API_KEYS: {e}"))?;
        Ok(Self::new(
            args.public_url.as_deref().unwrap_or(&default),
            args.secure_cookies,
        )?
        .with_dev(args.dev)
        .with_api_keys(api_keys)
        .with_rate_limits(args.rate_limits)
        .with_trusted_proxies(args.trusted_proxies.clone())
        .with_domain_base(args.domain_base.as_deref())?
        .with_cognito_issuer(args.cognito_issuer)
        .with_test_clock(args.test_clock)
        .with_header_read_timeout(std::time::Duration::from_secs(
            args.header_read_timeout.max(1),
        ))
        .with_body_read_timeout(std::time::Duration::from_secs(
            args.body_read_timeout.max(1),
        ))
        .with_connection_limits(args.max_connections, args.max_connections_per_address)
        .with_triggers(TriggerOptions {
            lambda_endpoint: args.lambda_endpoint.clone(),
            allow_private: args.trigger_allow_private,
            aws_credentials: AwsCredentials::from_env(),
        })
        .with_events_retention(crate::events::Retention {
            max_count: args.events_max_count,
            max_age_seconds: args.events_max_age_days * 86_400,
        })
        .with_metrics(MetricsAccess {
            listen: args.metrics_listen,
            token: match args.metrics_token.as_deref() {
                // An empty token would let anyone in while looking set.
                Some("") => bail!("--metrics-token must not be empty"),
                token => token.map(str::to_string),
            },
        }))
    }

    /// Sets who may read `/metrics`, and where.
    pub fn with_metrics(mut self, metrics: MetricsAccess) -> Self {
        self.metrics = metrics;
        self
    }

    /// Sets where triggers go.
    pub fn with_triggers(mut self, triggers: TriggerOptions) -> Self {
        self.triggers = triggers;
        self
    }

    pub fn with_header_read_timeout(mut self, timeout: std::time::Duration) -> Self {
        self.header_read_timeout = timeout;
        self
    }

    pub fn with_body_read_timeout(mut self, timeout: std::time::Duration) -> Self {
        self.body_read_timeout = timeout;
        self
    }

    /// Sets the most open connections in all (`total`) and from one address; each is
    /// at least 1.
    pub fn with_connection_limits(mut self, total: usize, per_address: usize) -> Self {
        self.max_connections = total.max(1);
        self.max_connections_per_address = per_address.max(1);
        self
    }

    /// What the accept loop enforces (`server::serve_http`).
    pub fn connection_limits(&self) -> ConnectionLimits {
        ConnectionLimits {
            header_read_timeout: self.header_read_timeout,
            max_total: self.max_connections,
            max_per_address: self.max_connections_per_address,
            exempt: self.trusted_proxies.clone(),
        }
    }

    pub fn with_rate_limits(mut self, limits: crate::rate_limit::RateLimits) -> Self {
        self.rate_limits = limits;
        self
    }

    pub fn with_trusted_proxies(mut self, proxies: Vec<ipnet::IpNet>) -> Self {
        self.trusted_proxies = proxies;
        self
    }

    /// Sets the base domain of prefix domains; it must be a host name (`example.com`,
    /// or `localhost`, which browsers resolve to loopback with any prefix). `None` or
    /// an empty name leaves prefix domains unserved.
    pub fn with_domain_base(mut self, base: Option<&str>) -> anyhow::Result<Self> {
        let base = base.map(|b| b.trim().trim_matches('.').to_ascii_lowercase());
        self.domain_base = match base {
            None => None,
            Some(b) if b.is_empty() => None,
            Some(b) if is_host_name(&b) => Some(b),
            Some(b) => bail!("the domain base {b:?} is not a host name (e.g. example.com)"),
        };
        Ok(self)
    }

    /// Issues tokens with Cognito's own issuer (`--cognito-issuer`).
    pub fn with_cognito_issuer(mut self, on: bool) -> Self {
        self.cognito_issuer = on;
        self
    }

    pub fn with_test_clock(mut self, on: bool) -> Self {
        self.test_clock = on;
        self
    }

    /// Sets the Cognito API's access keys.
    pub fn with_api_keys(mut self, keys: ApiKeys) -> Self {
        self.api_keys = keys;
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sqlite_urls_name_their_file() {
        assert_eq!(
            sqlite_path("sqlite://cognate.db"),
            Some("cognate.db".into())
        );
        assert_eq!(
            sqlite_path("sqlite:/tmp/x.db?mode=rwc"),
            Some("/tmp/x.db".into())
        );
        assert_eq!(sqlite_path("sqlite::memory:"), None);
        assert_eq!(sqlite_path("postgres://localhost/test"), None);
    }

    #[test]
    fn cookies_are_secure_for_https_public_urls() {
        assert!(
            Config::new("https://id.example.com/", None)
                .unwrap()
                .secure_cookies
        );
        let c = Config::new("http://127.0.0.1:9229", None).unwrap();
        assert!(!c.secure_cookies);
        assert_eq!(c.public_url, "http://127.0.0.1:9229");
        assert!(Config::new("ftp://x", None).is_err());
    }

    fn serve_args(flags: &[&str]) -> Result<ServeArgs, clap::Error> {
        use clap::Parser;
        let argv = ["cognate", "serve"].iter().chain(flags);
        match crate::cli::Cli::try_parse_from(argv)?.command {
            crate::cli::Command::Serve(args) => Ok(*args),
            other => panic!("not serve: {other:?}"),
        }
    }

    #[test]
    fn the_domain_base_must_be_a_host_name() {
        let c = Config::new("http://127.0.0.1:9229", None).unwrap();
        let with = |b: &str| c.clone().with_domain_base(Some(b));
        assert_eq!(
            with(".Example.COM.").unwrap().domain_base.as_deref(),
            Some("example.com")
        );
        assert_eq!(
            with("localhost").unwrap().domain_base.as_deref(),
            Some("localhost")
        );
        assert_eq!(with("").unwrap().domain_base, None);
        for bad in [
            "https://example.com",
            "exa mple.com",
            "-x.example",
            "10.0.0.1",
            "a..b",
        ] {
            assert!(with(bad).is_err(), "{bad}");
        }
        let args = serve_args(&["--domain-base", "example.test", "--cognito-issuer"]).unwrap();
        let config = Config::from_serve_args(&args).unwrap();
        assert_eq!(config.domain_base.as_deref(), Some("example.test"));
        assert!(config.cognito_issuer);
    }

    #[test]
    fn mail_flags_default_to_the_outbox_and_starttls() {
        let args = serve_args(&[]).unwrap();
        assert!(args.mail.smtp_host.is_none() && !args.dev);
        assert_eq!(args.mail.smtp_tls, SmtpTls::Starttls);
        assert_eq!(args.mail.mail_from, DEFAULT_MAIL_FROM);
        let args = serve_args(&[
            "--dev",
            "--smtp-host",
            "mx.example.com",
            "--smtp-tls",
            "tls",
        ])
        .unwrap();
        assert!(args.dev);
        assert_eq!(args.mail.smtp_host.as_deref(), Some("mx.example.com"));
        assert_eq!(args.mail.smtp_tls.default_port(), 465);
        assert!(Config::from_serve_args(&args).unwrap().dev);
        assert!(serve_args(&["--smtp-tls", "ssl"]).is_err());
    }

    #[test]
    fn the_mail_config_debug_hides_the_password() {
        let config = MailConfig {
            smtp_password: Some("hunter2-secret".into()),
            ..MailConfig::default()
        };
        let shown = format!("{config:?}");
        assert!(
            !shown.contains("hunter2-secret") && shown.contains("redacted"),
            "{shown}"
        );
    }
}
