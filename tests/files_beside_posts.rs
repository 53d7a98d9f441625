//! Files beside posts, as readers and authors see them:
//!
//! - a file is served only while a published post links to it: a draft's or a scheduled
//!   post's pictures, stray files, post files, the ledger and paths that climb out are 404;
//!   the same picture linked by a published post is 200;
//! - a picture changed, added or deleted is served (or gone) as fast as a post change, with
//!   a new ETag; a post linking a missing file is warned about at the link's line;
//! - the shipped post with a picture shows it in a browser (headless Chromium screenshot in
//!   `target/test-artifacts/files_beside_posts/`; SKIPPED without Chromium).

mod common;

use std::process::Command;

use common::chromium;
use common::crawl::html_links;
use common::feeds::sample_posts;
use common::server::{header, markdown_post, wait_until, Server, DEADLINE};
use common::sites::{put, TINY_PNG};
use hyper::StatusCode;

/// The status of a `GET`.
async fn status(server: &Server, path: &str) -> StatusCode {
    server.get(path, &[]).await.0
}

/// Waits until `path` answers `want`, failing the test after [`DEADLINE`].
async fn until_status(server: &Server, path: &str, want: StatusCode) {
    let mut last = StatusCode::OK;
    let seen = wait_until(DEADLINE, async || {
        last = status(server, path).await;
        last == want
    })
    .await;
    assert!(seen, "{path}: {last} after {DEADLINE:?}, not {want}");
}

#[tokio::test]
async fn only_files_that_published_posts_link_to_are_served() {
    let published = markdown_post("Out", "2024-01-01", "![shared](shared.png) ![d](d.svg)");
    let draft = "---\ntitle: Secret\ndate: 2024-01-02\ndraft: true\n---\n\n![a](draft-only.png) ![b](shared.png)\n";
    let scheduled = markdown_post("Later", "2099-01-01", "![s](images/scheduled.png)");
    let server = Server::start(&[
        ("out.md", published.as_str()),
        ("secret.md", draft),
        ("later.md", scheduled.as_str()),
    ])
    .await;
    let posts = server.posts_dir().to_path_buf();
    for file in [
        "shared.png",
        "draft-only.png",
        "images/scheduled.png",
        "stray.png",
        "images/.hidden.png",
    ] {
        put(&posts.join(file), TINY_PNG);
    }
    put(&posts.join(".dropfeed/extra.png"), TINY_PNG);
    put(
        &posts.join("d.svg"),
        b"<svg xmlns='http://www.w3.org/2000/svg'><script>alert(1)</script></svg>",
    );
    server.notify(dropfeed::watch::Message::Rescan);
    until_status(&server, "/files/shared.png", StatusCode::OK).await;
    // Each file's event may be a rebuild of its own: d.svg (written last) may come later.
    until_status(&server, "/files/d.svg", StatusCode::OK).await;
    // An SVG opened directly may run scripts: it is sandboxed.
    let (svg, headers, _) = server.get("/files/d.svg", &[]).await;
    assert_eq!(svg, StatusCode::OK);
    assert_eq!(header(&headers, "content-type"), "image/svg+xml");
    assert!(
        header(&headers, "content-security-policy").ends_with("sandbox"),
        "{headers:?}"
    );
    let (_, headers, body) = server.get("/files/shared.png", &[]).await;
    assert_eq!(&body[..], TINY_PNG);
    assert_eq!(header(&headers, "content-type"), "image/png");
    assert_eq!(
        header(&headers, "content-security-policy"),
        "",
        "a picture is not sandboxed"
    );
    for hidden in [
        "/files/draft-only.png",
        "/files/images/scheduled.png",
        "/files/stray.png",
        "/files/images/.hidden.png",
        "/files/.dropfeed/extra.png",
        "/files/.dropfeed/ids.tsv",
        "/files/secret.md",
        "/files/out.md",
        "/files/%2e%2e/posts/shared.png",
        "/files/images/%2e%2e/shared.png",
        "/files/",
        "/files",
        "/shared.png",
        "/posts/out/shared.png",
    ] {
        assert_eq!(
            status(&server, hidden).await,
            StatusCode::NOT_FOUND,
            "{hidden}"
        );
    }
    // Once a published post links it, the draft's picture is served, as fast as the edit.
    let edited = markdown_post(
        "Out",
        "2024-01-01",
        "![shared](shared.png) ![now](draft-only.png)",
    );
    server.write_post("out.md", &edited);
    until_status(&server, "/files/draft-only.png", StatusCode::OK).await;
    // And when no published post links it any more, it is gone again.
    server.write_post("out.md", &published);
    until_status(&server, "/files/draft-only.png", StatusCode::NOT_FOUND).await;
    server.stop().await;
}

#[tokio::test]
async fn a_picture_changed_added_or_deleted_is_served_as_fast_as_a_post_change() {
    let post = markdown_post(
        "Pictures",
        "2024-01-01",
        "![a](pics/a.png)\n\n![later](pics/later.png)",
    );
    let server = Server::start(&[("2024/pictures.md", post.as_str())]).await;
    let dir = server.posts_dir().join("2024/pics");
    put(&dir.join("a.png"), TINY_PNG);
    server.notify(dropfeed::watch::Message::Rescan);
    let path = "/files/2024/pics/a.png";
    until_status(&server, path, StatusCode::OK).await;
    let first = server.etag(path).await;
    // Rewritten in place, as an image editor saves.
    let mut second_bytes = TINY_PNG.to_vec();
    second_bytes.extend_from_slice(b"edited");
    std::fs::write(dir.join("a.png"), &second_bytes).expect("rewrite the picture");
    let mut body = bytes::Bytes::new();
    let changed = wait_until(DEADLINE, async || {
        let reply = server.get(path, &[]).await;
        body = reply.2;
        reply.0 == StatusCode::OK && header(&reply.1, "etag") != first
    })
    .await;
    assert!(changed, "a new ETag after the picture changed");
    assert_eq!(&body[..], &second_bytes[..]);
    // A file the post already links to appears.
    put(&dir.join("later.png"), TINY_PNG);
    until_status(&server, "/files/2024/pics/later.png", StatusCode::OK).await;
    // Deleted: 404, and the author is told where the broken link is.
    std::fs::remove_file(dir.join("a.png")).expect("delete the picture");
    until_status(&server, path, StatusCode::NOT_FOUND).await;
    let check = Command::new(env!("CARGO_BIN_EXE_dropfeed"))
        .args(["check", "--posts"])
        .arg(server.posts_dir())
        .output()
        .expect("dropfeed check runs");
    let out = String::from_utf8_lossy(&check.stdout);
    let expected = format!(
        "{}:6: warning: links to `pics/a.png`",
        server.posts_dir().join("2024/pictures.md").display()
    );
    assert!(out.contains(&expected), "{expected} in:\n{out}");
    assert!(out.contains("does not exist"), "{out}");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_shipped_post_shows_its_picture_in_a_browser() {
    let server = Server::start_copy(&sample_posts(), "").await;
    let page = "/posts/building-the-pipeline/";
    let (status, _, html) = server.get(page, &[]).await;
    assert_eq!(status, StatusCode::OK);
    let pictures: Vec<String> = html_links(&String::from_utf8_lossy(&html))
        .into_iter()
        .filter(|l| l.ends_with(".png"))
        .collect();
    assert!(!pictures.is_empty(), "the post shows a picture");
    for picture in &pictures {
        let path = picture
            .strip_prefix(&server.url(""))
            .unwrap_or_else(|| panic!("{picture} is on the site"));
        let (status, headers, body) = server.get(path, &[]).await;
        assert_eq!(status, StatusCode::OK, "{picture}");
        assert!(
            header(&headers, "content-type").starts_with("image/"),
            "{headers:?}"
        );
        assert!(body.starts_with(b"\x89PNG"), "{picture} is a PNG");
    }
    let Some(chromium) = chromium::find() else {
        eprintln!("SKIPPED: chromium not installed; screenshot not taken");
        return server.stop().await;
    };
    let png = chromium::artifacts("files_beside_posts").join("post-with-picture.png");
    let url = server.url(page);
    let target = png.clone();
    let took = tokio::task::spawn_blocking(move || {
        chromium::screenshot(&chromium, &url, &target, (800, 900))
    })
    .await
    .expect("the screenshot thread");
    eprintln!("screenshot of {page}: {} ({took:?})", png.display());
    server.stop().await;
}

/// Regression guard for a file rewritten in place while a client downloads it: what was
/// read before the change is sent, then the download ends short; bytes of the new version
/// never follow bytes of the old under the old ETag.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_file_rewritten_in_place_during_a_download_is_never_sent_mixed() {
    use std::io::Write;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    const SIZE: usize = 32 << 20;
    let post = markdown_post("Big", "2024-01-01", "[the recording](big.bin)");
    let server = Server::start(&[("big.md", post.as_str())]).await;
    let file = server.posts_dir().join("big.bin");
    put(&file, &vec![b'a'; SIZE]);
    server.notify(dropfeed::watch::Message::Rescan);
    until_status(&server, "/files/big.bin", StatusCode::OK).await;
    let mut stream = tokio::net::TcpStream::connect(server.addr)
        .await
        .expect("connect");
    let request = "GET /files/big.bin HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
    stream.write_all(request.as_bytes()).await.expect("send");
    let mut received = vec![0u8; 1 << 20];
    stream
        .read_exact(&mut received)
        .await
        .expect("the first megabyte");
    // The client stops reading; the server is blocked on a full socket. Rewrite in place.
    let mut rewrite = std::fs::OpenOptions::new()
        .write(true)
        .open(&file)
        .expect("open");
    rewrite
        .write_all(&vec![b'b'; SIZE])
        .expect("rewrite in place");
    drop(rewrite);
    let rest = tokio::time::timeout(DEADLINE, async {
        let mut rest = Vec::new();
        let _ = stream.read_to_end(&mut rest).await;
        rest
    })
    .await
    .expect("the download ends");
    received.extend_from_slice(&rest);
    let head_end = received
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("a head")
        + 4;
    let body = &received[head_end..];
    assert!(
        body.len() < SIZE,
        "the download ends short ({} bytes)",
        body.len()
    );
    assert!(
        !body.contains(&b'b'),
        "no byte of the new version under the old ETag"
    );
    server.stop().await;
}

/// Two replicas over copies of the same posts whose picture has another modification time
/// (a `git checkout` on each) give it the same ETag, so a cache in front of both revalidates
/// it with either; only `Last-Modified` tells the copies apart.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replicas_serving_the_same_bytes_give_a_file_the_same_etag() {
    let copy_at = |seconds: u64| {
        move |dir: &std::path::Path| {
            common::feeds::copy_tree(&sample_posts(), dir);
            let picture = std::fs::File::options()
                .write(true)
                .open(dir.join("images/pipeline.png"))
                .expect("the picture");
            let at = std::time::UNIX_EPOCH + std::time::Duration::from_secs(seconds);
            picture.set_modified(at).expect("set its time");
        }
    };
    let clock = || std::sync::Arc::new(dropfeed::pipeline::SystemClock);
    let a = Server::launch_with(copy_at(1_700_000_000), "", clock()).await;
    let b = Server::launch_with(copy_at(1_750_000_000), "", clock()).await;
    let path = "/files/images/pipeline.png";
    let (ra, rb) = (a.get(path, &[]).await, b.get(path, &[]).await);
    assert_eq!((ra.0, rb.0), (StatusCode::OK, StatusCode::OK));
    assert_eq!(header(&ra.1, "etag"), header(&rb.1, "etag"));
    assert_ne!(
        header(&ra.1, "last-modified"),
        header(&rb.1, "last-modified")
    );
    let etag = header(&ra.1, "etag").to_string();
    let (status, _, _) = b.get(path, &[("if-none-match", &etag)]).await;
    assert_eq!(
        status,
        StatusCode::NOT_MODIFIED,
        "either replica revalidates the other's ETag"
    );
    a.stop().await;
    b.stop().await;
}
