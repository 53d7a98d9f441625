//! What authors and operators are told: every post's state (published, draft, scheduled,
//! failed, duplicate) and warnings, as `/status` (HTML for people, JSON for tools) and as
//! the diagnostics `dropfeed check` prints.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::ids::{self, SharedHealth};
use crate::load::{Library, Skipped};
use crate::post::html::escape_text as esc;
use crate::post::{LangSource, Post, PostError};
use crate::render::Media;
use crate::site::{Held, Site};
use crate::snapshot::{Snapshot, StatusPages};

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

impl Level {
    /// `error` or `warning`.
    pub fn name(self) -> &'static str {
        match self {
            Level::Error => "error",
            Level::Warning => "warning",
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

/// One post's state as shown on `/status`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PostReport {
    /// The file.
    pub file: String,
    /// Its title, when it parsed at least once.
    pub title: Option<String>,
    /// `published`, `draft`, `scheduled`, `failed`, `duplicate`, `held` (no id can be issued)
    /// or `skipped`.
    pub state: &'static str,
    /// The state in plain words.
    pub detail: String,
    /// Where readers find it, when published.
    pub url: Option<String>,
    /// Errors and warnings about this file.
    pub diagnostics: Vec<Diagnostic>,
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
    pub fn count(&self, state: &str) -> usize {
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

/// What the report needs from the library, captured at rebuild time.
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
}

impl StatusInputs {
    /// Captures a library's state, and the ledger's health (read live when the report is made).
    pub fn of(library: &Library, ledger: SharedHealth) -> StatusInputs {
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
            ledger,
        }
    }
}

/// Builds the report. `feed_sizes` are the identity sizes of the hot feeds.
pub fn report(
    inputs: &StatusInputs,
    site: &Site,
    feed_sizes: &[(String, usize)],
    generation: u64,
    rebuild: Option<RebuildInfo>,
) -> Report {
    let root = &inputs.root;
    let file_of = |source: &str| root.join(source).display().to_string();
    let published: HashMap<&str, &crate::site::Entry> = site
        .entries
        .iter()
        .map(|e| (e.post.source.as_str(), e))
        .collect();
    let mut posts = Vec::new();
    for state in &inputs.files {
        let source = &state.source;
        let file = file_of(source);
        let mut diagnostics = Vec::new();
        if let Some(error) = &state.error {
            diagnostics.push(Diagnostic {
                file: file.clone(),
                line: Some(error.line),
                level: Level::Error,
                message: error.message.clone(),
            });
        }
        let post = state.post.as_deref();
        if let Some(post) = post {
            diagnostics.extend(post_warnings(&file, post, site.now));
        }
        for notice in site.notices.iter().filter(|n| &n.source == source) {
            diagnostics.push(Diagnostic {
                file: file.clone(),
                line: None,
                level: Level::Warning,
                message: notice.message.clone(),
            });
        }
        let entry = published.get(source.as_str()).copied();
        let (state_name, mut detail) = match (entry, site.held.get(source), post) {
            (Some(_), _, _) => ("published", "published".to_string()),
            (None, Some(Held::Draft), _) => ("draft", "draft: not published".to_string()),
            (None, Some(Held::Scheduled(at)), _) => {
                ("scheduled", format!("scheduled for {}", at.to_rfc3339()))
            }
            (None, Some(Held::DuplicateId { winner }), _) => (
                "duplicate",
                format!(
                    "not published: its id is already used by {}",
                    file_of(winner)
                ),
            ),
            (None, Some(Held::NoId), _) => {
                diagnostics.push(Diagnostic {
                    file: file.clone(),
                    line: None,
                    level: Level::Error,
                    message: NO_ID.into(),
                });
                ("held", NO_ID.to_string())
            }
            (None, None, _) => ("failed", "failed: never parsed, not published".to_string()),
        };
        let state_name = match (&state.error, state_name) {
            (Some(error), "published") => {
                detail = format!(
                    "failed: {} (line {}); the last good version is still served",
                    error.message, error.line
                );
                "failed"
            }
            (Some(error), "failed") => {
                detail = format!(
                    "failed: {} (line {}); not published",
                    error.message, error.line
                );
                "failed"
            }
            (_, name) => name,
        };
        posts.push(PostReport {
            file,
            title: post.map(|p| p.title.clone()),
            state: state_name,
            detail,
            url: entry.map(|e| e.link().to_string()),
            diagnostics,
        });
    }
    for skipped in &inputs.skipped {
        let file = file_of(&skipped.source);
        posts.push(PostReport {
            file: file.clone(),
            title: None,
            state: "skipped",
            detail: skipped.reason.clone(),
            url: None,
            diagnostics: vec![Diagnostic {
                file,
                line: None,
                level: if skipped.error {
                    Level::Error
                } else {
                    Level::Warning
                },
                message: skipped.reason.clone(),
            }],
        });
    }
    posts.sort_by(|a, b| a.file.cmp(&b.file));
    let mut big: Vec<_> = feed_sizes
        .iter()
        .filter(|(_, size)| *size > FEED_WARN_BYTES)
        .map(|(route, size)| Diagnostic {
            file: "site".into(),
            line: None,
            level: Level::Warning,
            message: format!(
                "/{route} is {size} bytes, over 1 MB: some readers refuse it; lower feed_limit or use summaries"
            ),
        })
        .collect();
    big.sort_by(|a, b| a.message.cmp(&b.message));
    big.extend(ledger_diagnostics(inputs));
    if let Some(error) = &inputs.config_error {
        big.insert(
            0,
            Diagnostic {
                file: "config".into(),
                line: None,
                level: Level::Error,
                message: format!(
                    "the configuration was not reloaded, the previous one stays in force: {error}"
                ),
            },
        );
    }
    Report {
        posts,
        site: big,
        published: site.entries.len(),
        generation,
        rebuild,
    }
}

/// The id ledger's problems, as errors about its file.
fn ledger_diagnostics(inputs: &StatusInputs) -> Vec<Diagnostic> {
    let file = inputs.root.join(ids::STATE_DIR).join(ids::FILE_NAME);
    let file = file.display().to_string();
    let problems = inputs.ledger.get().problems();
    problems
        .into_iter()
        .map(|p| Diagnostic {
            file: file.clone(),
            line: p.line,
            level: Level::Error,
            message: p.message,
        })
        .collect()
}

fn post_warnings(file: &str, post: &Post, now: DateTime<Utc>) -> Vec<Diagnostic> {
    let warn = |message: String| Diagnostic {
        file: file.to_string(),
        line: None,
        level: Level::Warning,
        message,
    };
    let mut out: Vec<Diagnostic> = post.warnings.iter().cloned().map(warn).collect();
    if post.updated != post.date && post.updated.with_timezone(&Utc) > now {
        out.push(warn(format!(
            "`updated` {} is in the future: feeds show it as written, but no Last-Modified \
             header claims a time after the build",
            post.updated.to_rfc3339(),
        )));
    }
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

/// `/status` as HTML.
pub fn render_html(report: &Report, title: &str) -> Vec<u8> {
    let mut rows = String::new();
    for post in &report.posts {
        let name = post
            .title
            .as_deref()
            .map(esc)
            .unwrap_or_else(|| "<em>(no title)</em>".into());
        let name = match &post.url {
            Some(url) => format!("<a href=\"{}\">{name}</a>", esc(url)),
            None => name,
        };
        let notes: String = post
            .diagnostics
            .iter()
            .map(|d| {
                let line = d.line.map(|l| format!("line {l}: ")).unwrap_or_default();
                format!(
                    "<li class=\"{}\">{line}{}</li>",
                    d.level.name(),
                    esc(&d.message)
                )
            })
            .collect();
        rows.push_str(&format!(
            "<tr class=\"{state}\"><td><code>{file}</code></td><td>{name}</td><td><strong>{state}</strong><br>{detail}</td><td><ul>{notes}</ul></td></tr>\n",
            state = post.state,
            file = esc(&post.file),
            detail = esc(&post.detail),
        ));
    }
    let site: String = report
        .site
        .iter()
        .map(|d| match d.file.as_str() {
            "site" => format!("<li>{}</li>", esc(&d.message)),
            _ => format!(
                "<li class=\"{}\">{}</li>",
                d.level.name(),
                esc(&d.to_string())
            ),
        })
        .collect();
    let rebuild = match &report.rebuild {
        Some(r) => format!(
            "<p>Last rebuild: {} ({:.1} ms). Changed: {}. Removed: {}.</p>",
            r.at.to_rfc3339(),
            r.duration_ms,
            if r.changed.is_empty() {
                "nothing".into()
            } else {
                esc(&r.changed.join(", "))
            },
            if r.removed.is_empty() {
                "nothing".into()
            } else {
                esc(&r.removed.join(", "))
            },
        ),
        None => String::new(),
    };
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>Status — {title}</title>\n<style>body{{font:1rem/1.5 system-ui,sans-serif;margin:1rem}}table{{border-collapse:collapse;width:100%}}\
         td,th{{border-bottom:1px solid #ddd;padding:.4rem;vertical-align:top;text-align:left}}tr.failed,tr.held{{background:#fde8e8}}\
         tr.draft,tr.scheduled{{color:#555}}li.error{{color:#a00}}li.warning{{color:#8a5a00}}ul{{margin:0;padding-left:1rem}}</style>\n</head>\n<body>\n\
         <h1>Status — {title}</h1>\n<p>{published} posts published, {failed} failed, {drafts} drafts, {scheduled} scheduled. Snapshot generation {generation}.</p>\n\
         {rebuild}\n{site_block}<table>\n<thead><tr><th>File</th><th>Title</th><th>State</th><th>Notes</th></tr></thead>\n<tbody>\n{rows}</tbody>\n</table>\n</body>\n</html>\n",
        title = esc(title),
        published = report.published,
        failed = report.count("failed"),
        drafts = report.count("draft"),
        scheduled = report.count("scheduled"),
        generation = report.generation,
        site_block = if site.is_empty() { String::new() } else { format!("<h2>Site</h2><ul>{site}</ul>\n") },
    )
    .into_bytes()
}

/// `/status` as JSON.
pub fn render_json(report: &Report) -> Vec<u8> {
    let mut out = serde_json::to_vec_pretty(report).unwrap_or_default();
    out.push(b'\n');
    out
}

/// The identity sizes of a snapshot's hot feeds, for the "feed over 1 MB" warning.
pub fn feed_sizes(snapshot: &Snapshot) -> Vec<(String, usize)> {
    snapshot
        .resources
        .iter()
        .filter(|(_, r)| r.media != Media::Html)
        .map(|(route, r)| (route.clone(), r.identity.body.len()))
        .collect()
}

/// Gives a snapshot its `/status` (rendered on request from what the rebuild saw) and its
/// post counts for metrics.
pub fn attach(snapshot: &mut Snapshot, inputs: StatusInputs, rebuild: Option<RebuildInfo>) {
    let Some(site) = snapshot.site.clone() else {
        return;
    };
    let failed = inputs.files.iter().filter(|f| f.error.is_some()).count();
    let held = |want: fn(&Held) -> bool| site.held.values().filter(|h| want(h)).count();
    snapshot.posts_by_state = vec![
        ("published", site.entries.len()),
        ("draft", held(|h| matches!(h, Held::Draft))),
        ("scheduled", held(|h| matches!(h, Held::Scheduled(_)))),
        ("failed", failed),
        ("duplicate", held(|h| matches!(h, Held::DuplicateId { .. }))),
        ("held", held(|h| matches!(h, Held::NoId))),
        ("skipped", inputs.skipped.len()),
    ];
    let feed_sizes = feed_sizes(snapshot);
    let generation = snapshot.generation;
    snapshot.status = Some(StatusPages(Arc::new(move || {
        let report = report(&inputs, &site, &feed_sizes, generation, rebuild.clone());
        (
            render_html(&report, &site.config.title),
            render_json(&report),
        )
    })));
}
