//! `dropfeed import SOURCE`: an existing blog or feed moved in without a single duplicate
//! in any reader. SOURCE is a file or an http(s) URL of an RSS 2.0, Atom 1.0 or JSON Feed
//! document (RFC 5005 `prev-archive` links followed for the whole history), a WordPress
//! export (WXR) or a Blogger export.
//!
//! Each item becomes one post file, `YYYY-MM-DD-slug.md`: TOML front matter with its
//! title, dates, authors, categories as tags, summary, language and enclosure, then its
//! HTML kept as HTML (see `body`). Its original id (guid, Atom id, JSON Feed id) is recorded
//! in the id ledger ([`crate::ids::Ledger::record_imported`]) before the file appears, so
//! the served feeds carry it from the first build on; its old address becomes an alias
//! (`301`). Importing again is idempotent ([`record`]): nothing is duplicated, and a file
//! its author edited, moved or deleted since is left alone and reported.
//!
//! - [`fetch`]: reading files and URLs, with bounds.
//! - [`feeds`]: RSS, Atom, JSON Feed via feed-rs; [`wxr`], [`blogger`] on [`xml`].
//! - `body`: an item's post text; [`record`]: what earlier imports wrote.
//! - `plan`: deciding, item by item, what to write; `redirect`: the old feed's address.

pub mod blogger;
mod body;
pub mod feeds;
pub mod fetch;
mod plan;
pub mod record;
mod redirect;
pub mod wxr;
pub mod xml;

use std::collections::HashSet;
use std::path::Path;

use chrono::{DateTime, FixedOffset};

use crate::config::Config;
use crate::ids::ImportedIdTaken;
use crate::post::Enclosure;
use fetch::{Fetcher, Location};

pub use body::html_block;
pub use plan::{Action, Done};
pub use redirect::FeedRedirect;

/// Archive documents followed at most (RFC 5005 `prev-archive`), the first included.
pub const MAX_DOCUMENTS: usize = 1000;

/// One item of a source, as the post it becomes.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Item {
    /// The id it had (guid, Atom id, JSON Feed id); `None` when its source gave none.
    pub id: Option<String>,
    /// Plain-text title.
    pub title: Option<String>,
    /// Publication date.
    pub published: Option<DateTime<FixedOffset>>,
    /// Last update.
    pub updated: Option<DateTime<FixedOffset>>,
    /// Author names.
    pub authors: Vec<String>,
    /// Categories and tags.
    pub tags: Vec<String>,
    /// Plain-text summary, when the source has one apart from the content.
    pub summary: Option<String>,
    /// The content, HTML.
    pub html: String,
    /// Its old address.
    pub link: Option<String>,
    /// Attached media.
    pub enclosure: Option<Enclosure>,
    /// Language tag.
    pub lang: Option<String>,
    /// Not published where it came from (a WordPress or Blogger draft).
    pub draft: bool,
    /// The slug it had (WordPress `post_name`).
    pub slug: Option<String>,
}

impl Item {
    /// What identifies the item across imports: its id, else its old address, else its
    /// title and date.
    pub fn key(&self) -> String {
        match (&self.id, &self.link) {
            (Some(id), _) => id.clone(),
            (None, Some(link)) => format!("link:{link}"),
            (None, None) => format!(
                "title:{}:{}",
                self.title.as_deref().unwrap_or(""),
                self.published.map(|d| d.to_rfc3339()).unwrap_or_default()
            ),
        }
    }
}

/// What kind of document a source is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// RSS 2.0 (or 0.9x, 1.0).
    Rss,
    /// Atom 1.0.
    Atom,
    /// JSON Feed.
    JsonFeed,
    /// WordPress export.
    Wxr,
    /// Blogger export.
    Blogger,
}

/// One parsed document.
#[derive(Debug, Clone)]
pub struct Document {
    /// Its kind.
    pub format: Format,
    /// Its items, in document order.
    pub items: Vec<Item>,
    /// The address of the archive before it (RFC 5005), if any.
    pub prev_archive: Option<String>,
}

/// Why an import stopped.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    /// A document could not be read or fetched.
    #[error("{origin}: {why}")]
    Read {
        /// The file or URL.
        origin: String,
        /// What went wrong.
        why: String,
    },
    /// A document is not a feed or export dropfeed reads.
    #[error("{origin}: not an RSS, Atom, JSON Feed, WordPress or Blogger document: {why}")]
    NotAFeed {
        /// The file or URL.
        origin: String,
        /// What the parsers said.
        why: String,
    },
    /// The id ledger cannot take the imported ids.
    #[error("id ledger: {0}")]
    Ledger(#[from] ImportedIdTaken),
    /// Reading or writing the posts folder failed.
    #[error("{path}: {error}")]
    Io {
        /// The file.
        path: String,
        /// The error.
        error: std::io::Error,
    },
}

/// What an import did.
#[derive(Debug)]
pub struct Report {
    /// The source's kind.
    pub format: Format,
    /// Documents read (more than one when archives were followed).
    pub documents: usize,
    /// One line per item.
    pub done: Vec<Done>,
    /// The old feed's address, redirected to ours (`[redirects]` in the config).
    pub redirect: Option<FeedRedirect>,
}

impl Report {
    /// One line per item that was written or skipped (unchanged ones are not news), then
    /// the old feed's redirect, if any, in the config file `config_file`.
    pub fn lines(&self, config_file: &Path) -> Vec<String> {
        let mut out: Vec<String> = self
            .done
            .iter()
            .filter_map(|done| {
                let what = match &done.action {
                    Action::Imported => "imported".to_string(),
                    Action::Updated => "updated".to_string(),
                    Action::Unchanged => return None,
                    Action::Skipped(why) => format!("skipped: {why}"),
                };
                let file = done.file.as_deref().unwrap_or("-");
                Some(format!("{file}: {what} ({})", done.title))
            })
            .collect();
        if let Some(r) = &self.redirect {
            let verb = if r.added { "added to" } else { "already in" };
            let file = config_file.display();
            out.push(format!(
                "{file}: \"{}\" = \"{}\" {verb} [redirects]",
                r.from, r.to
            ));
        }
        out
    }

    /// How many items were imported, updated, unchanged and skipped.
    pub fn summary(&self) -> String {
        let count =
            |want: fn(&Action) -> bool| self.done.iter().filter(|d| want(&d.action)).count();
        format!(
            "{} items from {} documents ({:?}): {} imported, {} updated, {} unchanged, {} skipped",
            self.done.len(),
            self.documents,
            self.format,
            count(|a| *a == Action::Imported),
            count(|a| *a == Action::Updated),
            count(|a| *a == Action::Unchanged),
            count(|a| matches!(a, Action::Skipped(_))),
        )
    }
}

/// Parses one document of any kind dropfeed imports.
pub fn parse_document(bytes: &[u8]) -> Result<Document, String> {
    let text = String::from_utf8_lossy(bytes);
    let start = text.trim_start_matches(['\u{feff}', ' ', '\t', '\r', '\n']);
    if start.starts_with('<') {
        if let Ok(root) = xml::parse(start) {
            if wxr::is_wxr(&root) {
                return Ok(wxr::parse(&root));
            }
            if blogger::is_blogger(&root) {
                return Ok(blogger::parse(&root));
            }
        }
    }
    feeds::parse(bytes)
}

/// Reads a source and the archives it links to, newest document first.
pub async fn read_all(source: &Location) -> Result<Vec<Document>, ImportError> {
    let fetcher = Fetcher::new();
    let mut seen = HashSet::new();
    let mut documents = Vec::new();
    let mut next = Some(source.clone());
    while let Some(location) = next.take() {
        if !seen.insert(location.clone()) || documents.len() >= MAX_DOCUMENTS {
            break; // an archive chain that loops back, or one longer than any real feed's
        }
        let bytes = fetcher.read(&location).await?;
        let document = parse_document(&bytes).map_err(|why| ImportError::NotAFeed {
            origin: location.to_string(),
            why,
        })?;
        next = document
            .prev_archive
            .as_deref()
            .and_then(|link| location.join(link));
        documents.push(document);
    }
    Ok(documents)
}

/// Imports a source into a posts folder: reads it (and its archives), writes the posts,
/// records their ids and the import, and for a web feed redirects its old address to ours
/// in the config file at `config_path`.
pub async fn run(
    source: &str,
    posts: &Path,
    config: &Config,
    config_path: &Path,
) -> Result<Report, ImportError> {
    let location = Location::parse(source);
    let documents = read_all(&location).await?;
    let format = documents.first().map_or(Format::Rss, |d| d.format);
    let count = documents.len();
    let items: Vec<Item> = documents.into_iter().flat_map(|d| d.items).collect();
    let done = plan::import_items(posts, config, items)?;
    let redirect = match &location {
        Location::Web(url) => redirect::record(config_path, url, format)?,
        Location::File(_) => None,
    };
    Ok(Report {
        format,
        documents: count,
        done,
        redirect,
    })
}

/// The text of some HTML: tags dropped, references decoded, whitespace folded.
pub fn html_to_text(html: &str) -> String {
    let text = ammonia::Builder::empty().clean(html).to_string();
    let decoded = text
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&nbsp;", "\u{a0}")
        .replace("&amp;", "&");
    crate::post::html::plain_text_line(&decoded)
}
