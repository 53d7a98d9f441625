//! `[log]`: how dropfeed's own log lines are written, and the optional access log.

use std::path::PathBuf;

use serde::Deserialize;
use toml::Spanned;

use super::validate::{InvalidSetting, SettingProblem};

/// How log lines are written to stderr.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// For people: one line per event; coloured only on a terminal, never with `NO_COLOR`.
    #[default]
    Text,
    /// For log shippers: one JSON object per line.
    Json,
}

/// What the access log writes for each request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AccessFormat {
    /// No access log.
    #[default]
    Off,
    /// The Common Log Format: client, time, request line, status, body bytes.
    Common,
    /// The Common Log Format plus the `Referer` and `User-Agent` headers (as Apache's and
    /// nginx's `combined`).
    Combined,
    /// One JSON object per line.
    Json,
}

/// `[log]`, validated.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct LogConfig {
    /// How dropfeed's own log lines are written (`--log-format` wins over it).
    pub format: LogFormat,
    /// The access log's format, or off.
    pub access: AccessFormat,
    /// Where the access log goes: this file (appended to), or stderr when `None`.
    pub access_file: Option<PathBuf>,
}

/// `[log]` as written.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawLog {
    /// `text` or `json`.
    pub format: Option<LogFormat>,
    /// `off`, `common`, `combined` or `json`.
    pub access: Option<AccessFormat>,
    /// A file to append the access log to.
    pub access_file: Option<Spanned<PathBuf>>,
}

/// `[log]`, defaults filled in. An access log file without an access format is refused:
/// the operator asked for a log and would silently get none.
pub(super) fn validate(raw: RawLog) -> Result<LogConfig, InvalidSetting> {
    let access = raw.access.unwrap_or_default();
    if let (Some(file), AccessFormat::Off) = (&raw.access_file, access) {
        return Err(InvalidSetting {
            span: Some(file.span()),
            problem: SettingProblem::AccessFileWithoutAccess,
        });
    }
    Ok(LogConfig {
        format: raw.format.unwrap_or_default(),
        access,
        access_file: raw.access_file.map(Spanned::into_inner),
    })
}
