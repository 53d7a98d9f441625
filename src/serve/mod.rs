//! The HTTP server: hyper 1.x over HTTP/1.1 and HTTP/2, answering every request from the
//! current [`Snapshot`] (loaded once per request, lock-free, via arc-swap).
//!
//! - [`connections`]: accepting, connection slots, idle deadlines, draining on shutdown.
//! - `route` (below): the one routing function: which answer a request gets.
//! - `admin`: the admin listener's answers (`/status`, `/metrics`, `/healthz`, bearer token).
//! - `answer`: a resource's answer: negotiation, `304`, headers.
//! - `file`: a file beside posts' answer: preconditions, ranges, streaming ([`body`]).
//! - [`negotiate`]: which content-coding to send.
//! - [`conditional`]: when to answer `304` (and `412`, for files).
//! - [`range`]: which bytes a `Range` header asks for.
//! - [`client`]: who the client is (the peer, or what a trusted proxy forwards), IPv6 by /64.
//! - [`limit`]: optional polite limits per client and feed (`304`s never limited).
//! - [`access_log`]: the optional access log, written by a thread of its own.
//!
//! Rules followed (RFC 9110): `GET` and `HEAD` only (others `405` with `Allow`); `HEAD`
//! carries `GET`'s headers without a body; `304` repeats `ETag`, `Last-Modified`,
//! `Cache-Control` and `Vary`; unknown routes `404`; a folder route without its slash is
//! redirected (`308`). Routing is a map lookup: no request path ever reaches the disk (a
//! `/files/` path is looked up among the files published posts link to, whose place on disk
//! the snapshot holds). A hot resource is answered without a lock, a disk read or
//! compression; rendering (cold pages, `/status`) runs on the blocking pool.
//!
//! Two listeners share this code: the public one ([`run`]) serves the site and `/healthz`
//! and answers `/status` and `/metrics` like any route that does not exist (`404`): they tell
//! of drafts and scheduled posts. The admin one ([`run_admin`]) serves only those.

pub mod access_log;
mod admin;
mod answer;
pub mod body;
pub mod client;
pub mod conditional;
pub mod connections;
mod file;
pub mod limit;
pub mod negotiate;
pub mod range;

use std::future::Future;
use std::net::IpAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::Full;
use hyper::body::{Body, Incoming};
use hyper::header::{self, HeaderValue};
use hyper::{Method, Request, Response, StatusCode};
use tokio::net::TcpListener;

use crate::config::{ServerConfig, TrustedProxies};
use crate::metrics::{self, Metrics};
use crate::readers::{self, Hit, Polled, Readers};
use crate::snapshot::{Coding, Cold, Resource, SharedSnapshot, Snapshot};

use access_log::{AccessLog, Record};
pub use admin::Admin;
use answer::{answer, plain};
use body::ResponseBody;
use connections::Connections;
use limit::RateLimiter;

/// What every connection shares.
#[derive(Debug)]
pub struct ServerState {
    /// The snapshot answered from.
    pub snapshot: SharedSnapshot,
    /// Request counters.
    pub metrics: Arc<Metrics>,
    /// Per-client limit, when configured.
    pub limiter: Option<RateLimiter>,
    /// The access log, when `[log] access` is on.
    pub access_log: Option<AccessLog>,
    /// Set on the admin listener: it answers only the admin routes.
    pub admin: Option<Admin>,
    /// Counting readers, when on: the public listener records polls and downloads, the
    /// admin one shows them.
    pub readers: Option<Arc<Readers>>,
    /// Proxies whose forwarding headers name the client.
    pub trusted_proxies: TrustedProxies,
}

/// Serves `snapshot` on `listener` until `shutdown` resolves, then lets in-flight requests
/// finish for up to the configured drain timeout.
pub async fn run(
    listener: TcpListener,
    snapshot: SharedSnapshot,
    metrics: Arc<Metrics>,
    limits: ServerConfig,
    access_log: Option<AccessLog>,
    readers: Option<Arc<Readers>>,
    shutdown: impl Future<Output = ()>,
) -> std::io::Result<()> {
    let state = ServerState {
        snapshot,
        metrics,
        limiter: limits.rate_limit_per_minute.map(RateLimiter::new),
        access_log,
        admin: None,
        readers,
        trusted_proxies: limits.trusted_proxies.clone(),
    };
    serve_on(listener, state, &limits, shutdown).await
}

/// Serves the admin routes (`/status`, `/metrics`, `/healthz`) of `snapshot` on `listener`
/// until `shutdown` resolves, with the same connection limits as the public listener but no
/// per-client rate limit and no access log.
pub async fn run_admin(
    listener: TcpListener,
    snapshot: SharedSnapshot,
    metrics: Arc<Metrics>,
    limits: ServerConfig,
    admin: Admin,
    shutdown: impl Future<Output = ()>,
) -> std::io::Result<()> {
    let state = ServerState {
        snapshot,
        metrics,
        limiter: None,
        access_log: None,
        readers: admin.readers.clone(),
        admin: Some(admin),
        trusted_proxies: TrustedProxies::default(),
    };
    serve_on(listener, state, &limits, shutdown).await
}

/// Accepts, admits and serves connections on `listener` until `shutdown` resolves, then
/// drains them.
async fn serve_on(
    listener: TcpListener,
    state: ServerState,
    limits: &ServerConfig,
    shutdown: impl Future<Output = ()>,
) -> std::io::Result<()> {
    let connections = Connections::new(limits, Arc::clone(&state.metrics));
    let state = Arc::new(state);
    tokio::pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            accepted = connections.accept(&listener) => accepted,
            () = &mut shutdown => break,
        };
        let slot = tokio::select! {
            slot = connections.admit() => slot,
            () = &mut shutdown => break,
        };
        connections.spawn(stream, peer.ip(), slot, Arc::clone(&state));
    }
    drop(listener);
    connections.drain().await;
    if state.access_log.is_some() {
        // Waits until the writer has written the last lines: off the async workers.
        let state = Arc::clone(&state);
        let flushed = tokio::task::spawn_blocking(move || {
            if let Some(log) = &state.access_log {
                log.flush(Duration::from_secs(2));
            }
        });
        let _ = flushed.await;
    }
    Ok(())
}

/// One request, answered by [`route`] and counted in the metrics.
async fn handle(
    state: &ServerState,
    peer: IpAddr,
    request: &Request<Incoming>,
) -> Response<ResponseBody> {
    let path = request.uri().path();
    let class = metrics::route_class(path.strip_prefix('/').unwrap_or(path));
    let arrived = Instant::now();
    let client = client::client_addr(peer, request.headers(), &state.trusted_proxies);
    let response = route(state, client, request).await;
    state.metrics.record_duration(class, arrived.elapsed());
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
    let status = response.status().as_u16();
    state.metrics.record(class, status, coding, bytes);
    if let Some(log) = &state.access_log {
        let record = Record::of(request, client, status, bytes as u64, arrived.elapsed());
        if !log.record(record) {
            state.metrics.access_log_dropped();
        }
    }
    response
}

/// Which answer a request gets. On the admin listener, see `admin`. On the public one, in
/// order: `405` for methods other than `GET` and `HEAD`, `429` for an unconditional request
/// past the polite limit (see [`limit`]), then the answer of [`route_public`], itself turned
/// into a `429` past the limit unless it is a `304`: `503` with `Retry-After` for every route
/// while the first scan runs (`/healthz`: "starting"), a file beside posts (`/files/…`, a
/// lookup), `/healthz`, a hot resource (a lookup), cold pages (rendered off the async
/// runtime), an old address (`301`, only when no resource has the route), a folder route
/// without its slash (`308`), and `404` for anything else (`/status` and `/metrics`
/// included). Feed polls and episode downloads are handed to the reader count.
async fn route(
    state: &ServerState,
    client: IpAddr,
    request: &Request<Incoming>,
) -> Response<ResponseBody> {
    if let Some(admin) = &state.admin {
        return admin::route(state, admin, request).await.map(Into::into);
    }
    let head = match *request.method() {
        Method::GET => false,
        Method::HEAD => true,
        _ => return method_not_allowed().map(Into::into),
    };
    let Some(route) = request.uri().path().strip_prefix('/') else {
        return not_found().map(Into::into);
    };
    let feed = readers::is_subscription_feed(route);
    let group = client::client_group(client);
    let now = Instant::now();
    let limit = state.limiter.as_ref().map(|limiter| {
        // Only feeds that exist get buckets of their own: made-up feed paths cannot grow
        // the limiter's memory.
        let own = feed && state.snapshot.load().contains(route);
        (limiter, limiter.key(group, own.then_some(route)))
    });
    let refused = limit.and_then(|(l, key)| l.peek(key, now).err());
    if let Some(wait) = refused.filter(|_| !conditional(request.headers())) {
        return too_many_requests(wait).map(Into::into);
    }
    let response = route_public(state, group, route, head, request).await;
    let status = response.status();
    if let Some((limiter, key)) = limit.filter(|_| status != StatusCode::NOT_MODIFIED) {
        if let Some(wait) = refused {
            return too_many_requests(wait).map(Into::into);
        }
        limiter.take(key, now);
    }
    if feed && matches!(status, StatusCode::OK | StatusCode::NOT_MODIFIED) {
        if let Some(path) = request.uri().path_and_query() {
            count(state, group, request, Polled::Feed(path.clone()));
        }
    }
    response
}

/// Whether a request carries a validator that may earn it a `304`.
fn conditional(headers: &header::HeaderMap) -> bool {
    headers.contains_key(header::IF_NONE_MATCH) || headers.contains_key(header::IF_MODIFIED_SINCE)
}

/// Hands a poll or a download to the reader count, when it is on.
fn count(state: &ServerState, group: IpAddr, request: &Request<Incoming>, what: Polled) {
    if let Some(readers) = &state.readers {
        readers.record(Hit {
            client: group,
            agent: request.headers().get(header::USER_AGENT).cloned(),
            what,
        });
    }
}

/// The public answer to a `GET` or `HEAD` of `route`: a file beside posts (`/files/…`, a
/// lookup; an episode's download is counted), or [`route_page`].
async fn route_public(
    state: &ServerState,
    group: IpAddr,
    route: &str,
    head: bool,
    request: &Request<Incoming>,
) -> Response<ResponseBody> {
    let snapshot = state.snapshot.load_full();
    if snapshot.is_starting() {
        return answer::starting(route).map(Into::into);
    }
    let Some(path) = crate::post::links::path_of_file_route(route) else {
        return route_page(snapshot, route, head, request)
            .await
            .map(Into::into);
    };
    let Some(found) = snapshot.file(&path) else {
        return page_not_found(&snapshot, head).map(Into::into);
    };
    let response = file::answer_file(Arc::clone(found), head, request.headers()).await;
    let sent = matches!(
        response.status(),
        StatusCode::OK | StatusCode::PARTIAL_CONTENT
    );
    if let (Some(episode), true, false) = (&found.episode, sent, head) {
        count(state, group, request, Polled::Episode(Arc::clone(episode)));
    }
    response
}

/// The answer from the snapshot's pages and feeds, `/healthz`, and old addresses.
async fn route_page(
    snapshot: Arc<Snapshot>,
    route: &str,
    head: bool,
    request: &Request<Incoming>,
) -> Response<Full<Bytes>> {
    let (path, headers) = (request.uri().path(), request.headers());
    if route == "healthz" {
        return plain(StatusCode::OK, "ok\n");
    }
    if let Some(hot) = snapshot.get(route) {
        return answer(hot, head, headers);
    }
    let rendered = if let Some(cold) = snapshot.cold_route(route) {
        cold_page(cold).await
    } else if let Some(location) = snapshot.redirect(route) {
        return moved_permanently(location);
    } else {
        return redirect_to_folder(&snapshot, path, route, head);
    };
    match rendered {
        Some(resource) => answer(&resource, head, headers),
        None => plain(
            StatusCode::INTERNAL_SERVER_ERROR,
            "could not render this page\n",
        ),
    }
}

/// A cold page: cached, rendered for another request meanwhile (one render serves them
/// all), or rendered now on the blocking pool.
async fn cold_page(cold: Cold) -> Option<Arc<Resource>> {
    match cold {
        Cold::Ready(resource) => Some(resource),
        Cold::Rendering(pending) => pending.wait().await,
        Cold::Render(ticket) => off_runtime(move || ticket.render()).await,
    }
}

/// Runs rendering work on tokio's blocking pool, so request workers stay free.
async fn off_runtime(
    work: impl FnOnce() -> Option<Arc<Resource>> + Send + 'static,
) -> Option<Arc<Resource>> {
    tokio::task::spawn_blocking(work).await.ok().flatten()
}

/// `/metrics`: Prometheus text, made on every scrape, with the reader counts when kept.
fn metrics_page(
    metrics: &Metrics,
    snapshot: &Snapshot,
    readers: Option<&readers::ReadersReport>,
    dropped: u64,
) -> Response<Full<Bytes>> {
    let mut text = metrics.render(snapshot);
    if let Some(report) = readers {
        readers::exposition::render(&mut text, report, dropped);
    }
    let mut response = Response::new(Full::new(Bytes::from(text)));
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
    );
    response
}

/// `/posts/x` → `/posts/x/` when only the folder form exists; otherwise `404`.
fn redirect_to_folder(
    snapshot: &Snapshot,
    path: &str,
    route: &str,
    head: bool,
) -> Response<Full<Bytes>> {
    let folder = format!("{route}/");
    if route.is_empty() || route.ends_with('/') || !snapshot.contains(&folder) {
        return page_not_found(snapshot, head);
    }
    let mut response = plain(StatusCode::PERMANENT_REDIRECT, "moved\n");
    if let Ok(location) = HeaderValue::from_str(&format!("{path}/")) {
        response.headers_mut().insert(header::LOCATION, location);
    }
    response
}

/// `301` to an old address's new absolute URL (`[redirects]`, post aliases).
fn moved_permanently(location: &str) -> Response<Full<Bytes>> {
    let mut response = plain(StatusCode::MOVED_PERMANENTLY, "moved\n");
    if let Ok(location) = HeaderValue::from_str(location) {
        response.headers_mut().insert(header::LOCATION, location);
    }
    response
}

/// `429`, with how many seconds to wait.
fn too_many_requests(wait: u64) -> Response<Full<Bytes>> {
    let mut response = plain(StatusCode::TOO_MANY_REQUESTS, "too many requests\n");
    response
        .headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from(wait));
    response
}

/// `405`, with the methods that are allowed.
fn method_not_allowed() -> Response<Full<Bytes>> {
    let mut response = plain(StatusCode::METHOD_NOT_ALLOWED, "method not allowed\n");
    response
        .headers_mut()
        .insert(header::ALLOW, HeaderValue::from_static("GET, HEAD"));
    response
}

/// `404` with the theme's not-found page, which leads a person home (plain text when the
/// snapshot has none).
fn page_not_found(snapshot: &Snapshot, head: bool) -> Response<Full<Bytes>> {
    let Some(page) = snapshot.get(crate::render::html::NOT_FOUND_ROUTE) else {
        return not_found();
    };
    let body = match head {
        true => Bytes::new(),
        false => page.identity.body.clone(),
    };
    let mut response = Response::new(Full::new(body));
    *response.status_mut() = StatusCode::NOT_FOUND;
    let h = response.headers_mut();
    h.insert(header::CONTENT_TYPE, page.content_type.clone());
    h.insert(
        header::CACHE_CONTROL,
        crate::snapshot::cache_control::no_store(),
    );
    response
}

/// `404`.
fn not_found() -> Response<Full<Bytes>> {
    plain(StatusCode::NOT_FOUND, "not found\n")
}
