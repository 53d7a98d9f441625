//! The HTTP server: hyper 1.x over HTTP/1.1 and HTTP/2, answering every request from the
//! current [`Snapshot`] (loaded once per request, lock-free, via arc-swap).
//!
//! - [`negotiate`]: which content-coding to send.
//! - [`conditional`]: when to answer `304`.
//! - [`limit`]: optional per-client rate limiting.
//! - [`connections`]: connection slots, idle deadlines, making room at the cap.
//!
//! Rules followed (RFC 9110): `GET` and `HEAD` only (others `405` with `Allow`); `HEAD`
//! carries `GET`'s headers without a body; `304` repeats `ETag`, `Last-Modified`,
//! `Cache-Control` and `Vary`; unknown routes `404`; a folder route without its slash is
//! redirected (`308`). Routing is a map lookup: no request path ever reaches the disk.

pub mod conditional;
pub mod connections;
pub mod limit;
pub mod negotiate;

use std::convert::Infallible;
use std::future::Future;
use std::net::IpAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::Full;
use hyper::body::Body;
use hyper::body::Incoming;
use hyper::header::{self, HeaderMap, HeaderValue};
use hyper::{Method, Request, Response, StatusCode, Uri};
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;

use crate::config::ServerConfig;
use crate::metrics::{self, Metrics};
use crate::snapshot::{cache_control, Coding, Cold, Resource, SharedSnapshot, Snapshot};

use connections::{Close, Deadlines, Slot, Slots, Tracked};
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
}

/// Serves `snapshot` on `listener` until `shutdown` resolves, then lets in-flight requests
/// finish for up to the configured drain timeout.
pub async fn run(
    listener: TcpListener,
    snapshot: SharedSnapshot,
    metrics: Arc<Metrics>,
    limits: ServerConfig,
    shutdown: impl Future<Output = ()>,
) -> std::io::Result<()> {
    let slots = Arc::new(Slots::new(limits.max_connections, Arc::clone(&metrics)));
    // Every connection holds a receiver: the sender sees them all gone once drained.
    let (stop, stopping) = watch::channel(false);
    let builder = connection_builder(&limits);
    let deadlines = Deadlines {
        header: limits.header_timeout,
        idle: limits.idle_timeout,
    };
    let state = Arc::new(ServerState {
        snapshot,
        metrics,
        limiter: limits.rate_limit_per_minute.map(RateLimiter::new),
    });
    tokio::pin!(shutdown);
    loop {
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
        let slot = tokio::select! {
            slot = slots.admit() => slot,
            () = &mut shutdown => break,
        };
        let _ = stream.set_nodelay(true);
        tokio::spawn(serve_connection(
            stream,
            peer.ip(),
            slot,
            Arc::clone(&state),
            builder.clone(),
            deadlines,
            stopping.clone(),
        ));
    }
    drop(listener);
    let _ = stop.send(true);
    drop(stopping);
    tokio::select! {
        () = stop.closed() => {}
        () = tokio::time::sleep(limits.drain_timeout) => tracing::warn!("some connections did not finish in time"),
    }
    Ok(())
}

/// One connection, from its first bytes to its close.
async fn serve_connection(
    stream: TcpStream,
    peer: IpAddr,
    slot: Slot,
    state: Arc<ServerState>,
    builder: auto::Builder<TokioExecutor>,
    deadlines: Deadlines,
    mut stopping: watch::Receiver<bool>,
) {
    let conn = Arc::clone(slot.conn());
    let http2 = match conn
        .protocol(&stream, deadlines.header, &mut stopping)
        .await
    {
        Some(http2) => http2,
        None => return slot.closed_idle(),
    };
    let service = hyper::service::service_fn({
        let conn = Arc::clone(&conn);
        move |request: Request<Incoming>| {
            let state = Arc::clone(&state);
            let conn = Arc::clone(&conn);
            async move {
                conn.begin();
                let response = handle(&state, peer, &request).await;
                conn.end();
                Ok::<_, Infallible>(response)
            }
        }
    });
    let io = TokioIo::new(Tracked::new(stream, Arc::clone(&conn), http2));
    let connection = builder.serve_connection(io, service);
    tokio::pin!(connection);
    let close = tokio::select! {
        _ = connection.as_mut() => return,
        close = conn.until_close(deadlines, http2, &mut stopping) => close,
    };
    if close == Close::Idle {
        slot.closed_idle();
    }
    if close == Close::Idle && !http2 {
        // No HTTP/1 request came in time: there is nothing to finish.
        return;
    }
    // A request that began meanwhile is answered; HTTP/2 clients get a GOAWAY.
    connection.as_mut().graceful_shutdown();
    match close.grace(deadlines.header) {
        Some(grace) => {
            let _ = tokio::time::timeout(grace, connection).await;
        }
        // Shutting down: the server's drain deadline bounds it.
        None => {
            let _ = connection.await;
        }
    }
}

fn connection_builder(limits: &ServerConfig) -> auto::Builder<TokioExecutor> {
    let mut builder = auto::Builder::new(TokioExecutor::new());
    // The deadlines are [`connections::Conn::until_close`]'s, not hyper's
    // `header_read_timeout`: that one arms and cancels a timer for every request, and has no
    // HTTP/2 counterpart.
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
        // Pings find dead peers with streams in flight; an idle connection is closed after
        // idle_timeout whether it answers them or not.
        .keep_alive_interval(Some(limits.idle_timeout))
        .keep_alive_timeout(Duration::from_secs(20));
    builder
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
/// post pages) are rendered on a blocking thread the first time (once, however many requests
/// want them meanwhile), `/status` every time.
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
        if !snapshot.has_status() {
            return plain(StatusCode::NOT_FOUND, "not found\n");
        }
        off_runtime(move || snapshot.status_resource(json)).await
    } else if let Some(cold) = snapshot.cold_route(route) {
        match cold {
            Cold::Ready(resource) => Some(resource),
            // The same page requested while it renders: one render serves them all.
            Cold::Rendering(pending) => pending.wait().await,
            Cold::Render(ticket) => off_runtime(move || ticket.render()).await,
        }
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
        h.insert(header::CACHE_CONTROL, cache_control::no_store());
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
    h.insert(header::CACHE_CONTROL, cache_control::no_store());
    response
}
