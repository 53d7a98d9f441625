//! One connection's activity: requests begun and answered, response bytes written, and when
//! it was last of use, kept in a few relaxed atomics (one clock read per request), from which
//! its deadlines are judged:
//!
//! - It must show its protocol and begin its first request within `header_timeout`.
//! - HTTP/1: after a response, the next request must begin within `header_timeout`. A head
//!   trickled byte by byte is no progress: only requests begun and answered, and response
//!   bytes written, are.
//! - HTTP/2: closed once no request has begun or been answered for `idle_timeout`. PINGs,
//!   SETTINGS and other control frames are not use.

use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use tokio::net::TcpStream;
use tokio::sync::{watch, Notify};

use super::{Close, Deadlines};

/// What one connection has been doing: requests begun and answered, response bytes written,
/// and when it was last of use.
#[derive(Debug)]
pub struct Conn {
    pub(super) id: u64,
    epoch: Instant,
    /// Milliseconds from `epoch` to the connection's opening, its last answered request, or
    /// its last write that had waited on the client; the idlest connection has the smallest.
    pub(super) last: AtomicU64,
    /// Requests begun + requests answered + (HTTP/1) writes done; only its changes matter.
    events: AtomicU64,
    /// Requests being answered, plus [`STALLED`] while a write waits for the client to read.
    busy: AtomicU64,
    /// Told to close to make room for a new connection.
    pub(super) evict: Notify,
}

/// Whether a write waits on the client, kept in the `busy` count's high bits so a stalled
/// write and a request in flight never mask each other.
const STALLED: u64 = 1 << 32;

impl Conn {
    pub(super) fn new(id: u64, epoch: Instant) -> Conn {
        let conn = Conn {
            id,
            epoch,
            last: AtomicU64::new(0),
            events: AtomicU64::new(0),
            busy: AtomicU64::new(0),
            evict: Notify::new(),
        };
        conn.stamp();
        conn
    }

    /// A request begins.
    pub fn begin(&self) {
        self.events.fetch_add(1, Ordering::Relaxed);
        self.busy.fetch_add(1, Ordering::Relaxed);
    }

    /// A request is answered (its response handed to hyper).
    pub fn end(&self) {
        self.stamp();
        self.events.fetch_add(1, Ordering::Relaxed);
        self.busy.fetch_sub(1, Ordering::Relaxed);
    }

    /// A long response made progress (a chunk of a file was sent): the connection is in use,
    /// so neither idle nor the first to be evicted.
    pub fn progress(&self) {
        self.stamp();
        self.events.fetch_add(1, Ordering::Relaxed);
    }

    fn stamp(&self) {
        let now = self.epoch.elapsed().as_millis() as u64;
        self.last.store(now, Ordering::Relaxed);
    }

    fn last_use(&self) -> tokio::time::Instant {
        let last = Duration::from_millis(self.last.load(Ordering::Relaxed));
        tokio::time::Instant::from_std(self.epoch + last)
    }

    /// Whether closing it loses no request being answered (a write stalled on its client
    /// may be lost: that client is not reading).
    pub(super) fn evictable(&self) -> bool {
        self.busy.load(Ordering::Relaxed) & (STALLED - 1) == 0
    }

    /// Resolves once the connection shows which protocol it speaks (`Some(true)` for
    /// HTTP/2), or `None` if it must be closed first: it took longer than `within`, another
    /// connection needed its slot, or the server is stopping.
    pub async fn protocol(
        &self,
        stream: &TcpStream,
        within: Duration,
        stopping: &mut watch::Receiver<bool>,
    ) -> Option<bool> {
        tokio::select! {
            http2 = protocol_known(stream) => Some(http2),
            () = tokio::time::sleep(within) => None,
            () = self.evict.notified() => None,
            () = stopped(stopping) => None,
        }
    }

    /// Resolves when the connection must close, and why. `http2` picks its deadlines.
    pub async fn until_close(
        &self,
        deadlines: Deadlines,
        http2: bool,
        stopping: &mut watch::Receiver<bool>,
    ) -> Close {
        let between = if http2 {
            deadlines.idle
        } else {
            deadlines.header
        };
        tokio::select! {
            () = self.idle(deadlines.header, between) => Close::Idle,
            () = self.evict.notified() => Close::Evicted,
            () = stopped(stopping) => Close::Shutdown,
        }
    }

    /// Resolves once the connection began no request within `first` of opening, or none
    /// within `between` of its last use, with nothing in progress.
    ///
    /// One timer, re-armed to the last use plus `between` whenever something happened
    /// meanwhile; a request being answered or a write stalled on the client postpones it.
    async fn idle(&self, first: Duration, between: Duration) {
        let mut seen = self.events.load(Ordering::Relaxed);
        let mut deadline = self.last_use() + first;
        loop {
            tokio::time::sleep_until(deadline).await;
            let events = self.events.load(Ordering::Relaxed);
            if events == seen && self.busy.load(Ordering::Relaxed) == 0 {
                return;
            }
            seen = events;
            let now = tokio::time::Instant::now();
            let next = self.last_use() + between;
            // Busy, or progress with no newer stamp (writes): a whole period more.
            deadline = if next > now { next } else { now + between };
        }
    }
}

/// Resolves once the server starts shutting down (or is gone).
async fn stopped(stopping: &mut watch::Receiver<bool>) {
    let _ = stopping.wait_for(|stop| *stop).await;
}

/// Resolves once the first bytes show which protocol the client speaks: a whole HTTP/2
/// preface (`true`), or anything that departs from it (HTTP/1), or the connection closing.
async fn protocol_known(stream: &TcpStream) -> bool {
    const PREFACE: &[u8] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
    let mut buffer = [0u8; 24];
    loop {
        match stream.peek(&mut buffer).await {
            Ok(0) | Err(_) => return false,
            Ok(n) if n >= PREFACE.len() => return buffer[..] == *PREFACE,
            Ok(n) if buffer[..n] != PREFACE[..n] => return false,
            Ok(_) => tokio::time::sleep(Duration::from_millis(5)).await,
        }
    }
}

/// A connection's stream. Over HTTP/1, notes writes (progress) and writes stalled on the
/// client (work in progress) in its [`Conn`]; over HTTP/2 writes are not noted, since the
/// server's own PINGs and their acknowledgements are writes too.
pub struct Tracked {
    stream: TcpStream,
    conn: Arc<Conn>,
    note_writes: bool,
}

impl Tracked {
    /// `stream` of `conn`; writes are noted for HTTP/1 only.
    pub fn new(stream: TcpStream, conn: Arc<Conn>, http2: bool) -> Tracked {
        Tracked {
            stream,
            conn,
            note_writes: !http2,
        }
    }

    fn note<T>(&mut self, result: Poll<std::io::Result<T>>) -> Poll<std::io::Result<T>> {
        if !self.note_writes {
            return result;
        }
        let conn = &self.conn;
        let stalled = conn.busy.load(Ordering::Relaxed) & STALLED != 0;
        match (&result, stalled) {
            (Poll::Pending, false) => {
                conn.busy.fetch_add(STALLED, Ordering::Relaxed);
            }
            (Poll::Ready(_), true) => {
                conn.busy.fetch_sub(STALLED, Ordering::Relaxed);
                conn.stamp();
            }
            _ => {}
        }
        if let Poll::Ready(Ok(_)) = result {
            conn.events.fetch_add(1, Ordering::Relaxed);
        }
        result
    }
}

impl tokio::io::AsyncRead for Tracked {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut tokio::io::ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.stream).poll_read(cx, buf)
    }
}

impl tokio::io::AsyncWrite for Tracked {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        let result = Pin::new(&mut self.stream).poll_write(cx, buf);
        self.note(result)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        let result = Pin::new(&mut self.stream).poll_write_vectored(cx, bufs);
        self.note(result)
    }

    fn is_write_vectored(&self) -> bool {
        self.stream.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.stream).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.stream).poll_shutdown(cx)
    }
}
