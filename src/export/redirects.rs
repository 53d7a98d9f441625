//! Old addresses in a static export: the `[redirects]` of the config and the posts'
//! `aliases` answer `301` on a static host as they do from `dropfeed serve`. The nginx and
//! Caddy snippets get a rule per address, and the folder gets a `_redirects` file (the form
//! Netlify and Cloudflare Pages read). As the server does, an address answers for both its
//! forms (with and without the trailing slash) and never hides a file the export holds.

use std::collections::{BTreeMap, BTreeSet};

use percent_encoding::percent_decode_str;

/// The file in the export that Netlify and Cloudflare Pages read their redirects from.
pub const REDIRECTS_FILE: &str = "_redirects";

/// One old address as a static host must see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Moved {
    /// The request path, percent-encoded as in a request line, with its leading `/`.
    pub path: String,
    /// The absolute URL it moves to.
    pub to: String,
}

/// Every path that must answer `301`: each redirect's route and its other form, minus the
/// routes the export has a file for (those are served, as `serve` serves them).
pub fn moved(redirects: &BTreeMap<String, String>, routes: &BTreeSet<&str>) -> Vec<Moved> {
    let mut out: BTreeMap<String, String> = BTreeMap::new();
    for (route, to) in redirects {
        let other = match route.strip_suffix('/') {
            Some(bare) => bare.to_string(),
            None => format!("{route}/"),
        };
        // The form written in the config (or alias) wins over another one's other form.
        for (form, own) in [(route.clone(), true), (other, false)] {
            if form.is_empty() || routes.contains(form.as_str()) {
                continue;
            }
            if own || !redirects.contains_key(&form) {
                out.insert(form, to.clone());
            }
        }
    }
    out.into_iter()
        .map(|(route, to)| Moved {
            path: format!("/{route}"),
            to,
        })
        .collect()
}

/// The `_redirects` file: `old new 301` a line.
pub fn redirects_file(moved: &[Moved]) -> String {
    let mut out =
        String::from("# Written by `dropfeed build`: old addresses ([redirects], aliases).\n");
    for m in moved {
        out.push_str(&format!("{} {} 301\n", m.path, m.to));
    }
    out
}

/// nginx `location`s answering `301`. nginx matches the decoded path, so the path is
/// decoded and quoted; `$` in the URL would start a variable, so it is percent-encoded.
/// A path that decodes to a control character or to bytes that are not UTF-8 cannot be
/// written in nginx's configuration: it is named in a comment instead.
pub fn nginx_locations(moved: &[Moved]) -> String {
    let mut out = String::new();
    for m in moved {
        let to = nginx_quoted(&m.to.replace('$', "%24"));
        match percent_decode_str(&m.path).decode_utf8() {
            Ok(path) if !path.chars().any(char::is_control) => out.push_str(&format!(
                "    location = {} {{\n        return 301 {to};\n    }}\n",
                nginx_quoted(&path)
            )),
            _ => out.push_str(&format!(
                "    # {} → {}: not expressible as an nginx location\n",
                m.path.replace(['\n', '\r'], ""),
                m.to
            )),
        }
    }
    out
}

/// Caddy `redir`s. Caddy matches a path written with `%xx` escapes against the request's
/// escaped path, and the routes are already in that form; braces (placeholders) are
/// escaped in both, so no quoting is needed.
pub fn caddy_redirs(moved: &[Moved]) -> String {
    moved
        .iter()
        .map(|m| format!("\tredir {} {} 301\n", m.path, m.to))
        .collect()
}

/// `text` as an nginx double-quoted string.
fn nginx_quoted(text: &str) -> String {
    format!("\"{}\"", text.replace('\\', "\\\\").replace('"', "\\\""))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn map(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect()
    }

    #[test]
    fn both_forms_answer_unless_the_export_has_a_file_there() {
        let redirects = map(&[
            ("feed/", "https://ex.org/feed.xml"),
            ("atom", "https://ex.org/atom.xml"),
            ("tags/", "https://ex.org/elsewhere/"),
        ]);
        let routes = BTreeSet::from(["tags/"]);
        let paths: Vec<(String, String)> = moved(&redirects, &routes)
            .into_iter()
            .map(|m| (m.path, m.to))
            .collect();
        let want = [
            ("/atom", "https://ex.org/atom.xml"),
            ("/atom/", "https://ex.org/atom.xml"),
            ("/feed", "https://ex.org/feed.xml"),
            ("/feed/", "https://ex.org/feed.xml"),
            ("/tags", "https://ex.org/elsewhere/"),
        ];
        let want: Vec<(String, String)> = want
            .iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect();
        assert_eq!(paths, want);
    }

    #[test]
    fn a_written_form_wins_over_another_addresses_other_form() {
        let redirects = map(&[("a", "https://ex.org/one"), ("a/", "https://ex.org/two")]);
        let got = moved(&redirects, &BTreeSet::new());
        assert_eq!(got.len(), 2);
        assert_eq!(got[0].to, "https://ex.org/one");
        assert_eq!(got[1].to, "https://ex.org/two");
    }

    #[test]
    fn nginx_sees_decoded_quoted_paths_and_no_variables() {
        let moved = [
            Moved {
                path: "/2010/a%20b%22c.html".into(),
                to: "https://ex.org/x$y".into(),
            },
            Moved {
                path: "/bad%0Aline".into(),
                to: "https://ex.org/z".into(),
            },
        ];
        let conf = nginx_locations(&moved);
        assert!(
            conf.contains("location = \"/2010/a b\\\"c.html\""),
            "{conf}"
        );
        assert!(
            conf.contains("return 301 \"https://ex.org/x%24y\";"),
            "{conf}"
        );
        assert!(conf.contains("# /bad%0Aline → https://ex.org/z"), "{conf}");
        assert!(!conf.contains("bad\n"), "{conf}");
    }
}
