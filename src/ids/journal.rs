//! The ledger file on disk as replicas sharing one posts folder use it at once: records are
//! appended, the file is compacted (rewritten whole: a temporary file, flushed, renamed over
//! it) once it holds more old records than live ones, and reads, appends and compactions
//! happen under an advisory lock (`flock` on [`LOCK_NAME`] beside the ledger), so no process
//! reads another's half-written line, appends to a file being replaced, or issues an id
//! without having read every id recorded before.
//!
//! A reader remembers where it stopped ([`Position`]): the next read takes only what was
//! appended since, unless the file was replaced, shortened or changed before that point
//! (then it is read whole).

use std::fs::{self, File, OpenOptions};
use std::io::{self, Read as _, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use super::format::{self, Parsed};

/// The lock file's name inside the state folder: never replaced, so every process locks the
/// same inode (the ledger itself is replaced by each compaction).
pub const LOCK_NAME: &str = "ids.lock";
/// How many of the last bytes read are kept to tell an append from a rewrite in place.
const TAIL: usize = 64;
/// How many of the first bytes (header and generation lines) are kept to tell a new file
/// from the one read: a compaction may reuse the inode the old file freed.
const HEAD: usize = 512;

/// An exclusive lock on the ledger, released when dropped (the file is closed).
#[derive(Debug)]
pub(super) struct Locked(#[allow(dead_code)] File);

/// Takes the ledger's lock, waiting for another process to release it. `create` makes the
/// state folder and the lock file when they are missing (a writer); otherwise a missing
/// lock file is an error the caller may read past (a read-only folder: nobody writes it).
pub(super) fn lock(state: &Path, create: bool) -> io::Result<Locked> {
    if create {
        fs::create_dir_all(state)?;
    }
    let path = state.join(LOCK_NAME);
    let file = match create {
        true => OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)?,
        false => File::open(&path)?,
    };
    flock(&file)?;
    Ok(Locked(file))
}

#[cfg(unix)]
fn flock(file: &File) -> io::Result<()> {
    rustix::fs::flock(file, rustix::fs::FlockOperation::LockExclusive).map_err(io::Error::from)
}

#[cfg(not(unix))]
fn flock(_file: &File) -> io::Result<()> {
    Ok(()) // no advisory locks: one process per posts folder
}

/// How far a reader has read the file, and what it looked like there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Position {
    inode: u64,
    len: u64,
    modified: Option<SystemTime>,
    /// The file's first lines, through its generation line (up to [`HEAD`] bytes).
    head: Vec<u8>,
    /// The last bytes read, up to [`TAIL`].
    tail: Vec<u8>,
    /// Lines read, each ended by a newline.
    lines: usize,
    /// Record lines in the file, read or not.
    pub records: usize,
    /// Whether the file is in the current format (else it is rewritten before any append).
    pub current: bool,
}

/// How much of the file a read looks at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Mode {
    /// What was appended since the last read (the whole file if it was replaced).
    Changes,
    /// The whole file, if anything changed (while lines cannot be read, so a fix made
    /// anywhere in it is seen).
    WholeIfChanged,
    /// The whole file, always (before a compaction).
    Whole,
}

/// What a read found.
#[derive(Debug)]
pub(super) enum Read {
    /// Nothing changed since the last read.
    Unchanged,
    /// There is no file.
    Missing,
    /// The whole file, read from its start.
    Whole(Parsed),
    /// Only the lines appended since the last read.
    Appended(Parsed),
}

/// Reads what changed in the file since `at`, as `mode` asks. `Err` when the file cannot be read or is in a format this version does not know.
pub(super) fn read(
    path: &Path,
    at: Option<&Position>,
    mode: Mode,
) -> Result<(Read, Option<Position>), String> {
    let mut file = match File::open(path) {
        Ok(file) => file,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok((Read::Missing, None)),
        Err(e) => return Err(e.to_string()),
    };
    let meta = file.metadata().map_err(|e| e.to_string())?;
    let (inode, len, modified) = (inode(&meta), meta.len(), meta.modified().ok());
    let at = at.filter(|at| at.inode == inode && at.len <= len && mode != Mode::Whole);
    let at = match at {
        Some(at) if same_head(&mut file, at).map_err(|e| e.to_string())? => Some(at),
        _ => None,
    };
    if let Some(at) = at {
        if at.len == len && at.modified == modified {
            return Ok((Read::Unchanged, Some(at.clone())));
        }
        if mode == Mode::Changes && at.current && at.tail.last() == Some(&b'\n') {
            if let Some(added) = appended(&mut file, at, len).map_err(|e| e.to_string())? {
                let parsed = format::parse_appended(&added, at.lines);
                let next = advanced(at, &added, &parsed, modified);
                return Ok((Read::Appended(parsed), Some(next)));
            }
        }
    }
    let mut bytes = Vec::with_capacity(len as usize);
    file.seek(SeekFrom::Start(0))
        .and_then(|_| file.read_to_end(&mut bytes))
        .map_err(|e| e.to_string())?;
    let parsed = format::parse(&bytes)?;
    let position = Position {
        inode,
        len: bytes.len() as u64,
        modified,
        head: head_of(&bytes),
        tail: tail_of(&[], &bytes),
        lines: parsed.lines,
        records: parsed.records,
        current: parsed.current,
    };
    Ok((Read::Whole(parsed), Some(position)))
}

/// Whether the file begins as it did when `at` was read.
fn same_head(file: &mut File, at: &Position) -> io::Result<bool> {
    let mut head = Vec::with_capacity(at.head.len());
    file.seek(SeekFrom::Start(0))?;
    file.take(at.head.len() as u64).read_to_end(&mut head)?;
    Ok(head == at.head)
}

/// The file's first two lines (header and generation), up to [`HEAD`] bytes.
fn head_of(bytes: &[u8]) -> Vec<u8> {
    let mut newlines = bytes.iter().enumerate().filter(|(_, &b)| b == b'\n');
    let end = newlines.nth(1).map_or(bytes.len(), |(at, _)| at + 1);
    bytes[..end.min(HEAD)].to_vec()
}

/// A name for a new version of the file, unique across processes and hosts sharing it.
pub(super) fn generation() -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static COUNT: AtomicU64 = AtomicU64::new(0);
    let nanos = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    let count = COUNT.fetch_add(1, Ordering::Relaxed);
    format!("{}-{}-{nanos}-{count}", host_name(), std::process::id())
}

/// The bytes after `at`, if the bytes just before it are still those read there (else the
/// file was rewritten in place: `None`).
fn appended(file: &mut File, at: &Position, len: u64) -> io::Result<Option<Vec<u8>>> {
    let start = at.len - at.tail.len() as u64;
    file.seek(SeekFrom::Start(start))?;
    let mut bytes = Vec::with_capacity((len - start) as usize);
    file.take(len - start).read_to_end(&mut bytes)?;
    if bytes.len() < at.tail.len() || bytes[..at.tail.len()] != at.tail[..] {
        return Ok(None);
    }
    Ok(Some(bytes.split_off(at.tail.len())))
}

/// The position after `added` was read at `at`.
fn advanced(
    at: &Position,
    added: &[u8],
    parsed: &Parsed,
    modified: Option<SystemTime>,
) -> Position {
    Position {
        len: at.len + added.len() as u64,
        modified,
        tail: tail_of(&at.tail, added),
        lines: parsed.lines,
        records: at.records + parsed.records,
        ..at.clone()
    }
}

/// The last [`TAIL`] bytes of `before` followed by `added`.
fn tail_of(before: &[u8], added: &[u8]) -> Vec<u8> {
    let mut tail: Vec<u8> = before.iter().chain(added).copied().collect();
    let cut = tail.len().saturating_sub(TAIL);
    tail.drain(..cut);
    tail
}

/// Appends `lines` (whole lines, each ended by a newline) to the file read up to `at`, which
/// must not have changed since (the caller holds the lock and has just read it). Other
/// processes read them at once (from the page cache); [`sync`] puts them on disk, after the
/// change is published, so a new post does not wait for the disk.
pub(super) fn append(path: &Path, at: &mut Position, lines: &str, count: usize) -> io::Result<()> {
    let mut file = OpenOptions::new().append(true).open(path)?;
    let meta = file.metadata()?;
    if inode(&meta) != at.inode || meta.len() != at.len {
        return Err(io::Error::other(
            "the file changed while locked (is another program writing it?)",
        ));
    }
    let mut bytes = Vec::with_capacity(lines.len() + 1);
    if at.tail.last().is_some_and(|&b| b != b'\n') {
        bytes.push(b'\n'); // a last line without its newline (an editor) stays a line of its own
    }
    bytes.extend_from_slice(lines.as_bytes());
    file.write_all(&bytes)?;
    let meta = file.metadata()?;
    at.len += bytes.len() as u64;
    at.modified = meta.modified().ok();
    at.tail = tail_of(&at.tail, &bytes);
    at.lines += bytes.iter().filter(|&&b| b == b'\n').count();
    at.records += count;
    Ok(())
}

/// Flushes what was appended to the file to disk.
pub(super) fn sync(path: &Path) -> io::Result<()> {
    OpenOptions::new().append(true).open(path)?.sync_data()
}

/// Replaces the file by `text` atomically: a temporary file beside it, flushed to disk, then
/// renamed over it. Returns the position at the end of the new file.
pub(super) fn rewrite(path: &Path, text: &str, records: usize) -> io::Result<Position> {
    if let Some(dir) = path.parent() {
        fs::create_dir_all(dir)?;
    }
    let temporary = temporary_beside(path);
    let written = File::create(&temporary).and_then(|mut file| {
        file.write_all(text.as_bytes())?;
        // On disk before it replaces the old file: a crash must not leave an empty ledger.
        file.sync_all()?;
        file.metadata()
    });
    let renamed = written.and_then(|meta| fs::rename(&temporary, path).map(|()| meta));
    let meta = match renamed {
        Ok(meta) => meta,
        Err(e) => {
            let _ = fs::remove_file(&temporary); // ours: created just above
            return Err(e);
        }
    };
    Ok(Position {
        inode: inode(&meta),
        len: text.len() as u64,
        modified: meta.modified().ok(),
        head: head_of(text.as_bytes()),
        tail: tail_of(&[], text.as_bytes()),
        lines: text.bytes().filter(|&b| b == b'\n').count(),
        records,
        current: true,
    })
}

/// Where the ledger is written before it is renamed into place: named after the host and
/// the process, so replicas sharing the folder (each often process 1 in its container) never
/// write into one file at once.
pub(super) fn temporary_beside(ledger: &Path) -> PathBuf {
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

fn inode(meta: &fs::Metadata) -> u64 {
    #[cfg(unix)]
    return std::os::unix::fs::MetadataExt::ino(meta);
    #[cfg(not(unix))]
    return 0;
}
