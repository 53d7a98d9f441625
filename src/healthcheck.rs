//! `dropfeed healthcheck`: one `GET` of `/healthz` with a short deadline, healthy only on
//! `200`. For container `HEALTHCHECK`s in images with no shell or curl (the distroless
//! image in deploy/Containerfile).
//!
//! Plain HTTP/1.1 over a blocking socket: no runtime, no TLS (the check runs beside the
//! server, on its own address). The whole check, from resolving the host to reading the
//! status line, fits within the deadline, so a server that accepts and never answers is
//! unhealthy, not a hung check.

use std::io::{Read, Write};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, TcpStream};
use std::time::{Duration, Instant};

use url::Url;

/// Why a check failed.
#[derive(Debug, thiserror::Error)]
pub enum Unhealthy {
    /// The URL cannot be checked.
    #[error("not an http:// URL ({0})")]
    BadUrl(String),
    /// No connection, or it broke.
    #[error("{0}")]
    Io(#[from] std::io::Error),
    /// No complete status line before the deadline.
    #[error("no answer within {0:?}")]
    Timeout(Duration),
    /// Something that is not an HTTP response.
    #[error("not an HTTP answer: {0:?}")]
    NotHttp(String),
    /// An answer other than `200`.
    #[error("answered {0}")]
    Status(u16),
}

/// `http://ADDR/healthz` for a listen address; an unspecified address (`0.0.0.0`, `::`)
/// is asked on loopback, where the server also listens.
pub fn default_url(listen: SocketAddr) -> String {
    let ip = match listen.ip() {
        IpAddr::V4(ip) if ip.is_unspecified() => IpAddr::V4(Ipv4Addr::LOCALHOST),
        IpAddr::V6(ip) if ip.is_unspecified() => IpAddr::V6(Ipv6Addr::LOCALHOST),
        ip => ip,
    };
    format!("http://{}/healthz", SocketAddr::new(ip, listen.port()))
}

/// Asks `url` once; `Ok` only for a `200`, all within `deadline`.
pub fn check(url: &str, deadline: Duration) -> Result<(), Unhealthy> {
    let url = Url::parse(url).map_err(|e| Unhealthy::BadUrl(e.to_string()))?;
    if url.scheme() != "http" {
        return Err(Unhealthy::BadUrl(format!("scheme {}", url.scheme())));
    }
    let end = Instant::now() + deadline;
    let mut stream = connect(&url, end, deadline)?;
    let host = url.host_str().unwrap_or("localhost");
    let host = match url.port() {
        Some(port) => format!("{host}:{port}"),
        None => host.to_string(),
    };
    let target = &url[url::Position::BeforePath..url::Position::AfterQuery];
    let request = format!(
        "GET {target} HTTP/1.1\r\nHost: {host}\r\nUser-Agent: dropfeed-healthcheck\r\nConnection: close\r\n\r\n"
    );
    stream.set_write_timeout(Some(remaining(end, deadline)?))?;
    stream.write_all(request.as_bytes())?;
    let status = read_status(&mut stream, end, deadline)?;
    match status {
        200 => Ok(()),
        other => Err(Unhealthy::Status(other)),
    }
}

/// Connects to the first address of the URL's host that accepts before the deadline.
fn connect(url: &Url, end: Instant, deadline: Duration) -> Result<TcpStream, Unhealthy> {
    let addrs = url.socket_addrs(|| Some(80))?;
    let mut last = None;
    for addr in addrs {
        match TcpStream::connect_timeout(&addr, remaining(end, deadline)?) {
            Ok(stream) => return Ok(stream),
            Err(e) => last = Some(e),
        }
    }
    Err(match last {
        Some(e) => Unhealthy::Io(e),
        None => Unhealthy::BadUrl("the host has no address".into()),
    })
}

/// Reads up to the end of the status line and returns the status code.
fn read_status(stream: &mut TcpStream, end: Instant, deadline: Duration) -> Result<u16, Unhealthy> {
    let mut head = Vec::with_capacity(64);
    let mut buf = [0u8; 256];
    while !head.contains(&b'\n') && head.len() < 1024 {
        stream.set_read_timeout(Some(remaining(end, deadline)?))?;
        let n = match stream.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) =>
            {
                return Err(Unhealthy::Timeout(deadline))
            }
            Err(e) => return Err(e.into()),
        };
        head.extend_from_slice(&buf[..n]);
    }
    let line = String::from_utf8_lossy(&head);
    let line = line.lines().next().unwrap_or_default();
    let mut parts = line.split(' ');
    match (parts.next(), parts.next().map(str::parse::<u16>)) {
        (Some(version), Some(Ok(status))) if version.starts_with("HTTP/") => Ok(status),
        _ => Err(Unhealthy::NotHttp(line.chars().take(80).collect())),
    }
}

/// Time left before the deadline; none left is a timeout.
fn remaining(end: Instant, deadline: Duration) -> Result<Duration, Unhealthy> {
    let left = end.saturating_duration_since(Instant::now());
    if left.is_zero() {
        Err(Unhealthy::Timeout(deadline))
    } else {
        Ok(left)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unspecified_listen_addresses_are_asked_on_loopback() {
        let url = |s: &str| default_url(s.parse().expect("an address"));
        assert_eq!(url("0.0.0.0:8080"), "http://127.0.0.1:8080/healthz");
        assert_eq!(url("[::]:8081"), "http://[::1]:8081/healthz");
        assert_eq!(url("192.0.2.1:80"), "http://192.0.2.1:80/healthz");
    }

    #[test]
    fn only_http_is_checked() {
        let err = check("https://127.0.0.1:1/healthz", Duration::from_secs(1)).unwrap_err();
        assert!(matches!(err, Unhealthy::BadUrl(_)), "{err}");
        assert!(check("not a url", Duration::from_secs(1)).is_err());
    }
}
