//! The access log (`[log] access`): one line per request, in the Common Log Format, the
//! combined format (plus `Referer` and `User-Agent`) or JSON, to stderr or a file.
//!
//! Rules this module follows:
//!
//! - The request path pays for no formatting, no I/O and no lock: it hands a [`Record`]
//!   (a few copied numbers, and reference-counted handles to the request's path and
//!   headers, which hyper already holds) to a bounded lock-free channel. A thread of its
//!   own formats and writes; whatever queued meanwhile goes out in one write.
//! - A full channel (the disk cannot keep up) drops the line rather than slow a reader
//!   down; `/metrics` counts the lines dropped (`dropfeed_access_log_dropped_total`).
//! - Text formats escape every byte outside printable ASCII, and `"` and `\`, as `\xHH`
//!   (as nginx does), so a header cannot forge or split a line. JSON is JSON-escaped.
//! - A file is appended to, and opened again when log rotation renamed or removed it
//!   (looked at once a second at most), so `logrotate` needs no signal.
//! - On stderr, a batch is written under stderr's lock: it never splits the other logs'
//!   lines, nor they its own.

mod format;

use std::fs::File;
use std::io::{self, Write};
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::sync::mpsc::{self, Receiver, SyncSender, TrySendError};
use std::time::{Duration, Instant, SystemTime};

use hyper::header::{HeaderValue, REFERER, USER_AGENT};
use hyper::http::uri::PathAndQuery;
use hyper::{Method, Request, Version};

use crate::config::{AccessFormat, LogConfig};

/// Lines that may wait for the writer: the channel's slots are allocated once (about
/// 0.5 MB), so queueing a line allocates nothing.
const QUEUE: usize = 2048;
/// How often a log file's path is looked at for rotation.
const ROTATION_CHECK: Duration = Duration::from_secs(1);

/// One request as the access log tells it. Cloning the path and headers only counts a
/// reference: their bytes stay where hyper read them.
#[derive(Debug, Clone)]
pub struct Record {
    /// When the answer was ready.
    pub at: SystemTime,
    /// The client's address.
    pub peer: IpAddr,
    /// The request method.
    pub method: Method,
    /// Path and query as requested.
    pub target: Option<PathAndQuery>,
    /// HTTP version.
    pub version: Version,
    /// Response status.
    pub status: u16,
    /// Body bytes sent.
    pub bytes: u64,
    /// Time taken to answer.
    pub took: Duration,
    /// The `Referer` header.
    pub referer: Option<HeaderValue>,
    /// The `User-Agent` header.
    pub user_agent: Option<HeaderValue>,
}

impl Record {
    /// The record of a request answered with `status` and a body of `bytes`.
    pub fn of<B>(
        request: &Request<B>,
        peer: IpAddr,
        status: u16,
        bytes: u64,
        took: Duration,
    ) -> Record {
        let headers = request.headers();
        Record {
            at: SystemTime::now(),
            peer,
            method: request.method().clone(),
            target: request.uri().path_and_query().cloned(),
            version: request.version(),
            status,
            bytes,
            took,
            referer: headers.get(REFERER).cloned(),
            user_agent: headers.get(USER_AGENT).cloned(),
        }
    }
}

/// What the writer thread is handed. A record is not boxed: that would allocate per request.
#[allow(clippy::large_enum_variant)]
enum Entry {
    Request(Record),
    /// Write everything before this, then answer.
    Flush(mpsc::Sender<()>),
}

/// A running access log; lines are written by its own thread.
#[derive(Debug)]
pub struct AccessLog {
    sender: SyncSender<Entry>,
}

impl AccessLog {
    /// Starts the writer when `[log] access` is on; `None` when it is off. Fails when the
    /// file cannot be opened for appending, naming it.
    pub fn start(config: &LogConfig) -> io::Result<Option<AccessLog>> {
        let format = config.access;
        if format == AccessFormat::Off {
            return Ok(None);
        }
        let sink = match &config.access_file {
            Some(path) => Sink::file(path)?,
            None => Sink::Stderr,
        };
        let (sender, receiver) = mpsc::sync_channel(QUEUE);
        std::thread::Builder::new()
            .name("dropfeed-access-log".into())
            .spawn(move || write_lines(receiver, format, sink))?;
        Ok(Some(AccessLog { sender }))
    }

    /// Queues a line; false when it was dropped because the writer is behind.
    pub fn record(&self, record: Record) -> bool {
        match self.sender.try_send(Entry::Request(record)) {
            Ok(()) => true,
            Err(TrySendError::Full(_)) => false,
            // The writer is gone (it cannot write): nothing more to lose.
            Err(TrySendError::Disconnected(_)) => true,
        }
    }

    /// Waits until every line queued so far is written, for at most `wait` (at shutdown).
    pub fn flush(&self, wait: Duration) {
        let (done, written) = mpsc::channel();
        let queued = self.sender.send(Entry::Flush(done));
        if queued.is_ok() {
            let _ = written.recv_timeout(wait);
        }
    }
}

/// The writer thread: takes what is queued, formats it, writes it in one go.
fn write_lines(receiver: Receiver<Entry>, format: AccessFormat, mut sink: Sink) {
    let mut batch = Vec::with_capacity(64 * 1024);
    let mut waiting = Vec::new();
    while let Ok(first) = receiver.recv() {
        let mut next = Some(first);
        while let Some(entry) = next.take() {
            match entry {
                Entry::Request(record) => format::line(&mut batch, &record, format),
                Entry::Flush(done) => waiting.push(done),
            }
            if batch.len() < 60 * 1024 {
                next = receiver.try_recv().ok();
            }
        }
        if let Err(e) = sink.write(&batch) {
            tracing::error!("cannot write the access log: {e}");
        }
        batch.clear();
        for done in waiting.drain(..) {
            let _ = done.send(());
        }
    }
}

/// Where lines go.
enum Sink {
    Stderr,
    File {
        path: PathBuf,
        file: File,
        identity: Option<(u64, u64)>,
        checked: Instant,
    },
}

impl Sink {
    fn file(path: &Path) -> io::Result<Sink> {
        let file = open_append(path)?;
        Ok(Sink::File {
            path: path.to_path_buf(),
            identity: identity_of(&file.metadata()?),
            file,
            checked: Instant::now(),
        })
    }

    fn write(&mut self, bytes: &[u8]) -> io::Result<()> {
        match self {
            Sink::Stderr => std::io::stderr().lock().write_all(bytes),
            Sink::File {
                path,
                file,
                identity,
                checked,
            } => {
                if checked.elapsed() >= ROTATION_CHECK {
                    *checked = Instant::now();
                    let now = std::fs::metadata(&*path).ok().and_then(|m| identity_of(&m));
                    if now.is_none() || now != *identity {
                        *file = open_append(path)?;
                        *identity = identity_of(&file.metadata()?);
                    }
                }
                file.write_all(bytes)
            }
        }
    }
}

fn open_append(path: &Path) -> io::Result<File> {
    File::options()
        .create(true)
        .append(true)
        .open(path)
        .map_err(|e| io::Error::new(e.kind(), format!("access log {}: {e}", path.display())))
}

/// Device and inode: what tells that a path now names another file.
#[cfg(unix)]
fn identity_of(meta: &std::fs::Metadata) -> Option<(u64, u64)> {
    use std::os::unix::fs::MetadataExt;
    Some((meta.dev(), meta.ino()))
}

#[cfg(not(unix))]
fn identity_of(_meta: &std::fs::Metadata) -> Option<(u64, u64)> {
    None
}
