//! Walking the posts folder: which files are posts to read, which are passed over and why
//! (links leading outside, FIFOs, names that are not UTF-8), and which folders or files
//! cannot be read (their posts are kept as last read, not dropped).

use std::collections::{BTreeMap, HashSet};
use std::fs::{self, Metadata};
use std::path::{Path, PathBuf};

use super::{Library, PostFiles, Skipped, Staleness};
use crate::logging::FINDINGS;
use crate::post::Format;

impl Library {
    /// `path` relative to the root, `/`-separated; `None` outside the root.
    pub(super) fn relative(&self, path: &Path) -> Option<String> {
        let rel = path.strip_prefix(&self.root).ok()?;
        Some(
            rel.components()
                .map(|c| c.as_os_str().to_string_lossy())
                .collect::<Vec<_>>()
                .join("/"),
        )
    }

    pub(super) fn walk_one(&mut self, path: &Path, rel: &str, walk: &mut Walk) {
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
    pub(super) fn walk(&mut self, dir: &Path, walk: &mut Walk) {
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
    pub(super) fn skip(&mut self, rel: &str, reason: &str, walk: &mut Walk) {
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
                tracing::error!(target: FINDINGS, file, "{reason}");
            } else {
                tracing::warn!(target: FINDINGS, file, "{reason}");
            }
            self.skipped.insert(rel.to_string(), skipped);
            walk.reports_changed.push(rel.to_string());
        }
    }
}

/// Post files found by a walk, with how eagerly each is read again.
pub(super) type Found = BTreeMap<String, (PathBuf, Metadata, Staleness)>;

/// What one walk over some parts of the folder found.
#[derive(Debug, Default)]
pub(super) struct Walk {
    /// Post files to consider, with how eagerly each is read again.
    pub(super) found: Found,
    /// The parts walked (`""` for the whole folder): known posts there that were not found
    /// are gone.
    pub(super) covered: Vec<String>,
    /// Folders and files that exist but could not be read: what is known below them stays.
    pub(super) unreadable: Vec<String>,
    /// Paths passed over on this walk (other reports below `covered` are out of date).
    pub(super) skips: HashSet<String>,
    /// Paths whose report is new or different: a change for `/status` even when no post is.
    pub(super) reports_changed: Vec<String>,
}

/// Whether `key` is `prefix` or below it (`""` is above everything).
pub(super) fn is_below(key: &str, prefix: &str) -> bool {
    prefix.is_empty()
        || key
            .strip_prefix(prefix)
            .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
}

/// The keys of a path-keyed map at or below `prefix`, without looking at the others.
pub(super) fn below<'a, V>(
    map: &'a BTreeMap<String, V>,
    prefix: &'a str,
) -> impl Iterator<Item = &'a String> {
    let from = (
        std::ops::Bound::Included(prefix),
        std::ops::Bound::Unbounded,
    );
    only_below(map.range::<str, _>(from).map(|(k, _)| k), prefix)
}

/// [`below`] for the library's post files.
pub(super) fn files_below<'a>(
    map: &'a PostFiles,
    prefix: &'a str,
) -> impl Iterator<Item = &'a String> {
    let from = (
        std::ops::Bound::Included(prefix),
        std::ops::Bound::Unbounded,
    );
    only_below(map.range::<_, str>(from).map(|(k, _)| k), prefix)
}

/// The keys of a sorted run starting at `prefix` that are at or below it.
fn only_below<'a>(
    keys: impl Iterator<Item = &'a String>,
    prefix: &'a str,
) -> impl Iterator<Item = &'a String> {
    keys.take_while(move |k| k.starts_with(prefix))
        .filter(move |k| is_below(k, prefix))
}
