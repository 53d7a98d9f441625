//! A large file beside a post streams from disk in bounded memory: the real `dropfeed`
//! binary serves a 200 MB episode to 50 clients at once (loopback, each reading it whole),
//! and its resident memory (`VmRSS` in `/proc/<pid>/status`, sampled every 20 ms) may grow
//! by no more than [`BOUND_MB`] over what it held before the downloads. The measured
//! numbers are printed. Linux only (it reads `/proc`).

#![cfg(target_os = "linux")]

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// The episode's size.
const FILE_BYTES: u64 = 200 * 1024 * 1024;
/// Clients downloading it at once.
const CLIENTS: usize = 50;
/// The most resident memory may grow while they do: a generous bound for "a few MB" (each
/// download holds one 64 KiB chunk at a time; 50 whole copies would be 10 GB).
const BOUND_MB: u64 = 32;
/// How long the downloads may take at most before the test gives up.
const LIMIT: Duration = Duration::from_secs(120);

/// The server process, killed (by its own pid) when the test ends, however it ends.
struct Served(Child);

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Resident memory of a process, in KiB.
fn rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
        .unwrap_or(0)
}

/// Starts `dropfeed serve` on 127.0.0.1:0 and returns it with the address it printed.
fn start(posts: &std::path::Path) -> (Served, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_dropfeed"))
        .args([
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--admin-listen",
            "off",
            "--posts",
        ])
        .arg(posts)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("dropfeed serve starts");
    let stderr = child.stderr.take().expect("its stderr");
    let served = Served(child);
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if let Some(at) = line.find("on http://") {
                // `… on http://127.0.0.1:PORT/ posts=…`: the address ends at its slash.
                let rest = &line[at + 10..];
                let addr = rest.split('/').next().unwrap_or(rest).to_string();
                let _ = tx.send(addr);
            }
        }
    });
    let addr = rx
        .recv_timeout(Duration::from_secs(60))
        .expect("the server says where it listens");
    (served, addr)
}

/// Downloads `path` whole over a raw HTTP/1.1 connection; returns the body bytes read.
async fn download(addr: &str, path: &str) -> u64 {
    let mut stream = TcpStream::connect(addr).await.expect("connect");
    let request = format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).await.expect("send");
    let mut buffer = vec![0u8; 256 * 1024];
    let mut head = Vec::new();
    let mut body = 0u64;
    loop {
        let n = stream.read(&mut buffer).await.expect("read");
        if n == 0 {
            return body;
        }
        if body == 0 && !head.ends_with(b"\r\n\r\n") {
            head.extend_from_slice(&buffer[..n]);
            if let Some(end) = head.windows(4).position(|w| w == b"\r\n\r\n") {
                assert!(
                    head.starts_with(b"HTTP/1.1 200"),
                    "{}",
                    String::from_utf8_lossy(&head)
                );
                body = (head.len() - end - 4) as u64;
                head.truncate(end + 4);
            }
        } else {
            body += n as u64;
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fifty_clients_downloading_a_200_mb_file_keep_memory_bounded() {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let posts = dir.path().join("posts");
    std::fs::create_dir_all(&posts).expect("the posts folder");
    let episode = std::fs::File::create(posts.join("episode.mp3")).expect("the episode");
    episode.set_len(FILE_BYTES).expect("a 200 MB (sparse) file");
    let post = format!("---\ntitle: Big\ndate: 2024-01-01\nenclosure: {{url: episode.mp3, type: audio/mpeg, length: {FILE_BYTES}}}\n---\n\nA long episode.\n");
    std::fs::write(posts.join("big.md"), post).expect("the post");
    let started = Instant::now();
    let (server, addr) = start(&posts);
    let pid = server.0.id();
    eprintln!("server up in {:?} (the episode hashed)", started.elapsed());
    // One download first, so what every request costs once (pools, buffers) is in the baseline.
    assert_eq!(download(&addr, "/files/episode.mp3").await, FILE_BYTES);
    let baseline = rss_kib(pid);
    let peak = Arc::new(AtomicU64::new(baseline));
    let done = Arc::new(AtomicBool::new(false));
    let sampler = {
        let (peak, done) = (Arc::clone(&peak), Arc::clone(&done));
        std::thread::spawn(move || {
            while !done.load(Ordering::Relaxed) {
                peak.fetch_max(rss_kib(pid), Ordering::Relaxed);
                std::thread::sleep(Duration::from_millis(20));
            }
        })
    };
    let began = Instant::now();
    let clients: Vec<_> = (0..CLIENTS)
        .map(|_| {
            let addr = addr.clone();
            tokio::spawn(async move { download(&addr, "/files/episode.mp3").await })
        })
        .collect();
    let all = tokio::time::timeout(LIMIT, futures_join(clients)).await;
    done.store(true, Ordering::Relaxed);
    sampler.join().expect("the sampler");
    let sizes = all.unwrap_or_else(|_| panic!("the downloads took over {LIMIT:?}"));
    let took = began.elapsed();
    let peak = peak.load(Ordering::Relaxed);
    let growth = peak.saturating_sub(baseline);
    eprintln!(
        "{CLIENTS} clients × {} MB in {took:?} ({:.0} MB/s): VmRSS {} KiB before, peak {} KiB, growth {} KiB (bound {BOUND_MB} MB)",
        FILE_BYTES >> 20,
        (CLIENTS as u64 * FILE_BYTES) as f64 / took.as_secs_f64() / 1e6,
        baseline,
        peak,
        growth
    );
    assert!(
        sizes.iter().all(|&n| n == FILE_BYTES),
        "every client got the whole file: {sizes:?}"
    );
    assert!(
        growth < BOUND_MB * 1024,
        "resident memory grew by {growth} KiB"
    );
    drop(server);
}

/// Waits for every task, in order.
async fn futures_join(tasks: Vec<tokio::task::JoinHandle<u64>>) -> Vec<u64> {
    let mut out = Vec::new();
    for task in tasks {
        out.push(task.await.expect("a download task"));
    }
    out
}
