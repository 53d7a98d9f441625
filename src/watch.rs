//! File events → rebuild → swap. Runs on its own thread, off the async runtime.
//!
//! Events that say a file is complete (closed after writing, renamed into place, a new
//! folder) trigger a rebuild at once; events that say a file is in flux (created, written,
//! removed, renamed away) wait for a quiet period (`[watch] debounce_ms`) so an editor's
//! multi-step save publishes once. Only the changed paths are re-read. A new folder is
//! walked, because files written into it before its watch exists raise no event. A full
//! rescan every `[watch] rescan_secs` catches anything missed, and a timer wakes at the next
//! scheduled post. While the posts folder is missing, the last snapshot keeps serving.

use std::collections::HashMap;
use std::ops::ControlFlow;
use std::path::{Path, PathBuf};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use notify::event::{AccessKind, AccessMode, CreateKind, ModifyKind, RenameMode};
use notify::{Event, EventKind, RecursiveMode, Watcher};

use crate::config::Config;
use crate::encoder::Encoder;
use crate::load::{Changes, Library};
use crate::metrics::Metrics;
use crate::pipeline::{self, Clock};
use crate::post::Format;
use crate::snapshot::SharedSnapshot;
use crate::websub::Publisher;

/// How often a missing posts folder is looked for.
const MISSING_POLL: Duration = Duration::from_millis(200);

/// Messages the watcher thread acts on.
#[derive(Debug)]
pub enum Message {
    /// A file system event.
    Fs(notify::Result<Event>),
    /// Re-check scheduled posts now (after a test moves its clock).
    Wake,
    /// Rescan everything now.
    Rescan,
    /// Use a new configuration (SIGHUP): every post is read again and the site rebuilt.
    Reload(Arc<Config>),
    /// A reload was refused (the config file has errors): shown on `/status` until one
    /// succeeds; the configuration in force stays.
    ReloadFailed(String),
    /// Stop the thread.
    Stop,
}

/// A running watcher; dropping it does not stop it, [`WatchHandle::stop`] does.
pub struct WatchHandle {
    sender: Sender<Message>,
    thread: Option<JoinHandle<()>>,
}

impl WatchHandle {
    /// Sends a message to the watcher thread.
    pub fn send(&self, message: Message) {
        let _ = self.sender.send(message);
    }

    /// A sender for messages to the watcher thread.
    pub fn sender(&self) -> Sender<Message> {
        self.sender.clone()
    }

    /// Stops the watcher and waits for its thread.
    pub fn stop(mut self) {
        let _ = self.sender.send(Message::Stop);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// Whether an event means "done, act now", "in flux, wait", or nothing to us.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Urgency {
    Now,
    Settle,
    Ignore,
}

fn urgency(event: &Event, root: &Path) -> Urgency {
    // Our own state (the id ledger) and other dotted paths never concern posts.
    if !event.paths.is_empty() && event.paths.iter().all(|p| in_hidden(p, root)) {
        return Urgency::Ignore;
    }
    match &event.kind {
        EventKind::Access(AccessKind::Close(AccessMode::Write))
        | EventKind::Modify(ModifyKind::Name(RenameMode::To | RenameMode::Both)) => {
            // "Complete" only when what became complete is a post or a folder: an editor
            // renaming a post to its backup name (vim's `post.md~`) is a post in flux.
            let destination = event.paths.last();
            if destination.is_some_and(|p| Format::of(p).is_some() || p.is_dir()) {
                Urgency::Now
            } else {
                Urgency::Settle
            }
        }
        EventKind::Access(_) => Urgency::Ignore, // includes our own reads
        EventKind::Create(CreateKind::Folder) => Urgency::Now,
        EventKind::Modify(ModifyKind::Metadata(_)) => Urgency::Ignore,
        EventKind::Create(_)
        | EventKind::Modify(_)
        | EventKind::Remove(_)
        | EventKind::Any
        | EventKind::Other => Urgency::Settle,
    }
}

/// True when a component of the path below `root` starts with a dot (`.dropfeed/`,
/// `.git/`, `.x.swp`); the folders above the root may be named anything.
fn in_hidden(path: &Path, root: &Path) -> bool {
    let below = path.strip_prefix(root).unwrap_or(path);
    below.components().any(|c| {
        c.as_os_str()
            .to_str()
            .is_some_and(|s| s.starts_with('.') && s != "." && s != "..")
    })
}

/// The watcher's state: the library, the config, the shared snapshot.
struct Rebuilder {
    library: Library,
    config: Arc<Config>,
    clock: Arc<dyn Clock>,
    shared: SharedSnapshot,
    metrics: Arc<Metrics>,
    publisher: Option<Publisher>,
    encoder: Option<Encoder>,
    next_scheduled: Option<chrono::DateTime<chrono::Utc>>,
    /// Changes read into the library but not yet in a published snapshot (a rebuild failed
    /// or panicked): the next rebuild, which may patch the published site, must apply them
    /// too.
    unpublished: Changes,
}

impl Rebuilder {
    /// Whether a scheduled post has come due.
    fn scheduled_due(&self) -> bool {
        self.next_scheduled.is_some_and(|at| at <= self.clock.now())
    }

    /// Takes a reloaded config: every post is read again on the rescan that follows.
    fn reconfigure(&mut self, config: Arc<Config>) {
        tracing::info!("configuration reloaded; reading every post again");
        self.library.reconfigure(&config);
        self.config = config;
    }

    /// Rebuilds from the library and publishes the new snapshot. A rebuild that fails or
    /// panics leaves the previous snapshot serving.
    fn publish(&mut self, changes: &Changes, started: Instant) {
        let previous = self.shared.load_full();
        self.unpublished
            .changed
            .extend(changes.changed.iter().cloned());
        self.unpublished
            .removed
            .extend(changes.removed.iter().cloned());
        let changes = &std::mem::take(&mut self.unpublished);
        let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            pipeline::build_for_serving(
                &self.library,
                &self.config,
                self.clock.now(),
                Some(&previous),
                changes,
                started,
            )
        }));
        match result {
            Ok(Ok(built)) => {
                self.next_scheduled = built.site.next_scheduled;
                let generation = built.snapshot.generation();
                let changed_feeds = built.snapshot.changed_feeds(&previous);
                // Published even when no feed changed: the status page may have.
                self.shared.store(Arc::new(built.snapshot));
                if let Some(encoder) = &self.encoder {
                    encoder.kick();
                }
                self.library.save_ids();
                if let (Some(publisher), Some(hub)) = (&self.publisher, &self.config.websub_hub) {
                    if !changed_feeds.is_empty() {
                        let urls = changed_feeds
                            .iter()
                            .map(|route| self.config.url(route))
                            .collect();
                        publisher.publish(hub, urls);
                    }
                }
                self.metrics.record_rebuild(started.elapsed());
                tracing::info!(
                    posts = built.site.entries.len(),
                    changed = changes.changed.len(),
                    removed = changes.removed.len(),
                    generation,
                    feeds_changed = generation != previous.generation(),
                    ms = format!("{:.1}", started.elapsed().as_secs_f64() * 1000.0),
                    "rebuilt"
                );
            }
            Ok(Err(e)) => {
                self.unpublished = changes.clone();
                tracing::error!("rebuild failed, still serving the previous snapshot: {e}")
            }
            Err(_) => {
                self.unpublished = changes.clone();
                tracing::error!("rebuild panicked, still serving the previous snapshot")
            }
        }
    }
}

/// Starts watching the library's folder. The snapshot in `shared` must already be built
/// from `library`.
/// A file watch registered once the first scan is done, with a walk of the folder queued
/// as the watcher's first act (see [`prepare`]).
pub struct Prepared {
    sender: Sender<Message>,
    receiver: Receiver<Message>,
    watcher: Option<notify::RecommendedWatcher>,
}

/// Starts watching `root` now; pass the result to [`spawn`] with the scanned library. The
/// watcher's first act is to walk the folder again, comparing each file's size and time with
/// what was read: a file changed while the folder was first read is re-read then. So the
/// first scan may run before the watch exists, and should (its reads would otherwise raise an
/// event per file: about a third of a 10,000-post start went to them).
pub fn prepare(root: &std::path::Path) -> Prepared {
    let (sender, receiver) = mpsc::channel();
    let _ = sender.send(Message::Rescan);
    let watcher = new_watcher(root, sender.clone());
    Prepared {
        sender,
        receiver,
        watcher,
    }
}

/// Starts the watcher thread over a library scanned after [`prepare`].
pub fn spawn(
    prepared: Prepared,
    library: Library,
    context: WatchContext,
) -> notify::Result<WatchHandle> {
    let Prepared {
        sender,
        receiver,
        watcher,
    } = prepared;
    let rebuilder = Rebuilder {
        library,
        config: context.config,
        clock: context.clock,
        shared: context.shared,
        metrics: context.metrics,
        publisher: context.publisher,
        encoder: context.encoder,
        next_scheduled: context.next_scheduled,
        unpublished: Changes::default(),
    };
    let events = sender.clone();
    let thread = std::thread::Builder::new()
        .name("dropfeed-watch".into())
        .spawn(move || run(rebuilder, watcher, receiver, events))
        .map_err(|e| notify::Error::generic(&e.to_string()))?;
    Ok(WatchHandle {
        sender,
        thread: Some(thread),
    })
}

/// Everything the watcher works with besides the library.
pub struct WatchContext {
    /// The configuration in force.
    pub config: Arc<Config>,
    /// Where "now" comes from.
    pub clock: Arc<dyn Clock>,
    /// The snapshot being served; the watcher swaps in new ones.
    pub shared: SharedSnapshot,
    /// Rebuild counters.
    pub metrics: Arc<Metrics>,
    /// WebSub pings, when a hub is configured.
    pub publisher: Option<Publisher>,
    /// Compresses what each rebuild published in identity only.
    pub encoder: Option<Encoder>,
    /// The next scheduled post of the snapshot already served.
    pub next_scheduled: Option<chrono::DateTime<chrono::Utc>>,
}

fn new_watcher(
    root: &std::path::Path,
    sender: Sender<Message>,
) -> Option<notify::RecommendedWatcher> {
    let mut watcher = notify::recommended_watcher(move |event| {
        let _ = sender.send(Message::Fs(event));
    })
    .map_err(|e| tracing::error!("cannot watch: {e}"))
    .ok()?;
    match watcher.watch(root, RecursiveMode::Recursive) {
        Ok(()) => Some(watcher),
        Err(e) => {
            tracing::warn!("cannot watch {}: {e}", root.display());
            None
        }
    }
}

/// What the watcher has been told and not yet acted on.
#[derive(Debug, Default)]
struct Pending {
    /// Paths named by events since the last rebuild.
    dirty: Vec<PathBuf>,
    /// When the paths in flux have been quiet long enough to read.
    settle_at: Option<Instant>,
    /// Post files written and not closed since, with the time of their last write: they
    /// are read once closed (or quiet for `unclosed_write`), not at every pause of a slow
    /// writer.
    writing: HashMap<PathBuf, Instant>,
    /// Act without waiting for a quiet period.
    now: bool,
    /// Walk the whole folder.
    rescan: bool,
    /// Rebuild even when no file changed (the clock moved, the config changed).
    woken: bool,
}

impl Pending {
    /// Takes one message; `Break` means stop the watcher.
    fn take(&mut self, message: Message, state: &mut Rebuilder, root: &Path) -> ControlFlow<()> {
        match message {
            Message::Stop => return ControlFlow::Break(()),
            Message::Fs(Ok(event)) => self.event(event, root, state.config.watch.debounce),
            Message::Fs(Err(e)) => {
                tracing::warn!("watch error, rescanning: {e}");
                self.rescan = true;
            }
            Message::Wake => self.wake(),
            Message::Rescan => self.rescan = true,
            Message::Reload(config) => {
                state.reconfigure(config);
                self.rescan = true;
                self.woken = true;
            }
            Message::ReloadFailed(error) => {
                tracing::error!("config not reloaded, the previous one stays in force: {error}");
                state.library.config_error = Some(error);
                self.wake();
            }
        }
        ControlFlow::Continue(())
    }

    fn wake(&mut self) {
        self.now = true;
        self.woken = true;
    }

    fn event(&mut self, event: Event, root: &Path, debounce: Duration) {
        let urgency = urgency(&event, root);
        if urgency == Urgency::Ignore {
            return;
        }
        self.track_writes(&event);
        match urgency {
            Urgency::Now => self.now = true,
            _ => self.settle_at = Some(Instant::now() + debounce),
        }
        self.dirty.extend(event.paths);
    }

    /// Notes post files opened for writing and closed again. Only where the platform
    /// reports closes (Linux's inotify): elsewhere a write would wait for nothing.
    fn track_writes(&mut self, event: &Event) {
        if !cfg!(target_os = "linux") {
            return;
        }
        let posts = event.paths.iter().filter(|p| Format::of(p).is_some());
        match event.kind {
            EventKind::Create(CreateKind::File) | EventKind::Modify(ModifyKind::Data(_)) => {
                let now = Instant::now();
                for path in posts {
                    self.writing.insert(path.clone(), now);
                }
            }
            EventKind::Access(AccessKind::Close(AccessMode::Write))
            | EventKind::Remove(_)
            | EventKind::Modify(ModifyKind::Name(_)) => {
                for path in posts {
                    self.writing.remove(path);
                }
            }
            _ => {}
        }
    }

    /// A wait ended with no message: whatever came due is acted on.
    fn timed_out(&mut self, next_rescan: Instant, scheduled_due: bool) {
        let now = Instant::now();
        self.rescan |= now >= next_rescan;
        self.now |= self.settle_at.is_some_and(|at| now >= at) || scheduled_due;
    }

    /// Whether anything is to be done now.
    fn due(&self) -> bool {
        self.now || self.rescan
    }

    /// The paths to read now, holding back files still being written (and setting the
    /// time to look at them again).
    fn ready(&mut self, unclosed_write: Duration) -> Vec<PathBuf> {
        let now = Instant::now();
        let mut paths = std::mem::take(&mut self.dirty);
        paths.sort();
        paths.dedup();
        self.settle_at = None;
        // Only regular files are written and closed: a FIFO or a link made in place raises
        // a creation and nothing after it.
        let (held, ready): (Vec<PathBuf>, Vec<PathBuf>) = paths.into_iter().partition(|path| {
            self.writing
                .get(path)
                .is_some_and(|last| now < *last + unclosed_write)
                && std::fs::symlink_metadata(path).is_ok_and(|m| m.is_file())
        });
        for path in &held {
            let wake = self.writing[path] + unclosed_write;
            self.settle_at = Some(self.settle_at.map_or(wake, |at| at.min(wake)));
        }
        for path in &ready {
            self.writing.remove(path);
        }
        self.dirty = held;
        ready
    }
}

/// The watcher thread: waits for messages and timers, then rebuilds what they changed.
fn run(
    mut state: Rebuilder,
    mut watcher: Option<notify::RecommendedWatcher>,
    receiver: Receiver<Message>,
    events: Sender<Message>,
) {
    // The first build was published before this thread started; its ids are written now.
    state.library.save_ids();
    let root = state.library.root().to_path_buf();
    let mut pending = Pending::default();
    let mut next_rescan = Instant::now() + state.config.watch.rescan;
    loop {
        let wait = next_wake(&state, &pending, next_rescan, watcher.is_none());
        match receiver.recv_timeout(wait) {
            Ok(message) => {
                if pending.take(message, &mut state, &root).is_break() {
                    return;
                }
            }
            Err(RecvTimeoutError::Disconnected) => return,
            Err(RecvTimeoutError::Timeout) => pending.timed_out(next_rescan, state.scheduled_due()),
        }
        if watcher.is_none() || !root.is_dir() {
            // Folder gone: keep serving; when it returns, watch it afresh and rescan.
            if !root.is_dir() {
                watcher = None;
                continue;
            }
            watcher = new_watcher(&root, events.clone());
            pending.rescan = true;
        }
        if !pending.due() {
            continue;
        }
        if !pending.rescan {
            // Take every message already queued, so a burst is one rebuild.
            while let Ok(message) = receiver.try_recv() {
                if pending.take(message, &mut state, &root).is_break() {
                    return;
                }
            }
        }
        let started = Instant::now();
        let changes = if pending.rescan {
            next_rescan = started + state.config.watch.rescan;
            pending.dirty.clear();
            pending.settle_at = None;
            state.library.scan()
        } else {
            let paths = pending.ready(state.config.watch.unclosed_write);
            state.library.refresh(&paths)
        };
        let woken = std::mem::take(&mut pending.woken);
        pending.now = false;
        pending.rescan = false;
        let Some(changes) = changes else { continue };
        if changes.is_empty() && !state.scheduled_due() && !woken {
            continue;
        }
        state.publish(&changes, started);
    }
}

/// How long the watcher may sleep before a timer is due: the next rescan, the end of a
/// quiet period, the next scheduled post, or a look for a missing folder.
fn next_wake(
    state: &Rebuilder,
    pending: &Pending,
    next_rescan: Instant,
    folder_missing: bool,
) -> Duration {
    let now = Instant::now();
    let mut deadline = next_rescan;
    if let Some(at) = pending.settle_at {
        deadline = deadline.min(at);
    }
    if let Some(at) = state.next_scheduled {
        let wait = (at - state.clock.now()).to_std().unwrap_or(Duration::ZERO);
        deadline = deadline.min(now + wait);
    }
    if folder_missing {
        deadline = deadline.min(now + MISSING_POLL);
    }
    deadline.saturating_duration_since(now)
}
