//! The tree digest over time: the (zxid, digest) pair after the last txn
//! (what a snapshot's digest section holds), every 128th pair (the `hash`
//! 4lw), and the two checks Java makes — against the digest a txn carries
//! and, after loading a fuzzy snapshot, against the snapshot's own pair
//! once replay reaches its zxid. A mismatch is logged and counted, never
//! fatal.
//!
//! Mirrors: `DataTree.ZxidDigest`, `logZxidDigest`, `compareDigest`,
//! `compareSnapshotDigests`, `deserializeZxidDigest`.

use std::collections::VecDeque;

use log::{debug, error, info, warn};

use super::DataTree;
use crate::jute::txn::{TxnDigest, TxnHeader};
use crate::server::digest_calculator::DIGEST_VERSION;

/// How many historical digests are kept (`DIGEST_LOG_LIMIT`).
pub const DIGEST_LOG_LIMIT: usize = 1024;
/// Every this many zxids a digest is kept (`DIGEST_LOG_INTERVAL`).
pub const DIGEST_LOG_INTERVAL: i64 = 128;

/// The tree digest after the txn `zxid` (the snapshot's digest section).
pub use crate::persistence::file_snap::ZxidDigest;

/// Digest bookkeeping of one tree.
#[derive(Debug, Clone)]
pub(super) struct DigestLog {
    /// After the last applied txn (not updated while in the fuzzy window).
    last: Option<ZxidDigest>,
    /// The loaded snapshot's pair, until replay reaches its zxid. While
    /// set, txn digests are not compared (the tree is fuzzy).
    from_snapshot: Option<ZxidDigest>,
    /// Every 128th pair, oldest first.
    history: VecDeque<ZxidDigest>,
    /// `zookeeper.digest.enabled`.
    enabled: bool,
    /// Mismatches seen (mntr `digest_mismatches_count`).
    mismatches: u64,
    /// Whether the snapshot's zxid was found missing from the log (logged
    /// once; Java rate-limits the same message).
    missing_snapshot_txn_logged: bool,
}

impl Default for DigestLog {
    fn default() -> Self {
        DigestLog {
            last: None,
            from_snapshot: None,
            history: VecDeque::new(),
            enabled: true,
            mismatches: 0,
            missing_snapshot_txn_logged: false,
        }
    }
}

impl DataTree {
    /// After each top-level txn: check against the snapshot's digest while
    /// fuzzy, else remember the pair.
    pub(super) fn record_txn_digest(&mut self, zxid: i64) {
        if self.digest_log.from_snapshot.is_some() {
            self.compare_snapshot_digest(zxid);
            return;
        }
        let pair = ZxidDigest {
            zxid,
            digest_version: DIGEST_VERSION,
            digest: self.digest(),
        };
        let log = &mut self.digest_log;
        log.last = Some(pair);
        if zxid % DIGEST_LOG_INTERVAL == 0 {
            log.history.push_back(pair);
            if log.history.len() > DIGEST_LOG_LIMIT {
                log.history.pop_front();
            }
        }
    }

    fn compare_snapshot_digest(&mut self, zxid: i64) {
        let Some(expected) = self.digest_log.from_snapshot else {
            return;
        };
        if zxid == expected.zxid {
            if expected.digest_version != DIGEST_VERSION {
                info!(
                    "Digest version changed, local: {}, new: {}, skip comparing digest now.",
                    expected.digest_version, DIGEST_VERSION
                );
            } else if self.digest() != expected.digest {
                self.report_digest_mismatch(zxid);
            }
            self.digest_log.from_snapshot = None;
        } else if expected.zxid != 0
            && zxid > expected.zxid
            && !self.digest_log.missing_snapshot_txn_logged
        {
            warn!(
                "The txn 0x{:x} of snapshot digest does not exist.",
                expected.zxid
            );
            self.digest_log.missing_snapshot_txn_logged = true;
        }
    }

    /// Compares the tree with the digest a txn carried (Java's
    /// `compareDigest`); false on a mismatch.
    pub(super) fn compare_digest(
        &mut self,
        header: &TxnHeader,
        digest: Option<&TxnDigest>,
    ) -> bool {
        let Some(digest) = digest else { return true };
        if !self.digest_log.enabled || self.digest_log.from_snapshot.is_some() {
            return true;
        }
        if digest.version != DIGEST_VERSION {
            debug!("Digest version not the same on zxid 0x{:x}.", header.zxid);
            return true;
        }
        let actual = self.digest();
        if digest.tree_digest == actual {
            debug!(
                "Digests are matching for Zxid: {:x}, Digest in log and actual tree: {}",
                header.zxid, actual
            );
            return true;
        }
        self.report_digest_mismatch(header.zxid);
        if self.digest_log.mismatches == 1 {
            error!(
                "First digest mismatch on txn: {:?}, expected digest is {}, actual digest is {}",
                header, digest.tree_digest, actual
            );
        }
        false
    }

    fn report_digest_mismatch(&mut self, zxid: i64) {
        self.digest_log.mismatches += 1;
        let n = self.digest_log.mismatches;
        if n.is_power_of_two() {
            warn!(
                "Digests are not matching. Value is Zxid. 0x{:x} ({} mismatches so far)",
                zxid, n
            );
        }
    }

    /// The pair a snapshot's digest section holds: the digest after the
    /// last applied txn; `None` before any (write Java's empty pair
    /// `(0, 2, 0)` then).
    pub fn last_processed_zxid_digest(&self) -> Option<ZxidDigest> {
        self.digest_log.last
    }

    /// After loading a snapshot: its digest section (`None` if absent) and
    /// the zxid in its file name. A pair with zxid > 0 that is not older
    /// than the snapshot is checked when replay reaches its zxid; until
    /// then txn digests are not compared.
    pub fn set_snapshot_digest(&mut self, digest: Option<ZxidDigest>, snapshot_zxid: i64) {
        self.digest_log.from_snapshot = match digest {
            Some(d) if d.zxid > 0 && d.zxid >= snapshot_zxid => Some(d),
            Some(d) if d.zxid > 0 => {
                info!("The zxid of snapshot digest 0x{:x} is smaller than the known snapshot highest zxid, \
                       the snapshot started with zxid 0x{:x}. It will be invalid to use this snapshot digest \
                       associated with this zxid, will ignore comparing it.", d.zxid, snapshot_zxid);
                None
            }
            _ => {
                info!("The digest value is empty in snapshot");
                None
            }
        };
    }

    /// Every 128th (zxid, digest) pair, oldest first (the `hash` 4lw).
    pub fn digest_history(&self) -> Vec<ZxidDigest> {
        self.digest_log.history.iter().copied().collect()
    }

    /// Number of digest mismatches seen (mntr `digest_mismatches_count`).
    pub fn digest_mismatches(&self) -> u64 {
        self.digest_log.mismatches
    }
}
