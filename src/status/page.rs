//! `/status` as a page: HTML for people, pretty JSON for tools, rendered on request from what
//! a rebuild saw (the page shows rebuild times, so it is neither cached nor exported).
//!
//! Every text taken from a post or a path is escaped; the JSON is [`Report`] as serde writes
//! it, with a final newline.

use std::sync::Arc;

use super::{report, Level, PostReport, PostState, RebuildInfo, Report, Served, StatusInputs};
use crate::post::html::escape_text as esc;
use crate::readers::{chart, FeedReport, ReadersReport};
use crate::render::{Lifetime, Media, Rendered};
use crate::site::Site;

/// Feeds charted on `/status`, the most read first.
const CHARTS: usize = 20;

/// `/status` of one snapshot, rendered on request. Cloning it is cheap.
#[derive(Clone)]
pub struct StatusPage(Arc<Page>);

/// What the page is made from.
struct Page {
    inputs: StatusInputs,
    site: Arc<Site>,
    served: Served,
    post_counts: Vec<(PostState, usize)>,
}

impl std::fmt::Debug for StatusPage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("StatusPage")
    }
}

impl StatusPage {
    /// The page of a snapshot just built from `site`: `generation` and `feed_sizes` are the
    /// snapshot's; the rebuild under way in `inputs`, if any, is timed now.
    pub fn new(
        mut inputs: StatusInputs,
        site: Arc<Site>,
        generation: u64,
        feed_sizes: Vec<(String, usize)>,
    ) -> StatusPage {
        let served = Served {
            generation,
            feed_sizes,
            rebuild: inputs.rebuild.take().map(|r| r.finish()),
        };
        let post_counts = inputs.post_counts(&site);
        StatusPage(Arc::new(Page {
            inputs,
            site,
            served,
            post_counts,
        }))
    }

    /// The report as it stands now.
    pub fn report(&self) -> Report {
        report(&self.0.inputs, &self.0.site, &self.0.served)
    }

    /// The page in HTML, or in JSON when `json`, with the server's reader counts if any.
    pub fn render(&self, json: bool, readers: Option<ReadersReport>) -> Rendered {
        let mut report = self.report();
        report.readers = readers;
        let (media, body) = if json {
            (Media::Status, render_json(&report))
        } else {
            (Media::Html, render_html(&report, &self.0.site.config.title))
        };
        Rendered {
            path: "status".into(),
            media,
            body,
            last_modified: None,
            lifetime: Lifetime::NoCache,
            link_header: None,
        }
    }

    /// What the snapshot serves, as the report tells it.
    pub fn served(&self) -> &Served {
        &self.0.served
    }

    /// How many post files are in each state, in [`PostState::ALL`] order.
    pub fn post_counts(&self) -> &[(PostState, usize)] {
        &self.0.post_counts
    }
}

/// `/status` as HTML.
pub fn render_html(report: &Report, title: &str) -> Vec<u8> {
    let rows: String = report.posts.iter().map(post_row).collect();
    let site = site_notes(report);
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>Status — {title}</title>\n<style>body{{font:1rem/1.5 system-ui,sans-serif;margin:1rem}}table{{border-collapse:collapse;width:100%}}\
         td,th{{border-bottom:1px solid #ddd;padding:.4rem;vertical-align:top;text-align:left}}tr.failed,tr.held{{background:#fde8e8}}\
         tr.draft,tr.scheduled{{color:#555}}li.error{{color:#a00}}li.warning{{color:#8a5a00}}li.info{{color:#777;font-size:.9em}}ul{{margin:0;padding-left:1rem}}</style>\n</head>\n<body>\n\
         <h1>Status — {title}</h1>\n<p>{published} posts published, {failed} failed, {drafts} drafts, {scheduled} scheduled. Snapshot generation {generation}.</p>\n\
         {rebuild}\n{site_block}{readers}<table>\n<thead><tr><th>File</th><th>Title</th><th>State</th><th>Notes</th></tr></thead>\n<tbody>\n{rows}</tbody>\n</table>\n</body>\n</html>\n",
        title = esc(title),
        published = report.published,
        failed = report.count(PostState::Failed),
        drafts = report.count(PostState::Draft),
        scheduled = report.count(PostState::Scheduled),
        generation = report.generation,
        rebuild = rebuild_line(report.rebuild.as_ref()),
        site_block = if site.is_empty() { String::new() } else { format!("<h2>Site</h2><ul>{site}</ul>\n") },
        readers = report.readers.as_ref().map(readers_block).unwrap_or_default(),
    )
    .into_bytes()
}

/// Readers per feed (a 30-day chart each) and episode downloads, as HTML.
/// The most read feeds get a chart each (a site with thousands of tag feeds keeps a page of
/// reasonable size); the others are listed.
fn readers_block(readers: &ReadersReport) -> String {
    let mut out = String::from("<h2>Readers</h2>\n");
    if readers.feeds.is_empty() {
        out.push_str("<p>No feed polled in the last 30 days.</p>\n");
    } else {
        out.push_str(&chart::legend());
    }
    let mut feeds: Vec<_> = readers.feeds.iter().collect();
    let read = |f: &&FeedReport| f.days.iter().map(|d| d.aggregator + d.direct).sum::<u64>();
    feeds.sort_by_key(|f| std::cmp::Reverse(read(f)));
    let today = |f: &FeedReport| {
        format!(
            "<code>{}</code>: {} subscribers from aggregators, {} direct readers today",
            esc(&f.feed),
            f.aggregator,
            f.direct
        )
    };
    for feed in feeds.iter().take(CHARTS) {
        out.push_str(&format!("<h3>{}</h3>\n{}\n", today(feed), chart::svg(feed)));
    }
    if feeds.len() > CHARTS {
        out.push_str("<h3>Other feeds</h3>\n<ul>\n");
        for feed in &feeds[CHARTS..] {
            out.push_str(&format!("<li>{}</li>\n", today(feed)));
        }
        out.push_str("</ul>\n");
    }
    if !readers.episodes.is_empty() {
        out.push_str("<h3>Episode downloads</h3>\n<table><thead><tr><th>Episode</th><th>Feed</th><th>Today</th><th>All days kept</th></tr></thead><tbody>\n");
        for e in &readers.episodes {
            out.push_str(&format!(
                "<tr><td>{}</td><td><code>{}</code></td><td>{}</td><td>{}</td></tr>\n",
                esc(&e.episode),
                esc(&e.feed),
                e.today,
                e.total
            ));
        }
        out.push_str("</tbody></table>\n");
    }
    out
}

/// One table row: file, title (linked when published), state, notes.
fn post_row(post: &PostReport) -> String {
    let name = post
        .title
        .as_deref()
        .map(esc)
        .unwrap_or_else(|| "<em>(no title)</em>".into());
    let name = match &post.url {
        Some(url) => format!("<a href=\"{}\">{name}</a>", esc(url)),
        None => name,
    };
    let notes: String = post
        .diagnostics
        .iter()
        .map(|d| {
            let line = d.line.map(|l| format!("line {l}: ")).unwrap_or_default();
            format!(
                "<li class=\"{}\">{line}{}</li>",
                d.level.name(),
                esc(&d.message)
            )
        })
        .collect();
    format!(
        "<tr class=\"{state}\"><td><code>{file}</code></td><td>{name}</td><td><strong>{state}</strong><br>{detail}</td><td><ul>{notes}</ul></td></tr>\n",
        state = post.state.name(),
        file = esc(&post.file),
        detail = esc(&post.detail),
    )
}

/// The site-wide notes as list items (those about a file name it).
fn site_notes(report: &Report) -> String {
    report
        .site
        .iter()
        .map(|d| match d.file.as_str() {
            "site" => format!("<li>{}</li>", esc(&d.message)),
            _ => format!(
                "<li class=\"{}\">{}</li>",
                d.level.name(),
                esc(&d.to_string())
            ),
        })
        .collect()
}

/// The last rebuild in one sentence, or nothing.
fn rebuild_line(rebuild: Option<&RebuildInfo>) -> String {
    let Some(r) = rebuild else {
        return String::new();
    };
    let files = |list: &[String]| {
        if list.is_empty() {
            "nothing".into()
        } else {
            esc(&list.join(", "))
        }
    };
    format!(
        "<p>Last rebuild: {} ({:.1} ms). Changed: {}. Removed: {}.</p>",
        r.at.to_rfc3339(),
        r.duration_ms,
        files(&r.changed),
        files(&r.removed),
    )
}

/// `/status` as JSON.
pub fn render_json(report: &Report) -> Vec<u8> {
    let mut out = serde_json::to_vec_pretty(report).unwrap_or_default();
    out.push(b'\n');
    out
}

/// `dropfeed check`'s report: one `file:line: level: message` line per diagnostic, errors
/// in red and warnings in yellow when `colour`; information only when `verbose`.
pub fn render_text(report: &Report, verbose: bool, colour: bool) -> String {
    let mut out = String::new();
    for d in report.diagnostics() {
        let paint = match d.level {
            Level::Error => "\x1b[31m",
            Level::Warning => "\x1b[33m",
            Level::Info if !verbose => continue,
            Level::Info => "\x1b[2m",
        };
        let line = if colour {
            format!("{paint}{d}\x1b[0m\n")
        } else {
            format!("{d}\n")
        };
        out.push_str(&line);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::readers::days::{DayCounts, History};

    #[test]
    fn only_the_most_read_feeds_get_a_chart() {
        let today = "2026-03-01".parse().expect("a day");
        let mut counts = DayCounts::default();
        for i in 0..CHARTS as u64 + 5 {
            let feed = counts
                .feeds
                .entry(format!("/tags/t{i}/atom.xml"))
                .or_default();
            feed.direct = i + 1;
        }
        let history = History::from([(today, counts)]);
        let html = readers_block(&ReadersReport::of(&history, today, 30));
        assert_eq!(html.matches("<svg").count(), CHARTS);
        assert_eq!(html.matches("<li>").count(), 5);
        let most = html.find("/tags/t24/atom.xml").expect("the most read");
        let least = html.find("/tags/t0/atom.xml").expect("the least read");
        assert!(most < least, "most read first");
        assert!(html[least..].starts_with("/tags/t0/atom.xml</code>: 0 subscribers"));
    }
}
