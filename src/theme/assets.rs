//! The theme folder's own files (stylesheets, pictures, fonts), served at `/theme/{name}`
//! so a template can link them. Only files directly in the folder, of the types a page
//! uses, each of bounded size: the folder is the author's, not a second posts folder.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use super::TemplateProblem;

/// The largest file served from the theme folder.
const MAX_ASSET_BYTES: u64 = 4 * 1024 * 1024;

/// How many files of the theme folder are served.
const MAX_ASSETS: usize = 64;

/// One file of the theme folder.
#[derive(Debug, Clone)]
pub struct Asset {
    /// `Content-Type`.
    pub content_type: &'static str,
    /// Its bytes.
    pub bytes: Arc<[u8]>,
}

/// The `Content-Type` of a theme file by its extension; `None` for types not served.
pub fn asset_type(name: &str) -> Option<&'static str> {
    let ext = name.rsplit_once('.')?.1.to_ascii_lowercase();
    Some(match ext.as_str() {
        "css" => "text/css; charset=utf-8",
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "gif" => "image/gif",
        "webp" => "image/webp",
        "avif" => "image/avif",
        "svg" => "image/svg+xml",
        "ico" => "image/vnd.microsoft.icon",
        "woff2" => "font/woff2",
        "woff" => "font/woff",
        _ => return None,
    })
}

/// Reads the folder's files that are served, reporting those that cannot be.
pub(super) fn read(dir: &Path, problems: &mut Vec<TemplateProblem>) -> BTreeMap<String, Asset> {
    let mut out = BTreeMap::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return out;
    };
    let mut names: Vec<String> = entries
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter(|n| !n.starts_with('.') && asset_type(n).is_some())
        .collect();
    names.sort();
    for name in names {
        let path = dir.join(&name);
        let refuse = |message: String| TemplateProblem {
            file: path.clone(),
            line: None,
            message,
        };
        let Ok(meta) = std::fs::metadata(&path) else {
            continue;
        };
        if !meta.is_file() {
            continue;
        }
        if meta.len() > MAX_ASSET_BYTES || out.len() >= MAX_ASSETS {
            problems.push(refuse(format!(
                "not served: theme files are served up to {MAX_ASSETS} files of {MAX_ASSET_BYTES} bytes"
            )));
            continue;
        }
        match std::fs::read(&path) {
            Ok(bytes) => {
                let content_type = asset_type(&name).unwrap_or("application/octet-stream");
                let bytes = Arc::from(bytes);
                out.insert(
                    name,
                    Asset {
                        content_type,
                        bytes,
                    },
                );
            }
            Err(e) => problems.push(refuse(format!("cannot be read: {e}"))),
        }
    }
    out
}
