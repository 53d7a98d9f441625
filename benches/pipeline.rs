//! Criterion benchmarks of the content pipeline over a generated corpus (`benches/corpus`),
//! written once into a temporary folder:
//!
//! - `parse/one_post`: `post::parse` of one ~600-word Markdown post.
//! - `snapshot/*`: a snapshot of one ~100 KB feed (`Snapshot::from_rendered`: every coding
//!   compressed, no previous snapshot), and each coding alone at the levels it uses.
//! - `build/{1k,10k}`: a cold start's work: `Library::scan` + `pipeline::build` with no
//!   previous snapshot (hot resources rendered and compressed). `build_stages/10k/*` times
//!   its parts: the scan (read and parse every file), the ids (ledger lookup and save), the
//!   site (order, tags, paging), and the rendering of the hot resources; compressing them
//!   is the rest.
//! - `incremental/10k/*`: one post's title rewritten, then `Library::refresh` of that path and
//!   a rebuild with the previous snapshot: `pipeline::build_for_serving` as the watcher does
//!   (changed resources published in identity; the encoder thread's pass that follows is
//!   not timed) for the newest post (in every subscription feed) and the oldest (in a full
//!   archive page only); `pipeline::build` (every coding ready) for the newest; and a
//!   rebuild with nothing changed.
//! - `cold/10k/*`: what a request for a cold route costs the first time: planning and
//!   rendering an archive page, and a post page.
//!
//! Run with `cargo bench --bench pipeline`; filter with `cargo bench --bench pipeline --
//! incremental`. Whole-site benchmarks run once first; one that takes longer than
//! `REPEAT_BUDGET` is reported from that single run instead of ten samples (set
//! `DROPFEED_BENCH_ALL=1` to repeat it anyway), so the suite stays within minutes.
//! `cargo test --benches` runs each once, as a smoke test, on 50- and 200-post corpora.

use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{DateTime, TimeZone, Utc};
use criterion::measurement::WallTime;
use criterion::{criterion_group, criterion_main, BenchmarkGroup, Criterion, SamplingMode};

use arc_swap::ArcSwap;
use dropfeed::config::{Config, RawConfig};
use dropfeed::encoder;
use dropfeed::ids::Ledger;
use dropfeed::load::{self, Library};
use dropfeed::pipeline::{self, Inputs};
use dropfeed::render::{self, Rendered};
use dropfeed::site::Site;
use dropfeed::snapshot::{self, Coding, SharedSnapshot, Snapshot};

#[path = "corpus/mod.rs"]
mod corpus;

/// A fixed "now" after every generated date, so every post is published and runs agree.
fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2040, 1, 1, 0, 0, 0)
        .single()
        .expect("a valid date")
}

fn config() -> Arc<Config> {
    Arc::new(Config::from_raw(RawConfig::default(), None).expect("the default config is valid"))
}

/// A generated corpus in a temporary folder, with its id ledger already written (a site
/// that has been served before), so timed builds do not include issuing 10,000 ids.
struct Corpus {
    _dir: tempfile::TempDir,
    posts: PathBuf,
    count: usize,
}

impl Corpus {
    fn new(count: usize) -> Corpus {
        let dir = tempfile::tempdir().expect("a temporary folder");
        let posts = dir.path().join("posts");
        corpus::write_corpus(&posts, count, corpus::DEFAULT_SEED).expect("writing the corpus");
        let corpus = Corpus {
            _dir: dir,
            posts,
            count,
        };
        let (library, config) = corpus.scan();
        corpus
            .ids(&library, &config)
            .save()
            .expect("writing the id ledger");
        corpus
    }

    fn scan(&self) -> (Library, Arc<Config>) {
        let config = config();
        let mut library = Library::new(&self.posts, &config);
        library.scan().expect("the corpus folder exists");
        (library, config)
    }

    /// The corpus's id ledger, with an id for every post of `library` (as a build issues them).
    fn ids(&self, library: &Library, config: &Config) -> Ledger {
        let mut ledger = Ledger::open(&self.posts);
        ledger.prepare(library, None, &config.id_authority, now());
        ledger
    }

    fn path(&self, index: usize) -> PathBuf {
        self.posts.join(corpus::file_name(index))
    }
}

fn parse_one(c: &mut Criterion) {
    let config = config();
    let ctx = load::parse_context(&config);
    let source = corpus::file_name(42);
    let text = corpus::post(42, corpus::DEFAULT_SEED);
    let display = Path::new("posts").join(&source);
    c.bench_function("parse/one_post", |b| {
        b.iter(|| dropfeed::post::parse(black_box(&source), &display, black_box(&text), &ctx))
    });
}

/// How long one run of a whole-site benchmark may take for criterion to repeat it (a warm-up
/// and ten samples); a slower one is timed once and reported, unless `DROPFEED_BENCH_ALL`
/// is set, so the whole suite stays within minutes on two cores.
const REPEAT_BUDGET: Duration = Duration::from_secs(15);

/// Runs `run` (which returns the time it measured) once; when that fits the budget, has
/// criterion measure it over ten flat samples, else prints the single time.
fn whole_site(
    group: &mut BenchmarkGroup<'_, WallTime>,
    label: &str,
    name: &str,
    mut run: impl FnMut() -> Duration,
) {
    if !wanted(&format!("{label}/{name}")) {
        return;
    }
    if smoke_test() {
        group.bench_function(name, |b| {
            b.iter_custom(|iters| (0..iters).map(|_| run()).sum())
        });
        return;
    }
    let once = run();
    if once > REPEAT_BUDGET && std::env::var_os("DROPFEED_BENCH_ALL").is_none() {
        println!(
            "{label}/{name}: one run took {:.2} s; not repeated (over {} s; set \
             DROPFEED_BENCH_ALL=1 to repeat it)",
            once.as_secs_f64(),
            REPEAT_BUDGET.as_secs()
        );
        return;
    }
    group.measurement_time((once * 12).max(Duration::from_secs(3)));
    group.bench_function(name, |b| {
        b.iter_custom(|iters| (0..iters).map(|_| run()).sum())
    });
}

/// Whether a benchmark id matches the filter given on the command line (criterion's filter
/// is a regex; this takes its `|` alternatives as substrings), so a filtered run skips the
/// untimed first runs of whole-site benchmarks it will not measure.
fn wanted(id: &str) -> bool {
    let filters: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with('-'))
        .collect();
    filters.is_empty()
        || filters
            .iter()
            .flat_map(|f| f.split('|'))
            .any(|f| id.contains(f))
}

/// True under `cargo test --benches`, where criterion runs each benchmark once as a test:
/// then the corpora are small and nothing runs outside criterion.
fn smoke_test() -> bool {
    !std::env::args().any(|a| a == "--bench")
}

/// Times one call, leaving the drop of its result out.
fn timed<R>(routine: impl FnOnce() -> R) -> Duration {
    let started = Instant::now();
    let result = black_box(routine());
    let elapsed = started.elapsed();
    drop(result);
    elapsed
}

fn group<'a>(c: &'a mut Criterion, name: &str) -> BenchmarkGroup<'a, WallTime> {
    let mut group = c.benchmark_group(name);
    group
        .sample_size(10)
        .sampling_mode(SamplingMode::Flat)
        .warm_up_time(Duration::from_millis(500));
    group
}

/// The site of a scanned library, as `pipeline::build` makes it.
fn site_of(corpus: &Corpus, library: &Library, config: &Arc<Config>) -> Site {
    let ids = corpus.ids(library, config);
    Site::build(Arc::clone(config), &library.posts(), &ids, now())
}

/// Returns the first 10k snapshot built, for [`incremental`] to start from.
fn build_sites(c: &mut Criterion, small: &Corpus, large: &Corpus) -> Option<Snapshot> {
    let mut first_large = None;
    let mut builds = group(c, "build");
    for (name, site) in [("1k", small), ("10k", large)] {
        whole_site(&mut builds, "build", name, || {
            let started = Instant::now();
            let (library, config) = site.scan();
            let mut ledger = Ledger::open(&site.posts);
            let inputs = Inputs::gather(&library, &mut ledger, &config, now());
            let built = pipeline::build(inputs, &config, now(), None).expect("builds");
            ledger.save().expect("writing the id ledger");
            let elapsed = started.elapsed();
            if site.count == large.count && first_large.is_none() {
                first_large = Some(built.snapshot);
            }
            elapsed
        });
    }
    builds.finish();

    let mut stages = group(c, "build_stages/10k");
    whole_site(&mut stages, "build_stages/10k", "scan", || {
        timed(|| large.scan())
    });
    let (library, config) = large.scan();
    whole_site(&mut stages, "build_stages/10k", "ids", || {
        timed(|| large.ids(&library, &config))
    });
    let posts = library.posts();
    let ids = large.ids(&library, &config);
    whole_site(&mut stages, "build_stages/10k", "site", || {
        timed(|| Site::build(Arc::clone(&config), &posts, &ids, now()))
    });
    let site = site_of(large, &library, &config);
    whole_site(&mut stages, "build_stages/10k", "render_hot", || {
        timed(|| {
            render::plan_hot(&site)
                .iter()
                .map(|planned| render::render(&site, planned).expect("renders"))
                .collect::<Vec<_>>()
        })
    });
    stages.finish();
    first_large
}

/// How a change is published.
#[derive(Debug, Clone, Copy)]
enum Publish {
    /// As the server does: changed resources in identity (timed), then compressed by the
    /// encoder's pass (not timed).
    Serving,
    /// Every coding compressed before the snapshot is returned (timed).
    Encoded,
}

/// Rewrites the title of post `index` (to one of two spellings, alternating, so every
/// rewrite is a change from the previous state), returning the time to refresh and rebuild.
fn change_and_rebuild(
    site: &Corpus,
    (library, ledger): (&mut Library, &mut Ledger),
    config: &Arc<Config>,
    previous: &mut Arc<Snapshot>,
    (index, round): (usize, u64),
    publish: Publish,
) -> Duration {
    let path = site.path(index);
    let original = corpus::post(index, corpus::DEFAULT_SEED);
    let text = original.replacen("title: \"", &format!("title: \"Edited {} ", round % 2), 1);
    std::fs::write(&path, text).expect("rewriting a post");
    let started = Instant::now();
    let changes = library.refresh(&[path]).expect("the corpus folder exists");
    let inputs = Inputs::gather_changed(library, ledger, config, &changes.changed, now());
    let built = match publish {
        Publish::Serving => {
            pipeline::build_for_serving(inputs, config, now(), Some(previous), &changes, started)
        }
        Publish::Encoded => pipeline::build(inputs, config, now(), Some(previous)),
    }
    .expect("builds");
    let elapsed = started.elapsed();
    let shared: SharedSnapshot = Arc::new(ArcSwap::from_pointee(built.snapshot));
    encoder::encode_pending(&shared);
    *previous = shared.load_full();
    elapsed
}

fn incremental(c: &mut Criterion, large: &Corpus, first: Option<Snapshot>) {
    let cases = [
        ("newest_post", large.count - 1, Publish::Serving),
        ("oldest_post", 0, Publish::Serving),
        ("newest_post_all_codings", large.count - 1, Publish::Encoded),
    ];
    let any = cases
        .iter()
        .map(|case| case.0)
        .chain(["nothing_changed"])
        .any(|name| wanted(&format!("incremental/10k/{name}")));
    if !any {
        return;
    }
    let (mut library, config) = large.scan();
    let mut ledger = Ledger::open(&large.posts);
    let build = |library: &Library, ledger: &mut Ledger, previous: Option<&Snapshot>| {
        let inputs = Inputs::gather(library, ledger, &config, now());
        pipeline::build(inputs, &config, now(), previous).expect("builds")
    };
    let mut previous =
        Arc::new(first.unwrap_or_else(|| build(&library, &mut ledger, None).snapshot));
    let mut group = group(c, "incremental/10k");
    let mut round = 0;
    for (name, index, publish) in cases {
        whole_site(&mut group, "incremental/10k", name, || {
            round += 1;
            let at = (index, round);
            let state = (&mut library, &mut ledger);
            change_and_rebuild(large, state, &config, &mut previous, at, publish)
        });
        // Leave the corpus as generated for what follows.
        std::fs::write(large.path(index), corpus::post(index, corpus::DEFAULT_SEED))
            .expect("restoring a post");
        library.refresh(&[large.path(index)]);
        previous = Arc::new(build(&library, &mut ledger, Some(&previous)).snapshot);
    }
    whole_site(&mut group, "incremental/10k", "nothing_changed", || {
        timed(|| build(&library, &mut ledger, Some(&previous)))
    });
    group.finish();
}

/// First requests for cold routes: rendered on request, then kept in a bounded cache.
fn cold_routes(c: &mut Criterion, large: &Corpus) {
    let (library, config) = large.scan();
    let site = site_of(large, &library, &config);
    let post_page = site.entries[site.entries.len() / 2].page_path().to_string();
    let mut group = c.benchmark_group("cold/10k");
    group.sample_size(20);
    for (name, route) in [
        ("archive_page", "archive/1/feed.xml".to_string()),
        ("post_page", post_page),
    ] {
        group.bench_function(name, |b| {
            b.iter(|| {
                let planned = render::plan_cold(&site, &route).expect("a cold route");
                render::render(&site, &planned).expect("renders")
            })
        });
    }
    group.finish();
}

/// The site's `/feed.xml` (20 full entries), about 100 KB.
fn big_feed(corpus: &Corpus) -> Rendered {
    let (library, config) = corpus.scan();
    let site = site_of(corpus, &library, &config);
    let planned = render::plan_hot(&site)
        .into_iter()
        .find(|p| p.route == "feed.xml")
        .expect("a site has /feed.xml");
    render::render(&site, &planned).expect("renders")
}

fn encoding(c: &mut Criterion, small: &Corpus) {
    let feed = big_feed(small);
    let config = config();
    let mut group = c.benchmark_group(format!("snapshot/feed_{}KB", feed.body.len() / 1024));
    group.sample_size(20);
    group.bench_function("all_codings", |b| {
        b.iter(|| Snapshot::from_rendered(vec![feed.clone()], &config.cache))
    });
    for coding in [Coding::Gzip, Coding::Br, Coding::Zstd] {
        group.bench_function(coding.token(), |b| {
            b.iter(|| snapshot::compress(coding, black_box(&feed.body)))
        });
    }
    group.finish();
}

fn benches(c: &mut Criterion) {
    parse_one(c);
    let (small, large) = if smoke_test() {
        (50, 200)
    } else {
        (1_000, 10_000)
    };
    let small = Corpus::new(small);
    encoding(c, &small);
    let large = Corpus::new(large);
    let first = build_sites(c, &small, &large);
    incremental(c, &large, first);
    cold_routes(c, &large);
}

criterion_group!(pipeline_benches, benches);
criterion_main!(pipeline_benches);
