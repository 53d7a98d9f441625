//! Where the time of a cold load and of a one-post rebuild goes, stage by stage:
//! `cargo run --release --example rebuild_cost -- POSTS_DIR [ROUNDS]` (ROUNDS times: edits the
//! newest post's title and back, adds a post and deletes it, re-dates and re-tags the fifth
//! newest and restores it; run it on a generated corpus, not on real posts: it changes files). Times are
//! the main thread's CPU time (the cold scan parses on several threads: its figure is low).
use std::path::PathBuf;
use std::sync::Arc;

use chrono::{TimeZone, Utc};
use dropfeed::config::{Config, RawConfig};
use dropfeed::ids::Ledger;
use dropfeed::load::Library;
use dropfeed::pipeline::{self, Inputs};

/// This thread's CPU time: wall time on a shared 2-core machine says more about the
/// neighbours than about the code.
#[derive(Clone, Copy)]
struct Instant(f64);

impl Instant {
    fn now() -> Instant {
        let mut ts = libc::timespec {
            tv_sec: 0,
            tv_nsec: 0,
        };
        // SAFETY: a valid out-pointer for the duration of the call.
        unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
        Instant(ts.tv_sec as f64 * 1e3 + ts.tv_nsec as f64 / 1e6)
    }
}

/// A change to time: its name, the file operation, the paths it touches.
type Step<'a> = (&'a str, Box<dyn Fn()>, Vec<PathBuf>);

fn ms(t: Instant) -> f64 {
    Instant::now().0 - t.0
}

fn main() {
    let root = PathBuf::from(std::env::args().nth(1).expect("a posts folder"));
    let rounds: usize = std::env::args()
        .nth(2)
        .map(|r| r.parse().expect("a number"))
        .unwrap_or(10);
    let now = Utc.with_ymd_and_hms(2040, 1, 1, 0, 0, 0).unwrap();
    let config = Arc::new(Config::from_raw(RawConfig::default(), None).unwrap());
    let mut library = Library::new(&root, &config);
    let t = Instant::now();
    let wall = std::time::Instant::now();
    library.scan().expect("the folder exists");
    println!(
        "cold scan: {:.1} ms on this thread, {:.1} ms wall",
        ms(t),
        wall.elapsed().as_secs_f64() * 1e3
    );
    let t = Instant::now();
    let mut ledger = Ledger::open(&root);
    let built = pipeline::build(
        Inputs::gather(&library, &mut ledger, &config, now),
        &config,
        now,
        None,
    )
    .unwrap();
    println!("cold build (encoded): {:.1} ms", ms(t));
    let mut previous = built.snapshot;
    let newest = previous.site().unwrap().entries[0].post.source.clone();
    let fifth = previous.site().unwrap().entries[4].post.source.clone();
    let edited = root.join(&newest);
    let moved = root.join(&fifth);
    let original = std::fs::read_to_string(&edited).unwrap();
    let fifth_text = std::fs::read_to_string(&moved).unwrap();
    for round in 0..rounds {
        // A new file each round: a post the id ledger has never seen.
        let added = root.join(format!("zz-new-post-{round}.md"));
        // Each change, then its undo: (label, what to write or remove, paths touched).
        let steps: Vec<Step> = vec![
            (
                "edit",
                Box::new({
                    let (p, t) = (
                        edited.clone(),
                        original.replacen("title: \"", &format!("title: \"Edit {round} "), 1),
                    );
                    move || std::fs::write(&p, &t).unwrap()
                }),
                vec![edited.clone()],
            ),
            (
                "unedit",
                Box::new({
                    let (p, t) = (edited.clone(), original.clone());
                    move || std::fs::write(&p, &t).unwrap()
                }),
                vec![edited.clone()],
            ),
            (
                "new",
                Box::new({
                    let (p, t) = (
                        added.clone(),
                        original
                            .replacen("title: \"", "title: \"Brand new ", 1)
                            .replacen("date: ", "date: 2039-12-31 23:00\nold-date: ", 1),
                    );
                    move || std::fs::write(&p, &t).unwrap()
                }),
                vec![added.clone()],
            ),
            (
                "delete",
                Box::new({
                    let p = added.clone();
                    move || std::fs::remove_file(&p).unwrap()
                }),
                vec![added.clone()],
            ),
            (
                "redate",
                Box::new({
                    let (p, t) = (
                        moved.clone(),
                        fifth_text.replacen("date: ", "date: 2039-12-31 23:30\nold-date: ", 1),
                    );
                    move || std::fs::write(&p, &t).unwrap()
                }),
                vec![moved.clone()],
            ),
            (
                "retag",
                Box::new({
                    let (p, t) = (
                        moved.clone(),
                        fifth_text.replacen("tags: [", "tags: [brand-new-tag, ", 1),
                    );
                    move || std::fs::write(&p, &t).unwrap()
                }),
                vec![moved.clone()],
            ),
            (
                "restore",
                Box::new({
                    let (p, t) = (moved.clone(), fifth_text.clone());
                    move || std::fs::write(&p, &t).unwrap()
                }),
                vec![moved.clone()],
            ),
        ];
        let mut line = format!("round {round}:");
        for (label, change, paths) in steps {
            change();
            let t = Instant::now();
            let changes = library.refresh(&paths).expect("the folder exists");
            let refresh = ms(t);
            let t = Instant::now();
            let built = pipeline::build_for_serving(
                Inputs::gather_changed(&library, &mut ledger, &config, &changes.changed, now),
                &config,
                now,
                Some(&previous),
                &changes,
                std::time::Instant::now(),
            )
            .unwrap();
            let build = ms(t);
            ledger.save().unwrap();
            line += &format!(" {label} {refresh:.1}+{build:.1}");
            previous = built.snapshot;
        }
        println!("{line} ms (refresh+build)");
    }
    std::fs::write(&edited, original).unwrap();
    std::fs::write(&moved, fifth_text).unwrap();
}
