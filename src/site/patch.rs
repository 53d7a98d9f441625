//! A site changed in place: the posts that changed since the previous site are taken out of
//! it and put back where they now belong, so one new, deleted, re-dated or re-tagged post
//! costs a copy of the entry list and a pass over the tag index, not a whole build (sorting,
//! duplicate detection and the tag index over every post: hundreds of milliseconds at
//! 100,000 posts).
//!
//! It applies only where a whole build could not decide differently: the site has no
//! duplicate ids or slugs and no refused alias (no notices), no post is waiting for an id,
//! no scheduled post has come due, and the changed posts bring no alias and take no id, slug
//! or redirected address another post has. Otherwise [`Site::patched`] says `None` and the
//! caller builds the site whole. A property test checks the patched site against a whole
//! build after every change.

use std::sync::Arc;

use chrono::{DateTime, Utc};

use super::{Entry, Held, Site, TagSet};
use crate::config::Config;
use crate::ids::IdSource;
use crate::post::Post;

/// More changed posts than this in one rebuild are built whole: each change walks the tag
/// index, and one sort beats many shifts.
const MOST_CHANGES: usize = 64;

/// A source changed since the previous site, and its new version (`None`: gone, or no post).
pub type Change = (String, Option<Arc<Post>>);

/// What taking a changed post out of a site left to do.
enum Taken {
    /// Nothing: it kept its entry (or was never a post).
    Done,
    /// It left its place; its new one, if any, is still to take.
    Moved(Option<Place>),
}

/// Where a post goes in a site: published as an entry, or held back.
pub(super) enum Place {
    Entry(Entry),
    Held(Held),
}

impl Site {
    /// The site after the posts at `changed` sources became the given versions (`None`: the
    /// source is gone, or is no post), made from `previous`; or `None` when a whole
    /// [`Site::build`] is needed (see the module's rules).
    pub fn patched(
        previous: &Site,
        config: &Arc<Config>,
        changed: &[Change],
        ids: &impl IdSource,
        now: DateTime<Utc>,
    ) -> Option<Site> {
        if !Arc::ptr_eq(&previous.config, config)
            || changed.len() > MOST_CHANGES
            || !previous.notices.is_empty()
            || previous.next_scheduled.is_some_and(|at| at <= now)
            || previous.held.values().any(|h| *h == Held::NoId)
        {
            return None;
        }
        let mut site = previous.clone();
        site.now = now;
        // Every changed post leaves its place first, then takes its new one: a post renamed
        // or swapping slugs with another must not collide with its own old version.
        let mut arriving = Vec::new();
        let mut moved = false;
        for (source, post) in changed {
            let place = match post {
                Some(post) => Some(site.place_of(post, ids)?),
                None => None,
            };
            match site.take_out(source, place)? {
                Taken::Done => {}
                Taken::Moved(place) => {
                    moved = true;
                    arriving.extend(place.map(|p| (source, p)));
                }
            }
        }
        for (source, place) in arriving {
            match place {
                Place::Entry(entry) => site.insert_entry(entry)?,
                Place::Held(held) => {
                    site.held.insert(source.clone(), held);
                }
            }
        }
        if moved {
            // Pages moved: the route index is made again on the next cold request.
            site.page_index = Arc::default();
        }
        site.next_scheduled = site.scheduled_wake_up();
        Some(site)
    }

    /// Takes `source`'s previous version out of the site, unless its new version (`place`)
    /// can take its entry's place as it is; `None` when that needs a whole build.
    fn take_out(&mut self, source: &str, place: Option<Place>) -> Option<Taken> {
        let at = self.entries.iter().position(|e| e.post.source == source);
        if let (Some(at), Some(Place::Entry(entry))) = (at, &place) {
            let old = &self.entries[at];
            if Arc::ptr_eq(&old.post, &entry.post) {
                return Some(Taken::Done);
            }
            if old.id == entry.id && stays_in_place(&old.post, &entry.post) {
                let old = Arc::clone(&old.post);
                if old.linked_files().ne(entry.post.linked_files()) {
                    self.count_files(&old, false);
                    self.count_files(&entry.post, true);
                }
                self.entries[at].post = Arc::clone(&entry.post);
                return Some(Taken::Done);
            }
        }
        let held = self.held.remove(source).is_some();
        match at {
            Some(at) if !self.entries[at].post.aliases.is_empty() => None, // redirects change
            Some(at) => {
                self.remove_entry(at);
                Some(Taken::Moved(place))
            }
            None if held || place.is_some() => Some(Taken::Moved(place)),
            None => Some(Taken::Done), // not a post, then or now
        }
    }

    /// Whether the post is published, or why not, as [`Site::build`] decides; `None` when it
    /// would be held for want of an id (built whole: the ledger decides that site-wide).
    pub(super) fn place_of(&self, post: &Arc<Post>, ids: &impl IdSource) -> Option<Place> {
        let now = self.now;
        if let Some(at) = post.expires.filter(|_| !post.draft) {
            if at.with_timezone(&Utc) <= now {
                return Some(Place::Held(Held::Expired(at)));
            }
        }
        if post.draft {
            Some(Place::Held(Held::Draft))
        } else if post.date.with_timezone(&Utc) > now {
            Some(Place::Held(Held::Scheduled {
                at: post.date,
                expires: post.expires,
            }))
        } else {
            self.entry_for(post, ids).map(Place::Entry)
        }
    }

    /// Takes entry `at` out of the entry list and the tag index.
    fn remove_entry(&mut self, at: usize) {
        let entry = self.entries.remove(at);
        self.count_files(&entry.post, false);
        for slug in &entry.post.tag_slugs {
            let Some(set) = self.tags.get_mut(slug) else {
                continue;
            };
            set.entries.retain(|&i| i != at);
            if set.entries.is_empty() {
                self.tags.remove(slug);
            }
        }
        for set in self.tags.values_mut() {
            for i in set.entries.iter_mut().filter(|i| **i > at) {
                *i -= 1;
            }
        }
        // The tag's name is its spelling on the newest post carrying it.
        for slug in &entry.post.tag_slugs {
            self.rename_tag(slug);
        }
    }

    /// Puts a new entry in date order into the entry list and the tag index; `None` when it
    /// needs a whole build (it brings aliases, or its id, page or slug is another's).
    fn insert_entry(&mut self, entry: Entry) -> Option<()> {
        let post = &entry.post;
        if !post.aliases.is_empty()
            || self.redirects.contains_key(&post.page_path)
            || self
                .entries
                .iter()
                .any(|e| e.id == entry.id || e.post.slug == post.slug)
        {
            return None;
        }
        let at = self.entries.partition_point(|e| {
            e.post
                .date
                .cmp(&post.date)
                .then_with(|| entry.id.cmp(&e.id))
                .is_gt()
        });
        for set in self.tags.values_mut() {
            for i in set.entries.iter_mut().filter(|i| **i >= at) {
                *i += 1;
            }
        }
        for (name, slug) in post.tags.iter().zip(&post.tag_slugs) {
            let set = self.tags.entry(slug.clone()).or_insert_with(|| TagSet {
                name: name.clone(),
                entries: Vec::new(),
            });
            let place = set.entries.partition_point(|&i| i < at);
            if set.entries.get(place) != Some(&at) {
                set.entries.insert(place, at);
            }
        }
        let slugs = post.tag_slugs.clone();
        self.count_files(&entry.post, true);
        self.entries.insert(at, entry);
        for slug in &slugs {
            self.rename_tag(slug);
        }
        Some(())
    }

    /// Gives a tag the spelling of its newest post.
    fn rename_tag(&mut self, slug: &str) {
        let Some(set) = self.tags.get(slug) else {
            return;
        };
        let newest = &self.entries[set.entries[0]].post;
        let name = newest
            .tags
            .iter()
            .zip(&newest.tag_slugs)
            .find(|(_, s)| *s == slug)
            .map(|(name, _)| name.clone());
        if let (Some(name), Some(set)) = (name, self.tags.get_mut(slug)) {
            set.name = name;
        }
    }

    /// The next scheduled publication or expiry, as [`Site::build`] finds it.
    pub(super) fn scheduled_wake_up(&self) -> Option<DateTime<Utc>> {
        let scheduled = self.held.values().filter_map(|h| match h {
            Held::Scheduled { at, expires } => Some(at.min(&expires.unwrap_or(*at)).to_utc()),
            _ => None,
        });
        let expiring = self
            .entries
            .iter()
            .filter_map(|e| e.post.expires)
            .map(|at| at.with_timezone(&Utc));
        scheduled.chain(expiring).min()
    }
}

/// Whether a new version of a published post keeps its place: same date, slug, tags,
/// aliases and expiry (what orders the site and indexes it).
fn stays_in_place(old: &Post, new: &Post) -> bool {
    old.date == new.date
        && old.slug == new.slug
        && old.expires == new.expires
        && old.aliases == new.aliases
        && old.tags == new.tags
        && old.tag_slugs == new.tag_slugs
}
