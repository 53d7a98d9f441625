//! Any text as a date: parsing must never panic, and a date it accepts must render in every
//! format a post's date is written in (RSS's RFC 2822, Atom's and JSON Feed's RFC 3339, the
//! `Last-Modified` HTTP date, the post page's written date), each reading back as the same
//! instant. A year RFC 2822 cannot express once panicked the RSS writer.
#![no_main]

use chrono::{DateTime, FixedOffset, Utc};
use dropfeed::post::date::{parse_date, YEARS};
use dropfeed::snapshot::http_date;
use libfuzzer_sys::fuzz_target;

/// Both formats write offsets in whole minutes: a local-mean-time offset such as
/// +00:53:28 (Berlin before 1893) reads back up to 59 seconds away.
fn same_instant(read: Option<DateTime<FixedOffset>>, date: DateTime<FixedOffset>) -> bool {
    read.is_some_and(|read| (read - date).num_seconds().abs() < 60)
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    for zone in [chrono_tz::Tz::Europe__Berlin, chrono_tz::Tz::Pacific__Kiritimati] {
        let Some(date) = parse_date(text, zone) else { continue };
        assert!(YEARS.contains(&chrono::Datelike::year(&date)), "{date:?}");
        let rss = DateTime::parse_from_rfc2822(&date.to_rfc2822()).ok();
        assert!(same_instant(rss, date), "{date:?}: {rss:?}");
        let atom = DateTime::parse_from_rfc3339(&date.to_rfc3339()).ok();
        assert!(same_instant(atom, date), "{date:?}: {atom:?}");
        let utc = date.with_timezone(&Utc);
        let header = http_date(utc);
        let sent = httpdate::parse_http_date(header.to_str().unwrap()).unwrap();
        if utc.timestamp() >= 0 {
            assert_eq!(DateTime::<Utc>::from(sent).timestamp(), utc.timestamp());
        }
        let _ = date.format("%-d %B %Y").to_string();
    }
});
