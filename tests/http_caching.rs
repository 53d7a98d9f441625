//! HTTP caching as a feed reader or an aggregator sees it, over a real socket:
//!
//! - `/feed.xml`, `/atom.xml`, `/feed.json` answer `200` with their `Content-Type`, a strong
//!   `ETag`, `Last-Modified` equal to the newest `updated` of the posts (not the newest date,
//!   not the build time), the default `Cache-Control` and `Vary: Accept-Encoding`.
//! - `If-None-Match` with the exact ETag, in a list, `*`, weak `W/"…"`, and the ETag of a
//!   compressed variant sent back without that coding: `304`, empty body, validators and
//!   caching headers repeated.
//! - `If-None-Match` takes precedence over `If-Modified-Since` both ways; `If-Modified-Since`
//!   equal to or later than `Last-Modified` gives `304`, earlier `200`.
//! - `HEAD` carries `GET`'s headers (same `Content-Length`) and no body.
//! - br, zstd and gzip each decode to exactly the identity bytes; q-values steer the choice;
//!   refusing every coding gives `406`.
//! - `404` for unknown paths; `405` with `Allow: GET, HEAD` for POST, PUT, DELETE; `308` from
//!   `/posts/<slug>` to `/posts/<slug>/`.
//! - The feeds fetched over HTTP parse with feed-rs, and every entry link leads to a page.
//! - HTTP/2 by prior knowledge (h2c) serves the same representation and revalidates.

mod common;

use std::io::Read;

use common::server::{header, Server};
use hyper::{Method, StatusCode, Version};

const FEEDS: [(&str, &str); 3] = [
    ("/feed.xml", "application/rss+xml; charset=utf-8"),
    ("/atom.xml", "application/atom+xml; charset=utf-8"),
    ("/feed.json", "application/feed+json; charset=utf-8"),
];

const CACHE_CONTROL: &str = "public, max-age=300, stale-while-revalidate=60, stale-if-error=86400";

/// The oldest post carries the newest `updated`: Last-Modified must come from it.
const NEWEST_UPDATED: &str = "Thu, 05 Mar 2026 10:20:30 GMT";
const DAY_BEFORE: &str = "Wed, 04 Mar 2026 10:20:30 GMT";
const DAY_AFTER: &str = "Fri, 06 Mar 2026 10:20:30 GMT";

/// Entry titles, newest first.
const TITLES: [&str; 3] = ["Third Time, Café Edition", "Second Wind", "First Light"];

const BODY: &str = "Feeds are a promise: here is what I wrote, in order, with a stable \
address for each piece. Readers poll, caches revalidate, and nobody downloads the same \
bytes twice when the server answers conditional requests properly.\n\n\
A second paragraph, so the document is long enough to be worth compressing in every coding \
the server offers: brotli, zstandard and gzip.";

async fn serve() -> Server {
    let first = format!(
        "---\ntitle: \"First Light\"\ndate: 2026-03-01T08:00:00Z\n\
         updated: 2026-03-05T10:20:30Z\n---\n\n{BODY}\n"
    );
    let second =
        format!("---\ntitle: \"Second Wind\"\ndate: 2026-03-03T09:00:00Z\n---\n\n{BODY}\n");
    let third = format!(
        "---\ntitle: \"Third Time, Café Edition\"\ndate: 2026-03-04T12:00:00Z\n---\n\n{BODY}\n"
    );
    Server::start(&[
        ("2026-03-01-first-light.md", &first),
        ("2026-03-03-second-wind.md", &second),
        ("2026-03-04-third-time.md", &third),
    ])
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn feeds_are_served_with_content_type_validators_and_caching_headers() {
    let server = serve().await;
    for (path, content_type) in FEEDS {
        let (status, h, body) = server.get(path, &[]).await;
        assert_eq!(status, StatusCode::OK, "{path}");
        assert_eq!(header(&h, "content-type"), content_type, "{path}");
        let etag = header(&h, "etag");
        assert!(
            etag.len() > 2 && etag.starts_with('"') && etag.ends_with('"'),
            "{path}: strong quoted ETag, got {etag:?}"
        );
        assert_eq!(header(&h, "last-modified"), NEWEST_UPDATED, "{path}");
        assert_eq!(header(&h, "cache-control"), CACHE_CONTROL, "{path}");
        assert_eq!(header(&h, "vary"), "Accept-Encoding", "{path}");
        assert_eq!(
            header(&h, "content-length"),
            body.len().to_string(),
            "{path}"
        );
        assert!(header(&h, "content-encoding").is_empty(), "{path}");
    }
    server.stop().await;
}

/// Asserts a `304` that repeats what the `200` said.
fn assert_not_modified(reply: &common::server::Reply, ok: &hyper::HeaderMap, what: &str) {
    let (status, h, body) = reply;
    assert_eq!(*status, StatusCode::NOT_MODIFIED, "{what}");
    assert!(body.is_empty(), "{what}: 304 has no body");
    for name in ["etag", "last-modified", "cache-control", "vary"] {
        assert_eq!(header(h, name), header(ok, name), "{what}: {name}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn if_none_match_exact_list_star_and_weak_give_304() {
    let server = serve().await;
    for (path, _) in FEEDS {
        let (_, ok, _) = server.get(path, &[]).await;
        let etag = header(&ok, "etag").to_string();
        let list = format!("\"x\", {etag}");
        let weak = format!("W/{etag}");
        for inm in [etag.as_str(), &list, "*", &weak] {
            let reply = server.get(path, &[("if-none-match", inm)]).await;
            assert_not_modified(&reply, &ok, &format!("{path} If-None-Match: {inm}"));
        }
        let (status, _, body) = server.get(path, &[("if-none-match", "\"x\"")]).await;
        assert_eq!(status, StatusCode::OK, "{path}: a foreign ETag");
        assert!(!body.is_empty());
    }
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn etag_received_compressed_revalidates_without_that_coding() {
    let server = serve().await;
    let (_, identity, _) = server.get("/atom.xml", &[]).await;
    for coding in ["gzip", "br", "zstd"] {
        let (status, h, _) = server
            .get("/atom.xml", &[("accept-encoding", coding)])
            .await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(header(&h, "content-encoding"), coding);
        let compressed_etag = header(&h, "etag");
        assert_ne!(
            compressed_etag,
            header(&identity, "etag"),
            "each coding is its own representation with its own strong ETag"
        );
        // Sent back by a client that no longer asks for the coding: the answer is 304 with
        // the headers a 200 to this request (identity) would carry.
        let reply = server
            .get("/atom.xml", &[("if-none-match", compressed_etag)])
            .await;
        assert_not_modified(
            &reply,
            &identity,
            &format!("{coding} ETag without {coding}"),
        );
        // And by one that still does: 304 naming the compressed representation.
        let reply = server
            .get(
                "/atom.xml",
                &[
                    ("if-none-match", compressed_etag),
                    ("accept-encoding", coding),
                ],
            )
            .await;
        assert_not_modified(&reply, &h, &format!("{coding} ETag with {coding}"));
    }
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn if_none_match_takes_precedence_over_if_modified_since() {
    let server = serve().await;
    let (_, ok, _) = server.get("/feed.xml", &[]).await;
    let etag = header(&ok, "etag").to_string();
    let (status, _, body) = server
        .get(
            "/feed.xml",
            &[
                ("if-none-match", "\"stale\""),
                ("if-modified-since", NEWEST_UPDATED),
            ],
        )
        .await;
    assert_eq!(
        status,
        StatusCode::OK,
        "a non-matching ETag wins over a date"
    );
    assert!(!body.is_empty());
    let reply = server
        .get(
            "/feed.xml",
            &[("if-none-match", &etag), ("if-modified-since", DAY_BEFORE)],
        )
        .await;
    assert_not_modified(&reply, &ok, "matching ETag with an old date");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn if_modified_since_equal_or_later_gives_304_earlier_gives_200() {
    let server = serve().await;
    for (path, _) in FEEDS {
        let (_, ok, identity) = server.get(path, &[]).await;
        for since in [NEWEST_UPDATED, DAY_AFTER] {
            let reply = server.get(path, &[("if-modified-since", since)]).await;
            assert_not_modified(&reply, &ok, &format!("{path} If-Modified-Since: {since}"));
        }
        let (status, _, body) = server.get(path, &[("if-modified-since", DAY_BEFORE)]).await;
        assert_eq!(
            status,
            StatusCode::OK,
            "{path}: modified since the day before"
        );
        assert_eq!(body, identity);
    }
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn head_carries_get_headers_and_no_body() {
    let server = serve().await;
    for (path, _) in FEEDS {
        for accept in ["identity", "gzip", "br"] {
            let request = [("accept-encoding", accept)];
            let (get_status, get, get_body) = server.get(path, &request).await;
            let (head_status, head, head_body) = server.head(path, &request).await;
            assert_eq!(head_status, get_status, "{path} {accept}");
            assert!(head_body.is_empty(), "{path} {accept}: HEAD has no body");
            assert_eq!(
                header(&head, "content-length"),
                get_body.len().to_string(),
                "{path} {accept}: HEAD announces GET's length"
            );
            for name in [
                "content-type",
                "content-length",
                "content-encoding",
                "etag",
                "last-modified",
                "cache-control",
                "vary",
            ] {
                assert_eq!(
                    header(&head, name),
                    header(&get, name),
                    "{path} {accept}: {name}"
                );
            }
        }
    }
    server.stop().await;
}

fn decode(coding: &str, body: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    match coding {
        "gzip" => {
            flate2::read::GzDecoder::new(body)
                .read_to_end(&mut out)
                .expect("gzip decodes");
        }
        "br" => {
            brotli::Decompressor::new(body, 4096)
                .read_to_end(&mut out)
                .expect("br decodes");
        }
        "zstd" => out = zstd::decode_all(body).expect("zstd decodes"),
        other => panic!("unexpected coding {other}"),
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_coding_decodes_to_the_identity_bytes() {
    let server = serve().await;
    for (path, content_type) in FEEDS {
        let (_, _, identity) = server.get(path, &[]).await;
        for coding in ["br", "zstd", "gzip"] {
            let (status, h, body) = server.get(path, &[("accept-encoding", coding)]).await;
            assert_eq!(status, StatusCode::OK);
            assert_eq!(header(&h, "content-encoding"), coding, "{path}");
            assert_eq!(header(&h, "content-type"), content_type, "{path} {coding}");
            assert_eq!(header(&h, "content-length"), body.len().to_string());
            assert_eq!(header(&h, "vary"), "Accept-Encoding");
            assert!(body.len() < identity.len(), "{path} {coding} is smaller");
            assert_eq!(decode(coding, &body), identity, "{path} {coding}");
        }
    }
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn q_values_choose_the_coding_and_refusing_all_gives_406() {
    let server = serve().await;
    let (_, _, identity) = server.get("/feed.xml", &[]).await;
    let (status, h, body) = server
        .get("/feed.xml", &[("accept-encoding", "br;q=0, gzip")])
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(header(&h, "content-encoding"), "gzip");
    assert_eq!(decode("gzip", &body), identity);

    let (status, h, body) = server
        .get("/feed.xml", &[("accept-encoding", "gzip;q=0")])
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        header(&h, "content-encoding"),
        "",
        "identity has no Content-Encoding"
    );
    assert_eq!(body, identity);

    let (status, _, _) = server
        .get("/feed.xml", &[("accept-encoding", "identity;q=0, *;q=0")])
        .await;
    assert_eq!(status, StatusCode::NOT_ACCEPTABLE);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_path_is_404() {
    let server = serve().await;
    for path in [
        "/nope.xml",
        "/posts/no-such-post/",
        "/feed.xml/",
        "/../etc/passwd",
    ] {
        let (status, _, _) = server.get(path, &[]).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{path}");
    }
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn other_methods_are_405_with_allow() {
    let server = serve().await;
    for method in [Method::POST, Method::PUT, Method::DELETE] {
        let (status, h, _) = server.request(method.clone(), "/feed.xml", &[]).await;
        assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED, "{method}");
        assert_eq!(header(&h, "allow"), "GET, HEAD", "{method}");
    }
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn post_page_without_slash_redirects_308_to_the_slash_form() {
    let server = serve().await;
    let (status, h, _) = server.get("/posts/first-light", &[]).await;
    assert_eq!(status, StatusCode::PERMANENT_REDIRECT);
    assert_eq!(header(&h, "location"), "/posts/first-light/");
    let (status, h, body) = server.get("/posts/first-light/", &[]).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(header(&h, "content-type"), "text/html; charset=utf-8");
    assert!(String::from_utf8_lossy(&body).contains("First Light"));
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn feeds_fetched_over_http_parse_with_feed_rs_and_links_lead_to_pages() {
    let server = serve().await;
    for (path, _) in FEEDS {
        let feed = server.feed(path).await;
        let titles: Vec<String> = feed
            .entries
            .iter()
            .map(|e| {
                e.title
                    .as_ref()
                    .map(|t| t.content.clone())
                    .unwrap_or_default()
            })
            .collect();
        assert_eq!(titles, TITLES, "{path}");
        for entry in &feed.entries {
            let link = &entry.links.first().expect("entry has a link").href;
            let local = link
                .strip_prefix(&server.url(""))
                .unwrap_or_else(|| panic!("{path}: {link} is not on this server"));
            let (status, _, _) = server.get(local, &[]).await;
            assert_eq!(status, StatusCode::OK, "{path}: {link}");
        }
    }
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn http2_prior_knowledge_serves_the_same_etag_and_revalidates() {
    let server = serve().await;
    let (_, ok, identity) = server.get("/atom.xml", &[]).await;
    let etag = header(&ok, "etag");
    let (version, status, h, body) = server.get_h2("/atom.xml", &[]).await;
    assert_eq!(version, Version::HTTP_2);
    assert_eq!(status, StatusCode::OK);
    assert_eq!(header(&h, "etag"), etag);
    assert_eq!(body, identity);
    let (version, status, h, body) = server.get_h2("/atom.xml", &[("if-none-match", etag)]).await;
    assert_eq!(version, Version::HTTP_2);
    assert_eq!(status, StatusCode::NOT_MODIFIED);
    assert_eq!(header(&h, "etag"), etag);
    assert!(body.is_empty());
    server.stop().await;
}
