//! `dropfeed serve`: the runtime, the listeners, the start-up announcement (log lines and
//! systemd's `READY=1`), the progress bar of a long first load, and the wait for a signal.

use std::io::IsTerminal;
use std::net::SocketAddr;
use std::path::Path;
use std::process::ExitCode;
use std::sync::atomic::Ordering;
use std::sync::Arc;

use anyhow::{Context, Result};
use dropfeed::app;
use dropfeed::config::{AdminListen, Config};
use dropfeed::load::LoadProgress;
use dropfeed::pipeline::SystemClock;
use dropfeed::systemd::Notifier;

use super::signals::{reload_on_hangup, Reload};

pub fn serve(
    posts: &Path,
    listen: SocketAddr,
    admin_listen: Option<AdminListen>,
    config_path: Option<&Path>,
) -> Result<ExitCode> {
    let listen_url = format!("http://{listen}/");
    let mut config = Config::discover(posts, config_path, Some(&listen_url))?;
    if let Some(admin_listen) = admin_listen {
        config.admin.listen = admin_listen;
    }
    let config = Arc::new(config);
    let config_path = config_path.map(Path::to_path_buf);
    let runtime = runtime(config.server.threads)?;
    let served = runtime.block_on(async {
        let listeners = bind(listen, &config).await?;
        let progress = Arc::new(LoadProgress::default());
        let bar = show_progress(Arc::clone(&progress));
        let started = app::start_with_progress(
            posts,
            Arc::clone(&config),
            Arc::new(SystemClock),
            listeners,
            progress,
        )
        .await;
        bar.abort();
        let mut running = started?;
        let systemd = announce(&running, posts, &config);
        let reload = Reload {
            posts: posts.to_path_buf(),
            config_path,
            listen_url,
            systemd: systemd.clone(),
        };
        let reloads = reload_on_hangup(reload, &running);
        tokio::select! {
            () = super::signals::shutdown_signal() => {
                if let Some(systemd) = &systemd {
                    systemd.stopping();
                }
                running.stop().await?
            }
            result = running.wait() => result?,
        }
        reloads.abort();
        tracing::info!("stopped");
        Ok(ExitCode::SUCCESS)
    });
    // Dropping the runtime would wait for its blocking threads: a cold page still rendering
    // there would keep the process alive past the drain deadline, which already passed.
    runtime.shutdown_background();
    served
}

/// The public listener, and the admin one unless it is off.
async fn bind(listen: SocketAddr, config: &Config) -> Result<app::Listeners> {
    let public = tokio::net::TcpListener::bind(listen)
        .await
        .with_context(|| format!("cannot listen on {listen}"))?;
    let admin = match config.admin.listen.addr() {
        None => None,
        Some(addr) => Some(tokio::net::TcpListener::bind(addr).await.with_context(|| {
            format!("cannot listen on {addr} for the admin listener (/status, /metrics); choose another address with --admin-listen or [admin] listen, or `off`")
        })?),
    };
    Ok(app::Listeners { public, admin })
}

/// Says the service is up: log lines with the feeds' URLs and the admin listener, and
/// `READY=1` to systemd when it started the service (returned for the reloads and the stop
/// to come).
fn announce(running: &app::Running, posts: &Path, config: &Config) -> Option<Arc<Notifier>> {
    let feeds: Vec<String> = dropfeed::render::FEED_FORMATS
        .iter()
        .map(|media| config.url(media.feed_file()))
        .collect();
    tracing::info!(
        posts = running.published,
        folder = %posts.display(),
        feeds = feeds.join(" "),
        "serving on http://{}/",
        running.addr
    );
    announce_admin(running, config);
    if config.provisional_ids {
        let message = dropfeed::status::provisional_ids_message(config.base_url.as_str());
        tracing::warn!("{message}");
    }
    let systemd = Notifier::from_env().map(Arc::new);
    if let Some(systemd) = &systemd {
        systemd.ready(&format!(
            "serving {} posts on http://{}/",
            running.published, running.addr
        ));
    }
    systemd
}

/// Where the admin listener answers, with a warning when anyone may reach it.
fn announce_admin(running: &app::Running, config: &Config) {
    match running.admin_addr {
        Some(addr) => {
            tracing::info!("admin (/status, /metrics): http://{addr}/status");
            if !addr.ip().is_loopback() && config.admin.token.is_none() {
                tracing::warn!(
                    "the admin listener on {addr} shows drafts and scheduled posts to anyone who can reach it: set [admin] token"
                );
            }
        }
        None => tracing::info!("admin listener off: no /status, no /metrics"),
    }
}

/// The async runtime for `serve`. `threads = 0`: one per core but one, at least one. The
/// spare core is for the kernel's network processing (most of a response's cost), the
/// watcher and the encoder: on two cores, with wrk on the same machine, one thread served
/// ~0.93x nginx's requests/s and two ~0.7x. One thread runs the current-thread runtime: no
/// work stealing, no wake-ups across threads.
fn runtime(threads: usize) -> std::io::Result<tokio::runtime::Runtime> {
    let threads = match threads {
        0 => std::thread::available_parallelism().map_or(1, |n| n.get().saturating_sub(1).max(1)),
        n => n,
    };
    if threads == 1 {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
    } else {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(threads)
            .enable_all()
            .build()
    }
}

/// On a terminal, a progress bar for a first load that takes more than a second.
fn show_progress(progress: Arc<LoadProgress>) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        if !std::io::stderr().is_terminal() {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_secs(1)).await;
        let bar = indicatif::ProgressBar::new(progress.total.load(Ordering::Relaxed) as u64);
        bar.set_style(
            indicatif::ProgressStyle::with_template("reading posts {bar:40} {pos}/{len} ({eta})")
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
        );
        let _clear = ClearOnDrop(bar.clone());
        loop {
            bar.set_length(progress.total.load(Ordering::Relaxed) as u64);
            bar.set_position(progress.done.load(Ordering::Relaxed) as u64);
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
    })
}

/// Clears the progress bar when the task showing it is aborted.
struct ClearOnDrop(indicatif::ProgressBar);

impl Drop for ClearOnDrop {
    fn drop(&mut self) {
        self.0.finish_and_clear();
    }
}
