//! What makes the site findable and followable, as search engines, feed readers and people
//! meet it:
//!
//! - the home page explains subscribing, lists the feeds, the tags and the OPML list;
//! - older posts are browsable from `/`: each list page links the next, every published
//!   post is on exactly one, and the page past the last does not exist;
//! - `/sitemap.xml` lists every page with a `lastmod` (a post's is its `updated`), and
//!   `/robots.txt` names it;
//! - `/feeds.opml` lists the site's feed and every tag's, each a feed that is served;
//! - `icon` and `logo` reach Atom `icon`/`logo`, RSS `image`, JSON Feed `icon`/`favicon`
//!   and the pages' `<link rel="icon">`, and `/favicon.ico` redirects to the icon;
//! - a route that does not exist answers `404` with the theme's page leading home;
//! - the static export writes all of it, and its nginx config serves each with its own
//!   type and answers `404` with the not-found page.

mod common;

use std::collections::BTreeSet;

use common::feeds::{build_site, feed_rs, Output};
use common::server::{header, markdown_post, Server};

/// A site of `count` posts, one a day from 2020-01-01, every third tagged `third`.
fn many_posts(count: usize) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    let start = chrono::NaiveDate::from_ymd_opt(2020, 1, 1).expect("a date");
    for i in 0..count {
        let date = start + chrono::Days::new(i as u64);
        let tags = if i % 3 == 0 { "tags: [third]\n" } else { "" };
        let text = format!("---\ntitle: Post {i}\ndate: {date}\n{tags}---\nBody {i}.\n");
        std::fs::write(dir.path().join(format!("p{i}.md")), text).expect("write post");
    }
    dir
}

fn text(site: &Output, route: &str) -> String {
    String::from_utf8(site.bytes(route).to_vec()).expect("UTF-8")
}

const BASE: &str = "https://example.org/";

#[test]
fn older_posts_are_browsable_from_the_home_page() {
    let posts = many_posts(120);
    let site = build_site(posts.path(), &format!("base_url = \"{BASE}\"\n"));
    let mut seen = BTreeSet::new();
    let mut route = String::new();
    for n in 1..=3 {
        let page = text(&site, &route);
        let titles: Vec<String> = (0..120)
            .map(|i| format!(">Post {i}</a>"))
            .filter(|t| page.contains(t.as_str()))
            .collect();
        for title in titles {
            assert!(seen.insert(title.clone()), "{title} is on one page only");
        }
        let next = format!("page/{}/", n + 1);
        match n {
            3 => assert!(
                !page.contains(&format!("{BASE}{next}")),
                "page 3 is the last"
            ),
            _ => assert!(
                page.contains(&format!("href=\"{BASE}{next}\"")),
                "page {n} links {next}"
            ),
        }
        route = next;
    }
    assert_eq!(seen.len(), 120, "every post is on a list page");
    assert!(!site.routes().contains(&"page/4/".to_string()));
    assert!(
        site.path("page/2/index.html").is_file(),
        "the export writes the list pages"
    );
}

#[test]
fn sitemap_lists_every_page_with_lastmod_and_robots_names_it() {
    let posts = many_posts(60);
    let site = build_site(posts.path(), &format!("base_url = \"{BASE}\"\n"));
    let sitemap = text(&site, "sitemap.xml");
    let pages: Vec<String> = site
        .routes()
        .into_iter()
        .filter(|r| r.is_empty() || r.ends_with('/'))
        .collect();
    assert!(pages.contains(&"page/2/".to_string()) && pages.contains(&"tags/third/".to_string()));
    for route in &pages {
        let entry = format!("<url><loc>{BASE}{route}</loc><lastmod>");
        assert!(
            sitemap.contains(&entry),
            "the sitemap lists /{route} with lastmod"
        );
    }
    assert!(sitemap.contains("<url><loc>https://example.org/posts/p0/</loc><lastmod>2020-01-01T00:00:00Z</lastmod></url>"));
    let robots = text(&site, "robots.txt");
    assert!(
        robots.contains(&format!("Sitemap: {BASE}sitemap.xml")),
        "{robots}"
    );
    for file in [
        "sitemap.xml",
        "robots.txt",
        "feeds.opml",
        "404.html",
        "feed.xsl",
    ] {
        assert!(site.path(file).is_file(), "the export writes {file}");
    }
}

#[test]
fn the_opml_list_names_every_subscription_feed() {
    let posts = many_posts(6);
    let site = build_site(posts.path(), &format!("base_url = \"{BASE}\"\n"));
    let opml = text(&site, "feeds.opml");
    let routes = site.routes();
    let urls: Vec<&str> = opml
        .split("xmlUrl=\"")
        .skip(1)
        .filter_map(|rest| rest.split('"').next())
        .collect();
    assert_eq!(
        urls,
        [
            format!("{BASE}atom.xml"),
            format!("{BASE}tags/third/atom.xml")
        ]
    );
    for url in urls {
        let route = url.strip_prefix(BASE).expect("on the site");
        assert!(routes.contains(&route.to_string()), "{route} is served");
    }
    let home = text(&site, "");
    assert!(
        home.contains(&format!("href=\"{BASE}feeds.opml\"")),
        "the home page links it"
    );
    assert!(
        home.contains("feed reader"),
        "the home page explains subscribing"
    );
    assert!(
        home.contains(&format!("href=\"{BASE}tags/third/\"")),
        "and lists the tags"
    );
}

const ICONS: &str = "base_url = \"https://example.org/\"\nicon = \"files/icon.png\"\nlogo = \"https://cdn.example.org/logo.png\"\n";

#[test]
fn icon_and_logo_reach_every_feed_and_page() {
    let posts = many_posts(3);
    let site = build_site(posts.path(), ICONS);
    let (icon, logo) = (
        "https://example.org/files/icon.png",
        "https://cdn.example.org/logo.png",
    );
    let atom = feed_rs(&site.bytes("atom.xml"), "atom.xml");
    assert_eq!(atom.icon.map(|i| i.uri).as_deref(), Some(icon));
    assert_eq!(atom.logo.map(|i| i.uri).as_deref(), Some(logo));
    let rss = text(&site, "feed.xml");
    assert!(rss.contains(&format!("<image><url>{logo}</url>")), "{rss}");
    assert!(
        feed_rs(rss.as_bytes(), "feed.xml").logo.is_some(),
        "feed-rs reads the RSS image"
    );
    let json: serde_json::Value = serde_json::from_slice(&site.bytes("feed.json")).expect("JSON");
    assert_eq!(json["icon"], logo);
    assert_eq!(json["favicon"], icon);
    for route in ["", "tags/", "posts/p0/", "404.html"] {
        let page = text(&site, route);
        assert!(
            page.contains(&format!("<link rel=\"icon\" href=\"{icon}\">")),
            "/{route}"
        );
    }
    let redirect = site.built.site.redirects.get("favicon.ico");
    assert_eq!(redirect.map(String::as_str), Some(icon));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn favicon_redirects_to_the_icon_and_unknown_routes_get_the_not_found_page() {
    let post = markdown_post("Hello", "2024-01-02", "Hi.");
    let server = Server::start_with(
        &[("hello.md", &post)],
        "icon = \"https://cdn.example.org/icon.png\"\n",
        std::sync::Arc::new(dropfeed::pipeline::SystemClock),
    )
    .await;
    let (status, headers, _) = server.get("/favicon.ico", &[]).await;
    assert_eq!(status, 301);
    assert_eq!(
        header(&headers, "location"),
        "https://cdn.example.org/icon.png"
    );
    let (status, headers, body) = server.get("/no/such/page", &[]).await;
    assert_eq!(status, 404);
    assert!(header(&headers, "content-type").starts_with("text/html"));
    let body = String::from_utf8_lossy(&body);
    assert!(
        body.contains("Page not found") && body.contains(&format!("href=\"{}\"", server.url("/"))),
        "{body}"
    );
    let (status, _, body) = server.head("/no/such/page", &[]).await;
    assert_eq!((status.as_u16(), body.len()), (404, 0));
}
