//! The counts in the state folder: `posts/.dropfeed/readers/YYYY-MM-DD.json`, one file per UTC
//! day, so a damaged file costs its own day and nothing else.
//!
//! Rules followed:
//!
//! - A day is written whole, atomically: a temporary file in the same folder, flushed to
//!   disk, renamed over the old one. A crash leaves the old version or the new one.
//! - A file that does not parse is reported and left as it is (renamed aside with
//!   `.damaged` when its day is written again), never a reason not to start.
//! - Only files named like a day are read; days older than the retention are removed, and
//!   our own temporary files a crash left behind (after an hour); nothing else ever is.
//! - Files hold counts and names only: no client address, no hash of one.

use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use chrono::{Days, NaiveDate};

use super::days::{DayCounts, History};
use crate::ids::STATE_DIR;

/// The folder of the counts inside the state folder.
pub const FOLDER: &str = "readers";

/// Where the counts of a posts folder are kept.
pub fn folder(posts: &Path) -> PathBuf {
    posts.join(STATE_DIR).join(FOLDER)
}

/// What reading the folder found.
#[derive(Debug, Default)]
pub struct Loaded {
    /// Every day read.
    pub history: History,
    /// Day files that could not be read, with why.
    pub damaged: Vec<(PathBuf, String)>,
}

/// Reads every day file in `folder` (a missing folder is no days).
pub fn load(folder: &Path) -> Loaded {
    let mut loaded = Loaded::default();
    let Ok(entries) = fs::read_dir(folder) else {
        return loaded;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        let Some(day) = day_of(&path) else {
            continue;
        };
        match read_day(&path) {
            Ok(counts) => {
                loaded.history.insert(day, counts);
            }
            Err(why) => loaded.damaged.push((path, why)),
        }
    }
    loaded
}

/// The day a file is for, when its name is `YYYY-MM-DD.json`.
fn day_of(path: &Path) -> Option<NaiveDate> {
    let name = path.file_name()?.to_str()?;
    let day = name.strip_suffix(".json")?;
    NaiveDate::parse_from_str(day, "%Y-%m-%d").ok()
}

/// One day's file.
fn read_day(path: &Path) -> Result<DayCounts, String> {
    let bytes = fs::read(path).map_err(|e| e.to_string())?;
    serde_json::from_slice(&bytes).map_err(|e| e.to_string())
}

/// The file of `day` in `folder`.
fn path_of(folder: &Path, day: NaiveDate) -> PathBuf {
    folder.join(format!("{}.json", day.format("%Y-%m-%d")))
}

/// Writes one day atomically. A file there that does not parse is kept aside first.
pub fn save(folder: &Path, day: NaiveDate, counts: &DayCounts) -> io::Result<()> {
    fs::create_dir_all(folder)?;
    let path = path_of(folder, day);
    if path.exists() && read_day(&path).is_err() {
        fs::rename(&path, path.with_extension("json.damaged"))?;
    }
    let temporary = folder.join(format!(
        ".{}.tmp-{}",
        day.format("%Y-%m-%d"),
        std::process::id()
    ));
    let bytes = serde_json::to_vec_pretty(counts).map_err(io::Error::other)?;
    let written = fs::File::create(&temporary).and_then(|mut file| {
        file.write_all(&bytes)?;
        file.sync_all()
    });
    let renamed = written.and_then(|()| fs::rename(&temporary, &path));
    if renamed.is_err() {
        let _ = fs::remove_file(&temporary);
    }
    renamed
}

/// Removes the day files older than `keep` days before `today`, and temporary files a
/// crash left behind (ours, an hour old at least); returns how many files were removed.
pub fn prune(folder: &Path, today: NaiveDate, keep: u32) -> usize {
    let Some(oldest) = today.checked_sub_days(Days::new(u64::from(keep))) else {
        return 0;
    };
    let Ok(entries) = fs::read_dir(folder) else {
        return 0;
    };
    entries
        .flatten()
        .map(|e| e.path())
        .filter(|p| day_of(p).is_some_and(|day| day <= oldest) || left_by_a_crash(p))
        .filter(|p| fs::remove_file(p).is_ok())
        .count()
}

/// A temporary file of [`save`] (`.YYYY-MM-DD.tmp-PID`) not touched for an hour.
fn left_by_a_crash(path: &Path) -> bool {
    let Some(name) = path.file_name().and_then(|n| n.to_str()) else {
        return false;
    };
    let ours = name
        .strip_prefix('.')
        .and_then(|rest| rest.split_once(".tmp-"))
        .is_some_and(|(day, _)| NaiveDate::parse_from_str(day, "%Y-%m-%d").is_ok());
    let old = fs::metadata(path)
        .and_then(|m| m.modified())
        .ok()
        .and_then(|t| t.elapsed().ok())
        .is_some_and(|age| age.as_secs() >= 3600);
    ours && old
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::readers::days::FeedDay;

    fn day(text: &str) -> NaiveDate {
        text.parse().expect("a date")
    }

    fn counts(direct: u64) -> DayCounts {
        let mut counts = DayCounts::default();
        counts.feeds.insert(
            "/atom.xml".into(),
            FeedDay {
                direct,
                ..FeedDay::default()
            },
        );
        counts
    }

    #[test]
    fn a_damaged_day_costs_that_day_only() {
        let dir = tempfile::tempdir().unwrap();
        save(dir.path(), day("2026-01-01"), &counts(3)).unwrap();
        save(dir.path(), day("2026-01-02"), &counts(4)).unwrap();
        fs::write(dir.path().join("2026-01-02.json"), b"{\"feeds\": {\"/a").unwrap();
        fs::write(dir.path().join("notes.txt"), b"mine").unwrap();
        let loaded = load(dir.path());
        assert_eq!(loaded.history.len(), 1);
        assert_eq!(loaded.history[&day("2026-01-01")], counts(3));
        assert_eq!(loaded.damaged.len(), 1);
        save(dir.path(), day("2026-01-02"), &counts(5)).unwrap();
        assert!(
            dir.path().join("2026-01-02.json.damaged").exists(),
            "kept aside"
        );
        assert_eq!(load(dir.path()).history[&day("2026-01-02")], counts(5));
        assert!(dir.path().join("notes.txt").exists());
    }

    #[test]
    fn days_past_the_retention_are_removed_and_nothing_else() {
        let dir = tempfile::tempdir().unwrap();
        for d in ["2025-01-01", "2025-12-31", "2026-01-01"] {
            save(dir.path(), day(d), &counts(1)).unwrap();
        }
        fs::write(dir.path().join("2020-01-01.txt"), b"not ours").unwrap();
        let fresh = dir.path().join(".2026-01-01.tmp-42");
        fs::write(&fresh, b"being written").unwrap();
        assert_eq!(prune(dir.path(), day("2026-01-01"), 1), 2);
        assert!(
            fresh.exists(),
            "a temporary file being written is left alone"
        );
        let left: Vec<_> = load(dir.path()).history.into_keys().collect();
        assert_eq!(left, vec![day("2026-01-01")]);
        assert!(dir.path().join("2020-01-01.txt").exists());
    }
}
