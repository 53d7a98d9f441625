//! dropfeed turns a folder of articles into RSS 2.0, Atom 1.0 and JSON Feed 1.1 and serves
//! them with the HTTP caching that feed readers and aggregators reward.
//!
//! The modules, in pipeline order:
//!
//! - [`config`]: `dropfeed.toml` → validated [`config::Config`].
//! - [`post`]: one file → one [`post::Post`] (front matter, Markdown, plain text, dates).
//! - [`ledger`]: ids issued once and never changed.
//! - [`load`]: the posts folder → posts, re-reading only changed files.
//! - [`site`]: posts → [`site::Site`]: order, drafts, schedule, tags, archive paging.
//! - [`render`]: site → bytes of every resource (feeds, HTML pages).
//! - [`snapshot`]: resources → [`snapshot::Snapshot`] with encodings and validators.
//! - [`status`]: every post's state and problems, for `/status` and `dropfeed check`.
//! - [`metrics`]: Prometheus counters of requests, rebuilds and connections.
//! - [`pipeline`]: the stages joined up; static export.
//! - [`export`]: a snapshot written to a folder for static hosting, with server configs.
//! - [`encoder`]: compresses new resources after they are published.
//! - [`watch`]: file events → rebuild → atomic swap.
//! - [`serve`]: the hyper server answering from the current snapshot.
//! - [`websub`]: pinging a WebSub hub when feeds change.
//! - [`app`]: all of the above started together (what `dropfeed serve` runs).
//! - [`parallel`]: a list of independent items mapped on every core.

pub mod app;
pub mod config;
pub mod encoder;
pub mod export;
pub mod ledger;
pub mod load;
pub mod metrics;
pub mod parallel;
pub mod pipeline;
pub mod post;
pub mod render;
pub mod serve;
pub mod site;
pub mod snapshot;
pub mod status;
pub mod watch;
pub mod websub;
