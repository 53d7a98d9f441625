//! What file events mean to the watcher, and what it has been told and not yet acted on.
//!
//! Events that say a file is complete (closed after writing, renamed into place, a new
//! folder) are acted on at once; events that say a file is in flux (created, written,
//! removed, renamed away) wait for a quiet period. A file (a post, or a picture or episode
//! beside one) written and not yet closed waits for its close (Linux reports closes), so a
//! slow writer is published once, whole.

use std::collections::HashMap;
use std::ops::ControlFlow;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use notify::event::{AccessKind, AccessMode, CreateKind, ModifyKind, RenameMode};
use notify::{Event, EventKind};

use super::rebuild::Rebuilder;
use super::Message;
use crate::post::{is_temporary, Format};

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
            // "Complete" only when what became complete is a finished file (a post, or a
            // picture beside one) or a folder: an editor renaming a post to its backup name
            // (vim's `post.md~`) is a post in flux.
            let destination = event.paths.last();
            if destination.is_some_and(|p| finished_file(p) || p.is_dir()) {
                Urgency::Now
            } else {
                Urgency::Settle
            }
        }
        EventKind::Access(_) => Urgency::Ignore, // includes our own reads
        EventKind::Create(CreateKind::Folder) => Urgency::Now,
        // A file beside posts touched keeps its bytes but not its stamp, which the server
        // checks before sending it: look at it again. A post's stamp is not served.
        EventKind::Modify(ModifyKind::Metadata(_))
            if event
                .paths
                .iter()
                .any(|p| Format::of(p).is_none() && p.is_file()) =>
        {
            Urgency::Settle
        }
        EventKind::Modify(ModifyKind::Metadata(_)) => Urgency::Ignore,
        EventKind::Create(_)
        | EventKind::Modify(_)
        | EventKind::Remove(_)
        | EventKind::Any
        | EventKind::Other => Urgency::Settle,
    }
}

/// A file whose name says it is finished (not a dotfile nor an editor's temporary): a post,
/// or a file beside posts.
fn finished_file(path: &Path) -> bool {
    path.file_name()
        .and_then(|n| n.to_str())
        .is_some_and(|name| !is_temporary(name))
        && !path.is_dir()
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

/// What the watcher has been told and not yet acted on.
#[derive(Debug, Default)]
pub(super) struct Pending {
    /// Paths named by events since the last rebuild.
    pub(super) dirty: Vec<PathBuf>,
    /// When the paths in flux have been quiet long enough to read.
    pub(super) settle_at: Option<Instant>,
    /// Post files written and not closed since, with the time of their last write: they
    /// are read once closed (or quiet for `unclosed_write`), not at every pause of a slow
    /// writer.
    pub(super) writing: HashMap<PathBuf, Instant>,
    /// Act without waiting for a quiet period.
    pub(super) now: bool,
    /// Who waits for what came before to be acted on ([`Message::Acted`]).
    pub(super) acted: Vec<tokio::sync::oneshot::Sender<()>>,
    /// Walk the whole folder.
    pub(super) rescan: bool,
    /// Rebuild even when no file changed (the clock moved, the config changed).
    pub(super) woken: bool,
    /// A file of the theme folder changed: read the theme again.
    pub(super) theme: bool,
}

impl Pending {
    /// Takes one message; `Break` means stop the watcher.
    pub(super) fn take(
        &mut self,
        message: Message,
        state: &mut Rebuilder,
        root: &Path,
    ) -> ControlFlow<()> {
        match message {
            Message::Stop => return ControlFlow::Break(()),
            Message::Fs(Ok(event)) => {
                let theme_dir = state.library.theme_dir().to_path_buf();
                self.event(event, root, &theme_dir, state.config.watch.debounce)
            }
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
            Message::Acted(done) => self.acted.push(done),
            Message::ReloadFailed(error) => {
                tracing::error!("config not reloaded, the previous one stays in force: {error}");
                state.library.config_error = Some(error);
                self.wake();
            }
        }
        ControlFlow::Continue(())
    }

    /// Tells whoever waits ([`Message::Acted`]) that what came before was acted on.
    pub(super) fn answer_acted(&mut self) {
        for done in self.acted.drain(..) {
            let _ = done.send(());
        }
    }

    fn wake(&mut self) {
        self.now = true;
        self.woken = true;
    }

    fn event(&mut self, mut event: Event, root: &Path, theme_dir: &Path, debounce: Duration) {
        if event.paths.iter().any(|p| p.starts_with(theme_dir)) {
            // Our own reads of the templates are no change (they would reload forever).
            let written = !matches!(event.kind, EventKind::Access(_))
                || matches!(
                    event.kind,
                    EventKind::Access(AccessKind::Close(AccessMode::Write))
                );
            if written {
                self.theme = true;
                self.settle_at = Some(Instant::now() + debounce);
            }
            event.paths.retain(|p| !p.starts_with(theme_dir));
            if event.paths.is_empty() {
                return;
            }
        }
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

    /// Notes files (posts, and files beside them such as a podcast episode being copied in)
    /// opened for writing and closed again. Only where the platform reports closes (Linux's
    /// inotify): elsewhere a write would wait for nothing.
    fn track_writes(&mut self, event: &Event) {
        if !cfg!(target_os = "linux") {
            return;
        }
        let posts = event.paths.iter().filter(|p| finished_file(p));
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
    pub(super) fn timed_out(&mut self, next_rescan: Instant, scheduled_due: bool) {
        let now = Instant::now();
        self.rescan |= now >= next_rescan;
        self.now |= self.settle_at.is_some_and(|at| now >= at) || scheduled_due;
    }

    /// Whether anything is to be done now.
    pub(super) fn due(&self) -> bool {
        self.now || self.rescan
    }

    /// The paths to read now, holding back files still being written (and setting the
    /// time to look at them again).
    pub(super) fn ready(&mut self, unclosed_write: Duration) -> Vec<PathBuf> {
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
