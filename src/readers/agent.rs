//! What a `User-Agent` tells about readers: how many subscribers an aggregator says it polls
//! for, which aggregator that is, and whether the client is a known bot.
//!
//! Aggregators put the count in their agent string, in a few shapes:
//!
//! - `Feedly/1.0 (+http://www.feedly.com/fetcher.html; 42 subscribers; like FeedFetcher-Google)`
//! - `Mozilla/5.0 (compatible; Inoreader/1.0; +http://www.inoreader.com/feed-fetcher; 12 subscribers; )`
//! - `NewsBlur Feed Fetcher - 5 subscribers - http://www.newsblur.com/site/1/x (…)`
//! - `Feedbin feed-id:1234 - 7 subscribers`
//!
//! The generic rule covers them all and the many others in the same spirit: a number,
//! standing alone, followed by `subscriber(s)` or `reader(s)`. The aggregator is named from a
//! list of known ones (matched before the generic product token, since several say "like
//! FeedFetcher-Google"), else from the first product token of the agent.
//!
//! Parsing runs on the counting thread, never on the request path; it never panics on any
//! string (property-tested).

/// Known aggregators: a lower-case text their agent contains, and the name shown.
const KNOWN: [(&str, &str); 13] = [
    ("feedly", "Feedly"),
    ("inoreader", "Inoreader"),
    ("newsblur", "NewsBlur"),
    ("feedbin", "Feedbin"),
    ("theoldreader", "The Old Reader"),
    ("the old reader", "The Old Reader"),
    ("feedspot", "Feedspot"),
    ("newsify", "Newsify"),
    ("bazqux", "BazQux"),
    ("netvibes", "Netvibes"),
    ("feedwrangler", "Feed Wrangler"),
    ("bloglines", "Bloglines"),
    ("feedfetcher-google", "Google Feedfetcher"),
];

/// Texts in the agents of crawlers, link previewers, monitors and scripts (lower case).
const BOTS: [&str; 16] = [
    "bot",
    "crawl",
    "spider",
    "slurp",
    "facebookexternalhit",
    "headlesschrome",
    "lighthouse",
    "pingdom",
    "monitor",
    "preview",
    "python-requests",
    "python-urllib",
    "go-http-client",
    "curl/",
    "wget/",
    "libwww-perl",
];

/// Longest aggregator name kept from an unknown agent.
const MAX_NAME: usize = 40;

/// An aggregator's report: who, and for how many subscribers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Subscribers {
    /// The aggregator's name (`Feedly`, or the product token of an unknown one).
    pub aggregator: String,
    /// The subscribers it reports.
    pub count: u64,
}

/// The subscribers an aggregator's agent reports, if it reports any.
pub fn subscribers(agent: &str) -> Option<Subscribers> {
    let count = count_in(agent)?;
    Some(Subscribers {
        aggregator: aggregator_name(agent),
        count,
    })
}

/// Whether the agent is a known bot (or missing: no reader hides its agent).
pub fn is_bot(agent: Option<&str>) -> bool {
    let Some(agent) = agent.filter(|a| !a.trim().is_empty()) else {
        return true;
    };
    BOTS.iter().any(|bot| contains_ignoring_case(agent, bot))
}

/// The first number standing alone before `subscriber(s)`, else before `reader(s)`.
fn count_in(agent: &str) -> Option<u64> {
    let bytes = agent.as_bytes();
    ["subscriber", "reader"].iter().find_map(|word| {
        (0..bytes.len())
            .filter(|&at| word_at(bytes, at, word))
            .find_map(|at| number_before(bytes, at))
    })
}

/// Whether `word` (or its plural) is at `at`, ending there as a word.
fn word_at(bytes: &[u8], at: usize, word: &str) -> bool {
    let end = at + word.len();
    if end > bytes.len() || !bytes[at..end].eq_ignore_ascii_case(word.as_bytes()) {
        return false;
    }
    let rest = &bytes[end..];
    let rest = match rest.first() {
        Some(b's' | b'S') => &rest[1..],
        _ => rest,
    };
    rest.first().is_none_or(|b| !b.is_ascii_alphanumeric())
}

/// The number that ends, after optional spaces, just before `at`: at most 12 digits, not
/// glued to a word or another number (`feed-id:12`, `v2`).
fn number_before(bytes: &[u8], at: usize) -> Option<u64> {
    let mut end = at;
    while end > 0 && bytes[end - 1] == b' ' {
        end -= 1;
    }
    let mut start = end;
    while start > 0 && bytes[start - 1].is_ascii_digit() {
        start -= 1;
    }
    let digits = end - start;
    if digits == 0 || digits > 12 {
        return None;
    }
    if start > 0
        && (bytes[start - 1].is_ascii_alphanumeric() || b".:,_".contains(&bytes[start - 1]))
    {
        return None;
    }
    std::str::from_utf8(&bytes[start..end]).ok()?.parse().ok()
}

/// The aggregator's name: a known one, else the agent's first product token.
fn aggregator_name(agent: &str) -> String {
    if let Some((_, name)) = KNOWN
        .iter()
        .find(|(text, _)| contains_ignoring_case(agent, text))
    {
        return (*name).to_string();
    }
    let product = match agent.split_once("compatible;") {
        Some((_, rest)) => rest,
        None => agent,
    };
    let end = product
        .find(|c: char| matches!(c, '/' | ';' | '(' | ')' | '+') || c.is_ascii_digit())
        .unwrap_or(product.len());
    let name: String = product[..end]
        .split(" - ")
        .next()
        .unwrap_or_default()
        .chars()
        .filter(|c| !c.is_control())
        .take(MAX_NAME)
        .collect();
    let name = name.trim();
    if name.is_empty() {
        "other".into()
    } else {
        name.to_string()
    }
}

/// Whether `haystack` contains `needle` (lower-case ASCII), ignoring ASCII case.
fn contains_ignoring_case(haystack: &str, needle: &str) -> bool {
    haystack
        .as_bytes()
        .windows(needle.len())
        .any(|w| w.eq_ignore_ascii_case(needle.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Agent strings as the aggregators send them, with the count and name expected.
    const REAL_AGENTS: [(&str, &str, u64); 10] = [
        ("Feedly/1.0 (+http://www.feedly.com/fetcher.html; 42 subscribers; like FeedFetcher-Google)", "Feedly", 42),
        ("Mozilla/5.0 (compatible; Inoreader/1.0; +http://www.inoreader.com/feed-fetcher; 12 subscribers; )", "Inoreader", 12),
        ("NewsBlur Feed Fetcher - 5 subscribers - http://www.newsblur.com/site/6/example (Mozilla/5.0 (Macintosh; Intel Mac OS X 10_13_6) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/71.0.3578.98 Safari/537.36)", "NewsBlur", 5),
        ("Feedbin feed-id:1234 - 7 subscribers", "Feedbin", 7),
        ("Mozilla/5.0 (compatible; theoldreader.com; 3 subscribers; feed-id=5a8b)", "The Old Reader", 3),
        ("Mozilla/5.0 (compatible; Feedspot/1.0 (+https://www.feedspot.com/fs/fetcher; like FeedFetcher-Google; 9 subscribers)", "Feedspot", 9),
        ("Newsify Feed Fetcher - 4 subscribers", "Newsify", 4),
        ("Feedbin feed-id:99 - 1 subscriber", "Feedbin", 1),
        ("Tiny Tiny RSS/23.01 (https://tt-rss.org/; 6 readers)", "Tiny Tiny RSS", 6),
        ("SomeFetcher 1000 subscribers", "SomeFetcher", 1000),
    ];

    #[test]
    fn the_aggregators_agents_give_their_name_and_count() {
        for (agent, name, count) in REAL_AGENTS {
            let found = subscribers(agent).unwrap_or_else(|| panic!("no count in {agent}"));
            assert_eq!(
                (found.aggregator.as_str(), found.count),
                (name, count),
                "{agent}"
            );
        }
    }

    #[test]
    fn agents_without_a_count_report_none() {
        for agent in [
            "NetNewsWire (RSS Reader; https://netnewswire.com/)",
            "Mozilla/5.0 (X11; Linux x86_64; rv:120.0) Gecko/20100101 Firefox/120.0",
            "Feedbin feed-id:1234 subscribers",
            "Inoreader/1.0",
            "Reader v2 readers",
            "",
        ] {
            assert_eq!(subscribers(agent), None, "{agent}");
        }
    }

    #[test]
    fn bots_and_missing_agents_are_bots_readers_are_not() {
        for bot in [
            "Googlebot/2.1",
            "curl/8.5.0",
            "",
            "  ",
            "Mozilla/5.0 (compatible; bingbot/2.0)",
        ] {
            assert!(is_bot(Some(bot)), "{bot}");
        }
        assert!(is_bot(None));
        for reader in [
            "AntennaPod/3.2",
            "Overcast/3.0 (+http://overcast.fm/; iOS podcast app)",
            "NetNewsWire (RSS Reader)",
        ] {
            assert!(!is_bot(Some(reader)), "{reader}");
        }
    }

    proptest! {
        #[test]
        fn any_agent_is_parsed_without_panicking(agent in "\\PC{0,200}") {
            let _ = subscribers(&agent);
            let _ = is_bot(Some(&agent));
        }

        #[test]
        fn a_count_written_anywhere_is_the_count_parsed(
            before in "[A-Za-z/ .;(]{0,30}",
            count in 0u64..1_000_000_000,
            word in prop::sample::select(vec!["subscribers", "Subscribers", "readers", "subscriber"]),
            after in "[A-Za-z/ .;)]{0,30}",
        ) {
            let agent = format!("{before} {count} {word}; {after}");
            let found = subscribers(&agent);
            prop_assert_eq!(found.map(|f| f.count), Some(count));
        }
    }
}
