//! cognate: a self-hosted, Cognito-compatible user pool and hosted-login OAuth 2.0 /
//! OpenID Connect authorization server.

pub mod api_keys;
#[doc(hidden)]
pub mod bench_bound;
pub mod body_deadline;
pub mod cli;
pub mod client_addr;
pub mod clients;
pub mod clock;
pub mod cognito_api;
pub mod config;
pub mod console;
pub mod crypto;
pub mod declared;
mod demo;
pub mod domains;
pub mod error;
pub mod events;
pub mod federation;
pub mod flows;
#[cfg(any(test, feature = "fuzzing"))]
pub mod fuzz_checks;
pub mod groups;
pub mod home;
pub mod host_routing;
pub mod hosted_ui;
pub mod hosts;
pub mod keys;
pub mod mail;
pub mod metrics;
pub mod model;
pub mod net_guard;
pub mod oauth;
pub mod operators;
pub mod pkce;
pub mod pool;
pub mod rate_limit;
pub mod resource_servers;
pub mod server;
pub mod services;
pub mod session;
pub mod sigv4;
pub mod standin;
pub mod state;
pub mod store;
pub mod test_clock;
pub mod throttle;
pub mod tokens;
pub mod triggers;
pub mod users;

use axum::Router;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{HeaderName, HeaderValue, Method, Request, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use tower_http::request_id::{
    MakeRequestUuid, PropagateRequestIdLayer, RequestId, SetRequestIdLayer,
};
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::trace::TraceLayer;
use tower_sessions::cookie::SameSite;
use tower_sessions::{Expiry, SessionManagerLayer};

use state::AppState;

/// Largest request body accepted anywhere (forms and token requests are small).
const BODY_LIMIT: usize = 64 * 1024;

/// Largest request line target and header block accepted (browsers send a few KiB;
/// authorize URLs with a 2 KiB `state` fit easily).
const URI_LIMIT: usize = 16 * 1024;
const HEADER_LIMIT: usize = 32 * 1024;

/// Refuses oversized URLs (414) and header blocks (431, e.g. a 100 KB cookie) before
/// any handler or session lookup runs.
async fn size_limits(req: axum::extract::Request, next: axum::middleware::Next) -> Response {
    let uri = req.uri().path_and_query().map_or(0, |pq| pq.as_str().len());
    if uri > URI_LIMIT {
        return StatusCode::URI_TOO_LONG.into_response();
    }
    let headers: usize = req
        .headers()
        .iter()
        .map(|(k, v)| k.as_str().len() + v.len() + 4)
        .sum();
    if headers > HEADER_LIMIT {
        return StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE.into_response();
    }
    next.run(req).await
}

/// A 413 closes the connection: the client may still be sending the rest of a body the
/// server will not read, and keeping the connection would mean reading it anyway.
async fn close_after_413(mut res: Response) -> Response {
    if res.status() == StatusCode::PAYLOAD_TOO_LARGE {
        res.headers_mut().insert(
            axum::http::header::CONNECTION,
            HeaderValue::from_static("close"),
        );
    }
    res
}

/// Refuses a request over its address's limit in the category's own wire
/// format, with `Retry-After`. Only POSTs count as form posts.
async fn rate_limited(
    State((app, category)): State<(AppState, rate_limit::Category)>,
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    if category == rate_limit::Category::Form && req.method() != Method::POST {
        return next.run(req).await;
    }
    let addr = client_addr::ClientAddr::of(&req, &app).0;
    let Err(wait) = app.limiter.check(category, addr) else {
        return next.run(req).await;
    };
    app.metrics.rate_limited(category.name());
    let message = format!("Too many requests. Try again in {wait} seconds.");
    let mut res = match category {
        rate_limit::Category::Token => error::OAuthError::new(
            StatusCode::TOO_MANY_REQUESTS,
            "temporarily_unavailable",
            message,
        )
        .into_response(),
        rate_limit::Category::Form => {
            hosted_ui::pages::error_page(StatusCode::TOO_MANY_REQUESTS, &message)
        }
        rate_limit::Category::Api => {
            cognito_api::CognitoError::new("TooManyRequestsException", "Rate exceeded")
                .into_response()
        }
    };
    res.headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from(wait));
    res
}

/// The last resort for a bug: a panicking handler answers a generic 500, with no panic
/// message, path or stack in the response (the panic itself goes to the log).
pub fn catch_panics<S: Clone + Send + Sync + 'static>(router: Router<S>) -> Router<S> {
    router.layer(tower_http::catch_panic::CatchPanicLayer::custom(
        |_: Box<dyn std::any::Any + Send>| {
            tracing::error!("a request handler panicked");
            let body = r#"{"error":"server_error","error_description":"Internal error."}"#;
            let mut res = (StatusCode::INTERNAL_SERVER_ERROR, body).into_response();
            res.headers_mut().insert(
                axum::http::header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            );
            res
        },
    ))
}

/// The whole HTTP surface.
pub fn router(app: AppState) -> Router {
    let cookie_name = match app.config.secure_cookies {
        true => session::SECURE_COOKIE,
        false => session::COOKIE,
    };
    let sessions = SessionManagerLayer::new(app.store.session_store(app.keys.digests()))
        .with_name(cookie_name)
        .with_secure(app.config.secure_cookies)
        .with_http_only(true)
        .with_same_site(SameSite::Lax)
        .with_path("/")
        .with_expiry(Expiry::OnInactivity(time::Duration::hours(1)));
    let limit =
        |category| axum::middleware::from_fn_with_state((app.clone(), category), rate_limited);
    let mut browser = Router::new()
        .merge(oauth::browser_routes())
        .merge(
            hosted_ui::routes()
                .layer(axum::middleware::from_fn_with_state(
                    app.clone(),
                    hosted_ui::csrf::same_origin,
                ))
                .route_layer(limit(rate_limit::Category::Form)),
        )
        .layer(sessions)
        .layer(axum::middleware::map_response(session::unavailable_store));
    if app.config.secure_cookies {
        browser = browser.layer(axum::middleware::map_response(
            session::complete_removal_cookie,
        ));
    }
    let mut router = Router::new()
        .merge(browser)
        .merge(oauth::api_routes())
        .merge(oauth::token_routes().route_layer(limit(rate_limit::Category::Token)))
        .merge(cognito_api::routes().route_layer(limit(rate_limit::Category::Api)))
        // The admin console: its own cookie and session table (no tower-sessions: a
        // pool user's hosted-UI session never reaches it), its own CSP.
        .merge(console::routes().route_layer(limit(rate_limit::Category::Form)))
        .merge(home::routes())
        .route("/health", get(health))
        .route("/static/cognate.css", get(hosted_ui::pages::stylesheet))
        .layer(DefaultBodyLimit::max(BODY_LIMIT));
    if app.config.metrics.listen.is_none() {
        router = router.route("/metrics", get(get_metrics));
    }
    // The development outbox shows codes: only with `serve --dev` and no SMTP server.
    if app.config.dev && app.mail.is_outbox() {
        router = router.merge(hosted_ui::dev_outbox::routes());
    }
    if app.config.test_clock {
        router = router.merge(test_clock::routes());
    }
    // Stand-in Google, Facebook and Amazon, so social sign-in works offline. Anyone can
    // sign in as anyone there: development only.
    if app.config.dev {
        let base = format!("{}/_standin", app.config.public_url);
        router = router.nest_service("/_standin", standin::router(&base));
    }
    router = router
        .layer(axum::middleware::from_fn(size_limits))
        .layer(axum::middleware::from_fn_with_state(
            app.config.body_read_timeout,
            body_deadline::enforce,
        ))
        .layer(axum::middleware::map_response(close_after_413));
    router = catch_panics(router);
    for (name, value) in SECURITY_HEADERS {
        router = router.layer(SetResponseHeaderLayer::if_not_present(
            HeaderName::from_static(name),
            HeaderValue::from_static(value),
        ));
    }
    if app.config.secure_cookies {
        router = router.layer(SetResponseHeaderLayer::if_not_present(
            HeaderName::from_static("strict-transport-security"),
            HeaderValue::from_static("max-age=31536000"),
        ));
    }
    let router = router
        // Outermost but inside routing, so every answer (a refusal by a layer too) is
        // counted under its route template.
        .layer(axum::middleware::from_fn_with_state(
            app.clone(),
            count_request,
        ))
        // Spans name the method and path only: queries carry codes and state.
        .layer(TraceLayer::new_for_http().make_span_with(|req: &Request<_>| {
            let id = req
                .extensions()
                .get::<RequestId>()
                .and_then(|id| id.header_value().to_str().ok())
                .unwrap_or_default();
            tracing::info_span!("request", request_id = %id, method = %req.method(), path = %req.uri().path())
        }))
        .with_state(app.clone());
    // A pool's domain serves its routes at the root: the path is rewritten before
    // routing, so this wraps the whole router rather than being one of its layers.
    let by_host = axum::middleware::from_fn_with_state(app.clone(), host_routing::route_by_host);
    Router::new()
        .fallback_service(tower::Layer::layer(&by_host, router))
        .layer(axum::middleware::from_fn_with_state(app, event_context))
        // Every request has an id (the client's `x-request-id` if it is a plausible
        // one, else a new UUID), echoed in the response, carried by the request's log
        // span and by the auth events it causes.
        .layer(PropagateRequestIdLayer::x_request_id())
        .layer(SetRequestIdLayer::x_request_id(MakeRequestUuid))
        .layer(axum::middleware::map_request(drop_odd_request_id))
}

/// Removes an `x-request-id` that is not a plausible id (too long, odd characters), so
/// a new one is made: a client's id lands in logs and the event table.
async fn drop_odd_request_id(mut req: axum::extract::Request) -> axum::extract::Request {
    let odd = req.headers().get_all(X_REQUEST_ID).iter().any(|v| {
        v.to_str()
            .map_or(true, |v| !events::context::is_request_id(v))
    });
    if odd || req.headers().get_all(X_REQUEST_ID).iter().count() > 1 {
        req.headers_mut().remove(X_REQUEST_ID);
    }
    req
}

const X_REQUEST_ID: &str = "x-request-id";

/// Runs the request with its id, client address and user agent as the context of the
/// auth events it records ([`events::within`]).
async fn event_context(
    State(app): State<AppState>,
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let context = events::RequestContext::new(
        req.extensions()
            .get::<RequestId>()
            .and_then(|id| id.header_value().to_str().ok()),
        client_addr::ClientAddr::of(&req, &app).0,
        req.headers()
            .get(header::USER_AGENT)
            .and_then(|v| v.to_str().ok()),
    );
    events::within(context, next.run(req)).await
}

/// Sent on every response. No form-action directive: Chrome applies it to the redirect
/// after the login form, which must reach the app's callback.
const SECURITY_HEADERS: [(&str, &str); 4] = [
    ("x-content-type-options", "nosniff"),
    ("x-frame-options", "DENY"),
    ("referrer-policy", "no-referrer"),
    (
        "content-security-policy",
        "default-src 'none'; style-src 'self'; img-src 'self' data: https:; base-uri 'none'; frame-ancestors 'none'",
    ),
];

/// Counts a request and its time to the response's headers under its route template
/// (`unmatched` for none: a raw path would make a series per URL anyone can type).
async fn count_request(
    State(app): State<AppState>,
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let route = req
        .extensions()
        .get::<axum::extract::MatchedPath>()
        .map_or("unmatched", |m| m.as_str());
    let route = app.metrics.route(route);
    let started = std::time::Instant::now();
    let res = next.run(req).await;
    route.observe(res.status().as_u16(), started.elapsed());
    res
}

/// `/metrics` alone, for `serve --metrics-listen`.
pub fn metrics_router(app: AppState) -> Router {
    Router::new()
        .route("/metrics", get(get_metrics))
        .with_state(app)
}

/// The metrics, in Prometheus' text format; with `--metrics-token`, only for a request
/// bearing it (compared in constant time).
async fn get_metrics(State(app): State<AppState>, headers: axum::http::HeaderMap) -> Response {
    if let Some(token) = &app.config.metrics.token {
        let given = headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .unwrap_or("");
        // Digests first, so neither the time nor an early length check tells the
        // token's length.
        let matches = crypto::ct_eq(
            crypto::sha256_hex(given).as_bytes(),
            crypto::sha256_hex(token).as_bytes(),
        );
        if !matches {
            return (
                StatusCode::UNAUTHORIZED,
                [(header::WWW_AUTHENTICATE, "Bearer")],
                "a bearer token is required",
            )
                .into_response();
        }
    }
    let mut gauges = metrics::Gauges::default();
    app.store.pool_gauges(&mut gauges);
    let (slots, in_use, waiting) = users::password::queue();
    (
        gauges.hash_slots,
        gauges.hash_slots_in_use,
        gauges.hash_waiting,
    ) = (slots as u64, in_use as u64, waiting as u64);
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        app.metrics.render(&gauges),
    )
        .into_response()
}

/// `ok` when the database answers and this instance's master key is the one its
/// secrets are sealed with (a database restored or pointed elsewhere fails here).
async fn health(State(app): State<AppState>) -> Response {
    let expected = server::master_key_check_value(app.keys.master());
    match app.store.master_key_check().await {
        Ok(Some(recorded)) if crypto::ct_eq(recorded.as_bytes(), expected.as_bytes()) => {
            "ok".into_response()
        }
        Ok(_) => {
            tracing::error!("the database's secrets are sealed with another master key");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                "sealed data cannot be opened",
            )
                .into_response()
        }
        Err(e) => error::AppError::from(e).into_response(),
    }
}
