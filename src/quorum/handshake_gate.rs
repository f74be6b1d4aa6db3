//! The door of the election and quorum ports: connections wait here,
//! without a thread of their own, until their first message has arrived
//! whole and looks valid; only then are they handed on (to the election's
//! sid rules, or to a new LearnerHandler thread).
//!
//! Java twins: the accept loops of `QuorumCnxManager.Listener` and
//! `Leader.LearnerCnxAcceptor`, which give every accepted socket a thread
//! (or a pool slot) that then blocks reading the first message with a
//! per-read timeout. Here the listening thread itself polls (poll(2)) the
//! listener and every connection still in its handshake, non-blocking;
//! each has one deadline for its whole first message (a peer that sends a
//! byte now and then does not extend it), at most `max_pending` wait at
//! once (a new one closes the oldest), and a failing accept (out of file
//! descriptors, say) is logged, closes the oldest waiting connection and
//! rests the listener briefly.
//!
//! Bytes are read only up to the end of the first message (what
//! `message_len` says it needs so far), so whatever follows it stays in
//! the socket for the thread that takes over.
//!
//! With quorum TLS ([`QuorumTls`]) the gate first tells from a
//! connection's first bytes whether it starts a TLS handshake
//! ([`unified_socket::detect`]): plaintext is served only where
//! `portUnification` or a plaintext quorum allows it, a connection that
//! shows nothing within `ssl.quorum.handshakeDetectionTimeoutMillis` is
//! taken for plaintext (as Java does), and a TLS connection runs its whole
//! handshake here, non-blocking, before its first message is decrypted
//! (what follows that message stays in the TLS session for the thread
//! that takes over). With `hostnameVerification` the peer's certificate
//! must name the address it connected from.
//!
//! Thread: the caller's (the listener thread); returns when `stop` says so.

use std::fmt;
use std::io::{self, Read};
use std::net::{IpAddr, SocketAddr, TcpListener, TcpStream};
use std::os::fd::AsRawFd;
use std::time::{Duration, Instant};

use log::{debug, info, warn};

use super::unified_socket::{self, Detected, QuorumSocket};
use crate::config::quorum_tls::QuorumTls;

/// How many connections may wait and for how long.
#[derive(Debug, Clone, Copy)]
pub struct GateLimits {
    /// Connections in their handshake at most.
    pub max_pending: usize,
    /// Time from accept to the end of the first message.
    pub deadline: Duration,
}

/// How long the first message is, judged from its first bytes: `Ok(n)`
/// with `n > prefix.len()` asks for more, `Ok(prefix.len())` means
/// complete, `Err` refuses the connection.
pub type MessageLen = fn(&[u8]) -> Result<usize, BadFirstMessage>;

/// Why a first message is refused from its first bytes (a length or a
/// version no peer sends).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BadFirstMessage {
    /// A quorum packet's data length is negative or above the limit.
    DataLength(i32),
    /// A quorum packet carries more than 64 identities.
    IdentityCount(i32),
    /// An identity of a quorum packet is longer than 4096 bytes.
    IdentityLength(i32),
    /// The election header's protocol version is unknown.
    InitialVersion(i64),
    /// The election header's address length is out of range.
    InitialLength(i32),
    /// A quorum SASL token is longer than the limit.
    SaslToken(i32),
}

impl fmt::Display for BadFirstMessage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use super::initial_message::InitialMessageError;
        match self {
            BadFirstMessage::DataLength(n) => write!(f, "first packet's data length {}", n),
            BadFirstMessage::IdentityCount(n) => write!(f, "first packet's identity count {}", n),
            BadFirstMessage::IdentityLength(n) => {
                write!(f, "first packet's identity length {}", n)
            }
            BadFirstMessage::InitialVersion(v) => write!(
                f,
                "initial message refused: {}",
                InitialMessageError::UnknownVersion(*v)
            ),
            BadFirstMessage::InitialLength(n) => write!(
                f,
                "initial message refused: {}",
                InitialMessageError::BadLength(*n)
            ),
            BadFirstMessage::SaslToken(n) => write!(f, "SASL token of {} bytes", n),
        }
    }
}

impl std::error::Error for BadFirstMessage {}

/// Why the gate closes a connection before its first message is whole.
#[derive(Debug)]
enum Refusal {
    /// The peer closed before its first message.
    Closed,
    /// The peer closed during its TLS handshake.
    ClosedInHandshake,
    /// Plaintext where only TLS is served.
    Plaintext,
    /// The socket failed.
    Io(io::Error),
    /// The TLS session could not be set up.
    TlsSetup(rustls::Error),
    /// The TLS handshake failed.
    TlsHandshake(rustls::Error),
    /// `hostnameVerification`: the certificate does not name the address
    /// the peer connected from.
    AddressNotInCertificate(IpAddr),
    /// The first message's bytes are refused.
    Message(BadFirstMessage),
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Refusal::Closed => f.write_str("closed before its first message"),
            Refusal::ClosedInHandshake => f.write_str("closed during its TLS handshake"),
            Refusal::Plaintext => f.write_str("blocked insecure (plaintext) connection attempt"),
            Refusal::Io(e) => write!(f, "{}", e),
            Refusal::TlsSetup(e) => write!(f, "{}", e),
            Refusal::TlsHandshake(e) => write!(f, "TLS handshake failed: {}", e),
            Refusal::AddressNotInCertificate(ip) => {
                write!(f, "its certificate does not name its address {}", ip)
            }
            Refusal::Message(e) => write!(f, "{}", e),
        }
    }
}

impl From<io::Error> for Refusal {
    fn from(e: io::Error) -> Refusal {
        Refusal::Io(e)
    }
}

impl From<BadFirstMessage> for Refusal {
    fn from(e: BadFirstMessage) -> Refusal {
        Refusal::Message(e)
    }
}

/// What a waiting connection speaks, as far as known.
enum Phase {
    /// TLS or plaintext, not known yet (quorum TLS on); since when.
    Detecting(Instant),
    Plaintext,
    /// In (or past) its TLS handshake.
    Tls(Box<rustls::ServerConnection>),
}

struct Pending {
    stream: TcpStream,
    from: SocketAddr,
    buf: Vec<u8>,
    deadline: Instant,
    phase: Phase,
}

impl Pending {
    fn wants_write(&self) -> bool {
        matches!(&self.phase, Phase::Tls(c) if c.wants_write())
    }
}

/// Accepts on `listener` (made non-blocking here) until `stop()` is true;
/// calls `ready` with each connection (blocking again) and the bytes of its
/// complete first message. `tls` is the quorum's TLS, if any.
pub fn run(
    listener: &TcpListener,
    what: &str,
    limits: GateLimits,
    message_len: MessageLen,
    tls: Option<&QuorumTls>,
    stop: &dyn Fn() -> bool,
    ready: &mut dyn FnMut(QuorumSocket, SocketAddr, Vec<u8>),
) {
    if let Err(e) = listener.set_nonblocking(true) {
        warn!("{}: cannot make the listener non-blocking: {}", what, e);
        return;
    }
    let mut pending: Vec<Pending> = Vec::new();
    let mut rest_until: Option<Instant> = None;
    let mut last_warning: Option<Instant> = None;
    let mut fds: Vec<libc::pollfd> = Vec::new();
    while !stop() {
        let now = Instant::now();
        if rest_until.is_some_and(|t| t <= now) {
            rest_until = None;
        }
        fds.clear();
        let listen_events = if rest_until.is_none() {
            libc::POLLIN
        } else {
            0
        };
        fds.push(libc::pollfd {
            fd: listener.as_raw_fd(),
            events: listen_events,
            revents: 0,
        });
        let mut wake = now + Duration::from_millis(100);
        for p in &pending {
            let out = if p.wants_write() { libc::POLLOUT } else { 0 };
            fds.push(libc::pollfd {
                fd: p.stream.as_raw_fd(),
                events: libc::POLLIN | out,
                revents: 0,
            });
            wake = wake.min(p.deadline);
            if let (Phase::Detecting(since), Some(tls)) = (&p.phase, tls) {
                wake = wake.min(*since + tls.detection_timeout);
            }
        }
        let timeout = wake
            .saturating_duration_since(now)
            .as_millis()
            .clamp(1, 100) as i32;
        // SAFETY: `fds` is a live, initialized array of fds.len() pollfds.
        let n = unsafe { libc::poll(fds.as_mut_ptr(), fds.len() as libc::nfds_t, timeout) };
        if n < 0 {
            std::thread::sleep(Duration::from_millis(10));
            continue;
        }
        // Connections first (indexes shift as they leave), newest first.
        for i in (0..pending.len()).rev() {
            if fds[i + 1].revents == 0 {
                continue;
            }
            match advance(&mut pending[i], message_len, tls) {
                Advance::Waiting => {}
                Advance::Refused(why) => {
                    let p = pending.remove(i);
                    warn!("{}: closing connection from {}: {}", what, p.from, why);
                }
                Advance::Complete => {
                    let p = pending.remove(i);
                    if p.stream.set_nonblocking(false).is_ok() {
                        let socket = match p.phase {
                            Phase::Tls(conn) => QuorumSocket::with_tls(p.stream, (*conn).into()),
                            _ => QuorumSocket::plain(p.stream),
                        };
                        ready(socket, p.from, p.buf);
                    }
                }
            }
        }
        let now = Instant::now();
        if let Some(tls) = tls {
            detection_timeouts(&mut pending, tls, now, what);
        }
        pending.retain(|p| {
            let keep = p.deadline > now;
            if !keep {
                warn!(
                    "{}: closing connection from {}: no complete first message in time",
                    what, p.from
                );
            }
            keep
        });
        if fds[0].revents == 0 {
            continue;
        }
        if let Err(e) = accept_all(listener, &mut pending, limits, tls, what) {
            if last_warning.is_none_or(|t| t.elapsed() >= Duration::from_secs(1)) {
                warn!("{}: accept failed: {}", what, e);
                last_warning = Some(Instant::now());
            }
            if !pending.is_empty() {
                pending.remove(0);
            }
            rest_until = Some(Instant::now() + Duration::from_millis(100));
        }
    }
}

fn accept_all(
    listener: &TcpListener,
    pending: &mut Vec<Pending>,
    limits: GateLimits,
    tls: Option<&QuorumTls>,
    what: &str,
) -> io::Result<()> {
    for _ in 0..256 {
        match listener.accept() {
            Ok((stream, from)) => {
                if stream.set_nonblocking(true).is_err() {
                    continue;
                }
                if pending.len() >= limits.max_pending.max(1) {
                    let oldest = pending.remove(0);
                    debug!(
                        "{}: too many connections in handshake; closing the oldest, from {}",
                        what, oldest.from
                    );
                }
                let now = Instant::now();
                pending.push(Pending {
                    stream,
                    from,
                    buf: Vec::new(),
                    deadline: now + limits.deadline,
                    phase: match tls {
                        Some(_) => Phase::Detecting(now),
                        None => Phase::Plaintext,
                    },
                });
            }
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(()),
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::Interrupted | io::ErrorKind::ConnectionAborted
                ) => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

enum Advance {
    Waiting,
    Complete,
    Refused(Refusal),
}

/// A connection that showed nothing within the detection timeout is taken
/// for plaintext where plaintext is served (Java's choice), else closed.
fn detection_timeouts(pending: &mut Vec<Pending>, tls: &QuorumTls, now: Instant, what: &str) {
    pending.retain_mut(|p| match p.phase {
        Phase::Detecting(since) if since + tls.detection_timeout <= now => {
            if tls.accepts_plaintext() {
                warn!(
                    "{}: mode detection of {} timed out after {} ms, assuming plaintext",
                    what,
                    p.from,
                    tls.detection_timeout.as_millis()
                );
                p.phase = Phase::Plaintext;
                true
            } else {
                warn!(
                    "{}: closing connection from {}: no TLS handshake within {} ms",
                    what,
                    p.from,
                    tls.detection_timeout.as_millis()
                );
                false
            }
        }
        _ => true,
    });
}

/// Peeks at the first bytes and settles the connection's protocol.
fn detect(p: &mut Pending, tls: &QuorumTls) -> Result<bool, Refusal> {
    let mut peek = [0u8; 5];
    // SAFETY: `peek` is valid, writable memory of its length.
    let n = unsafe {
        libc::recv(
            p.stream.as_raw_fd(),
            peek.as_mut_ptr().cast(),
            peek.len(),
            libc::MSG_PEEK | libc::MSG_DONTWAIT,
        )
    };
    if n == 0 {
        return Err(Refusal::Closed);
    }
    if n < 0 {
        let e = io::Error::last_os_error();
        return match e.kind() {
            io::ErrorKind::WouldBlock | io::ErrorKind::Interrupted => Ok(false),
            _ => Err(Refusal::Io(e)),
        };
    }
    match unified_socket::detect(&peek[..n as usize]) {
        Detected::NeedMore => Ok(false),
        Detected::Plaintext if tls.accepts_plaintext() => {
            info!("Accepted plaintext connection from {}", p.from);
            p.phase = Phase::Plaintext;
            Ok(true)
        }
        Detected::Plaintext => Err(Refusal::Plaintext),
        Detected::Tls => {
            let conn =
                rustls::ServerConnection::new(tls.server_config()).map_err(Refusal::TlsSetup)?;
            p.phase = Phase::Tls(Box::new(conn));
            Ok(true)
        }
    }
}

/// Moves a TLS connection on: handshake records out and in, then the
/// first message's plaintext (never past its end).
fn advance_tls(
    p: &mut Pending,
    message_len: MessageLen,
    tls: Option<&QuorumTls>,
) -> Result<bool, Refusal> {
    let Phase::Tls(conn) = &mut p.phase else {
        return Ok(false);
    };
    loop {
        while conn.wants_write() {
            match conn.write_tls(&mut p.stream) {
                Ok(_) => {}
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                Err(e) => return Err(Refusal::Io(e)),
            }
        }
        if !conn.is_handshaking() {
            if p.buf.is_empty() {
                let checks = tls.is_some_and(|t| t.verify_peer_address);
                if checks && !unified_socket::peer_names_its_address(conn, p.from.ip()) {
                    return Err(Refusal::AddressNotInCertificate(p.from.ip()));
                }
            }
            let need = message_len(&p.buf)?;
            if need <= p.buf.len() {
                info!(
                    "Accepted TLS connection from {} - {}",
                    p.from,
                    unified_socket::session_text(conn)
                );
                return Ok(true);
            }
            let have = p.buf.len();
            p.buf.resize(need, 0);
            match conn.reader().read(&mut p.buf[have..]) {
                Ok(0) => return Err(Refusal::Closed),
                Ok(n) => {
                    p.buf.truncate(have + n);
                    continue;
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => p.buf.truncate(have),
                Err(e) => return Err(Refusal::Io(e)),
            }
        }
        match conn.read_tls(&mut p.stream) {
            Ok(0) => return Err(Refusal::ClosedInHandshake),
            Ok(_) => {
                if let Err(e) = conn.process_new_packets() {
                    let _ = conn.write_tls(&mut p.stream);
                    return Err(Refusal::TlsHandshake(e));
                }
            }
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(false),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(Refusal::Io(e)),
        }
    }
}

/// Reads what the message still needs (never past its end).
fn advance(p: &mut Pending, message_len: MessageLen, tls: Option<&QuorumTls>) -> Advance {
    if let (Phase::Detecting(_), Some(t)) = (&p.phase, tls) {
        match detect(p, t) {
            Ok(true) => {}
            Ok(false) => return Advance::Waiting,
            Err(why) => return Advance::Refused(why),
        }
    }
    if let Phase::Tls(_) = p.phase {
        return match advance_tls(p, message_len, tls) {
            Ok(true) => Advance::Complete,
            Ok(false) => Advance::Waiting,
            Err(why) => Advance::Refused(why),
        };
    }
    loop {
        let need = match message_len(&p.buf) {
            Ok(n) => n,
            Err(why) => return Advance::Refused(why.into()),
        };
        if need <= p.buf.len() {
            return Advance::Complete;
        }
        let have = p.buf.len();
        p.buf.resize(need, 0);
        match p.stream.read(&mut p.buf[have..]) {
            Ok(0) => return Advance::Refused(Refusal::Closed),
            Ok(n) => p.buf.truncate(have + n),
            Err(e) => {
                p.buf.truncate(have);
                match e.kind() {
                    io::ErrorKind::WouldBlock => return Advance::Waiting,
                    io::ErrorKind::Interrupted => {}
                    _ => return Advance::Refused(Refusal::Io(e)),
                }
            }
        }
    }
}

fn be_i32(b: &[u8]) -> i32 {
    i32::from_be_bytes([b[0], b[1], b[2], b[3]])
}

/// The first message of the quorum port: a QuorumPacket (type, zxid, data
/// buffer, authinfo vector of Ids), with at most `max_data` bytes of data
/// and 64 identities.
pub fn quorum_packet_len(prefix: &[u8], max_data: usize) -> Result<usize, BadFirstMessage> {
    const MAX_IDS: i32 = 64;
    let mut at = 12; // type, zxid
    let need = |at: usize, n: usize| -> Option<usize> { (prefix.len() < at + n).then_some(at + n) };
    if let Some(n) = need(at, 4) {
        return Ok(n);
    }
    let data = be_i32(&prefix[at..]);
    if data < -1 || data as i64 > max_data as i64 {
        return Err(BadFirstMessage::DataLength(data));
    }
    at += 4 + data.max(0) as usize;
    if let Some(n) = need(at, 4) {
        return Ok(n);
    }
    let ids = be_i32(&prefix[at..]);
    if !(-1..=MAX_IDS).contains(&ids) {
        return Err(BadFirstMessage::IdentityCount(ids));
    }
    at += 4;
    for _ in 0..ids.max(0) * 2 {
        if let Some(n) = need(at, 4) {
            return Ok(n);
        }
        let len = be_i32(&prefix[at..]);
        if !(-1..=4096).contains(&len) {
            return Err(BadFirstMessage::IdentityLength(len));
        }
        at += 4 + len.max(0) as usize;
    }
    Ok(need(at, 0).unwrap_or(at))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quorum_packet_lengths() {
        let mut p = Vec::new();
        p.extend_from_slice(&11i32.to_be_bytes());
        p.extend_from_slice(&0i64.to_be_bytes());
        assert_eq!(quorum_packet_len(&p, 1024), Ok(16));
        p.extend_from_slice(&3i32.to_be_bytes());
        assert_eq!(quorum_packet_len(&p, 1024), Ok(23));
        p.extend_from_slice(b"abc");
        assert_eq!(quorum_packet_len(&p, 1024), Ok(23));
        p.extend_from_slice(&1i32.to_be_bytes());
        assert_eq!(quorum_packet_len(&p, 1024), Ok(27));
        p.extend_from_slice(&2i32.to_be_bytes());
        // Two bytes of scheme, then the id's length is needed too.
        assert_eq!(quorum_packet_len(&p, 1024), Ok(33));
        p.extend_from_slice(b"ip");
        assert_eq!(quorum_packet_len(&p, 1024), Ok(33));
        p.extend_from_slice(&(-1i32).to_be_bytes());
        assert_eq!(quorum_packet_len(&p, 1024), Ok(p.len()));
        let mut big = vec![0u8; 12];
        big.extend_from_slice(&5000i32.to_be_bytes());
        let refused = quorum_packet_len(&big, 1024);
        assert_eq!(refused, Err(BadFirstMessage::DataLength(5000)));
        assert_eq!(
            refused.unwrap_err().to_string(),
            "first packet's data length 5000"
        );
        let mut ids = vec![0u8; 12];
        ids.extend_from_slice(&(-1i32).to_be_bytes());
        ids.extend_from_slice(&1000i32.to_be_bytes());
        assert_eq!(
            quorum_packet_len(&ids, 1024),
            Err(BadFirstMessage::IdentityCount(1000))
        );
    }
}
