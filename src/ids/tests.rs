//! The ledger's matching rules, its file and its health.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::ledger::temporary_path;
use super::*;
use crate::post::{parse, Post};
use chrono::{DateTime, TimeZone, Utc};

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
        &Presence::of(["hello.md"]),
        "old.example",
        now(),
    );
    let id = ledger.id_of("hello.md").unwrap().to_string();
    assert_eq!(id, "tag:old.example,2025-05-01:hello");
    ledger.save().unwrap();

    // Reopened from disk: renamed into a subfolder, title edited, new authority.
    let mut ledger = Ledger::open(dir.path());
    let moved = post("2025/greetings.md", &HELLO.replace("Body", "Edited body"));
    ledger.assign(
        &[moved],
        &Presence::of(["2025/greetings.md"]),
        "new.example",
        now(),
    );
    assert_eq!(ledger.id_of("2025/greetings.md"), Some(id.as_str()));
    let edited = post(
        "2025/greetings.md",
        &HELLO.replace("title: Hello", "title: Hello again"),
    );
    ledger.assign(
        &[edited],
        &Presence::of(["2025/greetings.md"]),
        "new.example",
        now(),
    );
    assert_eq!(ledger.id_of("2025/greetings.md"), Some(id.as_str()));
}

#[test]
fn a_post_re_dated_then_renamed_keeps_its_id() {
    let mut ledger = Ledger::in_memory();
    let first = post("hello.md", HELLO);
    ledger.assign(&[first], &Presence::of(["hello.md"]), "ex.org", now());
    let id = ledger.id_of("hello.md").unwrap().to_string();
    let redated = post("hello.md", &HELLO.replace("2025-05-01", "2025-06-01"));
    ledger.assign(&[redated], &Presence::of(["hello.md"]), "ex.org", now());
    let renamed = post("greetings.md", &HELLO.replace("2025-05-01", "2025-06-01"));
    ledger.assign(&[renamed], &Presence::of(["greetings.md"]), "ex.org", now());
    assert_eq!(ledger.id_of("greetings.md"), Some(id.as_str()));
}

#[test]
fn an_entry_whose_file_still_exists_is_not_taken_over() {
    let mut ledger = Ledger::in_memory();
    let a = post("a.md", HELLO);
    ledger.assign(
        std::slice::from_ref(&a),
        &Presence::of(["a.md"]),
        "ex.org",
        now(),
    );
    let copy = post("copy.md", HELLO);
    ledger.assign(
        &[a, copy],
        &Presence::of(["a.md", "copy.md"]),
        "ex.org",
        now(),
    );
    assert_eq!(ledger.id_of("a.md"), Some("tag:ex.org,2025-05-01:a"));
    assert_eq!(ledger.id_of("copy.md"), Some("tag:ex.org,2025-05-01:copy"));
}

#[test]
fn an_id_issued_before_is_never_issued_again_however_many_posts_are_new() {
    // `a/hello.md` holds the default id of a post dated 2025-05-01 with slug `hello`; posts
    // with that date and slug arriving in other folders, one at a time or many at once (the
    // two ways the ledger finds the ids they could collide with), get new ones.
    for new_at_once in [1, 3, 40] {
        let mut ledger = Ledger::in_memory();
        let first = post("a/hello.md", HELLO);
        ledger.assign(&[first], &Presence::of(["a/hello.md"]), "ex.org", now());
        let sources: Vec<String> = (0..new_at_once).map(|n| format!("b{n}/hello.md")).collect();
        let posts: Vec<Arc<Post>> = sources.iter().map(|s| post(s, HELLO)).collect();
        let mut present: Vec<&str> = sources.iter().map(String::as_str).collect();
        present.push("a/hello.md");
        ledger.assign(&posts, &Presence::of(present), "ex.org", now());
        let mut ids: Vec<&str> = sources.iter().filter_map(|s| ledger.id_of(s)).collect();
        ids.push(ledger.id_of("a/hello.md").unwrap());
        assert_eq!(ids.len(), new_at_once + 1, "every post has an id");
        let distinct: std::collections::HashSet<&str> = ids.iter().copied().collect();
        assert_eq!(distinct.len(), ids.len(), "{new_at_once} at once: {ids:?}");
        assert_eq!(
            ledger.id_of("a/hello.md"),
            Some("tag:ex.org,2025-05-01:hello")
        );
    }
}

#[test]
fn drafts_and_scheduled_posts_get_no_id_yet() {
    let mut ledger = Ledger::in_memory();
    let draft = post(
        "d.md",
        "---\ntitle: D\ndate: 2025-01-01\ndraft: true\n---\n",
    );
    let later = post("l.md", "---\ntitle: L\ndate: 2027-01-01\n---\n");
    ledger.assign(&[draft, later], &Presence::none(), "ex.org", now());
    assert!(ledger.entries().is_empty());
}

fn ledger_file(dir: &Path) -> PathBuf {
    dir.join(STATE_DIR).join(FILE_NAME)
}

#[test]
fn a_moved_entry_is_not_brought_back_by_a_reload() {
    let dir = tempfile::tempdir().unwrap();
    let mut ledger = Ledger::open(dir.path());
    ledger.assign(
        &[post("a.md", HELLO)],
        &Presence::of(["a.md"]),
        "ex.org",
        now(),
    );
    ledger.save().unwrap();
    // Renamed; the write that would record it has not happened (or failed)...
    ledger.assign(
        &[post("b.md", HELLO)],
        &Presence::of(["b.md"]),
        "ex.org",
        now(),
    );
    // ...when another replica rewrites the file (it still names a.md), and a new post makes
    // this one read it again.
    let path = ledger_file(dir.path());
    let mut text = std::fs::read_to_string(&path).unwrap();
    text.push_str("tag:ex.org,2025-05-01:other\tother.md\t2025-05-01T00:00:00+00:00\tother\tO\n");
    std::fs::write(&path, text).unwrap();
    let new = post("c.md", &HELLO.replace("Hello", "C"));
    ledger.reload(); // as `Ledger::prepare` does before every build
    ledger.assign(
        &[new],
        &Presence::of(["b.md", "other.md", "c.md"]),
        "ex.org",
        now(),
    );
    assert_eq!(ledger.id_of("b.md"), Some("tag:ex.org,2025-05-01:a"));
    assert_eq!(
        ledger.id_of("a.md"),
        None,
        "the old path would hand its id to a new a.md"
    );
    assert_eq!(
        ledger.id_of("other.md"),
        Some("tag:ex.org,2025-05-01:other")
    );
}

#[test]
fn lines_another_replica_wrote_survive_this_ones_save() {
    let dir = tempfile::tempdir().unwrap();
    let mut first = Ledger::open(dir.path());
    let mut second = Ledger::open(dir.path());
    second.assign(&[post("y.md", HELLO)], &Presence::none(), "ex.org", now());
    first.assign(&[post("x.md", HELLO)], &Presence::none(), "ex.org", now());
    first.save().unwrap();
    second.save().unwrap();
    let reopened = Ledger::open(dir.path());
    assert_eq!(reopened.id_of("x.md"), Some("tag:ex.org,2025-05-01:x"));
    assert_eq!(reopened.id_of("y.md"), Some("tag:ex.org,2025-05-01:y"));
}

#[test]
fn a_bad_line_stops_issuing_keeps_the_file_and_a_fix_resumes() {
    let dir = tempfile::tempdir().unwrap();
    let path = ledger_file(dir.path());
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    let good = "tag:old,2025-05-01:hello\thello.md\t2025-05-01T00:00:00+00:00\thello\tHello\n";
    let mut bytes = good.as_bytes().to_vec();
    bytes.extend_from_slice(
        b"tag:old,2025-05-01:gone\tgone.md\t2025-05-01T00:00:00+00:00\tgone\tG\xff\n",
    );
    std::fs::write(&path, &bytes).unwrap();
    let mut ledger = Ledger::open(dir.path());
    let health = ledger.health().get();
    assert_eq!(health.bad_lines.len(), 1);
    assert_eq!(health.bad_lines[0].line, 2);
    assert!(!health.issuing());
    let hello = post("hello.md", &HELLO.replace("Hello", "Hello, edited"));
    let new = post("new.md", &HELLO.replace("Hello", "New"));
    ledger.assign(
        &[hello.clone(), new.clone()],
        &Presence::none(),
        "ex.org",
        now(),
    );
    assert_eq!(ledger.id_of("hello.md"), Some("tag:old,2025-05-01:hello"));
    assert_eq!(
        ledger.id_of("new.md"),
        None,
        "no id issued while a line is unreadable"
    );
    ledger.save().unwrap();
    assert_eq!(std::fs::read(&path).unwrap(), bytes, "never rewritten");
    // The operator fixes the line: the next rebuild reads it and issues again.
    std::fs::write(
        &path,
        bytes
            .iter()
            .filter(|&&b| b != 0xff)
            .copied()
            .collect::<Vec<_>>(),
    )
    .unwrap();
    ledger.reload(); // as `Ledger::prepare` does before every build
    ledger.assign(&[hello, new], &Presence::none(), "ex.org", now());
    assert!(ledger.health().get().issuing());
    assert_eq!(ledger.id_of("new.md"), Some("tag:ex.org,2025-05-01:new"));
    ledger.save().unwrap();
    let reopened = Ledger::open(dir.path());
    assert_eq!(reopened.id_of("gone.md"), Some("tag:old,2025-05-01:gone"));
    assert_eq!(reopened.entries()["hello.md"].title, "Hello, edited");
}

#[test]
fn an_unreadable_file_stops_issuing() {
    let dir = tempfile::tempdir().unwrap();
    // A folder where the file belongs: reading fails even for root.
    std::fs::create_dir_all(ledger_file(dir.path())).unwrap();
    let mut ledger = Ledger::open(dir.path());
    assert!(ledger.health().get().unreadable.is_some());
    ledger.assign(&[post("a.md", HELLO)], &Presence::none(), "ex.org", now());
    assert_eq!(ledger.id_of("a.md"), None);
    assert!(!IdSource::issuing(&ledger));
}

#[test]
fn a_failed_write_shows_in_the_health_until_one_succeeds() {
    let dir = tempfile::tempdir().unwrap();
    let mut ledger = Ledger::open(dir.path());
    ledger.assign(&[post("a.md", HELLO)], &Presence::none(), "ex.org", now());
    let path = ledger_file(dir.path());
    let blocker = temporary_path(dir.path());
    assert_eq!(blocker.parent(), path.parent());
    std::fs::create_dir_all(&blocker).unwrap();
    assert!(ledger.save().is_err());
    let health = ledger.health().get();
    assert!(health.write_failed.is_some() && health.issuing());
    assert!(health.problems()[0].message.contains("cannot be written"));
    std::fs::remove_dir(&blocker).unwrap();
    ledger.save().unwrap();
    assert_eq!(ledger.health().get(), Health::default());
    assert_eq!(
        Ledger::open(dir.path()).id_of("a.md"),
        Some("tag:ex.org,2025-05-01:a")
    );
}

mod properties {
    use super::*;
    use proptest::prelude::*;

    /// Text with the characters the file format must escape, and any other.
    fn text(max: usize) -> impl Strategy<Value = String> {
        proptest::collection::vec(
            prop_oneof![
                3 => proptest::char::any(),
                1 => prop::sample::select(vec!['\t', '\n', '\r', '\\', '#', 't', 'n']),
            ],
            0..max,
        )
        .prop_map(|chars| chars.into_iter().collect())
    }

    fn entries() -> impl Strategy<Value = Vec<Issued>> {
        proptest::collection::btree_map(
            text(12).prop_filter("a name", |s| !s.is_empty()),
            (text(8), text(16)),
            1..10,
        )
        .prop_map(|by_source| {
            by_source
                .into_iter()
                .enumerate()
                .map(|(i, (source, (id, title)))| Issued {
                    id: format!("{i}:{id}").into(),
                    source,
                    date: "2025-01-01T00:00:00+00:00".into(),
                    slug: format!("s{i}"),
                    title,
                    provisional: false,
                })
                .collect()
        })
    }

    /// Ways one line gets damaged: an invalid byte, a tab lost or added, cut short.
    #[derive(Debug, Clone)]
    enum Damage {
        InvalidByte(usize),
        DropTab(usize),
        AddTab(usize),
        Truncate(usize),
    }

    fn damage() -> impl Strategy<Value = Damage> {
        prop_oneof![
            any::<usize>().prop_map(Damage::InvalidByte),
            any::<usize>().prop_map(Damage::DropTab),
            any::<usize>().prop_map(Damage::AddTab),
            any::<usize>().prop_map(Damage::Truncate),
        ]
    }

    fn apply(line: &mut Vec<u8>, damage: &Damage) {
        let at = |n: usize| n % (line.len() + 1);
        match *damage {
            Damage::InvalidByte(n) => line.insert(at(n), 0xff),
            Damage::AddTab(n) => line.insert(at(n), b'\t'),
            Damage::Truncate(n) => line.truncate(1 + n % line.len()),
            Damage::DropTab(n) => {
                let tabs: Vec<usize> = (0..line.len()).filter(|&i| line[i] == b'\t').collect();
                line.remove(tabs[n % tabs.len()]);
            }
        }
    }

    fn saved(dir: &Path, entries: &[Issued]) -> Ledger {
        let mut ledger = Ledger::open(dir);
        for e in entries {
            ledger.entries.insert(e.source.clone(), e.clone());
        }
        ledger
            .pending
            .extend(entries.iter().map(|e| e.source.clone()));
        ledger.save().unwrap();
        ledger
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(200))]

        #[test]
        fn any_names_and_titles_round_trip(entries in entries()) {
            let dir = tempfile::tempdir().unwrap();
            saved(dir.path(), &entries);
            let reopened = Ledger::open(dir.path());
            prop_assert!(reopened.health().get().issuing());
            let read: Vec<&Issued> = reopened.entries().values().collect();
            prop_assert_eq!(read, entries.iter().collect::<Vec<_>>());
        }

        #[test]
        fn one_damaged_line_costs_at_most_that_line(
            entries in entries(),
            which in any::<usize>(),
            damage in damage(),
        ) {
            let dir = tempfile::tempdir().unwrap();
            saved(dir.path(), &entries);
            let path = ledger_file(dir.path());
            let bytes = std::fs::read(&path).unwrap();
            let mut lines: Vec<Vec<u8>> = bytes.split(|&b| b == b'\n').map(<[u8]>::to_vec).collect();
            // Lines 0 and 1 are the header and the generation; the last piece is what
            // follows the final newline.
            let hit = 2 + which % entries.len();
            apply(&mut lines[hit], &damage);
            let damaged = lines.join(&b'\n');
            std::fs::write(&path, &damaged).unwrap();

            let mut reopened = Ledger::open(dir.path());
            let health = reopened.health().get();
            let victim = &reopened_victim(&entries, hit);
            for e in entries.iter().filter(|e| e.source != victim.source) {
                prop_assert_eq!(reopened.entries().get(&e.source), Some(e));
            }
            match reopened.entries().get(&victim.source) {
                Some(kept) => prop_assert_eq!(&kept.id, &victim.id),
                None => prop_assert_eq!(
                    health.bad_lines.iter().map(|b| b.line).collect::<Vec<_>>(),
                    vec![hit + 1]
                ),
            }
            // Whatever was lost, the file is not rewritten while a line cannot be read.
            reopened.pending.extend(entries.iter().map(|e| e.source.clone()));
            reopened.save().unwrap();
            if !health.issuing() {
                prop_assert_eq!(std::fs::read(&path).unwrap(), damaged);
            }
        }
    }

    /// The entry written on data line `hit` (entries are written in source order).
    fn reopened_victim(entries: &[Issued], hit: usize) -> Issued {
        let mut sorted = entries.to_vec();
        sorted.sort_by(|a, b| a.source.cmp(&b.source));
        sorted[hit - 2].clone()
    }
}

#[test]
fn an_imported_id_is_kept_through_assign_and_never_given_twice() {
    let dir = tempfile::tempdir().unwrap();
    let mut ledger = Ledger::open(dir.path());
    let imported = post("2025-05-01-hello.md", HELLO);
    let guid = "https://old.example/?p=12";
    ledger.record_imported(guid, &imported).unwrap();
    // Again, the same: nothing changes.
    ledger.record_imported(guid, &imported).unwrap();
    let other = post("other.md", HELLO);
    assert_eq!(
        ledger.record_imported(guid, &other),
        Err(ImportedIdTaken::IdHasPath("2025-05-01-hello.md".into()))
    );
    ledger.save().unwrap();
    let mut ledger = Ledger::open(dir.path());
    ledger.assign(
        &[imported],
        &Presence::of(["2025-05-01-hello.md"]),
        "ex.org",
        now(),
    );
    assert_eq!(ledger.id_of("2025-05-01-hello.md"), Some(guid));
    assert_eq!(
        ledger.record_imported("another", &post("2025-05-01-hello.md", HELLO)),
        Err(ImportedIdTaken::PathHasId(guid.into()))
    );
}

#[test]
fn provisional_ids_are_used_never_written_and_reissued_for_good() {
    let dir = tempfile::tempdir().unwrap();
    let mut ledger = Ledger::open(dir.path());
    let trial = Issuer {
        authority: "127.0.0.1",
        permanent: false,
    };
    let hello = post("hello.md", HELLO);
    ledger.assign(
        std::slice::from_ref(&hello),
        &Presence::none(),
        trial,
        now(),
    );
    assert_eq!(
        ledger.id_of("hello.md"),
        Some("tag:127.0.0.1,2025-05-01:hello")
    );
    ledger.save().unwrap();
    let written = std::fs::read_to_string(ledger_file(dir.path())).unwrap_or_default();
    assert!(!written.contains("127.0.0.1"), "{written}");
    // Renamed during the trial: the provisional id follows the file.
    let renamed = post("greetings.md", HELLO);
    ledger.assign(
        std::slice::from_ref(&renamed),
        &Presence::none(),
        trial,
        now(),
    );
    assert_eq!(
        ledger.id_of("greetings.md"),
        Some("tag:127.0.0.1,2025-05-01:hello")
    );
    // A base_url arrives: the id is issued anew, for good, and written.
    ledger.assign(&[renamed], &Presence::none(), "ex.org", now());
    assert_eq!(
        ledger.id_of("greetings.md"),
        Some("tag:ex.org,2025-05-01:greetings")
    );
    ledger.save().unwrap();
    let written = std::fs::read_to_string(ledger_file(dir.path())).unwrap();
    assert!(written.contains("tag:ex.org,2025-05-01:greetings\tgreetings.md"));
    assert!(!written.contains("127.0.0.1"), "{written}");
}

#[test]
fn a_recorded_id_wins_over_a_provisional_one() {
    let dir = tempfile::tempdir().unwrap();
    let mut trial = Ledger::open(dir.path());
    let issuer = Issuer {
        authority: "127.0.0.1",
        permanent: false,
    };
    trial.assign(&[post("hello.md", HELLO)], &Presence::none(), issuer, now());
    // Another replica, configured, records the post's id.
    let mut other = Ledger::open(dir.path());
    other.assign(
        &[post("hello.md", HELLO)],
        &Presence::none(),
        "ex.org",
        now(),
    );
    other.save().unwrap();
    trial.reload();
    assert_eq!(trial.id_of("hello.md"), Some("tag:ex.org,2025-05-01:hello"));
}
