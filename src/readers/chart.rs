//! A feed's days as an SVG bar chart for `/status`: one bar per day, subscribers reported by
//! aggregators below and direct readers stacked on them, each bar titled with its numbers
//! (a browser shows the title on hover, no script needed). Fixed size, drawn on the server.

use std::fmt::Write;

use super::days::FeedReport;
use crate::post::html::escape_text as esc;

/// Drawing width and height, in SVG units.
const WIDTH: u64 = 600;
const HEIGHT: u64 = 120;
/// Room for the labels under the bars.
const LABELS: u64 = 16;
/// The two series' colours: aggregators, direct readers.
const AGGREGATOR: &str = "#3b6ea5";
const DIRECT: &str = "#e39b2d";

/// The chart of one feed's days.
pub fn svg(feed: &FeedReport) -> String {
    let days = feed.days.len().max(1) as u64;
    let top = feed
        .days
        .iter()
        .map(|d| d.aggregator + d.direct)
        .max()
        .unwrap_or(0)
        .max(1);
    let bar = WIDTH / days;
    let mut out = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{WIDTH}\" height=\"{total}\" viewBox=\"0 0 {WIDTH} {total}\" role=\"img\" aria-label=\"Readers of {name} per day\">\n",
        total = HEIGHT + LABELS,
        name = esc(&feed.feed),
    );
    for (i, day) in feed.days.iter().enumerate() {
        let x = i as u64 * bar;
        let scale = |n: u64| n.saturating_mul(HEIGHT) / top;
        let (a, d) = (scale(day.aggregator), scale(day.direct));
        let _ = writeln!(
            out,
            "<g><title>{day}: {agg} from aggregators, {direct} direct</title>\
             <rect x=\"{x}\" y=\"{ya}\" width=\"{w}\" height=\"{a}\" fill=\"{AGGREGATOR}\"/>\
             <rect x=\"{x}\" y=\"{yd}\" width=\"{w}\" height=\"{d}\" fill=\"{DIRECT}\"/></g>",
            day = day.day,
            agg = day.aggregator,
            direct = day.direct,
            ya = HEIGHT - a,
            yd = HEIGHT - a - d,
            w = bar.saturating_sub(2).max(1),
        );
    }
    let (first, last) = (feed.days.first(), feed.days.last());
    if let (Some(first), Some(last)) = (first, last) {
        let _ = writeln!(
            out,
            "<text x=\"0\" y=\"{y}\" font-size=\"11\">{}</text>\
             <text x=\"{WIDTH}\" y=\"{y}\" font-size=\"11\" text-anchor=\"end\">{}</text>\
             <text x=\"2\" y=\"11\" font-size=\"11\">{top}</text>",
            first.day,
            last.day,
            y = HEIGHT + LABELS - 3,
        );
    }
    out.push_str("</svg>");
    out
}

/// The legend of the charts, as HTML.
pub fn legend() -> String {
    format!(
        "<p><span style=\"color:{AGGREGATOR}\">■</span> subscribers reported by aggregators \
         <span style=\"color:{DIRECT}\">■</span> direct readers</p>"
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::readers::days::{DayCounts, ReadersReport};

    #[test]
    fn a_chart_has_a_bar_per_day_and_escapes_the_feed_name() {
        let mut history = crate::readers::days::History::new();
        let mut counts = DayCounts::default();
        let feed = counts.feeds.entry("/tags/<b>/atom.xml".into()).or_default();
        feed.direct = 3;
        feed.aggregators.insert("Feedly".into(), 40);
        let today = "2026-03-01".parse().unwrap();
        history.insert(today, counts);
        let report = ReadersReport::of(&history, today, 30);
        let svg = svg(&report.feeds[0]);
        assert_eq!(svg.matches("<title>").count(), 30);
        assert!(svg.contains("2026-03-01: 40 from aggregators, 3 direct"));
        assert!(!svg.contains("<b>"));
        assert!(!svg.contains("<script"));
    }
}
