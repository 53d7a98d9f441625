//! Cold resources (archive pages, post pages) rendered on their first request into a cache
//! shared by every snapshot, bounded in bytes and keyed by the fingerprint of their inputs, so
//! an entry stays valid across rebuilds for as long as its inputs do.
//!
//! - One render per page: the first request for a missing page renders it ([`Cold::Render`]);
//!   identical requests arriving meanwhile wait for that render ([`Cold::Rendering`]) instead
//!   of rendering it again.
//! - Least recently used pages go first when the budget is exceeded, but never a format of the
//!   page just rendered: the RSS, Atom and JSON documents of one archive page are usually
//!   fetched together, and a page whose formats together pass the budget (long posts, large
//!   `archive_page_size`) used to evict its own other formats on every render, so each
//!   request rendered again. The cache may exceed its budget by one page's formats.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

use tokio::sync::Notify;

use super::{render_encoded, Resource};
use crate::post::Fingerprint;
use crate::render::Planned;
use crate::site::Site;

/// Bytes of cold resources kept by default.
pub const COLD_CACHE_BYTES: usize = 16 * 1024 * 1024;

/// Cold resources rendered on request, shared by every snapshot and bounded in bytes.
#[derive(Debug)]
pub struct ColdCache {
    /// A plain mutex: a hit is a hash lookup; rendering happens outside the lock.
    inner: Mutex<ColdInner>,
    budget: usize,
    /// Renders started, for `/metrics` and tests.
    renders: AtomicU64,
}

#[derive(Debug, Default)]
struct ColdInner {
    map: HashMap<Fingerprint, Slot>,
    /// Bytes of the ready entries.
    bytes: usize,
    tick: u64,
}

#[derive(Debug)]
enum Slot {
    /// Rendered: the resource, its page (the route up to its last `/`, shared by an archive
    /// page's formats), and the tick it was last used.
    Ready(Arc<Resource>, Box<str>, u64),
    /// Being rendered by one request; others wait on it.
    Rendering(Arc<Pending>),
}

/// What looking up a cold route found.
#[derive(Debug)]
pub enum Cold {
    /// Rendered already.
    Ready(Arc<Resource>),
    /// Being rendered for another request: wait for its result.
    Rendering(Arc<Pending>),
    /// Missing: the caller renders it (off the async runtime: it takes milliseconds).
    Render(Ticket),
}

/// A render in progress, which the requests that want the same page wait for.
#[derive(Debug, Default)]
pub struct Pending {
    /// The render's result: `None` when it failed.
    outcome: OnceLock<Option<Arc<Resource>>>,
    done: Notify,
}

impl Pending {
    fn finish(&self, outcome: Option<Arc<Resource>>) {
        let _ = self.outcome.set(outcome);
        self.done.notify_waiters();
    }

    /// The render's result, waited for without holding a thread.
    pub async fn wait(&self) -> Option<Arc<Resource>> {
        loop {
            let done = self.done.notified();
            tokio::pin!(done);
            // Registered before looking, so a render finishing in between still wakes us.
            done.as_mut().enable();
            if let Some(outcome) = self.outcome.get() {
                return outcome.clone();
            }
            done.await;
        }
    }

    /// The render's result, blocking this thread until it is there.
    pub fn wait_blocking(&self) -> Option<Arc<Resource>> {
        self.outcome.wait().clone()
    }
}

/// The duty to render one missing page and publish the result to the cache and to every
/// request waiting for it. Dropped unused (a panic, a cancelled task), it publishes a
/// failure, so no request waits for ever and the next one renders again.
#[derive(Debug)]
pub struct Ticket {
    site: Arc<Site>,
    planned: Planned,
    cache: Arc<ColdCache>,
    pending: Arc<Pending>,
    finished: bool,
}

impl Ticket {
    /// Renders and compresses the page, caches it and hands it to the waiting requests.
    pub fn render(mut self) -> Option<Arc<Resource>> {
        self.cache.renders.fetch_add(1, Ordering::Relaxed);
        let outcome = match render_encoded(&self.site, &self.planned) {
            Ok(resource) => Some(resource),
            Err(e) => {
                tracing::error!(route = %self.planned.route, "cannot render: {e}");
                None
            }
        };
        self.finish(outcome.clone());
        outcome
    }

    fn finish(&mut self, outcome: Option<Arc<Resource>>) {
        self.finished = true;
        self.cache
            .complete(&self.planned, &self.pending, outcome.clone());
        self.pending.finish(outcome);
    }
}

impl Drop for Ticket {
    fn drop(&mut self) {
        if !self.finished {
            self.finish(None);
        }
    }
}

impl ColdCache {
    /// An empty cache holding about `budget` bytes.
    pub fn new(budget: usize) -> ColdCache {
        ColdCache {
            inner: Mutex::new(ColdInner::default()),
            budget,
            renders: AtomicU64::new(0),
        }
    }

    /// The cached page, the render in progress to wait for, or the duty to render it.
    pub fn lookup(self: &Arc<Self>, site: &Arc<Site>, planned: Planned) -> Cold {
        let mut inner = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        inner.tick += 1;
        let tick = inner.tick;
        match inner.map.get_mut(&planned.fingerprint) {
            Some(Slot::Ready(resource, _, used)) => {
                *used = tick;
                Cold::Ready(Arc::clone(resource))
            }
            Some(Slot::Rendering(pending)) => Cold::Rendering(Arc::clone(pending)),
            None => {
                let pending = Arc::new(Pending::default());
                let slot = Slot::Rendering(Arc::clone(&pending));
                inner.map.insert(planned.fingerprint, slot);
                Cold::Render(Ticket {
                    site: Arc::clone(site),
                    planned,
                    cache: Arc::clone(self),
                    pending,
                    finished: false,
                })
            }
        }
    }

    /// Replaces a render in progress with its result (or forgets it, when it failed), then
    /// keeps the cache within budget.
    fn complete(&self, planned: &Planned, pending: &Arc<Pending>, outcome: Option<Arc<Resource>>) {
        let mut inner = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        let ours = matches!(
            inner.map.get(&planned.fingerprint),
            Some(Slot::Rendering(p)) if Arc::ptr_eq(p, pending)
        );
        if !ours {
            return;
        }
        let Some(resource) = outcome else {
            inner.map.remove(&planned.fingerprint);
            return;
        };
        inner.tick += 1;
        inner.bytes += resource.size();
        let route = &planned.route;
        let page: Box<str> = route[..route.rfind('/').map_or(0, |i| i + 1)].into();
        let tick = inner.tick;
        inner.map.insert(
            planned.fingerprint,
            Slot::Ready(resource, page.clone(), tick),
        );
        self.evict(&mut inner, &page);
    }

    /// Drops least recently used entries until within budget, sparing every format of `page`.
    fn evict(&self, inner: &mut ColdInner, page: &str) {
        while inner.bytes > self.budget {
            let oldest = inner
                .map
                .iter()
                .filter_map(|(key, slot)| match slot {
                    Slot::Ready(_, of, used) if &**of != page => Some((*key, *used)),
                    _ => None,
                })
                .min_by_key(|(_, used)| *used)
                .map(|(key, _)| key);
            let Some(oldest) = oldest else { break };
            if let Some(Slot::Ready(gone, _, _)) = inner.map.remove(&oldest) {
                inner.bytes -= gone.size();
            }
        }
    }

    /// Bytes held now.
    pub fn bytes(&self) -> usize {
        self.inner.lock().unwrap_or_else(|p| p.into_inner()).bytes
    }

    /// Renders started since the cache was made.
    pub fn renders(&self) -> u64 {
        self.renders.load(Ordering::Relaxed)
    }
}

impl Default for ColdCache {
    fn default() -> Self {
        ColdCache::new(COLD_CACHE_BYTES)
    }
}
