//! Reading post files: in parallel on a cold start, each read at most one byte past
//! `max_post_bytes`, decoded as UTF-8 and parsed, or a reason it was not.

use std::fs::{File, Metadata};
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;

use chrono::{DateTime, Utc};

use super::last_good::LastGood;
use super::{FileStamp, LoadProgress};
use crate::logging::FINDINGS;
use crate::post::{self, ParseContext, Post, PostError};

/// What reading one file gave.
pub(super) enum ReadResult {
    Read {
        stamp: FileStamp,
        hash: blake3::Hash,
        parsed: Box<Result<Post, PostError>>,
        /// When it did not parse: its last good version from the store, if one is kept.
        stored: Option<Box<Post>>,
    },
    Skipped(String),
}

/// How files are read: where, with which parse context and limit, and the store of last
/// good versions, if one is kept.
pub(super) struct Reader<'a> {
    pub display_root: &'a Path,
    pub ctx: &'a ParseContext,
    pub max_bytes: u64,
    pub store: Option<&'a LastGood>,
}

/// Reads and parses files, on every core when there are many (a cold start).
pub(super) fn read_all(
    reader: &Reader,
    items: Vec<(String, (PathBuf, Metadata))>,
    progress: &LoadProgress,
) -> Vec<(String, ReadResult)> {
    crate::parallel::map(&items, 64, |(source, (path, meta))| {
        let result = read_one(reader, source, path, meta);
        progress.done.fetch_add(1, Ordering::Relaxed);
        (source.clone(), result)
    })
}

fn read_one(reader: &Reader, source: &str, path: &Path, meta: &Metadata) -> ReadResult {
    let (ctx, max_bytes) = (reader.ctx, reader.max_bytes);
    let display = reader.display_root.join(source);
    if meta.len() > max_bytes {
        let reason = format!(
            "{}: file is {} bytes, over max_post_bytes ({max_bytes}): not read",
            display.display(),
            meta.len()
        );
        tracing::warn!(target: FINDINGS, "{reason}");
        return ReadResult::Skipped(reason);
    }
    let mut bytes = Vec::with_capacity(meta.len() as usize);
    // Read at most one byte past the limit: a file growing while we read is still refused.
    let read = File::open(path).and_then(|f| f.take(max_bytes + 1).read_to_end(&mut bytes));
    let (hash, parsed) = match read {
        Ok(_) => {
            let mut ctx = ctx.clone();
            if let Ok(modified) = meta.modified() {
                ctx.fallback_date = DateTime::<Utc>::from(modified).fixed_offset();
            }
            let parsed = parse_bytes(&bytes, max_bytes, source, &display, &ctx);
            if let (Some(store), Ok(_)) = (reader.store, &parsed) {
                store.keep(source, &bytes, meta.modified().ok());
            }
            (blake3::hash(&bytes), parsed)
        }
        Err(e) => {
            // Like a parse error: the last good version stays published, the reason is shown.
            let message = format!("cannot read the file: {e}");
            let hash = blake3::hash(message.as_bytes());
            (hash, Err(error_at(&display, 1, message)))
        }
    };
    let mut stored = None;
    if let Err(e) = &parsed {
        // An error, as the report calls it: the post (or its newest version) is not served.
        tracing::error!(target: FINDINGS, "{e}");
        stored = reader
            .store
            .and_then(|store| from_store(reader, store, source));
    }
    ReadResult::Read {
        stamp: FileStamp::of(meta),
        hash,
        parsed: Box::new(parsed),
        stored,
    }
}

/// A broken post's last good version, read back from the store and parsed as it was then.
fn from_store(reader: &Reader, store: &LastGood, source: &str) -> Option<Box<Post>> {
    let kept = store.load(source)?;
    let display = reader.display_root.join(source);
    let mut ctx = reader.ctx.clone();
    if let Some(modified) = kept.modified {
        ctx.fallback_date = modified.fixed_offset();
    }
    match parse_bytes(&kept.bytes, reader.max_bytes, source, &display, &ctx) {
        Ok(post) => Some(Box::new(post)),
        Err(e) => {
            tracing::warn!("{e} (in its stored last good version: not served)");
            None
        }
    }
}

/// A post from the bytes read: within the size limit, UTF-8, and parsed.
fn parse_bytes(
    bytes: &[u8],
    max_bytes: u64,
    source: &str,
    display: &Path,
    ctx: &ParseContext,
) -> Result<Post, PostError> {
    if bytes.len() as u64 > max_bytes {
        let message = format!("file grew past max_post_bytes ({max_bytes})");
        return Err(error_at(display, 1, message));
    }
    match std::str::from_utf8(bytes) {
        Ok(text) => post::parse(source, display, text, ctx),
        Err(e) => {
            let valid = &bytes[..e.valid_up_to()];
            let line = valid.iter().filter(|&&b| b == b'\n').count() + 1;
            Err(error_at(display, line, "not valid UTF-8 text".into()))
        }
    }
}

fn error_at(display: &Path, line: usize, message: String) -> PostError {
    PostError {
        path: display.to_path_buf(),
        line,
        message,
    }
}
