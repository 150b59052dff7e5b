//! Mail: messages rendered with a pool's own templates and kept in the outbox.

use cognate::mail::{MailError, MessageKind, MessageTemplates, Outgoing, Override};
use cognate::pool::PoolSettings;
use cognate::state::AppState;

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
        .insert_pool(&pool_id, "shop", &settings, app.state.clock.now())
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
