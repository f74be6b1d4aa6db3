//! The sync decision for a learner that just acked the new epoch: DIFF
//! (send the txns it misses), TRUNC (cut its log back to a zxid we share,
//! then send what follows) or SNAP (send the whole database), from the
//! learner's last zxid, our last processed zxid and our committed log.
//!
//! Pure: the LearnerHandler thread turns the plan into packets while it
//! holds the leader's broadcast lock (so no commit slips between the plan
//! and the learner joining the broadcast).
//!
//! A learner older than the committed log is synced from the on-disk txn
//! log when `snapshotSizeFactor` allows ([`SyncPlan::FromTxnLog`]: the
//! handler reads the log, then [`plan_with_txn_log`] decides): the txns
//! from the log up to the committed log's start, then the committed log;
//! a gap between the two means SNAP.
//!
//! Mirrors: `LearnerHandler.syncFollower` and `queueCommittedProposals`.

use log::{error, info, warn};

use super::quorum_packet::{counter_of, epoch_of, DIFF, TRUNC};

/// One thing to send, in order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Planned {
    /// DIFF or TRUNC with its zxid.
    Op(i32, i64),
    /// PROPOSAL + COMMIT of the committed-log entry with this zxid.
    Txn(i64),
}

/// What to do with the learner.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SyncPlan {
    /// Send a snapshot.
    Snap,
    /// Send these packets; the learner is then at `last_zxid`, from where
    /// forwarding continues.
    Packets {
        packets: Vec<Planned>,
        last_zxid: i64,
    },
    /// The learner is older than the committed log: read the txn log from
    /// its zxid up to `minCommittedLog` and call [`plan_with_txn_log`].
    FromTxnLog,
}

/// Inputs of the decision.
#[derive(Debug, Clone)]
pub struct SyncInputs<'a> {
    /// The learner's last zxid (from ACKEPOCH).
    pub peer_last_zxid: i64,
    /// Our tree's last processed zxid.
    pub last_processed_zxid: i64,
    /// `minCommittedLog` / `maxCommittedLog` (both = last processed when empty).
    pub min_committed: i64,
    pub max_committed: i64,
    /// Zxids of the committed log, ascending.
    pub committed: &'a [i64],
    /// Test flag `zookeeper.forceSnapshotSync`.
    pub force_snap: bool,
    /// `snapshotSizeFactor` ≥ 0: the txn log may be read for old learners.
    pub txn_log_sync: bool,
    /// For log lines.
    pub sid: i64,
}

/// `syncFollower`'s cascade.
pub fn decide(i: &SyncInputs) -> SyncPlan {
    let peer = i.peer_last_zxid;
    let new_epoch_peer = counter_of(peer) == 0;
    info!(
        "Synchronizing with Learner sid: {} maxCommittedLog=0x{:x} minCommittedLog=0x{:x} lastProcessedZxid=0x{:x} peerLastZxid=0x{:x}",
        i.sid, i.max_committed, i.min_committed, i.last_processed_zxid, peer
    );
    if i.force_snap {
        warn!("Forcing snapshot sync - should not see this in production");
        return SyncPlan::Snap;
    }
    if i.last_processed_zxid == peer {
        info!("Sending DIFF zxid=0x{:x} for peer sid: {}", peer, i.sid);
        return SyncPlan::Packets {
            packets: vec![Planned::Op(DIFF, peer)],
            last_zxid: peer,
        };
    }
    if peer > i.max_committed && !new_epoch_peer {
        info!(
            "Sending TRUNC to follower zxidToSend=0x{:x} for peer sid:{}",
            i.max_committed, i.sid
        );
        return SyncPlan::Packets {
            packets: vec![Planned::Op(TRUNC, i.max_committed)],
            last_zxid: i.max_committed,
        };
    }
    if i.min_committed <= peer && peer <= i.max_committed {
        info!("Using committedLog for peer sid: {}", i.sid);
        let mut q = Queue::new(i.sid);
        let last = q.committed(i.committed, peer, None, i.max_committed);
        return q.finish(last);
    }
    if peer < i.min_committed && i.txn_log_sync {
        return SyncPlan::FromTxnLog;
    }
    warn!(
        "Unhandled scenario for peer sid: {} maxCommittedLog=0x{:x} minCommittedLog=0x{:x} lastProcessedZxid=0x{:x} peerLastZxid=0x{:x} txnLogSyncEnabled={}",
        i.sid, i.max_committed, i.min_committed, i.last_processed_zxid, peer, i.txn_log_sync
    );
    SyncPlan::Snap
}

/// The second step of [`SyncPlan::FromTxnLog`]: `txn_log` holds the zxids
/// read from the log file holding the peer's zxid on, up to the first one
/// past `min_committed` (empty: the log does not reach back, or is too
/// large to read). Queues what the log holds up to `min_committed`, then
/// the committed log; SNAP when the log is empty or ends before the
/// committed log starts.
pub fn plan_with_txn_log(i: &SyncInputs, txn_log: &[i64]) -> SyncPlan {
    if txn_log.is_empty() {
        return SyncPlan::Snap;
    }
    info!("Use txnlog and committedLog for peer sid: {}", i.sid);
    let mut q = Queue::new(i.sid);
    let last = q.committed(
        txn_log,
        i.peer_last_zxid,
        Some(i.min_committed),
        i.max_committed,
    );
    if last < i.min_committed {
        info!(
            "Detected gap between end of txnlog: 0x{:x} and start of committedLog: 0x{:x}",
            last, i.min_committed
        );
        return SyncPlan::Snap;
    }
    let last = q.committed(i.committed, last, None, i.max_committed);
    q.finish(last)
}

/// The packets queued so far, and whether the opening DIFF/TRUNC is still
/// to be chosen (it carries over from the txn log to the committed log).
struct Queue {
    out: Vec<Planned>,
    need_op: bool,
    sid: i64,
}

impl Queue {
    fn new(sid: i64) -> Queue {
        Queue {
            out: Vec::new(),
            need_op: true,
            sid,
        }
    }

    /// `queueCommittedProposals` over `log` (ascending zxids, stopping past
    /// `max_zxid`): the opening DIFF or TRUNC, then every txn after the
    /// peer's. Returns the last zxid queued (the peer's when none). A TRUNC
    /// that would cross an epoch stops here with no opening packet.
    fn committed(
        &mut self,
        log: &[i64],
        peer: i64,
        max_zxid: Option<i64>,
        last_committed: i64,
    ) -> i64 {
        let new_epoch_peer = counter_of(peer) == 0;
        let mut queued = peer;
        let mut prev: i64 = -1;
        for &z in log {
            if max_zxid.is_some_and(|m| z > m) {
                break;
            }
            if z < peer {
                prev = z;
                continue;
            }
            if self.need_op {
                if z == peer {
                    info!(
                        "Sending DIFF zxid=0x{:x}  for peer sid: {}",
                        last_committed, self.sid
                    );
                    self.out.push(Planned::Op(DIFF, last_committed));
                    self.need_op = false;
                    continue;
                }
                if new_epoch_peer {
                    info!(
                        "Sending DIFF zxid=0x{:x}  for peer sid: {}",
                        last_committed, self.sid
                    );
                    self.out.push(Planned::Op(DIFF, last_committed));
                    self.need_op = false;
                } else {
                    // A TRUNC may not cross an epoch boundary (the learner
                    // would crash): SNAP then.
                    if epoch_of(z) != epoch_of(peer) {
                        warn!(
                            "Cannot send TRUNC to peer sid: {} peer zxid is from different epoch",
                            self.sid
                        );
                        return queued;
                    }
                    info!(
                        "Sending TRUNC zxid=0x{:x}  for peer sid: {}",
                        prev, self.sid
                    );
                    self.out.push(Planned::Op(TRUNC, prev));
                    self.need_op = false;
                }
            }
            if z <= queued {
                continue;
            }
            self.out.push(Planned::Txn(z));
            queued = z;
        }
        if self.need_op && new_epoch_peer {
            info!(
                "Sending DIFF zxid=0x{:x}  for peer sid: {}",
                last_committed, self.sid
            );
            self.out.push(Planned::Op(DIFF, last_committed));
            self.need_op = false;
        }
        queued
    }

    /// The plan, or SNAP when no opening packet could be chosen.
    fn finish(self, last_zxid: i64) -> SyncPlan {
        if self.need_op {
            error!(
                "Unhandled scenario for peer sid: {} fall back to use snapshot",
                self.sid
            );
            return SyncPlan::Snap;
        }
        SyncPlan::Packets {
            packets: self.out,
            last_zxid,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use SyncPlan::*;

    fn z(e: i64, c: i64) -> i64 {
        (e << 32) | c
    }

    fn plan(peer: i64, last: i64, log: &[i64]) -> SyncPlan {
        let (min, max) = match (log.first(), log.last()) {
            (Some(a), Some(b)) => (*a, *b),
            _ => (last, last),
        };
        decide(&SyncInputs {
            peer_last_zxid: peer,
            last_processed_zxid: last,
            min_committed: min,
            max_committed: max,
            committed: log,
            force_snap: false,
            txn_log_sync: false,
            sid: 2,
        })
    }

    #[test]
    fn sync_decision_table() {
        let log = [z(1, 1), z(1, 2), z(1, 3), z(2, 1), z(2, 2)];
        let last = z(2, 2);
        // Same zxid: empty DIFF (the observed `DIFF 0x0` with empty dbs).
        assert_eq!(
            plan(0, 0, &[]),
            Packets {
                packets: vec![Planned::Op(DIFF, 0)],
                last_zxid: 0
            }
        );
        // Behind inside the log: DIFF{max} then the missing txns.
        assert_eq!(
            plan(z(1, 3), last, &log),
            Packets {
                packets: vec![
                    Planned::Op(DIFF, last),
                    Planned::Txn(z(2, 1)),
                    Planned::Txn(z(2, 2))
                ],
                last_zxid: last
            }
        );
        // Ahead of everything we committed (not a new-epoch zxid): TRUNC{max}.
        assert_eq!(
            plan(z(2, 5), last, &log),
            Packets {
                packets: vec![Planned::Op(TRUNC, last)],
                last_zxid: last
            }
        );
        // A new-epoch zxid beyond max is not truncated: it is in range? no -> SNAP.
        assert_eq!(plan(z(3, 0), last, &log), Snap);
        // A zxid we never had, inside the range and the same epoch: TRUNC to
        // the txn before it, then what follows.
        let gap = [z(1, 1), z(1, 3), z(2, 1)];
        assert_eq!(
            plan(z(1, 2), z(2, 1), &gap),
            Packets {
                packets: vec![
                    Planned::Op(TRUNC, z(1, 1)),
                    Planned::Txn(z(1, 3)),
                    Planned::Txn(z(2, 1))
                ],
                last_zxid: z(2, 1)
            }
        );
        // A new-epoch zxid inside the range: DIFF then everything after it.
        assert_eq!(
            plan(z(2, 0), last, &log),
            Packets {
                packets: vec![
                    Planned::Op(DIFF, last),
                    Planned::Txn(z(2, 1)),
                    Planned::Txn(z(2, 2))
                ],
                last_zxid: last
            }
        );
        // Older than the log: SNAP (txn-log path not implemented).
        assert_eq!(plan(z(1, 0) - 5, last, &log), Snap);
        // An empty learner with an empty log on our side but data: SNAP.
        assert_eq!(plan(0, z(1, 3), &[]), Snap);
        // Divergence in another epoch with nothing before it: SNAP.
        assert_eq!(plan(z(1, 9), z(2, 2), &[z(1, 5), z(2, 1), z(2, 2)]), Snap);
    }

    fn inputs<'a>(peer: i64, last: i64, log: &'a [i64]) -> SyncInputs<'a> {
        SyncInputs {
            peer_last_zxid: peer,
            last_processed_zxid: last,
            min_committed: log.first().copied().unwrap_or(last),
            max_committed: log.last().copied().unwrap_or(last),
            committed: log,
            force_snap: false,
            txn_log_sync: true,
            sid: 2,
        }
    }

    #[test]
    fn older_than_the_committed_log_reads_the_txn_log_when_enabled() {
        let log = [z(1, 5), z(1, 6), z(2, 1)];
        assert_eq!(decide(&inputs(z(1, 2), z(2, 1), &log)), FromTxnLog);
        assert_eq!(
            decide(&SyncInputs {
                txn_log_sync: false,
                ..inputs(z(1, 2), z(2, 1), &log)
            }),
            Snap
        );
        // An empty committed log: its bounds are the last processed zxid.
        assert_eq!(decide(&inputs(z(1, 2), z(2, 1), &[])), FromTxnLog);
        // Inside or past the committed log: never the txn log.
        assert!(matches!(
            decide(&inputs(z(1, 5), z(2, 1), &log)),
            Packets { .. }
        ));
    }

    #[test]
    fn txn_log_then_committed_log_table() {
        let committed = [z(1, 5), z(1, 6), z(2, 1)];
        let last = z(2, 1);
        let i = inputs(z(1, 2), last, &committed);
        let txn = |zs: &[i64]| zs.iter().copied().map(Planned::Txn).collect::<Vec<_>>();
        let diff = |packets: Vec<Planned>| [vec![Planned::Op(DIFF, last)], packets].concat();
        // The log reaches back to the peer: DIFF, the log's txns up to the
        // committed log's start, then the committed log (no duplicate).
        let log = [z(1, 1), z(1, 2), z(1, 3), z(1, 4), z(1, 5), z(1, 6)];
        assert_eq!(
            plan_with_txn_log(&i, &log),
            Packets {
                packets: diff(txn(&[z(1, 3), z(1, 4), z(1, 5), z(1, 6), z(2, 1)])),
                last_zxid: last
            }
        );
        // Empty (too old or too large): SNAP.
        assert_eq!(plan_with_txn_log(&i, &[]), Snap);
        // The log ends before the committed log starts: SNAP.
        assert_eq!(plan_with_txn_log(&i, &[z(1, 1), z(1, 2), z(1, 3)]), Snap);
        // The peer holds a txn we never committed (same epoch): TRUNC to
        // the txn before it, then what follows.
        let gap = [z(1, 1), z(1, 3), z(1, 4), z(1, 5)];
        assert_eq!(
            plan_with_txn_log(&i, &gap),
            Packets {
                packets: [
                    vec![Planned::Op(TRUNC, z(1, 1))],
                    txn(&[z(1, 3), z(1, 4), z(1, 5), z(1, 6), z(2, 1)])
                ]
                .concat(),
                last_zxid: last
            }
        );
        // ... unless that would cross an epoch: SNAP.
        let i0 = inputs(z(0, 9), last, &committed);
        assert_eq!(
            plan_with_txn_log(&i0, &[z(0, 3), z(1, 1), z(1, 2), z(1, 3), z(1, 4), z(1, 5)]),
            Snap
        );
        // A peer at a new epoch's zxid 0: DIFF and everything after it.
        let i1 = inputs(z(1, 0), last, &committed);
        assert_eq!(
            plan_with_txn_log(&i1, &[z(1, 1), z(1, 2), z(1, 3), z(1, 4), z(1, 5)]),
            Packets {
                packets: diff(txn(&[
                    z(1, 1),
                    z(1, 2),
                    z(1, 3),
                    z(1, 4),
                    z(1, 5),
                    z(1, 6),
                    z(2, 1)
                ])),
                last_zxid: last
            }
        );
    }

    #[test]
    fn force_snap_wins() {
        let i = SyncInputs {
            peer_last_zxid: 5,
            last_processed_zxid: 5,
            min_committed: 5,
            max_committed: 5,
            committed: &[],
            force_snap: true,
            txn_log_sync: true,
            sid: 1,
        };
        assert_eq!(decide(&i), Snap);
    }
}
