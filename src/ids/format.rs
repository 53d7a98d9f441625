//! The ledger file, `ids.tsv`: a header line, then one line per id with five tab-separated
//! fields, `id, source, date, slug, title`.
//!
//! Format 2 (written since issue 11) escapes the characters that would break a line apart:
//! `\t`, `\n`, `\r` and `\\` in a field are written as those two-character sequences, so any
//! file name and title round-trips. Format 1 (no version in the header) escaped nothing:
//! it is read as before, except that a line with more than five fields, which format 1
//! wrote for a file name holding a tab, is read with the extra tabs put back into the
//! source (no other field could hold one: ids and slugs are ASCII, dates are RFC 3339,
//! titles had tabs replaced).
//!
//! Since issue 14 the file is a journal: a record is appended whenever an entry is issued,
//! moved (a rename: the same id under a new source) or refreshed, and the file is read by
//! folding its records in order (see [`crate::ids`]'s merge rules); it is compacted to one
//! line per entry now and then. Only a format 2 file is appended to: an older one is
//! rewritten whole first.
//!
//! The file is read as bytes and decoded line by line: a line that cannot be read (not
//! UTF-8, missing fields, a bad escape) is reported with its number and costs no other line
//! anything.

use std::borrow::Cow;

use super::health::BadLine;
use super::Issued;

/// The header format 2 files begin with.
const HEADER_V2: &str = "# dropfeed id ledger v2: id, source, date, slug, title; tab, newline, carriage return and backslash in a field are written \\t \\n \\r \\\\. Ids here never change.";
/// How every versioned header begins; the version number follows.
const VERSIONED: &str = "# dropfeed id ledger v";

/// What a read of the file found.
#[derive(Debug, Default)]
pub struct Parsed {
    /// Every line read, in file order.
    pub entries: Vec<Issued>,
    /// Every line that could not be read.
    pub bad: Vec<BadLine>,
    /// Lines ended by a newline (the header and comments included): the number the next
    /// line appended gets is one more.
    pub lines: usize,
    /// Record lines, read or not: what compaction weighs against the live entries.
    pub records: usize,
    /// Whether the file is in the current format (only such a file is appended to).
    pub current: bool,
}

/// Reads a ledger file's bytes. `Err` when the whole file is in a format this version does
/// not know (written by a newer dropfeed): then no line can be trusted.
pub fn parse(bytes: &[u8]) -> Result<Parsed, String> {
    // An editor may have saved it with a byte order mark; it is not part of the header.
    let bytes = bytes.strip_prefix("\u{feff}".as_bytes()).unwrap_or(bytes);
    let mut lines = bytes.split(|&b| b == b'\n').enumerate().peekable();
    let escaped = match lines.peek().map(|(_, first)| *first) {
        Some(first) if first.starts_with(VERSIONED.as_bytes()) => {
            match version(&first[VERSIONED.len()..]) {
                Some(2) => true,
                v => {
                    let v = v.map_or("unknown".to_string(), |v| v.to_string());
                    return Err(format!("written in format {v}, which this dropfeed does not know; run a newer dropfeed"));
                }
            }
        }
        _ => false,
    };
    let mut parsed = Parsed {
        current: escaped,
        ..Parsed::default()
    };
    read_lines(&mut parsed, lines, 0, escaped);
    parsed.lines = bytes.iter().filter(|&&b| b == b'\n').count();
    Ok(parsed)
}

/// Reads lines appended to a format 2 file after its first `lines_before` lines.
pub fn parse_appended(bytes: &[u8], lines_before: usize) -> Parsed {
    let mut parsed = Parsed {
        current: true,
        ..Parsed::default()
    };
    let lines = bytes.split(|&b| b == b'\n').enumerate();
    read_lines(&mut parsed, lines, lines_before, true);
    parsed.lines = lines_before + bytes.iter().filter(|&&b| b == b'\n').count();
    parsed
}

/// Reads numbered lines into `parsed`; `skipped` lines came before the first.
fn read_lines<'a>(
    parsed: &mut Parsed,
    lines: impl Iterator<Item = (usize, &'a [u8])>,
    skipped: usize,
    escaped: bool,
) {
    for (at, line) in lines {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if line.is_empty() || line.starts_with(b"#") {
            continue;
        }
        parsed.records += 1;
        match parse_line(line, escaped) {
            Ok(entry) => parsed.entries.push(entry),
            Err(reason) => parsed.bad.push(BadLine {
                line: skipped + at + 1,
                reason,
            }),
        }
    }
}

/// The number at the start of `rest` (`2: …` → 2).
fn version(rest: &[u8]) -> Option<u32> {
    let digits = rest.iter().take_while(|b| b.is_ascii_digit()).count();
    std::str::from_utf8(&rest[..digits]).ok()?.parse().ok()
}

fn parse_line(line: &[u8], escaped: bool) -> Result<Issued, String> {
    let line = std::str::from_utf8(line)
        .map_err(|e| format!("not valid UTF-8 (byte {} of the line)", e.valid_up_to() + 1))?;
    let fields: Vec<&str> = line.split('\t').collect();
    let (id, source, rest) = match fields[..] {
        [id, source, date, slug, title] => (id, Cow::Borrowed(source), [date, slug, title]),
        [id, ref middle @ .., date, slug, title] if !escaped && middle.len() > 1 => {
            (id, Cow::Owned(middle.join("\t")), [date, slug, title])
        }
        _ => {
            return Err(format!(
                "{} tab-separated fields where 5 belong (id, source, date, slug, title)",
                fields.len()
            ))
        }
    };
    let field = |text: &str| -> Result<String, String> {
        if escaped {
            unescape(text).map(Cow::into_owned)
        } else {
            Ok(text.to_string())
        }
    };
    let entry = Issued {
        id: field(id)?.into(),
        source: field(&source)?,
        date: field(rest[0])?,
        slug: field(rest[1])?,
        title: field(rest[2])?,
        provisional: false,
    };
    if entry.id.is_empty() || entry.source.is_empty() {
        return Err("an empty id or source".into());
    }
    Ok(entry)
}

/// The whole file, in format 2, entries in the order given. `generation` names this
/// version of the file (a comment line, changed by every compaction) so a reader can tell a
/// new file from the one it read, even on an inode the old one freed.
pub fn write<'a>(entries: impl ExactSizeIterator<Item = &'a Issued>, generation: &str) -> String {
    let mut text = String::with_capacity(HEADER_V2.len() + 1 + entries.len() * 160);
    text.push_str(HEADER_V2);
    text.push('\n');
    text.push_str("# generation ");
    text.push_str(generation);
    text.push('\n');
    for e in entries {
        push_line(&mut text, e);
    }
    text
}

/// Adds one entry's line, newline included, to `text` (as written or appended).
pub fn push_line(text: &mut String, e: &Issued) {
    for (i, value) in [&*e.id, &e.source, &e.date, &e.slug, &e.title]
        .into_iter()
        .enumerate()
    {
        if i > 0 {
            text.push('\t');
        }
        text.push_str(&escape(value));
    }
    text.push('\n');
}

/// A field with tab, newline, carriage return and backslash written as `\t`, `\n`, `\r`,
/// `\\`.
pub fn escape(field: &str) -> Cow<'_, str> {
    if !field.contains(['\t', '\n', '\r', '\\']) {
        return Cow::Borrowed(field);
    }
    let mut out = String::with_capacity(field.len() + 4);
    for c in field.chars() {
        match c {
            '\t' => out.push_str("\\t"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\\' => out.push_str("\\\\"),
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

/// The inverse of [`escape`]; any other backslash sequence is an error.
pub fn unescape(field: &str) -> Result<Cow<'_, str>, String> {
    if !field.contains('\\') {
        return Ok(Cow::Borrowed(field));
    }
    let mut out = String::with_capacity(field.len());
    let mut chars = field.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('t') => out.push('\t'),
            Some('n') => out.push('\n'),
            Some('r') => out.push('\r'),
            Some('\\') => out.push('\\'),
            Some(other) => return Err(format!("unknown escape `\\{other}`")),
            None => return Err("a backslash at the end of a field".into()),
        }
    }
    Ok(Cow::Owned(out))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn issued(source: &str, title: &str) -> Issued {
        Issued {
            id: "tag:ex.org,2025-01-01:x".into(),
            source: source.into(),
            date: "2025-01-01T00:00:00+00:00".into(),
            slug: "x".into(),
            title: title.into(),
            provisional: false,
        }
    }

    #[test]
    fn escapes_round_trip() {
        for text in [
            "",
            "plain",
            "a\tb",
            "\n",
            "\\t literally",
            "c:\\new\r\n",
            "\\",
        ] {
            assert_eq!(unescape(&escape(text)).unwrap(), text, "{text:?}");
        }
        assert!(unescape("\\x").is_err());
        assert!(unescape("end\\").is_err());
    }

    #[test]
    fn format_one_is_read_as_before_and_a_tab_in_a_source_is_recovered() {
        let file =
            "# dropfeed id ledger: id, source, date, slug, title. Ids here never change.\r\n\
                    tag:a,2025-01-01:x\tc:\\notes.md\t2025-01-01T00:00:00+00:00\tx\tT\r\n\
                    tag:a,2025-01-01:y\tin\tab.md\t2025-01-01T00:00:00+00:00\ty\tU\n";
        let parsed = parse(file.as_bytes()).unwrap();
        assert!(parsed.bad.is_empty(), "{:?}", parsed.bad);
        let sources: Vec<&str> = parsed.entries.iter().map(|e| e.source.as_str()).collect();
        assert_eq!(sources, ["c:\\notes.md", "in\tab.md"]);
    }

    #[test]
    fn a_byte_order_mark_and_crlf_from_an_editor_change_nothing() {
        let entries = [issued("a\tb.md", "T")];
        let written = write(entries.iter(), "g").replace('\n', "\r\n");
        let parsed = parse(format!("\u{feff}{written}").as_bytes()).unwrap();
        assert!(parsed.bad.is_empty(), "{:?}", parsed.bad);
        assert_eq!(parsed.entries, entries);
    }

    #[test]
    fn a_newer_format_is_not_guessed_at() {
        assert!(parse(b"# dropfeed id ledger v3: whatever\nx\ty\n").is_err());
    }

    #[test]
    fn written_files_read_back() {
        let entries = [issued("a\tb\nc\\d\r.md", "T\\n"), issued("plain.md", "")];
        let parsed = parse(write(entries.iter(), "g").as_bytes()).unwrap();
        assert!(parsed.bad.is_empty());
        assert_eq!(parsed.entries, entries);
    }
}
