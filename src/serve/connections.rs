//! Connection slots and deadlines: what keeps idle, slow or chatty connections from shutting
//! new clients out.
//!
//! - Every connection must show its protocol and begin its first request within
//!   `header_timeout`, over HTTP/1 and HTTP/2 alike.
//! - HTTP/1: after a response, the next request must begin within `header_timeout`. A head
//!   trickled byte by byte is no progress: only requests begun and answered, and response
//!   bytes written, are.
//! - HTTP/2: closed once no request has begun or been answered for `idle_timeout`. PINGs,
//!   SETTINGS and other control frames are not use: a client answering pings forever still
//!   holds its slot for nothing.
//! - At `max_connections`, a new connection makes room by closing the one idle longest (no
//!   request being answered, whatever else it does). Only when every connection is in the
//!   middle of answering a request does the new one wait. An idle keep-alive client that
//!   loses its connection this way simply connects again, as after a keep-alive timeout.
//!
//! The bookkeeping per request is a few relaxed atomic operations and one clock read; the
//! registry of connections is locked only when a connection opens or closes, and scanned only
//! when the server is full.

use std::collections::HashMap;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use tokio::net::TcpStream;
use tokio::sync::{watch, Notify};

use crate::metrics::{Closed, Metrics};

/// How often a new connection looks again for room when every connection is mid-request
/// (a request being answered does not announce its end).
const RECHECK: Duration = Duration::from_millis(10);

/// How long an evicted connection gets to finish a request that began as it was chosen, or
/// (HTTP/2) what it had queued: short, because it no longer counts against the cap but still
/// holds a socket.
const EVICTED_GRACE: Duration = Duration::from_secs(1);

/// Every open connection, bounded by `max_connections`.
#[derive(Debug)]
pub struct Slots {
    max: usize,
    /// What connection times are counted from.
    epoch: Instant,
    /// A plain mutex: locked when a connection opens or closes (and the scan for the idlest
    /// when full), never per request.
    live: Mutex<HashMap<u64, Arc<Conn>>>,
    next_id: AtomicU64,
    /// Signalled when a connection leaves, for an admission waiting for room.
    freed: Notify,
    metrics: Arc<Metrics>,
}

impl Slots {
    /// Room for `max` connections.
    pub fn new(max: usize, metrics: Arc<Metrics>) -> Slots {
        Slots {
            max: max.max(1),
            epoch: Instant::now(),
            live: Mutex::new(HashMap::new()),
            next_id: AtomicU64::new(0),
            freed: Notify::new(),
            metrics,
        }
    }

    /// A slot for a new connection: a free one, or the one of the connection idle longest,
    /// which is told to close. Waits while every connection is answering a request.
    pub async fn admit(self: &Arc<Self>) -> Slot {
        loop {
            if let Some(conn) = self.try_admit() {
                self.metrics.connection_opened();
                return Slot {
                    slots: Arc::clone(self),
                    conn,
                };
            }
            tokio::select! {
                () = self.freed.notified() => {}
                () = tokio::time::sleep(RECHECK) => {}
            }
        }
    }

    fn try_admit(&self) -> Option<Arc<Conn>> {
        let mut live = self.live.lock().unwrap_or_else(|p| p.into_inner());
        if live.len() >= self.max {
            let idlest = live
                .values()
                .filter(|conn| conn.evictable())
                .min_by_key(|conn| conn.last.load(Ordering::Relaxed))
                .map(|conn| conn.id)?;
            if let Some(evicted) = live.remove(&idlest) {
                evicted.evict.notify_one();
                self.metrics.connection_closed(Closed::Evicted);
            }
        }
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let conn = Arc::new(Conn::new(id, self.epoch));
        live.insert(id, Arc::clone(&conn));
        Some(conn)
    }

    fn release(&self, conn: &Conn) {
        let removed = self
            .live
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(&conn.id);
        if removed.is_some() {
            self.freed.notify_one();
        }
        self.metrics.connection_left();
    }
}

/// A connection's place among [`Slots`]; given back when dropped.
#[derive(Debug)]
pub struct Slot {
    slots: Arc<Slots>,
    conn: Arc<Conn>,
}

impl Slot {
    /// The connection's activity, shared with its requests and its stream.
    pub fn conn(&self) -> &Arc<Conn> {
        &self.conn
    }

    /// Counts a close by the server (an idle deadline passed).
    pub fn closed_idle(&self) {
        self.slots.metrics.connection_closed(Closed::Idle);
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        self.slots.release(&self.conn);
    }
}

/// Why the server is closing a connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Close {
    /// Its idle deadline passed.
    Idle,
    /// A new connection needed its slot.
    Evicted,
    /// The server is shutting down.
    Shutdown,
}

impl Close {
    /// How long a connection closed for this reason may take to finish what it has in
    /// flight (the server's drain deadline bounds a shutdown).
    pub fn grace(self, header_timeout: Duration) -> Option<Duration> {
        match self {
            Close::Idle => Some(header_timeout),
            Close::Evicted => Some(EVICTED_GRACE),
            Close::Shutdown => None,
        }
    }
}

/// The deadlines of one connection.
#[derive(Debug, Clone, Copy)]
pub struct Deadlines {
    /// To show the protocol and begin the first request; between HTTP/1 requests.
    pub header: Duration,
    /// Between HTTP/2 requests.
    pub idle: Duration,
}

/// What one connection has been doing: requests begun and answered, response bytes written,
/// and when it was last of use.
#[derive(Debug)]
pub struct Conn {
    id: u64,
    epoch: Instant,
    /// Milliseconds from `epoch` to the connection's opening, its last answered request, or
    /// its last write that had waited on the client; the idlest connection has the smallest.
    last: AtomicU64,
    /// Requests begun + requests answered + (HTTP/1) writes done; only its changes matter.
    events: AtomicU64,
    /// Requests being answered, plus [`STALLED`] while a write waits for the client to read.
    busy: AtomicU64,
    /// Told to close to make room for a new connection.
    evict: Notify,
}

/// Whether a write waits on the client, kept in the `busy` count's high bits so a stalled
/// write and a request in flight never mask each other.
const STALLED: u64 = 1 << 32;

impl Conn {
    fn new(id: u64, epoch: Instant) -> Conn {
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
    fn evictable(&self) -> bool {
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

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn slots(max: usize) -> Arc<Slots> {
        Arc::new(Slots::new(max, Arc::new(Metrics::default())))
    }

    fn live(slots: &Slots) -> Vec<u64> {
        let mut ids: Vec<u64> = slots.live.lock().unwrap().keys().copied().collect();
        ids.sort();
        ids
    }

    #[tokio::test]
    async fn a_connection_answering_a_request_is_never_evicted() {
        let slots = slots(1);
        let busy = slots.admit().await;
        busy.conn().begin();
        let waiting = tokio::time::timeout(Duration::from_millis(100), slots.admit()).await;
        assert!(
            waiting.is_err(),
            "admitted while the only connection was mid-request"
        );
        busy.conn().end();
        let admitted = tokio::time::timeout(Duration::from_secs(1), slots.admit())
            .await
            .expect("room once the request is answered");
        assert_eq!(live(&slots), [admitted.conn().id]);
    }

    #[derive(Debug, Clone)]
    enum Op {
        Admit,
        Begin(usize),
        End(usize),
        Leave(usize),
        Tick,
    }

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            3 => Just(Op::Admit),
            2 => (0..16usize).prop_map(Op::Begin),
            2 => (0..16usize).prop_map(Op::End),
            1 => (0..16usize).prop_map(Op::Leave),
            1 => Just(Op::Tick),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(200))]

        /// Whatever connections do, at most `max` are open; a full server evicts an idle
        /// connection, the one idle longest, and only when every one is mid-request does a
        /// new connection wait.
        #[test]
        fn the_cap_holds_and_only_the_idlest_idle_connection_is_evicted(
            max in 1..6usize,
            ops in proptest::collection::vec(op(), 1..60),
        ) {
            let slots = slots(max);
            // Open connections with their requests in flight (as the server counts them).
            let mut open: Vec<(Slot, u64)> = Vec::new();
            for op in ops {
                match op {
                    Op::Admit => {
                        let before: Vec<(u64, bool, u64)> = open
                            .iter()
                            .map(|(s, _)| {
                                let c = s.conn();
                                (c.id, c.evictable(), c.last.load(Ordering::Relaxed))
                            })
                            .collect();
                        let admitted = slots.try_admit();
                        let full = before.len() >= max;
                        let all_busy = before.iter().all(|(_, idle, _)| !idle);
                        prop_assert_eq!(admitted.is_none(), full && all_busy);
                        let Some(conn) = admitted else { continue };
                        if full {
                            let now = live(&slots);
                            let gone: Vec<&(u64, bool, u64)> =
                                before.iter().filter(|(id, _, _)| !now.contains(id)).collect();
                            prop_assert_eq!(gone.len(), 1);
                            let (_, idle, last) = *gone[0];
                            prop_assert!(idle, "a busy connection was evicted");
                            let idlest = before.iter().filter(|b| b.1).map(|b| b.2).min();
                            prop_assert_eq!(Some(last), idlest);
                            let gone_id = gone[0].0;
                            // Its task notices and closes: the slot is dropped.
                            open.retain(|(s, _)| s.conn().id != gone_id);
                        }
                        slots.metrics.connection_opened();
                        open.push((Slot { slots: Arc::clone(&slots), conn }, 0));
                    }
                    Op::Begin(i) if !open.is_empty() => {
                        let n = open.len();
                        let (slot, requests) = &mut open[i % n];
                        slot.conn().begin();
                        *requests += 1;
                    }
                    Op::End(i) if !open.is_empty() => {
                        let n = open.len();
                        let (slot, requests) = &mut open[i % n];
                        if *requests > 0 {
                            slot.conn().end();
                            *requests -= 1;
                        }
                    }
                    Op::Leave(i) if !open.is_empty() => {
                        open.remove(i % open.len());
                    }
                    Op::Tick => std::thread::sleep(Duration::from_millis(1)),
                    _ => {}
                }
                prop_assert!(live(&slots).len() <= max);
                prop_assert_eq!(live(&slots).len(), open.len());
            }
        }
    }
}
