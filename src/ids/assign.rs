//! The id rules, pure: which id each post to publish gets (see [`crate::ids`]). The file I/O
//! they need, reading the ledger again and looking for renamed files on disk, is
//! [`Ledger::prepare`], done before a build.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use chrono::{DateTime, Utc};

use super::default_id;
use super::ledger::{Issued, Ledger};
use crate::config::Config;
use crate::load::Library;
use crate::post::Post;

/// Who issues new ids: the authority of their `tag:` URIs, and whether they are permanent.
///
/// Ids are provisional while the configuration names neither `base_url` nor `id_authority`
/// (a trial run: the listen address, `127.0.0.1`, stands in for the site's host). They are
/// used in the feeds as usual but never recorded: the first run with a real `base_url`
/// issues the permanent ones, and no recorded id ever carries the listen address.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Issuer<'a> {
    /// Authority of generated `tag:` ids.
    pub authority: &'a str,
    /// Whether the ids issued are recorded for good.
    pub permanent: bool,
}

impl<'a> Issuer<'a> {
    /// The issuer a configuration calls for.
    pub fn of(config: &'a Config) -> Issuer<'a> {
        Issuer {
            authority: &config.id_authority,
            permanent: !config.provisional_ids,
        }
    }
}

impl<'a> From<&'a str> for Issuer<'a> {
    /// Permanent ids under an authority.
    fn from(authority: &'a str) -> Issuer<'a> {
        Issuer {
            authority,
            permanent: true,
        }
    }
}

impl<'a> From<&'a String> for Issuer<'a> {
    /// Permanent ids under an authority.
    fn from(authority: &'a String) -> Issuer<'a> {
        Issuer::from(authority.as_str())
    }
}

/// Which recorded files are still there, as far as assigning ids cares: a file the library
/// read and has not found gone since, less those [`Ledger::prepare`] looked for on disk and
/// did not find (so assigning ids looks at no file).
#[derive(Debug, Clone)]
pub struct Presence<'a> {
    known: Known<'a>,
    gone: HashSet<String>,
}

/// Where the known source paths come from.
#[derive(Debug, Clone)]
enum Known<'a> {
    Library(&'a Library),
    Listed(HashSet<String>),
}

impl Presence<'static> {
    /// Exactly the given source paths are there (tests).
    pub fn of<'s>(sources: impl IntoIterator<Item = &'s str>) -> Presence<'static> {
        let listed = sources.into_iter().map(str::to_string).collect();
        Presence {
            known: Known::Listed(listed),
            gone: HashSet::new(),
        }
    }

    /// No recorded file is there (tests).
    pub fn none() -> Presence<'static> {
        Presence::of([])
    }
}

impl Presence<'_> {
    /// Whether a recorded source path is still there.
    pub fn contains(&self, source: &str) -> bool {
        let known = match &self.known {
            Known::Library(library) => library.files().contains_key(source),
            Known::Listed(listed) => listed.contains(source),
        };
        known && !self.gone.contains(source)
    }
}

impl Ledger {
    /// Gets the ledger ready for a build of the library's posts at `now`, and issues their
    /// ids: under the file's lock, reads what other replicas recorded since, looks on disk for
    /// the recorded files a new post may have been renamed from, assigns ids ([`Ledger::assign`])
    /// and appends what it issued before letting go, so two replicas never issue different
    /// ids for one post nor one id twice. `changed` limits the posts looked at to the sources
    /// read since the last build (a rebuild after an edit); `None` looks at every post. A
    /// write that fails is logged and shown in [`Ledger::health`]; the ids stay in memory.
    pub fn prepare<'a>(
        &mut self,
        library: &'a Library,
        changed: Option<&[String]>,
        issuer: impl Into<Issuer<'a>>,
        now: DateTime<Utc>,
    ) -> Presence<'a> {
        let lock = self.lock_to_write();
        let presence = self.find_renamed(library, changed, now);
        let posts: Vec<Arc<Post>> = match changed {
            Some(sources) => sources
                .iter()
                .filter_map(|s| library.files().get(s)?.last_good.clone())
                .collect(),
            None => library.posts(),
        };
        self.assign(&posts, &presence, issuer, now);
        if let Err(e) = self.write_locked(lock) {
            tracing::warn!(
                "cannot write the id ledger in {}: {e}; ids are kept in memory",
                library.display_root().display()
            );
        }
        presence
    }

    /// Reads what other replicas recorded, then looks on disk for the recorded files that a
    /// new post (one without an id) may have been renamed from: those of the same
    /// publication date that the library still knows. A file moved into a new folder may be
    /// read there before the event for its old path is handled: the library still knows the
    /// old path, the disk no longer has it. A post it does not look at keeps the entries of
    /// its date that the library knows (it never takes one over).
    fn find_renamed<'a>(
        &mut self,
        library: &'a Library,
        changed: Option<&[String]>,
        now: DateTime<Utc>,
    ) -> Presence<'a> {
        self.reload_locked_now();
        let files = library.files();
        let dates: HashSet<String> = match changed {
            Some(sources) => {
                let posts = sources
                    .iter()
                    .filter_map(|s| files.get(s)?.last_good.as_deref());
                self.unmatched(posts, now)
                    .map(|p| p.date.to_rfc3339())
                    .collect()
            }
            None => {
                let posts = files.values().filter_map(|f| f.last_good.as_deref());
                self.unmatched(posts, now)
                    .map(|p| p.date.to_rfc3339())
                    .collect()
            }
        };
        let mut presence = Presence {
            known: Known::Library(library),
            gone: HashSet::new(),
        };
        if dates.is_empty() {
            return presence;
        }
        let candidates: Vec<&str> = self
            .entries
            .values()
            .filter(|e| among(&dates, &e.date) && files.contains_key(&e.source))
            .map(|e| e.source.as_str())
            .collect();
        let on_disk = library.on_disk(&candidates);
        presence.gone = candidates
            .into_iter()
            .filter(|s| !on_disk.contains(*s))
            .map(str::to_string)
            .collect();
        presence
    }

    /// Ids for the posts about to be published, issuing new ones as needed (provisional
    /// ones, kept in memory only, unless `issuer` is permanent; see [`Issuer`]). `presence`
    /// says which recorded files are still on disk (broken files included), so an entry
    /// whose file still exists is never taken over by another post.
    pub fn assign<'a>(
        &mut self,
        posts: &[Arc<Post>],
        presence: &Presence<'_>,
        issuer: impl Into<Issuer<'a>>,
        now: DateTime<Utc>,
    ) {
        let issuer = issuer.into();
        if issuer.permanent && self.holds_provisional {
            // A base_url was configured since: what was provisional is issued for good.
            self.entries.retain(|_, e| !e.provisional);
            self.holds_provisional = false;
        }
        let mut unmatched = Vec::new();
        for post in publishable(posts.iter().map(|p| &**p), now) {
            match self.entries.get_mut(&post.source) {
                Some(entry) => {
                    if refresh(entry, post) && !entry.provisional {
                        self.pending.insert(post.source.clone());
                    }
                }
                None => unmatched.push(post),
            }
        }
        if unmatched.is_empty() || !self.health.issuing() {
            return; // nothing new, or the site holds new posts back; /status says why
        }
        // Entries whose file is gone, by date: the candidates for a renamed post.
        let dates: HashSet<String> = unmatched.iter().map(|p| p.date.to_rfc3339()).collect();
        let mut orphans: HashMap<String, Vec<String>> = HashMap::new();
        for entry in self
            .entries
            .values()
            .filter(|e| among(&dates, &e.date) && !presence.contains(&e.source))
        {
            orphans
                .entry(entry.date.clone())
                .or_default()
                .push(entry.source.clone());
        }
        // Every id ever issued stays taken: a new post never inherits a deleted one's.
        let mut taken = self.taken_like(&unmatched, issuer);
        for post in unmatched {
            self.adopt_or_issue(post, &mut orphans, &mut taken, issuer);
        }
    }

    /// The issued ids that the ids of `unmatched` could collide with: all of them for many
    /// new posts; for a few, only those that begin like the ids they would be issued (an id
    /// is its default or that with a `-N` suffix), found without hashing every id.
    fn taken_like(&self, unmatched: &[&Post], issuer: Issuer) -> HashSet<Arc<str>> {
        let ids = self.entries.values().map(|e| &e.id);
        if unmatched.len() > FEW_NEW_POSTS {
            return ids.cloned().collect();
        }
        let defaults: Vec<String> = unmatched
            .iter()
            .map(|post| default_id(issuer.authority, post))
            .collect();
        ids.filter(|id| defaults.iter().any(|d| id.starts_with(d.as_str())))
            .cloned()
            .collect()
    }

    /// The publishable posts that have no entry yet.
    fn unmatched<'a>(
        &'a self,
        posts: impl Iterator<Item = &'a Post> + 'a,
        now: DateTime<Utc>,
    ) -> impl Iterator<Item = &'a Post> + 'a {
        publishable(posts, now).filter(|p| !self.entries.contains_key(&p.source))
    }

    fn adopt_or_issue(
        &mut self,
        post: &Post,
        orphans: &mut HashMap<String, Vec<String>>,
        taken: &mut HashSet<Arc<str>>,
        issuer: Issuer,
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
        let moved = orphan.and_then(|source| {
            self.pending.remove(&source);
            self.entries.remove(&source)
        });
        let mut entry = match moved {
            Some(moved) => moved,
            None => Issued {
                id: unused_id(default_id(issuer.authority, post), taken),
                source: String::new(),
                date: date.clone(),
                slug: String::new(),
                title: String::new(),
                provisional: !issuer.permanent,
            },
        };
        entry.source = post.source.clone();
        refresh(&mut entry, post);
        let id = entry.id.clone();
        if !entry.provisional {
            self.pending.insert(post.source.clone());
        }
        self.holds_provisional |= entry.provisional;
        self.entries.insert(post.source.clone(), entry);
        id
    }
}

/// Posts that get an id: published ones (not drafts, not scheduled) without a front matter id.
fn publishable<'a>(
    posts: impl Iterator<Item = &'a Post> + 'a,
    now: DateTime<Utc>,
) -> impl Iterator<Item = &'a Post> + 'a {
    posts.filter(move |p| p.id.is_none() && !p.draft && p.date.with_timezone(&Utc) <= now)
}

/// `id`, or `id-2`, `id-3`… when it is taken (two posts with the same slug on one day),
/// marked as taken from now on.
/// Whether `date` is one of `dates`. A rebuild brings one or a few new posts, and every
/// issued id's date is tested: comparing with a few dates beats hashing each of them (the
/// hashing was two thirds of a new post's rebuild at 100,000 posts).
fn among(dates: &HashSet<String>, date: &str) -> bool {
    if dates.len() <= FEW_NEW_POSTS {
        dates.iter().any(|d| d == date)
    } else {
        dates.contains(date)
    }
}

/// Up to this many new posts in one build, the ids they may collide with are looked for one
/// by one; more take a set of every id.
const FEW_NEW_POSTS: usize = 16;

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
/// The date is what a rename is matched by: a post re-dated, then renamed, keeps its id.
fn refresh(entry: &mut Issued, post: &Post) -> bool {
    let date = post.date.to_rfc3339();
    if entry.slug == post.slug && entry.title == post.title && entry.date == date {
        return false; // the common case, on every rebuild: nothing to keep
    }
    entry.slug.clone_from(&post.slug);
    entry.title.clone_from(&post.title);
    entry.date = date;
    true
}
