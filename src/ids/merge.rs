//! How records read from the ledger file are folded into the entries a process holds.
//!
//! The file is a journal: a record says "this id is this source's" and is appended when an
//! id is issued, moved to a renamed file, or its slug or title refreshed. Folded in file
//! order:
//!
//! - a record for a source that already holds the same id refreshes it;
//! - a record whose id is held by another source moves it there (a rename);
//! - the first id recorded for a source keeps it: a later record giving the source another
//!   id is passed over (two processes can only disagree so if one wrote without the lock);
//! - what the file says wins over what this process holds without having written it yet
//!   (provisional ids, and entries whose record is pending), since the file is what every
//!   replica reads.
//!
//! A recorded entry is never dropped by a fold: an id once issued stays taken, even when
//! its file is deleted.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;

use super::Issued;

/// The entries being folded into, with an index from id to source built on first need.
pub(super) struct Fold<'a> {
    entries: &'a mut BTreeMap<String, Issued>,
    pending: &'a mut BTreeSet<String>,
    by_id: Option<HashMap<Arc<str>, String>>,
}

impl<'a> Fold<'a> {
    /// Folds into `entries`; sources in `pending` hold what this process has not written yet.
    pub(super) fn new(
        entries: &'a mut BTreeMap<String, Issued>,
        pending: &'a mut BTreeSet<String>,
    ) -> Self {
        Fold {
            entries,
            pending,
            by_id: None,
        }
    }

    /// Folds one record read from the file.
    pub(super) fn record(&mut self, record: Issued) {
        if let Some(held) = self.entries.get(&record.source) {
            let ours = held.provisional || self.pending.contains(&record.source);
            if held.id == record.id {
                if !ours || held.provisional {
                    self.place(record);
                }
                return; // our own refresh, not written yet, is the newer
            }
            if !ours {
                tracing::warn!(
                    "id ledger: {} is recorded twice, as {} and later as {}; the first is kept",
                    record.source,
                    held.id,
                    record.id
                );
                return;
            }
            self.remove(&record.source.clone());
        }
        if let Some(from) = self.source_of(&record.id) {
            self.remove(&from); // a rename: the id moves
        }
        self.place(record);
    }

    /// Re-applies an entry this process holds on top of a file just read whole: its
    /// pending changes (issued, moved or refreshed, not written yet), its provisional ids
    /// where the file has nothing, and recorded entries the file no longer has.
    pub(super) fn ours(&mut self, entry: Issued, pending: bool) {
        if let Some(held) = self.entries.get(&entry.source) {
            if pending && held.id == entry.id {
                let source = entry.source.clone();
                self.place(entry);
                self.pending.insert(source);
            }
            return; // the file's record for this source wins
        }
        match (self.source_of(&entry.id), pending) {
            (Some(from), true) => self.remove(&from), // our rename, not written yet
            (Some(_), false) => return,               // the file has it elsewhere
            (None, _) => {}
        }
        if pending {
            self.pending.insert(entry.source.clone());
        }
        self.place(entry);
    }

    fn source_of(&mut self, id: &str) -> Option<String> {
        let entries = &*self.entries;
        let by_id = self.by_id.get_or_insert_with(|| {
            entries
                .values()
                .map(|e| (Arc::clone(&e.id), e.source.clone()))
                .collect()
        });
        by_id.get(id).cloned()
    }

    fn remove(&mut self, source: &str) {
        if let Some(gone) = self.entries.remove(source) {
            self.pending.remove(source);
            if let Some(by_id) = &mut self.by_id {
                by_id.remove(&gone.id);
            }
        }
    }

    fn place(&mut self, entry: Issued) {
        if let Some(by_id) = &mut self.by_id {
            by_id.insert(Arc::clone(&entry.id), entry.source.clone());
        }
        self.entries.insert(entry.source.clone(), entry);
    }
}
