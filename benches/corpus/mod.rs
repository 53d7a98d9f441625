//! A deterministic corpus of Markdown posts for benchmarks, shared by `benches/pipeline.rs`
//! and `examples/gen_corpus.rs` (both include this file with `#[path]`).
//!
//! Post `i` depends only on `i` and the seed: the same count and seed give byte-identical
//! files, and one post can be regenerated without the others. Each post has YAML front
//! matter (a quoted title, a date four hours after the previous post's starting in 2001, so
//! 50,000 posts stay in the past, closer together in larger corpora so that every post is
//! published; one to four tags from a pool of 30; an author on
//! every fourth post) and about 600 words of English-like prose with a heading, two links
//! (one absolute, one relative to another post), an image with a relative URL, inline code,
//! a fenced code block and a list. Every third post has a `<!-- more -->` marker.

// Each includer uses a different part of this module.
#![allow(dead_code)]

use std::fmt::Write as _;
use std::io;
use std::path::Path;

use chrono::{Duration, NaiveDate};

/// The seed used when none is given.
pub const DEFAULT_SEED: u64 = 0x00d1_0f33_d5ee_d001;

/// Prose words in a post, give or take 15%.
const WORDS_PER_POST: usize = 600;

/// A tiny xorshift64 generator: deterministic, seedable, and good enough for filler text.
pub struct Rng(u64);

impl Rng {
    /// A generator whose state is mixed from `seed` (splitmix64), never zero.
    pub fn new(seed: u64) -> Rng {
        let mut z = seed.wrapping_add(0x9e37_79b9_7f4a_7c15);
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^= z >> 31;
        Rng(if z == 0 { 1 } else { z })
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }

    /// A number in `0..n` (`n > 0`).
    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n as u64) as usize
    }

    /// A number in `low..=high`.
    pub fn between(&mut self, low: usize, high: usize) -> usize {
        low + self.below(high - low + 1)
    }

    /// One item of a non-empty slice.
    pub fn pick<T: Copy>(&mut self, items: &[T]) -> T {
        items[self.below(items.len())]
    }
}

/// Tags posts draw from.
pub const TAGS: &[&str] = &[
    "rust",
    "feeds",
    "web",
    "http",
    "caching",
    "performance",
    "design",
    "writing",
    "tools",
    "linux",
    "networking",
    "databases",
    "testing",
    "security",
    "history",
    "music",
    "travel",
    "cooking",
    "gardening",
    "books",
    "photography",
    "cycling",
    "open-source",
    "standards",
    "typography",
    "privacy",
    "hardware",
    "science",
    "maths",
    "notes",
];

const AUTHORS: &[&str] = &[
    "Mira Okafor",
    "Jonas Lindqvist",
    "Ana Ferreira",
    "Kenji Watanabe",
    "Priya Raman",
];

/// Filler vocabulary: common English words, so language detection has something to chew.
const WORDS: &[&str] = &[
    "the", "of", "and", "a", "to", "in", "is", "you", "that", "it", "he", "was", "for", "on",
    "are", "as", "with", "his", "they", "at", "be", "this", "have", "from", "or", "one", "had",
    "by", "word", "but", "not", "what", "all", "were", "we", "when", "your", "can", "said",
    "there", "use", "an", "each", "which", "she", "do", "how", "their", "if", "will", "up",
    "other", "about", "out", "many", "then", "them", "these", "so", "some", "her", "would", "make",
    "like", "him", "into", "time", "has", "look", "two", "more", "write", "go", "see", "number",
    "no", "way", "could", "people", "my", "than", "first", "water", "been", "call", "who", "oil",
    "its", "now", "find", "long", "down", "day", "did", "get", "come", "made", "may", "part",
    "reader", "feed", "server", "garden", "river", "morning", "letter", "window", "station",
    "paper", "engine", "signal", "market", "bridge", "winter", "summer", "quiet", "careful",
    "simple", "honest", "small", "early", "late", "bright", "steady", "open", "slowly", "often",
    "never", "always", "together", "because", "although", "between", "under", "across", "around",
    "toward", "build", "measure", "publish", "keep", "change", "serve", "answer", "follow",
    "carry", "remember", "notice", "wonder", "decide", "explain", "return", "travel", "listen",
    "gather", "season", "question", "story", "idea",
];

/// The file name of post `index`.
pub fn file_name(index: usize) -> String {
    format!("post-{index:05}.md")
}

/// Minutes between two posts' dates in a corpus of `count`: four hours up to 50,000 posts
/// (which end in 2023), proportionally less above, so a 100,000-post corpus is not half
/// future-dated (held back, unpublished) and corpora up to 50,000 stay byte-identical.
pub fn spacing(count: usize) -> usize {
    if count <= 50_000 {
        240
    } else {
        (240 * 50_000 / count).max(1)
    }
}

/// The publication date of post `index`, `spacing` minutes after the previous one's slot.
pub fn date_of(index: usize, spacing: usize, rng: &mut Rng) -> String {
    let start = NaiveDate::from_ymd_opt(2001, 1, 1)
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .expect("a valid start date");
    let minutes = (index * spacing + rng.below(spacing)) as i64;
    (start + Duration::minutes(minutes))
        .format("%Y-%m-%d %H:%M")
        .to_string()
}

/// The full text of post `index` for `seed`, in a corpus of at most 50,000 posts.
pub fn post(index: usize, seed: u64) -> String {
    post_of(index, 0, seed)
}

/// The full text of post `index` for `seed` in a corpus of `count` posts.
pub fn post_of(index: usize, count: usize, seed: u64) -> String {
    let mut rng = Rng::new(seed ^ (index as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15));
    let mut out = String::with_capacity(5 * 1024);
    front_matter(&mut out, index, spacing(count), &mut rng);
    body(&mut out, index, &mut rng);
    out
}

/// Writes posts `0..count` into `dir` (created if missing); returns the bytes written.
pub fn write_corpus(dir: &Path, count: usize, seed: u64) -> io::Result<u64> {
    std::fs::create_dir_all(dir)?;
    let mut total = 0;
    for index in 0..count {
        let text = post_of(index, count, seed);
        std::fs::write(dir.join(file_name(index)), &text)?;
        total += text.len() as u64;
    }
    Ok(total)
}

fn front_matter(out: &mut String, index: usize, spacing: usize, rng: &mut Rng) {
    let title = title(rng);
    let date = date_of(index, spacing, rng);
    let mut tags: Vec<&str> = Vec::new();
    for _ in 0..rng.between(1, 4) {
        let tag = rng.pick(TAGS);
        if !tags.contains(&tag) {
            tags.push(tag);
        }
    }
    let _ = writeln!(out, "---\ntitle: \"{title}\"\ndate: {date}");
    let _ = writeln!(out, "tags: [{}]", tags.join(", "));
    if index.is_multiple_of(4) {
        let _ = writeln!(out, "authors: [\"{}\"]", rng.pick(AUTHORS));
    }
    out.push_str("---\n\n");
}

/// Three to seven capitalised words.
pub fn title(rng: &mut Rng) -> String {
    let count = rng.between(3, 7);
    (0..count)
        .map(|_| capitalise(rng.pick(WORDS)))
        .collect::<Vec<_>>()
        .join(" ")
}

fn body(out: &mut String, index: usize, rng: &mut Rng) {
    let target = WORDS_PER_POST * rng.between(85, 115) / 100;
    let mut written = 0;
    let mut paragraph = 0;
    while written < target {
        let words = rng.between(40, 90).min(target - written).max(8);
        let mut text = prose(rng, words);
        match paragraph {
            1 => text.push_str(&format!(
                " See [the {} notes](https://example.org/{}/{}) for more.",
                rng.pick(WORDS),
                rng.pick(WORDS),
                index
            )),
            2 => text.push_str(&format!(
                " It follows [an earlier post](../{}/) and uses `{}_{}()` throughout.",
                file_name(rng.below(index.max(1))).trim_end_matches(".md"),
                rng.pick(WORDS),
                rng.pick(WORDS)
            )),
            _ => {}
        }
        out.push_str(&text);
        out.push_str("\n\n");
        written += words;
        paragraph += 1;
        extras(out, index, paragraph, rng);
    }
}

/// The non-prose blocks, placed after given paragraphs.
fn extras(out: &mut String, index: usize, paragraph: usize, rng: &mut Rng) {
    match paragraph {
        1 if index.is_multiple_of(3) => out.push_str("<!-- more -->\n\n"),
        3 => {
            let _ = writeln!(out, "## {}\n", title(rng));
            let _ = writeln!(
                out,
                "![A {} {}](images/figure-{}.png)\n",
                rng.pick(WORDS),
                rng.pick(WORDS),
                rng.below(12)
            );
        }
        4 => code_block(out, rng),
        5 => {
            for _ in 0..rng.between(2, 4) {
                let words = rng.between(3, 8);
                let _ = writeln!(out, "- {}", prose(rng, words));
            }
            out.push('\n');
        }
        _ => {}
    }
}

fn code_block(out: &mut String, rng: &mut Rng) {
    let name = format!("{}_{}", rng.pick(WORDS), rng.pick(WORDS));
    let _ = writeln!(
        out,
        "```rust\nfn {name}(input: u64) -> u64 {{\n    let step = input.wrapping_mul({});\n    step ^ (step >> {})\n}}\n```\n",
        rng.next_u64() % 100_000,
        rng.between(3, 31)
    );
}

/// `words` words in sentences of 6 to 18 words.
fn prose(rng: &mut Rng, words: usize) -> String {
    let mut text = String::with_capacity(words * 7);
    let mut left = words;
    while left > 0 {
        let sentence = rng.between(6, 18).min(left);
        for i in 0..sentence {
            let word = rng.pick(WORDS);
            if i == 0 {
                if !text.is_empty() {
                    text.push(' ');
                }
                text.push_str(&capitalise(word));
            } else {
                if rng.below(12) == 0 {
                    text.push(',');
                }
                text.push(' ');
                text.push_str(word);
            }
        }
        text.push('.');
        left -= sentence;
    }
    text
}

fn capitalise(word: &str) -> String {
    let mut chars = word.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}
