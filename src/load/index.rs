//! The persistent index: what a scan learnt about each post file (its stamp, the hash of its
//! bytes, its parsed post or error and last good version) and about the files posts link to
//! (stamp, hash, media facts), kept in the state folder (`posts/.dropfeed/index`) so that a
//! restart opens only the files that changed while the server was down. A file whose stamp
//! (size, modification time to the nanosecond, device and inode) is the one recorded takes
//! its recorded post without being opened.
//!
//! It is a cache, never the source of truth. It is refused whole, and every post read again
//! (one line in the log, nothing a reader sees), when it is missing, cut short, damaged
//! (checked with a blake3 hash of its contents before anything is decoded), in an older
//! format, written by another build of dropfeed, or for another way of parsing (time zone,
//! language, URLs, size limit, how the folder was named). It is written whole to a temporary
//! file renamed into place, from a copy taken in a moment (the posts themselves are shared,
//! not copied), on a thread of its own.
//!
//! The file: [`MAGIC`], the format version (4 bytes, little-endian), the shape (a 32-byte
//! hash of everything that shapes parsing), the length of the contents (8 bytes) and their
//! blake3 hash (32 bytes), then the contents, encoded with postcard.

use std::collections::HashMap;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use serde::{Deserialize, Serialize};

use super::walk::{Found, Walk};
use super::{Changes, FileStamp, FileState, Library, Linked, LinkedFiles};
use crate::logging::FINDINGS;
use crate::post::{Post, PostError};

/// The index's file name inside the state folder.
pub const FILE_NAME: &str = "index";
/// The first bytes of every index.
const MAGIC: &[u8; 16] = b"dropfeed index\n\0";
/// Raised whenever what is saved changes shape: an older index is then refused.
const FORMAT: u32 = 1;
/// Bytes before the contents: magic, format, shape, length, hash.
const HEADER_LEN: usize = MAGIC.len() + 4 + 32 + 8 + 32;

/// A 32-byte hash of everything that shapes what parsing gives (see `Library::index_shape`).
pub type Shape = [u8; 32];

/// Where a posts folder's index is kept.
#[derive(Debug, Clone)]
pub struct Index {
    path: PathBuf,
}

/// One post file as saved.
#[derive(Debug, PartialEq, Serialize, Deserialize)]
struct SavedFile {
    source: String,
    stamp: FileStamp,
    hash: [u8; 32],
    last_good: Option<Arc<Post>>,
    error: Option<PostError>,
}

/// Everything saved.
#[derive(Debug, Default, PartialEq, Serialize, Deserialize)]
pub(super) struct Saved {
    files: Vec<SavedFile>,
    linked: Vec<(String, Linked)>,
}

/// What a sound index gives back to the first scan.
#[derive(Debug, Default)]
pub(super) struct Restored {
    /// Post files by source path, each taken only if its stamp is the recorded one.
    pub(super) files: HashMap<String, FileState>,
    /// The linked files as they were (each is looked at again; its hash is reused when its
    /// stamp is unchanged).
    pub(super) linked: LinkedFiles,
}

/// The index's part of a library's state.
#[derive(Debug, Default)]
pub(super) struct IndexState {
    /// Whether the first scan looked for the index (it is read once, at the start).
    tried: bool,
    /// What the index gave, during the first scan.
    restored: Option<Restored>,
    /// Whether anything changed since the index was last written.
    pub(super) dirty: bool,
}

/// A copy of the library's state to write, taken on the watcher's thread and written on
/// another one.
#[derive(Debug)]
pub struct IndexJob {
    index: Index,
    shape: Shape,
    saved: Saved,
}

impl Index {
    /// The index in a state folder (`posts/.dropfeed`).
    pub fn in_state(state: &Path) -> Index {
        Index {
            path: state.join(FILE_NAME),
        }
    }

    /// The recorded state, if the index is sound and made for `shape`; otherwise why not.
    pub(super) fn load(&self, shape: &Shape) -> Result<Restored, String> {
        let started = Instant::now();
        let bytes = match fs::read(&self.path) {
            Ok(bytes) => bytes,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Err("there is none yet".into()),
            Err(e) => return Err(format!("it cannot be read ({e})")),
        };
        let saved = decode(&bytes, shape)?;
        let files = saved
            .files
            .into_iter()
            .map(|f| {
                let state = FileState {
                    stamp: f.stamp,
                    hash: blake3::Hash::from_bytes(f.hash),
                    last_good: f.last_good,
                    error: f.error,
                };
                (f.source, state)
            })
            .collect();
        let linked = saved.linked.into_iter().collect();
        tracing::debug!(
            bytes = bytes.len(),
            ms = format!("{:.1}", started.elapsed().as_secs_f64() * 1000.0),
            "index read"
        );
        Ok(Restored { files, linked })
    }

    /// A job writing this state (a copy: posts are shared, not copied).
    pub(super) fn job<'a>(
        &self,
        shape: Shape,
        files: impl Iterator<Item = (&'a String, &'a FileState)>,
        linked: &LinkedFiles,
    ) -> IndexJob {
        let files = files
            .map(|(source, state)| SavedFile {
                source: source.clone(),
                stamp: state.stamp,
                hash: *state.hash.as_bytes(),
                last_good: state.last_good.clone(),
                error: state.error.clone(),
            })
            .collect();
        let linked = linked.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
        IndexJob {
            index: self.clone(),
            shape,
            saved: Saved { files, linked },
        }
    }
}

impl IndexJob {
    /// Encodes and writes the index atomically. A failure is logged: serving never depends
    /// on the index.
    pub fn write(self) {
        let started = Instant::now();
        let written = encode(&self.saved, &self.shape)
            .map_err(|e| io::Error::other(e.to_string()))
            .and_then(|bytes| write_atomically(&self.index.path, &bytes).map(|()| bytes.len()));
        match written {
            Ok(bytes) => tracing::debug!(
                files = self.saved.files.len(),
                bytes,
                ms = format!("{:.1}", started.elapsed().as_secs_f64() * 1000.0),
                "index written"
            ),
            Err(e) => tracing::warn!(
                "{}: cannot write the index ({e}); the next start reads every post",
                self.index.path.display()
            ),
        }
    }
}

/// The index file's bytes for `saved`.
pub(super) fn encode(saved: &Saved, shape: &Shape) -> Result<Vec<u8>, postcard::Error> {
    let contents = postcard::to_stdvec(saved)?;
    let mut bytes = Vec::with_capacity(HEADER_LEN + contents.len());
    bytes.extend_from_slice(MAGIC);
    bytes.extend_from_slice(&FORMAT.to_le_bytes());
    bytes.extend_from_slice(shape);
    bytes.extend_from_slice(&(contents.len() as u64).to_le_bytes());
    bytes.extend_from_slice(blake3::hash(&contents).as_bytes());
    bytes.extend_from_slice(&contents);
    Ok(bytes)
}

/// What an index file holds, if it is whole, in this format and for `shape`; otherwise why
/// it is refused. Never panics: every length is checked against the bytes there are.
pub(super) fn decode(bytes: &[u8], shape: &Shape) -> Result<Saved, String> {
    if bytes.len() < HEADER_LEN {
        return Err("it is cut short".into());
    }
    let (header, contents) = bytes.split_at(HEADER_LEN);
    let (magic, rest) = header.split_at(MAGIC.len());
    let (format, rest) = rest.split_at(4);
    let (saved_shape, rest) = rest.split_at(32);
    let (length, hash) = rest.split_at(8);
    if magic != MAGIC {
        return Err("it is not an index".into());
    }
    if format != FORMAT.to_le_bytes() {
        return Err("it is in another format".into());
    }
    if saved_shape != shape {
        return Err("it was written by another version or configuration".into());
    }
    if length != (contents.len() as u64).to_le_bytes() {
        return Err("it is cut short or too long".into());
    }
    if hash != blake3::hash(contents).as_bytes() {
        return Err("its contents do not match their hash".into());
    }
    postcard::from_bytes(contents).map_err(|e| format!("it cannot be decoded ({e})"))
}

/// Writes `bytes` to a temporary file beside `path` (named by host and process, so replicas
/// sharing the folder never write the same one) and renames it into place. Not flushed to
/// disk: what a crash leaves short fails the hash and is refused.
fn write_atomically(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let folder = path.parent().unwrap_or(Path::new("."));
    fs::create_dir_all(folder)?;
    let host: String = rustix::system::uname()
        .nodename()
        .to_string_lossy()
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '_'))
        .collect();
    let temporary = folder.join(format!(".{FILE_NAME}.tmp-{host}-{}", std::process::id()));
    let renamed = fs::write(&temporary, bytes).and_then(|()| fs::rename(&temporary, path));
    if renamed.is_err() {
        let _ = fs::remove_file(&temporary); // ours: created just above
    }
    renamed
}

impl Library {
    /// The hash of everything that shapes what parsing gives, besides a file's own bytes and
    /// modification time: this build of dropfeed (its version, and its executable's stamp,
    /// so a rebuilt binary never trusts an older one's parse), the parse context, the size
    /// limit, and the folder as named (errors carry that path).
    pub(super) fn index_shape(&self) -> Shape {
        let executable = std::env::current_exe()
            .and_then(fs::metadata)
            .map(|meta| FileStamp::of(&meta));
        let ctx = &self.ctx;
        let mut hasher = blake3::Hasher::new();
        for part in [
            env!("CARGO_PKG_VERSION"),
            &format!("{executable:?}"),
            ctx.timezone.name(),
            &ctx.language,
            ctx.post_base.as_str(),
            ctx.site_base.as_str(),
            &self.max_bytes.to_string(),
            &self.display_root.to_string_lossy(),
            &self.root.to_string_lossy(),
        ] {
            hasher.update(&(part.len() as u64).to_le_bytes());
            hasher.update(part.as_bytes());
        }
        *hasher.finalize().as_bytes()
    }

    /// Walks the whole folder, loading the index meanwhile on another thread when this is
    /// the library's first scan and it has one.
    pub(super) fn walk_restoring(&mut self, walk: &mut Walk) {
        let root = self.root.clone();
        let index = match &self.index {
            Some(index) if self.files.is_empty() && !self.index_state.tried => index.clone(),
            _ => return self.walk(&root, walk),
        };
        self.index_state.tried = true;
        let shape = self.index_shape();
        let loaded = std::thread::scope(|scope| {
            let loading = scope.spawn(|| index.load(&shape));
            self.walk(&root, walk);
            loading.join()
        });
        match loaded {
            Ok(Ok(restored)) => self.index_state.restored = Some(restored),
            Ok(Err(reason)) => {
                tracing::info!("the index is not used ({reason}): reading every post");
            }
            Err(_) => tracing::error!("reading the index panicked: reading every post"),
        }
    }

    /// Takes from the index each found file that is not known yet and whose stamp is the
    /// recorded one: its post (or error) as recorded, without opening it.
    pub(super) fn take_restored(&mut self, found: &Found, changes: &mut Changes) {
        let Some(mut restored) = self.index_state.restored.take() else {
            return;
        };
        for (source, (_, meta, _)) in found {
            if self.files.contains_key(source) {
                continue;
            }
            let Some(state) = restored.files.remove(source) else {
                continue;
            };
            if state.stamp != FileStamp::of(meta) {
                continue;
            }
            if let Some(error) = &state.error {
                // Told at every start, as when it was read.
                tracing::error!(target: FINDINGS, "{error}");
            }
            self.set_file(source, Some(state));
            changes.changed.push(source.clone());
        }
        self.index_state.restored = Some(restored);
    }

    /// Ends a restoring scan: the linked files as recorded (looked at again next, their
    /// hashes reused when their stamps are unchanged), and what it gave logged.
    pub(super) fn finish_restoring(&mut self, read: usize) {
        let Some(restored) = self.index_state.restored.take() else {
            return;
        };
        if !restored.files.is_empty() {
            // Entries for files gone or changed: the index is rewritten without them.
            self.index_state.dirty = true;
        }
        self.linked = restored.linked;
        tracing::info!(
            from_index = self.files.len().saturating_sub(read),
            read,
            "posts restored from the index"
        );
    }

    /// Whether an index is kept and the library changed since it was last written.
    pub fn index_due(&self) -> bool {
        self.index.is_some() && self.index_state.dirty
    }

    /// A copy of the state to write to the index, if one is kept and it changed since.
    pub fn index_job(&mut self) -> Option<IndexJob> {
        let index = self.index.as_ref().filter(|_| self.index_state.dirty)?;
        let job = index.job(self.index_shape(), self.files.iter(), &self.linked);
        self.index_state.dirty = false;
        Some(job)
    }
}

#[cfg(test)]
#[path = "index_tests.rs"]
mod tests;
