//! Front matter: YAML between `---` lines or TOML between `+++` lines at the very top of a
//! Markdown post. The keys of Hugo, Jekyll and Zola are read too (see [`super::generators`]);
//! a typo of one of dropfeed's keys is an error reported at its line.

use std::collections::BTreeMap;

use chrono::{DateTime, FixedOffset};
use chrono_tz::Tz;
use serde::de::IgnoredAny;
use serde::Deserialize;

use super::date::parse_date_checked;
use super::episode::WrittenEnclosure;
use super::generators::{self, Written};

/// The fields of a post, as dropfeed's keys or another generator's say them.
#[derive(Debug, Default, Clone)]
pub struct FrontMatter {
    /// Title.
    pub title: Option<String>,
    /// Permanent id; wins over generated ids.
    pub id: Option<String>,
    /// URL segment.
    pub slug: Option<String>,
    /// Plain-text summary.
    pub summary: Option<String>,
    /// Tags: a list, or one string.
    pub tags: OneOrMany,
    /// Authors: a list, or one string.
    pub authors: OneOrMany,
    /// Language tag.
    pub lang: Option<String>,
    /// Never published while true.
    pub draft: bool,
    /// Lead image URL.
    pub image: Option<String>,
    /// Attached media: a path beside the post, a URL, or `{url, type, length}`.
    pub enclosure: Option<WrittenEnclosure>,
    /// Podcast episode number.
    pub episode: Option<u32>,
    /// Podcast season number.
    pub season: Option<u32>,
    /// `full`, `trailer` or `bonus`.
    pub episode_type: Option<String>,
    /// Whether the episode is explicit.
    pub explicit: Option<bool>,
    /// Transcript (`.vtt`, `.srt`): a path beside the post or a URL.
    pub transcript: Option<String>,
    /// Chapters (JSON): a path beside the post or a URL.
    pub chapters: Option<String>,
    /// Old addresses of the post, as site routes (see [`generators::alias_route`]).
    pub aliases: Vec<String>,
    /// Keys ignored on purpose (another generator's layout settings), in words.
    pub notes: Vec<String>,
    /// Keys ignored because dropfeed does not know them, and old addresses it cannot serve.
    pub warnings: Vec<String>,
}

/// A date as YAML (always text) or TOML (text or a native datetime) delivers it.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum DateValue {
    /// Written as text.
    Text(String),
    /// A TOML date or datetime literal.
    Toml(toml::value::Datetime),
}

impl DateValue {
    pub(super) fn text(&self) -> String {
        match self {
            DateValue::Text(t) => t.clone(),
            DateValue::Toml(d) => d.to_string(),
        }
    }
}

/// A list of strings that may also be written as a single string.
#[derive(Debug, Default, Clone, PartialEq, Eq, Deserialize)]
#[serde(from = "OneOrManyRaw")]
pub struct OneOrMany(pub Vec<String>);

#[derive(Deserialize)]
#[serde(untagged)]
enum OneOrManyRaw {
    One(String),
    Many(Vec<String>),
}

impl From<OneOrManyRaw> for OneOrMany {
    fn from(raw: OneOrManyRaw) -> Self {
        match raw {
            OneOrManyRaw::One(s) => OneOrMany(vec![s]),
            OneOrManyRaw::Many(v) => OneOrMany(v),
        }
    }
}

/// Front matter split off a post, with dates resolved.
#[derive(Debug, Default)]
pub struct Split<'a> {
    /// The fields.
    pub meta: FrontMatter,
    /// Resolved `date`.
    pub date: Option<DateTime<FixedOffset>>,
    /// Resolved `updated`.
    pub updated: Option<DateTime<FixedOffset>>,
    /// Resolved Hugo `expiryDate`: not published from then on.
    pub expires: Option<DateTime<FixedOffset>>,
    /// The Markdown after the front matter.
    pub body: &'a str,
    /// 1-based line in the file where `body` starts.
    pub body_line: usize,
    /// 1-based lines of the `image` key and of the enclosure (its `url` key when a table),
    /// when written.
    pub url_lines: (Option<usize>, Option<usize>),
    /// 1-based lines of `transcript` and `chapters`, when written.
    pub episode_lines: (Option<usize>, Option<usize>),
}

/// A problem at a 1-based line.
pub type LineError = (usize, String);

/// Splits and parses front matter, if the text has any.
pub fn split(text: &str, tz: Tz) -> Result<Split<'_>, LineError> {
    let first_line = text.lines().next().unwrap_or("").trim_end();
    let toml = match first_line {
        "---" => false,
        "+++" => true,
        _ => {
            return Ok(Split {
                body: text,
                body_line: 1,
                ..Split::default()
            })
        }
    };
    let (block, body, closing_line) = find_block(text, first_line).ok_or_else(|| {
        (
            1,
            format!("front matter opened with `{first_line}` is never closed"),
        )
    })?;
    // The fields first: a value of the wrong type is reported where it is written (an
    // unclosed `[` at its own line, not where the parser gave up on it).
    let (written, keys): (Written, BTreeMap<String, IgnoredAny>) = if toml {
        (parse_toml(block)?, parse_toml(block)?)
    } else {
        (parse_yaml(block)?, parse_yaml(block)?)
    };
    let mut keys: Vec<&str> = keys.keys().map(String::as_str).collect();
    keys.sort_by_key(|key| key_line(block, key));
    let line_of = |key: &str| BLOCK_FIRST_LINE + key_line(block, key).unwrap_or(1) - 1;
    let report = generators::classify_keys(keys, line_of)?;
    let mut split = generators::read(block, written, tz)?;
    split.meta.notes.splice(0..0, report.notes);
    split.meta.warnings.splice(0..0, report.warnings);
    check_fields(block, &split.meta)?;
    split.body = body;
    split.body_line = closing_line + 1;
    let file_line = |key| key_line(block, key).map(|l| BLOCK_FIRST_LINE + l - 1);
    let enclosure_line = file_line("url").or_else(|| file_line("enclosure"));
    split.url_lines = (file_line("image"), enclosure_line);
    split.episode_lines = (file_line("transcript"), file_line("chapters"));
    Ok(split)
}

/// Finds the block between the opening line and the matching closing one. Returns the block,
/// the rest of the text and the 1-based line of the closing delimiter.
fn find_block<'a>(text: &'a str, delimiter: &str) -> Option<(&'a str, &'a str, usize)> {
    let start = text.find('\n')? + 1;
    let mut offset = start;
    for (line, raw) in (2..).zip(text[start..].split_inclusive('\n')) {
        let trimmed = raw.trim_end();
        if trimmed == delimiter || (delimiter == "---" && trimmed == "...") {
            return Some((&text[start..offset], &text[offset + raw.len()..], line));
        }
        offset += raw.len();
    }
    None
}

/// Front matter starts on the file's second line.
const BLOCK_FIRST_LINE: usize = 2;

fn parse_toml<T: serde::de::DeserializeOwned>(block: &str) -> Result<T, LineError> {
    toml::from_str(block).map_err(|e| {
        let line = e
            .span()
            .map(|s| crate::config::line_of(block, s.start))
            .or_else(|| key_line_from_message(block, e.message()))
            .unwrap_or(0);
        (
            BLOCK_FIRST_LINE + line.saturating_sub(1),
            e.message().trim().to_string(),
        )
    })
}

fn parse_yaml<T: serde::de::DeserializeOwned + Default>(block: &str) -> Result<T, LineError> {
    if block.trim().is_empty() {
        return Ok(T::default());
    }
    serde_saphyr::from_str(block).map_err(|e| {
        let message = first_line_of(&e.to_string());
        let line = key_line_from_message(block, &message)
            .or_else(|| e.location().map(|l| l.line() as usize).filter(|&l| l > 0))
            .unwrap_or(1);
        (BLOCK_FIRST_LINE + line - 1, message)
    })
}

/// The first line of an error's text, without the location suffix some parsers add.
fn first_line_of(text: &str) -> String {
    let line = text
        .lines()
        .find(|l| !l.trim().is_empty())
        .unwrap_or(text)
        .trim();
    let line = line.strip_prefix("error: ").unwrap_or(line);
    // serde-saphyr starts with its own "line N column M:", counted inside the front matter;
    // we report the file's line instead, so drop it.
    let line = match line
        .strip_prefix("line ")
        .and_then(|rest| rest.split_once(": "))
    {
        Some((position, message))
            if position
                .split(" column ")
                .all(|n| n.trim().parse::<u32>().is_ok()) =>
        {
            message
        }
        _ => line,
    };
    match line.find(" at line ") {
        Some(i) => line[..i].to_string(),
        None => line.to_string(),
    }
}

/// For "unknown field `x`" errors, the line where key `x` is written.
fn key_line_from_message(block: &str, message: &str) -> Option<usize> {
    let rest = message.split("field `").nth(1)?;
    let key = &rest[..rest.find('`')?];
    key_line(block, key)
}

/// 1-based line in `block` where `key` is assigned (`key:` in YAML, `key =` in TOML).
pub(super) fn key_line(block: &str, key: &str) -> Option<usize> {
    block
        .lines()
        .position(|line| {
            let line = line.trim_start();
            line.strip_prefix(key)
                .map(|rest| rest.trim_start().starts_with([':', '=']))
                .unwrap_or(false)
        })
        .map(|i| i + 1)
}

/// Refuses field values that would publish something unsafe or break a feed for every
/// reader: a lead image or enclosure that is not an http(s) URL (`javascript:`, `data:`,
/// `file:`…; relative URLs are fine, they resolve against the post), and a language or
/// media type that is not a plain token.
fn check_fields(block: &str, meta: &FrontMatter) -> Result<(), LineError> {
    let at = |key: &str, message: String| {
        (
            BLOCK_FIRST_LINE + key_line(block, key).unwrap_or(1) - 1,
            message,
        )
    };
    if let Some(image) = &meta.image {
        web_url(image).map_err(|why| at("image", format!("`image`: {why}")))?;
    }
    super::episode::check_fields(meta, &at)?;
    if let Some(WrittenEnclosure::Address(address)) = &meta.enclosure {
        web_url(address).map_err(|why| at("enclosure", format!("`enclosure`: {why}")))?;
    }
    if let Some(WrittenEnclosure::Table(enclosure)) = &meta.enclosure {
        web_url(&enclosure.url).map_err(|why| at("url", format!("`enclosure` `url`: {why}")))?;
        if !is_media_type(&enclosure.mime_type) {
            let message = format!(
                "`enclosure` `type`: `{}` is not a media type such as audio/mpeg",
                enclosure.mime_type
            );
            return Err(at("type", message));
        }
    }
    if let Some(lang) = &meta.lang {
        let ok = !lang.is_empty()
            && lang.len() <= 35
            && lang.chars().all(|c| c.is_ascii_alphanumeric() || c == '-');
        if !ok {
            let message = format!("`lang`: `{lang}` is not a language tag such as en or pt-BR");
            return Err(at("lang", message));
        }
    }
    Ok(())
}

/// An http(s) URL, or a relative one (resolved against the post's URL later).
pub(super) fn web_url(text: &str) -> Result<(), String> {
    match url::Url::parse(text) {
        Ok(url) if matches!(url.scheme(), "http" | "https") => Ok(()),
        Ok(url) => Err(format!(
            "`{text}` is a `{}:` URL; only http and https (or relative) URLs are published",
            url.scheme()
        )),
        Err(url::ParseError::RelativeUrlWithoutBase) => Ok(()),
        Err(e) => Err(format!("`{text}` is not a URL ({e})")),
    }
}

/// `type/subtype` with RFC 6838 name characters, parameters allowed after a `;`.
fn is_media_type(text: &str) -> bool {
    let essence = text.split(';').next().unwrap_or("").trim();
    let name = |part: &str| {
        !part.is_empty()
            && part.len() <= 127
            && part
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "!#$&-^_.+".contains(c))
    };
    let printable = text.chars().all(|c| c == ' ' || c.is_ascii_graphic());
    matches!(essence.split_once('/'), Some((kind, sub)) if name(kind) && name(sub)) && printable
}

pub(super) fn resolve(
    block: &str,
    key: &str,
    value: Option<&DateValue>,
    tz: Tz,
) -> Result<Option<DateTime<FixedOffset>>, LineError> {
    let Some(value) = value else { return Ok(None) };
    let text = value.text();
    parse_date_checked(&text, tz).map(Some).map_err(|e| {
        let line = BLOCK_FIRST_LINE + key_line(block, key).unwrap_or(1) - 1;
        (line, format!("`{key}`: `{text}` is {e}"))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn yaml_front_matter() {
        let text = "---\ntitle: Hello\ndate: 2022-02-14\ntags: [a, b]\ndraft: true\n---\nBody\n";
        let split = split(text, Tz::UTC).unwrap();
        assert_eq!(split.meta.title.as_deref(), Some("Hello"));
        assert_eq!(
            split.date.unwrap().to_rfc3339(),
            "2022-02-14T00:00:00+00:00"
        );
        assert_eq!(split.meta.tags.0, vec!["a", "b"]);
        assert!(split.meta.draft);
        assert_eq!(split.body, "Body\n");
        assert_eq!(split.body_line, 7);
    }

    #[test]
    fn toml_front_matter_with_native_and_text_dates() {
        let text = "+++\ntitle = \"Hi\"\ndate = 2022-02-14T10:00:00+07:00\nupdated = \"2022-03-01\"\ntags = \"one\"\n+++\nBody";
        let split = split(text, Tz::UTC).unwrap();
        assert_eq!(split.meta.title.as_deref(), Some("Hi"));
        assert_eq!(
            split.date.unwrap().to_rfc3339(),
            "2022-02-14T10:00:00+07:00"
        );
        assert_eq!(
            split.updated.unwrap().to_rfc3339(),
            "2022-03-01T00:00:00+00:00"
        );
        assert_eq!(split.meta.tags.0, vec!["one"]);
    }

    #[test]
    fn toml_bare_date() {
        let split = split("+++\ndate = 2022-02-14\n+++\n", Tz::UTC).unwrap();
        assert_eq!(
            split.date.unwrap().to_rfc3339(),
            "2022-02-14T00:00:00+00:00"
        );
    }

    #[test]
    fn no_front_matter() {
        let split = split("# Title\n\ntext", Tz::UTC).unwrap();
        assert!(split.meta.title.is_none());
        assert_eq!(split.body, "# Title\n\ntext");
    }

    #[test]
    fn unknown_yaml_field_names_its_line() {
        let (line, message) = split("---\ntitle: x\ntitel: y\n---\n", Tz::UTC).unwrap_err();
        assert_eq!(line, 3);
        assert!(message.contains("unknown field `titel`"), "{message}");
        assert!(message.contains("did you mean `title`"), "{message}");
    }

    #[test]
    fn unknown_toml_field_names_its_line() {
        let (line, message) =
            split("+++\ntitle = \"x\"\n\ntitel = \"y\"\n+++\n", Tz::UTC).unwrap_err();
        assert_eq!(line, 4);
        assert!(message.contains("titel"), "{message}");
    }

    #[test]
    fn malformed_yaml_names_its_line() {
        let (line, _) = split(
            "---\ntitle: x\ntags: [a, b\ndate: 2022-01-01\n---\n",
            Tz::UTC,
        )
        .unwrap_err();
        assert!((3..=5).contains(&line), "line {line}");
    }

    #[test]
    fn bad_date_names_its_line() {
        let (line, message) = split("---\ntitle: x\ndate: someday\n---\n", Tz::UTC).unwrap_err();
        assert_eq!(line, 3);
        assert!(message.contains("someday"));
    }

    #[test]
    fn only_web_urls_plain_languages_and_media_types_are_accepted() {
        for (fields, line) in [
            ("image: \"javascript:alert(1)\"\n", 3),
            ("image: \"DATA:text/html,x\"\n", 3),
            ("image: \"http://[::1\"\n", 3),
            ("lang: \"en\\u0001\"\n", 3),
            ("lang: \"\"\n", 3),
            (
                "enclosure:\n  url: \"vbscript:x\"\n  type: audio/mpeg\n  length: 1\n",
                4,
            ),
            ("enclosure:\n  url: a.mp3\n  type: audio\n  length: 1\n", 5),
        ] {
            let text = format!("---\ntitle: x\n{fields}---\n");
            let (at, message) = split(&text, Tz::UTC).unwrap_err();
            assert_eq!(at, line, "{fields}: {message}");
        }
        for fields in [
            "image: cover.jpg\n",
            "image: //cdn.example.org/a.png\n",
            "image: HTTPS://example.org/a.png\n",
            "lang: pt-BR\n",
            "enclosure:\n  url: a.mp3\n  type: \"audio/mpeg; codecs=mp3\"\n  length: 1\n",
        ] {
            let text = format!("---\ntitle: x\n{fields}---\n");
            assert!(split(&text, Tz::UTC).is_ok(), "{fields}");
        }
    }

    #[test]
    fn unclosed_front_matter() {
        let (line, message) = split("---\ntitle: x\n", Tz::UTC).unwrap_err();
        assert_eq!(line, 1);
        assert!(message.contains("never closed"));
    }
}
