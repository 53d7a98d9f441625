//! Front matter: YAML between `---` lines or TOML between `+++` lines at the very top of a
//! Markdown post. Unknown fields are errors, reported at the line of the offending key.

use chrono::{DateTime, FixedOffset};
use chrono_tz::Tz;
use serde::Deserialize;

use super::date::parse_date;
use super::Enclosure;

/// The fields an author may set. Anything else is refused.
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FrontMatter {
    /// Title.
    pub title: Option<String>,
    /// Publication date.
    pub date: Option<DateValue>,
    /// Last significant change.
    pub updated: Option<DateValue>,
    /// Permanent id; wins over generated ids.
    pub id: Option<String>,
    /// URL segment.
    pub slug: Option<String>,
    /// Plain-text summary.
    pub summary: Option<String>,
    /// Tags: a list, or one string.
    #[serde(default)]
    pub tags: OneOrMany,
    /// Authors: a list, or one string.
    #[serde(default)]
    pub authors: OneOrMany,
    /// Language tag.
    pub lang: Option<String>,
    /// Never published while true.
    #[serde(default)]
    pub draft: bool,
    /// Lead image URL.
    pub image: Option<String>,
    /// Attached media.
    pub enclosure: Option<Enclosure>,
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
    fn text(&self) -> String {
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
    /// The Markdown after the front matter.
    pub body: &'a str,
    /// 1-based line in the file where `body` starts.
    pub body_line: usize,
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
    let meta = if toml {
        parse_toml(block)?
    } else {
        parse_yaml(block)?
    };
    let date = resolve(block, "date", meta.date.as_ref(), tz)?;
    let updated = resolve(block, "updated", meta.updated.as_ref(), tz)?;
    Ok(Split {
        meta,
        date,
        updated,
        body,
        body_line: closing_line + 1,
    })
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

fn parse_toml(block: &str) -> Result<FrontMatter, LineError> {
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

fn parse_yaml(block: &str) -> Result<FrontMatter, LineError> {
    if block.trim().is_empty() {
        return Ok(FrontMatter::default());
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
fn key_line(block: &str, key: &str) -> Option<usize> {
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

fn resolve(
    block: &str,
    key: &str,
    value: Option<&DateValue>,
    tz: Tz,
) -> Result<Option<DateTime<FixedOffset>>, LineError> {
    let Some(value) = value else { return Ok(None) };
    let text = value.text();
    parse_date(&text, tz).map(Some).ok_or_else(|| {
        let line = BLOCK_FIRST_LINE + key_line(block, key).unwrap_or(1) - 1;
        (
            line,
            format!(
                "`{key}`: `{text}` is not a date (try 2022-02-14, 2022-02-14 09:30 or RFC 3339)"
            ),
        )
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
        assert!(message.contains("expected one of"), "{message}");
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
    fn unclosed_front_matter() {
        let (line, message) = split("---\ntitle: x\n", Tz::UTC).unwrap_err();
        assert_eq!(line, 1);
        assert!(message.contains("never closed"));
    }
}
