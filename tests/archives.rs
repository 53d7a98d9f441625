//! Issue 4, RFC 5005 archives: with 3 × `feed_limit` + 1 posts, following `prev-archive`
//! (RSS, Atom) or `next_url` (JSON Feed) from each subscription feed over HTTP visits every
//! post exactly once; archive pages carry `fh:archive`; full archive pages are immutable and
//! keep their ETags when a post is added.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use common::server::{header, markdown_post, Server};
use dropfeed::pipeline::SystemClock;
use hyper::StatusCode;
use serde_json::Value;

/// RFC 5005's namespace.
const HISTORY_NS: &str = "http://purl.org/syndication/history/1.0";

const FEED_LIMIT: usize = 3;
const CONFIG: &str = "feed_limit = 3\n";

/// One document of a chain, as fetched.
#[derive(Debug)]
struct Page {
    /// Site path, with the leading `/`.
    path: String,
    /// Entry ids, in document order.
    ids: Vec<String>,
    /// Raw body.
    body: String,
    /// `Cache-Control`.
    cache_control: String,
    /// `ETag`.
    etag: String,
}

fn post_name(n: usize) -> String {
    format!("post-{n:02}.md")
}

fn post_text(n: usize) -> String {
    markdown_post(
        &format!("Post {n}"),
        &format!("2026-02-{n:02}T09:00:00Z"),
        &format!("Body of post {n}."),
    )
}

/// Turns an absolute URL of the served site into a path.
fn site_path(server: &Server, url: &str) -> String {
    let base = server.url("");
    match url.strip_prefix(&base) {
        Some(rest) => rest.to_string(),
        None => panic!("link {url} is not on the served site {base}"),
    }
}

/// The URL a document links to as older: `prev-archive` in RSS and Atom, `next_url` in JSON.
fn older(path: &str, body: &str) -> Option<String> {
    if path.ends_with(".json") {
        let json: Value = serde_json::from_str(body).expect("JSON Feed is JSON");
        return json["next_url"].as_str().map(str::to_string);
    }
    let feed = feed_rs::parser::parse(body.as_bytes())
        .unwrap_or_else(|e| panic!("{path} does not parse: {e}"));
    feed.links
        .iter()
        .find(|l| l.rel.as_deref() == Some("prev-archive"))
        .map(|l| l.href.clone())
}

fn entry_ids(path: &str, body: &str) -> Vec<String> {
    if path.ends_with(".json") {
        let json: Value = serde_json::from_str(body).expect("JSON Feed is JSON");
        return json["items"]
            .as_array()
            .expect("items")
            .iter()
            .map(|i| i["id"].as_str().expect("item id").to_string())
            .collect();
    }
    let feed = feed_rs::parser::parse(body.as_bytes())
        .unwrap_or_else(|e| panic!("{path} does not parse: {e}"));
    feed.entries.into_iter().map(|e| e.id).collect()
}

/// True if the XML declares RFC 5005's namespace and holds its `archive` element.
fn has_fh_archive(xml: &str) -> bool {
    let mut rest = xml;
    while let Some(at) = rest.find("xmlns") {
        rest = &rest[at + "xmlns".len()..];
        let Some(eq) = rest.find('=') else { break };
        let prefix = rest[..eq].trim().trim_start_matches(':');
        let value = rest[eq + 1..].trim_start();
        let quote = value.chars().next().unwrap_or('"');
        let uri = value[1..].split(quote).next().unwrap_or("");
        if uri == HISTORY_NS {
            let element = if prefix.is_empty() {
                "<archive".to_string()
            } else {
                format!("<{prefix}:archive")
            };
            if xml.contains(&format!("{element}/>"))
                || xml.contains(&format!("{element} "))
                || xml.contains(&format!("{element}>"))
            {
                return true;
            }
        }
    }
    false
}

/// Fetches a subscription feed and every page behind it, newest first.
async fn walk(server: &Server, start: &str) -> Vec<Page> {
    let mut pages: Vec<Page> = Vec::new();
    let mut next = Some(start.to_string());
    while let Some(path) = next.take() {
        assert!(
            pages.iter().all(|p| p.path != path) && pages.len() < 20,
            "the chain from {start} loops at {path}"
        );
        let (status, headers, body) = server.get(&path, &[]).await;
        assert_eq!(status, StatusCode::OK, "GET {path}");
        let body = String::from_utf8(body.to_vec()).expect("UTF-8 body");
        next = older(&path, &body).map(|url| site_path(server, &url));
        pages.push(Page {
            ids: entry_ids(&path, &body),
            cache_control: header(&headers, "cache-control").to_string(),
            etag: header(&headers, "etag").to_string(),
            path,
            body,
        });
    }
    pages
}

/// Asserts that the chain visits `expected` posts, each exactly once, and checks the pages.
fn check_chain(start: &str, pages: &[Page], expected: usize) {
    let all: Vec<&String> = pages.iter().flat_map(|p| &p.ids).collect();
    let distinct: BTreeSet<&String> = all.iter().copied().collect();
    let summary: Vec<(&str, usize)> = pages.iter().map(|p| (&*p.path, p.ids.len())).collect();
    assert_eq!(
        distinct.len(),
        all.len(),
        "{start}: a post shows up twice: {summary:?}"
    );
    assert_eq!(
        all.len(),
        expected,
        "{start}: every post, once: {summary:?}"
    );
    assert!(pages.len() > 1, "{start} links to archive pages");
    assert_eq!(pages[0].ids.len(), FEED_LIMIT, "{start} holds feed_limit");
    let xml = !start.ends_with(".json");
    if xml {
        assert!(
            !has_fh_archive(&pages[0].body),
            "the subscription feed {start} is not an archive"
        );
    }
    for page in &pages[1..] {
        assert!(
            page.path.contains("/archive/"),
            "archive page path: {}",
            page.path
        );
        if xml {
            assert!(
                has_fh_archive(&page.body),
                "{} carries <fh:archive/> in {HISTORY_NS}:\n{}",
                page.path,
                page.body
            );
        }
        if page.ids.len() == FEED_LIMIT {
            assert!(
                page.cache_control.contains("immutable"),
                "full archive page {} is immutable: {}",
                page.path,
                page.cache_control
            );
        } else {
            assert!(
                !page.cache_control.contains("immutable"),
                "the partial page {} may still change: {}",
                page.path,
                page.cache_control
            );
        }
    }
    let full = pages[1..]
        .iter()
        .filter(|p| p.ids.len() == FEED_LIMIT)
        .count();
    assert_eq!(full, 2, "{start}: two full archive pages: {summary:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn prev_archive_chains_visit_every_post_once() {
    let total = 3 * FEED_LIMIT + 1;
    let names: Vec<String> = (1..=total).map(post_name).collect();
    let texts: Vec<String> = (1..=total).map(post_text).collect();
    let posts: Vec<(&str, &str)> = names
        .iter()
        .zip(&texts)
        .map(|(n, t)| (n.as_str(), t.as_str()))
        .collect();
    let server = Server::start_with(&posts, CONFIG, Arc::new(SystemClock)).await;

    let mut full_etags = BTreeMap::new();
    for start in ["/feed.xml", "/atom.xml", "/feed.json"] {
        let pages = walk(&server, start).await;
        check_chain(start, &pages, total);
        for page in pages[1..].iter().filter(|p| p.ids.len() == FEED_LIMIT) {
            assert!(!page.etag.is_empty(), "{} has an ETag", page.path);
            full_etags.insert(page.path.clone(), page.etag.clone());
        }
    }
    assert_eq!(
        full_etags.len(),
        6,
        "two full pages per format: {full_etags:?}"
    );

    // An 11th post: the subscription feeds change, the full archive pages do not.
    let newest = total + 1;
    server.write_post(&post_name(newest), &post_text(newest));
    let title = format!("Post {newest}");
    for start in ["/feed.xml", "/atom.xml", "/feed.json"] {
        server
            .until_titles(start, "the new post first", |t| t.first() == Some(&title))
            .await;
        let pages = walk(&server, start).await;
        check_chain(start, &pages, newest);
    }
    for (path, etag) in &full_etags {
        assert_eq!(
            &server.etag(path).await,
            etag,
            "full archive page {path} is unchanged"
        );
    }
    server.stop().await;
}
