//! The first bytes on an election connection: who is dialing and where it
//! listens. Written by the dialing side right after connect, read (with a
//! socket timeout) by the accepting side before anything else.
//!
//! Layout: int64 protocol version (−65536, or −65535 with multi-address),
//! int64 sid, int32 length (1..=2048), then `host:port` (`|`-joined when
//! multi-address). A non-negative first long is a pre-3.5 peer that sent
//! only its sid.
//!
//! Pure code over `Read`/`Write`; runs on the connecting and the accepting
//! threads of the QuorumCnxManager.
//!
//! Mirrors: `QuorumCnxManager.InitialMessage`, the header half of
//! `QuorumCnxManager.startConnection` and `handleConnection`.

use std::fmt;
use std::io::{self, Read, Write};

use super::handshake_gate::BadFirstMessage;
use super::quorum_server::{parse_host_port, HostPort};

/// `PROTOCOL_VERSION_V1`: one election address.
pub const PROTOCOL_VERSION_V1: i64 = -65536;
/// `PROTOCOL_VERSION_V2`: `|`-separated addresses (multi-address).
pub const PROTOCOL_VERSION_V2: i64 = -65535;
/// `QuorumCnxManager.maxBuffer`: the longest address text accepted.
pub const MAX_ADDRESS_LENGTH: i32 = 2048;

/// A parsed initial message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InitialMessage {
    /// The dialing server's id.
    pub sid: i64,
    /// Its election addresses (wildcard hosts dropped; empty for a legacy
    /// peer).
    pub election_addrs: Vec<HostPort>,
}

/// Why an initial message was refused.
#[derive(Debug)]
pub enum InitialMessageError {
    /// Neither V1 nor V2 (nor a legacy sid).
    UnknownVersion(i64),
    /// The address length is ≤ 0 or > 2048.
    BadLength(i32),
    /// An address is not `host:port`.
    BadAddress(String),
    /// The stream ended or failed (including the handshake timeout).
    Io(io::Error),
}

impl fmt::Display for InitialMessageError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            InitialMessageError::UnknownVersion(v) => {
                write!(f, "Got unrecognized protocol version {}", v)
            }
            InitialMessageError::BadLength(n) => write!(f, "Unreasonable buffer length: {}", n),
            InitialMessageError::BadAddress(a) => write!(f, "Badly formed address: {}", a),
            InitialMessageError::Io(e) => write!(f, "cannot read the initial message: {}", e),
        }
    }
}

impl std::error::Error for InitialMessageError {}

impl From<io::Error> for InitialMessageError {
    fn from(e: io::Error) -> Self {
        InitialMessageError::Io(e)
    }
}

/// Writes the header: V2 with every address when `multi_address`, else V1
/// with the first one.
pub fn write_initial_message<W: Write>(
    out: &mut W,
    my_sid: i64,
    addrs: &[HostPort],
    multi_address: bool,
) -> io::Result<()> {
    let (version, text) = if multi_address {
        (
            PROTOCOL_VERSION_V2,
            addrs
                .iter()
                .map(HostPort::to_wire)
                .collect::<Vec<_>>()
                .join("|"),
        )
    } else {
        (
            PROTOCOL_VERSION_V1,
            addrs.first().map(HostPort::to_wire).unwrap_or_default(),
        )
    };
    let mut buf = Vec::with_capacity(20 + text.len());
    buf.extend_from_slice(&version.to_be_bytes());
    buf.extend_from_slice(&my_sid.to_be_bytes());
    buf.extend_from_slice(&(text.len() as i32).to_be_bytes());
    buf.extend_from_slice(text.as_bytes());
    out.write_all(&buf)?;
    out.flush()
}

/// Reads a header from the accepting side of a connection.
pub fn read_initial_message<R: Read>(input: &mut R) -> Result<InitialMessage, InitialMessageError> {
    let first = read_i64(input)?;
    if first >= 0 {
        return Ok(InitialMessage {
            sid: first,
            election_addrs: Vec::new(),
        });
    }
    if first != PROTOCOL_VERSION_V1 && first != PROTOCOL_VERSION_V2 {
        return Err(InitialMessageError::UnknownVersion(first));
    }
    let sid = read_i64(input)?;
    let mut len = [0u8; 4];
    input.read_exact(&mut len)?;
    let remaining = i32::from_be_bytes(len);
    if remaining <= 0 || remaining > MAX_ADDRESS_LENGTH {
        return Err(InitialMessageError::BadLength(remaining));
    }
    let mut text = vec![0u8; remaining as usize];
    input.read_exact(&mut text)?;
    let text = String::from_utf8_lossy(&text);
    let mut election_addrs = Vec::new();
    for part in text.split('|') {
        let addr = parse_host_port(part)
            .ok_or_else(|| InitialMessageError::BadAddress(part.to_string()))?;
        if !addr.is_wildcard() {
            election_addrs.push(addr);
        }
    }
    Ok(InitialMessage {
        sid,
        election_addrs,
    })
}

/// How long the header is, judged from its first bytes (see
/// `handshake_gate::MessageLen`): refused as soon as its version or
/// length is.
pub fn initial_message_len(prefix: &[u8]) -> Result<usize, BadFirstMessage> {
    if prefix.len() < 8 {
        return Ok(8);
    }
    let first = i64::from_be_bytes(prefix[..8].try_into().unwrap_or([0; 8]));
    if first >= 0 {
        return Ok(8);
    }
    if first != PROTOCOL_VERSION_V1 && first != PROTOCOL_VERSION_V2 {
        return Err(BadFirstMessage::InitialVersion(first));
    }
    if prefix.len() < 20 {
        return Ok(20);
    }
    let remaining = i32::from_be_bytes(prefix[16..20].try_into().unwrap_or([0; 4]));
    if remaining <= 0 || remaining > MAX_ADDRESS_LENGTH {
        return Err(BadFirstMessage::InitialLength(remaining));
    }
    Ok(20 + remaining as usize)
}

fn read_i64<R: Read>(input: &mut R) -> io::Result<i64> {
    let mut b = [0u8; 8];
    input.read_exact(&mut b)?;
    Ok(i64::from_be_bytes(b))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hp(host: &str, port: u16) -> HostPort {
        HostPort {
            host: host.into(),
            port,
        }
    }

    #[test]
    fn header_length_from_a_prefix() {
        let mut out = Vec::new();
        write_initial_message(&mut out, 3, &[hp("127.0.0.1", 23881)], false).unwrap();
        for cut in 0..out.len() {
            let need = initial_message_len(&out[..cut]).unwrap();
            assert!(need > cut && need <= out.len(), "{} -> {}", cut, need);
        }
        assert_eq!(initial_message_len(&out), Ok(out.len()));
        assert_eq!(
            initial_message_len(&7i64.to_be_bytes()),
            Ok(8),
            "a legacy sid"
        );
        let refused = initial_message_len(&(-5i64).to_be_bytes());
        assert_eq!(refused, Err(BadFirstMessage::InitialVersion(-5)));
        assert_eq!(
            refused.unwrap_err().to_string(),
            "initial message refused: Got unrecognized protocol version -5"
        );
        let mut bad = out[..16].to_vec();
        bad.extend_from_slice(&100_000i32.to_be_bytes());
        let refused = initial_message_len(&bad);
        assert_eq!(refused, Err(BadFirstMessage::InitialLength(100_000)));
        assert_eq!(
            refused.unwrap_err().to_string(),
            "initial message refused: Unreasonable buffer length: 100000"
        );
    }

    #[test]
    fn v1_bytes_match_java() {
        let mut out = Vec::new();
        write_initial_message(&mut out, 1, &[hp("127.0.0.1", 23881)], false).unwrap();
        let mut expected = hex("ffffffffffff0000 0000000000000001 0000000f");
        expected.extend_from_slice(b"127.0.0.1:23881");
        assert_eq!(out, expected);
        let parsed = read_initial_message(&mut &out[..]).unwrap();
        assert_eq!(
            parsed,
            InitialMessage {
                sid: 1,
                election_addrs: vec![hp("127.0.0.1", 23881)]
            }
        );
    }

    #[test]
    fn v2_carries_every_address_and_drops_wildcards() {
        let mut out = Vec::new();
        write_initial_message(&mut out, 5, &[hp("0.0.0.0", 1), hp("::1", 2)], true).unwrap();
        let parsed = read_initial_message(&mut &out[..]).unwrap();
        assert_eq!(parsed.sid, 5);
        assert_eq!(parsed.election_addrs, vec![hp("::1", 2)]);
    }

    #[test]
    fn legacy_peer_sends_only_its_sid() {
        let parsed = read_initial_message(&mut &7i64.to_be_bytes()[..]).unwrap();
        assert_eq!(
            parsed,
            InitialMessage {
                sid: 7,
                election_addrs: vec![]
            }
        );
    }

    #[test]
    fn bad_headers_are_refused() {
        let header = |version: i64, len: i32, text: &[u8]| {
            let mut b = version.to_be_bytes().to_vec();
            b.extend_from_slice(&3i64.to_be_bytes());
            b.extend_from_slice(&len.to_be_bytes());
            b.extend_from_slice(text);
            b
        };
        let read = |b: Vec<u8>| read_initial_message(&mut &b[..]);
        assert!(matches!(
            read(header(-1, 3, b"a:1")),
            Err(InitialMessageError::UnknownVersion(-1))
        ));
        assert!(matches!(
            read(header(PROTOCOL_VERSION_V1, 0, b"")),
            Err(InitialMessageError::BadLength(0))
        ));
        assert!(matches!(
            read(header(PROTOCOL_VERSION_V1, -5, b"")),
            Err(InitialMessageError::BadLength(-5))
        ));
        assert!(matches!(
            read(header(PROTOCOL_VERSION_V1, 2049, b"")),
            Err(InitialMessageError::BadLength(2049))
        ));
        assert!(matches!(
            read(header(PROTOCOL_VERSION_V1, 10, b"a:1")),
            Err(InitialMessageError::Io(_))
        ));
        assert!(matches!(
            read(header(PROTOCOL_VERSION_V1, 3, b"a:x")),
            Err(InitialMessageError::BadAddress(_))
        ));
        assert!(matches!(
            read(header(PROTOCOL_VERSION_V1, 3, b"abc")),
            Err(InitialMessageError::BadAddress(_))
        ));
        assert!(matches!(
            read(vec![0xff, 0xff]),
            Err(InitialMessageError::Io(_))
        ));
    }

    fn hex(s: &str) -> Vec<u8> {
        let s: String = s.split_whitespace().collect();
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
            .collect()
    }
}
