//! Permanent ids, a stage of their own: posts → ids. Once a post is published its id is
//! written down in the ledger so it never changes — not when the file is renamed or moved,
//! not when the title or body is edited, not when `base_url` or `id_authority` changes.
//!
//! - [`ledger`]: the ledger as a value that `watch`, `main` and `export` open, prepare and
//!   save (`<posts>/.dropfeed/ids.tsv`, shared by replicas of one posts folder).
//! - [`assign`](Ledger::assign): the rules, pure: a post keeps the id recorded for its path;
//!   a post whose path is new takes over the entry of a file that is gone (a rename or move)
//!   with the same publication date and the same title or slug; otherwise it gets
//!   [`default_id`], deterministic so two replicas that issue one at once issue the same one.
//! - [`Issuer`]: ids issued while no `base_url` is configured (a trial run on the listen
//!   address) are provisional: used, never written down, and issued anew, for good, by the
//!   first run with a `base_url`.
//! - [`format`]: the file's lines; [`Health`]: whether it could be read whole and written.
//! - the file is a journal (issue 14): what changed is appended, the file is compacted
//!   (rewritten whole, atomically) once it holds more old lines than live ones, and every
//!   read, append and compaction holds an advisory lock, so replicas sharing the posts folder
//!   never lose or change an id; ids are issued under that lock, right after reading what
//!   the others recorded ([`Ledger::prepare`]).
//! - [`Ledger::record_imported`]: the one way an id comes from outside: `dropfeed import`
//!   records the id a post had on the site it came from (a guid, an Atom id), so its
//!   readers see nothing new.
//!
//! The only file I/O of the stage, [`Ledger::prepare`], runs before a build: it reads what
//! other replicas recorded since, and looks on disk for the files a new post may have been
//! renamed from. Assigning ids then touches nothing but memory.

mod assign;
pub mod format;
mod health;
mod journal;
#[cfg(test)]
mod journal_tests;
mod ledger;
mod merge;
#[cfg(test)]
mod tests;

use std::collections::HashMap;
use std::sync::Arc;

use crate::post::Post;

pub use assign::{Issuer, Presence};
pub use health::{BadLine, Health, Problem, SharedHealth};
pub use ledger::{
    lock_path, podcast_guid, temporary_path, ImportedIdTaken, Issued, Ledger, FILE_NAME, STATE_DIR,
};

/// Where recorded ids come from: the ledger, or a map in tests and benchmarks.
pub trait IdSource {
    /// The id recorded for a source path.
    fn id_for(&self, source: &str) -> Option<Arc<str>>;

    /// Whether a post with no recorded id may take [`default_id`]; false while the ledger
    /// cannot be read whole (its id may be on a line that could not be read).
    fn issuing(&self) -> bool {
        true
    }
}

impl IdSource for HashMap<String, String> {
    fn id_for(&self, source: &str) -> Option<Arc<str>> {
        self.get(source).map(|id| Arc::from(id.as_str()))
    }
}

/// The default permanent id: a `tag:` URI (RFC 4151) of the authority, the publication day
/// and the slug.
pub fn default_id(authority: &str, post: &Post) -> String {
    format!(
        "tag:{authority},{}:{}",
        post.date.format("%Y-%m-%d"),
        post.slug
    )
}
