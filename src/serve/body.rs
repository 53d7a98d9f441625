//! Response bodies: bytes already in memory (every snapshot resource), or a file beside posts
//! streamed from disk in chunks ([`FileBody`]).
//!
//! A file body holds one chunk at a time: the next is read (on the blocking pool, with a
//! positional read, so no seek state is shared) only when the connection asks for it, that
//! is once the previous one was handed to the socket. A 200 MB file sent to 50 clients at
//! once costs 50 chunks of memory, not 50 files. A file whose stamp changes while it is sent
//! (rewritten in place) ends the response with an error after the last chunk read before
//! the change, so the client sees a short body rather than mixed bytes; a file replaced by
//! a rename is sent whole as it was (the open file is the old one).

use std::fs::File;
use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{ready, Context, Poll};

use bytes::Bytes;
use http_body_util::Full;
use hyper::body::{Body, Frame, SizeHint};
use tokio::task::JoinHandle;

use super::connections::Conn;
use crate::load::FileStamp;

/// Bytes read from a file at a time: small enough that 50 downloads at once cost a few MB,
/// large enough that the blocking pool is asked a few thousand times per 200 MB.
pub const CHUNK: u64 = 64 * 1024;

/// What a response carries.
#[derive(Debug)]
pub enum ResponseBody {
    /// Bytes in memory.
    Bytes(Full<Bytes>),
    /// A file streamed from disk.
    File(FileBody),
}

impl From<Full<Bytes>> for ResponseBody {
    fn from(full: Full<Bytes>) -> ResponseBody {
        ResponseBody::Bytes(full)
    }
}

impl ResponseBody {
    /// The body, telling `conn` each time a chunk of a file is sent: a long download is use
    /// of the connection, not idleness.
    pub fn watched_by(self, conn: &Arc<Conn>) -> ResponseBody {
        match self {
            ResponseBody::File(file) => ResponseBody::File(FileBody {
                conn: Some(Arc::clone(conn)),
                ..file
            }),
            bytes => bytes,
        }
    }
}

impl Body for ResponseBody {
    type Data = Bytes;
    type Error = io::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, io::Error>>> {
        match self.get_mut() {
            ResponseBody::Bytes(full) => Pin::new(full)
                .poll_frame(cx)
                .map(|frame| frame.map(|f| f.map_err(|never| match never {}))),
            ResponseBody::File(file) => Pin::new(file).poll_frame(cx),
        }
    }

    fn is_end_stream(&self) -> bool {
        match self {
            ResponseBody::Bytes(full) => full.is_end_stream(),
            ResponseBody::File(file) => file.remaining == 0,
        }
    }

    fn size_hint(&self) -> SizeHint {
        match self {
            ResponseBody::Bytes(full) => full.size_hint(),
            ResponseBody::File(file) => SizeHint::with_exact(file.remaining),
        }
    }
}

/// A byte range of an open file, read a chunk at a time as the connection takes them.
#[derive(Debug)]
pub struct FileBody {
    file: Arc<File>,
    stamp: FileStamp,
    offset: u64,
    remaining: u64,
    reading: Option<JoinHandle<io::Result<Bytes>>>,
    conn: Option<Arc<Conn>>,
}

impl FileBody {
    /// `len` bytes of `file` from `offset`, as long as the file keeps `stamp`.
    pub fn new(file: File, stamp: FileStamp, offset: u64, len: u64) -> FileBody {
        FileBody {
            file: Arc::new(file),
            stamp,
            offset,
            remaining: len,
            reading: None,
            conn: None,
        }
    }

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, io::Error>>> {
        if self.remaining == 0 {
            return Poll::Ready(None);
        }
        let len = self.remaining.min(CHUNK);
        let (file, offset, stamp) = (Arc::clone(&self.file), self.offset, self.stamp);
        let reading = self.reading.get_or_insert_with(|| {
            tokio::task::spawn_blocking(move || read_at(&file, stamp, offset, len))
        });
        let read = ready!(Pin::new(reading).poll(cx));
        self.reading = None;
        let chunk = match read {
            Ok(Ok(chunk)) => chunk,
            Ok(Err(e)) => return Poll::Ready(Some(Err(e))),
            Err(e) => return Poll::Ready(Some(Err(io::Error::other(e)))),
        };
        self.offset += len;
        self.remaining -= len;
        if let Some(conn) = &self.conn {
            conn.progress();
        }
        Poll::Ready(Some(Ok(Frame::data(chunk))))
    }
}

/// Exactly `len` bytes of `file` from `offset`; a file that ended sooner, or whose stamp is
/// no longer `stamp` once they are read, is an error.
fn read_at(file: &File, stamp: FileStamp, offset: u64, len: u64) -> io::Result<Bytes> {
    let mut buffer = vec![0; len as usize];
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileExt;
        file.read_exact_at(&mut buffer, offset)?;
    }
    #[cfg(not(unix))]
    {
        use std::io::{Read, Seek, SeekFrom};
        let mut file: &File = file;
        file.seek(SeekFrom::Start(offset))?;
        file.read_exact(&mut buffer)?;
    }
    if FileStamp::of(&file.metadata()?) != stamp {
        return Err(io::Error::other("the file changed while it was sent"));
    }
    Ok(Bytes::from(buffer))
}
