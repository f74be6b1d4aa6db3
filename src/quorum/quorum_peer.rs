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
//! QuorumError`.
//!
//! With `readonlymode.enabled`, a LOOKING peer that stays without a
//! quorum for a grace period serves read-only clients meanwhile
//! ([`read_only_zookeeper_server::while_looking`]).
//!
//! A peer without a context (`quorum_peer_main` attaches it before the
//! main loop starts) cannot take a role and goes back to LOOKING. Every
//! state change is logged once, with sid, epoch and zxid.
//!
//! Threads: [`QuorumPeer::run`] is the QuorumPeer main thread (it runs the
//! roles); the election threads read the state and vote; the client-port
//! threads read the state for `srvr`.
//!
//! Mirrors: `org.apache.zookeeper.server.quorum.QuorumPeer` (run,
//! setPeerState, updateServerState, getCurrentVote, getLastLoggedZxid,
//! getCurrentEpoch, getAcceptedEpoch).

use std::sync::atomic::{AtomicBool, AtomicI64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use log::{error, info, warn};
use parking_lot::Mutex;

use super::fast_leader_election::FastLeaderElection;
use super::flexible::QuorumVerifier;
use super::quorum_error::QuorumError;
use super::quorum_peer_config::QuorumPeerConfig;
use super::quorum_peer_reconfig::{QuorumViews, ReconfigSettings, SharedViews};
use super::quorum_server::{HostPort, LearnerType};
use super::read_only_zookeeper_server;
use super::vote::{ServerState, Vote};
use crate::server::zk_database::{
    PersistenceError, ZkDatabase, ACCEPTED_EPOCH_FILE, CURRENT_EPOCH_FILE,
};
use crate::server::zookeeper_server::ZooKeeperServer;

/// A role's main function: runs on the QuorumPeer thread until the role
/// ends, returns why.
pub type RoleEntry = fn(&QuorumPeer, &RoleContext) -> QuorumError;

/// LEADING.
pub const LEAD: RoleEntry = super::leader::lead;
/// FOLLOWING.
pub const FOLLOW: RoleEntry = super::follower::follow_leader;
/// OBSERVING.
pub const OBSERVE: RoleEntry = super::observer::observe_leader;

/// Where a role publishes its server for client connections.
pub trait ServingSlot: Send + Sync {
    /// `Some`: serve clients with this server; `None`: stop serving
    /// (closes client connections, as Java does when a role ends).
    fn set_server(&self, server: Option<Arc<ZooKeeperServer>>);
    /// Publishes `server` to the operator's views (AdminServer, metrics)
    /// but not to clients: the client port refuses sessions and its
    /// four-letter words say the peer is not serving (`leaderServes=no`).
    fn set_server_without_clients(&self, server: Option<Arc<ZooKeeperServer>>) {
        self.set_server(server)
    }
    /// A reconfig gave this server the client address `addr`: the client
    /// port moves there (new connections only; live ones go on).
    fn reconfigure_client_port(&self, addr: std::net::SocketAddr) {
        let _ = addr;
    }
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

/// Peer-wide settings the roles read.
#[derive(Debug, Clone, Copy)]
pub struct RoleSettings {
    /// `tickTime`.
    pub tick: Duration,
    /// `quorumListenOnAllIPs`: the leader's quorum port binds 0.0.0.0.
    pub listen_on_all_ips: bool,
}

/// The peer, shared by its threads.
pub struct QuorumPeer {
    /// My sid.
    pub my_id: i64,
    /// Participant or observer (a reconfig may change it).
    pub(super) learner_type: Mutex<LearnerType>,
    /// The committed and the last-seen config (`quorum_peer_reconfig`).
    pub(super) views: SharedViews,
    /// `reconfigEnabled`, zoo.cfg's path.
    pub(super) reconfig: ReconfigSettings,
    /// Java's `reconfigFlag`: a committed reconfig chose my next role
    /// (the designated leader, or my new learner type): skip the election.
    pub(super) reconfig_flag: AtomicBool,
    /// Java's `shuttingDownLE`: a newer config arrived while looking; the
    /// running election stops and a new one starts with it.
    pub(super) restart_election: AtomicBool,
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
    /// How long the last election took (ms), for the role's first log line
    /// (Java's `end_fle - start_fle`). Written by the peer thread only.
    election_took_ms: AtomicI64,
    /// Tick and quorum-port settings.
    role: RoleSettings,
    /// The database, config and client port (attached before `run`).
    roles: Mutex<Option<Arc<RoleContext>>>,
    /// Turns of an observer through the ObserverMasters (starts at random).
    next_observer_master: AtomicUsize,
    /// Called when a config is activated: the election transport follows
    /// my election address (set by the boot once the transport exists).
    pub(super) on_activated: Mutex<Option<Box<dyn Fn() + Send + Sync>>>,
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
            learner_type: Mutex::new(learner_type),
            views: Arc::new(Mutex::new(QuorumViews::new(verifier))),
            reconfig: ReconfigSettings::default(),
            reconfig_flag: AtomicBool::new(false),
            restart_election: AtomicBool::new(false),
            state: Mutex::new(ServerState::Looking),
            current_vote: Mutex::new(Vote::new(my_id, last_logged_zxid, 0, current_epoch)),
            current_epoch: AtomicI64::new(current_epoch),
            accepted_epoch: AtomicI64::new(accepted_epoch),
            last_logged_zxid: AtomicI64::new(last_logged_zxid),
            running: AtomicBool::new(true),
            election_took_ms: AtomicI64::new(0),
            role,
            roles: Mutex::new(None),
            next_observer_master: AtomicUsize::new(random_start()),
            on_activated: Mutex::new(None),
        }
    }

    /// The next ObserverMaster for an observer with `observerMasterPort`:
    /// each voting member's (first) quorum host at that port, taken in
    /// turn from a random start, so observers spread over the followers
    /// and one that fails is followed by the next (Java shuffles the list
    /// once and walks it). The leader is in the list but serves none: a
    /// turn on it fails and the next role tries the next member.
    pub fn next_observer_master(&self, port: u16) -> Option<(i64, HostPort)> {
        let masters: Vec<(i64, HostPort)> = self
            .quorum_verifier()
            .all_members()
            .iter()
            .filter(|(_, s)| s.is_participant())
            .filter_map(|(sid, s)| {
                let host = s.quorum_addrs().into_iter().next()?.host;
                Some((*sid, HostPort { host, port }))
            })
            .collect();
        if masters.is_empty() {
            return None;
        }
        let turn = self.next_observer_master.fetch_add(1, Ordering::SeqCst);
        Some(masters[turn % masters.len()].clone())
    }

    /// Turns dynamic reconfiguration on or off (before `run`).
    pub fn with_reconfig(mut self, reconfig: ReconfigSettings) -> QuorumPeer {
        self.reconfig = reconfig;
        self
    }

    /// Participant or observer, as the committed config says.
    pub fn learner_type(&self) -> LearnerType {
        *self.learner_type.lock()
    }

    /// Gives the peer what Zab roles need; from then on roles run Zab.
    pub fn attach_roles(&self, ctx: RoleContext) {
        *self.roles.lock() = Some(Arc::new(ctx));
    }

    /// The attached role context, if any (tests drive roles with it).
    pub fn role_context(&self) -> Option<Arc<RoleContext>> {
        self.roles.lock().clone()
    }

    /// Role settings (tick, quorumListenOnAllIPs).
    pub fn role_settings(&self) -> RoleSettings {
        self.role
    }

    /// Sets the last zxid the vote carries (after a sync or a commit).
    pub fn set_last_logged_zxid(&self, zxid: i64) {
        self.last_logged_zxid.store(zxid, Ordering::SeqCst);
    }

    /// Writes `acceptedEpoch` (file first, as Java), then remembers it.
    pub fn write_accepted_epoch(
        &self,
        db: &ZkDatabase,
        epoch: i64,
    ) -> Result<(), PersistenceError> {
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
        let views = self.views.lock();
        views
            .committed
            .all_members()
            .get(&leader)
            .or_else(|| views.last_seen.all_members().get(&leader))
            .map(|s| s.quorum_addrs())
            .unwrap_or_default()
    }

    /// The host of a member's (first) server-line address: what quorum
    /// SASL puts in for `_HOST`.
    pub fn member_host(&self, sid: i64) -> String {
        self.views.lock().member_host(sid)
    }

    /// My own quorum-port addresses (where a leader listens).
    pub fn my_quorum_addrs(&self) -> Vec<HostPort> {
        self.quorum_verifier()
            .all_members()
            .get(&self.my_id)
            .map(|s| s.quorum_addrs())
            .unwrap_or_default()
    }

    /// The committed config's text (notifications, `/zookeeper/config`).
    pub fn config_text(&self) -> String {
        self.quorum_verifier().to_string()
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

    /// `updateElectionVote` (ZOOKEEPER-1732): once a role serves in
    /// `new_epoch`, the vote this peer reports to a late joiner carries
    /// that epoch, as every other member's does; otherwise the joiner sees
    /// the leader's and the followers' votes disagree and never decides.
    pub fn update_election_vote(&self, new_epoch: i64) {
        let mut vote = self.current_vote.lock();
        *vote = Vote {
            version: 0,
            peer_epoch: new_epoch,
            ..*vote
        };
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

    /// How long the election that chose the current role took (ms).
    pub fn election_took_ms(&self) -> i64 {
        self.election_took_ms.load(Ordering::SeqCst)
    }

    /// False once shutdown began.
    pub fn is_running(&self) -> bool {
        self.running.load(Ordering::SeqCst)
    }

    /// Stops the main loop (within a tick or a notification interval).
    pub fn shutdown(&self) {
        self.running.store(false, Ordering::SeqCst);
    }

    /// The main loop: elect, run the elected role, repeat, until shutdown.
    pub fn run(&self, fle: &FastLeaderElection) {
        while self.is_running() {
            match self.state() {
                ServerState::Looking => {
                    info!("LOOKING");
                    self.reconfig_flag.store(false, Ordering::SeqCst);
                    self.restart_election.store(false, Ordering::SeqCst);
                    let started = std::time::Instant::now();
                    let ctx = self
                        .role_context()
                        .filter(|ctx| ctx.config.read_only_mode_enabled);
                    let vote = match ctx {
                        Some(ctx) => read_only_zookeeper_server::while_looking(self, &ctx, || {
                            fle.look_for_leader()
                        }),
                        None => fle.look_for_leader(),
                    };
                    if let Some(vote) = vote {
                        self.election_took_ms
                            .store(started.elapsed().as_millis() as i64, Ordering::SeqCst);
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
                    let reason = self.run_role(role);
                    warn!("{} role of myid {} ended: {}", role, self.my_id, reason);
                    self.update_server_state();
                }
            }
        }
        warn!("QuorumPeer main thread exited");
    }

    /// After a role: LOOKING, unless a committed reconfig chose the next
    /// role (the designated leader leads, the others follow or observe).
    fn update_server_state(&self) {
        if !self.reconfig_flag.swap(false, Ordering::SeqCst) || !self.is_running() {
            self.set_state(ServerState::Looking);
            warn!("PeerState set to LOOKING");
            return;
        }
        let next = if self.current_vote().id == self.my_id {
            ServerState::Leading
        } else if self.learner_type() == LearnerType::Observer {
            ServerState::Observing
        } else {
            ServerState::Following
        };
        info!(
            "Reconfig: going straight to {} (leader {})",
            next,
            self.current_vote().id
        );
        self.set_state(next);
    }

    /// Asks the running election to stop and start over.
    pub fn request_election_restart(&self) {
        self.restart_election.store(true, Ordering::SeqCst);
    }

    /// True once a newer config asked the running election to stop.
    pub fn election_restart_requested(&self) -> bool {
        self.restart_election.load(Ordering::SeqCst)
    }

    /// Runs the role's entry until it returns; why it ended.
    fn run_role(&self, role: ServerState) -> QuorumError {
        let Some(ctx) = self.roles.lock().clone() else {
            error!(
                "{}: no database attached to the peer; cannot take the role",
                role
            );
            std::thread::sleep(self.role.tick);
            return QuorumError::NoDatabase;
        };
        let entry = match role {
            ServerState::Leading => LEAD,
            ServerState::Following => FOLLOW,
            _ => OBSERVE,
        };
        entry(self, &ctx)
    }
}

/// A random starting turn (0 if the system has no randomness to give).
fn random_start() -> usize {
    let mut bytes = [0u8; 8];
    let _ = getrandom::getrandom(&mut bytes);
    u64::from_le_bytes(bytes) as usize
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::quorum::flexible::QuorumVerifier;

    #[test]
    fn observers_walk_the_voters_observer_masters_in_turn() {
        let pairs: Vec<(String, String)> = [
            ("server.1", "10.0.0.1:2888:3888"),
            ("server.2", "10.0.0.2:2888:3888"),
            ("server.3", "10.0.0.3:2888:3888"),
            ("server.4", "10.0.0.4:2888:3888:observer"),
        ]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        let verifier = Arc::new(QuorumVerifier::from_pairs(&pairs, false).unwrap());
        let role = RoleSettings {
            tick: Duration::from_millis(100),
            listen_on_all_ips: false,
        };
        let peer = QuorumPeer::new(4, LearnerType::Observer, verifier, 0, 0, 0, role);
        let turns: Vec<(i64, String)> = (0..6)
            .map(|_| {
                let (sid, hp) = peer.next_observer_master(2191).unwrap();
                (sid, hp.to_wire())
            })
            .collect();
        // Every voter (never the observer itself) at the ObserverMaster
        // port, each once per round, in a fixed cycle.
        let mut first_round: Vec<i64> = turns[..3].iter().map(|t| t.0).collect();
        first_round.sort();
        assert_eq!(first_round, vec![1, 2, 3]);
        assert_eq!(turns[..3], turns[3..]);
        assert!(turns
            .iter()
            .all(|(sid, addr)| *addr == format!("10.0.0.{}:2191", sid)));
    }
}
