//! The words pages show around an author's text ("Subscribe", "Tags", "Older posts"…), in
//! the languages dropfeed ships; any other language falls back to English. Each language's
//! `date` is the pattern of a long date; the day and month names in it come from the locale
//! library (see [`super::dates`]), not from these tables.

use serde::Serialize;

/// A page's words in one language. Templates see it as `t` (`{{ t.subscribe }}`); a
/// `{n}` in a word is the number it counts.
#[derive(Debug, Serialize)]
pub struct Words {
    /// Primary language subtag these words are in (`en`, `id`…).
    pub lang: &'static str,
    /// strftime pattern of a long date (`%A, %-d %B %Y`).
    pub date: &'static str,
    /// "Subscribe".
    pub subscribe: &'static str,
    /// How subscribing works, for people new to feeds.
    pub subscribe_how: &'static str,
    /// "Subscribe to this tag".
    pub subscribe_tag: &'static str,
    /// "Follow this site".
    pub follow: &'static str,
    /// "Latest posts".
    pub latest_posts: &'static str,
    /// "Older posts".
    pub older_posts: &'static str,
    /// "Newer posts".
    pub newer_posts: &'static str,
    /// "Page {n}".
    pub page_n: &'static str,
    /// "Tags".
    pub tags: &'static str,
    /// "Posts by tag".
    pub posts_by_tag: &'static str,
    /// "All tags".
    pub all_tags: &'static str,
    /// "1 post".
    pub one_post: &'static str,
    /// "{n} posts".
    pub n_posts: &'static str,
    /// "tagged".
    pub tagged: &'static str,
    /// "No post has a tag yet."
    pub no_tags: &'static str,
    /// "Every feed of this site (OPML)".
    pub all_feeds: &'static str,
    /// "Home".
    pub home: &'static str,
    /// "Page not found".
    pub not_found: &'static str,
    /// What to do on a page that does not exist.
    pub not_found_how: &'static str,
    /// Older posts of a tag are in its feeds.
    pub tag_more: &'static str,
    /// What a feed is, shown on a feed opened in a browser.
    pub feed_is: &'static str,
}

const EN: Words = Words {
    lang: "en",
    date: "%A, %-d %B %Y",
    subscribe: "Subscribe",
    subscribe_how: "Follow this site in a feed reader (Feedly, Inoreader, NetNewsWire, Thunderbird, or any app that reads RSS): copy the address of one of these feeds and paste it into the reader's \u{201c}add\u{201d} or \u{201c}subscribe\u{201d} box. New posts then come to you.",
    subscribe_tag: "Subscribe to this tag",
    follow: "Follow this site",
    latest_posts: "Latest posts",
    older_posts: "Older posts",
    newer_posts: "Newer posts",
    page_n: "Page {n}",
    tags: "Tags",
    posts_by_tag: "Posts by tag",
    all_tags: "all tags",
    one_post: "1 post",
    n_posts: "{n} posts",
    tagged: "tagged",
    no_tags: "No post has a tag yet.",
    all_feeds: "Every feed of this site (OPML)",
    home: "Home",
    not_found: "Page not found",
    not_found_how: "Nothing is here. The post may have moved: the home page lists every post.",
    tag_more: "The older posts are in this tag\u{2019}s feeds, which link to their archives.",
    feed_is: "This is a web feed. Feed readers follow it for you: give one its address (below) and new posts come to you.",
};

const ID: Words = Words {
    lang: "id",
    date: "%A, %-d %B %Y",
    subscribe: "Berlangganan",
    subscribe_how: "Ikuti situs ini lewat pembaca feed (Feedly, Inoreader, NetNewsWire, Thunderbird, atau aplikasi RSS apa pun): salin alamat salah satu feed ini, lalu tempelkan di kotak \u{201c}tambah\u{201d} atau \u{201c}berlangganan\u{201d} pada pembaca Anda. Tulisan baru akan datang sendiri.",
    subscribe_tag: "Berlangganan label ini",
    follow: "Ikuti situs ini",
    latest_posts: "Tulisan terbaru",
    older_posts: "Tulisan lebih lama",
    newer_posts: "Tulisan lebih baru",
    page_n: "Halaman {n}",
    tags: "Label",
    posts_by_tag: "Tulisan menurut label",
    all_tags: "semua label",
    one_post: "1 tulisan",
    n_posts: "{n} tulisan",
    tagged: "berlabel",
    no_tags: "Belum ada tulisan yang berlabel.",
    all_feeds: "Semua feed situs ini (OPML)",
    home: "Beranda",
    not_found: "Halaman tidak ditemukan",
    not_found_how: "Tidak ada apa-apa di sini. Tulisan itu mungkin sudah pindah: beranda memuat semua tulisan.",
    tag_more: "Tulisan yang lebih lama ada di feed label ini, yang menautkan arsipnya.",
    feed_is: "Ini adalah feed web. Pembaca feed mengikutinya untuk Anda: berikan alamatnya (di bawah) dan tulisan baru akan datang sendiri.",
};

const DE: Words = Words {
    lang: "de",
    date: "%A, %-d. %B %Y",
    subscribe: "Abonnieren",
    subscribe_how: "Folgen Sie dieser Seite in einem Feedreader (Feedly, Inoreader, NetNewsWire, Thunderbird oder jede App, die RSS liest): Kopieren Sie die Adresse eines dieser Feeds und fügen Sie sie beim Hinzufügen oder Abonnieren ein. Neue Beiträge kommen dann von selbst.",
    subscribe_tag: "Dieses Schlagwort abonnieren",
    follow: "Dieser Seite folgen",
    latest_posts: "Neueste Beiträge",
    older_posts: "Ältere Beiträge",
    newer_posts: "Neuere Beiträge",
    page_n: "Seite {n}",
    tags: "Schlagwörter",
    posts_by_tag: "Beiträge nach Schlagwort",
    all_tags: "alle Schlagwörter",
    one_post: "1 Beitrag",
    n_posts: "{n} Beiträge",
    tagged: "mit dem Schlagwort",
    no_tags: "Noch hat kein Beitrag ein Schlagwort.",
    all_feeds: "Alle Feeds dieser Seite (OPML)",
    home: "Startseite",
    not_found: "Seite nicht gefunden",
    not_found_how: "Hier ist nichts. Vielleicht ist der Beitrag umgezogen: Die Startseite listet alle Beiträge.",
    tag_more: "Ältere Beiträge stehen in den Feeds dieses Schlagworts, die auf ihre Archive verweisen.",
    feed_is: "Dies ist ein Web-Feed. Feedreader verfolgen ihn für Sie: Geben Sie einem die Adresse (unten), und neue Beiträge kommen zu Ihnen.",
};

const FR: Words = Words {
    lang: "fr",
    date: "%A %-d %B %Y",
    subscribe: "S\u{2019}abonner",
    subscribe_how: "Suivez ce site dans un lecteur de flux (Feedly, Inoreader, NetNewsWire, Thunderbird ou toute application RSS) : copiez l\u{2019}adresse de l\u{2019}un de ces flux et collez-la dans la case \u{ab}\u{a0}ajouter\u{a0}\u{bb} ou \u{ab}\u{a0}s\u{2019}abonner\u{a0}\u{bb} du lecteur. Les nouveaux articles viendront à vous.",
    subscribe_tag: "S\u{2019}abonner à ce mot-clé",
    follow: "Suivre ce site",
    latest_posts: "Derniers articles",
    older_posts: "Articles plus anciens",
    newer_posts: "Articles plus récents",
    page_n: "Page {n}",
    tags: "Mots-clés",
    posts_by_tag: "Articles par mot-clé",
    all_tags: "tous les mots-clés",
    one_post: "1 article",
    n_posts: "{n} articles",
    tagged: "avec le mot-clé",
    no_tags: "Aucun article n\u{2019}a encore de mot-clé.",
    all_feeds: "Tous les flux de ce site (OPML)",
    home: "Accueil",
    not_found: "Page introuvable",
    not_found_how: "Il n\u{2019}y a rien ici. L\u{2019}article a peut-être changé d\u{2019}adresse : la page d\u{2019}accueil les liste tous.",
    tag_more: "Les articles plus anciens sont dans les flux de ce mot-clé, qui renvoient à leurs archives.",
    feed_is: "Ceci est un flux web. Un lecteur de flux le suit pour vous\u{a0}: donnez-lui son adresse (ci-dessous) et les nouveaux articles viendront à vous.",
};

const ES: Words = Words {
    lang: "es",
    date: "%A, %-d de %B de %Y",
    subscribe: "Suscribirse",
    subscribe_how: "Siga este sitio en un lector de feeds (Feedly, Inoreader, NetNewsWire, Thunderbird o cualquier aplicación de RSS): copie la dirección de uno de estos feeds y péguela en la casilla \u{ab}añadir\u{bb} o \u{ab}suscribirse\u{bb} del lector. Las entradas nuevas le llegarán solas.",
    subscribe_tag: "Suscribirse a esta etiqueta",
    follow: "Seguir este sitio",
    latest_posts: "Últimas entradas",
    older_posts: "Entradas anteriores",
    newer_posts: "Entradas más recientes",
    page_n: "Página {n}",
    tags: "Etiquetas",
    posts_by_tag: "Entradas por etiqueta",
    all_tags: "todas las etiquetas",
    one_post: "1 entrada",
    n_posts: "{n} entradas",
    tagged: "con la etiqueta",
    no_tags: "Ninguna entrada tiene etiquetas todavía.",
    all_feeds: "Todos los feeds de este sitio (OPML)",
    home: "Inicio",
    not_found: "Página no encontrada",
    not_found_how: "Aquí no hay nada. Puede que la entrada se haya movido: la página de inicio las muestra todas.",
    tag_more: "Las entradas anteriores están en los feeds de esta etiqueta, que enlazan sus archivos.",
    feed_is: "Esto es un feed web. Los lectores de feeds lo siguen por usted: deles su dirección (abajo) y las entradas nuevas le llegarán solas.",
};

const PT: Words = Words {
    lang: "pt",
    date: "%A, %-d de %B de %Y",
    subscribe: "Assinar",
    subscribe_how: "Acompanhe este site num leitor de feeds (Feedly, Inoreader, NetNewsWire, Thunderbird ou qualquer aplicativo de RSS): copie o endereço de um destes feeds e cole-o no campo \u{201c}adicionar\u{201d} ou \u{201c}assinar\u{201d} do leitor. As novas publicações chegam até você.",
    subscribe_tag: "Assinar esta etiqueta",
    follow: "Acompanhar este site",
    latest_posts: "Publicações recentes",
    older_posts: "Publicações anteriores",
    newer_posts: "Publicações mais recentes",
    page_n: "Página {n}",
    tags: "Etiquetas",
    posts_by_tag: "Publicações por etiqueta",
    all_tags: "todas as etiquetas",
    one_post: "1 publicação",
    n_posts: "{n} publicações",
    tagged: "com a etiqueta",
    no_tags: "Nenhuma publicação tem etiquetas ainda.",
    all_feeds: "Todos os feeds deste site (OPML)",
    home: "Início",
    not_found: "Página não encontrada",
    not_found_how: "Não há nada aqui. A publicação pode ter mudado de endereço: a página inicial lista todas.",
    tag_more: "As publicações anteriores estão nos feeds desta etiqueta, que apontam para os arquivos.",
    feed_is: "Isto é um feed web. Os leitores de feeds acompanham-no por você: dê a um deles o endereço (abaixo) e as novas publicações chegam até você.",
};

const JA: Words = Words {
    lang: "ja",
    date: "%Y年%-m月%-d日(%a)",
    subscribe: "購読する",
    subscribe_how: "フィードリーダー（Feedly、Inoreader、NetNewsWire、Thunderbird など RSS を読めるアプリ）でこのサイトをフォローできます。下のフィードのアドレスをコピーし、リーダーの「追加」や「購読」の欄に貼り付けてください。新しい記事が届くようになります。",
    subscribe_tag: "このタグを購読する",
    follow: "このサイトをフォロー",
    latest_posts: "最新の記事",
    older_posts: "以前の記事",
    newer_posts: "新しい記事",
    page_n: "{n}ページ目",
    tags: "タグ",
    posts_by_tag: "タグ別の記事",
    all_tags: "すべてのタグ",
    one_post: "1件の記事",
    n_posts: "{n}件の記事",
    tagged: "タグ：",
    no_tags: "タグの付いた記事はまだありません。",
    all_feeds: "このサイトのすべてのフィード（OPML）",
    home: "ホーム",
    not_found: "ページが見つかりません",
    not_found_how: "ここには何もありません。記事が移動したのかもしれません。ホームにすべての記事があります。",
    tag_more: "それ以前の記事は、このタグのフィード（アーカイブへのリンク付き）にあります。",
    feed_is: "これはウェブフィードです。フィードリーダーに下のアドレスを登録すると、新しい記事が自動で届きます。",
};

/// Every language with its own words.
pub const LANGUAGES: [&Words; 7] = [&EN, &ID, &DE, &FR, &ES, &PT, &JA];

/// The words for a BCP 47 language tag (`id`, `pt-BR`, `de_AT`): its primary subtag's,
/// or English.
pub fn words(lang: &str) -> &'static Words {
    let primary = primary(lang);
    LANGUAGES
        .into_iter()
        .find(|w| w.lang == primary)
        .unwrap_or(&EN)
}

/// The primary subtag of a language tag, lower case (`pt-BR` → `pt`).
pub fn primary(lang: &str) -> String {
    lang.split(['-', '_'])
        .next()
        .unwrap_or_default()
        .to_ascii_lowercase()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn regional_tags_find_their_language_and_others_fall_back_to_english() {
        assert_eq!(words("pt-BR").lang, "pt");
        assert_eq!(words("ID").lang, "id");
        assert_eq!(words("de_AT").lang, "de");
        assert_eq!(words("sw").lang, "en");
        assert_eq!(words("").lang, "en");
    }

    #[test]
    fn counts_have_their_number_in_every_language() {
        for w in LANGUAGES {
            assert!(w.n_posts.contains("{n}"), "{}", w.lang);
            assert!(w.page_n.contains("{n}"), "{}", w.lang);
        }
    }
}
