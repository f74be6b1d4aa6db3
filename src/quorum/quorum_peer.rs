//! The peer's state machine: LOOKING runs an election; FOLLOWING, LEADING
//! and OBSERVING hold the elected role; when a role ends the peer goes back
//! to LOOKING.
//!
//! Zab (discovery, sync, broadcast over the quorum port) is a later issue.
//! Until it lands a role is held while the election connections show the
//! ensemble alive ([`role_health`]): a leader needs a quorum of voters
//! connected to it that have not gone LOOKING since it was elected, a
//! follower or observer needs its leader connected and not LOOKING. A failing check is tolerated for syncLimit ticks (Java's
//! learner timeout), and `zookeeper.quorum.maxRoleHoldMs` can cap a role
//! so tests see the cycle. Every state change is logged once, with sid,
//! epoch and zxid.
//!
//! Threads: [`QuorumPeer::run`] is the QuorumPeer main thread; the election
//! receiver thread reads the state and vote and reports LOOKING peers; the
//! client-port threads read the state for `srvr`.
//!
//! Mirrors: `org.apache.zookeeper.server.quorum.QuorumPeer` (run,
//! setPeerState, updateServerState, getCurrentVote, getLastLoggedZxid,
//! getCurrentEpoch, getAcceptedEpoch).

use std::collections::{BTreeSet, HashMap};
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use log::{info, warn};
use parking_lot::Mutex;

use super::fast_leader_election::FastLeaderElection;
use super::flexible::QuorumVerifier;
use super::learner_cnx_acceptor::LearnerCnxAcceptor;
use super::quorum_cnx_manager::QuorumCnxManager;
use super::quorum_server::LearnerType;
use super::vote::{ServerState, Vote};

/// How long an elected role is held, and how its health is judged.
#[derive(Debug, Clone, Copy)]
pub struct RoleSettings {
    /// `tickTime`: the health check period.
    pub tick: Duration,
    /// How long a failing check is tolerated (syncLimit × tickTime).
    pub grace: Duration,
    /// End the role after this long regardless (tests; unset = never).
    pub max_hold: Option<Duration>,
    /// `quorumListenOnAllIPs`: the leader's quorum port binds 0.0.0.0.
    pub listen_on_all_ips: bool,
}

/// The peer, shared by its threads.
pub struct QuorumPeer {
    /// My sid.
    pub my_id: i64,
    /// Participant or observer.
    pub learner_type: LearnerType,
    /// Members and quorum rule (fixed: reconfig is not supported).
    pub verifier: Arc<QuorumVerifier>,
    /// `verifier.to_string()`, sent in every notification.
    config_text: String,
    /// My state; changed by the main thread (and the election it runs).
    state: Mutex<ServerState>,
    /// The vote I settled on (my own vote while looking).
    current_vote: Mutex<Vote>,
    /// `currentEpoch` (the epoch my votes carry).
    current_epoch: AtomicI64,
    /// `acceptedEpoch`.
    accepted_epoch: AtomicI64,
    /// The database's last zxid.
    last_logged_zxid: AtomicI64,
    /// Cleared on shutdown.
    running: AtomicBool,
    /// Voters that sent me a LOOKING notification since my role began,
    /// with the highest round they were in (written by the election
    /// receiver thread).
    looking_peers: Mutex<HashMap<i64, i64>>,
    /// Role health settings.
    role: RoleSettings,
}

impl QuorumPeer {
    /// A peer in state LOOKING, voting for itself.
    pub fn new(
        my_id: i64,
        learner_type: LearnerType,
        verifier: Arc<QuorumVerifier>,
        last_logged_zxid: i64,
        current_epoch: i64,
        accepted_epoch: i64,
        role: RoleSettings,
    ) -> QuorumPeer {
        QuorumPeer {
            my_id,
            learner_type,
            config_text: verifier.to_string(),
            verifier,
            state: Mutex::new(ServerState::Looking),
            current_vote: Mutex::new(Vote::new(my_id, last_logged_zxid, 0, current_epoch)),
            current_epoch: AtomicI64::new(current_epoch),
            accepted_epoch: AtomicI64::new(accepted_epoch),
            last_logged_zxid: AtomicI64::new(last_logged_zxid),
            running: AtomicBool::new(true),
            looking_peers: Mutex::new(HashMap::new()),
            role,
        }
    }

    /// The config text for notifications.
    pub fn config_text(&self) -> String {
        self.config_text.clone()
    }

    /// My state.
    pub fn state(&self) -> ServerState {
        *self.state.lock()
    }

    /// Changes my state, logging the change once.
    pub fn set_state(&self, new: ServerState) {
        let mut state = self.state.lock();
        if *state == new {
            return;
        }
        *state = new;
        drop(state);
        let vote = self.current_vote();
        info!(
            "Peer state changed: {} (myid={}, leader={}, round=0x{:x}, currentEpoch={}, lastZxid=0x{:x})",
            new,
            self.my_id,
            vote.id,
            vote.election_epoch,
            self.current_epoch(),
            self.last_logged_zxid()
        );
    }

    /// The vote I settled on.
    pub fn current_vote(&self) -> Vote {
        *self.current_vote.lock()
    }

    /// Records the vote an election ended with.
    pub fn set_current_vote(&self, vote: Vote) {
        *self.current_vote.lock() = vote;
    }

    /// The database's last zxid.
    pub fn last_logged_zxid(&self) -> i64 {
        self.last_logged_zxid.load(Ordering::SeqCst)
    }

    /// `currentEpoch`.
    pub fn current_epoch(&self) -> i64 {
        self.current_epoch.load(Ordering::SeqCst)
    }

    /// `acceptedEpoch`.
    pub fn accepted_epoch(&self) -> i64 {
        self.accepted_epoch.load(Ordering::SeqCst)
    }

    /// False once shutdown began.
    pub fn is_running(&self) -> bool {
        self.running.load(Ordering::SeqCst)
    }

    /// Stops the main loop (within a tick or a notification interval).
    pub fn shutdown(&self) {
        self.running.store(false, Ordering::SeqCst);
    }

    /// Called by the election receiver when a voter LOOKING writes to me
    /// while I hold a role.
    pub fn note_looking_peer(&self, sid: i64, round: i64) {
        let mut peers = self.looking_peers.lock();
        let entry = peers.entry(sid).or_insert(round);
        *entry = (*entry).max(round);
    }

    /// The main loop: elect, hold the role, repeat, until shutdown.
    pub fn run(&self, fle: &FastLeaderElection, manager: &Arc<QuorumCnxManager>) {
        while self.is_running() {
            match self.state() {
                ServerState::Looking => {
                    info!("LOOKING");
                    if let Some(vote) = fle.look_for_leader() {
                        info!(
                            "Election done: leader {} (zxid 0x{:x}, round 0x{:x}, peerEpoch 0x{:x}), my state {}",
                            vote.id,
                            vote.zxid,
                            vote.election_epoch,
                            vote.peer_epoch,
                            self.state()
                        );
                    }
                }
                role => {
                    info!("{} - LEADER ELECTION TOOK place; holding the role (Zab is not implemented yet)", role);
                    let reason = self.hold_role(role, manager);
                    warn!("{} role of myid {} ended: {}", role, self.my_id, reason);
                    self.set_state(ServerState::Looking);
                    warn!("PeerState set to LOOKING");
                }
            }
        }
        warn!("QuorumPeer main thread exited");
    }

    /// Holds `role` while [`role_health`] says the ensemble is there.
    fn hold_role(&self, role: ServerState, manager: &Arc<QuorumCnxManager>) -> String {
        self.looking_peers.lock().clear();
        let started = Instant::now();
        let elected = self.current_vote();
        let mut failing_since: Option<Instant> = None;
        let period = self.role.tick.min(Duration::from_millis(100)).max(Duration::from_millis(10));
        let mut acceptor = (role == ServerState::Leading).then(|| {
            let addrs = self.verifier.all_members().get(&self.my_id).map(|me| me.quorum_addrs()).unwrap_or_default();
            LearnerCnxAcceptor::bind(&addrs, self.role.listen_on_all_ips)
        });
        loop {
            if let Some(acceptor) = acceptor.as_mut() {
                acceptor.poll();
            }
            if !self.is_running() {
                return "shutting down".to_string();
            }
            if let Some(max) = self.role.max_hold.filter(|m| started.elapsed() >= *m) {
                return format!("held the role for {} ms (zookeeper.quorum.maxRoleHoldMs)", max.as_millis());
            }
            let connected: BTreeSet<i64> = manager.connected_sids().into_iter().collect();
            let looking = self.looking_peers.lock().clone();
            match role_health(role, self.my_id, &elected, &self.verifier, &connected, &looking) {
                Health::Fine => failing_since = None,
                Health::Over(why) => return why,
                Health::Failing(why) => {
                    if role != ServerState::Leading {
                        manager.connect_one(elected.id);
                    }
                    let since = *failing_since.get_or_insert_with(Instant::now);
                    if since.elapsed() >= self.role.grace {
                        return why;
                    }
                }
            }
            thread::sleep(period);
        }
    }
}

/// What the role check found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Health {
    /// Keep the role.
    Fine,
    /// Keep it for now, end it if this lasts (the reason).
    Failing(String),
    /// End it now (the reason).
    Over(String),
}

/// The interim (pre-Zab) health of an elected role, from who is connected
/// on the election port and who has told me it is LOOKING (sid → round):
/// the leader looking in a round after the one I was elected in has left
/// its role.
pub fn role_health(
    role: ServerState,
    my_id: i64,
    elected: &Vote,
    qv: &QuorumVerifier,
    connected: &BTreeSet<i64>,
    looking: &HashMap<i64, i64>,
) -> Health {
    let leader = elected.id;
    match role {
        ServerState::Leading => {
            // A voter that went LOOKING after my election is not with me
            // (until a new election; Zab will tell this properly).
            let moved_on = |sid: &i64| looking.get(sid).is_some_and(|round| *round > elected.election_epoch);
            let mut with_me: BTreeSet<i64> =
                connected.iter().copied().filter(|sid| qv.is_voter(*sid) && !moved_on(sid)).collect();
            with_me.insert(my_id);
            if qv.has_quorum(&with_me) {
                Health::Fine
            } else {
                let synced: Vec<String> = with_me.iter().map(i64::to_string).collect();
                Health::Failing(format!(
                    "Not sufficient followers connected, only connected with sids: [ {} ]",
                    synced.join(",")
                ))
            }
        }
        ServerState::Following | ServerState::Observing => {
            if looking.get(&leader).is_some_and(|round| *round > elected.election_epoch) {
                Health::Over(format!("leader {} is LOOKING again", leader))
            } else if connected.contains(&leader) {
                Health::Fine
            } else {
                Health::Failing(format!("no election connection to leader {}", leader))
            }
        }
        ServerState::Looking => Health::Over("not in a role".to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn role_health_table() {
        let pairs: Vec<(String, String)> = (1..=5)
            .map(|i| (format!("server.{}", i), format!("h:{}:{}{}", 10 + i, 20 + i, if i == 5 { ":observer" } else { "" })))
            .collect();
        let qv = QuorumVerifier::from_pairs(&pairs, false).unwrap();
        let set = |ids: &[i64]| ids.iter().copied().collect::<BTreeSet<i64>>();
        let none = HashMap::new();
        let leader_looking: HashMap<i64, i64> = [(3, 8)].into_iter().collect();
        let old_round: HashMap<i64, i64> = [(3, 7)].into_iter().collect();
        let v1 = Vote::new(1, 0, 7, 1);
        let v3 = Vote::new(3, 0, 7, 1);
        use ServerState::*;
        let fine = |h: Health| h == Health::Fine;
        let failing = |h: Health| matches!(h, Health::Failing(_));
        let over = |h: Health| matches!(h, Health::Over(_));
        // 4 voters: the leader needs 2 connected voters (3 of 4 with itself).
        assert!(fine(role_health(Leading, 1, &v1, &qv, &set(&[2, 3]), &none)));
        assert!(failing(role_health(Leading, 1, &v1, &qv, &set(&[2]), &none)));
        assert!(failing(role_health(Leading, 1, &v1, &qv, &set(&[2, 5]), &none)), "observers do not count");
        assert!(failing(role_health(Leading, 3, &v3, &qv, &set(&[1, 2]), &[(1, 8)].into_iter().collect())), "1 moved on");
        assert!(fine(role_health(Leading, 3, &v3, &qv, &set(&[1, 2, 4]), &[(1, 7)].into_iter().collect())));
        assert!(fine(role_health(Following, 2, &v3, &qv, &set(&[3]), &none)));
        assert!(failing(role_health(Following, 2, &v3, &qv, &set(&[1, 4]), &none)));
        assert!(over(role_health(Following, 2, &v3, &qv, &set(&[3]), &leader_looking)));
        assert!(fine(role_health(Following, 2, &v3, &qv, &set(&[3]), &old_round)), "a late message of the election itself");
        assert!(fine(role_health(Observing, 5, &v3, &qv, &set(&[3]), &none)));
        assert!(over(role_health(Looking, 5, &v3, &qv, &set(&[3]), &none)));
    }
}
