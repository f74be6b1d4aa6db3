//! The leader's three quorum barriers before broadcast: the new epoch
//! (decided once a quorum of participants, the leader included, said
//! which epoch they accepted), the epoch acks (a quorum of ACKEPOCHs; a
//! learner ahead of the leader is refused), and the NEWLEADER acks. Each
//! wait is bounded by initLimit × tickTime from the call.
//!
//! Threads: the leader's main thread and every LearnerHandler thread call
//! these; state under one mutex, waiters woken by one condvar.
//!
//! Mirrors: `Leader.getEpochToPropose`, `waitForEpochAck`,
//! `waitForNewLeaderAck` (with `StateSummary.isMoreRecentThan`).

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::{Duration, Instant};

use log::{error, info};
use parking_lot::{Condvar, Mutex, MutexGuard};

use super::flexible::QuorumVerifier;
use super::leader::{Leader, LeaderError};
use super::synced_learner_tracker::SyncedLearnerTracker;

/// (currentEpoch, lastZxid) of a server.
pub type StateSummary = (i64, i64);

/// Whether `a` is more recent than `b` (epoch, then zxid).
pub fn is_more_recent(a: StateSummary, b: StateSummary) -> bool {
    a.0 > b.0 || (a.0 == b.0 && a.1 > b.1)
}

struct State {
    /// The epoch being built: max accepted epoch seen + 1.
    epoch: i64,
    /// Participants that reported their accepted epoch.
    connecting: BTreeSet<i64>,
    /// The epoch is decided.
    epoch_decided: bool,
    /// Participants that acked the epoch.
    electing: BTreeSet<i64>,
    /// The epoch acks formed a quorum.
    epoch_acked: bool,
    /// The leader's own summary, for refusing learners ahead of us.
    leader_summary: StateSummary,
    /// NEWLEADER acks.
    new_leader_acks: SyncedLearnerTracker,
    /// They formed a quorum.
    new_leader_quorum: bool,
    /// NEWLEADER's zxid (acks for another are ignored).
    new_leader_zxid: i64,
}

/// The barriers' shared state.
pub struct Discovery {
    verifier: Arc<QuorumVerifier>,
    state: Mutex<State>,
    changed: Condvar,
}

impl Discovery {
    /// Nothing decided yet; `leader_summary` is the leader's own.
    pub fn new(verifier: Arc<QuorumVerifier>, leader_summary: StateSummary) -> Discovery {
        Discovery {
            state: Mutex::new(State {
                epoch: -1,
                connecting: BTreeSet::new(),
                epoch_decided: false,
                electing: BTreeSet::new(),
                epoch_acked: false,
                leader_summary,
                new_leader_acks: SyncedLearnerTracker::new(Arc::clone(&verifier)),
                new_leader_quorum: false,
                new_leader_zxid: -1,
            }),
            verifier,
            changed: Condvar::new(),
        }
    }

    /// Wakes every waiter (shutdown).
    pub fn wake_all(&self) {
        self.changed.notify_all();
    }

    /// Records NEWLEADER's zxid.
    pub fn set_new_leader_zxid(&self, zxid: i64) {
        self.state.lock().new_leader_zxid = zxid;
    }

    /// Sids that acked NEWLEADER, for the log line.
    pub fn new_leader_ack_text(&self) -> String {
        self.state.lock().new_leader_acks.ack_set_text()
    }

    /// Waits until `done` holds, up to `limit`; false on timeout or stop.
    fn wait_until(
        &self,
        guard: &mut MutexGuard<'_, State>,
        limit: Duration,
        running: &dyn Fn() -> bool,
        done: &dyn Fn(&State) -> bool,
    ) -> bool {
        let deadline = Instant::now() + limit;
        while !done(guard) {
            let now = Instant::now();
            if now >= deadline || !running() {
                return false;
            }
            let step = (deadline - now).min(Duration::from_millis(100));
            self.changed.wait_for(guard, step);
        }
        true
    }
}

impl Leader {
    /// The new epoch: once a quorum of participants (with me) reported
    /// their accepted epochs, max + 1; the leader writes `acceptedEpoch`
    /// when it decides (here: the peer's `lead` writes it on return).
    pub fn get_epoch_to_propose(
        &self,
        sid: i64,
        last_accepted_epoch: i64,
    ) -> Result<i64, LeaderError> {
        let d = &self.discovery;
        let mut s = d.state.lock();
        if s.epoch_decided {
            return Ok(s.epoch);
        }
        if last_accepted_epoch >= s.epoch {
            s.epoch = last_accepted_epoch + 1;
        }
        if self.is_participant(sid) {
            s.connecting.insert(sid);
        }
        let reached = s.connecting.contains(&self.my_id) && d.verifier.has_quorum(&s.connecting);
        if reached {
            info!("New epoch {} decided by {:?}", s.epoch, s.connecting);
        }
        let barrier = Barrier {
            mark: |s| s.epoch_decided = true,
            passed: |s| s.epoch_decided,
            timeout: "Timeout while waiting for epoch from quorum",
        };
        self.pass(&mut s, reached, barrier)?;
        Ok(s.epoch)
    }

    /// Counts `sid`'s ACKEPOCH (`ss` = its currentEpoch, lastZxid; epoch −1
    /// = it had already accepted this epoch and does not count) and waits
    /// for a quorum of them.
    pub fn wait_for_epoch_ack(&self, sid: i64, ss: StateSummary) -> Result<(), LeaderError> {
        let d = &self.discovery;
        let mut s = d.state.lock();
        if s.epoch_acked {
            return Ok(());
        }
        if ss.0 != -1 {
            if is_more_recent(ss, s.leader_summary) {
                return Err(LeaderError::Refused(format!(
                    "Follower is ahead of the leader, leader summary: {} (current epoch), 0x{:x} (last zxid)",
                    s.leader_summary.0, s.leader_summary.1
                )));
            }
            if ss.1 != -1 && self.is_participant(sid) {
                s.electing.insert(sid);
            }
        }
        let reached = s.electing.contains(&self.my_id) && d.verifier.has_quorum(&s.electing);
        let barrier = Barrier {
            mark: |s| s.epoch_acked = true,
            passed: |s| s.epoch_acked,
            timeout: "Timeout while waiting for epoch to be acked by quorum",
        };
        self.pass(&mut s, reached, barrier)
    }

    /// Counts `sid`'s NEWLEADER ack and waits for a quorum of them.
    pub fn wait_for_new_leader_ack(&self, sid: i64, zxid: i64) -> Result<(), LeaderError> {
        let d = &self.discovery;
        let mut s = d.state.lock();
        if s.new_leader_quorum {
            return Ok(());
        }
        if zxid != s.new_leader_zxid {
            error!(
                "NEWLEADER ACK from sid: {} is from a different epoch - current 0x{:x} received 0x{:x}",
                sid, s.new_leader_zxid, zxid
            );
            return Ok(());
        }
        s.new_leader_acks.add_ack(sid);
        let reached = s.new_leader_acks.has_all_quorums();
        let barrier = Barrier {
            mark: |s| s.new_leader_quorum = true,
            passed: |s| s.new_leader_quorum,
            timeout: "Timeout while waiting for NEWLEADER to be acked by quorum",
        };
        self.pass(&mut s, reached, barrier)
    }

    /// Passes `barrier`: when this call `reached` it, marks it and wakes
    /// the waiters; otherwise waits (initLimit × tickTime) for another
    /// thread to mark it.
    fn pass(
        &self,
        s: &mut MutexGuard<'_, State>,
        reached: bool,
        barrier: Barrier,
    ) -> Result<(), LeaderError> {
        let d = &self.discovery;
        if reached {
            (barrier.mark)(s);
            d.changed.notify_all();
            return Ok(());
        }
        let running = || self.is_running();
        if d.wait_until(s, self.timing.init_timeout(), &running, &barrier.passed) {
            Ok(())
        } else if !self.is_running() {
            Err(LeaderError::Stopped)
        } else {
            Err(LeaderError::Timeout(barrier.timeout.into()))
        }
    }
}

/// One of the three barriers: how to mark it passed, how to tell, and
/// what a timeout says (Java's messages).
struct Barrier {
    mark: fn(&mut State),
    passed: fn(&State) -> bool,
    timeout: &'static str,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn more_recent_is_epoch_then_zxid() {
        assert!(is_more_recent((2, 0), (1, 100)));
        assert!(is_more_recent((1, 5), (1, 4)));
        assert!(!is_more_recent((1, 4), (1, 4)));
        assert!(!is_more_recent((0, 100), (1, 0)));
    }
}
