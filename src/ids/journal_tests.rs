//! Two writers sharing one ledger file (replicas of one posts folder): whatever the
//! interleaving of their appends, compactions and reads, every id recorded is read back, for
//! the file its post lives in now, by both writers and by a fresh reader.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use chrono::{DateTime, TimeZone, Utc};
use proptest::prelude::*;

use super::*;
use crate::post::{parse, Post};

fn post(source: &str, title: &str) -> Arc<Post> {
    let ctx = crate::post::test_context();
    let text = format!("---\ntitle: {title}\ndate: 2025-05-01\n---\nBody\n");
    Arc::new(parse(source, Path::new(source), &text, &ctx).unwrap())
}

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap()
}

/// One step of one writer.
#[derive(Debug, Clone)]
enum Step {
    /// A new post appears (each post is new once; later `New`s of it are edits).
    New(usize),
    /// The post's file is renamed.
    Rename(usize),
    /// The post's title is edited.
    Edit(usize),
    /// The writer compacts the file.
    Compact,
    /// The writer reads what the other appended.
    Reload,
}

fn step() -> impl Strategy<Value = (bool, Step)> {
    let post = 0..6usize;
    let step = prop_oneof![
        3 => post.clone().prop_map(Step::New),
        2 => post.clone().prop_map(Step::Rename),
        1 => post.prop_map(Step::Edit),
        1 => Just(Step::Compact),
        1 => Just(Step::Reload),
    ];
    (any::<bool>(), step)
}

/// The posts folder as the steps made it: each post's file name and title.
#[derive(Default)]
struct Folder {
    posts: BTreeMap<usize, (String, String)>,
    versions: usize,
}

impl Folder {
    fn present(&self) -> Presence<'static> {
        Presence::of(self.posts.values().map(|(source, _)| source.as_str()))
    }

    /// Applies a change to the folder; returns the post that changed.
    fn change(&mut self, step: &Step) -> Option<usize> {
        self.versions += 1;
        let v = self.versions;
        match *step {
            Step::New(i) => {
                let name = (format!("p{i}-v{v}.md"), format!("Post {i}"));
                self.posts.entry(i).or_insert(name);
            }
            Step::Rename(i) => self.posts.get_mut(&i)?.0 = format!("p{i}-v{v}.md"),
            Step::Edit(i) => self.posts.get_mut(&i)?.1 = format!("Post {i}, edit {v}"),
            Step::Compact | Step::Reload => return None,
        }
        match *step {
            Step::New(i) | Step::Rename(i) | Step::Edit(i) => Some(i),
            _ => None,
        }
    }
}

/// What `Ledger::prepare` does for a changed post: under the lock, read, assign, append.
fn issue(ledger: &mut Ledger, folder: &Folder, i: usize) {
    let (source, title) = &folder.posts[&i];
    let lock = ledger.lock_to_write();
    ledger.reload_locked_now();
    ledger.assign(&[post(source, title)], &folder.present(), "ex.org", now());
    ledger.write_locked(lock).unwrap();
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(120))]

    #[test]
    fn any_interleaving_of_two_writers_reads_back_every_record(
        steps in proptest::collection::vec(step(), 1..40),
    ) {
        let dir = tempfile::tempdir().unwrap();
        let mut writers = [Ledger::open(dir.path()), Ledger::open(dir.path())];
        let mut folder = Folder::default();
        // The id each post got when it was first issued one: it must never change.
        let mut issued: BTreeMap<usize, String> = BTreeMap::new();
        for (second, step) in &steps {
            let writer = &mut writers[usize::from(*second)];
            match step {
                Step::Compact => writer.compact_now().unwrap(),
                Step::Reload => writer.reload(),
                _ => {
                    let Some(i) = folder.change(step) else { continue };
                    issue(writer, &folder, i);
                    let id = writer.id_of(&folder.posts[&i].0).unwrap().to_string();
                    prop_assert_eq!(issued.entry(i).or_insert_with(|| id.clone()), &id);
                }
            }
        }
        let fresh = Ledger::open(dir.path());
        prop_assert!(fresh.health().get().issuing());
        writers.iter_mut().for_each(Ledger::reload);
        for (i, id) in &issued {
            let source = &folder.posts[i].0;
            for ledger in [&fresh, &writers[0], &writers[1]] {
                prop_assert_eq!(ledger.id_of(source), Some(id.as_str()), "post {}", i);
                prop_assert_eq!(ledger.source_of(id), Some(source.as_str()));
            }
        }
        prop_assert_eq!(fresh.entries().len(), issued.len());
    }
}

#[test]
fn appends_are_compacted_once_they_outnumber_the_live_entries() {
    let dir = tempfile::tempdir().unwrap();
    let mut ledger = Ledger::open(dir.path());
    let mut folder = Folder::default();
    folder.change(&Step::New(0));
    for _ in 0..200 {
        folder.change(&Step::Edit(0));
        issue(&mut ledger, &folder, 0);
    }
    let text = std::fs::read_to_string(dir.path().join(STATE_DIR).join(FILE_NAME)).unwrap();
    let lines = text.lines().filter(|l| !l.starts_with('#')).count();
    assert!(lines <= 65, "{lines} lines for one entry");
    let reopened = Ledger::open(dir.path());
    assert_eq!(
        reopened.entries()[&folder.posts[&0].0].title,
        folder.posts[&0].1
    );
}
