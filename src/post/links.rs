//! Relative links in a post, resolved as the author's editor and a Git host's preview see
//! them: against the post's **file**, inside the posts folder. `posts/2026/trip.md` linking
//! `photos/a.jpg` means `posts/2026/photos/a.jpg`, published at `/files/2026/photos/a.jpg`.
//!
//! Rules:
//!
//! - Only relative references are looked at: not absolute URLs, not `/root` or `//host`
//!   ones, not `#fragment` or `?query` alone. The query and fragment of a link are kept.
//! - The path is percent-decoded (`my%20photo.jpg` is the file `my photo.jpg`), `\` counts
//!   as `/` (as browsers read it), `.` and `..` are applied. A path that climbs above the
//!   posts folder, that names a folder, a dotfile or anything in a dot-folder (`.dropfeed/`),
//!   or another post's source file is not a file to publish: the link keeps its old meaning
//!   (resolved against the post's URL) and the author is warned.
//! - Resolution is a pure function of the post's path and the link: whether the file exists
//!   is decided later, by the library (so adding the file later needs no post re-read).

mod scan;

use std::borrow::Cow;

use percent_encoding::{percent_decode_str, utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
use url::Url;

use super::Format;

pub use scan::{html_links, markdown_links};

/// Where a relative link in a post leads, resolved against the post's file.
#[derive(serde::Serialize, serde::Deserialize, Debug, Clone, PartialEq, Eq, Hash)]
pub enum Target {
    /// A file of the posts folder, by its path there (`2026/photos/a.jpg`): published at
    /// `/files/{path}` while a published post links to it.
    File(String),
    /// Another post's source file: posts are published as pages, never as files.
    PostFile(String),
    /// A folder of the posts folder (`photos/`): only files are published.
    Folder(String),
    /// A dotfile, or something in a dot-folder (`.dropfeed/`): never published.
    Hidden(String),
    /// Above the posts folder.
    Outside,
}

impl Target {
    /// Why a link to this target is not published as a file, in plain words (`None` for a
    /// file, whose existence the library checks).
    pub fn problem(&self) -> Option<String> {
        match self {
            Target::File(_) => None,
            Target::PostFile(path) => Some(format!(
                "leads to the post file `{path}`: posts are published as pages, link to its page instead"
            )),
            Target::Folder(path) if path.is_empty() => {
                Some("leads to the posts folder itself: only files beside posts are published".into())
            }
            Target::Folder(path) => Some(format!(
                "leads to the folder `{path}/`: only files beside posts are published"
            )),
            Target::Hidden(path) => Some(format!(
                "leads to `{path}`, a hidden file or folder: never published"
            )),
            Target::Outside => Some("leads outside the posts folder: never published".into()),
        }
    }
}

/// One relative link of a post: as written, where, and where it leads.
#[derive(serde::Serialize, serde::Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct Link {
    /// The link as written, its escapes undone.
    pub written: String,
    /// 1-based line of the post's file where it is written.
    pub line: usize,
    /// Where it leads.
    pub target: Target,
}

/// Where `url`, written in the post at `source` (its path in the posts folder), leads, or
/// `None` when it is not a relative reference to resolve against the file (absolute URLs,
/// `/root`, `//host`, `#fragment`, `?query`, undecodable paths). The second value is the
/// link's query and fragment, kept as written.
pub fn classify<'u>(source: &str, url: &'u str) -> Option<(Target, &'u str)> {
    let url = url.trim_matches(|c: char| c.is_ascii_whitespace());
    let first = url.chars().next()?;
    if matches!(first, '#' | '?' | '/' | '\\') || !is_relative(url) {
        return None;
    }
    let end = url.find(['?', '#']).unwrap_or(url.len());
    let (path, suffix) = url.split_at(end);
    let decoded = percent_decode_str(path).decode_utf8().ok()?;
    if decoded.contains('\0') {
        return None;
    }
    Some((resolve(source, &decoded), suffix))
}

/// True for a relative reference (no scheme), as the sanitiser and browsers tell it.
fn is_relative(url: &str) -> bool {
    matches!(
        Url::parse(url),
        Err(url::ParseError::RelativeUrlWithoutBase)
    )
}

/// `path` (decoded) applied to the folder of `source`.
fn resolve(source: &str, path: &str) -> Target {
    let mut segments: Vec<&str> = source.split('/').collect();
    segments.pop(); // the post's own file name
    let parts: Vec<&str> = path.split(['/', '\\']).collect();
    let names_folder = matches!(parts.last(), Some(&"" | &"." | &".."));
    for part in parts {
        match part {
            "" | "." => {}
            ".." => {
                if segments.pop().is_none() {
                    return Target::Outside;
                }
            }
            name => segments.push(name),
        }
    }
    let joined = segments.join("/");
    if segments.iter().any(|s| s.starts_with('.')) {
        Target::Hidden(joined)
    } else if names_folder || segments.is_empty() {
        Target::Folder(joined)
    } else if Format::of(std::path::Path::new(&joined)).is_some() {
        Target::PostFile(joined)
    } else {
        Target::File(joined)
    }
}

/// What may stay unescaped in a path segment (RFC 3986 `pchar`): everything else is
/// percent-encoded.
const SEGMENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~')
    .remove(b'!')
    .remove(b'$')
    .remove(b'&')
    .remove(b'\'')
    .remove(b'(')
    .remove(b')')
    .remove(b'*')
    .remove(b'+')
    .remove(b',')
    .remove(b';')
    .remove(b'=')
    .remove(b':')
    .remove(b'@');

/// The route of a file of the posts folder, without the leading `/`: `files/` and its path,
/// each segment percent-encoded.
pub fn file_route(path: &str) -> String {
    let mut route = String::from("files/");
    for (i, segment) in path.split('/').enumerate() {
        if i > 0 {
            route.push('/');
        }
        route.extend(utf8_percent_encode(segment, SEGMENT));
    }
    route
}

/// The posts-folder path a `files/…` route names (percent-decoded), or `None` when the route
/// is not under `files/` or does not decode to UTF-8. Only looked up, never opened.
pub fn path_of_file_route(route: &str) -> Option<Cow<'_, str>> {
    let encoded = route.strip_prefix("files/")?;
    percent_decode_str(encoded).decode_utf8().ok()
}

/// The absolute URL of a file of the posts folder, with the link's query and fragment:
/// `site_base` is the site's root URL.
pub fn file_url(site_base: &Url, path: &str, suffix: &str) -> String {
    let joined = format!("{}{}{suffix}", site_base.as_str(), file_route(path));
    // Parsed back so the URL is in the same normal form as every other URL we write.
    Url::parse(&joined).map_or(joined, String::from)
}

/// A link in a post made absolute: a file of the posts folder → its `/files/` URL; any other
/// relative link → against the post's URL (its old meaning); an absolute one as written.
pub fn absolute(source: &str, post_url: &Url, site_base: &Url, url: &str) -> String {
    match classify(source, url) {
        Some((Target::File(path), suffix)) => file_url(site_base, &path, suffix),
        _ => post_url
            .join(url)
            .map(String::from)
            .unwrap_or_else(|_| url.to_string()),
    }
}

impl super::Post {
    /// The paths (in the posts folder) of the files beside posts this post links to: its
    /// relative links to files and its episode's companion files. A path may come twice.
    pub fn linked_files(&self) -> impl Iterator<Item = &String> {
        let linked = self.links.iter().filter_map(|link| match &link.target {
            Target::File(path) => Some(path),
            _ => None,
        });
        let companions = self.episode.companions.iter();
        linked.chain(companions.filter_map(|c| c.file.as_ref()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn target(source: &str, url: &str) -> Option<Target> {
        classify(source, url).map(|(t, _)| t)
    }

    #[test]
    fn links_resolve_against_the_post_file() {
        let file = |p: &str| Some(Target::File(p.into()));
        assert_eq!(
            target("2026/trip.md", "photos/a.jpg"),
            file("2026/photos/a.jpg")
        );
        assert_eq!(target("2026/trip.md", "./a.jpg"), file("2026/a.jpg"));
        assert_eq!(
            target("2026/trip.md", "../images/x.png"),
            file("images/x.png")
        );
        assert_eq!(target("trip/index.md", "photo.jpg"), file("trip/photo.jpg"));
        assert_eq!(
            target("a.md", "my%20photo.jpg?v=2#top"),
            file("my photo.jpg")
        );
        assert_eq!(target("a.md", "dir\\b.png"), file("dir/b.png"));
        assert_eq!(classify("a.md", "x.mp3#t=10").map(|c| c.1), Some("#t=10"));
    }

    #[test]
    fn links_that_are_not_files_of_the_folder_say_so() {
        assert_eq!(target("a.md", "../status/"), Some(Target::Outside));
        assert_eq!(target("2026/a.md", "../../x.png"), Some(Target::Outside));
        assert_eq!(
            target("a.md", ".dropfeed/ids"),
            Some(Target::Hidden(".dropfeed/ids".into()))
        );
        assert_eq!(
            target("a.md", "x/.git/config"),
            Some(Target::Hidden("x/.git/config".into()))
        );
        assert_eq!(
            target("a.md", "photos/"),
            Some(Target::Folder("photos".into()))
        );
        assert_eq!(target("a/b.md", ".."), Some(Target::Folder(String::new())));
        assert_eq!(
            target("a.md", "other.md"),
            Some(Target::PostFile("other.md".into()))
        );
        for not_relative in [
            "https://x.org/a.png",
            "/root.png",
            "//cdn/x.png",
            "#fn1",
            "?q",
            "mailto:a@b",
            "",
            "%FF.png",
            "a%00.png",
        ] {
            assert_eq!(target("a.md", not_relative), None, "{not_relative}");
        }
    }

    #[test]
    fn file_urls_encode_each_segment_and_decode_back() {
        let base = Url::parse("https://ex.org/blog/").unwrap();
        let url = file_url(&base, "2026/my photo#1?.jpg", "#t");
        assert_eq!(
            url,
            "https://ex.org/blog/files/2026/my%20photo%231%3F.jpg#t"
        );
        let route = file_route("café/ü.png");
        assert_eq!(path_of_file_route(&route).as_deref(), Some("café/ü.png"));
        assert_eq!(path_of_file_route("posts/x/"), None);
    }

    use proptest::prelude::*;

    fn segments(choices: &'static [&'static str], max: usize) -> impl Strategy<Value = String> {
        prop::collection::vec(prop::sample::select(choices), 1..max).prop_map(|s| s.join("/"))
    }

    proptest! {
        /// Resolution agrees with a browser's (the url crate joining the link to the file's
        /// URL), never publishes what is above the folder, hidden, a folder or a post, and
        /// the route of a file decodes back to it.
        #[test]
        fn files_resolve_as_a_browser_would_and_never_leave_the_folder(
            folders in segments(&["a", "b c", "é", "x.d"], 4),
            link in segments(&["..", ".", "a", ".h", "p.png", "%2e%2e", "b%20c", "q.md", "é.jpg", "x.d"], 6),
            suffix in prop::sample::select(&["", "?v=1", "#t=3", "/"][..]),
        ) {
            let source = format!("{folders}/post.md");
            let url = format!("{link}{suffix}");
            let root = Url::parse("http://h/root/").unwrap();
            let joined = root.join(&source).unwrap().join(&url).unwrap();
            let decoded = percent_decode_str(joined.path()).decode_utf8().unwrap().into_owned();
            let inside = decoded.strip_prefix("/root/");
            match classify(&source, &url).map(|(t, _)| t) {
                Some(Target::File(path)) => {
                    prop_assert_eq!(Some(path.as_str()), inside);
                    prop_assert!(path.split('/').all(|s| !s.is_empty() && !s.starts_with('.')));
                    prop_assert!(Format::of(std::path::Path::new(&path)).is_none());
                    let route = file_route(&path);
                    let back = path_of_file_route(&route).map(|p| p.into_owned());
                    prop_assert_eq!(back, Some(path.clone()));
                }
                Some(Target::Outside) => prop_assert!(inside.is_none(), "{} is inside", decoded),
                Some(Target::Hidden(path) | Target::PostFile(path)) => {
                    prop_assert_eq!(Some(path.as_str()), inside.map(|p| p.trim_end_matches('/')));
                }
                Some(Target::Folder(path)) => {
                    let folder = inside.map(|p| p.trim_end_matches('/'));
                    prop_assert!(decoded.ends_with('/') && folder == Some(path.as_str()), "{}", decoded);
                }
                None => prop_assert!(false, "{} is a relative link", url),
            }
        }
    }
}
