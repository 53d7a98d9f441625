//! Names from text: ASCII URL slugs, and a readable title from a file name.

/// An ASCII URL slug: transliterated, lowercase, words joined by `-`.
pub fn slugify(text: &str) -> String {
    let ascii = deunicode::deunicode(text).to_lowercase();
    let mut slug = String::with_capacity(ascii.len());
    for c in ascii.chars() {
        if c.is_ascii_alphanumeric() {
            slug.push(c);
        } else if !slug.is_empty() && !slug.ends_with('-') {
            slug.push('-');
        }
    }
    while slug.ends_with('-') {
        slug.pop();
    }
    slug.truncate(80);
    slug.trim_end_matches('-').to_string()
}

/// A readable title from a file name: `why-feeds-matter` → `Why feeds matter`.
pub(super) fn title_from_name(name: &str) -> String {
    let spaced = name.replace(['-', '_'], " ");
    let mut chars = spaced.trim().chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => "Untitled".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs_are_ascii() {
        assert_eq!(slugify("Café au lait!"), "cafe-au-lait");
        assert_eq!(slugify("  --Hello,   World-- "), "hello-world");
        assert_eq!(slugify("日本"), "ri-ben");
    }
}
