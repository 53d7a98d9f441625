//! Replicas agree (issue 7): two `dropfeed serve` processes over the same posts folder and
//! the same config, started a second apart, with different `HOSTNAME`s, serve byte-identical
//! resources with identical `ETag` and `Last-Modified` (and every other header but `Date`)
//! for every route and every content-coding. That is what lets any load balancer, HTTP
//! cache or CDN sit in front of several replicas (see `deploy/`).
//!
//! The processes are the real binary, each talked to over a plain HTTP/1.1 socket.

use std::fs;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::thread::sleep;
use std::time::{Duration, Instant};

/// Routes compared: the home page, the three subscription feeds, tag feeds, archive pages
/// (all immutable), post pages, a redirect and a 404.
const ROUTES: [(&str, u16); 14] = [
    ("/", 200),
    ("/feed.xml", 200),
    ("/atom.xml", 200),
    ("/feed.json", 200),
    ("/tags/cafe/feed.xml", 200),
    ("/tags/feeds/atom.xml", 200),
    ("/tags/feeds/archive/1/feed.json", 200),
    ("/archive/1/atom.xml", 200),
    ("/archive/2/feed.xml", 200),
    ("/posts/why-feeds/", 200),
    ("/posts/lavrov-jaminan-keamanan/", 200),
    ("/posts/why-feeds", 308),
    ("/no/such/page", 404),
    ("/healthz", 200),
];

/// `Accept-Encoding` values sent; each must come back in that coding (or identity).
const ENCODINGS: [&str; 4] = ["identity", "gzip", "br", "zstd"];

/// Same for both replicas. `feed_limit = 2` and pages of one entry so the sample posts
/// also fill archive pages, of the site and of a tag.
const CONFIG: &str =
    "base_url = \"https://feeds.example.org/\"\nfeed_limit = 2\narchive_page_size = 1\n";

/// How long a replica may take to load the posts and answer `/healthz` (a debug build
/// compresses every resource with brotli, which is slow without optimisations).
const START_DEADLINE: Duration = Duration::from_secs(90);

/// A running `dropfeed serve`, killed when dropped (also when the test panics).
struct Replica {
    name: &'static str,
    addr: SocketAddr,
    /// Its admin listener (`/metrics`).
    admin: SocketAddr,
    log: PathBuf,
    child: Child,
}

impl Replica {
    fn start(name: &'static str, dir: &Path, posts: &Path, config: &Path) -> Replica {
        let (addr, admin) = (free_port(), free_port());
        let log = dir.join(format!("{name}.log"));
        let child = Command::new(env!("CARGO_BIN_EXE_dropfeed"))
            .arg("serve")
            .arg("--posts")
            .arg(posts)
            .arg("--config")
            .arg(config)
            .arg("--listen")
            .arg(addr.to_string())
            .arg("--admin-listen")
            .arg(admin.to_string())
            .env("HOSTNAME", name)
            .env("RUST_LOG", "info")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(fs::File::create(&log).expect("a log file"))
            .spawn()
            .expect("the dropfeed binary starts");
        Replica {
            name,
            addr,
            admin,
            log,
            child,
        }
    }

    /// Polls until the replica answers `/healthz` with `200 ok` and its `/metrics` show no
    /// resource still waiting for compression (new resources are served in identity first,
    /// their compressed variants follow), failing with the replica's log if it exits or is
    /// not ready in time.
    fn wait_healthy(&mut self) {
        let deadline = Instant::now() + START_DEADLINE;
        loop {
            let healthy = get(self.addr, "/healthz", "identity")
                .is_ok_and(|r| r.status == 200 && r.body == b"ok\n");
            let encoded = healthy
                && get(self.admin, "/metrics", "identity").is_ok_and(|r| {
                    String::from_utf8_lossy(&r.body)
                        .lines()
                        .any(|l| l == "dropfeed_resources_pending_compression 0")
                });
            if encoded {
                return;
            }
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!("{} exited with {status}:\n{}", self.name, self.log_text());
            }
            assert!(
                Instant::now() < deadline,
                "{} did not answer /healthz within {START_DEADLINE:?}:\n{}",
                self.name,
                self.log_text()
            );
            sleep(Duration::from_millis(50));
        }
    }

    fn log_text(&self) -> String {
        fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for Replica {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A loopback address nobody listens on (bound to port 0, then released).
fn free_port() -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").expect("a free port");
    listener.local_addr().expect("a local address")
}

/// One HTTP/1.1 response.
#[derive(Debug)]
struct Response {
    status: u16,
    /// Header names lower-cased, in the order received.
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Response {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// Every header but `Date` (the only one allowed to differ), sorted by name.
    fn comparable_headers(&self) -> Vec<(String, String)> {
        let mut headers: Vec<_> = self
            .headers
            .iter()
            .filter(|(n, _)| n != "date")
            .cloned()
            .collect();
        headers.sort();
        headers
    }
}

/// `GET path` with `Connection: close`, read to the end.
fn get(addr: SocketAddr, path: &str, accept_encoding: &str) -> std::io::Result<Response> {
    let mut stream = TcpStream::connect_timeout(&addr, Duration::from_secs(2))?;
    stream.set_read_timeout(Some(Duration::from_secs(10)))?;
    stream.set_write_timeout(Some(Duration::from_secs(10)))?;
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nAccept-Encoding: {accept_encoding}\r\n\
         User-Agent: dropfeed-replicas-test\r\nConnection: close\r\n\r\n"
    )?;
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw)?;
    Ok(parse(&raw))
}

/// Splits a raw HTTP/1.1 response (with `Content-Length`, as dropfeed always sends).
fn parse(raw: &[u8]) -> Response {
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .unwrap_or_else(|| panic!("no end of head in {:?}", String::from_utf8_lossy(raw)));
    let head = std::str::from_utf8(&raw[..split]).expect("an ASCII response head");
    let mut lines = head.split("\r\n");
    let status_line = lines.next().unwrap_or_default();
    let status = status_line
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("bad status line {status_line:?}"));
    let headers: Vec<(String, String)> = lines
        .filter_map(|line| line.split_once(':'))
        .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    let body = raw[split + 4..].to_vec();
    let response = Response {
        status,
        headers,
        body,
    };
    if let Some(length) = response.header("content-length") {
        assert_eq!(
            length.parse::<usize>().ok(),
            Some(response.body.len()),
            "Content-Length disagrees with the body read"
        );
    }
    response
}

/// Copies a folder recursively, leaving out dropfeed's state folder (`.dropfeed/`), so the
/// replicas start from a fresh id ledger, never the source tree's.
fn copy_tree(from: &Path, to: &Path) {
    fs::create_dir_all(to).expect("creating the copy");
    for entry in fs::read_dir(from).expect("reading the posts folder") {
        let entry = entry.expect("a folder entry");
        let target = to.join(entry.file_name());
        if entry.file_name() == ".dropfeed" {
            continue;
        }
        if entry.file_type().expect("a file type").is_dir() {
            copy_tree(&entry.path(), &target);
        } else {
            fs::copy(entry.path(), &target).expect("copying a post");
        }
    }
}

#[test]
fn replicas_serve_identical_bytes_and_validators() {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let posts = dir.path().join("posts");
    copy_tree(&Path::new(env!("CARGO_MANIFEST_DIR")).join("posts"), &posts);
    let config = dir.path().join("dropfeed.toml");
    fs::write(&config, CONFIG).expect("writing the config");

    let mut a = Replica::start("replica-a", dir.path(), &posts, &config);
    a.wait_healthy();
    // Started at a different moment: nothing time-dependent may leak into the output.
    sleep(Duration::from_millis(1100));
    let mut b = Replica::start("replica-b", dir.path(), &posts, &config);
    b.wait_healthy();

    let mut compared = 0;
    for (route, status) in ROUTES {
        for encoding in ENCODINGS {
            let fetch = |replica: &Replica| {
                get(replica.addr, route, encoding).unwrap_or_else(|e| {
                    panic!(
                        "{} GET {route} ({encoding}): {e}\n{}",
                        replica.name,
                        replica.log_text()
                    )
                })
            };
            let (ra, rb) = (fetch(&a), fetch(&b));
            let what = format!("GET {route} with Accept-Encoding: {encoding}");
            assert_eq!(ra.status, status, "{what}: status from {}", a.name);
            assert_eq!(ra.status, rb.status, "{what}: statuses differ");
            assert_eq!(ra.header("etag"), rb.header("etag"), "{what}: ETags differ");
            assert_eq!(
                ra.header("last-modified"),
                rb.header("last-modified"),
                "{what}: Last-Modified differs"
            );
            assert!(
                ra.body == rb.body,
                "{what}: bodies differ ({} vs {} bytes)",
                ra.body.len(),
                rb.body.len()
            );
            assert_eq!(
                ra.comparable_headers(),
                rb.comparable_headers(),
                "{what}: headers differ"
            );
            if status == 200 && route != "/healthz" {
                assert!(ra.header("etag").is_some(), "{what}: no ETag");
                assert!(
                    ra.header("last-modified").is_some(),
                    "{what}: no Last-Modified"
                );
                assert!(!ra.body.is_empty(), "{what}: empty body");
                let coding = ra.header("content-encoding").unwrap_or("identity");
                assert_eq!(coding, encoding, "{what}: answered in another coding");
            }
            compared += 1;
        }
    }
    assert_eq!(compared, ROUTES.len() * ENCODINGS.len());

    // Both replicas shared one id ledger in the posts folder.
    let ledger = posts.join(".dropfeed").join("ids.tsv");
    assert!(
        ledger.is_file(),
        "the replicas wrote no id ledger at {}",
        ledger.display()
    );
    drop(b);
    drop(a);
}
