//! How browsers show the feeds to people: RSS and Atom documents name an XSLT stylesheet
//! (`<?xml-stylesheet type="text/xsl" href="/feed.xsl"?>`) that a browser applies to show
//! what the feed is, how to subscribe (copy its address into a reader), and its latest
//! entries, in the site's language; then a CSS stylesheet (`/feed.css`) that browsers
//! without XSLT (Chromium is removing it) apply to the feed itself. Feed readers,
//! validators and caches ignore processing instructions, so they see the same feed as
//! before.

use super::{Lifetime, Media, Rendered};
use crate::post::html::escape_text as esc;
use crate::site::Site;
use crate::theme::words::words;

/// Route of the XSLT stylesheet.
pub const ROUTE: &str = "feed.xsl";

/// Route of the CSS stylesheet, for browsers without XSLT.
pub const CSS_ROUTE: &str = "feed.css";

const STYLESHEET: &str = include_str!("feed.xsl");

const CSS: &str = include_str!("feed.css");

/// `/feed.xsl`, its words in the site's language.
pub fn render(site: &Site) -> Rendered {
    let body = with_words(site, STYLESHEET, esc);
    Rendered {
        path: ROUTE.to_string(),
        media: Media::Xsl,
        body: body.into_bytes(),
        last_modified: None,
        lifetime: Lifetime::Live,
        link_header: None,
    }
}

/// `/feed.css`, its words in the site's language.
pub fn render_css(site: &Site) -> Rendered {
    // In a CSS string: no quote or backslash may end it early.
    let css_text = |text: &str| text.replace(['\\', '"'], "").replace('\n', " ");
    let body = with_words(site, CSS, css_text);
    Rendered {
        path: CSS_ROUTE.to_string(),
        media: Media::Asset("text/css; charset=utf-8"),
        body: body.into_bytes(),
        last_modified: None,
        lifetime: Lifetime::Live,
        link_header: None,
    }
}

/// A stylesheet with its `@@WORD@@` marks replaced by the site language's words, each
/// made safe for the stylesheet's syntax by `quote`.
fn with_words(site: &Site, stylesheet: &str, quote: impl Fn(&str) -> String) -> String {
    let lang = &site.config.language;
    let t = words(lang);
    let mut body = stylesheet.to_string();
    for (mark, text) in [
        ("@@LANG@@", lang.as_str()),
        ("@@FEED_IS@@", t.feed_is),
        ("@@SUBSCRIBE@@", t.subscribe),
        ("@@SUBSCRIBE_HOW@@", t.subscribe_how),
        ("@@LATEST@@", t.latest_posts),
        ("@@HOME@@", t.home),
    ] {
        body = body.replace(mark, &quote(text));
    }
    body
}

/// A feed document with the stylesheets named right after its XML declaration.
pub fn with_stylesheet(site: &Site, mut feed: Vec<u8>) -> Vec<u8> {
    let instruction = format!(
        "\n<?xml-stylesheet type=\"text/xsl\" href=\"{}\"?>\n<?xml-stylesheet type=\"text/css\" href=\"{}\"?>",
        esc(&site.config.url(ROUTE)),
        esc(&site.config.url(CSS_ROUTE))
    );
    let after_declaration = match feed.starts_with(b"<?xml") {
        true => feed.windows(2).position(|w| w == b"?>").map(|at| at + 2),
        false => None,
    };
    match after_declaration {
        Some(at) => {
            feed.splice(at..at, instruction.into_bytes());
        }
        None => {
            let mut out = instruction.trim_start().as_bytes().to_vec();
            out.push(b'\n');
            out.extend(feed);
            feed = out;
        }
    }
    feed
}
