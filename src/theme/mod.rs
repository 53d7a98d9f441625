//! The look and language of the HTML pages: templates (minijinja, HTML auto-escaped), the
//! words around an author's text in the page's language ([`words`]), dates in it
//! ([`dates`]), and the files of a theme folder (CSS, images) served at `/theme/`.
//!
//! The embedded default theme is what a site looks like until its author says otherwise.
//! An author overrides any page from a theme folder (`templates/` beside the posts folder,
//! or `theme_dir`), one file per page named as in [`TEMPLATE_NAMES`]. A template that does
//! not compile, or fails on a sample page, is reported with its file and line
//! ([`TemplateProblem`]) and the last good version of it keeps serving.

mod assets;
pub mod context;
pub mod dates;
mod sample;
pub mod words;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

use minijinja::Environment;

pub use assets::{asset_type, Asset};

/// The template of each page, by the names authors (and scripts outside dropfeed) use,
/// and `list.html`, the list of posts the home, older-posts and tag pages include.
pub const TEMPLATE_NAMES: [&str; 8] = [
    "base.html",
    "home.html",
    "post.html",
    "tag.html",
    "tags.html",
    "archive.html",
    "404.html",
    "list.html",
];

const EMBEDDED: [&str; 8] = [
    include_str!("default/base.html"),
    include_str!("default/home.html"),
    include_str!("default/post.html"),
    include_str!("default/tag.html"),
    include_str!("default/tags.html"),
    include_str!("default/archive.html"),
    include_str!("default/404.html"),
    include_str!("default/list.html"),
];

/// The largest template read: anything bigger is not a page template.
const MAX_TEMPLATE_BYTES: u64 = 1024 * 1024;

/// Work a sample page may cost (minijinja fuel, about one unit per instruction): a
/// template looping without end is refused before it serves. The samples cost the default
/// templates a few thousand units.
const SAMPLE_FUEL: u64 = 5_000_000;

/// Work one real page may cost: bounded, so an author's template that loops without end
/// only on real data fails (and gives way to the default one) instead of hanging the
/// rebuild; large enough for the default `/tags/` of a site with a hundred thousand tags.
const PAGE_FUEL: u64 = 500_000_000;

/// A template of the theme folder that is not in force, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TemplateProblem {
    /// The template file.
    pub file: PathBuf,
    /// 1-based line, when the engine knows it.
    pub line: Option<usize>,
    /// What is wrong, in plain words.
    pub message: String,
}

/// Where the template in force for a name came from.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Origin {
    Embedded,
    Author,
}

/// A set of templates in force, with the theme folder's files and the problems found.
pub struct Theme {
    env: Environment<'static>,
    sources: BTreeMap<&'static str, (Arc<str>, Origin)>,
    assets: BTreeMap<String, Asset>,
    problems: Vec<TemplateProblem>,
    digest: [u8; 16],
    dir: Option<PathBuf>,
}

impl std::fmt::Debug for Theme {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Theme")
            .field("dir", &self.dir)
            .field("problems", &self.problems)
            .finish_non_exhaustive()
    }
}

impl Theme {
    /// The embedded default theme, made once.
    pub fn embedded() -> Arc<Theme> {
        static EMBEDDED_THEME: OnceLock<Arc<Theme>> = OnceLock::new();
        Arc::clone(EMBEDDED_THEME.get_or_init(|| {
            let sources = embedded_sources();
            Arc::new(Theme::assemble(None, sources, BTreeMap::new(), Vec::new()))
        }))
    }

    /// The theme of a folder: each template there that works over the embedded ones. A
    /// template that does not work is reported, and the one in `previous` (its last good
    /// version) stays in force. A missing folder is the embedded theme.
    pub fn load(dir: &Path, previous: &Theme) -> Theme {
        let mut problems = Vec::new();
        let mut sources = embedded_sources();
        for name in TEMPLATE_NAMES {
            match read_template(&dir.join(name)) {
                Ok(None) => {}
                Ok(Some(text)) => {
                    sources.insert(name, (Arc::from(text), Origin::Author));
                }
                Err(message) => {
                    problems.push(problem(dir, name, None, message));
                    sources.insert(name, previous.last_good(name));
                }
            }
        }
        let assets = assets::read(dir, &mut problems);
        let sources = sample::settle(dir, sources, previous, &mut problems);
        Theme::assemble(Some(dir.to_path_buf()), sources, assets, problems)
    }

    fn assemble(
        dir: Option<PathBuf>,
        sources: BTreeMap<&'static str, (Arc<str>, Origin)>,
        assets: BTreeMap<String, Asset>,
        problems: Vec<TemplateProblem>,
    ) -> Theme {
        let (env, _) = environment(&sources, PAGE_FUEL);
        let mut hasher = blake3::Hasher::new();
        for (name, (text, _)) in &sources {
            for part in [name.as_bytes(), text.as_bytes()] {
                hasher.update(&(part.len() as u64).to_le_bytes());
                hasher.update(part);
            }
        }
        for (name, asset) in &assets {
            hasher.update(&(name.len() as u64).to_le_bytes());
            hasher.update(name.as_bytes());
            hasher.update(blake3::hash(&asset.bytes).as_bytes());
        }
        let mut digest = [0; 16];
        digest.copy_from_slice(&hasher.finalize().as_bytes()[..16]);
        Theme {
            env,
            sources,
            assets,
            problems,
            digest,
            dir,
        }
    }

    /// The source in force for a template name, which worked when it was loaded.
    fn last_good(&self, name: &str) -> (Arc<str>, Origin) {
        self.sources
            .get(name)
            .cloned()
            .unwrap_or_else(|| embedded_source(name))
    }

    /// Renders a page template. A template of the author's that fails on this page's data
    /// (it passed on the sample page) gives way to the embedded one: the page is served.
    pub fn render(&self, name: &str, context: &context::Page) -> Result<String, minijinja::Error> {
        let value = minijinja::Value::from(minijinja::value::Serde(context));
        let rendered = self
            .env
            .get_template(name)
            .and_then(|template| template.render(&value));
        match rendered {
            Err(_) if self.sources.values().any(|(_, o)| *o == Origin::Author) => {
                Theme::embedded().render(name, context)
            }
            other => other,
        }
    }

    /// The templates of the theme folder that are not in force, and why.
    pub fn problems(&self) -> &[TemplateProblem] {
        &self.problems
    }

    /// A digest of every template and file in force: equal digests render equal pages.
    pub fn digest(&self) -> [u8; 16] {
        self.digest
    }

    /// The theme folder's files, served at `/theme/{name}`.
    pub fn assets(&self) -> &BTreeMap<String, Asset> {
        &self.assets
    }

    /// Whether every template in force is the embedded one.
    pub fn is_embedded(&self) -> bool {
        self.sources.values().all(|(_, o)| *o == Origin::Embedded)
    }
}

fn embedded_source(name: &str) -> (Arc<str>, Origin) {
    let text = TEMPLATE_NAMES
        .iter()
        .position(|n| *n == name)
        .map_or("", |i| EMBEDDED[i]);
    (Arc::from(text), Origin::Embedded)
}

fn embedded_sources() -> BTreeMap<&'static str, (Arc<str>, Origin)> {
    TEMPLATE_NAMES
        .into_iter()
        .map(|name| (name, embedded_source(name)))
        .collect()
}

/// An environment holding `sources`, each render allowed `fuel`, and the first template
/// that does not compile.
fn environment(
    sources: &BTreeMap<&'static str, (Arc<str>, Origin)>,
    fuel: u64,
) -> (
    Environment<'static>,
    Option<(&'static str, minijinja::Error)>,
) {
    let mut env = Environment::new();
    env.set_fuel(Some(fuel));
    env.set_formatter(formatter);
    let mut failed = None;
    for (name, (text, _)) in sources {
        if let Err(error) = env.add_template_owned(*name, text.to_string()) {
            failed.get_or_insert((*name, error));
        }
    }
    (env, failed)
}

/// Writes a value into a page: text HTML-escaped as dropfeed escapes everywhere (`&`, `<`,
/// `>`, quotes; not `/`, which minijinja's own escaping writes as `&#x2f;` in every URL).
fn formatter(
    out: &mut minijinja::Output,
    state: &mut minijinja::State,
    value: &minijinja::Value,
) -> Result<(), minijinja::Error> {
    let html = matches!(state.auto_escape(), minijinja::AutoEscape::Html);
    match value.as_str() {
        Some(text) if html && !value.is_safe() => out
            .write_str(&crate::post::html::escape_text(text))
            .map_err(|_| minijinja::Error::new(minijinja::ErrorKind::WriteFailure, "a page")),
        _ => minijinja::escape_formatter(out, state, value),
    }
}

/// A template file's text; `None` when there is none.
fn read_template(path: &Path) -> Result<Option<String>, String> {
    let meta = match std::fs::metadata(path) {
        Ok(meta) => meta,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(format!("cannot be read: {e}")),
    };
    if !meta.is_file() {
        return Err("is not a file".into());
    }
    if meta.len() > MAX_TEMPLATE_BYTES {
        return Err(format!(
            "is {} bytes, over the {MAX_TEMPLATE_BYTES} a template may have",
            meta.len()
        ));
    }
    let bytes = std::fs::read(path).map_err(|e| format!("cannot be read: {e}"))?;
    String::from_utf8(bytes)
        .map(Some)
        .map_err(|_| "is not UTF-8 text".into())
}

fn problem(dir: &Path, name: &str, line: Option<usize>, message: String) -> TemplateProblem {
    TemplateProblem {
        file: dir.join(name),
        line,
        message: format!("{message}; the last good version of {name} keeps serving"),
    }
}
