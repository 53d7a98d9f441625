//! A built site → [`Snapshot`]: an immutable map from route to ready bytes and headers.
//!
//! Hot resources (subscription feeds of the site and of every tag, the home page) are
//! rendered at rebuild time and kept in every encoding. Cold ones (archive pages and post
//! pages: most of a large site's bytes) are rendered on their first request, once however
//! many requests want them at the same time, into a bounded [`ColdCache`] shared by all
//! snapshots and keyed by the fingerprint of their inputs, so an archive page whose posts did
//! not change is never rendered again.
//!
//! Rebuilds render only the hot documents whose fingerprint changed. A changed document is
//! published at once with its identity bytes; its compressed variants follow moments later
//! from the encoder thread (a client asking for gzip meanwhile gets identity,
//! which `Vary: Accept-Encoding` allows). Compression never happens on the request path of
//! a hot resource.
//!
//! The served state has one home here: a [`Snapshot`] is built once, never changed, and
//! published by swapping the [`SharedSnapshot`] (arc-swap), so a request loads it without a
//! lock. Its fields are private: other stages read it through its methods.
//!
//! - `build`: a site (and what `/status` is made from) → a snapshot, reusing the previous one.
//! - [`Resource`]: ready bytes and headers; validators are hashes of the identity bytes.
//! - [`cache_control`]: the `Cache-Control` policy, for every answer and for the export.
//! - [`ColdCache`]: cold pages rendered on request.
//! - [`files`]: the files beside posts that published posts link to, streamed by `serve`.

mod build;
pub mod cache_control;
mod cold;
pub mod files;
mod resource;

use std::collections::HashMap;
use std::sync::Arc;

use arc_swap::ArcSwap;

use crate::config::CacheConfig;
use crate::post::Fingerprint;
use crate::render::{self, Media, Rendered};
use crate::site::Site;
use crate::status::{PostState, Served, StatusInputs, StatusPage};

pub use build::{encode_many, render_encoded};

pub use cold::{Cold, ColdCache, Pending, Ticket, COLD_CACHE_BYTES};
pub use files::{FileResource, Files};
pub use resource::{
    compress, http_date, Coding, Resource, Variant, BROTLI_QUALITY, CODINGS, GZIP_LEVEL, ZSTD_LEVEL,
};

/// The snapshot being served, shared by the server, the watcher and the encoder: a request
/// loads it once without a lock; a rebuild or the encoder swaps in a new one atomically.
pub type SharedSnapshot = Arc<ArcSwap<Snapshot>>;

/// Every route of the site, immutable once built.
#[derive(Debug, Default)]
pub struct Snapshot {
    /// Hot routes (without the leading `/`), ready in every encoding once encoded.
    resources: HashMap<String, Arc<Resource>>,
    /// Counts rebuilds that changed what is served, starting at 1.
    generation: u64,
    /// The site, for rendering cold routes on request.
    site: Option<Arc<Site>>,
    /// Cold routes rendered so far, shared with the snapshots built after this one.
    cold: Arc<ColdCache>,
    /// `/status`, rendered on request (not part of the site: not exported, and it shows
    /// rebuild times), with the post counts for metrics.
    status: Option<StatusPage>,
    /// Files beside posts that published posts link to, by path in the posts folder.
    files: Arc<Files>,
}

/// Whether new hot resources are compressed before the snapshot is returned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encode {
    /// Now (static export, benchmarks).
    Now,
    /// Later, by the encoder thread (serving: changes are published sooner).
    Later,
}

impl Snapshot {
    /// The snapshot of a finished build, with its status page made from `status`.
    fn assemble(
        resources: HashMap<String, Arc<Resource>>,
        files: Files,
        generation: u64,
        site: Arc<Site>,
        cold: Arc<ColdCache>,
        status: Option<StatusInputs>,
    ) -> Snapshot {
        let status = status.map(|inputs| {
            let feed_sizes = feed_sizes(&resources);
            StatusPage::new(inputs, Arc::clone(&site), generation, feed_sizes)
        });
        Snapshot {
            resources,
            generation,
            site: Some(site),
            cold,
            status,
            files: Arc::new(files),
        }
    }

    /// A snapshot of given resources only (unit tests of the HTTP layer).
    pub fn from_rendered(rendered: Vec<Rendered>, cache: &CacheConfig) -> Snapshot {
        let resources = rendered
            .into_iter()
            .map(|item| {
                let route = item.path.clone();
                let resource = Resource::new(item, Fingerprint::default(), cache);
                let encoded = resource.compress_all();
                (route, Arc::new(resource.with_encodings(encoded)))
            })
            .collect();
        Snapshot {
            resources,
            generation: 1,
            ..Snapshot::default()
        }
    }

    /// What is served before the first build is published: nothing yet (generation 0), so
    /// every route answers `503` with `Retry-After` and `/healthz` says "starting".
    pub fn starting() -> Snapshot {
        Snapshot::default()
    }

    /// Whether this is the [`Snapshot::starting`] placeholder: no build published yet.
    pub fn is_starting(&self) -> bool {
        self.generation == 0
    }

    /// This snapshot rendering its cold routes into `cold` (tests of the cache's budget).
    pub fn with_cold_cache(self, cold: Arc<ColdCache>) -> Snapshot {
        Snapshot { cold, ..self }
    }

    /// Counts rebuilds that changed what is served, starting at 1.
    pub fn generation(&self) -> u64 {
        self.generation
    }

    /// The site it was built from (`None` for [`Snapshot::from_rendered`]).
    pub fn site(&self) -> Option<&Arc<Site>> {
        self.site.as_ref()
    }

    /// The cache of cold routes rendered so far.
    pub fn cold_cache(&self) -> &ColdCache {
        &self.cold
    }

    /// The hot resource at a route (without the leading `/`).
    pub fn get(&self, route: &str) -> Option<&Arc<Resource>> {
        self.resources.get(route)
    }

    /// The file beside posts at a path of the posts folder, if a published post links to it.
    pub fn file(&self, path: &str) -> Option<&Arc<FileResource>> {
        self.files.get(path)
    }

    /// Every file beside posts that published posts link to, by path in the posts folder.
    pub fn files(&self) -> &Files {
        &self.files
    }

    /// The resource at any route: hot, or cold (rendered and compressed on first request,
    /// then cached; a request arriving during that render waits for it). Rendering a cold
    /// route takes milliseconds: call it off the async runtime's worker threads.
    pub fn resource(&self, route: &str) -> Option<Arc<Resource>> {
        if let Some(hot) = self.resources.get(route) {
            return Some(Arc::clone(hot));
        }
        match self.cold_route(route)? {
            Cold::Ready(resource) => Some(resource),
            Cold::Rendering(pending) => pending.wait_blocking(),
            Cold::Render(ticket) => ticket.render(),
        }
    }

    /// A cold route (archive or post page) as the cache has it: ready, being rendered, or to
    /// be rendered by the caller. `None` when the site has no such cold route.
    pub fn cold_route(&self, route: &str) -> Option<Cold> {
        let site = self.site.as_ref()?;
        let planned = render::plan_cold(site, route)?;
        Some(self.cold.lookup(site, planned))
    }

    /// Whether a route exists without rendering it (hot, or a cold route of the site).
    pub fn contains(&self, route: &str) -> bool {
        self.resources.contains_key(route)
            || self
                .site
                .as_ref()
                .is_some_and(|site| render::plan_cold(site, route).is_some())
    }

    /// Every route, hot and cold, sorted.
    pub fn routes(&self) -> Vec<String> {
        match &self.site {
            Some(site) => render::all_routes(site),
            None => {
                let mut routes: Vec<String> = self.resources.keys().cloned().collect();
                routes.sort();
                routes
            }
        }
    }

    /// Where an old address has moved (`[redirects]`, post aliases), with or without its
    /// trailing slash: an absolute URL. The server asks only for routes no resource has.
    pub fn redirect(&self, route: &str) -> Option<&str> {
        let redirects = &self.site.as_ref()?.redirects;
        let other = match route.strip_suffix('/') {
            Some(bare) => bare.to_string(),
            None => format!("{route}/"),
        };
        redirects
            .get(route)
            .or_else(|| redirects.get(&other))
            .map(String::as_str)
    }

    /// Whether it answers `/status`.
    pub fn has_status(&self) -> bool {
        self.status.is_some()
    }

    /// `/status` rendered now, in HTML or (`json`) JSON, with `Cache-Control: no-cache`, and
    /// the server's reader counts when it keeps them.
    /// Rendering takes milliseconds on a large site: call it off the async runtime.
    pub fn status_resource(
        &self,
        json: bool,
        readers: Option<crate::readers::ReadersReport>,
    ) -> Option<Arc<Resource>> {
        let (page, site) = (self.status.as_ref()?, self.site.as_ref()?);
        let rendered = page.render(json, readers);
        let resource = Resource::new(rendered, Fingerprint::default(), &site.config.cache);
        Some(Arc::new(resource))
    }

    /// What it serves, as a status report tells it: generation, feed sizes, and the rebuild
    /// that made it (when the server made it).
    pub fn served(&self) -> Served {
        Served {
            generation: self.generation,
            feed_sizes: feed_sizes(&self.resources),
            rebuild: self
                .status
                .as_ref()
                .and_then(|page| page.served().rebuild.clone()),
        }
    }

    /// How many post files are in each state (empty without a status page).
    pub fn post_counts(&self) -> &[(PostState, usize)] {
        self.status.as_ref().map_or(&[], |page| page.post_counts())
    }

    /// Hot resources not yet compressed.
    pub fn unencoded(&self) -> Vec<(String, Arc<Resource>)> {
        self.resources
            .iter()
            .filter(|(_, r)| !r.is_encoded)
            .map(|(route, r)| (route.clone(), Arc::clone(r)))
            .collect()
    }

    /// How many hot resources are not yet compressed.
    pub fn pending_compression(&self) -> usize {
        self.resources.values().filter(|r| !r.is_encoded).count()
    }

    /// Whether every hot resource has its compressed variants.
    pub fn fully_encoded(&self) -> bool {
        self.resources.values().all(|r| r.is_encoded)
    }

    /// This snapshot with some resources replaced by their encoded versions; a replacement
    /// applies only where the snapshot still holds the very resource that was encoded.
    pub fn with_encoded(&self, done: &[(Arc<Resource>, Arc<Resource>)]) -> Snapshot {
        let mut resources = self.resources.clone();
        for resource in resources.values_mut() {
            if let Some((_, encoded)) = done
                .iter()
                .find(|(before, _)| Arc::ptr_eq(before, resource))
            {
                *resource = Arc::clone(encoded);
            }
        }
        Snapshot {
            resources,
            generation: self.generation,
            site: self.site.clone(),
            cold: Arc::clone(&self.cold),
            status: self.status.clone(),
            files: Arc::clone(&self.files),
        }
    }

    /// Subscription feeds (site and tag feeds, not archive pages) that are new or differ
    /// from `previous`: what a WebSub hub is told about.
    pub fn changed_feeds(&self, previous: &Snapshot) -> Vec<String> {
        let mut routes: Vec<String> = self
            .resources
            .iter()
            .filter(|(route, r)| {
                r.media.is_feed() && previous.get(route).is_none_or(|old| old.hash != r.hash)
            })
            .map(|(route, _)| route.clone())
            .collect();
        routes.sort();
        routes
    }
}

/// The identity sizes of the hot feeds, for the "feed over 1 MB" warning.
fn feed_sizes(resources: &HashMap<String, Arc<Resource>>) -> Vec<(String, usize)> {
    resources
        .iter()
        .filter(|(_, r)| r.media != Media::Html)
        .map(|(route, r)| (route.clone(), r.identity.body.len()))
        .collect()
}
