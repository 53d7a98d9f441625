//! Issue 4, HTML pages: the shipped sample site, served, has a home page and post pages with
//! `<link rel="alternate">` discovery for each feed format (found by a small HTML tag
//! tokenizer, not by substring search), a readable article without JavaScript, and, when
//! Debian's `chromium` is installed, renders in headless Chromium: screenshots of `/`, a
//! post page, `/tags/` and a tag page are saved under `target/test-artifacts/html_pages/`.
//!
//! Issue 13, tag pages: the home page links `/tags/`, which lists every published tag with
//! its count (the count its feed agrees with) and links each tag page and its feeds; each
//! `/tags/{slug}/` lists the tag's posts in its feed's order, discovers the tag's own three
//! feeds, and is the page each tag feed names as its home; post pages link their tags to
//! these pages; a tag that only a scheduled post carries has no page and no feed.
//!
//! Without chromium the screenshot part prints
//! "SKIPPED html_pages: chromium not installed; screenshots not taken" and passes.

mod common;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use common::chromium;
use common::feeds::sample_posts;
use common::server::{header, Server};
use common::skip::skipped;
use dropfeed::pipeline::SystemClock;
use hyper::StatusCode;

/// The sample post the test opens.
const SLUG: &str = "why-feeds";
const TITLE: &str = "Why Feeds Still Matter";
/// A line of that post's body.
const CONTENT: &str = "a stable address for each piece";

/// The feed formats and the media type each discovery link must announce and serve.
const FEED_TYPES: [&str; 3] = [
    "application/rss+xml",
    "application/atom+xml",
    "application/feed+json",
];

/// One start tag: lower-cased name and attributes (lower-cased names, unescaped values).
#[derive(Debug, Clone, PartialEq, Eq)]
struct Tag {
    name: String,
    attrs: Vec<(String, String)>,
}

impl Tag {
    fn attr(&self, name: &str) -> Option<&str> {
        self.attrs
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// The start tags of an HTML document, in order. Skips comments, doctypes, end tags, and the
/// raw text of `<script>` and `<style>`; understands quoted, unquoted and bare attributes.
fn start_tags(html: &str) -> Vec<Tag> {
    let bytes = html.as_bytes();
    let mut tags = Vec::new();
    let mut i = 0;
    while let Some(at) = html[i..].find('<') {
        i += at + 1;
        if html[i..].starts_with("!--") {
            i = html[i..].find("-->").map_or(html.len(), |end| i + end + 3);
            continue;
        }
        if !bytes.get(i).is_some_and(u8::is_ascii_alphabetic) {
            // `</end>`, `<!DOCTYPE>`, `<?pi?>` or a stray `<`.
            continue;
        }
        let start = i;
        while i < bytes.len() && !bytes[i].is_ascii_whitespace() && !b">/".contains(&bytes[i]) {
            i += 1;
        }
        let name = html[start..i].to_ascii_lowercase();
        let mut attrs = Vec::new();
        loop {
            while i < bytes.len() && (bytes[i].is_ascii_whitespace() || bytes[i] == b'/') {
                i += 1;
            }
            if i >= bytes.len() || bytes[i] == b'>' {
                i += 1;
                break;
            }
            let start = i;
            while i < bytes.len() && !bytes[i].is_ascii_whitespace() && !b"=>/".contains(&bytes[i])
            {
                i += 1;
            }
            let attr = html[start..i].to_ascii_lowercase();
            while i < bytes.len() && bytes[i].is_ascii_whitespace() {
                i += 1;
            }
            let mut value = String::new();
            if bytes.get(i) == Some(&b'=') {
                i += 1;
                while i < bytes.len() && bytes[i].is_ascii_whitespace() {
                    i += 1;
                }
                match bytes.get(i) {
                    Some(&q) if q == b'"' || q == b'\'' => {
                        let end = html[i + 1..]
                            .find(q as char)
                            .map_or(html.len(), |e| i + 1 + e);
                        value = unescape(&html[i + 1..end]);
                        i = end + 1;
                    }
                    _ => {
                        let start = i;
                        while i < bytes.len() && !bytes[i].is_ascii_whitespace() && bytes[i] != b'>'
                        {
                            i += 1;
                        }
                        value = unescape(&html[start..i]);
                    }
                }
            }
            if !attr.is_empty() {
                attrs.push((attr, value));
            }
        }
        if name == "script" || name == "style" {
            let close = format!("</{name}");
            i = html[i.min(html.len())..]
                .to_ascii_lowercase()
                .find(&close)
                .map_or(html.len(), |e| i + e);
        }
        tags.push(Tag { name, attrs });
        if i >= html.len() {
            break;
        }
    }
    tags
}

/// Undoes the character references an attribute value may hold.
fn unescape(value: &str) -> String {
    value
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&#x27;", "'")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

/// `(type, href)` of each `<link rel="alternate">` feed discovery link.
fn discovery_links(html: &str) -> Vec<(String, String)> {
    start_tags(html)
        .into_iter()
        .filter(|t| t.name == "link")
        .filter(|t| {
            t.attr("rel").is_some_and(|rel| {
                rel.split_ascii_whitespace()
                    .any(|r| r.eq_ignore_ascii_case("alternate"))
            })
        })
        .filter_map(|t| Some((t.attr("type")?.to_string(), t.attr("href")?.to_string())))
        .filter(|(kind, _)| FEED_TYPES.contains(&kind.as_str()))
        .collect()
}

#[test]
fn tokenizer_reads_attributes() {
    let html = "<!DOCTYPE html><!-- <link rel=alternate href=no> --><head>\
        <style>a<b{}</style><LINK Rel='alternate stylesheet' TYPE=application/atom+xml \
        href=\"/a?x=1&amp;y=2\"/><script>if (a<link) {}</script></head>";
    let tags = start_tags(html);
    let names: Vec<&str> = tags.iter().map(|t| t.name.as_str()).collect();
    assert_eq!(names, ["head", "style", "link", "script"]);
    assert_eq!(
        discovery_links(html),
        [("application/atom+xml".to_string(), "/a?x=1&y=2".to_string())]
    );
}

/// Serves a copy of the shipped sample posts, without their `.dropfeed` state.
async fn serve_sample() -> Server {
    let mut texts = Vec::new();
    let mut binaries = Vec::new();
    collect(&sample_posts(), "", &mut texts, &mut binaries);
    assert!(!texts.is_empty(), "the sample posts are there");
    let posts: Vec<(&str, &str)> = texts
        .iter()
        .map(|(n, t)| (n.as_str(), t.as_str()))
        .collect();
    let server = Server::start_with(&posts, "", Arc::new(SystemClock)).await;
    for (name, from) in binaries {
        let to = server.posts_dir().join(name);
        std::fs::create_dir_all(to.parent().expect("parent")).expect("create folder");
        std::fs::copy(&from, &to).expect("copy sample file");
    }
    server
}

/// Text files (name, text) and other files (name, path) under `dir`, skipping `.dropfeed`.
fn collect(
    dir: &Path,
    prefix: &str,
    texts: &mut Vec<(String, String)>,
    binaries: &mut Vec<(String, PathBuf)>,
) {
    for entry in std::fs::read_dir(dir).expect("read sample posts") {
        let entry = entry.expect("directory entry");
        let name = entry.file_name().to_string_lossy().into_owned();
        if name == ".dropfeed" {
            continue;
        }
        let path = entry.path();
        let relative = format!("{prefix}{name}");
        if path.is_dir() {
            collect(&path, &format!("{relative}/"), texts, binaries);
        } else {
            match std::fs::read_to_string(&path) {
                Ok(text) => texts.push((relative, text)),
                Err(_) => binaries.push((relative, path)),
            }
        }
    }
}

async fn page(server: &Server, path: &str) -> String {
    let (status, headers, body) = server.get(path, &[]).await;
    assert_eq!(status, StatusCode::OK, "GET {path}");
    assert!(
        header(&headers, "content-type").starts_with("text/html"),
        "{path} is HTML"
    );
    String::from_utf8(body.to_vec()).expect("UTF-8 page")
}

/// Every format has a discovery link, and each link serves that format.
async fn check_discovery(server: &Server, path: &str, html: &str) {
    let links = discovery_links(html);
    for kind in FEED_TYPES {
        let Some((_, href)) = links.iter().find(|(k, _)| k == kind) else {
            panic!("{path} has no <link rel=\"alternate\" type=\"{kind}\">: {links:?}");
        };
        let base = server.url("/");
        let route = href
            .strip_prefix(&base)
            .map(|rest| format!("/{rest}"))
            .or_else(|| href.starts_with('/').then(|| href.clone()))
            .unwrap_or_else(|| panic!("{path}: discovery href {href} is not on {base}"));
        let (status, headers, body) = server.get(&route, &[]).await;
        assert_eq!(status, StatusCode::OK, "{path}: GET {href}");
        let content_type = header(&headers, "content-type");
        assert_eq!(
            content_type.split(';').next().unwrap_or("").trim(),
            kind,
            "{path}: {href} is served as {content_type}"
        );
        assert!(!body.is_empty(), "{href} has a body");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn home_and_post_pages_discover_feeds_and_render() {
    let started = Instant::now();
    let server = serve_sample().await;
    let post_path = format!("/posts/{SLUG}/");

    let home = page(&server, "/").await;
    check_discovery(&server, "/", &home).await;
    assert!(
        start_tags(&home)
            .iter()
            .any(|t| t.name == "a" && t.attr("href").is_some_and(|h| h.ends_with(&post_path))),
        "the home page links to {post_path}"
    );

    let post = page(&server, &post_path).await;
    check_discovery(&server, &post_path, &post).await;
    assert!(post.contains(TITLE), "{post_path} shows its title:\n{post}");
    assert!(
        post.contains(CONTENT),
        "{post_path} shows its content:\n{post}"
    );
    for html in [&home, &post] {
        assert!(
            !html.to_ascii_lowercase().contains("<script"),
            "no JavaScript:\n{html}"
        );
    }

    screenshots(&server, &post_path).await;
    eprintln!("html_pages took {:?}", started.elapsed());
    server.stop().await;
}

async fn screenshots(server: &Server, post_path: &str) {
    let Some(chromium) = chromium::find() else {
        skipped("chromium not installed; screenshots not taken");
        return;
    };
    let out = chromium::artifacts("html_pages");
    let pages = [
        ("home.png", "/"),
        ("post.png", post_path),
        ("tags.png", "/tags/"),
        ("tag.png", "/tags/feeds/"),
    ];
    for (file, path) in pages {
        let png = out.join(file);
        let url = server.url(path);
        let chromium = chromium.clone();
        let target = png.clone();
        let elapsed = tokio::task::spawn_blocking(move || {
            chromium::screenshot(&chromium, &url, &target, (412, 900))
        })
        .await
        .expect("the screenshot thread");
        eprintln!("screenshot of {path}: {} ({elapsed:?})", png.display());
    }
}

/// The `href` of each `<a>` of a page, as a path on the served site (`/tags/x/`); links
/// elsewhere are left out.
fn site_links(server: &Server, html: &str) -> Vec<String> {
    let base = server.url("/");
    start_tags(html)
        .into_iter()
        .filter(|t| t.name == "a")
        .filter_map(|t| {
            t.attr("href")
                .and_then(|h| h.strip_prefix(&base))
                .map(|rest| format!("/{rest}"))
        })
        .collect()
}

/// The Atom feed at `path`, parsed: its entry links as site paths, and its home page link.
async fn atom_links(server: &Server, path: &str) -> (Vec<String>, String) {
    let feed = server.feed(path).await;
    let base = server.url("/");
    let local = |href: &str| {
        let rest = href.strip_prefix(&base);
        format!(
            "/{}",
            rest.unwrap_or_else(|| panic!("{path}: {href} is not on {base}"))
        )
    };
    let entries = feed
        .entries
        .iter()
        .map(|e| local(&e.links[0].href))
        .collect();
    let home = feed
        .links
        .iter()
        .find(|l| l.rel.as_deref() == Some("alternate"))
        .unwrap_or_else(|| panic!("{path} names no home page"));
    (entries, local(&home.href))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tag_pages_list_published_tags_and_discover_their_feeds() {
    let server = serve_sample().await;
    let home = page(&server, "/").await;
    assert!(
        site_links(&server, &home).contains(&"/tags/".to_string()),
        "/ links /tags/"
    );

    let index = page(&server, "/tags/").await;
    let links = site_links(&server, &index);
    let tag_pages: Vec<&String> = links
        .iter()
        .filter(|l| l.starts_with("/tags/") && l.ends_with('/') && l.len() > "/tags/".len())
        .collect();
    assert!(
        tag_pages.len() >= 5,
        "/tags/ lists the sample's tags: {links:?}"
    );
    for tag_page in tag_pages {
        for file in ["feed.xml", "atom.xml", "feed.json"] {
            let feed = format!("{tag_page}{file}");
            assert!(links.contains(&feed), "/tags/ links {feed}: {links:?}");
        }
        let (entries, feed_home) = atom_links(&server, &format!("{tag_page}atom.xml")).await;
        assert_eq!(&feed_home, tag_page, "the tag feed's home is its tag page");
        let count = match entries.len() {
            1 => "(1 post)".to_string(),
            n => format!("({n} posts)"),
        };
        let item = format!("href=\"{}\"", server.url(tag_page));
        let item = index[index.find(&item).expect("the tag's item")..]
            .split("</li>")
            .next()
            .unwrap_or_default();
        assert!(
            item.contains(&count),
            "/tags/ counts {tag_page} as its feed does, {count}: {item}"
        );
        let html = page(&server, tag_page).await;
        check_discovery(&server, tag_page, &html).await;
        for (_, href) in discovery_links(&html) {
            assert!(
                href.contains(tag_page.as_str()),
                "{tag_page} discovers its own feeds: {href}"
            );
        }
        let posts: Vec<String> = site_links(&server, &html)
            .into_iter()
            .filter(|l| l.starts_with("/posts/"))
            .collect();
        assert_eq!(
            posts, entries,
            "{tag_page} lists its feed's posts, newest first"
        );
    }

    // The post links each of its tags to the tag's page, which exists.
    let post = page(&server, &format!("/posts/{SLUG}/")).await;
    let tags: Vec<String> = site_links(&server, &post)
        .into_iter()
        .filter(|l| l.starts_with("/tags/"))
        .collect();
    assert_eq!(tags.len(), 4, "{SLUG} has four tags: {tags:?}");
    for tag in &tags {
        assert!(
            tag.ends_with('/') && !tag.ends_with(".xml"),
            "a page, not a feed: {tag}"
        );
        page(&server, tag).await;
    }

    // `archives` is carried only by the post scheduled for 2099: it does not exist yet.
    assert!(
        !index.contains("archives"),
        "/tags/ lists a scheduled post's tag:\n{index}"
    );
    for path in [
        "/tags/archives/",
        "/tags/archives/atom.xml",
        "/tags/archives",
    ] {
        let (status, _, _) = server.get(path, &[]).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "GET {path}");
    }
    server.stop().await;
}
