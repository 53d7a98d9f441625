//! A post's tags: plain text, deduplicated, capped, each with a URL slug.

use super::html;
use super::slug::slugify;

/// The most tags one post may carry; more are left out with a warning. Each tag has its own
/// feeds, so thousands on one post made every rebuild slow for the whole site.
pub const MAX_TAGS: usize = 100;

/// How many unusable tags a warning names before it says "and N more".
const NAMED_IN_WARNING: usize = 10;

/// A post's tags as written (plain text, duplicates removed, order kept, at most
/// [`MAX_TAGS`]) and their URL slugs. A tag without a letter or digit has no slug and so no
/// URL: it is left out with a warning rather than merged into some other tag.
pub(super) fn tags_of(
    written: &[String],
    warnings: &mut Vec<String>,
) -> (Vec<String>, Vec<String>) {
    let mut seen = std::collections::HashSet::new();
    let (mut tags, mut slugs) = (Vec::new(), Vec::new());
    let (mut unusable, mut over) = (Vec::new(), 0);
    for tag in written.iter().map(|t| html::plain_text_line(t)) {
        if tag.is_empty() || !seen.insert(tag.clone()) {
            continue;
        }
        if tags.len() == MAX_TAGS {
            over += 1;
            continue;
        }
        match slugify(&tag) {
            slug if slug.is_empty() => unusable.push(format!("`{tag}`")),
            slug => {
                tags.push(tag);
                slugs.push(slug);
            }
        }
    }
    if !unusable.is_empty() {
        warnings.push(unusable_warning(unusable));
    }
    if over > 0 {
        warnings.push(format!(
            "{} different tags: only the first {MAX_TAGS} are used, {over} are left out",
            MAX_TAGS + over
        ));
    }
    (tags, slugs)
}

/// The warning for tags left out because they have no slug, naming the first few.
fn unusable_warning(mut unusable: Vec<String>) -> String {
    let more = unusable.len().saturating_sub(NAMED_IN_WARNING);
    unusable.truncate(NAMED_IN_WARNING);
    let more = if more > 0 {
        format!(" and {more} more")
    } else {
        String::new()
    };
    format!(
        "tags without a letter or digit have no URL and are left out: {}{more}",
        unusable.join(", ")
    )
}
