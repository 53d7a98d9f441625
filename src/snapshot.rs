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
//! from the [`crate::encoder`] thread (a client asking for gzip meanwhile gets identity,
//! which `Vary: Accept-Encoding` allows). Compression never happens on the request path of
//! a hot resource.
//!
//! Validators: the ETag is a hash of the identity bytes, so a rebuild that changes nothing
//! changes no ETag, and replicas over the same posts agree. Each content-coding is its own
//! representation with its own strong ETag (`"h"`, `"h-br"`, `"h-zst"`, `"h-gz"`), all
//! sharing the hash, so a client is answered `304` whichever coding it received.

pub mod cache_control;
mod cold;
mod resource;

use std::collections::HashMap;
use std::sync::Arc;

use arc_swap::ArcSwap;

use crate::config::CacheConfig;
use crate::post::Fingerprint;
use crate::post::Post;
use crate::render::{self, Media, Planned, RenderError, Rendered};
use crate::site::Site;

pub use cold::{Cold, ColdCache, Pending, Ticket, COLD_CACHE_BYTES};
pub use resource::{
    compress, Coding, Resource, Variant, BROTLI_QUALITY, CODINGS, GZIP_LEVEL, ZSTD_LEVEL,
};

/// The snapshot being served, shared by the server, the watcher and the encoder: a request
/// loads it once without a lock; a rebuild or the encoder swaps in a new one atomically.
pub type SharedSnapshot = Arc<ArcSwap<Snapshot>>;

/// Every route of the site, immutable once built.
#[derive(Debug, Default)]
pub struct Snapshot {
    /// Hot routes (without the leading `/`), ready in every encoding once encoded.
    pub resources: HashMap<String, Arc<Resource>>,
    /// Counts rebuilds that changed what is served, starting at 1.
    pub generation: u64,
    /// The site, for rendering cold routes on request.
    pub site: Option<Arc<Site>>,
    /// Cold routes rendered so far.
    pub cold: Arc<ColdCache>,
    /// `/status`, rendered on request (not part of the site: not exported, and it shows
    /// rebuild times).
    pub status: Option<StatusPages>,
    /// Post files by state, for metrics.
    pub posts_by_state: Vec<(&'static str, usize)>,
}

/// Renders `/status` on request: `(html, json)`.
#[derive(Clone)]
pub struct StatusPages(pub Arc<dyn Fn() -> (Vec<u8>, Vec<u8>) + Send + Sync>);

impl std::fmt::Debug for StatusPages {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("StatusPages")
    }
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
    /// Builds a snapshot of a site's hot resources, reusing every resource of `previous`
    /// whose inputs are unchanged and rendering only the others.
    pub fn build(
        site: Arc<Site>,
        previous: Option<&Snapshot>,
        encode: Encode,
    ) -> Result<Snapshot, RenderError> {
        let by_hash: HashMap<&str, &Arc<Resource>> = previous
            .map(|p| {
                p.resources
                    .values()
                    .filter(|r| r.is_encoded)
                    .map(|r| (r.hash.as_str(), r))
                    .collect()
            })
            .unwrap_or_default();
        let mut resources = HashMap::new();
        let mut fresh: Vec<(String, Resource)> = Vec::new();
        let mut to_render = Vec::new();
        for planned in render::plan_hot(&site) {
            let same = previous
                .and_then(|p| p.resources.get(&planned.route))
                .filter(|old| old.fingerprint == planned.fingerprint);
            match same {
                Some(old) => {
                    resources.insert(planned.route, Arc::clone(old));
                }
                None => to_render.push(planned),
            }
        }
        // Hot posts keep their bodies (rendered here on every core, once per post version):
        // the next rebuild renders these documents again.
        let shown: Vec<&Post> = to_render
            .iter()
            .flat_map(|planned| render::entries_of(&site, planned))
            .map(|entry| &*entry.post)
            .collect();
        Post::keep_bodies(&shown);
        for (planned, resource) in render_all(&site, to_render)? {
            // Same bytes as some encoded resource (a route renamed, a reverted edit): reuse.
            match by_hash.get(resource.hash.as_str()) {
                Some(old) => {
                    let encoded = old.encoded.clone();
                    resources.insert(planned.route, Arc::new(resource.with_encodings(encoded)));
                }
                None => fresh.push((planned.route, resource)),
            }
        }
        let fresh = match encode {
            Encode::Now => encode_many(
                fresh
                    .into_iter()
                    .map(|(r, res)| (r, Arc::new(res)))
                    .collect(),
            ),
            Encode::Later => fresh
                .into_iter()
                .map(|(r, res)| (r, Arc::new(res)))
                .collect(),
        };
        resources.extend(fresh);
        let generation = previous.map_or(1, |p| {
            let same = p.resources.len() == resources.len()
                && resources
                    .iter()
                    .all(|(k, v)| p.resources.get(k).is_some_and(|o| o.hash == v.hash));
            if same {
                p.generation
            } else {
                p.generation + 1
            }
        });
        Ok(Snapshot {
            resources,
            generation,
            cold: previous.map(|p| Arc::clone(&p.cold)).unwrap_or_default(),
            site: Some(site),
            status: None,
            posts_by_state: Vec::new(),
        })
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

    /// The hot resource at a route (without the leading `/`).
    pub fn get(&self, route: &str) -> Option<&Arc<Resource>> {
        self.resources.get(route)
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

    /// Hot resources not yet compressed.
    pub fn unencoded(&self) -> Vec<(String, Arc<Resource>)> {
        self.resources
            .iter()
            .filter(|(_, r)| !r.is_encoded)
            .map(|(route, r)| (route.clone(), Arc::clone(r)))
            .collect()
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
            posts_by_state: self.posts_by_state.clone(),
        }
    }

    /// Subscription feeds (site and tag feeds, not archive pages) that are new or differ
    /// from `previous`: what a WebSub hub is told about.
    pub fn changed_feeds(&self, previous: &Snapshot) -> Vec<String> {
        let mut routes: Vec<String> = self
            .resources
            .iter()
            .filter(|(route, r)| {
                matches!(r.media, Media::Rss | Media::Atom | Media::Json)
                    && previous.get(route).is_none_or(|old| old.hash != r.hash)
            })
            .map(|(route, _)| route.clone())
            .collect();
        routes.sort();
        routes
    }
}

/// Renders documents into identity-only resources, on every core when there are several
/// (a cold start renders all ~90 hot documents of a 30-tag site).
fn render_all(site: &Site, planned: Vec<Planned>) -> Result<Vec<(Planned, Resource)>, RenderError> {
    let rendered = crate::parallel::map(&planned, 4, |planned| {
        let body = render::render(site, planned)?;
        Ok(Resource::new(body, planned.fingerprint, &site.config.cache))
    });
    planned
        .into_iter()
        .zip(rendered)
        .map(|(planned, resource)| Ok((planned, resource?)))
        .collect()
}

/// Renders and compresses one planned document.
pub fn render_encoded(site: &Site, planned: &Planned) -> Result<Arc<Resource>, RenderError> {
    let resource = Resource::new(
        render::render(site, planned)?,
        planned.fingerprint,
        &site.config.cache,
    );
    let encoded = resource.compress_all();
    Ok(Arc::new(resource.with_encodings(encoded)))
}

/// Compresses resources, spread over the available cores.
pub fn encode_many(items: Vec<(String, Arc<Resource>)>) -> Vec<(String, Arc<Resource>)> {
    crate::parallel::map(&items, 2, |(route, r)| {
        let encoded = r.compress_all();
        (route.clone(), Arc::new(r.with_encodings(encoded)))
    })
}
