//! The ledger as a value: opened, read again when another replica wrote it, written by
//! appending what changed (see [`super::journal`] for the file, [`super::merge`] for how its
//! records are read), and its health kept for `/status` (see [`crate::ids`] for the rules it
//! records).
//!
//! The ledger is the one part of dropfeed's state that is truth, so it fails loudly and
//! never forgets: a line that cannot be read costs no other line its id; while any line, or
//! the file itself, cannot be read, no new id is issued (posts without one are held back, see
//! `Held::NoId` in the site) and the file is never rewritten, so the unreadable lines stay
//! as they are until someone fixes them. Reading it again after a fix resumes issuing. Its
//! [`Health`] is shown on `/status`, by `dropfeed check` and in the log.

use std::collections::{BTreeMap, BTreeSet};
use std::io;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::format;
use super::health::Health;
use super::journal::{self, Locked, Mode, Position, Read};
use super::merge::Fold;
use super::SharedHealth;
use crate::logging::FINDINGS;
use crate::post::Post;

/// One issued id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Issued {
    /// The permanent id (shared with every entry published under it).
    pub id: Arc<str>,
    /// Where the post lives now (relative to the posts folder).
    pub source: String,
    /// Its publication date, RFC 3339.
    pub date: String,
    /// Its slug when last seen.
    pub slug: String,
    /// Its title when last seen.
    pub title: String,
    /// Issued while ids are provisional (no `base_url` configured): kept in memory only,
    /// never written to the file, and issued again once ids are permanent.
    pub provisional: bool,
}

/// Why [`Ledger::record_imported`] refused an id.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ImportedIdTaken {
    /// The path already has another id.
    #[error("the ledger already gives this file the id `{0}`")]
    PathHasId(String),
    /// The id already belongs to another file.
    #[error("the id is already recorded for {0}")]
    IdHasPath(String),
    /// The ledger cannot be read whole: nothing is recorded until it is fixed.
    #[error("the id ledger cannot be read whole; fix it first (dropfeed check tells where)")]
    Unreadable,
}

/// Ids issued so far, by source path.
#[derive(Debug, Default)]
pub struct Ledger {
    path: Option<PathBuf>,
    pub(super) entries: BTreeMap<String, Issued>,
    /// Sources whose entry was issued, moved or refreshed since it was last written: their
    /// records are appended next.
    pub(super) pending: BTreeSet<String>,
    pub(super) health: Health,
    /// Whether some entry is provisional (so a permanent issuer has some to drop).
    pub(super) holds_provisional: bool,
    shared: SharedHealth,
    /// How far this ledger has read the file: only what was appended since is read next.
    position: Option<Position>,
    /// Lines were appended and not yet flushed to disk (see [`Ledger::save`]).
    unsynced: bool,
}

/// Folder inside the posts folder where dropfeed keeps its state.
pub const STATE_DIR: &str = ".dropfeed";
/// The ledger's file name inside [`STATE_DIR`].
pub const FILE_NAME: &str = "ids.tsv";
/// Compaction waits until the file holds at least this many records (and twice the live
/// entries), so a small ledger is not rewritten on every change.
const COMPACT_FLOOR: usize = 64;

impl super::IdSource for Ledger {
    fn id_for(&self, source: &str) -> Option<Arc<str>> {
        self.entries.get(source).map(|e| Arc::clone(&e.id))
    }

    fn issuing(&self) -> bool {
        self.health.issuing()
    }
}

impl Ledger {
    /// A ledger kept only in memory (tests, read-only folders).
    pub fn in_memory() -> Ledger {
        Ledger::default()
    }

    /// Opens the ledger of a posts folder; a missing file is an empty ledger.
    pub fn open(posts: &Path) -> Ledger {
        let path = posts.join(STATE_DIR).join(FILE_NAME);
        let mut ledger = Ledger {
            path: Some(path),
            ..Ledger::default()
        };
        ledger.reload();
        ledger
    }

    /// Keeps using the recorded ids but never writes the file (for `dropfeed check`).
    pub fn read_only(&mut self) {
        self.path = None;
    }

    /// The ledger's health, kept current as it is read and written.
    pub fn health(&self) -> SharedHealth {
        self.shared.clone()
    }

    /// Reads what other replicas appended since this ledger last read or wrote the file (one
    /// `stat` when nothing was), under the file's lock (see [`super::merge`] for how records
    /// are folded in).
    pub fn reload(&mut self) {
        let _lock = self.lock(false);
        self.reload_locked(Mode::Changes);
    }

    /// Takes the file's lock; `None` for a ledger kept in memory. `create` (a writer) makes the
    /// state folder and the lock file when missing.
    fn lock(&self, create: bool) -> Option<io::Result<Locked>> {
        let state = self.path.as_deref()?.parent()?;
        Some(journal::lock(state, create))
    }

    /// Takes the lock a writer holds from reading the file to appending to it (making the
    /// state folder if needed); `None` for a ledger kept in memory.
    pub(super) fn lock_to_write(&self) -> Option<io::Result<Locked>> {
        self.lock(true)
    }

    /// Reads what was appended since the last read; the caller holds the lock (or could not
    /// take it: a read-only folder).
    pub(super) fn reload_locked_now(&mut self) {
        self.reload_locked(Mode::Changes);
    }

    /// [`Ledger::reload`] with the lock held (or, in a folder where it cannot be taken,
    /// without). While lines cannot be read, any change reads the file whole, so a fix made
    /// anywhere in it is seen.
    fn reload_locked(&mut self, mode: Mode) {
        let Some(path) = self.path.clone() else {
            return;
        };
        let mode = match mode {
            Mode::Changes if !self.health.issuing() => Mode::WholeIfChanged,
            mode => mode,
        };
        let mut health = Health {
            write_failed: self.health.write_failed.clone(),
            bad_lines: self.health.bad_lines.clone(),
            ..Health::default()
        };
        match journal::read(&path, self.position.as_ref(), mode) {
            Ok((Read::Unchanged, _)) => return,
            Ok((Read::Missing, _)) => {
                health.bad_lines.clear();
                self.position = None;
            }
            Ok((Read::Appended(parsed), position)) => {
                let mut fold = Fold::new(&mut self.entries, &mut self.pending);
                parsed.entries.into_iter().for_each(|r| fold.record(r));
                health.bad_lines.extend(parsed.bad);
                self.position = position;
            }
            Ok((Read::Whole(parsed), position)) => {
                self.merge_whole(parsed.entries);
                health.bad_lines = parsed.bad;
                self.position = position;
            }
            Err(reason) => {
                health.unreadable = Some(reason);
                self.position = None;
            }
        }
        self.holds_provisional = self.entries.values().any(|e| e.provisional);
        self.set_health(health, &path);
    }

    /// Replaces the entries by the file's, read whole, then puts back what this ledger holds
    /// that the file does not say otherwise: changes not written yet, provisional ids, and
    /// recorded entries missing from the file (an id once issued is never forgotten).
    fn merge_whole(&mut self, records: Vec<Issued>) {
        let held = std::mem::take(&mut self.entries);
        let pending = std::mem::take(&mut self.pending);
        let mut fold = Fold::new(&mut self.entries, &mut self.pending);
        records.into_iter().for_each(|r| fold.record(r));
        let (ours, rest): (Vec<Issued>, Vec<Issued>) = held
            .into_values()
            .partition(|e| pending.contains(&e.source));
        ours.into_iter().for_each(|e| fold.ours(e, true));
        rest.into_iter().for_each(|e| fold.ours(e, false));
    }

    /// Records the health, logging when what can be read changes.
    fn set_health(&mut self, health: Health, path: &Path) {
        let (was, is) = (&self.health, &health);
        if was.unreadable != is.unreadable || was.bad_lines != is.bad_lines {
            if is.issuing() {
                tracing::info!(
                    "{}: the id ledger reads whole again; issuing ids",
                    path.display()
                );
            }
            for problem in is.read_problems() {
                match problem.line {
                    Some(line) => {
                        tracing::error!(target: FINDINGS, "{}:{line}: {}", path.display(), problem.message)
                    }
                    None => {
                        tracing::error!(target: FINDINGS, "{}: {}", path.display(), problem.message)
                    }
                }
            }
        }
        self.shared.set(health.clone());
        self.health = health;
    }

    /// All entries, by source path.
    pub fn entries(&self) -> &BTreeMap<String, Issued> {
        &self.entries
    }

    /// The id recorded for a source path.
    pub fn id_of(&self, source: &str) -> Option<&str> {
        self.entries.get(source).map(|e| &*e.id)
    }

    /// The source path an id is recorded for.
    pub fn source_of(&self, id: &str) -> Option<&str> {
        self.entries
            .values()
            .find(|e| &*e.id == id)
            .map(|e| e.source.as_str())
    }

    /// The `podcast:guid` of a show (`key`: see [`crate::config::Show::key`]): the one
    /// recorded, else the Podcasting 2.0 namespace's UUIDv5 of `feed_url` (its scheme and
    /// trailing slashes left out), recorded now unless `provisional`, so that it never
    /// changes when `base_url` does. Recorded as an entry whose source is a path no post can
    /// have (under [`STATE_DIR`]) and whose date is no date, so no post ever takes it over.
    pub fn show_guid(&mut self, key: &str, feed_url: &str, provisional: bool) -> Arc<str> {
        let source = format!("{STATE_DIR}/show/{key}");
        if let Some(entry) = self.entries.get(&source) {
            return Arc::clone(&entry.id);
        }
        let id: Arc<str> = podcast_guid(feed_url).into();
        if self.health.issuing() {
            let entry = Issued {
                id: Arc::clone(&id),
                source: source.clone(),
                date: "show".into(),
                slug: String::new(),
                title: feed_url.to_string(),
                provisional,
            };
            if !provisional {
                self.pending.insert(source.clone());
            }
            self.entries.insert(source, entry);
            self.holds_provisional |= provisional;
        }
        id
    }

    /// Records the id a post had before it was imported (a feed's guid, an Atom id), so the
    /// feeds go on carrying it and readers see nothing new. `post` is the imported file as
    /// parsed; its path is `post.source`. Recording the same id for the same path again
    /// changes nothing; an id or a path that already has another entry is refused, since
    /// every id recorded stays its post's for good.
    pub fn record_imported(&mut self, id: &str, post: &Post) -> Result<(), ImportedIdTaken> {
        if !self.health.issuing() {
            return Err(ImportedIdTaken::Unreadable);
        }
        if let Some(recorded) = self.id_of(&post.source) {
            return match recorded == id {
                true => Ok(()),
                false => Err(ImportedIdTaken::PathHasId(recorded.to_string())),
            };
        }
        if let Some(source) = self.source_of(id) {
            return Err(ImportedIdTaken::IdHasPath(source.to_string()));
        }
        let entry = Issued {
            id: id.into(),
            source: post.source.clone(),
            date: post.date.to_rfc3339(),
            slug: post.slug.clone(),
            title: post.title.clone(),
            provisional: false,
        };
        self.pending.insert(post.source.clone());
        self.entries.insert(post.source.clone(), entry);
        Ok(())
    }

    /// Writes what changed since the last write and flushes what was appended to disk: reads
    /// what other replicas appended, then appends one line per entry issued, moved or refreshed, and compacts the file when it
    /// has grown to more than twice its live entries; all under the file's lock. While the
    /// file cannot be read whole it is not written (and the changes stay due); a failed write
    /// shows in [`Ledger::health`].
    pub fn save(&mut self) -> io::Result<()> {
        if let (true, Some(path)) = (self.unsynced, &self.path) {
            // Appended before the build; on disk now that the change is published.
            journal::sync(path)?;
            self.unsynced = false;
        }
        if self.path.is_none() || self.pending.is_empty() {
            return Ok(());
        }
        let lock = self.lock(true);
        self.write_locked(lock)
    }

    /// [`Ledger::save`] once the lock was asked for: records why a write failed, or that it
    /// worked.
    pub(super) fn write_locked(&mut self, lock: Option<io::Result<Locked>>) -> io::Result<()> {
        let Some(path) = self.path.clone() else {
            return Ok(());
        };
        if self.pending.is_empty() {
            return Ok(()); // nothing to write (a failure noted before stays until one works)
        }
        let written = match lock {
            Some(Ok(_lock)) => {
                self.reload_locked(Mode::Changes);
                if !self.health.issuing() {
                    return Ok(());
                }
                self.write(&path)
            }
            Some(Err(e)) => Err(e),
            None => Ok(()),
        };
        let mut health = self.health.clone();
        health.write_failed = written.as_ref().err().map(|e| e.to_string());
        self.set_health(health, &path);
        written
    }

    /// Appends the pending entries' lines, or writes the file whole when it is missing, in an
    /// older format, or due for compaction. The lock is held and the file just read.
    fn write(&mut self, path: &Path) -> io::Result<()> {
        if !self.position.as_ref().is_some_and(|p| p.current) {
            return self.compact(path);
        }
        let mut lines = String::new();
        let mut count = 0;
        for entry in self.pending.iter().filter_map(|s| self.entries.get(s)) {
            if !entry.provisional {
                format::push_line(&mut lines, entry);
                count += 1;
            }
        }
        let Some(position) = self.position.as_mut() else {
            return self.compact(path);
        };
        if count > 0 {
            journal::append(path, position, &lines, count)?;
            self.unsynced = true;
        }
        let records = position.records;
        self.pending.clear();
        let live = self.entries.values().filter(|e| !e.provisional).count();
        if records > COMPACT_FLOOR.max(2 * live) {
            return self.compact(path);
        }
        Ok(())
    }

    /// Compacts the file now, under its lock (tests).
    #[cfg(test)]
    pub(super) fn compact_now(&mut self) -> io::Result<()> {
        let (Some(path), Some(lock)) = (self.path.clone(), self.lock(true)) else {
            return Ok(());
        };
        let _lock = lock?;
        self.compact(&path)
    }

    /// Rewrites the file with one line per entry (atomically), after reading it whole so
    /// that whatever it records is kept. The lock is held.
    pub(super) fn compact(&mut self, path: &Path) -> io::Result<()> {
        self.reload_locked(Mode::Whole);
        if !self.health.issuing() {
            return Ok(()); // never rewrite lines that cannot be read
        }
        let recorded: Vec<&Issued> = self.entries.values().filter(|e| !e.provisional).collect();
        let records = recorded.len();
        let text = format::write(recorded.into_iter(), &journal::generation());
        self.position = Some(journal::rewrite(path, &text, records)?);
        self.pending.clear();
        self.unsynced = false; // the new file was flushed before it was renamed in
        Ok(())
    }
}

/// The Podcasting 2.0 namespace (`podcast:guid`'s UUIDv5 namespace).
const PODCAST_NAMESPACE: uuid::Uuid = uuid::uuid!("ead4c236-bf58-58c6-a2c6-a6b28d128cb6");

/// `podcast:guid` as the Podcasting 2.0 namespace defines it: UUIDv5 of the feed URL
/// without its scheme and trailing slashes.
pub fn podcast_guid(feed_url: &str) -> String {
    let without_scheme = feed_url
        .split_once("://")
        .map_or(feed_url, |(_, rest)| rest);
    let name = without_scheme.trim_end_matches('/');
    uuid::Uuid::new_v5(&PODCAST_NAMESPACE, name.as_bytes()).to_string()
}

/// Where the ledger of a posts folder is written before it is renamed into place: named
/// after the host and the process, so replicas sharing the folder (each often process 1 in
/// its container) never write into one file at once.
pub fn temporary_path(posts: &Path) -> PathBuf {
    journal::temporary_beside(&posts.join(STATE_DIR).join(FILE_NAME))
}

/// The lock file replicas of a posts folder take around every read and write of the ledger.
pub fn lock_path(posts: &Path) -> PathBuf {
    posts.join(STATE_DIR).join(journal::LOCK_NAME)
}

#[cfg(test)]
mod show_guid_tests {
    use super::*;

    #[test]
    fn podcast_guid_is_the_namespace_example() {
        // The example the Podcasting 2.0 namespace gives for podcast:guid.
        let guid = podcast_guid("https://podnews.net/rss/");
        assert_eq!(guid, "9b024349-ccf0-5f69-a609-6b82873eab3c");
        assert_eq!(podcast_guid("http://podnews.net/rss"), guid);
    }

    #[test]
    fn a_show_guid_is_recorded_once_and_outlives_a_new_feed_url() {
        let dir = tempfile::tempdir().unwrap();
        let mut ledger = Ledger::open(dir.path());
        let trial = ledger.show_guid("site", "http://127.0.0.1:8080/feed.xml", true);
        ledger.save().unwrap();
        assert!(
            Ledger::open(dir.path()).entries().is_empty(),
            "a trial guid was written"
        );
        ledger.entries.retain(|_, e| !e.provisional);
        let first = ledger.show_guid("site", "https://a.example/feed.xml", false);
        assert_ne!(first, trial);
        ledger.save().unwrap();
        let mut reopened = Ledger::open(dir.path());
        let again = reopened.show_guid("site", "https://b.example/feed.xml", false);
        assert_eq!(again, first);
        assert_eq!(&*first, podcast_guid("a.example/feed.xml"));
    }
}
