//! The podcast show the podcast tests build: a tag declared a show in `[[show]]` and three
//! episodes (an MP3 with a transcript found by its name, an M4A in a subfolder with chapters,
//! an MP3 without a Xing frame written as the old `{url, type, length}` table), media copied
//! from the shipped test media.

use std::path::{Path, PathBuf};

use tempfile::TempDir;

/// The episodes: post file, media file (in the test folder), the shipped media it is a copy
/// of, its real length in seconds (ffprobe), episode, season.
pub const EPISODES: [(&str, &str, &str, f64, u32, u32); 3] = [
    (
        "2026-01-05-first.md",
        "first.mp3",
        "posts/feeds-over-coffee.mp3",
        5.068,
        1,
        1,
    ),
    (
        "2026-02-05-second.md",
        "audio/second.m4a",
        "tests/fixtures/podcast/short.m4a",
        3.0,
        2,
        1,
    ),
    (
        "2026-03-05-third.md",
        "third.mp3",
        "tests/fixtures/podcast/noxing.mp3",
        3.056,
        1,
        2,
    ),
];

const FIRST: &str = "---\ntitle: \"First & <best>\"\ndate: 2026-01-05\ntags: [show]\nauthors: [Mira Okafor]\nenclosure: first.mp3\nepisode: 1\nseason: 1\n---\n\nNotes with <b>markup</b> & more.\n";
const SECOND: &str = "---\ntitle: Second\ndate: 2026-02-05\ntags: [show]\nenclosure: audio/second.m4a\nepisode: 2\nseason: 1\nepisode_type: bonus\nexplicit: true\nchapters: audio/second.chapters.json\nimage: cover.png\n---\n\nA bonus.\n";
const THIRD_HEAD: &str = "---\ntitle: Third\ndate: 2026-03-05\ntags: [show]\nepisode: 1\nseason: 2\nepisode_type: trailer\n";

/// The show, on `base`.
pub fn show_config(base: &str) -> String {
    format!(
        "base_url = \"{base}\"\ntitle = \"Site\"\n\n[[show]]\ntag = \"show\"\ntitle = \"Feeds Over Tests\"\nimage = \"cover.png\"\ncategory = [\"Technology\", \"Society & Culture > Documentary\"]\nexplicit = false\nauthor = \"Mira Okafor\"\nowner = {{ name = \"Mira Okafor\", email = \"mira@example.org\" }}\ntype = \"serial\"\nlocked = true\nfunding = {{ url = \"https://pod.example/give\", text = \"Support the show\" }}\n"
    )
}

pub fn shipped(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(path)
}

/// A posts folder with the three episodes, their media, a transcript and the cover.
pub fn show_folder() -> (TempDir, PathBuf) {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let posts = dir.path().join("posts");
    std::fs::create_dir_all(posts.join("audio")).expect("posts/audio");
    for (_, media, from, ..) in EPISODES {
        std::fs::copy(shipped(from), posts.join(media)).expect("copy media");
    }
    std::fs::copy(shipped("posts/cover.png"), posts.join("cover.png")).expect("cover");
    std::fs::copy(
        shipped("posts/feeds-over-coffee.vtt"),
        posts.join("first.vtt"),
    )
    .expect("vtt");
    let chapters =
        "{\"version\": \"1.2.0\", \"chapters\": [{\"startTime\": 0, \"title\": \"Hello\"}]}";
    std::fs::write(posts.join("audio/second.chapters.json"), chapters).expect("chapters");
    let third_length = std::fs::metadata(posts.join("third.mp3"))
        .expect("third")
        .len();
    let third = format!("{THIRD_HEAD}enclosure: {{url: third.mp3, type: audio/mpeg, length: {third_length}}}\n---\n\nA trailer.\n");
    for (name, text) in [(EPISODES[0].0, FIRST), (EPISODES[1].0, SECOND)] {
        std::fs::write(posts.join(name), text).expect("post");
    }
    std::fs::write(posts.join(EPISODES[2].0), third).expect("post");
    (dir, posts)
}
