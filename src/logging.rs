//! dropfeed's own log lines: where they go, how they look, and which of them `dropfeed
//! check` keeps quiet.
//!
//! Rules this module follows:
//!
//! - Logs go to stderr. ANSI colour only when stderr is a terminal, and never when
//!   `NO_COLOR` is set to anything but the empty string (<https://no-color.org>): a journal,
//!   a file or a log shipper gets plain text.
//! - `json` writes one JSON object per line (time, level, target, message and fields), for
//!   log shippers.
//! - Problems with an author's files that `/status` and `dropfeed check` also report (a post
//!   that does not parse, a file passed over, a damaged id ledger) are logged under the
//!   target [`FINDINGS`], at the level the report gives them. `dropfeed check` prints its
//!   own report and turns that target off, so each finding is shown once.
//! - `RUST_LOG` chooses what is logged (default `info`).

use std::io::IsTerminal;

use tracing_subscriber::EnvFilter;

pub use crate::config::LogFormat;

/// The target of log lines about an author's files that the status report also holds.
pub const FINDINGS: &str = "dropfeed::findings";

/// Whether output to a stream that `is_terminal` may be coloured: only on a terminal, and
/// not when `NO_COLOR` is set to a non-empty value.
pub fn colour_allowed(is_terminal: bool) -> bool {
    is_terminal && std::env::var_os("NO_COLOR").is_none_or(|value| value.is_empty())
}

/// What to log and how.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LogSetup {
    /// Text or JSON lines.
    pub format: LogFormat,
    /// Leave out [`FINDINGS`] (the command prints them itself).
    pub quiet_findings: bool,
}

/// Installs the process-wide logger, writing to stderr; a second call changes nothing.
pub fn init(setup: LogSetup) {
    let mut filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    if setup.quiet_findings {
        if let Ok(off) = format!("{FINDINGS}=off").parse() {
            filter = filter.add_directive(off);
        }
    }
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    let _ = match setup.format {
        LogFormat::Text => builder
            .with_ansi(colour_allowed(std::io::stderr().is_terminal()))
            .try_init(),
        LogFormat::Json => builder
            .json()
            .flatten_event(true)
            .with_current_span(false)
            .with_span_list(false)
            .try_init(),
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn never_colour_off_a_terminal() {
        assert!(!colour_allowed(false));
    }
}
