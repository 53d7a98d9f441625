//! `dropfeed build --out DIR`: every resource `serve` would serve, at the same path with the
//! same bytes, plus `.br`, `.zst` and `.gz` siblings, and each file's modification time set
//! to the resource's `Last-Modified` so a static server's validators are stable too; the
//! files beside posts that published posts link to, copied under `files/`. Beside the
//! folder, `DIR.nginx.conf` and `DIR.Caddyfile` serve it with dropfeed's headers, and old
//! addresses (`[redirects]`, aliases) answer `301` there and through `DIR/_redirects`.
//!
//! The new tree is written beside `DIR` and exchanged with it in one atomic rename on Linux
//! (`renameat2(RENAME_EXCHANGE)`), so a reader sees the old set or the new one, never a mix
//! and never nothing. The replaced tree stays beside it as `.DIR.previous` until the next
//! build, so a reader caught mid-swap finishes on a whole tree.
//!
//! Every output carries a [`MARKER`] file: a folder is replaced, and a kept tree deleted,
//! only when it has one, and never when it overlaps the posts folder (`export/folder.rs`).

use std::collections::BTreeSet;
use std::fs::{self, File};
use std::io;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::config::CacheConfig;
use crate::post::Post;
use crate::render::{self, Lifetime, Media, FEED_FORMATS};
use crate::snapshot::files::{sandboxed_extensions, SANDBOX};
use crate::snapshot::{cache_control, encode_many, render_encoded, Coding, Resource, Snapshot};

mod files;
mod folder;
mod redirects;

use files::write_files;
use folder::{io_at, Target, CONF_HEADER};
pub use folder::{ExportError, MARKER};
pub use redirects::REDIRECTS_FILE;
use redirects::{caddy_redirs, moved, nginx_locations, redirects_file, Moved};

/// The file a route is written to: folder routes get `index.html`.
pub fn file_for(route: &str) -> String {
    if route.is_empty() || route.ends_with('/') {
        format!("{route}index.html")
    } else {
        route.to_string()
    }
}

/// Writes the snapshot to `out`, replacing whatever an earlier build put there as a whole.
/// Refuses, before writing anything, an `out` that overlaps `posts` or holds anything a
/// build did not write (see `export/folder.rs`).
pub fn write_out(snapshot: &Snapshot, posts: &Path, out: &Path) -> Result<(), ExportError> {
    let target = Target::check(posts, out)?;
    let routes = every_resource(snapshot)?;
    let staging = target.stage()?;
    let routes: Vec<(&String, &Arc<Resource>)> = routes.iter().map(|(r, res)| (r, res)).collect();
    for (route, resource) in &routes {
        write_resource(staging.path(), route, resource).map_err(io_at(staging.path()))?;
    }
    write_files(staging.path(), snapshot.files())?;
    let moved = old_addresses(snapshot, &routes);
    if !moved.is_empty() {
        let file = staging.path().join(REDIRECTS_FILE);
        fs::write(&file, redirects_file(&moved)).map_err(io_at(&file))?;
    }
    target.swap_in(staging)?;
    let out = target.out();
    let cache = snapshot
        .site()
        .map(|site| site.config.cache.clone())
        .unwrap_or_default();
    let nginx = target.conf("nginx.conf");
    fs::write(&nginx, nginx_conf(&out, &routes, &cache, &moved)).map_err(io_at(&nginx))?;
    let caddy = target.conf("Caddyfile");
    fs::write(&caddy, caddyfile(&out, &routes, &cache, &moved)).map_err(io_at(&caddy))?;
    Ok(())
}

/// The site's old addresses (`[redirects]`, aliases) that the export has no file for.
fn old_addresses(snapshot: &Snapshot, routes: &[(&String, &Arc<Resource>)]) -> Vec<Moved> {
    let Some(site) = snapshot.site() else {
        return Vec::new();
    };
    let exported: BTreeSet<&str> = routes.iter().map(|(r, _)| r.as_str()).collect();
    moved(&site.redirects, &exported)
}

/// Every route with its encoded resource: hot ones from the snapshot, cold ones rendered
/// here (on every core), bypassing the cold cache. A page that cannot be rendered fails the
/// export: a static host would answer `404` where readers follow a link.
fn every_resource(snapshot: &Snapshot) -> Result<Vec<(String, Arc<Resource>)>, ExportError> {
    let routes = snapshot.routes();
    let hot: Vec<(String, Arc<Resource>)> = routes
        .iter()
        .filter_map(|r| snapshot.get(r).map(|res| (r.clone(), Arc::clone(res))))
        .collect();
    let (mut out, unencoded): (Vec<_>, Vec<_>) = hot.into_iter().partition(|(_, r)| r.is_encoded);
    out.extend(encode_many(unencoded));
    let Some(site) = snapshot.site() else {
        return Ok(out);
    };
    // Each post shows on its page and on one or more archive pages: render its body once.
    let posts: Vec<&Post> = site.entries.iter().map(|e| &*e.post).collect();
    Post::keep_bodies(&posts);
    let cold: Vec<&String> = routes
        .iter()
        .filter(|r| snapshot.get(r).is_none())
        .collect();
    let rendered = crate::parallel::map(&cold, 2, |route| {
        let failed = |message: String| ExportError::Render {
            route: (*route).clone(),
            message,
        };
        let planned = render::plan_cold(site, route).ok_or_else(|| failed("no page".into()))?;
        let resource = render_encoded(site, &planned).map_err(|e| failed(e.problem.to_string()))?;
        Ok(((*route).clone(), resource))
    });
    for resource in rendered {
        out.push(resource?);
    }
    out.sort_by(|a, b| a.0.cmp(&b.0));
    Ok(out)
}

fn write_resource(root: &Path, route: &str, resource: &Resource) -> io::Result<()> {
    let file = file_for(route);
    let path = root.join(&file);
    if let Some(dir) = path.parent() {
        fs::create_dir_all(dir)?;
    }
    let modified = resource
        .last_modified
        .map(|at| UNIX_EPOCH + Duration::from_secs(at.timestamp().max(0) as u64));
    write_file(&path, &resource.identity.body, modified)?;
    for coding in [Coding::Br, Coding::Zstd, Coding::Gzip] {
        if let Some(variant) = resource.variant(coding) {
            write_file(
                &root.join(format!("{file}.{}", coding.suffix())),
                &variant.body,
                modified,
            )?;
        }
    }
    Ok(())
}

fn write_file(path: &Path, bytes: &[u8], modified: Option<SystemTime>) -> io::Result<()> {
    fs::write(path, bytes)?;
    if let Some(modified) = modified {
        File::options()
            .write(true)
            .open(path)?
            .set_modified(modified)?;
    }
    Ok(())
}

/// Routes whose `Cache-Control` differs from the live default (archive pages).
fn immutable_routes<'a>(routes: &[(&'a String, &'a Arc<Resource>)]) -> Vec<&'a str> {
    routes
        .iter()
        .filter(|(_, r)| r.lifetime == Lifetime::Immutable)
        .map(|(route, _)| route.as_str())
        .collect()
}

/// Whether a route needs its own nginx `location`: an archive page, or a resource that is
/// neither an HTML page nor a subscription feed.
fn own_location(resource: &Resource) -> bool {
    resource.lifetime == Lifetime::Immutable
        || !(resource.media == Media::Html || resource.media.is_feed())
}

/// An nginx `server` block serving the export with dropfeed's headers.
fn nginx_conf(
    root: &Path,
    routes: &[(&String, &Arc<Resource>)],
    cache: &CacheConfig,
    moved: &[Moved],
) -> String {
    let live = cache_control::directives(cache, Lifetime::Live);
    let year = cache_control::directives(cache, Lifetime::Immutable);
    let mut out = format!(
        "{CONF_HEADER}: serves {root} with the headers `dropfeed serve` sends.\n\
         # Include it in nginx's http block. Stock nginx serves the .gz siblings (gzip_static);\n\
         # with the ngx_brotli module, uncomment brotli_static for the .br ones.\n\
         server {{\n    listen 8080;\n    root {root};\n    index index.html;\n    gzip_static on;\n    # brotli_static on;\n    etag on;\n\n    error_page 404 /404.html;\n\n    location = /{MARKER} {{\n        return 404;\n    }}\n    location = /{REDIRECTS_FILE} {{\n        return 404;\n    }}\n",
        root = root.display()
    );
    let feeds = FEED_FORMATS.map(|media| {
        let pattern = format!("~ /{}$", media.feed_file().replace('.', "\\."));
        (pattern, media.content_type())
    });
    let pages = [("/".to_string(), Media::Html.content_type())];
    for (pattern, content_type) in feeds.into_iter().chain(pages) {
        out.push_str(&format!(
            "    location {pattern} {{\n        types {{ }}\n        default_type \"{content_type}\";\n        add_header Cache-Control \"{live}\";\n        add_header Vary Accept-Encoding;\n        add_header X-Content-Type-Options nosniff;\n    }}\n"
        ));
    }
    out.push_str(&nginx_files(&live));
    out.push_str(&nginx_locations(moved));
    // Archive pages (cached for a year), and what is neither a page nor a feed (sitemap,
    // robots.txt, OPML, the feed stylesheets, theme files): `location /` would call them HTML.
    for (route, resource) in routes.iter().filter(|(_, r)| own_location(r)) {
        let content_type = resource.content_type.to_str().unwrap_or_default();
        let cache = match resource.lifetime {
            Lifetime::Immutable => &year,
            _ => &live,
        };
        out.push_str(&format!(
            "    location = /{route} {{\n        types {{ }}\n        default_type \"{content_type}\";\n        add_header Cache-Control \"{cache}\";\n        add_header Vary Accept-Encoding;\n    }}\n"
        ));
    }
    out.push_str("}\n");
    out
}

/// nginx's `location` for files beside posts: the media types of nginx's `mime.types`
/// (ranges and conditional requests are nginx's own), the live `Cache-Control`, and the
/// sandbox for types a browser may run. `^~` keeps the feed patterns above from matching a
/// file that happens to be named like a feed.
fn nginx_files(live: &str) -> String {
    let sandboxed = sandboxed_extensions().join("|");
    let common = format!(
        "add_header Cache-Control \"{live}\";\n        add_header X-Content-Type-Options nosniff;"
    );
    // An inner location with add_header replaces the outer ones: repeated.
    let inner = common.replace("\n        ", "\n            ");
    format!(
        "    location ^~ /files/ {{\n        gzip_static off;\n        {common}\n        location ~* \\.({sandboxed})$ {{\n            {inner}\n            add_header Content-Security-Policy \"{SANDBOX}\";\n        }}\n    }}\n"
    )
}

/// The name of a Caddy matcher for a feed format's files.
fn matcher(media: Media) -> &'static str {
    match media {
        Media::Rss => "rss",
        Media::Atom => "atom",
        _ => "json",
    }
}

/// A Caddyfile serving the export with dropfeed's headers.
fn caddyfile(
    root: &Path,
    routes: &[(&String, &Arc<Resource>)],
    cache: &CacheConfig,
    moved: &[Moved],
) -> String {
    let live = cache_control::directives(cache, Lifetime::Live);
    let year = cache_control::directives(cache, Lifetime::Immutable);
    let mut out = format!(
        "{CONF_HEADER}: serves {root} with the headers `dropfeed serve` sends.\n\
         :8080 {{\n\trespond /{MARKER} 404\n\trespond /{REDIRECTS_FILE} 404\n\troot * {root}\n\tfile_server {{\n\t\tprecompressed br zstd gzip\n\t}}\n\
         \theader Vary Accept-Encoding\n\theader X-Content-Type-Options nosniff\n",
        root = root.display()
    );
    for media in FEED_FORMATS {
        let (name, file, content_type) = (matcher(media), media.feed_file(), media.content_type());
        out.push_str(&format!(
            "\t@{name} path */{file}\n\theader @{name} Content-Type \"{content_type}\"\n"
        ));
    }
    let sandboxed = sandboxed_extensions().join("|");
    out.push_str(&format!(
        "\t@sandboxed path_regexp ^/files/.*\\.({sandboxed})$\n\theader @sandboxed Content-Security-Policy \"{SANDBOX}\"\n"
    ));
    let immutable = immutable_routes(routes);
    if !immutable.is_empty() {
        let paths: Vec<String> = immutable.iter().map(|r| format!("/{r}")).collect();
        out.push_str(&format!(
            "\t@archive path {}\n\theader @archive Cache-Control \"{year}\"\n",
            paths.join(" ")
        ));
    }
    out.push_str(&caddy_redirs(moved));
    out.push_str(&format!("\theader ?Cache-Control \"{live}\"\n}}\n"));
    out
}
