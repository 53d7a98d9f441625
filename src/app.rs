//! A whole running service — library, first snapshot, watcher, HTTP servers (public, and
//! admin when given a listener for it) — started from a posts folder. `dropfeed serve` and
//! the integration tests both start it this way.

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

use arc_swap::ArcSwap;
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::config::Config;
use crate::encoder;
use crate::ids::{Ledger, STATE_DIR};
use crate::load::{Changes, Index, LastGood, Library, LoadProgress};
use crate::metrics::Metrics;
use crate::pipeline::{self, Built, Clock, Inputs};
use crate::readers::Readers;
use crate::serve::{self, access_log::AccessLog};
use crate::snapshot::{SharedSnapshot, Snapshot};
use crate::watch::{self, Message, WatchContext, WatchHandle};
use crate::websub::Publisher;

/// Why the service could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// The posts folder does not exist.
    #[error("{0}: no such folder")]
    NoPosts(String),
    /// The first build failed.
    #[error(transparent)]
    Render(#[from] crate::render::RenderError),
    /// The watcher could not start.
    #[error("cannot watch the posts folder: {0}")]
    Watch(#[from] notify::Error),
    /// A thread or the listening socket failed.
    #[error(transparent)]
    Io(#[from] std::io::Error),
}

/// The sockets a service answers on. A lone [`TcpListener`] converts into one with no admin
/// listener.
#[derive(Debug)]
pub struct Listeners {
    /// Where readers are served the site (and `/healthz`).
    pub public: TcpListener,
    /// Where the operator is served `/status`, `/metrics` and `/healthz`; `None` for no
    /// admin listener at all.
    pub admin: Option<TcpListener>,
}

impl From<TcpListener> for Listeners {
    fn from(public: TcpListener) -> Listeners {
        Listeners {
            public,
            admin: None,
        }
    }
}

/// A started service. Stop it with [`Running::stop`].
pub struct Running {
    /// The address it listens on.
    pub addr: SocketAddr,
    /// The address of the admin listener, if it has one.
    pub admin_addr: Option<SocketAddr>,
    /// The snapshot being served.
    pub snapshot: SharedSnapshot,
    /// How many posts the first build published.
    pub published: usize,
    watcher: Option<WatchHandle>,
    stop: Vec<oneshot::Sender<()>>,
    server: Server,
    admin: Option<Server>,
    readers: Arc<Readers>,
}

impl Running {
    /// Sends a message to the watcher (a test's clock moved: `Message::Wake`).
    pub fn notify(&self, message: Message) {
        if let Some(watcher) = &self.watcher {
            watcher.send(message);
        }
    }

    /// A function that sends messages to the watcher from anywhere (a signal handler).
    pub fn notifier(&self) -> impl Fn(Message) + Send + 'static {
        let sender = self.watcher.as_ref().map(|w| w.sender());
        move |message| {
            if let Some(sender) = &sender {
                let _ = sender.send(message);
            }
        }
    }

    /// Resolves once every hot resource has its compressed variants (they follow a change
    /// by moments; tests that look at encodings wait for this).
    pub async fn until_encoded(&self) {
        while !self.snapshot.load().fully_encoded() {
            tokio::time::sleep(std::time::Duration::from_millis(5)).await;
        }
    }

    /// Resolves when the server stops by itself (it does not, short of an error).
    pub async fn wait(&mut self) -> std::io::Result<()> {
        (&mut self.server).await.unwrap_or(Ok(()))
    }

    /// Stops serving on both listeners (in-flight requests finish) and stops the watcher.
    pub async fn stop(mut self) -> std::io::Result<()> {
        for stop in self.stop.drain(..) {
            let _ = stop.send(());
        }
        let result = (&mut self.server).await.unwrap_or(Ok(()));
        let admin = match self.admin.take() {
            Some(admin) => admin.await.unwrap_or(Ok(())),
            None => Ok(()),
        };
        if let Some(watcher) = self.watcher.take() {
            let _ = tokio::task::spawn_blocking(move || watcher.stop()).await;
        }
        let readers = Arc::clone(&self.readers);
        let flushed = move || readers.flush(std::time::Duration::from_secs(5));
        let _ = tokio::task::spawn_blocking(flushed).await;
        result.and(admin)
    }
}

/// Loads the posts, builds the first snapshot, starts the watcher and serves on
/// `listeners` (a [`TcpListener`] alone: no admin listener).
pub async fn start(
    posts: &Path,
    config: Arc<Config>,
    clock: Arc<dyn Clock>,
    listeners: impl Into<Listeners>,
) -> Result<Running, StartError> {
    start_with_progress(posts, config, clock, listeners, Arc::default()).await
}

/// [`start`], reporting how far the first scan has got through `progress`. The listeners
/// answer from the start: while the first scan runs, every route gets `503` with
/// `Retry-After` and `/healthz` says "starting" (see [`Snapshot::starting`]).
pub async fn start_with_progress(
    posts: &Path,
    config: Arc<Config>,
    clock: Arc<dyn Clock>,
    listeners: impl Into<Listeners>,
    progress: Arc<LoadProgress>,
) -> Result<Running, StartError> {
    let listeners = listeners.into();
    let started = Instant::now();
    // Opened first: a log file that cannot be written stops the start before any work.
    let access_log = AccessLog::start(&config.log)?;
    let addr = listeners.public.local_addr()?;
    let admin_addr = listeners.admin.as_ref().map(TcpListener::local_addr);
    let admin_addr = admin_addr.transpose()?;
    let snapshot: SharedSnapshot = Arc::new(ArcSwap::from_pointee(Snapshot::starting()));
    let metrics = Arc::new(Metrics::default());
    let readers = {
        let clock = Arc::clone(&clock);
        Arc::new(Readers::start(
            posts,
            &config.readers,
            Box::new(move || clock.now()),
        )?)
    };
    let (stop, server, admin) = serve_both(
        listeners, &snapshot, &metrics, &config, access_log, &readers,
    );
    let mut running = Running {
        addr,
        admin_addr,
        snapshot,
        published: 0,
        watcher: None,
        stop,
        server,
        admin,
        readers,
    };
    let first = {
        let (root, config, clock) = (posts.to_path_buf(), Arc::clone(&config), Arc::clone(&clock));
        tokio::task::spawn_blocking(move || first_load(&root, &config, &*clock, progress, started))
            .await
            .expect("initial load panicked")
    };
    match first {
        Ok(first) => {
            running.published = first.built.site.entries.len();
            let watcher = publish_first(first, &running, config, clock, metrics, started);
            running.watcher = Some(watcher?);
            Ok(running)
        }
        Err(e) => {
            let _ = running.stop().await;
            Err(e)
        }
    }
}

/// Publishes the first snapshot in place of the starting one, then starts the encoder and
/// the watcher.
fn publish_first(
    first: FirstLoad,
    running: &Running,
    config: Arc<Config>,
    clock: Arc<dyn Clock>,
    metrics: Arc<Metrics>,
    started: Instant,
) -> Result<WatchHandle, StartError> {
    let next_scheduled = first.built.site.next_scheduled;
    running.snapshot.store(Arc::new(first.built.snapshot));
    // Served in identity at once; compressed variants follow from the encoder thread.
    let encoder = encoder::spawn(Arc::clone(&running.snapshot))?;
    encoder.kick();
    let context = WatchContext {
        config,
        clock,
        shared: Arc::clone(&running.snapshot),
        metrics: Arc::clone(&metrics),
        // Always ready, so a hub added by a config reload is pinged too.
        publisher: Some(Publisher::new(tokio::runtime::Handle::current())),
        encoder: Some(encoder),
        next_scheduled,
    };
    let watcher = watch::spawn(first.watch, first.library, first.ledger, context)?;
    metrics.record_rebuild(started.elapsed());
    Ok(watcher)
}

/// A server task.
type Server = JoinHandle<std::io::Result<()>>;

/// Starts the public server and, with a listener for it, the admin one; returns what stops
/// them and their tasks.
fn serve_both(
    listeners: Listeners,
    snapshot: &SharedSnapshot,
    metrics: &Arc<Metrics>,
    config: &Config,
    access_log: Option<AccessLog>,
    readers: &Arc<Readers>,
) -> (Vec<oneshot::Sender<()>>, Server, Option<Server>) {
    let (stop, stopped) = stop_signal();
    let server = tokio::spawn(serve::run(
        listeners.public,
        Arc::clone(snapshot),
        Arc::clone(metrics),
        config.server.clone(),
        access_log,
        Some(Arc::clone(readers)),
        stopped,
    ));
    let mut stops = vec![stop];
    let admin = listeners.admin.map(|listener| {
        let (stop, stopped) = stop_signal();
        stops.push(stop);
        let admin = serve::Admin {
            token: config.admin.token.clone(),
            readers: Some(Arc::clone(readers)),
        };
        let (snapshot, limits) = (Arc::clone(snapshot), config.server.clone());
        let metrics = Arc::clone(metrics);
        tokio::spawn(serve::run_admin(
            listener, snapshot, metrics, limits, admin, stopped,
        ))
    });
    (stops, server, admin)
}

/// A sender that tells a server to stop, and the future the server waits on.
fn stop_signal() -> (oneshot::Sender<()>, impl std::future::Future<Output = ()>) {
    let (stop, stopped) = oneshot::channel::<()>();
    (stop, async move {
        let _ = stopped.await;
    })
}

/// What the first load hands to the running service.
struct FirstLoad {
    watch: watch::Prepared,
    library: Library,
    ledger: Ledger,
    built: Built,
}

/// Reads every post, starts the file watch, and builds the first snapshot (blocking).
fn first_load(
    root: &Path,
    config: &Arc<Config>,
    clock: &dyn Clock,
    progress: Arc<LoadProgress>,
    started: Instant,
) -> Result<FirstLoad, StartError> {
    let mut library = Library::new(root, config);
    library.progress = progress;
    // A post that breaks keeps its last good version across restarts too.
    library.last_good = Some(LastGood::in_state(&root.join(STATE_DIR)));
    // The store's first layout (a folder per post, a watch each) goes, off the start's path.
    let state = root.join(STATE_DIR);
    let _ = std::thread::Builder::new()
        .name("dropfeed-tidy".into())
        .spawn(move || LastGood::remove_first_layout(&state));
    // A restart opens only the files that changed while it was down.
    library.index = Some(Index::in_state(&root.join(STATE_DIR)));
    library
        .scan()
        .ok_or_else(|| StartError::NoPosts(root.display().to_string()))?;
    // Watched from now on; the watcher walks the folder once more when it starts, so a
    // change made during the scan is picked up.
    let watch = watch::prepare(library.root());
    tracing::info!(
        files = library.files().len(),
        ms = started.elapsed().as_millis() as u64,
        "posts read"
    );
    let mut ledger = Ledger::open(root);
    let now = clock.now();
    let inputs = Inputs::gather(&library, &mut ledger, config, now);
    let built =
        pipeline::build_for_serving(inputs, config, now, None, &Changes::default(), started)?;
    release_freed_memory();
    Ok(FirstLoad {
        watch,
        library,
        ledger,
        built,
    })
}

/// Hands memory freed after the cold load (parser and sanitiser scratch space, spread over
/// several malloc arenas by the parallel parse) back to the system, so resident memory
/// reflects what the service holds.
fn release_freed_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim only releases free heap pages; it has no preconditions.
    unsafe {
        libc::malloc_trim(0);
    }
}
