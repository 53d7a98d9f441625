//! Issue 4, permanent identity: an entry's id (Atom `id`, RSS `guid`, JSON `id`) survives a
//! rename, a move into a subfolder, a title edit and a restart with another `base_url` host
//! and scheme; a new post gets a new id.
//!
//! The restart must reuse the very same posts folder (the ledger lives in
//! `<posts>/.dropfeed/ids.tsv`), which the harness's `Server` removes when it stops, so this
//! test starts `dropfeed::app::start` itself, exactly as the harness does.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::sync::Arc;

use bytes::Bytes;
use chrono::{DateTime, Utc};
use common::server::{markdown_post, wait_until, Reply, DEADLINE};
use dropfeed::app::{self, Running};
use dropfeed::config::Config;
use dropfeed::pipeline::SystemClock;
use http_body_util::{BodyExt, Full};
use hyper::StatusCode;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use serde_json::Value;

/// Publication date → id, in one format.
type Ids = BTreeMap<DateTime<Utc>, String>;

/// The ids of every entry, by format: RSS, Atom, JSON.
#[derive(Debug, Clone, PartialEq, Eq)]
struct AllIds {
    rss: Ids,
    atom: Ids,
    json: Ids,
}

impl AllIds {
    fn every_id(&self) -> Vec<&String> {
        self.rss
            .values()
            .chain(self.atom.values())
            .chain(self.json.values())
            .collect()
    }
}

/// One running service over a posts folder this test owns.
struct Instance {
    running: Running,
    client: Client<HttpConnector, Full<Bytes>>,
}

impl Instance {
    /// Starts the service over `posts`; `base_url` defaults to the bound address.
    async fn start(posts: &Path, toml: &str) -> Instance {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind 127.0.0.1:0");
        let base = format!("http://{}/", listener.local_addr().expect("local addr"));
        let config = Config::parse(Path::new("test.toml"), toml, Some(&base)).expect("config");
        let running = app::start(posts, Arc::new(config), Arc::new(SystemClock), listener)
            .await
            .expect("app starts");
        running.until_encoded().await;
        Instance {
            running,
            client: Client::builder(TokioExecutor::new()).build_http(),
        }
    }

    async fn get(&self, path: &str) -> Reply {
        let uri = format!("http://{}{path}", self.running.addr);
        let request = hyper::Request::get(&uri)
            .body(Full::new(Bytes::new()))
            .expect("request");
        let response = tokio::time::timeout(DEADLINE, self.client.request(request))
            .await
            .unwrap_or_else(|_| panic!("GET {path}: no answer within {DEADLINE:?}"))
            .unwrap_or_else(|e| panic!("GET {path}: {e}"));
        let (parts, body) = response.into_parts();
        let body = body.collect().await.expect("body").to_bytes();
        (parts.status, parts.headers, body)
    }

    async fn body(&self, path: &str) -> Bytes {
        let (status, _, body) = self.get(path).await;
        assert_eq!(status, StatusCode::OK, "GET {path}");
        body
    }

    async fn feed(&self, path: &str) -> feed_rs::model::Feed {
        let body = self.body(path).await;
        feed_rs::parser::parse(&body[..]).unwrap_or_else(|e| panic!("{path} does not parse: {e}"))
    }

    async fn json(&self) -> Value {
        serde_json::from_slice(&self.body("/feed.json").await).expect("/feed.json is JSON")
    }

    /// Every entry's id in every format, keyed by publication date.
    async fn ids(&self) -> AllIds {
        AllIds {
            rss: xml_ids(&self.feed("/feed.xml").await),
            atom: xml_ids(&self.feed("/atom.xml").await),
            json: json_ids(&self.json().await),
        }
    }

    /// Every link an entry carries, in every format.
    async fn links(&self) -> Vec<String> {
        let mut links = Vec::new();
        for path in ["/feed.xml", "/atom.xml"] {
            for entry in self.feed(path).await.entries {
                links.extend(entry.links.into_iter().map(|l| l.href));
            }
        }
        for item in items(&self.json().await) {
            links.push(item["url"].as_str().expect("item url").to_string());
        }
        links
    }

    async fn stop(self) {
        drop(self.client);
        self.running.stop().await.expect("server stops cleanly");
    }
}

fn xml_ids(feed: &feed_rs::model::Feed) -> Ids {
    feed.entries
        .iter()
        .map(|e| {
            let date = e
                .published
                .unwrap_or_else(|| panic!("{} has no date", e.id));
            (date, e.id.clone())
        })
        .collect()
}

fn items(json: &Value) -> &Vec<Value> {
    json["items"].as_array().expect("items array")
}

fn json_ids(json: &Value) -> Ids {
    items(json)
        .iter()
        .map(|item| {
            let date = item["date_published"].as_str().expect("date_published");
            let date = DateTime::parse_from_rfc3339(date)
                .expect("RFC 3339 date")
                .with_timezone(&Utc);
            (date, item["id"].as_str().expect("item id").to_string())
        })
        .collect()
}

fn ledger(posts: &Path) -> String {
    std::fs::read_to_string(posts.join(".dropfeed/ids.tsv")).unwrap_or_default()
}

fn post(title: &str, date: &str) -> String {
    markdown_post(title, date, &format!("The body of {title}."))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ids_survive_rename_move_edit_and_base_url_change() {
    let root = tempfile::tempdir().expect("tempdir");
    let posts = root.path().join("posts");
    std::fs::create_dir(&posts).expect("posts folder");
    let write = |name: &str, text: &str| {
        let path = posts.join(name);
        std::fs::create_dir_all(path.parent().expect("parent")).expect("parent folder");
        std::fs::write(path, text).expect("write post");
    };
    write("alpha.md", &post("Alpha", "2026-01-01T10:00:00Z"));
    write("beta.md", &post("Beta", "2026-01-02T10:00:00Z"));
    write("gamma.md", &post("Gamma", "2026-01-03T10:00:00Z"));

    let first = Instance::start(&posts, "").await;
    let original = first.ids().await;
    for ids in [&original.rss, &original.atom, &original.json] {
        assert_eq!(ids.len(), 3, "three entries in every format: {original:#?}");
    }
    let distinct: BTreeSet<&String> = original.rss.values().collect();
    assert_eq!(distinct.len(), 3, "three distinct ids: {original:#?}");
    assert!(
        wait_until(DEADLINE, async || ledger(&posts).contains("alpha.md")).await,
        "the ledger records issued ids:\n{}",
        ledger(&posts)
    );

    // Rename: the slug (and so the link) follows the file name; the id does not.
    std::fs::rename(posts.join("alpha.md"), posts.join("alpha-renamed.md")).expect("rename");
    assert!(
        wait_until(DEADLINE, async || {
            first.get("/posts/alpha-renamed/").await.0 == StatusCode::OK
        })
        .await,
        "the renamed post is served under its new slug"
    );
    assert_eq!(first.ids().await, original, "ids after a rename");

    // Move into a new subfolder: wait for the ledger to follow the file.
    std::fs::create_dir(posts.join("moved")).expect("subfolder");
    std::fs::rename(posts.join("beta.md"), posts.join("moved/beta.md")).expect("move");
    assert!(
        wait_until(DEADLINE, async || ledger(&posts).contains("moved/beta.md")).await,
        "the ledger records the moved file:\n{}",
        ledger(&posts)
    );
    assert!(
        wait_until(DEADLINE, async || first.ids().await == original).await,
        "ids after a move: {:#?} != {original:#?}",
        first.ids().await
    );
    // And they stay so once the rebuild has settled.
    let generation = first.running.snapshot.load().generation();
    assert_eq!(
        first.ids().await,
        original,
        "ids after a move (gen {generation})"
    );

    // Edit a title.
    write("gamma.md", &post("Gamma, retitled", "2026-01-03T10:00:00Z"));
    assert!(
        wait_until(DEADLINE, async || {
            let feed = first.feed("/atom.xml").await;
            feed.entries.iter().any(|e| {
                e.title
                    .as_ref()
                    .is_some_and(|t| t.content == "Gamma, retitled")
            })
        })
        .await,
        "the new title is served"
    );
    assert_eq!(first.ids().await, original, "ids after a title edit");
    first.stop().await;

    // Restart over the same folder with another host and scheme.
    let second = Instance::start(&posts, "base_url = \"https://other.example/\"\n").await;
    assert_eq!(
        second.ids().await,
        original,
        "ids after base_url moved to https://other.example/"
    );
    let links = second.links().await;
    assert!(!links.is_empty());
    for link in &links {
        assert!(
            link.starts_with("https://other.example/"),
            "links use the new base: {link}"
        );
    }

    // A new post gets a new id, in every format.
    write("delta.md", &post("Delta", "2026-01-04T10:00:00Z"));
    assert!(
        wait_until(DEADLINE, async || second.ids().await.rss.len() == 4).await,
        "the new post is published"
    );
    let after = second.ids().await;
    let old = original.every_id();
    let pairs = [
        (&after.rss, &original.rss),
        (&after.atom, &original.atom),
        (&after.json, &original.json),
    ];
    for (ids, before) in pairs {
        assert_eq!(ids.len(), 4, "{after:#?}");
        let new = ids
            .iter()
            .find(|(date, _)| !before.contains_key(*date))
            .map(|(_, id)| id)
            .expect("an entry for the new post");
        assert!(!old.contains(&new), "the new post's id {new} is new");
        let kept: Ids = ids
            .iter()
            .filter(|(date, _)| before.contains_key(*date))
            .map(|(date, id)| (*date, id.clone()))
            .collect();
        assert_eq!(
            &kept, before,
            "old posts keep their ids once a new one is added"
        );
    }
    second.stop().await;
}
