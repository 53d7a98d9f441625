//! Old addresses survive a static export: `dropfeed build --out` writes the `[redirects]`
//! and the aliases into `_redirects` (Netlify, Cloudflare Pages) and into the nginx and
//! Caddy snippets, and nginx serving the export answers each old address with the same
//! `301` and `Location` as `dropfeed serve` does, both forms (with and without the trailing
//! slash), while the real pages and feeds are still served (a redirect never hides them).
//! Without nginx the nginx half says SKIPPED.

mod common;

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::process::{Child, Command};
use std::time::{Duration, Instant};

use common::skip::skipped;

const CONFIG: &str = "base_url = \"https://example.org/\"\n[redirects]\n\"/feed/\" = \"/feed.xml\"\n\"/atom\" = \"/atom.xml\"\n\"/feed.json\" = \"/elsewhere/\"\n\"/2010/a b.html\" = \"https://other.example/x$1\"\n";

const POST: &str =
    "---\ntitle: Hello\ndate: 2020-01-01\naliases: [/2020/01/01/hello-world/]\n---\nHi.\n";

/// Every old address and where it moves to, as `dropfeed serve` answers them.
const MOVES: [(&str, &str); 7] = [
    ("/feed/", "https://example.org/feed.xml"),
    ("/feed", "https://example.org/feed.xml"),
    ("/atom", "https://example.org/atom.xml"),
    ("/atom/", "https://example.org/atom.xml"),
    ("/2010/a%20b.html", "https://other.example/x$1"),
    (
        "/2020/01/01/hello-world/",
        "https://example.org/posts/hello/",
    ),
    (
        "/2020/01/01/hello-world",
        "https://example.org/posts/hello/",
    ),
];

fn export(dir: &Path) -> std::path::PathBuf {
    let posts = dir.join("posts");
    std::fs::create_dir(&posts).unwrap();
    std::fs::write(posts.join("hello.md"), POST).unwrap();
    std::fs::write(dir.join("dropfeed.toml"), CONFIG).unwrap();
    let out = dir.join("public");
    let run = Command::new(env!("CARGO_BIN_EXE_dropfeed"))
        .args(["build", "--posts"])
        .arg(&posts)
        .arg("--out")
        .arg(&out)
        .arg("--config")
        .arg(dir.join("dropfeed.toml"))
        .env("RUST_LOG", "warn")
        .output()
        .expect("run dropfeed build");
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    out
}

#[test]
fn redirects_file_and_caddy_name_every_old_address() {
    let dir = tempfile::tempdir().unwrap();
    let out = export(dir.path());
    let file = std::fs::read_to_string(out.join("_redirects")).expect("_redirects written");
    let caddy = std::fs::read_to_string(dir.path().join("public.Caddyfile")).unwrap();
    for (old, new) in MOVES {
        assert!(
            file.contains(&format!("\n{old} {new} 301\n")),
            "{old}: {file}"
        );
        assert!(
            caddy.contains(&format!("\tredir {old} {new} 301\n")),
            "{old}: {caddy}"
        );
    }
    // The JSON feed is a real file: its redirect is never written, so it stays served.
    assert!(!file.contains("/feed.json "), "{file}");
    assert!(out.join("feed.json").is_file());
}

#[test]
fn nginx_serving_the_export_answers_the_same_301s() {
    let Some(nginx) = nginx() else {
        skipped("nginx is not installed: the exported nginx config was not served");
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    export(dir.path());
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut server = start_nginx(&nginx, dir.path(), port);
    let answers: Vec<(String, u16, Option<String>)> =
        ["/feed.json", "/posts/hello/", "/_redirects"]
            .iter()
            .chain(MOVES.iter().map(|(old, _)| old))
            .map(|path| {
                let (code, location) = get(port, path);
                (path.to_string(), code, location)
            })
            .collect();
    let _ = server.kill();
    let _ = server.wait();
    assert_eq!(answers[0].1, 200, "{answers:?}");
    assert_eq!(answers[1].1, 200, "{answers:?}");
    assert_eq!(
        answers[2].1, 404,
        "the _redirects file is not served: {answers:?}"
    );
    for ((old, new), (_, code, location)) in MOVES.iter().zip(&answers[3..]) {
        assert_eq!(*code, 301, "{old}: {answers:?}");
        let want = new.replace('$', "%24");
        assert_eq!(location.as_deref(), Some(want.as_str()), "{old}");
    }
}

fn nginx() -> Option<String> {
    ["nginx", "/usr/sbin/nginx"]
        .into_iter()
        .find(|n| {
            Command::new(n)
                .arg("-v")
                .output()
                .is_ok_and(|o| o.status.success())
        })
        .map(String::from)
}

/// nginx in the foreground with the export's snippet as its only server, on 127.0.0.1.
fn start_nginx(nginx: &str, dir: &Path, port: u16) -> Child {
    let snippet = std::fs::read_to_string(dir.join("public.nginx.conf")).unwrap();
    let snippet = snippet.replace("listen 8080;", &format!("listen 127.0.0.1:{port};"));
    std::fs::write(dir.join("site.conf"), snippet).unwrap();
    let d = dir.display();
    let user = if is_root() { "user root;" } else { "" };
    // Temporary folders inside the test's folder; uwsgi and scgi only where built in.
    let built = Command::new(nginx).arg("-V").output().unwrap();
    let built = String::from_utf8_lossy(&built.stderr);
    let mut temp =
        format!("client_body_temp_path {d}/t1; proxy_temp_path {d}/t2; fastcgi_temp_path {d}/t3;");
    for (module, n) in [("uwsgi", 4), ("scgi", 5)] {
        if !built.contains(&format!("--without-http_{module}_module")) {
            temp.push_str(&format!(" {module}_temp_path {d}/t{n};"));
        }
    }
    let conf = format!(
        "{user}\ndaemon off;\npid {d}/nginx.pid;\nerror_log {d}/error.log;\nevents {{}}\nhttp {{\n    access_log off;\n    {temp}\n    include {d}/site.conf;\n}}\n"
    );
    std::fs::write(dir.join("nginx.conf"), conf).unwrap();
    let child = Command::new(nginx)
        .arg("-p")
        .arg(dir)
        .arg("-c")
        .arg(dir.join("nginx.conf"))
        .spawn()
        .expect("start nginx");
    let deadline = Instant::now() + Duration::from_secs(10);
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        let log = std::fs::read_to_string(dir.join("error.log")).unwrap_or_default();
        assert!(Instant::now() < deadline, "nginx did not listen: {log}");
        std::thread::sleep(Duration::from_millis(50));
    }
    child
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| o.stdout.starts_with(b"0\n"))
}

/// One HTTP/1.0 GET: the status code and the Location header.
fn get(port: u16, path: &str) -> (u16, Option<String>) {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).expect("connect to nginx");
    stream
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    write!(stream, "GET {path} HTTP/1.0\r\nHost: localhost\r\n\r\n").unwrap();
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer).expect("read the answer");
    let text = String::from_utf8_lossy(&answer);
    let code = text
        .split(' ')
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    let location = text
        .lines()
        .find_map(|l| l.strip_prefix("Location: "))
        .map(|l| l.trim().to_string());
    (code, location)
}
