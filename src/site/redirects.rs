//! Old addresses: the `[redirects]` of the config and the `aliases` of published posts, as
//! one map from route to the absolute URL a request for it is sent to (`301`). The config
//! wins over an alias, and a newer post's alias over an older one's, each loser with a
//! notice; an alias that is some post's own page is never a redirect. The server consults
//! the map only when no resource has the route, so no redirect ever hides a real page or
//! feed.

use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;

use super::{Notice, Site};

impl Site {
    /// Fills [`Site::redirects`] from the config and the published entries' aliases.
    pub(super) fn collect_redirects(&mut self) {
        let mut map: BTreeMap<String, String> = self.config.redirects.clone();
        // Browsers ask for /favicon.ico whatever the pages say: send them to the icon.
        if let Some(icon) = &self.config.icon {
            if *icon != self.config.url("favicon.ico") {
                map.entry("favicon.ico".to_string())
                    .or_insert_with(|| icon.clone());
            }
        }
        let pages: HashSet<&str> = self.entries.iter().map(|e| e.page_path()).collect();
        let mut notices = Vec::new();
        for entry in &self.entries {
            for alias in &entry.post.aliases {
                let refused = if pages.contains(alias.as_str()) {
                    Some("it is a post's own page".to_string())
                } else {
                    map.get(alias)
                        .map(|to| format!("it already redirects to {to}"))
                };
                match refused {
                    Some(why) => notices.push(Notice {
                        source: entry.post.source.clone(),
                        message: format!("old address /{alias} not redirected here: {why}"),
                    }),
                    None => {
                        map.insert(alias.clone(), entry.link().to_string());
                    }
                }
            }
        }
        self.notices.extend(notices);
        self.redirects = Arc::new(map);
    }
}
