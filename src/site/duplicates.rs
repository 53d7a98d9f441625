//! Duplicate ids and slugs: the earlier source path wins both; a post whose id is taken is
//! held back, a post whose slug is taken is served under `slug-2` (and so on), each with a
//! notice for the author.

use std::collections::{HashMap, HashSet};

use super::{Entry, Held, Moved, Notice, Site};

impl Site {
    fn moved_to(&self, slug: &str) -> Moved {
        let page_path = format!("posts/{slug}/");
        let link = match &self.config.link_base {
            Some(base) => format!("{base}{slug}/"),
            None => self.config.url(&page_path),
        };
        Moved { page_path, link }
    }

    /// Drops entries whose id is taken and renames entries whose slug is taken; the earlier
    /// source path wins both.
    pub(super) fn dedupe(&mut self, candidates: Vec<Entry>) -> Vec<Entry> {
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
                    entry.moved = Some(Box::new(self.moved_to(&slug)));
                    kept.push(entry);
                }
            }
        }
        kept
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
        if let Some(winner) = ids.get(&*entry.id) {
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
