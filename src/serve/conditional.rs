//! Conditional GET (RFC 9110 §13): `If-None-Match` (lists, `*`, weak comparison) takes
//! precedence over `If-Modified-Since`, which is only looked at when there is no
//! `If-None-Match`. Every coding of a resource shares the identity hash in its ETag, so a
//! client that received the gzip variant still gets `304` when it sends that ETag back.

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
}
