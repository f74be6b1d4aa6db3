//! One client connection on a blocking socket, served by one thread.
//!
//! Reader thread (a "NIOWorkerThread-<n>" with a small stack, reused for
//! later connections, see `blocking_server_cnxn_threads`): reads from the
//! socket into a buffer that grows only when needed, so one `recv` usually
//! brings several frames. Each frame's int32 length is checked against
//! `jute.maxbuffer`. On a fresh connection the first four bytes may
//! instead spell a four-letter word (answered, then closed). The first
//! frame is the ConnectRequest; requests that arrive before the server
//! calls `finish_session_init` wait for it (Java disables reads the same
//! way), and every later frame is a RequestHeader plus payload for
//! [`CnxnHandler::process_frame`], which may answer a read right here.
//! The frames of one `recv` are handled under a cork, so their replies
//! leave in one write. Idle connections expire like Java's: 10 s before
//! the handshake, the negotiated session timeout after it. A connection
//! that has been quiet for a moment gives back its buffers and stack pages
//! and waits in `poll` (an idle session costs ~8 KiB of memory).
//!
//! There is no writer thread: replies and notifications are appended to
//! the connection's output buffer by whoever produces them and written at
//! once with a non-blocking send, or at the end of the producer's cork, or
//! by the shared flusher when the socket is full (see
//! `blocking_server_cnxn_output`). The pipeline never waits on a client's
//! network. The calls the server makes on a connection (replies,
//! notifications, the end of the handshake, close) are in
//! `blocking_server_cnxn_session.rs`.
//!
//! Mirrors: `org.apache.zookeeper.server.NIOServerCnxn` (and the
//! connection-level parts of `ServerCnxn`).

use std::cell::Cell;
use std::io::{self, ErrorKind};
use std::net::{SocketAddr, TcpStream};
use std::os::fd::AsRawFd;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU32, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock, Weak};
use std::time::Duration;

use std::sync::{Condvar, Mutex, PoisonError};

use log::{debug, info, warn};

use super::auth::x509_authentication_provider;
use super::cnxn_stats::CnxnStats;
use super::command::{self, CommandContext, CommandOutcome, ConnectionInfo, FourLetterWord};
use super::java_concurrent_hash_set;
use super::server_cnxn::{cork, CloseReason, ServerCnxn};
use super::server_cnxn_factory::{CnxnHandler, CnxnRegistry};
use super::server_metrics;
use super::watch::{WatchedEvent, Watcher};
use crate::common::x500_principal;
use crate::jute;
use crate::jute::data::Id;
use crate::jute::proto::{
    ConnectRequest, ConnectResponse, ReplyHeader, RequestHeader, WatcherEvent,
};

#[path = "blocking_server_cnxn_output.rs"]
mod output;
use output::Output;
pub use output::{MAX_QUEUED_BYTES, WRITE_STALL_TIMEOUT};

#[path = "blocking_server_cnxn_input.rs"]
mod input;
use input::{is_timeout, recv_timeout, Input, IpText};
#[cfg(test)]
use input::{next_chunk, MAX_READ_CHUNK, MIN_READ_CHUNK};

#[path = "blocking_server_cnxn_threads.rs"]
mod threads;

#[path = "blocking_server_cnxn_transport.rs"]
mod transport;
use threads::{lock, trim_stack, wait_readable};
pub use threads::{CNXN_STACK_SIZE, QUIET};
use transport::TlsTransport;

/// `zookeeper.nio.sessionlessCnxnTimeout`: how long a connection may sit
/// without completing its handshake (or sending anything) before it is
/// closed.
pub const SESSIONLESS_CNXN_TIMEOUT: Duration = Duration::from_secs(10);
/// Bytes of a RequestHeader (xid, type).
const REQUEST_HEADER_LEN: usize = 8;

/// Source of connection ids (watch tables key on them).
static NEXT_CNXN_ID: AtomicU64 = AtomicU64::new(1);

thread_local! {
    /// The id of the connection this thread is serving (0: none).
    static SERVING: Cell<u64> = const { Cell::new(0) };
}

/// A client connection (see the module doc).
pub struct BlockingServerCnxn {
    /// Unique for the life of the process; also the watcher id.
    id: u64,
    /// The peer, fixed at accept.
    remote: SocketAddr,
    /// The socket: read by the reader thread, written by any producer
    /// under `out`, shut down by `close`.
    stream: TcpStream,
    /// The TLS session on the secure client port (unset: plaintext; a
    /// plain connection pays this empty cell). Set before the first
    /// frame, on the connection's own thread.
    tls: OnceLock<Box<TlsTransport>>,
    /// Port unification (`client.portUnification`): the TLS side a client
    /// gets if its first byte opens a TLS handshake; `None` elsewhere.
    detect_tls: Option<Box<TlsAcceptor>>,
    /// Ourselves, for the cork and flusher lists (set at construction).
    me: Weak<BlockingServerCnxn>,
    /// The server (a trait object so framing can be tested alone).
    handler: Arc<dyn CnxnHandler>,
    /// Where this connection is listed; the reader removes it at the end.
    registry: Arc<CnxnRegistry>,
    /// Bound session (0 until the handshake succeeds); set by the pipeline.
    session_id: AtomicI64,
    /// `ip:<addr>`, the identity every connection starts with (Java's
    /// `getHostAddress` text, kept inline: no allocation per connection).
    ip_id: IpText,
    /// Identities added by `addauth` (none for most connections, so no
    /// allocation); `auth_info` is `ip_id` followed by these.
    auth_info: Mutex<Vec<Id>>,
    /// Unsent output and the close state; held for appends and non-blocking
    /// sends, never across a blocking call.
    out: Mutex<Output>,
    /// Signalled when the output is finished (flushed and shut down).
    out_done: Condvar,
    /// Handshake progress. (This and `out` are std locks: parking_lot
    /// would allocate a record for every connection thread that ever waits
    /// on one.)
    handshake: Mutex<HandshakeState>,
    /// Wakes the reader, if it waits, when the handshake ends or the
    /// connection closes.
    handshake_changed: Condvar,
    /// Frames received (for `cons`/`stat`).
    received: AtomicU64,
    /// Frames sent (counted when queued).
    sent: AtomicU64,
    /// Requests (xid > 0) passed to the server and not yet answered.
    queued: AtomicU64,
    /// This connection's requests inside the pipeline (each Request holds
    /// a token); a read may be answered on the reader thread only at 0.
    in_pipeline: Arc<AtomicUsize>,
    /// The client sent the optional readOnly byte in its ConnectRequest;
    /// only then does the ConnectResponse carry one (Java's `isOldClient`
    /// in reverse). Written by the reader before the handshake is handed
    /// over, read by whoever calls `finish_session_init`.
    client_sent_read_only: AtomicBool,
    /// Ms without a byte after which the connection is closed: 10 s until
    /// the handshake, then the negotiated session timeout. Read by the
    /// reader before each idle wait, set by `finish_session_init`.
    idle_timeout_ms: AtomicU32,
    /// Last op, latencies, session timeout (for `cons`/`crst`).
    pub stats: CnxnStats,
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

/// The handshake and whether the reader waits for it to end.
struct HandshakeState {
    phase: Handshake,
    /// The reader has requests to handle and waits for the verdict (else
    /// it is back at the socket, and ending the handshake wakes no one:
    /// the client's next request will).
    reader_waiting: bool,
}

/// Where the reader is in the connection's life (reader thread only).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// Waiting for the first frame (ConnectRequest or four-letter word).
    Fresh,
    /// ConnectRequest handed over; the verdict is not known yet.
    Handshaking,
    /// Session accepted: frames are requests.
    Serving,
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
    /// The TLS handshake failed or timed out.
    Handshake(io::Error),
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
        BlockingServerCnxn::with_tls(stream, handler, registry, None)
    }

    /// Wraps an accepted socket of the secure client port (`Always`: the
    /// handshake with the acceptor runs on the connection's thread before
    /// the first frame) or of a unified port (`Detect`: the same, when the
    /// client's first byte opens a TLS handshake).
    pub fn with_tls(
        stream: TcpStream,
        handler: Arc<dyn CnxnHandler>,
        registry: Arc<CnxnRegistry>,
        tls: Option<&TlsMode>,
    ) -> io::Result<Arc<BlockingServerCnxn>> {
        let (session, detect_tls) = match tls {
            Some(TlsMode::Always(t)) => (OnceLock::from(Box::new(t.transport()?)), None),
            Some(TlsMode::Detect(t)) => (OnceLock::new(), Some(Box::new(t.clone()))),
            None => (OnceLock::new(), None),
        };
        let remote = stream.peer_addr()?;
        stream.set_nodelay(true)?;
        stream.set_read_timeout(Some(recv_timeout(SESSIONLESS_CNXN_TIMEOUT)))?;
        let ip_id = IpText::new(&remote.ip());
        Ok(Arc::new_cyclic(|me| BlockingServerCnxn {
            id: NEXT_CNXN_ID.fetch_add(1, Ordering::Relaxed),
            remote,
            stream,
            tls: session,
            detect_tls,
            me: me.clone(),
            handler,
            registry,
            session_id: AtomicI64::new(0),
            ip_id,
            auth_info: Mutex::new(Vec::new()),
            out: Mutex::new(Output::default()),
            out_done: Condvar::new(),
            handshake: Mutex::new(HandshakeState {
                phase: Handshake::NotStarted,
                reader_waiting: false,
            }),
            handshake_changed: Condvar::new(),
            received: AtomicU64::new(0),
            sent: AtomicU64::new(0),
            queued: AtomicU64::new(0),
            in_pipeline: Arc::new(AtomicUsize::new(0)),
            client_sent_read_only: AtomicBool::new(false),
            idle_timeout_ms: AtomicU32::new(SESSIONLESS_CNXN_TIMEOUT.as_millis() as u32),
            stats: CnxnStats::new(),
        }))
    }

    /// Starts serving on a thread of its own (a parked one if any).
    pub fn start(self: &Arc<Self>) -> io::Result<()> {
        threads::start(self.clone())
    }

    /// The TLS session, if this connection runs TLS.
    #[inline]
    fn transport(&self) -> Option<&TlsTransport> {
        self.tls.get().map(|t| &**t)
    }

    /// The connection id.
    pub fn id(&self) -> u64 {
        self.id
    }

    /// `ip:<addr>` and the identities `addauth` added, in the order Java's
    /// set of them iterates (whoami shows it; `auth` ACLs expand in it).
    fn identities(&self) -> Vec<Id> {
        let added = lock(&self.auth_info);
        let mut ids = Vec::with_capacity(1 + added.len());
        ids.push(Id {
            scheme: "ip".to_string(),
            id: self.ip_id.as_str().to_string(),
        });
        if added.is_empty() {
            return ids;
        }
        ids.extend(added.iter().cloned());
        java_concurrent_hash_set::iteration_order(&ids)
    }

    /// What `stat`/`cons` show for this connection.
    pub fn info(&self) -> ConnectionInfo {
        // Java stops selecting a connection while its handshake is pending
        // and once it runs a four-letter word (the key is cancelled).
        let reading = matches!(
            lock(&self.handshake).phase,
            Handshake::NotStarted | Handshake::Done
        );
        let out = lock(&self.out);
        let live = !out.dead && out.closing.is_none();
        let interest_ops = match live {
            false => 0,
            true => u32::from(reading) | if out.pending() == 0 { 0 } else { 4 },
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
        self.kill_output();
        self.set_handshake(Handshake::Closed);
    }

    // ---- reader thread ----

    /// Serves the connection to its end, then cleans up (on a worker
    /// thread, see `blocking_server_cnxn_threads`).
    // Inlined into the worker: one frame fewer above the idle wait, which
    // keeps an idle connection's stack within its top page.
    #[inline(always)]
    fn run(self: Arc<Self>) {
        SERVING.with(|s| s.set(self.id));
        let end = match self.tls_handshake() {
            Ok(()) => self.read_loop(),
            Err(end) => end,
        };
        self.finish_run(end);
        SERVING.with(|s| s.set(0));
    }

    /// On the secure port: the TLS handshake, then the client
    /// certificate's identity. Not inlined: `run`'s frame must stay small,
    /// an idle connection waits a few frames below it.
    #[inline(never)]
    fn tls_handshake(&self) -> Result<(), ReadEnd> {
        if let Some(acceptor) = &self.detect_tls {
            let fd = self.stream.as_raw_fd();
            match transport::starts_with_tls(fd, acceptor.handshake_timeout) {
                Ok(true) => {
                    let session = acceptor.transport().map_err(ReadEnd::Handshake)?;
                    let _ = self.tls.set(Box::new(session));
                }
                Ok(false) => {}
                Err(e) => return Err(ReadEnd::Handshake(e)),
            }
        }
        let Some(tls) = self.transport() else {
            return Ok(());
        };
        tls.handshake(self.stream.as_raw_fd())
            .map_err(ReadEnd::Handshake)?;
        if let Some(chain) = tls.peer_certificates() {
            self.certificate_accepted(&chain, tls.x509_super_user())?;
        }
        Ok(())
    }

    /// A client certificate passed the handshake's checks (its chain leads
    /// to the trust store): its subject becomes the `x509` identity.
    fn certificate_accepted(
        &self,
        chain: &[rustls::pki_types::CertificateDer<'static>],
        super_user: Option<&str>,
    ) -> Result<(), ReadEnd> {
        let Some(leaf) = chain.first() else {
            return Ok(());
        };
        let subject = x500_principal::subject_name(leaf)
            .map_err(|e| ReadEnd::Handshake(io::Error::new(ErrorKind::InvalidData, e)))?;
        for id in x509_authentication_provider::identities(&subject, super_user) {
            info!("Authenticated Id '{}' for Scheme '{}'", id.id, id.scheme);
            self.add_auth_info(id);
        }
        Ok(())
    }

    /// True on the thread serving this connection.
    fn served_here(&self) -> bool {
        SERVING.with(Cell::get) == self.id
    }

    /// Reads bytes, hands them to [`Self::handle_input`], until something
    /// ends the connection. The blocking `recv` (and the idle `poll`)
    /// happen here, a few small frames below the thread's start, so an
    /// idle connection keeps only the stack pages down to this point (see
    /// [`Self::sit_idle`]).
    #[inline(always)]
    fn read_loop(self: &Arc<Self>) -> ReadEnd {
        let fd = self.stream.as_raw_fd();
        let mut input = Input::default();
        let mut phase = Phase::Fresh;
        let mut missing = 4;
        loop {
            match input.read_more(fd, self.transport(), missing) {
                Ok(false) => {}
                Ok(true) => self.flush_transport(),
                Err(e) if is_timeout(&e) => match self.sit_idle(fd, &mut input) {
                    Ok(()) => continue,
                    Err(end) => return end,
                },
                Err(e) => return e.into(),
            }
            missing = match self.handle_input(&mut input, &mut phase) {
                Ok(missing) => missing,
                Err(end) => return end,
            };
        }
    }

    /// Nothing came for [`QUIET`]: give back the read buffer, spare output
    /// room and the stack pages the work so far touched, then wait for
    /// bytes until the idle timeout.
    fn sit_idle(&self, fd: i32, input: &mut Input) -> Result<(), ReadEnd> {
        let timeout =
            Duration::from_millis(u64::from(self.idle_timeout_ms.load(Ordering::Relaxed)));
        let rest = timeout.saturating_sub(recv_timeout(timeout));
        if rest.is_zero() {
            return Err(ReadEnd::Expired);
        }
        self.release_idle_memory(input);
        trim_stack();
        match wait_readable(fd, rest) {
            Ok(true) => Ok(()),
            Ok(false) => Err(ReadEnd::Expired),
            Err(e) => Err(ReadEnd::Io(e)),
        }
    }

    /// The heap an idle connection does not need.
    #[inline(never)]
    fn release_idle_memory(&self, input: &mut Input) {
        input.release_if_empty();
        self.release_output_room();
        self.stats.release_idle_memory();
    }

    /// Handles every complete frame in `input` (the four-letter word or the
    /// handshake first); returns how many more bytes the next one needs.
    /// The frames of one read are handled under one cork.
    #[inline(never)]
    fn handle_input(
        self: &Arc<Self>,
        input: &mut Input,
        phase: &mut Phase,
    ) -> Result<usize, ReadEnd> {
        let mut missing = 4;
        if *phase == Phase::Fresh {
            let Some(range) = self.first_frame(input, &mut missing)? else {
                return Ok(missing);
            };
            let handshake = self.hand_over_connect_request(&input.buf[range.0..range.1]);
            input.consume(range.1 - input.pos);
            handshake?;
            *phase = Phase::Handshaking;
        }
        if *phase == Phase::Handshaking {
            if input.available().is_empty() && !self.handshake_done()? {
                // Back to the socket: the client's next request wakes us
                // (no wake-up needed from whoever ends the handshake).
                return Ok(4);
            }
            self.await_handshake()?;
            *phase = Phase::Serving;
        }
        let _cork = cork();
        while let Some((start, end)) = input.complete_frame(&mut missing)? {
            self.count_received(end - start);
            let submitted = self.submit(&input.buf[start..end]);
            input.consume(end - input.pos);
            submitted?;
        }
        Ok(missing)
    }

    /// The first frame (the ConnectRequest) once complete, after checking
    /// whether the first four bytes are a four-letter word instead.
    fn first_frame(
        &self,
        input: &mut Input,
        missing: &mut usize,
    ) -> Result<Option<(usize, usize)>, ReadEnd> {
        let a = input.available();
        if a.len() < 4 {
            *missing = 4 - a.len();
            return Ok(None);
        }
        let first = i32::from_be_bytes([a[0], a[1], a[2], a[3]]);
        if let Some(word) = FourLetterWord::from_code(first) {
            // `None`: not a command after all, but a (bad) length.
            if let Some(end) = self.four_letter_word(word, input) {
                return Err(end);
            }
        }
        let range = input.complete_frame(missing)?;
        if let Some((start, end)) = range {
            self.count_received(end - start);
        }
        Ok(range)
    }

    /// After the last read: close, let the last replies out, clean up.
    #[inline(never)]
    fn finish_run(&self, end: ReadEnd) {
        let reason = self.log_end(&end);
        self.close(reason);
        // Let what is queued (the last replies) reach the client.
        self.finish_output(WRITE_STALL_TIMEOUT + Duration::from_secs(1));
        self.kill_output();
        self.handler.remove_cnxn(self);
        self.registry.unregister(self.id);
    }

    fn count_received(&self, len: usize) {
        self.received.fetch_add(1, Ordering::Relaxed);
        self.handler.incr_packets_received();
        server_metrics::record_bytes_received(len);
    }

    /// The ConnectRequest: hand it over; the verdict comes later (see
    /// [`Self::await_handshake`]).
    fn hand_over_connect_request(self: &Arc<Self>, frame: &[u8]) -> Result<(), ReadEnd> {
        let request: ConnectRequest = jute::from_bytes(frame)
            .map_err(|e| ReadEnd::Malformed("ConnectRequest", e.to_string()))?;
        debug!(
            "ConnectRequest from {}: session 0x{:x}",
            self.remote, request.session_id
        );
        self.client_sent_read_only
            .store(request.read_only.is_some(), Ordering::SeqCst);
        self.set_handshake(Handshake::Pending);
        let cnxn: Arc<dyn ServerCnxn> = self.clone();
        self.handler.process_connect_request(cnxn, request);
        Ok(())
    }

    /// Whether the server has accepted the session yet (`Err` if the
    /// connection was closed instead).
    fn handshake_done(&self) -> Result<bool, ReadEnd> {
        match lock(&self.handshake).phase {
            Handshake::Done => Ok(true),
            Handshake::Closed => Err(ReadEnd::Closed),
            Handshake::NotStarted | Handshake::Pending => Ok(false),
        }
    }

    /// Requests came before the session was accepted: they wait for the
    /// verdict (Java stops reading meanwhile).
    fn await_handshake(&self) -> Result<(), ReadEnd> {
        let mut hs = lock(&self.handshake);
        while hs.phase == Handshake::Pending {
            hs.reader_waiting = true;
            hs = self
                .handshake_changed
                .wait(hs)
                .unwrap_or_else(PoisonError::into_inner);
            hs.reader_waiting = false;
        }
        match hs.phase {
            Handshake::Done => Ok(()),
            _ => Err(ReadEnd::Closed),
        }
    }

    /// A request frame: split off the header and hand it over.
    fn submit(self: &Arc<Self>, frame: &[u8]) -> Result<(), ReadEnd> {
        if frame.len() < REQUEST_HEADER_LEN {
            let why = format!(
                "{} bytes, a RequestHeader needs {}",
                frame.len(),
                REQUEST_HEADER_LEN
            );
            return Err(ReadEnd::Malformed("RequestHeader", why));
        }
        let header: RequestHeader = jute::from_bytes(&frame[..REQUEST_HEADER_LEN])
            .map_err(|e| ReadEnd::Malformed("RequestHeader", e.to_string()))?;
        self.stats.request_received(header.xid, header.r#type);
        if header.xid > 0 {
            self.queued.fetch_add(1, Ordering::Relaxed);
        }
        let cnxn: Arc<dyn ServerCnxn> = self.clone();
        self.handler.process_frame(
            &cnxn,
            header,
            &frame[REQUEST_HEADER_LEN..],
            &self.in_pipeline,
        );
        Ok(())
    }

    /// Answers a four-letter word; `None` if Java would treat the four
    /// bytes as a length after all.
    fn four_letter_word(&self, word: FourLetterWord, input: &mut Input) -> Option<ReadEnd> {
        let fd = self.stream.as_raw_fd();
        self.received.fetch_add(1, Ordering::Relaxed);
        self.handler.incr_packets_received();
        self.set_handshake(Handshake::Closed);
        let whitelist = self.handler.four_letter_word_whitelist();
        let mut argument = None;
        if command::is_enabled(word, whitelist) {
            info!(
                "Processing {} command from {}",
                word.name(),
                command::java_socket_address(&self.remote)
            );
            if word.takes_argument() {
                if let Err(e) = input.fill(fd, self.transport(), 12, SESSIONLESS_CNXN_TIMEOUT) {
                    return Some(e.into());
                }
                let a = &input.available()[4..12];
                argument = Some(i64::from_be_bytes([
                    a[0], a[1], a[2], a[3], a[4], a[5], a[6], a[7],
                ]));
            }
        } else {
            debug!(
                "Command {} is not executed because it is not in the whitelist.",
                word.name()
            );
        }
        // In quorum mode the serving role's server is shared (an Arc that
        // changes with the role); standalone lends its own.
        let shared = self.handler.zk_server_arc();
        let ctx = CommandContext {
            stats: self.handler.stats(),
            mode: self.handler.mode(),
            connections: self.registry.connection_infos(),
            whitelist,
            argument,
            server: shared.as_deref().or_else(|| self.handler.zk_server()),
            registry: Some(&self.registry),
        };
        match command::execute(word, &ctx) {
            CommandOutcome::Reply(text) => self.push_bytes(text.as_bytes()),
            CommandOutcome::NotACommand => return None,
            CommandOutcome::NotImplemented => {
                warn!(
                    "four-letter word {} is not implemented yet; closing",
                    word.name()
                )
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
                debug!(
                    "connection from {} ended (peer closed or server closed it)",
                    peer
                );
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
                warn!(
                    "Closing connection to {}: malformed {}: {}",
                    peer, what, why
                );
                CloseReason::BadRequest
            }
            ReadEnd::Expired => {
                info!(
                    "Closing idle connection from {} (no data within its timeout)",
                    peer
                );
                CloseReason::ConnectionClosed
            }
            ReadEnd::Io(e) => {
                info!("Connection to {} broke: {}", peer, e);
                CloseReason::ConnectionClosed
            }
            ReadEnd::Handshake(e) => {
                warn!("Unsuccessful TLS handshake with {}: {}", peer, e);
                CloseReason::ConnectionClosed
            }
        }
    }

    /// Moves the handshake on; wakes the reader if it waits for that
    /// (after unlocking, so it does not wake into a held lock).
    fn set_handshake(&self, state: Handshake) {
        let mut hs = lock(&self.handshake);
        if hs.phase != Handshake::Closed {
            hs.phase = state;
        }
        let waiting = hs.reader_waiting;
        drop(hs);
        if waiting {
            self.handshake_changed.notify_all();
        }
    }
}

/// How a listener's connections use TLS.
#[derive(Clone)]
pub enum TlsMode {
    /// Every connection (the secure client port).
    Always(TlsAcceptor),
    /// Connections whose first byte opens a TLS handshake; the others
    /// are plaintext (`client.portUnification` on the plain port).
    Detect(TlsAcceptor),
}

/// The secure client port's TLS side, shared by its connections.
#[derive(Clone)]
pub struct TlsAcceptor {
    /// The rustls server config (key, chain, client verifier...) new
    /// connections get; `client.certReload` swaps it.
    pub config: super::cert_file_reloader::SharedTlsConfig,
    /// How long one handshake may take.
    pub handshake_timeout: Duration,
    /// `X509AuthenticationProvider.superUser`.
    pub x509_super_user: Option<Arc<str>>,
}

impl TlsAcceptor {
    /// A new connection's TLS session, on the current certificates.
    fn transport(&self) -> io::Result<TlsTransport> {
        let config = self
            .config
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone();
        TlsTransport::new(config, self.handshake_timeout, self.x509_super_user.clone())
    }
}

/// `len` + serialized parts, as one frame.
#[cfg(test)]
fn frame_of(parts: &[&[u8]]) -> Vec<u8> {
    let len: usize = parts.iter().map(|p| p.len()).sum();
    let mut frame = Vec::with_capacity(4 + len);
    frame.extend_from_slice(&(len as i32).to_be_bytes());
    for part in parts {
        frame.extend_from_slice(part);
    }
    frame
}

#[path = "blocking_server_cnxn_session.rs"]
mod session;

#[cfg(test)]
#[path = "blocking_server_cnxn_tests.rs"]
mod tests;
