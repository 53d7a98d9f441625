//! Pages in their own language, as a reader sees them:
//!
//! - the shipped Indonesian article (Lavrov, 14 February 2022) has a page in Indonesian:
//!   `<html lang="id">`, its date "Senin, 14 Februari 2022" (not "14 February 2022"),
//!   and the words around it in Indonesian;
//! - every page's words follow the site's language for each shipped language (English,
//!   Indonesian, German, French, Spanish, Portuguese, Japanese), and a language without
//!   words of its own falls back to English words (its dates keep their own month names).

mod common;

use common::feeds::{build_site, sample_posts};
use common::server::markdown_post;

const LAVROV: &str = "posts/lavrov-jaminan-keamanan/";

fn text(site: &common::feeds::Output, route: &str) -> String {
    String::from_utf8(site.bytes(route).to_vec()).expect("UTF-8 page")
}

#[test]
fn the_indonesian_post_page_reads_its_date_in_indonesian() {
    let site = build_site(&sample_posts(), "base_url = \"https://example.org/\"\n");
    let page = text(&site, LAVROV);
    assert!(page.contains("<html lang=\"id\">"), "{page}");
    assert!(
        page.contains(">Senin, 14 Februari 2022</time>"),
        "the date in Indonesian:\n{page}"
    );
    assert!(!page.contains("February"), "no English month on the page");
    assert!(
        page.contains("Ikuti situs ini"),
        "the words around it in Indonesian"
    );
    // The English home page dates the same post in English.
    assert!(text(&site, "").contains(">Monday, 14 February 2022</time>"));
}

/// A one-post site in `language`, built.
fn site_in(language: &str) -> common::feeds::Output {
    let dir = tempfile::tempdir().expect("tempdir");
    let post = markdown_post("A post", "2022-02-14", "Some words.");
    std::fs::write(dir.path().join("a.md"), post).expect("write post");
    let toml = format!("base_url = \"https://example.org/\"\nlanguage = \"{language}\"\n");
    build_site(dir.path(), &toml)
}

#[test]
fn page_words_follow_the_site_language_and_fall_back_to_english() {
    let cases = [
        (
            "en",
            "Subscribe",
            "Page not found",
            "Monday, 14 February 2022",
        ),
        (
            "id",
            "Berlangganan",
            "Halaman tidak ditemukan",
            "Senin, 14 Februari 2022",
        ),
        (
            "de",
            "Abonnieren",
            "Seite nicht gefunden",
            "Montag, 14. Februar 2022",
        ),
        (
            "fr",
            "S’abonner",
            "Page introuvable",
            "lundi 14 février 2022",
        ),
        (
            "es",
            "Suscribirse",
            "Página no encontrada",
            "lunes, 14 de febrero de 2022",
        ),
        (
            "pt-BR",
            "Assinar",
            "Página não encontrada",
            "14 de fevereiro de 2022",
        ),
        (
            "ja",
            "購読する",
            "ページが見つかりません",
            "2022年2月14日(月)",
        ),
        // No words of its own: English words, Italian month names.
        (
            "it",
            "Subscribe",
            "Page not found",
            "lunedì, 14 febbraio 2022",
        ),
    ];
    for (lang, subscribe, not_found, date) in cases {
        let site = site_in(lang);
        let home = text(&site, "");
        assert!(home.contains(&format!("<html lang=\"{lang}\">")), "{lang}");
        assert!(home.contains(subscribe), "{lang}: {subscribe}\n{home}");
        assert!(home.contains(date), "{lang}: {date}\n{home}");
        assert!(
            text(&site, "404.html").contains(not_found),
            "{lang}: {not_found}"
        );
        let xsl = text(&site, "feed.xsl");
        assert!(xsl.contains(subscribe), "{lang}: the feed view's words");
    }
}
