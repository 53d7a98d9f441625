//! The stages joined up: library → site → rendered resources → snapshot, plus writing a
//! snapshot to a folder for static hosting (`dropfeed build`).

use std::sync::Arc;
use std::time::Instant;

use chrono::{DateTime, Utc};

use crate::config::Config;
use crate::load::{Changes, Library};
use crate::render::{render_site, RenderError};
use crate::site::Site;
use crate::snapshot::Snapshot;
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

pub use crate::export::write_out;
