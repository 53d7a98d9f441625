//! The same posts always give the same bytes, so replicas and rebuilds agree on every ETag:
//!
//! - two copies of `posts/` in differently named folders, their files created in opposite
//!   orders and with different modification times, build to the same routes, with identical
//!   bytes (identity and every precompressed variant) and identical ETags;
//! - building twice from one library, the second time reusing the first snapshot, changes
//!   no byte and no ETag;
//! - a restart (a new library reading the id ledger the first build wrote) changes nothing;
//! - (regression) after an edit to the `updated` of a post older than the home page lists,
//!   a rebuild reusing the previous snapshot serves what a fresh build serves, validators
//!   included: the home page's `Last-Modified` was the newest `updated` of every post while
//!   its fingerprint covers only the posts it lists, so the rebuild kept the old date and a
//!   fresh replica sent the new one.

mod common;

use std::fs::File;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use common::feeds::{build, config, copy_posts, fixed_now, sample_posts, scan, EXAMPLE_CONFIG};
use dropfeed::pipeline::Built;
use dropfeed::snapshot::Coding;

/// Every file below `dir`, relative to it, sorted.
fn files_below(dir: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let mut stack = vec![PathBuf::new()];
    while let Some(rel) = stack.pop() {
        for item in std::fs::read_dir(dir.join(&rel)).expect("read the folder") {
            let item = item.expect("a folder entry");
            if item.file_name().to_string_lossy().starts_with('.') {
                continue; // dropfeed's own state (the id ledger), not a post
            }
            let path = rel.join(item.file_name());
            if item.file_type().expect("a file type").is_dir() {
                stack.push(path);
            } else {
                found.push(path);
            }
        }
    }
    found.sort();
    found
}

/// Copies `files` from `from` to `to` in the order given, stamping the n-th one written
/// `mtime(n)`.
fn copy_in_order(from: &Path, to: &Path, files: &[PathBuf], mtime: impl Fn(u64) -> SystemTime) {
    for (n, rel) in (0u64..).zip(files) {
        let target = to.join(rel);
        std::fs::create_dir_all(target.parent().expect("a parent")).expect("create folder");
        std::fs::copy(from.join(rel), &target).expect("copy a post");
        File::open(&target)
            .and_then(|f| f.set_modified(mtime(n)))
            .expect("set the modification time");
    }
}

/// Fails, naming the first route that differs, unless both builds serve the same bytes.
fn assert_same_site(a: &Built, b: &Built) {
    let routes_a = a.snapshot.routes();
    let routes_b = b.snapshot.routes();
    assert_eq!(routes_a, routes_b, "the route sets differ");
    for route in &routes_a {
        let (ra, rb) = (
            a.snapshot.resource(route).expect("listed route"),
            b.snapshot.resource(route).expect("listed route"),
        );
        assert!(
            ra.identity.body == rb.identity.body,
            "`{route}` differs:\n--- first\n{}\n--- second\n{}",
            String::from_utf8_lossy(&ra.identity.body),
            String::from_utf8_lossy(&rb.identity.body)
        );
        assert_eq!(ra.identity.etag, rb.identity.etag, "`{route}` ETag");
        assert_eq!(
            ra.last_modified_header, rb.last_modified_header,
            "`{route}` Last-Modified"
        );
        for coding in [Coding::Br, Coding::Zstd, Coding::Gzip] {
            let (va, vb) = (ra.variant(coding), rb.variant(coding));
            assert_eq!(
                va.map(|v| (&v.etag, &v.body)),
                vb.map(|v| (&v.etag, &v.body)),
                "`{route}` {coding:?} variant"
            );
        }
    }
}

#[test]
fn file_order_mtimes_and_folder_do_not_change_a_byte() {
    let source = sample_posts();
    let files = files_below(&source);
    assert!(files.len() >= 8, "the sample site is missing: {files:?}");
    let reversed: Vec<PathBuf> = files.iter().rev().cloned().collect();
    let base = SystemTime::UNIX_EPOCH + Duration::from_secs(1_800_000_000);
    let hour = Duration::from_secs(3600);

    let dir = tempfile::tempdir().expect("a temporary folder");
    let (first, second) = (dir.path().join("first"), dir.path().join("second-copy"));
    copy_in_order(&source, &first, &files, |n| base + hour * n as u32);
    copy_in_order(&source, &second, &reversed, |n| base - hour * 24 * n as u32);

    let a = build(&first, EXAMPLE_CONFIG, fixed_now());
    let b = build(&second, EXAMPLE_CONFIG, fixed_now());
    assert_eq!(a.site.entries.len(), 6, "the six published posts");
    assert_same_site(&a, &b);
}

#[test]
fn building_one_library_twice_changes_nothing() {
    let (_dir, posts) = copy_posts(&sample_posts());
    let config = config(EXAMPLE_CONFIG);
    let library = scan(&posts, &config);
    let first =
        common::feeds::build_library(&library, &config, fixed_now(), None).expect("first build");
    let again =
        common::feeds::build_library(&library, &config, fixed_now(), None).expect("second build");
    let reusing =
        common::feeds::build_library(&library, &config, fixed_now(), Some(&first.snapshot))
            .expect("build reusing the first snapshot");
    assert_same_site(&first, &again);
    assert_same_site(&first, &reusing);
}

#[test]
fn restarting_over_the_recorded_ids_changes_nothing() {
    let (_dir, posts) = copy_posts(&sample_posts());
    let first_run = build(&posts, EXAMPLE_CONFIG, fixed_now());
    let ledger = posts.join(".dropfeed/ids.tsv");
    assert!(ledger.is_file(), "the first build records its ids");
    let after_restart = build(&posts, EXAMPLE_CONFIG, fixed_now());
    assert_same_site(&first_run, &after_restart);
}

#[test]
fn an_old_posts_new_updated_date_is_served_alike_by_a_rebuild_and_a_fresh_build() {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let posts = dir.path().join("posts");
    std::fs::create_dir(&posts).expect("the posts folder");
    let post = |n: usize, updated: &str| {
        format!(
            "---\ntitle: Post {n}\ndate: 2026-01-01T{:02}:{:02}:00Z\n{updated}---\n\nBody {n}.\n",
            n / 60,
            n % 60
        )
    };
    let count = dropfeed::render::html::HOME_POSTS + 2;
    for n in 0..count {
        std::fs::write(posts.join(format!("p{n:03}.md")), post(n, "")).expect("a post");
    }
    let config = config(EXAMPLE_CONFIG);
    let mut library = scan(&posts, &config);
    let before =
        common::feeds::build_library(&library, &config, fixed_now(), None).expect("first build");
    // The oldest post, far below what the home page lists, is updated after every other.
    std::fs::write(
        posts.join("p000.md"),
        post(0, "updated: 2026-06-01T00:00:00Z\n"),
    )
    .expect("the edit");
    library.scan().expect("the folder is there");
    let rebuilt =
        common::feeds::build_library(&library, &config, fixed_now(), Some(&before.snapshot))
            .expect("the rebuild");
    let fresh =
        common::feeds::build_library(&library, &config, fixed_now(), None).expect("a fresh build");
    assert_same_site(&rebuilt, &fresh);
}
