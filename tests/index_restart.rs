//! The persistent index (`posts/.dropfeed/index`) is a cache: restarts of the real binary
//! over the same posts folder show that
//!
//! - deleting or damaging it (cut short, a byte flipped, garbage, empty, a folder in its
//!   place, an older format) changes no byte of any route a reader can reach (pages, feeds,
//!   archive and tag pages, `/files/`), nor any header but `Date`: every one is read again
//!   from the posts, and the log says why the index was not used;
//! - a sound index is used: a post whose bytes changed with its size, time and inode kept
//!   is served as recorded (nothing opened it);
//! - a post edited while the server was down (a new time; or replaced by a rename with size
//!   and time kept) is read again, a post deleted is gone, a post added appears;
//! - a configuration that parses differently (another time zone) discards it;
//! - what changed while serving is in the index the next start reads.

mod common;

use std::fs;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime};

use bytes::Bytes;
use common::crawl::{crawl, Fetched, Site};
use common::process::Process;
use common::sites::{generate, put};
use url::Url;

const BASE: &str = "https://example.org/";
const DEADLINE: Duration = Duration::from_secs(60);

/// One response: status, head without its `Date` line (the only header that may differ
/// between two runs serving the same bytes), and body as received.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Reply {
    status: u16,
    head: String,
    body: Vec<u8>,
}

/// `GET path` on a fresh connection (`Connection: close`), within 5 s.
fn get(addr: SocketAddr, path: &str) -> Reply {
    let mut stream = TcpStream::connect_timeout(&addr, Duration::from_secs(5)).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(5)))
        .expect("timeout");
    let request = format!("GET {path} HTTP/1.1\r\nHost: example.org\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).expect("send");
    let mut response = Vec::new();
    stream.read_to_end(&mut response).expect("receive");
    let split = response
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("end of head");
    let head = String::from_utf8_lossy(&response[..split]);
    let status = head.split(' ').nth(1).and_then(|s| s.parse().ok());
    let head: Vec<&str> = head
        .lines()
        .filter(|l| !l.to_ascii_lowercase().starts_with("date:"))
        .collect();
    Reply {
        status: status.expect("a status"),
        head: head.join("\n"),
        body: response[split + 4..].to_vec(),
    }
}

/// A running binary, crawled like a reader's browser would.
struct Served<'a>(&'a Process);

impl Site for Served<'_> {
    fn origin(&self) -> Url {
        Url::parse(BASE).expect("base")
    }

    async fn fetch(&self, path: &str) -> Fetched {
        let reply = get(self.0.addr, &format!("/{path}"));
        let content_type = reply
            .head
            .lines()
            .find_map(|l| {
                let (name, value) = l.split_once(':')?;
                name.eq_ignore_ascii_case("content-type")
                    .then(|| value.trim().to_string())
            })
            .unwrap_or_default();
        Fetched {
            status: reply.status,
            content_type,
            body: Bytes::from(reply.body),
        }
    }
}

/// Every route a reader reaches from `/`, with what it answers.
async fn every_route(server: &Process) -> Vec<(String, Reply)> {
    let report = crawl(&Served(server)).await;
    report.assert_all_ok("the served site");
    report
        .fetched
        .keys()
        .map(|path| (path.clone(), get(server.addr, &format!("/{path}"))))
        .collect()
}

/// A folder holding `posts/` and the config, and the log files of each run.
struct Site0 {
    dir: tempfile::TempDir,
    runs: usize,
}

impl Site0 {
    fn new(posts: usize) -> Site0 {
        let dir = tempfile::tempdir().expect("tempdir");
        let site = Site0 { dir, runs: 0 };
        generate(&site.posts(), posts);
        put(
            &site.posts().join("notes/undated.md"),
            b"# Undated\n\nA post that gives no date: its file's time is its date.\n",
        );
        site.configure("Europe/Paris");
        site
    }

    fn posts(&self) -> PathBuf {
        self.dir.path().join("posts")
    }

    fn index(&self) -> PathBuf {
        self.posts().join(".dropfeed/index")
    }

    fn configure(&self, timezone: &str) {
        // Five entries a feed: whole archive pages and a second home page exist with the 55 posts of the crawl test.
        let config = format!("base_url = \"{BASE}\"\ntimezone = \"{timezone}\"\nfeed_limit = 5\n");
        fs::write(self.dir.path().join("dropfeed.toml"), config).expect("config");
    }

    /// Starts the binary over the folder; the index is written once the first build is
    /// published, in the background: wait for it so each run starts from a sound one.
    fn serve(&mut self) -> Process {
        self.runs += 1;
        let log = self.dir.path().join(format!("{}.log", self.runs));
        let config = self.dir.path().join("dropfeed.toml");
        let config = config.to_str().expect("UTF-8").to_string();
        Process::serve(&self.posts(), &["--config", &config], &log, |_| {})
    }
}

/// Stops a server and waits for the index it writes at a clean stop.
fn stop(mut server: Process, index: &Path) {
    assert!(server.terminate().success(), "{}", server.log_text());
    assert!(index.is_file(), "no index written:\n{}", server.log_text());
}

/// Waits until the server's log says something.
fn until_logged(server: &Process, text: &str) {
    let deadline = Instant::now() + DEADLINE;
    while !server.log_text().contains(text) {
        assert!(
            Instant::now() < deadline,
            "never logged {text:?}:\n{}",
            server.log_text()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// The ways an index is found damaged, each applied to a sound one.
fn damage(index: &Path, how: &str) {
    let bytes = fs::read(index).expect("an index");
    let damaged: Vec<u8> = match how {
        "deleted" => return fs::remove_file(index).expect("delete"),
        "a folder in its place" => {
            fs::remove_file(index).expect("delete");
            return fs::create_dir(index).expect("a folder");
        }
        "cut short" => bytes[..bytes.len() / 2].to_vec(),
        "empty" => Vec::new(),
        "a byte flipped" => {
            let mut bytes = bytes;
            let at = bytes.len() * 2 / 3;
            bytes[at] ^= 0x20;
            bytes
        }
        "garbage" => (0..bytes.len()).map(|i| (i * 131 % 251) as u8).collect(),
        "an older format" => {
            let mut bytes = bytes;
            bytes[16..20].copy_from_slice(&0u32.to_le_bytes());
            bytes
        }
        other => unreachable!("{other}"),
    };
    fs::write(index, damaged).expect("damage");
}

#[tokio::test(flavor = "multi_thread")]
async fn deleting_or_corrupting_the_index_changes_no_served_byte() {
    let mut site = Site0::new(55);
    let first = site.serve();
    let expected = every_route(&first).await;
    for prefix in ["posts/", "files/", "tags/", "archive/", "page/2/"] {
        assert!(
            expected.iter().any(|(path, _)| path.starts_with(prefix)),
            "no {prefix} route crawled: {:?}",
            expected.iter().map(|(p, _)| p).collect::<Vec<_>>()
        );
    }
    stop(first, &site.index());
    let sound = site.serve();
    until_logged(&sound, "posts restored from the index");
    assert!(sound.log_text().contains("read=0"), "{}", sound.log_text());
    assert_eq!(every_route(&sound).await, expected, "with a sound index");
    stop(sound, &site.index());
    for how in [
        "deleted",
        "cut short",
        "a byte flipped",
        "garbage",
        "empty",
        "an older format",
        "a folder in its place",
    ] {
        damage(&site.index(), how);
        let mut again = site.serve();
        until_logged(&again, "the index is not used");
        let routes = every_route(&again).await;
        for ((path, want), (got_path, got)) in expected.iter().zip(&routes) {
            assert_eq!(path, got_path, "index {how}");
            assert_eq!(want, got, "/{path} with the index {how}");
        }
        assert_eq!(routes.len(), expected.len(), "index {how}");
        if how == "a folder in its place" {
            assert!(again.terminate().success());
            fs::remove_dir(site.index()).expect("not ours to keep: a test's folder");
        } else {
            stop(again, &site.index());
        }
    }
}

/// A file's bytes replaced in place with its size and modification time kept.
fn rewrite_keeping_time(path: &Path, text: &str) {
    let modified = fs::metadata(path)
        .and_then(|m| m.modified())
        .expect("mtime");
    let file = fs::OpenOptions::new().write(true).open(path).expect("open");
    (&file).write_all(text.as_bytes()).expect("write");
    file.set_modified(modified).expect("set mtime");
}

/// The text of a post with a title, of a given length (so edits can keep the size).
fn post_text(title: &str, day: u32) -> String {
    format!(
        "---\ntitle: \"{title}\"\ndate: 2024-05-{day:02}\ntags: [kept]\n---\n\nAbout {title}.\n"
    )
}

fn atom(server: &Process) -> String {
    String::from_utf8(get(server.addr, "/atom.xml").body).expect("UTF-8")
}

#[tokio::test(flavor = "multi_thread")]
async fn a_sound_index_is_used_and_files_changed_while_down_are_read_again() {
    let mut site = Site0::new(4);
    let posts = site.posts();
    for (name, title, day) in [
        ("kept.md", "Kept AAAA", 1),
        ("edited.md", "Edited AA", 2),
        ("renamed.md", "Renamed A", 3),
        ("deleted.md", "Deleted A", 4),
    ] {
        fs::write(posts.join(name), post_text(title, day)).expect("post");
    }
    let first = site.serve();
    assert!(atom(&first).contains("Kept AAAA"));
    stop(first, &site.index());

    // Same size, time and inode: only the index can say what it held.
    rewrite_keeping_time(&posts.join("kept.md"), &post_text("Kept BBBB", 1));
    // Same size, a new time.
    let edited = posts.join("edited.md");
    fs::write(&edited, post_text("Edited BB", 2)).expect("edit");
    let later = SystemTime::now() + Duration::from_secs(5);
    fs::File::options()
        .write(true)
        .open(&edited)
        .and_then(|f| f.set_modified(later))
        .expect("touch");
    // Replaced by a rename, with size and time kept: only the inode differs.
    let renamed = posts.join("renamed.md");
    let time = fs::metadata(&renamed)
        .and_then(|m| m.modified())
        .expect("mtime");
    let replacement = site.dir.path().join("replacement.md");
    fs::write(&replacement, post_text("Renamed B", 3)).expect("replacement");
    fs::File::options()
        .write(true)
        .open(&replacement)
        .and_then(|f| f.set_modified(time))
        .expect("set mtime");
    fs::rename(&replacement, &renamed).expect("rename");
    fs::remove_file(posts.join("deleted.md")).expect("delete");
    fs::write(posts.join("added.md"), post_text("Added AAA", 5)).expect("add");

    let again = site.serve();
    let feed = atom(&again);
    assert!(
        feed.contains("Kept AAAA"),
        "the index was not used:\n{feed}"
    );
    assert!(!feed.contains("Kept BBBB"));
    for (gone, now) in [
        ("Edited AA", "Edited BB"),
        ("Renamed A", "Renamed B"),
        ("Deleted A", "Added AAA"),
    ] {
        assert!(!feed.contains(gone), "{gone} still served:\n{feed}");
        assert!(feed.contains(now), "{now} not served:\n{feed}");
    }
    stop(again, &site.index());
}

#[tokio::test(flavor = "multi_thread")]
async fn a_configuration_that_parses_differently_discards_the_index() {
    let mut site = Site0::new(4);
    let posts = site.posts();
    fs::write(
        posts.join("noon.md"),
        "---\ntitle: Noon\ndate: 2024-05-01 12:00\n---\n\nHi.\n",
    )
    .expect("post");
    let first = site.serve();
    assert!(
        atom(&first).contains("2024-05-01T12:00:00+02:00"),
        "{}",
        atom(&first)
    );
    stop(first, &site.index());
    site.configure("UTC");
    let again = site.serve();
    until_logged(&again, "the index is not used");
    let feed = atom(&again);
    assert!(feed.contains("2024-05-01T12:00:00+00:00"), "{feed}");
    stop(again, &site.index());
    let third = site.serve();
    until_logged(&third, "posts restored from the index");
    assert_eq!(atom(&third), feed);
    stop(third, &site.index());
}

#[tokio::test(flavor = "multi_thread")]
async fn a_post_added_while_serving_is_in_the_index_at_the_next_start() {
    let mut site = Site0::new(2);
    let first = site.serve();
    fs::write(site.posts().join("late.md"), post_text("Late AAAA", 6)).expect("add");
    let deadline = Instant::now() + DEADLINE;
    while !atom(&first).contains("Late AAAA") {
        assert!(Instant::now() < deadline, "{}", first.log_text());
        std::thread::sleep(Duration::from_millis(20));
    }
    stop(first, &site.index());
    let again = site.serve();
    until_logged(&again, "posts restored from the index");
    assert!(again.log_text().contains("read=0"), "{}", again.log_text());
    assert!(atom(&again).contains("Late AAAA"));
    stop(again, &site.index());
}
