//! Commands about the command: the manual and shell completions (generated from the clap
//! definitions, so they never drift from the real flags), and `healthcheck`.

use std::net::SocketAddr;
use std::path::Path;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{Context, Result};
use clap::CommandFactory;

use crate::Cli;

/// A shell's completion script on stdout.
pub fn completions(shell: clap_complete::Shell) -> Result<ExitCode> {
    let mut command = Cli::command();
    clap_complete::generate(shell, &mut command, "dropfeed", &mut std::io::stdout());
    Ok(ExitCode::SUCCESS)
}

/// The manual page on stdout, or every command's page written into `out_dir`.
pub fn manual(out_dir: Option<&Path>) -> Result<ExitCode> {
    match out_dir {
        Some(dir) => clap_mangen::generate_to(Cli::command(), dir)
            .with_context(|| format!("writing manual pages into {}", dir.display()))?,
        None => clap_mangen::Man::new(Cli::command()).render(&mut std::io::stdout())?,
    }
    Ok(ExitCode::SUCCESS)
}

/// One health check; the reason for a failure on stderr (container engines keep it).
pub fn healthcheck(url: Option<String>, listen: SocketAddr, timeout: f64) -> Result<ExitCode> {
    let url = url.unwrap_or_else(|| dropfeed::healthcheck::default_url(listen));
    let timeout = Duration::try_from_secs_f64(timeout)
        .ok()
        .filter(|t| !t.is_zero())
        .context("--timeout must be a positive number of seconds")?;
    match dropfeed::healthcheck::check(&url, timeout) {
        Ok(()) => Ok(ExitCode::SUCCESS),
        Err(e) => {
            eprintln!("dropfeed healthcheck: {url}: {e}");
            Ok(ExitCode::FAILURE)
        }
    }
}
