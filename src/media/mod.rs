//! Facts read from media files beside posts: the media type an extension stands for, the
//! playing time of audio and video, and the size and format of artwork. Only headers are
//! read (and, for an MP3 without a frame count, an estimate from its first frames), never a
//! whole file: a file that does not look like its extension says is a plain error, never a
//! panic.
//!
//! - [`types`]: extension → media type, and which types podcast apps play.
//! - [`probe`]: the facts of one file; the library calls it once each time a linked file's
//!   stamp changes, never per request, and [`probes`] counts the calls so tests can hold it
//!   to that.

pub mod types;

use std::fs::File;
use std::io::{BufReader, Read};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use symphonia::core::formats::FormatOptions;
use symphonia::core::io::MediaSourceStream;
use symphonia::core::meta::MetadataOptions;
use symphonia::core::probe::Hint;
use symphonia::core::units::TimeBase;

pub use types::{extension_of, media_type, playable_in_podcast_apps, MediaClass};

/// What a file's header says, by what its extension claims it is.
#[derive(serde::Serialize, serde::Deserialize, Debug, Clone, PartialEq, Eq)]
pub enum Facts {
    /// Audio or video: its playing time, or why it cannot be read.
    Duration(Result<Duration, String>),
    /// A picture: its format and size, or why they cannot be read.
    Image(Result<ImageInfo, String>),
}

/// The format and size of a picture, from its header.
#[derive(serde::Serialize, serde::Deserialize, Debug, Clone, Copy, PartialEq, Eq)]
pub struct ImageInfo {
    /// What the bytes are (whatever the extension says).
    pub format: ImageFormat,
    /// Width in pixels.
    pub width: u64,
    /// Height in pixels.
    pub height: u64,
}

/// Picture formats artwork checks tell apart.
#[derive(serde::Serialize, serde::Deserialize, Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImageFormat {
    /// PNG.
    Png,
    /// JPEG.
    Jpeg,
    /// Anything else `imagesize` knows (GIF, WebP…): not accepted as podcast artwork.
    Other,
}

/// Files probed since the process started (tests check that a file is read once per change).
static PROBES: AtomicUsize = AtomicUsize::new(0);

/// How many files [`probe`] has read since the process started.
pub fn probes() -> usize {
    PROBES.load(Ordering::Relaxed)
}

/// Reads the facts of the file at `path` that its extension (`name`'s) calls for: `None`
/// for files that are neither audio, video nor PNG/JPEG pictures (nothing is opened).
pub fn probe(path: &Path, name: &str) -> Option<Facts> {
    let class = types::class_of(name)?;
    PROBES.fetch_add(1, Ordering::Relaxed);
    Some(match class {
        MediaClass::Picture => Facts::Image(image_info(path)),
        MediaClass::Audio | MediaClass::Video => {
            let extension = extension_of(name).unwrap_or_default();
            Facts::Duration(duration(path, &extension))
        }
    })
}

/// Longer than this (a year) is a damaged header, not a recording.
const MAX_SECONDS: f64 = 366.0 * 24.0 * 3600.0;

/// The playing time of the audio or video file at `path` (the longest of its tracks).
pub fn duration(path: &Path, extension: &str) -> Result<Duration, String> {
    let file = File::open(path).map_err(|e| format!("cannot be read ({e})"))?;
    // A demuxer bug on hostile bytes must cost this file its duration, not the server.
    let seconds = catch_unwind(AssertUnwindSafe(|| stream_seconds(file, extension)))
        .map_err(|_| "its header could not be read (the reader gave up)".to_string())??;
    if !seconds.is_finite() || seconds <= 0.0 || seconds > MAX_SECONDS {
        return Err(format!("its header gives a duration of {seconds} seconds"));
    }
    Ok(Duration::from_secs_f64(seconds))
}

/// Seconds of the longest track, from the container's frame count and time base.
fn stream_seconds(file: File, extension: &str) -> Result<f64, String> {
    let stream = MediaSourceStream::new(Box::new(file), Default::default());
    let mut hint = Hint::new();
    hint.with_extension(extension);
    let probed = symphonia::default::get_probe()
        .format(
            &hint,
            stream,
            &FormatOptions::default(),
            &MetadataOptions::default(),
        )
        .map_err(|e| format!("is not a .{extension} file dropfeed can read ({e})"))?;
    let seconds = probed.format.tracks().iter().filter_map(|track| {
        let params = &track.codec_params;
        let frames = params.n_frames?;
        let base = params.time_base.or_else(|| {
            params
                .sample_rate
                .filter(|&rate| rate > 0)
                .map(|rate| TimeBase::new(1, rate))
        })?;
        let time = base.calc_time(frames);
        Some(time.seconds as f64 + time.frac)
    });
    seconds
        .reduce(f64::max)
        .ok_or_else(|| "its header gives no duration".to_string())
}

/// The format and size of the picture at `path`, from its header.
pub fn image_info(path: &Path) -> Result<ImageInfo, String> {
    let file = File::open(path).map_err(|e| format!("cannot be read ({e})"))?;
    let mut head = Vec::with_capacity(64);
    file.take(64)
        .read_to_end(&mut head)
        .map_err(|e| format!("cannot be read ({e})"))?;
    let format = match imagesize::image_type(&head) {
        Ok(imagesize::ImageType::Png) => ImageFormat::Png,
        Ok(imagesize::ImageType::Jpeg) => ImageFormat::Jpeg,
        Ok(_) => ImageFormat::Other,
        Err(_) => return Err("is not a picture dropfeed can read".into()),
    };
    let file = File::open(path).map_err(|e| format!("cannot be read ({e})"))?;
    let size = imagesize::reader_size(BufReader::new(file))
        .map_err(|e| format!("its size cannot be read ({e})"))?;
    Ok(ImageInfo {
        format,
        width: size.width as u64,
        height: size.height as u64,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Beginnings of the formats read, so random bytes reach past the first check.
    const PREFIXES: &[&[u8]] = &[
        b"",
        b"ID3\x03\0\0\0\0\0\x05",
        b"\0\0\0\x18ftypM4A ",
        b"OggS\0\x02",
        b"\xff\xfb\x90\x64",
        b"\x89PNG\r\n\x1a\n",
        b"\xff\xd8\xff",
    ];

    /// Real media, damaged: bytes overwritten and the file cut short.
    fn damaged(path: &str, edits: &[(usize, u8)], keep: usize) -> Vec<u8> {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let mut bytes = std::fs::read(root.join(path)).unwrap();
        for &(at, byte) in edits {
            let len = bytes.len();
            bytes[at % len] = byte;
        }
        bytes.truncate(keep.max(1));
        bytes
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(48))]
        /// Damaged real media gives a duration or an error, never a panic or a hang.
        #[test]
        fn damaged_media_gives_an_answer_never_a_panic(
            which in 0usize..4,
            edits in prop::collection::vec((any::<usize>(), any::<u8>()), 0..24),
            keep in 1usize..20_000,
        ) {
            let (path, name) = [
                ("posts/feeds-over-coffee.mp3", "a.mp3"),
                ("tests/fixtures/podcast/short.m4a", "a.m4a"),
                ("tests/fixtures/podcast/short.opus", "a.opus"),
                ("posts/cover.png", "a.png"),
            ][which];
            let dir = tempfile::tempdir().unwrap();
            let file = dir.path().join(name);
            std::fs::write(&file, damaged(path, &edits, keep)).unwrap();
            let _ = probe(&file, name);
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]
        /// Whatever the bytes behind an audio or picture extension, the answer is a duration,
        /// a size or an error: never a panic, never a hang.
        #[test]
        fn any_bytes_give_an_answer_never_a_panic(
            bytes in prop::collection::vec(any::<u8>(), 0..600),
            prefix in prop::sample::select(PREFIXES),
        ) {
            let dir = tempfile::tempdir().unwrap();
            let mut data = prefix.to_vec();
            data.extend(bytes);
            for name in ["a.mp3", "a.m4a", "a.ogg", "a.opus", "a.mp4", "a.png", "a.jpg"] {
                let path = dir.path().join(name);
                std::fs::write(&path, &data).unwrap();
                let _ = probe(&path, name);
            }
        }
    }

    /// The shipped media (made once with ffmpeg; see tests/fixtures/podcast/README) and the
    /// lengths ffprobe gave for them.
    #[test]
    fn durations_of_every_container_match_ffprobe() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        for (path, seconds) in [
            ("posts/feeds-over-coffee.mp3", 5.068),
            ("tests/fixtures/podcast/noxing.mp3", 3.056),
            ("tests/fixtures/podcast/short.m4a", 3.0),
            ("tests/fixtures/podcast/short.opus", 4.007),
            ("tests/fixtures/podcast/short.ogg", 2.0),
        ] {
            let name = path.rsplit('/').next().unwrap();
            let Some(Facts::Duration(Ok(read))) = probe(&root.join(path), name) else {
                panic!("{path}: no duration");
            };
            let off = (read.as_secs_f64() - seconds).abs();
            assert!(off < 0.1, "{path}: read {read:?}, ffprobe says {seconds}");
        }
        let cover = image_info(&root.join("posts/cover.png")).unwrap();
        assert_eq!(
            (cover.format, cover.width, cover.height),
            (ImageFormat::Png, 1400, 1400)
        );
    }

    #[test]
    fn files_without_facts_are_not_opened() {
        let before = probes();
        assert_eq!(probe(Path::new("/nonexistent/a.pdf"), "a.pdf"), None);
        assert_eq!(probe(Path::new("/nonexistent/a.vtt"), "a.vtt"), None);
        assert!(probes() >= before);
        let missing = probe(Path::new("/nonexistent/a.mp3"), "a.mp3");
        assert!(matches!(missing, Some(Facts::Duration(Err(e))) if e.contains("cannot be read")));
    }
}
