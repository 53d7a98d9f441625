//! `dropfeed build --out DIR` never harms what it did not write (issue 11, bug 2), run as the
//! real binary, twice each time (the old code moved a folder aside on the first build and
//! deleted it on the second):
//!
//! - `--out` at the posts folder, at the folder holding it, or at a folder holding someone's
//!   files is refused, and every file (posts and the id ledger included) is still there,
//!   byte for byte;
//! - a `.DIR.previous` or a `DIR.nginx.conf` a build did not write is neither deleted nor
//!   overwritten;
//! - `--out` at a regular file, or under a parent where nothing can be created, fails with a
//!   message and leaves no staging folder;
//! - a build's own output, an empty folder and a new path are written (and replaced);
//! - then a table of layouts (links to the posts, nested paths, `..`, trailing `/`, stale
//!   staging folders from a crash, …), each checked the same way: expected exit, no staging
//!   folder left, nothing outside the build's own paths changed.

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use tempfile::TempDir;

/// What a run of the binary left behind.
struct Run {
    code: Option<i32>,
    stderr: String,
}

/// `dropfeed build --posts POSTS --out OUT`, run in `cwd`.
fn build(cwd: &Path, posts: &Path, out: &Path) -> Run {
    let output = Command::new(env!("CARGO_BIN_EXE_dropfeed"))
        .current_dir(cwd)
        .arg("build")
        .arg("--posts")
        .arg(posts)
        .arg("--out")
        .arg(out)
        .env("RUST_LOG", "warn")
        .output()
        .expect("run dropfeed");
    Run {
        code: output.status.code(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

/// One thing on disk, as `ls -l` would tell it apart.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Node {
    Dir,
    File(Vec<u8>),
    Link(PathBuf),
}

/// Everything below `root`, by path, without following links.
fn tree(root: &Path) -> BTreeMap<PathBuf, Node> {
    let mut out = BTreeMap::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for item in std::fs::read_dir(&dir).expect("list a folder") {
            let path = item.expect("an entry").path();
            let meta = std::fs::symlink_metadata(&path).expect("stat");
            let node = if meta.file_type().is_symlink() {
                Node::Link(std::fs::read_link(&path).expect("read a link"))
            } else if meta.is_dir() {
                stack.push(path.clone());
                Node::Dir
            } else {
                Node::File(std::fs::read(&path).expect("read a file"))
            };
            out.insert(path, node);
        }
    }
    out
}

/// A temporary root with `site/posts/` holding two posts and their id ledger (written by a
/// first build into a folder outside the root, so the ledger is in place before any test),
/// and `site/dropfeed.toml` setting `base_url` (without one, ids are provisional and no
/// ledger is written).
struct Layout {
    root: TempDir,
    _elsewhere: TempDir,
}

impl Layout {
    fn new() -> Layout {
        let root = tempfile::tempdir().expect("tempdir");
        let posts = root.path().join("site/posts");
        std::fs::create_dir_all(posts.join("2024")).expect("create posts/");
        std::fs::write(
            posts.join("hello.md"),
            "---\ntitle: Hello\ndate: 2024-01-02\n---\nThe first post.\n",
        )
        .expect("write a post");
        std::fs::write(
            posts.join("2024/plain.txt"),
            "3 January 2024\n\nPlain\n\nA plain text post.\n",
        )
        .expect("write a post");
        std::fs::write(
            root.path().join("site/dropfeed.toml"),
            "base_url = \"https://example.org/\"\n",
        )
        .expect("write the config");
        let elsewhere = tempfile::tempdir().expect("tempdir");
        let first = build(root.path(), &posts, &elsewhere.path().join("out"));
        assert_eq!(first.code, Some(0), "{}", first.stderr);
        assert!(
            posts.join(".dropfeed/ids.tsv").is_file(),
            "the first build wrote the ledger"
        );
        Layout {
            root,
            _elsewhere: elsewhere,
        }
    }

    fn root(&self) -> &Path {
        self.root.path()
    }

    fn posts(&self) -> PathBuf {
        self.root().join("site/posts")
    }

    /// Writes a file, creating its folder.
    fn file(&self, rel: &str, text: &str) -> PathBuf {
        let path = self.root().join(rel);
        std::fs::create_dir_all(path.parent().expect("a parent")).expect("create a folder");
        std::fs::write(&path, text).expect("write a file");
        path
    }

    fn link(&self, rel: &str, to: &str) -> PathBuf {
        let path = self.root().join(rel);
        std::os::unix::fs::symlink(to, &path).expect("make a link");
        path
    }
}

/// Staging folders (`.NAME.new-…`) anywhere below `root`, except those in `expected`.
fn staging_left(root: &Path, expected: &[PathBuf]) -> Vec<PathBuf> {
    tree(root)
        .into_keys()
        .filter(|p| {
            p.file_name()
                .is_some_and(|n| n.to_string_lossy().contains(".new-"))
        })
        .filter(|p| !expected.iter().any(|e| p.starts_with(e)))
        .collect()
}

/// Asserts that every path of `before` not under one of `ours` is unchanged in `after`,
/// and that nothing new appeared outside `ours`.
fn assert_untouched(
    what: &str,
    before: &BTreeMap<PathBuf, Node>,
    after: &BTreeMap<PathBuf, Node>,
    ours: &[PathBuf],
) {
    let mine = |p: &PathBuf| ours.iter().any(|o| p.starts_with(o));
    for (path, node) in before.iter().filter(|(p, _)| !mine(p)) {
        match after.get(path) {
            Some(now) => assert!(now == node, "{what}: {} changed", path.display()),
            None => panic!("{what}: {} is gone", path.display()),
        }
    }
    for path in after.keys().filter(|p| !mine(p)) {
        assert!(
            before.contains_key(path),
            "{what}: {} appeared",
            path.display()
        );
    }
}

/// Builds twice into `out` (run in the layout's root), expecting a refusal each time, and
/// checks that nothing at all changed and no staging folder was left.
fn assert_refused_twice(layout: &Layout, out: &Path, says: &str) {
    let before = tree(layout.root());
    for round in 1..=2 {
        let run = build(layout.root(), &layout.posts(), out);
        assert_eq!(run.code, Some(1), "build {round} into {}", out.display());
        assert!(
            run.stderr.contains(says),
            "build {round}: `{says}` in:\n{}",
            run.stderr
        );
        assert_untouched(
            &format!("build {round} into {}", out.display()),
            &before,
            &tree(layout.root()),
            &[],
        );
    }
}

#[test]
fn build_out_refuses_the_posts_folder() {
    let layout = Layout::new();
    assert_refused_twice(&layout, &layout.posts(), "overlaps the posts folder");
}

#[test]
fn build_out_refuses_the_folder_holding_the_posts() {
    let layout = Layout::new();
    layout.file("site/index.html", "<p>the author's own page</p>\n");
    assert_refused_twice(
        &layout,
        &layout.root().join("site"),
        "overlaps the posts folder",
    );
}

#[test]
fn build_out_never_deletes_a_folder_it_did_not_make() {
    let layout = Layout::new();
    layout.file("site/photos/cat.jpg", "not really a cat");
    layout.file("site/photos/notes/todo.txt", "buy milk\n");
    assert_refused_twice(&layout, &layout.root().join("site/photos"), "did not write");
}

#[test]
fn build_out_never_deletes_a_previous_tree_it_did_not_make() {
    let layout = Layout::new();
    let out = layout.root().join("site/public");
    let first = build(layout.root(), &layout.posts(), &out);
    assert_eq!(first.code, Some(0), "{}", first.stderr);
    layout.file("site/.public.previous/keep.txt", "someone's backup\n");
    assert_refused_twice(&layout, &out, "did not write");
}

#[test]
fn build_out_never_overwrites_a_server_config_it_did_not_write() {
    let layout = Layout::new();
    layout.file("site/public.nginx.conf", "server { listen 80; }\n");
    assert_refused_twice(
        &layout,
        &layout.root().join("site/public"),
        "was not generated by `dropfeed build`",
    );
}

#[test]
fn build_out_at_a_regular_file_fails_cleanly() {
    let layout = Layout::new();
    let file = layout.file("site/public", "a file, not a folder\n");
    assert_refused_twice(&layout, &file, "is not a folder");
}

#[test]
fn build_out_under_a_read_only_parent_fails_cleanly() {
    use std::os::unix::fs::PermissionsExt;
    let layout = Layout::new();
    let parent = layout.root().join("locked");
    std::fs::create_dir(&parent).expect("create locked/");
    std::fs::set_permissions(&parent, std::fs::Permissions::from_mode(0o555)).expect("chmod");
    // Root (and CAP_DAC_OVERRIDE) writes through permissions: then this layout cannot fail.
    let probe = parent.join("probe");
    if std::fs::create_dir(&probe).is_ok() {
        std::fs::remove_dir(&probe).expect("remove the probe");
        common::skip::skipped(
            "this process writes into read-only folders (root?); see build_out_layouts' /proc \
             row for a parent where nothing can be created",
        );
        return;
    }
    assert_refused_twice(&layout, &parent.join("public"), "Permission denied");
    std::fs::set_permissions(&parent, std::fs::Permissions::from_mode(0o755)).expect("chmod");
}

#[test]
fn build_out_replaces_its_own_output_an_empty_folder_and_a_new_path() {
    let layout = Layout::new();
    std::fs::create_dir(layout.root().join("empty")).expect("create empty/");
    for out in ["empty", "new/deeper/public"] {
        let out = layout.root().join(out);
        for round in 1..=3 {
            let run = build(layout.root(), &layout.posts(), &out);
            assert_eq!(run.code, Some(0), "build {round}: {}", run.stderr);
            let feed = std::fs::read(out.join("atom.xml")).expect("atom.xml written");
            let feed = feed_rs::parser::parse(&feed[..]).expect("atom.xml parses");
            assert_eq!(feed.entries.len(), 2, "build {round}");
            assert!(out.join(dropfeed::export::MARKER).is_file());
        }
        let name = out.file_name().expect("a name").to_string_lossy();
        let previous = out.with_file_name(format!(".{name}.previous"));
        assert!(
            previous.join("atom.xml").is_file(),
            "the replaced tree is kept"
        );
    }
    assert_eq!(staging_left(layout.root(), &[]), Vec::<PathBuf>::new());
}

/// One layout of the table: how the root is prepared, where `--out` points (relative to the
/// root, where the binary runs), and whether the build must succeed.
struct Row {
    name: &'static str,
    /// Prepares the layout; returns paths the build may remove (its own crash leftovers).
    setup: fn(&Layout) -> Vec<PathBuf>,
    out: &'static str,
    /// For a build that must succeed: the output folder it writes, relative to the root.
    writes: Option<&'static str>,
    /// For a refusal: what the message says.
    says: &'static str,
}

fn nothing(_: &Layout) -> Vec<PathBuf> {
    Vec::new()
}

/// A process id that is not running: a child's, once it has exited.
fn dead_pid() -> u32 {
    let mut child = Command::new("true").spawn().expect("run true");
    let pid = child.id();
    child.wait().expect("wait for true");
    pid
}

/// An earlier build into `site/public`, then what a crashed build leaves beside it (a marked
/// staging folder of a dead process: ours to remove) and a folder of the same shape that
/// someone else made (no marker: kept).
fn crashed_build(layout: &Layout) -> Vec<PathBuf> {
    let run = build(layout.root(), &layout.posts(), Path::new("site/public"));
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    let marker = std::fs::read(layout.root().join("site/public/.dropfeed-build")).expect("marker");
    let pid = dead_pid();
    let stale = format!("site/.public.new-{pid}");
    layout.file(&format!("{stale}/feed.xml"), "<half");
    std::fs::write(layout.root().join(&stale).join(".dropfeed-build"), marker).expect("marker");
    layout.file(
        &format!("site/.public.new-{pid}-7/mine.txt"),
        "not a build's\n",
    );
    vec![layout.root().join(stale)]
}

fn layouts() -> Vec<Row> {
    let refused = |name, setup, out, says| Row {
        name,
        setup,
        out,
        writes: None,
        says,
    };
    let overlap = "overlaps the posts folder";
    let mut rows = vec![
        refused("the posts folder", nothing, "site/posts", overlap),
        refused(
            "the posts folder with a slash",
            nothing,
            "site/posts/",
            overlap,
        ),
        refused(
            "the posts folder through ..",
            nothing,
            "site/posts/../posts",
            overlap,
        ),
        refused("the folder holding the posts", nothing, "site", overlap),
        refused("the working folder, above the posts", nothing, ".", overlap),
        refused(
            "a new folder inside the posts",
            nothing,
            "site/posts/public",
            overlap,
        ),
        refused(
            "the posts' state folder",
            nothing,
            "site/posts/.dropfeed",
            overlap,
        ),
        refused(
            "a link to the posts",
            |l| {
                l.link("site/link", "posts");
                vec![]
            },
            "site/link",
            overlap,
        ),
        refused(
            "a link to the folder holding the posts",
            |l| {
                l.link("up", "site");
                vec![]
            },
            "up",
            overlap,
        ),
        refused(
            "inside the posts through a linked parent",
            |l| {
                l.link("alias", "site");
                vec![]
            },
            "alias/posts/out",
            overlap,
        ),
        refused(
            "a sibling holding files",
            |l| {
                l.file("site/mine/a.txt", "mine\n");
                vec![]
            },
            "site/mine",
            "did not write",
        ),
        refused(
            "a folder with a marker of another content",
            |l| {
                l.file("site/fake/.dropfeed-build", "hello\n");
                l.file("site/fake/x.txt", "x\n");
                vec![]
            },
            "site/fake",
            "did not write",
        ),
        refused(
            "a link to an empty folder",
            |l| {
                std::fs::create_dir(l.root().join("site/empty")).expect("mkdir");
                l.link("site/elink", "empty");
                vec![]
            },
            "site/elink",
            "symbolic link",
        ),
        refused(
            "a dangling link",
            |l| {
                l.link("site/dangling", "nowhere");
                vec![]
            },
            "site/dangling",
            "symbolic link",
        ),
        refused(
            "a regular file",
            |l| {
                l.file("site/public", "text\n");
                vec![]
            },
            "site/public",
            "not a folder",
        ),
        refused(
            "under a regular file",
            |l| {
                l.file("site/afile", "text\n");
                vec![]
            },
            "site/afile/public",
            "Not a directory",
        ),
        refused(
            "a previous tree that is a file",
            |l| {
                l.file("site/.public.previous", "text\n");
                vec![]
            },
            "site/public",
            "did not write",
        ),
        refused(
            "a Caddyfile someone wrote",
            |l| {
                l.file("site/public.Caddyfile", ":80\n");
                vec![]
            },
            "site/public",
            "was not generated",
        ),
    ];
    if cfg!(target_os = "linux") {
        // Nothing can be created in a process's /proc folder, not even by root.
        rows.push(refused(
            "a parent where nothing can be created",
            nothing,
            "/proc/self/public",
            "",
        ));
    }
    let written = |name, setup, out, writes| Row {
        name,
        setup,
        out,
        writes: Some(writes),
        says: "",
    };
    rows.extend([
        written(
            "an empty folder",
            |l| {
                std::fs::create_dir(l.root().join("site/public")).expect("mkdir");
                vec![]
            },
            "site/public",
            "site/public",
        ),
        written(
            "a new nested path",
            |l| vec![l.root().join("out")], // its parents are made too
            "out/a/b",
            "out/a/b",
        ),
        written(
            "a sibling named through ..",
            nothing,
            "site/posts/../public",
            "site/public",
        ),
        written(
            "after a crashed build",
            crashed_build,
            "site/public",
            "site/public",
        ),
    ]);
    rows
}

/// The paths a successful build into `writes` owns: the folder, its kept tree, its configs.
fn owned_by_build(root: &Path, writes: &str) -> Vec<PathBuf> {
    let out = root.join(writes);
    let name = out
        .file_name()
        .expect("a name")
        .to_string_lossy()
        .into_owned();
    vec![
        out.with_file_name(format!(".{name}.previous")),
        out.with_file_name(format!("{name}.nginx.conf")),
        out.with_file_name(format!("{name}.Caddyfile")),
        out.clone(),
    ]
}

#[test]
fn build_out_layouts() {
    for row in layouts() {
        let layout = Layout::new();
        let mut ours = (row.setup)(&layout);
        let before = tree(layout.root());
        if let Some(writes) = row.writes {
            ours.extend(owned_by_build(layout.root(), writes));
        }
        for round in 1..=2 {
            let what = format!("{} (build {round})", row.name);
            let run = build(layout.root(), &layout.posts(), Path::new(row.out));
            let after = tree(layout.root());
            match row.writes {
                Some(writes) => {
                    assert_eq!(run.code, Some(0), "{what}: {}", run.stderr);
                    let feed = std::fs::read(layout.root().join(writes).join("feed.xml"))
                        .unwrap_or_else(|e| panic!("{what}: feed.xml: {e}"));
                    let feed = feed_rs::parser::parse(&feed[..]).expect("feed.xml parses");
                    assert_eq!(feed.entries.len(), 2, "{what}");
                }
                None => {
                    assert_eq!(run.code, Some(1), "{what}: {}", run.stderr);
                    assert!(
                        run.stderr.contains(row.says),
                        "{what}: `{}` in {}",
                        row.says,
                        run.stderr
                    );
                }
            }
            assert_untouched(&what, &before, &after, &ours);
            let existed: Vec<PathBuf> = before.keys().cloned().collect();
            let left: Vec<PathBuf> = staging_left(layout.root(), &existed);
            assert!(left.is_empty(), "{what}: staging left: {left:?}");
        }
        for swept in ours
            .iter()
            .filter(|p| p.to_string_lossy().contains(".new-"))
        {
            assert!(
                !swept.exists(),
                "{}: {} not removed",
                row.name,
                swept.display()
            );
        }
    }
}
