//! Issue 13, the admin listener: `/status` and `/metrics` are the operator's.
//!
//! - The public listener answers `/status` (any form) and `/metrics` exactly as it answers a
//!   route that never existed; the admin listener serves them, `/healthz`, and nothing else
//!   (`404` for the site's routes, `405` for other methods). `/healthz` is on both.
//! - With `[admin] token`, the admin listener answers `401` with `WWW-Authenticate: Bearer`
//!   to a request without the token or with a wrong one (any path, `/healthz` included),
//!   and serves a request with it (the scheme in any case); the public listener needs none.
//! - The real binary prints the admin address at start, listens where `[admin] listen` or
//!   `--admin-listen` says (the flag wins), serves no admin listener with `off`, and refuses
//!   to start, naming `--admin-listen`, when the admin address is taken.

mod common;

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::server::{header, markdown_post, Reply, Server};
use dropfeed::pipeline::SystemClock;
use hyper::{Method, StatusCode};

const TOKEN: &str = "Open-Sesame_42";

fn posts() -> Vec<(&'static str, String)> {
    vec![(
        "a.md",
        markdown_post("Published A", "2026-01-01T00:00:00Z", "Text."),
    )]
}

/// An answer without its `Date` header, for comparing two answers.
fn without_date((status, mut headers, body): Reply) -> Reply {
    headers.remove("date");
    (status, headers, body)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn status_and_metrics_answer_only_on_the_admin_listener() {
    let owned = posts();
    let files: Vec<(&str, &str)> = owned.iter().map(|(n, t)| (*n, t.as_str())).collect();
    let server = Server::start(&files).await;

    let never = without_date(server.get("/no-such-page", &[]).await);
    assert_eq!(never.0, StatusCode::NOT_FOUND);
    for path in [
        "/status",
        "/status?format=json",
        "/status/",
        "/metrics",
        "/metrics/",
    ] {
        let public = without_date(server.get(path, &[]).await);
        assert_eq!(
            public, never,
            "public {path} answers as a page that never existed"
        );
        let head = server.head(path, &[]).await;
        assert_eq!(head.0, StatusCode::NOT_FOUND, "public HEAD {path}");
    }
    let json = server
        .get("/status", &[("accept", "application/json")])
        .await;
    assert_eq!(json.0, StatusCode::NOT_FOUND, "public /status as JSON");

    let (status, headers, body) = server.admin_get("/status", &[]).await;
    assert_eq!(status, StatusCode::OK, "admin /status");
    assert!(header(&headers, "content-type").starts_with("text/html"));
    assert!(String::from_utf8_lossy(&body).contains("Published A"));
    let (status, headers, _) = server.admin_get("/status?format=json", &[]).await;
    assert_eq!(status, StatusCode::OK, "admin /status?format=json");
    assert!(header(&headers, "content-type").starts_with("application/json"));
    let (status, _, body) = server.admin_get("/metrics", &[]).await;
    assert_eq!(status, StatusCode::OK, "admin /metrics");
    assert!(String::from_utf8_lossy(&body).contains("dropfeed_http_requests_total"));
    for reply in [
        server.get("/healthz", &[]).await,
        server.admin_get("/healthz", &[]).await,
    ] {
        assert_eq!((reply.0, &reply.2[..]), (StatusCode::OK, &b"ok\n"[..]));
    }

    // Only the admin routes: the site is not served twice.
    for path in ["/", "/feed.xml", "/posts/a/", "/tags/"] {
        let (status, _, _) = server.admin_get(path, &[]).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "admin {path}");
    }
    let (status, headers, _) = server.admin_request(Method::POST, "/status", &[]).await;
    assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(header(&headers, "allow"), "GET, HEAD");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_token_is_required_when_set() {
    let owned = posts();
    let files: Vec<(&str, &str)> = owned.iter().map(|(n, t)| (*n, t.as_str())).collect();
    let config = format!("[admin]\ntoken = \"{TOKEN}\"\n");
    let server = Server::start_with(&files, &config, Arc::new(SystemClock)).await;

    let good = format!("Bearer {TOKEN}");
    let lower = format!("bearer  {TOKEN}");
    let wrong = format!("Bearer {TOKEN}x");
    let short = format!("Bearer {}", &TOKEN[..TOKEN.len() - 1]);
    let refused: [(&str, Option<&str>, bool); 5] = [
        ("/status", None, false),
        ("/healthz", None, false),
        ("/metrics", Some("Basic b3BlbjpzZXNhbWU="), false),
        ("/status", Some(&wrong), true),
        ("/no-such-page", Some(&short), true),
    ];
    for (path, authorization, sent) in refused {
        let headers: Vec<(&str, &str)> = authorization
            .map(|a| ("authorization", a))
            .into_iter()
            .collect();
        let (status, h, body) = server.admin_get(path, &headers).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{path} {authorization:?}");
        let challenge = header(&h, "www-authenticate");
        assert!(challenge.starts_with("Bearer "), "{challenge}");
        assert_eq!(challenge.contains("invalid_token"), sent, "{challenge}");
        assert_eq!(header(&h, "cache-control"), "no-store");
        assert!(!String::from_utf8_lossy(&body).contains("Published A"));
    }
    for authorization in [&good, &lower] {
        let with = [("authorization", authorization.as_str())];
        let (status, _, body) = server.admin_get("/status", &with).await;
        assert_eq!(status, StatusCode::OK, "{authorization}");
        assert!(String::from_utf8_lossy(&body).contains("Published A"));
        let (status, _, _) = server.admin_get("/metrics", &with).await;
        assert_eq!(status, StatusCode::OK, "{authorization}");
    }
    // Refusals are counted, for the operator to see.
    let with = [("authorization", good.as_str())];
    let (_, _, metrics) = server.admin_get("/metrics", &with).await;
    let metrics = String::from_utf8_lossy(&metrics);
    assert!(
        metrics.contains("dropfeed_http_requests_total{route=\"status\",status=\"401\"} 2"),
        "{metrics}"
    );
    // Readers need no token.
    for path in ["/healthz", "/feed.xml", "/"] {
        let (status, _, _) = server.get(path, &[]).await;
        assert_eq!(status, StatusCode::OK, "public {path}");
    }
    server.stop().await;
}

/// A `dropfeed serve` whose stderr lines arrive on a channel; killed when dropped.
struct Serve {
    child: Child,
    lines: mpsc::Receiver<String>,
}

impl Serve {
    fn start(dir: &Path, args: &[&str]) -> Serve {
        let mut child = Command::new(env!("CARGO_BIN_EXE_dropfeed"))
            .arg("serve")
            .arg("--posts")
            .arg(dir.join("posts"))
            .args(args)
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("dropfeed serve starts");
        let stderr = child.stderr.take().expect("stderr");
        let (send, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                let _ = send.send(line);
            }
        });
        Serve { child, lines }
    }

    /// Every line printed until one contains `needle` (or the process ends, or 60 s pass).
    fn until(&self, needle: &str) -> String {
        let deadline = Instant::now() + Duration::from_secs(60);
        let mut seen = String::new();
        while let Some(left) = deadline.checked_duration_since(Instant::now()) {
            match self.lines.recv_timeout(left) {
                Ok(line) => {
                    seen.push_str(&line);
                    seen.push('\n');
                    if line.contains(needle) {
                        break;
                    }
                }
                Err(_) => break,
            }
        }
        seen
    }
}

impl Drop for Serve {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a free port");
    listener.local_addr().expect("its address").port()
}

/// Status code of a plain GET, or `None` when nothing answers.
fn status_of(port: u16, path: &str) -> Option<u16> {
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect(("127.0.0.1", port)).ok()?;
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n"
    )
    .ok()?;
    let mut reply = String::new();
    stream.read_to_string(&mut reply).ok()?;
    reply.split(' ').nth(1)?.parse().ok()
}

#[test]
fn serve_prints_the_admin_address_and_listens_where_told() {
    let dir = tempfile::tempdir().expect("a temporary folder");
    std::fs::create_dir(dir.path().join("posts")).expect("posts folder");
    std::fs::write(dir.path().join("posts/a.md"), &posts()[0].1).expect("a post");
    let (public, from_config, from_flag) = (free_port(), free_port(), free_port());
    std::fs::write(
        dir.path().join("dropfeed.toml"),
        format!("[admin]\nlisten = \"127.0.0.1:{from_config}\"\n"),
    )
    .expect("config");
    let listen = format!("127.0.0.1:{public}");

    // From the config.
    let serve = Serve::start(dir.path(), &["--listen", &listen]);
    let printed = serve.until("admin");
    let wanted = format!("admin (/status, /metrics): http://127.0.0.1:{from_config}/status");
    assert!(printed.contains(&wanted), "{printed}");
    assert_eq!(status_of(from_config, "/status"), Some(200));
    assert_eq!(status_of(public, "/status"), Some(404));
    drop(serve);

    // The flag wins over the config.
    let flag = format!("127.0.0.1:{from_flag}");
    let serve = Serve::start(dir.path(), &["--listen", &listen, "--admin-listen", &flag]);
    let printed = serve.until("admin");
    assert!(
        printed.contains(&format!("http://{flag}/status")),
        "{printed}"
    );
    assert_eq!(status_of(from_flag, "/metrics"), Some(200));
    assert_eq!(
        status_of(from_config, "/metrics"),
        None,
        "nothing on the config's port"
    );
    drop(serve);

    // Off: no admin listener at all.
    let serve = Serve::start(dir.path(), &["--listen", &listen, "--admin-listen", "off"]);
    let printed = serve.until("admin");
    assert!(printed.contains("admin listener off"), "{printed}");
    assert_eq!(status_of(public, "/healthz"), Some(200));
    assert_eq!(status_of(from_config, "/status"), None);
    drop(serve);

    // Taken: refused, naming the way out; readers are not served instead.
    let taken = std::net::TcpListener::bind("127.0.0.1:0").expect("a port to hold");
    let held = taken.local_addr().expect("its address").to_string();
    let mut serve = Serve::start(dir.path(), &["--listen", &listen, "--admin-listen", &held]);
    let printed = serve.until("--admin-listen");
    let exit = serve.child.wait().expect("it exits");
    assert!(!exit.success(), "{printed}");
    assert!(
        printed.contains(&held) && printed.contains("--admin-listen"),
        "{printed}"
    );
}
