//! What authors and operators are told: every post's state (published, draft, scheduled,
//! failed, duplicate, held, skipped) and warnings, as `/status` (HTML for people, JSON for
//! tools) and as the diagnostics `dropfeed check` prints.
//!
//! Rules this module follows:
//!
//! - A report is made from what a rebuild saw of the library ([`StatusInputs`]), the site,
//!   and what the snapshot serves ([`Served`]). The snapshot comes later in the pipeline: it
//!   hands its generation and feed sizes over as values, and this module never looks into it.
//! - `/status` is rendered when asked ([`StatusPage`]), from what the rebuild saw, except the
//!   id ledger's health, read at that moment (a write that fails after publishing shows).
//! - A post body not rendered yet is not rendered for a report (seconds on a large site);
//!   `dropfeed check` renders every body first.
//! - The JSON field names and state names are an interface for tools: they never change.

mod page;
mod podcast;
mod report;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::ids::SharedHealth;
use crate::load::{Library, Linked, Skipped};
use crate::post::{Post, PostError};
use crate::site::{Held, Site};

pub use page::{render_html, render_json, render_text, StatusPage};
pub use report::{provisional_ids_message, report};

/// Feeds larger than this earn a warning: many readers and aggregators refuse them.
pub const FEED_WARN_BYTES: usize = 1024 * 1024;

/// How serious a diagnostic is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    /// The post (or its newest version) is not published.
    Error,
    /// Published, but something deserves a look.
    Warning,
    /// Information: what dropfeed did for the author (a language detected with
    /// confidence, relative links made absolute). Nothing to fix; `check --strict` passes.
    Info,
}

impl Level {
    /// `error`, `warning` or `info`.
    pub fn name(self) -> &'static str {
        match self {
            Level::Error => "error",
            Level::Warning => "warning",
            Level::Info => "info",
        }
    }
}

/// One message about one file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Diagnostic {
    /// The file as the author knows it (`posts/x.md`), or `site` for site-wide notes.
    pub file: String,
    /// 1-based line, when known.
    pub line: Option<usize>,
    /// Error or warning.
    pub level: Level,
    /// Plain-words message.
    pub message: String,
}

impl Diagnostic {
    fn new(file: &str, line: Option<usize>, level: Level, message: String) -> Diagnostic {
        Diagnostic {
            file: file.to_string(),
            line,
            level,
            message,
        }
    }
}

impl std::fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let level = self.level.name();
        match self.line {
            Some(line) => write!(f, "{}:{line}: {level}: {}", self.file, self.message),
            None => write!(f, "{}: {level}: {}", self.file, self.message),
        }
    }
}

/// Where a post file stands, as `/status`, `dropfeed check` and the metrics name it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum PostState {
    /// Readers see it.
    Published,
    /// `draft: true`: not published.
    Draft,
    /// Dated in the future: published at that time.
    Scheduled,
    /// Its newest version does not parse (an older one may still be served).
    Failed,
    /// Its id is already used by another post, which is published instead.
    Duplicate,
    /// No id can be issued while the id ledger cannot be read whole.
    Held,
    /// Passed over: not a post, or it could not be read.
    Skipped,
}

impl PostState {
    /// Every state, in the order metrics list them.
    pub const ALL: [PostState; 7] = [
        PostState::Published,
        PostState::Draft,
        PostState::Scheduled,
        PostState::Failed,
        PostState::Duplicate,
        PostState::Held,
        PostState::Skipped,
    ];

    /// The state's name (`published`, `draft`, ...), as the JSON and HTML show it.
    pub fn name(self) -> &'static str {
        match self {
            PostState::Published => "published",
            PostState::Draft => "draft",
            PostState::Scheduled => "scheduled",
            PostState::Failed => "failed",
            PostState::Duplicate => "duplicate",
            PostState::Held => "held",
            PostState::Skipped => "skipped",
        }
    }
}

/// One post's state as shown on `/status`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PostReport {
    /// The file.
    pub file: String,
    /// Its title, when it parsed at least once.
    pub title: Option<String>,
    /// Where it stands.
    pub state: PostState,
    /// The state in plain words.
    pub detail: String,
    /// Where readers find it, when published.
    pub url: Option<String>,
    /// Errors and warnings about this file.
    pub diagnostics: Vec<Diagnostic>,
}

/// A rebuild under way, as the server's watcher starts it.
#[derive(Debug, Clone)]
pub struct Rebuild {
    /// The time it builds for ("now").
    pub at: DateTime<Utc>,
    /// When it started, to time it once its snapshot is built.
    pub started: Instant,
    /// Files read again that had changed.
    pub changed: Vec<String>,
    /// Files gone.
    pub removed: Vec<String>,
}

impl Rebuild {
    /// The rebuild as done now: what `/status` shows of it.
    pub fn finish(self) -> RebuildInfo {
        RebuildInfo {
            at: self.at,
            duration_ms: self.started.elapsed().as_secs_f64() * 1000.0,
            changed: self.changed,
            removed: self.removed,
        }
    }
}

/// The last rebuild, for operators.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RebuildInfo {
    /// When it finished.
    pub at: DateTime<Utc>,
    /// How long it took, milliseconds.
    pub duration_ms: f64,
    /// Files read again that had changed.
    pub changed: Vec<String>,
    /// Files gone.
    pub removed: Vec<String>,
}

/// What is being served, as a report tells it: given by the snapshot as plain values.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Served {
    /// The snapshot's generation.
    pub generation: u64,
    /// Identity sizes of the hot feeds, for the "feed over 1 MB" warning.
    pub feed_sizes: Vec<(String, usize)>,
    /// The rebuild that made it, when the server made it.
    pub rebuild: Option<RebuildInfo>,
}

/// Everything `/status` shows.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Report {
    /// Posts in file order.
    pub posts: Vec<PostReport>,
    /// Site-wide diagnostics (feeds over 1 MB, the id ledger).
    pub site: Vec<Diagnostic>,
    /// Published posts.
    pub published: usize,
    /// Snapshot generation.
    pub generation: u64,
    /// The last rebuild.
    pub rebuild: Option<RebuildInfo>,
    /// Readers and downloads of the last 30 days, when the server counts them.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub readers: Option<crate::readers::ReadersReport>,
}

impl Report {
    /// Every diagnostic, posts first, in file order.
    pub fn diagnostics(&self) -> Vec<&Diagnostic> {
        self.posts
            .iter()
            .flat_map(|p| &p.diagnostics)
            .chain(&self.site)
            .collect()
    }

    /// How many diagnostics have a level.
    pub fn count_level(&self, level: Level) -> usize {
        self.diagnostics()
            .iter()
            .filter(|d| d.level == level)
            .count()
    }

    /// Count of posts in a state.
    pub fn count(&self, state: PostState) -> usize {
        self.posts.iter().filter(|p| p.state == state).count()
    }
}

/// One post file as the library knows it, as the report reads it.
#[derive(Debug, Clone)]
pub struct FileStatus {
    /// Path relative to the posts folder.
    pub source: String,
    /// Its newest good parse (still published while the file is broken).
    pub post: Option<Arc<Post>>,
    /// Its current problem, if any.
    pub error: Option<PostError>,
}

/// What is known about a file beside posts that some post links to: its size, or why it
/// cannot be published ("does not exist"…).
pub type LinkedStatus = Result<u64, String>;

/// What the report needs from the library, captured when a rebuild begins.
#[derive(Debug, Clone, Default)]
pub struct StatusInputs {
    /// The posts folder.
    pub root: PathBuf,
    /// Every post file, in path order (a copy of the library's: it costs nothing).
    pub files: crate::load::PostFiles,
    /// Every file beside posts that a post links to, by its path in the posts folder.
    pub linked: BTreeMap<String, LinkedStatus>,
    /// Files passed over.
    pub skipped: Vec<Skipped>,
    /// Why the last configuration reload (SIGHUP) was refused, if it was.
    pub config_error: Option<String>,
    /// Templates of the theme folder not in force, and why.
    pub templates: Vec<crate::theme::TemplateProblem>,
    /// The id ledger's health, read when the report is made (a write fails after publishing).
    pub ledger: SharedHealth,
    /// The rebuild under way, when the server is rebuilding (timed once its snapshot is
    /// built).
    pub rebuild: Option<Rebuild>,
}

impl StatusInputs {
    /// Captures a library's state and the ledger's health (read live when the report is
    /// made), with no rebuild under way.
    pub fn of(library: &Library, ledger: SharedHealth) -> StatusInputs {
        StatusInputs {
            root: library.display_root().to_path_buf(),
            files: library.files().clone(),
            linked: library
                .linked()
                .iter()
                .map(|(path, linked)| {
                    let status = match linked {
                        Linked::Found(file) => Ok(file.stamp.len),
                        Linked::Unusable(reason) => Err(reason.clone()),
                    };
                    (path.clone(), status)
                })
                .collect(),
            skipped: library.skipped.values().cloned().collect(),
            config_error: library.config_error.clone(),
            templates: library.theme().problems().to_vec(),
            ledger,
            rebuild: None,
        }
    }

    /// How many post files are in each state, in [`PostState::ALL`] order (for metrics).
    pub fn post_counts(&self, site: &Site) -> Vec<(PostState, usize)> {
        let failed = self.files.values().filter(|f| f.error.is_some()).count();
        let held = |want: fn(&Held) -> bool| site.held.values().filter(|h| want(h)).count();
        PostState::ALL
            .into_iter()
            .map(|state| {
                let count = match state {
                    PostState::Published => site.entries.len(),
                    PostState::Draft => held(|h| matches!(h, Held::Draft | Held::Expired(_))),
                    PostState::Scheduled => held(|h| matches!(h, Held::Scheduled { .. })),
                    PostState::Failed => failed,
                    PostState::Duplicate => held(|h| matches!(h, Held::DuplicateId { .. })),
                    PostState::Held => held(|h| matches!(h, Held::NoId)),
                    PostState::Skipped => self.skipped.len(),
                };
                (state, count)
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The HTML and the metrics use `name()`, the JSON uses serde: tools read both, so each
    /// state must have one name, the one `/status` has always shown.
    #[test]
    fn every_post_state_has_one_name_in_html_json_and_metrics() {
        let names: Vec<&str> = PostState::ALL.iter().map(|s| s.name()).collect();
        assert_eq!(
            names,
            [
                "published",
                "draft",
                "scheduled",
                "failed",
                "duplicate",
                "held",
                "skipped"
            ]
        );
        for state in PostState::ALL {
            let json = serde_json::to_string(&state).expect("serializes");
            assert_eq!(json, format!("\"{}\"", state.name()));
        }
    }
}
