//! The quorum SASL exchange on the wire: every message is a jute
//! `QuorumAuthPacket` (magic number, status, token), unframed, written
//! straight onto the election or quorum socket.
//!
//! The magic number lets an acceptor tell, from the first 8 bytes,
//! whether a dialing peer starts with SASL or (when SASL is not required
//! of it) with its first ordinary message.
//!
//! Pure encoding, called on connection threads.
//!
//! Mirrors: `org.apache.zookeeper.server.quorum.auth.QuorumAuth` and the
//! jute record `QuorumAuthPacket`.

use std::fmt;
use std::io::{self, Read, Write};
use std::time::{Duration, Instant};

use super::super::handshake_gate::BadFirstMessage;
use super::super::unified_socket::QuorumSocket;
use crate::jute::quorum::QuorumAuthPacket;
use crate::jute::{self, InputArchive, Record};

/// `QUORUM_AUTH_MAGIC_NUMBER`: Java writes it as the negation of the
/// long literal `0xa0dbcafecafe1234L`, which is itself negative, so the
/// value on the wire is positive.
pub const MAGIC: i64 = (0xa0db_cafe_cafe_1234_u64 as i64).wrapping_neg();
/// The SASL protocol name of quorum DIGEST-MD5.
pub const PROTOCOL: &str = "zookeeper-quorum";
/// The server name (and realm) of quorum DIGEST-MD5.
pub const DIGEST_SERVER_NAME: &str = "zk-quorum-sasl-md5";
/// The largest token accepted from a peer.
const MAX_TOKEN: usize = 64 * 1024;

/// Where an exchange stands (`QuorumAuth.Status`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    InProgress,
    Success,
    Error,
}

impl Status {
    pub fn code(self) -> i32 {
        match self {
            Status::InProgress => 0,
            Status::Success => 1,
            Status::Error => -1,
        }
    }

    /// An unknown code counts as an error, as in Java.
    pub fn from_code(code: i32) -> Status {
        match code {
            0 => Status::InProgress,
            1 => Status::Success,
            _ => Status::Error,
        }
    }
}

/// Why an exchange failed (for the log; the peer only sees ERROR).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QuorumAuthError(pub String);

impl fmt::Display for QuorumAuthError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

impl std::error::Error for QuorumAuthError {}

impl From<io::Error> for QuorumAuthError {
    fn from(e: io::Error) -> Self {
        QuorumAuthError(format!("I/O error during quorum SASL: {}", e))
    }
}

/// Writes one packet and flushes.
pub fn send(out: &mut dyn Write, status: Status, token: Option<&[u8]>) -> io::Result<()> {
    let packet = QuorumAuthPacket {
        magic: MAGIC,
        status: status.code(),
        token: token.map(<[u8]>::to_vec),
    };
    out.write_all(&jute::to_bytes(&packet))?;
    out.flush()
}

/// Reads one packet: its status and token. A wrong magic number or a
/// token over 64 KiB is an error.
pub fn receive(input: &mut dyn Read) -> Result<(Status, Option<Vec<u8>>), QuorumAuthError> {
    let mut header = [0u8; 16];
    input.read_exact(&mut header)?;
    let len = i32::from_be_bytes([header[12], header[13], header[14], header[15]]);
    if len > MAX_TOKEN as i32 {
        return Err(QuorumAuthError(format!("SASL token of {} bytes", len)));
    }
    let mut bytes = header.to_vec();
    bytes.resize(16 + len.max(0) as usize, 0);
    input.read_exact(&mut bytes[16..])?;
    let packet = QuorumAuthPacket::deserialize(&mut InputArchive::new(bytes.as_slice()))
        .map_err(|e| QuorumAuthError(format!("malformed quorum auth packet: {}", e)))?;
    if packet.magic != MAGIC {
        return Err(QuorumAuthError(format!(
            "not a quorum auth packet (magic {:#x})",
            packet.magic
        )));
    }
    Ok((Status::from_code(packet.status), packet.token))
}

/// True when `first` (a peer's first bytes) starts with the magic number.
pub fn is_auth_packet(first: &[u8]) -> bool {
    first.len() >= 8 && first[..8] == MAGIC.to_be_bytes()
}

/// The length of a quorum auth packet from its first bytes (`Ok(n)` with
/// `n > prefix.len()` asks for more), for the quorum port's door.
pub fn auth_packet_len(prefix: &[u8]) -> Result<usize, BadFirstMessage> {
    if prefix.len() < 16 {
        return Ok(16);
    }
    let len = i32::from_be_bytes([prefix[12], prefix[13], prefix[14], prefix[15]]);
    if len > MAX_TOKEN as i32 {
        return Err(BadFirstMessage::SaslToken(len));
    }
    Ok(16 + len.max(0) as usize)
}

/// `nextPacketIsAuth` on a socket: waits up to `within` for 8 bytes
/// without consuming them. The peer closing first, or sending fewer in
/// time, is an error.
pub fn next_packet_is_auth(stream: &QuorumSocket, within: Duration) -> io::Result<bool> {
    let deadline = Instant::now() + within;
    let mut first = [0u8; 8];
    loop {
        let n = stream.peek(&mut first)?;
        if n == 0 {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "the peer closed the connection",
            ));
        }
        if n == first.len() {
            return Ok(is_auth_packet(&first));
        }
        if Instant::now() >= deadline {
            return Err(io::Error::new(
                io::ErrorKind::TimedOut,
                "the peer's first 8 bytes did not arrive",
            ));
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn packets_round_trip() {
        let mut wire = Vec::new();
        send(&mut wire, Status::InProgress, Some(b"abc")).unwrap();
        // Java's bytes: magic, status 0, length 3, token.
        assert_eq!(
            &wire[..8],
            &[0x5f, 0x24, 0x35, 0x01, 0x35, 0x01, 0xed, 0xcc]
        );
        assert_eq!(&wire[8..16], &[0, 0, 0, 0, 0, 0, 0, 3]);
        assert!(is_auth_packet(&wire));
        assert_eq!(auth_packet_len(&wire[..10]), Ok(16));
        assert_eq!(auth_packet_len(&wire), Ok(19));
        assert_eq!(
            receive(&mut wire.as_slice()).unwrap(),
            (Status::InProgress, Some(b"abc".to_vec()))
        );
        let mut null = Vec::new();
        send(&mut null, Status::Success, None).unwrap();
        assert_eq!(&null[12..], &[0xff, 0xff, 0xff, 0xff]);
        assert_eq!(
            receive(&mut null.as_slice()).unwrap(),
            (Status::Success, None)
        );
        let mut bad = wire.clone();
        bad[0] = 0;
        assert!(receive(&mut bad.as_slice()).is_err());
        assert!(!is_auth_packet(&bad));
        let mut huge = wire[..12].to_vec();
        huge.extend_from_slice(&i32::MAX.to_be_bytes());
        assert!(receive(&mut huge.as_slice()).is_err());
        assert_eq!(
            auth_packet_len(&huge),
            Err(BadFirstMessage::SaslToken(i32::MAX))
        );
        assert_eq!(Status::from_code(7), Status::Error);
    }
}
