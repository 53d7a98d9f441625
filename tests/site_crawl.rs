//! Every URL on the site answers 200: a crawl from `/` through every page, feed, archive
//! page, post page and file beside posts (see `common/crawl.rs`), on the shipped `posts/`
//! with its `dropfeed.toml` (a podcast show: artwork, episode, transcript) and on a generated 1,000-post site with pictures and episodes in every shape authors
//! put them, served, and written out by `dropfeed build` (the folder crawled as a static
//! server serves it, built with a `base_url` under a path, `/blog/`).

mod common;

use std::path::Path;
use std::process::Command;

use common::crawl::{crawl, ExportedSite, Report, ServedSite};
use common::feeds::sample_posts;
use common::server::Server;
use common::sites;
use url::Url;

/// The pictures and episodes the generated site links to: 250 bundles' photos, 250 dated
/// posts' photos, 250 episodes, 10 shared pictures and one with an accent and a space.
const GENERATED_FILES: usize = 250 + 250 + 250 + 10 + 1;

fn summary(what: &str, report: &Report) {
    eprintln!(
        "{what}: {} URLs answered ({} files beside posts, {} post pages, {} tag pages and feeds)",
        report.fetched.len(),
        report.count("files/"),
        report.count("posts/"),
        report.count("tags/")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_url_on_the_shipped_site_answers_200() {
    // With the shipped config: the podcasts tag is a show (artwork, transcript, episode).
    let config = include_str!("../dropfeed.toml");
    let server = Server::start_copy(&sample_posts(), config).await;
    let report = crawl(&ServedSite(&server)).await;
    summary("shipped site, served", &report);
    report.assert_all_ok("the shipped site");
    assert!(
        report.count("files/images/pipeline.png") == 1,
        "{:?}",
        report.fetched
    );
    assert_eq!(report.count("posts/"), 6, "every published post's page");
    for file in [
        "cover.png",
        "feeds-over-coffee.mp3",
        "feeds-over-coffee.vtt",
    ] {
        let route = format!("files/{file}");
        assert_eq!(report.count(&route), 1, "{file}: {:?}", report.fetched);
    }
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_url_on_a_generated_thousand_post_site_answers_200() {
    let server = Server::launch_with(
        |dir| sites::generate(dir, 1000),
        "",
        std::sync::Arc::new(dropfeed::pipeline::SystemClock),
    )
    .await;
    let report = crawl(&ServedSite(&server)).await;
    summary("generated site, served", &report);
    report.assert_all_ok("the generated site");
    assert_eq!(report.count("posts/"), 1000);
    assert_eq!(report.count("files/"), GENERATED_FILES);
    server.stop().await;
}

/// Builds `posts` with the `dropfeed` binary into a fresh folder, `base_url` under `/blog/`.
fn export(posts: &Path) -> (tempfile::TempDir, ExportedSite) {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let copy = dir.path().join("posts");
    common::feeds::copy_tree(posts, &copy);
    let config = dir.path().join("site.toml");
    std::fs::write(&config, "base_url = \"https://example.org/blog/\"\n").expect("a config");
    let out = dir.path().join("out");
    let built = Command::new(env!("CARGO_BIN_EXE_dropfeed"))
        .args(["build", "--posts"])
        .arg(&copy)
        .arg("--out")
        .arg(&out)
        .arg("--config")
        .arg(&config)
        .output()
        .expect("dropfeed build runs");
    assert!(
        built.status.success(),
        "{}",
        String::from_utf8_lossy(&built.stderr)
    );
    let site = ExportedSite {
        root: out,
        base_url: Url::parse("https://example.org/blog/").expect("a URL"),
    };
    (dir, site)
}

#[tokio::test]
async fn every_url_of_the_shipped_site_exported_resolves_to_a_file() {
    let (_dir, site) = export(&sample_posts());
    let report = crawl(&site).await;
    summary("shipped site, exported", &report);
    report.assert_all_ok("the shipped site's export");
    let picture = std::fs::read(site.root.join("files/images/pipeline.png")).expect("copied");
    assert_eq!(
        picture,
        std::fs::read(sample_posts().join("images/pipeline.png")).unwrap()
    );
}

#[tokio::test]
async fn every_url_of_a_generated_site_exported_resolves_to_a_file() {
    let source = tempfile::tempdir().expect("a temporary folder");
    sites::generate(source.path(), 1000);
    let (_dir, site) = export(source.path());
    let report = crawl(&site).await;
    summary("generated site, exported", &report);
    report.assert_all_ok("the generated site's export");
    assert_eq!(report.count("files/"), GENERATED_FILES);
    assert!(site.root.join("files/images/café photo.png").is_file());
}
