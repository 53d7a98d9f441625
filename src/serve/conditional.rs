//! Conditional GET (RFC 9110 §13): `If-None-Match` (lists, `*`, weak comparison) takes
//! precedence over `If-Modified-Since`, which is only looked at when there is no
//! `If-None-Match`. Every coding of a resource shares the identity hash in its ETag, so a
//! client that received the gzip variant still gets `304` when it sends that ETag back.
//!
//! For files beside posts, the whole of §13.2.2 in its order ([`Preconditions`]):
//! `If-Match` (strong comparison, `412` when false), else `If-Unmodified-Since` (`412`),
//! then `If-None-Match` (`304`), else `If-Modified-Since` (`304`), and last `If-Range`
//! (strong ETag comparison, or a date equal to `Last-Modified`) deciding whether a `Range`
//! is honoured. An invalid date is ignored (§13.1.3, §13.1.4).

use std::time::SystemTime;

use crate::snapshot::Resource;

/// True when the client's copy is current, so the answer is `304 Not Modified`.
pub fn not_modified(
    if_none_match: Option<&str>,
    if_modified_since: Option<&str>,
    resource: &Resource,
) -> bool {
    if let Some(header) = if_none_match {
        return none_match_hits(header, &resource.hash);
    }
    match (if_modified_since, resource.last_modified) {
        (Some(since), Some(modified)) => match httpdate::parse_http_date(since.trim()) {
            Ok(since) => to_system(modified) <= since,
            Err(_) => false, // an invalid date is ignored (RFC 9110 §13.1.3)
        },
        _ => false,
    }
}

/// What a request's preconditions decide, before any range.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Preconditions {
    /// Answer as asked.
    Pass,
    /// `412 Precondition Failed` (`If-Match`, `If-Unmodified-Since`).
    Failed,
    /// `304 Not Modified` (`If-None-Match`, `If-Modified-Since`).
    NotModified,
}

/// The conditional headers of a request, as text.
#[derive(Debug, Clone, Copy, Default)]
pub struct Conditions<'a> {
    /// `If-Match`.
    pub if_match: Option<&'a str>,
    /// `If-Unmodified-Since`.
    pub if_unmodified_since: Option<&'a str>,
    /// `If-None-Match`.
    pub if_none_match: Option<&'a str>,
    /// `If-Modified-Since`.
    pub if_modified_since: Option<&'a str>,
    /// `If-Range`.
    pub if_range: Option<&'a str>,
}

impl Conditions<'_> {
    /// Evaluates §13.2.2 steps 1 to 4 for a `GET` or `HEAD` of a representation whose
    /// strong ETag is `"hash"` and which was last modified at `modified`.
    pub fn evaluate(&self, hash: &str, modified: Option<SystemTime>) -> Preconditions {
        if let Some(header) = self.if_match {
            if !strong_match(header, hash, true) {
                return Preconditions::Failed;
            }
        } else if let (Some(since), Some(modified)) = (date(self.if_unmodified_since), modified) {
            if modified > since {
                return Preconditions::Failed;
            }
        }
        if let Some(header) = self.if_none_match {
            if none_match_hits(header, hash) {
                return Preconditions::NotModified;
            }
        } else if let (Some(since), Some(modified)) = (date(self.if_modified_since), modified) {
            if modified <= since {
                return Preconditions::NotModified;
            }
        }
        Preconditions::Pass
    }

    /// Whether a `Range` is honoured: with no `If-Range`, or one naming the current
    /// representation (its strong ETag, or exactly its `Last-Modified` date).
    pub fn range_allowed(&self, hash: &str, modified: Option<SystemTime>) -> bool {
        let Some(header) = self.if_range.map(str::trim) else {
            return true;
        };
        if header.starts_with('"') || header.starts_with("W/") {
            return strong_match(header, hash, false);
        }
        matches!((date(Some(header)), modified), (Some(at), Some(modified)) if at == modified)
    }
}

/// A valid HTTP date, or `None` (absent or invalid: ignored).
fn date(header: Option<&str>) -> Option<SystemTime> {
    httpdate::parse_http_date(header?.trim()).ok()
}

/// Strong comparison (§8.8.3.2) of a list of entity-tags (a single one when `list` is
/// false) with `"hash"`: weak tags never match; `*` matches in a list.
fn strong_match(header: &str, hash: &str, list: bool) -> bool {
    let mut tags = header.split(',').map(str::trim);
    let matches = |tag: &str| {
        (list && tag == "*")
            || tag
                .strip_prefix('"')
                .and_then(|t| t.strip_suffix('"'))
                .is_some_and(|opaque| opaque == hash)
    };
    if list {
        tags.any(matches)
    } else {
        matches(header.trim())
    }
}

fn to_system(at: chrono::DateTime<chrono::Utc>) -> SystemTime {
    SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(at.timestamp().max(0) as u64)
}

/// Weak comparison of every entity-tag in the list against the resource's hash.
fn none_match_hits(header: &str, hash: &str) -> bool {
    header.split(',').map(str::trim).any(|tag| {
        if tag == "*" {
            return true;
        }
        let tag = tag.strip_prefix("W/").unwrap_or(tag);
        let Some(opaque) = tag.strip_prefix('"').and_then(|t| t.strip_suffix('"')) else {
            return false;
        };
        let base = opaque
            .strip_suffix("-br")
            .or_else(|| opaque.strip_suffix("-zst"))
            .or_else(|| opaque.strip_suffix("-gz"))
            .unwrap_or(opaque);
        base == hash
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entity_tag_lists() {
        let h = "abc123";
        assert!(none_match_hits("\"abc123\"", h));
        assert!(none_match_hits("W/\"abc123\"", h));
        assert!(none_match_hits("\"zzz\", \"abc123-gz\"", h));
        assert!(none_match_hits("*", h));
        assert!(none_match_hits("\"abc123-br\"", h));
        assert!(!none_match_hits("\"abc12\"", h));
        assert!(!none_match_hits("abc123", h));
        assert!(!none_match_hits("\"abc123-xx\"", h));
        assert!(!none_match_hits("", h));
    }

    #[test]
    fn preconditions_in_rfc_9110_order() {
        let t = |s: &str| httpdate::parse_http_date(s).unwrap();
        let modified = Some(t("Tue, 02 Jun 2026 10:00:00 GMT"));
        let (before, at, after) = (
            "Tue, 02 Jun 2026 09:59:59 GMT",
            "Tue, 02 Jun 2026 10:00:00 GMT",
            "Tue, 02 Jun 2026 10:00:01 GMT",
        );
        let check =
            |c: Conditions, expected| assert_eq!(c.evaluate("h1", modified), expected, "{c:?}");
        use Preconditions::*;
        check(Conditions::default(), Pass);
        check(
            Conditions {
                if_match: Some("\"h1\""),
                ..Default::default()
            },
            Pass,
        );
        check(
            Conditions {
                if_match: Some("W/\"h1\""),
                ..Default::default()
            },
            Failed,
        );
        check(
            Conditions {
                if_match: Some("\"x\", *"),
                ..Default::default()
            },
            Pass,
        );
        check(
            Conditions {
                if_match: Some("\"x\""),
                if_none_match: Some("\"h1\""),
                ..Default::default()
            },
            Failed,
        );
        // If-Match present: If-Unmodified-Since is not looked at.
        check(
            Conditions {
                if_match: Some("*"),
                if_unmodified_since: Some(before),
                ..Default::default()
            },
            Pass,
        );
        check(
            Conditions {
                if_unmodified_since: Some(before),
                ..Default::default()
            },
            Failed,
        );
        check(
            Conditions {
                if_unmodified_since: Some(at),
                ..Default::default()
            },
            Pass,
        );
        check(
            Conditions {
                if_unmodified_since: Some("yesterday"),
                ..Default::default()
            },
            Pass,
        );
        check(
            Conditions {
                if_none_match: Some("W/\"h1\""),
                ..Default::default()
            },
            NotModified,
        );
        // If-None-Match present: If-Modified-Since is not looked at.
        check(
            Conditions {
                if_none_match: Some("\"x\""),
                if_modified_since: Some(after),
                ..Default::default()
            },
            Pass,
        );
        check(
            Conditions {
                if_modified_since: Some(at),
                ..Default::default()
            },
            NotModified,
        );
        check(
            Conditions {
                if_modified_since: Some(before),
                ..Default::default()
            },
            Pass,
        );
        let range = |if_range| {
            Conditions {
                if_range,
                ..Default::default()
            }
            .range_allowed("h1", modified)
        };
        assert!(range(None));
        assert!(range(Some("\"h1\"")));
        assert!(!range(Some("W/\"h1\"")));
        assert!(!range(Some("\"h2\"")));
        assert!(range(Some(at)));
        assert!(!range(Some(before)) && !range(Some(after)) && !range(Some("soon")));
    }
}
