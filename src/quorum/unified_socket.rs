//! The socket of a quorum connection (election or learner), plaintext or
//! TLS, behind one type: the code above reads and writes frames on a
//! [`QuorumSocket`] and never knows which it is.
//!
//! TLS: one rustls session per connection, shared by the socket's clones
//! (a reader thread and one or more writers, as the election workers and
//! the learner links use it). Neither side holds the session's lock while
//! it waits on the network: a reader receives ciphertext unlocked, then
//! locks to decrypt it; a writer (serialised with other writers by a
//! second lock) locks to encrypt, then sends unlocked. So a reader never
//! waits for a writer whose peer is not reading, and the other way round.
//!
//! Also here: which protocol an accepted connection speaks, from its first
//! bytes ([`detect`], as Java tells a TLS ClientHello from a plaintext
//! quorum message), and the dialing side's handshake ([`QuorumSocket::dial_tls`]).
//!
//! Threads: the callers'.
//!
//! Mirrors: `UnifiedServerSocket.UnifiedSocket` and the JDK's `SSLSocket`
//! as the quorum uses them (`QuorumCnxManager`, `Learner`, `LearnerHandler`).

use std::io::{self, ErrorKind, Read, Write};
use std::net::{IpAddr, Shutdown, SocketAddr, TcpStream};
use std::sync::Arc;
use std::time::Duration;

use log::info;
use parking_lot::Mutex;
use rustls::pki_types::ServerName;

use crate::config::quorum_tls::QuorumTls;

/// Ciphertext received per `recv` (one TLS record at most).
const CIPHER_CHUNK: usize = 16 * 1024 + 256;
/// Plaintext encrypted per step: rustls buffers what it cannot send, and a
/// step's records are sent before the next is made.
const PLAIN_CHUNK: usize = 16 * 1024;

/// What the first bytes of an accepted connection say.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Detected {
    /// Too few bytes to tell.
    NeedMore,
    /// A TLS record (a ClientHello): content type 20..=23, major version 3.
    Tls,
    /// Anything else (every plaintext quorum message starts otherwise).
    Plaintext,
}

/// Tells a TLS handshake from plaintext by the record header: Java reads
/// five bytes and asks Netty's `SslHandler.isEncrypted`; a plaintext
/// election message starts with a negative protocol version or a sid, a
/// learner's first packet with a small packet type, so the first two
/// bytes decide (five are awaited for a TLS verdict, as Java does).
pub fn detect(prefix: &[u8]) -> Detected {
    match prefix {
        [] => Detected::NeedMore,
        [t, ..] if !(20..=23).contains(t) => Detected::Plaintext,
        [_, major, ..] if *major != 3 => Detected::Plaintext,
        p if p.len() < 5 => Detected::NeedMore,
        _ => Detected::Tls,
    }
}

/// A rustls session, the ciphertext received but not yet fed to it, and
/// the plaintext a peek took out of it but nobody has read yet.
struct TlsState {
    conn: rustls::Connection,
    cipher_in: Vec<u8>,
    peeked: Vec<u8>,
}

/// The TLS part shared by a socket's clones.
struct TlsLink {
    state: Mutex<TlsState>,
    /// Serialises writers, so records leave in the order they were made.
    send: Mutex<()>,
}

/// A quorum connection's socket; clones share the TCP socket and the TLS
/// session.
pub struct QuorumSocket {
    tcp: TcpStream,
    tls: Option<Arc<TlsLink>>,
}

impl QuorumSocket {
    /// A plaintext connection.
    pub fn plain(tcp: TcpStream) -> QuorumSocket {
        QuorumSocket { tcp, tls: None }
    }

    /// A connection whose TLS handshake is done (or under way in `conn`).
    pub fn with_tls(tcp: TcpStream, conn: rustls::Connection) -> QuorumSocket {
        QuorumSocket {
            tcp,
            tls: Some(Arc::new(TlsLink {
                state: Mutex::new(TlsState {
                    conn,
                    cipher_in: Vec::new(),
                    peeked: Vec::new(),
                }),
                send: Mutex::new(()),
            })),
        }
    }

    /// The dialing side: runs the TLS handshake on `tcp` (bounded by its
    /// timeouts, set here to `timeout`) and checks the peer's
    /// certificate against the address dialed.
    pub fn dial_tls(
        tcp: TcpStream,
        tls: &QuorumTls,
        timeout: Duration,
    ) -> io::Result<QuorumSocket> {
        let peer = tcp.peer_addr()?;
        let name = ServerName::IpAddress(peer.ip().into());
        let mut conn =
            rustls::ClientConnection::new(tls.client_config(), name).map_err(io::Error::other)?;
        tcp.set_read_timeout(Some(timeout))?;
        tcp.set_write_timeout(Some(timeout))?;
        let mut io = &tcp;
        while conn.is_handshaking() {
            conn.complete_io(&mut io)?;
        }
        info!(
            "SSL handshake complete with {} - {}",
            peer,
            session_text(&conn)
        );
        Ok(QuorumSocket::with_tls(tcp, conn.into()))
    }

    /// The next bytes, left unread (quorum SASL peeks at a dialing
    /// peer's first bytes). Blocks, as a read does, until at least one
    /// byte is there; over TLS, a call that finds fewer than `buf.len()`
    /// decrypted bytes waiting reads (and keeps) more first.
    pub fn peek(&self, buf: &mut [u8]) -> io::Result<usize> {
        let Some(link) = &self.tls else {
            return self.tcp.peek(buf);
        };
        let waiting = link.state.lock().peeked.len();
        if waiting < buf.len() {
            let mut more = vec![0u8; buf.len() - waiting];
            let n = self.read_tls(link, &mut more)?;
            link.state.lock().peeked.extend_from_slice(&more[..n]);
        }
        let s = link.state.lock();
        let n = s.peeked.len().min(buf.len());
        buf[..n].copy_from_slice(&s.peeked[..n]);
        Ok(n)
    }

    /// Reads decrypted bytes, first those a peek left.
    fn read_after_peek(&self, link: &TlsLink, buf: &mut [u8]) -> io::Result<usize> {
        {
            let mut s = link.state.lock();
            if !s.peeked.is_empty() {
                let n = s.peeked.len().min(buf.len());
                buf[..n].copy_from_slice(&s.peeked[..n]);
                s.peeked.drain(..n);
                return Ok(n);
            }
        }
        self.read_tls(link, buf)
    }

    /// Another handle on the same connection.
    pub fn try_clone(&self) -> io::Result<QuorumSocket> {
        Ok(QuorumSocket {
            tcp: self.tcp.try_clone()?,
            tls: self.tls.clone(),
        })
    }

    /// Shuts the TCP socket down (both workers of a connection wake up).
    pub fn shutdown(&self, how: Shutdown) -> io::Result<()> {
        self.tcp.shutdown(how)
    }

    pub fn set_read_timeout(&self, timeout: Option<Duration>) -> io::Result<()> {
        self.tcp.set_read_timeout(timeout)
    }

    pub fn set_write_timeout(&self, timeout: Option<Duration>) -> io::Result<()> {
        self.tcp.set_write_timeout(timeout)
    }

    pub fn set_nodelay(&self, on: bool) -> io::Result<()> {
        self.tcp.set_nodelay(on)
    }

    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.tcp.peer_addr()
    }

    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.tcp.local_addr()
    }

    fn read_tls(&self, link: &TlsLink, buf: &mut [u8]) -> io::Result<usize> {
        loop {
            let mut s = link.state.lock();
            let mut output = false;
            loop {
                match s.conn.reader().read(buf) {
                    Ok(n) => return Ok(n),
                    Err(e) if e.kind() == ErrorKind::WouldBlock => {}
                    Err(e) => return Err(e),
                }
                if s.cipher_in.is_empty() {
                    break;
                }
                let state = &mut *s;
                let used = state.conn.read_tls(&mut state.cipher_in.as_slice())?;
                state.cipher_in.drain(..used);
                let processed = state.conn.process_new_packets();
                output |= state.conn.wants_write();
                if let Err(e) = processed {
                    drop(s);
                    let _ = self.flush_tls(link);
                    return Err(io::Error::new(ErrorKind::InvalidData, e));
                }
                if used == 0 {
                    break;
                }
            }
            drop(s);
            if output {
                self.flush_tls(link)?;
            }
            let mut cipher = vec![0u8; CIPHER_CHUNK];
            let n = (&self.tcp).read(&mut cipher)?;
            if n == 0 {
                return Ok(0);
            }
            link.state.lock().cipher_in.extend_from_slice(&cipher[..n]);
        }
    }

    /// Sends whatever records the session holds (alerts, key updates).
    fn flush_tls(&self, link: &TlsLink) -> io::Result<()> {
        let _sending = link.send.lock();
        let mut records = Vec::new();
        {
            let mut s = link.state.lock();
            while s.conn.wants_write() {
                s.conn.write_tls(&mut records)?;
            }
        }
        (&self.tcp).write_all(&records)
    }

    fn write_tls(&self, link: &TlsLink, buf: &[u8]) -> io::Result<()> {
        let _sending = link.send.lock();
        for chunk in buf.chunks(PLAIN_CHUNK) {
            let mut records = Vec::with_capacity(chunk.len() + 64);
            {
                let mut s = link.state.lock();
                s.conn.writer().write_all(chunk)?;
                while s.conn.wants_write() {
                    s.conn.write_tls(&mut records)?;
                }
            }
            (&self.tcp).write_all(&records)?;
        }
        Ok(())
    }
}

impl Read for &QuorumSocket {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match &self.tls {
            None => (&self.tcp).read(buf),
            Some(link) => self.read_after_peek(link, buf),
        }
    }
}

impl Write for &QuorumSocket {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match &self.tls {
            None => (&self.tcp).write(buf),
            Some(link) => self.write_tls(link, buf).map(|_| buf.len()),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl Read for QuorumSocket {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        (&*self).read(buf)
    }
}

impl Write for QuorumSocket {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        (&*self).write(buf)
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// A session's version and suite as Java names them (for log lines).
pub fn session_text<D>(conn: &rustls::ConnectionCommon<D>) -> String {
    let version = match conn.protocol_version() {
        Some(rustls::ProtocolVersion::TLSv1_3) => "TLSv1.3".to_string(),
        Some(rustls::ProtocolVersion::TLSv1_2) => "TLSv1.2".to_string(),
        other => format!("{:?}", other),
    };
    let suite = conn
        .negotiated_cipher_suite()
        .and_then(|s| s.suite().as_str())
        .unwrap_or("?");
    format!("{} - {}", version, suite)
}

/// Whether an accepted peer's certificate (its first one) names the
/// address it came from; `true` when it sent none (`clientAuth` let it).
pub fn peer_names_its_address(conn: &rustls::ServerConnection, ip: IpAddr) -> bool {
    match conn.peer_certificates().and_then(|c| c.first()) {
        Some(cert) => crate::common::x509_util::names_ip(cert, ip),
        None => true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tls_is_told_from_plaintext_quorum_messages() {
        // A TLS 1.2/1.3 ClientHello record header.
        assert_eq!(detect(&[0x16, 3, 1, 0, 200]), Detected::Tls);
        assert_eq!(detect(&[0x16, 3, 1]), Detected::NeedMore);
        assert_eq!(detect(&[]), Detected::NeedMore);
        // The election's initial message: protocol version -65536.
        assert_eq!(detect(&(-65536i64).to_be_bytes()[..5]), Detected::Plaintext);
        // A learner's FOLLOWERINFO (type 11).
        assert_eq!(detect(&11i32.to_be_bytes()), Detected::Plaintext);
        assert_eq!(detect(&[0x16, 0x00]), Detected::Plaintext);
    }
}
