//! Replicas sharing one posts folder share its id ledger (issue 14). Two `dropfeed serve`
//! processes over the same folder, posts added and their titles edited from two sides at
//! once (each edit appends a ledger line, so both processes compact the file as well):
//!
//! - both serve every post under the same id (read from their Atom feeds with feed-rs);
//! - after both stop and one starts again with another `base_url` (so any id it had to
//!   issue anew would carry the new host), every post keeps the id both served: no
//!   interleaving of the two processes' appends and compactions lost or changed one.

mod common;

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::Path;
use std::time::{Duration, Instant};

use common::feeds::feed_rs;
use common::process::{http_get, Process};

/// Posts each side adds.
const PER_SIDE: usize = 40;
/// Title edits per post after it was added.
const EDITS: usize = 2;
/// Posts there before the servers start.
const BEFORE: usize = 5;
/// How long both servers may take to show every post.
const DEADLINE: Duration = Duration::from_secs(90);

fn config(dir: &Path, name: &str, host: &str) -> String {
    let path = dir.join(name);
    // Every post in the subscription feed.
    let text = format!("base_url = \"https://{host}/\"\nfeed_limit = 500\n");
    std::fs::write(&path, text).expect("write config");
    path.to_str().expect("UTF-8 path").to_string()
}

fn post(posts: &Path, name: &str, day: usize, version: usize) {
    let text = format!(
        "---\ntitle: Post {name} v{version}\ndate: 2024-{:02}-{:02}\n---\nAbout {name}.\n",
        1 + day % 12,
        1 + day % 28
    );
    // Written beside, then renamed in: the server never reads half a post.
    let hidden = posts.join(format!(".{name}.tmp"));
    std::fs::write(&hidden, text).expect("write post");
    std::fs::rename(&hidden, posts.join(format!("{name}.md"))).expect("rename post");
}

/// Every entry of the server's Atom feed: its post's slug → (id, title).
fn ids(addr: SocketAddr) -> BTreeMap<String, (String, String)> {
    let Ok((200, body)) = http_get(addr, "/atom.xml") else {
        return BTreeMap::new();
    };
    feed_rs(&body, "atom.xml")
        .entries
        .into_iter()
        .map(|e| {
            let link = e.links.first().map(|l| l.href.as_str()).unwrap_or_default();
            let slug = link
                .rsplit("/posts/")
                .next()
                .unwrap_or_default()
                .to_string();
            (slug, (e.id, e.title.map(|t| t.content).unwrap_or_default()))
        })
        .collect()
}

/// Waits until the server shows `count` posts in their last version, then returns them.
fn all_ids(server: &Process, count: usize) -> BTreeMap<String, (String, String)> {
    let deadline = Instant::now() + DEADLINE;
    let last = format!(" v{EDITS}");
    loop {
        let seen = ids(server.addr);
        let edited = |title: &String| title.starts_with("Post before") || title.ends_with(&last);
        if seen.len() == count && seen.values().all(|(_, title)| edited(title)) {
            return seen;
        }
        assert!(
            Instant::now() < deadline,
            "{} of {count} posts shown:\n{}",
            seen.len(),
            server.log_text()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn two_replicas_adding_posts_at_once_never_lose_or_change_an_id() {
    let dir = tempfile::tempdir().expect("tempdir");
    let posts = dir.path().join("posts");
    std::fs::create_dir_all(&posts).expect("mkdir posts");
    for i in 0..BEFORE {
        post(&posts, &format!("before-{i}"), i, 0);
    }
    let first_config = config(dir.path(), "first.toml", "feeds.example.org");
    let args = ["--config", first_config.as_str()];
    let mut first = Process::serve(&posts, &args, &dir.path().join("a.log"), |_| {});
    let mut second = Process::serve(&posts, &args, &dir.path().join("b.log"), |_| {});
    std::thread::scope(|scope| {
        for side in ["left", "right"] {
            let posts = &posts;
            scope.spawn(move || {
                for version in 0..=EDITS {
                    for i in 0..PER_SIDE {
                        post(posts, &format!("{side}-{i}"), i, version);
                        std::thread::sleep(Duration::from_millis(3 * (i as u64 % 4)));
                    }
                }
            });
        }
    });
    let count = BEFORE + 2 * PER_SIDE;
    let by_first = all_ids(&first, count);
    let by_second = all_ids(&second, count);
    assert_eq!(by_first, by_second, "both replicas serve the same ids");
    assert!(by_first
        .values()
        .all(|(id, _)| id.contains("feeds.example.org")));
    first.terminate();
    second.terminate();
    // Every edit appended a line: had the file never been compacted, it would hold them all.
    let ledger = std::fs::read_to_string(posts.join(".dropfeed/ids.tsv")).expect("the ledger");
    let lines = ledger.lines().filter(|l| !l.starts_with('#')).count();
    assert!(
        lines < BEFORE + 2 * PER_SIDE * (EDITS + 1),
        "{lines} lines: never compacted"
    );

    let moved_config = config(dir.path(), "moved.toml", "moved.example.net");
    let args = ["--config", moved_config.as_str()];
    let mut again = Process::serve(&posts, &args, &dir.path().join("c.log"), |_| {});
    let after = all_ids(&again, count);
    assert_eq!(after, by_first, "every id survived the restart");
    again.terminate();
}
