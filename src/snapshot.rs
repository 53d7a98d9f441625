//! Rendered resources → [`Snapshot`]: an immutable map from route to ready bytes and headers.
//! Every encoding is compressed here, once, off the request path; a request only looks up.
//!
//! Validators: the ETag is a hash of the identity bytes, so a rebuild that changes nothing
//! changes no ETag, and replicas over the same posts agree. Each content-coding is its own
//! representation with its own strong ETag (`"h"`, `"h-br"`, `"h-zst"`, `"h-gz"`), all
//! sharing the hash, so a client is answered `304` whichever coding it received.

use std::collections::HashMap;
use std::io::Write;
use std::sync::Arc;

use bytes::Bytes;
use chrono::{DateTime, Utc};
use hyper::header::HeaderValue;

use crate::config::CacheConfig;
use crate::render::{Lifetime, Media, Rendered};

/// A content-coding we precompress.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Coding {
    /// Brotli.
    Br,
    /// Zstandard.
    Zstd,
    /// gzip.
    Gzip,
    /// No coding.
    Identity,
}

impl Coding {
    /// The `Content-Encoding` token.
    pub fn token(self) -> &'static str {
        match self {
            Coding::Br => "br",
            Coding::Zstd => "zstd",
            Coding::Gzip => "gzip",
            Coding::Identity => "identity",
        }
    }

    /// The suffix of this coding's ETag and of its file in a static export.
    pub fn suffix(self) -> &'static str {
        match self {
            Coding::Br => "br",
            Coding::Zstd => "zst",
            Coding::Gzip => "gz",
            Coding::Identity => "",
        }
    }
}

/// One representation: bytes and the strong ETag that names them.
#[derive(Debug, Clone)]
pub struct Variant {
    /// The bytes sent.
    pub body: Bytes,
    /// `ETag` header value.
    pub etag: HeaderValue,
}

/// A resource ready to serve.
#[derive(Debug)]
pub struct Resource {
    /// Format.
    pub media: Media,
    /// `Content-Type`.
    pub content_type: HeaderValue,
    /// Hex hash of the identity bytes; the opaque part of every variant's ETag.
    pub hash: String,
    /// Identity bytes.
    pub identity: Variant,
    /// Precompressed variants, only where smaller than identity.
    pub encoded: Vec<(Coding, Variant)>,
    /// Newest `updated` of what the resource shows.
    pub last_modified: Option<DateTime<Utc>>,
    /// `Last-Modified` header value.
    pub last_modified_header: Option<HeaderValue>,
    /// `Cache-Control` header value.
    pub cache_control: HeaderValue,
    /// Caching class.
    pub lifetime: Lifetime,
    /// `Link` header, when the resource announces a WebSub hub.
    pub link: Option<HeaderValue>,
}

impl Resource {
    /// The variant for a coding, if we have it.
    pub fn variant(&self, coding: Coding) -> Option<&Variant> {
        if coding == Coding::Identity {
            return Some(&self.identity);
        }
        self.encoded
            .iter()
            .find(|(c, _)| *c == coding)
            .map(|(_, v)| v)
    }
}

/// Every route of the site, immutable once built.
#[derive(Debug, Default)]
pub struct Snapshot {
    /// Routes without the leading `/`.
    pub resources: HashMap<String, Arc<Resource>>,
    /// Counts rebuilds that changed something, starting at 1.
    pub generation: u64,
    /// `/status` as HTML and as JSON; not part of the site (not exported, may differ
    /// between replicas because it shows rebuild times).
    pub status: Option<(Arc<Resource>, Arc<Resource>)>,
    /// Post files by state, for metrics.
    pub posts_by_state: Vec<(&'static str, usize)>,
}

/// Compression levels, chosen by measurement (see README "Performance").
pub const GZIP_LEVEL: u32 = 9;
/// Brotli quality.
pub const BROTLI_QUALITY: u32 = 6;
/// Zstandard level.
pub const ZSTD_LEVEL: i32 = 12;
/// Bodies smaller than this are not worth compressing.
const MIN_COMPRESS: usize = 256;

/// One year, for archive pages that never change.
const YEAR: u64 = 365 * 24 * 3600;

/// `Cache-Control` for a lifetime.
pub fn cache_control(cache: &CacheConfig, lifetime: Lifetime) -> String {
    match lifetime {
        Lifetime::Live => format!(
            "public, max-age={}, stale-while-revalidate={}, stale-if-error={}",
            cache.max_age, cache.stale_while_revalidate, cache.stale_if_error
        ),
        Lifetime::Immutable => format!("public, max-age={YEAR}, immutable"),
        Lifetime::NoCache => "no-cache".to_string(),
    }
}

impl Snapshot {
    /// Builds a snapshot, reusing the compressed bytes of every resource whose identity bytes
    /// are unchanged since `previous`.
    pub fn build(
        rendered: Vec<Rendered>,
        cache: &CacheConfig,
        previous: Option<&Snapshot>,
    ) -> Snapshot {
        let reusable: HashMap<&str, &Arc<Resource>> = previous
            .map(|p| p.resources.values().map(|r| (r.hash.as_str(), r)).collect())
            .unwrap_or_default();
        let mut ready = HashMap::with_capacity(rendered.len());
        let mut fresh = Vec::new();
        for item in rendered {
            let hash = blake3::hash(&item.body).to_hex()[..32].to_string();
            match reusable.get(hash.as_str()) {
                Some(old) => {
                    let resource = reuse(old, item, cache);
                    ready.insert(resource.0, resource.1);
                }
                None => fresh.push((hash, item)),
            }
        }
        for (path, resource) in encode_all(fresh, cache) {
            ready.insert(path, resource);
        }
        let generation = previous.map_or(1, |p| {
            let same = p.resources.len() == ready.len()
                && ready
                    .iter()
                    .all(|(k, v)| p.resources.get(k).is_some_and(|o| Arc::ptr_eq(o, v)));
            if same {
                p.generation
            } else {
                p.generation + 1
            }
        });
        Snapshot {
            resources: ready,
            generation,
            status: None,
            posts_by_state: Vec::new(),
        }
    }

    /// Encodes one resource outside the site map (the status pages).
    pub fn single(item: Rendered, cache: &CacheConfig) -> Arc<Resource> {
        let hash = blake3::hash(&item.body).to_hex()[..32].to_string();
        encode(hash, item, cache).1
    }

    /// Subscription feeds (site and tag feeds, not archive pages) that are new or differ
    /// from `previous`: what a WebSub hub is told about.
    pub fn changed_feeds(&self, previous: &Snapshot) -> Vec<String> {
        let mut routes: Vec<String> = self
            .resources
            .iter()
            .filter(|(route, r)| {
                matches!(r.media, Media::Rss | Media::Atom | Media::Json)
                    && !route.starts_with("archive/")
                    && !route.contains("/archive/")
                    && previous.get(route).is_none_or(|old| old.hash != r.hash)
            })
            .map(|(route, _)| route.clone())
            .collect();
        routes.sort();
        routes
    }

    /// The resource at a route (without the leading `/`).
    pub fn get(&self, path: &str) -> Option<&Arc<Resource>> {
        self.resources.get(path)
    }
}

/// Reuses an unchanged resource's encodings; keeps the very same `Arc` when nothing about it
/// changed, so unchanged routes are recognisable by pointer.
fn reuse(old: &Arc<Resource>, item: Rendered, cache: &CacheConfig) -> (String, Arc<Resource>) {
    let cache_control = header(&cache_control(cache, item.lifetime));
    let link = item
        .link_header
        .as_deref()
        .and_then(|l| HeaderValue::from_str(l).ok());
    if old.media == item.media
        && old.last_modified == item.last_modified
        && old.cache_control == cache_control
        && old.link == link
    {
        return (item.path, Arc::clone(old));
    }
    let resource = Resource {
        media: item.media,
        content_type: HeaderValue::from_static(item.media.content_type()),
        hash: old.hash.clone(),
        identity: old.identity.clone(),
        encoded: old.encoded.clone(),
        last_modified: item.last_modified,
        last_modified_header: item.last_modified.map(http_date),
        cache_control,
        lifetime: item.lifetime,
        link,
    };
    (item.path, Arc::new(resource))
}

/// Encodes new resources, spread over the available cores.
fn encode_all(items: Vec<(String, Rendered)>, cache: &CacheConfig) -> Vec<(String, Arc<Resource>)> {
    let threads = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(items.len().max(1));
    if threads <= 1 {
        return items
            .into_iter()
            .map(|(h, r)| encode(h, r, cache))
            .collect();
    }
    // Deal round-robin so big and small resources spread evenly.
    let mut buckets: Vec<Vec<(String, Rendered)>> = (0..threads).map(|_| Vec::new()).collect();
    for (i, item) in items.into_iter().enumerate() {
        buckets[i % threads].push(item);
    }
    std::thread::scope(|scope| {
        let handles: Vec<_> = buckets
            .into_iter()
            .map(|bucket| {
                scope.spawn(move || {
                    bucket
                        .into_iter()
                        .map(|(h, r)| encode(h, r, cache))
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().expect("encoding thread panicked"))
            .collect()
    })
}

fn encode(hash: String, item: Rendered, cache: &CacheConfig) -> (String, Arc<Resource>) {
    let body = &item.body;
    let mut encoded = Vec::new();
    if body.len() >= MIN_COMPRESS {
        for coding in [Coding::Br, Coding::Zstd, Coding::Gzip] {
            if let Some(bytes) = compress(coding, body).filter(|b| b.len() < body.len()) {
                let etag = header(&format!("\"{hash}-{}\"", coding.suffix()));
                encoded.push((
                    coding,
                    Variant {
                        body: Bytes::from(bytes),
                        etag,
                    },
                ));
            }
        }
    }
    let resource = Resource {
        media: item.media,
        content_type: HeaderValue::from_static(item.media.content_type()),
        identity: Variant {
            body: Bytes::from(item.body),
            etag: header(&format!("\"{hash}\"")),
        },
        hash,
        encoded,
        last_modified: item.last_modified,
        last_modified_header: item.last_modified.map(http_date),
        cache_control: header(&cache_control(cache, item.lifetime)),
        lifetime: item.lifetime,
        link: item
            .link_header
            .as_deref()
            .and_then(|l| HeaderValue::from_str(l).ok()),
    };
    (item.path, Arc::new(resource))
}

/// Compresses with one coding at the chosen level.
pub fn compress(coding: Coding, body: &[u8]) -> Option<Vec<u8>> {
    match coding {
        Coding::Gzip => {
            let mut encoder =
                flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::new(GZIP_LEVEL));
            encoder.write_all(body).ok()?;
            encoder.finish().ok()
        }
        Coding::Br => {
            let mut out = Vec::new();
            let params = brotli::enc::BrotliEncoderParams {
                quality: BROTLI_QUALITY as i32,
                ..Default::default()
            };
            brotli::BrotliCompress(&mut &body[..], &mut out, &params).ok()?;
            Some(out)
        }
        Coding::Zstd => zstd::bulk::compress(body, ZSTD_LEVEL).ok(),
        Coding::Identity => Some(body.to_vec()),
    }
}

fn header(text: &str) -> HeaderValue {
    HeaderValue::from_str(text).expect("generated header values are visible ASCII")
}

fn http_date(at: DateTime<Utc>) -> HeaderValue {
    let time = std::time::UNIX_EPOCH + std::time::Duration::from_secs(at.timestamp().max(0) as u64);
    header(&httpdate::fmt_http_date(time))
}
