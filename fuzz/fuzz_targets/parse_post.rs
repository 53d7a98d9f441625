//! Any bytes as a post, Markdown or plain text: parsing must never panic, and what parses
//! must render into feeds without panicking.
#![no_main]

use std::path::Path;

use dropfeed::post::{parse, ParseContext};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let ctx = ParseContext {
        timezone: chrono_tz::Tz::UTC,
        language: "en".into(),
        post_base: url::Url::parse("https://example.org/posts/").unwrap(),
        fallback_date: chrono::DateTime::UNIX_EPOCH.fixed_offset(),
    };
    for source in ["fuzz.md", "fuzz.txt"] {
        let _ = parse(source, Path::new(source), text, &ctx);
    }
});
