//! The three subscription feeds of a small fixture site (`tests/fixtures/small/`: a YAML post,
//! a TOML post and a plain-text post), built with a fixed config and a fixed "now", pinned as
//! reviewed insta snapshots in `tests/snapshots/`. A change to any byte a reader receives shows
//! up as a snapshot diff to review like code.

mod common;

use std::path::{Path, PathBuf};

use common::feeds::build_site;

const CONFIG: &str = "base_url = \"https://example.org/\"\ntitle = \"Small fixture\"\n";

fn fixture() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/small")
}

/// The body of a route of the fixture site (built from a temporary copy), as text.
fn rendered(route: &str) -> String {
    let out = build_site(&fixture(), CONFIG);
    String::from_utf8(out.bytes(route).to_vec()).expect("feeds are UTF-8")
}

#[test]
fn rss_feed() {
    insta::assert_snapshot!(rendered("feed.xml"));
}

#[test]
fn atom_feed() {
    insta::assert_snapshot!(rendered("atom.xml"));
}

#[test]
fn json_feed() {
    insta::assert_snapshot!(rendered("feed.json"));
}
