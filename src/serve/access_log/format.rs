//! One access log line from one [`Record`], in the writer thread.
//!
//! - `common`: `client - - [10/Oct/2000:13:55:36 +0000] "GET /feed.xml HTTP/1.1" 200 2326`
//!   (times in UTC; `-` for an empty body), as Apache and nginx write it.
//! - `combined`: the same, then `"referer" "user-agent"` (`"-"` when absent).
//! - `json`: `{"time","client","method","target","protocol","status","bytes",
//!   "duration_ms","referer","user_agent"}`, time in RFC 3339 UTC, absent headers `null`.

use std::borrow::Cow;
use std::io::Write;

use chrono::{DateTime, SecondsFormat, Utc};
use hyper::header::HeaderValue;
use hyper::Version;
use serde::Serialize;

use super::Record;
use crate::config::AccessFormat;

/// Appends the record's line, newline included.
pub(super) fn line(out: &mut Vec<u8>, record: &Record, format: AccessFormat) {
    match format {
        AccessFormat::Off => {}
        AccessFormat::Common => common(out, record),
        AccessFormat::Combined => {
            common(out, record);
            out.pop(); // the newline
            out.extend_from_slice(b" \"");
            quoted(out, record.referer.as_ref());
            out.extend_from_slice(b"\" \"");
            quoted(out, record.user_agent.as_ref());
            out.extend_from_slice(b"\"\n");
        }
        AccessFormat::Json => json(out, record),
    }
}

fn common(out: &mut Vec<u8>, record: &Record) {
    let at = DateTime::<Utc>::from(record.at);
    let _ = write!(
        out,
        "{} - - [{}] \"",
        record.peer,
        at.format("%d/%b/%Y:%H:%M:%S +0000")
    );
    escape(out, record.method.as_str().as_bytes());
    out.push(b' ');
    escape(out, target(record).as_bytes());
    let _ = write!(out, " {}\" {} ", protocol(record.version), record.status);
    match record.bytes {
        0 => out.extend_from_slice(b"-\n"),
        n => {
            let _ = writeln!(out, "{n}");
        }
    }
}

/// A header's bytes escaped, or `-` when absent.
fn quoted(out: &mut Vec<u8>, value: Option<&HeaderValue>) {
    match value {
        Some(value) => escape(out, value.as_bytes()),
        None => out.push(b'-'),
    }
}

/// Printable ASCII as is; `"`, `\` and every other byte as `\xHH`.
fn escape(out: &mut Vec<u8>, bytes: &[u8]) {
    for &b in bytes {
        if b == b'"' || b == b'\\' || !(0x20..=0x7e).contains(&b) {
            let _ = write!(out, "\\x{b:02X}");
        } else {
            out.push(b);
        }
    }
}

fn target(record: &Record) -> &str {
    record.target.as_ref().map_or("*", |t| t.as_str())
}

fn protocol(version: Version) -> &'static str {
    match version {
        Version::HTTP_09 => "HTTP/0.9",
        Version::HTTP_10 => "HTTP/1.0",
        Version::HTTP_11 => "HTTP/1.1",
        Version::HTTP_2 => "HTTP/2.0",
        Version::HTTP_3 => "HTTP/3.0",
        _ => "HTTP",
    }
}

/// A JSON access log line.
#[derive(Serialize)]
struct JsonLine<'a> {
    time: String,
    client: String,
    method: &'a str,
    target: &'a str,
    protocol: &'static str,
    status: u16,
    bytes: u64,
    duration_ms: f64,
    referer: Option<Cow<'a, str>>,
    user_agent: Option<Cow<'a, str>>,
}

fn json(out: &mut Vec<u8>, record: &Record) {
    let text = |value: &'_ Option<HeaderValue>| {
        value
            .as_ref()
            .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned().into())
    };
    let line = JsonLine {
        time: DateTime::<Utc>::from(record.at).to_rfc3339_opts(SecondsFormat::Millis, true),
        client: record.peer.to_string(),
        method: record.method.as_str(),
        target: target(record),
        protocol: protocol(record.version),
        status: record.status,
        bytes: record.bytes,
        duration_ms: record.took.as_secs_f64() * 1000.0,
        referer: text(&record.referer),
        user_agent: text(&record.user_agent),
    };
    if serde_json::to_writer(&mut *out, &line).is_ok() {
        out.push(b'\n');
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use hyper::http::uri::PathAndQuery;
    use hyper::Method;
    use proptest::prelude::*;
    use std::time::{Duration, UNIX_EPOCH};

    fn record(target: &str, user_agent: Option<HeaderValue>) -> Record {
        Record {
            at: UNIX_EPOCH + Duration::from_secs(971_186_136), // 10 Oct 2000 13:55:36 UTC
            peer: "192.0.2.7".parse().expect("an address"),
            method: Method::GET,
            target: Some(PathAndQuery::try_from(target).expect("a target")),
            version: Version::HTTP_11,
            status: 200,
            bytes: 2326,
            took: Duration::from_micros(1500),
            referer: None,
            user_agent,
        }
    }

    fn text(record: &Record, format: AccessFormat) -> String {
        let mut out = Vec::new();
        line(&mut out, record, format);
        String::from_utf8(out).expect("ASCII")
    }

    #[test]
    fn common_and_combined_read_as_apache_writes_them() {
        let ua = HeaderValue::from_static(
            "Feedly/1.0 (+http://www.feedly.com/fetcher.html; 42 subscribers)",
        );
        let r = record("/feed.xml?x=1", Some(ua));
        assert_eq!(
            text(&r, AccessFormat::Common),
            "192.0.2.7 - - [10/Oct/2000:13:55:36 +0000] \"GET /feed.xml?x=1 HTTP/1.1\" 200 2326\n"
        );
        assert_eq!(
            text(&r, AccessFormat::Combined),
            "192.0.2.7 - - [10/Oct/2000:13:55:36 +0000] \"GET /feed.xml?x=1 HTTP/1.1\" 200 2326 \
             \"-\" \"Feedly/1.0 (+http://www.feedly.com/fetcher.html; 42 subscribers)\"\n"
        );
    }

    /// Undoes [`escape`].
    fn unescape(text: &str) -> Vec<u8> {
        let bytes = text.as_bytes();
        let (mut out, mut i) = (Vec::new(), 0);
        while i < bytes.len() {
            if bytes[i] == b'\\' {
                out.push(u8::from_str_radix(&text[i + 2..i + 4], 16).expect("hex"));
                i += 4;
            } else {
                out.push(bytes[i]);
                i += 1;
            }
        }
        out
    }

    proptest! {
        /// Whatever a client sends in a header, the text line is one line of printable
        /// ASCII, its last quoted field gives back the header's bytes, and the JSON line
        /// parses with the header's text.
        #[test]
        fn a_header_cannot_forge_or_split_a_line(ua in proptest::collection::vec(
            prop_oneof![Just(b'\t'), 0x20u8..=0x7e, 0x80u8..=0xff], 0..80)) {
            let value = HeaderValue::from_bytes(&ua).expect("valid header bytes");
            let r = record("/atom.xml", Some(value));
            let combined = text(&r, AccessFormat::Combined);
            prop_assert_eq!(combined.matches('\n').count(), 1);
            prop_assert!(combined.ends_with('\n'));
            let line = combined.strip_suffix('\n').expect("one line");
            prop_assert!(line.bytes().all(|b| (0x20..=0x7e).contains(&b)));
            // The user agent follows the referer's `"-"`; an escaped `"` cannot end it early.
            let last = line.split_once("\"-\" \"").expect("the referer field").1;
            let field = last.strip_suffix('"').expect("closing quote");
            prop_assert_eq!(unescape(field), ua.clone());
            let json: serde_json::Value =
                serde_json::from_str(&text(&r, AccessFormat::Json)).expect("JSON");
            let lossy = String::from_utf8_lossy(&ua).into_owned();
            prop_assert_eq!(json["user_agent"].as_str(), Some(lossy.as_str()));
        }
    }
}
