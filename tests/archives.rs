//! RFC 5005 archives (issues 4 and 13):
//!
//! - with 3 × `feed_limit` + 1 posts, following `prev-archive` (RSS, Atom) or `next_url`
//!   (JSON Feed) from each subscription feed over HTTP visits every post exactly once;
//!   archive pages carry `fh:archive`, each holds exactly `archive_page_size` entries and is
//!   immutable, and the subscription feed holds the rest (`feed_limit` to
//!   `feed_limit + archive_page_size − 1` entries);
//! - adding posts, one at a time until a new archive page appears, keeps every existing
//!   archive page's ETag;
//! - (regression) a tag called `archive` has its archive pages: their routes,
//!   `tags/archive/archive/{n}/…`, were split at the first `archive/` and answered 404;
//! - a property over generated sites (sizes, `feed_limit`, `archive_page_size`, tags):
//!   adding newer posts never changes the bytes of an archive page that existed before, in
//!   any format, for the site or a tag, and every entry is in exactly one document of its
//!   collection.

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

/// Asserts that the chain visits `expected` posts, each exactly once, through `archives`
/// whole, immutable archive pages, and checks the pages.
fn check_chain(start: &str, pages: &[Page], expected: usize, archives: usize) {
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
    assert_eq!(pages.len(), 1 + archives, "{start}: {summary:?}");
    assert!(
        (FEED_LIMIT..2 * FEED_LIMIT).contains(&pages[0].ids.len()),
        "{start} holds feed_limit to feed_limit + archive_page_size - 1 entries: {summary:?}"
    );
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
        assert_eq!(
            page.ids.len(),
            FEED_LIMIT,
            "{} is whole: {summary:?}",
            page.path
        );
        assert!(
            page.cache_control.contains("immutable"),
            "archive page {} is immutable: {}",
            page.path,
            page.cache_control
        );
    }
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

    let mut archive_etags = BTreeMap::new();
    for start in ["/feed.xml", "/atom.xml", "/feed.json"] {
        let pages = walk(&server, start).await;
        check_chain(start, &pages, total, 2);
        for page in &pages[1..] {
            assert!(!page.etag.is_empty(), "{} has an ETag", page.path);
            archive_etags.insert(page.path.clone(), page.etag.clone());
        }
    }
    assert_eq!(
        archive_etags.len(),
        6,
        "two archive pages per format: {archive_etags:?}"
    );

    // Posts 11, 12 and 13, one at a time: the subscription feeds grow until a third archive
    // page appears with the 13th; the archive pages that existed never change.
    for newest in total + 1..=total + FEED_LIMIT {
        server.write_post(&post_name(newest), &post_text(newest));
        let title = format!("Post {newest}");
        let archives = (newest - FEED_LIMIT) / FEED_LIMIT;
        for start in ["/feed.xml", "/atom.xml", "/feed.json"] {
            server
                .until_titles(start, "the new post first", |t| t.first() == Some(&title))
                .await;
            let pages = walk(&server, start).await;
            check_chain(start, &pages, newest, archives);
        }
        for (path, etag) in &archive_etags {
            assert_eq!(
                &server.etag(path).await,
                etag,
                "archive page {path} is unchanged after post {newest}"
            );
        }
    }
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tag_called_archive_has_its_archive_pages() {
    let texts: Vec<(String, String)> = (1..=3 * FEED_LIMIT)
        .map(|n| {
            let text = format!(
                "---\ntitle: Post {n}\ndate: 2026-02-{n:02}T09:00:00Z\ntags: [archive, my-archive]\n---\n\nBody {n}.\n"
            );
            (post_name(n), text)
        })
        .collect();
    let posts: Vec<(&str, &str)> = texts
        .iter()
        .map(|(n, t)| (n.as_str(), t.as_str()))
        .collect();
    let server = Server::start_with(&posts, CONFIG, Arc::new(SystemClock)).await;
    for tag in ["archive", "my-archive"] {
        for format in ["feed.xml", "atom.xml", "feed.json"] {
            let start = format!("/tags/{tag}/{format}");
            let pages = walk(&server, &start).await;
            check_chain(&start, &pages, 3 * FEED_LIMIT, 2);
        }
    }
    server.stop().await;
}

mod adding_posts {
    //! The property: adding newer posts never changes an archive page that exists.

    use std::collections::{BTreeMap, BTreeSet};
    use std::path::Path;
    use std::sync::Arc;

    use chrono::{TimeZone, Utc};
    use dropfeed::config::Config;
    use dropfeed::load::parse_context;
    use dropfeed::post::{self, Post};
    use dropfeed::render::render_site;
    use dropfeed::site::Site;
    use proptest::prelude::*;

    const TAGS: [&str; 3] = ["red", "green", "blue"];

    /// Post `n` (dated `n` hours after 2026-01-01), with the tags picked by `mask`'s bits.
    fn post(config: &Config, n: usize, mask: u8) -> Arc<Post> {
        let tags: Vec<&str> = (0..3)
            .filter(|bit| mask & (1 << bit) != 0)
            .map(|bit| TAGS[bit])
            .collect();
        let date =
            Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap() + chrono::Duration::hours(n as i64);
        let text = format!(
            "---\ntitle: Post {n}\ndate: {}\ntags: [{}]\n---\n\nBody {n}.\n",
            date.to_rfc3339(),
            tags.join(", ")
        );
        let name = format!("p{n:03}.md");
        let parsed = post::parse(&name, Path::new(&name), &text, &parse_context(config));
        Arc::new(parsed.expect("generated post parses"))
    }

    /// Every route of the site rendered: route → bytes.
    fn rendered(config: &Arc<Config>, posts: &[Arc<Post>]) -> BTreeMap<String, Vec<u8>> {
        let now = Utc.with_ymd_and_hms(2030, 1, 1, 0, 0, 0).unwrap();
        let ids: std::collections::HashMap<String, String> = Default::default();
        let site = Site::build(Arc::clone(config), posts, &ids, now);
        let all = render_site(&site).expect("the site renders");
        all.into_iter().map(|r| (r.path, r.body)).collect()
    }

    /// Entry ids of a JSON Feed document.
    fn ids_in(json: &[u8]) -> Vec<String> {
        let doc: serde_json::Value = serde_json::from_slice(json).expect("JSON Feed");
        let items = doc["items"].as_array().expect("items").iter();
        items
            .map(|i| i["id"].as_str().expect("id").to_string())
            .collect()
    }

    /// Each collection (site, tags) shows every entry it should exactly once across its
    /// subscription feed and archive pages.
    fn each_entry_once(routes: &BTreeMap<String, Vec<u8>>, posts: &[Arc<Post>], masks: &[u8]) {
        let collections = std::iter::once((String::new(), None)).chain(
            TAGS.iter()
                .enumerate()
                .map(|(bit, t)| (format!("tags/{t}/"), Some(bit))),
        );
        for (prefix, bit) in collections {
            let want: BTreeSet<String> = posts
                .iter()
                .zip(masks)
                .filter(|(_, m)| bit.is_none_or(|b| *m & (1 << b) != 0))
                .map(|(p, _)| format!("tag:example.org,{}:{}", p.date.format("%Y-%m-%d"), p.slug))
                .collect();
            let mut seen = Vec::new();
            for (route, body) in routes {
                let Some(rest) = route.strip_prefix(&prefix) else {
                    continue;
                };
                let archive_page = rest.strip_prefix("archive/").is_some_and(|r| {
                    r.split_once('/')
                        .is_some_and(|(n, f)| !n.contains('/') && f == "feed.json")
                });
                if rest == "feed.json" || archive_page {
                    seen.extend(ids_in(body));
                }
            }
            let distinct: BTreeSet<String> = seen.iter().cloned().collect();
            assert_eq!(
                distinct.len(),
                seen.len(),
                "/{prefix}: an entry shows twice"
            );
            assert_eq!(distinct, want, "/{prefix}: every entry");
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 32, ..ProptestConfig::default() })]

        #[test]
        fn adding_newer_posts_never_changes_an_archive_page(
            feed_limit in 1usize..6,
            page_size in 1usize..6,
            masks in prop::collection::vec(0u8..8, 0..40),
            added in 1usize..15,
        ) {
            let toml = format!(
                "base_url = \"https://example.org/\"\nfeed_limit = {feed_limit}\n\
                 archive_page_size = {page_size}\n"
            );
            let config = Arc::new(Config::parse(Path::new("t.toml"), &toml, None).unwrap());
            let masks_after: Vec<u8> = masks.iter().copied()
                .chain((0..added).map(|i| (i % 8) as u8)).collect();
            let posts: Vec<Arc<Post>> =
                masks_after.iter().enumerate().map(|(n, m)| post(&config, n, *m)).collect();
            let before = rendered(&config, &posts[..masks.len()]);
            let after = rendered(&config, &posts);
            each_entry_once(&before, &posts[..masks.len()], &masks);
            each_entry_once(&after, &posts, &masks_after);
            for (route, bytes) in before.iter().filter(|(r, _)| r.contains("archive/")) {
                let now = after.get(route);
                prop_assert!(now == Some(bytes), "/{} changed or vanished", route);
            }
        }
    }
}
