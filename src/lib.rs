//! dropfeed turns a folder of articles into RSS 2.0, Atom 1.0 and JSON Feed 1.1 and serves
//! them with the HTTP caching that feed readers and aggregators reward.
//!
//! The modules, in the order data flows through them; none imports one that comes later
//! (`app` and the `dropfeed` binary wire them all up):
//!
//! - [`config`]: `dropfeed.toml` → validated [`config::Config`].
//! - [`logging`]: log lines on stderr (text or JSON, colour only on a terminal).
//! - [`parallel`]: a list of independent items mapped on every core.
//! - [`media`]: media types, durations of audio and video, artwork sizes (podcasts).
//! - [`post`]: one file → one [`post::Post`] (front matter, Markdown, plain text, dates).
//! - [`theme`]: the pages' templates (embedded, or the author's theme folder), words and
//!   dates in each page's language.
//! - [`load`]: the posts folder → posts, re-reading only changed files, and the files beside
//!   posts that posts link to (located and hashed).
//! - [`ids`]: posts → permanent ids, issued once and recorded in the ledger.
//! - [`site`]: posts and ids → [`site::Site`]: order, drafts, schedule, tags, archive paging.
//! - [`render`]: site → bytes of every resource (feeds, HTML pages, tag pages).
//! - [`readers`]: who reads: subscribers aggregators report, direct readers and episode
//!   downloads per feed and day, counted off the request path and kept in the state folder.
//! - [`status`]: every post's state and problems, for `/status` and `dropfeed check`.
//! - [`snapshot`]: resources → [`snapshot::Snapshot`] with encodings and validators, and the
//!   files beside posts that published posts link to.
//! - [`metrics`]: Prometheus counters of requests, rebuilds and connections.
//! - [`websub`]: pinging a WebSub hub when feeds change.
//! - [`encoder`]: compresses new resources after they are published.
//! - [`pipeline`]: posts → ids → site → snapshot in one straight line; `dropfeed check`.
//! - [`export`]: a snapshot written to a folder for static hosting, with server configs.
//! - [`import`]: another blog or feed moved in as posts, keeping its ids (`dropfeed import`).
//! - [`watch`]: file events → rebuild → atomic swap.
//! - [`serve`]: the hyper server answering from the current snapshot: the public listener
//!   (the site) and the admin one (`/status`, `/metrics`).
//! - [`healthcheck`]: `dropfeed healthcheck`, one bounded `GET /healthz` for containers.
//! - [`systemd`]: readiness, reload and stop notifications for `Type=notify` units.
//! - [`app`]: all of the above started together (what `dropfeed serve` runs).

#![warn(missing_docs)]

pub mod app;
pub mod config;
pub mod encoder;
pub mod export;
pub mod healthcheck;
pub mod ids;
pub mod import;
pub mod load;
pub mod logging;
pub mod media;
pub mod metrics;
pub mod parallel;
pub mod pipeline;
pub mod post;
pub mod readers;
pub mod render;
pub mod serve;
pub mod site;
pub mod snapshot;
pub mod status;
pub mod systemd;
pub mod theme;
pub mod watch;
pub mod websub;
