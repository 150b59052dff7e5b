//! Opening the store and running the HTTP server.

use std::time::Duration;

use anyhow::Context;

use crate::config::{Config, ServeArgs, StoreArgs};
use crate::mail::Mailer;
use crate::state::AppState;
use crate::store::Store;
use crate::tokens::KeyRing;

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
    Ok(AppState::with_mailer(
        config,
        store,
        KeyRing::new(master),
        mail,
    ))
}

/// `cognate serve`: seed a demo on an empty database, then serve until Ctrl-C.
pub async fn serve(store_args: &StoreArgs, args: &ServeArgs) -> anyhow::Result<()> {
    let mail = Mailer::from_config(&args.mail).context("mail settings")?;
    let app = open_with_mailer(store_args, Config::from_serve_args(args)?, mail).await?;
    app.keys.set_cache_ttl(args.key_cache_seconds);
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
    let timeout = app.config.header_read_timeout;
    serve_http(listener, crate::router(app), timeout, async {
        let _ = tokio::signal::ctrl_c().await;
    })
    .await;
    Ok(())
}

/// Serves `router` on `listener` over HTTP/1.1 until `shutdown` completes, then lets
/// requests in flight finish. Each connection must send a request's headers within
/// `header_read_timeout` or is closed (slowloris); the handlers see the peer address
/// as axum's `ConnectInfo`. The server and the tests both serve through here.
pub async fn serve_http(
    listener: tokio::net::TcpListener,
    router: axum::Router,
    header_read_timeout: Duration,
    shutdown: impl std::future::Future<Output = ()>,
) {
    use hyper_util::rt::{TokioIo, TokioTimer};
    use tower::ServiceExt;

    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(header_read_timeout);
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
        });
    }
    graceful.shutdown().await;
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
        if let Err(e) = app.store.session_store().delete_expired().await {
            tracing::warn!(error = %e, "deleting expired sessions failed");
        }
        app.limiter.forget_idle();
    }
}
