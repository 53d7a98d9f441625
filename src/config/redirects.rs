//! `[redirects]`: old addresses that answer `301 Moved Permanently`, written as
//! `"/old/path" = "/new/path"` (or an absolute http(s) URL). Scripts outside this
//! repository write this table in exactly this form: keep it.

use std::collections::BTreeMap;

use toml::Spanned;
use url::Url;

use super::validate::{InvalidSetting, SettingProblem};

/// An address as the site route a request for it carries: no leading `/`, percent-encoded
/// as in a request line. A path (`/2010/01/old.html`, `old-name/`) or an http(s) URL whose
/// path is taken. `Err` says why it cannot be one (a query, another scheme, the home page).
pub fn route_of(text: &str) -> Result<String, String> {
    let text = text.trim();
    let base = Url::parse("http://site.invalid/").expect("a valid URL");
    let url = base
        .join(text)
        .map_err(|e| format!("`{text}` is not a path ({e})"))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(format!(
            "`{text}` is a `{}:` address, not a path",
            url.scheme()
        ));
    }
    if url.query().is_some() {
        return Err(format!(
            "`{text}` has a query (`?…`): only paths can be redirected"
        ));
    }
    let route = url.path().trim_start_matches('/').to_string();
    if route.is_empty() {
        return Err(format!("`{text}` is the home page"));
    }
    Ok(route)
}

/// `[redirects]` as routes → the absolute URLs they move to (paths are on `base`).
pub(super) fn redirects(
    written: BTreeMap<String, Spanned<String>>,
    base: &Url,
) -> Result<BTreeMap<String, String>, InvalidSetting> {
    let mut out = BTreeMap::new();
    for (old, new) in written {
        let refuse = |why: String| InvalidSetting {
            span: Some(new.span()),
            problem: SettingProblem::Redirect(why),
        };
        if !old.starts_with('/') {
            return Err(refuse(format!("`{old}`: an old path starts with `/`")));
        }
        let route = route_of(&old).map_err(refuse)?;
        let target = new.get_ref().trim();
        let location = if target.starts_with('/') {
            let path = route_of(target).map_err(refuse)?;
            base.join(&path).map_err(|e| refuse(e.to_string()))?
        } else {
            match Url::parse(target) {
                Ok(url) if matches!(url.scheme(), "http" | "https") => url,
                _ => {
                    return Err(refuse(format!(
                        "`{target}`: a new address is a path starting with `/` or an http(s) URL"
                    )))
                }
            }
        };
        out.insert(route, location.to_string());
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use crate::config::Config;

    #[test]
    fn redirects_become_routes_to_absolute_urls() {
        let text = "base_url = \"https://ex.org/blog/\"\n[redirects]\n\"/feed/\" = \"/feed.xml\"\n\"/2010/a b.html\" = \"https://elsewhere.example/x\"\n";
        let config = Config::parse(Path::new("d.toml"), text, None).unwrap();
        let expected = [
            ("2010/a%20b.html", "https://elsewhere.example/x"),
            ("feed/", "https://ex.org/blog/feed.xml"),
        ];
        let got: Vec<(&str, &str)> = config
            .redirects
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        assert_eq!(got, expected);
    }

    #[test]
    fn refused_redirects_name_their_line() {
        for text in [
            "[redirects]\n\"/a\" = \"/b\"\n\"feed\" = \"/feed.xml\"\n",
            "[redirects]\n\"/a\" = \"/b\"\n\"/c\" = \"javascript:alert(1)\"\n",
            "[redirects]\n\"/a\" = \"/b\"\n\"/?p=1\" = \"/x\"\n",
        ] {
            let err = Config::parse(Path::new("d.toml"), text, None).unwrap_err();
            assert_eq!(err.line, Some(3), "{text}: {err}");
            assert!(err.message.starts_with("redirects: "), "{err}");
        }
    }
}
