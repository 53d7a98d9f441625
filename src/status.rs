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

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::ledger::{self, SharedHealth};
use crate::load::{Library, Skipped};
use crate::post::{LangSource, Post, PostError};
use crate::site::{Entry, Held, Site};

pub use page::{render_html, render_json, StatusPage};

/// Feeds larger than this earn a warning: many readers and aggregators refuse them.
pub const FEED_WARN_BYTES: usize = 1024 * 1024;

/// Why a post is held back while the id ledger cannot be read whole.
const NO_ID: &str =
    "not published: it has no id yet, and none is issued while the id ledger cannot be read whole";

/// How serious a diagnostic is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    /// The post (or its newest version) is not published.
    Error,
    /// Published, but something deserves a look.
    Warning,
}

impl Level {
    /// `error` or `warning`.
    pub fn name(self) -> &'static str {
        match self {
            Level::Error => "error",
            Level::Warning => "warning",
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

    /// Count of posts in a state.
    pub fn count(&self, state: PostState) -> usize {
        self.posts.iter().filter(|p| p.state == state).count()
    }
}

/// One post file as the library knows it.
#[derive(Debug, Clone)]
pub struct FileStatus {
    /// Path relative to the posts folder.
    pub source: String,
    /// Its newest good parse (still published while the file is broken).
    pub post: Option<Arc<Post>>,
    /// Its current problem, if any.
    pub error: Option<PostError>,
}

/// What the report needs from the library, captured when a rebuild begins.
#[derive(Debug, Clone, Default)]
pub struct StatusInputs {
    /// The posts folder.
    pub root: PathBuf,
    /// Every post file, in path order.
    pub files: Vec<FileStatus>,
    /// Files passed over.
    pub skipped: Vec<Skipped>,
    /// Why the last configuration reload (SIGHUP) was refused, if it was.
    pub config_error: Option<String>,
    /// The id ledger's health, read when the report is made (a write fails after publishing).
    pub ledger: SharedHealth,
    /// The rebuild under way, when the server is rebuilding (timed once its snapshot is
    /// built).
    pub rebuild: Option<Rebuild>,
}

impl StatusInputs {
    /// Captures a library's state (with no rebuild under way).
    pub fn of(library: &Library) -> StatusInputs {
        StatusInputs {
            root: library.display_root().to_path_buf(),
            files: library
                .files()
                .iter()
                .map(|(source, state)| FileStatus {
                    source: source.clone(),
                    post: state.last_good.clone(),
                    error: state.error.clone(),
                })
                .collect(),
            skipped: library.skipped.values().cloned().collect(),
            config_error: library.config_error.clone(),
            ledger: library.ledger_health(),
            rebuild: None,
        }
    }

    /// How many post files are in each state, in [`PostState::ALL`] order (for metrics).
    pub fn post_counts(&self, site: &Site) -> Vec<(PostState, usize)> {
        let failed = self.files.iter().filter(|f| f.error.is_some()).count();
        let held = |want: fn(&Held) -> bool| site.held.values().filter(|h| want(h)).count();
        PostState::ALL
            .into_iter()
            .map(|state| {
                let count = match state {
                    PostState::Published => site.entries.len(),
                    PostState::Draft => held(|h| matches!(h, Held::Draft)),
                    PostState::Scheduled => held(|h| matches!(h, Held::Scheduled(_))),
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

/// Builds the report.
pub fn report(inputs: &StatusInputs, site: &Site, served: &Served) -> Report {
    let files = Files::new(&inputs.root, site);
    let mut posts: Vec<PostReport> = inputs.files.iter().map(|f| files.post(f)).collect();
    posts.extend(inputs.skipped.iter().map(|s| files.skipped(s)));
    posts.sort_by(|a, b| a.file.cmp(&b.file));
    Report {
        posts,
        site: site_diagnostics(inputs, &served.feed_sizes),
        published: site.entries.len(),
        generation: served.generation,
        rebuild: served.rebuild.clone(),
    }
}

/// Post files reported against a site.
struct Files<'a> {
    root: &'a Path,
    site: &'a Site,
    published: HashMap<&'a str, &'a Entry>,
}

impl<'a> Files<'a> {
    fn new(root: &'a Path, site: &'a Site) -> Files<'a> {
        let published = site
            .entries
            .iter()
            .map(|e| (e.post.source.as_str(), e))
            .collect();
        Files {
            root,
            site,
            published,
        }
    }

    /// The file as the author knows it.
    fn file_of(&self, source: &str) -> String {
        self.root.join(source).display().to_string()
    }

    /// A post file's state, detail and diagnostics.
    fn post(&self, state: &FileStatus) -> PostReport {
        let file = self.file_of(&state.source);
        let entry = self.published.get(state.source.as_str()).copied();
        let (post_state, detail) = self.state(entry.is_some(), state);
        let mut diagnostics = self.diagnostics(&file, state);
        if post_state == PostState::Held {
            diagnostics.push(Diagnostic::new(&file, None, Level::Error, NO_ID.into()));
        }
        PostReport {
            file,
            title: state.post.as_ref().map(|p| p.title.clone()),
            state: post_state,
            detail,
            url: entry.map(|e| e.link().to_string()),
            diagnostics,
        }
    }

    /// Where a file stands: why the site holds it back, unless its newest version failed.
    fn state(&self, published: bool, state: &FileStatus) -> (PostState, String) {
        let (post_state, detail) = self.held_state(published, &state.source);
        match (&state.error, post_state) {
            (Some(error), PostState::Published) => (
                PostState::Failed,
                format!(
                    "failed: {} (line {}); the last good version is still served",
                    error.message, error.line
                ),
            ),
            (Some(error), PostState::Failed) => (
                PostState::Failed,
                format!(
                    "failed: {} (line {}); not published",
                    error.message, error.line
                ),
            ),
            _ => (post_state, detail),
        }
    }

    /// Whether the site publishes a source, and if not, why.
    fn held_state(&self, published: bool, source: &str) -> (PostState, String) {
        if published {
            return (PostState::Published, "published".to_string());
        }
        match self.site.held.get(source) {
            Some(Held::Draft) => (PostState::Draft, "draft: not published".to_string()),
            Some(Held::Scheduled(at)) => (
                PostState::Scheduled,
                format!("scheduled for {}", at.to_rfc3339()),
            ),
            Some(Held::DuplicateId { winner }) => (
                PostState::Duplicate,
                format!(
                    "not published: its id is already used by {}",
                    self.file_of(winner)
                ),
            ),
            Some(Held::NoId) => (PostState::Held, NO_ID.to_string()),
            None => (
                PostState::Failed,
                "failed: never parsed, not published".to_string(),
            ),
        }
    }

    /// The file's error, then its post's warnings, then the site's notices about it.
    fn diagnostics(&self, file: &str, state: &FileStatus) -> Vec<Diagnostic> {
        let mut out = Vec::new();
        if let Some(error) = &state.error {
            let message = error.message.clone();
            out.push(Diagnostic::new(
                file,
                Some(error.line),
                Level::Error,
                message,
            ));
        }
        if let Some(post) = state.post.as_deref() {
            out.extend(post_warnings(file, post));
        }
        let notices = self
            .site
            .notices
            .iter()
            .filter(|n| n.source == state.source);
        out.extend(notices.map(|n| Diagnostic::new(file, None, Level::Warning, n.message.clone())));
        out
    }

    /// A file passed over: an error when posts may be missing because of it.
    fn skipped(&self, skipped: &Skipped) -> PostReport {
        let file = self.file_of(&skipped.source);
        let level = if skipped.error {
            Level::Error
        } else {
            Level::Warning
        };
        let diagnostic = Diagnostic::new(&file, None, level, skipped.reason.clone());
        PostReport {
            file,
            title: None,
            state: PostState::Skipped,
            detail: skipped.reason.clone(),
            url: None,
            diagnostics: vec![diagnostic],
        }
    }
}

/// Site-wide diagnostics: a refused config reload first, then feeds over 1 MB, then the id
/// ledger's problems.
fn site_diagnostics(inputs: &StatusInputs, feed_sizes: &[(String, usize)]) -> Vec<Diagnostic> {
    let mut out: Vec<Diagnostic> = feed_sizes
        .iter()
        .filter(|(_, size)| *size > FEED_WARN_BYTES)
        .map(|(route, size)| {
            let message = format!(
                "/{route} is {size} bytes, over 1 MB: some readers refuse it; lower feed_limit or use summaries"
            );
            Diagnostic::new("site", None, Level::Warning, message)
        })
        .collect();
    out.sort_by(|a, b| a.message.cmp(&b.message));
    out.extend(ledger_diagnostics(inputs));
    if let Some(error) = &inputs.config_error {
        let message =
            format!("the configuration was not reloaded, the previous one stays in force: {error}");
        out.insert(0, Diagnostic::new("config", None, Level::Error, message));
    }
    out
}

/// The id ledger's problems, as errors about its file.
fn ledger_diagnostics(inputs: &StatusInputs) -> Vec<Diagnostic> {
    let file = inputs.root.join(ledger::STATE_DIR).join(ledger::FILE_NAME);
    let file = file.display().to_string();
    let problems = inputs.ledger.get().problems();
    problems
        .into_iter()
        .map(|p| Diagnostic::new(&file, p.line, Level::Error, p.message))
        .collect()
}

fn post_warnings(file: &str, post: &Post) -> Vec<Diagnostic> {
    let warn = |message: String| Diagnostic::new(file, None, Level::Warning, message);
    let mut out: Vec<Diagnostic> = post.warnings.iter().cloned().map(warn).collect();
    // A body not rendered yet (a post in no hot feed) is not rendered for this report: on a
    // large site that would cost seconds. `dropfeed check` renders every body first.
    let Some(body) = post.kept_body() else {
        return out;
    };
    out.extend(body.warnings.iter().cloned().map(warn));
    match body.lang_source {
        LangSource::Detected => out.push(warn(format!(
            "language not given: detected as `{}`",
            body.lang
        ))),
        LangSource::Site => out.push(warn(format!(
            "language not given nor detected: using the site's `{}`",
            body.lang
        ))),
        LangSource::Post => {}
    }
    out
}
