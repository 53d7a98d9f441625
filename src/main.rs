//! The `dropfeed` command: parses arguments, sets up logging, and calls the library.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{Context, Result};
use clap::{Parser, Subcommand};

use dropfeed::app;
use dropfeed::config::{AdminListen, Config};
use dropfeed::export;
use dropfeed::ids::Ledger;
use dropfeed::load::Library;
use dropfeed::load::LoadProgress;
use dropfeed::pipeline::{self, Clock, Inputs, SystemClock};
use dropfeed::site::Held;
use dropfeed::status::{Level, PostState};
use dropfeed::watch;
use std::io::IsTerminal;
use std::sync::atomic::Ordering;

/// Publishes a folder of articles as RSS, Atom and JSON feeds.
#[derive(Debug, Parser)]
#[command(version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Serve the feeds over HTTP, rebuilding the moment a post changes.
    Serve {
        /// The posts folder.
        #[arg(long, default_value = "posts")]
        posts: PathBuf,
        /// Address to listen on.
        #[arg(long, default_value = "127.0.0.1:8080")]
        listen: SocketAddr,
        /// Address of the admin listener (/status, /metrics), or `off`; overrides
        /// `[admin] listen` (default 127.0.0.1:8081).
        #[arg(long, value_name = "ADDR|off", value_parser = AdminListen::parse)]
        admin_listen: Option<AdminListen>,
        /// Config file (default: dropfeed.toml next to the posts folder, if any).
        #[arg(long)]
        config: Option<PathBuf>,
    },
    /// Write every resource, precompressed, to a folder for a static host.
    Build {
        /// The posts folder.
        #[arg(long, default_value = "posts")]
        posts: PathBuf,
        /// Output folder; replaced as a whole.
        #[arg(long)]
        out: PathBuf,
        /// Config file (default: dropfeed.toml next to the posts folder, if any).
        #[arg(long)]
        config: Option<PathBuf>,
    },
    /// Report every problem in the posts. Exit 0 when clean, 1 on errors, 2 on warnings
    /// only when --strict.
    Check {
        /// The posts folder.
        #[arg(long, default_value = "posts")]
        posts: PathBuf,
        /// Config file (default: dropfeed.toml next to the posts folder, if any).
        #[arg(long)]
        config: Option<PathBuf>,
        /// Output format.
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
        /// Exit 2 when there are warnings but no errors.
        #[arg(long)]
        strict: bool,
    },
    /// Create a new Markdown post with front matter and the current date: a draft, which
    /// no reader sees until its `draft: true` line is removed.
    New {
        /// The post's title.
        title: String,
        /// Comma-separated tags.
        #[arg(long, value_delimiter = ',')]
        tags: Vec<String>,
        /// Write it published at once (no `draft: true` line): it is in the feeds as soon
        /// as a running `dropfeed serve` sees it.
        #[arg(long)]
        publish: bool,
        /// The posts folder.
        #[arg(long, default_value = "posts")]
        posts: PathBuf,
        /// Config file (for the time zone).
        #[arg(long)]
        config: Option<PathBuf>,
    },
    /// Configuration helpers.
    Config {
        /// Print an annotated dropfeed.toml with every key and its default.
        #[arg(long)]
        print_default: bool,
    },
}

/// How `check` prints.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum Format {
    /// `file:line: level: message`, coloured on a terminal.
    Text,
    /// One JSON document with every diagnostic.
    Json,
}

fn main() -> ExitCode {
    tune_allocator();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Serve {
            posts,
            listen,
            admin_listen,
            config,
        } => serve(&posts, listen, admin_listen, config.as_deref()),
        Command::Build { posts, out, config } => build(&posts, &out, config.as_deref()),
        Command::Check {
            posts,
            config,
            format,
            strict,
        } => check(&posts, config.as_deref(), format, strict),
        Command::New {
            title,
            tags,
            publish,
            posts,
            config,
        } => new_post(&posts, config.as_deref(), &title, &tags, publish),
        Command::Config { print_default } => {
            if print_default {
                print!("{}", dropfeed::config::ANNOTATED_DEFAULT);
                Ok(ExitCode::SUCCESS)
            } else {
                Err(anyhow::anyhow!(
                    "say what to do: dropfeed config --print-default"
                ))
            }
        }
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("dropfeed: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// glibc gives each thread that allocates its own arena and keeps freed memory in them; for
/// a long-running server that parses on several threads once and then mostly idles, that
/// doubled resident memory. Two arenas and a low trim threshold keep it near what is held.
fn tune_allocator() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only changes allocator tuning parameters; called before other threads.
    unsafe {
        libc::mallopt(libc::M_ARENA_MAX, 2);
        libc::mallopt(libc::M_TRIM_THRESHOLD, 128 * 1024);
    }
}

/// Reads the config and every post.
fn load(
    posts: &Path,
    config: Option<&Path>,
    listen_url: Option<&str>,
) -> Result<(Arc<Config>, Library)> {
    let config = Arc::new(Config::discover(posts, config, listen_url)?);
    let mut library = Library::new(posts, &config);
    library
        .scan()
        .with_context(|| format!("{}: no such folder", posts.display()))?;
    Ok((config, library))
}

fn check(posts: &Path, config: Option<&Path>, format: Format, strict: bool) -> Result<ExitCode> {
    let (config, library) = load(posts, config, None)?;
    let report = pipeline::check(&library, &config, SystemClock.now())?;
    let diagnostics = report.diagnostics();
    match format {
        Format::Json => println!("{}", serde_json::to_string_pretty(&diagnostics)?),
        Format::Text => {
            let colour = std::io::stdout().is_terminal();
            for d in &diagnostics {
                let text = d.to_string();
                match (colour, d.level) {
                    (true, Level::Error) => println!("\x1b[31m{text}\x1b[0m"),
                    (true, Level::Warning) => println!("\x1b[33m{text}\x1b[0m"),
                    (false, _) => println!("{text}"),
                }
            }
            eprintln!(
                "{} post files: {} published, {} with errors, {} warnings",
                report.posts.len(),
                report.published,
                report.count(PostState::Failed),
                diagnostics
                    .iter()
                    .filter(|d| d.level == Level::Warning)
                    .count()
            );
        }
    }
    let errors = diagnostics.iter().any(|d| d.level == Level::Error);
    Ok(match (errors, diagnostics.is_empty(), strict) {
        (true, _, _) => ExitCode::FAILURE,
        (false, false, true) => ExitCode::from(2),
        _ => ExitCode::SUCCESS,
    })
}

/// `dropfeed new`: writes a post (a draft unless `publish`), never over an existing file;
/// prints its path on stdout and how to publish it on stderr.
fn new_post(
    posts: &Path,
    config: Option<&Path>,
    title: &str,
    tags: &[String],
    publish: bool,
) -> Result<ExitCode> {
    let config = Config::discover(posts, config, None)?;
    let now = SystemClock.now().with_timezone(&config.timezone);
    let slug = Some(dropfeed::post::slugify(title))
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "post".into());
    let path = posts.join(format!("{}-{slug}.md", now.format("%Y-%m-%d")));
    let quote = |s: &str| serde_json::to_string(s).unwrap_or_default();
    let tags: Vec<String> = tags
        .iter()
        .map(|t| quote(t.trim()))
        .filter(|t| t != "\"\"")
        .collect();
    let draft = if publish { "" } else { "draft: true\n" };
    let text = format!(
        "---\ntitle: {}\ndate: {}\ntags: [{}]\n{draft}---\n\nWrite here. The first paragraph becomes the summary.\n",
        quote(title),
        now.format("%Y-%m-%d %H:%M"),
        tags.join(", ")
    );
    std::fs::create_dir_all(posts).with_context(|| format!("creating {}", posts.display()))?;
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&path)
        .with_context(|| format!("{}: refusing to overwrite or cannot create", path.display()))?;
    std::io::Write::write_all(&mut file, text.as_bytes())?;
    println!("{}", path.display());
    if publish {
        eprintln!("Published: a running `dropfeed serve` puts it in the feeds at once.");
    } else {
        eprintln!(
            "A draft: no reader sees it. To publish it, remove its `draft: true` line (or set it \
             to false); update `date` then if days have passed.\nUntil then it shows only on \
             /status, on the admin listener."
        );
    }
    Ok(ExitCode::SUCCESS)
}

fn build(posts: &Path, out: &Path, config: Option<&Path>) -> Result<ExitCode> {
    let (config, library) = load(posts, config, None)?;
    if config.provisional_ids {
        // An export is usually deployed as is: say so before its links and ids go out.
        tracing::warn!(
            "{}",
            dropfeed::status::provisional_ids_message(config.base_url.as_str())
        );
    }
    let mut ledger = Ledger::open(posts);
    let now = SystemClock.now();
    let built = pipeline::build(
        Inputs::gather(&library, &mut ledger, now),
        &config,
        now,
        None,
    )?;
    if let Err(e) = ledger.save() {
        tracing::warn!(
            "cannot write the id ledger in {}: {e}; ids are kept in memory",
            posts.display()
        );
    }
    // A static export missing posts would be deployed as is: refuse it. The ledger's
    // problems, with file and line, are logged above.
    let held = built.site.held.values();
    let no_id = held.filter(|h| matches!(h, Held::NoId)).count();
    if no_id > 0 {
        anyhow::bail!(
            "{no_id} posts have no id and none is issued while the id ledger cannot be read whole; nothing written to {}",
            out.display()
        );
    }
    export::write_out(&built.snapshot, posts, out)
        .with_context(|| format!("writing {}", out.display()))?;
    eprintln!(
        "wrote {} resources for {} published posts to {}",
        built.snapshot.routes().len(),
        built.site.entries.len(),
        out.display()
    );
    Ok(ExitCode::SUCCESS)
}

fn serve(
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
        print_addresses(&running, posts, &config);
        let reloads = reload_on_hangup(posts.to_path_buf(), config_path, listen_url, &running);
        tokio::select! {
            () = shutdown_signal() => running.stop().await?,
            result = running.wait() => result?,
        }
        reloads.abort();
        eprintln!("dropfeed: stopped");
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

/// Where the service answers: the site, its feeds, and the admin listener.
fn print_addresses(running: &app::Running, posts: &Path, config: &Config) {
    eprintln!(
        "dropfeed: serving {} published posts from {} on http://{}/",
        running.published,
        posts.display(),
        running.addr
    );
    for media in dropfeed::render::FEED_FORMATS {
        eprintln!("  {}", config.url(media.feed_file()));
    }
    if config.provisional_ids {
        tracing::warn!(
            "{}",
            dropfeed::status::provisional_ids_message(config.base_url.as_str())
        );
    }
    match running.admin_addr {
        Some(addr) => {
            eprintln!("  admin (/status, /metrics): http://{addr}/status");
            if !addr.ip().is_loopback() && config.admin.token.is_none() {
                tracing::warn!(
                    "the admin listener on {addr} shows drafts and scheduled posts to anyone who can reach it: set [admin] token"
                );
            }
        }
        None => eprintln!("  admin listener off: no /status, no /metrics"),
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

/// On every SIGHUP, reads the config again and hands it to the watcher, which re-reads every
/// post and rebuilds; connections are not touched. A config with errors is refused and the
/// old one stays.
fn reload_on_hangup(
    posts: PathBuf,
    config_path: Option<PathBuf>,
    listen_url: String,
    running: &app::Running,
) -> tokio::task::JoinHandle<()> {
    let notifier = running.notifier();
    tokio::spawn(async move {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{signal, SignalKind};
            let Ok(mut hangups) = signal(SignalKind::hangup()) else {
                return;
            };
            while hangups.recv().await.is_some() {
                match Config::discover(&posts, config_path.as_deref(), Some(&listen_url)) {
                    Ok(config) => notifier(watch::Message::Reload(Arc::new(config))),
                    Err(e) => notifier(watch::Message::ReloadFailed(format!("{e:#}"))),
                }
            }
        }
        #[cfg(not(unix))]
        let _ = (posts, config_path, listen_url, notifier);
    })
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

/// Resolves on SIGINT or SIGTERM.
async fn shutdown_signal() {
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
