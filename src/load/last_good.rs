//! Last good versions on disk: the bytes of each post's newest version that parsed, kept in
//! the state folder (`posts/.dropfeed/last-good-v2/`) so that a post whose file breaks keeps
//! being served after a restart, not only while the process that read it good runs.
//!
//! One file per post, named by a hash of its path, in one folder: a header (format version,
//! hashes of the post's path and of the bytes, their modification time) then the bytes. It is
//! written to a temporary file and renamed into place (not flushed to disk: the hash catches
//! what a crash leaves half written); whether that exact version is already kept is read from
//! its header. An entry whose header or hash does not match is ignored and reported, never
//! trusted and never fatal. One folder, not one per post: the posts folder is watched
//! recursively, and a folder per post cost an inotify watch each (100,000 at 100,000 posts,
//! near the kernel's limit). The first layout (`last-good/`, a folder per post) is removed by
//! [`LastGood::remove_first_layout`]. Only names this store gives (hex) are ever removed.

use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use chrono::{DateTime, Utc};

/// The store's folder inside the state folder.
pub const FOLDER: &str = "last-good-v2";
/// The folder of the first layout (a folder per post), removed when found.
const FIRST_FOLDER: &str = "last-good";
/// The first line of every entry.
const HEADER: &str = "dropfeed last good v1";
/// Hex digits of the hashes used as names.
const NAME_LEN: usize = 32;

/// The last good versions of a posts folder's posts.
#[derive(Debug, Clone)]
pub struct LastGood {
    folder: PathBuf,
}

/// A stored version, checked against its header.
#[derive(Debug)]
pub struct Stored {
    /// The bytes that parsed.
    pub bytes: Vec<u8>,
    /// The file's modification time then (the date of a post that gives none).
    pub modified: Option<DateTime<Utc>>,
}

impl LastGood {
    /// The store in a state folder (`posts/.dropfeed`).
    pub fn in_state(state: &Path) -> LastGood {
        LastGood {
            folder: state.join(FOLDER),
        }
    }

    /// Keeps `bytes` as `source`'s last good version, unless that exact version is kept.
    /// Failures are logged: serving never depends on the store.
    pub fn keep(&self, source: &str, bytes: &[u8], modified: Option<SystemTime>) {
        let hash = blake3::hash(bytes).to_hex();
        let path = self.path_of(source);
        if kept_hash(&path).as_deref() == Some(hash.as_str()) {
            return;
        }
        if let Err(e) = write(&self.folder, &path, source, hash.as_str(), bytes, modified) {
            tracing::warn!("{}: cannot keep the last good version: {e}", path.display());
        }
    }

    /// `source`'s stored last good version, if there is a sound one. A damaged entry is
    /// reported and passed over.
    pub fn load(&self, source: &str) -> Option<Stored> {
        let path = self.path_of(source);
        let bytes = match fs::read(&path) {
            Ok(bytes) => bytes,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return None, // none kept
            Err(e) => {
                tracing::error!(
                    target: crate::logging::FINDINGS,
                    "{}: the stored last good version of {source} cannot be read: {e}",
                    path.display()
                );
                return None;
            }
        };
        match check(&bytes, source) {
            Ok(stored) => Some(stored),
            Err(reason) => {
                tracing::error!(
                    target: crate::logging::FINDINGS,
                    "{}: the stored last good version of {source} is ignored: {reason}",
                    path.display()
                );
                None
            }
        }
    }

    /// Forgets `source`'s last good version (its file is gone: a new file by that name must
    /// not inherit it).
    pub fn forget(&self, source: &str) {
        let _ = fs::remove_file(self.path_of(source)); // named by this store: ours
    }

    fn path_of(&self, source: &str) -> PathBuf {
        let key = blake3::hash(source.as_bytes()).to_hex();
        self.folder.join(&key[..NAME_LEN])
    }

    /// Removes the first layout's entries (`last-good/<hex>/<hex>`), their folders, and the
    /// folder itself once empty; anything else there is left alone. Slow with many posts:
    /// run it off the start's path.
    pub fn remove_first_layout(state: &Path) {
        let first = state.join(FIRST_FOLDER);
        let Ok(folders) = fs::read_dir(&first) else {
            return;
        };
        for folder in folders.flatten() {
            if is_ours(&folder.file_name().to_string_lossy()) {
                remove_ours(&folder.path());
                let _ = fs::remove_dir(folder.path()); // only if empty
            }
        }
        let _ = fs::remove_dir(&first); // only if empty
    }
}

/// The hash of the bytes an entry keeps, from its header (without reading the bytes).
fn kept_hash(path: &Path) -> Option<String> {
    let mut head = [0u8; 256];
    let read = io::Read::read(&mut fs::File::open(path).ok()?, &mut head).ok()?;
    let text = std::str::from_utf8(&head[..read]).ok()?;
    let mut lines = text.lines();
    (lines.next()? == HEADER).then_some(())?;
    lines.nth(1)?.strip_prefix("hash\t").map(str::to_string)
}

/// Writes an entry atomically: a temporary file in the same folder, renamed. Not flushed to
/// disk: a post's change must not wait for the disk (seconds on a busy one), and an entry a
/// crash leaves short or empty fails its hash and is ignored.
fn write(
    folder: &Path,
    path: &Path,
    source: &str,
    hash: &str,
    bytes: &[u8],
    modified: Option<SystemTime>,
) -> io::Result<()> {
    fs::create_dir_all(folder)?;
    let modified = modified.map_or(String::new(), |m| DateTime::<Utc>::from(m).to_rfc3339());
    let source = blake3::hash(source.as_bytes()).to_hex();
    let header = format!("{HEADER}\nsource\t{source}\nhash\t{hash}\nmodified\t{modified}\n\n");
    let temporary = folder.join(format!(".tmp-{}", std::process::id()));
    let written = fs::File::create(&temporary).and_then(|mut file| {
        file.write_all(header.as_bytes())?;
        file.write_all(bytes)
    });
    let renamed = written.and_then(|()| fs::rename(&temporary, path));
    if renamed.is_err() {
        let _ = fs::remove_file(&temporary); // ours: created just above
    }
    renamed
}

/// The entry's bytes, if its header names `source`, a format this version knows, and the
/// hash of the bytes that follow.
fn check(entry: &[u8], source: &str) -> Result<Stored, String> {
    let mut rest = entry;
    let mut line = || -> Result<&str, String> {
        let end = rest.iter().position(|&b| b == b'\n').ok_or("cut short")?;
        let text = std::str::from_utf8(&rest[..end]).map_err(|_| "a damaged header")?;
        rest = &rest[end + 1..];
        Ok(text)
    };
    if line()? != HEADER {
        return Err("not a format this dropfeed knows".into());
    }
    let field = |text: &str, name: &str| -> Result<String, String> {
        let value = text.strip_prefix(name).and_then(|t| t.strip_prefix('\t'));
        value.map(str::to_string).ok_or(format!("no {name} line"))
    };
    let stored_source = field(line()?, "source")?;
    let hash = field(line()?, "hash")?;
    let modified = field(line()?, "modified")?;
    if !line()?.is_empty() {
        return Err("a damaged header".into());
    }
    if stored_source != blake3::hash(source.as_bytes()).to_hex().as_str() {
        return Err("it belongs to another file".into());
    }
    if blake3::hash(rest).to_hex().as_str() != hash {
        return Err("its bytes do not match their hash".into());
    }
    let modified = DateTime::parse_from_rfc3339(&modified).ok();
    Ok(Stored {
        bytes: rest.to_vec(),
        modified: modified.map(|m| m.with_timezone(&Utc)),
    })
}

/// Removes the entries this store wrote in `dir`.
fn remove_ours(dir: &Path) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if is_ours(&name) {
            let _ = fs::remove_file(entry.path());
        }
    }
}

/// Whether a file name is one this store gives its entries.
fn is_ours(name: &str) -> bool {
    name.len() == NAME_LEN && name.bytes().all(|b| b.is_ascii_hexdigit())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn entry_of(store: &LastGood, source: &str) -> PathBuf {
        let path = store.path_of(source);
        assert!(path.is_file(), "its version kept");
        path
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(200))]

        /// Whatever happens to an entry's bytes, it reads back as what was kept or not at all.
        #[test]
        fn a_damaged_entry_is_never_read_as_something_else(
            body in proptest::collection::vec(any::<u8>(), 0..300),
            at in any::<usize>(),
            byte in any::<u8>(),
            cut in any::<bool>(),
        ) {
            let dir = tempfile::tempdir().unwrap();
            let store = LastGood::in_state(dir.path());
            store.keep("a.md", &body, Some(SystemTime::now()));
            let path = entry_of(&store, "a.md");
            let mut bytes = fs::read(&path).unwrap();
            let at = at % bytes.len();
            if cut { bytes.truncate(at) } else { bytes[at] = byte }
            fs::write(&path, &bytes).unwrap();
            if let Some(read) = store.load("a.md") {
                prop_assert_eq!(read.bytes, body);
            }
            prop_assert!(store.load("b.md").is_none(), "never another post's");
        }
    }

    #[test]
    fn a_new_version_replaces_the_old_one_and_forget_leaves_other_files() {
        let dir = tempfile::tempdir().unwrap();
        let store = LastGood::in_state(dir.path());
        store.keep("a.md", b"one", None);
        fs::write(dir.path().join(FOLDER).join("notes.txt"), "mine").unwrap();
        store.keep("a.md", b"two", None);
        assert_eq!(store.load("a.md").unwrap().bytes, b"two");
        let names = fs::read_dir(dir.path().join(FOLDER)).unwrap().count();
        assert_eq!(names, 2, "one entry for a.md, and the operator's file");
        store.forget("a.md");
        assert!(store.load("a.md").is_none());
        assert!(
            dir.path().join(FOLDER).join("notes.txt").is_file(),
            "not ours: kept"
        );
    }

    #[test]
    fn the_first_layout_is_removed_but_what_is_not_ours() {
        let dir = tempfile::tempdir().unwrap();
        let first = dir.path().join(FIRST_FOLDER);
        let ours = first.join("0123456789abcdef0123456789abcdef");
        fs::create_dir_all(&ours).unwrap();
        fs::write(ours.join("fedcba9876543210fedcba9876543210"), "kept bytes").unwrap();
        let mixed = first.join("00000000000000000000000000000000");
        fs::create_dir_all(&mixed).unwrap();
        fs::write(mixed.join("notes.txt"), "mine").unwrap();
        LastGood::remove_first_layout(dir.path());
        assert!(!ours.exists(), "an entry and its folder: ours");
        assert!(
            mixed.join("notes.txt").is_file(),
            "not ours: kept, and its folder"
        );
    }
}
