//! Media types by extension, for enclosures and the files beside episodes. The types are the
//! ones the server sends as `Content-Type` for the same files (a test keeps the two tables in
//! agreement), so a feed never announces one type and the download arrives as another.

/// What kind of media a file is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MediaClass {
    /// Sound: has a duration.
    Audio,
    /// Moving pictures: has a duration.
    Video,
    /// A picture whose size artwork checks read (PNG, JPEG).
    Picture,
}

/// Extension, media type, class (`None`: an enclosure type without a duration).
const TABLE: &[(&str, &str, Option<MediaClass>)] = &[
    ("mp3", "audio/mpeg", Some(MediaClass::Audio)),
    ("m4a", "audio/mp4", Some(MediaClass::Audio)),
    ("m4b", "audio/mp4", Some(MediaClass::Audio)),
    ("aac", "audio/aac", None),
    ("ogg", "audio/ogg", Some(MediaClass::Audio)),
    ("oga", "audio/ogg", Some(MediaClass::Audio)),
    ("opus", "audio/ogg", Some(MediaClass::Audio)),
    ("flac", "audio/flac", Some(MediaClass::Audio)),
    ("wav", "audio/wav", Some(MediaClass::Audio)),
    ("mp4", "video/mp4", Some(MediaClass::Video)),
    ("m4v", "video/mp4", Some(MediaClass::Video)),
    ("mov", "video/quicktime", Some(MediaClass::Video)),
    ("webm", "video/webm", None),
    ("pdf", "application/pdf", None),
    ("epub", "application/epub+zip", None),
    ("png", "image/png", Some(MediaClass::Picture)),
    ("jpg", "image/jpeg", Some(MediaClass::Picture)),
    ("jpeg", "image/jpeg", Some(MediaClass::Picture)),
    ("vtt", "text/vtt", None),
    ("srt", "application/x-subrip", None),
    ("json", "application/json", None),
];

/// The extensions Apple Podcasts plays (its podcast specification, and the W3C feed
/// validator's `itunes` rules): anything else is skipped by it.
const APPLE_EXTENSIONS: [&str; 7] = ["m4a", "mp3", "mov", "mp4", "m4v", "pdf", "epub"];

/// The lower-cased extension of a file name or URL path (`None` without one).
pub fn extension_of(name: &str) -> Option<String> {
    let name = name.split(['?', '#']).next().unwrap_or(name);
    let (stem, extension) = name.rsplit_once('.')?;
    let plain = !stem.is_empty() && !stem.ends_with('/') && !extension.contains('/');
    (plain && !extension.is_empty()).then(|| extension.to_ascii_lowercase())
}

/// The media type a file name's extension stands for, among audio, video, artwork,
/// transcripts and the other types podcast apps accept as episodes.
pub fn media_type(name: &str) -> Option<&'static str> {
    let extension = extension_of(name)?;
    TABLE
        .iter()
        .find(|(ext, _, _)| *ext == extension)
        .map(|(_, media, _)| *media)
}

/// Whether a file's facts are read, and which ones.
pub(super) fn class_of(name: &str) -> Option<MediaClass> {
    let extension = extension_of(name)?;
    TABLE
        .iter()
        .find(|(ext, _, _)| *ext == extension)
        .and_then(|(_, _, class)| *class)
}

/// Whether Apple Podcasts (the strictest directory) plays an episode file with this name.
pub fn playable_in_podcast_apps(name: &str) -> bool {
    extension_of(name).is_some_and(|e| APPLE_EXTENSIONS.contains(&e.as_str()))
}

/// Every extension this module knows, with its media type (for the test that keeps the
/// server's `Content-Type` in agreement).
pub fn known() -> impl Iterator<Item = (&'static str, &'static str)> {
    TABLE.iter().map(|(ext, media, _)| (*ext, *media))
}

/// Whether a media type is one of audio or video (an episode's enclosure).
pub fn is_audio_or_video(media_type: &str) -> bool {
    media_type.starts_with("audio/") || media_type.starts_with("video/")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn types_come_from_the_extension_in_any_case() {
        assert_eq!(media_type("episodes/One.MP3"), Some("audio/mpeg"));
        assert_eq!(
            media_type("https://cdn.example/a.m4a?x=1"),
            Some("audio/mp4")
        );
        assert_eq!(media_type("show.opus"), Some("audio/ogg"));
        assert_eq!(media_type("noext"), None);
        assert_eq!(media_type("dir.mp3/file"), None);
        assert_eq!(media_type(".mp3"), None);
        assert_eq!(class_of("a.mov"), Some(MediaClass::Video));
        assert_eq!(class_of("a.pdf"), None);
        assert!(playable_in_podcast_apps("a.M4A"));
        assert!(!playable_in_podcast_apps("a.ogg"));
    }
}
