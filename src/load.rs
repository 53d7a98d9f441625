//! The posts folder → parsed posts, kept between rebuilds so that only changed files are
//! read again. A post that stops parsing keeps its last good version published while the
//! error is reported; files that are not posts (dotfiles, editor temporaries, unknown
//! extensions, FIFOs, devices, links leading outside the folder) are never opened.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::fs::{self, File, Metadata};
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::SystemTime;

use chrono::{DateTime, Utc};

use crate::config::Config;
use crate::ledger::Ledger;
use crate::post::{self, Format, ParseContext, Post, PostError};

/// What is known about one post file.
#[derive(Debug, Clone)]
pub struct FileState {
    /// Size and modification time when last read; a rescan re-reads only when these change.
    stamp: (u64, Option<SystemTime>),
    /// Hash of the bytes last read, so rewriting identical bytes changes nothing.
    hash: blake3::Hash,
    /// The newest successful parse, kept while the file is broken.
    pub last_good: Option<Arc<Post>>,
    /// The current problem, if the file does not parse now.
    pub error: Option<PostError>,
}

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
}

/// The posts folder and everything read from it.
#[derive(Debug)]
pub struct Library {
    root: PathBuf,
    display_root: PathBuf,
    ctx: ParseContext,
    max_bytes: u64,
    files: BTreeMap<String, FileState>,
    /// Files passed over on the last scan (links outside, FIFOs, oversized…).
    pub skipped: BTreeMap<String, Skipped>,
    /// Ids issued to published posts. A mutex only so that building, which reads the library,
    /// can record new ids through a shared reference; one thread rebuilds at a time, so it is
    /// never contended.
    ledger: Mutex<Ledger>,
    /// Shared with whoever displays progress (`dropfeed serve` on a terminal).
    pub progress: Arc<LoadProgress>,
}

/// What one refresh changed.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Changes {
    /// Sources read again whose content differed (added, edited, broken or fixed).
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
        fallback_date: DateTime::UNIX_EPOCH.fixed_offset(),
    }
}

impl Library {
    /// An empty library for a posts folder; call [`Library::scan`] to fill it.
    pub fn new(root: &Path, config: &Config) -> Library {
        // File events name absolute paths: an absolute root lets them be matched to posts.
        let absolute = fs::canonicalize(root)
            .or_else(|_| std::path::absolute(root))
            .unwrap_or_else(|_| root.to_path_buf());
        Library {
            root: absolute,
            display_root: root.to_path_buf(),
            ctx: parse_context(config),
            max_bytes: config.max_post_bytes,
            files: BTreeMap::new(),
            skipped: BTreeMap::new(),
            ledger: Mutex::new(Ledger::open(root)),
            progress: Arc::default(),
        }
    }

    /// Takes a new configuration: every file is parsed again on the next scan (a failed parse
    /// keeps its last good version, as always).
    pub fn reconfigure(&mut self, config: &Config) {
        self.ctx = parse_context(config);
        self.max_bytes = config.max_post_bytes;
        let forget = blake3::hash(b"dropfeed: reconfigured");
        for state in self.files.values_mut() {
            state.stamp = (u64::MAX, None);
            state.hash = forget;
        }
    }

    /// Uses recorded ids without ever writing the ledger (for read-only commands).
    pub fn read_only_ids(&mut self) {
        self.ledger
            .get_mut()
            .unwrap_or_else(|p| p.into_inner())
            .read_only();
    }

    /// Records ids for the posts to publish at `now` (issuing new ones as needed), then hands
    /// the ledger to `use_ids` to look them up. The ledger file is written by
    /// [`Library::save_ids`], which the server calls after publishing: a rewrite of a
    /// 10,000-line ledger (a title edit changes it) is kept out of the time a change takes to
    /// be served. Ids do not depend on the write: the same posts get the same ids again.
    pub fn with_ids<R>(
        &self,
        posts: &[Arc<Post>],
        authority: &str,
        now: DateTime<Utc>,
        use_ids: impl FnOnce(&Ledger) -> R,
    ) -> R {
        let mut ledger = self
            .ledger
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        // Present means read *and* still on disk: a file moved into a new folder may be read
        // there before the event for its old path is handled, and must keep its id.
        let present =
            |source: &str| self.files.contains_key(source) && self.root.join(source).is_file();
        ledger.assign(posts, present, authority, now);
        use_ids(&ledger)
    }

    /// The id ledger's health, kept current (for `/status` and `dropfeed check`).
    pub fn ledger_health(&self) -> crate::ledger::SharedHealth {
        self.ledger
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .health()
    }

    /// Writes the id ledger if ids were issued or their posts changed since the last write.
    pub fn save_ids(&self) {
        let mut ledger = self
            .ledger
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if let Err(e) = ledger.save() {
            tracing::warn!(
                "cannot write the id ledger in {}: {e}; ids are kept in memory",
                self.root.display()
            );
        }
    }

    /// Permanent ids for the posts to publish at `now`, by source path (see [`Library::with_ids`]).
    pub fn ids(
        &self,
        posts: &[Arc<Post>],
        authority: &str,
        now: DateTime<Utc>,
    ) -> HashMap<String, String> {
        let ids = self.with_ids(posts, authority, now, |ledger| {
            posts
                .iter()
                .filter_map(|p| Some((p.source.clone(), ledger.id_of(&p.source)?.to_string())))
                .collect()
        });
        self.save_ids();
        ids
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
    pub fn files(&self) -> &BTreeMap<String, FileState> {
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
        let found = self.walk(&self.root.clone());
        let mut changes = Changes::default();
        self.absorb(found, |_| true, Staleness::StampChanged, &mut changes);
        Some(changes)
    }

    /// Re-reads the given paths (files, or folders to walk). Paths that no longer exist drop
    /// every post at or below them.
    pub fn refresh(&mut self, paths: &[PathBuf]) -> Option<Changes> {
        if !self.root.is_dir() {
            return None;
        }
        let mut changes = Changes::default();
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
            let found = if path.is_dir() && !is_link {
                self.walk(path)
            } else if path.is_dir() {
                self.skip(&rel, "a link to a folder: not followed");
                BTreeMap::new()
            } else {
                self.walk_one(path, &rel)
            };
            // A named file is always read again (its event says it changed); the files of a
            // walked folder only when their size or time differ.
            let staleness = if path.is_dir() {
                Staleness::StampChanged
            } else {
                Staleness::Always
            };
            let prefix = format!("{rel}/");
            let below = |k: &str| k == rel || k.starts_with(&prefix) || rel.is_empty();
            self.absorb(found, below, staleness, &mut changes);
        }
        Some(changes)
    }

    /// Takes what a walk found under some part of the folder (`covers`): known files there
    /// that were not found are removed, found ones are read as `staleness` says.
    fn absorb(
        &mut self,
        found: BTreeMap<String, (PathBuf, Metadata)>,
        covers: impl Fn(&str) -> bool,
        staleness: Staleness,
        changes: &mut Changes,
    ) {
        let gone: Vec<String> = self
            .files
            .keys()
            .filter(|k| covers(k) && !found.contains_key(*k))
            .cloned()
            .collect();
        for source in gone {
            self.files.remove(&source);
            changes.removed.push(source);
        }
        let stale: Vec<(String, (PathBuf, Metadata))> = found
            .into_iter()
            .filter(|(source, (_, meta))| {
                staleness == Staleness::Always
                    || self
                        .files
                        .get(source)
                        .is_none_or(|f| f.stamp != stamp(meta))
            })
            .collect();
        self.progress.done.store(0, Ordering::Relaxed);
        self.progress.total.store(stale.len(), Ordering::Relaxed);
        let progress = Arc::clone(&self.progress);
        for (source, result) in read_all(
            &self.display_root,
            &self.ctx,
            self.max_bytes,
            stale,
            &progress,
        ) {
            if self.apply(&source, result) {
                changes.changed.push(source);
            }
        }
    }

    /// Records a read; true when the post or its error changed.
    fn apply(&mut self, source: &str, result: ReadResult) -> bool {
        match result {
            ReadResult::Skipped(reason) => {
                let skipped = Skipped {
                    source: source.to_string(),
                    reason,
                };
                // A new or different reason is a change too: /status must say so at once.
                let reported = self.skipped.insert(source.to_string(), skipped.clone());
                let removed = self.files.remove(source).is_some();
                removed || reported.as_ref() != Some(&skipped)
            }
            ReadResult::Read {
                stamp,
                hash,
                parsed,
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
                self.files.insert(source.to_string(), state);
                true
            }
        }
    }

    /// `path` relative to the root, `/`-separated; `None` outside the root.
    fn relative(&self, path: &Path) -> Option<String> {
        let rel = path.strip_prefix(&self.root).ok()?;
        Some(
            rel.components()
                .map(|c| c.as_os_str().to_string_lossy())
                .collect::<Vec<_>>()
                .join("/"),
        )
    }

    fn walk_one(&mut self, path: &Path, rel: &str) -> BTreeMap<String, (PathBuf, Metadata)> {
        let mut found = BTreeMap::new();
        if Format::of(path).is_some() {
            if let Some(meta) = self.admit(path, rel) {
                found.insert(rel.to_string(), (path.to_path_buf(), meta));
            }
        }
        found
    }

    /// Every post file below `dir`, following links only when they stay inside the root.
    fn walk(&mut self, dir: &Path) -> BTreeMap<String, (PathBuf, Metadata)> {
        let mut found = BTreeMap::new();
        let mut visited = HashSet::new();
        let mut stack = vec![dir.to_path_buf()];
        while let Some(current) = stack.pop() {
            let Ok(canonical) = fs::canonicalize(&current) else {
                continue;
            };
            if !visited.insert(canonical) {
                continue; // a link loop, or a folder reached twice
            }
            let Ok(listing) = fs::read_dir(&current) else {
                continue;
            };
            for item in listing.flatten() {
                let path = item.path();
                let name = item.file_name();
                if name.to_string_lossy().starts_with('.') {
                    continue;
                }
                let Some(rel) = self.relative(&path) else {
                    continue;
                };
                let Ok(kind) = item.file_type() else {
                    continue;
                };
                if !kind.is_symlink() {
                    // The common case, kept to one system call per file: a plain entry of a
                    // folder reached without links is inside the root (resolving every path
                    // to check took a quarter of a 10,000-post start).
                    if kind.is_dir() {
                        stack.push(path);
                    } else if Format::of(&path).is_some() {
                        if let Some(meta) = self.admit_plain(&item, &rel) {
                            found.insert(rel, (path, meta));
                        }
                    }
                    continue;
                }
                if fs::metadata(&path).is_ok_and(|m| m.is_dir()) {
                    if self.inside_root(&path) {
                        // Its posts are read where they really are, once.
                        self.skip(
                            &rel,
                            "a link to a folder inside the posts folder: not followed",
                        );
                    } else {
                        self.skip(&rel, "a link to a folder outside the posts folder: ignored");
                    }
                } else if Format::of(&path).is_some() {
                    if let Some(meta) = self.admit(&path, &rel) {
                        found.insert(rel, (path, meta));
                    }
                }
            }
        }
        found
    }

    /// Metadata of a folder entry that is not a link, if it is a regular file.
    fn admit_plain(&mut self, item: &fs::DirEntry, rel: &str) -> Option<Metadata> {
        let meta = item.metadata().ok()?;
        if !meta.is_file() {
            self.skip(rel, "not a regular file (FIFO, socket or device): ignored");
            return None;
        }
        self.skipped.remove(rel);
        Some(meta)
    }

    /// Metadata of a post file if it may be read: a regular file inside the root.
    fn admit(&mut self, path: &Path, rel: &str) -> Option<Metadata> {
        let Ok(meta) = fs::metadata(path) else {
            return None; // gone, or a dangling link
        };
        if !meta.is_file() {
            self.skip(rel, "not a regular file (FIFO, socket or device): ignored");
            return None;
        }
        if !self.inside_root(path) {
            self.skip(rel, "a link to a file outside the posts folder: ignored");
            return None;
        }
        self.skipped.remove(rel);
        Some(meta)
    }

    fn inside_root(&self, path: &Path) -> bool {
        match (fs::canonicalize(path), fs::canonicalize(&self.root)) {
            (Ok(p), Ok(root)) => p.starts_with(root),
            _ => false,
        }
    }

    fn skip(&mut self, rel: &str, reason: &str) {
        tracing::warn!(file = %self.display_root.join(rel).display(), "{reason}");
        self.skipped.insert(
            rel.to_string(),
            Skipped {
                source: rel.to_string(),
                reason: reason.to_string(),
            },
        );
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

enum ReadResult {
    Read {
        stamp: (u64, Option<SystemTime>),
        hash: blake3::Hash,
        parsed: Box<Result<Post, PostError>>,
    },
    Skipped(String),
}

fn stamp(meta: &Metadata) -> (u64, Option<SystemTime>) {
    (meta.len(), meta.modified().ok())
}

/// Reads and parses files, on every core when there are many (a cold start).
fn read_all(
    display_root: &Path,
    ctx: &ParseContext,
    max_bytes: u64,
    items: Vec<(String, (PathBuf, Metadata))>,
    progress: &LoadProgress,
) -> Vec<(String, ReadResult)> {
    crate::parallel::map(&items, 64, |(source, (path, meta))| {
        let result = read_one(display_root, ctx, max_bytes, source, path, meta);
        progress.done.fetch_add(1, Ordering::Relaxed);
        (source.clone(), result)
    })
}

fn read_one(
    display_root: &Path,
    ctx: &ParseContext,
    max_bytes: u64,
    source: &str,
    path: &Path,
    meta: &Metadata,
) -> ReadResult {
    let display = display_root.join(source);
    if meta.len() > max_bytes {
        let reason = format!(
            "{}: file is {} bytes, over max_post_bytes ({max_bytes}): not read",
            display.display(),
            meta.len()
        );
        tracing::warn!("{reason}");
        return ReadResult::Skipped(reason);
    }
    let mut bytes = Vec::with_capacity(meta.len() as usize);
    // Read at most one byte past the limit: a file growing while we read is still refused.
    let read = File::open(path).and_then(|f| f.take(max_bytes + 1).read_to_end(&mut bytes));
    if let Err(e) = read {
        return ReadResult::Skipped(format!("{}: cannot read: {e}", display.display()));
    }
    let hash = blake3::hash(&bytes);
    let mut ctx = ctx.clone();
    if let Ok(modified) = meta.modified() {
        ctx.fallback_date = DateTime::<Utc>::from(modified).fixed_offset();
    }
    let parsed = if bytes.len() as u64 > max_bytes {
        Err(PostError {
            path: display.clone(),
            line: 1,
            message: format!("file grew past max_post_bytes ({max_bytes})"),
        })
    } else {
        match std::str::from_utf8(&bytes) {
            Ok(text) => post::parse(source, &display, text, &ctx),
            Err(e) => {
                let line = bytes[..e.valid_up_to()]
                    .iter()
                    .filter(|&&b| b == b'\n')
                    .count()
                    + 1;
                Err(PostError {
                    path: display.clone(),
                    line,
                    message: "not valid UTF-8 text".into(),
                })
            }
        }
    };
    if let Err(e) = &parsed {
        tracing::warn!("{e}");
    }
    ReadResult::Read {
        stamp: stamp(meta),
        hash,
        parsed: Box::new(parsed),
    }
}
