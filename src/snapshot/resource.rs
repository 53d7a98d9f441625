//! One resource ready to serve: its representations (identity and each content-coding, with
//! their strong ETags) and the headers sent with every one of them, formatted once when the
//! resource is made so a request only clones them.
//!
//! - The ETag is a hash of the identity bytes: a rebuild that changes nothing changes no ETag,
//!   and replicas over the same posts agree.
//! - Each content-coding is its own representation with its own strong ETag (`"h"`,
//!   `"h-br"`, `"h-zst"`, `"h-gz"`), all sharing the hash (RFC 9110, 8.8.3).
//! - A coding is kept only where it makes the body smaller; bodies under 256 bytes are not
//!   compressed.

use std::io::Write;

use bytes::Bytes;
use chrono::{DateTime, Utc};
use hyper::header::HeaderValue;

use super::cache_control;
use crate::config::CacheConfig;
use crate::post::Fingerprint;
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

/// The codings we precompress, in our order of preference.
pub const CODINGS: [Coding; 3] = [Coding::Br, Coding::Zstd, Coding::Gzip];

/// One representation: bytes and the strong ETag that names them.
#[derive(Debug, Clone)]
pub struct Variant {
    /// The bytes sent.
    pub body: Bytes,
    /// `ETag` header value.
    pub etag: HeaderValue,
    /// `Content-Length` header value, formatted once rather than per request.
    pub content_length: HeaderValue,
}

impl Variant {
    /// A variant of `body` named by `etag`.
    pub fn new(body: Bytes, etag: HeaderValue) -> Variant {
        let content_length = HeaderValue::from(body.len());
        Variant {
            body,
            etag,
            content_length,
        }
    }
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
    /// Digest of the inputs it was rendered from.
    pub fingerprint: Fingerprint,
    /// Identity bytes.
    pub identity: Variant,
    /// Precompressed variants, only where smaller than identity; empty until encoded.
    pub encoded: Vec<(Coding, Variant)>,
    /// Whether compression has been done (so an empty `encoded` means "not worth it").
    pub is_encoded: bool,
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
    /// A resource with identity bytes only.
    pub fn new(mut item: Rendered, fingerprint: Fingerprint, cache: &CacheConfig) -> Resource {
        let hash = blake3::hash(&item.body).to_hex()[..32].to_string();
        // Kept for as long as the resource is served: the writer's spare capacity (up to half
        // again) is not. On a 10,000-post site that slack was 6 MB of the hot feeds.
        item.body.shrink_to_fit();
        Resource {
            media: item.media,
            content_type: HeaderValue::from_static(item.media.content_type()),
            identity: Variant::new(Bytes::from(item.body), header(&format!("\"{hash}\""))),
            hash,
            fingerprint,
            encoded: Vec::new(),
            is_encoded: false,
            last_modified: item.last_modified,
            last_modified_header: item.last_modified.map(http_date),
            cache_control: cache_control::header(cache, item.lifetime),
            lifetime: item.lifetime,
            link: item
                .link_header
                .as_deref()
                .and_then(|l| HeaderValue::from_str(l).ok()),
        }
    }

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

    /// This resource with its compressed variants.
    pub fn with_encodings(&self, encoded: Vec<(Coding, Variant)>) -> Resource {
        Resource {
            media: self.media,
            content_type: self.content_type.clone(),
            hash: self.hash.clone(),
            fingerprint: self.fingerprint,
            identity: self.identity.clone(),
            encoded,
            is_encoded: true,
            last_modified: self.last_modified,
            last_modified_header: self.last_modified_header.clone(),
            cache_control: self.cache_control.clone(),
            lifetime: self.lifetime,
            link: self.link.clone(),
        }
    }

    /// Compresses the identity bytes in every coding (skipping tiny bodies and codings that
    /// would not make it smaller).
    pub fn compress_all(&self) -> Vec<(Coding, Variant)> {
        let body = &self.identity.body;
        if body.len() < MIN_COMPRESS {
            return Vec::new();
        }
        CODINGS
            .iter()
            .filter_map(|&coding| {
                let mut bytes = compress(coding, body).filter(|b| b.len() < body.len())?;
                // zstd reserves its worst case (more than the input): keep only the output.
                bytes.shrink_to_fit();
                let etag = header(&format!("\"{}-{}\"", self.hash, coding.suffix()));
                Some((coding, Variant::new(Bytes::from(bytes), etag)))
            })
            .collect()
    }

    /// Bytes held, for cache accounting.
    pub fn size(&self) -> usize {
        self.identity.body.len()
            + self
                .encoded
                .iter()
                .map(|(_, v)| v.body.len())
                .sum::<usize>()
    }
}

/// Compression levels, chosen by measurement on a 100 KB Atom feed (README "Performance"):
/// past these, each step costs two to four times the time for 1 % smaller output (brotli 9:
/// 25 ms for 0.2 %; zstd 12: 10 ms for 1 %). Compression runs off the request path, after a
/// change is already served in identity. gzip 9: 5.9 ms.
pub const GZIP_LEVEL: u32 = 9;
/// Brotli quality (8: 7.6 ms).
pub const BROTLI_QUALITY: u32 = 8;
/// Zstandard level (9: 5 ms).
pub const ZSTD_LEVEL: i32 = 9;
/// Bodies smaller than this are not worth compressing.
const MIN_COMPRESS: usize = 256;

/// Compresses with one coding at the chosen level.
pub fn compress(coding: Coding, body: &[u8]) -> Option<Vec<u8>> {
    match coding {
        Coding::Gzip => {
            let mut encoder = flate2::write::GzEncoder::new(
                Vec::with_capacity(body.len() / 3),
                flate2::Compression::new(GZIP_LEVEL),
            );
            encoder.write_all(body).ok()?;
            encoder.finish().ok()
        }
        Coding::Br => {
            let mut out = Vec::with_capacity(body.len() / 3);
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

/// The last second an HTTP date can express (9999-12-31T23:59:59Z): httpdate panics past it.
const LAST_HTTP_SECOND: i64 = 253_402_300_799;

/// An HTTP date (`Last-Modified`), held between the epoch and the end of year 9999, the
/// range HTTP dates can express.
pub fn http_date(at: DateTime<Utc>) -> HeaderValue {
    let seconds = at.timestamp().clamp(0, LAST_HTTP_SECOND) as u64;
    let time = std::time::UNIX_EPOCH + std::time::Duration::from_secs(seconds);
    header(&httpdate::fmt_http_date(time))
}
