//! Whether the ledger could be read whole and written: what `/status`, `dropfeed check` and
//! the log say about it. While it cannot be read whole, no id is issued and the file is not
//! rewritten (see [`crate::ledger`]).

use std::sync::{Arc, Mutex};

/// A ledger line that could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BadLine {
    /// 1-based line number in the file.
    pub line: usize,
    /// What is wrong with it.
    pub reason: String,
}

/// The ledger's health as last seen.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Health {
    /// Why the file could not be read at all (permission denied, an I/O error, an unknown
    /// format).
    pub unreadable: Option<String>,
    /// Lines that could not be read; every other line's id is in use.
    pub bad_lines: Vec<BadLine>,
    /// Why the last write failed, until one succeeds.
    pub write_failed: Option<String>,
}

/// One problem in words, with the file line it concerns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// 1-based line, when it is about one line.
    pub line: Option<usize>,
    /// Plain-words message.
    pub message: String,
}

impl Health {
    /// True when the whole file was read: new ids may be issued and the file rewritten.
    pub fn issuing(&self) -> bool {
        self.unreadable.is_none() && self.bad_lines.is_empty()
    }

    /// Every problem, in words an operator can act on.
    pub fn problems(&self) -> Vec<Problem> {
        let mut out = self.read_problems();
        if let Some(reason) = &self.write_failed {
            out.push(Problem {
                line: None,
                message: format!(
                    "the id ledger cannot be written: {reason}; ids issued since are kept in memory only and could change after a restart"
                ),
            });
        }
        out
    }

    /// The problems that stop id issuing: the file, or lines of it, cannot be read.
    pub fn read_problems(&self) -> Vec<Problem> {
        const STOPPED: &str = "no new ids are issued (posts without one are held back) and the file is not rewritten until it is fixed";
        let mut out = Vec::new();
        if let Some(reason) = &self.unreadable {
            out.push(Problem {
                line: None,
                message: format!("the id ledger cannot be read: {reason}; {STOPPED}"),
            });
        }
        for bad in &self.bad_lines {
            out.push(Problem {
                line: Some(bad.line),
                message: format!(
                    "id ledger line cannot be read: {}; the other lines keep their ids, but {STOPPED}",
                    bad.reason
                ),
            });
        }
        out
    }
}

/// The ledger's health, shared with whoever reports it: `/status` shows it as it is when
/// asked, so a write that failed after the snapshot was published still shows.
#[derive(Debug, Clone, Default)]
pub struct SharedHealth(Arc<Mutex<Health>>);

impl SharedHealth {
    /// The health now.
    pub fn get(&self) -> Health {
        self.0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .clone()
    }

    pub(super) fn set(&self, health: Health) {
        *self
            .0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner()) = health;
    }
}
