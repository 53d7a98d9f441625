//! Old addresses keep working (issue 17): a post's `aliases` (and Jekyll `redirect_from`,
//! `permalink`) and the config's `[redirects]` table (`"/feed/" = "/feed.xml"`, the form
//! scripts outside this repository write) answer `301` with the absolute URL of the new
//! address, to `GET` and `HEAD`, with or without the trailing slash; a redirect never hides a
//! real page or feed; an alias of a draft redirects nowhere; a newly added alias works at
//! once (the watcher rebuilds), a removed one answers `404`.

mod common;

use std::sync::Arc;

use common::server::{header, markdown_post, Server};
use dropfeed::pipeline::SystemClock;
use hyper::StatusCode;

const CONFIG: &str = "[redirects]\n\"/feed/\" = \"/feed.xml\"\n\"/rss.xml\" = \"/feed.xml\"\n\"/atom\" = \"/atom.xml\"\n\"/feed.json\" = \"/elsewhere/\"\n\"/moved-away/\" = \"https://other.example/new/\"\n";

fn posts() -> Vec<(&'static str, String)> {
    vec![
        (
            "hello.md",
            "---\ntitle: Hello\ndate: 2020-01-01\naliases: [/2020/01/01/hello-world/, old-hello.html]\n---\nHi.\n"
                .to_string(),
        ),
        (
            "jekyll.md",
            "---\ntitle: From Jekyll\ndate: 2020-02-01\nlayout: post\npermalink: /2020/02/from-jekyll.html\nredirect_from: [/posts/hello/]\n---\nHi.\n"
                .to_string(),
        ),
        (
            "draft.md",
            "---\ntitle: Draft\ndate: 2020-03-01\ndraft: true\naliases: [/draft-old/]\n---\nNot yet.\n"
                .to_string(),
        ),
    ]
}

#[tokio::test]
async fn aliases_and_redirects_answer_301_with_the_new_absolute_url() {
    let files = posts();
    let files: Vec<(&str, &str)> = files.iter().map(|(n, t)| (*n, t.as_str())).collect();
    let server = Server::start_with(&files, CONFIG, Arc::new(SystemClock)).await;
    let base = server.url("/");
    let moves = [
        ("/feed/", format!("{base}feed.xml")),
        ("/feed", format!("{base}feed.xml")),
        ("/rss.xml", format!("{base}feed.xml")),
        ("/atom", format!("{base}atom.xml")),
        ("/atom/", format!("{base}atom.xml")),
        ("/moved-away/", "https://other.example/new/".to_string()),
        ("/2020/01/01/hello-world/", format!("{base}posts/hello/")),
        ("/2020/01/01/hello-world", format!("{base}posts/hello/")),
        ("/old-hello.html", format!("{base}posts/hello/")),
        ("/2020/02/from-jekyll.html", format!("{base}posts/jekyll/")),
    ];
    for (old, new) in &moves {
        let (status, headers, _) = server.get(old, &[]).await;
        assert_eq!(status, StatusCode::MOVED_PERMANENTLY, "GET {old}");
        assert_eq!(header(&headers, "location"), new, "GET {old}");
        let (status, headers, body) = server.head(old, &[]).await;
        assert_eq!(status, StatusCode::MOVED_PERMANENTLY, "HEAD {old}");
        assert_eq!(header(&headers, "location"), new, "HEAD {old}");
        assert!(body.is_empty());
    }
    // Real routes win: the JSON feed and a post page are served, not redirected.
    for real in ["/feed.json", "/posts/hello/"] {
        let (status, _, _) = server.get(real, &[]).await;
        assert_eq!(status, StatusCode::OK, "GET {real}");
    }
    // A draft's alias redirects nowhere; unknown paths stay 404.
    for missing in ["/draft-old/", "/index.xml", "/nothing/"] {
        let (status, _, _) = server.get(missing, &[]).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "GET {missing}");
    }
    // An alias added to a post works after the rebuild; removed, it is gone.
    server.write_post(
        "later.md",
        &markdown_post("Later", "2020-04-01", "Text.").replace(
            "date: 2020-04-01\n",
            "date: 2020-04-01\naliases: [/later-old/]\n",
        ),
    );
    let arrived = common::server::wait_until(std::time::Duration::from_secs(20), async || {
        server.get("/later-old/", &[]).await.0 == StatusCode::MOVED_PERMANENTLY
    })
    .await;
    assert!(arrived, "the new alias never answered 301");
    server.remove_post("later.md");
    let gone = common::server::wait_until(std::time::Duration::from_secs(20), async || {
        server.get("/later-old/", &[]).await.0 == StatusCode::NOT_FOUND
    })
    .await;
    assert!(gone, "the removed alias still answers");
    server.stop().await;
}

#[test]
fn an_alias_on_another_posts_page_is_refused_with_a_notice() {
    let dir = tempfile::tempdir().unwrap();
    let posts = dir.path().join("posts");
    std::fs::create_dir(&posts).unwrap();
    std::fs::write(
        posts.join("a.md"),
        "---\ntitle: A\ndate: 2020-01-01\naliases: [/posts/b/, /feed/]\n---\nA.\n",
    )
    .unwrap();
    std::fs::write(
        posts.join("b.md"),
        "---\ntitle: B\ndate: 2020-01-02\n---\nB.\n",
    )
    .unwrap();
    let built = common::feeds::build(
        &posts,
        &format!("base_url = \"https://ex.org/\"\n{CONFIG}"),
        common::feeds::fixed_now(),
    );
    let messages: Vec<&str> = built
        .site
        .notices
        .iter()
        .map(|n| n.message.as_str())
        .collect();
    assert!(
        messages
            .iter()
            .any(|m| m.contains("/posts/b/ not redirected here: it is a post's own page")),
        "{messages:?}"
    );
    assert!(
        messages.iter().any(|m| m.contains(
            "/feed/ not redirected here: it already redirects to https://ex.org/feed.xml"
        )),
        "{messages:?}"
    );
    assert_eq!(built.snapshot.redirect("posts/b/"), None);
    assert_eq!(
        built.snapshot.redirect("feed/"),
        Some("https://ex.org/feed.xml")
    );
}
