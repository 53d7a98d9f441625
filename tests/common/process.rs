//! The real `dropfeed` binary as a child process, for what only a process shows: its
//! stderr, its exit status, signals, environment variables.
//!
//! - [`Process::serve`] starts `dropfeed serve` on a free loopback port with stderr written
//!   to a file, and waits until `/healthz` answers; the child is killed when dropped.
//! - [`http_get`] is one HTTP/1.1 request on a fresh connection, bounded in time.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

/// How long a debug build may take to load a small site and answer.
pub const START_DEADLINE: Duration = Duration::from_secs(60);

/// A loopback address with a port that was free a moment ago.
pub fn free_addr() -> SocketAddr {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
}

/// The binary under test, with `RUST_LOG` and `NO_COLOR` cleared so the test decides.
pub fn dropfeed() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_dropfeed"));
    command
        .env_remove("RUST_LOG")
        .env_remove("NO_COLOR")
        .env_remove("NOTIFY_SOCKET")
        .stdin(Stdio::null())
        .stdout(Stdio::null());
    command
}

/// A running child, killed when dropped (also when the test panics).
pub struct Process {
    /// The child.
    pub child: Child,
    /// The address it serves, for `serve`.
    pub addr: SocketAddr,
    /// Its stderr, as a file.
    pub log: PathBuf,
}

impl Process {
    /// `dropfeed serve --posts POSTS --listen <free port> ARGS...` (the admin listener off
    /// unless ARGS place it) with stderr to `log`; `adjust` may add environment variables.
    /// Returns once `/healthz` answers 200.
    pub fn serve(
        posts: &Path,
        args: &[&str],
        log: &Path,
        adjust: impl FnOnce(&mut Command),
    ) -> Process {
        let addr = free_addr();
        let mut command = dropfeed();
        command
            .arg("serve")
            .arg("--posts")
            .arg(posts)
            .args(["--listen", &addr.to_string()])
            .args(args)
            .stderr(std::fs::File::create(log).expect("a log file"));
        if !args.contains(&"--admin-listen") {
            // The default admin address is one fixed port: tests run side by side.
            command.args(["--admin-listen", "off"]);
        }
        adjust(&mut command);
        let child = command.spawn().expect("the dropfeed binary starts");
        let mut process = Process::spawned(child, addr, log);
        process.until_healthy();
        process
    }

    /// A child started by the test, serving (or about to serve) `addr`, stderr in `log`.
    pub fn spawned(child: Child, addr: SocketAddr, log: &Path) -> Process {
        Process {
            child,
            addr,
            log: log.to_path_buf(),
        }
    }

    /// Waits until `/healthz` answers 200, failing with the log if the child exits first.
    pub fn until_healthy(&mut self) {
        let deadline = Instant::now() + START_DEADLINE;
        while !http_get(self.addr, "/healthz").is_ok_and(|(status, _)| status == 200) {
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!("dropfeed exited with {status}:\n{}", self.log_text());
            }
            assert!(
                Instant::now() < deadline,
                "no answer on {}:\n{}",
                self.addr,
                self.log_text()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Sends a signal.
    pub fn signal(&self, signal: libc::c_int) {
        // SAFETY: kill(2) on our own child's pid; no memory is involved.
        let result = unsafe { libc::kill(self.child.id() as libc::pid_t, signal) };
        assert_eq!(result, 0, "kill({signal})");
    }

    /// SIGTERM, then the exit status (failing the test after 15 s).
    pub fn terminate(&mut self) -> ExitStatus {
        self.signal(libc::SIGTERM);
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            if let Some(status) = self.child.try_wait().expect("wait") {
                return status;
            }
            assert!(
                Instant::now() < deadline,
                "no exit after SIGTERM:\n{}",
                self.log_text()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// What it wrote to stderr so far.
    pub fn log_bytes(&self) -> Vec<u8> {
        std::fs::read(&self.log).unwrap_or_default()
    }

    /// [`Process::log_bytes`] as text.
    pub fn log_text(&self) -> String {
        String::from_utf8_lossy(&self.log_bytes()).into_owned()
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `GET path` on a new connection with `Connection: close`: (status, body), within 5 s.
pub fn http_get(addr: SocketAddr, path: &str) -> std::io::Result<(u16, Vec<u8>)> {
    http_get_with(addr, path, &[])
}

/// [`http_get`] with extra request headers.
pub fn http_get_with(
    addr: SocketAddr,
    path: &str,
    headers: &[(&str, &str)],
) -> std::io::Result<(u16, Vec<u8>)> {
    let mut stream = TcpStream::connect_timeout(&addr, Duration::from_secs(5))?;
    stream.set_read_timeout(Some(Duration::from_secs(5)))?;
    let mut request = format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n");
    for (name, value) in headers {
        request.push_str(&format!("{name}: {value}\r\n"));
    }
    request.push_str("\r\n");
    stream.write_all(request.as_bytes())?;
    let mut response = Vec::new();
    stream.read_to_end(&mut response)?;
    let split = response
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .ok_or_else(|| std::io::Error::other("no end of head"))?;
    let head = String::from_utf8_lossy(&response[..split]);
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| std::io::Error::other(format!("bad status line: {head}")))?;
    Ok((status, response[split + 4..].to_vec()))
}
