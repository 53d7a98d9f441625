//! Files beside posts that posts link to (images, audio, PDFs): looked at once per change,
//! never served from here. For each file some post links to, the library keeps where it
//! really is, its [`FileStamp`] and a hash of its bytes (hashed when first seen and again
//! only when its stamp changes), or why it cannot be published.
//!
//! Rules:
//!
//! - Only paths that posts link to are looked at (a stray file is never even opened), and
//!   each is checked like a post file: a regular file, really inside the posts folder (a
//!   link leading outside, into a dot-folder such as `.dropfeed/`, or to a post file is
//!   refused), and it is read in a streaming hash, never whole into memory.
//! - Which of these files are published (linked by a published post) is the snapshot's
//!   business: drafts' files are looked at too, so `/status` can warn about a draft's
//!   missing picture before it goes out.

use std::collections::{BTreeMap, BTreeSet};
use std::fs::{self, File, Metadata};
use std::io;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::SystemTime;

use crate::post::{Format, Post};

use super::walk::is_below;
use super::{Changes, FileState, Library};

/// What tells whether a file's bytes may have changed without reading them: size,
/// modification time, and (on Unix) device and inode (a file replaced by a rename).
#[derive(serde::Serialize, serde::Deserialize, Debug, Clone, Copy, PartialEq, Eq)]
pub struct FileStamp {
    /// Size in bytes.
    pub len: u64,
    /// Modification time.
    pub modified: Option<SystemTime>,
    /// Device and inode (zero where the platform has none).
    pub identity: (u64, u64),
}

impl FileStamp {
    /// The stamp of a file's metadata.
    pub fn of(meta: &Metadata) -> FileStamp {
        #[cfg(unix)]
        let identity = {
            use std::os::unix::fs::MetadataExt;
            (meta.dev(), meta.ino())
        };
        #[cfg(not(unix))]
        let identity = (0, 0);
        FileStamp {
            len: meta.len(),
            modified: meta.modified().ok(),
            identity,
        }
    }
}

/// A file beside posts that can be published.
#[derive(serde::Serialize, serde::Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct LinkedFile {
    /// Where it really is (links resolved): the file the server opens.
    pub real_path: PathBuf,
    /// Its stamp when it was hashed: the server refuses to send it if the stamp differs.
    pub stamp: FileStamp,
    /// Hex blake3 hash of its bytes (128 bits): the opaque part of its `ETag`.
    pub hash: String,
    /// What its header says (duration, picture size), read with the hash: once per change.
    pub facts: Option<crate::media::Facts>,
}

/// What is known about a path posts link to.
#[derive(serde::Serialize, serde::Deserialize, Debug, Clone, PartialEq, Eq)]
pub enum Linked {
    /// A file that can be published.
    Found(Arc<LinkedFile>),
    /// Why it cannot be published ("does not exist", "is a folder"…).
    Unusable(String),
}

/// Every path posts link to, by its path in the posts folder.
pub type LinkedFiles = BTreeMap<String, Linked>;

impl Library {
    /// What is known about the files posts link to.
    pub fn linked(&self) -> &LinkedFiles {
        &self.linked
    }

    /// Brings the linked files up to date after posts were read: paths newly linked are
    /// looked at, and so are those under `touched` (every one when `None`: a full scan);
    /// paths no post links to any more are forgotten. Each path whose state changed is
    /// added to `changes.changed`.
    pub(super) fn refresh_linked(&mut self, touched: Option<&[String]>, changes: &mut Changes) {
        let wanted: BTreeSet<&String> = self
            .link_counts
            .keys()
            .chain(self.show_files.iter())
            .collect();
        self.linked.retain(|path, _| wanted.contains(path));
        let due: Vec<(String, Option<Linked>)> = wanted
            .into_iter()
            .filter(|path| {
                !self.linked.contains_key(*path)
                    || touched.is_none_or(|t| t.iter().any(|prefix| is_below(path, prefix)))
            })
            .map(|path| (path.clone(), self.linked.get(path).cloned()))
            .collect();
        let root = self.root.clone();
        let looked =
            crate::parallel::map(&due, 4, |(path, before)| look(&root, path, before.as_ref()));
        for ((path, before), now) in due.into_iter().zip(looked) {
            if before.as_ref() != Some(&now) {
                self.index_state.dirty = true;
                changes.changed.push(path.clone());
            }
            self.linked.insert(path, now);
        }
    }

    /// Puts `state` (or nothing) in place of what is known about `source`, keeping the
    /// count of links to files beside posts; returns what was known before. Every change to
    /// [`Library::files`] goes through here.
    pub(super) fn set_file(&mut self, source: &str, state: Option<FileState>) -> Option<FileState> {
        if let Some(post) = state.as_ref().and_then(|s| s.last_good.clone()) {
            self.count_links(&post, true);
        }
        let before = match state {
            Some(state) => self.files.insert(source.to_string(), state),
            None => self.files.remove(source),
        };
        if let Some(post) = before.as_ref().and_then(|s| s.last_good.clone()) {
            self.count_links(&post, false);
        }
        before
    }

    /// Counts the files a post's last good version links to in, or (`add` false) out of,
    /// [`Library::link_counts`]: kept as posts change, so a refresh need not gather the
    /// links of every post.
    fn count_links(&mut self, post: &Post, add: bool) {
        for path in post.linked_files() {
            if add {
                *self.link_counts.entry(path.clone()).or_default() += 1;
            } else if let Some(count) = self.link_counts.get_mut(path) {
                *count -= 1;
                if *count == 0 {
                    self.link_counts.remove(path);
                }
            }
        }
    }
}

/// The state of the file at `path` (a posts-folder path without `.`, `..` or dot segments),
/// reusing `before`'s hash when its stamp is unchanged.
fn look(root: &Path, path: &str, before: Option<&Linked>) -> Linked {
    let (real_path, stamp) = match locate(root, path) {
        Ok(found) => found,
        Err(reason) => return Linked::Unusable(reason),
    };
    if let Some(Linked::Found(file)) = before {
        if file.real_path == real_path && file.stamp == stamp {
            return Linked::Found(Arc::clone(file));
        }
    }
    match hash_file(&real_path) {
        Ok((hash, stamp)) => Linked::Found(Arc::new(LinkedFile {
            facts: crate::media::probe(&real_path, path),
            real_path,
            stamp,
            hash,
        })),
        Err(reason) => Linked::Unusable(reason),
    }
}

/// Where the file really is and its stamp, or why it cannot be published.
fn locate(root: &Path, path: &str) -> Result<(PathBuf, FileStamp), String> {
    let real = fs::canonicalize(root.join(path)).map_err(|e| match e.kind() {
        io::ErrorKind::NotFound => "does not exist".to_string(),
        _ => format!("cannot be read ({e})"),
    })?;
    let root = fs::canonicalize(root).map_err(|e| format!("cannot be read ({e})"))?;
    let inside = real
        .strip_prefix(&root)
        .map_err(|_| "is a link to a file outside the posts folder: not published".to_string())?;
    let hidden = inside
        .components()
        .any(|c| c.as_os_str().as_encoded_bytes().starts_with(b"."));
    if hidden {
        return Err("is a link into a hidden file or folder: not published".into());
    }
    if Format::of(&real).is_some() {
        return Err("is a post file: posts are published as pages, not as files".into());
    }
    let meta = fs::metadata(&real).map_err(|e| format!("cannot be read ({e})"))?;
    if meta.is_dir() {
        return Err("is a folder: only files are published".into());
    }
    if !meta.is_file() {
        return Err("is not a regular file (FIFO, socket or device): not published".into());
    }
    Ok((real, FileStamp::of(&meta)))
}

/// How many times a file that changes while it is hashed is read again before it is
/// reported as being written.
const HASH_TRIES: usize = 3;

/// The hex blake3 hash of a file's bytes, read in a stream, and the stamp they had: read
/// again when the file changed meanwhile.
fn hash_file(path: &Path) -> Result<(String, FileStamp), String> {
    let unreadable = |e: io::Error| format!("cannot be read ({e})");
    for _ in 0..HASH_TRIES {
        let file = File::open(path).map_err(unreadable)?;
        let before = FileStamp::of(&file.metadata().map_err(unreadable)?);
        let mut hasher = blake3::Hasher::new();
        hasher.update_reader(&file).map_err(unreadable)?;
        let after = FileStamp::of(&file.metadata().map_err(unreadable)?);
        if before == after {
            let hash = hasher.finalize().to_hex()[..32].to_string();
            return Ok((hash, before));
        }
    }
    Err("keeps changing while it is read: published once it is written".into())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(40))]

        /// The files looked at are exactly those the posts' last good versions link to,
        /// after any sequence of posts written, rewritten, broken and deleted.
        #[test]
        fn looked_at_files_are_those_posts_link_to(
            steps in prop::collection::vec((0usize..4, prop::option::of(prop::collection::vec(0usize..5, 0..4)), any::<bool>()), 1..12)
        ) {
            let dir = tempfile::tempdir().unwrap();
            let root = dir.path().join("posts");
            fs::create_dir_all(root.join("img")).unwrap();
            for n in 0..5 {
                fs::write(root.join(format!("img/{n}.png")), [n as u8]).unwrap();
            }
            let config = crate::config::Config::from_raw(Default::default(), None).unwrap();
            let mut library = Library::new(&root, &config);
            library.scan();
            for (post, pictures, broken) in steps {
                let path = root.join(format!("p{post}.md"));
                match pictures {
                    None => { let _ = fs::remove_file(&path); }
                    Some(pictures) => {
                        let body: String = pictures.iter().map(|n| format!("![x](img/{n}.png)\n\n")).collect();
                        let front = if broken { "---\ntitle: [unclosed\n---\n" } else { "---\ntitle: T\n---\n" };
                        fs::write(&path, format!("{front}\n{body}")).unwrap();
                    }
                }
                library.refresh(std::slice::from_ref(&path));
                let wanted: BTreeSet<String> = library
                    .files()
                    .values()
                    .filter_map(|f| f.last_good.as_ref())
                    .flat_map(|post| post.linked_files().cloned().collect::<Vec<_>>())
                    .collect();
                let looked: BTreeSet<String> = library.linked().keys().cloned().collect();
                prop_assert_eq!(looked, wanted);
            }
        }
    }

    #[test]
    fn only_regular_files_inside_the_folder_and_outside_dot_folders_are_found() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("posts");
        fs::create_dir_all(root.join(".dropfeed")).unwrap();
        fs::create_dir_all(root.join("photos")).unwrap();
        fs::write(root.join("photos/a.jpg"), b"jpeg").unwrap();
        fs::write(root.join(".dropfeed/ids"), b"ledger").unwrap();
        fs::write(root.join("draft.md"), b"# secret").unwrap();
        fs::write(dir.path().join("outside.png"), b"png").unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::symlink;
            symlink(dir.path().join("outside.png"), root.join("out.png")).unwrap();
            symlink(root.join(".dropfeed/ids"), root.join("ids.png")).unwrap();
            symlink(root.join("draft.md"), root.join("draft.png")).unwrap();
            symlink(root.join("photos/a.jpg"), root.join("alias.jpg")).unwrap();
        }
        let found = |path: &str| matches!(look(&root, path, None), Linked::Found(_));
        assert!(found("photos/a.jpg"));
        for refused in ["missing.png", "photos", "out.png", "ids.png", "draft.png"] {
            assert!(!found(refused), "{refused}");
        }
        assert!(found("alias.jpg"));
        let Linked::Found(file) = look(&root, "photos/a.jpg", None) else {
            unreachable!()
        };
        assert_eq!(file.hash, blake3::hash(b"jpeg").to_hex()[..32].to_string());
    }
}
