//! The old feed's address: after importing a web feed, its path (`/feed/`, `/rss.xml`,
//! `/index.xml`, `/atom`…) is redirected to dropfeed's feed of the same format by a line in
//! the config's `[redirects]` table, so readers still polling it follow a `301` and keep
//! their subscription. A line the operator already wrote for that path is never changed.

use std::path::Path;

use url::Url;

use super::record::write_atomically;
use super::{Format, ImportError};
use crate::config::{route_of, Config};

/// A redirect of the old feed's address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FeedRedirect {
    /// The old path, e.g. `/feed/`.
    pub from: String,
    /// Our feed's path, e.g. `/feed.xml`.
    pub to: String,
    /// Whether this import added the line (false: the config already had one).
    pub added: bool,
}

/// Adds `"/old/path" = "/feed.xml"` to the config's `[redirects]` unless it has that path.
pub fn record(
    config_path: &Path,
    old: &Url,
    format: Format,
) -> Result<Option<FeedRedirect>, ImportError> {
    let to = match format {
        Format::Rss => "/feed.xml",
        Format::Atom => "/atom.xml",
        Format::JsonFeed => "/feed.json",
        Format::Wxr | Format::Blogger => return Ok(None),
    };
    let from = old.path().to_string();
    let Ok(route) = route_of(&from) else {
        return Ok(None); // the site root: nothing to redirect
    };
    if format!("/{route}") == to {
        return Ok(None); // already where dropfeed serves it
    }
    let fail = |error| ImportError::Io {
        path: config_path.display().to_string(),
        error,
    };
    let text = match std::fs::read_to_string(config_path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
        Err(e) => return Err(fail(e)),
    };
    let current =
        Config::parse(config_path, &text, None).map_err(|e| fail(std::io::Error::other(e)))?;
    if current.redirects.contains_key(&route) {
        return Ok(Some(FeedRedirect {
            from,
            to: to.into(),
            added: false,
        }));
    }
    let line = format!("{} = \"{to}\"\n", toml_key(&from));
    let updated = with_redirect(&text, &line);
    // Never leave a config that does not load: check it before it replaces the old one.
    Config::parse(config_path, &updated, None).map_err(|e| fail(std::io::Error::other(e)))?;
    write_atomically(config_path, updated.as_bytes()).map_err(fail)?;
    Ok(Some(FeedRedirect {
        from,
        to: to.into(),
        added: true,
    }))
}

/// A TOML quoted key.
fn toml_key(text: &str) -> String {
    toml::Value::String(text.to_string()).to_string()
}

/// The config text with a line added to its `[redirects]` table (made when missing).
fn with_redirect(text: &str, line: &str) -> String {
    let mut out = String::with_capacity(text.len() + line.len() + 16);
    let mut added = false;
    for existing in text.split_inclusive('\n') {
        out.push_str(existing);
        if !added && existing.trim() == "[redirects]" {
            if !existing.ends_with('\n') {
                out.push('\n');
            }
            out.push_str(line);
            added = true;
        }
    }
    if !added {
        if !out.is_empty() && !out.ends_with('\n') {
            out.push('\n');
        }
        if !out.is_empty() {
            out.push('\n');
        }
        out.push_str("[redirects]\n");
        out.push_str(line);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_line_goes_into_the_table_or_a_new_one() {
        let line = "\"/feed/\" = \"/feed.xml\"\n";
        assert_eq!(
            with_redirect("", line),
            "[redirects]\n\"/feed/\" = \"/feed.xml\"\n"
        );
        assert_eq!(
            with_redirect("title = \"x\"", line),
            "title = \"x\"\n\n[redirects]\n\"/feed/\" = \"/feed.xml\"\n"
        );
        assert_eq!(
            with_redirect("[redirects]\n\"/a\" = \"/b\"\n[cache]\n", line),
            "[redirects]\n\"/feed/\" = \"/feed.xml\"\n\"/a\" = \"/b\"\n[cache]\n"
        );
    }
}
