//! Opening the store and running the HTTP server.

use std::collections::HashMap;
use std::net::{IpAddr, Ipv6Addr};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use anyhow::Context;

use crate::config::{Config, ConnectionLimits, ServeArgs, StoreArgs};
use crate::crypto::MasterKey;
use crate::keys::KeyRing;
use crate::mail::Mailer;
use crate::state::AppState;
use crate::store::Store;

/// Connects to the database, applies migrations and loads the master key; messages go
/// to the outbox.
pub async fn open(store_args: &StoreArgs, config: Config) -> anyhow::Result<AppState> {
    open_with_mailer(store_args, config, Mailer::Outbox).await
}

/// [`open`], delivering messages through `mail`.
pub async fn open_with_mailer(
    store_args: &StoreArgs,
    config: Config,
    mail: Mailer,
) -> anyhow::Result<AppState> {
    let master = store_args.load_master_key()?;
    let store = Store::connect(&store_args.database_url)
        .await
        .context("connect to the database")?;
    store.migrate().await.context("apply migrations")?;
    let now = crate::clock::Clock::default().now();
    // The key is checked before anything is converted or sealed with it.
    check_master_key(&store, &master, now).await?;
    let changed = store
        .upgrade_digests(master.digests(), now)
        .await
        .context("convert stored digests to keyed digests")?;
    if changed > 0 {
        tracing::info!(
            rows = changed,
            "stored codes, tokens and handles converted to keyed digests; hosted-UI \
             sessions ended"
        );
    }
    Ok(AppState::with_mailer(
        config,
        store,
        KeyRing::new(master),
        mail,
    ))
}

/// Why a master key is refused.
const WRONG_KEY: &str = "this master key does not open this database's sealed secrets \
     (client secrets, signing keys): start with the key the database was created with \
     (--master-key, --master-key-file or <database>.master-key)";

/// The check value recorded for `master`: an HMAC of a constant, which tells keys apart
/// and reveals nothing about them.
pub fn master_key_check_value(master: &MasterKey) -> String {
    hex::encode(master.keyed_digest("master key check", &[]))
}

/// Refuses to go on with a master key other than the database's, before anything is
/// sealed with it (a wrong key would seal signing keys no correctly keyed instance
/// opens). The first start records the key's check value; a database from before the
/// check is taken to be sealed with a key that opens its signing keys.
async fn check_master_key(store: &Store, master: &MasterKey, now: i64) -> anyhow::Result<()> {
    let expected = master_key_check_value(master);
    if store.master_key_check().await?.is_none() {
        if let Some(key) = store.any_signing_key().await? {
            master
                .open(&key.kid, &key.private_enc)
                .map_err(|_| anyhow::anyhow!(WRONG_KEY))?;
        }
        store.insert_master_key_check(&expected, now).await?;
    }
    match store.master_key_check().await? {
        Some(recorded) if crate::crypto::ct_eq(recorded.as_bytes(), expected.as_bytes()) => Ok(()),
        _ => anyhow::bail!(WRONG_KEY),
    }
}

/// `cognate serve`: seed a demo on an empty database, then serve until Ctrl-C.
pub async fn serve(store_args: &StoreArgs, args: &ServeArgs) -> anyhow::Result<()> {
    let mail = Mailer::from_config(&args.mail).context("mail settings")?;
    let mut config = Config::from_serve_args(args)?;
    if config.dev && config.api_keys.is_empty() {
        // The demo's key, derived from this installation's master key (never a
        // published one), so the README's boto3 and AWS CLI examples work.
        let master = store_args.load_master_key()?;
        config = config.with_api_keys(crate::demo::dev_api_keys(&master));
    }
    let app = open_with_mailer(store_args, config, mail).await?;
    app.keys.set_cache_ttl(args.key_cache_seconds);
    app.store
        .set_config_check(Duration::from_millis(args.config_check_ms));
    if !args.no_demo && app.store.is_empty().await? {
        crate::demo::seed(&app, app.config.dev)
            .await
            .context("create the demo pool")?;
    }
    let listener = tokio::net::TcpListener::bind(args.listen)
        .await
        .with_context(|| format!("listen on {}", args.listen))?;
    tracing::info!(address = %args.listen, public_url = %app.config.public_url, "listening");
    if app.mail.is_outbox() && app.config.dev {
        tracing::warn!(
            "development mode: messages are kept in the outbox and shown, codes included, at \
             {}/dev/outbox",
            app.config.public_url
        );
    } else if app.mail.is_outbox() {
        tracing::info!("no SMTP server: messages are kept in the outbox (`cognate outbox`)");
    }
    if app.config.test_clock {
        tracing::warn!("test clock: POST /_test/clock moves time forward; never in production");
    }
    sync_clock(&app).await;
    tokio::spawn(follow_database_clock(app.clone()));
    tokio::spawn(clean_up(app.clone()));
    let mut limits = app.config.connection_limits();
    fit_open_file_limit(&mut limits);
    if let Some(address) = app.config.metrics.listen {
        let metrics = tokio::net::TcpListener::bind(address)
            .await
            .with_context(|| format!("listen on {address} for /metrics"))?;
        tracing::info!(%address, "serving /metrics");
        let router = crate::metrics_router(app.clone());
        tokio::spawn(serve_http(metrics, router, limits.clone(), async {
            let _ = tokio::signal::ctrl_c().await;
        }));
    }
    serve_http(listener, crate::router(app), limits, async {
        let _ = tokio::signal::ctrl_c().await;
    })
    .await;
    Ok(())
}

/// Serves `router` on `listener` over HTTP/1.1 until `shutdown` completes, then lets
/// requests in flight finish. Each connection must send a request's headers within
/// `limits.header_read_timeout` or is closed (slowloris), and a connection over
/// `limits.max_total` or `limits.max_per_address` is refused at once, so no client can
/// hold every descriptor; the handlers see the peer address as axum's `ConnectInfo`.
/// The server and the tests both serve through here.
pub async fn serve_http(
    listener: tokio::net::TcpListener,
    router: axum::Router,
    limits: ConnectionLimits,
    shutdown: impl std::future::Future<Output = ()>,
) {
    use hyper_util::rt::{TokioIo, TokioTimer};
    use tower::ServiceExt;

    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(limits.header_read_timeout);
    let open = Arc::new(OpenConnections::new(limits));
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(conn) => conn,
                // Out of file descriptors and the like: wait, never busy-loop.
                Err(e) => {
                    tracing::warn!(error = %e, "accepting a connection failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let place = match open.admit(peer.ip()) {
            Ok(place) => place,
            Err(refused) => {
                refuse(stream, refused);
                continue;
            }
        };
        let service = router
            .clone()
            .map_request(move |mut req: axum::extract::Request<_>| {
                req.extensions_mut()
                    .insert(axum::extract::ConnectInfo(peer));
                req
            });
        let conn = http.serve_connection(
            TokioIo::new(stream),
            hyper_util::service::TowerToHyperService::new(service),
        );
        let conn = graceful.watch(conn);
        tokio::spawn(async move {
            // Resets, timeouts and malformed requests end one connection only.
            if let Err(e) = conn.await {
                tracing::debug!(error = %e, "connection ended with an error");
            }
            drop(place);
        });
    }
    graceful.shutdown().await;
}

/// Why a new connection was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Refused {
    /// `max_total` connections are open.
    Full,
    /// `max_per_address` connections from this client are open.
    Address,
}

/// Answers a refused connection with a short HTTP error if the socket takes it at once,
/// then closes it: never waits, so the accept loop serves everyone else meanwhile.
fn refuse(stream: tokio::net::TcpStream, refused: Refused) {
    let answer: &[u8] = match refused {
        Refused::Full => {
            b"HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\nRetry-After: 1\r\nContent-Length: 0\r\n\r\n"
        }
        Refused::Address => {
            b"HTTP/1.1 429 Too Many Requests\r\nConnection: close\r\nRetry-After: 1\r\nContent-Length: 0\r\n\r\n"
        }
    };
    let _ = stream.try_write(answer);
    tracing::debug!(reason = ?refused, "connection refused");
}

/// The connections open now, in total and per client address.
struct OpenConnections {
    limits: ConnectionLimits,
    counts: Mutex<Counts>,
}

#[derive(Default)]
struct Counts {
    total: usize,
    by_address: HashMap<IpAddr, usize>,
}

/// An admitted connection's place in the counts, given back when dropped.
struct Place {
    open: Arc<OpenConnections>,
    /// The address counted, or `None` for an exempt peer (a trusted proxy).
    address: Option<IpAddr>,
}

impl OpenConnections {
    fn new(limits: ConnectionLimits) -> Self {
        Self {
            limits,
            counts: Mutex::default(),
        }
    }

    /// Counts a new connection from `peer`, or refuses it when a limit is reached.
    fn admit(self: &Arc<Self>, peer: IpAddr) -> Result<Place, Refused> {
        let peer = peer.to_canonical();
        let exempt = self.limits.exempt.iter().any(|net| net.contains(&peer));
        let address = (!exempt).then(|| address_key(peer));
        let mut counts = self.counts();
        if counts.total >= self.limits.max_total {
            return Err(Refused::Full);
        }
        if let Some(address) = address {
            let n = counts.by_address.entry(address).or_default();
            if *n >= self.limits.max_per_address {
                return Err(Refused::Address);
            }
            *n += 1;
        }
        counts.total += 1;
        Ok(Place {
            open: Arc::clone(self),
            address,
        })
    }

    fn counts(&self) -> std::sync::MutexGuard<'_, Counts> {
        // The counts stay consistent under any panic (each update is one statement).
        self.counts.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl Drop for Place {
    fn drop(&mut self) {
        let mut counts = self.open.counts();
        counts.total -= 1;
        if let Some(address) = self.address
            && let Some(n) = counts.by_address.get_mut(&address)
        {
            *n -= 1;
            if *n == 0 {
                counts.by_address.remove(&address);
            }
        }
    }
}

/// The key a client's connections are counted under: its IPv4 address, or the /64 of
/// its IPv6 address (one subscriber's usual allocation, which it can cycle through).
fn address_key(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V4(_) => ip,
        IpAddr::V6(v6) => IpAddr::V6(Ipv6Addr::from(u128::from(v6) & !(u64::MAX as u128))),
    }
}

/// Descriptors kept for everything but client connections: the database pool, outgoing
/// HTTP and SMTP, files.
const RESERVED_DESCRIPTORS: u64 = 256;

/// Raises the soft open-file limit to the hard one, and lowers `max_total` when even
/// that leaves too few descriptors: running out would fail accept() and database
/// connections for everyone, where the cap only refuses the newest connections.
fn fit_open_file_limit(limits: &mut ConnectionLimits) {
    #[cfg(unix)]
    match rlimit::increase_nofile_limit(u64::MAX) {
        Ok(soft) => {
            let room = soft.saturating_sub(RESERVED_DESCRIPTORS).max(1);
            let room = usize::try_from(room).unwrap_or(usize::MAX);
            if limits.max_total > room {
                tracing::warn!(
                    open_file_limit = soft,
                    max_connections = room,
                    "the open-file limit is low: --max-connections lowered to fit it"
                );
                limits.max_total = room;
            }
        }
        Err(e) => tracing::warn!(error = %e, "reading the open-file limit failed"),
    }
}

/// Reads the database clock once (PostgreSQL), so that every instance decides expiry
/// and lockouts by the same clock whatever its host's says.
async fn sync_clock(app: &AppState) {
    match app.store.database_now().await {
        Ok(Some(now)) => app.clock.follow(now),
        Ok(None) => {}
        Err(e) => tracing::warn!(error = %e, "reading the database clock failed"),
    }
}

/// Follows the database clock every minute.
async fn follow_database_clock(app: AppState) {
    let mut tick = tokio::time::interval(Duration::from_secs(60));
    loop {
        tick.tick().await;
        sync_clock(&app).await;
    }
}

/// Deletes expired codes, token families and sessions every ten minutes, and forgets
/// idle rate-limit buckets.
async fn clean_up(app: AppState) {
    let mut tick = tokio::time::interval(Duration::from_secs(600));
    loop {
        tick.tick().await;
        if let Err(e) = app.store.delete_expired(app.clock.now()).await {
            tracing::warn!(error = %e, "deleting expired rows failed");
        }
        if let Err(e) = app
            .store
            .session_store(app.keys.digests())
            .delete_expired()
            .await
        {
            tracing::warn!(error = %e, "deleting expired sessions failed");
        }
        if let Err(e) = crate::users::import_jobs::delete_expired_files(&app).await {
            tracing::warn!(error = %e, "deleting expired user import files failed");
        }
        app.limiter.forget_idle();
        match crate::events::sink::prune(&app.store, app.config.events_retention, app.clock.now())
            .await
        {
            Ok(0) => {}
            Ok(n) => tracing::info!(events = n, "auth events past their retention deleted"),
            Err(e) => tracing::warn!(error = %e, "deleting old auth events failed"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn open(total: usize, per_address: usize, exempt: &[&str]) -> Arc<OpenConnections> {
        Arc::new(OpenConnections::new(ConnectionLimits {
            max_total: total,
            max_per_address: per_address,
            exempt: exempt.iter().map(|n| n.parse().unwrap()).collect(),
            ..ConnectionLimits::default()
        }))
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    // Matrix: PR-04
    #[test]
    fn connections_are_counted_per_address_and_in_total_and_given_back() {
        let open = open(4, 2, &[]);
        let a1 = open.admit(ip("192.0.2.1")).unwrap();
        let _a2 = open.admit(ip("192.0.2.1")).unwrap();
        assert_eq!(open.admit(ip("192.0.2.1")).err(), Some(Refused::Address));
        // The same client over IPv4-mapped IPv6 is the same address.
        assert_eq!(
            open.admit(ip("::ffff:192.0.2.1")).err(),
            Some(Refused::Address)
        );
        let _b1 = open.admit(ip("192.0.2.2")).unwrap();
        let _c1 = open.admit(ip("192.0.2.3")).unwrap();
        assert_eq!(open.admit(ip("192.0.2.4")).err(), Some(Refused::Full));
        drop(a1);
        let _a3 = open.admit(ip("192.0.2.1")).unwrap();
        assert_eq!(open.counts().total, 4);
    }

    // Matrix: PR-04
    #[test]
    fn an_ipv6_client_counts_by_its_64_and_a_trusted_proxy_is_exempt() {
        let open = open(100, 1, &["10.0.0.0/8"]);
        let _a = open.admit(ip("2001:db8:1:2::1")).unwrap();
        assert_eq!(
            open.admit(ip("2001:db8:1:2:ffff::9")).err(),
            Some(Refused::Address)
        );
        let _b = open.admit(ip("2001:db8:1:3::1")).unwrap();
        let proxied: Vec<_> = (0..5)
            .map(|_| open.admit(ip("10.1.2.3")).unwrap())
            .collect();
        assert_eq!(open.counts().total, 7);
        drop(proxied);
        assert_eq!(open.counts().total, 2);
        assert!(open.counts().by_address.len() == 2);
    }
}
