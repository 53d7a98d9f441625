//! Crawling a site the way a reader's browser and feed reader reach it: from `/`, every
//! `href`, `src` and `poster` of every HTML page (read with html5ever's tokenizer), and every
//! link, enclosure and image URL of every feed (read with feed-rs; a JSON Feed's `image`,
//! which feed-rs drops, with serde_json), staying on the site's origin; and for every feed
//! found, its siblings in the other formats (a reader may subscribe to any of them: a tag's
//! RSS and JSON feeds are linked from nowhere else). Every URL found must answer 200;
//! [`Report::assert_all_ok`] lists every one that does not, in one message.
//!
//! The same crawl runs over a served site ([`ServedSite`]) and over a `dropfeed build`
//! folder ([`ExportedSite`], URLs resolved to files as a static server would).

use std::cell::RefCell;
use std::collections::{BTreeMap, VecDeque};
use std::path::{Path, PathBuf};

use bytes::Bytes;
use html5ever::tendril::StrTendril;
use html5ever::tokenizer::{
    BufferQueue, TagKind, Token, TokenSink, TokenSinkResult, Tokenizer, TokenizerOpts,
};
use url::Url;

use super::feeds::FEED_FILES;
use super::server::{header, Server};

/// The most URLs one crawl fetches: a bound, far above the largest test site.
const MAX_URLS: usize = 50_000;

/// One fetched URL.
#[derive(Debug, Clone)]
pub struct Fetched {
    /// HTTP status (or 404 for a file the export lacks).
    pub status: u16,
    /// `Content-Type` (from the extension, for an export).
    pub content_type: String,
    /// The bytes.
    pub body: Bytes,
}

/// Something a crawl can fetch paths of (percent-encoded, without the leading `/`).
pub trait Site {
    /// The site's root URL, ending with `/`: links outside it are not followed.
    fn origin(&self) -> Url;
    /// Fetches a path below the origin.
    async fn fetch(&self, path: &str) -> Fetched;
}

/// A running server.
pub struct ServedSite<'a>(pub &'a Server);

impl Site for ServedSite<'_> {
    fn origin(&self) -> Url {
        Url::parse(&self.0.url("/")).expect("the server's URL")
    }

    async fn fetch(&self, path: &str) -> Fetched {
        let (status, headers, body) = self.0.get(&format!("/{path}"), &[]).await;
        Fetched {
            status: status.as_u16(),
            content_type: header(&headers, "content-type").to_string(),
            body,
        }
    }
}

/// A `dropfeed build` folder, read as a static server serves it: `x/` is `x/index.html`,
/// paths are percent-decoded.
pub struct ExportedSite {
    /// The folder written.
    pub root: PathBuf,
    /// The `base_url` it was built with.
    pub base_url: Url,
}

impl Site for ExportedSite {
    fn origin(&self) -> Url {
        self.base_url.clone()
    }

    async fn fetch(&self, path: &str) -> Fetched {
        let decoded = percent_encoding::percent_decode_str(path).decode_utf8_lossy();
        let mut file = self.root.join(&*decoded);
        if path.is_empty() || path.ends_with('/') {
            file = file.join("index.html");
        }
        let hidden = decoded.split('/').any(|s| s.starts_with('.') || s == "..");
        match std::fs::read(&file) {
            Ok(bytes) if !hidden => Fetched {
                status: 200,
                content_type: type_of(&file).to_string(),
                body: Bytes::from(bytes),
            },
            _ => Fetched {
                status: 404,
                content_type: String::new(),
                body: Bytes::new(),
            },
        }
    }
}

/// What a static server would say a file is, for the kinds the crawl reads.
fn type_of(file: &Path) -> &'static str {
    match file.file_name().and_then(|n| n.to_str()).unwrap_or("") {
        "feed.xml" => "application/rss+xml",
        "atom.xml" => "application/atom+xml",
        "feed.json" => "application/feed+json",
        name if name.ends_with(".html") => "text/html",
        _ => "application/octet-stream",
    }
}

/// What a crawl found.
#[derive(Debug, Default)]
pub struct Report {
    /// Every path fetched, with its status.
    pub fetched: BTreeMap<String, u16>,
    /// `url → status (linked from page)` for each URL that did not answer 200.
    pub failures: Vec<String>,
    /// Content type of each path fetched.
    pub types: BTreeMap<String, String>,
}

impl Report {
    /// Fails the test listing every URL that did not answer 200.
    pub fn assert_all_ok(&self, what: &str) {
        assert!(
            self.failures.is_empty(),
            "{what}: {} of {} URLs did not answer 200:\n{}",
            self.failures.len(),
            self.fetched.len(),
            self.failures.join("\n")
        );
    }

    /// How many fetched paths start with `prefix`.
    pub fn count(&self, prefix: &str) -> usize {
        self.fetched
            .keys()
            .filter(|p| p.starts_with(prefix))
            .count()
    }
}

/// Crawls `site` from its root.
pub async fn crawl(site: &impl Site) -> Report {
    let origin = site.origin();
    let mut report = Report::default();
    let mut queue = VecDeque::from([(String::new(), "(start)".to_string())]);
    let mut seen = std::collections::HashSet::from([String::new()]);
    while let Some((path, from)) = queue.pop_front() {
        assert!(report.fetched.len() < MAX_URLS, "more than {MAX_URLS} URLs");
        let fetched = site.fetch(&path).await;
        report.fetched.insert(path.clone(), fetched.status);
        report
            .types
            .insert(path.clone(), fetched.content_type.clone());
        if fetched.status != 200 {
            report
                .failures
                .push(format!("/{path} → {} (linked from {from})", fetched.status));
            continue;
        }
        let page = origin.join(&path).expect("a URL on the site");
        let mut links = links_of(&fetched, &page);
        links.extend(sibling_feeds(&origin, &path));
        for link in links {
            let Some(found) = on_site(&origin, &page, &link) else {
                continue;
            };
            if !seen.insert(found.clone()) {
                continue;
            }
            queue.push_back((found, format!("/{path}")));
        }
    }
    report
}

/// The other formats of a feed document (`tags/x/atom.xml` → `feed.xml`, `feed.json`), as
/// absolute URLs.
fn sibling_feeds(origin: &Url, path: &str) -> Vec<String> {
    let (folder, file) = path.rsplit_once('/').unwrap_or(("", path));
    if !FEED_FILES.contains(&file) {
        return Vec::new();
    }
    let folder = if folder.is_empty() {
        String::new()
    } else {
        format!("{folder}/")
    };
    FEED_FILES
        .iter()
        .map(|f| format!("{origin}{folder}{f}"))
        .collect()
}

/// The path below `origin` a link leads to (query and fragment dropped), if it stays there.
fn on_site(origin: &Url, page: &Url, link: &str) -> Option<String> {
    let mut url = page.join(link.trim()).ok()?;
    url.set_fragment(None);
    url.set_query(None);
    let path = url.as_str().strip_prefix(origin.as_str())?;
    Some(path.to_string())
}

/// The links a fetched document holds, by its type.
fn links_of(fetched: &Fetched, page: &Url) -> Vec<String> {
    let kind = fetched.content_type.as_str();
    if kind.starts_with("text/html") {
        html_links(&String::from_utf8_lossy(&fetched.body))
    } else if kind.contains("rss+xml") || kind.contains("atom+xml") || kind.contains("feed+json") {
        feed_links(&fetched.body, page)
    } else {
        Vec::new()
    }
}

/// Every link, enclosure and image of a feed, and the links in its entries' content.
fn feed_links(body: &[u8], page: &Url) -> Vec<String> {
    let feed =
        feed_rs::parser::parse(body).unwrap_or_else(|e| panic!("{page} does not parse: {e}"));
    let mut out: Vec<String> = feed.links.iter().map(|l| l.href.clone()).collect();
    out.extend(feed.logo.iter().chain(&feed.icon).map(|i| i.uri.clone()));
    for entry in &feed.entries {
        out.extend(entry.links.iter().map(|l| l.href.clone()));
        for media in &entry.media {
            out.extend(
                media
                    .content
                    .iter()
                    .filter_map(|c| c.url.as_ref())
                    .map(|u| u.to_string()),
            );
            out.extend(media.thumbnails.iter().map(|t| t.image.uri.clone()));
            out.extend(media.transcripts.iter().map(|t| t.url.to_string()));
        }
        if let Some(content) = entry.content.as_ref().and_then(|c| c.body.as_deref()) {
            out.extend(html_links(content));
        }
        if let Some(summary) = &entry.summary {
            out.extend(html_links(&summary.content));
        }
    }
    // feed-rs drops a JSON Feed's images: read them with serde_json.
    if let Ok(json) = serde_json::from_slice::<serde_json::Value>(body) {
        for item in json["items"].as_array().into_iter().flatten() {
            for key in ["image", "banner_image"] {
                out.extend(item[key].as_str().map(str::to_string));
            }
        }
    }
    out
}

/// Every `href`, `src` and `poster` of an HTML document or fragment.
pub fn html_links(html: &str) -> Vec<String> {
    let tokenizer = Tokenizer::new(Attributes::default(), TokenizerOpts::default());
    let queue = BufferQueue::default();
    queue.push_back(StrTendril::from(html));
    let _ = tokenizer.feed(&queue);
    tokenizer.end();
    tokenizer.sink.found.take()
}

#[derive(Default)]
struct Attributes {
    found: RefCell<Vec<String>>,
}

impl TokenSink for Attributes {
    type Handle = ();

    fn process_token(&self, token: Token, _line: u64) -> TokenSinkResult<()> {
        if let Token::TagToken(tag) = token {
            if tag.kind == TagKind::StartTag {
                let urls = tag
                    .attrs
                    .iter()
                    .filter(|a| matches!(&*a.name.local, "href" | "src" | "poster"));
                self.found
                    .borrow_mut()
                    .extend(urls.map(|a| a.value.to_string()));
            }
        }
        TokenSinkResult::Continue
    }
}
