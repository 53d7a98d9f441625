//! What a template sees: one [`Page`] value for every page, whose fields are documented in
//! the README ("Templates"). Fields a page does not have are empty (an empty list, no
//! value), so one template may serve several kinds of page.

use serde::Serialize;

use super::words::Words;

/// The whole context of one page.
#[derive(Debug, Serialize)]
pub struct Page {
    /// The site.
    pub site: SiteInfo,
    /// This page.
    pub page: PageInfo,
    /// The page's words in its language (`{{ t.subscribe }}`).
    pub t: &'static Words,
    /// The feeds of what this page shows (the site's, or its tag's), for discovery and
    /// subscribing.
    pub feeds: Vec<FeedLink>,
    /// The site's own feeds.
    pub site_feeds: Vec<FeedLink>,
    /// Posts listed, newest first (home, older-posts and tag pages).
    pub posts: Vec<PostCard>,
    /// Tags listed (home: the most used; tag index: all).
    pub tags: Vec<TagLink>,
    /// The post shown (post pages).
    pub post: Option<PostView>,
    /// The tag shown (tag pages).
    pub tag: Option<TagLink>,
    /// Paging of the post list (home and older-posts pages).
    pub pager: Option<Pager>,
}

/// Site-wide values.
#[derive(Debug, Clone, Serialize)]
pub struct SiteInfo {
    /// Title.
    pub title: String,
    /// One-line description.
    pub description: String,
    /// Default author.
    pub author: String,
    /// Default language.
    pub language: String,
    /// Home page URL.
    pub url: String,
    /// `/tags/` URL.
    pub tags_url: String,
    /// `/feeds.opml` URL.
    pub opml_url: String,
    /// URL of the theme folder's files (`{{ site.theme_url }}style.css`).
    pub theme_url: String,
    /// Icon URL, if configured.
    pub icon: Option<String>,
    /// Logo URL, if configured.
    pub logo: Option<String>,
}

/// The page itself.
#[derive(Debug, Serialize)]
pub struct PageInfo {
    /// `home`, `archive`, `post`, `tag`, `tags` or `404`.
    pub kind: &'static str,
    /// Language tag of the page (`<html lang>`).
    pub lang: String,
    /// `<title>`.
    pub title: String,
    /// Absolute URL.
    pub url: String,
}

/// One feed.
#[derive(Debug, Clone, Serialize)]
pub struct FeedLink {
    /// Format name: `RSS`, `Atom`, `JSON Feed`.
    pub name: &'static str,
    /// Media type (`application/atom+xml`).
    #[serde(rename = "type")]
    pub media_type: &'static str,
    /// Title for discovery: "Site (Atom)".
    pub title: String,
    /// Absolute URL.
    pub url: String,
}

/// A post in a list.
#[derive(Debug, Clone, Serialize)]
pub struct PostCard {
    /// Title.
    pub title: String,
    /// Page URL.
    pub url: String,
    /// Publication date in the page's language.
    pub date: String,
    /// Publication date, RFC 3339 (for `<time datetime>`).
    pub datetime: String,
    /// Summary (empty on tag pages, which do not render bodies).
    pub summary: String,
}

/// The post of a post page.
#[derive(Debug, Serialize)]
pub struct PostView {
    /// Title.
    pub title: String,
    /// Page URL.
    pub url: String,
    /// Publication date in the post's language.
    pub date: String,
    /// Publication date, RFC 3339.
    pub datetime: String,
    /// Last update, RFC 3339.
    pub updated: String,
    /// Authors, comma separated (the site's author when the post names none).
    pub authors: String,
    /// The post's language.
    pub lang: String,
    /// Lead image URL, when the text does not already show it.
    pub image: Option<String>,
    /// The body, sanitised HTML (print it with `|safe`).
    pub content: String,
    /// The post's tags.
    pub tags: Vec<TagLink>,
}

/// A tag.
#[derive(Debug, Clone, Serialize)]
pub struct TagLink {
    /// Name as written.
    pub name: String,
    /// Page URL.
    pub url: String,
    /// Published posts carrying it.
    pub count: usize,
    /// Its feeds.
    pub feeds: Vec<FeedLink>,
}

/// Where a paged list of posts is.
#[derive(Debug, Serialize)]
pub struct Pager {
    /// This page's number, 1 = the home page.
    pub number: usize,
    /// How many pages there are.
    pub count: usize,
    /// The page of newer posts.
    pub newer_url: Option<String>,
    /// The page of older posts.
    pub older_url: Option<String>,
}
