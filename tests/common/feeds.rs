//! Parsing our output with independent parsers (feed-rs, Python feedparser).
