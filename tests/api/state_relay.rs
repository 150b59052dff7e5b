//! Overloaded `state` end to end, driven by the payload files: every refused
//! target stops at an error page with no `Location` at all; every accepted one lands
//! exactly on its WHATWG serialisation with the code and the nonce.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use cognate::clients::redirect::{AllowEntry, match_target, with_params};
use cognate::clients::{AppClient, ClientSettings};
use reqwest::StatusCode;

use crate::helpers::{CALLBACK, PASSWORD, Pkce, TestApp, location, query_param};

const ORIGIN: &str = "https://app.example.com";

/// Lines of a payload file: comments skipped, `b64:` lines decoded, nothing trimmed.
pub(crate) fn payload(name: &str) -> Vec<String> {
    crate::payloads::read(name)
        .split('\n')
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(|l| match l.strip_prefix("b64:") {
            Some(b) => String::from_utf8(STANDARD.decode(b).unwrap()).unwrap(),
            None => l.to_string(),
        })
        .collect()
}

/// The serialisation a relay must emit (open_redirect_allowed.txt's header): the line
/// itself, except that the two origin-only forms gain a `/` after the host.
fn whatwg(line: &str) -> String {
    match line.strip_prefix(ORIGIN) {
        Some(rest) if rest.is_empty() || rest.starts_with(['?', '#']) => format!("{ORIGIN}/{rest}"),
        _ => line.to_string(),
    }
}

/// A public client whose allow-list permits only the app's origin.
async fn relay_client(app: &TestApp) -> AppClient {
    let mut new = ClientSettings::new("Relay App");
    new.callback_urls = vec![CALLBACK.into()];
    new.state_relay.allow_list = vec![ORIGIN.into()];
    cognate::clients::create(
        &app.state,
        &app.pool_id,
        &new,
        cognate::clients::NewSecret::None,
    )
    .await
    .unwrap()
    .0
}

/// The authorize URL for `client` with `state`.
fn authorize(app: &TestApp, client: &AppClient, pkce: &Pkce, state: &str) -> String {
    app.authorize_url(client, Some(pkce), &[("state", state)])
}

async fn assert_refused(app: &TestApp, client: &AppClient, state: &str) {
    let res = app
        .browser
        .get(authorize(app, client, &Pkce::new(), state))
        .send()
        .await
        .unwrap();
    assert_eq!(
        res.status(),
        StatusCode::BAD_REQUEST,
        "state {state:?} must be refused"
    );
    assert!(
        res.headers().get("location").is_none(),
        "state {state:?}: no redirect may be derived from it"
    );
    let body = res.text().await.unwrap();
    // A NUL is refused with every other parameter's, before the state is split.
    assert!(
        body.contains("The state parameter was refused")
            || (state.contains('\0') && body.contains("contains a NUL character")),
        "{body}"
    );
}

/// Signs the browser in once, so later authorize requests answer at once.
async fn signed_in(app: &TestApp, client: &AppClient) {
    let url = authorize(app, client, &Pkce::new(), "plain-state");
    app.sign_in(&app.browser, &url, "alice", PASSWORD).await;
}

// Matrix: RD-01, RD-02, RD-04
#[test]
fn the_matcher_refuses_every_open_redirect_payload_and_accepts_every_allowed_one() {
    let allow = vec![AllowEntry::parse(ORIGIN).unwrap()];
    let refused = payload("open_redirect.txt");
    assert!(refused.len() > 90);
    for line in &refused {
        assert!(match_target(&allow, line).is_err(), "accepted {line:?}");
    }
    let allowed = payload("open_redirect_allowed.txt");
    assert!(allowed.len() >= 20);
    for line in &allowed {
        let url = match_target(&allow, line).unwrap_or_else(|e| panic!("refused {line:?}: {e}"));
        assert_eq!(url.as_str(), whatwg(line));
    }
}

// Matrix: RD-01, RD-04
#[tokio::test]
async fn every_open_redirect_payload_is_refused_at_authorize_without_a_redirect() {
    let app = TestApp::spawn().await;
    let client = relay_client(&app).await;
    signed_in(&app, &client).await;
    for line in payload("open_redirect.txt") {
        assert_refused(&app, &client, &format!("n0nce_{line}")).await;
    }
    let refused = app.state.metrics.states_refused("not_allowed")
        + app.state.metrics.states_refused("bad_characters");
    assert!(refused > 50, "refusals are counted by reason");
    let metrics = app
        .http
        .get(format!("{}/metrics", app.base()))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        metrics.contains("cognate_state_refused_total{reason=\"not_allowed\"}"),
        "{metrics}"
    );
}

// Matrix: RD-02
#[tokio::test]
async fn every_allowed_payload_lands_exactly_there_with_the_code_and_nonce() {
    let app = TestApp::spawn().await;
    let client = relay_client(&app).await;
    signed_in(&app, &client).await;
    for line in payload("open_redirect_allowed.txt") {
        let res = app
            .browser
            .get(authorize(
                &app,
                &client,
                &Pkce::new(),
                &format!("n0nce_{line}"),
            ))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::FOUND, "{line}");
        let to = location(&res);
        let code = query_param(&to, "code").expect("a code");
        let expected = with_params(&whatwg(&line), &[("code", &code), ("state", "n0nce")]);
        assert_eq!(to, expected, "{line}");
    }
}

// Matrix: RD-03
#[tokio::test]
async fn state_split_vectors_behave_as_specified() {
    let app = TestApp::spawn().await;
    let client = relay_client(&app).await;
    signed_in(&app, &client).await;
    let rows = payload("state_split.tsv");
    assert!(rows.len() > 40);
    for row in rows {
        let (input, expected) = row
            .split_once('\t')
            .unwrap_or_else(|| panic!("bad row {row:?}"));
        if expected == "reject" {
            assert_refused(&app, &client, input).await;
            continue;
        }
        let res = app
            .browser
            .get(authorize(&app, &client, &Pkce::new(), input))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::FOUND, "{input}");
        let to = location(&res);
        let code = query_param(&to, "code").expect("a code");
        if expected == "plain" {
            assert_eq!(
                to,
                with_params(CALLBACK, &[("code", &code), ("state", input)]),
                "{input}"
            );
        } else {
            let spec = expected.strip_prefix("split nonce=").unwrap();
            let (nonce, redirect) = spec.split_once(" redirect=").unwrap();
            assert_eq!(
                to,
                with_params(redirect, &[("code", &code), ("state", nonce)]),
                "{input}"
            );
        }
    }
}

// Matrix: RD-05
#[tokio::test]
async fn an_overloaded_state_survives_sign_in_and_the_code_redeems() {
    // Arrange: a fresh browser, so the login form is shown.
    let app = TestApp::spawn().await;
    let client = relay_client(&app).await;
    let pkce = Pkce::new();
    let state = "9f86d081-884c_https://app.example.com/orders/42?tab=items#summary";
    // Act
    let landed = app
        .sign_in(
            &app.browser,
            &authorize(&app, &client, &pkce, state),
            "alice",
            PASSWORD,
        )
        .await;
    // Assert: on the return-to, with the code and the nonce; the code is bound to the
    // registered callback, so the exchange is unchanged.
    let code = query_param(&landed, "code").unwrap();
    assert_eq!(
        landed,
        with_params(
            "https://app.example.com/orders/42?tab=items#summary",
            &[("code", &code), ("state", "9f86d081-884c")]
        )
    );
    let res = app.exchange(&client, &code, Some(&pkce.verifier)).await;
    assert_eq!(res.status(), 200);
}

#[tokio::test]
async fn errors_after_validation_go_to_the_return_to_with_the_nonce() {
    let app = TestApp::spawn().await;
    let client = relay_client(&app).await;
    let state = "n0nce_https://app.example.com/back";
    let url = app.authorize_url(
        &client,
        Some(&Pkce::new()),
        &[("state", state), ("scope", "openid admin")],
    );
    let res = app.browser.get(url).send().await.unwrap();
    let to = location(&res);
    assert!(
        to.starts_with("https://app.example.com/back?error=invalid_scope"),
        "{to}"
    );
    assert_eq!(query_param(&to, "state").as_deref(), Some("n0nce"));
}

#[tokio::test]
async fn a_client_without_an_allow_list_treats_state_as_opaque() {
    let app = TestApp::spawn().await;
    let state = "n0nce_https://evil.com/";
    let pkce = Pkce::new();
    let url = app.authorize_url(&app.public, Some(&pkce), &[("state", state)]);
    let landed = app.sign_in(&app.browser, &url, "alice", PASSWORD).await;
    assert!(landed.starts_with(CALLBACK));
    assert_eq!(query_param(&landed, "state").as_deref(), Some(state));
}

// Matrix: RD-05
#[tokio::test]
async fn the_cli_configures_the_allow_list_and_refuses_bad_entries() {
    let app = TestApp::spawn().await;
    let update = |args: &[&str]| {
        std::process::Command::new(env!("CARGO_BIN_EXE_cognate"))
            .args([
                "client",
                "update",
                "--pool",
                &app.pool_id,
                "--client-id",
                &app.public.client_id,
            ])
            .args(args)
            .env("DATABASE_URL", &app.backend.database_url)
            .env("COGNATE_MASTER_KEY", &app.backend.master_key)
            .output()
            .unwrap()
    };
    let bad = update(&["--return-to", "http://app.example.com/"]);
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("not a valid return-to entry"));
    let ok = update(&[
        "--return-to",
        "https://app.example.com/app",
        "--state-separator",
        "~",
    ]);
    assert!(
        ok.status.success(),
        "{}",
        String::from_utf8_lossy(&ok.stderr)
    );
    let client: serde_json::Value = serde_json::from_slice(&ok.stdout).unwrap();
    assert_eq!(
        client["state_relay"]["allow_list"][0],
        "https://app.example.com/app"
    );
    assert_eq!(client["state_relay"]["separator"], "~");

    let updated = app
        .state
        .store
        .client_by_id(&app.pool_id, &app.public.client_id)
        .await
        .unwrap()
        .unwrap();
    assert_refused(&app, &updated, "n0nce~https://app.example.com/application").await;
    let pkce = Pkce::new();
    let url = authorize(&app, &updated, &pkce, "n0nce~https://app.example.com/app/x");
    let landed = app.sign_in(&app.browser, &url, "alice", PASSWORD).await;
    assert!(
        landed.starts_with("https://app.example.com/app/x?code="),
        "{landed}"
    );
}
