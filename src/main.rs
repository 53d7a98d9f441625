//! The `dropfeed` command: parses arguments, sets up logging, and calls the library.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{Context, Result};
use clap::{Parser, Subcommand};

use dropfeed::app;
use dropfeed::config::Config;
use dropfeed::load::Library;
use dropfeed::pipeline::{self, Clock, SystemClock};

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
    /// Report every problem in the posts; exit 1 if any post does not parse.
    Check {
        /// The posts folder.
        #[arg(long, default_value = "posts")]
        posts: PathBuf,
        /// Config file (default: dropfeed.toml next to the posts folder, if any).
        #[arg(long)]
        config: Option<PathBuf>,
    },
}

fn main() -> ExitCode {
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
            config,
        } => serve(&posts, listen, config.as_deref()),
        Command::Build { posts, out, config } => build(&posts, &out, config.as_deref()),
        Command::Check { posts, config } => check(&posts, config.as_deref()),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("dropfeed: {e:#}");
            ExitCode::from(2)
        }
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

fn check(posts: &Path, config: Option<&Path>) -> Result<ExitCode> {
    let (_, library) = load(posts, config, None)?;
    let errors = library.errors();
    for error in &errors {
        println!(
            "{}:{}: error: {}",
            error.path.display(),
            error.line,
            error.message
        );
    }
    for skipped in library.skipped.values() {
        println!(
            "{}: warning: {}",
            posts.join(&skipped.source).display(),
            skipped.reason
        );
    }
    let total = library.files().len();
    eprintln!("{} post files, {} with errors", total, errors.len());
    Ok(if errors.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

fn build(posts: &Path, out: &Path, config: Option<&Path>) -> Result<ExitCode> {
    let (config, library) = load(posts, config, None)?;
    let built = pipeline::build(&library, &config, SystemClock.now(), None)?;
    pipeline::write_out(&built.snapshot, out)
        .with_context(|| format!("writing {}", out.display()))?;
    eprintln!(
        "wrote {} resources for {} published posts to {}",
        built.snapshot.resources.len(),
        built.site.entries.len(),
        out.display()
    );
    Ok(ExitCode::SUCCESS)
}

fn serve(posts: &Path, listen: SocketAddr, config: Option<&Path>) -> Result<ExitCode> {
    let listen_url = format!("http://{listen}/");
    let config = Arc::new(Config::discover(posts, config, Some(&listen_url))?);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async {
        let listener = tokio::net::TcpListener::bind(listen)
            .await
            .with_context(|| format!("cannot listen on {listen}"))?;
        let mut running =
            app::start(posts, Arc::clone(&config), Arc::new(SystemClock), listener).await?;
        eprintln!(
            "dropfeed: serving {} published posts from {} on http://{}/",
            running.published,
            posts.display(),
            running.addr
        );
        for feed in ["feed.xml", "atom.xml", "feed.json"] {
            eprintln!("  {}", config.url(feed));
        }
        tokio::select! {
            () = shutdown_signal() => running.stop().await?,
            result = running.wait() => result?,
        }
        eprintln!("dropfeed: stopped");
        Ok(ExitCode::SUCCESS)
    })
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
