//! The HTTP server: hyper 1.x over HTTP/1.1 and HTTP/2, answering every request from the
//! current [`Snapshot`] (loaded once per request, lock-free, via arc-swap).
//!
//! - [`negotiate`]: which content-coding to send.
//! - [`conditional`]: when to answer `304`.
//! - [`metrics`]: Prometheus counters.
//! - [`limit`]: optional per-client rate limiting.
//!
//! Rules followed (RFC 9110): `GET` and `HEAD` only (others `405` with `Allow`); `HEAD`
//! carries `GET`'s headers without a body; `304` repeats `ETag`, `Last-Modified`,
//! `Cache-Control` and `Vary`; unknown routes `404`; a folder route without its slash is
//! redirected (`308`). Routing is a map lookup: no request path ever reaches the disk.

pub mod conditional;
pub mod limit;
pub mod metrics;
pub mod negotiate;

use std::convert::Infallible;
use std::future::Future;
use std::net::IpAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use arc_swap::ArcSwap;
use bytes::Bytes;
use http_body_util::Full;
use hyper::body::Body;
use hyper::body::Incoming;
use hyper::header::{self, HeaderMap, HeaderValue};
use hyper::{Method, Request, Response, StatusCode, Uri};
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use hyper_util::server::graceful::GracefulShutdown;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;

use crate::config::ServerConfig;
use crate::render::{Lifetime, Media, Rendered};
use crate::snapshot::{Coding, Resource, Snapshot, StatusPages};

use limit::RateLimiter;
use metrics::Metrics;

/// The snapshot the server answers from; the watcher swaps in new ones.
pub type SharedSnapshot = Arc<ArcSwap<Snapshot>>;

/// How long in-flight requests get to finish after a shutdown signal.
const DRAIN_TIMEOUT: Duration = Duration::from_secs(10);

/// What every connection shares.
#[derive(Debug)]
pub struct ServerState {
    /// The snapshot answered from.
    pub snapshot: SharedSnapshot,
    /// Request counters.
    pub metrics: Arc<Metrics>,
    /// Per-client limit, when configured.
    pub limiter: Option<RateLimiter>,
}

/// Serves `snapshot` on `listener` until `shutdown` resolves, then lets in-flight requests
/// finish (for up to ten seconds).
pub async fn run(
    listener: TcpListener,
    snapshot: SharedSnapshot,
    metrics: Arc<Metrics>,
    limits: ServerConfig,
    shutdown: impl Future<Output = ()>,
) -> std::io::Result<()> {
    let graceful = GracefulShutdown::new();
    // A connection holds a permit for its lifetime; past the cap, new ones wait in the
    // kernel's listen queue instead of starving those already being served.
    let permits = Arc::new(Semaphore::new(limits.max_connections));
    let builder = connection_builder(&limits);
    let state = Arc::new(ServerState {
        snapshot,
        metrics,
        limiter: limits.rate_limit_per_minute.map(RateLimiter::new),
    });
    tokio::pin!(shutdown);
    loop {
        let permit = tokio::select! {
            permit = Arc::clone(&permits).acquire_owned() => permit.expect("semaphore is never closed"),
            () = &mut shutdown => break,
        };
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(pair) => pair,
                Err(e) => {
                    tracing::warn!("accept failed: {e}");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let _ = stream.set_nodelay(true);
        let state = Arc::clone(&state);
        let header_timeout = limits.header_timeout;
        let activity = Arc::new(Activity::default());
        let service = hyper::service::service_fn({
            let activity = Arc::clone(&activity);
            move |request: Request<Incoming>| {
                let state = Arc::clone(&state);
                let activity = Arc::clone(&activity);
                async move {
                    activity.begin();
                    let response = handle(&state, peer.ip(), &request).await;
                    activity.end();
                    Ok::<_, Infallible>(response)
                }
            }
        });
        let builder = builder.clone();
        let watcher = graceful.watcher();
        tokio::spawn(async move {
            // hyper-util reads the first bytes to tell HTTP/1 from HTTP/2 with no deadline of
            // its own: a client that sends nothing would hold a connection slot for ever.
            let Ok(http2) = tokio::time::timeout(header_timeout, protocol_known(&stream)).await
            else {
                drop(permit);
                return;
            };
            let io = TokioIo::new(Tracked {
                stream,
                activity: Arc::clone(&activity),
            });
            let connection = builder.serve_connection(io, service).into_owned();
            if http2 {
                let _ = watcher.watch(connection).await;
            } else {
                tokio::select! {
                    _ = watcher.watch(connection) => {}
                    () = activity.idle_for(header_timeout) => {}
                }
            }
            drop(permit);
        });
    }
    drop(listener);
    tokio::select! {
        () = graceful.shutdown() => {}
        () = tokio::time::sleep(DRAIN_TIMEOUT) => tracing::warn!("some connections did not finish in time"),
    }
    Ok(())
}

fn connection_builder(limits: &ServerConfig) -> auto::Builder<TokioExecutor> {
    let mut builder = auto::Builder::new(TokioExecutor::new());
    // The header timeout of HTTP/1 is [`Activity::idle_for`], not hyper's
    // `header_read_timeout`: that one arms and cancels a timer for every request.
    builder
        .http1()
        .header_read_timeout(None)
        .max_buf_size(limits.max_header_bytes.max(8192))
        .keep_alive(true);
    builder
        .http2()
        .timer(TokioTimer::new())
        .max_concurrent_streams(128)
        .max_header_list_size(limits.max_header_bytes as u32)
        .keep_alive_interval(Some(limits.idle_timeout))
        .keep_alive_timeout(Duration::from_secs(20));
    builder
}

/// Resolves once the first bytes show which protocol the client speaks: a whole HTTP/2
/// preface (`true`), or anything that departs from it (HTTP/1), or the connection closing.
async fn protocol_known(stream: &tokio::net::TcpStream) -> bool {
    const PREFACE: &[u8] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
    let mut buffer = [0u8; 24];
    loop {
        match stream.peek(&mut buffer).await {
            Ok(0) | Err(_) => return false,
            Ok(n) if n >= PREFACE.len() => return buffer[..] == *PREFACE,
            Ok(n) if buffer[..n] != PREFACE[..n] => return false,
            Ok(_) => tokio::time::sleep(Duration::from_millis(5)).await,
        }
    }
}

/// What an HTTP/1 connection has been doing, for its header timeout: requests begun and
/// answered, and response bytes written.
///
/// One timer per connection, re-armed lazily: when it fires, the connection is closed if
/// nothing happened during the whole period and nothing is in progress (no request being
/// answered, no response write waiting on the client), so a client gets between one and two
/// header timeouts to send its next request head, and exactly one for its first. A client
/// trickling a head byte by byte makes no progress by this measure.
#[derive(Debug, Default)]
struct Activity {
    /// Requests begun + requests answered + writes done; only its changes matter.
    events: AtomicU64,
    /// Requests being answered, plus one while a write waits for the client to read.
    busy: AtomicU64,
}

impl Activity {
    fn begin(&self) {
        self.events.fetch_add(1, Ordering::Relaxed);
        self.busy.fetch_add(1, Ordering::Relaxed);
    }

    fn end(&self) {
        self.events.fetch_add(1, Ordering::Relaxed);
        self.busy.fetch_sub(1, Ordering::Relaxed);
    }

    /// Resolves once a whole `period` went by with nothing done and nothing in progress.
    async fn idle_for(&self, period: Duration) {
        let mut seen = self.events.load(Ordering::Relaxed);
        let timer = tokio::time::sleep(period);
        tokio::pin!(timer);
        loop {
            timer.as_mut().await;
            let now = self.events.load(Ordering::Relaxed);
            if now == seen && self.busy.load(Ordering::Relaxed) == 0 {
                return;
            }
            seen = now;
            timer.as_mut().reset(tokio::time::Instant::now() + period);
        }
    }
}

/// A connection's stream, noting writes (progress) and writes stalled on the client (work in
/// progress) in its [`Activity`].
struct Tracked {
    stream: tokio::net::TcpStream,
    activity: Arc<Activity>,
}

/// Whether a write waits on the client, kept in the `busy` count's high bits so a stalled
/// write and a request in flight never mask each other.
const STALLED: u64 = 1 << 32;

impl Tracked {
    fn note<T>(&mut self, result: Poll<std::io::Result<T>>) -> Poll<std::io::Result<T>> {
        let activity = &self.activity;
        let stalled = activity.busy.load(Ordering::Relaxed) & STALLED != 0;
        match (&result, stalled) {
            (Poll::Pending, false) => {
                activity.busy.fetch_add(STALLED, Ordering::Relaxed);
            }
            (Poll::Ready(_), true) => {
                activity.busy.fetch_sub(STALLED, Ordering::Relaxed);
            }
            _ => {}
        }
        if let Poll::Ready(Ok(_)) = result {
            activity.events.fetch_add(1, Ordering::Relaxed);
        }
        result
    }
}

impl tokio::io::AsyncRead for Tracked {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut tokio::io::ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.stream).poll_read(cx, buf)
    }
}

impl tokio::io::AsyncWrite for Tracked {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        let result = Pin::new(&mut self.stream).poll_write(cx, buf);
        self.note(result)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        let result = Pin::new(&mut self.stream).poll_write_vectored(cx, bufs);
        self.note(result)
    }

    fn is_write_vectored(&self) -> bool {
        self.stream.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.stream).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.stream).poll_shutdown(cx)
    }
}

/// One request: rate limit, the dynamic routes, then the snapshot; every answer counted.
async fn handle(
    state: &ServerState,
    peer: IpAddr,
    request: &Request<Incoming>,
) -> Response<Full<Bytes>> {
    let path = request.uri().path();
    let class = metrics::route_class(path.strip_prefix('/').unwrap_or(path));
    let snapshot = state.snapshot.load_full();
    let limited = state
        .limiter
        .as_ref()
        .map(|l| l.check(peer, Instant::now()));
    let response = if let Some(Err(wait)) = limited {
        let mut response = plain(StatusCode::TOO_MANY_REQUESTS, "too many requests\n");
        response
            .headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from(wait));
        response
    } else if path == "/metrics" && matches!(*request.method(), Method::GET | Method::HEAD) {
        let mut response = Response::new(Full::new(Bytes::from(state.metrics.render(&snapshot))));
        response.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
        );
        response
    } else {
        respond(snapshot, request.method(), request.uri(), request.headers()).await
    };
    let coding = response
        .headers()
        .get(header::CONTENT_ENCODING)
        .and_then(|v| v.to_str().ok())
        .map_or(Some(Coding::Identity), |token| match token {
            "br" => Some(Coding::Br),
            "zstd" => Some(Coding::Zstd),
            "gzip" => Some(Coding::Gzip),
            _ => None,
        });
    let bytes = response.body().size_hint().exact().unwrap_or(0) as usize;
    state
        .metrics
        .record(class, response.status().as_u16(), coding, bytes);
    response
}

/// Answers one request from a snapshot. Hot routes are a lookup; cold routes (archive and
/// post pages) and `/status` are rendered on a blocking thread the first time.
pub async fn respond(
    snapshot: Arc<Snapshot>,
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
) -> Response<Full<Bytes>> {
    let head = match *method {
        Method::GET => false,
        Method::HEAD => true,
        _ => {
            let mut response = plain(StatusCode::METHOD_NOT_ALLOWED, "method not allowed\n");
            response
                .headers_mut()
                .insert(header::ALLOW, HeaderValue::from_static("GET, HEAD"));
            return response;
        }
    };
    let path = uri.path();
    let Some(route) = path.strip_prefix('/') else {
        return plain(StatusCode::NOT_FOUND, "not found\n");
    };
    if route == "healthz" {
        return plain(StatusCode::OK, "ok\n");
    }
    if let Some(hot) = snapshot.get(route) {
        return answer(hot, head, headers);
    }
    let resource = if route == "status" {
        let json = wants_json(uri.query(), headers);
        let Some(pages) = snapshot.status.clone() else {
            return plain(StatusCode::NOT_FOUND, "not found\n");
        };
        off_runtime(move || Some(status_resource(&pages, json))).await
    } else if snapshot.contains(route) {
        let route = route.to_string();
        let snapshot = Arc::clone(&snapshot);
        off_runtime(move || snapshot.resource(&route)).await
    } else {
        return redirect_to_folder(&snapshot, path, route);
    };
    match resource {
        Some(resource) => answer(&resource, head, headers),
        None => plain(
            StatusCode::INTERNAL_SERVER_ERROR,
            "could not render this page\n",
        ),
    }
}

/// Runs rendering work on tokio's blocking pool, so request workers stay free.
async fn off_runtime(
    work: impl FnOnce() -> Option<Arc<Resource>> + Send + 'static,
) -> Option<Arc<Resource>> {
    tokio::task::spawn_blocking(work).await.ok().flatten()
}

fn status_resource(pages: &StatusPages, json: bool) -> Arc<Resource> {
    let (html, json_body) = (pages.0)();
    let (media, body) = if json {
        (Media::Status, json_body)
    } else {
        (Media::Html, html)
    };
    let rendered = Rendered {
        path: "status".into(),
        media,
        body,
        last_modified: None,
        lifetime: Lifetime::NoCache,
        link_header: None,
    };
    let cache = crate::config::CacheConfig {
        max_age: 0,
        stale_while_revalidate: 0,
        stale_if_error: 0,
    };
    Arc::new(Resource::new(rendered, Default::default(), &cache))
}

/// Conditional GET, content negotiation and headers for one resource.
fn answer(resource: &Resource, head: bool, headers: &HeaderMap) -> Response<Full<Bytes>> {
    let text = |name| {
        headers
            .get(name)
            .and_then(|v: &HeaderValue| v.to_str().ok())
    };
    let accept_encoding = text(header::ACCEPT_ENCODING);
    let Some(coding) = negotiate::choose(accept_encoding, resource) else {
        return plain(StatusCode::NOT_ACCEPTABLE, "no acceptable content-coding\n");
    };
    let variant = resource
        .variant(coding)
        .expect("negotiate only picks codings we have");
    if conditional::not_modified(
        text(header::IF_NONE_MATCH),
        text(header::IF_MODIFIED_SINCE),
        resource,
    ) {
        let mut response = Response::new(Full::new(Bytes::new()));
        *response.status_mut() = StatusCode::NOT_MODIFIED;
        *response.headers_mut() = HeaderMap::with_capacity(RESPONSE_HEADERS);
        validators(response.headers_mut(), resource, &variant.etag);
        return response;
    }
    let body = if head {
        Bytes::new()
    } else {
        variant.body.clone()
    };
    let mut response = Response::new(Full::new(body));
    // Sized once: growing the map midway would rehash it on every request.
    *response.headers_mut() = HeaderMap::with_capacity(RESPONSE_HEADERS);
    let h = response.headers_mut();
    h.insert(header::CONTENT_TYPE, resource.content_type.clone());
    h.insert(header::CONTENT_LENGTH, variant.content_length.clone());
    if coding != Coding::Identity {
        h.insert(
            header::CONTENT_ENCODING,
            HeaderValue::from_static(coding.token()),
        );
    }
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    if let Some(link) = &resource.link {
        h.insert(header::LINK, link.clone());
    }
    validators(h, resource, &variant.etag);
    if coding == Coding::Identity
        && !resource.is_encoded
        && negotiate::accepts_compression(accept_encoding)
    {
        // Identity stands in for a compressed variant still being made: a shared cache must
        // not keep it for max-age in place of the gzip or br bytes that follow in moments.
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    response
}

/// The most headers [`answer`] sets (hyper adds `Date` while writing).
const RESPONSE_HEADERS: usize = 10;

/// `/status?format=json`, or an `Accept` header preferring JSON.
fn wants_json(query: Option<&str>, headers: &HeaderMap) -> bool {
    let by_query = query.is_some_and(|q| q.split('&').any(|pair| pair == "format=json"));
    let by_accept = headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|accept| accept.contains("application/json") && !accept.contains("text/html"));
    by_query || by_accept
}

/// The headers a `200` and a `304` both carry.
fn validators(h: &mut HeaderMap, resource: &Resource, etag: &HeaderValue) {
    h.insert(header::ETAG, etag.clone());
    if let Some(modified) = &resource.last_modified_header {
        h.insert(header::LAST_MODIFIED, modified.clone());
    }
    h.insert(header::CACHE_CONTROL, resource.cache_control.clone());
    h.insert(header::VARY, HeaderValue::from_static("Accept-Encoding"));
}

/// `/posts/x` → `/posts/x/` when only the folder form exists; otherwise `404`.
fn redirect_to_folder(snapshot: &Snapshot, path: &str, route: &str) -> Response<Full<Bytes>> {
    let folder = format!("{route}/");
    if route.is_empty() || route.ends_with('/') || !snapshot.contains(&folder) {
        return plain(StatusCode::NOT_FOUND, "not found\n");
    }
    let mut response = plain(StatusCode::PERMANENT_REDIRECT, "moved\n");
    if let Ok(location) = HeaderValue::from_str(&format!("{path}/")) {
        response.headers_mut().insert(header::LOCATION, location);
    }
    response
}

fn plain(status: StatusCode, text: &'static str) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::from_static(text.as_bytes())));
    *response.status_mut() = status;
    let h = response.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}
