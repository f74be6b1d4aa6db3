//! The receive side of a client connection: bytes read from the socket
//! and not yet consumed, frame boundaries, and how much room the next
//! `recv` reserves (reader thread only).
//!
//! Mirrors: the read half of `org.apache.zookeeper.server.NIOServerCnxn`
//! (`incomingBuffer`, `lenBuffer`, `readLength`).

use std::io::{self, ErrorKind};
use std::time::{Duration, Instant};

use super::transport::TlsTransport;
use super::{command, ReadEnd, QUIET};
use crate::jute;

/// The first read reservation of a connection; it grows while reads fill
/// it and shrinks back when they do not. Above glibc's per-thread cache
/// limit (1032 bytes) on purpose: a buffer an idle connection frees then
/// goes back to the shared arena for other connections, instead of sitting
/// in its own thread's cache.
pub(super) const MIN_READ_CHUNK: usize = 2048;
/// The largest read reservation.
pub(super) const MAX_READ_CHUNK: usize = 64 * 1024;

/// Bytes received and not yet consumed (reader thread only).
#[derive(Default)]
pub(super) struct Input {
    /// `buf[pos..]` is unconsumed.
    pub(super) buf: Vec<u8>,
    pub(super) pos: usize,
    /// How much spare room the next read reserves (adapts to the traffic).
    pub(super) chunk: usize,
}

impl Input {
    pub(super) fn available(&self) -> &[u8] {
        &self.buf[self.pos..]
    }

    pub(super) fn consume(&mut self, n: usize) {
        self.pos += n;
        if self.pos == self.buf.len() {
            self.buf.clear();
            self.pos = 0;
        }
    }

    /// One blocking read of at least `want` more bytes' room, through
    /// the TLS session if there is one; EOF is `UnexpectedEof`. True when
    /// the TLS session has records to send back (the caller flushes).
    pub(super) fn read_more(
        &mut self,
        fd: i32,
        tls: Option<&TlsTransport>,
        want: usize,
    ) -> io::Result<bool> {
        if self.pos > 0 {
            self.buf.drain(..self.pos);
            self.pos = 0;
        }
        let chunk = self.chunk.max(MIN_READ_CHUNK);
        let room = want.max(chunk);
        if let Some(tls) = tls {
            return self.read_tls(fd, tls, chunk, room);
        }
        if self.buf.is_empty() && room <= MIN_READ_CHUNK {
            return self.read_small(fd, chunk);
        }
        self.buf.reserve(room);
        let spare = self.buf.spare_capacity_mut();
        let n = super::transport::recv_uninit(fd, spare)?;
        let filled = n == spare.len();
        // SAFETY: recv initialized the first `n` spare bytes.
        unsafe { self.buf.set_len(self.buf.len() + n) };
        self.chunk = next_chunk(chunk, n, filled);
        Ok(false)
    }

    /// `read_more` with nothing buffered and a small reservation: the
    /// `recv` lands on this thread's stack and only the bytes received are
    /// copied to the heap. A light client (a ping every few seconds) then
    /// costs a small buffer, not a [`MIN_READ_CHUNK`] one whose freed
    /// pages would stay resident in the allocator's arenas; the stack
    /// pages it touched are given back when the connection goes quiet.
    #[inline(never)]
    fn read_small(&mut self, fd: i32, chunk: usize) -> io::Result<bool> {
        let mut room = [std::mem::MaybeUninit::<u8>::uninit(); MIN_READ_CHUNK];
        let n = super::transport::recv_uninit(fd, &mut room)?;
        // SAFETY: recv initialized the first `n` bytes of `room`.
        let got = unsafe { std::slice::from_raw_parts(room.as_ptr().cast::<u8>(), n) };
        self.buf.extend_from_slice(got);
        self.chunk = next_chunk(chunk, n, n == MIN_READ_CHUNK);
        Ok(false)
    }

    /// `read_more` through a TLS session (kept out of line, so the plain
    /// path's frame stays as small as it was).
    #[inline(never)]
    fn read_tls(
        &mut self,
        fd: i32,
        tls: &TlsTransport,
        chunk: usize,
        room: usize,
    ) -> io::Result<bool> {
        let (n, reply) = tls.read_plain(fd, &mut self.buf, room)?;
        self.chunk = next_chunk(chunk, n, n == room);
        Ok(reply)
    }

    /// Blocks until at least `n` bytes are available, for at most
    /// `timeout` (the socket's own read timeout is only [`QUIET`]).
    pub(super) fn fill(
        &mut self,
        fd: i32,
        tls: Option<&TlsTransport>,
        n: usize,
        timeout: Duration,
    ) -> io::Result<()> {
        let deadline = Instant::now() + timeout;
        while self.available().len() < n {
            let missing = n - self.available().len();
            match self.read_more(fd, tls, missing) {
                Err(e) if is_timeout(&e) && Instant::now() < deadline => continue,
                other => {
                    other?;
                }
            }
        }
        Ok(())
    }

    /// The next complete frame's body as a range of `buf` (length prefix
    /// checked), or `None` if it has not fully arrived; `Err` for a bad
    /// length. `missing` gets how many more bytes it needs.
    pub(super) fn complete_frame(
        &self,
        missing: &mut usize,
    ) -> Result<Option<(usize, usize)>, ReadEnd> {
        let avail = self.available();
        if avail.len() < 4 {
            *missing = 4 - avail.len();
            return Ok(None);
        }
        let raw = i32::from_be_bytes([avail[0], avail[1], avail[2], avail[3]]);
        let len = frame_len(raw, jute::max_buffer()).ok_or(ReadEnd::BadLength(raw))?;
        if avail.len() < 4 + len {
            *missing = 4 + len - avail.len();
            return Ok(None);
        }
        Ok(Some((self.pos + 4, self.pos + 4 + len)))
    }

    /// Gives the memory back when nothing is buffered (an idle connection).
    pub(super) fn release_if_empty(&mut self) {
        if self.available().is_empty() {
            *self = Input::default();
        }
    }
}

/// The socket's read timeout ran out (`SO_RCVTIMEO`).
pub(super) fn is_timeout(e: &io::Error) -> bool {
    matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut)
}

/// How long one blocking `recv` may wait: [`QUIET`], or less when the
/// idle timeout itself is shorter.
pub(super) fn recv_timeout(idle_timeout: Duration) -> Duration {
    idle_timeout.min(QUIET).max(Duration::from_millis(1))
}

/// A client IP as Java prints it (`InetAddress.getHostAddress`), stored
/// inline in the connection.
pub(super) struct IpText {
    len: u8,
    bytes: [u8; 47],
}

impl IpText {
    pub(super) fn new(ip: &std::net::IpAddr) -> IpText {
        let text = command::java_host_address(ip);
        let mut bytes = [0u8; 47];
        // An IPv6 text is at most 45 bytes (plus a scope id, cut here at a
        // char boundary if absurdly long).
        let mut len = text.len().min(bytes.len());
        while !text.is_char_boundary(len) {
            len -= 1;
        }
        bytes[..len].copy_from_slice(&text.as_bytes()[..len]);
        IpText {
            len: len as u8,
            bytes,
        }
    }

    pub(super) fn as_str(&self) -> &str {
        std::str::from_utf8(&self.bytes[..usize::from(self.len)]).unwrap_or("")
    }
}

/// The next read reservation: double after a read that filled the room,
/// halve after one that used less than a quarter.
pub(super) fn next_chunk(chunk: usize, read: usize, filled: bool) -> usize {
    if filled {
        (chunk * 2).min(MAX_READ_CHUNK)
    } else if read < chunk / 4 {
        (chunk / 2).max(MIN_READ_CHUNK)
    } else {
        chunk
    }
}

/// A frame length is acceptable when 0 <= len <= jute.maxbuffer.
pub(super) fn frame_len(len: i32, max_buffer: usize) -> Option<usize> {
    usize::try_from(len).ok().filter(|&n| n <= max_buffer)
}
