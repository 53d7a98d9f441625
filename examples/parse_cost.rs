//! Where a post's parse time goes: `cargo run --release --example parse_cost -- DIR`.
use std::time::Instant;

use dropfeed::post::{self, html, lang, ParseContext};

fn main() {
    let dir = std::env::args().nth(1).expect("a posts folder");
    let mut texts = Vec::new();
    let wanted: usize = std::env::var("POSTS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(2000);
    let files = std::fs::read_dir(&dir)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().is_some_and(|e| e == "md"));
    for path in files.take(wanted) {
        texts.push((path.clone(), std::fs::read_to_string(&path).unwrap()));
    }
    let ctx = ParseContext {
        timezone: chrono_tz::Tz::UTC,
        language: "en".into(),
        post_base: url::Url::parse("https://ex.org/posts/").unwrap(),
        site_base: url::Url::parse("https://ex.org/").unwrap(),
        fallback_date: chrono::DateTime::UNIX_EPOCH.fixed_offset(),
    };
    let n = texts.len() as f64;
    let t = Instant::now();
    let posts: Vec<_> = texts
        .iter()
        .map(|(p, t)| post::parse(p.file_name().unwrap().to_str().unwrap(), p, t, &ctx).unwrap())
        .collect();
    println!(
        "parse (body deferred): {:.1} us/post",
        t.elapsed().as_secs_f64() * 1e6 / n
    );
    if std::env::var_os("PARSE_ONLY").is_some() {
        return;
    }
    let t = Instant::now();
    for post in &posts {
        post.keep_body();
    }
    println!(
        "render the body later: {:.1} us/post",
        t.elapsed().as_secs_f64() * 1e6 / n
    );
    let t = Instant::now();
    for (_, text) in &texts {
        std::hint::black_box(lang::detect(text));
    }
    println!(
        "lang detect: {:.1} us/post",
        t.elapsed().as_secs_f64() * 1e6 / n
    );
    let htmls: Vec<String> = posts
        .iter()
        .map(|p| p.body().unwrap().html.text().unwrap())
        .collect();
    let t = Instant::now();
    let urls = html::UrlBase {
        source: "post.md",
        post_url: &ctx.post_base,
        site_base: &ctx.site_base,
    };
    for h in &htmls {
        std::hint::black_box(html::clean_html(h, &urls));
    }
    println!(
        "clean_html: {:.1} us/post",
        t.elapsed().as_secs_f64() * 1e6 / n
    );
    let t = Instant::now();
    for h in &htmls {
        std::hint::black_box(post::Content::new(h));
    }
    println!(
        "content pack: {:.1} us/post",
        t.elapsed().as_secs_f64() * 1e6 / n
    );
    let t = Instant::now();
    for (_, text) in &texts {
        let mut s = String::new();
        pulldown_cmark::html::push_html(&mut s, pulldown_cmark::Parser::new(text));
        std::hint::black_box(s);
    }
    println!(
        "pulldown: {:.1} us/post",
        t.elapsed().as_secs_f64() * 1e6 / n
    );
    let t = Instant::now();
    for (_, text) in &texts {
        std::hint::black_box(blake3::hash(text.as_bytes()));
    }
    println!("blake3: {:.1} us/post", t.elapsed().as_secs_f64() * 1e6 / n);
    packing(&texts);
    let mem: usize = posts
        .iter()
        .map(|p| p.body().unwrap().html.stored_len())
        .sum();
    println!("content stored: {:.0} B/post", mem as f64 / n);
}

#[allow(dead_code)]
fn packing(texts: &[(std::path::PathBuf, String)]) {
    let n = texts.len() as f64;
    for (level, hash_log) in [(3, 0), (1, 0), (1, 12), (1, 10), (-1, 0)] {
        let mut c = zstd::bulk::Compressor::new(level).unwrap();
        if hash_log > 0 {
            c.set_parameter(zstd::zstd_safe::CParameter::HashLog(hash_log))
                .unwrap();
        }
        let t = Instant::now();
        let mut total = 0;
        for (_, text) in texts {
            total += c.compress(text.as_bytes()).unwrap().len();
        }
        println!(
            "zstd {level} (hash log {hash_log}): {:.1} us/post, {:.0} B/post",
            t.elapsed().as_secs_f64() * 1e6 / n,
            total as f64 / n
        );
    }
}
