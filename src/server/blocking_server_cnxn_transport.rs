//! The bytes on a client connection's socket: plain, or TLS. The
//! connection code above works in plaintext frames either way; this file
//! is the only place that knows the difference.
//!
//! Plain: `recv` into the input buffer, non-blocking `send` from the
//! output buffer (as before TLS existed: nothing is added per connection).
//!
//! Port unification (`client.portUnification`): before the first frame
//! the connection's thread peeks at the client's first byte
//! ([`starts_with_tls`]); a TLS handshake record makes it a TLS
//! connection, anything else stays plain.
//!
//! TLS (the secure client port): one rustls server session per
//! connection, behind a mutex, boxed so a plain connection pays one
//! pointer. The connection's own thread runs the handshake before the
//! first frame ([`TlsTransport::handshake`], bounded by
//! `ssl.handshakeDetectionTimeoutMillis`). Afterwards the reader `recv`s
//! ciphertext without holding the lock, then locks to decrypt it into its
//! input buffer; producers lock it (under the output lock: output, then
//! TLS, never the other way) to encrypt their frames and write the
//! records with non-blocking sends. A full socket is left to the shared
//! flusher exactly as for plain sockets, since rustls keeps the records it
//! could not write.
//!
//! Mirrors: the `SslHandler` part of `NettyServerCnxnFactory`'s channel
//! pipeline (Java runs TLS as a Netty handler in front of
//! `NettyServerCnxn`).

use std::io::{self, ErrorKind, Read, Write};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rustls::pki_types::CertificateDer;
use rustls::{ServerConfig, ServerConnection};

use super::threads::lock;

/// Ciphertext read per `recv`: requests are small, and rustls assembles a
/// record that spans reads; a small chunk keeps the transient heap small.
const CIPHER_CHUNK: usize = 4096;

/// A blocking `recv` (the socket's read timeout applies); EOF is
/// `UnexpectedEof`.
pub(super) fn recv(fd: i32, buf: &mut [u8]) -> io::Result<usize> {
    // SAFETY: `[u8]` and `[MaybeUninit<u8>]` have the same layout, and
    // `recv_uninit` only ever stores received (initialised) bytes, so `buf`
    // stays initialised when the borrow ends.
    let room = unsafe { &mut *(buf as *mut [u8] as *mut [std::mem::MaybeUninit<u8>]) };
    recv_uninit(fd, room)
}

/// A blocking `recv` into memory that need not be initialised (retried on
/// EINTR); EOF is `UnexpectedEof`. Returns how many bytes it wrote.
pub(super) fn recv_uninit(fd: i32, room: &mut [std::mem::MaybeUninit<u8>]) -> io::Result<usize> {
    loop {
        // SAFETY: `room` is writable memory of `room.len()` bytes; recv
        // writes at most that many.
        let n = unsafe { libc::recv(fd, room.as_mut_ptr().cast(), room.len(), 0) };
        if n > 0 {
            return Ok(n as usize);
        }
        if n == 0 {
            return Err(ErrorKind::UnexpectedEof.into());
        }
        let err = io::Error::last_os_error();
        if err.kind() != ErrorKind::Interrupted {
            return Err(err);
        }
    }
}

/// A non-blocking `send` (no SIGPIPE); `WouldBlock` when the socket is full.
pub(super) fn send(fd: i32, buf: &[u8]) -> io::Result<usize> {
    loop {
        // SAFETY: `buf` is a valid, initialized slice for the whole call.
        let n = unsafe {
            libc::send(
                fd,
                buf.as_ptr().cast(),
                buf.len(),
                libc::MSG_DONTWAIT | libc::MSG_NOSIGNAL,
            )
        };
        if n >= 0 {
            return Ok(n as usize);
        }
        let err = io::Error::last_os_error();
        if err.kind() != ErrorKind::Interrupted {
            return Err(err);
        }
    }
}

/// The socket as rustls's writer: non-blocking sends.
struct SendFd(i32);

impl Write for SendFd {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        send(self.0, buf)
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// What a write left behind (see `blocking_server_cnxn_output`).
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Sent {
    /// Everything given was taken and is on the wire.
    All,
    /// Some bytes (or records) wait for the socket to drain.
    WouldBlock,
    /// The socket or the session is broken.
    Failed,
}

/// One connection's TLS session (see the module doc).
pub(super) struct TlsTransport {
    session: Mutex<ServerConnection>,
    handshake_timeout: Duration,
    /// The certificate subject that is also `super`.
    x509_super_user: Option<Arc<str>>,
}

impl TlsTransport {
    pub(super) fn new(
        config: Arc<ServerConfig>,
        handshake_timeout: Duration,
        x509_super_user: Option<Arc<str>>,
    ) -> io::Result<TlsTransport> {
        let session = ServerConnection::new(config).map_err(io::Error::other)?;
        Ok(TlsTransport {
            session: Mutex::new(session),
            handshake_timeout,
            x509_super_user,
        })
    }

    /// `X509AuthenticationProvider.superUser`, if set.
    pub(super) fn x509_super_user(&self) -> Option<&str> {
        self.x509_super_user.as_deref()
    }

    /// Runs the handshake to its end on the connection's own thread (the
    /// socket's read timeout is short; the deadline bounds the whole).
    pub(super) fn handshake(&self, fd: i32) -> io::Result<()> {
        let deadline = Instant::now() + self.handshake_timeout;
        let mut cipher = vec![0u8; CIPHER_CHUNK];
        loop {
            let mut s = lock(&self.session);
            while s.wants_write() {
                match s.write_tls(&mut SendFd(fd)) {
                    Ok(_) => {}
                    Err(e) if e.kind() == ErrorKind::WouldBlock => {
                        drop(s);
                        wait_writable(fd, deadline)?;
                        s = lock(&self.session);
                    }
                    Err(e) => return Err(e),
                }
            }
            if !s.is_handshaking() {
                return Ok(());
            }
            drop(s);
            let n = match recv(fd, &mut cipher) {
                Ok(n) => n,
                Err(e) if is_timeout(&e) && Instant::now() < deadline => continue,
                Err(e) if is_timeout(&e) => {
                    return Err(io::Error::new(
                        ErrorKind::TimedOut,
                        "the TLS handshake did not finish in time",
                    ))
                }
                Err(e) => return Err(e),
            };
            self.feed(fd, &cipher[..n])?;
        }
    }

    /// Hands received ciphertext to the session; on a protocol error the
    /// alert rustls queued is sent before the error is returned.
    fn feed(&self, fd: i32, mut cipher: &[u8]) -> io::Result<()> {
        let mut s = lock(&self.session);
        while !cipher.is_empty() {
            s.read_tls(&mut cipher)?;
            if let Err(e) = s.process_new_packets() {
                let _ = s.write_tls(&mut SendFd(fd));
                return Err(io::Error::new(ErrorKind::InvalidData, e));
            }
        }
        Ok(())
    }

    /// Reads plaintext into `buf`'s end, up to `room` bytes: what the
    /// session holds already, else one blocking `recv` of ciphertext
    /// (without the lock) first. `Ok(0)` never happens: the peer's
    /// close_notify or FIN is `UnexpectedEof`. Returns the bytes added
    /// and whether the session has records to send (a key update reply).
    #[inline(never)]
    pub(super) fn read_plain(
        &self,
        fd: i32,
        buf: &mut Vec<u8>,
        room: usize,
    ) -> io::Result<(usize, bool)> {
        let mut cipher = Vec::new();
        // Plaintext taken out while ciphertext was fed (see below).
        let mut drained = 0;
        loop {
            {
                let mut s = lock(&self.session);
                let start = buf.len();
                buf.resize(start + room, 0);
                let got = s.reader().read(&mut buf[start..]);
                buf.truncate(start + *got.as_ref().unwrap_or(&0));
                match got {
                    Ok(0) if drained == 0 => return Err(ErrorKind::UnexpectedEof.into()),
                    Ok(n) => return Ok((drained + n, s.wants_write())),
                    Err(e) if e.kind() == ErrorKind::WouldBlock && drained > 0 => {
                        return Ok((drained, s.wants_write()))
                    }
                    Err(e) if e.kind() == ErrorKind::WouldBlock => {}
                    Err(e) => return Err(e),
                }
            }
            cipher.resize(CIPHER_CHUNK, 0);
            let n = recv(fd, &mut cipher)?;
            drained += self.feed_draining(fd, &cipher[..n], buf)?;
        }
    }

    /// [`Self::feed`] for the reader: rustls refuses more ciphertext while
    /// it holds more than 16 KiB of plaintext (a full record and the next
    /// ones in one chunk can get there), so plaintext is moved to `buf`
    /// between records. Returns the bytes moved.
    fn feed_draining(&self, fd: i32, mut cipher: &[u8], buf: &mut Vec<u8>) -> io::Result<usize> {
        let mut s = lock(&self.session);
        let mut drained = 0;
        while !cipher.is_empty() {
            s.read_tls(&mut cipher)?;
            if let Err(e) = s.process_new_packets() {
                let _ = s.write_tls(&mut SendFd(fd));
                return Err(io::Error::new(ErrorKind::InvalidData, e));
            }
            if cipher.is_empty() {
                break;
            }
            loop {
                let at = buf.len();
                buf.resize(at + CIPHER_CHUNK, 0);
                let got = s.reader().read(&mut buf[at..]);
                let n = *got.as_ref().unwrap_or(&0);
                buf.truncate(at + n);
                drained += n;
                if n == 0 {
                    break;
                }
            }
        }
        Ok(drained)
    }

    /// Encrypts `plain` and writes the records: `taken` gets how much of
    /// `plain` the session took (it buffers a bounded amount).
    pub(super) fn send_plain(&self, fd: i32, plain: &[u8], taken: &mut usize) -> Sent {
        let mut s = lock(&self.session);
        loop {
            if *taken < plain.len() {
                match s.writer().write(&plain[*taken..]) {
                    Ok(n) => *taken += n,
                    Err(_) => return Sent::Failed,
                }
            }
            while s.wants_write() {
                match s.write_tls(&mut SendFd(fd)) {
                    Ok(_) => {}
                    Err(e) if e.kind() == ErrorKind::WouldBlock => return Sent::WouldBlock,
                    Err(e) => {
                        log::debug!("TLS send failed: {}", e);
                        return Sent::Failed;
                    }
                }
            }
            if *taken == plain.len() {
                return Sent::All;
            }
        }
    }

    /// Says goodbye (close_notify) if the socket takes it right away.
    pub(super) fn close_notify(&self, fd: i32) {
        let mut s = lock(&self.session);
        s.send_close_notify();
        while s.wants_write() {
            if s.write_tls(&mut SendFd(fd)).is_err() {
                break;
            }
        }
    }

    /// The client's certificate chain, leaf first, if it sent one.
    pub(super) fn peer_certificates(&self) -> Option<Vec<CertificateDer<'static>>> {
        let s = lock(&self.session);
        s.peer_certificates()
            .map(|certs| certs.iter().map(|c| c.clone().into_owned()).collect())
    }
}

/// The first byte of a TLS record that opens a handshake (content type
/// `handshake`). A plaintext client starts with a frame length or a
/// four-letter word: a length with this top byte is far beyond any
/// `jute.maxbuffer`, and no four-letter word starts with it.
const TLS_HANDSHAKE_RECORD: u8 = 0x16;

/// Port unification: waits up to `timeout` for the client's first byte
/// and tells whether it opens a TLS handshake (nothing is consumed).
/// A client that sends nothing in time, or closes, is taken as plaintext
/// and left to the plain read path.
pub(super) fn starts_with_tls(fd: i32, timeout: Duration) -> io::Result<bool> {
    let deadline = Instant::now() + timeout;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Ok(false);
        }
        let mut pfd = libc::pollfd {
            fd,
            events: libc::POLLIN,
            revents: 0,
        };
        let ms = left.as_millis().clamp(1, i32::MAX as u128) as i32;
        // SAFETY: one valid pollfd, `nfds` 1.
        let ready = unsafe { libc::poll(&mut pfd, 1, ms) };
        if ready < 0 {
            let err = io::Error::last_os_error();
            if err.kind() == ErrorKind::Interrupted {
                continue;
            }
            return Err(err);
        }
        if ready == 0 {
            continue;
        }
        let mut first = [0u8; 1];
        // SAFETY: `first` is one writable byte; MSG_PEEK leaves it queued.
        let n = unsafe { libc::recv(fd, first.as_mut_ptr().cast(), 1, libc::MSG_PEEK) };
        if n < 0 {
            let err = io::Error::last_os_error();
            if matches!(err.kind(), ErrorKind::Interrupted | ErrorKind::WouldBlock) {
                continue;
            }
            return Err(err);
        }
        return Ok(n == 1 && first[0] == TLS_HANDSHAKE_RECORD);
    }
}

/// The socket's read timeout ran out.
fn is_timeout(e: &io::Error) -> bool {
    matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut)
}

/// Waits until `fd` takes more bytes or `deadline` passes.
fn wait_writable(fd: i32, deadline: Instant) -> io::Result<()> {
    let left = deadline.saturating_duration_since(Instant::now());
    if left.is_zero() {
        return Err(io::Error::new(
            ErrorKind::TimedOut,
            "the TLS handshake did not finish in time",
        ));
    }
    let mut pfd = libc::pollfd {
        fd,
        events: libc::POLLOUT,
        revents: 0,
    };
    let ms = left.as_millis().clamp(1, i32::MAX as u128) as i32;
    // SAFETY: one valid pollfd, `nfds` 1.
    unsafe { libc::poll(&mut pfd, 1, ms) };
    Ok(())
}
