//! The import record, `posts/.dropfeed/imports.json`: for each item imported (by its
//! original id, else its old address, else its title and date), the file it became and a
//! hash of the bytes written. A file whose bytes no longer have that hash was edited by its
//! author, and a later import leaves it alone; a file that is gone was deleted or moved by
//! its author, and is not brought back.

use std::collections::BTreeMap;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::ids::STATE_DIR;

/// The record's file name inside the state folder.
pub const FILE_NAME: &str = "imports.json";

/// What one import wrote for one item.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Imported {
    /// The post file, relative to the posts folder.
    pub file: String,
    /// BLAKE3 of the bytes written, hex.
    pub hash: String,
}

/// Every item imported so far, by key.
#[derive(Debug, Default, Serialize, Deserialize)]
pub struct Record {
    /// Format version of the file.
    version: u32,
    /// Item key → what was written.
    pub items: BTreeMap<String, Imported>,
}

/// The hash the record keeps of a file's bytes.
pub fn hash(bytes: &[u8]) -> String {
    blake3::hash(bytes).to_hex().to_string()
}

fn path(posts: &Path) -> PathBuf {
    posts.join(STATE_DIR).join(FILE_NAME)
}

impl Record {
    /// Reads the record of a posts folder; none yet is an empty record. A record that
    /// cannot be read is an error: importing without it could overwrite an author's edit.
    pub fn open(posts: &Path) -> io::Result<Record> {
        match fs::read(path(posts)) {
            Ok(bytes) => serde_json::from_slice(&bytes).map_err(|e| {
                let message = format!("{}: {e}", path(posts).display());
                io::Error::new(io::ErrorKind::InvalidData, message)
            }),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(Record {
                version: 1,
                items: BTreeMap::new(),
            }),
            Err(e) => Err(e),
        }
    }

    /// Writes the record atomically (a temporary file renamed over it).
    pub fn save(&self, posts: &Path) -> io::Result<()> {
        let target = path(posts);
        fs::create_dir_all(posts.join(STATE_DIR))?;
        let text = serde_json::to_vec_pretty(self).map_err(io::Error::other)?;
        write_atomically(&target, &text)
    }
}

/// Writes a file by a temporary file beside it renamed over it, so a reader (the server's
/// watcher) never sees it half written.
pub fn write_atomically(target: &Path, bytes: &[u8]) -> io::Result<()> {
    let name = target
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or("file");
    let temporary = target.with_file_name(format!(".{name}.import-{}", std::process::id()));
    let written = fs::write(&temporary, bytes).and_then(|()| fs::rename(&temporary, target));
    if written.is_err() {
        let _ = fs::remove_file(&temporary);
    }
    written
}
