//! Connections that hold a slot without using it cannot shut new clients out (issue 11),
//! over loopback sockets with small, bounded numbers of connections:
//!
//! - (regression, bug 6) HTTP/2 connections that send the preface and SETTINGS and then no
//!   request are closed after `header_timeout_secs`, whether they answer nothing or answer
//!   the server's PINGs; one that made a request and then idles (its client library answering
//!   pings) is closed after `idle_timeout_secs`, and not while it keeps asking;
//! - with `max_connections = 50`, 150 idle connections (HTTP/1 silent and kept alive after a
//!   request, HTTP/2 silent and answering pings) do not keep a new client from being served
//!   within 2 s: the idlest connection makes room;
//! - with `max_connections = 50`, 70 keep-alive connections each sending a request every
//!   250 ms do not keep new clients from being served within 2 s.
//!
//! Times are printed (`--nocapture`) as measurements; the only timed assertion is the 2 s
//! "served at all" bound from the issue.

mod common;

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use common::raw::{h2_idler, http1_get, H2Idle};
use common::server::{markdown_post, Server};
use dropfeed::pipeline::SystemClock;
use http_body_util::{BodyExt, Empty};
use hyper::{Request, StatusCode};
use hyper_util::rt::{TokioExecutor, TokioIo};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// The bound for a new client under a flood.
const SERVED_WITHIN: Duration = Duration::from_secs(2);

async fn launch(toml: &str) -> Server {
    let post = markdown_post("Alpha", "2026-01-10T08:00:00Z", "The first post.");
    Server::launch(&[("alpha.md", &post)], toml, Arc::new(SystemClock)).await
}

/// An HTTP/2 connection through hyper's client: one request, then left idle. Resolves to how
/// long after the request the server closed it, or `None` if still open after `limit`.
async fn h2_after_one_request(addr: SocketAddr, limit: Duration) -> Option<Duration> {
    let stream = TcpStream::connect(addr).await.expect("connect");
    let (mut sender, connection) =
        hyper::client::conn::http2::handshake(TokioExecutor::new(), TokioIo::new(stream))
            .await
            .expect("h2 handshake");
    let driver = tokio::spawn(connection);
    let get = || {
        Request::get("/feed.xml")
            .body(Empty::<Bytes>::new())
            .expect("request")
    };
    let response = sender.send_request(get()).await.expect("h2 response");
    assert_eq!(response.status(), StatusCode::OK);
    response.into_body().collect().await.expect("h2 body");
    // Still served while it keeps asking, within the idle timeout.
    tokio::time::sleep(Duration::from_millis(1000)).await;
    let response = sender
        .send_request(get())
        .await
        .expect("a second h2 response");
    assert_eq!(response.status(), StatusCode::OK);
    response.into_body().collect().await.expect("h2 body");
    let idle = Instant::now();
    tokio::time::timeout(limit, driver)
        .await
        .ok()
        .map(|_| idle.elapsed())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idle_http2_connections_are_closed() {
    let server = launch("[server]\nheader_timeout_secs = 1\nidle_timeout_secs = 2\n").await;
    let limit = Duration::from_secs(5);
    let silent = h2_idler(server.addr, H2Idle::Silent, limit).await;
    let pinging = h2_idler(server.addr, H2Idle::AnswersPings, limit).await;
    let used = h2_after_one_request(server.addr, limit).await;
    let silent = silent.await.expect("silent idler");
    let pinging = pinging.await.expect("pinging idler");
    eprintln!("closed after: silent {silent:?}, answering pings {pinging:?}, idle after a request {used:?}");
    assert!(
        silent.is_some(),
        "an h2 connection that sent only its preface is open after {limit:?}"
    );
    assert!(
        pinging.is_some(),
        "an h2 connection answering pings but sending no request is open after {limit:?}"
    );
    assert!(
        used.is_some(),
        "an idle h2 connection is open {limit:?} after its last request"
    );
    server.stop().await;
}

/// Idle connections of every kind, `n` of each: (HTTP/1 that sent nothing, HTTP/1 kept
/// alive after one request, HTTP/2 silent, HTTP/2 answering pings).
async fn open_idle_connections(
    addr: SocketAddr,
    n: usize,
) -> (
    Vec<TcpStream>,
    Vec<tokio::task::JoinHandle<Option<Duration>>>,
) {
    let mut http1 = Vec::new();
    let mut http2 = Vec::new();
    for _ in 0..n {
        http1.push(TcpStream::connect(addr).await.expect("connect"));
        let mut kept = TcpStream::connect(addr).await.expect("connect");
        kept.write_all(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n")
            .await
            .expect("send");
        http1.push(kept);
        http2.push(h2_idler(addr, H2Idle::Silent, Duration::from_secs(30)).await);
        http2.push(h2_idler(addr, H2Idle::AnswersPings, Duration::from_secs(30)).await);
    }
    (http1, http2)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idle_connections_past_max_connections_do_not_lock_out_new_clients() {
    // The default timeouts (10 s, 60 s): nothing expires during the test, so only making
    // room at the cap can serve the new clients.
    let server = launch("[server]\nmax_connections = 50\n").await;
    let (http1, http2) = open_idle_connections(server.addr, 40).await;
    let mut times = Vec::new();
    for _ in 0..5 {
        let (status, took) = http1_get(server.addr, "/feed.xml", SERVED_WITHIN * 3).await;
        times.push(took);
        assert_eq!(
            status,
            Some(200),
            "a new client under 160 idle connections, after {took:?}"
        );
        assert!(
            took < SERVED_WITHIN,
            "a new client waited {took:?} behind 160 idle connections"
        );
    }
    eprintln!("new clients behind 160 idle connections (cap 50) served in {times:?}");
    // Operators see it happen.
    let (_, _, metrics) = server.admin_get("/metrics", &[]).await;
    let evicted = String::from_utf8_lossy(&metrics)
        .lines()
        .find_map(|l| l.strip_prefix("dropfeed_connections_closed_total{reason=\"evicted\"} "))
        .and_then(|n| n.parse::<u64>().ok())
        .expect("/metrics counts evicted connections");
    assert!(
        evicted >= 110,
        "165 connections into 50 slots, {evicted} evicted"
    );
    drop(http1);
    for task in http2 {
        task.abort();
    }
    server.stop().await;
}

/// A keep-alive client sending `GET /feed.xml` every `pause` until `stop`, reconnecting
/// whenever the server closes its connection. Counts requests answered and reconnections.
async fn chatty_client(
    addr: SocketAddr,
    pause: Duration,
    stop: Arc<AtomicBool>,
    answered: Arc<AtomicUsize>,
    reconnects: Arc<AtomicUsize>,
) {
    let request = b"GET /feed.xml HTTP/1.1\r\nHost: localhost\r\n\r\n";
    let mut stream: Option<TcpStream> = None;
    let mut chunk = vec![0u8; 65536];
    while !stop.load(Ordering::Relaxed) {
        let mut current = match stream.take() {
            Some(s) => s,
            None => match TcpStream::connect(addr).await {
                Ok(s) => s,
                Err(_) => continue,
            },
        };
        let exchange = async {
            current.write_all(request).await.ok()?;
            // The feed is small: one read holds the head and the start of the body; the rest
            // of the response is drained by the next read (or the connection is fresh).
            let n = current.read(&mut chunk).await.ok()?;
            (n > 0).then_some(())
        };
        match tokio::time::timeout(Duration::from_secs(1), exchange).await {
            Ok(Some(())) => {
                answered.fetch_add(1, Ordering::Relaxed);
                stream = Some(current);
            }
            _ => {
                reconnects.fetch_add(1, Ordering::Relaxed);
            }
        }
        tokio::time::sleep(pause).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keep_alive_flood_does_not_deny_service() {
    const FLOOD: usize = 70;
    let server = launch("[server]\nmax_connections = 50\n").await;
    let stop = Arc::new(AtomicBool::new(false));
    let answered = Arc::new(AtomicUsize::new(0));
    let reconnects = Arc::new(AtomicUsize::new(0));
    let mut flood = Vec::new();
    for _ in 0..FLOOD {
        flood.push(tokio::spawn(chatty_client(
            server.addr,
            Duration::from_millis(250),
            Arc::clone(&stop),
            Arc::clone(&answered),
            Arc::clone(&reconnects),
        )));
    }
    tokio::time::sleep(Duration::from_secs(1)).await;
    let mut times = Vec::new();
    let mut failures = Vec::new();
    for _ in 0..8 {
        let (status, took) = http1_get(server.addr, "/feed.xml", SERVED_WITHIN * 2).await;
        times.push(took);
        if status != Some(200) || took >= SERVED_WITHIN {
            failures.push((status, took));
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    stop.store(true, Ordering::Relaxed);
    for task in flood {
        let _ = tokio::time::timeout(Duration::from_secs(3), task).await;
    }
    eprintln!(
        "new clients during a flood of {FLOOD} keep-alive connections (cap 50) served in {times:?}; \
         flood: {} requests answered, {} reconnections",
        answered.load(Ordering::Relaxed),
        reconnects.load(Ordering::Relaxed)
    );
    assert!(
        failures.is_empty(),
        "new clients not served within {SERVED_WITHIN:?}: {failures:?}"
    );
    server.stop().await;
}
