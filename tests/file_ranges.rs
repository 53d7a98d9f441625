//! A file beside a post, fetched over HTTP as browsers, podcast clients and caches fetch it,
//! checked against RFC 9110 in one table: single ranges (`206` with `Content-Range` and the
//! right bytes), unsatisfiable ones (`416` with `bytes */length`), several ranges (`200`,
//! whole), `If-Range` by ETag and by date, `HEAD` (headers of `GET`, no body, no range),
//! and the preconditions in their order (`If-Match`/`If-Unmodified-Since` → `412`,
//! `If-None-Match`/`If-Modified-Since` → `304` carrying the validators).

mod common;

use common::server::{header, Server};
use hyper::{Method, StatusCode};

/// A 1,000-byte "episode" whose every byte says where it is.
fn episode() -> Vec<u8> {
    (0..1000u32).map(|i| (i % 251) as u8).collect()
}

const POST: &str = "---\ntitle: Episode\ndate: 2024-05-01\nenclosure: {url: \"media/ep.mp3\", type: audio/mpeg, length: 1000}\n---\n\nListen.\n";

/// One request and what RFC 9110 says its answer is.
struct Case {
    what: &'static str,
    method: Method,
    headers: Vec<(&'static str, String)>,
    status: StatusCode,
    /// The bytes of the episode the body holds (`None`: an empty body).
    bytes: Option<std::ops::Range<usize>>,
    content_range: Option<&'static str>,
}

fn case(what: &'static str, headers: &[(&'static str, &str)], status: u16) -> Case {
    Case {
        what,
        method: Method::GET,
        headers: headers.iter().map(|(n, v)| (*n, v.to_string())).collect(),
        status: StatusCode::from_u16(status).expect("a status"),
        bytes: (status == 200).then_some(0..1000),
        content_range: None,
    }
}

impl Case {
    fn part(mut self, bytes: std::ops::Range<usize>, content_range: &'static str) -> Case {
        self.bytes = Some(bytes);
        self.content_range = Some(content_range);
        self
    }

    fn head(mut self) -> Case {
        self.method = Method::HEAD;
        self.bytes = None;
        self
    }
}

#[tokio::test]
async fn a_file_answers_ranges_and_conditions_as_rfc_9110_says() {
    let server = Server::start(&[("ep.md", POST)]).await;
    common::sites::put(&server.posts_dir().join("media/ep.mp3"), &episode());
    server.notify(dropfeed::watch::Message::Rescan);
    let path = "/files/media/ep.mp3";
    let ok = common::server::wait_until(common::server::DEADLINE, async || {
        server.get(path, &[]).await.0 == StatusCode::OK
    })
    .await;
    assert!(ok, "the episode is served once the watcher has seen it");
    let (_, headers, _) = server.get(path, &[]).await;
    let etag = header(&headers, "etag").to_string();
    let modified = header(&headers, "last-modified").to_string();
    let (earlier, later) = (
        "Mon, 01 Jan 2001 00:00:00 GMT",
        "Fri, 31 Dec 9999 23:59:59 GMT",
    );
    let weak = format!("W/{etag}");
    let cases = [
        case("plain GET", &[], 200),
        case("first 100 bytes", &[("range", "bytes=0-99")], 206).part(0..100, "bytes 0-99/1000"),
        case("open-ended", &[("range", "bytes=900-")], 206).part(900..1000, "bytes 900-999/1000"),
        case("suffix", &[("range", "bytes=-10")], 206).part(990..1000, "bytes 990-999/1000"),
        case(
            "last byte past the end",
            &[("range", "bytes=995-5000")],
            206,
        )
        .part(995..1000, "bytes 995-999/1000"),
        case("starts past the end", &[("range", "bytes=1000-")], 416),
        case("empty suffix", &[("range", "bytes=-0")], 416),
        case(
            "several ranges: whole",
            &[("range", "bytes=0-1,10-11")],
            200,
        ),
        case("unknown unit: whole", &[("range", "pages=1-2")], 200),
        case("invalid: whole", &[("range", "bytes=9-1")], 200),
        case(
            "If-Range same ETag",
            &[("range", "bytes=0-9"), ("if-range", &etag)],
            206,
        )
        .part(0..10, "bytes 0-9/1000"),
        case(
            "If-Range other ETag: whole",
            &[("range", "bytes=0-9"), ("if-range", "\"other\"")],
            200,
        ),
        case(
            "If-Range weak ETag: whole",
            &[("range", "bytes=0-9"), ("if-range", &weak)],
            200,
        ),
        case(
            "If-Range same date",
            &[("range", "bytes=0-9"), ("if-range", &modified)],
            206,
        )
        .part(0..10, "bytes 0-9/1000"),
        case(
            "If-Range older date: whole",
            &[("range", "bytes=0-9"), ("if-range", earlier)],
            200,
        ),
        case("HEAD", &[], 200).head(),
        case("HEAD ignores Range", &[("range", "bytes=0-9")], 200).head(),
        case("If-None-Match same", &[("if-none-match", &etag)], 304),
        case("If-None-Match weak", &[("if-none-match", &weak)], 304),
        case(
            "If-None-Match other",
            &[("if-none-match", "\"other\"")],
            200,
        ),
        case(
            "If-None-Match wins over If-Modified-Since",
            &[("if-none-match", "\"other\""), ("if-modified-since", later)],
            200,
        ),
        case(
            "If-Modified-Since now",
            &[("if-modified-since", &modified)],
            304,
        ),
        case(
            "If-Modified-Since earlier",
            &[("if-modified-since", earlier)],
            200,
        ),
        case("If-Match same", &[("if-match", &etag)], 200),
        case("If-Match other", &[("if-match", "\"other\"")], 412),
        case("If-Match weak never matches", &[("if-match", &weak)], 412),
        case(
            "If-Unmodified-Since earlier",
            &[("if-unmodified-since", earlier)],
            412,
        ),
        case(
            "If-Unmodified-Since later",
            &[("if-unmodified-since", later)],
            200,
        ),
        case(
            "304 before Range",
            &[("if-none-match", &etag), ("range", "bytes=0-9")],
            304,
        ),
    ];
    let whole = episode();
    let mut wrong = Vec::new();
    for c in &cases {
        let headers: Vec<(&str, &str)> = c.headers.iter().map(|(n, v)| (*n, v.as_str())).collect();
        let (status, got, body) = server.request(c.method.clone(), path, &headers).await;
        let expected_body: &[u8] = c.bytes.clone().map_or(&[], |r| &whole[r]);
        let mut problems = Vec::new();
        if status != c.status {
            problems.push(format!("status {status}, not {}", c.status));
        }
        // An error's short explanation is fine; any of the file's bytes are not.
        let body_ok = if c.status.is_client_error() {
            !body.starts_with(&whole[..8])
        } else {
            body == expected_body
        };
        if !body_ok {
            problems.push(format!(
                "{} body bytes, not the {} expected",
                body.len(),
                expected_body.len()
            ));
        }
        let content_range = header(&got, "content-range");
        let expected_range = match (c.status.as_u16(), c.content_range) {
            (416, _) => "bytes */1000",
            (_, Some(range)) => range,
            _ => "",
        };
        if content_range != expected_range {
            problems.push(format!(
                "Content-Range {content_range:?}, not {expected_range:?}"
            ));
        }
        if matches!(c.status.as_u16(), 200 | 206 | 304)
            && (header(&got, "etag") != etag
                || header(&got, "last-modified") != modified
                || header(&got, "cache-control").is_empty())
        {
            problems.push("validators or Cache-Control missing".into());
        }
        if matches!(c.status.as_u16(), 200 | 206) {
            let length = c.bytes.clone().map_or(1000, |r| r.len()).to_string();
            if header(&got, "content-length") != length
                || header(&got, "accept-ranges") != "bytes"
                || header(&got, "content-type") != "audio/mpeg"
            {
                problems.push(format!(
                    "Content-Length/Accept-Ranges/Content-Type wrong: {got:?}"
                ));
            }
        }
        if !problems.is_empty() {
            wrong.push(format!("{}: {}", c.what, problems.join("; ")));
        }
    }
    assert!(
        wrong.is_empty(),
        "{} of {} cases wrong:\n{}",
        wrong.len(),
        cases.len(),
        wrong.join("\n")
    );
    server.stop().await;
}
