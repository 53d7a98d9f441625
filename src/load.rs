//! The posts folder → parsed posts, kept between rebuilds so that only changed files are
//! read again. A post that stops parsing keeps its last good version published while the
//! error is reported; files that are not posts (dotfiles, editor temporaries, unknown
//! extensions, FIFOs, devices, links leading outside the folder) are never opened.

use std::collections::{BTreeMap, HashSet};
use std::fs::{self, File, Metadata};
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::SystemTime;

use chrono::{DateTime, Utc};

use crate::config::Config;
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
    files: BTreeMap<String, FileState>,
    /// Files passed over on the last scan (links outside, FIFOs, oversized…).
    pub skipped: BTreeMap<String, Skipped>,
    /// Why the last configuration reload was refused (shown on `/status` until one succeeds).
    pub config_error: Option<String>,
    /// Shared with whoever displays progress (`dropfeed serve` on a terminal).
    pub progress: Arc<LoadProgress>,
}

/// More paths than this in one refresh (and more than a quarter of the posts) are read as a
/// whole scan: one walk read on every core beats thousands of single-file refreshes.
const BURST_AS_SCAN: usize = 256;

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
            config_error: None,
            progress: Arc::default(),
        }
    }

    /// Takes a new configuration: every file is parsed again on the next scan (a failed parse
    /// keeps its last good version, as always).
    pub fn reconfigure(&mut self, config: &Config) {
        self.config_error = None;
        self.ctx = parse_context(config);
        self.max_bytes = config.max_post_bytes;
        let forget = blake3::hash(b"dropfeed: reconfigured");
        for state in self.files.values_mut() {
            state.stamp = (u64::MAX, None);
            state.hash = forget;
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
        let mut walk = Walk::default();
        self.walk(&self.root.clone(), &mut walk);
        walk.covered.push(String::new());
        let mut changes = Changes::default();
        self.absorb(walk, &mut changes);
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
        self.absorb(walk, &mut changes);
        Some(changes)
    }

    /// Takes what a walk found under the parts of the folder it covered: known files there
    /// that were not found are removed (unless their folder could not be read), found ones
    /// are read as their [`Staleness`] says.
    fn absorb(&mut self, walk: Walk, changes: &mut Changes) {
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
            gone.extend(below(&self.files, prefix).filter(|k| !kept(k)).cloned());
            stale_skips.extend(
                below(&self.skipped, prefix)
                    .filter(|k| !kept(k) && !skips.contains(*k))
                    .cloned(),
            );
        }
        gone.sort();
        gone.dedup();
        for source in gone {
            self.files.remove(&source);
            changes.removed.push(source);
        }
        for source in stale_skips {
            self.skipped.remove(&source);
            changes.changed.push(source);
        }
        let stale: Vec<(String, (PathBuf, Metadata))> = found
            .into_iter()
            .filter(|(source, (_, meta, staleness))| {
                *staleness == Staleness::Always
                    || self
                        .files
                        .get(source)
                        .is_none_or(|f| f.stamp != stamp(meta))
            })
            .map(|(source, (path, meta, _))| (source, (path, meta)))
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
                    error: false,
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

    fn walk_one(&mut self, path: &Path, rel: &str, walk: &mut Walk) {
        // The file's name, or a folder's above it (a walk reports those folders themselves).
        let below_root = path.strip_prefix(&self.root).unwrap_or(path);
        if below_root.to_str().is_none() {
            self.skip_unnamed(path, rel, walk);
        } else if Format::of(path).is_some() {
            if let Some(meta) = self.admit(path, rel, walk) {
                walk.found.insert(
                    rel.to_string(),
                    (path.to_path_buf(), meta, Staleness::Always),
                );
            }
        }
    }

    /// Every post file below `dir`, following links only when they stay inside the root. A
    /// folder that cannot be read is recorded as such: its posts are kept, not dropped.
    fn walk(&mut self, dir: &Path, walk: &mut Walk) {
        let mut visited = HashSet::new();
        let mut stack = vec![dir.to_path_buf()];
        while let Some(current) = stack.pop() {
            let listing = fs::canonicalize(&current).and_then(|canonical| {
                let first_visit = visited.insert(canonical);
                first_visit.then(|| fs::read_dir(&current)).transpose()
            });
            let listing = match listing {
                Ok(Some(listing)) => listing,
                Ok(None) => continue, // a link loop, or a folder reached twice
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
                Err(e) => {
                    self.unreadable_folder(&current, &e, walk);
                    continue;
                }
            };
            for item in listing.flatten() {
                self.walk_entry(item, &mut stack, walk);
            }
        }
    }

    /// One entry of a folder being walked: a folder to walk next, a post file found, or a
    /// reason to pass it over.
    fn walk_entry(&mut self, item: fs::DirEntry, stack: &mut Vec<PathBuf>, walk: &mut Walk) {
        let path = item.path();
        let name = item.file_name();
        if name.as_encoded_bytes().starts_with(b".") {
            return;
        }
        let Some(rel) = self.relative(&path) else {
            return;
        };
        if name.to_str().is_none() {
            self.skip_unnamed(&path, &rel, walk);
            return;
        }
        let Ok(kind) = item.file_type() else {
            return;
        };
        if !kind.is_symlink() {
            // The common case, kept to one system call per file: a plain entry of a folder
            // reached without links is inside the root (resolving every path to check took
            // a quarter of a 10,000-post start).
            if kind.is_dir() {
                stack.push(path);
            } else if Format::of(&path).is_some() {
                if let Some(meta) = self.admit_plain(&item, &rel, walk) {
                    walk.found
                        .insert(rel, (path, meta, Staleness::StampChanged));
                }
            }
            return;
        }
        if fs::metadata(&path).is_ok_and(|m| m.is_dir()) {
            let reason = if self.inside_root(&path) {
                // Its posts are read where they really are, once.
                "a link to a folder inside the posts folder: not followed"
            } else {
                "a link to a folder outside the posts folder: ignored"
            };
            self.skip(&rel, reason, walk);
        } else if Format::of(&path).is_some() {
            if let Some(meta) = self.admit(&path, &rel, walk) {
                walk.found
                    .insert(rel, (path, meta, Staleness::StampChanged));
            }
        }
    }

    /// A folder whose listing failed (permissions, I/O): the posts known below it stay as
    /// they were, and the operator is told.
    fn unreadable_folder(&mut self, folder: &Path, error: &std::io::Error, walk: &mut Walk) {
        let Some(rel) = self.relative(folder) else {
            return;
        };
        let reason = format!(
            "cannot read this folder ({error}): the posts last read from it stay published"
        );
        self.report(&rel, &reason, true, walk);
        walk.unreadable.push(rel);
    }

    /// A file or folder whose name is not UTF-8: it has no URL or source path we could
    /// publish it under, so it is reported rather than read. Only post files and folders
    /// are worth telling about.
    fn skip_unnamed(&mut self, path: &Path, rel: &str, walk: &mut Walk) {
        let post_like = path
            .extension()
            .and_then(|e| e.to_str())
            .is_some_and(|e| matches!(e, "md" | "markdown" | "txt"));
        if post_like || path.is_dir() {
            let reason = "the name is not valid UTF-8: rename it to publish what it holds";
            self.report(rel, reason, true, walk);
        }
    }

    /// Metadata of a folder entry that is not a link, if it is a regular file.
    fn admit_plain(&mut self, item: &fs::DirEntry, rel: &str, walk: &mut Walk) -> Option<Metadata> {
        let meta = match item.metadata() {
            Ok(meta) => meta,
            Err(e) => return self.unstattable(rel, &e, walk),
        };
        if !meta.is_file() {
            self.skip(
                rel,
                "not a regular file (FIFO, socket or device): ignored",
                walk,
            );
            return None;
        }
        self.skipped.remove(rel);
        Some(meta)
    }

    /// Metadata of a post file if it may be read: a regular file inside the root.
    fn admit(&mut self, path: &Path, rel: &str, walk: &mut Walk) -> Option<Metadata> {
        let meta = match fs::metadata(path) {
            Ok(meta) => meta,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return None, // gone, or a dangling link
            Err(e) => return self.unstattable(rel, &e, walk),
        };
        if !meta.is_file() {
            self.skip(
                rel,
                "not a regular file (FIFO, socket or device): ignored",
                walk,
            );
            return None;
        }
        if !self.inside_root(path) {
            self.skip(
                rel,
                "a link to a file outside the posts folder: ignored",
                walk,
            );
            return None;
        }
        self.skipped.remove(rel);
        Some(meta)
    }

    /// A post file that exists but cannot be looked at: kept as last read, and reported.
    fn unstattable(
        &mut self,
        rel: &str,
        error: &std::io::Error,
        walk: &mut Walk,
    ) -> Option<Metadata> {
        let reason =
            format!("cannot read this file ({error}): its last good version stays published");
        self.report(rel, &reason, true, walk);
        walk.unreadable.push(rel.to_string());
        None
    }

    fn inside_root(&self, path: &Path) -> bool {
        match (fs::canonicalize(path), fs::canonicalize(&self.root)) {
            (Ok(p), Ok(root)) => p.starts_with(root),
            _ => false,
        }
    }

    /// Passes a file over on purpose (a link, a FIFO): told, but nothing is lost.
    fn skip(&mut self, rel: &str, reason: &str, walk: &mut Walk) {
        self.report(rel, reason, false, walk);
    }

    /// Records why a path was passed over; a new or different report is a change, so
    /// `/status` shows it at once.
    fn report(&mut self, rel: &str, reason: &str, error: bool, walk: &mut Walk) {
        walk.skips.insert(rel.to_string());
        let skipped = Skipped {
            source: rel.to_string(),
            reason: reason.to_string(),
            error,
        };
        if self.skipped.get(rel) != Some(&skipped) {
            // Logged when it starts, not again on every rescan.
            let file = self.display_root.join(rel).display().to_string();
            if error {
                tracing::error!(file, "{reason}");
            } else {
                tracing::warn!(file, "{reason}");
            }
            self.skipped.insert(rel.to_string(), skipped);
            walk.reports_changed.push(rel.to_string());
        }
    }
}

/// What one walk over some parts of the folder found.
#[derive(Debug, Default)]
struct Walk {
    /// Post files to consider, with how eagerly each is read again.
    found: BTreeMap<String, (PathBuf, Metadata, Staleness)>,
    /// The parts walked (`""` for the whole folder): known posts there that were not found
    /// are gone.
    covered: Vec<String>,
    /// Folders and files that exist but could not be read: what is known below them stays.
    unreadable: Vec<String>,
    /// Paths passed over on this walk (other reports below `covered` are out of date).
    skips: HashSet<String>,
    /// Paths whose report is new or different: a change for `/status` even when no post is.
    reports_changed: Vec<String>,
}

/// Whether `key` is `prefix` or below it (`""` is above everything).
fn is_below(key: &str, prefix: &str) -> bool {
    prefix.is_empty()
        || key
            .strip_prefix(prefix)
            .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
}

/// The keys of a path-keyed map at or below `prefix`, without looking at the others.
fn below<'a, V>(map: &'a BTreeMap<String, V>, prefix: &'a str) -> impl Iterator<Item = &'a String> {
    map.range::<str, _>((
        std::ops::Bound::Included(prefix),
        std::ops::Bound::Unbounded,
    ))
    .map(|(k, _)| k)
    .take_while(move |k| k.starts_with(prefix))
    .filter(move |k| is_below(k, prefix))
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
        // Like a parse error: the last good version stays published, the reason is shown.
        let message = format!("cannot read the file: {e}");
        let file = display.display().to_string();
        tracing::warn!("{file}: {message}");
        return ReadResult::Read {
            stamp: stamp(meta),
            hash: blake3::hash(message.as_bytes()),
            parsed: Box::new(Err(PostError {
                path: display,
                line: 1,
                message,
            })),
        };
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
