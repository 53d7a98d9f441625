//! Posts → [`Site`]: what is published and in which order, what is held back (drafts,
//! scheduled posts), the tags, and RFC 5005 archive pages. Pure: "now" is an argument.

mod duplicates;
mod paging;
mod patch;
mod redirects;

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use chrono::{DateTime, FixedOffset, Utc};

use crate::config::Config;
use crate::ids::{default_id, IdSource};
use crate::load::LinkedFiles;
use crate::post::Post;
use crate::theme::Theme;

pub use paging::Paging;
pub use patch::Change;
use patch::Place;

/// A published post with its permanent id. Cheap to make: a rebuild makes one per post, so
/// everything in it is shared (the post, the ledger's id) and its URLs are the post's own
/// unless another post holds its slug.
#[derive(Debug, Clone)]
pub struct Entry {
    /// The post.
    pub post: Arc<Post>,
    /// Permanent id (front matter `id`, the ledger's, or generated).
    pub id: Arc<str>,
    /// Set when the post's slug is taken by another post: where this one is served instead.
    moved: Option<Box<Moved>>,
}

#[derive(Debug, Clone)]
struct Moved {
    page_path: String,
    link: String,
}

impl Entry {
    /// Where the item's link points (the post page, or under `link_base`).
    pub fn link(&self) -> &str {
        self.moved.as_ref().map_or(&self.post.link, |m| &m.link)
    }

    /// Site path of the post's HTML page, e.g. `posts/hello/`.
    pub fn page_path(&self) -> &str {
        self.moved
            .as_ref()
            .map_or(&self.post.page_path, |m| &m.page_path)
    }
}

/// Why a post is not published.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Held {
    /// `draft: true`.
    Draft,
    /// Dated after "now"; appears at that time.
    Scheduled {
        /// Its date: when it appears.
        at: DateTime<FixedOffset>,
        /// Its expiry, if it has one: from then on it is expired, not scheduled.
        expires: Option<DateTime<FixedOffset>>,
    },
    /// Past its expiry (Hugo `expiryDate`): withdrawn at that time.
    Expired(DateTime<FixedOffset>),
    /// Another post has the same id and won.
    DuplicateId {
        /// The post that kept the id.
        winner: String,
    },
    /// No id is recorded for it and none may be issued now: the id ledger cannot be read
    /// whole.
    NoId,
}

/// One tag: its display name and its entries, newest first.
#[derive(Debug, Clone)]
pub struct TagSet {
    /// Name as authors wrote it (the spelling on the newest post carrying the tag).
    pub name: String,
    /// Indices into [`Site::entries`].
    pub entries: Vec<usize>,
}

/// A report about a post, for logs, `/status` and `dropfeed check`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notice {
    /// The post's source path.
    pub source: String,
    /// Plain-words message.
    pub message: String,
}

/// Everything the render stage needs.
#[derive(Debug, Clone)]
pub struct Site {
    /// The configuration the site was built with.
    pub config: Arc<Config>,
    /// Published entries, newest first (ties broken by id).
    pub entries: Vec<Entry>,
    /// Unpublished posts and why, by source path.
    pub held: BTreeMap<String, Held>,
    /// Tags by slug.
    pub tags: BTreeMap<String, TagSet>,
    /// The next scheduled publication or expiry, for the wake-up timer.
    pub next_scheduled: Option<DateTime<Utc>>,
    /// Duplicate ids and slugs, and refused aliases, found while building.
    pub notices: Vec<Notice>,
    /// Old addresses: route (no leading `/`) → absolute URL answered with `301` (see
    /// `redirects`).
    pub redirects: Arc<BTreeMap<String, String>>,
    /// Digest of the configuration: every rendered byte depends on it.
    pub config_fingerprint: [u8; 16],
    /// The pages' templates and the theme folder's files (the embedded theme unless the
    /// build sets the author's).
    pub theme: Arc<Theme>,
    /// The time the site was built for: what is published, and the latest `Last-Modified`
    /// a resource may claim (a post `updated` in the future must not hold pollers off).
    pub now: DateTime<Utc>,
    /// Post page route → entry index, built on first use (only cold requests need it), and
    /// shared by the sites [`Site::patched`] makes from this one (their pages are the same).
    page_index: Arc<std::sync::OnceLock<HashMap<String, usize>>>,
    /// The files beside posts as the library found them (length, duration, picture size):
    /// what feeds say about enclosures and show artwork. Empty unless the pipeline sets it.
    pub files: Arc<LinkedFiles>,
    /// Each show's `podcast:guid` by [`crate::config::Show::key`], as the ledger records it.
    pub show_guids: Arc<BTreeMap<String, String>>,
    /// How many links published entries make to each file beside posts (by its path in the
    /// posts folder): the files that may be served, kept as entries come and go.
    pub published_files: Arc<BTreeMap<String, u32>>,
}

fn fingerprint_of(config: &Config) -> [u8; 16] {
    let mut out = [0; 16];
    out.copy_from_slice(&blake3::hash(format!("{config:?}").as_bytes()).as_bytes()[..16]);
    out
}

impl Site {
    /// Builds the site. `ids` maps source paths to ids issued earlier (the ledger); posts
    /// missing from it get [`default_id`].
    pub fn build(
        config: Arc<Config>,
        posts: &[Arc<Post>],
        ids: &impl IdSource,
        now: DateTime<Utc>,
    ) -> Site {
        let mut site = Site {
            config,
            entries: Vec::new(),
            held: BTreeMap::new(),
            tags: BTreeMap::new(),
            next_scheduled: None,
            notices: Vec::new(),
            redirects: Arc::default(),
            config_fingerprint: [0; 16],
            theme: Theme::embedded(),
            now,
            page_index: Arc::default(),
            files: Arc::default(),
            show_guids: Arc::default(),
            published_files: Arc::default(),
        };
        site.config_fingerprint = fingerprint_of(&site.config);
        let mut candidates: Vec<Entry> = Vec::new();
        for post in posts {
            match site.place_of(post, ids) {
                Some(Place::Entry(entry)) => candidates.push(entry),
                Some(Place::Held(held)) => {
                    site.held.insert(post.source.clone(), held);
                }
                None => {
                    site.held.insert(post.source.clone(), Held::NoId);
                }
            }
        }
        // Deterministic whatever the order posts were read in: source path decides who wins.
        if !candidates.is_sorted_by(|a, b| a.post.source <= b.post.source) {
            candidates.sort_by(|a, b| a.post.source.cmp(&b.post.source));
        }
        site.entries = site.dedupe(candidates);
        site.entries
            .sort_by(|a, b| b.post.date.cmp(&a.post.date).then_with(|| a.id.cmp(&b.id)));
        site.collect_tags();
        site.collect_redirects();
        let mut files: BTreeMap<String, u32> = BTreeMap::new();
        for path in site.entries.iter().flat_map(|e| e.post.linked_files()) {
            *files.entry(path.clone()).or_default() += 1;
        }
        site.published_files = Arc::new(files);
        // Wake up to publish a scheduled post, or to withdraw a published one that expires.
        site.next_scheduled = site.scheduled_wake_up();
        site
    }

    /// The post's entry, or `None` when it has no id and none may be issued now.
    fn entry_for(&self, post: &Arc<Post>, ids: &impl IdSource) -> Option<Entry> {
        let id = match &post.id {
            Some(id) => Arc::from(id.as_str()),
            None => match ids.id_for(&post.source) {
                Some(id) => id,
                None if ids.issuing() => default_id(&self.config.id_authority, post).into(),
                None => return None,
            },
        };
        Some(Entry {
            post: Arc::clone(post),
            id,
            moved: None,
        })
    }

    /// Counts the files a published post links to in, or (`add` false) out of,
    /// [`Site::published_files`].
    fn count_files(&mut self, post: &Post, add: bool) {
        let counts = Arc::make_mut(&mut self.published_files);
        for path in post.linked_files() {
            if add {
                *counts.entry(path.clone()).or_default() += 1;
            } else if let Some(count) = counts.get_mut(path) {
                *count -= 1;
                if *count == 0 {
                    counts.remove(path);
                }
            }
        }
    }

    fn collect_tags(&mut self) {
        // Gathered through a hash index, then sorted once: a B-tree lookup per tag use (two
        // per post) showed in the time of a 10,000-post rebuild.
        let mut index: HashMap<&str, usize> = HashMap::new();
        let mut sets: Vec<(&str, TagSet)> = Vec::new();
        for (at, entry) in self.entries.iter().enumerate() {
            for (name, slug) in entry.post.tags.iter().zip(&entry.post.tag_slugs) {
                let i = *index.entry(slug.as_str()).or_insert_with(|| {
                    sets.push((
                        slug.as_str(),
                        TagSet {
                            name: name.clone(),
                            entries: Vec::new(),
                        },
                    ));
                    sets.len() - 1
                });
                let set = &mut sets[i].1;
                if set.entries.last() != Some(&at) {
                    set.entries.push(at);
                }
            }
        }
        let tags = sets
            .into_iter()
            .map(|(slug, set)| (slug.to_string(), set))
            .collect();
        self.tags = tags;
    }

    /// The entry whose page is at `page_path` (`posts/{slug}/`).
    pub fn entry_by_page(&self, page_path: &str) -> Option<usize> {
        self.page_index
            .get_or_init(|| {
                self.entries
                    .iter()
                    .enumerate()
                    .map(|(i, e)| (e.page_path().to_string(), i))
                    .collect()
            })
            .get(page_path)
            .copied()
    }

    /// The newest `updated` among some entries.
    pub fn last_modified<'a>(
        entries: impl IntoIterator<Item = &'a Entry>,
    ) -> Option<DateTime<Utc>> {
        entries
            .into_iter()
            .map(|e| e.post.updated.with_timezone(&Utc))
            .max()
    }
}

#[cfg(test)]
mod patch_tests;
