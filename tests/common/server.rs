//! Starting the real server over a temporary posts folder, and a real HTTP client.
//!
//! - [`Server::start`] writes posts into `<tempdir>/posts`, binds `127.0.0.1:0` twice (the
//!   public and the admin listener) and starts `dropfeed::app::start` on them: the same
//!   service `dropfeed serve` runs, watcher included.
//! - [`Server::get`], [`Server::head`], [`Server::request`] speak HTTP/1.1 through hyper-util's
//!   legacy client; [`Server::get_h2`] speaks HTTP/2 by prior knowledge (h2c).
//!   [`Server::admin_get`] and [`Server::admin_request`] ask the admin listener (`/status`,
//!   `/metrics`).
//! - [`wait_until`] polls a condition every 10 ms up to a deadline: tests synchronise on what
//!   a client can see, never on a fixed sleep. [`Server::until_titles`] is the common case:
//!   wait until a feed's entry titles show a change.
//! - [`TestClock`] is a clock the test sets, for scheduled posts.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use chrono::{DateTime, Utc};
use dropfeed::app::{self, Listeners, Running};
use dropfeed::config::Config;
use dropfeed::pipeline::{Clock, SystemClock};
use dropfeed::watch::Message;
use http_body_util::{BodyExt, Full};
use hyper::header::HeaderMap;
use hyper::{Method, Request, StatusCode, Version};
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use tempfile::TempDir;
use tokio::time::Instant;

/// How long a test waits for something that should happen within milliseconds.
pub const DEADLINE: Duration = Duration::from_secs(5);

/// How often [`wait_until`] looks again.
const POLL: Duration = Duration::from_millis(10);

/// Polls `condition` every 10 ms until it holds (true) or `deadline` passes (false).
///
/// Takes an async closure, so the condition may borrow the server:
/// `wait_until(DEADLINE, async || server.etag("/atom.xml").await != old).await`.
pub async fn wait_until(deadline: Duration, mut condition: impl AsyncFnMut() -> bool) -> bool {
    let end = Instant::now() + deadline;
    loop {
        if condition().await {
            return true;
        }
        if Instant::now() >= end {
            return false;
        }
        tokio::time::sleep(POLL).await;
    }
}

/// A clock the test moves by hand.
#[derive(Debug)]
pub struct TestClock {
    /// A plain mutex: held only to copy the time in or out, never across an await.
    now: Mutex<DateTime<Utc>>,
}

impl TestClock {
    /// A clock stopped at an RFC 3339 time.
    pub fn at(rfc3339: &str) -> Arc<TestClock> {
        Arc::new(TestClock {
            now: Mutex::new(parse_time(rfc3339)),
        })
    }

    /// Moves the clock to an RFC 3339 time.
    pub fn set(&self, rfc3339: &str) {
        *self.now.lock().expect("clock lock") = parse_time(rfc3339);
    }
}

impl Clock for TestClock {
    fn now(&self) -> DateTime<Utc> {
        *self.now.lock().expect("clock lock")
    }
}

fn parse_time(rfc3339: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(rfc3339)
        .unwrap_or_else(|e| panic!("bad test time {rfc3339:?}: {e}"))
        .with_timezone(&Utc)
}

/// A Markdown post with YAML front matter.
pub fn markdown_post(title: &str, date: &str, body: &str) -> String {
    format!("---\ntitle: \"{title}\"\ndate: {date}\n---\n\n{body}\n")
}

/// Status, headers and body of one response.
pub type Reply = (StatusCode, HeaderMap, Bytes);

/// A header's value as text, or `""` when absent.
pub fn header<'a>(headers: &'a HeaderMap, name: &str) -> &'a str {
    headers
        .get(name)
        .map(|v| v.to_str().expect("visible ASCII header"))
        .unwrap_or("")
}

/// A running dropfeed over a temporary posts folder, with clients to talk to it.
pub struct Server {
    /// `<root>/posts` is the posts folder; the rest of `root` is scratch space on the same
    /// file system (for files renamed in from outside).
    root: TempDir,
    posts: PathBuf,
    running: Option<Running>,
    /// The address served.
    pub addr: SocketAddr,
    /// The admin listener's address.
    pub admin_addr: SocketAddr,
    http1: Client<HttpConnector, Full<Bytes>>,
    http2: Client<HttpConnector, Full<Bytes>>,
}

impl Server {
    /// Serves `posts` (file name, text) with the default config and the system clock.
    pub async fn start(posts: &[(&str, &str)]) -> Server {
        Server::start_with(posts, "", Arc::new(SystemClock)).await
    }

    /// Serves `posts` with a config (TOML text; `base_url` defaults to the bound address)
    /// and a clock. The file watch exists before `app::start` returns (regression test:
    /// `watch_events::change_right_after_start_is_seen`), so tests may change files at once.
    /// Returns once the compressed variants, which follow the identity bytes by moments,
    /// are ready too.
    pub async fn start_with(posts: &[(&str, &str)], toml: &str, clock: Arc<dyn Clock>) -> Server {
        let server = Server::launch(posts, toml, clock).await;
        if let Some(running) = &server.running {
            running.until_encoded().await;
        }
        server
    }

    /// Starts the service exactly as `dropfeed serve` does, nothing more.
    pub async fn launch(posts: &[(&str, &str)], toml: &str, clock: Arc<dyn Clock>) -> Server {
        let fill = |dir: &Path| {
            for (name, text) in posts {
                write(&dir.join(name), text);
            }
        };
        Server::launch_with(fill, toml, clock).await
    }

    /// Serves a copy of a whole posts folder (pictures and all) with the system clock.
    pub async fn start_copy(from: &Path, toml: &str) -> Server {
        let fill = |dir: &Path| super::feeds::copy_tree(from, dir);
        let server = Server::launch_with(fill, toml, Arc::new(SystemClock)).await;
        if let Some(running) = &server.running {
            running.until_encoded().await;
        }
        server
    }

    /// Starts the service over a posts folder that `fill` writes first.
    pub async fn launch_with(
        fill: impl FnOnce(&Path),
        toml: &str,
        clock: Arc<dyn Clock>,
    ) -> Server {
        log_if_asked();
        let root = tempfile::tempdir().expect("tempdir");
        let dir = root.path().join("posts");
        std::fs::create_dir(&dir).expect("create posts folder");
        fill(&dir);
        let bind = async || {
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await;
            listener.expect("bind 127.0.0.1:0")
        };
        let listeners = Listeners {
            public: bind().await,
            admin: Some(bind().await),
        };
        let addr = listeners.public.local_addr().expect("local addr");
        let base = format!("http://{addr}/");
        let config = Config::parse(Path::new("test.toml"), toml, Some(&base)).expect("config");
        let running = app::start(&dir, Arc::new(config), clock, listeners)
            .await
            .expect("app starts");
        let admin_addr = running.admin_addr.expect("an admin listener");
        let http1 = Client::builder(TokioExecutor::new()).build_http();
        let http2 = Client::builder(TokioExecutor::new())
            .http2_only(true)
            .build_http();
        Server {
            root,
            posts: dir,
            running: Some(running),
            addr,
            admin_addr,
            http1,
            http2,
        }
    }

    /// The posts folder.
    pub fn posts_dir(&self) -> &Path {
        &self.posts
    }

    /// A fresh folder beside the posts folder, on the same file system (renames are atomic).
    pub fn scratch_dir(&self) -> TempDir {
        tempfile::tempdir_in(self.root.path()).expect("scratch tempdir")
    }

    /// Writes (creates or overwrites) a file in the posts folder, creating parent folders.
    pub fn write_post(&self, name: &str, text: &str) {
        write(&self.posts.join(name), text);
    }

    /// Removes a file from the posts folder.
    pub fn remove_post(&self, name: &str) {
        std::fs::remove_file(self.posts.join(name)).expect("remove post");
    }

    /// Sends a message to the watcher (`Wake` after moving a [`TestClock`], `Rescan`).
    pub fn notify(&self, message: Message) {
        self.running().notify(message);
    }

    /// The generation of the snapshot being served (it grows on every real change).
    pub fn generation(&self) -> u64 {
        self.running().snapshot.load().generation()
    }

    /// Every route of the site being served (hot and cold), without the leading `/`.
    pub fn routes(&self) -> Vec<String> {
        self.running().snapshot.load().routes()
    }

    fn running(&self) -> &Running {
        self.running.as_ref().expect("server is running")
    }

    /// `http://127.0.0.1:PORT/path`.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// Any method over HTTP/1.1, with extra request headers.
    pub async fn request(&self, method: Method, path: &str, headers: &[(&str, &str)]) -> Reply {
        let url = self.url(path);
        let (_, status, headers, body) = self.send(&self.http1, method, &url, headers).await;
        (status, headers, body)
    }

    /// `http://127.0.0.1:ADMIN_PORT/path`: a URL on the admin listener.
    pub fn admin_url(&self, path: &str) -> String {
        format!("http://{}{path}", self.admin_addr)
    }

    /// Any method to the admin listener over HTTP/1.1, with extra request headers.
    pub async fn admin_request(
        &self,
        method: Method,
        path: &str,
        headers: &[(&str, &str)],
    ) -> Reply {
        let url = self.admin_url(path);
        let (_, status, headers, body) = self.send(&self.http1, method, &url, headers).await;
        (status, headers, body)
    }

    /// `GET` from the admin listener (`/status`, `/metrics`).
    pub async fn admin_get(&self, path: &str, headers: &[(&str, &str)]) -> Reply {
        self.admin_request(Method::GET, path, headers).await
    }

    /// `GET` over HTTP/1.1.
    pub async fn get(&self, path: &str, headers: &[(&str, &str)]) -> Reply {
        self.request(Method::GET, path, headers).await
    }

    /// `HEAD` over HTTP/1.1.
    pub async fn head(&self, path: &str, headers: &[(&str, &str)]) -> Reply {
        self.request(Method::HEAD, path, headers).await
    }

    /// `GET` over HTTP/2 with prior knowledge (h2c); also returns the version spoken.
    pub async fn get_h2(
        &self,
        path: &str,
        headers: &[(&str, &str)],
    ) -> (Version, StatusCode, HeaderMap, Bytes) {
        let url = self.url(path);
        self.send(&self.http2, Method::GET, &url, headers).await
    }

    /// The `ETag` of a `200` answer to a plain `GET`.
    pub async fn etag(&self, path: &str) -> String {
        let (status, headers, _) = self.get(path, &[]).await;
        assert_eq!(status, StatusCode::OK, "GET {path}");
        header(&headers, "etag").to_string()
    }

    /// A feed fetched over HTTP and parsed with feed-rs.
    pub async fn feed(&self, path: &str) -> feed_rs::model::Feed {
        let (status, _, body) = self.get(path, &[]).await;
        assert_eq!(status, StatusCode::OK, "GET {path}");
        feed_rs::parser::parse(&body[..]).unwrap_or_else(|e| panic!("{path} does not parse: {e}"))
    }

    /// Entry titles of a feed, in feed order.
    pub async fn titles(&self, path: &str) -> Vec<String> {
        self.feed(path)
            .await
            .entries
            .into_iter()
            .map(|e| e.title.map(|t| t.content).unwrap_or_default())
            .collect()
    }

    /// Waits until the entry titles of the feed at `path` satisfy `ok`, and returns them;
    /// after [`DEADLINE`] fails the test, saying what was awaited and what the feed showed.
    pub async fn until_titles(
        &self,
        path: &str,
        what: &str,
        ok: impl Fn(&[String]) -> bool,
    ) -> Vec<String> {
        self.until_titles_within(DEADLINE, path, what, ok).await
    }

    /// [`Server::until_titles`] with another deadline.
    pub async fn until_titles_within(
        &self,
        deadline: Duration,
        path: &str,
        what: &str,
        ok: impl Fn(&[String]) -> bool,
    ) -> Vec<String> {
        let mut last = Vec::new();
        let seen = wait_until(deadline, async || {
            last = self.titles(path).await;
            ok(&last)
        })
        .await;
        assert!(seen, "{what}: after {deadline:?} {path} shows {last:?}");
        last
    }

    async fn send(
        &self,
        client: &Client<HttpConnector, Full<Bytes>>,
        method: Method,
        url: &str,
        headers: &[(&str, &str)],
    ) -> (Version, StatusCode, HeaderMap, Bytes) {
        let path = url;
        let mut request = Request::builder().method(method.clone()).uri(url);
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let request = request.body(Full::new(Bytes::new())).expect("request");
        let response = tokio::time::timeout(DEADLINE, client.request(request))
            .await
            .unwrap_or_else(|_| panic!("{method} {path}: no answer within {DEADLINE:?}"))
            .unwrap_or_else(|e| panic!("{method} {path}: {e}"));
        let (parts, body) = response.into_parts();
        let body = body
            .collect()
            .await
            .unwrap_or_else(|e| panic!("{method} {path}: body: {e}"))
            .to_bytes();
        (parts.version, parts.status, parts.headers, body)
    }

    /// Stops the server and the watcher, then removes the folder.
    pub async fn stop(mut self) {
        let running = self.running.take().expect("server is running");
        // Close the pooled keep-alive connections first: the graceful shutdown waits for
        // open connections.
        self.http1 = Client::builder(TokioExecutor::new()).build_http();
        self.http2 = Client::builder(TokioExecutor::new()).build_http();
        running.stop().await.expect("server stops cleanly");
    }
}

impl Drop for Server {
    /// A test that panicked never reached [`Server::stop`]: at least end the watcher thread.
    fn drop(&mut self) {
        if let Some(running) = &self.running {
            running.notify(Message::Stop);
        }
    }
}

/// With `RUST_LOG` set (`RUST_LOG=dropfeed=debug`), the service's logs show in test output.
fn log_if_asked() {
    if std::env::var_os("RUST_LOG").is_some() {
        let _ = tracing_subscriber::fmt()
            .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
            .with_test_writer()
            .try_init();
    }
}

fn write(path: &Path, text: &str) {
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).expect("create parent folder");
    }
    std::fs::write(path, text).unwrap_or_else(|e| panic!("write {}: {e}", path.display()));
}
