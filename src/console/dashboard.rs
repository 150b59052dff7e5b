//! A pool's activity dashboard (issue 20 item 3): sign-ins, failures and sign-ups per
//! hour over the last 24 hours and per day over the last 30, as server-drawn SVG charts
//! ([`super::chart`]) with their numbers in a table for those who cannot see them.

use askama::Template;
use axum::Router;
use axum::extract::{Path, State};
use axum::routing::get;

use super::activity::{Activity, Window};
use super::chart::Chart;
use super::pages::{Frame, ok};
use super::pools::{PoolHead, load};
use super::{Answer, Operator};
use crate::state::AppState;

pub fn routes() -> Router<AppState> {
    Router::new().route("/admin/pools/{pool}/dashboard", get(get_dashboard))
}

/// One chart of the page.
struct ChartView {
    /// The heading's id, for `aria-labelledby`.
    id: &'static str,
    heading: &'static str,
    /// The drawn chart: markup made (and escaped) by [`Chart::svg`].
    svg: String,
    chart: Chart,
}

#[derive(Template)]
#[template(path = "console/dashboard.html")]
struct DashboardPage {
    frame: Frame,
    head: PoolHead,
    charts: Vec<ChartView>,
}

async fn get_dashboard(
    State(app): State<AppState>,
    operator: Operator,
    Path(pool_id): Path<String>,
) -> Answer {
    let pool = load(&app, &pool_id).await?;
    let now = app.clock.now();
    let mut charts = Vec::new();
    for (window, id, heading) in [
        (Window::Hours24, "hourly", "Last 24 hours"),
        (Window::Days30, "daily", "Last 30 days"),
    ] {
        let chart = Activity::load(&app.store, &pool.pool_id, window, now)
            .await?
            .chart();
        charts.push(ChartView {
            id,
            heading,
            svg: chart.svg(),
            chart,
        });
    }
    let frame = Frame::new(&operator, "pools", format!("Activity of {}", pool.name));
    Ok(ok(&DashboardPage {
        frame,
        head: PoolHead::new(&pool, "dashboard"),
        charts,
    }))
}
