//! Clients that misbehave on purpose, over raw loopback sockets: connections that hold a slot
//! and do nothing useful with it.
//!
//! - [`http1_get`]: one `GET` on a fresh connection (`Connection: close`), timed: what a new,
//!   well-behaved client sees.
//! - [`h2_idler`]: an HTTP/2 connection that sends the preface and SETTINGS and then no
//!   request, either answering nothing or answering the server's SETTINGS and PINGs (as a
//!   live but idle client library does).

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::task::JoinHandle;

/// The HTTP/2 client connection preface (RFC 9113 §3.4).
pub const H2_PREFACE: &[u8] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

/// An empty SETTINGS frame: length 0, type 4, no flags, stream 0.
pub const H2_SETTINGS: [u8; 9] = [0, 0, 0, 4, 0, 0, 0, 0, 0];

const SETTINGS: u8 = 4;
const PING: u8 = 6;
const ACK: u8 = 1;

/// `GET path` on a new connection with `Connection: close`: the status (`None` if closed
/// without one) and how long the whole answer took, connecting included. Gives up after
/// `limit` (status `None`).
pub async fn http1_get(addr: SocketAddr, path: &str, limit: Duration) -> (Option<u16>, Duration) {
    let started = Instant::now();
    let exchange = async {
        let mut stream = TcpStream::connect(addr).await.ok()?;
        let request =
            format!("GET {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n");
        stream.write_all(request.as_bytes()).await.ok()?;
        let mut bytes = Vec::new();
        let _ = stream.read_to_end(&mut bytes).await;
        let head = String::from_utf8_lossy(&bytes);
        head.split(' ').nth(1)?.parse().ok()
    };
    let status = tokio::time::timeout(limit, exchange).await.ok().flatten();
    (status, started.elapsed())
}

/// How an [`h2_idler`] behaves once connected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum H2Idle {
    /// Reads what the server sends and answers nothing (not even its SETTINGS).
    Silent,
    /// Acknowledges the server's SETTINGS and PINGs, never sends a request.
    AnswersPings,
}

/// Opens an HTTP/2 connection that never sends a request. The task resolves to how long
/// after opening the server closed it, or `None` if it was still open after `limit`.
pub async fn h2_idler(
    addr: SocketAddr,
    how: H2Idle,
    limit: Duration,
) -> JoinHandle<Option<Duration>> {
    let mut stream = TcpStream::connect(addr).await.expect("connect");
    stream.write_all(H2_PREFACE).await.expect("h2 preface");
    stream.write_all(&H2_SETTINGS).await.expect("h2 settings");
    let opened = Instant::now();
    tokio::spawn(async move {
        let answered = tokio::time::timeout(limit, answer_frames(&mut stream, how)).await;
        answered.ok().map(|()| opened.elapsed())
    })
}

/// Reads frames until the connection closes, acknowledging SETTINGS and PINGs if asked.
async fn answer_frames(stream: &mut TcpStream, how: H2Idle) {
    let mut head = [0u8; 9];
    loop {
        if stream.read_exact(&mut head).await.is_err() {
            return;
        }
        let length = u32::from_be_bytes([0, head[0], head[1], head[2]]) as usize;
        let mut payload = vec![0u8; length];
        if stream.read_exact(&mut payload).await.is_err() {
            return;
        }
        let (kind, flags) = (head[3], head[4]);
        if how == H2Idle::Silent || flags & ACK != 0 {
            continue;
        }
        let reply = match kind {
            SETTINGS => H2_SETTINGS_ACK.to_vec(),
            PING => [&[0, 0, 8, PING, ACK, 0, 0, 0, 0][..], &payload].concat(),
            _ => continue,
        };
        if stream.write_all(&reply).await.is_err() {
            return;
        }
    }
}

const H2_SETTINGS_ACK: [u8; 9] = [0, 0, 0, SETTINGS, ACK, 0, 0, 0, 0];
