//! Who reads: per subscription feed and UTC day, the subscribers aggregators report and the
//! distinct direct readers; per podcast episode and day, its downloads. Kept in the state
//! folder for `[readers] retention_days` (400 by default), shown on `/status`,
//! in `/metrics` and by `dropfeed stats`.
//!
//! - [`agent`]: what a `User-Agent` says (an aggregator's subscriber count, a bot).
//! - [`days`]: the counts of a day, and the report made from them.
//! - `tally`: the counting thread (salted hashes, sets, the 24-hour download window).
//! - [`store`]: one file per day in `posts/.dropfeed/readers/`, written atomically.
//! - [`chart`]: a feed's last 30 days as an SVG chart for `/status`.
//! - [`exposition`]: the counts in `/metrics`.
//!
//! Rules followed:
//!
//! - The request path pays for one non-blocking send of a small [`Hit`] (copied numbers and
//!   reference-counted handles to bytes hyper already holds) into a bounded channel, whose
//!   slots are allocated once: no lock, no allocation, no hashing. A full channel drops the
//!   hit rather than slow a reader; [`Readers::dropped`] counts them.
//! - Nothing personal is kept: addresses are hashed with a salt that changes every UTC day
//!   and is never written down, and only counts reach the disk.

pub mod agent;
pub mod chart;
pub mod days;
pub mod exposition;
pub mod store;
mod tally;

use std::io;
use std::net::IpAddr;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{self, SyncSender, TrySendError};
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, NaiveDate, Utc};
use hyper::header::HeaderValue;
use hyper::http::uri::PathAndQuery;

use crate::config::ReadersConfig;
use crate::render::Media;

pub use days::{DayCounts, EpisodeReport, FeedReport, ReadersReport};

/// Where the counting thread's "now" comes from.
pub type Now = Box<dyn Fn() -> DateTime<Utc> + Send>;

/// Hits that may wait for the counting thread (about 0.5 MB of slots, allocated once).
const QUEUE: usize = 4096;
/// Days a report shows per feed (the `/status` chart).
pub const CHART_DAYS: u32 = 30;

/// A podcast episode: the published post whose enclosure a file beside posts is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Episode {
    /// The post's slug.
    pub slug: String,
    /// The path of the feed it is published in (`/feed.xml`).
    pub feed: String,
}

/// What a hit was for.
#[derive(Debug, Clone)]
pub enum Polled {
    /// A subscription feed answered `200` or `304`: its path as requested.
    Feed(PathAndQuery),
    /// An episode's file answered `200` or `206`.
    Episode(Arc<Episode>),
}

/// One request worth counting (dated by the counting thread's clock when it is counted,
/// moments later: a clock is never asked on the request path).
#[derive(Debug, Clone)]
pub struct Hit {
    /// The client group (its address, IPv6 by /64); hashed, never kept.
    pub client: IpAddr,
    /// Its `User-Agent`.
    pub agent: Option<HeaderValue>,
    /// The feed or episode.
    pub what: Polled,
}

/// What the counting thread is handed.
#[allow(clippy::large_enum_variant)]
enum Entry {
    Hit(Hit),
    /// The report of the last `days` days up to today.
    Report {
        days: u32,
        reply: mpsc::Sender<ReadersReport>,
    },
    /// Write today's counts now, then answer.
    Flush(mpsc::Sender<()>),
}

/// Counting readers: a handle to the counting thread.
#[derive(Debug)]
pub struct Readers {
    sender: SyncSender<Entry>,
    dropped: AtomicU64,
}

impl Readers {
    /// Starts counting over the days kept for `posts` (damaged day files are reported and
    /// skipped); `now` dates each hit (the service's clock, so tests can move days; should
    /// it panic, the system clock stands in).
    pub fn start(posts: &Path, config: &ReadersConfig, now: Now) -> io::Result<Readers> {
        let folder = store::folder(posts);
        let loaded = store::load(&folder);
        for (file, why) in &loaded.damaged {
            tracing::warn!(file = %file.display(), "reader counts of this day cannot be read, skipped: {why}");
        }
        let (sender, receiver) = mpsc::sync_channel(QUEUE);
        let retention = config.retention_days;
        std::thread::Builder::new()
            .name("dropfeed-readers".into())
            .spawn(move || {
                tally::Tally::new(folder, retention, loaded.history, now).run(receiver)
            })?;
        Ok(Readers {
            sender,
            dropped: AtomicU64::new(0),
        })
    }

    /// Hands a hit to the counting thread; never waits (a full queue drops it).
    pub fn record(&self, hit: Hit) {
        if let Err(TrySendError::Full(_) | TrySendError::Disconnected(_)) =
            self.sender.try_send(Entry::Hit(hit))
        {
            self.dropped.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// Hits dropped because the counting thread was behind.
    pub fn dropped(&self) -> u64 {
        self.dropped.load(Ordering::Relaxed)
    }

    /// The report of the last [`CHART_DAYS`] days up to today, counting every hit recorded
    /// before; `None` if the thread does not answer within `timeout`. Blocks: call it off
    /// the async runtime.
    pub fn report(&self, timeout: Duration) -> Option<ReadersReport> {
        let (reply, answer) = mpsc::channel();
        let entry = Entry::Report {
            days: CHART_DAYS,
            reply,
        };
        self.sender.send(entry).ok()?;
        answer.recv_timeout(timeout).ok()
    }

    /// Writes today's counts to the state folder now; waits up to `timeout`. Blocks.
    pub fn flush(&self, timeout: Duration) {
        let (done, finished) = mpsc::channel();
        if self.sender.send(Entry::Flush(done)).is_ok() {
            let _ = finished.recv_timeout(timeout);
        }
    }
}

/// Whether a route (no leading `/`) names a subscription feed: a feed file (`atom.xml`,
/// `tags/rust/feed.json`, a show's feed) that is neither an archive page nor a file beside
/// posts (`files/feed.xml`).
pub fn is_subscription_feed(route: &str) -> bool {
    let file = route.rsplit('/').next().unwrap_or(route);
    Media::of_feed_file(file).is_some()
        && !route.starts_with("archive/")
        && !route.starts_with("files/")
        && !route.contains("/archive/")
}

/// The report of the days kept in the state folder of `posts`, over `days` days up to
/// `today` (`dropfeed stats`); damaged day files are returned with why.
pub fn report_from_disk(
    posts: &Path,
    today: NaiveDate,
    days: u32,
) -> (ReadersReport, Vec<(std::path::PathBuf, String)>) {
    let loaded = store::load(&store::folder(posts));
    (
        ReadersReport::of(&loaded.history, today, days),
        loaded.damaged,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subscription_feeds_are_site_tag_and_show_feeds_only() {
        for feed in [
            "atom.xml",
            "feed.xml",
            "feed.json",
            "tags/rust/atom.xml",
            "shows/x/feed.xml",
        ] {
            assert!(is_subscription_feed(feed), "{feed}");
        }
        for other in [
            "",
            "posts/x/",
            "archive/1/atom.xml",
            "tags/rust/archive/2/feed.xml",
            "files/feed.xml",
            "tags/rust/",
        ] {
            assert!(!is_subscription_feed(other), "{other}");
        }
    }
}
