//! Other generators' front matter read as ours; typos told from other keys.

use super::*;

#[test]
fn typos_of_own_keys_are_told_from_other_keys() {
    for (typo, own) in [
        ("titel", "title"),
        ("Title", "title"),
        ("tgas", "tags"),
        ("dat", "date"),
        ("summery", "summary"),
        ("updatd", "updated"),
        ("ids", "id"),
        ("enclosur", "enclosure"),
    ] {
        assert_eq!(typo_of(typo), Some(own), "{typo}");
    }
    for other in ["toc", "featured", "subtitle", "x", "banner", "weight"] {
        assert_eq!(typo_of(other), None, "{other}");
    }
    // Known keys of other generators are never typos, however close to ours.
    for key in MAPPED_KEYS.iter().chain(&LAYOUT_KEYS) {
        let report = classify_keys([*key], |_| 1);
        assert!(report.is_ok(), "{key}");
    }
}

fn split(text: &str) -> crate::post::frontmatter::Split<'_> {
    crate::post::frontmatter::split(text, chrono_tz::Tz::UTC).unwrap()
}

#[test]
fn hugo_front_matter_is_read_as_ours() {
    let text = "+++\ntitle = \"T\"\ndate = 2020-01-01\npublishDate = 2020-01-03\nlastmod = 2020-02-01\nexpiryDate = 2030-01-01\ndescription = \"D\"\ncategories = [\"Big News\"]\ntags = [\"a\"]\nauthor = \"Ann\"\naliases = [\"/old/\"]\nlayout = \"post\"\nweight = 3\n[menu.main]\nname = \"x\"\n+++\nBody";
    let s = split(text);
    assert_eq!(s.date.unwrap().to_rfc3339(), "2020-01-03T00:00:00+00:00");
    assert_eq!(s.updated.unwrap().to_rfc3339(), "2020-02-01T00:00:00+00:00");
    assert_eq!(s.expires.unwrap().to_rfc3339(), "2030-01-01T00:00:00+00:00");
    assert_eq!(s.meta.summary.as_deref(), Some("D"));
    assert_eq!(s.meta.tags.0, ["a", "Big News"]);
    assert_eq!(s.meta.authors.0, ["Ann"]);
    assert_eq!(s.meta.aliases, ["old/"]);
    assert_eq!(s.meta.notes.len(), 3, "{:?}", s.meta.notes);
    assert!(s.meta.warnings.is_empty(), "{:?}", s.meta.warnings);
}

#[test]
fn jekyll_front_matter_is_read_as_ours() {
    let text = "---\nlayout: post\ntitle: T\ndate: 2015-03-12 17:32:00 -0500\ncategories: jekyll update\nexcerpt: E\nlast_modified_at: 2016-01-01\npublished: false\npermalink: /2015/old.html\nredirect_from: [/older/]\nauthor: [Bo, Cy]\n---\nBody";
    let s = split(text);
    assert_eq!(s.date.unwrap().to_rfc3339(), "2015-03-12T17:32:00-05:00");
    assert_eq!(s.updated.unwrap().to_rfc3339(), "2016-01-01T00:00:00+00:00");
    assert_eq!(s.meta.tags.0, ["jekyll", "update"]);
    assert_eq!(s.meta.summary.as_deref(), Some("E"));
    assert!(s.meta.draft);
    assert_eq!(s.meta.aliases, ["older/", "2015/old.html"]);
    assert_eq!(s.meta.authors.0, ["Bo", "Cy"]);
}

#[test]
fn zola_front_matter_is_read_as_ours() {
    let text = "+++\ntitle = \"T\"\ndate = 2021-05-01\nupdated = 2021-06-01\ndescription = \"D\"\ntemplate = \"page.html\"\npath = \"2021/t\"\n[taxonomies]\ntags = [\"x\"]\ncategories = [\"y\"]\nseries = [\"z\"]\n[extra]\ncover = \"a.png\"\n+++\nBody";
    let s = split(text);
    assert_eq!(s.updated.unwrap().to_rfc3339(), "2021-06-01T00:00:00+00:00");
    assert_eq!(s.meta.tags.0, ["x", "y"]);
    assert_eq!(s.meta.aliases, ["2021/t"]);
    assert_eq!(s.meta.notes.len(), 3, "{:?}", s.meta.notes);
}

#[test]
fn unknown_keys_are_warnings_and_typos_errors_at_their_line() {
    let s = split("---\ntitle: T\nfeatured: true\n---\n");
    assert_eq!(s.meta.warnings.len(), 1, "{:?}", s.meta.warnings);
    let text = "+++\ntitle = \"T\"\nlayout = \"x\"\n\nsumary = \"s\"\n+++\n";
    let (line, message) = crate::post::frontmatter::split(text, chrono_tz::Tz::UTC).unwrap_err();
    assert_eq!(line, 5, "{message}");
    assert!(message.contains("`summary`"), "{message}");
}

#[test]
fn aliases_become_routes() {
    assert_eq!(
        alias_route("/2010/01/old.html").unwrap(),
        "2010/01/old.html"
    );
    assert_eq!(alias_route("old-name/").unwrap(), "old-name/");
    assert_eq!(alias_route("https://old.example/a b/").unwrap(), "a%20b/");
    assert!(alias_route("/?p=12").is_err());
    assert!(alias_route("/").is_err());
    assert!(alias_route("/:year/:title/").is_err());
    assert!(alias_route("javascript:alert(1)").is_err());
}
