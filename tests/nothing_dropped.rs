//! Nothing in the posts folder is dropped without a word:
//!
//! - a post whose file name is not UTF-8 is reported on `/status` and by `dropfeed check`
//!   (exit 1), not passed over in silence;
//! - a folder that becomes unreadable keeps its posts published (it used to look empty, so
//!   its posts were unpublished at the next rescan) and is reported as an error;
//! - a post being written slowly through one open file is published once, when it is
//!   closed, not at every pause of the writer.

mod common;

use std::io::Write;
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use common::server::{markdown_post, wait_until, Server, DEADLINE};
use common::skip::skipped;
use serde_json::Value;

/// Longer than several debounce periods (50 ms): what was not published by then was held.
const PAUSE: Duration = Duration::from_millis(400);

async fn status(server: &Server) -> Value {
    let (_, _, body) = server.admin_get("/status?format=json", &[]).await;
    serde_json::from_slice(&body).expect("/status?format=json is JSON")
}

/// The `/status` rows whose file ends with `suffix`.
fn rows<'a>(status: &'a Value, suffix: &str) -> Vec<&'a Value> {
    status["posts"]
        .as_array()
        .expect("status lists posts")
        .iter()
        .filter(|p| p["file"].as_str().is_some_and(|f| f.ends_with(suffix)))
        .collect()
}

fn check(posts: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_dropfeed"))
        .args(["check", "--posts"])
        .arg(posts)
        .output()
        .expect("run dropfeed check")
}

#[tokio::test(flavor = "multi_thread")]
async fn non_utf8_post_name_is_reported_not_silently_skipped() {
    use std::os::unix::ffi::OsStrExt;
    let server =
        Server::start(&[("a.md", &markdown_post("A", "2026-01-01T00:00:00Z", "Text."))]).await;
    let name = std::ffi::OsStr::from_bytes(b"caf\xe9.md");
    std::fs::write(
        server.posts_dir().join(name),
        markdown_post("Latin-1 name", "2026-01-02T00:00:00Z", "Text."),
    )
    .unwrap();
    let mut last = Value::Null;
    let reported = wait_until(DEADLINE, async || {
        last = status(&server).await;
        rows(&last, ".md")
            .iter()
            .any(|r| r["state"] == "skipped" && r["detail"].as_str().unwrap().contains("UTF-8"))
    })
    .await;
    assert!(reported, "/status does not report the name: {last:#}");
    let row = rows(&last, ".md")
        .into_iter()
        .find(|r| r["state"] == "skipped")
        .unwrap();
    assert_eq!(row["diagnostics"][0]["level"], "error", "{row:#}");

    let out = check(server.posts_dir());
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "check: {text}");
    assert!(text.contains("not valid UTF-8"), "check: {text}");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn slowly_written_post_appears_only_once_closed() {
    let server =
        Server::start(&[("a.md", &markdown_post("A", "2026-01-01T00:00:00Z", "Text."))]).await;
    let path = server.posts_dir().join("slow.md");
    let mut file = std::fs::File::create(&path).unwrap();
    let parts = [
        "---\ntitle: First draft title\n",
        "date: 2026-01-02T00:00:00Z\n---\n\nThe first paragraph.\n",
        "\nThe second paragraph, written after a pause.\n",
    ];
    for part in parts {
        file.write_all(part.as_bytes()).unwrap();
        file.flush().unwrap();
        tokio::time::sleep(PAUSE).await;
        let titles = server.titles("/atom.xml").await;
        assert_eq!(titles, ["A"], "published before the writer closed the file");
    }
    drop(file);
    let mut content = String::new();
    let complete = wait_until(DEADLINE, async || {
        let feed = server.feed("/atom.xml").await;
        content = feed
            .entries
            .iter()
            .find(|e| {
                e.title
                    .as_ref()
                    .is_some_and(|t| t.content == "First draft title")
            })
            .and_then(|e| e.content.as_ref()?.body.clone())
            .unwrap_or_default();
        content.contains("second paragraph")
    })
    .await;
    assert!(complete, "the whole post was not published: {content:?}");
    server.stop().await;
}

/// Runs a command as an unprivileged user when the tests run as root (root reads folders
/// whatever their permissions); `None` when that is not possible here.
fn unprivileged(program: &Path, owner_of: &Path) -> Option<Command> {
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } != 0 {
        return Some(Command::new(program));
    }
    let nobody = 65534;
    chown_tree(owner_of, nobody);
    let usable = Command::new("setpriv")
        .args(["--reuid=65534", "--regid=65534", "--clear-groups", "true"])
        .status()
        .is_ok_and(|s| s.success());
    if !usable {
        return None;
    }
    let mut command = Command::new("setpriv");
    command
        .args(["--reuid=65534", "--regid=65534", "--clear-groups"])
        .arg(program);
    Some(command)
}

fn chown_tree(path: &Path, uid: u32) {
    std::os::unix::fs::chown(path, Some(uid), Some(uid)).unwrap();
    if path.is_dir() {
        for entry in std::fs::read_dir(path).unwrap() {
            chown_tree(&entry.unwrap().path(), uid);
        }
    }
}

/// Kills the server if the test fails.
struct Child(std::process::Child);

impl Drop for Child {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn get(port: u16, path: &str) -> Option<String> {
    use std::io::Read;
    let mut stream = std::net::TcpStream::connect(("127.0.0.1", port)).ok()?;
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n"
    )
    .ok()?;
    let mut reply = String::new();
    stream.read_to_string(&mut reply).ok()?;
    Some(reply.split_once("\r\n\r\n")?.1.to_string())
}

fn until(what: &str, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while !done() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn unreadable_folder_keeps_its_posts_and_is_reported() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let posts = dir.path().join("posts");
    std::fs::create_dir_all(posts.join("sub")).unwrap();
    std::fs::write(
        posts.join("top.md"),
        markdown_post("Top", "2026-01-01T00:00:00Z", "Text."),
    )
    .unwrap();
    std::fs::write(
        posts.join("sub/inner.md"),
        markdown_post("Inner", "2026-01-02T00:00:00Z", "Text."),
    )
    .unwrap();
    // A rescan every second: the folder is walked again soon after it becomes unreadable.
    std::fs::write(
        dir.path().join("dropfeed.toml"),
        "[watch]\nrescan_secs = 1\n",
    )
    .unwrap();
    let binary = Path::new(env!("CARGO_BIN_EXE_dropfeed"));
    let Some(mut serve) = unprivileged(binary, dir.path()) else {
        skipped("setpriv cannot drop root here");
        return;
    };
    let free_port = || {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let (port, admin) = (free_port(), free_port());
    let _server = Child(
        serve
            .args(["serve", "--posts"])
            .arg(&posts)
            .args(["--listen", &format!("127.0.0.1:{port}")])
            .args(["--admin-listen", &format!("127.0.0.1:{admin}")])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let has_inner = || get(port, "/atom.xml").is_some_and(|feed| feed.contains("Inner"));
    until("the first feed", has_inner);

    std::fs::set_permissions(posts.join("sub"), std::fs::Permissions::from_mode(0o000)).unwrap();
    until("/status to report the folder", || {
        get(admin, "/status?format=json").is_some_and(|s| s.contains("cannot read this folder"))
    });
    assert!(has_inner(), "the unreadable folder's post was unpublished");

    let mut check = unprivileged(binary, dir.path()).unwrap();
    let out = check
        .args(["check", "--posts"])
        .arg(&posts)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "check: {text}");
    assert!(text.contains("cannot read this folder"), "check: {text}");

    // Readable again: the report goes away and the post is still there.
    std::fs::set_permissions(posts.join("sub"), std::fs::Permissions::from_mode(0o755)).unwrap();
    until("/status to drop the report", || {
        get(admin, "/status?format=json").is_some_and(|s| !s.contains("cannot read this folder"))
    });
    assert!(has_inner());
}

mod names {
    //! Every post file, whatever its name, is either read or reported: a property over
    //! generated folder layouts and names (UTF-8 of every kind, and bytes that are not UTF-8).

    use std::collections::BTreeSet;
    use std::ffi::OsStr;
    use std::os::unix::ffi::OsStrExt;
    use std::path::PathBuf;

    use dropfeed::config::Config;
    use dropfeed::load::Library;
    use proptest::prelude::*;

    /// Bytes a file name may hold: letters, spaces, punctuation, multi-byte UTF-8, and bytes
    /// that cannot start or continue UTF-8 here.
    fn name_bytes() -> impl Strategy<Value = Vec<u8>> {
        let piece = prop_oneof![
            "[a-z0-9 _-]{1,4}".prop_map(String::into_bytes),
            Just("é".as_bytes().to_vec()),
            Just("日本".as_bytes().to_vec()),
            Just(b"\xff".to_vec()),
            Just(b"\xe9".to_vec()),
            Just(b"\xc3".to_vec()),
        ];
        prop::collection::vec(piece, 1..4).prop_map(|p| p.concat())
    }

    fn layout() -> impl Strategy<Value = BTreeSet<(Option<Vec<u8>>, Vec<u8>)>> {
        let folder = prop::option::of(name_bytes());
        prop::collection::btree_set((folder, name_bytes()), 1..10)
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(48))]

        #[test]
        fn every_post_file_is_read_or_reported(layout in layout()) {
            let dir = tempfile::tempdir().unwrap();
            let root = dir.path().join("posts");
            std::fs::create_dir(&root).unwrap();
            let mut utf8_titles = BTreeSet::new();
            let mut unnamed = 0;
            let mut paths = Vec::new();
            for (i, (folder, name)) in layout.iter().enumerate() {
                let mut path = root.clone();
                if let Some(folder) = folder {
                    path.push(OsStr::from_bytes(folder));
                }
                std::fs::create_dir_all(&path).unwrap();
                let mut file = name.clone();
                file.extend_from_slice(b".md");
                path.push(OsStr::from_bytes(&file));
                if path.exists() {
                    continue; // a folder and a file of one name
                }
                let title = format!("Post {i}");
                let text = format!("---\ntitle: {title}\ndate: 2026-01-01\n---\nText.\n");
                std::fs::write(&path, text).unwrap();
                let readable = path.strip_prefix(&root).unwrap().to_str().is_some();
                if readable {
                    utf8_titles.insert(title);
                } else {
                    unnamed += 1;
                }
                paths.push(path);
            }
            let config = Config::parse(std::path::Path::new("t.toml"), "", None).unwrap();
            // The whole folder walked, and the same files named one by one by events.
            let mut scanned = Library::new(&root, &config);
            scanned.scan().unwrap();
            let mut refreshed = Library::new(&root, &config);
            refreshed.refresh(&paths.iter().map(PathBuf::from).collect::<Vec<_>>()).unwrap();
            for library in [&scanned, &refreshed] {
                let titles: BTreeSet<String> =
                    library.posts().iter().map(|p| p.title.clone()).collect();
                prop_assert_eq!(&titles, &utf8_titles);
                let reported = library.skipped.values().filter(|s| s.error).count();
                // Files below a folder whose name is not UTF-8 are reported with the folder.
                prop_assert!(reported >= unnamed.min(1) || unnamed == 0,
                    "{} unnamed files, {} reports: {:?}", unnamed, reported, library.skipped);
                prop_assert!(library.errors().is_empty());
            }
        }
    }
}
