//! File events → rebuild → swap. Runs on its own thread, off the async runtime.
//!
//! Events that say a file is complete (closed after writing, renamed into place, a new
//! folder) trigger a rebuild at once; events that say a file is in flux (created, written,
//! removed, renamed away) wait for a quiet period (`[watch] debounce_ms`) so an editor's
//! multi-step save publishes once. Only the changed paths are re-read. A new folder is
//! walked, because files written into it before its watch exists raise no event. A full
//! rescan every `[watch] rescan_secs` catches anything missed, and a timer wakes at the next
//! scheduled post. While the posts folder is missing, the last snapshot keeps serving.

mod events;
mod rebuild;

use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use notify::{Event, RecursiveMode, Watcher};

use crate::config::Config;
use crate::encoder::Encoder;
use crate::ids::Ledger;
use crate::load::{Changes, Library};
use crate::metrics::Metrics;
use crate::pipeline::Clock;
use crate::snapshot::SharedSnapshot;
use crate::websub::Publisher;

use events::Pending;
use rebuild::Rebuilder;

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
    /// Answered once the messages sent before it have been acted on, the rebuild they made
    /// due included (`dropfeed serve` tells systemd it is ready again after a reload).
    Acted(tokio::sync::oneshot::Sender<()>),
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

/// Starts the watcher thread over a library scanned after [`prepare`], with the ledger the
/// first build used. The snapshot in the context must already be built from them.
pub fn spawn(
    prepared: Prepared,
    library: Library,
    ledger: Ledger,
    context: WatchContext,
) -> notify::Result<WatchHandle> {
    let Prepared {
        sender,
        receiver,
        watcher,
    } = prepared;
    let rebuilder = Rebuilder {
        library,
        ledger,
        config: context.config,
        clock: context.clock,
        shared: context.shared,
        metrics: context.metrics,
        publisher: context.publisher,
        encoder: context.encoder,
        next_scheduled: context.next_scheduled,
        unpublished: Changes::default(),
        index_writer: None,
        index_written: None,
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

/// Watches the theme folder too, when it exists: templates change like posts.
fn watch_theme(watcher: Option<&mut notify::RecommendedWatcher>, dir: &std::path::Path) -> bool {
    let Some(watcher) = watcher.filter(|_| dir.is_dir()) else {
        return false;
    };
    match watcher.watch(dir, RecursiveMode::Recursive) {
        Ok(()) => true,
        Err(e) => {
            tracing::warn!("cannot watch the theme folder {}: {e}", dir.display());
            false
        }
    }
}

/// The watcher thread: waits for messages and timers, then rebuilds what they changed; at
/// a stop, writes the persistent index if it changed.
fn run(
    mut state: Rebuilder,
    watcher: Option<notify::RecommendedWatcher>,
    receiver: Receiver<Message>,
    events: Sender<Message>,
) {
    watch_until_stopped(&mut state, watcher, receiver, events);
    state.save_index_now();
}

/// The watcher's loop, until it is told to stop.
fn watch_until_stopped(
    state: &mut Rebuilder,
    mut watcher: Option<notify::RecommendedWatcher>,
    receiver: Receiver<Message>,
    events: Sender<Message>,
) {
    // The first build was published before this thread started; its ids and the index
    // (in the background) are written now.
    state.save_ids();
    state.save_index_when_due();
    let root = state.library.root().to_path_buf();
    let theme_dir = state.library.theme_dir().to_path_buf();
    let mut theme_watched = watch_theme(watcher.as_mut(), &theme_dir);
    let mut pending = Pending::default();
    let mut next_rescan = Instant::now() + state.config.watch.rescan;
    loop {
        let wait = next_wake(state, &pending, next_rescan, watcher.is_none());
        match receiver.recv_timeout(wait) {
            Ok(message) => {
                if pending.take(message, state, &root).is_break() {
                    return;
                }
            }
            Err(RecvTimeoutError::Disconnected) => return,
            Err(RecvTimeoutError::Timeout) => pending.timed_out(next_rescan, state.scheduled_due()),
        }
        state.save_index_when_due();
        if watcher.is_none() || !root.is_dir() {
            // Folder gone: keep serving; when it returns, watch it afresh and rescan.
            if !root.is_dir() {
                watcher = None;
                pending.answer_acted();
                continue;
            }
            watcher = new_watcher(&root, events.clone());
            theme_watched = watch_theme(watcher.as_mut(), &theme_dir);
            pending.rescan = true;
        }
        if pending.rescan && !theme_watched {
            // A theme folder made after the start is watched from the next rescan on.
            theme_watched = watch_theme(watcher.as_mut(), &theme_dir);
        }
        if !pending.due() {
            pending.answer_acted();
            continue;
        }
        if !pending.rescan {
            // Take every message already queued, so a burst is one rebuild.
            while let Ok(message) = receiver.try_recv() {
                if pending.take(message, state, &root).is_break() {
                    return;
                }
            }
        }
        let started = Instant::now();
        if pending.rescan {
            next_rescan = started + state.config.watch.rescan;
        }
        state.act(&mut pending, started);
        pending.answer_acted();
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
    if let Some(at) = state.index_due_at() {
        deadline = deadline.min(at);
    }
    deadline.saturating_duration_since(now)
}
