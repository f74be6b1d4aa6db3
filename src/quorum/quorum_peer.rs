//! The peer's state machine: LOOKING runs an election; FOLLOWING, LEADING
//! and OBSERVING run the elected role; when a role ends the peer goes back
//! to LOOKING.
//!
//! # Roles (Zab)
//!
//! Once [`QuorumPeer::attach_roles`] gave the peer its database, config and
//! client port ([`RoleContext`]), a role is a blocking call on this thread
//! that returns (with the reason) when the role ends:
//! LEADING → [`LEAD`] (`leader::lead`), FOLLOWING → [`FOLLOW`], OBSERVING →
//! [`OBSERVE`]. Each is a [`RoleEntry`]: `fn(&QuorumPeer, &RoleContext) ->
//! String`.
//!
//! **Learner side (E2), how to plug in:** write
//! `pub fn follow_leader(peer: &QuorumPeer, ctx: &RoleContext) -> String` in
//! `follower.rs` (and `observe_leader` in `observer.rs`), then change the one
//! line `pub const FOLLOW: RoleEntry = ...` (resp. `OBSERVE`) below to point
//! at it. Useful here: [`QuorumPeer::leader_quorum_addrs`],
//! [`QuorumPeer::write_accepted_epoch`] / [`QuorumPeer::write_current_epoch`]
//! (file first, then memory, as Java), [`QuorumPeer::set_last_logged_zxid`],
//! [`RoleContext::timing`], and [`RoleContext::serving`] to publish the
//! role's `ZooKeeperServer` on the client port (`None` when the role ends:
//! client connections are closed then). The packet vocabulary is
//! `quorum_packet`; the CommitProcessor is `commit_processor`; a role's
//! server is `ZooKeeperServer::for_role(config, db, sessions, Arc<dyn
//! ServerRole>)`.
//!
//! Without an attached context (unit tests of the election) roles are held
//! as before Zab:
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
use super::quorum_cnx_manager::QuorumCnxManager;
use super::quorum_server::LearnerType;
use super::quorum_server::HostPort;
use super::vote::{ServerState, Vote};
use crate::config::quorum_peer_config::QuorumPeerConfig;
use crate::server::zk_database::{PersistenceError, ZkDatabase, ACCEPTED_EPOCH_FILE, CURRENT_EPOCH_FILE};
use crate::server::zookeeper_server::ZooKeeperServer;

/// A role's main function: runs on the QuorumPeer thread until the role
/// ends, returns why.
pub type RoleEntry = fn(&QuorumPeer, &RoleContext) -> String;

/// LEADING.
pub const LEAD: RoleEntry = super::leader::lead;
/// FOLLOWING (E2: point at `follower::follow_leader`).
pub const FOLLOW: RoleEntry = super::follower::follow_leader;
/// OBSERVING (E2: point at `observer::observe_leader`).
pub const OBSERVE: RoleEntry = super::observer::observe_leader;

/// Where a role publishes its server for client connections.
pub trait ServingSlot: Send + Sync {
    /// `Some`: serve clients with this server; `None`: stop serving
    /// (closes client connections, as Java does when a role ends).
    fn set_server(&self, server: Option<Arc<ZooKeeperServer>>);
}

/// Timeouts of the quorum port, from zoo.cfg.
#[derive(Debug, Clone, Copy)]
pub struct ZabTiming {
    /// `tickTime`.
    pub tick: Duration,
    /// `initLimit` (ticks).
    pub init_limit: i32,
    /// `syncLimit` (ticks).
    pub sync_limit: i32,
}

impl ZabTiming {
    /// initLimit × tickTime: discovery and sync.
    pub fn init_timeout(&self) -> Duration {
        self.tick * self.init_limit.max(1) as u32
    }
    /// syncLimit × tickTime: broadcast.
    pub fn sync_timeout(&self) -> Duration {
        self.tick * self.sync_limit.max(1) as u32
    }
}

/// What every role needs besides the peer.
pub struct RoleContext {
    /// The database, loaded once at startup and kept across roles.
    pub db: Arc<ZkDatabase>,
    /// The whole config.
    pub config: Arc<QuorumPeerConfig>,
    /// The client port.
    pub serving: Arc<dyn ServingSlot>,
}

impl RoleContext {
    /// tickTime, initLimit, syncLimit.
    pub fn timing(&self) -> ZabTiming {
        ZabTiming {
            tick: Duration::from_millis(self.config.server.tick_time.max(1) as u64),
            init_limit: self.config.init_limit,
            sync_limit: self.config.sync_limit,
        }
    }
}


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
    /// The database, config and client port; `None` holds roles as
    /// before Zab (election-only tests).
    roles: Mutex<Option<Arc<RoleContext>>>,
    /// The election connections (set by `run`).
    manager: Mutex<Option<Arc<QuorumCnxManager>>>,
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
            roles: Mutex::new(None),
            manager: Mutex::new(None),
        }
    }

    /// Gives the peer what Zab roles need; from then on roles run Zab.
    pub fn attach_roles(&self, ctx: RoleContext) {
        *self.roles.lock() = Some(Arc::new(ctx));
    }

    /// The attached role context, if any (tests drive roles with it).
    pub fn role_context(&self) -> Option<Arc<RoleContext>> {
        self.roles.lock().clone()
    }

    /// Role settings (tick, grace, quorumListenOnAllIPs).
    pub fn role_settings(&self) -> RoleSettings {
        self.role
    }

    /// Sets the last zxid the vote carries (after a sync or a commit).
    pub fn set_last_logged_zxid(&self, zxid: i64) {
        self.last_logged_zxid.store(zxid, Ordering::SeqCst);
    }

    /// Writes `acceptedEpoch` (file first, as Java), then remembers it.
    pub fn write_accepted_epoch(&self, db: &ZkDatabase, epoch: i64) -> Result<(), PersistenceError> {
        db.write_epoch(ACCEPTED_EPOCH_FILE, epoch)?;
        self.accepted_epoch.store(epoch, Ordering::SeqCst);
        Ok(())
    }

    /// Writes `currentEpoch` (file first, as Java), then remembers it.
    pub fn write_current_epoch(&self, db: &ZkDatabase, epoch: i64) -> Result<(), PersistenceError> {
        db.write_epoch(CURRENT_EPOCH_FILE, epoch)?;
        self.current_epoch.store(epoch, Ordering::SeqCst);
        Ok(())
    }

    /// The elected leader's quorum-port addresses.
    pub fn leader_quorum_addrs(&self) -> Vec<HostPort> {
        let leader = self.current_vote().id;
        self.verifier.all_members().get(&leader).map(|s| s.quorum_addrs()).unwrap_or_default()
    }

    /// My own quorum-port addresses (where a leader listens).
    pub fn my_quorum_addrs(&self) -> Vec<HostPort> {
        self.verifier.all_members().get(&self.my_id).map(|s| s.quorum_addrs()).unwrap_or_default()
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
        *self.manager.lock() = Some(Arc::clone(manager));
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
                    let ctx = self.roles.lock().clone();
                    let reason = match ctx {
                        Some(ctx) => {
                            let entry = match role {
                                ServerState::Leading => LEAD,
                                ServerState::Following => FOLLOW,
                                _ => OBSERVE,
                            };
                            entry(self, &ctx)
                        }
                        None => {
                            info!("{} - LEADER ELECTION TOOK place; holding the role (no database attached)", role);
                            self.hold_role(role, manager)
                        }
                    };
                    warn!("{} role of myid {} ended: {}", role, self.my_id, reason);
                    self.set_state(ServerState::Looking);
                    warn!("PeerState set to LOOKING");
                }
            }
        }
        warn!("QuorumPeer main thread exited");
    }

    /// The interim leader role (until `leader::lead` is complete).
    pub fn hold_leading(&self) -> String {
        match self.manager.lock().clone() {
            Some(m) => self.hold_role(ServerState::Leading, &m),
            None => "no election manager".to_string(),
        }
    }

    /// Holds `role` while [`role_health`] says the ensemble is there.
    fn hold_role(&self, role: ServerState, manager: &Arc<QuorumCnxManager>) -> String {
        self.looking_peers.lock().clear();
        let started = Instant::now();
        let elected = self.current_vote();
        let mut failing_since: Option<Instant> = None;
        let period = self.role.tick.min(Duration::from_millis(100)).max(Duration::from_millis(10));
        loop {
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
