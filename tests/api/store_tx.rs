//! A write refused inside a store transaction (a duplicate username) gives its
//! connection back to the pool rolled back, never mid-transaction (issue 21: a
//! duplicate `user create` logged "closing a database connection left inside a
//! transaction", and the connection was thrown away).

use std::collections::BTreeMap;
use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use cognate::error::AppError;
use cognate::users::UserStatus;

use crate::helpers::{PASSWORD, TestApp};

/// Log lines written while a test's subscriber is the thread's default.
#[derive(Clone, Default)]
struct CapturedLogs(Arc<Mutex<Vec<u8>>>);

impl Write for CapturedLogs {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl CapturedLogs {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }
}

#[tokio::test]
async fn a_refused_duplicate_user_leaves_no_connection_inside_a_transaction() {
    // Arrange: warnings of this thread (the current-thread runtime runs the pool's
    // release of the connection too) go to a buffer.
    let app = TestApp::spawn().await;
    let logs = CapturedLogs::default();
    let writer = logs.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::WARN)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .finish();
    let _default = tracing::subscriber::set_default(subscriber);
    let create = || {
        let attributes = BTreeMap::from([("email".to_string(), "dup@example.com".to_string())]);
        cognate::users::create(
            &app.state,
            &app.pool_id,
            "dup",
            Some(PASSWORD),
            UserStatus::Confirmed,
            attributes,
        )
    };
    create().await.unwrap();
    // Act: the same username again, refused by the unique key inside the transaction.
    let second = create().await;
    // Let the refused insert's connection go back to the pool (a spawned task), and
    // use the pool meanwhile.
    for _ in 0..10 {
        tokio::time::sleep(Duration::from_millis(20)).await;
        app.state.store.pools().await.unwrap();
    }
    // Assert
    assert!(
        matches!(second, Err(AppError::Conflict(_))),
        "{:?}",
        second.map(|u| u.username)
    );
    let text = logs.text();
    assert!(
        !text.contains("inside a transaction"),
        "a connection went back to the pool mid-transaction:\n{text}"
    );
}
