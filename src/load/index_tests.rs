//! The index written and read back, whole or damaged.

use super::*;
use crate::config::Config;
use proptest::prelude::*;

/// A library over a few posts of every kind (deferred Markdown, plain text rendered at
/// once, a broken one, one linking a picture), scanned, and the index bytes it writes.
fn scanned() -> (tempfile::TempDir, Library, Vec<u8>) {
    let dir = tempfile::tempdir().unwrap();
    let posts = dir.path().join("posts");
    fs::create_dir_all(posts.join("photos")).unwrap();
    let files: [(&str, &[u8]); 5] = [
        (
            "a.md",
            b"---\ntitle: A\ndate: 2024-01-02\ntags: [x, z]\n---\n\n![p](photos/p.png) text\n",
        ),
        ("b.txt", b"2024-02-03\n\nPlain\n\nA plain text post.\n"),
        ("c.md", b"# Undated\n\nNo front matter.\n"),
        ("broken.md", b"---\ntitle: [\n---\n"),
        ("photos/p.png", b"not really a png"),
    ];
    for (name, bytes) in files {
        fs::write(posts.join(name), bytes).unwrap();
    }
    let config = Config::parse(Path::new("t.toml"), "base_url = \"https://ex.org/\"", None);
    let mut library = Library::new(&posts, &config.unwrap());
    library.index = Some(Index::in_state(&posts.join(".dropfeed")));
    library.scan().unwrap();
    let job = library.index_job().unwrap();
    let bytes = encode(&job.saved, &job.shape).unwrap();
    (dir, library, bytes)
}

#[test]
fn what_is_written_reads_back_whole_and_only_for_its_shape() {
    let (_dir, library, bytes) = scanned();
    let shape = library.index_shape();
    let saved = decode(&bytes, &shape).unwrap();
    assert_eq!(saved.files.len(), 4);
    assert_eq!(library.errors().len(), 1);
    assert!(saved.files.iter().any(|f| f.error.is_some()));
    assert_eq!(saved.linked.len(), 1);
    for file in &saved.files {
        let state = &library.files()[&file.source];
        assert_eq!(file.last_good, state.last_good, "{}", file.source);
        assert_eq!(file.stamp, state.stamp);
    }
    let mut other = shape;
    other[0] ^= 1;
    assert!(decode(&bytes, &other).is_err());
}

#[test]
fn a_rescan_of_a_restored_library_reads_nothing() {
    let (dir, mut library, _) = scanned();
    library.index_job_written();
    let posts = dir.path().join("posts");
    let config = Config::parse(Path::new("t.toml"), "base_url = \"https://ex.org/\"", None);
    let mut again = Library::new(&posts, &config.unwrap());
    again.index = Some(Index::in_state(&posts.join(".dropfeed")));
    again.scan().unwrap();
    assert_eq!(again.files().len(), 4);
    assert!(!again.index_due(), "nothing read, nothing to write");
    assert_eq!(again.posts(), library.posts());
    assert_eq!(again.linked(), library.linked());
}

impl Library {
    /// Writes this library's index now (tests).
    fn index_job_written(&mut self) {
        self.index_state.dirty = true;
        self.index_job().unwrap().write();
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    /// Whatever happens to an index's bytes, it reads back as written or is refused;
    /// and the decoder itself, given damaged contents past the hash, never panics.
    #[test]
    fn a_damaged_index_reads_back_whole_or_not_at_all(
        flips in proptest::collection::vec((any::<usize>(), 1u8..=255), 0..4),
        cut in proptest::option::of(any::<usize>()),
    ) {
        let (_dir, library, bytes) = scanned();
        let shape = library.index_shape();
        let original = decode(&bytes, &shape).unwrap();
        let mut damaged = bytes.clone();
        for (at, mask) in &flips {
            let at = at % damaged.len();
            damaged[at] ^= mask;
        }
        if let Some(cut) = cut {
            damaged.truncate(cut % (damaged.len() + 1));
        }
        match decode(&damaged, &shape) {
            Ok(saved) => prop_assert_eq!(saved, original),
            Err(_) => prop_assert!(damaged != bytes),
        }
        let contents = damaged.get(HEADER_LEN..).unwrap_or_default();
        let _ = postcard::from_bytes::<Saved>(contents);
    }
}
