//! A patched site is the site a whole build makes: checked after every change of random
//! sequences of new, edited, re-dated, re-tagged, drafted, scheduled, expiring, aliased and
//! deleted posts, with colliding ids and slugs and tags spelt differently.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use chrono::{DateTime, TimeZone, Utc};
use proptest::prelude::*;

use super::{Change, Held, Site};
use crate::config::{Config, RawConfig};
use crate::post::Post;

/// One version of a post file, as the generator draws it.
#[derive(Debug, Clone)]
struct Version {
    source: usize,
    day: u32,
    tags: Vec<usize>,
    draft: bool,
    slug: Option<usize>,
    id: Option<usize>,
    alias: Option<usize>,
    expires: Option<u32>,
    title: u8,
}

const TAGS: [&str; 5] = ["Rust", "rust", "Go", "Café", "news"];

fn version() -> impl Strategy<Value = Version> {
    (
        (0usize..10, 1u32..12, prop::collection::vec(0usize..5, 0..3)),
        (
            prop::bool::weighted(0.1),
            prop::option::weighted(0.15, 0usize..3),
        ),
        (
            prop::option::weighted(0.1, 0usize..2),
            prop::option::weighted(0.1, 0usize..3),
            prop::option::weighted(0.1, 1u32..12),
            any::<u8>(),
        ),
    )
        .prop_map(
            |((source, day, tags), (draft, slug), (id, alias, expires, title))| Version {
                source,
                day,
                tags,
                draft,
                slug,
                id,
                alias,
                expires,
                title,
            },
        )
}

fn post(v: &Version) -> Arc<Post> {
    let mut text = format!(
        "---\ntitle: T{}\ndate: 2026-01-{:02}\ntags: [{}]\ndraft: {}\n",
        v.title,
        v.day,
        v.tags
            .iter()
            .map(|t| TAGS[*t])
            .collect::<Vec<_>>()
            .join(", "),
        v.draft
    );
    if let Some(slug) = v.slug {
        text += &format!("slug: s{slug}\n");
    }
    if let Some(id) = v.id {
        text += &format!("id: \"urn:x:{id}\"\n");
    }
    if let Some(alias) = v.alias {
        text += &format!("aliases: [\"/old/{alias}/\"]\n");
    }
    if let Some(day) = v.expires {
        text += &format!("expiryDate: 2026-01-{day:02}\n");
    }
    text += "---\n\nBody.\n";
    for picture in &v.tags {
        // Pictures beside posts, some shared: linked like the tags drawn.
        text += &format!("\n![p](img/{picture}.png)\n");
    }
    let source = format!("p{}.md", v.source);
    let ctx = crate::post::test_context();
    Arc::new(crate::post::parse(&source, std::path::Path::new(&source), &text, &ctx).unwrap())
}

/// Everything a site decides, comparable.
fn decided(site: &Site) -> String {
    let entries: Vec<_> = site
        .entries
        .iter()
        .map(|e| {
            let p = &e.post;
            (&p.source, &*e.id, e.link(), e.page_path(), &p.title, p.date)
        })
        .collect();
    let tags: Vec<_> = site
        .tags
        .iter()
        .map(|(slug, set)| (slug, &set.name, &set.entries))
        .collect();
    let held: &BTreeMap<String, Held> = &site.held;
    format!(
        "{entries:#?}\n{tags:?}\n{held:?}\n{:?}\n{:?}\n{:?}\n{:?}",
        site.next_scheduled, site.notices, site.redirects, site.published_files
    )
}

fn at_day(day: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 1, day, 12, 0, 0).unwrap()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn a_patched_site_is_the_site_a_whole_build_makes(
        first in prop::collection::vec(version(), 0..10),
        steps in prop::collection::vec(
            (prop::collection::vec((0usize..10, prop::option::weighted(0.75, version())), 1..4), 0u32..3),
            1..12,
        ),
    ) {
        let config = Arc::new(Config::from_raw(RawConfig::default(), None).unwrap());
        let ids: HashMap<String, String> = HashMap::new();
        let mut day = 6;
        let mut files: BTreeMap<String, Arc<Post>> = BTreeMap::new();
        for v in &first {
            let p = post(v);
            files.insert(p.source.clone(), p);
        }
        let all = |files: &BTreeMap<String, Arc<Post>>| files.values().cloned().collect::<Vec<_>>();
        let mut site = Site::build(Arc::clone(&config), &all(&files), &ids, at_day(day));
        for (changes, later) in steps {
            day += later;
            // Each source once, as the library reports it: its state after the step.
            let mut changed: BTreeMap<String, Option<Arc<Post>>> = BTreeMap::new();
            for (source, new) in changes {
                let name = format!("p{source}.md");
                let p = new.map(|v| post(&Version { source, ..v }));
                match &p {
                    Some(p) => files.insert(name.clone(), Arc::clone(p)),
                    None => files.remove(&name),
                };
                changed.insert(name, p);
            }
            let changed: Vec<_> = changed.into_iter().collect();
            let whole = Site::build(Arc::clone(&config), &all(&files), &ids, at_day(day));
            if let Some(patched) = Site::patched(&site, &config, &changed, &ids, at_day(day)) {
                prop_assert_eq!(decided(&patched), decided(&whole));
                site = patched;
            } else {
                site = whole;
            }
        }
    }
}

#[test]
fn new_deleted_redated_and_retagged_posts_are_patched_not_built_whole() {
    let config = Arc::new(Config::from_raw(RawConfig::default(), None).unwrap());
    let ids: HashMap<String, String> = HashMap::new();
    let base = |source, day, tags: Vec<usize>| Version {
        source,
        day,
        tags,
        draft: false,
        slug: None,
        id: None,
        alias: None,
        expires: None,
        title: 1,
    };
    let posts: Vec<Arc<Post>> = (0..5)
        .map(|i| post(&base(i, i as u32 + 1, vec![i % 3])))
        .collect();
    let now = at_day(11);
    let site = Site::build(Arc::clone(&config), &posts, &ids, now);
    assert_eq!(
        site.published_files.len(),
        3,
        "posts link pictures 0, 1 and 2"
    );
    let cases: Vec<(&str, Vec<Change>)> = vec![
        (
            "new",
            vec![("p7.md".into(), Some(post(&base(7, 3, vec![1]))))],
        ),
        ("deleted", vec![("p2.md".into(), None)]),
        (
            "re-dated",
            vec![("p1.md".into(), Some(post(&base(1, 9, vec![1]))))],
        ),
        (
            "re-tagged",
            vec![("p3.md".into(), Some(post(&base(3, 4, vec![4, 2]))))],
        ),
        (
            "drafted",
            vec![(
                "p4.md".into(),
                Some(post(&Version {
                    draft: true,
                    ..base(4, 5, vec![])
                })),
            )],
        ),
    ];
    for (what, changed) in cases {
        let mut files: BTreeMap<String, Arc<Post>> = posts
            .iter()
            .map(|p| (p.source.clone(), Arc::clone(p)))
            .collect();
        for (source, post) in &changed {
            match post {
                Some(p) => files.insert(source.clone(), Arc::clone(p)),
                None => files.remove(source),
            };
        }
        let whole = Site::build(
            Arc::clone(&config),
            &files.into_values().collect::<Vec<_>>(),
            &ids,
            now,
        );
        let patched = Site::patched(&site, &config, &changed, &ids, now);
        let patched = patched.unwrap_or_else(|| panic!("a {what} post was built whole"));
        assert_eq!(decided(&patched), decided(&whole), "{what}");
    }
}
