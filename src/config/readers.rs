//! `[readers]`: how long the daily counts of readers and downloads are kept in the state
//! folder.

use toml::Spanned;

use super::validate::{positive, InvalidSetting};

/// `[readers]` as written.
#[derive(Debug, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawReaders {
    /// Days of counts kept.
    pub retention_days: Option<Spanned<u32>>,
}

/// Reader and download counting.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReadersConfig {
    /// Days of counts kept; older days are removed from the state folder.
    pub retention_days: u32,
}

impl Default for ReadersConfig {
    fn default() -> Self {
        ReadersConfig {
            retention_days: 400,
        }
    }
}

/// `[readers]`, defaults filled in.
pub(super) fn validate(raw: RawReaders) -> Result<ReadersConfig, InvalidSetting> {
    let default = ReadersConfig::default();
    Ok(ReadersConfig {
        retention_days: positive(
            raw.retention_days,
            default.retention_days,
            "readers.retention_days",
        )?,
    })
}
