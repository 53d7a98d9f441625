//! The shipped sample site (`posts/`), built and read back the way feed readers read it, by
//! parsers we did not write: feed-rs, Python feedparser, and serde_json for JSON Feed fields
//! feed-rs drops. Checks:
//!
//! - RSS, Atom and JSON Feed all parse (feedparser sees no bozo) and hold the six published
//!   posts, newest first, with their exact titles;
//! - the draft and the post dated 2099 appear in no feed and get no page;
//! - the Indonesian plain-text article keeps its exact title, its date and language `id`;
//! - the three formats carry the same ids, and a front-matter `id` wins;
//! - item links, the lead image and every `href`/`src` inside content are absolute;
//! - every feed document names its language and links to its own URL with `rel="self"`;
//! - every tag has feeds in all formats holding exactly the posts that carry that tag, and
//!   a page in the export (`tags/{slug}/index.html`, listed on `tags/index.html`) that its
//!   feeds name as their home;
//! - `dropfeed build` on a copy of the folder writes the three feeds, and they parse.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::process::Command;

use chrono::NaiveDate;
use common::feeds::{
    build_site, copy_posts, entry_link, feed_rs, feedparser, link_targets, sample_posts, Output,
    EXAMPLE_CONFIG, FEED_FILES,
};
use serde_json::Value;

const LAVROV_TITLE: &str =
    "Lavrov - Rusia masih memiliki kesempatan untuk mencapai konsensus tentang jaminan keamanan";

/// The published posts' titles, newest first.
const PUBLISHED_TITLES: [&str; 6] = [
    "Plain Text Is Enough",
    "Episode 1: Feeds Over Coffee",
    "Conditional Requests: Being Kind to Feed Readers",
    "Building the Pipeline: From Folder to Feed",
    "Why Feeds Still Matter",
    LAVROV_TITLE,
];

/// Titles and slugs of the posts that must stay unpublished (a draft; a post dated 2099).
const HELD: [(&str, &str); 2] = [
    ("Notes Towards a WebSub Hub", "websub-notes"),
    ("A Letter to Future Readers", "letter-to-future-readers"),
];

const CONDITIONAL_REQUESTS_ID: &str = "urn:uuid:3f1c2a4e-8d7b-4c61-9a0e-2b5d7c9e1f00";

/// Every tag of the published posts as authors wrote it, and the folder of its feeds. Tags
/// used only by held posts (`websub`, `archives`) must have no feeds.
const TAGS: [(&str, &str); 9] = [
    ("caching", "caching"),
    ("café", "cafe"),
    ("feeds", "feeds"),
    ("http", "http"),
    ("open-web", "open-web"),
    ("pipeline", "pipeline"),
    ("podcasts", "podcasts"),
    ("rust", "rust"),
    ("syndication", "syndication"),
];

fn sample() -> Output {
    build_site(&sample_posts(), EXAMPLE_CONFIG)
}

fn parse(out: &Output, route: &str) -> feed_rs::model::Feed {
    feed_rs(&out.bytes(route), route)
}

fn title(entry: &feed_rs::model::Entry) -> &str {
    entry.title.as_ref().map_or("", |t| t.content.as_str())
}

fn entry_titled<'a>(feed: &'a feed_rs::model::Feed, wanted: &str) -> &'a feed_rs::model::Entry {
    feed.entries
        .iter()
        .find(|e| title(e) == wanted)
        .unwrap_or_else(|| panic!("no entry titled {wanted:?}"))
}

/// Every feed document in the output (subscription feeds, tag feeds, archive pages).
fn feed_routes(out: &Output) -> Vec<String> {
    out.routes()
        .into_iter()
        .filter(|r| FEED_FILES.iter().any(|f| r.ends_with(f)))
        .collect()
}

/// feedparser's reading of some routes of the written export (empty when it is not installed).
fn feedparser_at(out: &Output, routes: &[&str]) -> Vec<Value> {
    let paths: Vec<_> = routes.iter().map(|r| out.path(r)).collect();
    feedparser(&paths.iter().map(|p| p.as_path()).collect::<Vec<_>>())
}

fn json(out: &Output, route: &str) -> Value {
    serde_json::from_slice(&out.bytes(route)).expect("feed.json is JSON")
}

#[test]
fn every_format_holds_the_six_published_posts_newest_first() {
    let out = sample();
    for file in FEED_FILES {
        let feed = parse(&out, file);
        let titles: Vec<&str> = feed.entries.iter().map(title).collect();
        assert_eq!(titles, PUBLISHED_TITLES, "{file}");
        let dates: Vec<_> = feed.entries.iter().map(|e| e.published).collect();
        assert!(dates.iter().all(Option::is_some), "{file}: {dates:?}");
        assert!(dates.windows(2).all(|w| w[0] >= w[1]), "{file}: {dates:?}");
    }
    let parsed = feedparser_at(&out, &FEED_FILES);
    for (result, version) in parsed.iter().zip(["rss20", "atom10", "json11"]) {
        assert_eq!(result["bozo"], false, "{result}");
        assert_eq!(result["version"], version);
        let titles: Vec<&str> = result["entries"]
            .as_array()
            .expect("entries")
            .iter()
            .map(|e| e["title"].as_str().unwrap_or(""))
            .collect();
        assert_eq!(titles, PUBLISHED_TITLES, "{}", result["path"]);
    }
}

#[test]
fn draft_and_future_post_appear_nowhere() {
    let out = sample();
    for route in feed_routes(&out) {
        for entry in parse(&out, &route).entries {
            for (held_title, held_slug) in HELD {
                assert_ne!(title(&entry), held_title, "{route}");
                assert!(
                    !entry_link(&entry).contains(held_slug),
                    "{route}: {}",
                    entry.id
                );
            }
        }
    }
    for route in out.routes() {
        for (_, held_slug) in HELD {
            assert!(!route.contains(held_slug), "page for a held post: {route}");
        }
    }
}

#[test]
fn indonesian_article_keeps_title_date_and_language() {
    let out = sample();
    let day = NaiveDate::from_ymd_opt(2022, 2, 14).expect("a date");
    for file in FEED_FILES {
        let feed = parse(&out, file);
        let entry = entry_titled(&feed, LAVROV_TITLE);
        let published = entry.published.expect("a publication date");
        assert_eq!(published.date_naive(), day, "{file}");
    }
    let atom = parse(&out, "atom.xml");
    for entry in &atom.entries {
        let expected = if title(entry) == LAVROV_TITLE {
            "id"
        } else {
            "en"
        };
        assert_eq!(
            entry.language.as_deref(),
            Some(expected),
            "{}",
            title(entry)
        );
    }
    for item in json(&out, "feed.json")["items"].as_array().expect("items") {
        let expected = if item["title"] == LAVROV_TITLE {
            "id"
        } else {
            "en"
        };
        assert_eq!(item["language"], expected, "{}", item["title"]);
    }
    for result in feedparser_at(&out, &["atom.xml", "feed.json"]) {
        let entries = result["entries"].as_array().expect("entries");
        let entry = entries
            .iter()
            .find(|e| e["title"] == LAVROV_TITLE)
            .unwrap_or_else(|| panic!("{}: no Lavrov entry", result["path"]));
        assert_eq!(entry["language"], "id", "{}", result["path"]);
        let published = entry["published"].as_str().unwrap_or("");
        assert!(published.starts_with("2022-02-14"), "{published}");
    }
}

#[test]
fn ids_agree_across_formats_and_front_matter_id_wins() {
    let out = sample();
    let mut id_sets = Vec::new();
    for file in FEED_FILES {
        let feed = parse(&out, file);
        let ids: BTreeSet<String> = feed.entries.iter().map(|e| e.id.clone()).collect();
        assert_eq!(ids.len(), PUBLISHED_TITLES.len(), "{file}: ids not unique");
        let conditional = entry_titled(&feed, PUBLISHED_TITLES[2]);
        assert_eq!(conditional.id, CONDITIONAL_REQUESTS_ID, "{file}");
        id_sets.push(ids);
    }
    assert_eq!(id_sets[0], id_sets[1], "RSS and Atom ids differ");
    assert_eq!(id_sets[1], id_sets[2], "Atom and JSON Feed ids differ");
    for result in feedparser_at(&out, &FEED_FILES) {
        let ids: BTreeSet<String> = result["entries"]
            .as_array()
            .expect("entries")
            .iter()
            .map(|e| e["id"].as_str().unwrap_or("").to_string())
            .collect();
        assert_eq!(ids, id_sets[0], "{}", result["path"]);
    }
}

#[test]
fn item_links_and_lead_image_are_absolute() {
    let out = sample();
    for file in FEED_FILES {
        let feed = parse(&out, file);
        let links: BTreeSet<&str> = feed.entries.iter().map(entry_link).collect();
        assert_eq!(links.len(), PUBLISHED_TITLES.len(), "{file}: {links:?}");
        for link in links {
            assert!(
                link.starts_with("https://example.org/posts/"),
                "{file}: {link}"
            );
        }
    }
    for result in feedparser_at(&out, &FEED_FILES) {
        for entry in result["entries"].as_array().expect("entries") {
            let link = entry["link"].as_str().unwrap_or("");
            assert!(link.starts_with("https://example.org/posts/"), "{link}");
        }
    }
    let feed = json(&out, "feed.json");
    let pipeline = feed["items"]
        .as_array()
        .expect("items")
        .iter()
        .find(|i| i["title"] == PUBLISHED_TITLES[3])
        .expect("the pipeline post");
    let image = pipeline["image"].as_str().expect("a lead image");
    // Beside the post in the posts folder, so published at its /files/ URL.
    assert_eq!(image, "https://example.org/files/images/pipeline.png");
}

#[test]
fn content_has_no_relative_urls() {
    let out = sample();
    let mut contents: Vec<(String, String)> = Vec::new();
    for file in FEED_FILES {
        for entry in parse(&out, file).entries {
            let body = entry.content.and_then(|c| c.body).unwrap_or_default();
            assert!(!body.is_empty(), "{file}: {} has no content", entry.id);
            contents.push((format!("{file} (feed-rs)"), body));
        }
    }
    for result in feedparser_at(&out, &FEED_FILES) {
        for entry in result["entries"].as_array().expect("entries") {
            let body = entry["content"].as_str().unwrap_or("").to_string();
            contents.push((format!("{} (feedparser)", result["path"]), body));
        }
    }
    let mut seen = 0;
    for (source, html) in &contents {
        for target in link_targets(html) {
            seen += 1;
            let absolute = ["http://", "https://", "mailto:"]
                .iter()
                .any(|scheme| target.starts_with(scheme));
            assert!(absolute, "{source}: relative URL {target:?}");
        }
    }
    // The pipeline post shows and links `images/pipeline.png`, and the conditional
    // requests post has footnotes: an empty scan would prove nothing.
    assert!(seen >= 3 * 3, "only {seen} href/src attributes found");
}

#[test]
fn every_feed_names_its_language_and_links_to_itself() {
    let out = sample();
    let routes = feed_routes(&out);
    for route in &routes {
        let feed = parse(&out, route);
        let url = format!("https://example.org/{route}");
        assert_eq!(feed.language.as_deref(), Some("en"), "{route}");
        if route.ends_with(".json") {
            assert_eq!(json(&out, route)["feed_url"], url.as_str());
        } else {
            let selves: Vec<&str> = feed
                .links
                .iter()
                .filter(|l| l.rel.as_deref() == Some("self"))
                .map(|l| l.href.as_str())
                .collect();
            assert_eq!(selves, [url.as_str()], "{route}");
        }
    }
    let parsed = feedparser_at(&out, &routes.iter().map(String::as_str).collect::<Vec<_>>());
    for (result, route) in parsed.iter().zip(&routes) {
        assert_eq!(result["bozo"], false, "{result}");
        assert_eq!(result["language"], "en", "{route}");
        let selves: Vec<&Value> = result["links"]
            .as_array()
            .expect("links")
            .iter()
            .filter(|l| l["rel"] == "self")
            .map(|l| &l["href"])
            .collect();
        assert_eq!(
            selves,
            [&Value::from(format!("https://example.org/{route}"))]
        );
    }
}

#[test]
fn every_tag_has_feeds_holding_exactly_its_posts() {
    let out = sample();
    let routes = out.routes();
    let tag_folders: BTreeSet<&str> = routes
        .iter()
        .filter_map(|r| r.strip_prefix("tags/")?.split('/').next())
        .filter(|slug| !slug.is_empty()) // `tags/` itself, the page listing them
        .collect();
    let expected_folders: BTreeSet<&str> = TAGS.iter().map(|(_, slug)| *slug).collect();
    assert_eq!(tag_folders, expected_folders);
    let index = std::fs::read_to_string(out.path("tags/index.html")).expect("the exported /tags/");
    for slug in &tag_folders {
        let page = format!("https://example.org/tags/{slug}/");
        assert!(
            index.contains(&format!("href=\"{page}\"")),
            "/tags/ links {page}"
        );
        assert!(
            out.path(&format!("tags/{slug}/index.html")).is_file(),
            "{page} is exported"
        );
        let home = feed_rs(&out.bytes(&format!("tags/{slug}/atom.xml")), "a tag feed");
        let alternate = home
            .links
            .iter()
            .find(|l| l.rel.as_deref() == Some("alternate"));
        assert_eq!(alternate.map(|l| l.href.as_str()), Some(page.as_str()));
    }
    for file in FEED_FILES {
        let all = parse(&out, file);
        let mut tagged: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
        for entry in &all.entries {
            for category in &entry.categories {
                tagged
                    .entry(category.term.as_str())
                    .or_default()
                    .insert(entry.id.as_str());
            }
        }
        let names: BTreeSet<&str> = TAGS.iter().map(|(name, _)| *name).collect();
        assert_eq!(
            tagged.keys().copied().collect::<BTreeSet<_>>(),
            names,
            "{file}"
        );
        for (name, slug) in TAGS {
            let route = format!("tags/{slug}/{file}");
            let feed = parse(&out, &route);
            let ids: BTreeSet<&str> = feed.entries.iter().map(|e| e.id.as_str()).collect();
            assert_eq!(ids, tagged[name], "{route}");
        }
    }
}

#[test]
fn build_command_writes_feeds_that_parse() {
    let (dir, posts) = copy_posts(&sample_posts());
    std::fs::write(dir.path().join("dropfeed.toml"), EXAMPLE_CONFIG).expect("write config");
    let out = dir.path().join("out");
    let result = Command::new(env!("CARGO_BIN_EXE_dropfeed"))
        .arg("build")
        .arg("--posts")
        .arg(&posts)
        .arg("--out")
        .arg(&out)
        .output()
        .expect("run dropfeed");
    assert!(
        result.status.success(),
        "dropfeed build failed: {}",
        String::from_utf8_lossy(&result.stderr)
    );
    for file in FEED_FILES {
        let bytes = std::fs::read(out.join(file)).unwrap_or_else(|e| panic!("{file}: {e}"));
        let feed = feed_rs(&bytes, file);
        let titles: Vec<&str> = feed.entries.iter().map(title).collect();
        assert_eq!(titles, PUBLISHED_TITLES, "{file}");
        let link = entry_link(&feed.entries[0]);
        assert!(link.starts_with("https://example.org/posts/"), "{link}");
    }
    let paths = FEED_FILES.map(|f| out.join(f));
    for result in feedparser(&paths.each_ref().map(|p| p.as_path())) {
        assert_eq!(result["bozo"], false, "{result}");
        assert_eq!(result["entries"].as_array().map(Vec::len), Some(6));
    }
    assert_gzip_sibling_matches(&out.join("atom.xml"));
}

/// A static host serves `atom.xml.gz` to clients that accept gzip: it must hold the same feed.
fn assert_gzip_sibling_matches(path: &Path) {
    use std::io::Read;
    let plain = std::fs::read(path).expect("the feed");
    let gz = std::fs::read(path.with_extension("xml.gz")).expect("a .gz sibling");
    let mut unzipped = Vec::new();
    flate2::read::GzDecoder::new(gz.as_slice())
        .read_to_end(&mut unzipped)
        .expect("valid gzip");
    assert!(unzipped == plain, "{}.gz differs from it", path.display());
}
