//! Rebuilding after a change and publishing the result: the watcher's state (the library,
//! the id ledger, the configuration, the shared snapshot) and what follows a publication.

use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crate::config::Config;
use crate::encoder::Encoder;
use crate::ids::Ledger;
use crate::load::{Changes, Library};
use crate::metrics::Metrics;
use crate::pipeline::{self, Built, Clock, Inputs};
use crate::snapshot::SharedSnapshot;
use crate::snapshot::Snapshot;
use crate::websub::Publisher;

use super::events::Pending;

/// The watcher's state: the library, the config, the shared snapshot.
pub(super) struct Rebuilder {
    pub(super) library: Library,
    /// The id ledger, written after each publication.
    pub(super) ledger: Ledger,
    pub(super) config: Arc<Config>,
    pub(super) clock: Arc<dyn Clock>,
    pub(super) shared: SharedSnapshot,
    pub(super) metrics: Arc<Metrics>,
    pub(super) publisher: Option<Publisher>,
    pub(super) encoder: Option<Encoder>,
    pub(super) next_scheduled: Option<chrono::DateTime<chrono::Utc>>,
    /// Changes read into the library but not yet in a published snapshot (a rebuild failed
    /// or panicked): the next rebuild, which may patch the published site, must apply them
    /// too.
    pub(super) unpublished: Changes,
    /// The thread writing the persistent index, if one was started.
    pub(super) index_writer: Option<JoinHandle<()>>,
    /// When the index was last written by this process.
    pub(super) index_written: Option<Instant>,
}

/// Least time between two writes of the index while posts keep changing: a write copies
/// the list of posts and writes them all.
const INDEX_EVERY: Duration = Duration::from_secs(60);
/// How long to wait before looking again when a write is due while another is under way.
const INDEX_BUSY: Duration = Duration::from_secs(1);

impl Rebuilder {
    /// Whether a scheduled post has come due.
    pub(super) fn scheduled_due(&self) -> bool {
        self.next_scheduled.is_some_and(|at| at <= self.clock.now())
    }

    /// Takes a reloaded config: every post is read again on the rescan that follows.
    pub(super) fn reconfigure(&mut self, config: Arc<Config>) {
        tracing::info!("configuration reloaded; reading every post again");
        self.library.reconfigure(&config);
        self.config = config;
    }

    /// Reads what is due (the whole folder, or the paths events named that are ready) and
    /// publishes what changed.
    pub(super) fn act(&mut self, pending: &mut Pending, started: Instant) {
        // The theme is read again when its folder changed, and at every rescan.
        let theme_changed =
            (std::mem::take(&mut pending.theme) || pending.rescan) && self.library.reload_theme();
        let changes = if pending.rescan {
            pending.dirty.clear();
            pending.settle_at = None;
            self.library.scan()
        } else {
            let paths = pending.ready(self.config.watch.unclosed_write);
            self.library.refresh(&paths)
        };
        let woken = std::mem::take(&mut pending.woken);
        pending.now = false;
        pending.rescan = false;
        let Some(changes) = changes else { return };
        if changes.is_empty() && !self.scheduled_due() && !woken && !theme_changed {
            return;
        }
        self.publish(&changes, started);
    }

    /// Rebuilds from the library and publishes the new snapshot. A rebuild that fails or
    /// panics leaves the previous snapshot serving, and its changes are applied by the next.
    fn publish(&mut self, changes: &Changes, started: Instant) {
        let previous = self.shared.load_full();
        self.unpublished
            .changed
            .extend(changes.changed.iter().cloned());
        self.unpublished
            .removed
            .extend(changes.removed.iter().cloned());
        let changes = std::mem::take(&mut self.unpublished);
        let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            let now = self.clock.now();
            // Only the files read again can be new posts, unless a scheduled one came due.
            let inputs = if self.scheduled_due() {
                Inputs::gather(&self.library, &mut self.ledger, &self.config, now)
            } else {
                Inputs::gather_changed(
                    &self.library,
                    &mut self.ledger,
                    &self.config,
                    &changes.changed,
                    now,
                )
            };
            pipeline::build_for_serving(
                inputs,
                &self.config,
                now,
                Some(&previous),
                &changes,
                started,
            )
        }));
        match result {
            Ok(Ok(built)) => self.swap_in(built, &previous, &changes, started),
            Ok(Err(e)) => {
                self.unpublished = changes;
                tracing::error!("rebuild failed, still serving the previous snapshot: {e}")
            }
            Err(_) => {
                self.unpublished = changes;
                tracing::error!("rebuild panicked, still serving the previous snapshot")
            }
        }
    }

    /// Publishes a built snapshot, then does what follows a publication: compressing, writing
    /// the ids issued, pinging the hub, counting.
    fn swap_in(&mut self, built: Built, previous: &Snapshot, changes: &Changes, started: Instant) {
        self.next_scheduled = built.site.next_scheduled;
        let generation = built.snapshot.generation();
        let changed_feeds = built.snapshot.changed_feeds(previous);
        let posts = built.site.entries.len();
        // Published even when no feed changed: the status page may have.
        self.shared.store(Arc::new(built.snapshot));
        if let Some(encoder) = &self.encoder {
            encoder.kick();
        }
        self.save_ids();
        self.announce(&changed_feeds);
        self.metrics.record_rebuild(started.elapsed());
        tracing::info!(
            posts,
            changed = changes.changed.len(),
            removed = changes.removed.len(),
            generation,
            feeds_changed = generation != previous.generation(),
            ms = format!("{:.1}", started.elapsed().as_secs_f64() * 1000.0),
            "rebuilt"
        );
    }

    /// Flushes the ids appended before the build to disk, and writes any left (after
    /// publishing: the disk is kept out of the time a change takes to be served).
    pub(super) fn save_ids(&mut self) {
        if let Err(e) = self.ledger.save() {
            tracing::warn!(
                "cannot write the id ledger in {}: {e}; ids are kept in memory",
                self.library.display_root().display()
            );
        }
    }

    /// When the persistent index is next due to be written, if it changed since it was: at
    /// once after the first publication, then at most once a minute.
    pub(super) fn index_due_at(&self) -> Option<Instant> {
        if !self.library.index_due() {
            return None;
        }
        let at = self
            .index_written
            .map_or_else(Instant::now, |at| at + INDEX_EVERY);
        if self.index_writer.as_ref().is_some_and(|w| !w.is_finished()) {
            return Some(at.max(Instant::now() + INDEX_BUSY));
        }
        Some(at)
    }

    /// Writes the index on a thread of its own when it is due and no write is under way:
    /// neither serving nor the next rebuild waits for the disk.
    pub(super) fn save_index_when_due(&mut self) {
        let busy = self.index_writer.as_ref().is_some_and(|w| !w.is_finished());
        if busy || self.index_due_at().is_none_or(|at| at > Instant::now()) {
            return;
        }
        let Some(job) = self.library.index_job() else {
            return;
        };
        self.index_written = Some(Instant::now());
        let spawned = std::thread::Builder::new()
            .name("dropfeed-index".into())
            .spawn(move || job.write());
        match spawned {
            Ok(writer) => self.index_writer = Some(writer),
            Err(e) => tracing::warn!("cannot start writing the index: {e}"),
        }
    }

    /// At a clean stop: waits for a write under way, then writes what changed since.
    pub(super) fn save_index_now(&mut self) {
        if let Some(writer) = self.index_writer.take() {
            let _ = writer.join();
        }
        if let Some(job) = self.library.index_job() {
            job.write();
        }
    }

    /// Tells the WebSub hub which feeds changed.
    fn announce(&self, changed_feeds: &[String]) {
        let (Some(publisher), Some(hub)) = (&self.publisher, &self.config.websub_hub) else {
            return;
        };
        if !changed_feeds.is_empty() {
            let urls = changed_feeds
                .iter()
                .map(|route| self.config.url(route))
                .collect();
            publisher.publish(hub, urls);
        }
    }
}
