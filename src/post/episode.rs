//! A post as a podcast episode: its enclosure written as a path beside the post, a URL, or
//! the `{url, type, length}` table, and the episode's front matter (`episode`, `season`,
//! `episode_type`, `explicit`, `transcript`, `chapters`). What the files themselves say
//! (length, duration) is read by the library and put in by rendering, never written here.

use serde::Deserialize;
use url::Url;

use super::links::{self, Target};
use super::Enclosure;
use crate::media;

/// `enclosure` as written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WrittenEnclosure {
    /// A path beside the post or a URL: type and length come from the file.
    Address(String),
    /// `{url, type, length}` as written by hand (the length is checked against the file).
    Table(Enclosure),
}

/// A string or a table, each read by its own rules: a table's mistakes (an unknown key, a
/// length that is not a number) are reported as such, not as "matches no variant".
impl<'de> Deserialize<'de> for WrittenEnclosure {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(EnclosureVisitor)
    }
}

struct EnclosureVisitor;

impl<'de> serde::de::Visitor<'de> for EnclosureVisitor {
    type Value = WrittenEnclosure;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a path beside the post, a URL, or {url, type, length}")
    }

    fn visit_str<E: serde::de::Error>(self, text: &str) -> Result<WrittenEnclosure, E> {
        Ok(WrittenEnclosure::Address(text.to_string()))
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(self, map: A) -> Result<WrittenEnclosure, A::Error> {
        let table = Enclosure::deserialize(serde::de::value::MapAccessDeserializer::new(map))?;
        Ok(WrittenEnclosure::Table(table))
    }
}

impl WrittenEnclosure {
    /// The URL or path as written.
    pub fn url(&self) -> &str {
        match self {
            WrittenEnclosure::Address(url) => url,
            WrittenEnclosure::Table(table) => &table.url,
        }
    }
}

/// What kind of episode a post is (`itunes:episodeType`).
#[derive(serde::Serialize, serde::Deserialize, Debug, Clone, Copy, PartialEq, Eq)]
pub enum EpisodeType {
    /// A regular episode.
    Full,
    /// A preview of the show or a season.
    Trailer,
    /// Extra material.
    Bonus,
}

impl EpisodeType {
    /// Reads `full`, `trailer` or `bonus` (any case).
    pub fn parse(text: &str) -> Option<EpisodeType> {
        match text.trim().to_ascii_lowercase().as_str() {
            "full" => Some(EpisodeType::Full),
            "trailer" => Some(EpisodeType::Trailer),
            "bonus" => Some(EpisodeType::Bonus),
            _ => None,
        }
    }

    /// The word feeds carry.
    pub fn as_str(self) -> &'static str {
        match self {
            EpisodeType::Full => "full",
            EpisodeType::Trailer => "trailer",
            EpisodeType::Bonus => "bonus",
        }
    }
}

/// A file that goes with an episode (transcript, chapters): its absolute URL, and its path
/// in the posts folder when it is beside the post.
#[derive(serde::Serialize, serde::Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct Attachment {
    /// Absolute URL.
    pub url: String,
    /// Path in the posts folder, when the file is beside the post.
    pub file: Option<String>,
}

/// The episode fields of a post (all empty for a post that is not an episode).
#[derive(serde::Serialize, serde::Deserialize, Debug, Clone, Default, PartialEq, Eq)]
pub struct Episode {
    /// `episode`: its number.
    pub number: Option<u32>,
    /// `season`: its season.
    pub season: Option<u32>,
    /// `episode_type`.
    pub kind: Option<EpisodeType>,
    /// `explicit`.
    pub explicit: Option<bool>,
    /// `transcript`: named, or found beside the enclosure (see [`Episode::companions`]).
    pub transcript: Option<Attachment>,
    /// `chapters`: a JSON chapters file.
    pub chapters: Option<Attachment>,
    /// The enclosure's path in the posts folder, when it is a file beside the post.
    pub enclosure_file: Option<String>,
    /// Line of the file where the enclosure is written.
    pub enclosure_line: usize,
    /// Whether the enclosure was written as a table (type and length by hand).
    pub written_by_hand: bool,
    /// Transcripts looked for without being named: the enclosure's file name with `.vtt`
    /// and `.srt` (the first that exists is the transcript).
    pub companions: Vec<Attachment>,
}

/// The episode fields that must be one of a few words, or a link.
pub(super) fn check_fields(
    meta: &super::frontmatter::FrontMatter,
    at: &impl Fn(&str, String) -> super::frontmatter::LineError,
) -> Result<(), super::frontmatter::LineError> {
    if let Some(kind) = &meta.episode_type {
        if EpisodeType::parse(kind).is_none() {
            let message = format!("`episode_type`: `{kind}` is not full, trailer or bonus");
            return Err(at("episode_type", message));
        }
    }
    for (key, value) in [
        ("transcript", &meta.transcript),
        ("chapters", &meta.chapters),
    ] {
        if let Some(value) = value {
            super::frontmatter::web_url(value).map_err(|why| at(key, format!("`{key}`: {why}")))?;
        }
    }
    for (key, number) in [("episode", meta.episode), ("season", meta.season)] {
        if number == Some(0) {
            return Err(at(key, format!("`{key}`: numbers start at 1")));
        }
    }
    Ok(())
}

/// The absolute URL and posts-folder path of a path or URL written in the post at `source`.
pub(super) fn attach(source: &str, written: &str, resolve: &impl Fn(&str) -> String) -> Attachment {
    let file = match links::classify(source, written) {
        Some((Target::File(path), _)) => Some(path),
        _ => None,
    };
    Attachment {
        url: resolve(written),
        file,
    }
}

/// The post's enclosure with its absolute URL and, when only an address was written, the
/// media type its extension stands for (length 0 until the file's is known).
pub(super) fn enclosure(written: WrittenEnclosure, resolve: &impl Fn(&str) -> String) -> Enclosure {
    match written {
        WrittenEnclosure::Table(table) => Enclosure {
            url: resolve(&table.url),
            ..table
        },
        WrittenEnclosure::Address(address) => Enclosure {
            url: resolve(&address),
            mime_type: media::media_type(&address)
                .unwrap_or(UNKNOWN_TYPE)
                .to_string(),
            length: 0,
        },
    }
}

/// The type an enclosure of an unknown extension gets (and `dropfeed check` warns about).
pub const UNKNOWN_TYPE: &str = "application/octet-stream";

/// `<stem>.vtt` and `<stem>.srt` beside an enclosure file `path`, as attachments.
pub(super) fn companions(path: &str, site_base: &Url) -> Vec<Attachment> {
    // The extension of the file name, not a dot in a folder's name (`v1.2/episode`).
    let Some((stem, extension)) = path.rsplit_once('.') else {
        return Vec::new();
    };
    if stem.is_empty() || stem.ends_with('/') || extension.contains('/') {
        return Vec::new();
    }
    ["vtt", "srt"]
        .into_iter()
        .map(|extension| {
            let file = format!("{stem}.{extension}");
            Attachment {
                url: links::file_url(site_base, &file, ""),
                file: Some(file),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn companions_share_the_media_file_name() {
        let base = Url::parse("https://ex.org/").unwrap();
        let found = companions("2026/ep 1.mp3", &base);
        assert_eq!(found[0].file.as_deref(), Some("2026/ep 1.vtt"));
        assert_eq!(found[0].url, "https://ex.org/files/2026/ep%201.vtt");
        assert_eq!(found[1].file.as_deref(), Some("2026/ep 1.srt"));
        assert!(companions("noext", &base).is_empty());
    }

    #[test]
    fn a_dot_in_a_folder_name_is_not_an_extension() {
        let base = Url::parse("https://ex.org/").unwrap();
        assert!(companions("v1.2/episode", &base).is_empty());
        assert!(companions("shows/.mp3", &base).is_empty());
    }

    #[test]
    fn wrong_episode_fields_name_their_line() {
        for (text, line) in [
            ("---\ntitle: a\nepisode_type: teaser\n---\n", 3),
            ("---\ntitle: a\n\nepisode: 0\n---\n", 4),
            ("---\ntitle: a\ntranscript: \"javascript:x\"\n---\n", 3),
            ("---\nenclosure: \"data:audio/mpeg,x\"\n---\n", 2),
            ("+++\ntitle = \"a\"\nseason = -1\n+++\n", 3),
        ] {
            let split = super::super::frontmatter::split(text, chrono_tz::Tz::UTC);
            let (at, message) = split.err().unwrap_or_else(|| panic!("accepted: {text}"));
            assert_eq!(at, line, "{text}: {message}");
        }
    }

    #[test]
    fn a_wrong_enclosure_table_says_what_is_wrong() {
        let text = "---\ntitle: a\nenclosure:\n  url: a.mp3\n  typ: audio/mpeg\n---\n";
        let (line, message) =
            super::super::frontmatter::split(text, chrono_tz::Tz::UTC).expect_err("refused");
        assert!(message.contains("typ"), "{message}");
        assert_eq!(line, 5, "{message}");
        let text = "+++\nenclosure = \"a.mp3\"\n+++\n";
        let split = super::super::frontmatter::split(text, chrono_tz::Tz::UTC).expect("a path");
        assert_eq!(
            split.meta.enclosure,
            Some(WrittenEnclosure::Address("a.mp3".into()))
        );
    }

    #[test]
    fn episode_types_are_three_words() {
        assert_eq!(EpisodeType::parse("Trailer"), Some(EpisodeType::Trailer));
        assert_eq!(EpisodeType::parse("teaser"), None);
    }
}
