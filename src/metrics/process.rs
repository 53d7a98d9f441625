//! The process's own metrics under the names every Prometheus client library uses
//! (`process_cpu_seconds_total`, `process_resident_memory_bytes`, `process_open_fds`,
//! `process_max_fds`, `process_virtual_memory_bytes`, `process_start_time_seconds`), so the
//! usual dashboards work unchanged.
//!
//! Read from `/proc/self` at scrape time, on Linux only (elsewhere they are left out). Only
//! `/proc/self` is read: the systemd unit's `ProcSubset=pid` hides `/proc/stat`, so the
//! start time is worked out from the boot-time clock instead of the boot time there.

use std::fmt::Write;

/// Appends the process metrics in Prometheus text format; nothing when unavailable.
pub(super) fn render(out: &mut String) {
    #[cfg(target_os = "linux")]
    if let Some(sample) = linux::sample() {
        sample.write(out);
    }
    #[cfg(not(target_os = "linux"))]
    let _ = out;
}

/// One reading of the process's counters.
#[derive(Debug, Clone, PartialEq)]
struct Sample {
    cpu_seconds: f64,
    resident_bytes: u64,
    virtual_bytes: u64,
    open_fds: Option<u64>,
    max_fds: Option<u64>,
    start_time_seconds: Option<f64>,
}

impl Sample {
    fn write(&self, out: &mut String) {
        let mut metric = |name: &str, kind: &str, help: &str, value: String| {
            let _ = writeln!(
                out,
                "# HELP {name} {help}\n# TYPE {name} {kind}\n{name} {value}"
            );
        };
        metric(
            "process_cpu_seconds_total",
            "counter",
            "User and system CPU time spent, seconds.",
            self.cpu_seconds.to_string(),
        );
        metric(
            "process_resident_memory_bytes",
            "gauge",
            "Resident memory size, bytes.",
            self.resident_bytes.to_string(),
        );
        metric(
            "process_virtual_memory_bytes",
            "gauge",
            "Virtual memory size, bytes.",
            self.virtual_bytes.to_string(),
        );
        let optional = [
            (
                "process_open_fds",
                "Open file descriptors.",
                self.open_fds.map(|n| n.to_string()),
            ),
            (
                "process_max_fds",
                "Most file descriptors the process may open.",
                self.max_fds.map(|n| n.to_string()),
            ),
            (
                "process_start_time_seconds",
                "Start time of the process since the Unix epoch, seconds.",
                self.start_time_seconds.map(|s| format!("{s:.2}")),
            ),
        ];
        for (name, help, value) in optional {
            if let Some(value) = value {
                metric(name, "gauge", help, value);
            }
        }
    }
}

/// The fields of `/proc/self/stat` used here, in clock ticks and pages where the kernel
/// counts so.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Stat {
    utime: u64,
    stime: u64,
    starttime: u64,
    vsize: u64,
    rss_pages: u64,
}

/// Parses `/proc/<pid>/stat`. The command name (field 2) is in parentheses and may hold
/// spaces and parentheses itself, so fields are counted from the last `)`.
fn parse_stat(text: &str) -> Option<Stat> {
    let (_, rest) = text.rsplit_once(')')?;
    // rest starts with field 3 (state): field n is at index n - 3.
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let field = |n: usize| fields.get(n - 3)?.parse::<u64>().ok();
    Some(Stat {
        utime: field(14)?,
        stime: field(15)?,
        starttime: field(22)?,
        vsize: field(23)?,
        rss_pages: field(24)?,
    })
}

/// The soft "Max open files" limit from `/proc/<pid>/limits`.
fn parse_max_fds(limits: &str) -> Option<u64> {
    let line = limits.lines().find(|l| l.starts_with("Max open files"))?;
    line["Max open files".len()..]
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

#[cfg(target_os = "linux")]
mod linux {
    use super::{parse_max_fds, parse_stat, Sample};

    /// Reads `/proc/self`; `None` when `/proc` is not mounted.
    pub(super) fn sample() -> Option<Sample> {
        let stat = parse_stat(&std::fs::read_to_string("/proc/self/stat").ok()?)?;
        // SAFETY: sysconf only reads system constants.
        let (ticks, page) = unsafe {
            (
                libc::sysconf(libc::_SC_CLK_TCK),
                libc::sysconf(libc::_SC_PAGESIZE),
            )
        };
        let ticks = if ticks > 0 { ticks as f64 } else { 100.0 };
        let open_fds = std::fs::read_dir("/proc/self/fd")
            .ok()
            .map(|dir| dir.count() as u64);
        let max_fds = std::fs::read_to_string("/proc/self/limits")
            .ok()
            .and_then(|l| parse_max_fds(&l));
        Some(Sample {
            cpu_seconds: (stat.utime + stat.stime) as f64 / ticks,
            resident_bytes: stat.rss_pages * page.max(0) as u64,
            virtual_bytes: stat.vsize,
            open_fds,
            max_fds,
            start_time_seconds: start_time(stat.starttime as f64 / ticks),
        })
    }

    /// The wall-clock time the process started: now, less the time since boot, plus the
    /// start's offset from boot (both on the boot-time clock, which counts suspend too).
    fn start_time(since_boot: f64) -> Option<f64> {
        let clock = |id| {
            let mut now = libc::timespec {
                tv_sec: 0,
                tv_nsec: 0,
            };
            // SAFETY: clock_gettime writes one timespec into the value given.
            let result = unsafe { libc::clock_gettime(id, &mut now) };
            (result == 0).then(|| now.tv_sec as f64 + now.tv_nsec as f64 / 1e9)
        };
        let boot_now = clock(libc::CLOCK_BOOTTIME)?;
        let wall_now = clock(libc::CLOCK_REALTIME)?;
        Some(wall_now - boot_now + since_boot)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stat_fields_are_counted_from_the_last_parenthesis() {
        // A command name with spaces and parentheses, as a process may name itself.
        let text = "4242 (a) b (c) d) S 1 4242 4242 0 -1 4194560 500 0 0 0 \
                    150 25 0 0 20 0 3 0 98765 123456789 2048 18446744073709551615";
        let stat = parse_stat(text).expect("parses");
        assert_eq!(
            stat,
            Stat {
                utime: 150,
                stime: 25,
                starttime: 98765,
                vsize: 123456789,
                rss_pages: 2048
            }
        );
        assert_eq!(parse_stat("4242 (cut short) S 1 2"), None);
    }

    #[test]
    fn max_fds_is_the_soft_limit() {
        let limits = "Limit                     Soft Limit           Hard Limit           Units     \n\
                      Max open files            8192                 524288               files     \n";
        assert_eq!(parse_max_fds(limits), Some(8192));
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn this_process_started_in_the_past_and_uses_memory() {
        let sample = linux::sample().expect("/proc is mounted");
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .expect("after 1970")
            .as_secs_f64();
        let started = sample.start_time_seconds.expect("a start time");
        assert!(
            started <= now + 1.0 && started > now - 86_400.0,
            "{started} vs {now}"
        );
        assert!(sample.resident_bytes > 0);
        assert!(sample.open_fds.is_some_and(|n| n >= 3));
    }
}
