//! The FastLeaderElection message, both ways: the layout Java's
//! `buildMsg` writes and the backward-compatible parse of its
//! `WorkerReceiver` (28-byte, 40-byte and versioned forms).
//!
//! Pure code; the sender thread encodes, the receiver thread decodes.
//!
//! Mirrors: `FastLeaderElection.Notification`, `FastLeaderElection.ToSend`,
//! `FastLeaderElection.buildMsg`, the parsing half of `WorkerReceiver.run`.

use std::fmt;

use super::vote::{epoch_of_zxid, ServerState};

/// `Notification.CURRENTVERSION`: the format we send (with config data).
pub const CURRENT_VERSION: i32 = 0x2;
/// Messages shorter than this are dropped.
pub const MIN_LENGTH: usize = 28;

/// A vote as carried on the wire, from or to one peer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notification {
    /// The sender's state.
    pub state: ServerState,
    /// Proposed (or known) leader.
    pub leader: i64,
    /// The proposed leader's last zxid.
    pub zxid: i64,
    /// The sender's round.
    pub election_epoch: i64,
    /// The proposed leader's epoch.
    pub peer_epoch: i64,
    /// Format version (0 for the old 28/40-byte forms).
    pub version: i32,
    /// The sender's config text (version > 1 only).
    pub config: Option<String>,
    /// Who sent it (filled in by the transport, not on the wire).
    pub sid: i64,
}

impl Notification {
    /// The config version announced in the config text (`version=<hex>`),
    /// 0 when absent or unreadable.
    pub fn config_version(&self) -> i64 {
        self.config
            .as_deref()
            .and_then(|text| text.lines().rev().find_map(|l| l.strip_prefix("version=")))
            .and_then(|hex| u64::from_str_radix(hex.trim(), 16).ok())
            .map(|v| v as i64)
            .unwrap_or(0)
    }
}

/// Why a received message was dropped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DecodeError {
    /// Fewer than 28 bytes.
    Short(usize),
    /// The message ends inside a field, or the config length is impossible.
    Malformed { length: usize, reason: String },
    /// The state ordinal is not 0..=3.
    UnknownState(i32),
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DecodeError::Short(n) => write!(f, "short notification ({} bytes)", n),
            DecodeError::Malformed { length, reason } => {
                write!(
                    f,
                    "partial / malformed notification ({} bytes): {}",
                    length, reason
                )
            }
            DecodeError::UnknownState(s) => write!(f, "unknown server state {}", s),
        }
    }
}

impl std::error::Error for DecodeError {}

/// `buildMsg`: state, leader, zxid, round, peerEpoch, version 2, config.
pub fn encode(
    state: ServerState,
    leader: i64,
    zxid: i64,
    election_epoch: i64,
    peer_epoch: i64,
    config: &str,
) -> Vec<u8> {
    let config = config.as_bytes();
    let mut out = Vec::with_capacity(44 + config.len());
    out.extend_from_slice(&state.ordinal().to_be_bytes());
    out.extend_from_slice(&leader.to_be_bytes());
    out.extend_from_slice(&zxid.to_be_bytes());
    out.extend_from_slice(&election_epoch.to_be_bytes());
    out.extend_from_slice(&peer_epoch.to_be_bytes());
    out.extend_from_slice(&CURRENT_VERSION.to_be_bytes());
    out.extend_from_slice(&(config.len() as i32).to_be_bytes());
    out.extend_from_slice(config);
    out
}

/// A cursor that fails instead of running past the end.
struct Reader<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl Reader<'_> {
    fn take(&mut self, n: usize) -> Result<&[u8], DecodeError> {
        let end = self
            .pos
            .checked_add(n)
            .filter(|e| *e <= self.bytes.len())
            .ok_or_else(|| DecodeError::Malformed {
                length: self.bytes.len(),
                reason: format!("ends before byte {}", self.pos + n),
            })?;
        let out = &self.bytes[self.pos..end];
        self.pos = end;
        Ok(out)
    }

    fn int(&mut self) -> Result<i32, DecodeError> {
        let b = self.take(4)?;
        Ok(i32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    }

    fn long(&mut self) -> Result<i64, DecodeError> {
        let b = self.take(8)?;
        let mut a = [0u8; 8];
        a.copy_from_slice(b);
        Ok(i64::from_be_bytes(a))
    }
}

/// Parses a message from `sid`. The state is checked last, as Java does
/// (a non-voter's message is answered whatever its state says), so an
/// unknown state comes back as [`DecodeError::UnknownState`] only after
/// every other field parsed.
pub fn decode(sid: i64, bytes: &[u8]) -> Result<Notification, DecodeError> {
    let length = bytes.len();
    if length < MIN_LENGTH {
        return Err(DecodeError::Short(length));
    }
    let mut r = Reader { bytes, pos: 0 };
    let state = r.int()?;
    let leader = r.long()?;
    let zxid = r.long()?;
    let election_epoch = r.long()?;
    let (peer_epoch, version) = match length {
        28 => (epoch_of_zxid(zxid), 0),
        40 => (r.long()?, 0),
        _ => (r.long()?, r.int()?),
    };
    let mut config = None;
    if version > 0x1 {
        let config_length = r.int()?;
        if config_length < 0 || config_length as usize > length {
            return Err(DecodeError::Malformed {
                length,
                reason: format!("invalid configLength {}", config_length),
            });
        }
        let text = r.take(config_length as usize)?;
        config = Some(String::from_utf8_lossy(text).into_owned());
    }
    let state = ServerState::from_ordinal(state).ok_or(DecodeError::UnknownState(state))?;
    Ok(Notification {
        state,
        leader,
        zxid,
        election_epoch,
        peer_epoch,
        version,
        config,
        sid,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_matches_the_observed_layout() {
        let config = "server.1=127.0.0.1:22881:23881:participant\nversion=0";
        let bytes = encode(ServerState::Looking, 1, 0, 1, 0, config);
        assert_eq!(bytes.len(), 44 + config.len());
        assert_eq!(&bytes[..4], &[0, 0, 0, 0]);
        assert_eq!(&bytes[36..40], &[0, 0, 0, 2]);
        let n = decode(7, &bytes).unwrap();
        assert_eq!(n.leader, 1);
        assert_eq!(n.election_epoch, 1);
        assert_eq!(n.version, 2);
        assert_eq!(n.sid, 7);
        assert_eq!(n.config.as_deref(), Some(config));
        assert_eq!(n.config_version(), 0);
    }

    #[test]
    fn old_formats_are_accepted() {
        let full = encode(ServerState::Following, 3, 0x5_0000_0002, 9, 4, "");
        let n28 = decode(1, &full[..28]).unwrap();
        assert_eq!(
            (n28.peer_epoch, n28.version, n28.state),
            (5, 0, ServerState::Following)
        );
        let n40 = decode(1, &full[..40]).unwrap();
        assert_eq!((n40.peer_epoch, n40.version), (4, 0));
        let mut v1 = full[..40].to_vec();
        v1[36..40].copy_from_slice(&1i32.to_be_bytes());
        v1.extend_from_slice(&[0, 0, 0, 0]); // 44 bytes, version 1: no config read
        assert_eq!(decode(1, &v1).unwrap().config, None);
    }

    #[test]
    fn bad_messages_are_refused_not_panicked_on() {
        let full = encode(ServerState::Looking, 3, 1, 1, 0, "version=0");
        assert_eq!(decode(1, &full[..27]), Err(DecodeError::Short(27)));
        for cut in [29, 35, 36, 39, 41, 43, 44, full.len() - 1] {
            assert!(
                matches!(decode(1, &full[..cut]), Err(DecodeError::Malformed { .. })),
                "cut {}",
                cut
            );
        }
        let mut negative = full.clone();
        negative[40..44].copy_from_slice(&(-1i32).to_be_bytes());
        assert!(matches!(
            decode(1, &negative),
            Err(DecodeError::Malformed { .. })
        ));
        let mut huge = full.clone();
        huge[40..44].copy_from_slice(&i32::MAX.to_be_bytes());
        assert!(matches!(
            decode(1, &huge),
            Err(DecodeError::Malformed { .. })
        ));
        let mut state = full.clone();
        state[..4].copy_from_slice(&7i32.to_be_bytes());
        assert_eq!(decode(1, &state), Err(DecodeError::UnknownState(7)));
    }
}
