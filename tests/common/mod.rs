//! Helpers shared by the integration tests.
#![allow(dead_code)]

pub mod chromium;
pub mod feeds;
pub mod old_site;
pub mod raw;
pub mod server;
