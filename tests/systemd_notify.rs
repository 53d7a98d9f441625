//! `Type=notify` readiness, as systemd sees it: the test binds the datagram socket systemd
//! would, runs `dropfeed serve` with `NOTIFY_SOCKET` naming it, and reads what arrives:
//!
//! - `READY=1` once the first snapshot is served;
//! - on SIGHUP, `RELOADING=1` with `MONOTONIC_USEC` (a time on this machine's monotonic
//!   clock, not after the signal was sent), then `READY=1` when the reload is done — also
//!   when the new config is refused (the old one stays, and the status says so);
//! - on SIGTERM, `STOPPING=1`, and the process exits 0;
//! - the same with an abstract socket name (`@name`), as systemd uses.

mod common;

use std::os::unix::net::UnixDatagram;
use std::path::Path;
use std::time::Duration;

use common::process::Process;

/// A site with one post, and the path of its (empty) config file.
fn site(dir: &Path) -> std::path::PathBuf {
    let posts = dir.join("posts");
    std::fs::create_dir(&posts).expect("posts");
    std::fs::write(posts.join("a.md"), "# A\n\nText.\n").expect("a.md");
    std::fs::write(dir.join("dropfeed.toml"), "").expect("dropfeed.toml");
    posts
}

/// The next notification, as text (failing after 30 s).
fn next(socket: &UnixDatagram) -> String {
    let mut buf = [0u8; 4096];
    let n = socket.recv(&mut buf).expect("a notification within 30 s");
    String::from_utf8(buf[..n].to_vec()).expect("UTF-8 notification")
}

/// `KEY`'s value in a notification.
fn field<'a>(message: &'a str, key: &str) -> Option<&'a str> {
    message
        .lines()
        .find_map(|l| l.strip_prefix(key)?.strip_prefix('='))
}

fn monotonic_usec() -> u64 {
    let mut now = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: clock_gettime writes one timespec into the value given.
    assert_eq!(
        unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut now) },
        0
    );
    now.tv_sec as u64 * 1_000_000 + now.tv_nsec as u64 / 1_000
}

#[test]
fn ready_reloading_ready_stopping() {
    let dir = tempfile::tempdir().expect("tempdir");
    let posts = site(dir.path());
    let path = dir.path().join("notify.sock");
    let socket = UnixDatagram::bind(&path).expect("bind the notify socket");
    socket
        .set_read_timeout(Some(Duration::from_secs(30)))
        .expect("timeout");
    let mut server = Process::serve(&posts, &[], &dir.path().join("stderr.log"), |c| {
        c.env("NOTIFY_SOCKET", &path);
    });
    let ready = next(&socket);
    assert_eq!(field(&ready, "READY"), Some("1"), "{ready}");
    assert!(
        field(&ready, "STATUS").is_some_and(|s| s.contains("serving 1 posts")),
        "{ready}"
    );

    let signalled = monotonic_usec();
    server.signal(libc::SIGHUP);
    let reloading = next(&socket);
    assert_eq!(field(&reloading, "RELOADING"), Some("1"), "{reloading}");
    let stamp: u64 = field(&reloading, "MONOTONIC_USEC")
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("no MONOTONIC_USEC: {reloading}"));
    assert!(
        stamp >= signalled && stamp <= monotonic_usec(),
        "{stamp} vs {signalled}"
    );
    let reloaded = next(&socket);
    assert_eq!(field(&reloaded, "READY"), Some("1"), "{reloaded}");

    // A config with an error: refused, and systemd still hears that the reload is over.
    std::fs::write(dir.path().join("dropfeed.toml"), "feed_limit = 0\n").expect("break");
    server.signal(libc::SIGHUP);
    assert_eq!(field(&next(&socket), "RELOADING"), Some("1"));
    let refused = next(&socket);
    assert_eq!(field(&refused, "READY"), Some("1"), "{refused}");
    assert!(
        field(&refused, "STATUS").is_some_and(|s| s.contains("not reloaded")),
        "{refused}"
    );

    let exit = server.terminate();
    let stopping = next(&socket);
    assert_eq!(field(&stopping, "STOPPING"), Some("1"), "{stopping}");
    assert!(exit.success(), "{exit:?}\n{}", server.log_text());
}

#[cfg(target_os = "linux")]
#[test]
fn abstract_socket_names_work_too() {
    use std::os::linux::net::SocketAddrExt;
    let dir = tempfile::tempdir().expect("tempdir");
    let posts = site(dir.path());
    let name = format!("dropfeed-notify-test-{}", std::process::id());
    let addr = std::os::unix::net::SocketAddr::from_abstract_name(name.as_bytes()).expect("name");
    let socket = UnixDatagram::bind_addr(&addr).expect("bind the abstract socket");
    socket
        .set_read_timeout(Some(Duration::from_secs(30)))
        .expect("timeout");
    let mut server = Process::serve(&posts, &[], &dir.path().join("stderr.log"), |c| {
        c.env("NOTIFY_SOCKET", format!("@{name}"));
    });
    assert_eq!(field(&next(&socket), "READY"), Some("1"));
    assert!(server.terminate().success());
    assert_eq!(field(&next(&socket), "STOPPING"), Some("1"));
}
