//! `dropfeed healthcheck`, as a container engine runs it:
//!
//! - exit 0 against a serving `dropfeed` (URL given; or none, from `DROPFEED_LISTEN`, with
//!   `0.0.0.0` asked on loopback);
//! - exit 1, with the reason on stderr, for a `404`, a refused connection, and a server
//!   that accepts but never answers (within its `--timeout`: the check itself never hangs).

mod common;

use std::process::{Output, Stdio};
use std::time::{Duration, Instant};

use common::process::{dropfeed, free_addr, Process};

fn healthcheck(args: &[&str], env: &[(&str, String)]) -> Output {
    dropfeed()
        .arg("healthcheck")
        .args(args)
        .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
        .stderr(Stdio::piped())
        .output()
        .expect("dropfeed healthcheck runs")
}

#[test]
fn healthy_server_exits_zero() {
    let dir = tempfile::tempdir().expect("tempdir");
    let posts = dir.path().join("posts");
    std::fs::create_dir(&posts).expect("posts");
    let server = Process::serve(&posts, &[], &dir.path().join("stderr.log"), |_| {});
    let url = format!("http://{}/healthz", server.addr);
    let given = healthcheck(&[&url], &[]);
    assert!(given.status.success(), "{given:?}");
    let from_env = healthcheck(&[], &[("DROPFEED_LISTEN", server.addr.to_string())]);
    assert!(from_env.status.success(), "{from_env:?}");
    let any = format!("0.0.0.0:{}", server.addr.port());
    let unspecified = healthcheck(&["--listen", &any], &[]);
    assert!(unspecified.status.success(), "{unspecified:?}");
    let missing = healthcheck(&[&format!("http://{}/no-such-page", server.addr)], &[]);
    assert_eq!(missing.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&missing.stderr).contains("answered 404"));
}

#[test]
fn refused_connection_exits_one() {
    let addr = free_addr(); // nothing listens there now
    let out = healthcheck(&[&format!("http://{addr}/healthz")], &[]);
    assert_eq!(out.status.code(), Some(1), "{out:?}");
}

#[test]
fn silent_server_exits_one_within_the_timeout() {
    // Accepts (the kernel completes the handshake) and never answers.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("addr");
    let started = Instant::now();
    let out = healthcheck(
        &[&format!("http://{addr}/healthz"), "--timeout", "0.5"],
        &[],
    );
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("no answer within"), "{stderr}");
    // Generous: this says the check returns at all, not how fast.
    assert!(started.elapsed() < Duration::from_secs(30));
    drop(listener);
}
