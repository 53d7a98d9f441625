//! Posts → [`Site`]: what is published and in which order, what is held back (drafts,
//! scheduled posts), the tags, and RFC 5005 archive pages. Pure: "now" is an argument.

mod duplicates;
mod paging;
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
    Scheduled(DateTime<FixedOffset>),
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
        };
        site.config_fingerprint = fingerprint_of(&site.config);
        let mut candidates: Vec<Entry> = Vec::new();
        for post in posts {
            if let Some(at) = post.expires.filter(|_| !post.draft) {
                let at_utc = at.with_timezone(&Utc);
                if at_utc <= now {
                    site.held.insert(post.source.clone(), Held::Expired(at));
                    continue;
                }
                // Wake up then, to withdraw it.
                site.next_scheduled = Some(site.next_scheduled.map_or(at_utc, |n| n.min(at_utc)));
            }
            if post.draft {
                site.held.insert(post.source.clone(), Held::Draft);
            } else if post.date.with_timezone(&Utc) > now {
                site.held
                    .insert(post.source.clone(), Held::Scheduled(post.date));
                let at = post.date.with_timezone(&Utc);
                site.next_scheduled = Some(site.next_scheduled.map_or(at, |n| n.min(at)));
            } else if let Some(entry) = site.entry_for(post, ids) {
                candidates.push(entry);
            } else {
                site.held.insert(post.source.clone(), Held::NoId);
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
        site
    }

    /// The site after some posts were edited, made from `previous` by putting the new
    /// versions in place of the old, or `None` when the edit moves anything and a full
    /// [`Site::build`] is needed. It applies when each post in `edited` was published and
    /// still is, under the same id, slug, date and tags, and no scheduled post has come due:
    /// then order, tags, paging and duplicates are all as they were. This is the common edit
    /// (a title, a paragraph, a typo) and on a 10,000-post site it costs a copy of the entry
    /// list instead of a rebuild (tens of milliseconds).
    pub fn patched(
        previous: &Site,
        config: &Arc<Config>,
        edited: &[Arc<Post>],
        ids: &impl IdSource,
        now: DateTime<Utc>,
    ) -> Option<Site> {
        // A post held back for want of an id may get one at any rebuild (the ledger was fixed).
        if !Arc::ptr_eq(&previous.config, config)
            || previous.next_scheduled.is_some_and(|at| at <= now)
            || previous.held.values().any(|h| *h == Held::NoId)
        {
            return None;
        }
        let mut site = previous.clone();
        site.now = now;
        for post in edited {
            let at = previous.position_of(&post.source, post.date)?;
            let old = &previous.entries[at].post;
            if Arc::ptr_eq(old, post) {
                continue;
            }
            let same_place = !post.draft
                && post.date.with_timezone(&Utc) <= now
                && old.slug == post.slug
                && old.expires == post.expires
                && old.aliases == post.aliases
                && old.tags == post.tags
                && old.tag_slugs == post.tag_slugs;
            let entry = site.entry_for(post, ids)?;
            if !same_place || entry.id != previous.entries[at].id {
                return None;
            }
            site.entries[at].post = Arc::clone(post);
        }
        Some(site)
    }

    /// Index of the entry of `source`, which was published with `date`.
    fn position_of(&self, source: &str, date: DateTime<FixedOffset>) -> Option<usize> {
        // Entries are newest first: find the run with this date, then the source in it.
        let start = self.entries.partition_point(|e| e.post.date > date);
        self.entries[start..]
            .iter()
            .take_while(|e| e.post.date == date)
            .position(|e| e.post.source == source)
            .map(|i| start + i)
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
mod tests {
    use super::*;
    use crate::config::RawConfig;
    use chrono::TimeZone;

    fn post(source: &str, title: &str, date: &str, tags: &str) -> Arc<Post> {
        let text =
            format!("---\ntitle: {title}\ndate: {date}\ntags: [{tags}]\n---\n\nBody of {title}.\n");
        let ctx = crate::post::test_context();
        Arc::new(crate::post::parse(source, std::path::Path::new(source), &text, &ctx).unwrap())
    }

    fn summary(site: &Site) -> Vec<(String, String, String, Vec<String>)> {
        site.entries
            .iter()
            .map(|e| {
                (
                    e.post.source.clone(),
                    e.post.title.clone(),
                    e.id.to_string(),
                    e.post.tags.clone(),
                )
            })
            .chain(site.tags.iter().map(|(slug, set)| {
                let at: Vec<String> = set.entries.iter().map(|i| i.to_string()).collect();
                (slug.clone(), set.name.clone(), String::new(), at)
            }))
            .collect()
    }

    #[test]
    fn an_edit_that_moves_nothing_patches_the_site_as_a_full_build_would() {
        let config = Arc::new(Config::from_raw(RawConfig::default(), None).unwrap());
        let now = Utc.with_ymd_and_hms(2030, 1, 1, 0, 0, 0).unwrap();
        let ids: HashMap<String, String> = HashMap::new();
        let mut posts = vec![
            post("a.md", "Alpha", "2026-01-01", "ex, why"),
            post("b.md", "Beta", "2026-01-02", "why"),
            post("c.md", "Gamma", "2026-01-02", "zed"),
            post("d.md", "Delta", "2026-01-03", ""),
        ];
        let site = Site::build(Arc::clone(&config), &posts, &ids, now);
        let edit = |posts: &mut Vec<Arc<Post>>, at: usize, p: Arc<Post>| {
            posts[at] = Arc::clone(&p);
            p
        };
        // A new title and body: patched, and the same as building from scratch.
        let edited = edit(
            &mut posts,
            1,
            post("b.md", "Beta again", "2026-01-02", "why"),
        );
        let patched = Site::patched(&site, &config, &[edited], &ids, now).expect("patchable");
        let full = Site::build(Arc::clone(&config), &posts, &ids, now);
        assert_eq!(summary(&patched), summary(&full));
        assert!(summary(&patched).iter().any(|s| s.1 == "Beta again"));
        // Anything that moves the post, or another, needs the full build.
        for (at, moved) in [
            (1, post("b.md", "Beta", "2026-01-04", "why")),
            (1, post("b.md", "Beta", "2026-01-02", "why, dub")),
            (2, post("c.md", "Gamma", "2026-01-02", "")),
            (0, post("a.md", "Alpha", "2031-01-01", "ex, why")),
            (3, post("e.md", "Epsilon", "2026-01-03", "")),
        ] {
            let mut changed = posts.clone();
            let p = edit(&mut changed, at, moved);
            assert!(
                Site::patched(&patched, &config, &[p], &ids, now).is_none(),
                "{} {}",
                posts[at].source,
                posts[at].title
            );
        }
        // A scheduled post coming due needs the full build even with no edit.
        let mut scheduled = posts.clone();
        scheduled.push(post("s.md", "Soon", "2029-06-01", ""));
        let before = Utc.with_ymd_and_hms(2029, 1, 1, 0, 0, 0).unwrap();
        let site = Site::build(Arc::clone(&config), &scheduled, &ids, before);
        assert!(Site::patched(&site, &config, &[], &ids, before).is_some());
        assert!(Site::patched(&site, &config, &[], &ids, now).is_none());
    }
}
