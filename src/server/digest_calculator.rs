//! The DataTree digest: a CRC32 per znode, summed over the tree.
//!
//! Every txn a Java leader logs carries the digest the tree will have
//! after applying it, and every server compares its own tree with it, so
//! our per-node digest must be bit-exact with Java's `DigestCalculator`:
//! CRC32 (zlib polynomial) over the path ("/" written as ""), the data
//! (if any) and a 60-byte big-endian block of czxid, mzxid, pzxid, ctime,
//! mtime, version, cversion (stored), aversion, ephemeralOwner. Nodes under
//! "/zookeeper/" count as 0. The tree digest is the wrapping 64-bit sum,
//! kept incrementally (subtract a node's digest before a change, add it
//! after).
//!
//! Pure; used by the DataTree (applying txns) and by Prep (predicting the
//! digest a txn will produce).
//!
//! Mirrors: `org.apache.zookeeper.server.DigestCalculator`,
//! `NodeHashMapImpl` (add/remove) and `util.AdHash` (the sum).

use crate::jute::data::StatPersisted;

/// `DigestCalculator.DIGEST_VERSION`: written in every TxnDigest and in
/// the snapshot's digest section.
pub const DIGEST_VERSION: i32 = 2;

/// Paths under this prefix are left out of the digest.
pub const ZOOKEEPER_NODE_SUBTREE: &str = "/zookeeper/";

/// Computes node digests.
pub struct DigestCalculator;

impl DigestCalculator {
    /// The digest of one node (0 for nodes under "/zookeeper/").
    ///
    /// To predict the tree digest after a txn (as Java's Prep does with its
    /// ChangeRecords): start from the current `DataTree::digest()`, and for
    /// every node the txn touches subtract `node_digest(path, old stat, old
    /// data)` and add `node_digest(path, new stat, new data)` (only the add
    /// for a created node, only the subtract for a deleted one), using
    /// `wrapping_sub`/`wrapping_add`.
    pub fn node_digest(path: &str, stat: &StatPersisted, data: Option<&[u8]>) -> i64 {
        if path.starts_with(ZOOKEEPER_NODE_SUBTREE) {
            return 0;
        }
        let path = if path == "/" { "" } else { path };
        let data = data.unwrap_or(&[]);
        let stat = stat_block(stat);
        let len = path.len() + data.len() + stat.len();
        if len > INLINE_DIGEST_BYTES {
            let mut crc = crc32fast::Hasher::new();
            crc.update(path.as_bytes());
            crc.update(data);
            crc.update(&stat);
            return crc.finalize() as i64;
        }
        // One pass over one buffer: most nodes are small, and for short
        // input the checksum's per-call cost outweighs the copy.
        let mut buf = [0u8; INLINE_DIGEST_BYTES];
        buf[..path.len()].copy_from_slice(path.as_bytes());
        buf[path.len()..path.len() + data.len()].copy_from_slice(data);
        buf[path.len() + data.len()..len].copy_from_slice(&stat);
        crc32fast::hash(&buf[..len]) as i64
    }
}

/// Nodes whose path, data and stat fit in this many bytes are digested
/// from one stack buffer.
const INLINE_DIGEST_BYTES: usize = 256;

/// The 60 stat bytes in digest order (pzxid third, unlike StatPersisted);
/// also the tail of a pending node's digest in `change_record`.
pub(crate) fn stat_block(stat: &StatPersisted) -> [u8; 60] {
    let mut b = [0u8; 60];
    let longs = [stat.czxid, stat.mzxid, stat.pzxid, stat.ctime, stat.mtime];
    for (i, v) in longs.iter().enumerate() {
        b[i * 8..i * 8 + 8].copy_from_slice(&v.to_be_bytes());
    }
    let ints = [stat.version, stat.cversion, stat.aversion];
    for (i, v) in ints.iter().enumerate() {
        b[40 + i * 4..44 + i * 4].copy_from_slice(&v.to_be_bytes());
    }
    b[52..60].copy_from_slice(&stat.ephemeral_owner.to_be_bytes());
    b
}

/// The running sum of node digests (`AdHash`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TreeDigest(i64);

impl TreeDigest {
    /// Adds a node's digest.
    pub fn add(&mut self, node_digest: i64) {
        self.0 = self.0.wrapping_add(node_digest);
    }
    /// Removes a node's digest.
    pub fn remove(&mut self, node_digest: i64) {
        self.0 = self.0.wrapping_sub(node_digest);
    }
    /// The current sum.
    pub fn value(&self) -> i64 {
        self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stat(zxid: i64, time: i64) -> StatPersisted {
        StatPersisted {
            czxid: zxid,
            mzxid: zxid,
            pzxid: zxid,
            ctime: time,
            mtime: time,
            ..Default::default()
        }
    }

    /// As on Java 3.8.0: a fresh tree digests to 0x51c6d660.
    #[test]
    fn fresh_tree_vector() {
        let zero = StatPersisted::default();
        let mut d = TreeDigest::default();
        d.add(DigestCalculator::node_digest("", &zero, Some(b"")));
        d.add(DigestCalculator::node_digest(
            "/zookeeper",
            &zero,
            Some(b""),
        ));
        d.add(DigestCalculator::node_digest(
            "/zookeeper/quota",
            &zero,
            Some(b""),
        ));
        assert_eq!(d.value(), 0x51c6d660);
        // "/" is the root's alias and digests like "".
        assert_eq!(
            DigestCalculator::node_digest("/", &zero, None),
            DigestCalculator::node_digest("", &zero, None)
        );
    }

    /// As on Java 3.8.0: after `create /a "hello"` at zxid 3 the tree
    /// digests to 0x1b017e72e.
    #[test]
    fn create_vector() {
        let time = 1795335953720;
        let zero = StatPersisted::default();
        let root = StatPersisted {
            cversion: 1,
            pzxid: 3,
            ..StatPersisted::default()
        };
        let mut d = TreeDigest::default();
        d.add(DigestCalculator::node_digest("", &root, Some(b"")));
        d.add(DigestCalculator::node_digest(
            "/zookeeper",
            &zero,
            Some(b""),
        ));
        d.add(DigestCalculator::node_digest(
            "/a",
            &stat(3, time),
            Some(b"hello"),
        ));
        assert_eq!(d.value(), 0x1b017e72e);
    }

    /// The one-buffer and the streamed digests agree, at the boundary too.
    #[test]
    fn inline_and_streamed_digests_agree() {
        let st = stat(5, 6);
        for data_len in [0usize, 1, 100, 256 - 60 - 4, 256 - 60 - 3, 1000] {
            let data = vec![7u8; data_len];
            let mut crc = crc32fast::Hasher::new();
            crc.update(b"/abc");
            crc.update(&data);
            crc.update(&stat_block(&st));
            assert_eq!(
                DigestCalculator::node_digest("/abc", &st, Some(&data)),
                crc.finalize() as i64,
                "{}",
                data_len
            );
        }
    }

    #[test]
    fn remove_undoes_add() {
        let mut d = TreeDigest::default();
        let n = DigestCalculator::node_digest("/x", &stat(7, 9), None);
        d.add(n);
        d.add(n);
        d.remove(n);
        assert_eq!(d.value(), n);
    }
}
