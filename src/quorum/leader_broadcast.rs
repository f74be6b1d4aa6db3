//! Broadcast: every txn is proposed to the synced followers, committed
//! once a quorum (the leader's own ack, after its fsync, included) acked
//! it and the txn before it is committed; followers then get COMMIT,
//! observers INFORM, and the CommitProcessor applies it. A learner joining
//! mid-stream gets what is committed but not yet applied, and what is
//! still outstanding, before it enters the forwarding set (all under the
//! same lock, so nothing falls between).
//!
//! Threads: Prep's thread proposes (via the ProposalRequestProcessor), the
//! SyncThread acks for the leader, LearnerHandler threads ack for their
//! learners and join the forwarding set, the CommitProcessor thread removes
//! applied txns from toBeApplied. All under `Leader::bcast`.
//!
//! Mirrors: `Leader.propose`, `processAck`, `tryToCommit`, `commit`,
//! `inform`, `processSync`, `startForwarding`, `toBeApplied`.

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::sync::Arc;

use log::{debug, info, warn};

use super::leader::Leader;
use super::leader_reconfig::{
    commit_and_activate_data, designated_leader, inform_and_activate_data,
};
use super::learner_handler::{LearnerPeer, Out};
use super::learner_sync::reconfig_text;
use super::quorum_packet::{
    self, counter_of, packet, COMMIT, COMMITANDACTIVATE, INFORM, INFORMANDACTIVATE, PROPOSAL, SYNC,
};
use super::quorum_peer_reconfig::{config_from_string, set_committed, set_last_seen};
use super::synced_learner_tracker::SyncedLearnerTracker;
use crate::server::request::Request;

/// A proposed txn waiting for acks.
struct Proposal {
    /// PROPOSAL data.
    payload: Arc<Vec<u8>>,
    /// Who acked.
    acks: SyncedLearnerTracker,
    /// What the CommitProcessor gets on commit (session, cxid, txn).
    request: Request,
}

/// The Leader's broadcast state (its monitor in Java).
pub struct Broadcast {
    /// Proposed, not yet committed, by zxid.
    outstanding: BTreeMap<i64, Proposal>,
    /// Committed, not yet applied (oldest first).
    to_be_applied: VecDeque<(i64, Arc<Vec<u8>>)>,
    /// Last committed zxid.
    last_committed: i64,
    /// Last proposed zxid (PING carries it).
    last_proposed: i64,
    /// Learners that are synced and get the broadcast.
    forwarding: Vec<Arc<LearnerPeer>>,
    /// Learners' `sync`s waiting for a zxid to commit.
    pending_syncs: BTreeMap<i64, Vec<Arc<LearnerPeer>>>,
    /// PROPOSAL data sizes, for `mntr`.
    proposal_sizes: ProposalSizes,
    /// Cleared once a committed reconfig designated another leader.
    allowed_to_commit: bool,
}

/// Sizes of PROPOSAL data in bytes, -1 until the first proposal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProposalSizes {
    pub last: i64,
    pub min: i64,
    pub max: i64,
}

impl Default for ProposalSizes {
    fn default() -> Self {
        ProposalSizes {
            last: -1,
            min: -1,
            max: -1,
        }
    }
}

impl ProposalSizes {
    /// Records one proposal's size.
    pub fn record(&mut self, size: i64) {
        self.last = size;
        self.min = if self.min == -1 {
            size
        } else {
            self.min.min(size)
        };
        self.max = self.max.max(size);
    }
}

impl Default for Broadcast {
    fn default() -> Self {
        Broadcast::new()
    }
}

impl Broadcast {
    /// Empty state.
    pub fn new() -> Broadcast {
        Broadcast {
            outstanding: BTreeMap::new(),
            to_be_applied: VecDeque::new(),
            last_committed: -1,
            last_proposed: -1,
            forwarding: Vec::new(),
            pending_syncs: BTreeMap::new(),
            proposal_sizes: ProposalSizes::default(),
            allowed_to_commit: true,
        }
    }

    /// The epoch's first zxid (counter 0) is where proposing starts.
    pub fn start_epoch(&mut self, zxid: i64) {
        self.last_proposed = zxid;
        self.last_committed = zxid;
    }

    /// Last proposed zxid.
    pub fn last_proposed(&self) -> i64 {
        self.last_proposed
    }

    /// Drops a learner from the broadcast.
    pub fn remove_forwarding(&mut self, peer: &Arc<LearnerPeer>) {
        self.forwarding.retain(|p| !Arc::ptr_eq(p, peer));
        for waiting in self.pending_syncs.values_mut() {
            waiting.retain(|p| !Arc::ptr_eq(p, peer));
        }
    }

    /// The synced learners that get the broadcast.
    pub fn forwarding(&self) -> &[Arc<LearnerPeer>] {
        &self.forwarding
    }

    /// Zxids that learners' `sync`s wait for.
    pub fn pending_sync_count(&self) -> usize {
        self.pending_syncs.len()
    }

    /// PROPOSAL sizes so far.
    pub fn proposal_sizes(&self) -> ProposalSizes {
        self.proposal_sizes
    }
}

/// A request's copy for the log and the commit (no connection).
pub fn stub_of(request: &Request) -> Request {
    let mut stub = Request::new(
        None,
        request.session_id,
        request.cxid,
        request.op_type,
        Vec::new(),
        Vec::new(),
    );
    stub.txn = request.txn.clone();
    stub.err = request.err;
    stub
}

impl Leader {
    /// Sends PROPOSAL for `request`'s txn to the synced followers and
    /// records it as outstanding.
    pub fn propose(&self, request: &Request) {
        let Some(txn) = request.txn.as_ref() else {
            return;
        };
        let zxid = txn.header.zxid;
        if counter_of(zxid) == 0xffff_ffff {
            warn!("zxid lower 32 bits have rolled over, forcing re-election");
        }
        let payload = Arc::new(txn.to_bytes());
        if let Some(text) = reconfig_text(txn) {
            match config_from_string(&text, self.reconfig.multi_address) {
                Ok(qv) => set_last_seen(&self.views, &self.reconfig, qv, true),
                Err(e) => warn!("Proposing a reconfig whose config does not parse: {}", e),
            }
        }
        let acks = self.new_tracker();
        let mut b = self.bcast.lock();
        b.last_proposed = zxid;
        b.proposal_sizes.record(payload.len() as i64);
        b.outstanding.insert(
            zxid,
            Proposal {
                payload: Arc::clone(&payload),
                acks,
                request: stub_of(request),
            },
        );
        for f in b.forwarding.iter().filter(|f| !f.is_observer()) {
            f.queue(Out::Txn(PROPOSAL, zxid, Arc::clone(&payload)));
        }
        debug!("Proposing:: 0x{:x}", zxid);
    }

    /// An ACK of `zxid` from `sid` (the leader's own after its fsync).
    pub fn process_ack(&self, sid: i64, zxid: i64) {
        if counter_of(zxid) == 0 {
            return; // NEWLEADER / UPTODATE acks
        }
        let mut b = self.bcast.lock();
        if zxid <= b.last_committed {
            debug!(
                "proposal has already been committed, pzxid: 0x{:x} zxid: 0x{:x}",
                b.last_committed, zxid
            );
            return;
        }
        match b.outstanding.get_mut(&zxid) {
            Some(p) => {
                p.acks.add_ack(sid);
            }
            None => {
                warn!(
                    "Trying to commit future proposal: zxid 0x{:x} from {}",
                    zxid, sid
                );
                return;
            }
        }
        let mut next = zxid;
        while self.try_to_commit(&mut b, next) {
            next += 1;
        }
    }

    /// Commits `zxid` if it has a quorum and its predecessor is committed.
    fn try_to_commit(&self, b: &mut Broadcast, zxid: i64) -> bool {
        if !b.allowed_to_commit || b.outstanding.contains_key(&(zxid - 1)) {
            return false;
        }
        let ready = b
            .outstanding
            .get(&zxid)
            .is_some_and(|p| p.acks.has_all_quorums());
        if !ready {
            return false;
        }
        let Some(p) = b.outstanding.remove(&zxid) else {
            return false;
        };
        b.last_committed = zxid;
        b.to_be_applied.push_back((zxid, Arc::clone(&p.payload)));
        let activated = self.activate_reconfig(b, &p);
        if let Some(designated) = activated {
            if designated != self.my_id {
                info!("Committing a reconfiguration; this leader is not the designated leader anymore, setting allowedToCommit=false");
                b.allowed_to_commit = false;
            }
            let data = commit_and_activate_data(designated);
            let informed = Arc::new(inform_and_activate_data(designated, &p.payload));
            for f in &b.forwarding {
                if f.is_observer() {
                    f.queue(Out::Txn(INFORMANDACTIVATE, zxid, Arc::clone(&informed)));
                } else {
                    f.queue(Out::Packet(packet(
                        COMMITANDACTIVATE,
                        zxid,
                        Some(data.clone()),
                    )));
                }
            }
        }
        // A reconfig's commit went out as *ANDACTIVATE above (a refused
        // reconfig is an error txn, committed as any other).
        for f in b.forwarding.iter().filter(|_| activated.is_none()) {
            if f.is_observer() {
                f.queue(Out::Txn(INFORM, zxid, Arc::clone(&p.payload)));
            } else {
                f.queue(Out::Packet(packet(COMMIT, zxid, None)));
            }
        }
        self.commit_to_processor(p.request);
        let done: Vec<i64> = b.pending_syncs.range(..=zxid).map(|(z, _)| *z).collect();
        for z in done {
            for peer in b.pending_syncs.remove(&z).unwrap_or_default() {
                peer.queue(Out::Packet(packet(SYNC, 0, None)));
            }
        }
        true
    }

    /// A reconfig proposal commits: its config becomes the committed one
    /// here (files written), and the peer thread finishes the activation.
    /// The designated leader, or `None` for other txns.
    fn activate_reconfig(&self, b: &Broadcast, p: &Proposal) -> Option<i64> {
        let text = p.request.txn.as_ref().and_then(reconfig_text)?;
        let zxid = p.request.txn.as_ref()?.header.zxid;
        let new = config_from_string(&text, self.reconfig.multi_address).ok()?;
        let old = Arc::clone(&self.views.lock().committed);
        // The proposals after the reconfig, in zxid order without gaps:
        // their acks decide between the candidates.
        let later: Vec<Vec<&BTreeSet<i64>>> = (zxid + 1..)
            .map_while(|z| b.outstanding.get(&z))
            .map(|later| later.acks.ack_sets())
            .collect();
        let designated = designated_leader(&new, &old, self.my_id, p.acks.newest_acks(), &later);
        let prev = set_committed(&self.views, &self.reconfig, self.my_id, new, true);
        *self.activated.lock() = Some((prev, designated, p.request.txn.as_ref()?.header.zxid));
        Some(designated)
    }

    /// A learner's `sync`: answered now if nothing is outstanding, else
    /// once the last proposal commits.
    pub fn process_sync(&self, peer: &Arc<LearnerPeer>) {
        let mut b = self.bcast.lock();
        if b.outstanding.is_empty() {
            peer.queue(Out::Packet(packet(SYNC, 0, None)));
        } else {
            let last = b.last_proposed;
            b.pending_syncs
                .entry(last)
                .or_default()
                .push(Arc::clone(peer));
        }
    }

    /// After `zxid` was applied: forget it from toBeApplied.
    pub fn applied(&self, zxid: i64) {
        let mut b = self.bcast.lock();
        while b.to_be_applied.front().is_some_and(|(z, _)| *z <= zxid) {
            b.to_be_applied.pop_front();
        }
    }

    /// Queues what `peer` misses after `last_seen` (committed but not
    /// applied: PROPOSAL + COMMIT; then, for followers, outstanding
    /// PROPOSALs) and adds it to the forwarding set.
    /// The caller holds `bcast` (taken with the sync decision).
    pub fn start_forwarding(
        &self,
        b: &mut Broadcast,
        peer: &Arc<LearnerPeer>,
        last_seen: i64,
    ) -> i64 {
        let mut last = last_seen;
        for (z, payload) in b.to_be_applied.iter().filter(|(z, _)| *z > last_seen) {
            queue_committed(peer, *z, payload);
            last = *z;
        }
        if !peer.is_observer() {
            for (z, p) in b.outstanding.range(last + 1..) {
                peer.queue(Out::Txn(PROPOSAL, *z, Arc::clone(&p.payload)));
            }
        }
        b.forwarding.push(Arc::clone(peer));
        b.last_proposed
    }
}

/// PROPOSAL + COMMIT of a committed txn, as sync sends it to any learner
/// (observers too: their sync takes PROPOSAL/COMMIT pairs).
pub fn queue_committed(peer: &LearnerPeer, zxid: i64, payload: &Arc<Vec<u8>>) {
    peer.queue(Out::Txn(PROPOSAL, zxid, Arc::clone(payload)));
    peer.queue(Out::Packet(quorum_packet::packet(COMMIT, zxid, None)));
}

#[cfg(test)]
mod tests {
    use super::ProposalSizes;

    #[test]
    fn proposal_sizes_start_at_minus_one_and_track_extremes() {
        let mut sizes = ProposalSizes::default();
        assert_eq!(
            sizes,
            ProposalSizes {
                last: -1,
                min: -1,
                max: -1
            }
        );
        sizes.record(40);
        sizes.record(12);
        sizes.record(25);
        assert_eq!(
            sizes,
            ProposalSizes {
                last: 25,
                min: 12,
                max: 40
            }
        );
    }
}
