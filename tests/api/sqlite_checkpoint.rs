//! SQLite's WAL is copied back into the database by a background task, not inside the
//! commit that fills it: a checkpoint's two fsyncs were in the tail latency of every
//! request that writes (issue 19).

use std::time::{Duration, Instant};

use cognate::store::{Db, Store};

#[tokio::test]
async fn the_wal_is_checkpointed_in_the_background_not_in_the_commit() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("cognate.db");
    let store = Store::connect(&format!("sqlite://{}", file.display()))
        .await
        .unwrap();
    let Db::Sqlite(pool) = &store.db else {
        unreachable!("a sqlite:// URL")
    };
    sqlx::query("create table filler (b blob)")
        .execute(pool)
        .await
        .unwrap();
    let before = std::fs::metadata(&file).unwrap().len();
    // 4 MiB, over SQLite's default of checkpointing in the commit past 1,000 pages.
    sqlx::query("insert into filler values (zeroblob(4 * 1024 * 1024))")
        .execute(pool)
        .await
        .unwrap();
    let after_commit = std::fs::metadata(&file).unwrap().len();
    assert!(
        after_commit < before + 1024 * 1024,
        "the commit checkpointed: {before} -> {after_commit} bytes"
    );
    let start = Instant::now();
    while std::fs::metadata(&file).unwrap().len() < 4 * 1024 * 1024 {
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "no background checkpoint within 10 s"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
