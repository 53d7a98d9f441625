//! Any text kept as compressed post content comes back whole: the same bytes, the same
//! length, never less (a guessed output size once turned text that compressed better than
//! 8:1 into an empty body). The input is also repeated, so highly compressible text is
//! explored as much as random text.
#![no_main]

use dropfeed::post::Content;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&times, rest)) = data.split_first() else { return };
    let Ok(text) = std::str::from_utf8(rest) else { return };
    for text in [text.to_string(), text.repeat(usize::from(times) * 64)] {
        let content = Content::new(&text);
        assert_eq!(content.len(), text.len());
        assert_eq!(content.text().as_deref(), Ok(text.as_str()));
    }
});
