//! What the console's event log and trigger log pages ask for and show (issue 20 item
//! 3): their query strings, parsed into store filters with a clear message for bad
//! input, and the rows as the tables print them. Newest first, a page at a time; the
//! next page starts below the last id shown, so new events never shift a page.

use askama::Template;
use axum::Router;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::routing::get;
use serde::{Deserialize, Serialize};

use super::pages::{Frame, render, time};
use super::paths::segment;
use super::pools::{PoolHead, load};
use super::{Answer, Operator};
use crate::events::Kind;
use crate::state::AppState;
use crate::store::{AuthEventFilter, AuthEventRow, TriggerLogEntry, TriggerLogFilter};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/admin/pools/{pool}/events", get(get_events))
        .route("/admin/pools/{pool}/triggers/log", get(get_trigger_log))
}

/// Rows per page.
pub const PAGE: usize = 50;
/// The longest user name or `sub` searched for (Cognito's username limit).
const MAX_USER: usize = 128;

/// The event log's query string, as typed (every field optional, kept as text so a bad
/// value is explained on the page rather than refused by the extractor).
#[derive(Debug, Default, Clone, Deserialize, Serialize, PartialEq, Eq)]
#[serde(default)]
pub struct EventQuery {
    /// An event kind's stored name (`sign_in`…); empty for all.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub kind: String,
    /// A user name (any case) or `sub`.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub user: String,
    /// Present (a checkbox's `on`) for failures only.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub failed: String,
    /// From this time (UTC): `YYYY-MM-DD`, `YYYY-MM-DDTHH:MM[:SS]` or RFC 3339.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub from: String,
    /// Until this time (UTC, exclusive; a date alone includes that day).
    #[serde(skip_serializing_if = "String::is_empty")]
    pub to: String,
    /// Paging: events with an id below this.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub before: String,
}

/// An event log query, checked.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct EventSearch {
    pub kind: Option<Kind>,
    pub user: Option<String>,
    pub failed: bool,
    pub since: Option<i64>,
    pub until: Option<i64>,
    pub before_id: Option<i64>,
}

impl EventQuery {
    /// The search it asks for, or what is wrong with it.
    pub fn parse(&self) -> Result<EventSearch, String> {
        let kind = match self.kind.trim() {
            "" => None,
            name => Some(
                Kind::parse(name)
                    .ok_or_else(|| "Unknown event kind: choose one from the list.".to_string())?,
            ),
        };
        let user = match self.user.trim() {
            "" => None,
            u if u.chars().count() > MAX_USER || u.chars().any(char::is_control) => {
                return Err(format!(
                    "The user must be a user name or sub of at most {MAX_USER} characters."
                ));
            }
            u => Some(u.to_string()),
        };
        let since = parse_time(&self.from, Bound::Start)
            .map_err(|e| format!("The start time is not valid: {e}"))?;
        let until = parse_time(&self.to, Bound::End)
            .map_err(|e| format!("The end time is not valid: {e}"))?;
        if let (Some(s), Some(u)) = (since, until)
            && s >= u
        {
            return Err("The start time must be before the end time.".into());
        }
        Ok(EventSearch {
            kind,
            user,
            failed: !self.failed.is_empty(),
            since,
            until,
            before_id: parse_before(&self.before)?,
        })
    }

    /// The query string of the first page with the same filters.
    pub fn first_page(&self) -> String {
        let first = EventQuery {
            before: String::new(),
            ..self.clone()
        };
        serde_urlencoded::to_string(&first).unwrap_or_default()
    }

    /// The query string of the page after the one ending with event `last_id`.
    pub fn next_page(&self, last_id: i64) -> String {
        let next = EventQuery {
            before: last_id.to_string(),
            ..self.clone()
        };
        serde_urlencoded::to_string(&next).unwrap_or_default()
    }
}

impl EventSearch {
    /// The store filter for `pool_id`: one row more than a page, to tell whether
    /// another page follows.
    pub fn filter<'a>(&'a self, pool_id: &'a str) -> AuthEventFilter<'a> {
        AuthEventFilter {
            pool_id: Some(pool_id),
            // A user name (compared in any case) or a sub: either matches.
            username: self.user.as_deref(),
            user_sub: self.user.as_deref(),
            kind: self.kind.map(Kind::name),
            outcome: self.failed.then_some("fail"),
            since: self.since,
            until: self.until,
            before_id: self.before_id,
            limit: PAGE as i64 + 1,
            ..Default::default()
        }
    }
}

/// The trigger log's query string.
#[derive(Debug, Default, Clone, Deserialize, Serialize, PartialEq, Eq)]
#[serde(default)]
pub struct TriggerQuery {
    /// A trigger source (`PreSignUp_SignUp`…); empty for all.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub source: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub before: String,
}

impl TriggerQuery {
    /// The store filter for `pool_id`, or what is wrong with the query.
    pub fn filter<'a>(&'a self, pool_id: &'a str) -> Result<TriggerLogFilter<'a>, String> {
        let source = self.source.trim();
        // Trigger sources are Cognito's names: letters, digits and underscores.
        if source.len() > 64
            || !source
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_')
        {
            return Err("The trigger source must be a name like PreSignUp_SignUp.".into());
        }
        Ok(TriggerLogFilter {
            pool_id: Some(pool_id),
            trigger_source: Some(source).filter(|s| !s.is_empty()),
            before_id: parse_before(&self.before)?,
            limit: PAGE as i64 + 1,
            ..Default::default()
        })
    }

    /// The query string of the first page with the same filters.
    pub fn first_page(&self) -> String {
        let first = TriggerQuery {
            before: String::new(),
            ..self.clone()
        };
        serde_urlencoded::to_string(&first).unwrap_or_default()
    }

    /// The query string of the page after the one ending with entry `last_id`.
    pub fn next_page(&self, last_id: i64) -> String {
        let next = TriggerQuery {
            before: last_id.to_string(),
            ..self.clone()
        };
        serde_urlencoded::to_string(&next).unwrap_or_default()
    }
}

/// A page of rows and, if more follow, the id to continue below.
pub fn split_page<T>(mut rows: Vec<T>, id: impl Fn(&T) -> i64) -> (Vec<T>, Option<i64>) {
    let more = rows.len() > PAGE;
    rows.truncate(PAGE);
    let next = if more { rows.last().map(id) } else { None };
    (rows, next)
}

fn parse_before(before: &str) -> Result<Option<i64>, String> {
    match before.trim() {
        "" => Ok(None),
        b => b
            .parse::<i64>()
            .ok()
            .filter(|id| *id > 0)
            .map(Some)
            .ok_or_else(|| "The page link is not valid: go back to the first page.".into()),
    }
}

/// Which end of a range a time is: a date alone starts its day, or ends it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Bound {
    Start,
    End,
}

/// A typed time as epoch seconds (UTC unless it says otherwise); `None` when empty.
fn parse_time(text: &str, bound: Bound) -> Result<Option<i64>, String> {
    use time::format_description::{parse_borrowed, well_known::Rfc3339};
    let text = text.trim();
    if text.is_empty() {
        return Ok(None);
    }
    let usage = "write 2026-12-07, 2026-12-07T14:30 or an RFC 3339 time (UTC).";
    if text.len() > 40 {
        return Err(usage.into());
    }
    if let Ok(t) = time::OffsetDateTime::parse(text, &Rfc3339) {
        return Ok(Some(t.unix_timestamp()));
    }
    // A browser's `datetime-local` sends minutes, or seconds when they are set.
    for format in [
        "[year]-[month]-[day]T[hour]:[minute]:[second]",
        "[year]-[month]-[day]T[hour]:[minute]",
    ] {
        let Ok(format) = parse_borrowed::<2>(format) else {
            continue;
        };
        if let Ok(t) = time::PrimitiveDateTime::parse(text, &format) {
            return Ok(Some(t.assume_utc().unix_timestamp()));
        }
    }
    if let Ok(format) = parse_borrowed::<2>("[year]-[month]-[day]")
        && let Ok(d) = time::Date::parse(text, &format)
    {
        let start = d.midnight().assume_utc().unix_timestamp();
        return Ok(Some(match bound {
            Bound::Start => start,
            Bound::End => start + 86_400,
        }));
    }
    Err(usage.into())
}

/// An event as the event log's table shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventView {
    pub id: i64,
    /// RFC 3339, UTC.
    pub time: String,
    pub kind: String,
    pub failed: bool,
    pub reason: String,
    /// The user name, else the `sub`, else empty.
    pub user: String,
    pub client_id: String,
    pub source_ip: String,
    /// Admin changes: who, which action, on what.
    pub actor: String,
    pub action: String,
    pub target: String,
    pub request_id: String,
}

impl From<AuthEventRow> for EventView {
    fn from(e: AuthEventRow) -> Self {
        EventView {
            id: e.id,
            time: time(e.at),
            failed: e.outcome == "fail",
            kind: e.kind,
            reason: e.reason.unwrap_or_default(),
            user: e.username.or(e.user_sub).unwrap_or_default(),
            client_id: e.client_id.unwrap_or_default(),
            source_ip: e.source_ip.unwrap_or_default(),
            actor: e.actor.unwrap_or_default(),
            action: e.action.unwrap_or_default(),
            target: e.target.unwrap_or_default(),
            request_id: e.request_id.unwrap_or_default(),
        }
    }
}

/// A trigger invocation as the trigger log's table shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TriggerView {
    pub id: i64,
    pub time: String,
    pub source: String,
    pub user: String,
    pub client_id: String,
    pub target: String,
    pub duration_ms: i64,
    pub outcome: String,
    pub ok: bool,
    pub error: String,
    /// The event sent and the answer, redacted when logged, indented for reading.
    pub request: String,
    pub response: String,
}

impl From<TriggerLogEntry> for TriggerView {
    fn from(e: TriggerLogEntry) -> Self {
        TriggerView {
            id: e.id,
            time: time(e.at),
            ok: e.outcome == "ok",
            source: e.trigger_source,
            user: e.user_name,
            client_id: e.client_id.unwrap_or_default(),
            target: e.target,
            duration_ms: e.duration_ms,
            outcome: e.outcome,
            error: e.error.unwrap_or_default(),
            request: pretty(&e.request),
            response: e.response.as_deref().map(pretty).unwrap_or_default(),
        }
    }
}

/// JSON text indented, or as it was if it is not JSON.
fn pretty(text: &str) -> String {
    serde_json::from_str::<serde_json::Value>(text)
        .ok()
        .and_then(|v| serde_json::to_string_pretty(&v).ok())
        .unwrap_or_else(|| text.to_string())
}

#[derive(Template)]
#[template(path = "console/events.html")]
struct EventsPage {
    frame: Frame,
    head: PoolHead,
    query: EventQuery,
    kinds: Vec<&'static str>,
    events: Vec<EventView>,
    /// The next page's link, if more events follow.
    next: Option<String>,
    /// Whether this is a later page (a link back to the first one is shown).
    paged: bool,
}

/// The event log: a pool's auth events, newest first, filtered by kind, user, outcome
/// and time.
async fn get_events(
    State(app): State<AppState>,
    operator: Operator,
    Path(pool_id): Path<String>,
    query: Result<Query<EventQuery>, QueryRejection>,
) -> Answer {
    let pool = load(&app, &pool_id).await?;
    // A query string that is not even a form (e.g. a field twice) is shown as empty.
    let query = query.map(|Query(q)| q).unwrap_or_default();
    let (status, error, events, next) = match query.parse() {
        Ok(search) => {
            let rows = app.store.auth_events(&search.filter(&pool.pool_id)).await?;
            let (rows, next) = split_page(rows, |e| e.id);
            let next = next.map(|id| query.next_page(id));
            let events = rows.into_iter().map(EventView::from).collect();
            (StatusCode::OK, None, events, next)
        }
        Err(e) => (StatusCode::BAD_REQUEST, Some(e), Vec::new(), None),
    };
    let frame = Frame::new(&operator, "pools", format!("Event log of {}", pool.name)).error(error);
    let paged = !query.before.is_empty();
    Ok(render(
        status,
        &EventsPage {
            frame,
            head: PoolHead::new(&pool, "events"),
            query,
            kinds: Kind::ALL.iter().map(|k| k.name()).collect(),
            events,
            next,
            paged,
        },
    ))
}

#[derive(Template)]
#[template(path = "console/trigger_log.html")]
struct TriggerLogPage {
    frame: Frame,
    head: PoolHead,
    query: TriggerQuery,
    entries: Vec<TriggerView>,
    next: Option<String>,
    paged: bool,
}

/// The trigger log: a pool's trigger invocations, newest first, with what was sent and
/// answered (redacted when they were logged).
async fn get_trigger_log(
    State(app): State<AppState>,
    operator: Operator,
    Path(pool_id): Path<String>,
    query: Result<Query<TriggerQuery>, QueryRejection>,
) -> Answer {
    let pool = load(&app, &pool_id).await?;
    let query = query.map(|Query(q)| q).unwrap_or_default();
    let (status, error, entries, next) = match query.filter(&pool.pool_id) {
        Ok(filter) => {
            let rows = app.store.trigger_log(&filter).await?;
            let (rows, next) = split_page(rows, |e| e.id);
            let next = next.map(|id| query.next_page(id));
            let entries = rows.into_iter().map(TriggerView::from).collect();
            (StatusCode::OK, None, entries, next)
        }
        Err(e) => (StatusCode::BAD_REQUEST, Some(e), Vec::new(), None),
    };
    let frame =
        Frame::new(&operator, "pools", format!("Trigger log of {}", pool.name)).error(error);
    let paged = !query.before.is_empty();
    Ok(render(
        status,
        &TriggerLogPage {
            frame,
            head: PoolHead::new(&pool, "trigger-log"),
            query,
            entries,
            next,
            paged,
        },
    ))
}

/// The event log's link for one user's events (by `sub`, which names them even after
/// a rename).
pub fn events_of_user(pool_id: &str, sub: &str) -> String {
    format!(
        "/admin/pools/{}/events?user={}",
        segment(pool_id),
        segment(sub)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// 2026-12-07 00:00:00 UTC.
    const MIDNIGHT: i64 = 1_796_601_600;

    fn query(pairs: &str) -> EventQuery {
        serde_urlencoded::from_str(pairs).unwrap()
    }

    #[test]
    fn an_empty_query_searches_everything() {
        let search = query("").parse().unwrap();
        assert_eq!(search, EventSearch::default());
        let f = search.filter("us-east-1_x");
        assert_eq!(f.pool_id, Some("us-east-1_x"));
        assert_eq!(f.limit, PAGE as i64 + 1);
        assert!(f.username.is_none() && f.outcome.is_none() && f.kind.is_none());
    }

    #[test]
    fn filters_are_read_from_the_form() {
        let search = query(
            "kind=sign_in&user=+Alice+&failed=on&from=2026-12-07T10%3A30&to=2026-12-07&before=42",
        )
        .parse()
        .unwrap();
        assert_eq!(search.kind, Some(Kind::SignIn));
        assert_eq!(search.user.as_deref(), Some("Alice"));
        assert!(search.failed);
        assert_eq!(search.since, Some(MIDNIGHT + 10 * 3600 + 30 * 60));
        // A date alone as the end includes that day.
        assert_eq!(search.until, Some(MIDNIGHT + 86_400));
        assert_eq!(search.before_id, Some(42));
        let f = search.filter("p");
        assert_eq!(f.kind, Some("sign_in"));
        assert_eq!(f.outcome, Some("fail"));
        assert_eq!((f.username, f.user_sub), (Some("Alice"), Some("Alice")));
        // RFC 3339 with an offset, and seconds.
        let s = query("from=2026-12-07T01%3A00%3A00%2B01%3A00&to=2026-12-07T00%3A00%3A10")
            .parse()
            .unwrap();
        assert_eq!((s.since, s.until), (Some(MIDNIGHT), Some(MIDNIGHT + 10)));
    }

    #[test]
    fn bad_values_are_explained_not_guessed() {
        for (q, says) in [
            ("kind=drop+table", "Unknown event kind"),
            ("from=yesterday", "start time is not valid"),
            ("to=2026-13-01", "end time is not valid"),
            ("from=2026-12-08&to=2026-12-07", "start time must be before"),
            ("before=-1", "page link is not valid"),
            ("before=abc", "page link is not valid"),
            ("user=a%00b", "user must be"),
        ] {
            let e = query(q).parse().unwrap_err();
            assert!(e.contains(says), "{q}: {e}");
        }
        let long = format!("user={}", "a".repeat(129));
        assert!(query(&long).parse().is_err());
        assert!(query(&format!("from={}", "9".repeat(500))).parse().is_err());
    }

    #[test]
    fn the_next_page_keeps_the_filters() {
        let q = query("kind=sign_up&user=ann&before=90");
        let next = q.next_page(41);
        assert_eq!(next, "kind=sign_up&user=ann&before=41");
        let back: EventQuery = serde_urlencoded::from_str(&next).unwrap();
        assert_eq!(back.parse().unwrap().before_id, Some(41));
        let t = TriggerQuery {
            source: "PreSignUp_SignUp".into(),
            before: String::new(),
        };
        assert_eq!(t.next_page(7), "source=PreSignUp_SignUp&before=7");
    }

    #[test]
    fn trigger_queries_take_source_names_only() {
        let ok = TriggerQuery {
            source: "PostConfirmation_ConfirmSignUp".into(),
            before: "12".into(),
        };
        let f = ok.filter("p").unwrap();
        assert_eq!(f.trigger_source, Some("PostConfirmation_ConfirmSignUp"));
        assert_eq!(f.before_id, Some(12));
        let bad = TriggerQuery {
            source: "x' or 1=1".into(),
            before: String::new(),
        };
        assert!(bad.filter("p").is_err());
        assert!(
            TriggerQuery::default()
                .filter("p")
                .unwrap()
                .trigger_source
                .is_none()
        );
    }

    #[test]
    fn pages_end_with_a_continuation_only_when_more_follow() {
        let (rows, next) = split_page((1..=PAGE as i64 + 1).rev().collect(), |id| *id);
        assert_eq!(rows.len(), PAGE);
        assert_eq!(next, Some(2));
        let (rows, next) = split_page(vec![3i64, 2, 1], |id| *id);
        assert_eq!((rows.len(), next), (3, None));
    }

    #[test]
    fn trigger_payloads_are_indented_and_other_text_kept() {
        assert_eq!(pretty("{\"a\":1}"), "{\n  \"a\": 1\n}");
        assert_eq!(pretty("not json"), "not json");
    }
}
