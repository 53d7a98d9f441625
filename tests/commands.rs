//! The command line's conventions, on the real binary:
//!
//! - `dropfeed completions bash|zsh|fish` prints a script naming every subcommand; bash's
//!   parses (`bash -n`), and zsh's and fish's too where those shells are installed;
//! - `dropfeed man` prints a roff page naming every subcommand, which `man` renders;
//!   `--out-dir` writes one page per command;
//! - `DROPFEED_POSTS`, `DROPFEED_CONFIG` and `DROPFEED_LISTEN` stand in for `--posts`,
//!   `--config` and `--listen`, and a flag wins over its variable.

mod common;

use std::path::Path;
use std::process::{Command, Output, Stdio};

use common::process::{dropfeed, http_get, Process};
use common::skip::skipped;

const SUBCOMMANDS: [&str; 8] = [
    "serve",
    "build",
    "check",
    "new",
    "config",
    "completions",
    "man",
    "healthcheck",
];

fn run(command: &mut Command) -> Output {
    let output = command
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .output()
        .expect("dropfeed runs");
    assert!(
        output.status.success(),
        "{:?}: {}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    output
}

/// Whether `shell -n`-style syntax checking accepts a script (None: shell not installed).
fn syntax_ok(shell: &str, flag: &str, script: &Path) -> Option<bool> {
    let status = Command::new(shell)
        .arg(flag)
        .arg(script)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .ok()?;
    Some(status.success())
}

#[test]
fn completions_name_every_subcommand_and_parse() {
    let dir = tempfile::tempdir().expect("tempdir");
    for (shell, checker, flag) in [
        ("bash", "bash", "-n"),
        ("zsh", "zsh", "-n"),
        ("fish", "fish", "--no-execute"),
    ] {
        let output = run(dropfeed().args(["completions", shell]));
        let script = String::from_utf8(output.stdout).expect("UTF-8 script");
        for sub in SUBCOMMANDS {
            assert!(script.contains(sub), "{shell} completion lacks {sub}");
        }
        assert!(script.contains("posts"), "{shell} completion lacks --posts");
        let file = dir.path().join(format!("dropfeed.{shell}"));
        std::fs::write(&file, &script).expect("write the script");
        match syntax_ok(checker, flag, &file) {
            Some(ok) => assert!(ok, "{checker} {flag} rejects the {shell} completion"),
            None => skipped(&format!(
                "{checker} is not installed; its completion script was not parsed"
            )),
        }
    }
}

#[test]
fn man_page_names_every_subcommand() {
    let output = run(dropfeed().arg("man"));
    let page = String::from_utf8(output.stdout).expect("UTF-8 roff");
    assert!(page.contains(".TH dropfeed 1"), "{page}");
    for sub in SUBCOMMANDS {
        assert!(page.contains(sub), "the man page lacks {sub}");
    }
    let dir = tempfile::tempdir().expect("tempdir");
    run(dropfeed().arg("man").arg("--out-dir").arg(dir.path()));
    for page in ["dropfeed.1", "dropfeed-serve.1", "dropfeed-check.1"] {
        let text = std::fs::read_to_string(dir.path().join(page)).expect(page);
        assert!(text.contains(".TH"), "{page}");
    }
    let rendered = Command::new("man")
        .arg("-l")
        .arg(dir.path().join("dropfeed-serve.1"))
        .env("MANPAGER", "cat")
        .env("MANWIDTH", "100")
        .output();
    match rendered {
        Ok(out) if out.status.success() => {
            let text = String::from_utf8_lossy(&out.stdout);
            assert!(text.contains("DROPFEED_LISTEN"), "{text}");
        }
        _ => skipped("man is not installed; the page was not rendered"),
    }
}

const BAD: &str = "---\ntitle: \"Broken\"\ntitel: \"oops\"\ndate: 2024-01-01\n---\nBody.\n";

/// `dropfeed check ARGS` with `env`: (exit code, stdout and stderr).
fn check(env: &[(&str, &Path)], args: &[&str]) -> (Option<i32>, String) {
    let output = dropfeed()
        .arg("check")
        .args(args)
        .envs(env.iter().map(|(k, v)| (*k, *v)))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .output()
        .expect("check runs");
    let text = String::from_utf8_lossy(&output.stdout).into_owned()
        + &String::from_utf8_lossy(&output.stderr);
    (output.status.code(), text)
}

#[test]
fn environment_names_the_posts_and_the_config() {
    let dir = tempfile::tempdir().expect("tempdir");
    let posts = dir.path().join("elsewhere");
    std::fs::create_dir(&posts).expect("posts");
    std::fs::write(posts.join("bad.md"), BAD).expect("bad.md");
    let (code, text) = check(&[("DROPFEED_POSTS", &posts)], &[]);
    assert_eq!(code, Some(1), "{text}");
    assert!(
        text.contains("bad.md:3"),
        "DROPFEED_POSTS was not read: {text}"
    );

    let config = dir.path().join("odd.toml");
    std::fs::write(&config, "feed_limit = 0\n").expect("odd.toml");
    let env = [
        ("DROPFEED_POSTS", posts.as_path()),
        ("DROPFEED_CONFIG", &config),
    ];
    let (code, text) = check(&env, &[]);
    assert_eq!(code, Some(1), "{text}");
    assert!(
        text.contains("odd.toml:1"),
        "DROPFEED_CONFIG was not read: {text}"
    );

    // A flag wins over its variable.
    let empty = dir.path().join("empty");
    std::fs::create_dir(&empty).expect("empty");
    let empty = empty.to_str().expect("UTF-8 path");
    let (code, text) = check(&env, &["--posts", empty, "--config", "/dev/null"]);
    assert_eq!(code, Some(0), "--posts or --config did not win: {text}");
}

#[test]
fn environment_names_the_listen_address() {
    let dir = tempfile::tempdir().expect("tempdir");
    let posts = dir.path().join("posts");
    std::fs::create_dir(&posts).expect("posts");
    let addr = common::process::free_addr();
    let log = dir.path().join("stderr.log");
    let mut command = dropfeed();
    command
        .args(["serve", "--admin-listen", "off"])
        .env("DROPFEED_POSTS", &posts)
        .env("DROPFEED_LISTEN", addr.to_string())
        .stderr(std::fs::File::create(&log).expect("log"));
    let mut server = Process::spawned(command.spawn().expect("serve starts"), addr, &log);
    server.until_healthy();
    assert_eq!(http_get(addr, "/feed.xml").expect("GET").0, 200);
    assert!(server.terminate().success());
}
