//! The id ledger: once a post is published, its id is written down so it never changes —
//! not when the file is renamed or moved, not when the title or body is edited, not when
//! `base_url` or `id_authority` changes.
//!
//! The ledger is a small tab-separated file at `<posts>/.dropfeed/ids.tsv`, so replicas that
//! share the posts folder share it. Each line is `id, source path, date, slug, title`. A
//! post whose path is not in the ledger is matched to an entry whose file is gone (a rename
//! or move) by the same publication date and the same title or slug; otherwise it gets a new
//! id. New ids are deterministic (see [`crate::site::default_id`]), so two replicas that
//! issue one at the same moment issue the same one.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use chrono::{DateTime, Utc};

use crate::post::Post;
use crate::site::default_id;

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
}

/// Ids issued so far, by source path.
#[derive(Debug, Default)]
pub struct Ledger {
    path: Option<PathBuf>,
    entries: BTreeMap<String, Issued>,
    dirty: bool,
}

/// Folder inside the posts folder where dropfeed keeps its state.
pub const STATE_DIR: &str = ".dropfeed";
const FILE_NAME: &str = "ids.tsv";

impl crate::site::IdSource for Ledger {
    fn id_for(&self, source: &str) -> Option<Arc<str>> {
        self.entries.get(source).map(|e| Arc::clone(&e.id))
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

    /// Re-reads the file, keeping anything issued in memory that the file lacks (another
    /// replica may have written since).
    fn reload(&mut self) {
        let Some(path) = &self.path else { return };
        let path = path.clone();
        let Ok(text) = std::fs::read_to_string(path) else {
            return;
        };
        for line in text.lines() {
            let fields: Vec<&str> = line.split('\t').collect();
            if let [id, source, date, slug, title] = fields[..] {
                self.entries
                    .entry(source.to_string())
                    .or_insert_with(|| Issued {
                        id: id.into(),
                        source: source.into(),
                        date: date.into(),
                        slug: slug.into(),
                        title: title.into(),
                    });
            }
        }
    }

    /// All entries, by source path.
    pub fn entries(&self) -> &BTreeMap<String, Issued> {
        &self.entries
    }

    /// Ids for the posts about to be published, issuing new ones as needed. `present` is
    /// every source path in the folder now (broken files included), so an entry whose file
    /// still exists is never taken over by another post.
    pub fn assign(
        &mut self,
        posts: &[Arc<Post>],
        present: impl Fn(&str) -> bool,
        authority: &str,
        now: DateTime<Utc>,
    ) {
        let publishable = posts
            .iter()
            .filter(|p| p.id.is_none() && !p.draft && p.date.with_timezone(&Utc) <= now);
        let mut unmatched = Vec::new();
        for post in publishable {
            match self.entries.get_mut(&post.source) {
                Some(entry) => self.dirty |= refresh(entry, post),
                None => unmatched.push(post),
            }
        }
        if !unmatched.is_empty() {
            self.reload();
            // Entries whose file is gone, by date: the candidates for a renamed post. Only the
            // dates of the new posts matter, so `present` (which may look at the disk) is asked
            // about a handful of entries, not all of them.
            let dates: HashSet<String> = unmatched.iter().map(|p| p.date.to_rfc3339()).collect();
            let mut orphans: HashMap<String, Vec<String>> = HashMap::new();
            for entry in self
                .entries
                .values()
                .filter(|e| dates.contains(&e.date) && !present(e.source.as_str()))
            {
                orphans
                    .entry(entry.date.clone())
                    .or_default()
                    .push(entry.source.clone());
            }
            // Every id ever issued stays taken: a new post never inherits a deleted one's.
            let mut taken: HashSet<Arc<str>> =
                self.entries.values().map(|e| Arc::clone(&e.id)).collect();
            for post in unmatched {
                self.adopt_or_issue(post, &mut orphans, &mut taken, authority);
            }
        }
    }

    /// The id recorded for a source path.
    pub fn id_of(&self, source: &str) -> Option<&str> {
        self.entries.get(source).map(|e| &*e.id)
    }

    fn adopt_or_issue(
        &mut self,
        post: &Post,
        orphans: &mut HashMap<String, Vec<String>>,
        taken: &mut HashSet<Arc<str>>,
        authority: &str,
    ) -> Arc<str> {
        if let Some(entry) = self.entries.get(&post.source) {
            return entry.id.clone();
        }
        let date = post.date.to_rfc3339();
        let candidates = orphans.get_mut(&date);
        let orphan = candidates.and_then(|sources| {
            let at = sources.iter().position(|source| {
                self.entries
                    .get(source)
                    .is_some_and(|e| e.title == post.title || e.slug == post.slug)
            })?;
            Some(sources.swap_remove(at))
        });
        let mut entry = match orphan.and_then(|source| self.entries.remove(&source)) {
            Some(moved) => moved,
            None => Issued {
                id: unused_id(default_id(authority, post), taken),
                source: String::new(),
                date: date.clone(),
                slug: String::new(),
                title: String::new(),
            },
        };
        entry.source = post.source.clone();
        refresh(&mut entry, post);
        let id = entry.id.clone();
        self.entries.insert(post.source.clone(), entry);
        self.dirty = true;
        id
    }

    /// Writes the ledger if it changed (atomically: a temporary file renamed over it).
    pub fn save(&mut self) -> std::io::Result<()> {
        let Some(path) = &self.path else {
            return Ok(());
        };
        if !self.dirty {
            return Ok(());
        }
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        let mut text = String::from(
            "# dropfeed id ledger: id, source, date, slug, title. Ids here never change.\n",
        );
        text.reserve(self.entries.len() * 160);
        for e in self.entries.values() {
            for (i, field) in [&*e.id, &e.source, &e.date, &e.slug, &e.title]
                .into_iter()
                .enumerate()
            {
                text.push_str(if i == 0 { "" } else { "\t" });
                text.push_str(field);
            }
            text.push('\n');
        }
        let temporary = path.with_extension(format!("tmp-{}", std::process::id()));
        std::fs::write(&temporary, text)?;
        std::fs::rename(&temporary, path)?;
        self.dirty = false;
        Ok(())
    }
}

/// `id`, or `id-2`, `id-3`… when it is taken (two posts with the same slug on one day),
/// marked as taken from now on.
fn unused_id(id: String, taken: &mut HashSet<Arc<str>>) -> Arc<str> {
    let mut candidate = id.clone();
    let mut n = 2;
    while taken.contains(candidate.as_str()) {
        candidate = format!("{id}-{n}");
        n += 1;
    }
    let candidate: Arc<str> = candidate.into();
    taken.insert(Arc::clone(&candidate));
    candidate
}

/// Updates what the ledger remembers of a post (for matching a later rename); true if changed.
fn refresh(entry: &mut Issued, post: &Post) -> bool {
    if entry.slug == post.slug && entry.title == post.title {
        return false; // the common case, on every rebuild: nothing to allocate
    }
    let clean = |s: &str| s.replace(['\t', '\n', '\r'], " ");
    entry.slug = clean(&post.slug);
    entry.title = clean(&post.title);
    true
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::post::parse;
    use chrono::TimeZone;

    fn post(source: &str, text: &str) -> Arc<Post> {
        let ctx = crate::post::test_context();
        Arc::new(parse(source, Path::new(source), text, &ctx).unwrap())
    }

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap()
    }

    const HELLO: &str = "---\ntitle: Hello\ndate: 2025-05-01\n---\nBody\n";

    #[test]
    fn ids_survive_rename_edit_and_new_authority() {
        let dir = tempfile::tempdir().unwrap();
        let mut ledger = Ledger::open(dir.path());
        let first = post("hello.md", HELLO);
        ledger.assign(
            std::slice::from_ref(&first),
            |s| s == "hello.md",
            "old.example",
            now(),
        );
        let id = ledger.id_of("hello.md").unwrap().to_string();
        assert_eq!(id, "tag:old.example,2025-05-01:hello");
        ledger.save().unwrap();

        // Reopened from disk: renamed into a subfolder, title edited, new authority.
        let mut ledger = Ledger::open(dir.path());
        let moved = post("2025/greetings.md", &HELLO.replace("Body", "Edited body"));
        ledger.assign(&[moved], |s| s == "2025/greetings.md", "new.example", now());
        assert_eq!(ledger.id_of("2025/greetings.md"), Some(id.as_str()));
        let edited = post(
            "2025/greetings.md",
            &HELLO.replace("title: Hello", "title: Hello again"),
        );
        ledger.assign(
            &[edited],
            |s| s == "2025/greetings.md",
            "new.example",
            now(),
        );
        assert_eq!(ledger.id_of("2025/greetings.md"), Some(id.as_str()));
    }

    #[test]
    fn an_entry_whose_file_still_exists_is_not_taken_over() {
        let mut ledger = Ledger::in_memory();
        let a = post("a.md", HELLO);
        ledger.assign(std::slice::from_ref(&a), |s| s == "a.md", "ex.org", now());
        let copy = post("copy.md", HELLO);
        ledger.assign(
            &[a, copy],
            |s| s == "a.md" || s == "copy.md",
            "ex.org",
            now(),
        );
        assert_eq!(ledger.id_of("a.md"), Some("tag:ex.org,2025-05-01:a"));
        assert_eq!(ledger.id_of("copy.md"), Some("tag:ex.org,2025-05-01:copy"));
    }

    #[test]
    fn drafts_and_scheduled_posts_get_no_id_yet() {
        let mut ledger = Ledger::in_memory();
        let draft = post(
            "d.md",
            "---\ntitle: D\ndate: 2025-01-01\ndraft: true\n---\n",
        );
        let later = post("l.md", "---\ntitle: L\ndate: 2027-01-01\n---\n");
        ledger.assign(&[draft, later], |_| false, "ex.org", now());
        assert!(ledger.entries().is_empty());
    }
}
