//! `[[show]]`: the site's feeds, or one tag's, declared a podcast. What a show needs that
//! the config can check alone is checked here (a category from Apple's list, `type`
//! episodic or serial, artwork a plain path or an http(s) URL, one show per feed); what
//! needs the posts folder (the artwork's size, the episodes' media) is `dropfeed check`'s.

use serde::Deserialize;
use toml::Spanned;

use super::categories::CATEGORIES;
use super::validate::{InvalidSetting, SettingProblem};

/// One `[[show]]` as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawShow {
    /// The tag whose feeds are the show; the site's own feeds when absent.
    pub tag: Option<Spanned<String>>,
    /// Show title (default: the feed's title).
    pub title: Option<String>,
    /// Show description (default: the site's description).
    pub description: Option<String>,
    /// Artwork: a file under the posts folder, or an absolute URL.
    pub image: Option<Spanned<String>>,
    /// Apple categories, `"Category"` or `"Category > Subcategory"`.
    #[serde(default)]
    pub category: Vec<Spanned<String>>,
    /// Whether the show is explicit.
    pub explicit: Option<bool>,
    /// The show's author as apps show it.
    pub author: Option<String>,
    /// Who directories write to about the show.
    pub owner: Option<RawOwner>,
    /// `episodic` or `serial`.
    #[serde(rename = "type")]
    pub show_type: Option<Spanned<String>>,
    /// Copyright line.
    pub copyright: Option<String>,
    /// Where listeners can support the show: one `{ url, text }` or a list of them.
    pub funding: Option<OneOrMany<RawFunding>>,
    /// Podcasting 2.0 `locked`: other platforms must not import the show.
    pub locked: Option<bool>,
}

/// `owner = { name, email }` as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawOwner {
    /// Owner's name.
    pub name: Option<String>,
    /// Owner's e-mail address.
    pub email: Option<String>,
}

/// One funding link as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawFunding {
    /// Where to give (not `Spanned`: serde reads untagged values without their place).
    pub url: String,
    /// What the link says.
    pub text: Option<String>,
}

/// A value written once or as a list.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub enum OneOrMany<T> {
    /// Written once.
    One(T),
    /// Written as a list.
    Many(Vec<T>),
}

/// A validated show.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Show {
    /// The tag whose feeds are the show (as written); `None`: the site's own feeds.
    pub tag: Option<String>,
    /// Line of `dropfeed.toml` where the show is declared, when read from a file.
    pub line: Option<usize>,
    /// Byte offset of the declaration in the config text (its line once the text is known).
    pub offset: usize,
    /// Title; the feed's when `None`.
    pub title: Option<String>,
    /// Description; the site's when `None`.
    pub description: Option<String>,
    /// Artwork.
    pub image: Option<ShowImage>,
    /// (category, subcategory) pairs from Apple's list.
    pub categories: Vec<(String, Option<String>)>,
    /// Explicit flag, when given.
    pub explicit: Option<bool>,
    /// Author.
    pub author: Option<String>,
    /// Owner's name.
    pub owner_name: Option<String>,
    /// Owner's e-mail address.
    pub owner_email: Option<String>,
    /// `episodic` or `serial`, when given.
    pub show_type: Option<String>,
    /// Copyright line.
    pub copyright: Option<String>,
    /// Funding links: (URL, text).
    pub funding: Vec<(String, String)>,
    /// `podcast:locked`, when given.
    pub locked: Option<bool>,
}

/// Where a show's artwork is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ShowImage {
    /// A file under the posts folder, by its `/`-separated path there.
    File(String),
    /// An absolute http(s) URL.
    Url(String),
}

impl Show {
    /// The key its guid is recorded under: `site`, or `tag:` and the tag in lower case (tags
    /// are one tag whatever their case, so a show keeps its guid when the case is edited).
    pub fn key(&self) -> String {
        match &self.tag {
            None => "site".into(),
            Some(tag) => format!("tag:{}", tag.to_lowercase()),
        }
    }
}

/// Validates every `[[show]]`: one show per feed.
pub(super) fn shows(raw: Vec<Spanned<RawShow>>) -> Result<Vec<Show>, InvalidSetting> {
    let mut out: Vec<Show> = Vec::new();
    for written in raw {
        let span = written.span();
        let show = show(written.into_inner(), span.clone())?;
        let same = |other: &Show| {
            other.tag.as_deref().map(str::to_lowercase)
                == show.tag.as_deref().map(str::to_lowercase)
        };
        if out.iter().any(same) {
            let what = show
                .tag
                .as_deref()
                .map_or("the site".into(), |t| format!("tag `{t}`"));
            return Err(invalid(span, format!("{what} is declared a show twice")));
        }
        out.push(show);
    }
    Ok(out)
}

fn invalid(span: std::ops::Range<usize>, message: String) -> InvalidSetting {
    InvalidSetting {
        span: Some(span),
        problem: SettingProblem::Show(message),
    }
}

fn show(raw: RawShow, span: std::ops::Range<usize>) -> Result<Show, InvalidSetting> {
    let tag = match raw.tag {
        Some(tag) if tag.get_ref().trim().is_empty() => {
            return Err(invalid(tag.span(), "`tag` is empty".into()))
        }
        other => other.map(|t| t.into_inner().trim().to_string()),
    };
    let image = raw.image.map(image).transpose()?;
    let categories = raw
        .category
        .into_iter()
        .map(category)
        .collect::<Result<_, _>>()?;
    let show_type = match raw.show_type {
        Some(t) if !matches!(t.get_ref().as_str(), "episodic" | "serial") => {
            let message = format!(
                "`type` is `{}`: write \"episodic\" or \"serial\"",
                t.get_ref()
            );
            return Err(invalid(t.span(), message));
        }
        other => other.map(Spanned::into_inner),
    };
    let funding = match raw.funding {
        None => Vec::new(),
        Some(OneOrMany::One(one)) => vec![one],
        Some(OneOrMany::Many(many)) => many,
    };
    let funding = funding
        .into_iter()
        .map(|f| funding_link(f, span.clone()))
        .collect::<Result<_, _>>()?;
    let (owner_name, owner_email) = raw.owner.map_or((None, None), |o| (o.name, o.email));
    Ok(Show {
        tag,
        line: None,
        offset: span.start,
        title: raw.title,
        description: raw.description,
        image,
        categories,
        explicit: raw.explicit,
        author: raw.author,
        owner_name,
        owner_email,
        show_type,
        copyright: raw.copyright,
        funding,
        locked: raw.locked,
    })
}

/// An http(s) URL, or a plain relative path inside the posts folder.
fn image(written: Spanned<String>) -> Result<ShowImage, InvalidSetting> {
    let text = written.get_ref().trim();
    if let Ok(url) = url::Url::parse(text) {
        return match url.scheme() {
            "http" | "https" => Ok(ShowImage::Url(url.to_string())),
            other => Err(invalid(
                written.span(),
                format!("`image`: a `{other}:` URL; write an http(s) URL or a file under the posts folder"),
            )),
        };
    }
    let plain = text
        .split('/')
        .all(|part| !part.is_empty() && !part.starts_with('.') && !part.contains(['\\', '?', '#']));
    if !plain {
        let message = format!(
            "`image`: `{text}` is not a file under the posts folder (write a path such as cover.jpg, without `..` or hidden folders)"
        );
        return Err(invalid(written.span(), message));
    }
    Ok(ShowImage::File(text.to_string()))
}

/// A funding link; a refusal names the show's line.
fn funding_link(
    raw: RawFunding,
    span: std::ops::Range<usize>,
) -> Result<(String, String), InvalidSetting> {
    let url = raw.url.trim();
    match url::Url::parse(url) {
        Ok(parsed) if matches!(parsed.scheme(), "http" | "https") => {
            let text = raw.text.unwrap_or_else(|| "Support the show".into());
            Ok((parsed.to_string(), text))
        }
        _ => Err(invalid(
            span,
            format!("`funding` `url`: `{url}` is not an http(s) URL"),
        )),
    }
}

/// `"Category"` or `"Category > Subcategory"`, both from Apple's list (case as Apple writes
/// them, whatever case was written).
fn category(written: Spanned<String>) -> Result<(String, Option<String>), InvalidSetting> {
    let text = written.get_ref();
    let (top, sub) = match text.split_once('>') {
        Some((top, sub)) => (top.trim(), Some(sub.trim())),
        None => (text.trim(), None),
    };
    let Some((name, subs)) = CATEGORIES.iter().find(|(n, _)| n.eq_ignore_ascii_case(top)) else {
        let message = format!("`category`: `{top}` is not one of Apple's podcast categories (such as Technology, News, Society & Culture)");
        return Err(invalid(written.span(), message));
    };
    let sub = match sub {
        None => None,
        Some(sub) => match subs.iter().find(|s| s.eq_ignore_ascii_case(sub)) {
            Some(found) => Some(found.to_string()),
            None => {
                let message = format!(
                    "`category`: `{sub}` is not a subcategory of {name} (Apple's are: {})",
                    if subs.is_empty() {
                        "none".into()
                    } else {
                        subs.join(", ")
                    }
                );
                return Err(invalid(written.span(), message));
            }
        },
    };
    Ok((name.to_string(), sub))
}

#[cfg(test)]
mod tests {
    use crate::config::Config;
    use std::path::Path;

    fn parse(text: &str) -> Result<Config, crate::config::ConfigError> {
        Config::parse(Path::new("dropfeed.toml"), text, None)
    }

    #[test]
    fn the_issue_example_parses() {
        let text = "[[show]]\ntag = \"podcasts\"\nimage = \"cover.jpg\"\ncategory = [\"Technology\", \"Society & Culture > Documentary\"]\nexplicit = false\nauthor = \"Mira Okafor\"\nowner = { name = \"Mira Okafor\", email = \"mira@example.org\" }\ntype = \"episodic\"\nfunding = { url = \"https://example.org/give\", text = \"Support us\" }\nlocked = true\n";
        let config = parse(text).unwrap();
        let show = &config.shows[0];
        assert_eq!(show.tag.as_deref(), Some("podcasts"));
        assert_eq!(show.line, Some(1));
        assert_eq!(
            show.categories[1],
            ("Society & Culture".into(), Some("Documentary".into()))
        );
        assert_eq!(show.owner_email.as_deref(), Some("mira@example.org"));
        assert_eq!(show.funding.len(), 1);
    }

    #[test]
    fn wrong_show_values_name_their_line() {
        for (text, line, needle) in [
            ("[[show]]\ncategory = [\"Cooking\"]\n", 2, "Cooking"),
            ("[[show]]\ncategory = [\"Arts > Cooking\"]\n", 2, "Cooking"),
            ("[[show]]\n\ntype = \"weekly\"\n", 3, "serial"),
            ("[[show]]\nimage = \"../cover.jpg\"\n", 2, "posts folder"),
            ("[[show]]\nimage = \"file:///etc/passwd\"\n", 2, "file:"),
            ("[[show]]\n[[show]]\n", 2, "twice"),
            ("[[show]]\ncolour = 1\n", 2, "colour"),
        ] {
            let error = parse(text).unwrap_err();
            assert_eq!(error.line, Some(line), "{text}: {error}");
            assert!(error.message.contains(needle), "{text}: {error}");
        }
    }
}
