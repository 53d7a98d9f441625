//! Text kept compressed in memory: a post's Markdown until it is shown, and its rendered
//! HTML. A 10,000-post site holds every post's content (archive pages and post pages are
//! rendered from it on demand); zstd takes it to about a third of the space and gives it
//! back in microseconds.
//!
//! Nothing an author wrote may be lost here. The exact length of the text is stored with
//! the compressed frame (output size is never guessed: a guess of eight times the frame
//! once dropped every text that compressed better than 8:1), and each frame is decompressed
//! once when it is made and compared with the text; a text that does not come back whole,
//! or does not compress, is kept as it is.

use std::cell::RefCell;

/// Stored text that could not be given back. [`Content::new`] checks every frame it keeps,
/// so this means memory was corrupted or the compression library is broken; callers report
/// it loudly with the post's file instead of publishing less text.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("its stored text could not be reproduced ({0})")]
pub struct ContentError(String);

/// Text (Markdown or HTML), compressed when that pays and gives the text back exactly.
///
/// Saved (in the persistent index) as it is held, frame and length, never decompressed and
/// compressed again: what comes back is what was checked when it was made.
#[derive(Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Content(Stored);

#[derive(Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
enum Stored {
    /// A zstd frame and the exact length in bytes of the text it holds.
    Packed {
        #[serde(with = "frame_bytes")]
        frame: Box<[u8]>,
        len: usize,
    },
    /// The text itself: compression failed, did not pay, or did not give the text back.
    Plain(Box<str>),
}

impl Content {
    /// Keeps `text`, compressed if the compressed form is smaller and gives it back whole.
    pub fn new(text: &str) -> Content {
        let stored = match pack(text.as_bytes()) {
            Some(frame)
                if frame.len() < text.len()
                    && unpack(&frame, text.len()).is_ok_and(|back| back == text.as_bytes()) =>
            {
                Stored::Packed {
                    frame: frame.into_boxed_slice(),
                    len: text.len(),
                }
            }
            _ => Stored::Plain(text.into()),
        };
        Content(stored)
    }

    /// The text, whole.
    pub fn text(&self) -> Result<String, ContentError> {
        match &self.0 {
            Stored::Plain(text) => Ok(text.to_string()),
            Stored::Packed { frame, len } => {
                let bytes = unpack(frame, *len)?;
                String::from_utf8(bytes).map_err(|e| ContentError(format!("not UTF-8: {e}")))
            }
        }
    }

    /// Length of the text in bytes.
    pub fn len(&self) -> usize {
        match &self.0 {
            Stored::Plain(text) => text.len(),
            Stored::Packed { len, .. } => *len,
        }
    }

    /// Whether the text is empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Bytes held in memory.
    pub fn stored_len(&self) -> usize {
        match &self.0 {
            Stored::Plain(text) => text.len(),
            Stored::Packed { frame, .. } => frame.len(),
        }
    }
}

impl std::fmt::Debug for Content {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "Content({} bytes in {} stored)",
            self.len(),
            self.stored_len()
        )
    }
}

/// A frame saved as one run of bytes (serde's default, a sequence of numbers, is read back
/// a byte at a time).
mod frame_bytes {
    use serde::de::{Deserializer, Error, Visitor};
    use serde::Serializer;

    pub(super) fn serialize<S: Serializer>(frame: &[u8], to: S) -> Result<S::Ok, S::Error> {
        to.serialize_bytes(frame)
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(from: D) -> Result<Box<[u8]>, D::Error> {
        from.deserialize_byte_buf(FrameVisitor)
    }

    struct FrameVisitor;

    impl Visitor<'_> for FrameVisitor {
        type Value = Box<[u8]>;

        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str("a compressed frame")
        }

        fn visit_bytes<E: Error>(self, bytes: &[u8]) -> Result<Box<[u8]>, E> {
            Ok(bytes.into())
        }

        fn visit_byte_buf<E: Error>(self, bytes: Vec<u8>) -> Result<Box<[u8]>, E> {
            Ok(bytes.into_boxed_slice())
        }
    }
}

/// zstd level 1: most of the saving at a fraction of the time of higher levels.
const LEVEL: i32 = 1;

/// Compresses with this thread's context (making one per post showed in profiles).
fn pack(bytes: &[u8]) -> Option<Vec<u8>> {
    thread_local! {
        static PACKER: RefCell<Option<zstd::bulk::Compressor<'static>>> =
            RefCell::new(zstd::bulk::Compressor::new(LEVEL).ok());
    }
    PACKER.with(|packer| packer.borrow_mut().as_mut()?.compress(bytes).ok())
}

/// Decompresses a frame holding exactly `len` bytes: into a buffer of that size, so a frame
/// holding more is an error, and one holding less is too.
fn unpack(frame: &[u8], len: usize) -> Result<Vec<u8>, ContentError> {
    thread_local! {
        static UNPACKER: RefCell<Option<zstd::bulk::Decompressor<'static>>> =
            RefCell::new(zstd::bulk::Decompressor::new().ok());
    }
    let bytes = UNPACKER
        .with(|unpacker| match unpacker.borrow_mut().as_mut() {
            Some(unpacker) => unpacker.decompress(frame, len),
            None => zstd::bulk::decompress(frame, len),
        })
        .map_err(|e| ContentError(format!("zstd: {e}")))?;
    if bytes.len() != len {
        return Err(ContentError(format!(
            "{} bytes instead of {len}",
            bytes.len()
        )));
    }
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_that_compresses_far_better_than_eight_to_one_comes_back_whole() {
        for text in [
            "a".repeat(1 << 20),
            "<tr><td>1</td><td>2</td></tr>\n".repeat(10_000),
            String::new(),
            "short".to_string(),
            "é😀\u{0}\u{ffff}".repeat(1000),
        ] {
            let content = Content::new(&text);
            assert_eq!(content.text().as_deref(), Ok(text.as_str()));
            assert_eq!(content.len(), text.len());
        }
        assert!(Content::new(&"a".repeat(1 << 20)).stored_len() < 1 << 12);
    }

    #[test]
    fn a_frame_that_does_not_give_back_its_length_is_an_error_not_less_text() {
        let text = "row\n".repeat(4096);
        let Stored::Packed { frame, len } = Content::new(&text).0 else {
            panic!("repetitive text is compressed");
        };
        for wrong in [len - 1, len + 1, 0] {
            let content = Content(Stored::Packed {
                frame: frame.clone(),
                len: wrong,
            });
            assert!(content.text().is_err(), "length {wrong}");
        }
        let mut broken = frame.to_vec();
        broken.truncate(broken.len() / 2);
        let content = Content(Stored::Packed {
            frame: broken.into_boxed_slice(),
            len,
        });
        assert!(content.text().is_err());
    }
}
