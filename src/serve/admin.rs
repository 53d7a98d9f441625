//! The admin listener's answers: `/status` (HTML, or JSON with `?format=json` or an
//! `Accept` preferring JSON), `/metrics` and `/healthz`, and nothing else. `/status` shows
//! every post, drafts and scheduled ones included, so it is served only here, never on
//! the public listener.
//!
//! Rules followed:
//!
//! - With `[admin] token` set, every request must carry `Authorization: Bearer <token>`
//!   (RFC 6750 §2.1; the scheme is matched case-insensitively, RFC 9110 §11.1). Without it
//!   the answer is `401` with `WWW-Authenticate: Bearer realm="dropfeed admin"`, and
//!   `error="invalid_token"` when a token was sent but is wrong (RFC 6750 §3). The token is
//!   checked before the method and the path, so nothing is learnt without it.
//! - `GET` and `HEAD` only (others `405`); unknown paths `404`.
//! - No answer here is cached (`no-cache` for `/status`, `no-store` for the rest).

use bytes::Bytes;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::header::{self, HeaderMap, HeaderValue};
use hyper::{Method, Request, Response, StatusCode};

use std::time::Duration;

use super::answer::{answer, plain, starting};
use super::{method_not_allowed, metrics_page, not_found, off_runtime, ServerState};
use crate::config::AdminToken;
use crate::readers::{Readers, ReadersReport};
use std::sync::Arc;

/// How long `/status` and `/metrics` wait for the reader counts before going without.
const REPORT_WAIT: Duration = Duration::from_secs(2);

/// What the admin listener needs besides the server state.
#[derive(Debug, Clone)]
pub struct Admin {
    /// The bearer token every request must carry, when set.
    pub token: Option<AdminToken>,
    /// The reader counts shown on `/status` and `/metrics`, when counted.
    pub readers: Option<Arc<Readers>>,
}

/// Which answer a request to the admin listener gets.
pub(super) async fn route(
    state: &ServerState,
    admin: &Admin,
    request: &Request<Incoming>,
) -> Response<Full<Bytes>> {
    let headers = request.headers();
    if let Some(token) = &admin.token {
        match bearer(headers) {
            Some(given) if token.matches(given) => {}
            given => return unauthorized(given.is_some()),
        }
    }
    let head = match *request.method() {
        Method::GET => false,
        Method::HEAD => true,
        _ => return method_not_allowed(),
    };
    let snapshot = state.snapshot.load_full();
    let uri = request.uri();
    match uri.path() {
        "/healthz" | "/status" if snapshot.is_starting() => starting("healthz"),
        "/healthz" => plain(StatusCode::OK, "ok\n"),
        "/metrics" => {
            let readers = readers_report(admin.readers.as_ref()).await;
            let dropped = admin.readers.as_ref().map_or(0, |r| r.dropped());
            metrics_page(&state.metrics, &snapshot, readers.as_ref(), dropped)
        }
        "/status" if snapshot.has_status() => {
            let json = wants_json(uri.query(), headers);
            let readers = readers_report(admin.readers.as_ref()).await;
            match off_runtime(move || snapshot.status_resource(json, readers)).await {
                Some(resource) => answer(&resource, head, headers),
                None => plain(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "could not render this page\n",
                ),
            }
        }
        _ => not_found(),
    }
}

/// The reader counts of the last 30 days up to today, counting every hit recorded before
/// (waiting for the counting thread off the async runtime).
async fn readers_report(readers: Option<&Arc<Readers>>) -> Option<ReadersReport> {
    let readers = Arc::clone(readers?);
    let asked = move || readers.report(REPORT_WAIT);
    tokio::task::spawn_blocking(asked).await.ok().flatten()
}

/// The credentials of an `Authorization: Bearer …` header, if it has one.
fn bearer(headers: &HeaderMap) -> Option<&[u8]> {
    let value = headers.get(header::AUTHORIZATION)?.as_bytes();
    let space = value.iter().position(|&b| b == b' ')?;
    let (scheme, rest) = value.split_at(space);
    if !scheme.eq_ignore_ascii_case(b"bearer") {
        return None;
    }
    let start = rest.iter().position(|&b| b != b' ')?;
    Some(rest[start..].trim_ascii_end())
}

/// `401`, asking for the bearer token.
fn unauthorized(token_was_sent: bool) -> Response<Full<Bytes>> {
    let mut response = plain(StatusCode::UNAUTHORIZED, "a bearer token is required\n");
    let challenge = if token_was_sent {
        "Bearer realm=\"dropfeed admin\", error=\"invalid_token\""
    } else {
        "Bearer realm=\"dropfeed admin\""
    };
    response.headers_mut().insert(
        header::WWW_AUTHENTICATE,
        HeaderValue::from_static(challenge),
    );
    response
}

/// `/status?format=json`, or an `Accept` header preferring JSON.
fn wants_json(query: Option<&str>, headers: &HeaderMap) -> bool {
    let by_query = query.is_some_and(|q| q.split('&').any(|pair| pair == "format=json"));
    let by_accept = headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|accept| accept.contains("application/json") && !accept.contains("text/html"));
    by_query || by_accept
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with_authorization(value: &[u8]) -> HeaderMap {
        let mut headers = HeaderMap::new();
        let value = HeaderValue::from_bytes(value).expect("a header value");
        headers.insert(header::AUTHORIZATION, value);
        headers
    }

    #[test]
    fn the_bearer_scheme_is_found_whatever_its_case_and_spacing() {
        for (value, token) in [
            (&b"Bearer abc"[..], Some(&b"abc"[..])),
            (b"bearer   abc", Some(b"abc")),
            (b"BEARER abc ", Some(b"abc")),
            (b"Basic YWJj", None),
            (b"Bearer", None),
            (b"Bearerabc", None),
            (b"Bearer ", None),
        ] {
            assert_eq!(bearer(&with_authorization(value)), token, "{value:?}");
        }
        assert_eq!(bearer(&HeaderMap::new()), None);
    }
}
