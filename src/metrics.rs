//! Prometheus text-format metrics: requests by route class and status, their duration
//! histogram by route class, bytes sent by content-coding, rebuild count and duration
//! histogram, posts by state, snapshot generation, open connections and those the server
//! closed, cold pages rendered, the version (`dropfeed_build_info`) and the process's own
//! CPU, memory, file descriptors and start time ([`process`]).
//!
//! - Counters are plain atomics (relaxed): recording a request costs a few nanoseconds and
//!   takes no lock. A duration lands in one bucket (a binary search over fixed bounds and
//!   one increment); buckets are made cumulative when scraped, so recording allocates
//!   nothing.
//! - Labels are classes (route kind, status, coding), never paths, so cardinality is fixed.
//! - What the snapshot holds (posts by state, cold pages, generation) is read from the
//!   snapshot being served at scrape time.

use std::fmt::Write;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

mod process;

use crate::render::Media;
use crate::snapshot::{Coding, Snapshot};

/// Route classes: a label per kind of resource, not per path, so cardinality stays small.
const ROUTES: [&str; 11] = [
    "home",
    "feed",
    "tag_feed",
    "archive",
    "post_page",
    "file",
    "tag_page",
    "status",
    "metrics",
    "healthz",
    "other",
];
/// Response statuses counted apart (401: the admin listener refused a request's token).
const STATUSES: [u16; 15] = [
    200, 206, 301, 304, 308, 401, 404, 405, 406, 412, 416, 429, 500, 503, 0,
];
const CODINGS: [Coding; 4] = [Coding::Br, Coding::Zstd, Coding::Gzip, Coding::Identity];
/// Upper bounds of the rebuild duration histogram, seconds.
const BUCKETS: [f64; 10] = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0, 5.0];
/// Upper bounds of the request duration histogram, nanoseconds (100 µs to 1 s): a hot
/// resource is answered in microseconds, a cold page or `/status` rendered in milliseconds.
const REQUEST_BOUNDS_NANOS: [u64; 12] = [
    100_000,
    250_000,
    500_000,
    1_000_000,
    2_500_000,
    5_000_000,
    10_000_000,
    25_000_000,
    50_000_000,
    100_000_000,
    250_000_000,
    1_000_000_000,
];
/// Request duration buckets: one per bound, and one past the last (`+Inf`).
const REQUEST_BUCKETS: usize = REQUEST_BOUNDS_NANOS.len() + 1;

/// Why the server closed a connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Closed {
    /// It sent no request in time.
    Idle,
    /// A new connection needed its slot.
    Evicted,
}

/// Counters shared by the server and the watcher.
#[derive(Debug)]
pub struct Metrics {
    requests: [[AtomicU64; STATUSES.len()]; ROUTES.len()],
    /// Requests per route class and duration bucket (not cumulative: each in one bucket).
    durations: [[AtomicU64; REQUEST_BUCKETS]; ROUTES.len()],
    /// Sum of request durations per route class, nanoseconds.
    duration_nanos: [AtomicU64; ROUTES.len()],
    bytes: [AtomicU64; CODINGS.len()],
    rebuilds: AtomicU64,
    rebuild_buckets: [AtomicU64; BUCKETS.len()],
    rebuild_micros: AtomicU64,
    connections_open: AtomicU64,
    /// Access log lines dropped because its writer was behind.
    access_log_dropped: AtomicU64,
    /// Closed by the server: `[idle, evicted]`.
    connections_closed: [AtomicU64; 2],
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics {
            requests: std::array::from_fn(|_| std::array::from_fn(|_| AtomicU64::new(0))),
            durations: std::array::from_fn(|_| std::array::from_fn(|_| AtomicU64::new(0))),
            duration_nanos: std::array::from_fn(|_| AtomicU64::new(0)),
            bytes: std::array::from_fn(|_| AtomicU64::new(0)),
            rebuilds: AtomicU64::new(0),
            rebuild_buckets: std::array::from_fn(|_| AtomicU64::new(0)),
            rebuild_micros: AtomicU64::new(0),
            connections_open: AtomicU64::new(0),
            access_log_dropped: AtomicU64::new(0),
            connections_closed: std::array::from_fn(|_| AtomicU64::new(0)),
        }
    }
}

/// The route class of a route (path without the leading `/`).
pub fn route_class(route: &str) -> usize {
    let class = match route {
        "" => "home",
        r if Media::of_feed_file(r).is_some() => "feed",
        "status" => "status",
        "metrics" => "metrics",
        "healthz" => "healthz",
        r if r.starts_with("archive/") || (r.starts_with("tags/") && r.contains("/archive/")) => {
            "archive"
        }
        r if r.starts_with("tags/") && r.ends_with('/') && r.matches('/').count() <= 2 => {
            "tag_page"
        }
        r if r.starts_with("tags/") => "tag_feed",
        r if r.starts_with("posts/") => "post_page",
        r if r.starts_with("files/") => "file",
        _ => "other",
    };
    ROUTES
        .iter()
        .position(|r| *r == class)
        .unwrap_or(ROUTES.len() - 1)
}

impl Metrics {
    /// Records one response.
    pub fn record(&self, route_class: usize, status: u16, coding: Option<Coding>, bytes: usize) {
        let status = STATUSES
            .iter()
            .position(|s| *s == status)
            .unwrap_or(STATUSES.len() - 1);
        self.requests[route_class.min(ROUTES.len() - 1)][status].fetch_add(1, Ordering::Relaxed);
        if let Some(coding) = coding {
            let i = CODINGS
                .iter()
                .position(|c| *c == coding)
                .unwrap_or(CODINGS.len() - 1);
            self.bytes[i].fetch_add(bytes as u64, Ordering::Relaxed);
        }
    }

    /// Records how long a request took to answer (until its response was ready to send).
    pub fn record_duration(&self, route_class: usize, took: Duration) {
        let route = route_class.min(ROUTES.len() - 1);
        let nanos = u64::try_from(took.as_nanos()).unwrap_or(u64::MAX);
        // The first bound at or above the duration: Prometheus buckets are `le`.
        let bucket = REQUEST_BOUNDS_NANOS.partition_point(|&bound| bound < nanos);
        self.durations[route][bucket].fetch_add(1, Ordering::Relaxed);
        self.duration_nanos[route].fetch_add(nanos, Ordering::Relaxed);
    }

    /// Counts an access log line dropped (its writer was behind).
    pub fn access_log_dropped(&self) {
        self.access_log_dropped.fetch_add(1, Ordering::Relaxed);
    }

    /// Counts a connection given a slot.
    pub fn connection_opened(&self) {
        self.connections_open.fetch_add(1, Ordering::Relaxed);
    }

    /// Counts a connection gone, however it ended.
    pub fn connection_left(&self) {
        self.connections_open.fetch_sub(1, Ordering::Relaxed);
    }

    /// Counts a connection the server closed.
    pub fn connection_closed(&self, why: Closed) {
        self.connections_closed[why as usize].fetch_add(1, Ordering::Relaxed);
    }

    /// Records one rebuild.
    pub fn record_rebuild(&self, took: Duration) {
        self.rebuilds.fetch_add(1, Ordering::Relaxed);
        self.rebuild_micros
            .fetch_add(took.as_micros() as u64, Ordering::Relaxed);
        let seconds = took.as_secs_f64();
        for (bucket, bound) in self.rebuild_buckets.iter().zip(BUCKETS) {
            if seconds <= bound {
                bucket.fetch_add(1, Ordering::Relaxed);
            }
        }
    }

    /// The metrics in Prometheus text format (version 0.0.4).
    pub fn render(&self, snapshot: &Snapshot) -> String {
        let mut out = String::with_capacity(16 * 1024);
        let _ = writeln!(
            out,
            "# HELP dropfeed_build_info The dropfeed version serving.\n\
             # TYPE dropfeed_build_info gauge\n\
             dropfeed_build_info{{version=\"{}\"}} 1",
            env!("CARGO_PKG_VERSION")
        );
        self.render_requests(&mut out);
        self.render_durations(&mut out);
        self.render_bytes(&mut out);
        self.render_rebuilds(&mut out);
        self.render_connections(&mut out);
        render_snapshot(&mut out, snapshot);
        process::render(&mut out);
        out
    }

    /// The request duration histogram, per route class.
    fn render_durations(&self, out: &mut String) {
        out.push_str("# HELP dropfeed_request_duration_seconds Time from a request's arrival to its response being ready to send, by route class.\n");
        out.push_str("# TYPE dropfeed_request_duration_seconds histogram\n");
        for (r, route) in ROUTES.iter().enumerate() {
            let mut cumulative = 0;
            for (bucket, bound) in self.durations[r].iter().zip(REQUEST_BOUNDS_NANOS) {
                cumulative += get(bucket);
                let le = bound as f64 / 1e9;
                let _ = writeln!(
                    out,
                    "dropfeed_request_duration_seconds_bucket{{route=\"{route}\",le=\"{le}\"}} {cumulative}"
                );
            }
            cumulative += get(&self.durations[r][REQUEST_BUCKETS - 1]);
            let sum = get(&self.duration_nanos[r]) as f64 / 1e9;
            let _ = writeln!(
                out,
                "dropfeed_request_duration_seconds_bucket{{route=\"{route}\",le=\"+Inf\"}} {cumulative}\n\
                 dropfeed_request_duration_seconds_sum{{route=\"{route}\"}} {sum}\n\
                 dropfeed_request_duration_seconds_count{{route=\"{route}\"}} {cumulative}"
            );
        }
    }

    /// Responses by route class and status, and the share of `304`s.
    fn render_requests(&self, out: &mut String) {
        out.push_str(
            "# HELP dropfeed_http_requests_total HTTP responses by route class and status.\n",
        );
        out.push_str("# TYPE dropfeed_http_requests_total counter\n");
        let (mut all, mut not_modified) = (0, 0);
        for (r, route) in ROUTES.iter().enumerate() {
            for (s, status) in STATUSES.iter().enumerate() {
                let n = get(&self.requests[r][s]);
                all += n;
                if *status == 304 {
                    not_modified += n;
                }
                if n > 0 {
                    let status = if *status == 0 {
                        "other".to_string()
                    } else {
                        status.to_string()
                    };
                    let _ = writeln!(
                        out,
                        "dropfeed_http_requests_total{{route=\"{route}\",status=\"{status}\"}} {n}"
                    );
                }
            }
        }
        out.push_str("# HELP dropfeed_http_not_modified_ratio Share of responses that were 304 Not Modified.\n");
        out.push_str("# TYPE dropfeed_http_not_modified_ratio gauge\n");
        let ratio = if all == 0 {
            0.0
        } else {
            not_modified as f64 / all as f64
        };
        let _ = writeln!(out, "dropfeed_http_not_modified_ratio {ratio}");
    }

    /// Body bytes sent by content-coding.
    fn render_bytes(&self, out: &mut String) {
        out.push_str(
            "# HELP dropfeed_http_response_bytes_total Body bytes sent by content-coding.\n",
        );
        out.push_str("# TYPE dropfeed_http_response_bytes_total counter\n");
        for (i, coding) in CODINGS.iter().enumerate() {
            let _ = writeln!(
                out,
                "dropfeed_http_response_bytes_total{{encoding=\"{}\"}} {}",
                coding.token(),
                get(&self.bytes[i])
            );
        }
    }

    /// The rebuild duration histogram.
    fn render_rebuilds(&self, out: &mut String) {
        out.push_str(
            "# HELP dropfeed_rebuild_duration_seconds Time from a change to the new snapshot.\n",
        );
        out.push_str("# TYPE dropfeed_rebuild_duration_seconds histogram\n");
        for (bucket, bound) in self.rebuild_buckets.iter().zip(BUCKETS) {
            let _ = writeln!(
                out,
                "dropfeed_rebuild_duration_seconds_bucket{{le=\"{bound}\"}} {}",
                get(bucket)
            );
        }
        let count = get(&self.rebuilds);
        let _ = writeln!(
            out,
            "dropfeed_rebuild_duration_seconds_bucket{{le=\"+Inf\"}} {count}"
        );
        let _ = writeln!(
            out,
            "dropfeed_rebuild_duration_seconds_sum {}",
            get(&self.rebuild_micros) as f64 / 1e6
        );
        let _ = writeln!(out, "dropfeed_rebuild_duration_seconds_count {count}");
    }

    /// Connections open and those the server closed.
    fn render_connections(&self, out: &mut String) {
        let _ = writeln!(
            out,
            "# HELP dropfeed_connections_open Client connections open.\n\
             # TYPE dropfeed_connections_open gauge\n\
             dropfeed_connections_open {}\n\
             # HELP dropfeed_connections_closed_total Connections the server closed: idle past \
             their deadline, or the idlest when a new one needed room at max_connections.\n\
             # TYPE dropfeed_connections_closed_total counter\n\
             dropfeed_connections_closed_total{{reason=\"idle\"}} {}\n\
             dropfeed_connections_closed_total{{reason=\"evicted\"}} {}\n\
             # HELP dropfeed_access_log_dropped_total Access log lines dropped because the \
             writer could not keep up.\n\
             # TYPE dropfeed_access_log_dropped_total counter\n\
             dropfeed_access_log_dropped_total {}",
            get(&self.connections_open),
            get(&self.connections_closed[Closed::Idle as usize]),
            get(&self.connections_closed[Closed::Evicted as usize]),
            get(&self.access_log_dropped),
        );
    }
}

/// What the snapshot being served holds: cold pages, posts by state, resources awaiting
/// compression, generation.
fn render_snapshot(out: &mut String, snapshot: &Snapshot) {
    let cold = snapshot.cold_cache();
    let _ = writeln!(
        out,
        "# HELP dropfeed_cold_renders_total Archive and post pages rendered on request.\n\
         # TYPE dropfeed_cold_renders_total counter\n\
         dropfeed_cold_renders_total {}\n\
         # HELP dropfeed_cold_cache_bytes Bytes of rendered archive and post pages kept.\n\
         # TYPE dropfeed_cold_cache_bytes gauge\n\
         dropfeed_cold_cache_bytes {}",
        cold.renders(),
        cold.bytes()
    );
    out.push_str("# HELP dropfeed_posts Post files by state.\n# TYPE dropfeed_posts gauge\n");
    for (state, n) in snapshot.post_counts() {
        let _ = writeln!(out, "dropfeed_posts{{state=\"{}\"}} {n}", state.name());
    }
    out.push_str("# HELP dropfeed_resources_pending_compression Hot resources served in identity only until the encoder has compressed them.\n");
    out.push_str("# TYPE dropfeed_resources_pending_compression gauge\n");
    let pending = snapshot.pending_compression();
    let _ = writeln!(out, "dropfeed_resources_pending_compression {pending}");
    out.push_str("# HELP dropfeed_snapshot_generation Rebuilds that changed what is served.\n");
    out.push_str("# TYPE dropfeed_snapshot_generation gauge\n");
    let generation = snapshot.generation();
    let _ = writeln!(out, "dropfeed_snapshot_generation {generation}");
}

/// A counter's value (relaxed: each is read on its own, not as a consistent set).
fn get(counter: &AtomicU64) -> u64 {
    counter.load(Ordering::Relaxed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tag_pages_have_a_route_class_of_their_own() {
        let class = |route: &str| ROUTES[route_class(route)];
        assert_eq!(class("tags/"), "tag_page");
        assert_eq!(class("tags/rust/"), "tag_page");
        assert_eq!(class("tags/rust/atom.xml"), "tag_feed");
        assert_eq!(class("tags/rust/archive/1/atom.xml"), "archive");
        assert_eq!(class("posts/x/"), "post_page");
        assert_eq!(class("feed.json"), "feed");
    }
}
