//! Plain-text articles as blogs and news sites export them: an optional date line, the title
//! (an export often repeats it; repeats count once), then paragraphs separated by blank
//! lines. Trailing export residue ("No comments:", "Labels: …") is not content.

use super::date::{parse_date_checked, DateError};
use super::frontmatter::LineError;
use super::html::escape_text;
use super::{ParseContext, PostDraft};

/// Parses a plain-text article into a draft.
pub(crate) fn parse_plaintext(text: &str, ctx: &ParseContext) -> Result<PostDraft, LineError> {
    let mut blocks = paragraphs(text).into_iter().peekable();
    let mut draft = PostDraft::default();
    let Some(first) = blocks.next() else {
        return Err((
            1,
            "empty file: a plain-text post needs at least a title line".into(),
        ));
    };
    let title = match parse_date_checked(&first, ctx.timezone) {
        Ok(date) => {
            draft.date = Some(date);
            blocks
                .next()
                .ok_or_else(|| (1, "a date line but no title after it".to_string()))?
        }
        Err(DateError::NotADate) => first,
        Err(e) => return Err((1, format!("the date line `{first}` is {e}"))),
    };
    while blocks.peek().is_some_and(|b| b.trim() == title.trim()) {
        blocks.next();
    }
    let mut body: Vec<String> = blocks.collect();
    while body.last().is_some_and(|last| is_export_residue(last)) {
        body.pop();
    }
    for paragraph in &body {
        draft.body_html.push_str("<p>");
        draft.body_html.push_str(&escape_text(paragraph));
        draft.body_html.push_str("</p>\n");
    }
    draft.body_text = body.join("\n");
    draft.title = Some(title);
    draft.paragraphs = body;
    Ok(draft)
}

/// Blocks of non-blank lines, each joined into one paragraph.
fn paragraphs(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut current: Vec<&str> = Vec::new();
    for line in text.lines().map(str::trim) {
        if line.is_empty() {
            if !current.is_empty() {
                out.push(current.join("\n"));
                current.clear();
            }
        } else {
            current.push(line);
        }
    }
    if !current.is_empty() {
        out.push(current.join("\n"));
    }
    out
}

/// Lines that blog exports append after the article.
fn is_export_residue(paragraph: &str) -> bool {
    let p = paragraph.trim().to_lowercase();
    let comments = p.trim_end_matches(':').trim();
    comments == "no comments"
        || comments
            .strip_suffix("comments")
            .is_some_and(|n| n.trim().parse::<u32>().is_ok())
        || comments
            .strip_suffix("comment")
            .is_some_and(|n| n.trim() == "1")
        || p.starts_with("labels:")
        || p.starts_with("posted by ")
        || p.starts_with("share this")
        || p == "newer post older post home"
        || p.starts_with("subscribe to: post comments")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::post::test_context as ctx;

    #[test]
    fn date_title_and_paragraphs() {
        let text = "Monday 14 February 2022\n\nA Title\n\nA Title\n\n\nFirst para\ncontinued.\n\nSecond <b>.\n\nNo comments:\n";
        let draft = parse_plaintext(text, &ctx()).unwrap();
        assert_eq!(draft.title.as_deref(), Some("A Title"));
        assert_eq!(
            draft.date.unwrap().to_rfc3339(),
            "2022-02-14T00:00:00+00:00"
        );
        assert_eq!(
            draft.paragraphs,
            vec!["First para\ncontinued.", "Second <b>."]
        );
        assert!(draft.body_html.contains("<p>Second &lt;b&gt;.</p>"));
        assert!(!draft.body_html.contains("comments"));
    }

    #[test]
    fn no_date_line() {
        let draft = parse_plaintext("Just a title\n\nBody.", &ctx()).unwrap();
        assert_eq!(draft.title.as_deref(), Some("Just a title"));
        assert!(draft.date.is_none());
    }

    #[test]
    fn empty_file_is_an_error() {
        assert_eq!(parse_plaintext("  \n\n", &ctx()).unwrap_err().0, 1);
    }

    #[test]
    fn residue_forms() {
        for r in [
            "No comments:",
            "3 comments:",
            "Labels: news, world",
            "1 comment:",
        ] {
            assert!(is_export_residue(r), "{r}");
        }
        assert!(!is_export_residue("Comments are welcome below."));
    }
}
