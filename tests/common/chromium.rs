//! Headless Chromium for the page tests: screenshots saved as test artifacts under
//! `target/test-artifacts/<test>/`. Tests skip the screenshot, with a visible message, where
//! Chromium is not installed.

use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Longest a screenshot may take before Chromium is killed.
const CHROMIUM_TIMEOUT: Duration = Duration::from_secs(90);

/// Chromium's executable: `/usr/bin/chromium`, else `chromium` on `PATH`.
pub fn find() -> Option<PathBuf> {
    let fixed = PathBuf::from("/usr/bin/chromium");
    if fixed.is_file() {
        return Some(fixed);
    }
    std::env::split_paths(&std::env::var_os("PATH")?)
        .map(|dir| dir.join("chromium"))
        .find(|p| p.is_file())
}

/// `target/test-artifacts/<test>/`, created.
pub fn artifacts(test: &str) -> PathBuf {
    let tmp = Path::new(env!("CARGO_TARGET_TMPDIR"));
    let dir = tmp
        .parent()
        .unwrap_or(tmp)
        .join("test-artifacts")
        .join(test);
    std::fs::create_dir_all(&dir).expect("create the artifacts folder");
    dir
}

/// Takes a screenshot of `url` into `png` at `width`×`height`, and checks it is a PNG of
/// more than a blank page. Returns how long Chromium took.
pub fn screenshot(chromium: &Path, url: &str, png: &Path, (width, height): (u32, u32)) -> Duration {
    let _ = std::fs::remove_file(png);
    let took = run(chromium, url, png, width, height);
    let bytes =
        std::fs::read(png).unwrap_or_else(|e| panic!("{} was not written: {e}", png.display()));
    assert!(
        bytes.starts_with(b"\x89PNG\r\n\x1a\n"),
        "{} is a PNG",
        png.display()
    );
    assert!(
        bytes.len() > 5 * 1024,
        "{} is more than a blank page: {} bytes",
        png.display(),
        bytes.len()
    );
    took
}

/// Runs headless Chromium once, killing it if it outlives [`CHROMIUM_TIMEOUT`].
fn run(chromium: &Path, url: &str, png: &Path, width: u32, height: u32) -> Duration {
    let started = Instant::now();
    let args = [
        format!("--window-size={width},{height}"),
        format!("--screenshot={}", png.display()),
    ];
    let (success, log) = headless(chromium, url, &args, None);
    assert!(
        success && png.is_file(),
        "chromium failed for {url}:\n{log}"
    );
    started.elapsed()
}

/// The document Chromium shows for `url` once loaded (after any XSLT), serialised.
pub fn dom(chromium: &Path, url: &str) -> String {
    let out = tempfile::NamedTempFile::new().expect("a file for the DOM");
    let (success, log) = headless(chromium, url, &["--dump-dom".to_string()], Some(out.path()));
    assert!(success, "chromium failed for {url}:\n{log}");
    std::fs::read_to_string(out.path()).expect("the DOM")
}

/// Runs headless Chromium with `args` on `url` (stdout into `stdout`, else its log), killing
/// it if it outlives [`CHROMIUM_TIMEOUT`]; whether it succeeded, and its log.
fn headless(chromium: &Path, url: &str, args: &[String], stdout: Option<&Path>) -> (bool, String) {
    let profile = tempfile::tempdir().expect("a Chromium profile folder");
    let started = Instant::now();
    // Chromium's output goes to a file, not a pipe: its helper processes may hold a pipe
    // open after the browser exits.
    let log_path = profile.path().join("chromium.log");
    let log_file = std::fs::File::create(&log_path).expect("a log file");
    let out_file = match stdout {
        Some(path) => std::fs::File::create(path).expect("an output file"),
        None => log_file.try_clone().expect("log file"),
    };
    let mut child = Command::new(chromium)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--hide-scrollbars",
        ])
        .arg(format!(
            "--user-data-dir={}",
            profile.path().join("profile").display()
        ))
        .args(args)
        .arg(url)
        .stdin(Stdio::null())
        .stdout(out_file)
        .stderr(log_file)
        // Its own process group, so a timeout ends Chromium's helpers too, and only them.
        .process_group(0)
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {}: {e}", chromium.display()));
    let log = || std::fs::read_to_string(&log_path).unwrap_or_default();
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait for chromium") {
            break status;
        }
        if started.elapsed() > CHROMIUM_TIMEOUT {
            kill_group(&mut child);
            panic!(
                "chromium took over {CHROMIUM_TIMEOUT:?} for {url}; killed. output:\n{}",
                log()
            );
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    (status.success(), format!("({status})\n{}", log()))
}

/// Kills the process group this test started Chromium in (its id is Chromium's pid).
fn kill_group(child: &mut std::process::Child) {
    let pgid = i32::try_from(child.id()).expect("a pid fits in i32");
    // SAFETY: kill(2) with a negative pid signals only that process group, which is ours.
    unsafe {
        libc::kill(-pgid, libc::SIGKILL);
    }
    let _ = child.wait();
}
