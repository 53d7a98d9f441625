//! Helpers shared by the integration tests.
#![allow(dead_code)]

pub mod chromium;
pub mod crawl;
pub mod feeds;
pub mod old_site;
pub mod podcast;
pub mod process;
pub mod raw;
pub mod server;
pub mod sites;
pub mod skip;
