//! Saying that a check was skipped, and why, where a plain `cargo test` shows it.
//!
//! The test harness captures what `print!` and `eprint!` write and shows it only for tests
//! that fail (or with `--nocapture`), so a skip announced that way passed unseen. A write to
//! the stderr handle itself is not captured: the line appears in the run's output among the
//! `test … ok` lines, as `SKIPPED <test>: <why>`.

use std::io::Write;

/// Tells the person running the tests that the current test skipped a check, and why.
pub fn skipped(why: &str) {
    // The harness names each test's thread after the test; off that thread (a blocking
    // task, a single-threaded run) the test binary's name says where it was.
    let thread = std::thread::current();
    let test = match thread.name() {
        Some(name) if name != "main" && !name.starts_with("tokio-") => name.to_string(),
        _ => format!("a test in {}", binary_name()),
    };
    let line = format!("SKIPPED {test}: {why}\n");
    // One write of the whole line, so tests running in parallel do not split it.
    let _ = std::io::stderr().lock().write_all(line.as_bytes());
}

/// The test binary's name without Cargo's hash (`tests/logs.rs` → `logs`).
fn binary_name() -> String {
    let exe = std::env::current_exe().unwrap_or_default();
    let stem = exe.file_stem().unwrap_or_default().to_string_lossy();
    match stem.rsplit_once('-') {
        Some((name, _hash)) => name.to_string(),
        None => stem.into_owned(),
    }
}
