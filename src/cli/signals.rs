//! `serve`'s signals: SIGHUP reloads the configuration, SIGTERM and SIGINT stop; systemd
//! hears of each (`RELOADING=1` … `READY=1`, `STOPPING=1`).

use std::path::PathBuf;
use std::sync::Arc;

use dropfeed::app;
use dropfeed::config::Config;
use dropfeed::systemd::Notifier;
use dropfeed::watch;

/// What a reload needs: where the config comes from, and whom to tell.
pub struct Reload {
    /// The posts folder (the config is looked for beside it).
    pub posts: PathBuf,
    /// `--config`, when given.
    pub config_path: Option<PathBuf>,
    /// The listen address as a URL, standing in for a missing `base_url`.
    pub listen_url: String,
    /// systemd, when it started the service.
    pub systemd: Option<Arc<Notifier>>,
}

/// On every SIGHUP, reads the config again and hands it to the watcher, which re-reads every
/// post and rebuilds; connections are not touched. A config with errors is refused and the
/// old one stays. systemd hears `RELOADING=1` at once and `READY=1` when the watcher is done.
pub fn reload_on_hangup(reload: Reload, running: &app::Running) -> tokio::task::JoinHandle<()> {
    let notifier = running.notifier();
    tokio::spawn(async move {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{signal, SignalKind};
            let Ok(mut hangups) = signal(SignalKind::hangup()) else {
                return;
            };
            let Reload {
                posts,
                config_path,
                listen_url,
                systemd,
            } = reload;
            while hangups.recv().await.is_some() {
                if let Some(systemd) = &systemd {
                    systemd.reloading();
                }
                let status =
                    match Config::discover(&posts, config_path.as_deref(), Some(&listen_url)) {
                        Ok(config) => {
                            notifier(watch::Message::Reload(Arc::new(config)));
                            "serving; configuration reloaded".to_string()
                        }
                        Err(e) => {
                            notifier(watch::Message::ReloadFailed(format!("{e:#}")));
                            format!("serving; configuration not reloaded: {e:#}")
                        }
                    };
                let (done, acted) = tokio::sync::oneshot::channel();
                notifier(watch::Message::Acted(done));
                let _ = acted.await;
                if let Some(systemd) = &systemd {
                    systemd.ready(&status);
                }
            }
        }
        #[cfg(not(unix))]
        let _ = (reload, notifier);
    })
}

/// Resolves on SIGINT or SIGTERM.
pub async fn shutdown_signal() {
    let interrupt = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut terminate =
            tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
                .expect("installing a SIGTERM handler");
        tokio::select! {
            _ = interrupt => {}
            _ = terminate.recv() => {}
        }
    }
    #[cfg(not(unix))]
    let _ = interrupt.await;
}
