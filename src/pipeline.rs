//! The stages joined up, in one straight line: posts (the [`Library`]) → ids (the
//! [`Ledger`]) → [`Site`] → [`Snapshot`]. The file I/O a build needs is done before it runs,
//! by [`Inputs::gather`]; the build itself reads and writes nothing but memory. The caller
//! that opened the ledger saves it after publishing.
//!
//! [`check`] is `dropfeed check`: the same build, every body rendered, every problem reported.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Instant;

use chrono::{DateTime, Utc};

use crate::config::Config;
use crate::ids::{Issuer, Ledger, Presence};
use crate::load::{Changes, Library};
use crate::post::Post;
use crate::render::RenderError;
use crate::site::{Change, Site};
use crate::snapshot::{Encode, Snapshot};
use crate::status::{self, Rebuild, Report, StatusInputs};

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

/// What one build reads: the posts folder as loaded, and the id ledger made ready for it.
#[derive(Debug)]
pub struct Inputs<'a> {
    /// The posts, as read.
    pub library: &'a Library,
    /// The id ledger; ids issued by the build are recorded in it (save it after publishing).
    pub ledger: &'a mut Ledger,
    /// Which recorded files a renamed post may have left are still there.
    pub presence: Presence<'a>,
}

impl<'a> Inputs<'a> {
    /// Makes the ledger ready for a build at `now` ([`Ledger::prepare`]: ids are issued and
    /// recorded here, under the ledger's lock) looking at every post: the build's only file
    /// I/O, done here, before it runs.
    pub fn gather(
        library: &'a Library,
        ledger: &'a mut Ledger,
        config: &'a Config,
        now: DateTime<Utc>,
    ) -> Self {
        let presence = ledger.prepare(library, None, Issuer::of(config), now);
        Inputs {
            library,
            ledger,
            presence,
        }
    }

    /// [`Inputs::gather`] for a rebuild after some sources were read again: only those can be
    /// new posts (a scheduled post coming due needs [`Inputs::gather`]).
    pub fn gather_changed(
        library: &'a Library,
        ledger: &'a mut Ledger,
        config: &'a Config,
        changed: &[String],
        now: DateTime<Utc>,
    ) -> Self {
        let presence = ledger.prepare(library, Some(changed), Issuer::of(config), now);
        Inputs {
            library,
            ledger,
            presence,
        }
    }
}

/// Builds the site and its snapshot, every hot resource encoded (for export, `check` and
/// tests; the server uses [`build_for_serving`]).
pub fn build(
    inputs: Inputs,
    config: &Arc<Config>,
    now: DateTime<Utc>,
    previous: Option<&Snapshot>,
) -> Result<Built, RenderError> {
    build_with(inputs, config, now, previous, None, Encode::Now, None)
}

/// What the server publishes after a change: the snapshot with new resources in identity
/// only (the encoder compresses them next) and its `/status`, with how long the rebuild
/// took and what changed.
pub fn build_for_serving(
    inputs: Inputs,
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
        ..StatusInputs::of(inputs.library, inputs.ledger.health())
    };
    let changes = Some(changes);
    build_with(
        inputs,
        config,
        now,
        previous,
        changes,
        Encode::Later,
        Some(status),
    )
}

/// `dropfeed check`: builds without recording ids (a read-only ledger), renders every body
/// (their warnings are part of the check, not only those of hot feeds), and reports.
pub fn check(
    library: &Library,
    config: &Arc<Config>,
    now: DateTime<Utc>,
) -> Result<Report, RenderError> {
    let mut ledger = Ledger::open(library.display_root());
    ledger.read_only();
    let health = ledger.health();
    let inputs = Inputs::gather(library, &mut ledger, config, now);
    let built = build(inputs, config, now, None)?;
    let posts = library.posts();
    Post::keep_bodies(&posts.iter().map(|p| &**p).collect::<Vec<_>>());
    Ok(status::report(
        &StatusInputs::of(library, health),
        &built.site,
        &built.snapshot.served(),
    ))
}

/// posts → ids → site → snapshot.
fn build_with(
    inputs: Inputs,
    config: &Arc<Config>,
    now: DateTime<Utc>,
    previous: Option<&Snapshot>,
    changes: Option<&Changes>,
    encode: Encode,
    status: Option<StatusInputs>,
) -> Result<Built, RenderError> {
    let started = Instant::now();
    let Inputs {
        library,
        ledger,
        presence,
    } = inputs;
    let issuer = Issuer::of(config);
    // A few posts changed: the previous site is patched where a whole build could not
    // decide differently (see `Site::patched`).
    let patched = edits(library, previous, changes).and_then(|(site, changed)| {
        let edited: Vec<Arc<Post>> = changed.iter().filter_map(|(_, p)| p.clone()).collect();
        ledger.assign(&edited, &presence, issuer, now);
        Site::patched(site, config, &changed, &*ledger, now)
    });
    let was_patched = patched.is_some();
    let mut site = patched.unwrap_or_else(|| {
        let posts = library.posts();
        ledger.assign(&posts, &presence, issuer, now);
        Site::build(Arc::clone(config), &posts, &*ledger, now)
    });
    site.theme = library.theme();
    let linked = library.linked();
    site.files = match previous.and_then(|p| p.site()) {
        Some(before) if *before.files == *linked => Arc::clone(&before.files),
        _ => Arc::new(linked.clone()),
    };
    site.show_guids = Arc::new(show_guids(config, ledger));
    let site = Arc::new(site);
    let site_done = started.elapsed();
    let snapshot = Snapshot::build(Arc::clone(&site), linked, previous, encode, status)?;
    tracing::debug!(
        patched = was_patched,
        site_ms = site_done.as_secs_f64() * 1e3,
        snapshot_ms = (started.elapsed() - site_done).as_secs_f64() * 1e3,
        "build stages"
    );
    Ok(Built { site, snapshot })
}

/// Each show's `podcast:guid`, recorded in the ledger the first time (see
/// [`Ledger::show_guid`]).
fn show_guids(config: &Config, ledger: &mut Ledger) -> BTreeMap<String, String> {
    config
        .shows
        .iter()
        .map(|show| {
            let feed = match &show.tag {
                None => "feed.xml".to_string(),
                Some(tag) => format!("tags/{}/feed.xml", crate::post::slugify(tag)),
            };
            let guid = ledger.show_guid(&show.key(), &config.url(&feed), config.provisional_ids);
            (show.key(), guid.to_string())
        })
        .collect()
}

/// The previously published site and what became of each source changed since: its new
/// version, or `None` when it is gone (or no post: a file beside posts, a source that never
/// parsed). A source that stopped parsing keeps its last good version.
fn edits<'a>(
    library: &Library,
    previous: Option<&'a Snapshot>,
    changes: Option<&Changes>,
) -> Option<(&'a Site, Vec<Change>)> {
    let site = previous?.site().map(Arc::as_ref)?;
    let changes = changes?;
    let mut sources: Vec<&String> = changes.changed.iter().chain(&changes.removed).collect();
    sources.sort();
    sources.dedup();
    let changed = sources
        .into_iter()
        .map(|source| {
            let post = library
                .files()
                .get(source)
                .and_then(|f| f.last_good.clone());
            (source.clone(), post)
        })
        .collect();
    Some((site, changed))
}
