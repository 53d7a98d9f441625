//! Scheduled publishing: a future-dated post appears when its time comes, without any file
//! event.
//!
//! - With the test clock on 2026-01-01, a post dated 2026-01-02 is in no feed and has no
//!   page. Moving the clock to noon of 2026-01-01 and waking the watcher changes nothing;
//!   moving it to 2026-01-03 and waking (`Message::Wake`) publishes it in every feed, with
//!   its page and a new ETag.
//! - With the system clock, a post dated ~1.5 s ahead appears by the watcher's own timer,
//!   never before its date, within a 5 s deadline.

mod common;

use std::sync::Arc;
use std::time::Duration;

use chrono::{SecondsFormat, Utc};
use common::server::{markdown_post, wait_until, Server, TestClock, DEADLINE};
use dropfeed::pipeline::SystemClock;
use dropfeed::watch::Message;
use hyper::StatusCode;

const FEEDS: [&str; 3] = ["/feed.xml", "/atom.xml", "/feed.json"];

/// A bounded wait for asserting that nothing changes.
const QUIET: Duration = Duration::from_millis(300);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn future_post_appears_when_the_clock_passes_its_date() {
    let clock = TestClock::at("2026-01-01T00:00:00Z");
    let past = markdown_post("Already Out", "2025-12-01T08:00:00Z", "Published.");
    let future = markdown_post("From the Future", "2026-01-02T00:00:00Z", "Scheduled.");
    let server = Server::start_with(
        &[("past.md", &past), ("future.md", &future)],
        "",
        clock.clone(),
    )
    .await;
    for feed in FEEDS {
        assert_eq!(server.titles(feed).await, ["Already Out"], "{feed}");
    }
    let (status, _, _) = server.get("/posts/future/", &[]).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "no page before publication");
    let etag = server.etag("/atom.xml").await;
    let generation = server.generation();

    // Closer, but not there yet: waking publishes nothing.
    clock.set("2026-01-01T12:00:00Z");
    server.notify(Message::Wake);
    let changed = wait_until(QUIET, async || server.generation() != generation).await;
    assert!(!changed, "woken before the date, the watcher published");
    assert_eq!(server.etag("/atom.xml").await, etag);

    clock.set("2026-01-03T00:00:00Z");
    server.notify(Message::Wake);
    let what = "the scheduled post after the clock passed its date";
    server
        .until_titles("/atom.xml", what, |t| t.len() == 2)
        .await;
    for feed in FEEDS {
        assert_eq!(
            server.titles(feed).await,
            ["From the Future", "Already Out"],
            "{feed}"
        );
    }
    let (status, _, _) = server.get("/posts/future/", &[]).await;
    assert_eq!(status, StatusCode::OK, "the page exists once published");
    assert_ne!(server.etag("/atom.xml").await, etag);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn future_post_appears_on_time_by_the_real_timer() {
    let due = Utc::now() + chrono::Duration::milliseconds(1500);
    let date = due.to_rfc3339_opts(SecondsFormat::Millis, true);
    let past = markdown_post("Already Out", "2025-12-01T08:00:00Z", "Published.");
    let soon = markdown_post("Soon", &date, "On time.");
    let server = Server::start_with(
        &[("past.md", &past), ("soon.md", &soon)],
        "",
        Arc::new(SystemClock),
    )
    .await;
    // From here on no file changes: only the watcher's timer can publish the post.
    let mut early = None;
    let shown = wait_until(DEADLINE, async || {
        let titles = server.titles("/atom.xml").await;
        let seen_at = Utc::now();
        let shown = titles.iter().any(|t| t == "Soon");
        if shown && seen_at < due {
            early = Some(seen_at);
        }
        shown
    })
    .await;
    assert!(
        shown,
        "due at {date}: not published within the {DEADLINE:?} deadline"
    );
    assert_eq!(early, None, "published before its date {date}");
    server.stop().await;
}
