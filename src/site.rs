//! Posts → [`Site`]: what is published and in which order, what is held back (drafts,
//! scheduled posts), the tags, and RFC 5005 archive pages. Pure: "now" is an argument.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;

use chrono::{DateTime, FixedOffset, Utc};

use crate::config::Config;
use crate::post::Post;

/// Where recorded ids come from: the ledger, or a map in tests and benchmarks.
pub trait IdSource {
    /// The id recorded for a source path.
    fn id_for(&self, source: &str) -> Option<&str>;
}

impl IdSource for HashMap<String, String> {
    fn id_for(&self, source: &str) -> Option<&str> {
        self.get(source).map(String::as_str)
    }
}

/// A published post with its permanent id and URLs.
#[derive(Debug, Clone)]
pub struct Entry {
    /// The post.
    pub post: Arc<Post>,
    /// Permanent id (front matter `id`, the ledger's, or generated).
    pub id: String,
    /// Where the item's link points (the post page, or under `link_base`).
    pub link: String,
    /// Site path of the post's HTML page, e.g. `posts/hello/`.
    pub page_path: String,
}

/// Why a post is not published.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Held {
    /// `draft: true`.
    Draft,
    /// Dated after "now"; appears at that time.
    Scheduled(DateTime<FixedOffset>),
    /// Another post has the same id and won.
    DuplicateId {
        /// The post that kept the id.
        winner: String,
    },
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
    /// The next scheduled publication, for the wake-up timer.
    pub next_scheduled: Option<DateTime<Utc>>,
    /// Duplicate ids and slugs found while building.
    pub notices: Vec<Notice>,
    /// Digest of the configuration: every rendered byte depends on it.
    pub config_fingerprint: [u8; 16],
    /// Post page route → entry index, built on first use (only cold requests need it).
    page_index: std::sync::OnceLock<HashMap<String, usize>>,
}

fn fingerprint_of(config: &Config) -> [u8; 16] {
    let mut out = [0; 16];
    out.copy_from_slice(&blake3::hash(format!("{config:?}").as_bytes()).as_bytes()[..16]);
    out
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
            config_fingerprint: [0; 16],
            page_index: std::sync::OnceLock::new(),
        };
        site.config_fingerprint = fingerprint_of(&site.config);
        let mut candidates: Vec<Entry> = Vec::new();
        for post in posts {
            if post.draft {
                site.held.insert(post.source.clone(), Held::Draft);
            } else if post.date.with_timezone(&Utc) > now {
                site.held
                    .insert(post.source.clone(), Held::Scheduled(post.date));
                let at = post.date.with_timezone(&Utc);
                site.next_scheduled = Some(site.next_scheduled.map_or(at, |n| n.min(at)));
            } else {
                candidates.push(site.entry_for(post, ids));
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
        site
    }

    fn entry_for(&self, post: &Arc<Post>, ids: &impl IdSource) -> Entry {
        let id = post
            .id
            .clone()
            .or_else(|| ids.id_for(&post.source).map(str::to_string))
            .unwrap_or_else(|| default_id(&self.config.id_authority, post));
        let (page_path, link) = self.urls_for(&post.slug);
        Entry {
            post: Arc::clone(post),
            id,
            link,
            page_path,
        }
    }

    fn urls_for(&self, slug: &str) -> (String, String) {
        let page_path = format!("posts/{slug}/");
        let link = match &self.config.link_base {
            Some(base) => format!("{base}{slug}/"),
            None => self.config.url(&page_path),
        };
        (page_path, link)
    }

    /// Drops entries whose id is taken and renames entries whose slug is taken; the earlier
    /// source path wins both.
    fn dedupe(&mut self, candidates: Vec<Entry>) -> Vec<Entry> {
        let verdicts = decide_duplicates(&candidates);
        let mut kept = Vec::with_capacity(candidates.len());
        for (mut entry, verdict) in candidates.into_iter().zip(verdicts) {
            let source = entry.post.source.clone();
            match verdict {
                Verdict::Keep => kept.push(entry),
                Verdict::Drop { winner } => {
                    self.notices.push(Notice {
                        source: source.clone(),
                        message: format!(
                            "duplicate id `{}` (also used by {winner}); not published",
                            entry.id
                        ),
                    });
                    self.held.insert(source, Held::DuplicateId { winner });
                }
                Verdict::Rename(slug) => {
                    self.notices.push(Notice {
                        source,
                        message: format!(
                            "slug `{}` is taken by another post; this one is served as `{slug}`",
                            entry.post.slug
                        ),
                    });
                    (entry.page_path, entry.link) = self.urls_for(&slug);
                    kept.push(entry);
                }
            }
        }
        kept
    }

    fn collect_tags(&mut self) {
        for (index, entry) in self.entries.iter().enumerate() {
            for (name, slug) in entry.post.tags.iter().zip(&entry.post.tag_slugs) {
                if !self.tags.contains_key(slug.as_str()) {
                    self.tags.insert(
                        slug.clone(),
                        TagSet {
                            name: name.clone(),
                            entries: Vec::new(),
                        },
                    );
                }
                let set = self.tags.get_mut(slug.as_str()).expect("inserted above");
                if set.entries.last() != Some(&index) {
                    set.entries.push(index);
                }
            }
        }
    }

    /// The entry whose page is at `page_path` (`posts/{slug}/`).
    pub fn entry_by_page(&self, page_path: &str) -> Option<usize> {
        self.page_index
            .get_or_init(|| {
                self.entries
                    .iter()
                    .enumerate()
                    .map(|(i, e)| (e.page_path.clone(), i))
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

/// What becomes of a candidate entry.
enum Verdict {
    Keep,
    /// Its id is taken by an earlier source path.
    Drop {
        winner: String,
    },
    /// Its slug is taken: published under another.
    Rename(String),
}

/// Decides duplicates, borrowing: no string is copied unless a duplicate is found. The
/// earlier source path wins both ids and slugs.
fn decide_duplicates(candidates: &[Entry]) -> Vec<Verdict> {
    let mut ids: HashMap<&str, &str> = HashMap::with_capacity(candidates.len());
    let mut slugs: HashSet<&str> = HashSet::with_capacity(candidates.len());
    let mut renamed: HashSet<String> = HashSet::new();
    let mut verdicts = Vec::with_capacity(candidates.len());
    for entry in candidates {
        if let Some(winner) = ids.get(entry.id.as_str()) {
            verdicts.push(Verdict::Drop {
                winner: winner.to_string(),
            });
            continue;
        }
        ids.insert(&entry.id, &entry.post.source);
        let slug = entry.post.slug.as_str();
        if !renamed.contains(slug) && slugs.insert(slug) {
            verdicts.push(Verdict::Keep);
            continue;
        }
        let free = (2..)
            .map(|n| format!("{slug}-{n}"))
            .find(|s| !slugs.contains(s.as_str()) && !renamed.contains(s))
            .expect("some suffix is free");
        renamed.insert(free.clone());
        verdicts.push(Verdict::Rename(free));
    }
    verdicts
}

/// How a list of entries (newest first) is split into the subscription feed and RFC 5005
/// archive pages. Pages are numbered from the oldest (page 1) so a full page never changes
/// when posts are added; the subscription feed holds the newest `feed_limit` entries and the
/// pages hold everything older, each entry exactly once.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Paging {
    /// Entries in the list.
    pub total: usize,
    /// Entries in the subscription feed.
    pub feed_limit: usize,
    /// Entries in a full archive page.
    pub page_size: usize,
}

impl Paging {
    /// Number of archive pages (the newest may be partial).
    pub fn pages(&self) -> usize {
        self.archived().div_ceil(self.page_size)
    }

    /// Entries older than the subscription feed.
    pub fn archived(&self) -> usize {
        self.total.saturating_sub(self.feed_limit)
    }

    /// Index range (into the newest-first list) of the subscription feed.
    pub fn current(&self) -> std::ops::Range<usize> {
        0..self.total.min(self.feed_limit)
    }

    /// Index range (into the newest-first list) of archive page `n` (1 = oldest), newest first.
    pub fn page(&self, n: usize) -> std::ops::Range<usize> {
        let oldest_first_start = (n - 1) * self.page_size;
        let oldest_first_end = (n * self.page_size).min(self.archived());
        (self.total - oldest_first_end)..(self.total - oldest_first_start)
    }

    /// Whether page `n` is full and so will never change as posts are added.
    pub fn is_full(&self, n: usize) -> bool {
        n * self.page_size <= self.archived()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paging_covers_every_entry_once() {
        for total in 0..70 {
            let paging = Paging {
                total,
                feed_limit: 20,
                page_size: 20,
            };
            let mut seen = vec![0; total];
            for i in paging.current() {
                seen[i] += 1;
            }
            for n in 1..=paging.pages() {
                for i in paging.page(n) {
                    seen[i] += 1;
                }
            }
            assert!(seen.iter().all(|&c| c == 1), "total {total}: {seen:?}");
        }
    }

    #[test]
    fn full_pages_are_stable_when_posts_are_added() {
        let before = Paging {
            total: 61,
            feed_limit: 20,
            page_size: 20,
        };
        let after = Paging {
            total: 62,
            ..before
        };
        assert!(before.is_full(1) && before.is_full(2) && !before.is_full(3));
        // Same oldest-first positions: indices shift by one because one entry is newer.
        for n in 1..=2 {
            let a = before.page(n);
            let b = after.page(n);
            assert_eq!((a.start + 1, a.end + 1), (b.start, b.end));
        }
    }
}
