//! The three subscription feeds of a small fixture site (`tests/fixtures/small/`: a YAML post,
//! a TOML post and a plain-text post), built with a fixed config and a fixed "now", pinned as
//! reviewed insta snapshots in `tests/snapshots/`. A change to any byte a reader receives shows
//! up as a snapshot diff to review like code.

mod common;

use std::path::{Path, PathBuf};

use common::feeds::{build, fixed_now};

const CONFIG: &str = "base_url = \"https://example.org/\"\ntitle = \"Small fixture\"\n";

fn fixture() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/small")
}

/// The body of a route of the fixture site, as text.
fn rendered(route: &str) -> String {
    let built = build(&fixture(), CONFIG, fixed_now());
    let resource = built
        .snapshot
        .resources
        .get(route)
        .unwrap_or_else(|| panic!("no route `{route}`"));
    String::from_utf8(resource.identity.body.to_vec()).expect("feeds are UTF-8")
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
