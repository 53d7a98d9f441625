//! Any text as a date: parsing must never panic.
#![no_main]

use dropfeed::post::date::parse_date;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = parse_date(text, chrono_tz::Tz::Europe__Berlin);
    }
});
