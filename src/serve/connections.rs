//! Connections, from accept to close: what keeps idle, slow or chatty connections from
//! shutting new clients out, and lets requests in flight finish when the server stops.
//!
//! - [`slots`](Slots): at most `max_connections` open; at the cap, the connection idle longest
//!   makes room, and only when every connection is answering a request does a new one wait. An
//!   idle keep-alive client that loses its connection this way simply connects again, as
//!   after a keep-alive timeout.
//! - [`activity`](Conn): each connection's deadlines. It must show its protocol and begin its
//!   first request within `header_timeout`; HTTP/1 then has `header_timeout` between
//!   requests, HTTP/2 `idle_timeout` (PINGs and other control frames are not use).
//! - A connection closed by the server finishes what it began: an idle one within
//!   `header_timeout`, an evicted one within a second, and on shutdown all within the
//!   server's drain deadline.
//!
//! Each request is handed to `serve::handle`. The bookkeeping per request is a few relaxed
//! atomic operations and one clock read; the registry of connections is locked only when a
//! connection opens or closes.

mod activity;
mod slots;

use std::convert::Infallible;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use hyper::body::Incoming;
use hyper::Request;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;

use super::ServerState;
use crate::config::ServerConfig;
use crate::metrics::Metrics;

pub use activity::{Conn, Tracked};
pub use slots::{Slot, Slots};

/// How long an evicted connection gets to finish a request that began as it was chosen, or
/// (HTTP/2) what it had queued: short, because it no longer counts against the cap but still
/// holds a socket.
const EVICTED_GRACE: Duration = Duration::from_secs(1);

/// The connections of one listener: admitted within the cap, each served on a task of its
/// own, all told to finish when the server stops.
#[derive(Debug)]
pub struct Connections {
    slots: Arc<Slots>,
    builder: auto::Builder<TokioExecutor>,
    deadlines: Deadlines,
    drain_timeout: Duration,
    /// Tells every connection the server is stopping; sees them all gone once its receivers
    /// (one per connection, and `stopping`) are dropped.
    stop: watch::Sender<bool>,
    stopping: watch::Receiver<bool>,
}

impl Connections {
    /// Connections under `limits`, counted in `metrics`.
    pub fn new(limits: &ServerConfig, metrics: Arc<Metrics>) -> Connections {
        let (stop, stopping) = watch::channel(false);
        Connections {
            slots: Arc::new(Slots::new(limits.max_connections, metrics)),
            builder: connection_builder(limits),
            deadlines: Deadlines {
                header: limits.header_timeout,
                idle: limits.idle_timeout,
            },
            drain_timeout: limits.drain_timeout,
            stop,
            stopping,
        }
    }

    /// The next connection, retrying after a short pause when accepting fails (out of file
    /// descriptors, a connection reset before it was accepted).
    pub async fn accept(&self, listener: &TcpListener) -> (TcpStream, SocketAddr) {
        loop {
            match listener.accept().await {
                Ok(pair) => return pair,
                Err(e) => {
                    tracing::warn!("accept failed: {e}");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            }
        }
    }

    /// A slot for a new connection (see [`Slots::admit`]).
    pub async fn admit(&self) -> Slot {
        self.slots.admit().await
    }

    /// Serves an admitted connection on a task of its own.
    pub fn spawn(&self, stream: TcpStream, peer: IpAddr, slot: Slot, state: Arc<ServerState>) {
        let _ = stream.set_nodelay(true);
        tokio::spawn(serve_connection(
            stream,
            peer,
            slot,
            state,
            self.builder.clone(),
            self.deadlines,
            self.stopping.clone(),
        ));
    }

    /// Tells every connection to finish and waits for them, at most the drain timeout.
    pub async fn drain(self) {
        let Connections {
            stop,
            stopping,
            drain_timeout,
            ..
        } = self;
        let _ = stop.send(true);
        drop(stopping);
        tokio::select! {
            () = stop.closed() => {}
            () = tokio::time::sleep(drain_timeout) => tracing::warn!("some connections did not finish in time"),
        }
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

/// One connection, from its first bytes to its close.
async fn serve_connection(
    stream: TcpStream,
    peer: IpAddr,
    slot: Slot,
    state: Arc<ServerState>,
    builder: auto::Builder<TokioExecutor>,
    deadlines: Deadlines,
    mut stopping: watch::Receiver<bool>,
) {
    let conn = Arc::clone(slot.conn());
    let http2 = match conn
        .protocol(&stream, deadlines.header, &mut stopping)
        .await
    {
        Some(http2) => http2,
        None => return slot.closed_idle(),
    };
    let service = hyper::service::service_fn({
        let conn = Arc::clone(&conn);
        move |request: Request<Incoming>| {
            let state = Arc::clone(&state);
            let conn = Arc::clone(&conn);
            async move {
                conn.begin();
                let response = super::handle(&state, peer, &request).await;
                conn.end();
                Ok::<_, Infallible>(response.map(|body| body.watched_by(&conn)))
            }
        }
    });
    let io = TokioIo::new(Tracked::new(stream, Arc::clone(&conn), http2));
    let connection = builder.serve_connection(io, service);
    tokio::pin!(connection);
    let close = tokio::select! {
        _ = connection.as_mut() => return,
        close = conn.until_close(deadlines, http2, &mut stopping) => close,
    };
    if close == Close::Idle {
        slot.closed_idle();
    }
    if close == Close::Idle && !http2 {
        // No HTTP/1 request came in time: there is nothing to finish.
        return;
    }
    // A request that began meanwhile is answered; HTTP/2 clients get a GOAWAY.
    connection.as_mut().graceful_shutdown();
    match close.grace(deadlines.header) {
        Some(grace) => {
            let _ = tokio::time::timeout(grace, connection).await;
        }
        // Shutting down: the server's drain deadline bounds it.
        None => {
            let _ = connection.await;
        }
    }
}

/// hyper's HTTP/1 and HTTP/2 settings for every connection.
fn connection_builder(limits: &ServerConfig) -> auto::Builder<TokioExecutor> {
    let mut builder = auto::Builder::new(TokioExecutor::new());
    // The deadlines are [`Conn::until_close`]'s, not hyper's
    // `header_read_timeout`: that one arms and cancels a timer for every request, and has no
    // HTTP/2 counterpart.
    builder
        .http1()
        .header_read_timeout(None)
        .max_buf_size(limits.max_header_bytes.max(8192))
        .keep_alive(true);
    builder
        .http2()
        .timer(TokioTimer::new())
        .max_concurrent_streams(128)
        .max_header_list_size(limits.max_header_bytes as u32)
        // Pings find dead peers with streams in flight; an idle connection is closed after
        // idle_timeout whether it answers them or not.
        .keep_alive_interval(Some(limits.idle_timeout))
        .keep_alive_timeout(Duration::from_secs(20));
    builder
}
