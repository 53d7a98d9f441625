//! Polite limits for pollers (issue 16 §2), through a trusted proxy on loopback:
//!
//! - conditional polls that end in `304` are never limited, however often;
//! - unconditional polls of one feed by one client past `rate_limit_per_minute` get `429`
//!   with `Retry-After`, and so does a conditional one whose answer would not be a `304`;
//! - the client is the address the trusted proxy forwards (another client, or the same
//!   client on another feed, is not limited); IPv6 clients share a /64's bucket;
//! - from a peer that is not a trusted proxy, forwarding headers are ignored: changing
//!   `X-Forwarded-For` or `Forwarded` does not escape the limit.

mod common;

use std::sync::Arc;

use common::server::{header, markdown_post, Server};
use dropfeed::pipeline::SystemClock;
use hyper::StatusCode;

async fn start(toml: &str) -> Server {
    let post = markdown_post("Hello", "2024-01-01", "Hello.");
    Server::start_with(&[("a.md", &post)], toml, Arc::new(SystemClock)).await
}

/// An unconditional `GET` of `path` forwarded for `client`.
async fn poll(server: &Server, path: &str, client: &str) -> (StatusCode, String) {
    let (status, headers, _) = server.get(path, &[("x-forwarded-for", client)]).await;
    (status, header(&headers, "retry-after").to_string())
}

#[tokio::test]
async fn conditional_pollers_are_never_limited_and_unconditional_ones_are() {
    let server =
        start("[server]\nrate_limit_per_minute = 2\ntrusted_proxies = [\"127.0.0.1\"]\n").await;
    let client = "203.0.113.7";
    let etag = {
        let (status, headers, _) = server
            .get("/atom.xml", &[("x-forwarded-for", client)])
            .await;
        assert_eq!(status, StatusCode::OK);
        header(&headers, "etag").to_string()
    };
    assert_eq!(poll(&server, "/atom.xml", client).await.0, StatusCode::OK);
    let (status, retry_after) = poll(&server, "/atom.xml", client).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    let wait: u64 = retry_after.parse().expect("Retry-After in seconds");
    assert!((1..=30).contains(&wait), "Retry-After: {wait}");

    for _ in 0..20 {
        let conditional = [
            ("x-forwarded-for", client),
            ("if-none-match", etag.as_str()),
        ];
        let (status, _, _) = server.get("/atom.xml", &conditional).await;
        assert_eq!(status, StatusCode::NOT_MODIFIED, "a 304 is never limited");
    }
    let stale = [("x-forwarded-for", client), ("if-none-match", "\"old\"")];
    let (status, _, _) = server.get("/atom.xml", &stale).await;
    assert_eq!(
        status,
        StatusCode::TOO_MANY_REQUESTS,
        "a full answer is limited"
    );

    assert_eq!(
        poll(&server, "/feed.xml", client).await.0,
        StatusCode::OK,
        "another feed"
    );
    assert_eq!(
        poll(&server, "/atom.xml", "203.0.113.8").await.0,
        StatusCode::OK,
        "another client"
    );
    server.stop().await;
}

#[tokio::test]
async fn ipv6_clients_share_the_limit_of_their_64() {
    let server =
        start("[server]\nrate_limit_per_minute = 2\ntrusted_proxies = [\"127.0.0.1\"]\n").await;
    assert_eq!(
        poll(&server, "/atom.xml", "2001:db8:1:2::a").await.0,
        StatusCode::OK
    );
    assert_eq!(
        poll(&server, "/atom.xml", "2001:db8:1:2::b").await.0,
        StatusCode::OK
    );
    let forwarded = [("forwarded", "for=\"[2001:db8:1:2::c]:4711\"")];
    let (status, _, _) = server.get("/atom.xml", &forwarded).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "same /64");
    assert_eq!(
        poll(&server, "/atom.xml", "2001:db8:1:3::a").await.0,
        StatusCode::OK,
        "another /64"
    );
    server.stop().await;
}

#[tokio::test]
async fn a_spoofed_forwarding_header_from_an_untrusted_peer_is_ignored() {
    let server = start("[server]\nrate_limit_per_minute = 2\n").await;
    assert_eq!(
        poll(&server, "/atom.xml", "198.51.100.1").await.0,
        StatusCode::OK
    );
    assert_eq!(
        poll(&server, "/atom.xml", "198.51.100.2").await.0,
        StatusCode::OK
    );
    assert_eq!(
        poll(&server, "/atom.xml", "198.51.100.3").await.0,
        StatusCode::TOO_MANY_REQUESTS,
        "a new X-Forwarded-For from an untrusted peer is the same client"
    );
    let forwarded = [("forwarded", "for=198.51.100.4")];
    let (status, _, _) = server.get("/atom.xml", &forwarded).await;
    assert_eq!(
        status,
        StatusCode::TOO_MANY_REQUESTS,
        "nor does Forwarded help"
    );
    server.stop().await;
}
