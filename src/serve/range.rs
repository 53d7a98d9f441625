//! Range requests (RFC 9110 §14), for files beside posts: podcast clients and browsers seek
//! in audio and video with them.
//!
//! Rules followed:
//!
//! - Only the `bytes` unit; another unit, or a header that does not parse, is ignored (the
//!   whole file is sent, §14.2).
//! - One range: `first-last` (last clamped to the end), `first-` and the suffix `-length`
//!   (the whole file when longer). A range starting past the end, or a suffix of zero, is
//!   unsatisfiable (`416` with `Content-Range: bytes */length`).
//! - Several ranges are answered with the whole file (`200`), which §14.2 allows: no
//!   `multipart/byteranges`, and no way to make a server do more work than the file's size.
//! - Only `GET` has ranges: a `HEAD` or an `If-Range` that does not match gets the whole.

/// What a `Range` header asks of a file of a given length.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ranged {
    /// No range, or one to ignore: the whole file.
    Whole,
    /// One satisfiable range: bytes `start..=end`.
    Part {
        /// First byte.
        start: u64,
        /// Last byte, included.
        end: u64,
    },
    /// A range no byte of the file satisfies.
    Unsatisfiable,
}

/// What `header` (the `Range` value, if any) asks of a file of `len` bytes.
pub fn ranged(header: Option<&str>, len: u64) -> Ranged {
    let Some((unit, set)) = header.and_then(|h| h.split_once('=')) else {
        return Ranged::Whole;
    };
    if !unit.trim().eq_ignore_ascii_case("bytes") {
        return Ranged::Whole;
    }
    let specs: Vec<&str> = set
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .collect();
    match specs.as_slice() {
        [one] => one_range(one, len).unwrap_or(Ranged::Whole),
        _ => Ranged::Whole,
    }
}

/// One range-spec, or `None` when it is not valid syntax.
fn one_range(spec: &str, len: u64) -> Option<Ranged> {
    let (first, last) = spec.split_once('-')?;
    let (first, last) = (first.trim(), last.trim());
    if first.is_empty() {
        let suffix = number(last)?;
        if suffix == 0 || len == 0 {
            return Some(Ranged::Unsatisfiable);
        }
        let start = len.saturating_sub(suffix);
        return Some(Ranged::Part {
            start,
            end: len - 1,
        });
    }
    let start = number(first)?;
    let end = if last.is_empty() {
        None
    } else {
        Some(number(last)?)
    };
    if end.is_some_and(|end| end < start) {
        return None;
    }
    if start >= len {
        return Some(Ranged::Unsatisfiable);
    }
    let end = end.map_or(len - 1, |end| end.min(len - 1));
    Some(Ranged::Part { start, end })
}

/// A decimal number of digits only; more than a `u64` holds counts as `u64::MAX`.
fn number(text: &str) -> Option<u64> {
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some(text.parse().unwrap_or(u64::MAX))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn ranges_as_rfc_9110_reads_them() {
        let part = |start, end| Ranged::Part { start, end };
        let cases = [
            (None, Ranged::Whole),
            (Some("bytes=0-99"), part(0, 99)),
            (Some("bytes=900-"), part(900, 999)),
            (Some("bytes=-100"), part(900, 999)),
            (Some("bytes=-5000"), part(0, 999)),
            (Some("bytes=990-5000"), part(990, 999)),
            (Some("BYTES = 1-1"), part(1, 1)),
            (Some("bytes=1000-"), Ranged::Unsatisfiable),
            (Some("bytes=-0"), Ranged::Unsatisfiable),
            (
                Some("bytes=99999999999999999999999-"),
                Ranged::Unsatisfiable,
            ),
            (Some("bytes=5-1"), Ranged::Whole),
            (Some("bytes=0-1,5-9"), Ranged::Whole),
            (Some("items=0-1"), Ranged::Whole),
            (Some("bytes=+1-2"), Ranged::Whole),
            (Some("bytes=a-b"), Ranged::Whole),
            (Some("bytes="), Ranged::Whole),
            (Some("bytes 0-1"), Ranged::Whole),
        ];
        for (header, expected) in cases {
            assert_eq!(ranged(header, 1000), expected, "{header:?}");
        }
        assert_eq!(ranged(Some("bytes=0-"), 0), Ranged::Unsatisfiable);
        assert_eq!(ranged(Some("bytes=-1"), 0), Ranged::Unsatisfiable);
    }

    proptest! {
        /// Whatever the header, a part answered lies within the file and is not empty.
        #[test]
        fn a_part_is_always_inside_the_file(
            header in prop_oneof!["[ -~]{0,40}", "(bytes|BYTES|items)? ?= ?-?[0-9]{0,5}-?[0-9]{0,5}(, ?[0-9]{0,3}-[0-9]{0,3})?"],
            len in 0u64..5000,
        ) {
            if let Ranged::Part { start, end } = ranged(Some(&header), len) {
                prop_assert!(start <= end && end < len, "{header:?} {len} → {start}-{end}");
            }
        }
    }
}
