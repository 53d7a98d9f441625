//! Trying an author's templates before they serve: each must compile, and each page must
//! render a sample page of every kind that uses it. One that fails is reported with its
//! line and replaced by its last good version (then, if that fails too, by the embedded
//! one), and the set is tried again.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::sync::Arc;

use super::context::{FeedLink, Page, PageInfo, Pager, PostCard, PostView, SiteInfo, TagLink};
use super::words::words;
use super::{embedded_source, environment, problem, Origin, TemplateProblem, Theme};

type Sources = BTreeMap<&'static str, (Arc<str>, Origin)>;

/// The page templates and the kind of page each renders.
const PAGES: [(&str, &str); 6] = [
    ("home.html", "home"),
    ("archive.html", "archive"),
    ("post.html", "post"),
    ("tag.html", "tag"),
    ("tags.html", "tags"),
    ("404.html", "404"),
];

/// The sources made to work: every failing author template reported once and replaced.
pub(super) fn settle(
    dir: &Path,
    mut sources: Sources,
    previous: &Theme,
    problems: &mut Vec<TemplateProblem>,
) -> Sources {
    let mut reported = BTreeSet::new();
    // Each round replaces an author template, at most twice each: the loop ends.
    for _ in 0..=2 * super::TEMPLATE_NAMES.len() {
        let Some((name, error)) = first_failure(&sources) else {
            break;
        };
        if sources
            .get(name)
            .is_none_or(|(_, o)| *o == Origin::Embedded)
        {
            break; // the embedded theme's own fault: nothing of the author's to set aside
        }
        if reported.insert(name) {
            problems.push(problem(dir, name, error.line(), describe(&error)));
            let good = previous.last_good(name);
            let failing = Arc::clone(&sources[name].0);
            sources.insert(name, good);
            if sources[name].0 != failing {
                continue;
            }
        }
        sources.insert(name, embedded_source(name));
    }
    sources
}

/// The first template that does not compile, or whose page fails on a sample.
fn first_failure(sources: &Sources) -> Option<(&'static str, minijinja::Error)> {
    let (env, failed) = environment(sources, super::SAMPLE_FUEL);
    if failed.is_some() {
        return failed;
    }
    for (page, kind) in PAGES {
        let value = minijinja::Value::from(minijinja::value::Serde(sample(kind)));
        if let Err(error) = env.get_template(page).and_then(|t| t.render(value)) {
            let at = error
                .name()
                .and_then(|n| super::TEMPLATE_NAMES.into_iter().find(|t| *t == n))
                .unwrap_or(page);
            return Some((at, error));
        }
    }
    None
}

/// What went wrong, without the engine's location (the report gives file and line).
fn describe(error: &minijinja::Error) -> String {
    match error.detail() {
        Some(detail) => format!("{}: {detail}", error.kind()),
        None => error.kind().to_string(),
    }
}

/// A page of a kind, with a little of everything a real one has.
pub(super) fn sample(kind: &'static str) -> Page {
    let url = "https://example.org/";
    let feed = |name, media_type, file| FeedLink {
        name,
        media_type,
        title: format!("Example ({name})"),
        url: format!("{url}{file}"),
    };
    let feeds = vec![
        feed("RSS", "application/rss+xml", "feed.xml"),
        feed("Atom", "application/atom+xml", "atom.xml"),
        feed("JSON Feed", "application/feed+json", "feed.json"),
    ];
    let tag = TagLink {
        name: "Example".into(),
        url: format!("{url}tags/example/"),
        count: 2,
        feeds: feeds.clone(),
    };
    let card = PostCard {
        title: "A post".into(),
        url: format!("{url}posts/a-post/"),
        date: "Monday, 14 February 2022".into(),
        datetime: "2022-02-14T09:00:00+00:00".into(),
        summary: "What it says.".into(),
    };
    let post = PostView {
        title: card.title.clone(),
        url: card.url.clone(),
        date: card.date.clone(),
        datetime: card.datetime.clone(),
        updated: card.datetime.clone(),
        authors: "Someone".into(),
        lang: "en".into(),
        image: Some(format!("{url}files/a.png")),
        content: "<p>What it says.</p>".into(),
        tags: vec![tag.clone()],
    };
    Page {
        site: SiteInfo {
            title: "Example".into(),
            description: "A site".into(),
            author: "Someone".into(),
            language: "en".into(),
            url: url.into(),
            tags_url: format!("{url}tags/"),
            opml_url: format!("{url}feeds.opml"),
            theme_url: format!("{url}theme/"),
            icon: Some(format!("{url}files/icon.png")),
            logo: Some(format!("{url}files/logo.png")),
        },
        page: PageInfo {
            kind,
            lang: "en".into(),
            title: "Example".into(),
            url: url.into(),
        },
        t: words("en"),
        site_feeds: feeds.clone(),
        feeds,
        posts: vec![card.clone(), card],
        tags: vec![tag.clone()],
        post: (kind == "post").then_some(post),
        tag: (kind == "tag").then_some(tag),
        pager: matches!(kind, "home" | "archive").then_some(Pager {
            number: 2,
            count: 3,
            newer_url: Some(url.into()),
            older_url: Some(format!("{url}page/3/")),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn the_embedded_pages_render_every_sample() {
        let sources: Sources = super::super::embedded_sources();
        assert!(first_failure(&sources).is_none());
    }

    /// Pieces of template text, well-formed or not, that authors write.
    fn template() -> impl Strategy<Value = String> {
        let piece = prop_oneof![
            "\\PC{0,12}",
            Just("{% extends \"base.html\" %}".to_string()),
            Just("{% block body %}".to_string()),
            Just("{% endblock %}".to_string()),
            Just("{% if post %}".to_string()),
            Just("{% endif %}".to_string()),
            Just("{% for p in posts %}{{ p.title }}".to_string()),
            Just("{% endfor %}".to_string()),
            Just("{% include \"list.html\" %}".to_string()),
            Just("{{ t.n_posts | replace('{n}', tag.count) }}".to_string()),
            Just("{{ post.content | safe }}".to_string()),
            Just("{{ nothing.at.all }}".to_string()),
            Just("{{ site.title | no_such_filter }}".to_string()),
            Just(
                "{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}"
                    .to_string()
            ),
            Just("{{ 1 / 0 }}".to_string()),
            Just("{%".to_string()),
            Just("}}".to_string()),
        ];
        prop::collection::vec(piece, 0..8).prop_map(|pieces| pieces.concat())
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(48))]

        /// Whatever an author writes into a template, loading never panics and every page
        /// of every kind still renders (the author's template, or the last good one).
        #[test]
        fn any_template_text_leaves_every_page_renderable(
            name in prop::sample::select(super::super::TEMPLATE_NAMES.to_vec()),
            text in template(),
        ) {
            let dir = tempfile::tempdir().expect("tempdir");
            std::fs::write(dir.path().join(name), &text).expect("write template");
            let theme = Theme::load(dir.path(), &Theme::embedded());
            for (page, kind) in PAGES {
                prop_assert!(theme.render(page, &sample(kind)).is_ok(), "{page} with {name}: {text:?}");
            }
        }

        /// Author text is escaped on every page, whatever it holds.
        #[test]
        fn titles_never_become_markup(title in "\\PC{0,40}") {
            let title = format!("<script>{title}");
            for (page, kind) in PAGES {
                let mut context = sample(kind);
                context.site.title = title.clone();
                for post in &mut context.posts {
                    post.title = title.clone();
                }
                if let Some(post) = &mut context.post {
                    post.title = title.clone();
                }
                let html = Theme::embedded().render(page, &context).expect("renders");
                prop_assert!(!html.contains("<script>"), "{page}: {html}");
            }
        }
    }
}
