//! Front matter written for Hugo, Jekyll and Zola (issue 17):
//!
//! - property: any set of those generators' keys, in YAML or TOML and in any order, parses;
//!   with a typo of one of dropfeed's own keys added (`titel`) it fails naming that line;
//! - a Hugo post past its `expiryDate` is not published, one before it is, and the site
//!   wakes up at the expiry; a Jekyll `published: false` post is a draft; categories and
//!   tags of every generator are the tags feed readers see (feed-rs);
//! - `dropfeed check` reports another generator's layout keys as information, which even
//!   `--strict` does not count against the posts.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use chrono::{TimeZone, Utc};
use chrono_tz::Tz;
use common::feeds::{build, feed_rs};
use dropfeed::post::frontmatter::split;
use dropfeed::post::generators::{LAYOUT_KEYS, MAPPED_KEYS, OWN_KEYS};
use dropfeed::site::Held;
use proptest::prelude::*;
use tempfile::TempDir;

/// A key of Hugo, Jekyll or Zola and a valid value for it, in YAML and in TOML.
const KEYS: &[(&str, &str, &str)] = &[
    ("title", "\"A title\"", "\"A title\""),
    ("date", "2020-01-02", "2020-01-02"),
    ("updated", "\"2020-03-01 10:00\"", "2020-03-01T10:00:00Z"),
    ("slug", "a-slug", "\"a-slug\""),
    ("summary", "Short.", "\"Short.\""),
    ("tags", "[a, b]", "[\"a\", \"b\"]"),
    ("authors", "[Ann]", "[\"Ann\"]"),
    ("lang", "en", "\"en\""),
    ("draft", "false", "false"),
    ("aliases", "[/old/]", "[\"/old/\"]"),
    ("lastmod", "2020-02-01", "2020-02-01"),
    ("publishDate", "2020-01-03", "2020-01-03"),
    ("expiryDate", "2099-01-01", "2099-01-01"),
    ("description", "A description", "\"A description\""),
    ("categories", "jekyll update", "[\"Big News\"]"),
    ("author", "Bo", "\"Bo\""),
    ("images", "[a.png]", "[\"a.png\"]"),
    ("url", "/2019/old/", "\"/2019/old/\""),
    ("published", "true", "true"),
    ("last_modified_at", "2020-02-02", "2020-02-02"),
    ("excerpt", "An excerpt", "\"An excerpt\""),
    ("category", "news", "\"news\""),
    ("permalink", "/2019/01/old.html", "\"/2019/01/old.html\""),
    ("redirect_from", "[/older/]", "[\"/older/\"]"),
    (
        "taxonomies",
        "{tags: [x], series: [s1]}",
        "{ tags = [\"x\"], series = [\"s1\"] }",
    ),
    ("path", "2019/zola-old", "\"2019/zola-old\""),
    ("layout", "post", "\"post\""),
    ("weight", "3", "3"),
    ("menu", "{main: {weight: 1}}", "{ main = { weight = 1 } }"),
    ("extra", "{cover: a.png}", "{ cover = \"a.png\" }"),
    ("template", "page.html", "\"page.html\""),
    ("toc", "true", "true"),
    ("keywords", "[k]", "[\"k\"]"),
    ("type", "post", "\"post\""),
    ("in_search_index", "false", "false"),
];

/// One edit of an own key that makes no key dropfeed knows: a typo.
fn typo(key: &str, edit: usize, at: usize) -> Option<String> {
    let chars: Vec<char> = key.chars().collect();
    let i = at % chars.len();
    let mut out = chars.clone();
    match edit % 3 {
        0 if i + 1 < chars.len() && chars[i] != chars[i + 1] => out.swap(i, i + 1),
        1 if chars.len() > 2 => {
            out.remove(i);
        }
        2 => out.insert(i, 'x'),
        _ => return None,
    }
    let typo: String = out.into_iter().collect();
    let known = OWN_KEYS
        .iter()
        .chain(&MAPPED_KEYS)
        .chain(&LAYOUT_KEYS)
        .any(|k| *k == typo);
    (!known).then_some(typo)
}

/// The front matter text, and the file line each key is on (the block starts on line 2).
fn front_matter(keys: &[(String, &str)], toml: bool) -> String {
    let fence = if toml { "+++" } else { "---" };
    let mut text = format!("{fence}\n");
    for (key, value) in keys {
        if toml {
            text.push_str(&format!("{key} = {value}\n"));
        } else {
            text.push_str(&format!("{key}: {value}\n"));
        }
    }
    text.push_str(&format!("{fence}\nBody.\n"));
    text
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn generator_keys_parse_and_a_typo_of_ours_names_its_line(
        chosen in proptest::sample::subsequence((0..KEYS.len()).collect::<Vec<_>>(), 0..KEYS.len()),
        order in any::<proptest::sample::Index>(),
        toml in any::<bool>(),
        typo_of in proptest::option::of((0..OWN_KEYS.len(), 0usize..3, 0usize..12, any::<proptest::sample::Index>())),
    ) {
        let mut keys: Vec<(String, &str)> = chosen
            .iter()
            .map(|&i| (KEYS[i].0.to_string(), if toml { KEYS[i].2 } else { KEYS[i].1 }))
            .collect();
        if !keys.is_empty() {
            let by = order.index(keys.len());
            keys.rotate_left(by);
        }
        let typo = typo_of.and_then(|(own, edit, at, place)| {
            let typo = typo(OWN_KEYS[own], edit, at)?;
            let place = place.index(keys.len() + 1);
            keys.insert(place, (typo.clone(), "\"x\""));
            Some((typo, place + 2))
        });
        let text = front_matter(&keys, toml);
        match (split(&text, Tz::UTC), typo) {
            (Ok(_), None) => {}
            (Err((line, message)), Some((typo, at))) => {
                prop_assert_eq!(line, at, "{}\n{}", message, text);
                prop_assert!(message.contains(&typo), "{}", message);
            }
            (Ok(_), Some((typo, _))) => prop_assert!(false, "typo `{}` accepted:\n{}", typo, text),
            (Err(e), None) => prop_assert!(false, "refused {:?}:\n{}", e, text),
        }
    }
}

/// A temporary `posts/` folder holding the given files.
fn posts_folder(files: &[(&str, &str)]) -> (TempDir, PathBuf) {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let posts = dir.path().join("posts");
    std::fs::create_dir(&posts).expect("create posts/");
    for (name, text) in files {
        std::fs::write(posts.join(name), text).expect("write a post");
    }
    (dir, posts)
}

const HUGO_EXPIRED: &str =
    "+++\ntitle = \"Gone\"\ndate = 2020-01-01\nexpiryDate = 2020-06-01\n+++\nOld offer.\n";
const HUGO_EXPIRING: &str = "+++\ntitle = \"Going\"\ndate = 2020-01-01\nexpirydate = 2030-06-01\ncategories = [\"Offers\"]\nlayout = \"offer\"\n+++\nStill valid.\n";
const JEKYLL_UNPUBLISHED: &str =
    "---\nlayout: post\ntitle: Hidden\ndate: 2020-01-02 10:00:00 +0100\npublished: false\n---\nNot yet.\n";
const JEKYLL: &str = "---\nlayout: post\ntitle: Shown\ndate: 2020-01-03 10:00:00 +0100\ncategories: jekyll update\ntags: [notes]\n---\nHello.\n";
const ZOLA: &str = "+++\ntitle = \"Zola\"\ndate = 2020-01-04\n[taxonomies]\ntags = [\"rust\"]\ncategories = [\"code\"]\n[extra]\ncover = \"c.png\"\n+++\nHi.\n";

#[test]
fn expired_and_unpublished_posts_are_held_and_every_generators_tags_are_served() {
    let (_dir, posts) = posts_folder(&[
        ("gone.md", HUGO_EXPIRED),
        ("going.md", HUGO_EXPIRING),
        ("hidden.md", JEKYLL_UNPUBLISHED),
        ("shown.md", JEKYLL),
        ("zola.md", ZOLA),
    ]);
    let now = Utc.with_ymd_and_hms(2025, 1, 1, 0, 0, 0).unwrap();
    let built = build(&posts, "base_url = \"https://ex.org/\"\n", now);
    let held = &built.site.held;
    assert!(
        matches!(held.get("gone.md"), Some(Held::Expired(_))),
        "{held:?}"
    );
    assert_eq!(held.get("hidden.md"), Some(&Held::Draft));
    let expiry = Utc.with_ymd_and_hms(2030, 6, 1, 0, 0, 0).unwrap();
    assert_eq!(built.site.next_scheduled, Some(expiry));
    let feed = built.snapshot.get("atom.xml").expect("atom.xml");
    let feed = feed_rs(&feed.identity.body, "atom.xml");
    let mut seen: Vec<(String, Vec<String>)> = feed
        .entries
        .iter()
        .map(|e| {
            let title = e
                .title
                .as_ref()
                .map(|t| t.content.clone())
                .unwrap_or_default();
            (title, e.categories.iter().map(|c| c.term.clone()).collect())
        })
        .collect();
    seen.sort();
    let expected = [
        ("Going", vec!["Offers"]),
        ("Shown", vec!["notes", "jekyll", "update"]),
        ("Zola", vec!["rust", "code"]),
    ];
    let expected: Vec<(String, Vec<String>)> = expected
        .iter()
        .map(|(t, tags)| (t.to_string(), tags.iter().map(|s| s.to_string()).collect()))
        .collect();
    assert_eq!(seen, expected);
    // After its expiry the post is withdrawn.
    let later = build(&posts, "base_url = \"https://ex.org/\"\n", expiry);
    assert!(matches!(
        later.site.held.get("going.md"),
        Some(Held::Expired(_))
    ));
}

/// `dropfeed check` on a folder: exit code and standard output.
fn check(posts: &Path, strict: bool) -> (Option<i32>, String) {
    let mut command = Command::new(env!("CARGO_BIN_EXE_dropfeed"));
    command.args(["check", "--posts"]).arg(posts);
    if strict {
        // With information shown: another generator's layout keys are information.
        command.args(["--strict", "--verbose"]);
    }
    let output = command.output().expect("run dropfeed check");
    (
        output.status.code(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
    )
}

#[test]
fn layout_keys_are_notes_that_strict_checks_do_not_count() {
    let zola_with_lang = ZOLA.replace("date =", "lang = \"en\"\ndate =");
    let (_dir, posts) = posts_folder(&[("zola.md", &zola_with_lang)]);
    let (code, out) = check(&posts, true);
    assert_eq!(code, Some(0), "{out}");
    assert!(out.contains("info: `extra` ignored"), "{out}");
    let (_dir, posts) = posts_folder(&[(
        "typo.md",
        "---\ntitle: x\nlang: en\nsumary: y\n---\nText.\n",
    )]);
    let (code, out) = check(&posts, false);
    assert_eq!(code, Some(1), "{out}");
    assert!(
        out.contains("typo.md:4: error: unknown field `sumary`: did you mean `summary`?"),
        "{out}"
    );
}
