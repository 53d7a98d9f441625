//! Long dates in a page's language: the pattern is the language's (see [`super::words`]),
//! the names of days and months come from glibc's locale data through chrono's
//! `unstable-locales` (pure-rust-locales), so languages without their own words still get
//! their own month names.

use chrono::{DateTime, FixedOffset, Locale};

use super::words::{primary, words};

/// The region a shipped language's dates use when the tag names none.
const DEFAULT_REGION: [(&str, &str); 7] = [
    ("en", "US"),
    ("id", "ID"),
    ("de", "DE"),
    ("fr", "FR"),
    ("es", "ES"),
    ("pt", "PT"),
    ("ja", "JP"),
];

/// The locale for a BCP 47 tag: its language and region when the library has them
/// (`pt-BR` → `pt_BR`), else its language's usual region (`it` → `it_IT`), else English.
pub fn locale(lang: &str) -> Locale {
    let language = primary(lang);
    let region = lang
        .split(['-', '_'])
        .nth(1)
        .filter(|r| r.len() == 2 && r.bytes().all(|b| b.is_ascii_alphabetic()))
        .map(str::to_ascii_uppercase);
    let usual = DEFAULT_REGION
        .iter()
        .find(|(l, _)| *l == language)
        .map_or_else(|| language.to_ascii_uppercase(), |(_, r)| r.to_string());
    region
        .into_iter()
        .chain([usual])
        .find_map(|region| Locale::try_from(format!("{language}_{region}").as_str()).ok())
        .unwrap_or(Locale::en_US)
}

/// A date as a page in `lang` writes it: "Senin, 14 Februari 2022" in Indonesian,
/// "Monday, 14 February 2022" in English.
pub fn long_date(date: &DateTime<FixedOffset>, lang: &str) -> String {
    let pattern = words(lang).date;
    date.format_localized(pattern, locale(lang)).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn day() -> DateTime<FixedOffset> {
        DateTime::parse_from_rfc3339("2022-02-14T09:00:00+07:00").expect("a date")
    }

    #[test]
    fn each_shipped_language_writes_its_own_date() {
        let cases = [
            ("id", "Senin, 14 Februari 2022"),
            ("en", "Monday, 14 February 2022"),
            ("de", "Montag, 14. Februar 2022"),
            ("fr", "lundi 14 février 2022"),
            ("es", "lunes, 14 de febrero de 2022"),
            ("pt-BR", "segunda, 14 de fevereiro de 2022"),
            ("ja", "2022年2月14日(月)"),
        ];
        for (lang, expected) in cases {
            assert_eq!(long_date(&day(), lang), expected, "{lang}");
        }
    }

    #[test]
    fn languages_without_words_still_get_their_month_names() {
        assert_eq!(long_date(&day(), "it"), "lunedì, 14 febbraio 2022");
    }

    proptest! {
        /// Whatever a post's `lang` says, a date is written, never a panic.
        #[test]
        fn any_language_tag_writes_a_date(lang in "\\PC{0,12}", secs in -62_000_000_000i64..250_000_000_000i64) {
            let date = DateTime::from_timestamp(secs, 0).expect("in range").fixed_offset();
            prop_assert!(!long_date(&date, &lang).is_empty());
        }
    }
}
