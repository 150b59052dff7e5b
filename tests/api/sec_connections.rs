//! Security matrix row PR-04 (issue 12): slow request bodies and connection floods over
//! raw TCP. A body must arrive within `--body-read-timeout`, one address holds at most
//! `--max-connections-per-address` connections (trusted proxies excepted), and the
//! server at most `--max-connections`; everyone else is still served.

use std::collections::HashSet;
use std::net::{IpAddr, SocketAddr};
use std::time::{Duration, Instant};

use reqwest::StatusCode;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};

use crate::helpers::TestApp;

const OTHER_CLIENT: [u8; 4] = [127, 0, 0, 2];

/// A TCP connection to the server from `local` (Linux routes all of 127/8 to loopback).
async fn connect_from(local: [u8; 4], server: SocketAddr) -> TcpStream {
    let socket = TcpSocket::new_v4().unwrap();
    socket
        .bind(SocketAddr::new(IpAddr::from(local), 0))
        .unwrap();
    socket.connect(server).await.unwrap()
}

/// How many of this process's descriptors are the server's side of a connection to
/// `app`: sockets in `/proc/self/fd` whose local port is the server's. The client
/// sockets the test holds, and other tests' descriptors, are not counted.
fn server_connections(app: &TestApp) -> usize {
    let ours: HashSet<String> = std::fs::read_dir("/proc/self/fd")
        .unwrap()
        .filter_map(|entry| std::fs::read_link(entry.ok()?.path()).ok())
        .filter_map(|link| {
            let link = link.to_string_lossy().into_owned();
            let inode = link.strip_prefix("socket:[")?.strip_suffix(']')?;
            Some(inode.to_string())
        })
        .collect();
    let port = format!(":{:04X}", app.addr.port());
    std::fs::read_to_string("/proc/net/tcp")
        .unwrap()
        .lines()
        .skip(1)
        .map(|line| line.split_whitespace().collect::<Vec<_>>())
        // local address, state (0A is the listening socket), inode
        .filter(|f| f[1].ends_with(&port) && f[3] != "0A" && ours.contains(f[9]))
        .count()
}

/// A well-formed token request for a code that was never issued: `invalid_grant`.
fn unknown_code(app: &TestApp) -> String {
    format!(
        "grant_type=authorization_code&client_id={}&code=not-a-code&code_verifier={}\
         &redirect_uri=http%3A%2F%2Flocalhost%3A3000%2Fcallback",
        app.public.client_id,
        "v".repeat(43)
    )
}

/// What became of a connection: what the server sent, and when it hung up (if it did
/// before the test gave up).
struct Outcome {
    answer: String,
    closed_after: Option<Duration>,
}

/// Sends a byte every 300 ms on `conn` (a body that never ends) and reads whatever the
/// server answers, until the server hangs up or `give_up` after `started`.
async fn drip(mut conn: TcpStream, started: Instant, give_up: Duration) -> Outcome {
    let mut answer = Vec::new();
    let mut buf = [0u8; 4096];
    let mut tick = tokio::time::interval(Duration::from_millis(300));
    let end = tokio::time::sleep_until((started + give_up).into());
    tokio::pin!(end);
    let closed_after = loop {
        tokio::select! {
            read = conn.read(&mut buf) => match read {
                Ok(0) | Err(_) => break Some(started.elapsed()),
                Ok(n) => answer.extend_from_slice(&buf[..n]),
            },
            _ = tick.tick() => {
                // A write error means the server hung up; the read says so next.
                let _ = conn.write_all(b"a").await;
            }
            () = &mut end => break None,
        }
    };
    Outcome {
        answer: String::from_utf8_lossy(&answer).into_owned(),
        closed_after,
    }
}

// Matrix: PR-04
#[tokio::test]
async fn slow_bodies_are_cut_off_and_one_address_cannot_hold_more_connections() {
    // Arrange: a 2 s body deadline and at most 8 connections per address.
    let app = TestApp::spawn_with(|c| {
        c.with_rate_limits(cognate::rate_limit::RateLimits::OFF)
            .with_body_read_timeout(Duration::from_secs(2))
            .with_connection_limits(64, 8)
    })
    .await;
    let cap = 8;
    let held = 40;
    let token = format!(
        "POST /{}/oauth2/token HTTP/1.1\r\nHost: localhost\r\n\
         Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 60000\r\n\r\ng",
        app.pool_id
    );
    let api = "POST / HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/x-amz-json-1.1\r\n\
               X-Amz-Target: AWSCognitoIdentityProviderService.InitiateAuth\r\n\
               Content-Length: 60000\r\n\r\n{";
    assert_eq!(server_connections(&app), 0);

    // Act: 40 connections from 127.0.0.1, each announcing a 60 000-byte body (to the
    // token endpoint and to the API in turn) and sending a byte every 300 ms.
    let started = Instant::now();
    let mut slow = Vec::new();
    for i in 0..held {
        let mut conn = TcpStream::connect(app.addr).await.unwrap();
        let head = if i % 2 == 0 { token.as_str() } else { api };
        let _ = conn.write_all(head.as_bytes()).await;
        slow.push(tokio::spawn(drip(conn, started, Duration::from_secs(8))));
    }
    tokio::time::sleep(Duration::from_millis(500)).await;

    // A client at another address is served meanwhile, at once.
    let other = reqwest::Client::builder()
        .local_address(IpAddr::from(OTHER_CLIENT))
        .build()
        .unwrap();
    let asked = Instant::now();
    let health = other
        .get(format!("{}/health", app.base()))
        .send()
        .await
        .unwrap();
    assert_eq!(health.status(), StatusCode::OK);
    let res = other
        .post(app.url("/oauth2/token"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(unknown_code(&app))
        .send()
        .await
        .unwrap();
    crate::helpers::assert_oauth_error(res, StatusCode::BAD_REQUEST, "invalid_grant").await;
    assert!(asked.elapsed() < Duration::from_secs(1), "served slowly");

    // The server holds at most `cap` of the slow connections (plus the other client's).
    let during = server_connections(&app);
    assert!(
        (cap..=cap + 1).contains(&during),
        "the server holds {during} connections, {held} were opened, the cap is {cap}"
    );
    assert!(
        started.elapsed() < Duration::from_millis(1800),
        "too slow to check"
    );

    // Assert: the 8 admitted get 408 at the body deadline, the rest were refused at once.
    let mut timed_out = 0;
    for (i, task) in slow.into_iter().enumerate() {
        let Outcome {
            answer,
            closed_after,
        } = task.await.unwrap();
        let closed = closed_after.unwrap_or_else(|| panic!("#{i} still open after 8 s"));
        if answer.starts_with("HTTP/1.1 408") {
            timed_out += 1;
            assert!(
                closed >= Duration::from_millis(1900) && closed < Duration::from_secs(4),
                "#{i} cut off after {closed:?}, the deadline is 2 s"
            );
            let kind = match i % 2 {
                0 => r#""error":"invalid_request""#,
                _ => r#""__type":"RequestTimeoutException""#,
            };
            assert!(answer.contains(kind), "#{i}: {answer}");
            assert!(
                answer.to_ascii_lowercase().contains("connection: close"),
                "#{i}: {answer}"
            );
        } else {
            assert!(
                answer.is_empty() || answer.starts_with("HTTP/1.1 429"),
                "#{i}: {answer}"
            );
            assert!(
                closed < Duration::from_secs(1),
                "#{i} refused only after {closed:?}"
            );
        }
    }
    assert_eq!(timed_out, cap, "admitted and cut off at the deadline");
    // Every descriptor is given back (the other client's once it is gone).
    drop(other);
    let back = Instant::now();
    while server_connections(&app) > 0 {
        assert!(back.elapsed() < Duration::from_secs(3), "descriptors kept");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

// Matrix: PR-04
#[tokio::test]
async fn a_body_sent_slowly_within_the_deadline_is_answered_normally() {
    let app = TestApp::spawn_with(|c| {
        c.with_rate_limits(cognate::rate_limit::RateLimits::OFF)
            .with_body_read_timeout(Duration::from_secs(2))
    })
    .await;
    let body = unknown_code(&app);
    let mut conn = TcpStream::connect(app.addr).await.unwrap();
    let head = format!(
        "POST /{}/oauth2/token HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\
         Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\r\n",
        app.pool_id,
        body.len()
    );
    conn.write_all(head.as_bytes()).await.unwrap();
    // In three parts over a second: slow, but within the 2 s deadline.
    for part in body.as_bytes().chunks(body.len().div_ceil(3)) {
        tokio::time::sleep(Duration::from_millis(400)).await;
        conn.write_all(part).await.unwrap();
    }
    let mut answer = String::new();
    tokio::time::timeout(Duration::from_secs(5), conn.read_to_string(&mut answer))
        .await
        .expect("no answer")
        .unwrap();
    assert!(answer.starts_with("HTTP/1.1 400"), "{answer}");
    assert!(answer.contains(r#""error":"invalid_grant""#), "{answer}");
}

// Matrix: PR-04
#[tokio::test]
async fn connections_over_the_total_cap_are_refused_at_once() {
    let app = TestApp::spawn_with(|c| {
        c.with_rate_limits(cognate::rate_limit::RateLimits::OFF)
            .with_connection_limits(4, 100)
    })
    .await;
    // Four idle connections fill the server.
    let mut idle = Vec::new();
    for _ in 0..4 {
        idle.push(TcpStream::connect(app.addr).await.unwrap());
    }
    let filled = Instant::now();
    while server_connections(&app) < 4 {
        assert!(filled.elapsed() < Duration::from_secs(2), "not accepted");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // A fifth, from anywhere, is answered 503 (or just closed) at once, never queued.
    for local in [[127, 0, 0, 1], OTHER_CLIENT] {
        let mut conn = connect_from(local, app.addr).await;
        let mut answer = Vec::new();
        tokio::time::timeout(Duration::from_secs(1), conn.read_to_end(&mut answer))
            .await
            .expect("a connection over the cap was kept open")
            .ok();
        let answer = String::from_utf8_lossy(&answer);
        assert!(
            answer.is_empty() || answer.starts_with("HTTP/1.1 503"),
            "{answer}"
        );
    }
    assert_eq!(server_connections(&app), 4);
    // Once one closes, a new client is served.
    drop(idle.pop());
    let freed = Instant::now();
    while server_connections(&app) > 3 {
        assert!(freed.elapsed() < Duration::from_secs(2), "not given back");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let res = reqwest::Client::new()
        .get(format!("{}/health", app.base()))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
}

/// Sends `GET /health` on `conn` and reads one answer's status line.
async fn health_on(conn: &mut TcpStream) -> String {
    conn.write_all(b"GET /health HTTP/1.1\r\nHost: localhost\r\n\r\n")
        .await
        .unwrap();
    let mut buf = [0u8; 1024];
    let n = tokio::time::timeout(Duration::from_secs(2), conn.read(&mut buf))
        .await
        .map_or(Ok(0), |r| r)
        .unwrap_or(0);
    String::from_utf8_lossy(&buf[..n])
        .lines()
        .next()
        .unwrap_or_default()
        .to_string()
}

// Matrix: PR-04
#[tokio::test]
async fn a_trusted_proxy_is_not_held_to_the_per_address_cap() {
    let app = TestApp::spawn_with(|c| {
        c.with_rate_limits(cognate::rate_limit::RateLimits::OFF)
            .with_trusted_proxies(vec!["127.0.0.1/32".parse().unwrap()])
            .with_connection_limits(64, 2)
    })
    .await;
    // The proxy's address carries many clients: five kept-alive connections, all served.
    let mut proxy = Vec::new();
    for _ in 0..5 {
        let mut conn = connect_from([127, 0, 0, 1], app.addr).await;
        assert_eq!(health_on(&mut conn).await, "HTTP/1.1 200 OK");
        proxy.push(conn);
    }
    // Any other address gets two.
    let mut other = Vec::new();
    for _ in 0..4 {
        let mut conn = connect_from(OTHER_CLIENT, app.addr).await;
        let status = health_on(&mut conn).await;
        other.push((status, conn));
    }
    let served: Vec<&str> = other.iter().map(|(s, _)| s.as_str()).collect();
    assert_eq!(&served[..2], ["HTTP/1.1 200 OK", "HTTP/1.1 200 OK"]);
    for status in &served[2..] {
        assert!(
            status.is_empty() || *status == "HTTP/1.1 429 Too Many Requests",
            "{served:?}"
        );
    }
}
