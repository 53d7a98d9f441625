//! The `dropfeed` command: parses arguments, sets up logging, and calls the library.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

mod cli;

use anyhow::{Context, Result};
use clap::{Parser, Subcommand};

use dropfeed::config::{AdminListen, Config};
use dropfeed::export;
use dropfeed::ids::Ledger;
use dropfeed::load::Library;
use dropfeed::logging::{self, LogFormat};
use dropfeed::pipeline::{self, Clock, Inputs, SystemClock};
use dropfeed::site::Held;
use dropfeed::status::{Level, PostState};
use std::io::IsTerminal;

/// Publishes a folder of articles as RSS, Atom and JSON feeds.
#[derive(Debug, Parser)]
#[command(version, about)]
struct Cli {
    /// How log lines are written to stderr [default: `[log] format` in the config, else text].
    #[arg(long, value_enum, global = true)]
    log_format: Option<LogFormat>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Serve the feeds over HTTP, rebuilding the moment a post changes.
    Serve {
        /// The posts folder.
        #[arg(long, default_value = "posts", env = "DROPFEED_POSTS")]
        posts: PathBuf,
        /// Address to listen on.
        #[arg(long, default_value = "127.0.0.1:8080", env = "DROPFEED_LISTEN")]
        listen: SocketAddr,
        /// Address of the admin listener (/status, /metrics), or `off`; overrides
        /// `[admin] listen` (default 127.0.0.1:8081).
        #[arg(long, value_name = "ADDR|off", value_parser = AdminListen::parse)]
        admin_listen: Option<AdminListen>,
        /// Config file (default: dropfeed.toml next to the posts folder, if any).
        #[arg(long, env = "DROPFEED_CONFIG")]
        config: Option<PathBuf>,
    },
    /// Write every resource, precompressed, to a folder for a static host.
    Build {
        /// The posts folder.
        #[arg(long, default_value = "posts", env = "DROPFEED_POSTS")]
        posts: PathBuf,
        /// Output folder; replaced as a whole.
        #[arg(long)]
        out: PathBuf,
        /// Config file (default: dropfeed.toml next to the posts folder, if any).
        #[arg(long, env = "DROPFEED_CONFIG")]
        config: Option<PathBuf>,
    },
    /// Report every problem in the posts. Exit 0 when clean, 1 on errors, 2 on warnings
    /// only when --strict.
    Check {
        /// The posts folder.
        #[arg(long, default_value = "posts", env = "DROPFEED_POSTS")]
        posts: PathBuf,
        /// Config file (default: dropfeed.toml next to the posts folder, if any).
        #[arg(long, env = "DROPFEED_CONFIG")]
        config: Option<PathBuf>,
        /// Output format.
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
        /// Exit 2 when there are warnings but no errors.
        #[arg(long)]
        strict: bool,
        /// Also print information (a language detected, links made absolute).
        #[arg(long, short)]
        verbose: bool,
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
        #[arg(long, default_value = "posts", env = "DROPFEED_POSTS")]
        posts: PathBuf,
        /// Config file (for the time zone).
        #[arg(long, env = "DROPFEED_CONFIG")]
        config: Option<PathBuf>,
    },
    /// Import another blog or feed as posts, keeping its ids: an RSS, Atom or JSON Feed
    /// file or URL (archives followed), a WordPress export or a Blogger export. Run it again
    /// at any time: files edited since are left alone.
    Import {
        /// A file, or an http(s) URL.
        source: String,
        /// The posts folder.
        #[arg(long, default_value = "posts")]
        posts: PathBuf,
        /// Config file (default: dropfeed.toml next to the posts folder); a web feed's old
        /// address is added to its [redirects].
        #[arg(long)]
        config: Option<PathBuf>,
    },
    /// Print the readers of each feed (subscribers aggregators report, direct readers) and
    /// the downloads of each episode, per day, from the counts a server keeps in the posts
    /// folder's state folder.
    Stats {
        /// The posts folder.
        #[arg(long, default_value = "posts", env = "DROPFEED_POSTS")]
        posts: PathBuf,
        /// How many days, ending today.
        #[arg(long, default_value_t = 30, value_parser = clap::value_parser!(u32).range(1..))]
        days: u32,
        /// The last day shown, YYYY-MM-DD [default: today, UTC].
        #[arg(long)]
        today: Option<chrono::NaiveDate>,
        /// Output format.
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
    },
    /// Configuration helpers.
    Config {
        /// Print an annotated dropfeed.toml with every key and its default.
        #[arg(long)]
        print_default: bool,
    },
    /// Exit 0 when the server answers 200, 1 otherwise (for container health checks).
    Healthcheck {
        /// URL to ask [default: http://<listen address>/healthz, 0.0.0.0 asked on 127.0.0.1].
        url: Option<String>,
        /// The address `serve` listens on.
        #[arg(long, default_value = "127.0.0.1:8080", env = "DROPFEED_LISTEN")]
        listen: SocketAddr,
        /// Seconds to wait for the answer, connecting included.
        #[arg(long, default_value_t = 3.0)]
        timeout: f64,
    },
    /// Print a shell completion script (e.g. `dropfeed completions bash >
    /// /etc/bash_completion.d/dropfeed`).
    Completions {
        /// The shell.
        shell: clap_complete::Shell,
    },
    /// Print the manual page (roff), or write one page per command into a folder.
    Man {
        /// Write dropfeed.1, dropfeed-serve.1, ... into this folder instead.
        #[arg(long)]
        out_dir: Option<PathBuf>,
    },
}

/// How `check` prints.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum Format {
    /// `file:line: level: message`, coloured on a terminal (never with `NO_COLOR`).
    Text,
    /// One JSON document with every diagnostic.
    Json,
}

fn main() -> ExitCode {
    tune_allocator();
    let cli = Cli::parse();
    let setup = cli::log_setup(cli.log_format, &cli.command);
    let format = setup.format;
    logging::init(setup);
    let result = match cli.command {
        Command::Serve {
            posts,
            listen,
            admin_listen,
            config,
        } => cli::serve::serve(&posts, listen, admin_listen, config.as_deref()),
        Command::Build { posts, out, config } => build(&posts, &out, config.as_deref()),
        Command::Check {
            posts,
            config,
            format,
            strict,
            verbose,
        } => check(&posts, config.as_deref(), format, strict, verbose),
        Command::New {
            title,
            tags,
            publish,
            posts,
            config,
        } => new_post(&posts, config.as_deref(), &title, &tags, publish),
        Command::Completions { shell } => cli::docs::completions(shell),
        Command::Man { out_dir } => cli::docs::manual(out_dir.as_deref()),
        Command::Healthcheck {
            url,
            listen,
            timeout,
        } => cli::docs::healthcheck(url, listen, timeout),
        Command::Import {
            source,
            posts,
            config,
        } => import(&source, &posts, config.as_deref()),
        Command::Stats {
            posts,
            days,
            today,
            format,
        } => cli::stats::stats(&posts, days, today, format == Format::Json),
        Command::Config { print_default } => print_config(print_default),
    };
    match result {
        Ok(code) => code,
        Err(e) if format == LogFormat::Json => {
            tracing::error!("{e:#}");
            ExitCode::FAILURE
        }
        Err(e) => {
            eprintln!("dropfeed: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// `dropfeed config --print-default`.
fn print_config(print_default: bool) -> Result<ExitCode> {
    if !print_default {
        anyhow::bail!("say what to do: dropfeed config --print-default");
    }
    print!("{}", dropfeed::config::ANNOTATED_DEFAULT);
    Ok(ExitCode::SUCCESS)
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

fn check(
    posts: &Path,
    config: Option<&Path>,
    format: Format,
    strict: bool,
    verbose: bool,
) -> Result<ExitCode> {
    let (config, library) = load(posts, config, None)?;
    let report = pipeline::check(&library, &config, SystemClock.now())?;
    let (errors, warnings) = (
        report.count_level(Level::Error),
        report.count_level(Level::Warning),
    );
    match format {
        Format::Json => println!("{}", serde_json::to_string_pretty(&report.diagnostics())?),
        Format::Text => {
            let colour = logging::colour_allowed(std::io::stdout().is_terminal());
            print!(
                "{}",
                dropfeed::status::render_text(&report, verbose, colour)
            );
            eprintln!(
                "{} post files: {} published, {} with errors, {warnings} warnings, {} notes{}",
                report.posts.len(),
                report.published,
                report.count(PostState::Failed),
                report.count_level(Level::Info),
                if verbose {
                    ""
                } else {
                    " (shown with --verbose)"
                },
            );
        }
    }
    Ok(match (errors > 0, warnings > 0, strict) {
        (true, _, _) => ExitCode::FAILURE,
        (false, true, true) => ExitCode::from(2),
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

fn import(source: &str, posts: &Path, config_path: Option<&Path>) -> Result<ExitCode> {
    let config = Config::discover(posts, config_path, None)?;
    let config_file = config_path.map(Path::to_path_buf).unwrap_or_else(|| {
        let parent = posts.parent().unwrap_or(Path::new("."));
        parent.join(dropfeed::config::CONFIG_FILE_NAME)
    });
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let report = runtime.block_on(dropfeed::import::run(source, posts, &config, &config_file))?;
    for line in report.lines(&config_file) {
        println!("{line}");
    }
    eprintln!("{}", report.summary());
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
        Inputs::gather(&library, &mut ledger, &config, now),
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
        "wrote {} resources and {} files beside posts for {} published posts to {}",
        built.snapshot.routes().len(),
        built.snapshot.files().len(),
        built.site.entries.len(),
        out.display()
    );
    Ok(ExitCode::SUCCESS)
}
