//! The `dropfeed` binary's own parts, beside `main.rs` (the library does not use them).
//!
//! - [`signals`]: `serve`'s reload and stop signals, and what systemd is told of them.
//! - [`docs`]: `dropfeed man`, `dropfeed completions`, and `dropfeed healthcheck`.
//! - [`serve`]: `dropfeed serve`: runtime, listeners, start-up announcement, progress bar.
//! - [`stats`]: `dropfeed stats`: the reader counts kept in the state folder.
//! - [`log_setup`] (below): how a command logs.

pub mod docs;
pub mod serve;
pub mod signals;
pub mod stats;

use dropfeed::config::Config;
use dropfeed::logging::{LogFormat, LogSetup};

use crate::Command;

/// How a command logs: `--log-format`, else the config's `[log] format`, else text; `check`
/// prints every finding in its report, so not again as a log line.
pub fn log_setup(flag: Option<LogFormat>, command: &Command) -> LogSetup {
    LogSetup {
        format: flag.unwrap_or_else(|| configured_log_format(command)),
        quiet_findings: matches!(command, Command::Check { .. }),
    }
}

/// `[log] format` from the config a command reads, so its first line is already in that
/// format; a config with errors is reported by the command itself.
fn configured_log_format(command: &Command) -> LogFormat {
    let (posts, config) = match command {
        Command::Serve { posts, config, .. }
        | Command::Build { posts, config, .. }
        | Command::Check { posts, config, .. }
        | Command::New { posts, config, .. } => (posts, config),
        _ => return LogFormat::default(),
    };
    Config::discover(posts, config.as_deref(), None).map_or(LogFormat::default(), |c| c.log.format)
}
