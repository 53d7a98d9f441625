//! The `dropfeed` binary's own parts, beside `main.rs` (the library does not use them).
//!
//! - [`signals`]: `serve`'s reload and stop signals, and what systemd is told of them.
//! - [`docs`]: `dropfeed man`, `dropfeed completions`, and `dropfeed healthcheck`.

pub mod docs;
pub mod signals;
