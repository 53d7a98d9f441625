//! An author's templates on a running server, as the author meets them:
//!
//! - a `home.html` written into `templates/` beside the posts folder is served at `/`
//!   without a restart, and posts still publish through it;
//! - a `home.html` that no longer compiles leaves the last good home page serving (posts
//!   keep publishing through it), and `/status` names the file and the line of the error;
//!   fixing it serves the fix;
//! - a template that compiles but fails when rendered (an unknown filter) is refused the
//!   same way, by the sample page it must render first;
//! - a page template that loops past any sensible cost fails instead of hanging the rebuild;
//! - author text is escaped in author templates too (auto-escaping is on);
//! - `dropfeed check` reports a broken template with `file:line:` and exits 1;
//! - a stylesheet in the theme folder is served at `/theme/style.css` (templates are not).

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;

use common::server::{markdown_post, wait_until, Server, DEADLINE};
use dropfeed::pipeline::SystemClock;

/// A server over one post, with an empty `templates/` folder beside its posts folder.
async fn serve_with_templates() -> (Server, PathBuf) {
    let post = markdown_post("First <post>", "2024-01-02", "Hello.");
    let server = Server::launch_with(
        |posts| {
            std::fs::write(posts.join("first.md"), &post).expect("write post");
            let templates = posts.parent().expect("parent").join("templates");
            std::fs::create_dir(templates).expect("create templates/");
        },
        "",
        Arc::new(SystemClock),
    )
    .await;
    let templates = server
        .posts_dir()
        .parent()
        .expect("parent")
        .join("templates");
    (server, templates)
}

async fn body(server: &Server, path: &str) -> String {
    let (_, _, body) = server.get(path, &[]).await;
    String::from_utf8_lossy(&body).into_owned()
}

async fn status_json(server: &Server) -> serde_json::Value {
    let (_, _, body) = server.admin_get("/status?format=json", &[]).await;
    serde_json::from_slice(&body).expect("status JSON")
}

/// The error `/status` reports about `file`, as (line, message).
async fn template_error(server: &Server, file: &Path) -> Option<(Option<u64>, String)> {
    let status = status_json(server).await;
    let site = status["site"].as_array()?;
    let file = file.to_str()?;
    site.iter()
        .find(|d| d["file"].as_str() == Some(file))
        .map(|d| {
            (
                d["line"].as_u64(),
                d["message"].as_str().unwrap_or("").to_string(),
            )
        })
}

const CUSTOM_HOME: &str = "{% extends \"base.html\" %}\n{% block body %}\n<h1>My own home</h1>\n\
    <ul>{% for p in posts %}<li>{{ p.title }}</li>{% endfor %}</ul>\n{% endblock %}\n";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_overridden_template_is_served_without_a_restart() {
    let (server, templates) = serve_with_templates().await;
    assert!(!body(&server, "/").await.contains("My own home"));
    std::fs::write(templates.join("home.html"), CUSTOM_HOME).expect("write home.html");
    assert!(
        wait_until(DEADLINE, async || body(&server, "/")
            .await
            .contains("My own home"))
        .await,
        "the author's home.html is served"
    );
    // Escaped in the author's template too: the title's `<post>` is text, not a tag.
    assert!(body(&server, "/").await.contains("First &lt;post&gt;"));
    // Posts still publish through the author's template.
    server.write_post("second.md", &markdown_post("Second", "2024-01-03", "More."));
    assert!(
        wait_until(DEADLINE, async || body(&server, "/")
            .await
            .contains("Second"))
        .await,
        "a new post appears on the author's home page"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_broken_template_keeps_the_last_good_page_and_is_reported_with_its_line() {
    let (server, templates) = serve_with_templates().await;
    let home = templates.join("home.html");
    std::fs::write(&home, CUSTOM_HOME).expect("write home.html");
    assert!(
        wait_until(DEADLINE, async || body(&server, "/")
            .await
            .contains("My own home"))
        .await
    );

    // Line 3 opens a block that never closes.
    let broken =
        "{% extends \"base.html\" %}\n{% block body %}\n<h1>Broken {% if %}</h1>\n{% endblock %}\n";
    std::fs::write(&home, broken).expect("break home.html");
    assert!(
        wait_until(DEADLINE, async || template_error(&server, &home)
            .await
            .is_some())
        .await,
        "/status reports the broken template"
    );
    let (line, message) = template_error(&server, &home).await.expect("reported");
    assert_eq!(line, Some(3), "the line of the error: {message}");
    assert!(message.contains("last good"), "{message}");
    let page = body(&server, "/").await;
    assert!(
        page.contains("My own home"),
        "the last good home page serves:\n{page}"
    );
    assert!(!page.contains("Broken"), "{page}");
    // Posts keep publishing through the last good template meanwhile.
    server.write_post(
        "later.md",
        &markdown_post("Later post", "2024-01-05", "More."),
    );
    assert!(
        wait_until(DEADLINE, async || body(&server, "/")
            .await
            .contains("Later post"))
        .await,
        "a post written while a template is broken is published"
    );

    std::fs::write(&home, CUSTOM_HOME.replace("My own home", "Fixed home")).expect("fix");
    assert!(
        wait_until(DEADLINE, async || body(&server, "/")
            .await
            .contains("Fixed home"))
        .await
    );
    assert!(
        template_error(&server, &home).await.is_none(),
        "the error is gone"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_template_failing_at_render_time_is_refused_before_it_serves() {
    let (server, templates) = serve_with_templates().await;
    let post = templates.join("post.html");
    let failing = "{% extends \"base.html\" %}\n{% block body %}\n\n{{ post.title | no_such_filter }}\n{% endblock %}\n";
    std::fs::write(&post, failing).expect("write post.html");
    assert!(
        wait_until(DEADLINE, async || template_error(&server, &post)
            .await
            .is_some())
        .await,
        "/status reports the failing template"
    );
    let (line, _) = template_error(&server, &post).await.expect("reported");
    assert_eq!(line, Some(4));
    let page = body(&server, "/posts/first/").await;
    assert!(
        page.contains("First &lt;post&gt;"),
        "the default post page serves:\n{page}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_template_that_never_ends_fails_instead_of_hanging() {
    let (server, templates) = serve_with_templates().await;
    let home = templates.join("home.html");
    let endless =
        "{% for a in range(100000) %}{% for b in range(100000) %}x{% endfor %}{% endfor %}\n";
    std::fs::write(&home, endless).expect("write home.html");
    assert!(
        wait_until(DEADLINE * 6, async || template_error(&server, &home)
            .await
            .is_some())
        .await,
        "/status reports the endless template"
    );
    assert!(body(&server, "/").await.contains("First &lt;post&gt;"));
}

#[test]
fn check_reports_a_broken_template_with_file_and_line() {
    let dir = tempfile::tempdir().expect("tempdir");
    let posts = dir.path().join("posts");
    let templates = dir.path().join("templates");
    std::fs::create_dir(&posts).expect("posts/");
    std::fs::create_dir(&templates).expect("templates/");
    std::fs::write(posts.join("a.md"), markdown_post("A", "2024-01-02", "Hi.")).expect("post");
    std::fs::write(templates.join("tag.html"), "line one\n{{ unclosed\n").expect("tag.html");
    let output = Command::new(env!("CARGO_BIN_EXE_dropfeed"))
        .args(["check", "--posts"])
        .arg(&posts)
        .env("RUST_LOG", "off")
        .output()
        .expect("run dropfeed check");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let expected = format!("{}:2:", templates.join("tag.html").display());
    assert!(
        stdout.contains(&expected),
        "check names {expected}:\n{stdout}"
    );
    assert_eq!(output.status.code(), Some(1), "{stdout}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stylesheet_in_the_theme_folder_is_served_and_linkable() {
    let (server, templates) = serve_with_templates().await;
    std::fs::write(templates.join("style.css"), "body { color: teal }\n").expect("style.css");
    let base = "{% extends \"base.html\" %}{% block head %}<link rel=\"stylesheet\" href=\"{{ site.theme_url }}style.css\">{% endblock %}";
    std::fs::write(
        templates.join("post.html"),
        format!("{base}{{% block body %}}<p>{{{{ post.title }}}}</p>{{% endblock %}}"),
    )
    .expect("post.html");
    assert!(
        wait_until(DEADLINE, async || server
            .get("/theme/style.css", &[])
            .await
            .0
            == 200)
        .await,
        "the stylesheet is served"
    );
    let (_, headers, css) = server.get("/theme/style.css", &[]).await;
    assert_eq!(
        common::server::header(&headers, "content-type"),
        "text/css; charset=utf-8"
    );
    assert_eq!(&css[..], b"body { color: teal }\n");
    let href = format!("href=\"{}\"", server.url("/theme/style.css"));
    assert!(
        wait_until(DEADLINE, async || body(&server, "/posts/first/")
            .await
            .contains(&href))
        .await
    );
    // A template is not a theme file: it is never served.
    assert_eq!(server.get("/theme/post.html", &[]).await.0, 404);
}
