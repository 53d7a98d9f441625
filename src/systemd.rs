//! systemd's service notification protocol (`sd_notify(3)`), for `Type=notify` units:
//! one datagram of `KEY=VALUE` lines to the socket named by `$NOTIFY_SOCKET`.
//!
//! Rules this module follows:
//!
//! - No `$NOTIFY_SOCKET`, no notifications: outside systemd nothing changes.
//! - `$NOTIFY_SOCKET` is a file system path (`/run/systemd/notify`) or, starting with `@`,
//!   a Linux abstract socket name.
//! - What `dropfeed serve` says: `READY=1` once the first snapshot is served; on SIGHUP,
//!   `RELOADING=1` with `MONOTONIC_USEC` (what `Type=notify-reload` requires), then
//!   `READY=1` once the reloaded config is in force or refused; `STOPPING=1` on SIGTERM
//!   or SIGINT. Each carries a `STATUS=` line for `systemctl status`.
//! - A notification that cannot be sent is not an error for the service: it is logged.
//! - Unix only; elsewhere there is never a notifier.

use std::io;
#[cfg(unix)]
use std::os::unix::net::{SocketAddr, UnixDatagram};

/// The environment variable systemd names its socket in.
pub const NOTIFY_SOCKET: &str = "NOTIFY_SOCKET";

/// Sends notifications to systemd.
#[derive(Debug)]
pub struct Notifier {
    #[cfg(unix)]
    socket: UnixDatagram,
    #[cfg(unix)]
    to: SocketAddr,
}

impl Notifier {
    /// A notifier for `$NOTIFY_SOCKET`, or `None` when it is not set (or not usable,
    /// which is logged).
    #[cfg(not(unix))]
    pub fn from_env() -> Option<Notifier> {
        None
    }

    /// A notifier for `$NOTIFY_SOCKET`, or `None` when it is not set (or not usable,
    /// which is logged).
    #[cfg(unix)]
    pub fn from_env() -> Option<Notifier> {
        let name = std::env::var_os(NOTIFY_SOCKET)?;
        let to = match address(name.as_encoded_bytes()) {
            Ok(to) => to,
            Err(e) => {
                tracing::warn!(
                    "{NOTIFY_SOCKET}={}: {e}; not notifying systemd",
                    name.display()
                );
                return None;
            }
        };
        match UnixDatagram::unbound() {
            Ok(socket) => Some(Notifier { socket, to }),
            Err(e) => {
                tracing::warn!("cannot notify systemd: {e}");
                None
            }
        }
    }

    /// Sends one notification: `KEY=VALUE` lines.
    pub fn notify(&self, state: &str) {
        #[cfg(unix)]
        if let Err(e) = self.socket.send_to_addr(state.as_bytes(), &self.to) {
            tracing::warn!("cannot notify systemd ({}): {e}", first_line(state));
        }
        #[cfg(not(unix))]
        let _ = state;
    }

    /// `READY=1`, with a status line.
    pub fn ready(&self, status: &str) {
        self.notify(&format!("READY=1\nSTATUS={}", one_line(status)));
    }

    /// `RELOADING=1` with the monotonic time, as `Type=notify-reload` requires.
    pub fn reloading(&self) {
        self.notify(&format!(
            "RELOADING=1\nMONOTONIC_USEC={}\nSTATUS=reloading the configuration",
            monotonic_usec()
        ));
    }

    /// `STOPPING=1`.
    pub fn stopping(&self) {
        self.notify("STOPPING=1\nSTATUS=stopping: finishing the requests in progress");
    }
}

/// `$NOTIFY_SOCKET` as a socket address: a path, or `@name` for an abstract socket.
#[cfg(unix)]
fn address(name: &[u8]) -> io::Result<SocketAddr> {
    match name {
        [] => Err(io::Error::new(io::ErrorKind::InvalidInput, "empty")),
        [b'@', abstract_name @ ..] => abstract_address(abstract_name),
        [b'/', ..] => {
            use std::os::unix::ffi::OsStrExt;
            SocketAddr::from_pathname(std::ffi::OsStr::from_bytes(name))
        }
        _ => Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "neither an absolute path nor an @abstract name",
        )),
    }
}

#[cfg(any(target_os = "linux", target_os = "android"))]
fn abstract_address(name: &[u8]) -> io::Result<SocketAddr> {
    #[cfg(target_os = "android")]
    use std::os::android::net::SocketAddrExt;
    #[cfg(target_os = "linux")]
    use std::os::linux::net::SocketAddrExt;
    SocketAddr::from_abstract_name(name)
}

#[cfg(all(unix, not(any(target_os = "linux", target_os = "android"))))]
fn abstract_address(_name: &[u8]) -> io::Result<SocketAddr> {
    Err(io::Error::new(
        io::ErrorKind::Unsupported,
        "abstract sockets exist only on Linux",
    ))
}

/// `CLOCK_MONOTONIC` in microseconds: the clock systemd compares `MONOTONIC_USEC` with.
#[cfg(unix)]
pub fn monotonic_usec() -> u64 {
    let mut now = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: clock_gettime writes one timespec into the value given.
    let result = unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut now) };
    if result != 0 {
        return 0;
    }
    now.tv_sec as u64 * 1_000_000 + now.tv_nsec as u64 / 1_000
}

/// No monotonic clock to report outside Unix (and no notifier to report it to).
#[cfg(not(unix))]
pub fn monotonic_usec() -> u64 {
    0
}

/// A status on one line (a newline would start another `KEY=VALUE`).
fn one_line(text: &str) -> String {
    text.replace(['\n', '\r'], " ")
}

#[cfg(unix)]
fn first_line(state: &str) -> &str {
    state.lines().next().unwrap_or_default()
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;

    #[test]
    fn notify_socket_names() {
        assert!(address(b"/run/systemd/notify").is_ok());
        assert!(address(b"@/org/freedesktop/systemd1/notify/123").is_ok());
        assert!(address(b"").is_err());
        assert!(address(b"relative/path").is_err());
        assert!(address(b"vsock:2:1234").is_err());
    }

    #[test]
    fn a_status_stays_one_line() {
        assert_eq!(one_line("a\nb\r\nc"), "a b  c");
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn sends_to_an_abstract_socket() {
        let name = format!("dropfeed-test-{}", std::process::id());
        let listener =
            UnixDatagram::bind_addr(&abstract_address(name.as_bytes()).unwrap()).unwrap();
        let notifier = Notifier {
            socket: UnixDatagram::unbound().unwrap(),
            to: address(format!("@{name}").as_bytes()).unwrap(),
        };
        notifier.ready("serving 3 posts\non 127.0.0.1:8080");
        let mut buf = [0u8; 256];
        let n = listener.recv(&mut buf).unwrap();
        assert_eq!(
            &buf[..n],
            b"READY=1\nSTATUS=serving 3 posts on 127.0.0.1:8080"
        );
    }
}
