//! `dropfeed stats`: the reader counts kept in the state folder, read from disk (a running
//! server writes today's counts every few seconds), as a table or JSON.

use std::fmt::Write;
use std::path::Path;
use std::process::ExitCode;

use anyhow::{Context, Result};
use chrono::{NaiveDate, Utc};

use dropfeed::readers::{self, ReadersReport};

/// Prints the counts of the `days` days up to `today` (default: today, UTC).
pub fn stats(posts: &Path, days: u32, today: Option<NaiveDate>, json: bool) -> Result<ExitCode> {
    if !posts.is_dir() {
        anyhow::bail!("{}: no such folder", posts.display());
    }
    let today = today.unwrap_or_else(|| Utc::now().date_naive());
    let (report, damaged) = readers::report_from_disk(posts, today, days);
    for (file, why) in damaged {
        eprintln!(
            "dropfeed: {}: skipped, cannot be read: {why}",
            file.display()
        );
    }
    if json {
        let text = serde_json::to_string_pretty(&report).context("writing JSON")?;
        println!("{text}");
    } else {
        print!("{}", table(&report, days));
    }
    Ok(ExitCode::SUCCESS)
}

/// The report as text: per feed, today's estimate and each day with readers; then episodes.
fn table(report: &ReadersReport, days: u32) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "Readers per feed, the {days} days up to {} (UTC)",
        report.today
    );
    if report.feeds.is_empty() {
        out.push_str("\nNo feed was polled in these days.\n");
    }
    for feed in &report.feeds {
        let by: Vec<String> = feed
            .aggregators
            .iter()
            .map(|(name, n)| format!("{name} {n}"))
            .collect();
        let _ = writeln!(
            out,
            "\n{}  today: {} subscribers from aggregators ({}), {} direct readers",
            feed.feed,
            feed.aggregator,
            if by.is_empty() {
                "none".into()
            } else {
                by.join(", ")
            },
            feed.direct
        );
        let _ = writeln!(
            out,
            "  {:<10}  {:>11}  {:>6}",
            "day", "aggregators", "direct"
        );
        for day in feed.days.iter().filter(|d| d.aggregator + d.direct > 0) {
            let _ = writeln!(
                out,
                "  {}  {:>11}  {:>6}",
                day.day, day.aggregator, day.direct
            );
        }
    }
    if !report.episodes.is_empty() {
        let _ = writeln!(out, "\nEpisode downloads (today, all days kept)");
        for e in &report.episodes {
            let _ = writeln!(out, "  {}  {}  {}  {}", e.feed, e.episode, e.today, e.total);
        }
    }
    out
}
