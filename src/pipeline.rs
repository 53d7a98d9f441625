//! The stages joined up: library → site → rendered resources → snapshot, plus writing a
//! snapshot to a folder for static hosting (`dropfeed build`).

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use chrono::{DateTime, Utc};

use crate::config::Config;
use crate::load::{Changes, Library};
use crate::render::{render_site, RenderError};
use crate::site::Site;
use crate::snapshot::{Coding, Snapshot};
use crate::status::{self, RebuildInfo, Report};

/// Where "now" comes from, so scheduled publishing can be tested without waiting.
pub trait Clock: Send + Sync {
    /// The current time.
    fn now(&self) -> DateTime<Utc>;
}

/// The system clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
}

/// A built site and its snapshot.
#[derive(Debug)]
pub struct Built {
    /// The site the snapshot was rendered from.
    pub site: Site,
    /// Ready-to-serve resources.
    pub snapshot: Snapshot,
}

/// Builds the site from the library's posts and renders a snapshot, reusing the encodings of
/// unchanged resources from `previous`.
pub fn build(
    library: &Library,
    config: &Arc<Config>,
    now: DateTime<Utc>,
    previous: Option<&Snapshot>,
) -> Result<Built, RenderError> {
    let posts = library.posts();
    let ids = library.ids(&posts, &config.id_authority, now);
    let site = Site::build(Arc::clone(config), &posts, &ids, now);
    let rendered = render_site(&site)?;
    let snapshot = Snapshot::build(rendered, &config.cache, previous);
    Ok(Built { site, snapshot })
}

/// [`build`], then the status report (with how long it took and what changed) attached to
/// the snapshot: what the server publishes after each change.
pub fn build_with_status(
    library: &Library,
    config: &Arc<Config>,
    now: DateTime<Utc>,
    previous: Option<&Snapshot>,
    changes: &Changes,
    started: Instant,
) -> Result<(Built, Report), RenderError> {
    let mut built = build(library, config, now, previous)?;
    let rebuild = RebuildInfo {
        at: now,
        duration_ms: started.elapsed().as_secs_f64() * 1000.0,
        changed: changes.changed.clone(),
        removed: changes.removed.clone(),
    };
    let report = status::report(library, &built.site, &built.snapshot, Some(rebuild));
    status::attach(&mut built.snapshot, &report, config);
    Ok((built, report))
}

/// Writes every resource of a snapshot under `out` (folder routes as `index.html`) with
/// `.br`, `.zst` and `.gz` siblings. The new tree is written beside `out` and swapped in by
/// renames, so a reader of `out` sees the old set or the new one, never a mix.
pub fn write_out(snapshot: &Snapshot, out: &Path) -> std::io::Result<()> {
    let parent = match out.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    std::fs::create_dir_all(&parent)?;
    let name = out
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "out".into());
    let staging = parent.join(format!(".{name}.new-{}", std::process::id()));
    let retired = parent.join(format!(".{name}.old-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&staging);
    std::fs::create_dir_all(&staging)?;
    let mut routes: Vec<_> = snapshot.resources.iter().collect();
    routes.sort_by(|a, b| a.0.cmp(b.0));
    for (route, resource) in routes {
        let file = if route.is_empty() || route.ends_with('/') {
            format!("{route}index.html")
        } else {
            route.clone()
        };
        let path = staging.join(&file);
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        std::fs::write(&path, &resource.identity.body)?;
        for coding in [Coding::Br, Coding::Zstd, Coding::Gzip] {
            if let Some(variant) = resource.variant(coding) {
                std::fs::write(
                    staging.join(format!("{file}.{}", coding.suffix())),
                    &variant.body,
                )?;
            }
        }
    }
    let had_old = out.exists();
    if had_old {
        let _ = std::fs::remove_dir_all(&retired);
        std::fs::rename(out, &retired)?;
    }
    std::fs::rename(&staging, out)?;
    if had_old {
        std::fs::remove_dir_all(&retired)?;
    }
    Ok(())
}
