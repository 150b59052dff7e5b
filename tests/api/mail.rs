//! Mail: the outbox (printed by `cognate outbox`, shown by `/dev/outbox` in development
//! mode), a pool's own templates, and delivery through a real SMTP server on loopback.

use std::process::Stdio;
use std::time::Duration;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use cognate::config::{Config, MailConfig, SmtpTls};
use cognate::mail::{MailError, Mailer, MessageKind, MessageTemplates, Outgoing, Override};
use cognate::pool::PoolSettings;
use cognate::state::AppState;
use serde_json::Value;
use tokio::io::{AsyncBufReadExt, BufReader, Lines};
use tokio::process::ChildStdout;
use tower::ServiceExt;

use crate::helpers::TestApp;

const CODE: &str = "271828";

fn verification<'a>(pool_id: &'a str, to: &'a str, username: &'a str) -> Outgoing<'a> {
    Outgoing {
        pool_id,
        to,
        kind: MessageKind::Verification,
        username,
        code: CODE,
        link: None,
    }
}

async fn send(state: &AppState, msg: &Outgoing<'_>) -> Result<(), MailError> {
    state.mail.send(&state.store, msg, state.clock.now()).await
}

/// Runs `cognate outbox ARGS` on the test's database and parses its JSON.
fn outbox_cli(app: &TestApp, args: &[&str]) -> Value {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_cognate"))
        .arg("outbox")
        .args(args)
        .env("DATABASE_URL", &app.backend.database_url)
        .env("COGNATE_MASTER_KEY", &app.backend.master_key)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("JSON output")
}

#[tokio::test]
async fn cognate_outbox_prints_kept_messages_newest_first() {
    // Arrange: two messages to alice, one to bob.
    let app = TestApp::spawn().await;
    let mut first = verification(&app.pool_id, "alice@example.com", "alice");
    first.link = Some("http://localhost/confirm?code=271828");
    send(&app.state, &first).await.unwrap();
    send(
        &app.state,
        &verification(&app.pool_id, "bob@example.com", "bob"),
    )
    .await
    .unwrap();
    // Same second as the first: message ids break the tie, so only the kind is checked.
    let reset = Outgoing {
        kind: MessageKind::Reset,
        ..verification(&app.pool_id, "alice@example.com", "alice")
    };
    send(&app.state, &reset).await.unwrap();

    // Act
    let all = outbox_cli(&app, &[]);
    let alice = outbox_cli(&app, &["--to", "ALICE@example.com"]);
    let one = outbox_cli(&app, &["--to", "bob@example.com", "--limit", "1"]);

    // Assert
    assert_eq!(all.as_array().unwrap().len(), 3, "{all:#}");
    let alice = alice.as_array().unwrap();
    assert_eq!(alice.len(), 2, "{alice:#?}");
    assert!(alice.iter().all(|m| m["recipient"] == "alice@example.com"));
    let verify = alice.iter().find(|m| m["kind"] == "verification").unwrap();
    assert_eq!(verify["subject"], "Your verification code");
    assert_eq!(verify["pool_id"], app.pool_id.as_str());
    let text = verify["body_text"].as_str().unwrap();
    assert!(
        text.contains(CODE) && text.contains("Hello alice,"),
        "{text}"
    );
    assert!(
        text.contains("http://localhost/confirm?code=271828"),
        "{text}"
    );
    assert_eq!(one.as_array().unwrap().len(), 1);
    assert_eq!(one[0]["recipient"], "bob@example.com");
}

#[tokio::test]
async fn a_pools_own_template_is_used_for_its_messages() {
    // Arrange: a second pool whose reset message is its own.
    let app = TestApp::spawn().await;
    let pool_id = cognate::pool::new_pool_id("eu-west-1");
    let settings = PoolSettings {
        messages: MessageTemplates {
            reset: Some(Override {
                subject: "Shop password reset".into(),
                body: "Hi {username}, your Shop code is {####}.".into(),
            }),
            ..MessageTemplates::default()
        },
        ..PoolSettings::default()
    };
    app.state
        .store
        .insert_pool(&pool_id, "shop", &settings, &[], app.state.clock.now())
        .await
        .unwrap();
    let msg = Outgoing {
        kind: MessageKind::Reset,
        ..verification(&pool_id, "carol@example.com", "carol")
    };

    // Act
    send(&app.state, &msg).await.unwrap();

    // Assert
    let kept = app
        .state
        .store
        .outbox(Some("carol@example.com"), 1)
        .await
        .unwrap();
    assert_eq!(kept[0].subject, "Shop password reset");
    assert_eq!(kept[0].body_text, "Hi carol, your Shop code is 271828.");
    assert!(
        kept[0]
            .body_html
            .contains("Hi carol, your Shop code is 271828.")
    );
}

async fn get(state: AppState, path: &str) -> (StatusCode, String) {
    let res = cognate::router(state)
        .oneshot(Request::get(path).body(Body::empty()).unwrap())
        .await
        .unwrap();
    let status = res.status();
    let body = axum::body::to_bytes(res.into_body(), usize::MAX)
        .await
        .unwrap();
    (status, String::from_utf8(body.to_vec()).unwrap())
}

/// A second process state on the test's database, with `dev` and `mail` as given.
async fn state_with(app: &TestApp, dev: bool, mail: Mailer) -> AppState {
    let config = Config::new(&app.base(), None).unwrap().with_dev(dev);
    cognate::server::open_with_mailer(&app.backend.store_args(), config, mail)
        .await
        .unwrap()
}

#[tokio::test]
async fn the_dev_outbox_is_served_only_in_development_mode_without_smtp() {
    // Arrange: a message whose username needs escaping.
    let app = TestApp::spawn().await;
    send(
        &app.state,
        &verification(&app.pool_id, "mallory@example.com", "<b>mallory</b>"),
    )
    .await
    .unwrap();
    let smtp = Mailer::from_config(&MailConfig {
        smtp_host: Some("127.0.0.1".into()),
        ..MailConfig::default()
    })
    .unwrap();

    // Act
    let plain = app
        .http
        .get(format!("{}/dev/outbox", app.base()))
        .send()
        .await
        .unwrap();
    let (dev_smtp, _) = get(state_with(&app, true, smtp).await, "/dev/outbox").await;
    let (dev, page) = get(state_with(&app, true, Mailer::Outbox).await, "/dev/outbox").await;

    // Assert
    assert_eq!(plain.status(), StatusCode::NOT_FOUND);
    assert_eq!(dev_smtp, StatusCode::NOT_FOUND);
    assert_eq!(dev, StatusCode::OK);
    assert!(page.contains("Your verification code"), "{page}");
    assert!(page.contains("mallory@example.com"), "{page}");
    assert!(page.contains(CODE), "{page}");
    assert!(page.contains("&#60;b&#62;mallory&#60;/b&#62;"), "{page}");
    assert!(!page.contains("<b>mallory"), "{page}");
}

/// The loopback SMTP server of `tests/smtp_sink.py`: one JSON line per message.
pub(crate) struct SmtpSink {
    pub(crate) child: tokio::process::Child,
    lines: Lines<BufReader<ChildStdout>>,
    pub(crate) port: u16,
}

impl SmtpSink {
    pub(crate) async fn start(python: &str) -> Self {
        let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/smtp_sink.py");
        let mut child = tokio::process::Command::new(python)
            .arg(script)
            .stdout(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .unwrap_or_else(|e| panic!("start {python} {script}: {e}"));
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let port = Self::read(&mut lines)
            .await
            .parse()
            .expect("the sink prints its port first");
        Self { child, lines, port }
    }

    async fn read(lines: &mut Lines<BufReader<ChildStdout>>) -> String {
        tokio::time::timeout(Duration::from_secs(20), lines.next_line())
            .await
            .expect("the SMTP sink answers within 20 s")
            .unwrap()
            .expect("the SMTP sink is still running")
    }

    pub(crate) async fn next_message(&mut self) -> Value {
        serde_json::from_str(&Self::read(&mut self.lines).await).unwrap()
    }
}

#[tokio::test]
async fn a_verification_message_reaches_a_real_smtp_server() {
    let Some(python) = std::env::var("COGNATE_TEST_PYTHON")
        .ok()
        .filter(|p| !p.is_empty())
    else {
        println!("SKIPPED: set COGNATE_TEST_PYTHON (./test.sh does)");
        return;
    };
    // Arrange: aiosmtpd on a free loopback port, and a plain-text SMTP mailer to it.
    let app = TestApp::spawn().await;
    let mut sink = SmtpSink::start(&python).await;
    let mailer = Mailer::from_config(&MailConfig {
        smtp_host: Some("127.0.0.1".into()),
        smtp_port: Some(sink.port),
        smtp_tls: SmtpTls::None,
        mail_from: "Cognate Test <auth@example.test>".into(),
        ..MailConfig::default()
    })
    .unwrap();
    let mut msg = verification(&app.pool_id, "alice@example.com", "alice");
    msg.link = Some("http://localhost:9229/confirm?code=271828&user=alice");

    // Act
    mailer
        .send(&app.state.store, &msg, app.state.clock.now())
        .await
        .unwrap();
    let received = sink.next_message().await;

    // Assert
    assert_eq!(received["rcpt_tos"][0], "alice@example.com", "{received:#}");
    assert_eq!(received["mail_from"], "auth@example.test");
    assert_eq!(received["from"], "Cognate Test <auth@example.test>");
    assert_eq!(received["subject"], "Your verification code");
    assert_eq!(received["content_type"], "multipart/alternative");
    let text = received["text"].as_str().unwrap();
    assert!(
        text.contains(CODE) && text.contains("Hello alice,"),
        "{text}"
    );
    assert!(text.contains("confirm?code=271828&user=alice"), "{text}");
    let html = received["html"].as_str().unwrap();
    assert!(html.contains(&format!(">{CODE}</strong>")), "{html}");
    sink.child.kill().await.unwrap();
}

#[tokio::test]
async fn a_failed_delivery_is_a_send_error_without_the_code() {
    // Arrange: an SMTP mailer pointed at a loopback port nobody listens on.
    let app = TestApp::spawn().await;
    let closed = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let mailer = Mailer::from_config(&MailConfig {
        smtp_host: Some("127.0.0.1".into()),
        smtp_port: Some(closed),
        smtp_tls: SmtpTls::None,
        ..MailConfig::default()
    })
    .unwrap();
    let msg = verification(&app.pool_id, "alice@example.com", "alice");

    // Act
    let err = mailer
        .send(&app.state.store, &msg, app.state.clock.now())
        .await
        .unwrap_err();

    // Assert
    assert!(matches!(err, MailError::Send(_)), "{err:?}");
    let shown = format!("{err} {err:?}");
    assert!(!shown.contains(CODE), "{shown}");
    assert!(!shown.contains("alice@example.com"), "{shown}");
    assert_eq!(err.to_string(), "the message could not be sent");
}
