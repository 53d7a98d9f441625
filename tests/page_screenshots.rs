//! What a person sees, in headless Chromium at a desktop width (1280 px) and a phone width
//! (390 px): the home page, the Indonesian post, a tag page, and `/atom.xml` opened in the
//! browser (shown through the feed stylesheet). Screenshots are saved under
//! `target/test-artifacts/page_screenshots/` for a person to look at; the test checks each
//! is a PNG of more than a blank page, and that the feed is shown as a page and not as text.
//! Without chromium it prints "SKIPPED …: chromium not installed" and passes.

mod common;

use common::chromium;
use common::feeds::sample_posts;
use common::server::Server;
use common::skip::skipped;

const WIDTHS: [(&str, (u32, u32)); 2] = [("desktop", (1280, 900)), ("phone", (390, 844))];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pages_and_a_feed_in_the_browser_at_desktop_and_phone_widths() {
    let Some(browser) = chromium::find() else {
        skipped("chromium not installed; screenshots not taken");
        return;
    };
    let server = Server::start_copy(&sample_posts(), "").await;
    let out = chromium::artifacts("page_screenshots");
    let pages = [
        ("home", "/"),
        ("post-id", "/posts/lavrov-jaminan-keamanan/"),
        ("tag", "/tags/feeds/"),
        ("atom", "/atom.xml"),
    ];
    for (name, path) in pages {
        let (status, _, _) = server.get(path, &[]).await;
        assert_eq!(status, 200, "{path}");
        for (width_name, size) in WIDTHS {
            let png = out.join(format!("{name}-{width_name}.png"));
            let (browser, url, target) = (browser.clone(), server.url(path), png.clone());
            tokio::task::spawn_blocking(move || {
                chromium::screenshot(&browser, &url, &target, size)
            })
            .await
            .expect("the screenshot thread");
            eprintln!("screenshot of {path} ({width_name}): {}", png.display());
        }
    }
    let url = server.url("/atom.xml");
    let dom = tokio::task::spawn_blocking(move || chromium::dom(&browser, &url))
        .await
        .expect("chromium ran");
    assert!(
        !dom.contains("&lt;feed"),
        "the feed is shown as a page, not as XML text"
    );
    assert!(
        dom.contains("Senin") || dom.contains("Lavrov"),
        "its entries are listed"
    );
}
