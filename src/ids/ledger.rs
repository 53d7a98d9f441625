//! The ledger file: opened, read again when another replica wrote it, saved atomically, and
//! its health kept for `/status` (see [`crate::ids`] for the rules it records).
//!
//! The ledger is the one part of dropfeed's state that is truth, so it fails loudly and
//! never forgets: a line that cannot be read costs no other line its id; while any line, or
//! the file itself, cannot be read, no new id is issued (posts without one are held back, see
//! `Held::NoId` in the site) and the file is never rewritten, so the unreadable lines stay
//! as they are until someone fixes them. Reading it again after a fix resumes issuing. Its
//! [`Health`] is shown on `/status`, by `dropfeed check` and in the log.

use std::collections::{BTreeMap, HashSet};
use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::SystemTime;

use super::format;
use super::health::Health;
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
    /// Entries changed since the file was last written.
    pub(super) dirty: bool,
    pub(super) health: Health,
    /// Whether some entry is provisional (so a permanent issuer has some to drop).
    pub(super) holds_provisional: bool,
    shared: SharedHealth,
    /// The file as this ledger last read or wrote it: unchanged, it need not be read again.
    seen: Option<Stamp>,
}

/// Identity, size and modification time of the file: every writer replaces it by a rename,
/// so a new version always has a new inode.
type Stamp = (u64, u64, SystemTime);

/// Folder inside the posts folder where dropfeed keeps its state.
pub const STATE_DIR: &str = ".dropfeed";
/// The ledger's file name inside [`STATE_DIR`].
pub const FILE_NAME: &str = "ids.tsv";

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

    /// Re-reads the file if it changed since this ledger last read or wrote it (one `stat`
    /// when it did not). Lines for sources and ids it does not know are added (another
    /// replica issued them); what it knows wins, so an entry it moved to a renamed post is
    /// not brought back under its old path.
    pub fn reload(&mut self) {
        let Some(path) = self.path.clone() else {
            return;
        };
        let stamp = stamp(&path);
        if stamp.is_some() && stamp == self.seen {
            return;
        }
        let read = match fs::read(&path) {
            Ok(bytes) => format::parse(&bytes),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(format::Parsed::default()),
            Err(e) => Err(e.to_string()),
        };
        let mut health = Health {
            write_failed: self.health.write_failed.clone(),
            ..Health::default()
        };
        match read {
            Ok(parsed) => {
                let known: HashSet<Arc<str>> =
                    self.entries.values().map(|e| Arc::clone(&e.id)).collect();
                for entry in parsed.entries {
                    // A recorded id beats one this process holds only provisionally.
                    let free = self
                        .entries
                        .get(&entry.source)
                        .is_none_or(|e| e.provisional);
                    if !known.contains(&entry.id) && free {
                        self.entries.insert(entry.source.clone(), entry);
                    }
                }
                health.bad_lines = parsed.bad;
                self.seen = stamp;
            }
            Err(reason) => {
                health.unreadable = Some(reason);
                self.seen = None;
            }
        }
        self.set_health(health, &path);
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
            self.entries.insert(source, entry);
            self.holds_provisional |= provisional;
            self.dirty |= !provisional;
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
        self.entries.insert(post.source.clone(), entry);
        self.dirty = true;
        Ok(())
    }

    /// Writes the ledger if it changed: atomically (a temporary file, flushed to disk, renamed
    /// over it), after reading what other replicas added. While the file cannot be read
    /// whole it is not written (and stays due); a failed write shows in [`Ledger::health`].
    pub fn save(&mut self) -> io::Result<()> {
        let Some(path) = self.path.clone() else {
            return Ok(());
        };
        if !self.dirty {
            return Ok(());
        }
        self.reload();
        if !self.health.issuing() {
            return Ok(());
        }
        let mut health = self.health.clone();
        let written = self.write(&path);
        health.write_failed = written.as_ref().err().map(|e| e.to_string());
        if let Ok(stamp) = written {
            self.dirty = false;
            self.seen = stamp;
        }
        self.set_health(health, &path);
        written.map(drop)
    }

    /// Writes the file; returns its stamp, taken before the rename so that a version
    /// another replica renames in right after is not mistaken for ours.
    fn write(&self, path: &Path) -> io::Result<Option<Stamp>> {
        if let Some(dir) = path.parent() {
            fs::create_dir_all(dir)?;
        }
        let recorded: Vec<&Issued> = self.entries.values().filter(|e| !e.provisional).collect();
        let text = format::write(recorded.into_iter());
        let temporary = temporary_beside(path);
        let written = fs::File::create(&temporary).and_then(|mut file| {
            file.write_all(text.as_bytes())?;
            // On disk before it replaces the old file: a crash must not leave an empty ledger.
            file.sync_all()
        });
        let ours = stamp(&temporary);
        let renamed = written.and_then(|()| fs::rename(&temporary, path));
        if renamed.is_err() {
            let _ = fs::remove_file(&temporary);
        }
        renamed.map(|()| ours)
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
    temporary_beside(&posts.join(STATE_DIR).join(FILE_NAME))
}

fn temporary_beside(ledger: &Path) -> PathBuf {
    ledger.with_extension(format!("tmp-{}-{}", host_name(), std::process::id()))
}

/// This machine's name, reduced to characters safe in a file name.
fn host_name() -> String {
    let mut buffer = [0u8; 256];
    #[cfg(unix)]
    // SAFETY: the buffer is writable for its whole length, which is what is passed.
    let known = unsafe { libc::gethostname(buffer.as_mut_ptr().cast(), buffer.len()) } == 0;
    #[cfg(not(unix))]
    let known = false;
    let end = buffer.iter().position(|&b| b == 0).unwrap_or(buffer.len());
    let name: String = String::from_utf8_lossy(&buffer[..end])
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '_'))
        .collect();
    if known && !name.is_empty() {
        name
    } else {
        "host".into()
    }
}

fn stamp(path: &Path) -> Option<Stamp> {
    let meta = fs::metadata(path).ok()?;
    #[cfg(unix)]
    let inode = std::os::unix::fs::MetadataExt::ino(&meta);
    #[cfg(not(unix))]
    let inode = 0;
    Some((inode, meta.len(), meta.modified().ok()?))
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
