//! The HTTP server: hyper 1.x over HTTP/1.1 and HTTP/2, answering every request from the
//! current [`Snapshot`] (loaded once per request, lock-free, via arc-swap).
//!
//! - [`negotiate`]: which content-coding to send.
//! - [`conditional`]: when to answer `304`.
//!
//! Rules followed (RFC 9110): `GET` and `HEAD` only (others `405` with `Allow`); `HEAD`
//! carries `GET`'s headers without a body; `304` repeats `ETag`, `Last-Modified`,
//! `Cache-Control` and `Vary`; unknown routes `404`; a folder route without its slash is
//! redirected (`308`). Routing is a map lookup: no request path ever reaches the disk.

pub mod conditional;
pub mod negotiate;

use std::convert::Infallible;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use arc_swap::ArcSwap;
use bytes::Bytes;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::header::{self, HeaderMap, HeaderValue};
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use hyper_util::server::graceful::GracefulShutdown;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;

use crate::config::ServerConfig;
use crate::snapshot::{Coding, Resource, Snapshot};

/// The snapshot the server answers from; the watcher swaps in new ones.
pub type SharedSnapshot = Arc<ArcSwap<Snapshot>>;

/// How long in-flight requests get to finish after a shutdown signal.
const DRAIN_TIMEOUT: Duration = Duration::from_secs(10);

/// Serves `snapshot` on `listener` until `shutdown` resolves, then lets in-flight requests
/// finish (for up to ten seconds).
pub async fn run(
    listener: TcpListener,
    snapshot: SharedSnapshot,
    limits: ServerConfig,
    shutdown: impl Future<Output = ()>,
) -> std::io::Result<()> {
    let graceful = GracefulShutdown::new();
    // A connection holds a permit for its lifetime; past the cap, new ones wait in the
    // kernel's listen queue instead of starving those already being served.
    let permits = Arc::new(Semaphore::new(limits.max_connections));
    let builder = connection_builder(&limits);
    tokio::pin!(shutdown);
    loop {
        let permit = tokio::select! {
            permit = Arc::clone(&permits).acquire_owned() => permit.expect("semaphore is never closed"),
            () = &mut shutdown => break,
        };
        let (stream, _peer) = tokio::select! {
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
        let snapshot = Arc::clone(&snapshot);
        let service = hyper::service::service_fn(move |request: Request<Incoming>| {
            let current = snapshot.load();
            let response = respond(
                &current,
                request.method(),
                request.uri().path(),
                request.headers(),
            );
            async move { Ok::<_, Infallible>(response) }
        });
        let connection = builder
            .serve_connection(TokioIo::new(stream), service)
            .into_owned();
        let connection = graceful.watch(connection);
        tokio::spawn(async move {
            let _ = connection.await;
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
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_timeout)
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

/// Answers one request from a snapshot. Pure: everything it needs is in its arguments.
pub fn respond(
    snapshot: &Snapshot,
    method: &Method,
    path: &str,
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
    let Some(route) = path.strip_prefix('/') else {
        return plain(StatusCode::NOT_FOUND, "not found\n");
    };
    if route == "healthz" {
        return plain(StatusCode::OK, "ok\n");
    }
    let Some(resource) = snapshot.get(route) else {
        return redirect_to_folder(snapshot, path, route);
    };
    let text = |name| {
        headers
            .get(name)
            .and_then(|v: &HeaderValue| v.to_str().ok())
    };
    let Some(coding) = negotiate::choose(text(header::ACCEPT_ENCODING), resource) else {
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
        validators(response.headers_mut(), resource, &variant.etag);
        return response;
    }
    let body = if head {
        Bytes::new()
    } else {
        variant.body.clone()
    };
    let mut response = Response::new(Full::new(body));
    let h = response.headers_mut();
    h.insert(header::CONTENT_TYPE, resource.content_type.clone());
    h.insert(
        header::CONTENT_LENGTH,
        HeaderValue::from(variant.body.len()),
    );
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
    validators(h, resource, &variant.etag);
    response
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
    if route.is_empty() || route.ends_with('/') || snapshot.get(&folder).is_none() {
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
