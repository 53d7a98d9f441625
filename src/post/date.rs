//! Dates as authors write them: RFC 3339, `YYYY-MM-DD`, `YYYY-MM-DD HH:MM[:SS]`, and the
//! common English forms ("Monday 14 February 2022", "14 Feb 2022", "February 14, 2022").
//! A date written without a zone is local time in the site's time zone.
//!
//! Only dates every output can express are accepted ([`YEARS`]): RFC 2822 (RSS) has no
//! negative years and no more than four digits, HTTP dates end with 9999, and RFC 3339
//! (Atom, JSON Feed) has four-digit years.

use chrono::{
    DateTime, Datelike, FixedOffset, LocalResult, NaiveDate, NaiveDateTime, NaiveTime, TimeZone,
};
use chrono_tz::Tz;

const MONTHS: [&str; 12] = [
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
];
const WEEKDAYS: [&str; 7] = [
    "monday",
    "tuesday",
    "wednesday",
    "thursday",
    "friday",
    "saturday",
    "sunday",
];

/// The years a post's date may have, both where it was written and in UTC: what RSS, Atom,
/// JSON Feed and HTTP can all express.
pub const YEARS: std::ops::RangeInclusive<i32> = 1..=9999;

/// Why a text is not a date a post can have.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DateError {
    /// Not a date in any accepted form.
    #[error("not a date (try 2022-02-14, 2022-02-14 09:30 or RFC 3339)")]
    NotADate,
    /// A date, but in a year the feeds cannot express.
    #[error("in year {0}, which feeds cannot express (years 1 to 9999 only)")]
    OutOfRange(i32),
}

/// Parses a date in any accepted form; `None` when the text is not a date a post can have.
pub fn parse_date(text: &str, tz: Tz) -> Option<DateTime<FixedOffset>> {
    parse_date_checked(text, tz).ok()
}

/// Parses a date in any accepted form, saying why it is refused.
pub fn parse_date_checked(text: &str, tz: Tz) -> Result<DateTime<FixedOffset>, DateError> {
    let date = parse_any(text, tz).ok_or(DateError::NotADate)?;
    expressible(&date)?;
    Ok(date)
}

/// Whether every output format can express `date` (see [`YEARS`]).
pub fn expressible(date: &DateTime<FixedOffset>) -> Result<(), DateError> {
    for year in [date.year(), date.naive_utc().year()] {
        if !YEARS.contains(&year) {
            return Err(DateError::OutOfRange(year));
        }
    }
    Ok(())
}

fn parse_any(text: &str, tz: Tz) -> Option<DateTime<FixedOffset>> {
    let text = text.trim();
    if text.is_empty() || text.len() > 64 {
        return None;
    }
    if let Ok(dt) = DateTime::parse_from_rfc3339(text) {
        return Some(dt);
    }
    // RFC 3339 with a space instead of `T`, as many front matter examples write it.
    if let Ok(dt) = DateTime::parse_from_str(text, "%Y-%m-%d %H:%M:%S%:z") {
        return Some(dt);
    }
    parse_naive(text).and_then(|naive| localize(naive, tz))
}

/// Parses the zone-less forms.
fn parse_naive(text: &str) -> Option<NaiveDateTime> {
    for format in [
        "%Y-%m-%d %H:%M:%S",
        "%Y-%m-%dT%H:%M:%S",
        "%Y-%m-%d %H:%M",
        "%Y-%m-%dT%H:%M",
    ] {
        if let Ok(dt) = NaiveDateTime::parse_from_str(text, format) {
            return Some(dt);
        }
    }
    if let Ok(date) = NaiveDate::parse_from_str(text, "%Y-%m-%d") {
        return Some(date.and_time(NaiveTime::MIN));
    }
    parse_written(text).map(|date| date.and_time(NaiveTime::MIN))
}

/// English written dates: an optional weekday, then day-month-year or month-day-year,
/// with full or three-letter month names, commas and a trailing dot on abbreviations allowed.
fn parse_written(text: &str) -> Option<NaiveDate> {
    let words: Vec<String> = text
        .split(|c: char| c.is_whitespace() || c == ',')
        .filter(|w| !w.is_empty())
        .map(|w| w.trim_end_matches('.').to_lowercase())
        .collect();
    let words: &[String] = match words.first() {
        Some(first) if weekday(first) => &words[1..],
        _ => &words,
    };
    let [a, b, year] = words else { return None };
    let year: i32 = year.parse().ok().filter(|y| (1000..=9999).contains(y))?;
    let (month, day) = match (month(a), month(b)) {
        (Some(m), None) => (m, day(b)?),
        (None, Some(m)) => (m, day(a)?),
        _ => return None,
    };
    NaiveDate::from_ymd_opt(year, month, day)
}

fn weekday(word: &str) -> bool {
    WEEKDAYS
        .iter()
        .any(|d| word == *d || (word.len() == 3 && d.starts_with(word)))
}

fn month(word: &str) -> Option<u32> {
    MONTHS
        .iter()
        .position(|m| {
            word == *m
                || (word.len() >= 3 && m.starts_with(word))
                || (word == "sept" && *m == "september")
        })
        .map(|i| i as u32 + 1)
}

/// A day of the month, allowing English ordinals ("14th").
fn day(word: &str) -> Option<u32> {
    let digits = word.trim_end_matches(|c: char| c.is_ascii_alphabetic());
    let suffix = &word[digits.len()..];
    if !matches!(suffix, "" | "st" | "nd" | "rd" | "th") {
        return None;
    }
    digits.parse().ok().filter(|d| (1..=31).contains(d))
}

/// Places a local time in the zone. A time skipped by a DST change moves forward an hour; an
/// ambiguous one takes the earlier instant, so the result never depends on anything else.
pub fn localize(naive: NaiveDateTime, tz: Tz) -> Option<DateTime<FixedOffset>> {
    let resolved = match tz.from_local_datetime(&naive) {
        LocalResult::Single(dt) => dt,
        LocalResult::Ambiguous(early, _) => early,
        LocalResult::None => match tz.from_local_datetime(&(naive + chrono::Duration::hours(1))) {
            LocalResult::Single(dt) | LocalResult::Ambiguous(dt, _) => dt,
            LocalResult::None => return None,
        },
    };
    Some(resolved.fixed_offset())
}

/// A date at the start of the file name (`2022-02-14-title.txt`), if there is one in
/// [`YEARS`].
pub fn date_prefix(file_stem: &str) -> Option<(NaiveDate, &str)> {
    let prefix = file_stem.get(..10)?;
    let date = NaiveDate::parse_from_str(prefix, "%Y-%m-%d")
        .ok()
        .filter(|d| YEARS.contains(&d.year()))?;
    let rest = file_stem[10..].trim_start_matches(['-', '_', ' ']);
    Some((date, rest))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utc(text: &str) -> String {
        parse_date(text, Tz::UTC)
            .map(|d| d.to_rfc3339())
            .unwrap_or_default()
    }

    #[test]
    fn rfc3339_keeps_its_offset() {
        assert_eq!(
            utc("2022-02-14T10:30:00+07:00"),
            "2022-02-14T10:30:00+07:00"
        );
        assert_eq!(utc("2022-02-14T10:30:00Z"), "2022-02-14T10:30:00+00:00");
        assert_eq!(
            utc("2022-02-14 10:30:00+07:00"),
            "2022-02-14T10:30:00+07:00"
        );
    }

    #[test]
    fn numeric_forms_without_zone() {
        assert_eq!(utc("2022-02-14"), "2022-02-14T00:00:00+00:00");
        assert_eq!(utc("2022-02-14 09:05"), "2022-02-14T09:05:00+00:00");
        assert_eq!(utc("2022-02-14 09:05:07"), "2022-02-14T09:05:07+00:00");
        assert_eq!(utc("2022-02-14T09:05"), "2022-02-14T09:05:00+00:00");
    }

    #[test]
    fn written_english_forms() {
        for text in [
            "Monday 14 February 2022",
            "Monday, 14 February 2022",
            "14 February 2022",
            "14 Feb 2022",
            "14th Feb. 2022",
            "February 14, 2022",
            "Feb 14, 2022",
            "Mon, Feb 14, 2022",
        ] {
            assert_eq!(utc(text), "2022-02-14T00:00:00+00:00", "{text}");
        }
    }

    #[test]
    fn zone_less_dates_are_in_the_site_zone() {
        let jakarta: Tz = "Asia/Jakarta".parse().unwrap();
        let d = parse_date("2022-02-14 08:00", jakarta).unwrap();
        assert_eq!(d.to_rfc3339(), "2022-02-14T08:00:00+07:00");
    }

    #[test]
    fn dst_gap_moves_forward() {
        let berlin: Tz = "Europe/Berlin".parse().unwrap();
        let d = parse_date("2024-03-31 02:30", berlin).unwrap();
        assert_eq!(d.to_rfc3339(), "2024-03-31T03:30:00+02:00");
    }

    #[test]
    fn non_dates_are_refused() {
        for text in [
            "",
            "yesterday",
            "14 Foo 2022",
            "31 February 2022",
            "2022-13-01",
            "Lavrov - Rusia",
            "Monday",
        ] {
            assert_eq!(utc(text), "", "{text}");
        }
    }

    #[test]
    fn years_no_feed_can_express_are_refused_with_the_year() {
        for (text, year) in [
            ("-0001-01-01", -1),
            ("0000-06-01", 0),
            ("0000-06-01T10:00:00Z", 0),
            ("+10000-01-01", 10000),
            ("0001-01-01T00:30:00+01:00", 0),
            ("9999-12-31T23:00:00-05:00", 10000),
        ] {
            assert_eq!(
                parse_date_checked(text, Tz::UTC),
                Err(DateError::OutOfRange(year)),
                "{text}"
            );
        }
        assert_eq!(utc("0001-01-01"), "0001-01-01T00:00:00+00:00");
        assert_eq!(utc("9999-12-31 23:59"), "9999-12-31T23:59:00+00:00");
        assert!(date_prefix("0000-01-01-x").is_none());
    }

    #[test]
    fn file_name_prefix() {
        let (date, rest) = date_prefix("2022-02-14-lavrov-jaminan").unwrap();
        assert_eq!(date.to_string(), "2022-02-14");
        assert_eq!(rest, "lavrov-jaminan");
        assert!(date_prefix("lavrov").is_none());
    }
}
