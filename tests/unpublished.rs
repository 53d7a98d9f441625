//! Issue 13, unpublished means invisible:
//!
//! - Drafts and scheduled posts, with their pictures, added to a running site (a clock
//!   the test holds) and then edited: every public route answers exactly as before (status,
//!   every header but `Date`, bytes; identity and compressed), the set of routes and the
//!   snapshot generation are unchanged, no public body holds any of their titles, slugs,
//!   tags, summaries or file names, and the routes they would have (their pages, their
//!   tags' pages and feeds, their pictures) answer exactly like a page that never existed.
//!   The drafts are built to leak if anything looked at them: one is older than every
//!   post (it would shift archive pages), one takes a published post's slug, one its id
//!   (and sorts first, so it would win both). `/status` and `/metrics` answer only on the
//!   admin listener, which does list them.
//! - At its moment, a scheduled post appears everywhere at once: feeds, its page, its tag.
//! - A property over generated sites: the same published posts with and without any
//!   number of drafts and scheduled posts (colliding slugs, ids and tags included) render
//!   to the same routes with the same bytes.

mod common;

use std::collections::BTreeMap;

use common::server::{wait_until, Reply, Server, TestClock, DEADLINE};
use dropfeed::watch::Message;
use hyper::StatusCode;

const CONFIG: &str = "feed_limit = 2\narchive_page_size = 1\n";
const NOW: &str = "2026-06-01T00:00:00Z";

fn post(front: &str, body: &str) -> String {
    format!("---\n{front}\n---\n\n{body}\n")
}

/// The published site.
fn published() -> Vec<(&'static str, String)> {
    vec![
        (
            "alpha.md",
            post(
                "title: Alpha Published\ndate: 2026-01-01\ntags: [shared, alpha-tag]",
                "Alpha text.",
            ),
        ),
        (
            "beta.md",
            post(
                "title: Beta Published\ndate: 2026-02-01\ntags: [shared]",
                "Beta text.",
            ),
        ),
        (
            "gamma.md",
            post(
                "title: Gamma Published\ndate: 2026-03-01\nid: \"urn:x:gamma\"\ntags: [shared]",
                "Gamma text.",
            ),
        ),
        (
            "delta.md",
            post("title: Delta Published\ndate: 2026-04-01", "Delta text."),
        ),
    ]
}

/// Drafts and scheduled posts, each built to show up somewhere if anything looked at it.
fn unpublished() -> Vec<(&'static str, String)> {
    vec![
        (
            "drafts/zebra.md",
            post(
                "title: Zebra Secret\ndate: 2026-05-01\ndraft: true\nslug: zebra-secret\n\
                 summary: Zebra summary words\ntags: [shared, zebra-only]\n\
                 image: ../images/zebra-cover.png",
                "![inline](../images/zebra-inline.png) Zebra body words.",
            ),
        ),
        (
            "drafts/ancient.md",
            post(
                "title: Ancient Draft\ndate: 2020-01-01\ndraft: true\ntags: [shared]",
                "Ancient words.",
            ),
        ),
        (
            "drafts/alpha-twin.md",
            post(
                "title: Twin Of Alpha\ndate: 2026-05-02\ndraft: true\nslug: alpha",
                "Twin words.",
            ),
        ),
        (
            "drafts/gamma-impostor.md",
            post(
                "title: Gamma Impostor\ndate: 2026-03-01\ndraft: true\nid: \"urn:x:gamma\"",
                "Impostor words.",
            ),
        ),
        (
            "2026-07-01-quasar.md",
            post(
                "title: Quasar Scheduled\ndate: 2026-07-01\nslug: quasar\n\
                 tags: [shared, quasar-only]\nimage: images/quasar.png",
                "Quasar words.",
            ),
        ),
        (
            "aaa-beta-twin.md",
            post(
                "title: Later Beta Twin\ndate: 2027-01-01\nslug: beta\ntags: [shared]",
                "Later words.",
            ),
        ),
    ]
}

/// Words of the unpublished posts that no public answer may hold.
const SECRETS: [&str; 14] = [
    "Zebra",
    "zebra",
    "Ancient",
    "Twin",
    "Impostor",
    "Quasar",
    "quasar",
    "Later Beta",
    "summary words",
    "body words",
    "zebra-only",
    "quasar-only",
    "zebra-cover",
    "zebra-inline",
];

/// Routes the unpublished posts would have, and their pictures under any likely URL.
const WOULD_BE: [&str; 20] = [
    "/posts/zebra-secret/",
    "/posts/zebra-secret",
    "/posts/ancient/",
    "/posts/quasar/",
    "/posts/alpha-2/",
    "/posts/beta-2/",
    "/tags/zebra-only/",
    "/tags/zebra-only/atom.xml",
    "/tags/zebra-only/archive/1/feed.json",
    "/tags/quasar-only/",
    "/tags/quasar-only/feed.xml",
    "/files/images/zebra-cover.png",
    "/files/images/zebra-inline.png",
    "/files/images/quasar.png",
    "/images/zebra-cover.png",
    "/images/quasar.png",
    "/posts/zebra-secret/zebra-inline.png",
    "/files/drafts/zebra.md",
    "/drafts/zebra.md",
    "/.dropfeed/ids.tsv",
];

/// Routes that are never public, whatever the site.
const OPERATOR: [&str; 4] = ["/status", "/status?format=json", "/metrics", "/metrics/"];

/// An answer without its `Date` header.
fn without_date((status, mut headers, body): Reply) -> Reply {
    headers.remove("date");
    (status, headers, body)
}

/// Every public answer: each route of the site and each probe, in identity and compressed.
async fn public_answers(server: &Server) -> BTreeMap<(String, &'static str), Reply> {
    let mut paths: Vec<String> = server.routes().iter().map(|r| format!("/{r}")).collect();
    let extra = ["/healthz", "/tags", "/posts/alpha", "/no-such-page"];
    paths.extend(
        extra
            .iter()
            .chain(&WOULD_BE)
            .chain(&OPERATOR)
            .map(|p| p.to_string()),
    );
    let mut answers = BTreeMap::new();
    for path in paths {
        for encoding in ["identity", "gzip, br, zstd"] {
            let reply = server.get(&path, &[("accept-encoding", encoding)]).await;
            answers.insert((path.clone(), encoding), without_date(reply));
        }
    }
    answers
}

/// Waits until the admin `/status` reports each file in its state, and shows `title`.
async fn until_status_shows(server: &Server, files: &[(&str, &str)], title: &str) {
    let mut last = serde_json::Value::Null;
    let seen = wait_until(DEADLINE, async || {
        let (_, _, body) = server.admin_get("/status?format=json", &[]).await;
        last = serde_json::from_slice(&body).expect("/status JSON");
        let posts = last["posts"].as_array().cloned().unwrap_or_default();
        let state_of = |file: &str| {
            let post = posts
                .iter()
                .find(|p| p["file"].as_str().is_some_and(|f| f.ends_with(file)));
            post.map(|p| (p["state"].clone(), p["title"].clone()))
        };
        let all = files
            .iter()
            .all(|(f, s)| state_of(f).is_some_and(|(st, _)| st == *s));
        all && posts.iter().any(|p| p["title"] == title)
    })
    .await;
    assert!(
        seen,
        "/status did not come to list {files:?} and {title:?}: {last:#}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn drafts_scheduled_posts_and_their_pictures_change_no_public_byte() {
    let owned = published();
    let files: Vec<(&str, &str)> = owned.iter().map(|(n, t)| (*n, t.as_str())).collect();
    let clock = TestClock::at(NOW);
    let server = Server::start_with(&files, CONFIG, clock.clone()).await;
    let routes = server.routes();
    let generation = server.generation();
    let before = public_answers(&server).await;
    let never = before[&("/no-such-page".to_string(), "identity")].clone();
    assert_eq!(never.0, StatusCode::NOT_FOUND);

    for (name, text) in unpublished() {
        server.write_post(name, &text);
    }
    for picture in [
        "images/zebra-cover.png",
        "images/zebra-inline.png",
        "images/quasar.png",
    ] {
        server.write_post(picture, "\u{89}PNG\r\n\u{1a}\n not really a picture");
    }
    let states = [
        ("drafts/zebra.md", "draft"),
        ("drafts/ancient.md", "draft"),
        ("drafts/alpha-twin.md", "draft"),
        ("drafts/gamma-impostor.md", "draft"),
        ("2026-07-01-quasar.md", "scheduled"),
        ("aaa-beta-twin.md", "scheduled"),
    ];
    until_status_shows(&server, &states, "Zebra Secret").await;
    // And an edit of a draft.
    let (name, text) = &unpublished()[0];
    server.write_post(name, &text.replace("Zebra Secret", "Zebra Secret Edited"));
    until_status_shows(&server, &states, "Zebra Secret Edited").await;

    assert_eq!(server.routes(), routes, "the same routes");
    assert_eq!(
        server.generation(),
        generation,
        "no public resource changed"
    );
    let after = public_answers(&server).await;
    for (key, answer) in &before {
        assert_eq!(
            after.get(key),
            Some(answer),
            "GET {} ({}) changed",
            key.0,
            key.1
        );
    }
    for ((path, encoding), (_, _, body)) in after.iter().filter(|(k, _)| k.1 == "identity") {
        let text = String::from_utf8_lossy(body);
        for secret in SECRETS {
            assert!(
                !text.contains(secret),
                "GET {path} ({encoding}) tells of {secret:?}"
            );
        }
    }
    for path in WOULD_BE.iter().chain(&OPERATOR) {
        let answer = &after[&(path.to_string(), "identity")];
        assert_eq!(
            answer, &never,
            "GET {path} answers as a page that never existed"
        );
    }
    scheduled_post_appears_at_its_moment(&server, &clock).await;
    server.stop().await;
}

/// The clock reaches the scheduled post: it is in the feeds, on its page and its tag's.
async fn scheduled_post_appears_at_its_moment(server: &Server, clock: &TestClock) {
    clock.set("2026-07-01T00:00:01Z");
    server.notify(Message::Wake);
    server
        .until_titles("/atom.xml", "the scheduled post", |t| {
            t.first().is_some_and(|t| t == "Quasar Scheduled")
        })
        .await;
    for path in [
        "/posts/quasar/",
        "/tags/quasar-only/",
        "/tags/quasar-only/atom.xml",
    ] {
        let (status, _, _) = server.get(path, &[]).await;
        assert_eq!(status, StatusCode::OK, "GET {path} once published");
    }
    let (_, _, tags) = server.get("/tags/", &[]).await;
    assert!(String::from_utf8_lossy(&tags).contains("quasar-only"));
    let (_, _, beta) = server.get("/posts/beta/", &[]).await;
    assert!(
        String::from_utf8_lossy(&beta).contains("Beta Published"),
        "beta keeps its slug"
    );
}

mod property {
    //! The same published posts, with and without unpublished ones, render alike.

    use std::collections::{BTreeMap, HashMap};
    use std::path::Path;
    use std::sync::Arc;

    use chrono::{TimeZone, Utc};
    use dropfeed::config::Config;
    use dropfeed::load::parse_context;
    use dropfeed::post::{self, Post};
    use dropfeed::render::render_site;
    use dropfeed::site::Site;
    use proptest::prelude::*;

    /// One generated post: published, a draft, or scheduled; its day, slug, tags, id.
    #[derive(Debug, Clone)]
    struct Spec {
        kind: u8,
        day: u32,
        slug: u8,
        tags: u8,
        id: Option<u8>,
    }

    fn spec() -> impl Strategy<Value = Spec> {
        (0u8..3, 1u32..28, 0u8..6, 0u8..8, prop::option::of(0u8..4)).prop_map(
            |(kind, day, slug, tags, id)| Spec {
                kind,
                day,
                slug,
                tags,
                id,
            },
        )
    }

    fn parse(config: &Config, n: usize, spec: &Spec) -> Arc<Post> {
        let year = if spec.kind == 2 { 2031 } else { 2026 };
        let tags: Vec<&str> = ["red", "green", "blue"]
            .iter()
            .enumerate()
            .filter(|(bit, _)| spec.tags & (1 << bit) != 0)
            .map(|(_, t)| *t)
            .collect();
        let mut front = format!(
            "title: Post {n}\ndate: {year}-01-{:02}\nslug: s{}\ntags: [{}]\n",
            spec.day,
            spec.slug,
            tags.join(", ")
        );
        if let Some(id) = spec.id {
            front.push_str(&format!("id: \"urn:x:{id}\"\n"));
        }
        if spec.kind == 1 {
            front.push_str("draft: true\n");
        }
        let text = format!("---\n{front}---\n\nBody {n}.\n");
        let name = format!("p{n:03}.md");
        let parsed = post::parse(&name, Path::new(&name), &text, &parse_context(config));
        Arc::new(parsed.expect("a generated post parses"))
    }

    fn rendered(config: &Arc<Config>, posts: &[Arc<Post>]) -> BTreeMap<String, Vec<u8>> {
        let now = Utc.with_ymd_and_hms(2030, 1, 1, 0, 0, 0).unwrap();
        let ids: HashMap<String, String> = HashMap::new();
        let site = Site::build(Arc::clone(config), posts, &ids, now);
        let all = render_site(&site).expect("the site renders");
        all.into_iter().map(|r| (r.path, r.body)).collect()
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

        #[test]
        fn unpublished_posts_change_no_rendered_byte(specs in prop::collection::vec(spec(), 0..24)) {
            let toml = "base_url = \"https://example.org/\"\nfeed_limit = 2\narchive_page_size = 2\n";
            let config = Arc::new(Config::parse(Path::new("t.toml"), toml, None).unwrap());
            let all: Vec<Arc<Post>> =
                specs.iter().enumerate().map(|(n, s)| parse(&config, n, s)).collect();
            let public: Vec<Arc<Post>> = all
                .iter()
                .zip(&specs)
                .filter(|(_, s)| s.kind == 0)
                .map(|(p, _)| Arc::clone(p))
                .collect();
            let (with, without) = (rendered(&config, &all), rendered(&config, &public));
            prop_assert_eq!(with.keys().collect::<Vec<_>>(), without.keys().collect::<Vec<_>>());
            for (route, bytes) in &with {
                prop_assert!(&without[route] == bytes, "/{} differs", route);
            }
        }
    }
}
