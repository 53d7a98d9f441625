//! The posts folder → parsed posts, kept between rebuilds so that only changed files are
//! read again. A post that stops parsing keeps its last good version published while the
//! error is reported; files that are not posts (dotfiles, editor temporaries, unknown
//! extensions, FIFOs, devices, links leading outside the folder) are never opened, except
//! the files beside posts that posts link to, which are hashed (`linked`).

mod index;
mod last_good;
mod linked;
mod read;
mod walk;

use std::collections::{BTreeMap, HashMap, HashSet};
use std::fs::{self, Metadata};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use chrono::DateTime;

use crate::config::Config;
use crate::post::{ParseContext, Post, PostError};
use crate::theme::Theme;

pub use index::{Index, IndexJob};
pub use last_good::LastGood;
pub use linked::{FileStamp, Linked, LinkedFile, LinkedFiles};
use read::{read_all, ReadResult, Reader};
use walk::{below, files_below, is_below, Walk};

/// What is known about one post file.
#[derive(Debug, Clone)]
pub struct FileState {
    /// Size, modification time and inode when last read; a rescan re-reads only when these
    /// change.
    stamp: FileStamp,
    /// Hash of the bytes last read, so rewriting identical bytes changes nothing.
    hash: blake3::Hash,
    /// The newest successful parse, kept while the file is broken.
    pub last_good: Option<Arc<Post>>,
    /// The current problem, if the file does not parse now.
    pub error: Option<PostError>,
}

/// Every post file the library knows, by path relative to the posts folder: a persistent
/// map, so a copy of it (for `/status`) costs nothing however many posts there are.
pub type PostFiles = imbl::OrdMap<String, FileState>;

/// How far a scan has got, for a progress display: files read of files to read.
#[derive(Debug, Default)]
pub struct LoadProgress {
    /// Files read so far in the current scan.
    pub done: AtomicUsize,
    /// Files the current scan reads.
    pub total: AtomicUsize,
}

/// A file passed over with a reason worth telling the operator.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Skipped {
    /// Path relative to the posts folder.
    pub source: String,
    /// Why it was not read.
    pub reason: String,
    /// True when posts may be missing or out of date because of it (a folder or file that
    /// cannot be read, a name that is not UTF-8); false for files passed over on purpose.
    pub error: bool,
}

/// The posts folder and everything read from it.
#[derive(Debug)]
pub struct Library {
    root: PathBuf,
    display_root: PathBuf,
    ctx: ParseContext,
    max_bytes: u64,
    files: PostFiles,
    /// The files beside posts that posts link to (see [`Library::linked`]).
    linked: LinkedFiles,
    /// How many links the posts' last good versions make to each file beside posts: the
    /// files to look at (kept by [`Library::set_file`]).
    link_counts: HashMap<String, u32>,
    /// Files the config names (show artwork), looked at like linked files.
    show_files: Vec<String>,
    /// Files passed over on the last scan (links outside, FIFOs, oversized…).
    pub skipped: BTreeMap<String, Skipped>,
    /// Why the last configuration reload was refused (shown on `/status` until one succeeds).
    pub config_error: Option<String>,
    /// Shared with whoever displays progress (`dropfeed serve` on a terminal).
    pub progress: Arc<LoadProgress>,
    /// The theme folder (`theme_dir`, or `templates/` beside the posts folder).
    theme_dir: PathBuf,
    /// The templates in force, read from the theme folder.
    theme: Arc<Theme>,
    /// Where last good versions are kept on disk, so a broken post keeps its last good
    /// version across restarts (the server's library; `None` for `check` and `build`).
    pub last_good: Option<LastGood>,
    /// Where the persistent index is kept, so a restart reads only the files that changed
    /// (the server's library; `None` for `check` and `build`).
    pub index: Option<Index>,
    /// What the index gave and whether it is due to be written.
    index_state: index::IndexState,
}

/// More paths than this in one refresh (and more than a quarter of the posts) are read as a
/// whole scan: one walk read on every core beats thousands of single-file refreshes.
const BURST_AS_SCAN: usize = 256;

/// What one refresh changed.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Changes {
    /// Sources read again whose content differed (added, edited, broken or fixed), and
    /// files beside posts, linked by a post, that appeared, changed or went.
    pub changed: Vec<String>,
    /// Sources gone from the folder.
    pub removed: Vec<String>,
}

impl Changes {
    /// True when nothing changed.
    pub fn is_empty(&self) -> bool {
        self.changed.is_empty() && self.removed.is_empty()
    }
}

/// The parse context a config implies.
pub fn parse_context(config: &Config) -> ParseContext {
    let post_base = match &config.link_base {
        Some(base) => base.clone(),
        None => config
            .base_url
            .join("posts/")
            .unwrap_or_else(|_| config.base_url.clone()),
    };
    ParseContext {
        timezone: config.timezone,
        language: config.language.clone(),
        post_base,
        site_base: config.base_url.clone(),
        fallback_date: DateTime::UNIX_EPOCH.fixed_offset(),
    }
}

/// The theme folder a config names: `theme_dir` (relative to the folder holding the posts
/// folder), or `templates/` beside the posts folder.
fn theme_dir(posts: &Path, config: &Config) -> PathBuf {
    let beside = posts.parent().unwrap_or(posts);
    match &config.theme_dir {
        Some(dir) => beside.join(dir),
        None => beside.join("templates"),
    }
}

/// The theme of a folder over `previous`, or the embedded one when there is no folder.
fn load_theme(dir: &Path, previous: &Theme) -> Arc<Theme> {
    if dir.is_dir() {
        Arc::new(Theme::load(dir, previous))
    } else {
        Theme::embedded()
    }
}

/// Each template problem as an error in the log (once per change of the theme).
fn log_problems(theme: &Theme) {
    for problem in theme.problems() {
        let line = problem.line.map(|l| format!(":{l}")).unwrap_or_default();
        tracing::error!("{}{line}: {}", problem.file.display(), problem.message);
    }
}

/// The files under the posts folder that `[[show]]`s name (their artwork).
fn show_files(config: &Config) -> Vec<String> {
    config
        .shows
        .iter()
        .filter_map(|show| match &show.image {
            Some(crate::config::ShowImage::File(path)) => Some(path.clone()),
            _ => None,
        })
        .collect()
}

impl Library {
    /// An empty library for a posts folder; call [`Library::scan`] to fill it.
    pub fn new(root: &Path, config: &Config) -> Library {
        // File events name absolute paths: an absolute root lets them be matched to posts.
        let absolute = fs::canonicalize(root)
            .or_else(|_| std::path::absolute(root))
            .unwrap_or_else(|_| root.to_path_buf());
        let theme_dir = theme_dir(&absolute, config);
        let theme = load_theme(&theme_dir, &Theme::embedded());
        log_problems(&theme);
        Library {
            theme_dir,
            theme,
            root: absolute,
            display_root: root.to_path_buf(),
            ctx: parse_context(config),
            max_bytes: config.max_post_bytes,
            files: PostFiles::new(),
            linked: LinkedFiles::new(),
            link_counts: HashMap::new(),
            show_files: show_files(config),
            skipped: BTreeMap::new(),
            config_error: None,
            progress: Arc::default(),
            last_good: None,
            index: None,
            index_state: index::IndexState::default(),
        }
    }

    /// Takes a new configuration: every file is parsed again on the next scan (a failed parse
    /// keeps its last good version, as always).
    pub fn reconfigure(&mut self, config: &Config) {
        self.config_error = None;
        self.ctx = parse_context(config);
        self.max_bytes = config.max_post_bytes;
        self.theme_dir = theme_dir(&self.root, config);
        self.reload_theme();
        self.show_files = show_files(config);
        let forget = blake3::hash(b"dropfeed: reconfigured");
        let sources: Vec<String> = self.files.keys().cloned().collect();
        for source in sources {
            if let Some(state) = self.files.get_mut(&source) {
                state.stamp = FileStamp {
                    len: u64::MAX,
                    modified: None,
                    identity: (0, 0),
                };
                state.hash = forget;
            }
        }
    }

    /// Which of these source paths are known and still on disk (files read, whose path has
    /// not been found gone yet, may have been moved meanwhile).
    pub fn on_disk(&self, sources: &[&str]) -> HashSet<String> {
        sources
            .iter()
            .filter(|s| self.files.contains_key(**s) && self.root.join(s).is_file())
            .map(|s| s.to_string())
            .collect()
    }

    /// The theme folder, whether or not it exists.
    pub fn theme_dir(&self) -> &Path {
        &self.theme_dir
    }

    /// The templates in force.
    pub fn theme(&self) -> Arc<Theme> {
        Arc::clone(&self.theme)
    }

    /// Reads the theme folder again; true when what is in force or its problems changed.
    pub fn reload_theme(&mut self) -> bool {
        let theme = load_theme(&self.theme_dir, &self.theme);
        let changed =
            theme.digest() != self.theme.digest() || theme.problems() != self.theme.problems();
        if changed {
            log_problems(&theme);
            self.theme = theme;
        }
        changed
    }

    /// The posts folder, absolute.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The posts folder as the user named it (for messages).
    pub fn display_root(&self) -> &Path {
        &self.display_root
    }

    /// Every post file known, with its state.
    pub fn files(&self) -> &PostFiles {
        &self.files
    }

    /// Posts to publish: each file's current parse, or its last good one while it is broken.
    pub fn posts(&self) -> Vec<Arc<Post>> {
        self.files
            .values()
            .filter_map(|f| f.last_good.clone())
            .collect()
    }

    /// Current parse errors, in path order.
    pub fn errors(&self) -> Vec<&PostError> {
        self.files
            .values()
            .filter_map(|f| f.error.as_ref())
            .collect()
    }

    /// Walks the whole folder: reads new and changed files, forgets removed ones. Returns
    /// `None` without touching anything when the folder itself is missing, so the last good
    /// posts keep being served.
    pub fn scan(&mut self) -> Option<Changes> {
        if !self.root.is_dir() {
            return None;
        }
        let mut walk = Walk::default();
        self.walk_restoring(&mut walk);
        walk.covered.push(String::new());
        let mut changes = Changes::default();
        let read = self.absorb(walk, &mut changes);
        self.finish_restoring(read);
        self.refresh_linked(None, &mut changes);
        Some(changes)
    }

    /// Re-reads the given paths (files, or folders to walk). Paths that no longer exist drop
    /// every post at or below them. Many paths at once (a `git checkout`, a folder copied in)
    /// are read as a [`Library::scan`], which reads them in parallel in one pass.
    pub fn refresh(&mut self, paths: &[PathBuf]) -> Option<Changes> {
        if !self.root.is_dir() {
            return None;
        }
        if paths.len() > BURST_AS_SCAN.max(self.files.len() / 4) {
            return self.scan();
        }
        let mut walk = Walk::default();
        let mut seen = HashSet::new();
        for path in paths {
            let Some(rel) = self.relative(path) else {
                continue;
            };
            if !seen.insert(rel.clone()) {
                continue;
            }
            let is_link = !rel.is_empty()
                && fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_symlink());
            if path.is_dir() && !is_link {
                self.walk(path, &mut walk);
            } else if path.is_dir() {
                self.skip(&rel, "a link to a folder: not followed", &mut walk);
            } else {
                self.walk_one(path, &rel, &mut walk);
            }
            walk.covered.push(rel);
        }
        let mut changes = Changes::default();
        let touched = walk.covered.clone();
        self.absorb(walk, &mut changes);
        self.refresh_linked(Some(&touched), &mut changes);
        Some(changes)
    }

    /// Takes what a walk found under the parts of the folder it covered: known files there
    /// that were not found are removed (unless their folder could not be read), found ones
    /// are read as their [`Staleness`] says (or taken from the index, on the first scan).
    /// Returns how many files were read.
    fn absorb(&mut self, walk: Walk, changes: &mut Changes) -> usize {
        let Walk {
            found,
            covered,
            unreadable,
            skips,
            reports_changed,
        } = walk;
        changes.changed.extend(reports_changed);
        let kept = |k: &str| found.contains_key(k) || unreadable.iter().any(|u| is_below(k, u));
        let mut gone: Vec<String> = Vec::new();
        let mut stale_skips: Vec<String> = Vec::new();
        for prefix in &covered {
            gone.extend(
                files_below(&self.files, prefix)
                    .filter(|k| !kept(k))
                    .cloned(),
            );
            stale_skips.extend(
                below(&self.skipped, prefix)
                    .filter(|k| !kept(k) && !skips.contains(*k))
                    .cloned(),
            );
        }
        gone.sort();
        gone.dedup();
        self.index_state.dirty |= !gone.is_empty();
        for source in gone {
            self.set_file(&source, None);
            if let Some(store) = &self.last_good {
                store.forget(&source);
            }
            changes.removed.push(source);
        }
        for source in stale_skips {
            self.skipped.remove(&source);
            changes.changed.push(source);
        }
        self.take_restored(&found, changes);
        let stale: Vec<(String, (PathBuf, Metadata))> = found
            .into_iter()
            .filter(|(source, (_, meta, staleness))| {
                *staleness == Staleness::Always
                    || self
                        .files
                        .get(source)
                        .is_none_or(|f| f.stamp != FileStamp::of(meta))
            })
            .map(|(source, (path, meta, _))| (source, (path, meta)))
            .collect();
        let read = stale.len();
        self.index_state.dirty |= read > 0;
        self.progress.done.store(0, Ordering::Relaxed);
        self.progress.total.store(stale.len(), Ordering::Relaxed);
        let progress = Arc::clone(&self.progress);
        let reader = Reader {
            display_root: &self.display_root,
            ctx: &self.ctx,
            max_bytes: self.max_bytes,
            store: self.last_good.as_ref(),
        };
        for (source, result) in read_all(&reader, stale, &progress) {
            if self.apply(&source, result) {
                changes.changed.push(source);
            }
        }
        read
    }

    /// Records a read; true when the post or its error changed.
    fn apply(&mut self, source: &str, result: ReadResult) -> bool {
        match result {
            ReadResult::Skipped(reason) => {
                let skipped = Skipped {
                    source: source.to_string(),
                    reason,
                    error: false,
                };
                // A new or different reason is a change too: /status must say so at once.
                let reported = self.skipped.insert(source.to_string(), skipped.clone());
                let removed = self.set_file(source, None).is_some();
                removed || reported.as_ref() != Some(&skipped)
            }
            ReadResult::Read {
                stamp,
                hash,
                parsed,
                stored,
            } => {
                self.skipped.remove(source);
                let previous = self.files.get(source);
                if previous.is_some_and(|p| p.hash == hash) {
                    if let Some(p) = self.files.get_mut(source) {
                        p.stamp = stamp;
                    }
                    return false;
                }
                let last_good_before = previous.and_then(|p| p.last_good.clone());
                let last_good_before = last_good_before.or(stored.map(|p| Arc::new(*p)));
                let state = match *parsed {
                    Ok(post) => FileState {
                        stamp,
                        hash,
                        last_good: Some(Arc::new(post)),
                        error: None,
                    },
                    Err(error) => FileState {
                        stamp,
                        hash,
                        last_good: last_good_before,
                        error: Some(error),
                    },
                };
                self.set_file(source, Some(state));
                true
            }
        }
    }
}

/// Which found files are read again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Staleness {
    /// Every one.
    Always,
    /// Those whose size or modification time changed since they were last read.
    StampChanged,
}
