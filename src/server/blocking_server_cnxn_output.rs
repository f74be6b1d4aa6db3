//! The send side of a client connection: no writer thread. Whoever
//! produces a reply or a notification (the Sync thread running Final, the
//! connection's own reader, the session expirer) appends the frame to the
//! connection's output buffer and, unless its thread is *corked*, writes
//! the buffer to the socket right away with a non-blocking `send`.
//!
//! Corking ([`cork`], in the connection interface) batches: while a thread holds a [`CorkGuard`], frames
//! are still appended to each connection's buffer at once (so their order
//! against other threads' frames is the order of production: a watch event
//! queued under the tree's write lock stays ahead of any later read's
//! reply), but the `send` is deferred until the outermost guard drops, when
//! every connection touched gets one write for everything it gathered. The
//! Sync thread corks a whole fsync batch; a reader corks the frames it read
//! in one `recv`.
//!
//! When the socket would block (a client not reading fast enough), the
//! connection is handed to the one shared flusher thread ("cnxn-flusher"),
//! which `poll`s every stalled socket for writability and writes when it
//! can; until then producers only append. A connection making no progress
//! for [`WRITE_STALL_TIMEOUT`] or holding more than [`MAX_QUEUED_BYTES`]
//! unsent is cut off.
//!
//! [`cork`]: crate::server::server_cnxn::cork
//!
//! Mirrors: the write half of `org.apache.zookeeper.server.NIOServerCnxn`
//! (`sendBuffer`, `handleWrite`).

use std::os::fd::AsRawFd;
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use log::{debug, warn};
use parking_lot::{Condvar, Mutex};

use super::threads::lock;
use super::transport::{send, Sent, TlsTransport};
use super::{BlockingServerCnxn, CloseReason};
use crate::server::server_cnxn::{corked_here, hold_until_uncorked};

/// A write making no progress for this long means the client is gone.
pub const WRITE_STALL_TIMEOUT: Duration = Duration::from_secs(30);
/// Queued, unwritten reply bytes beyond which a client that does not read
/// is disconnected (Java has no bound and relies on session expiry; a
/// bound keeps one stuck client from eating the heap).
pub const MAX_QUEUED_BYTES: usize = 64 * 1024 * 1024;
/// An idle output buffer larger than this is given back to the allocator.
const KEEP_CAPACITY: usize = 64 * 1024;
/// How often the flusher wakes without news, to enforce the stall timeout.
const FLUSHER_TICK_MS: i32 = 1000;

/// The output state of one connection, behind its mutex.
#[derive(Default)]
pub(super) struct Output {
    /// Frames appended and not yet fully written, in order; `buf[..written]`
    /// is already on the wire.
    pub(super) buf: Vec<u8>,
    /// Bytes of `buf` already written.
    written: usize,
    /// Listed in some thread's cork list: that thread writes at uncork.
    corked: bool,
    /// The socket would block: the flusher owns writing, since this time
    /// (reset on progress).
    stalled: Option<Instant>,
    /// A close was requested: flush, then close. Later frames are dropped.
    pub(super) closing: Option<CloseReason>,
    /// The socket is finished (flushed and shut down, or broken).
    pub(super) dead: bool,
    /// The connection's own thread waits in `finish_output` for the last
    /// bytes to go (so whoever makes progress must wake it).
    reader_waiting: bool,
}

impl Output {
    /// Unsent bytes.
    pub(super) fn pending(&self) -> usize {
        self.buf.len() - self.written
    }
}

/// What a write attempt left behind.
#[derive(Debug, PartialEq, Eq)]
enum Progress {
    /// Everything written.
    Done,
    /// The socket is full; some bytes remain.
    WouldBlock,
    /// The socket is broken.
    Failed,
}

/// Writes `out`'s unsent bytes with non-blocking sends, through the TLS
/// session if there is one.
fn send_pending(fd: i32, tls: Option<&TlsTransport>, out: &mut Output) -> Progress {
    if let Some(tls) = tls {
        let mut taken = out.written;
        let sent = tls.send_plain(fd, &out.buf, &mut taken);
        out.written = taken;
        match sent {
            Sent::All => {}
            Sent::WouldBlock => return Progress::WouldBlock,
            Sent::Failed => return Progress::Failed,
        }
    }
    while out.written < out.buf.len() {
        match send(fd, &out.buf[out.written..]) {
            Ok(n) => out.written += n,
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => return Progress::WouldBlock,
            Err(e) => {
                debug!("send failed: {}", e);
                return Progress::Failed;
            }
        }
    }
    out.buf.clear();
    out.written = 0;
    if out.buf.capacity() > KEEP_CAPACITY {
        out.buf = Vec::new();
    }
    Progress::Done
}

impl BlockingServerCnxn {
    /// Appends one frame built by `fill` (which writes the frame's body;
    /// the length prefix is added here) and writes or defers it. Frames
    /// after a close request are dropped.
    pub(super) fn push_frame(&self, fill: impl FnOnce(&mut Vec<u8>)) {
        self.append(true, |buf| frame(buf, fill));
    }

    /// Appends bytes that are not a frame (a four-letter word's answer).
    pub(super) fn push_bytes(&self, bytes: &[u8]) {
        self.append(false, |buf| buf.extend_from_slice(bytes));
    }

    fn append(&self, is_frame: bool, fill: impl FnOnce(&mut Vec<u8>)) {
        let mut out = lock(&self.out);
        if out.dead || out.closing.is_some() {
            return;
        }
        fill(&mut out.buf);
        if is_frame {
            // Counted as queued, so a client that has read a reply always
            // sees it counted (srvr's `Sent`).
            self.sent.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            self.handler.incr_packets_sent();
        }
        if out.pending() > MAX_QUEUED_BYTES {
            drop(out);
            warn!(
                "Closing connection to {}: more than {} bytes of replies unread",
                super::command::java_socket_address(&self.remote),
                MAX_QUEUED_BYTES
            );
            self.force_close();
            return;
        }
        self.kick(&mut out);
    }

    /// After an append: write now, or leave it to the cork holder or the
    /// flusher.
    fn kick(&self, out: &mut Output) {
        if out.stalled.is_some() || out.corked {
            return;
        }
        if corked_here() {
            if let Some(me) = self.me.upgrade() {
                out.corked = true;
                hold_until_uncorked(me);
                return;
            }
        }
        self.write_out(out);
    }

    /// Writes what is pending; on a full socket hands over to the flusher;
    /// finishes a requested close once everything is out.
    fn write_out(&self, out: &mut Output) {
        match send_pending(self.stream.as_raw_fd(), self.transport(), out) {
            Progress::Done => {
                out.stalled = None;
                if out.closing.is_some() {
                    self.finish_or_hand_over(out);
                }
            }
            Progress::WouldBlock => {
                if out.stalled.is_none() {
                    out.stalled = Some(Instant::now());
                    if let Some(me) = self.me.upgrade() {
                        flusher().add(me);
                    }
                }
            }
            Progress::Failed => self.finish(out),
        }
    }

    /// Everything is written and the connection is closing. Its own thread
    /// finishes it; any other (the Sync thread, which just wrote the reply
    /// to a closeSession) only wakes it, sparing itself the FIN.
    fn finish_or_hand_over(&self, out: &mut Output) {
        if self.served_here() {
            self.finish(out);
        } else if out.reader_waiting {
            self.out_done.notify_all();
        } else {
            // The reader sees end-of-input and finishes in `finish_output`.
            let _ = self.stream.shutdown(std::net::Shutdown::Read);
        }
    }

    /// The socket is done: shut it down and wake whoever waits for that.
    fn finish(&self, out: &mut Output) {
        out.dead = true;
        out.buf = Vec::new();
        out.written = 0;
        if let Some(tls) = self.transport() {
            tls.close_notify(self.stream.as_raw_fd());
        }
        let _ = self.stream.shutdown(std::net::Shutdown::Both);
        if out.reader_waiting {
            self.out_done.notify_all();
        }
    }

    /// Marks the connection closing; closes at once when nothing is
    /// pending. True if this was the first close request.
    pub(super) fn request_close(&self, reason: CloseReason) -> bool {
        let mut out = lock(&self.out);
        if out.closing.is_some() || out.dead {
            return false;
        }
        out.closing = Some(reason);
        if out.pending() == 0 && out.stalled.is_none() && !out.corked {
            self.finish(&mut out);
        }
        true
    }

    /// Drops everything and closes now.
    pub(super) fn kill_output(&self) {
        let mut out = lock(&self.out);
        if !out.dead {
            self.finish(&mut out);
        }
    }

    /// The connection's own thread, at its end (after `close`): writes the
    /// last bytes itself unless a cork holder or the flusher owns them,
    /// and waits until the output is finished or `timeout` passes.
    pub(super) fn finish_output(&self, timeout: Duration) {
        let deadline = Instant::now() + timeout;
        let mut out = lock(&self.out);
        while !out.dead {
            if !out.corked && out.stalled.is_none() {
                // Closing, so this finishes the socket once all is out.
                self.write_out(&mut out);
                if out.dead {
                    break;
                }
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                break;
            }
            out.reader_waiting = true;
            out = self
                .out_done
                .wait_timeout(out, left)
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .0;
            out.reader_waiting = false;
        }
    }

    /// The TLS session has records of its own to send (after a read):
    /// written now unless a cork holder or the flusher owns the socket.
    /// Not inlined into the read loop, whose frame must stay small.
    #[inline(never)]
    pub(super) fn flush_transport(&self) {
        let mut out = lock(&self.out);
        if !out.dead && !out.corked && out.stalled.is_none() {
            self.write_out(&mut out);
        }
    }

    /// An idle connection's output buffer keeps no spare room.
    pub(super) fn release_output_room(&self) {
        let mut out = lock(&self.out);
        if out.pending() == 0 && out.buf.capacity() > 0 && !out.corked && out.stalled.is_none() {
            out.buf = Vec::new();
            out.written = 0;
        }
    }

    /// The cork holder's write (see the module doc).
    pub(super) fn uncork(&self) {
        let mut out = lock(&self.out);
        out.corked = false;
        if out.dead || out.stalled.is_some() {
            return;
        }
        self.write_out(&mut out);
    }

    /// The flusher's turn: write what it can. True while still stalled.
    fn flush_stalled(&self, now: Instant) -> bool {
        let mut out = lock(&self.out);
        if out.dead {
            return false;
        }
        let before = out.pending();
        match send_pending(self.stream.as_raw_fd(), self.transport(), &mut out) {
            Progress::Done => {
                out.stalled = None;
                if out.closing.is_some() {
                    self.finish(&mut out);
                }
                false
            }
            Progress::WouldBlock => {
                let since = match out.pending() < before {
                    true => now,
                    false => out.stalled.unwrap_or(now),
                };
                out.stalled = Some(since);
                if now.duration_since(since) < WRITE_STALL_TIMEOUT {
                    return true;
                }
                warn!(
                    "Closing connection to {}: no write progress for {:?}",
                    super::command::java_socket_address(&self.remote),
                    WRITE_STALL_TIMEOUT
                );
                self.finish(&mut out);
                false
            }
            Progress::Failed => {
                self.finish(&mut out);
                false
            }
        }
    }
}

/// Appends a frame's length prefix, then what `fill` writes, to `buf`.
fn frame(buf: &mut Vec<u8>, fill: impl FnOnce(&mut Vec<u8>)) {
    let start = buf.len();
    buf.extend_from_slice(&[0; 4]);
    fill(buf);
    let len = (buf.len() - start - 4) as i32;
    buf[start..start + 4].copy_from_slice(&len.to_be_bytes());
}

// ---- the flusher thread ----

/// The stalled connections and the pipe that wakes the flusher.
struct Flusher {
    added: Mutex<Vec<Arc<BlockingServerCnxn>>>,
    /// Signalled when `added` gets a connection and the pipe is unusable.
    added_cv: Condvar,
    /// Write end of the wake-up pipe (-1 if none could be made).
    wake_w: i32,
}

impl Flusher {
    fn add(&self, cnxn: Arc<BlockingServerCnxn>) {
        self.added.lock().push(cnxn);
        self.added_cv.notify_one();
        if self.wake_w >= 0 {
            // SAFETY: a one-byte write from a valid buffer; a full pipe
            // (EAGAIN) already guarantees a wake-up.
            unsafe { libc::write(self.wake_w, [1u8].as_ptr().cast(), 1) };
        }
    }
}

fn flusher() -> &'static Flusher {
    static FLUSHER: OnceLock<&'static Flusher> = OnceLock::new();
    FLUSHER.get_or_init(|| {
        let mut fds = [-1i32; 2];
        // SAFETY: `fds` has room for the two descriptors pipe2 writes.
        let ok = unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_NONBLOCK | libc::O_CLOEXEC) } == 0;
        let (wake_r, wake_w) = if ok { (fds[0], fds[1]) } else { (-1, -1) };
        let flusher: &'static Flusher = Box::leak(Box::new(Flusher {
            added: Mutex::new(Vec::new()),
            added_cv: Condvar::new(),
            wake_w,
        }));
        let spawned = std::thread::Builder::new()
            .name("cnxn-flusher".into())
            .stack_size(256 * 1024)
            .spawn(move || run_flusher(flusher, wake_r));
        if let Err(e) = spawned {
            log::error!("cannot start the connection flusher thread: {}", e);
        }
        flusher
    })
}

/// Polls the stalled sockets for writability and writes when they can.
fn run_flusher(flusher: &'static Flusher, wake_r: i32) {
    let mut stalled: Vec<Arc<BlockingServerCnxn>> = Vec::new();
    let mut fds: Vec<libc::pollfd> = Vec::new();
    loop {
        {
            let mut added = flusher.added.lock();
            if stalled.is_empty() && added.is_empty() && wake_r < 0 {
                flusher
                    .added_cv
                    .wait_for(&mut added, Duration::from_millis(FLUSHER_TICK_MS as u64));
            }
            stalled.append(&mut added);
        }
        fds.clear();
        fds.push(libc::pollfd {
            fd: wake_r,
            events: libc::POLLIN,
            revents: 0,
        });
        for c in &stalled {
            fds.push(libc::pollfd {
                fd: c.stream.as_raw_fd(),
                events: libc::POLLOUT,
                revents: 0,
            });
        }
        let tick = if wake_r < 0 && !stalled.is_empty() {
            10
        } else {
            FLUSHER_TICK_MS
        };
        // SAFETY: `fds` is a valid array of `fds.len()` pollfd structs.
        unsafe { libc::poll(fds.as_mut_ptr(), fds.len() as libc::nfds_t, tick) };
        if wake_r >= 0 && fds[0].revents != 0 {
            let mut sink = [0u8; 64];
            // SAFETY: reads into a local buffer of the given size.
            while unsafe { libc::read(wake_r, sink.as_mut_ptr().cast(), sink.len()) } > 0 {}
        }
        let now = Instant::now();
        stalled.retain(|c| c.flush_stalled(now));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;
    use std::net::{TcpListener, TcpStream};

    fn pair() -> (TcpStream, TcpStream) {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let a = TcpStream::connect(l.local_addr().unwrap()).unwrap();
        let (b, _) = l.accept().unwrap();
        (a, b)
    }

    #[test]
    fn send_pending_writes_all_and_resets_the_buffer() {
        let (a, mut b) = pair();
        let mut out = Output {
            buf: b"hello".to_vec(),
            ..Output::default()
        };
        assert_eq!(send_pending(a.as_raw_fd(), None, &mut out), Progress::Done);
        assert_eq!(out.pending(), 0);
        let mut got = [0u8; 5];
        b.read_exact(&mut got).unwrap();
        assert_eq!(&got, b"hello");
    }

    #[test]
    fn send_pending_stops_at_a_full_socket_and_resumes() {
        let (a, mut b) = pair();
        let total = 16 * 1024 * 1024;
        let mut out = Output {
            buf: vec![7u8; total],
            ..Output::default()
        };
        assert_eq!(
            send_pending(a.as_raw_fd(), None, &mut out),
            Progress::WouldBlock
        );
        assert!(out.pending() > 0 && out.pending() < total);
        let reader = std::thread::spawn(move || {
            let mut n = 0;
            let mut chunk = vec![0u8; 1 << 16];
            while n < total {
                n += b.read(&mut chunk).unwrap();
            }
            n
        });
        while send_pending(a.as_raw_fd(), None, &mut out) != Progress::Done {
            std::thread::sleep(Duration::from_millis(1));
        }
        assert_eq!(reader.join().unwrap(), total);
    }

    #[test]
    fn send_pending_reports_a_broken_socket() {
        let (a, b) = pair();
        drop(b);
        let mut out = Output {
            buf: vec![1u8; 1 << 20],
            ..Output::default()
        };
        // The first send may still land in the buffer; the peer's RST then fails it.
        let mut result = send_pending(a.as_raw_fd(), None, &mut out);
        for _ in 0..100 {
            if result == Progress::Failed {
                break;
            }
            std::thread::sleep(Duration::from_millis(5));
            out.buf.extend_from_slice(&[1u8; 1024]);
            result = send_pending(a.as_raw_fd(), None, &mut out);
        }
        assert_eq!(result, Progress::Failed);
    }
}
