//! Building a snapshot from a site, reusing what the previous snapshot already holds:
//!
//! - a hot document whose fingerprint (the digest of its inputs) is unchanged is the previous
//!   resource itself, compressed variants included;
//! - a changed document whose bytes equal some encoded resource of the previous snapshot (a
//!   route renamed, an edit reverted) takes that resource's compressed variants;
//! - the rest is rendered (on every core) and compressed now or by the encoder thread later;
//! - the generation grows only when some route's bytes changed.

use std::collections::HashMap;
use std::sync::Arc;

use super::files::{build_files, Files};
use super::{Encode, Resource, Snapshot};
use crate::load::LinkedFiles;
use crate::post::Post;
use crate::render::{self, Planned, RenderError};
use crate::site::Site;
use crate::status::StatusInputs;

/// Hot resources by route.
type Resources = HashMap<String, Arc<Resource>>;

impl Snapshot {
    /// Builds a snapshot of a site's hot resources, reusing every resource of `previous`
    /// whose inputs are unchanged and rendering only the others, and of the files beside
    /// posts (`linked`, as the library found them) that published posts link to. With
    /// `status`, the snapshot answers `/status` and counts posts by state for metrics.
    pub fn build(
        site: Arc<Site>,
        linked: &LinkedFiles,
        previous: Option<&Snapshot>,
        encode: Encode,
        status: Option<StatusInputs>,
    ) -> Result<Snapshot, RenderError> {
        let (mut resources, to_render) = unchanged(&site, previous);
        keep_shown_bodies(&site, &to_render);
        let rendered = render_all(&site, to_render)?;
        let fresh = reuse_encodings(rendered, previous, &mut resources);
        resources.extend(encode_fresh(fresh, encode));
        let files = build_files(&site, linked, previous.map(|p| &*p.files));
        let generation = generation(previous, &resources, &files);
        let cold = previous.map(|p| Arc::clone(&p.cold)).unwrap_or_default();
        let snapshot = Snapshot::assemble(resources, files, generation, site, cold, status);
        warn_shadowed_redirects(&snapshot, previous);
        Ok(snapshot)
    }
}

/// Logs the redirects that a page or feed of the site hides (the server answers with the
/// resource: a redirect never shadows a real route), when the redirects changed.
fn warn_shadowed_redirects(snapshot: &Snapshot, previous: Option<&Snapshot>) {
    let redirects = |s: &Snapshot| s.site().map(|site| Arc::clone(&site.redirects));
    let now = redirects(snapshot).unwrap_or_default();
    if previous
        .and_then(redirects)
        .is_some_and(|before| before == now)
    {
        return;
    }
    for (route, to) in now.iter().filter(|(route, _)| snapshot.contains(route)) {
        tracing::warn!(
            "redirect of /{route} to {to} is never used: /{route} is a page or feed of this site"
        );
    }
}

/// The previous snapshot's resources whose inputs are unchanged, and the documents to render.
fn unchanged(site: &Site, previous: Option<&Snapshot>) -> (Resources, Vec<Planned>) {
    let mut resources = HashMap::new();
    let mut to_render = Vec::new();
    for planned in render::plan_hot(site) {
        let same = previous
            .and_then(|p| p.get(&planned.route))
            .filter(|old| old.fingerprint == planned.fingerprint);
        match same {
            Some(old) => {
                resources.insert(planned.route, Arc::clone(old));
            }
            None => to_render.push(planned),
        }
    }
    (resources, to_render)
}

/// Hot posts keep their bodies (rendered here on every core, once per post version): the next
/// rebuild renders these documents again.
fn keep_shown_bodies(site: &Site, to_render: &[Planned]) {
    let shown: Vec<&Post> = to_render
        .iter()
        .flat_map(|planned| render::entries_of(site, planned))
        .map(|entry| &*entry.post)
        .collect();
    Post::keep_bodies(&shown);
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

/// Puts into `resources` each rendered resource with the same bytes as an encoded one of
/// `previous`, with its variants; returns the others, still to compress.
fn reuse_encodings(
    rendered: Vec<(Planned, Resource)>,
    previous: Option<&Snapshot>,
    resources: &mut Resources,
) -> Vec<(String, Resource)> {
    let by_hash: HashMap<&str, &Arc<Resource>> = previous
        .map(|p| {
            p.resources
                .values()
                .filter(|r| r.is_encoded)
                .map(|r| (r.hash.as_str(), r))
                .collect()
        })
        .unwrap_or_default();
    let mut fresh = Vec::new();
    for (planned, resource) in rendered {
        match by_hash.get(resource.hash.as_str()) {
            Some(old) => {
                let encoded = old.encoded.clone();
                resources.insert(planned.route, Arc::new(resource.with_encodings(encoded)));
            }
            None => fresh.push((planned.route, resource)),
        }
    }
    fresh
}

/// New resources, compressed now or left for the encoder thread.
fn encode_fresh(fresh: Vec<(String, Resource)>, encode: Encode) -> Vec<(String, Arc<Resource>)> {
    let fresh = fresh
        .into_iter()
        .map(|(r, res)| (r, Arc::new(res)))
        .collect();
    match encode {
        Encode::Now => encode_many(fresh),
        Encode::Later => fresh,
    }
}

/// The previous generation when every route (files included) has the same bytes, the next
/// one otherwise.
fn generation(previous: Option<&Snapshot>, resources: &Resources, files: &Files) -> u64 {
    previous.map_or(1, |p| {
        let same = p.resources.len() == resources.len()
            && resources
                .iter()
                .all(|(k, v)| p.resources.get(k).is_some_and(|o| o.hash == v.hash))
            && p.files.len() == files.len()
            && files
                .iter()
                .all(|(k, v)| p.files.get(k).is_some_and(|o| o.file.hash == v.file.hash));
        if same {
            p.generation
        } else {
            p.generation + 1
        }
    })
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
