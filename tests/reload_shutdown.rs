//! Operating the real binary with signals:
//!
//! - SIGHUP re-reads the config (a new title shows in the feeds) without dropping an open
//!   keep-alive connection; a broken config is refused, the old one keeps serving, and
//!   `/status` (on the admin listener) names the refusal until a reload succeeds;
//! - SIGTERM stops the server cleanly (exit status 0) within a few seconds;
//! - a posts folder named by a relative path (`--posts posts`, as the README runs it) is
//!   watched: a new post appears (regression: events name absolute paths, which never
//!   matched the relative root, so nothing was ever rebuilt).

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Kills the child if the test panics.
struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn signal(child: &Child, signal: libc::c_int) {
    // SAFETY: sending a signal to our own child process by pid.
    let result = unsafe { libc::kill(child.id() as libc::pid_t, signal) };
    assert_eq!(result, 0);
}

/// One GET over an existing HTTP/1.1 connection: (status line, body).
fn get(reader: &mut BufReader<TcpStream>, path: &str) -> (String, String) {
    write!(
        reader.get_mut(),
        "GET {path} HTTP/1.1\r\nHost: test\r\n\r\n"
    )
    .unwrap();
    let mut status = String::new();
    reader.read_line(&mut status).unwrap();
    let mut length = 0;
    loop {
        let mut line = String::new();
        reader.read_line(&mut line).unwrap();
        if line == "\r\n" || line.is_empty() {
            break;
        }
        if let Some(value) = line.to_ascii_lowercase().strip_prefix("content-length:") {
            length = value.trim().parse().unwrap();
        }
    }
    let mut body = vec![0; length];
    reader.read_exact(&mut body).unwrap();
    (status.trim().to_string(), String::from_utf8(body).unwrap())
}

fn start(dir: &std::path::Path, port: u16, admin: u16) -> Server {
    let child = Command::new(env!("CARGO_BIN_EXE_dropfeed"))
        .args(["serve", "--posts"])
        .arg(dir.join("posts"))
        .args(["--listen", &format!("127.0.0.1:{port}")])
        .args(["--admin-listen", &format!("127.0.0.1:{admin}")])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    until_ready(port);
    Server(child)
}

/// Waits until the server on `port` has published its first snapshot: it listens first
/// (answering 503 "starting" meanwhile), and is ready once `/healthz` says ok.
fn until_ready(port: u16) {
    let deadline = Instant::now() + Duration::from_secs(10);
    let ready = || {
        let stream = TcpStream::connect(("127.0.0.1", port)).ok()?;
        Some(get(&mut BufReader::new(stream), "/healthz").1 == "ok\n")
    };
    while ready() != Some(true) {
        assert!(Instant::now() < deadline, "server did not start");
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn sighup_reloads_config_without_dropping_connections() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("posts")).unwrap();
    std::fs::write(
        dir.path().join("posts/a.md"),
        "---\ntitle: A\ndate: 2025-01-01\n---\nText.\n",
    )
    .unwrap();
    let config = dir.path().join("dropfeed.toml");
    std::fs::write(&config, "title = \"Before\"\n").unwrap();
    let (port, admin) = (free_port(), free_port());
    let server = start(dir.path(), port, admin);
    let mut connection = BufReader::new(TcpStream::connect(("127.0.0.1", port)).unwrap());
    let mut admin = BufReader::new(TcpStream::connect(("127.0.0.1", admin)).unwrap());
    let (status, body) = get(&mut connection, "/atom.xml");
    assert_eq!(status, "HTTP/1.1 200 OK");
    assert!(
        feed_rs::parser::parse(body.as_bytes())
            .unwrap()
            .title
            .unwrap()
            .content
            == "Before"
    );

    // A broken config is refused; the old one keeps serving, and /status says why.
    std::fs::write(&config, "title = \"Broken\"\ntitel = 1\n").unwrap();
    signal(&server.0, libc::SIGHUP);
    let refusal = until_status(&mut admin, |status| config_notes(status).next().is_some());
    let note = config_notes(&refusal).next().unwrap().to_string();
    assert!(
        note.contains("not reloaded") && note.contains("titel"),
        "{note}"
    );
    let (_, body) = get(&mut connection, "/atom.xml");
    assert!(body.contains("<title>Before</title>"), "{body}");

    std::fs::write(&config, "title = \"After\"\n").unwrap();
    signal(&server.0, libc::SIGHUP);
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        // The same connection, kept alive across the reload.
        let (status, body) = get(&mut connection, "/atom.xml");
        assert_eq!(status, "HTTP/1.1 200 OK");
        let title = feed_rs::parser::parse(body.as_bytes())
            .unwrap()
            .title
            .unwrap()
            .content;
        if title == "After" {
            break;
        }
        assert!(Instant::now() < deadline, "title still {title}");
        std::thread::sleep(Duration::from_millis(20));
    }
    // The refusal is no longer reported once a reload succeeds.
    until_status(&mut admin, |status| config_notes(status).next().is_none());
}

/// Site-wide `/status` messages about a refused configuration reload.
fn config_notes(status: &serde_json::Value) -> impl Iterator<Item = &str> {
    status["site"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|d| d["file"] == "config")
        .filter_map(|d| d["message"].as_str())
        .filter(|m| m.contains("not reloaded"))
}

/// Polls `/status?format=json` on a connection until `done` holds (10 s at most).
fn until_status(
    connection: &mut BufReader<TcpStream>,
    done: impl Fn(&serde_json::Value) -> bool,
) -> serde_json::Value {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let (_, body) = get(connection, "/status?format=json");
        let status: serde_json::Value = serde_json::from_str(&body).unwrap();
        if done(&status) {
            return status;
        }
        assert!(
            Instant::now() < deadline,
            "/status never changed: {status:#}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn sigterm_stops_cleanly() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("posts")).unwrap();
    std::fs::write(dir.path().join("posts/a.md"), "# A\n\nText.\n").unwrap();
    let port = free_port();
    let mut server = start(dir.path(), port, free_port());
    let mut connection = BufReader::new(TcpStream::connect(("127.0.0.1", port)).unwrap());
    assert_eq!(get(&mut connection, "/feed.xml").0, "HTTP/1.1 200 OK");
    drop(connection);
    signal(&server.0, libc::SIGTERM);
    let deadline = Instant::now() + Duration::from_secs(15);
    let status = loop {
        if let Some(status) = server.0.try_wait().unwrap() {
            break status;
        }
        assert!(
            Instant::now() < deadline,
            "server did not stop after SIGTERM"
        );
        std::thread::sleep(Duration::from_millis(20));
    };
    assert!(status.success(), "{status:?}");
    let mut log = String::new();
    server
        .0
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut log)
        .unwrap();
    assert!(log.contains("stopped"), "{log}");
}

#[test]
fn relative_posts_folder_is_watched() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("posts")).unwrap();
    std::fs::write(dir.path().join("posts/a.md"), "# First\n\nText.\n").unwrap();
    let port = free_port();
    let child = Command::new(env!("CARGO_BIN_EXE_dropfeed"))
        .current_dir(dir.path())
        .args([
            "serve",
            "--posts",
            "posts",
            "--listen",
            &format!("127.0.0.1:{port}"),
            "--admin-listen",
            "off",
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let _server = Server(child);
    until_ready(port);
    let deadline = Instant::now() + Duration::from_secs(10);
    std::fs::write(dir.path().join("posts/b.md"), "# Second\n\nMore.\n").unwrap();
    let mut connection = BufReader::new(TcpStream::connect(("127.0.0.1", port)).unwrap());
    loop {
        let (_, body) = get(&mut connection, "/atom.xml");
        let feed = feed_rs::parser::parse(body.as_bytes()).unwrap();
        if feed.entries.len() == 2 {
            break;
        }
        assert!(Instant::now() < deadline, "the new post never appeared");
        std::thread::sleep(Duration::from_millis(20));
    }
}
