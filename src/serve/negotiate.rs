//! Content-coding negotiation (RFC 9110 §12.5.3): `Accept-Encoding` with q-values, `*`, and
//! `q=0` exclusions. Among equally acceptable codings the smallest wins: br, zstd, gzip,
//! then identity.

use crate::snapshot::{Coding, Resource};

/// Our order of preference among codings of equal quality.
const PREFERENCE: [Coding; 4] = [Coding::Br, Coding::Zstd, Coding::Gzip, Coding::Identity];

/// The coding to send, or `None` when the client refuses every coding we have (406).
pub fn choose(accept_encoding: Option<&str>, resource: &Resource) -> Option<Coding> {
    let Some(header) = accept_encoding else {
        return Some(Coding::Identity);
    };
    let prefs = Prefs::parse(header);
    let mut best: Option<(Coding, u16)> = None;
    for coding in PREFERENCE {
        if resource.variant(coding).is_none() {
            continue;
        }
        let q = prefs.quality(coding);
        if q > 0 && best.is_none_or(|(_, bq)| q > bq) {
            best = Some((coding, q));
        }
    }
    best.map(|(c, _)| c)
}

/// Whether the client accepts one of the codings we precompress (so that identity sent to it
/// is only a stand-in while compression is pending).
pub fn accepts_compression(accept_encoding: Option<&str>) -> bool {
    let Some(header) = accept_encoding else {
        return false;
    };
    let prefs = Prefs::parse(header);
    crate::snapshot::CODINGS.iter().any(|&coding| {
        prefs.explicit[index(coding)]
            .or(prefs.star)
            .is_some_and(|q| q > 0)
    })
}

/// What one `Accept-Encoding` header says about the codings we know: the q-value (× 1000) of
/// the first entry naming each, and of the first `*`. Parsed in one pass without allocating,
/// since it runs on every request.
struct Prefs {
    /// Indexed like [`PREFERENCE`].
    explicit: [Option<u16>; PREFERENCE.len()],
    star: Option<u16>,
}

impl Prefs {
    fn parse(header: &str) -> Prefs {
        let mut prefs = Prefs {
            explicit: [None; PREFERENCE.len()],
            star: None,
        };
        for (name, q) in entries(header) {
            let slot = if name == "*" {
                &mut prefs.star
            } else if let Some(coding) = PREFERENCE.iter().find(|&&c| matches_token(name, c)) {
                &mut prefs.explicit[index(*coding)]
            } else {
                continue;
            };
            if slot.is_none() {
                *slot = Some(q);
            }
        }
        prefs
    }

    /// A coding's quality: its own entry, else `*`'s, else 1 for identity and 0 for others.
    fn quality(&self, coding: Coding) -> u16 {
        match (self.explicit[index(coding)], self.star) {
            (Some(q), _) => q,
            (None, Some(q)) => q,
            (None, None) if coding == Coding::Identity => 1,
            (None, None) => 0,
        }
    }
}

fn index(coding: Coding) -> usize {
    PREFERENCE
        .iter()
        .position(|c| *c == coding)
        .expect("PREFERENCE lists every coding")
}

/// Content-codings are case-insensitive tokens.
fn matches_token(name: &str, coding: Coding) -> bool {
    match coding {
        Coding::Gzip => name.eq_ignore_ascii_case("gzip") || name.eq_ignore_ascii_case("x-gzip"),
        other => name.eq_ignore_ascii_case(other.token()),
    }
}

/// `(coding, q × 1000)` pairs; malformed q-values count as 0 so they cannot force a coding,
/// and an entry with a parameter lacking `=` is skipped.
fn entries(header: &str) -> impl Iterator<Item = (&str, u16)> {
    header.split(',').filter_map(|part| {
        let mut pieces = part.split(';');
        let name = pieces.next()?.trim();
        if name.is_empty() {
            return None;
        }
        let mut q = 1000;
        for param in pieces {
            let (key, value) = param.split_once('=')?;
            if key.trim().eq_ignore_ascii_case("q") {
                q = parse_q(value.trim()).unwrap_or(0);
            }
        }
        Some((name, q))
    })
}

/// A qvalue (`0`, `0.5`, `1.000`) as thousandths.
fn parse_q(text: &str) -> Option<u16> {
    let value: f32 = text.parse().ok()?;
    (0.0..=1.0)
        .contains(&value)
        .then(|| (value * 1000.0).round() as u16)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::render::{Lifetime, Media, Rendered};
    use crate::snapshot::Snapshot;

    fn resource() -> std::sync::Arc<Resource> {
        let rendered = Rendered {
            path: "feed.xml".into(),
            media: Media::Rss,
            body: b"<rss>hello hello hello</rss>".repeat(40),
            last_modified: None,
            lifetime: Lifetime::Live,
            link_header: None,
        };
        let config = crate::config::Config::from_raw(Default::default(), None).unwrap();
        let snapshot = Snapshot::from_rendered(vec![rendered], &config.cache);
        snapshot.get("feed.xml").unwrap().clone()
    }

    #[test]
    fn preferences() {
        let r = resource();
        let pick = |h: Option<&str>| choose(h, &r).map(Coding::token);
        assert_eq!(pick(None), Some("identity"));
        assert_eq!(pick(Some("gzip")), Some("gzip"));
        assert_eq!(pick(Some("gzip, deflate, br, zstd")), Some("br"));
        assert_eq!(pick(Some("br;q=0.5, gzip")), Some("gzip"));
        assert_eq!(pick(Some("br;q=0, zstd;q=0, gzip;q=0")), Some("identity"));
        assert_eq!(pick(Some("*")), Some("br"));
        assert_eq!(pick(Some("*;q=0")), None);
        assert_eq!(pick(Some("identity;q=0")), None);
        assert_eq!(pick(Some("x-gzip")), Some("gzip"));
        assert_eq!(pick(Some("gzip;q=abc")), Some("identity"));
        assert_eq!(pick(Some("")), Some("identity"));
        assert!(accepts_compression(Some("gzip, deflate")));
        assert!(accepts_compression(Some("*")));
        assert!(!accepts_compression(Some("gzip;q=0, identity")));
        assert!(!accepts_compression(Some("deflate")));
        assert!(!accepts_compression(None));
        assert_eq!(pick(Some("GZIP")), Some("gzip"));
        assert_eq!(pick(Some("gzip;q=0, gzip")), Some("identity"));
        assert_eq!(pick(Some("br;level, gzip")), Some("gzip"));
        assert_eq!(pick(Some("*;q=0.5, gzip;q=0.4")), Some("br"));
    }
}
