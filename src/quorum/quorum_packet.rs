//! The leader ↔ learner packet vocabulary: the packet type numbers, their
//! names for logs, reading and writing bare `QuorumPacket` records on the
//! quorum-port stream (no length prefix), and the payload layouts that are
//! not jute records (LEADERINFO/ACKEPOCH ints, PING session lists,
//! REQUEST and REVALIDATE bodies, positional LearnerInfo).
//!
//! Pure helpers, used by the leader's threads (LearnerHandler, its sender)
//! and the learners' threads alike.
//!
//! Mirrors: the packet constants of `org.apache.zookeeper.server.quorum.Leader`,
//! `LearnerHandler.packetToString`, and the payload code in `Learner`,
//! `LearnerHandler.run`, `Leader.revalidateSession`, `Learner.ping`.

use std::fmt;
use std::io::{Read, Write};

use crate::jute::data::Id;
use crate::jute::quorum::{LearnerInfo, QuorumPacket};
use crate::jute::{InputArchive, OutputArchive, Record};

/// Learner → leader: a client request to run through the leader's pipeline.
pub const REQUEST: i32 = 1;
/// Leader → follower: a txn to log and ack.
pub const PROPOSAL: i32 = 2;
/// Follower → leader: a proposal is logged (also the NEWLEADER/UPTODATE acks).
pub const ACK: i32 = 3;
/// Leader → follower: a proposal reached a quorum.
pub const COMMIT: i32 = 4;
/// Both ways: liveness (learner's reply carries touched sessions).
pub const PING: i32 = 5;
/// Both ways: is this session still valid (a client reconnected to a learner).
pub const REVALIDATE: i32 = 6;
/// Leader → learner: a forwarded `sync` completed.
pub const SYNC: i32 = 7;
/// Leader → observer: a committed txn (PROPOSAL data).
pub const INFORM: i32 = 8;
/// Leader → follower: a reconfig commit (data: designated leader sid).
pub const COMMITANDACTIVATE: i32 = 9;
/// Leader → learner: sync sent; data = quorum verifier text.
pub const NEWLEADER: i32 = 10;
/// Follower → leader: first packet (zxid = acceptedEpoch << 32, LearnerInfo).
pub const FOLLOWERINFO: i32 = 11;
/// Leader → learner: start serving.
pub const UPTODATE: i32 = 12;
/// Leader → learner: proposals follow.
pub const DIFF: i32 = 13;
/// Leader → learner: truncate the log to this zxid.
pub const TRUNC: i32 = 14;
/// Leader → learner: a snapshot stream follows.
pub const SNAP: i32 = 15;
/// Observer → leader: first packet.
pub const OBSERVERINFO: i32 = 16;
/// Leader → learner: the new epoch and protocol version.
pub const LEADERINFO: i32 = 17;
/// Learner → leader: the learner's current epoch and last zxid.
pub const ACKEPOCH: i32 = 18;
/// Leader → observer: a reconfig commit.
pub const INFORMANDACTIVATE: i32 = 19;

/// The Zab 1.0 protocol version (LearnerInfo, LEADERINFO).
pub const PROTOCOL_VERSION: i32 = 0x10000;

/// The marker after a SNAP stream.
pub const SNAP_SIGNATURE: &str = "BenWasHere";

/// The name Java logs for a packet type (`LearnerHandler.packetToString`).
pub fn type_name(t: i32) -> &'static str {
    match t {
        REQUEST => "REQUEST",
        PROPOSAL => "PROPOSAL",
        ACK => "ACK",
        COMMIT => "COMMIT",
        PING => "PING",
        REVALIDATE => "REVALIDATE",
        SYNC => "SYNC",
        INFORM => "INFORM",
        COMMITANDACTIVATE => "COMMITANDACTIVATE",
        NEWLEADER => "NEWLEADER",
        FOLLOWERINFO => "FOLLOWERINFO",
        UPTODATE => "UPTODATE",
        DIFF => "DIFF",
        TRUNC => "TRUNC",
        SNAP => "SNAP",
        OBSERVERINFO => "OBSERVERINFO",
        LEADERINFO => "LEADERINFO",
        ACKEPOCH => "ACKEPOCH",
        INFORMANDACTIVATE => "INFORMANDACTIVATE",
        _ => "UNKNOWN",
    }
}

/// A packet as a log line: `PROPOSAL zxid=0x100000001 len=42`.
pub struct Display<'a>(pub &'a QuorumPacket);

impl fmt::Display for Display<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let p = self.0;
        write!(f, "{} zxid=0x{:x}", type_name(p.r#type), p.zxid)?;
        match &p.data {
            Some(d) => write!(f, " len={}", d.len()),
            None => Ok(()),
        }
    }
}

/// A packet with no auth info.
pub fn packet(r#type: i32, zxid: i64, data: Option<Vec<u8>>) -> QuorumPacket {
    QuorumPacket {
        r#type,
        zxid,
        data,
        authinfo: Vec::new(),
    }
}

/// Reads one packet from the stream (blocking; bounded by jute.maxbuffer).
pub fn read_packet<R: Read>(ia: &mut InputArchive<R>) -> crate::jute::Result<QuorumPacket> {
    QuorumPacket::deserialize(ia)
}

/// Writes one packet (the caller flushes).
pub fn write_packet<W: Write>(oa: &mut OutputArchive<W>, p: &QuorumPacket) -> std::io::Result<()> {
    p.serialize(oa)
}

/// zxid = epoch << 32 | counter.
pub fn make_zxid(epoch: i64, counter: i64) -> i64 {
    (epoch << 32) | (counter & 0xffff_ffff)
}

/// The epoch half of a zxid.
pub fn epoch_of(zxid: i64) -> i64 {
    zxid >> 32
}

/// The counter half of a zxid.
pub fn counter_of(zxid: i64) -> i64 {
    zxid & 0xffff_ffff
}

/// A 4-byte big-endian int payload (LEADERINFO version, ACKEPOCH epoch).
pub fn int_data(v: i32) -> Vec<u8> {
    v.to_be_bytes().to_vec()
}

/// Reads a leading 4-byte big-endian int; None when too short.
pub fn read_int_data(data: Option<&[u8]>) -> Option<i32> {
    let d = data?;
    let b: [u8; 4] = d.get(..4)?.try_into().ok()?;
    Some(i32::from_be_bytes(b))
}

/// An 8-byte big-endian long payload (COMMITANDACTIVATE sid).
pub fn long_data(v: i64) -> Vec<u8> {
    v.to_be_bytes().to_vec()
}

fn be_i64(d: &[u8], at: usize) -> Option<i64> {
    Some(i64::from_be_bytes(d.get(at..at + 8)?.try_into().ok()?))
}

fn be_i32(d: &[u8], at: usize) -> Option<i32> {
    Some(i32::from_be_bytes(d.get(at..at + 4)?.try_into().ok()?))
}

/// LearnerInfo as the leader reads it: positionally, fields present only
/// when the data is long enough (`LearnerHandler.run`). `None` data → None.
pub fn parse_learner_info(data: Option<&[u8]>) -> Option<LearnerInfo> {
    let d = data?;
    let serverid = be_i64(d, 0)?;
    let protocol_version = be_i32(d, 8).unwrap_or(0);
    let config_version = be_i64(d, 12).unwrap_or(0);
    Some(LearnerInfo {
        serverid,
        protocol_version,
        config_version,
    })
}

/// LearnerInfo bytes as a learner sends them.
pub fn learner_info_data(sid: i64, config_version: i64) -> Vec<u8> {
    crate::jute::to_bytes(&LearnerInfo {
        serverid: sid,
        protocol_version: PROTOCOL_VERSION,
        config_version,
    })
}

/// PING reply payload: (sessionId, timeout) pairs.
pub fn encode_session_touches(touches: &[(i64, i32)]) -> Vec<u8> {
    let mut out = Vec::with_capacity(touches.len() * 12);
    for (id, to) in touches {
        out.extend_from_slice(&id.to_be_bytes());
        out.extend_from_slice(&to.to_be_bytes());
    }
    out
}

/// Reads PING reply pairs until the data ends (a torn trailing pair is
/// ignored, as Java stops at end of stream).
pub fn decode_session_touches(data: Option<&[u8]>) -> Vec<(i64, i32)> {
    let d = data.unwrap_or(&[]);
    d.chunks_exact(12)
        .filter_map(|c| Some((be_i64(c, 0)?, be_i32(c, 8)?)))
        .collect()
}

/// A forwarded client request (REQUEST payload).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ForwardedRequest {
    /// The client's session.
    pub session_id: i64,
    /// The client's xid.
    pub cxid: i32,
    /// The opcode.
    pub op: i32,
    /// The request record exactly as the client sent it.
    pub body: Vec<u8>,
}

/// REQUEST payload: sessionId, cxid, type, then the raw request bytes.
pub fn encode_request(r: &ForwardedRequest) -> Vec<u8> {
    let mut out = Vec::with_capacity(16 + r.body.len());
    out.extend_from_slice(&r.session_id.to_be_bytes());
    out.extend_from_slice(&r.cxid.to_be_bytes());
    out.extend_from_slice(&r.op.to_be_bytes());
    out.extend_from_slice(&r.body);
    out
}

/// Parses a REQUEST payload; None when shorter than the 16-byte header.
pub fn decode_request(data: Option<&[u8]>) -> Option<ForwardedRequest> {
    let d = data?;
    Some(ForwardedRequest {
        session_id: be_i64(d, 0)?,
        cxid: be_i32(d, 8)?,
        op: be_i32(d, 12)?,
        body: d.get(16..)?.to_vec(),
    })
}

/// REVALIDATE request payload (learner → leader): sessionId, timeout.
pub fn encode_revalidate(session_id: i64, timeout: i32) -> Vec<u8> {
    let mut out = long_data(session_id);
    out.extend_from_slice(&timeout.to_be_bytes());
    out
}

/// Parses a REVALIDATE request payload.
pub fn decode_revalidate(data: Option<&[u8]>) -> Option<(i64, i32)> {
    let d = data?;
    Some((be_i64(d, 0)?, be_i32(d, 8)?))
}

/// REVALIDATE reply payload (leader → learner): sessionId, valid (1 byte).
pub fn encode_revalidate_reply(session_id: i64, valid: bool) -> Vec<u8> {
    let mut out = long_data(session_id);
    out.push(valid as u8);
    out
}

/// Parses a REVALIDATE reply payload.
pub fn decode_revalidate_reply(data: Option<&[u8]>) -> Option<(i64, bool)> {
    let d = data?;
    Some((be_i64(d, 0)?, *d.get(8)? != 0))
}

/// The auth ids of a packet as the request's auth info.
pub fn auth_ids(p: &QuorumPacket) -> Vec<Id> {
    p.authinfo.clone()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zxid_halves() {
        let z = make_zxid(3, 7);
        assert_eq!(z, 0x3_0000_0007);
        assert_eq!(epoch_of(z), 3);
        assert_eq!(counter_of(z), 7);
    }

    #[test]
    fn packet_round_trip_matches_observed_leaderinfo() {
        let p = packet(LEADERINFO, 0x1_0000_0000, Some(int_data(PROTOCOL_VERSION)));
        let mut oa = OutputArchive::new(Vec::new());
        write_packet(&mut oa, &p).unwrap();
        let bytes = oa.into_inner();
        // type 17, zxid, buffer len 4 + 00010000, authinfo count
        assert_eq!(&bytes[..4], &[0, 0, 0, 17]);
        assert_eq!(&bytes[12..20], &[0, 0, 0, 4, 0, 1, 0, 0]);
        let back = read_packet(&mut InputArchive::new(&bytes[..])).unwrap();
        assert_eq!(back, p);
        assert!(read_packet(&mut InputArchive::new(&bytes[..10])).is_err());
    }

    #[test]
    fn learner_info_positional() {
        let d = learner_info_data(3, 0);
        assert_eq!(d.len(), 20);
        let li = parse_learner_info(Some(&d)).unwrap();
        assert_eq!(
            (li.serverid, li.protocol_version, li.config_version),
            (3, PROTOCOL_VERSION, 0)
        );
        let short = parse_learner_info(Some(&d[..8])).unwrap();
        assert_eq!((short.serverid, short.protocol_version), (3, 0));
        assert!(parse_learner_info(Some(&d[..5])).is_none());
        assert!(parse_learner_info(None).is_none());
    }

    #[test]
    fn payloads_round_trip_and_reject_short_input() {
        let t = vec![(0x100, 4000), (-5, 30000)];
        assert_eq!(decode_session_touches(Some(&encode_session_touches(&t))), t);
        let mut torn = encode_session_touches(&t);
        torn.push(1);
        assert_eq!(decode_session_touches(Some(&torn)), t);
        let r = ForwardedRequest {
            session_id: 9,
            cxid: 2,
            op: 1,
            body: vec![1, 2, 3],
        };
        assert_eq!(decode_request(Some(&encode_request(&r))), Some(r));
        assert_eq!(decode_request(Some(&[0; 15])), None);
        assert_eq!(
            decode_revalidate(Some(&encode_revalidate(7, 3000))),
            Some((7, 3000))
        );
        assert_eq!(
            decode_revalidate_reply(Some(&encode_revalidate_reply(7, true))),
            Some((7, true))
        );
        assert_eq!(decode_revalidate_reply(Some(&[0; 8])), None);
        assert_eq!(read_int_data(Some(&int_data(-1))), Some(-1));
        assert_eq!(read_int_data(Some(&[1, 2])), None);
    }
}
