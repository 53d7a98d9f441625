//! `Cache-Control`: how long each kind of answer may be kept, decided in this one place for
//! what `serve` sends and for the nginx and Caddy configurations `dropfeed build` writes.
//!
//! Rules followed (RFC 9111, RFC 5861 for the `stale-*` extensions, RFC 8246 for
//! `immutable`):
//!
//! - A live resource (subscription and tag feeds, HTML pages) is `public` for the configured `max-age`; afterwards a cache may answer with it while it
//!   revalidates (`stale-while-revalidate`) and while the origin fails (`stale-if-error`).
//! - An archive page (always whole) does not change as posts are added (RFC 5005 §4): a
//!   year, `immutable`, so browsers do not revalidate it even on reload.
//! - `/status` changes with every rebuild: `no-cache`, revalidated on every use.
//! - Error answers, and identity bytes standing in for compressed variants still being made,
//!   are `no-store`: no cache may keep them in place of the answer that follows.

use hyper::header::HeaderValue;

use crate::config::CacheConfig;
use crate::render::Lifetime;

/// One year in seconds: how long an archive page is cached.
const YEAR: u64 = 365 * 24 * 3600;

/// The `Cache-Control` directives for a resource of this lifetime.
pub fn directives(cache: &CacheConfig, lifetime: Lifetime) -> String {
    match lifetime {
        Lifetime::Live => format!(
            "public, max-age={}, stale-while-revalidate={}, stale-if-error={}",
            cache.max_age, cache.stale_while_revalidate, cache.stale_if_error
        ),
        Lifetime::Immutable => format!("public, max-age={YEAR}, immutable"),
        Lifetime::NoCache => "no-cache".to_string(),
    }
}

/// [`directives`] as a header value, made once per resource rather than per request.
pub fn header(cache: &CacheConfig, lifetime: Lifetime) -> HeaderValue {
    HeaderValue::from_str(&directives(cache, lifetime))
        .expect("Cache-Control directives are visible ASCII")
}

/// `no-store`, for error answers and for identity bytes sent while the compressed variants
/// they stand in for are still being made. Static: no allocation on the request path.
pub fn no_store() -> HeaderValue {
    HeaderValue::from_static("no-store")
}
