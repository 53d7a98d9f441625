//! The answer for one resource of the snapshot (RFC 9110): content negotiation, `304`, and
//! the headers every answer carries.
//!
//! - `200` and `304` both carry `ETag`, `Last-Modified`, `Cache-Control` and
//!   `Vary: Accept-Encoding`; `HEAD` carries `GET`'s headers without a body.
//! - `406` when no coding the client accepts is available.
//! - An RSS or Atom feed opened in a browser tab (`Sec-Fetch-Dest: document`, which only
//!   browsers send) is labelled `application/xml`, `Cache-Control: private, no-cache`: the
//!   same bytes, which browsers then show through the feed's `xml-stylesheet` instead of as
//!   text or a download. Feed readers, and shared caches, keep getting the feed's own type.
//! - Every header value is formatted when the resource is made: answering clones them into a
//!   map sized once, and copies no body bytes.

use bytes::Bytes;
use http_body_util::Full;
use hyper::header::{self, HeaderMap, HeaderValue};
use hyper::{Response, StatusCode};

use super::{conditional, negotiate};
use crate::render::Media;
use crate::snapshot::{cache_control, Coding, Resource, Variant};

/// Conditional GET, content negotiation and headers for one resource.
pub(super) fn answer(
    resource: &Resource,
    head: bool,
    headers: &HeaderMap,
) -> Response<Full<Bytes>> {
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
        return not_modified(resource, variant);
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
    representation(h, resource, coding, variant);
    if coding == Coding::Identity
        && !resource.is_encoded
        && negotiate::accepts_compression(accept_encoding)
    {
        // Identity stands in for a compressed variant still being made: a shared cache must
        // not keep it for max-age in place of the gzip or br bytes that follow in moments.
        h.insert(header::CACHE_CONTROL, cache_control::no_store());
    }
    if opened_in_browser(resource, headers) {
        h.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/xml; charset=utf-8"),
        );
        h.insert(
            header::CACHE_CONTROL,
            HeaderValue::from_static("private, no-cache"),
        );
    }
    response
}

/// Whether a browser navigated to an RSS or Atom feed (a person, not a feed reader).
fn opened_in_browser(resource: &Resource, headers: &HeaderMap) -> bool {
    matches!(resource.media, Media::Rss | Media::Atom)
        && headers
            .get("sec-fetch-dest")
            .is_some_and(|dest| dest.as_bytes().eq_ignore_ascii_case(b"document"))
}

/// `304 Not Modified`, with the validators and caching headers of the variant.
fn not_modified(resource: &Resource, variant: &Variant) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::new()));
    *response.status_mut() = StatusCode::NOT_MODIFIED;
    *response.headers_mut() = HeaderMap::with_capacity(RESPONSE_HEADERS);
    validators(response.headers_mut(), resource, &variant.etag);
    response
}

/// The headers of a `200`: what the body is, then the validators.
fn representation(h: &mut HeaderMap, resource: &Resource, coding: Coding, variant: &Variant) {
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
}

/// The most headers [`answer`] sets (hyper adds `Date` while writing).
const RESPONSE_HEADERS: usize = 10;

/// The headers a `200` and a `304` both carry.
fn validators(h: &mut HeaderMap, resource: &Resource, etag: &HeaderValue) {
    h.insert(header::ETAG, etag.clone());
    if let Some(modified) = &resource.last_modified_header {
        h.insert(header::LAST_MODIFIED, modified.clone());
    }
    h.insert(header::CACHE_CONTROL, resource.cache_control.clone());
    h.insert(header::VARY, HeaderValue::from_static("Accept-Encoding"));
}

/// A short text answer that no cache keeps (errors, `/healthz`, redirects).
pub(super) fn plain(status: StatusCode, text: &'static str) -> Response<Full<Bytes>> {
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

/// `503` while the first scan runs (nothing is built yet): `/healthz` says "starting", every
/// other route asks to come back in a second. Not cached, so no cache keeps it past the start.
pub(super) fn starting(route: &str) -> Response<Full<Bytes>> {
    let text = match route {
        "healthz" => "starting\n",
        _ => "starting: the posts are being read, retry shortly\n",
    };
    let mut response = plain(StatusCode::SERVICE_UNAVAILABLE, text);
    response
        .headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
    response
}
