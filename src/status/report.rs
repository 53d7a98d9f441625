//! The report itself: each post file's state, detail and diagnostics, and the site-wide
//! notes, in the order authors read them (files by path; a refused config reload first among
//! the site notes).

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use chrono::{DateTime, Utc};

use super::{
    Diagnostic, FileStatus, Level, LinkedStatus, PostReport, PostState, Report, Served,
    StatusInputs, FEED_WARN_BYTES,
};
use crate::ids;
use crate::load::Skipped;
use crate::post::links::file_url;
use crate::post::{LangSource, Post, Target};
use crate::site::{Entry, Held, Site};

/// Why a post is held back while the id ledger cannot be read whole.
const NO_ID: &str =
    "not published: it has no id yet, and none is issued while the id ledger cannot be read whole";

/// Builds the report.
pub fn report(inputs: &StatusInputs, site: &Site, served: &Served) -> Report {
    let files = Files::new(inputs, site);
    let mut posts: Vec<PostReport> = inputs
        .files
        .iter()
        .map(|(source, state)| {
            files.post(&FileStatus {
                source: source.clone(),
                post: state.last_good.clone(),
                error: state.error.clone(),
            })
        })
        .collect();
    posts.extend(inputs.skipped.iter().map(|s| files.skipped(s)));
    posts.sort_by(|a, b| a.file.cmp(&b.file));
    Report {
        posts,
        site: site_diagnostics(inputs, site, &served.feed_sizes),
        published: site.entries.len(),
        generation: served.generation,
        rebuild: served.rebuild.clone(),
        readers: None,
    }
}

/// Post files reported against a site.
struct Files<'a> {
    root: &'a Path,
    site: &'a Site,
    published: HashMap<&'a str, &'a Entry>,
    linked: &'a BTreeMap<String, LinkedStatus>,
}

impl<'a> Files<'a> {
    fn new(inputs: &'a StatusInputs, site: &'a Site) -> Files<'a> {
        let published = site
            .entries
            .iter()
            .map(|e| (e.post.source.as_str(), e))
            .collect();
        Files {
            root: &inputs.root,
            site,
            published,
            linked: &inputs.linked,
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
            Some(Held::Expired(at)) => (
                PostState::Draft,
                format!("expired {}: not published (expiryDate)", at.to_rfc3339()),
            ),
            Some(Held::Scheduled { at, .. }) => (
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
            out.extend(post_warnings(file, post, self.site.now));
            out.extend(self.link_warnings(file, post));
            out.extend(super::podcast::episode_diagnostics(file, self.site, post));
        }
        let notices = self
            .site
            .notices
            .iter()
            .filter(|n| n.source == state.source);
        out.extend(notices.map(|n| Diagnostic::new(file, None, Level::Warning, n.message.clone())));
        out
    }

    /// The post's relative links that readers cannot follow: to a file that is missing or
    /// cannot be published, or to something that is never published as a file; and an
    /// enclosure whose `length` is not its file's.
    fn link_warnings(&self, file: &str, post: &Post) -> Vec<Diagnostic> {
        let mut out = Vec::new();
        for link in &post.links {
            let message = match &link.target {
                Target::File(path) => match self.linked.get(path) {
                    Some(Err(reason)) => format!(
                        "links to `{}`, but {} {reason}: readers get a 404 for it",
                        link.written,
                        self.file_of(path)
                    ),
                    Some(Ok(size)) => match enclosure_length(post, &self.site.config.base_url, path) {
                        Some(length) if length != *size => format!(
                            "the enclosure `{}` is {size} bytes, but its `length` says {length}: podcast clients rely on it",
                            link.written
                        ),
                        _ => continue,
                    },
                    None => continue,
                },
                other => match other.problem() {
                    Some(problem) => format!(
                        "the relative link `{}` {problem}; it is left pointing at {}",
                        link.written,
                        resolved_against_post(post, &link.written)
                    ),
                    None => continue,
                },
            };
            out.push(Diagnostic::new(
                file,
                Some(link.line),
                Level::Warning,
                message,
            ));
        }
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

/// Why ids are provisional, for `/status`, `dropfeed check` and the start-up log.
pub fn provisional_ids_message(base_url: &str) -> String {
    format!(
        "base_url is not set: links are built on {base_url} and entry ids are provisional \
         (not recorded in the id ledger); set base_url (or id_authority) before readers \
         subscribe, and the next run (a restart, a reload, a build) issues the ids for good"
    )
}

/// Site-wide diagnostics: a refused config reload first, then provisional ids, then feeds
/// over 1 MB, then the id ledger's problems.
fn site_diagnostics(
    inputs: &StatusInputs,
    site: &Site,
    feed_sizes: &[(String, usize)],
) -> Vec<Diagnostic> {
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
    out.extend(super::podcast::show_diagnostics(site));
    if site.config.provisional_ids {
        let message = provisional_ids_message(site.config.base_url.as_str());
        // Information here (a trial run is fine): `serve` and `build` warn at start.
        out.insert(0, Diagnostic::new("config", None, Level::Info, message));
    }
    for problem in inputs.templates.iter().rev() {
        let file = problem.file.display().to_string();
        let message = problem.message.clone();
        out.insert(
            0,
            Diagnostic::new(&file, problem.line, Level::Error, message),
        );
    }
    if let Some(error) = &inputs.config_error {
        let message =
            format!("the configuration was not reloaded, the previous one stays in force: {error}");
        out.insert(0, Diagnostic::new("config", None, Level::Error, message));
    }
    out
}

/// The id ledger's problems, as errors about its file.
fn ledger_diagnostics(inputs: &StatusInputs) -> Vec<Diagnostic> {
    let file = inputs.root.join(ids::STATE_DIR).join(ids::FILE_NAME);
    let file = file.display().to_string();
    let problems = inputs.ledger.get().problems();
    problems
        .into_iter()
        .map(|p| Diagnostic::new(&file, p.line, Level::Error, p.message))
        .collect()
}

/// The `length` of the post's enclosure when it is the file at `path` of the posts folder.
fn enclosure_length(post: &Post, base_url: &url::Url, path: &str) -> Option<u64> {
    let enclosure = post
        .enclosure
        .as_ref()
        .filter(|_| post.episode.written_by_hand)?;
    let url = file_url(base_url, path, "");
    let plain = enclosure.url.split(['?', '#']).next().unwrap_or("");
    (plain == url).then_some(enclosure.length)
}

/// Where a relative link that is not a file of the posts folder points: the post's URL
/// joined with it, as before files beside posts were published.
fn resolved_against_post(post: &Post, written: &str) -> String {
    url::Url::parse(&post.link)
        .and_then(|base| base.join(written))
        .map_or_else(|_| written.to_string(), String::from)
}

/// A post's warnings, then what dropfeed did for it (information).
fn post_warnings(file: &str, post: &Post, now: DateTime<Utc>) -> Vec<Diagnostic> {
    let warn = |message: String| Diagnostic::new(file, None, Level::Warning, message);
    let info = |message: String| Diagnostic::new(file, None, Level::Info, message);
    let mut out: Vec<Diagnostic> = post.warnings.iter().cloned().map(warn).collect();
    out.extend(post.notes.iter().cloned().map(info));
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
    out.extend(body.notes.iter().cloned().map(info));
    match body.lang_source {
        // Detection is only used when confident: nothing for the author to do.
        LangSource::Detected => out.push(info(format!(
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
