//! Parsing our output with independent parsers (feed-rs, Python feedparser), and building a
//! posts folder into a temporary output folder the way `dropfeed build` does.

use std::io::ErrorKind;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;

use chrono::{DateTime, TimeZone, Utc};
use dropfeed::config::Config;
use dropfeed::ids::Ledger;
use dropfeed::load::Library;
use dropfeed::pipeline::{self, Built, Inputs};
use dropfeed::render::{RenderError, FEED_FORMATS};
use dropfeed::snapshot::Snapshot;
use serde_json::Value;
use tempfile::TempDir;

/// The subscription documents of a feed collection, one per format ([`FEED_FORMATS`]).
pub const FEED_FILES: [&str; 3] = {
    let [rss, atom, json] = FEED_FORMATS;
    [rss.feed_file(), atom.feed_file(), json.feed_file()]
};

/// The config the sample-site tests build with.
pub const EXAMPLE_CONFIG: &str = "base_url = \"https://example.org/\"\n";

/// The sample site shipped in the repository.
pub fn sample_posts() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("posts")
}

/// A fixed "now": after every sample post except the one dated 2099.
pub fn fixed_now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2027, 1, 1, 12, 0, 0)
        .single()
        .expect("a valid fixed date")
}

/// Parses config text as if read from `dropfeed.toml`.
pub fn config(toml: &str) -> Arc<Config> {
    Arc::new(Config::parse(Path::new("dropfeed.toml"), toml, None).expect("test config parses"))
}

/// Scans a posts folder, failing the test if any post does not parse.
pub fn scan(posts: &Path, config: &Config) -> Library {
    let mut library = Library::new(posts, config);
    library.scan().expect("the posts folder exists");
    let errors: Vec<String> = library.errors().iter().map(|e| e.to_string()).collect();
    assert!(errors.is_empty(), "posts that do not parse: {errors:#?}");
    library
}

/// Builds a posts folder in place as of `now`. Building records ids in the folder's ledger
/// (`.dropfeed/ids.tsv`), so give it a temporary folder ([`copy_posts`]), never one in the
/// source tree.
pub fn build(posts: &Path, config_toml: &str, now: DateTime<Utc>) -> Built {
    let config = config(config_toml);
    let library = scan(posts, &config);
    build_library(&library, &config, now, None).expect("the site renders")
}

/// Builds a scanned library as `dropfeed build` does: the id ledger of its folder opened,
/// made ready, ids issued, and written after the build.
pub fn build_library(
    library: &Library,
    config: &Arc<Config>,
    now: DateTime<Utc>,
    previous: Option<&Snapshot>,
) -> Result<Built, RenderError> {
    let mut ledger = Ledger::open(library.display_root());
    let built = pipeline::build(
        Inputs::gather(library, &mut ledger, config, now),
        config,
        now,
        previous,
    )?;
    ledger.save().expect("the id ledger is written");
    Ok(built)
}

/// A fresh temporary folder holding a copy of a posts folder at `<tmp>/posts`.
pub fn copy_posts(posts: &Path) -> (TempDir, PathBuf) {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let copy = dir.path().join("posts");
    copy_tree(posts, &copy);
    (dir, copy)
}

/// A built site, also written to a temporary folder as a static export.
pub struct Output {
    /// The build.
    pub built: Built,
    dir: TempDir,
}

impl Output {
    /// Where a route was written.
    pub fn path(&self, route: &str) -> PathBuf {
        self.dir.path().join("out").join(route)
    }

    /// The identity bytes of a route (hot, or cold and rendered now), failing the test if it
    /// does not exist.
    pub fn bytes(&self, route: &str) -> bytes::Bytes {
        match self.built.snapshot.resource(route) {
            Some(resource) => resource.identity.body.clone(),
            None => panic!("no route `{route}`; routes: {:?}", self.routes()),
        }
    }

    /// Every route, sorted.
    pub fn routes(&self) -> Vec<String> {
        self.built.snapshot.routes()
    }
}

/// Builds a copy of a posts folder as of [`fixed_now`] and writes it out with `write_out`,
/// all in a temporary folder: the source tree is never written to, and no ids recorded there
/// by earlier runs leak in.
pub fn build_site(posts: &Path, config_toml: &str) -> Output {
    let (dir, copy) = copy_posts(posts);
    let built = build(&copy, config_toml, fixed_now());
    dropfeed::export::write_out(&built.snapshot, &copy, &dir.path().join("out"))
        .expect("the export is written");
    Output { built, dir }
}

/// Parses a feed in any format with feed-rs, failing the test with feed-rs's complaint.
pub fn feed_rs(bytes: &[u8], what: &str) -> feed_rs::model::Feed {
    feed_rs::parser::parse(bytes).unwrap_or_else(|e| panic!("feed-rs rejects {what}: {e}"))
}

/// The item link of a feed-rs entry: its first link that is not an enclosure or other relation.
pub fn entry_link(entry: &feed_rs::model::Entry) -> &str {
    entry
        .links
        .iter()
        .find(|l| l.rel.as_deref().is_none_or(|r| r == "alternate"))
        .map(|l| l.href.as_str())
        .unwrap_or_else(|| panic!("entry {} has no link", entry.id))
}

/// Parses feed files with Python feedparser through `tests/feedparser_check.py`: one JSON
/// object per file (keys in the script's docstring). The interpreter is `$DROPFEED_PYTHON`,
/// else `python3`. When feedparser (or the interpreter) is missing this says
/// "SKIPPED <test>: feedparser not installed" and returns an empty list, so callers skip, unless `$CI`
/// is set: there it fails, because CI must run every parser.
pub fn feedparser(paths: &[&Path]) -> Vec<Value> {
    let python = std::env::var("DROPFEED_PYTHON").unwrap_or_else(|_| "python3".into());
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/feedparser_check.py");
    let output = match Command::new(&python).arg(&script).args(paths).output() {
        Ok(output) => output,
        Err(e) if e.kind() == ErrorKind::NotFound => {
            return skip(&python, "the interpreter was not found")
        }
        Err(e) => panic!("cannot run {python}: {e}"),
    };
    if output.status.code() == Some(3) {
        return skip(&python, "`import feedparser` fails");
    }
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{} failed ({}):\n{stdout}\n{}",
        script.display(),
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    let parsed: Vec<Value> = stdout
        .lines()
        .map(|line| serde_json::from_str(line).expect("the script prints JSON lines"))
        .collect();
    assert_eq!(parsed.len(), paths.len(), "one result per file:\n{stdout}");
    parsed
}

/// Skips a feedparser check outside CI; fails it in CI, which must run every parser.
fn skip(python: &str, why: &str) -> Vec<Value> {
    assert!(
        std::env::var_os("CI").is_none(),
        "feedparser not installed for {python} ({why}), and CI must run it \
         (set DROPFEED_PYTHON to a Python that has it)"
    );
    super::skip::skipped(&format!(
        "feedparser not installed for {python} ({why}); \
         pip install feedparser and set DROPFEED_PYTHON"
    ));
    Vec::new()
}

/// Every `href` and `src` attribute value in an HTML fragment, entities left as written.
pub fn link_targets(html: &str) -> Vec<String> {
    let mut targets = Vec::new();
    for name in ["href", "src"] {
        let mut rest = html;
        while let Some(at) = rest.find(name) {
            let before = rest[..at].chars().next_back();
            rest = &rest[at + name.len()..];
            if !before.is_some_and(char::is_whitespace) {
                continue; // part of a longer word, not an attribute name
            }
            let Some(value) = rest.trim_start().strip_prefix('=') else {
                continue;
            };
            let value = value.trim_start();
            let (quote, body) = match value.chars().next() {
                Some(q @ ('"' | '\'')) => (Some(q), &value[1..]),
                _ => (None, value),
            };
            let end = match quote {
                Some(q) => body.find(q),
                None => body.find(|c: char| c.is_whitespace() || c == '>'),
            }
            .unwrap_or(body.len());
            targets.push(body[..end].to_string());
        }
    }
    targets
}

/// Copies a folder tree into `to`, creating it, leaving out dotfiles and dot-folders (the id
/// ledger `.dropfeed/` that builds write into a posts folder).
pub fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("create the copy's folder");
    for item in std::fs::read_dir(from).expect("read the folder to copy") {
        let item = item.expect("a folder entry");
        if item.file_name().to_string_lossy().starts_with('.') {
            continue;
        }
        let target = to.join(item.file_name());
        if item.file_type().expect("a file type").is_dir() {
            copy_tree(&item.path(), &target);
        } else {
            std::fs::copy(item.path(), &target).expect("copy a file");
        }
    }
}
