//! Why a document could not be rendered.
//!
//! None of these errors names another as its `source`: each message already says everything
//! (a post's file and what is wrong with it), and a source would print it a second time in
//! the "Caused by" lines `dropfeed` shows.

use crate::post::date::DateError;
use crate::post::ContentError;

/// A rendering failure: the route being rendered and why.
#[derive(Debug, thiserror::Error)]
#[error("rendering {path}: {problem}")]
pub struct RenderError {
    /// The resource being rendered.
    pub path: String,
    /// What went wrong.
    pub problem: DocError,
}

/// Why one document (a feed, a page) could not be made.
#[derive(Debug, thiserror::Error)]
pub enum DocError {
    /// A post's stored text could not be given back: the document is not rendered with less
    /// of the post than its author wrote.
    #[error("{post}: {error}")]
    Body {
        /// The post's path relative to the posts folder.
        post: String,
        /// What the store said.
        error: ContentError,
    },
    /// A date that the format cannot express (posts with such dates fail when they are read,
    /// so this guards against posts made some other way).
    #[error("{whose}: a date {error}")]
    Date {
        /// Whose date: a post's path, or "the newest entry".
        whose: String,
        /// Why the date cannot be written.
        error: DateError,
    },
    /// The RSS writer refused the channel.
    #[error("{0}")]
    Rss(::rss::Error),
    /// The Atom writer refused the feed.
    #[error("{0}")]
    Atom(atom_syndication::Error),
    /// The JSON Feed could not be serialised.
    #[error("{0}")]
    Json(serde_json::Error),
    /// A page's template failed (the embedded theme's, or an author's on data its sample
    /// page did not have, after the embedded one failed too).
    #[error("template {0}")]
    Template(String),
    /// An archive page number past the collection's last page.
    #[error("no such archive page")]
    NoSuchPage,
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The messages authors and operators see are the ones `String` errors used to give.
    #[test]
    fn messages_read_as_before() {
        let date = RenderError {
            path: "feed.xml".into(),
            problem: DocError::Date {
                whose: "old.md".into(),
                error: DateError::OutOfRange(10_000),
            },
        };
        assert_eq!(
            date.to_string(),
            "rendering feed.xml: old.md: a date in year 10000, which feeds cannot express \
             (years 1 to 9999 only)"
        );
        let page = RenderError {
            path: "archive/9/atom.xml".into(),
            problem: DocError::NoSuchPage,
        };
        assert_eq!(
            page.to_string(),
            "rendering archive/9/atom.xml: no such archive page"
        );
    }

    /// No cause is repeated in the "Caused by" lines that `dropfeed` prints under an error.
    #[test]
    fn messages_are_not_repeated_as_sources() {
        let error = RenderError {
            path: "feed.xml".into(),
            problem: DocError::NoSuchPage,
        };
        assert!(std::error::Error::source(&error).is_none());
    }
}
