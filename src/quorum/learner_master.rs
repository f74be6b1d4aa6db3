//! What a LearnerHandler needs from the server it syncs and feeds a
//! learner from: the leader (followers and observers) or a follower's
//! ObserverMaster (observers only). The handler's protocol is the same
//! for both; what differs is behind [`LearnerMaster`]: the epoch barriers
//! (the leader waits for a quorum, a follower has its epoch already),
//! where the learner's stream starts after its sync (the leader's
//! proposals, the follower's relayed commits), and where the learner's
//! requests, pings and revalidations go (the leader's pipeline, or the
//! follower's link to the leader).
//!
//! Also here: [`queue_sync`], the DIFF/TRUNC/SNAP decision over the
//! master's database and the queueing of its packets, which both masters
//! run under their own lock before the learner joins their stream.
//!
//! No threads of its own: the methods run on the LearnerHandler threads.
//!
//! Mirrors: `org.apache.zookeeper.server.quorum.LearnerMaster` (and the
//! database part of `LearnerHandler.syncFollower`).

use std::collections::HashMap;
use std::sync::Arc;

use log::{debug, error};

use super::auth::sasl_quorum_auth_server::SaslQuorumAuthServer;
use super::leader::{Leader, LeaderError};
use super::leader_broadcast::queue_committed;
use super::learner_handler::{LearnerPeer, Out};
use super::learner_handler_sync::{decide, plan_with_txn_log, Planned, SyncInputs, SyncPlan};
use super::learner_sync_throttler::LearnerSyncThrottler;
use super::quorum_packet::{self as qp, packet};
use super::quorum_peer::ZabTiming;
use crate::server::request::Request;
use crate::server::zk_database::{CommittedProposal, ZkDatabase};

/// Where a SNAP sync starts: the zxid of the tree and its sessions.
pub type SnapStart = (i64, HashMap<i64, i32>);

/// The server a LearnerHandler serves its learner for.
pub trait LearnerMaster: Send + Sync {
    /// tickTime, initLimit, syncLimit.
    fn timing(&self) -> ZabTiming;
    /// Quorum SASL: learners are checked before their first packet.
    fn auth_server(&self) -> Option<&SaslQuorumAuthServer>;
    /// The database the learner is synced from.
    fn db(&self) -> &Arc<ZkDatabase>;
    /// False once the master stops (handlers and waits give up).
    fn is_running(&self) -> bool;
    /// A LearnerHandler registers its learner.
    fn add_learner(&self, peer: Arc<LearnerPeer>);
    /// A LearnerHandler is done.
    fn remove_learner(&self, peer: &Arc<LearnerPeer>);
    /// A sid for a learner without LearnerInfo.
    fn next_anonymous_sid(&self) -> i64;
    /// The committed config's version (a learner with a later one is
    /// refused).
    fn config_version(&self) -> i64;
    /// The member line of `sid` in the current config, for log lines.
    fn peer_info(&self, sid: i64) -> Option<String>;
    /// The learner's epoch goes into the new epoch (LEADERINFO's).
    fn get_epoch_to_propose(&self, sid: i64, last_accepted_epoch: i64) -> Result<i64, LeaderError>;
    /// The learner's ACKEPOCH (currentEpoch, last zxid).
    fn wait_for_epoch_ack(&self, sid: i64, summary: (i64, i64)) -> Result<(), LeaderError>;
    /// Under the master's lock: decides the sync, queues its packets
    /// ([`queue_sync`]) and starts streaming to the learner after them.
    /// `Some` when a snapshot must be sent (from that zxid).
    fn start_sync(&self, peer: &Arc<LearnerPeer>, peer_last_zxid: i64) -> Option<SnapStart>;
    /// The throttle of snapshot (`true`) or diff syncs.
    fn throttler(&self, snap: bool) -> &LearnerSyncThrottler;
    /// The last zxid proposed (or relayed) to learners.
    fn last_proposed(&self) -> i64;
    /// NEWLEADER's data: the last-seen config, as text.
    fn new_leader_config_text(&self) -> String;
    /// The learner acked NEWLEADER.
    fn wait_for_new_leader_ack(&self, sid: i64, zxid: i64) -> Result<(), LeaderError>;
    /// Blocks until the master serves; false if it stopped first.
    fn wait_for_startup(&self) -> bool;
    /// Tick by which a new learner must have acked.
    fn tick_of_initial_ack_deadline(&self) -> i64;
    /// Tick by which a learner must send its next packet.
    fn tick_of_next_ack_deadline(&self) -> i64;
    /// The learner's ACK.
    fn process_ack(&self, sid: i64, zxid: i64);
    /// Session touches from the learner's PING reply.
    fn touch(&self, session_id: i64, timeout: i32);
    /// REVALIDATE from the learner: the answer is queued to `peer` (at
    /// once, or once the leader answered).
    fn revalidate_session(&self, peer: &Arc<LearnerPeer>, session_id: i64, timeout: i32);
    /// A request the learner forwarded.
    fn submit_learner_request(&self, request: Request);
}

impl LearnerMaster for Leader {
    fn timing(&self) -> ZabTiming {
        self.timing
    }

    fn auth_server(&self) -> Option<&SaslQuorumAuthServer> {
        self.auth_server.as_ref()
    }

    fn db(&self) -> &Arc<ZkDatabase> {
        &self.db
    }

    fn is_running(&self) -> bool {
        Leader::is_running(self)
    }

    fn add_learner(&self, peer: Arc<LearnerPeer>) {
        Leader::add_learner(self, peer)
    }

    fn remove_learner(&self, peer: &Arc<LearnerPeer>) {
        Leader::remove_learner(self, peer)
    }

    fn next_anonymous_sid(&self) -> i64 {
        Leader::next_anonymous_sid(self)
    }

    fn config_version(&self) -> i64 {
        Leader::config_version(self)
    }

    fn peer_info(&self, sid: i64) -> Option<String> {
        self.verifier.all_members().get(&sid).map(|s| s.to_string())
    }

    fn get_epoch_to_propose(&self, sid: i64, last_accepted_epoch: i64) -> Result<i64, LeaderError> {
        Leader::get_epoch_to_propose(self, sid, last_accepted_epoch)
    }

    fn wait_for_epoch_ack(&self, sid: i64, summary: (i64, i64)) -> Result<(), LeaderError> {
        Leader::wait_for_epoch_ack(self, sid, summary)
    }

    fn start_sync(&self, peer: &Arc<LearnerPeer>, peer_last_zxid: i64) -> Option<SnapStart> {
        let mut b = self.bcast.lock();
        queue_sync(&self.db, self.force_snap, peer, peer_last_zxid, |last| {
            self.start_forwarding(&mut b, peer, last);
        })
    }

    fn throttler(&self, snap: bool) -> &LearnerSyncThrottler {
        match snap {
            true => &self.snap_throttler,
            false => &self.diff_throttler,
        }
    }

    fn last_proposed(&self) -> i64 {
        self.bcast.lock().last_proposed()
    }

    fn new_leader_config_text(&self) -> String {
        Leader::new_leader_config_text(self)
    }

    fn wait_for_new_leader_ack(&self, sid: i64, zxid: i64) -> Result<(), LeaderError> {
        Leader::wait_for_new_leader_ack(self, sid, zxid)
    }

    fn wait_for_startup(&self) -> bool {
        Leader::wait_for_startup(self)
    }

    fn tick_of_initial_ack_deadline(&self) -> i64 {
        Leader::tick_of_initial_ack_deadline(self)
    }

    fn tick_of_next_ack_deadline(&self) -> i64 {
        Leader::tick_of_next_ack_deadline(self)
    }

    fn process_ack(&self, sid: i64, zxid: i64) {
        Leader::process_ack(self, sid, zxid)
    }

    fn touch(&self, session_id: i64, timeout: i32) {
        Leader::touch(self, session_id, timeout);
    }

    fn revalidate_session(&self, peer: &Arc<LearnerPeer>, session_id: i64, timeout: i32) {
        let valid = self.revalidate(session_id, timeout, peer.session_owner());
        debug!("Session 0x{:x} is valid: {}", session_id, valid);
        let data = qp::encode_revalidate_reply(session_id, valid);
        peer.queue(Out::Packet(packet(qp::REVALIDATE, -1, Some(data))));
    }

    fn submit_learner_request(&self, request: Request) {
        Leader::submit_learner_request(self, request)
    }
}

/// Decides the sync of a learner at `peer_last_zxid` from `db`'s committed
/// log (and txn log), queues its DIFF/TRUNC and PROPOSAL/COMMIT packets,
/// then calls `start_forwarding` with the last zxid they bring the learner
/// to. For a SNAP, returns where the snapshot starts (the caller streams
/// it; `start_forwarding` got its zxid).
pub fn queue_sync(
    db: &ZkDatabase,
    force_snap: bool,
    peer: &Arc<LearnerPeer>,
    peer_last_zxid: i64,
    start_forwarding: impl FnOnce(i64),
) -> Option<SnapStart> {
    let sid = peer.sid();
    let view = db.committed_log();
    let zxids: Vec<i64> = view.proposals.iter().map(|p| p.zxid).collect();
    let inputs = SyncInputs {
        peer_last_zxid,
        last_processed_zxid: db.last_processed_zxid(),
        min_committed: view.min,
        max_committed: view.max,
        committed: &zxids,
        force_snap,
        txn_log_sync: db.is_txn_log_sync_enabled(),
        sid,
    };
    let mut from_log = Vec::new();
    let mut plan = decide(&inputs);
    if plan == SyncPlan::FromTxnLog {
        let limit = db.txn_log_size_limit();
        from_log = db.proposals_from_txn_log(peer_last_zxid, limit, view.min);
        let log_zxids: Vec<i64> = from_log.iter().map(|p| p.zxid).collect();
        plan = plan_with_txn_log(&inputs, &log_zxids);
    }
    let mut snapshot = None;
    let last = match plan {
        SyncPlan::Packets { packets, last_zxid } => {
            for p in packets {
                match p {
                    Planned::Op(t, z) => peer.queue(Out::Packet(packet(t, z, None))),
                    Planned::Txn(z) => {
                        match payload_of(&from_log, z).or_else(|| payload_of(&view.proposals, z)) {
                            Some(payload) => queue_committed(peer, z, payload),
                            None => error!("No txn 0x{:x} to send to peer sid: {}", z, sid),
                        }
                    }
                }
            }
            last_zxid
        }
        SyncPlan::Snap | SyncPlan::FromTxnLog => {
            let start = db.snapshot_start();
            let zxid = start.0;
            snapshot = Some(start);
            zxid
        }
    };
    debug!("Start forwarding 0x{:x} for peer sid: {}", last, sid);
    start_forwarding(last);
    snapshot
}

/// The payload of txn `zxid` in proposals sorted by zxid.
fn payload_of(proposals: &[CommittedProposal], zxid: i64) -> Option<&Arc<Vec<u8>>> {
    proposals
        .binary_search_by_key(&zxid, |p| p.zxid)
        .ok()
        .map(|i| &proposals[i].payload)
}

/// Ticks never run out where the master keeps no tick (a follower's
/// ObserverMaster: observers are dropped on their socket's timeout).
pub const NO_TICK_DEADLINE: i64 = i64::MAX;
