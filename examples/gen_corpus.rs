//! Writes a deterministic corpus of Markdown posts for benchmarks:
//!
//! ```sh
//! cargo run --release --example gen_corpus -- --posts 10000 --out /tmp/corpus [--seed 7]
//! ```
//!
//! The same `--posts` and `--seed` give byte-identical files (`post-00000.md`, …). The
//! generator lives in `benches/corpus/mod.rs`, shared with `benches/pipeline.rs`.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;

#[path = "../benches/corpus/mod.rs"]
mod corpus;

/// Writes N generated posts into a folder.
#[derive(Debug, Parser)]
struct Args {
    /// How many posts to write.
    #[arg(long)]
    posts: usize,
    /// Folder to write them into (created if missing; same-named files are replaced).
    #[arg(long)]
    out: PathBuf,
    /// Seed of the pseudo-random text.
    #[arg(long, default_value_t = corpus::DEFAULT_SEED)]
    seed: u64,
}

fn main() -> ExitCode {
    let args = Args::parse();
    let started = std::time::Instant::now();
    match corpus::write_corpus(&args.out, args.posts, args.seed) {
        Ok(bytes) => {
            eprintln!(
                "wrote {} posts ({:.1} MB) to {} in {:.2} s",
                args.posts,
                bytes as f64 / 1e6,
                args.out.display(),
                started.elapsed().as_secs_f64()
            );
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("gen_corpus: writing {}: {e}", args.out.display());
            ExitCode::FAILURE
        }
    }
}
