//! The sync decision for a learner that just acked the new epoch: DIFF
//! (send the txns it misses), TRUNC (cut its log back to a zxid we share,
//! then send what follows) or SNAP (send the whole database), from the
//! learner's last zxid, our last processed zxid and our committed log.
//!
//! Pure: the LearnerHandler thread turns the plan into packets while it
//! holds the leader's broadcast lock (so no commit slips between the plan
//! and the learner joining the broadcast).
//!
//! Not done yet: the on-disk txn log path for learners older than the
//! committed log (`snapshotSizeFactor`); those learners get SNAP.
//!
//! Mirrors: `LearnerHandler.syncFollower` and `queueCommittedProposals`.

use log::{info, warn};

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
    Packets { packets: Vec<Planned>, last_zxid: i64 },
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
        return SyncPlan::Packets { packets: vec![Planned::Op(DIFF, peer)], last_zxid: peer };
    }
    if peer > i.max_committed && !new_epoch_peer {
        info!("Sending TRUNC to follower zxidToSend=0x{:x} for peer sid:{}", i.max_committed, i.sid);
        return SyncPlan::Packets { packets: vec![Planned::Op(TRUNC, i.max_committed)], last_zxid: i.max_committed };
    }
    if i.min_committed <= peer && peer <= i.max_committed {
        info!("Using committedLog for peer sid: {}", i.sid);
        return match queue_committed(i.committed, peer, i.max_committed, i.sid) {
            Some((packets, last_zxid)) => SyncPlan::Packets { packets, last_zxid },
            None => {
                warn!("Unhandled scenario for peer sid: {} fall back to use snapshot", i.sid);
                SyncPlan::Snap
            }
        };
    }
    warn!(
        "Unhandled scenario for peer sid: {} maxCommittedLog=0x{:x} minCommittedLog=0x{:x} lastProcessedZxid=0x{:x} peerLastZxid=0x{:x}",
        i.sid, i.max_committed, i.min_committed, i.last_processed_zxid, peer
    );
    SyncPlan::Snap
}

/// `queueCommittedProposals` over the committed log: the opening DIFF or
/// TRUNC, then every txn after the peer's. `None` when no opening packet
/// can be chosen (the peer diverged in another epoch): SNAP then.
fn queue_committed(log: &[i64], peer: i64, last_committed: i64, sid: i64) -> Option<(Vec<Planned>, i64)> {
    let new_epoch_peer = counter_of(peer) == 0;
    let mut out = Vec::new();
    let mut queued = peer;
    let mut prev: i64 = -1;
    let mut need_op = true;
    for &z in log {
        if z > last_committed {
            break;
        }
        if z < peer {
            prev = z;
            continue;
        }
        if need_op {
            if z == peer {
                info!("Sending DIFF zxid=0x{:x}  for peer sid: {}", last_committed, sid);
                out.push(Planned::Op(DIFF, last_committed));
                need_op = false;
                continue;
            }
            if new_epoch_peer {
                info!("Sending DIFF zxid=0x{:x}  for peer sid: {}", last_committed, sid);
                out.push(Planned::Op(DIFF, last_committed));
            } else {
                // A TRUNC may not cross an epoch boundary (the learner
                // would crash): SNAP then.
                if epoch_of(z) != epoch_of(peer) {
                    warn!("Cannot send TRUNC to peer sid: {} peer zxid is from different epoch", sid);
                    return None;
                }
                info!("Sending TRUNC zxid=0x{:x}  for peer sid: {}", prev, sid);
                out.push(Planned::Op(TRUNC, prev));
            }
            need_op = false;
        }
        if z <= queued {
            continue;
        }
        out.push(Planned::Txn(z));
        queued = z;
    }
    if need_op && new_epoch_peer {
        out.push(Planned::Op(DIFF, last_committed));
        need_op = false;
    }
    (!need_op).then_some((out, queued))
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
            sid: 2,
        })
    }

    #[test]
    fn sync_decision_table() {
        let log = [z(1, 1), z(1, 2), z(1, 3), z(2, 1), z(2, 2)];
        let last = z(2, 2);
        // Same zxid: empty DIFF (the observed `DIFF 0x0` with empty dbs).
        assert_eq!(plan(0, 0, &[]), Packets { packets: vec![Planned::Op(DIFF, 0)], last_zxid: 0 });
        // Behind inside the log: DIFF{max} then the missing txns.
        assert_eq!(
            plan(z(1, 3), last, &log),
            Packets { packets: vec![Planned::Op(DIFF, last), Planned::Txn(z(2, 1)), Planned::Txn(z(2, 2))], last_zxid: last }
        );
        // Ahead of everything we committed (not a new-epoch zxid): TRUNC{max}.
        assert_eq!(plan(z(2, 5), last, &log), Packets { packets: vec![Planned::Op(TRUNC, last)], last_zxid: last });
        // A new-epoch zxid beyond max is not truncated: it is in range? no -> SNAP.
        assert_eq!(plan(z(3, 0), last, &log), Snap);
        // A zxid we never had, inside the range and the same epoch: TRUNC to
        // the txn before it, then what follows.
        let gap = [z(1, 1), z(1, 3), z(2, 1)];
        assert_eq!(
            plan(z(1, 2), z(2, 1), &gap),
            Packets {
                packets: vec![Planned::Op(TRUNC, z(1, 1)), Planned::Txn(z(1, 3)), Planned::Txn(z(2, 1))],
                last_zxid: z(2, 1)
            }
        );
        // A new-epoch zxid inside the range: DIFF then everything after it.
        assert_eq!(
            plan(z(2, 0), last, &log),
            Packets { packets: vec![Planned::Op(DIFF, last), Planned::Txn(z(2, 1)), Planned::Txn(z(2, 2))], last_zxid: last }
        );
        // Older than the log: SNAP (txn-log path not implemented).
        assert_eq!(plan(z(1, 0) - 5, last, &log), Snap);
        // An empty learner with an empty log on our side but data: SNAP.
        assert_eq!(plan(0, z(1, 3), &[]), Snap);
        // Divergence in another epoch with nothing before it: SNAP.
        assert_eq!(plan(z(1, 9), z(2, 2), &[z(1, 5), z(2, 1), z(2, 2)]), Snap);
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
            sid: 1,
        };
        assert_eq!(decide(&i), Snap);
    }
}
