//! Issue 4, permanent identity: an entry's id (Atom `id`, RSS `guid`, JSON `id`) survives a
//! rename, a move into a subfolder, a title edit and a restart with another `base_url` host
//! and scheme; a new post gets a new id.
//!
//! Issue 13, trial runs do not fix ids: without `base_url` (the quick start) the ids carry
//! the listen address's host, are used but never recorded (the ledger holds no
//! `127.0.0.1`), hold across a rename within the run, and `/status` warns; a restart with a
//! `base_url` issues proper ids and records them, and they then survive another `base_url`;
//! a configuration reload that sets `base_url` does the same without a restart.
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
        let bind = async || {
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await;
            listener.expect("bind 127.0.0.1:0")
        };
        let (public, admin) = (bind().await, Some(bind().await));
        let base = format!("http://{}/", public.local_addr().expect("local addr"));
        let config = Config::parse(Path::new("test.toml"), toml, Some(&base)).expect("config");
        let listeners = app::Listeners { public, admin };
        let running = app::start(posts, Arc::new(config), Arc::new(SystemClock), listeners)
            .await
            .expect("app starts");
        running.until_encoded().await;
        Instance {
            running,
            client: Client::builder(TokioExecutor::new()).build_http(),
        }
    }

    async fn get(&self, path: &str) -> Reply {
        self.get_at(self.running.addr, path).await
    }

    /// The site-wide notes of `/status`, from the admin listener.
    async fn status_notes(&self) -> Vec<String> {
        let admin = self.running.admin_addr.expect("an admin listener");
        let (_, _, body) = self.get_at(admin, "/status?format=json").await;
        let status: Value = serde_json::from_slice(&body).expect("/status JSON");
        let notes = status["site"].as_array().cloned().unwrap_or_default();
        let messages = notes.iter().filter_map(|n| n["message"].as_str());
        messages.map(str::to_string).collect()
    }

    async fn get_at(&self, addr: std::net::SocketAddr, path: &str) -> Reply {
        let uri = format!("http://{addr}{path}");
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

    // Ids are recorded from the first run with a base_url (a run without one issues only
    // provisional ids: `trial_run_ids_are_provisional_until_base_url_is_set`).
    let first = Instance::start(&posts, "base_url = \"http://feeds.example.org/\"\n").await;
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

/// Every entry id of the Atom feed, sorted.
async fn atom_ids(instance: &Instance) -> Vec<String> {
    let mut ids: Vec<String> = xml_ids(&instance.feed("/atom.xml").await)
        .into_values()
        .collect();
    ids.sort();
    ids
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn trial_run_ids_are_provisional_until_base_url_is_set() {
    let root = tempfile::tempdir().expect("tempdir");
    let posts = root.path().join("posts");
    std::fs::create_dir(&posts).expect("posts folder");
    std::fs::write(
        posts.join("alpha.md"),
        post("Alpha", "2026-01-01T10:00:00Z"),
    )
    .expect("post");
    std::fs::write(posts.join("beta.md"), post("Beta", "2026-01-02T10:00:00Z")).expect("post");

    // The quick start: no config at all.
    let trial = Instance::start(&posts, "").await;
    let provisional = atom_ids(&trial).await;
    assert_eq!(provisional.len(), 2);
    assert!(
        provisional
            .iter()
            .all(|id| id.starts_with("tag:127.0.0.1,")),
        "{provisional:?}"
    );
    let notes = trial.status_notes().await;
    assert!(
        notes
            .iter()
            .any(|n| n.contains("base_url is not set") && n.contains("provisional")),
        "/status warns: {notes:?}"
    );
    // Within the run, a renamed post keeps its (provisional) id.
    std::fs::rename(posts.join("alpha.md"), posts.join("alpha-2.md")).expect("rename");
    let renamed = wait_until(DEADLINE, async || {
        trial.get("/posts/alpha-2/").await.0 == StatusCode::OK
    })
    .await;
    assert!(renamed, "the renamed post is served");
    assert_eq!(
        atom_ids(&trial).await,
        provisional,
        "ids within the trial run"
    );
    trial.stop().await;
    assert!(
        !ledger(&posts).contains("127.0.0.1") && !ledger(&posts).contains("alpha"),
        "nothing of the trial run is recorded:\n{}",
        ledger(&posts)
    );

    // The site gets its address: proper ids, recorded, no warning.
    let toml = "base_url = \"https://feeds.example.org/\"\n";
    let configured = Instance::start(&posts, toml).await;
    let permanent = atom_ids(&configured).await;
    assert_eq!(
        permanent,
        [
            "tag:feeds.example.org,2026-01-01:alpha-2",
            "tag:feeds.example.org,2026-01-02:beta"
        ]
    );
    assert!(
        wait_until(DEADLINE, async || ledger(&posts).contains("alpha-2.md")).await,
        "the ids are recorded:\n{}",
        ledger(&posts)
    );
    assert!(!ledger(&posts).contains("127.0.0.1"), "{}", ledger(&posts));
    let notes = configured.status_notes().await;
    assert!(
        !notes.iter().any(|n| n.contains("provisional")),
        "{notes:?}"
    );
    configured.stop().await;

    // From then on they are permanent: another base_url keeps them.
    let moved = Instance::start(&posts, "base_url = \"https://moved.example/\"\n").await;
    assert_eq!(atom_ids(&moved).await, permanent);
    moved.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reload_that_sets_base_url_issues_the_ids_for_good() {
    let root = tempfile::tempdir().expect("tempdir");
    let posts = root.path().join("posts");
    std::fs::create_dir(&posts).expect("posts folder");
    std::fs::write(
        posts.join("alpha.md"),
        post("Alpha", "2026-01-01T10:00:00Z"),
    )
    .expect("post");
    let trial = Instance::start(&posts, "").await;
    assert_eq!(atom_ids(&trial).await, ["tag:127.0.0.1,2026-01-01:alpha"]);

    let base = format!("http://{}/", trial.running.addr);
    let toml = "base_url = \"https://feeds.example.org/\"\n";
    let config = Config::parse(Path::new("test.toml"), toml, Some(&base)).expect("config");
    trial
        .running
        .notify(dropfeed::watch::Message::Reload(Arc::new(config)));
    let wanted = ["tag:feeds.example.org,2026-01-01:alpha".to_string()];
    let issued = wait_until(DEADLINE, async || atom_ids(&trial).await == wanted).await;
    assert!(issued, "ids after the reload: {:?}", atom_ids(&trial).await);
    let recorded = wait_until(DEADLINE, async || ledger(&posts).contains(&wanted[0])).await;
    assert!(recorded, "{}", ledger(&posts));
    assert!(!ledger(&posts).contains("127.0.0.1"), "{}", ledger(&posts));
    trial.stop().await;
}
