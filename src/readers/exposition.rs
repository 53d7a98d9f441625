//! Readers and downloads in the Prometheus text format. The names are an interface scripts
//! outside this repository rely on: `dropfeed_feed_subscribers{feed,source}` (today's
//! estimate, `source` `aggregator` or `direct`) and
//! `dropfeed_episode_downloads_total{feed,episode}`.

use std::fmt::Write;

use super::days::ReadersReport;

/// Appends the readers' metrics to `out`; `dropped` is [`super::Readers::dropped`].
pub fn render(out: &mut String, report: &ReadersReport, dropped: u64) {
    out.push_str(
        "# HELP dropfeed_feed_subscribers Today's readers of a subscription feed: subscribers reported by aggregators, and distinct direct readers.\n\
         # TYPE dropfeed_feed_subscribers gauge\n",
    );
    for feed in &report.feeds {
        let name = label(&feed.feed);
        for (source, n) in [("aggregator", feed.aggregator), ("direct", feed.direct)] {
            let _ = writeln!(
                out,
                "dropfeed_feed_subscribers{{feed=\"{name}\",source=\"{source}\"}} {n}"
            );
        }
    }
    out.push_str(
        "# HELP dropfeed_episode_downloads_total Downloads of a podcast episode (once per client and episode in 24 hours), over the days kept.\n\
         # TYPE dropfeed_episode_downloads_total counter\n",
    );
    for episode in &report.episodes {
        let _ = writeln!(
            out,
            "dropfeed_episode_downloads_total{{feed=\"{}\",episode=\"{}\"}} {}",
            label(&episode.feed),
            label(&episode.episode),
            episode.total
        );
    }
    let _ = writeln!(
        out,
        "# HELP dropfeed_reader_hits_dropped_total Polls and downloads not counted because the counting thread was behind.\n\
         # TYPE dropfeed_reader_hits_dropped_total counter\n\
         dropfeed_reader_hits_dropped_total {dropped}"
    );
}

/// A label value, escaped as the text format asks (`\`, `"` and line feeds).
fn label(value: &str) -> String {
    value
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}
