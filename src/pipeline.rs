//! The stages joined up: library → site → rendered resources → snapshot, plus writing a
//! snapshot to a folder for static hosting (`dropfeed build`).

use std::sync::Arc;
use std::time::Instant;

use chrono::{DateTime, Utc};

use crate::config::Config;
use crate::load::{Changes, Library};
use crate::post::Post;
use crate::render::RenderError;
use crate::site::Site;
use crate::snapshot::{Encode, Snapshot};
use crate::status::{Rebuild, StatusInputs};

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
    pub site: Arc<Site>,
    /// Ready-to-serve resources.
    pub snapshot: Snapshot,
}

/// Builds the site from the library's posts and its snapshot, every hot resource encoded
/// (for export, `check` and tests; the server uses [`build_for_serving`]).
pub fn build(
    library: &Library,
    config: &Arc<Config>,
    now: DateTime<Utc>,
    previous: Option<&Snapshot>,
) -> Result<Built, RenderError> {
    let built = build_with(library, config, now, previous, None, Encode::Now, None)?;
    library.save_ids();
    Ok(built)
}

fn build_with(
    library: &Library,
    config: &Arc<Config>,
    now: DateTime<Utc>,
    previous: Option<&Snapshot>,
    changes: Option<&Changes>,
    encode: Encode,
    status: Option<StatusInputs>,
) -> Result<Built, RenderError> {
    let started = Instant::now();
    let mut ids_done = started.elapsed();
    let patched = previous
        .and_then(|p| p.site().map(Arc::as_ref))
        .zip(changes)
        .and_then(|(site, changes)| {
            if !changes.removed.is_empty() {
                return None;
            }
            // Sources that never parsed were never published: nothing to put in place.
            let edited: Vec<Arc<Post>> = changes
                .changed
                .iter()
                .filter_map(|source| library.files().get(source)?.last_good.clone())
                .collect();
            library.with_ids(&edited, &config.id_authority, now, |ids| {
                ids_done = started.elapsed();
                Site::patched(site, config, &edited, ids, now)
            })
        });
    let was_patched = patched.is_some();
    let site = match patched {
        Some(site) => Arc::new(site),
        None => {
            let posts = library.posts();
            library.with_ids(&posts, &config.id_authority, now, |ids| {
                ids_done = started.elapsed();
                Arc::new(Site::build(Arc::clone(config), &posts, ids, now))
            })
        }
    };
    let site_done = started.elapsed();
    let snapshot = Snapshot::build(Arc::clone(&site), previous, encode, status)?;
    tracing::debug!(
        patched = was_patched,
        ids_ms = ids_done.as_secs_f64() * 1e3,
        site_ms = (site_done - ids_done).as_secs_f64() * 1e3,
        snapshot_ms = (started.elapsed() - site_done).as_secs_f64() * 1e3,
        "build stages"
    );
    Ok(Built { site, snapshot })
}

/// What the server publishes after a change: the snapshot with new resources in identity
/// only (the encoder compresses them next) and its `/status`, with how long the
/// rebuild took and what changed. The caller writes the id ledger after publishing
/// ([`Library::save_ids`]).
pub fn build_for_serving(
    library: &Library,
    config: &Arc<Config>,
    now: DateTime<Utc>,
    previous: Option<&Snapshot>,
    changes: &Changes,
    started: Instant,
) -> Result<Built, RenderError> {
    let rebuild = Rebuild {
        at: now,
        started,
        changed: changes.changed.clone(),
        removed: changes.removed.clone(),
    };
    let status = StatusInputs {
        rebuild: Some(rebuild),
        ..StatusInputs::of(library)
    };
    build_with(
        library,
        config,
        now,
        previous,
        Some(changes),
        Encode::Later,
        Some(status),
    )
}

pub use crate::export::write_out;
