//! No input makes a jute decoder panic or over-allocate.
//!
//! Feeds random byte strings, and truncations and single-byte corruptions of
//! valid records, to the decoders a server runs on untrusted input (client
//! frames, quorum packets, log records). Each must return `Ok` or `Err`;
//! a panic fails the test. The generator is a fixed-seed xorshift so a
//! failure reproduces.

use zookeeper::jute::multi::{MultiOperationRecord, MultiResponse};
use zookeeper::jute::proto::*;
use zookeeper::jute::quorum::QuorumPacket;
use zookeeper::jute::txn::{TxnBody, TxnLogEntry};
use zookeeper::jute::{from_bytes, to_bytes};

struct XorShift(u64);

impl XorShift {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn bytes(&mut self, max_len: usize) -> Vec<u8> {
        let len = (self.next() as usize) % max_len;
        (0..len).map(|_| self.next() as u8).collect()
    }
}

/// Runs every decoder on `bytes`; only a panic can fail.
fn decode_all(bytes: &[u8]) {
    let _ = from_bytes::<ConnectRequest>(bytes);
    let _ = from_bytes::<RequestHeader>(bytes);
    let _ = from_bytes::<CreateRequest>(bytes);
    let _ = from_bytes::<CreateTtlRequest>(bytes);
    let _ = from_bytes::<SetWatches2>(bytes);
    let _ = from_bytes::<SetAclRequest>(bytes);
    let _ = from_bytes::<AuthPacket>(bytes);
    let _ = from_bytes::<MultiOperationRecord>(bytes);
    let _ = from_bytes::<MultiResponse>(bytes);
    let _ = from_bytes::<QuorumPacket>(bytes);
    let _ = TxnLogEntry::from_bytes(bytes);
    for txn_type in [-11, -10, -1, 1, 2, 5, 7, 13, 14, 15, 16, 19, 20, 21, 99] {
        let _ = TxnBody::from_bytes(txn_type, bytes);
    }
}

#[test]
fn random_bytes_never_panic() {
    let mut rng = XorShift(0x9e37_79b9_7f4a_7c15);
    for _ in 0..20_000 {
        decode_all(&rng.bytes(96));
    }
}

#[test]
fn truncated_and_corrupted_records_never_panic() {
    let mut multi = Vec::new();
    multi.extend(to_bytes(&MultiHeader {
        r#type: 1,
        done: false,
        err: -1,
    }));
    multi.extend(to_bytes(&CreateRequest {
        path: "/a".into(),
        data: Some(b"data".to_vec()),
        acl: zookeeper::jute::data::ids::open_acl_unsafe(),
        flags: 0,
    }));
    multi.extend(to_bytes(&MultiHeader {
        r#type: -1,
        done: true,
        err: -1,
    }));
    let mut rng = XorShift(42);
    for valid in [multi, to_bytes(&ConnectRequest::default())] {
        for cut in 0..valid.len() {
            decode_all(&valid[..cut]);
        }
        for _ in 0..2_000 {
            let mut bad = valid.clone();
            let at = rng.next() as usize % bad.len();
            bad[at] = rng.next() as u8;
            decode_all(&bad);
        }
    }
}
