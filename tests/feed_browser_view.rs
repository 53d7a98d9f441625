//! Feeds opened in a browser, and the same feeds read by feed readers:
//!
//! - RSS and Atom documents (subscription feeds, tag feeds, archive pages) name `/feed.xsl`
//!   in an `xml-stylesheet` instruction right after the XML declaration, then `/feed.css`
//!   for browsers without XSLT; JSON Feed does not;
//! - `/feed.xsl` is served as `text/xsl` and is well-formed XML; `/feed.css` as `text/css`;
//! - with the instruction, feed-rs and Python feedparser read exactly what they read
//!   without it (every entry's id, title, link and dates), and feedparser sees no error;
//! - a browser tab (`Sec-Fetch-Dest: document`) gets the same bytes labelled
//!   `application/xml` and kept out of shared caches; a feed reader keeps the feed's type;
//! - in Chromium, `/atom.xml` and `/feed.xml` show a page saying what a feed is, how to
//!   subscribe (the feed's address), and the latest entries as links (skipped, loudly,
//!   without Chromium).

mod common;

use common::chromium;
use common::feeds::{build_site, feed_rs, feedparser, sample_posts};
use common::server::{header, Server};

const INSTRUCTION: &str =
    "<?xml-stylesheet type=\"text/xsl\" href=\"https://example.org/feed.xsl\"?>";

/// The feed without its stylesheet instruction: what it was before.
fn without_instruction(bytes: &[u8]) -> Vec<u8> {
    let text = String::from_utf8(bytes.to_vec()).expect("UTF-8 feed");
    text.replacen(&format!("\n{INSTRUCTION}"), "", 1)
        .into_bytes()
}

/// What a reader sees of a feed-rs feed: each entry's id, title, link and dates.
fn seen(feed: &feed_rs::model::Feed) -> Vec<String> {
    let mut out = vec![format!(
        "{:?} {:?}",
        feed.title.as_ref().map(|t| &t.content),
        feed.updated
    )];
    for e in &feed.entries {
        let links: Vec<&str> = e.links.iter().map(|l| l.href.as_str()).collect();
        out.push(format!(
            "{} {:?} {links:?} {:?} {:?}",
            e.id,
            e.title.as_ref().map(|t| &t.content),
            e.published,
            e.updated
        ));
    }
    out
}

#[test]
fn feeds_name_the_stylesheet_and_parse_as_before() {
    let toml = "base_url = \"https://example.org/\"\nfeed_limit = 2\n";
    let site = build_site(&sample_posts(), toml);
    let feeds: Vec<String> = site
        .routes()
        .into_iter()
        .filter(|r| r.ends_with("feed.xml") || r.ends_with("atom.xml"))
        .collect();
    assert!(
        feeds.iter().any(|r| r.contains("archive/")),
        "archives are covered: {feeds:?}"
    );
    assert!(
        feeds.iter().any(|r| r.starts_with("tags/")),
        "tag feeds are covered"
    );
    let scratch = tempfile::tempdir().expect("tempdir");
    let mut files = Vec::new();
    for route in &feeds {
        let bytes = site.bytes(route);
        let text = std::str::from_utf8(&bytes).expect("UTF-8");
        let second_line = text.lines().nth(1).unwrap_or_default();
        assert!(
            second_line.starts_with(INSTRUCTION),
            "{route}: {second_line}"
        );
        let before = without_instruction(&bytes);
        assert_eq!(
            seen(&feed_rs(&bytes, route)),
            seen(&feed_rs(&before, route)),
            "feed-rs reads {route} as before"
        );
        let name = route.replace('/', "_");
        for (suffix, body) in [("with", bytes.to_vec()), ("without", before)] {
            let path = scratch.path().join(format!("{suffix}-{name}"));
            std::fs::write(&path, body).expect("write feed");
            files.push(path);
        }
    }
    let json = site.bytes("feed.json");
    assert!(!String::from_utf8_lossy(&json).contains("xml-stylesheet"));
    let paths: Vec<&std::path::Path> = files.iter().map(|p| p.as_path()).collect();
    let parsed = feedparser(&paths);
    for pair in parsed.chunks(2) {
        let [with, without] = pair else { continue };
        assert_eq!(with["bozo"], false, "feedparser is happy: {with}");
        assert_eq!(
            with["entries"], without["entries"],
            "feedparser reads the same entries"
        );
        assert_eq!(with["title"], without["title"]);
        assert_eq!(with["version"], without["version"]);
    }
    let xsl = site.bytes("feed.xsl");
    let mut reader = quick_xml::Reader::from_reader(&xsl[..]);
    let mut buf = Vec::new();
    loop {
        match reader.read_event_into(&mut buf) {
            Ok(quick_xml::events::Event::Eof) => break,
            Ok(_) => buf.clear(),
            Err(e) => panic!("feed.xsl is not well-formed: {e}"),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_browser_tab_gets_xml_and_a_feed_reader_the_feed_type() {
    let server = Server::start_copy(&sample_posts(), "").await;
    let (status, headers, _) = server.get("/feed.xsl", &[]).await;
    assert_eq!(status, 200);
    assert_eq!(header(&headers, "content-type"), "text/xsl; charset=utf-8");
    let (status, headers, css) = server.get("/feed.css", &[]).await;
    assert_eq!(status, 200);
    assert_eq!(header(&headers, "content-type"), "text/css; charset=utf-8");
    assert!(String::from_utf8_lossy(&css).contains("This is a web feed"));
    for (path, own) in [
        ("/atom.xml", "application/atom+xml"),
        ("/feed.xml", "application/rss+xml"),
    ] {
        let (_, reader, reader_body) = server.get(path, &[]).await;
        assert!(header(&reader, "content-type").starts_with(own), "{path}");
        assert!(header(&reader, "cache-control").starts_with("public"));
        let (_, tab, tab_body) = server.get(path, &[("sec-fetch-dest", "document")]).await;
        assert_eq!(
            header(&tab, "content-type"),
            "application/xml; charset=utf-8",
            "{path}"
        );
        assert_eq!(header(&tab, "cache-control"), "private, no-cache", "{path}");
        assert_eq!(tab_body, reader_body, "{path}: the same bytes");
        assert_eq!(header(&tab, "etag"), header(&reader, "etag"));
    }
    let (_, json, _) = server
        .get("/feed.json", &[("sec-fetch-dest", "document")])
        .await;
    assert!(header(&json, "content-type").starts_with("application/feed+json"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chromium_shows_a_feed_as_a_page_for_people() {
    let Some(browser) = chromium::find() else {
        common::skip::skipped("chromium not installed: the browser view of feeds is not checked");
        return;
    };
    let server = Server::start_copy(&sample_posts(), "").await;
    let first = "Plain Text Is Enough";
    for path in ["/atom.xml", "/feed.xml"] {
        let url = server.url(path);
        let shown = tokio::task::spawn_blocking({
            let (browser, url) = (browser.clone(), url.clone());
            move || chromium::dom(&browser, &url)
        })
        .await
        .expect("chromium ran");
        assert!(
            shown.contains("This is a web feed"),
            "{path} says what it is:\n{shown}"
        );
        assert!(
            shown.contains("<h2>Subscribe</h2>"),
            "{path} says how to subscribe"
        );
        assert!(
            shown.contains(&format!("<code class=\"address\">{url}</code>")),
            "its address"
        );
        assert!(
            shown.contains(&format!(">{first}</a>")),
            "{path} lists the entries as links"
        );
    }
}
