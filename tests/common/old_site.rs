//! An old site for import tests: a small HTTP server on 127.0.0.1:0 serving fixed documents
//! with `ETag` and `Last-Modified`, answering `304` to a matching conditional `GET`, and
//! counting requests. Stopped when dropped.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use bytes::Bytes;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;

/// One document the old site serves.
#[derive(Clone)]
pub struct Document {
    /// `Content-Type`.
    pub content_type: &'static str,
    /// The bytes.
    pub body: String,
}

/// The running old site.
pub struct OldSite {
    /// Where it listens.
    pub addr: SocketAddr,
    /// Requests answered so far.
    pub requests: Arc<AtomicUsize>,
    task: tokio::task::JoinHandle<()>,
}

impl OldSite {
    /// Serves `documents` by path; `{base}` in a body is replaced by `http://ADDR`.
    pub async fn start(documents: Vec<(&str, Document)>) -> OldSite {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("address");
        let base = format!("http://{addr}");
        let documents: HashMap<String, Document> = documents
            .into_iter()
            .map(|(path, mut doc)| {
                doc.body = doc.body.replace("{base}", &base);
                (path.to_string(), doc)
            })
            .collect();
        let documents = Arc::new(documents);
        let requests = Arc::new(AtomicUsize::new(0));
        let counter = Arc::clone(&requests);
        let task = tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    return;
                };
                let documents = Arc::clone(&documents);
                let counter = Arc::clone(&counter);
                tokio::spawn(async move {
                    let service = service_fn(move |request| {
                        counter.fetch_add(1, Ordering::Relaxed);
                        let answer = answer(&documents, &request);
                        async move { Ok::<_, std::convert::Infallible>(answer) }
                    });
                    let _ = http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
        });
        OldSite {
            addr,
            requests,
            task,
        }
    }

    /// `http://ADDR{path}`.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }
}

impl Drop for OldSite {
    fn drop(&mut self) {
        self.task.abort();
    }
}

const LAST_MODIFIED: &str = "Wed, 01 Jan 2025 00:00:00 GMT";

fn answer(
    documents: &HashMap<String, Document>,
    request: &Request<Incoming>,
) -> Response<Full<Bytes>> {
    let Some(doc) = documents.get(request.uri().path()) else {
        let mut response = Response::new(Full::new(Bytes::from_static(b"not found")));
        *response.status_mut() = StatusCode::NOT_FOUND;
        return response;
    };
    let etag = format!("\"{}\"", blake3::hash(doc.body.as_bytes()).to_hex());
    let header = |name: &str| request.headers().get(name).and_then(|v| v.to_str().ok());
    let fresh = header("if-none-match").is_some_and(|v| v.contains(&etag))
        || (header("if-none-match").is_none()
            && header("if-modified-since") == Some(LAST_MODIFIED));
    let mut response = if fresh {
        let mut r = Response::new(Full::new(Bytes::new()));
        *r.status_mut() = StatusCode::NOT_MODIFIED;
        r
    } else {
        Response::new(Full::new(Bytes::from(doc.body.clone())))
    };
    let headers = response.headers_mut();
    headers.insert(
        "content-type",
        doc.content_type.parse().expect("a header value"),
    );
    headers.insert("etag", etag.parse().expect("a header value"));
    headers.insert(
        "last-modified",
        LAST_MODIFIED.parse().expect("a header value"),
    );
    response
}
