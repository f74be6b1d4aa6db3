//! One client connection on a blocking socket: a reader thread turns
//! frames into calls on the server, a writer thread sends queued replies.
//!
//! Reader thread ("cnxn-<id>-reader"): reads an int32 length and checks it
//! against `jute.maxbuffer`. On a fresh connection those four bytes may
//! instead spell a four-letter word (answered, then closed). The first
//! frame is the ConnectRequest; reading then pauses until the server calls
//! `finish_session_init` (Java disables reads the same way), and every
//! later frame is a RequestHeader plus payload for `process_packet`.
//! Idle connections expire like Java's: 10 s before the handshake, the
//! negotiated session timeout after it.
//!
//! Writer thread ("cnxn-<id>-writer"): waits for queued frames, writes
//! everything queued with one `write` (batching), in queue order, and
//! closes the socket once a requested close has been flushed. Callers of
//! `send_response`, `process` and `finish_session_init` only push onto the
//! queue, so the pipeline never waits on a client's network. A client that
//! stops reading is cut off when its queue passes [`MAX_QUEUED_BYTES`] or a
//! write stalls for [`WRITE_STALL_TIMEOUT`].
//!
//! Mirrors: `org.apache.zookeeper.server.NIOServerCnxn` (and the
//! connection-level parts of `ServerCnxn`).

use std::collections::VecDeque;
use std::io::{self, BufReader, ErrorKind, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use log::{debug, info, warn};
use parking_lot::{Condvar, Mutex};

use super::command::{self, CommandContext, CommandOutcome, ConnectionInfo, FourLetterWord};
use super::cnxn_stats::CnxnStats;
use super::server_cnxn::{CloseReason, ServerCnxn};
use super::server_metrics;
use super::server_cnxn_factory::{CnxnHandler, CnxnRegistry};
use super::watch::{WatchedEvent, Watcher};
use crate::jute::data::Id;
use crate::jute::proto::{ConnectRequest, ConnectResponse, ReplyHeader, RequestHeader, WatcherEvent};
use crate::jute;

/// `zookeeper.nio.sessionlessCnxnTimeout`: how long a connection may sit
/// without completing its handshake (or sending anything) before it is
/// closed.
pub const SESSIONLESS_CNXN_TIMEOUT: Duration = Duration::from_secs(10);
/// A write making no progress for this long means the client is gone.
pub const WRITE_STALL_TIMEOUT: Duration = Duration::from_secs(30);
/// Queued, unwritten reply bytes beyond which a client that does not read
/// is disconnected (Java has no bound and relies on session expiry; a
/// bound keeps one stuck client from eating the heap).
pub const MAX_QUEUED_BYTES: usize = 64 * 1024 * 1024;
/// Bytes of a RequestHeader (xid, type).
const REQUEST_HEADER_LEN: usize = 8;

/// Source of connection ids (watch tables key on them).
static NEXT_CNXN_ID: AtomicU64 = AtomicU64::new(1);

/// A client connection (see the module doc).
pub struct BlockingServerCnxn {
    /// Unique for the life of the process; also the watcher id.
    id: u64,
    /// The peer, fixed at accept.
    remote: SocketAddr,
    /// The socket. The reader reads through its own clone; this one is used
    /// by the writer and by `close` (shutdown wakes a blocked reader).
    stream: TcpStream,
    /// The server (a trait object so framing can be tested alone).
    handler: Arc<dyn CnxnHandler>,
    /// Where this connection is listed; the reader removes it at the end.
    registry: Arc<CnxnRegistry>,
    /// Bound session (0 until the handshake succeeds); set by the pipeline.
    session_id: AtomicI64,
    /// Identities: `ip:<addr>` from the start, plus any `addauth`.
    auth_info: Mutex<Vec<Id>>,
    /// Frames waiting for the writer; lock never held across I/O.
    outgoing: Mutex<Outgoing>,
    /// Wakes the writer (new frame, close requested).
    outgoing_ready: Condvar,
    /// Handshake progress; the reader waits on it after the ConnectRequest.
    handshake: Mutex<Handshake>,
    /// Wakes the reader when the handshake ends or the connection closes.
    handshake_changed: Condvar,
    /// Frames received (for `cons`/`stat`).
    received: AtomicU64,
    /// Frames written.
    sent: AtomicU64,
    /// Requests (xid > 0) passed to the server and not yet answered.
    queued: AtomicU64,
    /// The client sent the optional readOnly byte in its ConnectRequest;
    /// only then does the ConnectResponse carry one (Java's `isOldClient`
    /// in reverse). Written by the reader before the handshake is handed
    /// over, read by whoever calls `finish_session_init`.
    client_sent_read_only: AtomicBool,
    /// Last op, latencies, session timeout (for `cons`/`crst`).
    pub stats: CnxnStats,
}

/// The writer's queue and the close state.
#[derive(Default)]
struct Outgoing {
    /// Length-prefixed frames, in send order.
    frames: VecDeque<Vec<u8>>,
    /// Sum of `frames` lengths.
    bytes: usize,
    /// A close was requested: flush, then close. Later frames are dropped.
    closing: Option<CloseReason>,
    /// The socket is finished (flushed and closed, or broken): drop all.
    dead: bool,
}

/// Where the handshake stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Handshake {
    /// No ConnectRequest read yet.
    NotStarted,
    /// ConnectRequest handed to the server; reading is paused.
    Pending,
    /// The server accepted the session.
    Done,
    /// The connection is closing.
    Closed,
}

/// Why the reader stopped.
#[derive(Debug)]
enum ReadEnd {
    /// A four-letter word was answered.
    FourLetterWord,
    /// The peer closed the socket (or `close` shut our read side).
    Eof,
    /// An impossible frame length (Java's "Len error").
    BadLength(i32),
    /// A frame that does not decode.
    Malformed(&'static str, String),
    /// No data for the idle timeout.
    Expired,
    /// Any other socket error.
    Io(io::Error),
    /// The server closed us while the handshake was pending.
    Closed,
}

impl From<io::Error> for ReadEnd {
    fn from(e: io::Error) -> ReadEnd {
        match e.kind() {
            ErrorKind::UnexpectedEof => ReadEnd::Eof,
            ErrorKind::WouldBlock | ErrorKind::TimedOut => ReadEnd::Expired,
            _ => ReadEnd::Io(e),
        }
    }
}

impl BlockingServerCnxn {
    /// Wraps an accepted socket; no thread runs until [`Self::start`].
    pub fn new(
        stream: TcpStream,
        handler: Arc<dyn CnxnHandler>,
        registry: Arc<CnxnRegistry>,
    ) -> io::Result<Arc<BlockingServerCnxn>> {
        let remote = stream.peer_addr()?;
        stream.set_nodelay(true)?;
        stream.set_read_timeout(Some(SESSIONLESS_CNXN_TIMEOUT))?;
        stream.set_write_timeout(Some(WRITE_STALL_TIMEOUT))?;
        let ip = Id { scheme: "ip".to_string(), id: command::java_host_address(&remote.ip()) };
        Ok(Arc::new(BlockingServerCnxn {
            id: NEXT_CNXN_ID.fetch_add(1, Ordering::Relaxed),
            remote,
            stream,
            handler,
            registry,
            session_id: AtomicI64::new(0),
            auth_info: Mutex::new(vec![ip]),
            outgoing: Mutex::new(Outgoing::default()),
            outgoing_ready: Condvar::new(),
            handshake: Mutex::new(Handshake::NotStarted),
            handshake_changed: Condvar::new(),
            received: AtomicU64::new(0),
            sent: AtomicU64::new(0),
            queued: AtomicU64::new(0),
            client_sent_read_only: AtomicBool::new(false),
            stats: CnxnStats::new(),
        }))
    }

    /// Starts the reader thread (which starts the writer).
    pub fn start(self: &Arc<Self>) -> io::Result<()> {
        let reader_stream = self.stream.try_clone()?;
        let me = self.clone();
        std::thread::Builder::new()
            .name(format!("cnxn-{}-reader", self.id))
            .spawn(move || me.run_reader(reader_stream))?;
        Ok(())
    }

    /// The connection id.
    pub fn id(&self) -> u64 {
        self.id
    }

    /// What `stat`/`cons` show for this connection.
    pub fn info(&self) -> ConnectionInfo {
        // Java stops selecting a connection while its handshake is pending
        // and once it runs a four-letter word (the key is cancelled).
        let reading = matches!(*self.handshake.lock(), Handshake::NotStarted | Handshake::Done);
        let out = self.outgoing.lock();
        let live = !out.dead && out.closing.is_none();
        let interest_ops = match live {
            false => 0,
            true => u32::from(reading) | if out.frames.is_empty() { 0 } else { 4 },
        };
        ConnectionInfo {
            remote: self.remote,
            interest_ops,
            queued: self.queued.load(Ordering::Relaxed),
            received: self.received.load(Ordering::Relaxed),
            sent: self.sent.load(Ordering::Relaxed),
            session_id: self.session_id.load(Ordering::Relaxed),
            stats: self.stats.snapshot(),
        }
    }

    /// Closes now, dropping anything queued (refused sockets, stuck
    /// clients at shutdown).
    pub fn force_close(&self) {
        self.outgoing.lock().dead = true;
        self.outgoing_ready.notify_all();
        self.set_handshake(Handshake::Closed);
        let _ = self.stream.shutdown(Shutdown::Both);
    }

    // ---- reader thread ----

    /// The reader thread: frames in until the end, then cleanup.
    fn run_reader(self: Arc<Self>, stream: TcpStream) {
        let me = self.clone();
        let writer = std::thread::Builder::new()
            .name(format!("cnxn-{}-writer", self.id))
            .spawn(move || me.run_writer());
        let end = match &writer {
            Ok(_) => self.read_frames(&mut BufReader::new(stream)),
            Err(e) => ReadEnd::Io(io::Error::new(e.kind(), e.to_string())),
        };
        let reason = self.log_end(&end);
        self.close(reason);
        if let Ok(handle) = writer {
            let _ = handle.join();
        }
        // The writer normally did this; make sure even without a writer.
        let _ = self.stream.shutdown(Shutdown::Both);
        self.handler.remove_cnxn(&*self);
        self.registry.unregister(self.id);
    }

    /// Reads frames until something ends the connection.
    fn read_frames(self: &Arc<Self>, input: &mut impl Read) -> ReadEnd {
        let first = match read_i32(input) {
            Ok(value) => value,
            Err(e) => return e.into(),
        };
        if let Some(word) = FourLetterWord::from_code(first) {
            // `None`: not a command after all, but a (bad) length.
            if let Some(end) = self.four_letter_word(word, input) {
                return end;
            }
        }
        let frame = match self.read_frame_body(first, input) {
            Ok(frame) => frame,
            Err(end) => return end,
        };
        if let Err(end) = self.handshake_with(&frame) {
            return end;
        }
        loop {
            let frame = match read_i32(input).map_err(ReadEnd::from) {
                Ok(len) => match self.read_frame_body(len, input) {
                    Ok(frame) => frame,
                    Err(end) => return end,
                },
                Err(end) => return end,
            };
            if let Err(end) = self.submit(frame) {
                return end;
            }
        }
    }

    /// Checks a frame length and reads the frame.
    fn read_frame_body(&self, len: i32, input: &mut impl Read) -> Result<Vec<u8>, ReadEnd> {
        let len = frame_len(len, jute::max_buffer()).ok_or(ReadEnd::BadLength(len))?;
        let mut frame = vec![0u8; len];
        input.read_exact(&mut frame)?;
        self.received.fetch_add(1, Ordering::Relaxed);
        self.handler.incr_packets_received();
        server_metrics::record_bytes_received(len);
        Ok(frame)
    }

    /// The ConnectRequest: hand it over, then wait for the verdict.
    fn handshake_with(self: &Arc<Self>, frame: &[u8]) -> Result<(), ReadEnd> {
        let request: ConnectRequest = jute::from_bytes(frame)
            .map_err(|e| ReadEnd::Malformed("ConnectRequest", e.to_string()))?;
        debug!("ConnectRequest from {}: session 0x{:x}", self.remote, request.session_id);
        self.client_sent_read_only.store(request.read_only.is_some(), Ordering::SeqCst);
        self.set_handshake(Handshake::Pending);
        let cnxn: Arc<dyn ServerCnxn> = self.clone();
        self.handler.process_connect_request(cnxn, request);
        let mut state = self.handshake.lock();
        while *state == Handshake::Pending {
            self.handshake_changed.wait(&mut state);
        }
        match *state {
            Handshake::Done => Ok(()),
            _ => Err(ReadEnd::Closed),
        }
    }

    /// A request frame: split off the header and hand it over.
    fn submit(self: &Arc<Self>, mut frame: Vec<u8>) -> Result<(), ReadEnd> {
        if frame.len() < REQUEST_HEADER_LEN {
            let why = format!("{} bytes, a RequestHeader needs {}", frame.len(), REQUEST_HEADER_LEN);
            return Err(ReadEnd::Malformed("RequestHeader", why));
        }
        let header: RequestHeader = jute::from_bytes(&frame)
            .map_err(|e| ReadEnd::Malformed("RequestHeader", e.to_string()))?;
        let payload = frame.split_off(REQUEST_HEADER_LEN);
        self.stats.request_received(header.xid, header.r#type);
        if header.xid > 0 {
            self.queued.fetch_add(1, Ordering::Relaxed);
        }
        let cnxn: Arc<dyn ServerCnxn> = self.clone();
        self.handler.process_packet(&cnxn, header, payload);
        Ok(())
    }

    /// Answers a four-letter word; `None` if Java would treat the four
    /// bytes as a length after all.
    fn four_letter_word(&self, word: FourLetterWord, input: &mut impl Read) -> Option<ReadEnd> {
        self.received.fetch_add(1, Ordering::Relaxed);
        self.handler.incr_packets_received();
        self.set_handshake(Handshake::Closed);
        let whitelist = self.handler.four_letter_word_whitelist();
        let mut argument = None;
        if command::is_enabled(word, whitelist) {
            info!("Processing {} command from {}", word.name(), command::java_socket_address(&self.remote));
            if word.takes_argument() {
                let mut mask = [0u8; 8];
                if let Err(e) = input.read_exact(&mut mask) {
                    return Some(e.into());
                }
                argument = Some(i64::from_be_bytes(mask));
            }
        } else {
            debug!("Command {} is not executed because it is not in the whitelist.", word.name());
        }
        let shared_server = self.handler.zk_server_arc();
        let ctx = CommandContext {
            stats: self.handler.stats(),
            mode: self.handler.mode(),
            connections: self.registry.connection_infos(),
            whitelist,
            argument,
            server: shared_server.as_deref().or_else(|| self.handler.zk_server()),
            registry: Some(&self.registry),
        };
        match command::execute(word, &ctx) {
            CommandOutcome::Reply(text) => self.enqueue(text.into_bytes()),
            CommandOutcome::NotACommand => return None,
            CommandOutcome::NotImplemented => {
                warn!("four-letter word {} is not implemented yet; closing", word.name())
            }
        }
        Some(ReadEnd::FourLetterWord)
    }

    /// Logs why the reader stopped; returns the close reason.
    fn log_end(&self, end: &ReadEnd) -> CloseReason {
        let peer = command::java_socket_address(&self.remote);
        match end {
            ReadEnd::FourLetterWord => CloseReason::ConnectionClosed,
            ReadEnd::Eof | ReadEnd::Closed => {
                debug!("connection from {} ended (peer closed or server closed it)", peer);
                CloseReason::ConnectionClosed
            }
            ReadEnd::BadLength(len) => {
                warn!(
                    "Len error. A message from {} with advertised length of {} is either a \
                     malformed message or too large to process (length is greater than \
                     jute.maxbuffer={})",
                    peer,
                    len,
                    jute::max_buffer()
                );
                CloseReason::BadRequest
            }
            ReadEnd::Malformed(what, why) => {
                warn!("Closing connection to {}: malformed {}: {}", peer, what, why);
                CloseReason::BadRequest
            }
            ReadEnd::Expired => {
                info!("Closing idle connection from {} (no data within its timeout)", peer);
                CloseReason::ConnectionClosed
            }
            ReadEnd::Io(e) => {
                info!("Connection to {} broke: {}", peer, e);
                CloseReason::ConnectionClosed
            }
        }
    }

    fn set_handshake(&self, state: Handshake) {
        let mut current = self.handshake.lock();
        if *current != Handshake::Closed {
            *current = state;
        }
        self.handshake_changed.notify_all();
    }

    // ---- writer side ----

    /// Queues one frame (already length-prefixed) for the writer.
    fn enqueue(&self, frame: Vec<u8>) {
        let mut out = self.outgoing.lock();
        if out.dead || out.closing.is_some() {
            return;
        }
        out.bytes += frame.len();
        out.frames.push_back(frame);
        if out.bytes > MAX_QUEUED_BYTES {
            drop(out);
            warn!(
                "Closing connection to {}: more than {} bytes of replies unread",
                command::java_socket_address(&self.remote),
                MAX_QUEUED_BYTES
            );
            self.force_close();
            return;
        }
        self.outgoing_ready.notify_one();
    }

    /// The writer thread: drain the queue in batches until closed.
    fn run_writer(self: Arc<Self>) {
        while let Some((batch, frames)) = self.next_batch() {
            // Counted as they are handed to the socket, so a client that
            // has read a reply always sees it counted (srvr's `Sent`).
            self.sent.fetch_add(frames as u64, Ordering::Relaxed);
            for _ in 0..frames {
                self.handler.incr_packets_sent();
            }
            if let Err(e) = (&self.stream).write_all(&batch) {
                debug!("write to {} failed: {}", self.remote, e);
                self.outgoing.lock().dead = true;
                break;
            }
        }
        self.outgoing.lock().dead = true;
        let _ = self.stream.shutdown(Shutdown::Both);
        self.set_handshake(Handshake::Closed);
    }

    /// Everything queued, concatenated, with the frame count; `None` once
    /// closed and flushed.
    fn next_batch(&self) -> Option<(Vec<u8>, usize)> {
        let mut out = self.outgoing.lock();
        loop {
            if out.dead {
                return None;
            }
            if !out.frames.is_empty() {
                let frames = out.frames.len();
                let mut batch = Vec::with_capacity(out.bytes);
                for frame in out.frames.drain(..) {
                    batch.extend_from_slice(&frame);
                }
                out.bytes = 0;
                return Some((batch, frames));
            }
            if out.closing.is_some() {
                return None;
            }
            self.outgoing_ready.wait(&mut out);
        }
    }
}

/// Reads a big-endian int32.
fn read_i32(input: &mut impl Read) -> io::Result<i32> {
    let mut bytes = [0u8; 4];
    input.read_exact(&mut bytes)?;
    Ok(i32::from_be_bytes(bytes))
}

/// A frame length is acceptable when 0 <= len <= jute.maxbuffer.
fn frame_len(len: i32, max_buffer: usize) -> Option<usize> {
    usize::try_from(len).ok().filter(|&n| n <= max_buffer)
}

/// `len` + serialized parts, as one frame.
fn frame_of(parts: &[&[u8]]) -> Vec<u8> {
    let len: usize = parts.iter().map(|p| p.len()).sum();
    let mut frame = Vec::with_capacity(4 + len);
    frame.extend_from_slice(&(len as i32).to_be_bytes());
    for part in parts {
        frame.extend_from_slice(part);
    }
    frame
}

/// A notification frame: ReplyHeader{-1, zxid, 0} + WatcherEvent. The zxid
/// is the triggering txn's, as 3.9 sends it (3.8 sent -1).
fn notification_frame(event: &WatchedEvent) -> Vec<u8> {
    let header = ReplyHeader { xid: -1, zxid: event.zxid, err: 0 };
    let body = WatcherEvent { r#type: event.event_type, state: event.state, path: event.path.clone() };
    frame_of(&[&jute::to_bytes(&header), &jute::to_bytes(&body)])
}

impl Watcher for BlockingServerCnxn {
    fn watcher_id(&self) -> u64 {
        self.id
    }

    fn process(&self, event: WatchedEvent) {
        self.enqueue(notification_frame(&event));
    }

    fn watcher_auth_info(&self) -> Vec<Id> {
        self.auth_info.lock().clone()
    }

    /// Closing or closed (Java marks a cnxn stale in `close`).
    fn is_stale(&self) -> bool {
        let out = self.outgoing.lock();
        out.closing.is_some() || out.dead
    }
}

impl ServerCnxn for BlockingServerCnxn {
    fn session_id(&self) -> i64 {
        self.session_id.load(Ordering::Relaxed)
    }

    fn set_session_id(&self, session_id: i64) {
        self.session_id.store(session_id, Ordering::Relaxed);
    }

    fn remote_addr(&self) -> SocketAddr {
        self.remote
    }

    fn auth_info(&self) -> Vec<Id> {
        self.auth_info.lock().clone()
    }

    fn add_auth_info(&self, id: Id) {
        let mut ids = self.auth_info.lock();
        if !ids.contains(&id) {
            ids.push(id);
        }
    }

    fn send_response(&self, header: &ReplyHeader, body: Option<&[u8]>) {
        if header.xid > 0 {
            let _ = self.queued.fetch_update(Ordering::Relaxed, Ordering::Relaxed, |q| q.checked_sub(1));
        }
        self.stats.response_sent(header.xid, header.zxid);
        let header_bytes = jute::to_bytes(header);
        self.enqueue(frame_of(&[&header_bytes, body.unwrap_or(&[])]));
    }

    fn finish_session_init(&self, mut response: ConnectResponse, valid: bool) {
        response.read_only = match self.client_sent_read_only.load(Ordering::SeqCst) {
            true => Some(response.read_only.unwrap_or(false)),
            false => None,
        };
        self.enqueue(frame_of(&[&jute::to_bytes(&response)]));
        if !valid {
            self.close(CloseReason::InvalidSession);
            return;
        }
        self.stats.session_established(response.time_out);
        if response.time_out > 0 {
            let timeout = Duration::from_millis(response.time_out as u64);
            let _ = self.stream.set_read_timeout(Some(timeout));
        }
        self.set_handshake(Handshake::Done);
    }

    fn close(&self, reason: CloseReason) {
        let first = {
            let mut out = self.outgoing.lock();
            let first = out.closing.is_none() && !out.dead;
            if first {
                out.closing = Some(reason);
            }
            first
        };
        self.outgoing_ready.notify_all();
        self.set_handshake(Handshake::Closed);
        if first {
            let session = self.session_id();
            match session {
                0 => debug!("Closing connection to {} ({:?}, no session)", self.remote, reason),
                sid => info!(
                    "Closed socket connection for client {} which had sessionid 0x{:x} ({:?})",
                    command::java_socket_address(&self.remote),
                    sid,
                    reason
                ),
            }
            // Wake a reader blocked in read(); the writer still flushes.
            let _ = self.stream.shutdown(Shutdown::Read);
        }
    }
}

#[cfg(test)]
#[path = "blocking_server_cnxn_tests.rs"]
mod tests;
