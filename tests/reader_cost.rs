//! What counting readers costs a request (issue 16 §1: "no allocation it does not already
//! make"), measured without timing: allocations are counted by a global allocator while a
//! keep-alive client revalidates `/atom.xml` (`304`, the poll aggregators make most) on two
//! servers over the same snapshot, one counting readers and one not. The counting one may
//! allocate no more per request, its counting thread included.

mod common;

use std::alloc::{GlobalAlloc, Layout, System};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use arc_swap::ArcSwap;
use dropfeed::config::{Config, ReadersConfig};
use dropfeed::metrics::Metrics;
use dropfeed::readers::Readers;
use dropfeed::serve;
use dropfeed::snapshot::SharedSnapshot;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// Counts every allocation and reallocation of the process.
struct CountingAllocator;

static ALLOCATIONS: AtomicU64 = AtomicU64::new(0);

// SAFETY: every call is passed on to the system allocator unchanged; only a counter is added.
unsafe impl GlobalAlloc for CountingAllocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: CountingAllocator = CountingAllocator;

/// Requests measured per server, after as many to warm up.
const REQUESTS: u64 = 300;

/// Serves `snapshot` on a new loopback listener, counting readers when `counting`.
async fn serve(snapshot: &SharedSnapshot, readers: Option<Arc<Readers>>) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    let config = Config::parse(std::path::Path::new("t.toml"), "", None).expect("config");
    let server = serve::run(
        listener,
        Arc::clone(snapshot),
        Arc::new(Metrics::default()),
        config.server,
        None,
        readers,
        std::future::pending(),
    );
    tokio::spawn(server);
    addr
}

/// Sends one request and reads its answer (a `304`: a head, no body) into `buffer`.
async fn revalidate(stream: &mut TcpStream, request: &[u8], buffer: &mut [u8]) {
    stream.write_all(request).await.expect("write");
    let mut read = 0;
    while !buffer[..read].windows(4).any(|w| w == b"\r\n\r\n") {
        let n = stream.read(&mut buffer[read..]).await.expect("read");
        assert!(n > 0, "connection closed");
        read += n;
    }
    assert!(
        buffer.starts_with(b"HTTP/1.1 304"),
        "{}",
        String::from_utf8_lossy(&buffer[..read])
    );
}

/// Allocations per revalidation of `/atom.xml` on the server at `addr`.
async fn allocations_per_request(addr: SocketAddr, etag: &str) -> f64 {
    let request = format!(
        "GET /atom.xml HTTP/1.1\r\nHost: x\r\nUser-Agent: NetNewsWire (RSS Reader)\r\nIf-None-Match: {etag}\r\n\r\n"
    );
    let mut stream = TcpStream::connect(addr).await.expect("connect");
    let mut buffer = vec![0u8; 8192];
    for _ in 0..REQUESTS {
        revalidate(&mut stream, request.as_bytes(), &mut buffer).await;
    }
    // Lets the counting thread finish with the warm-up hits.
    tokio::time::sleep(Duration::from_millis(200)).await;
    let before = ALLOCATIONS.load(Ordering::Relaxed);
    for _ in 0..REQUESTS {
        revalidate(&mut stream, request.as_bytes(), &mut buffer).await;
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    let after = ALLOCATIONS.load(Ordering::Relaxed);
    (after - before) as f64 / REQUESTS as f64
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn counting_readers_adds_no_allocation_to_a_304() {
    let (_dir, posts) = common::feeds::copy_posts(&common::feeds::sample_posts());
    let built = common::feeds::build(&posts, "", common::feeds::fixed_now());
    let etag = built
        .snapshot
        .get("atom.xml")
        .map(|r| format!("\"{}\"", r.hash))
        .expect("an Atom feed");
    let snapshot: SharedSnapshot = Arc::new(ArcSwap::from_pointee(built.snapshot));
    let now = Box::new(chrono::Utc::now);
    let readers = Readers::start(&posts, &ReadersConfig::default(), now).expect("readers");
    let readers = Arc::new(readers);
    let plain = serve(&snapshot, None).await;
    let counted = serve(&snapshot, Some(Arc::clone(&readers))).await;
    let without = allocations_per_request(plain, &etag).await;
    let with = allocations_per_request(counted, &etag).await;
    eprintln!("allocations per 304: {without:.2} without counting, {with:.2} with counting");
    assert!(
        with <= without + 0.05,
        "counting allocates: {with:.2} per request against {without:.2}"
    );
    assert_eq!(readers.dropped(), 0);
    let report = readers.report(Duration::from_secs(5)).expect("a report");
    let atom = report.feeds.iter().find(|f| f.feed == "/atom.xml");
    assert_eq!(
        atom.map(|f| f.direct),
        Some(1),
        "the polls were counted: {report:?}"
    );
}
