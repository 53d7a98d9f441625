//! The answer for a file beside posts, as a static file server gives it (RFC 9110): the
//! preconditions of §13.2.2 ([`conditional::Conditions`]), then a single range
//! ([`range`]) for `GET`, then the headers and the bytes, streamed from disk.
//!
//! - `200`, `206` and `304` carry `ETag`, `Last-Modified` and `Cache-Control`; `200` and
//!   `206` also `Accept-Ranges: bytes`, `Content-Type`, `Content-Length` and `nosniff`;
//!   `206` and `416` carry `Content-Range`.
//! - The file is opened and checked against what was hashed (size, time, device and
//!   inode) before anything is sent: a file replaced since is answered `503` with
//!   `Retry-After: 1` until the watcher has hashed the new bytes (milliseconds), so an ETag
//!   never names other bytes; a file gone is `404`.
//! - Opening runs on the blocking pool; the bytes follow as the socket takes them
//!   ([`FileBody`]).

use std::fs::File;
use std::io;
use std::sync::Arc;

use bytes::Bytes;
use http_body_util::Full;
use hyper::header::{self, HeaderMap, HeaderValue};
use hyper::{Response, StatusCode};

use super::answer::plain;
use super::body::{FileBody, ResponseBody};
use super::conditional::{Conditions, Preconditions};
use super::range::{ranged, Ranged};
use crate::load::FileStamp;
use crate::snapshot::FileResource;

/// The answer to a `GET` (or `HEAD`) of a file beside posts.
pub(super) async fn answer_file(
    resource: Arc<FileResource>,
    head: bool,
    headers: &HeaderMap,
) -> Response<ResponseBody> {
    let text = |name| {
        headers
            .get(name)
            .and_then(|v: &HeaderValue| v.to_str().ok())
    };
    let conditions = Conditions {
        if_match: text(header::IF_MATCH),
        if_unmodified_since: text(header::IF_UNMODIFIED_SINCE),
        if_none_match: text(header::IF_NONE_MATCH),
        if_modified_since: text(header::IF_MODIFIED_SINCE),
        if_range: text(header::IF_RANGE),
    };
    let (hash, modified) = (resource.file.hash.as_str(), resource.last_modified);
    match conditions.evaluate(hash, modified) {
        Preconditions::Failed => {
            return plain(StatusCode::PRECONDITION_FAILED, "precondition failed\n").map(Into::into)
        }
        Preconditions::NotModified => return not_modified(&resource),
        Preconditions::Pass => {}
    }
    let len = resource.len();
    let range = match text(header::RANGE) {
        Some(range) if !head && conditions.range_allowed(hash, modified) => {
            ranged(Some(range), len)
        }
        _ => Ranged::Whole,
    };
    if range == Ranged::Unsatisfiable {
        return unsatisfiable(len);
    }
    let file = match open(&resource).await {
        Ok(file) => file,
        Err(refusal) => return refusal.map(Into::into),
    };
    let (start, end) = match range {
        Ranged::Part { start, end } => (start, end),
        _ => (0, len.saturating_sub(1)),
    };
    let sent = if len == 0 { 0 } else { end - start + 1 };
    let body = if head || sent == 0 {
        ResponseBody::Bytes(Full::new(Bytes::new()))
    } else {
        ResponseBody::File(FileBody::new(file, resource.file.stamp, start, sent))
    };
    let mut response = Response::new(body);
    let h = response.headers_mut();
    representation(h, &resource, sent);
    if let Ranged::Part { start, end } = range {
        *response.status_mut() = StatusCode::PARTIAL_CONTENT;
        let content_range = format!("bytes {start}-{end}/{len}");
        response
            .headers_mut()
            .insert(header::CONTENT_RANGE, value(&content_range));
    }
    response
}

/// Opens the file and checks it is the one hashed: `Err` holds the answer when it is not.
async fn open(resource: &FileResource) -> Result<File, Response<Full<Bytes>>> {
    let (path, stamp) = (resource.file.real_path.clone(), resource.file.stamp);
    let opened = tokio::task::spawn_blocking(move || -> io::Result<(File, FileStamp)> {
        let file = File::open(&path)?;
        let now = FileStamp::of(&file.metadata()?);
        Ok((file, now))
    })
    .await;
    match opened {
        Ok(Ok((file, now))) if now == stamp => Ok(file),
        Ok(Ok(_)) => {
            let mut changing = plain(
                StatusCode::SERVICE_UNAVAILABLE,
                "this file is changing; try again in a moment\n",
            );
            changing
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
            Err(changing)
        }
        Ok(Err(e)) if e.kind() == io::ErrorKind::NotFound => {
            Err(plain(StatusCode::NOT_FOUND, "not found\n"))
        }
        Ok(Err(e)) => {
            tracing::warn!(file = %resource.file.real_path.display(), "cannot open: {e}");
            Err(plain(
                StatusCode::INTERNAL_SERVER_ERROR,
                "cannot read this file\n",
            ))
        }
        Err(_) => Err(plain(
            StatusCode::INTERNAL_SERVER_ERROR,
            "cannot read this file\n",
        )),
    }
}

/// The headers of a `200` or `206` sending `sent` bytes.
fn representation(h: &mut HeaderMap, resource: &FileResource, sent: u64) {
    h.insert(header::CONTENT_TYPE, resource.content_type.clone());
    h.insert(header::CONTENT_LENGTH, HeaderValue::from(sent));
    h.insert(header::ACCEPT_RANGES, HeaderValue::from_static("bytes"));
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    if let Some(sandbox) = &resource.sandbox {
        h.insert(header::CONTENT_SECURITY_POLICY, sandbox.clone());
    }
    validators(h, resource);
}

/// The headers a `200`, `206` and `304` all carry.
fn validators(h: &mut HeaderMap, resource: &FileResource) {
    h.insert(header::ETAG, resource.etag.clone());
    if let Some(modified) = &resource.last_modified_header {
        h.insert(header::LAST_MODIFIED, modified.clone());
    }
    h.insert(header::CACHE_CONTROL, resource.cache_control.clone());
}

/// `304 Not Modified`, with the validators and caching headers.
fn not_modified(resource: &FileResource) -> Response<ResponseBody> {
    let mut response = Response::new(ResponseBody::Bytes(Full::new(Bytes::new())));
    *response.status_mut() = StatusCode::NOT_MODIFIED;
    validators(response.headers_mut(), resource);
    response
}

/// `416 Range Not Satisfiable`, saying how long the file is.
fn unsatisfiable(len: u64) -> Response<ResponseBody> {
    let mut response = plain(StatusCode::RANGE_NOT_SATISFIABLE, "range not satisfiable\n");
    let content_range = value(&format!("bytes */{len}"));
    response
        .headers_mut()
        .insert(header::CONTENT_RANGE, content_range);
    response.map(Into::into)
}

fn value(text: &str) -> HeaderValue {
    HeaderValue::from_str(text).expect("a Content-Range of digits is a valid header value")
}
