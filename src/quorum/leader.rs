//! The leader role: discovery (agree on a new epoch with a quorum), sync
//! (bring each learner up to date, NEWLEADER acked by a quorum), then
//! broadcast (serve clients, propose every txn, commit on a quorum of
//! acks), with a ping every half tick and a check every tick that a quorum
//! of learners is still in sync; losing it ends the role (back to
//! LOOKING).
//!
//! Threads: [`lead`] runs on the QuorumPeer main thread (discovery waits,
//! then the tick loop); the LearnerCnxAcceptor thread; one LearnerHandler
//! thread (plus its sender) per learner; the leader's processor threads.
//! They share one [`Leader`]: `discovery` (epoch barriers, its own lock and
//! condvar, see `leader_discovery`), `bcast` (proposals, commits and the
//! forwarding set, see `leader_broadcast`), `learners` (leaf lock).
//!
//! Mirrors: `org.apache.zookeeper.server.quorum.Leader` (lead, shutdown,
//! the learner registry, touch/revalidate, the tick loop).

use std::fmt;
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use log::{error, info, warn};
use parking_lot::{Condvar, Mutex};

use super::auth::sasl_quorum_auth_server::SaslQuorumAuthServer;
use super::commit_processor::Committer;
use super::flexible::QuorumVerifier;
use super::leader_broadcast::Broadcast;
use super::leader_discovery::Discovery;
use super::leader_zookeeper_server::LeaderZooKeeperServer;
use super::learner_cnx_acceptor::LearnerCnxAcceptor;
use super::learner_handler::LearnerPeer;
use super::learner_master::LearnerMaster;
use super::learner_sync_throttler::{LearnerSyncThrottler, SyncType};
use super::quorum_error::QuorumError;
use super::quorum_monitor::LeaderMonitor;
use super::quorum_packet::make_zxid;
use super::quorum_peer::{QuorumPeer, RoleContext, ZabTiming};
use super::quorum_peer_reconfig::{ReconfigSettings, SharedViews};
use super::synced_learner_tracker::SyncedLearnerTracker;
use crate::server::request::Request;
use crate::server::session_tracker::SessionOwner;
use crate::server::zk_database::{ZkDatabase, ACCEPTED_EPOCH_FILE, CURRENT_EPOCH_FILE};
use crate::server::zookeeper_server::ZooKeeperServer;

/// Why a leader phase failed (the role then ends).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LeaderError {
    /// A quorum wait ran past initLimit (the message names which).
    Timeout(String),
    /// A learner is refused (ahead of us, wrong packet, ...).
    Refused(String),
    /// The leader is shutting down.
    Stopped,
    /// The peer is shutting down (the tick loop saw it).
    PeerShutdown,
    /// The leader's threads stopped it while the peer still runs.
    Internal,
    /// No quorum acked NEWLEADER within initLimit; the sids that did.
    NewLeaderNotAcked(String),
    /// A tick found no quorum of synced learners; the sids synced.
    NotSynced(String),
}

impl fmt::Display for LeaderError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LeaderError::Timeout(m) | LeaderError::Refused(m) => f.write_str(m),
            LeaderError::Stopped => f.write_str("leader is shutting down"),
            LeaderError::PeerShutdown => f.write_str("shutting down"),
            LeaderError::Internal => f.write_str("Unexpected internal error"),
            LeaderError::NewLeaderNotAcked(sids) => write!(
                f,
                "Waiting for a quorum of followers, only synced with sids: [ {} ]",
                sids
            ),
            LeaderError::NotSynced(sids) => write!(
                f,
                "Not sufficient followers synced, only synced with sids: [ {} ]",
                sids
            ),
        }
    }
}

impl std::error::Error for LeaderError {}

/// What the leader's threads share.
pub struct Leader {
    /// My sid.
    pub my_id: i64,
    /// Members and quorum rule (the committed config when the role began).
    pub verifier: Arc<QuorumVerifier>,
    /// The peer's committed and last-seen configs (live).
    pub views: SharedViews,
    /// `reconfigEnabled` and where the config files are.
    pub reconfig: ReconfigSettings,
    /// A reconfig this leader committed and activated, for the peer
    /// thread to finish (previous config, designated leader, zxid).
    pub activated: Mutex<Option<(Arc<QuorumVerifier>, i64, i64)>>,
    /// The database (shared with the peer across roles).
    pub db: Arc<ZkDatabase>,
    /// tickTime, initLimit, syncLimit.
    pub timing: ZabTiming,
    /// `zookeeper.forceSnapshotSync` (tests).
    pub force_snap: bool,
    /// Snapshots and diffs sent to observers at once.
    pub snap_throttler: LearnerSyncThrottler,
    pub diff_throttler: LearnerSyncThrottler,
    /// Epoch agreement and the NEWLEADER ack quorum.
    pub discovery: Discovery,
    /// Proposals, commits, toBeApplied, the forwarding set (Java: the
    /// Leader's monitor).
    pub bcast: Mutex<Broadcast>,
    /// Every connected learner (LearnerHandler threads add and remove).
    learners: Mutex<Vec<Arc<LearnerPeer>>>,
    /// Ticks since broadcast began (the tick loop increments).
    pub tick: AtomicI64,
    /// Cleared by shutdown: handlers and waits give up.
    running: AtomicBool,
    /// Set once the leader's server serves (handlers wait before UPTODATE).
    started: Mutex<bool>,
    started_cv: Condvar,
    /// The leader's server once started; taken by shutdown.
    zk: Mutex<Option<Arc<ZooKeeperServer>>>,
    /// Commits go to the CommitProcessor through this.
    committer: Mutex<Option<Committer>>,
    /// Sids for learners that sent no LearnerInfo (negative, decreasing).
    anon_sid: AtomicI64,
    /// When the role began (`mntr`'s leader_uptime).
    started_at: Instant,
    /// Quorum SASL: learners are checked before their first packet.
    pub auth_server: Option<SaslQuorumAuthServer>,
}

impl Leader {
    /// A leader for the peer's current epoch and database.
    pub fn new(peer: &QuorumPeer, ctx: &RoleContext) -> Arc<Leader> {
        let force_snap = ctx.config.force_snapshot_sync;
        let summary = (peer.current_epoch(), ctx.db.last_processed_zxid());
        Arc::new(Leader {
            my_id: peer.my_id,
            verifier: peer.quorum_verifier(),
            views: peer.shared_views(),
            reconfig: peer.reconfig_settings(),
            activated: Mutex::new(None),
            db: Arc::clone(&ctx.db),
            timing: ctx.timing(),
            force_snap,
            snap_throttler: LearnerSyncThrottler::new(
                SyncType::Snap,
                ctx.config.max_concurrent_snap_syncs,
            ),
            diff_throttler: LearnerSyncThrottler::new(
                SyncType::Diff,
                ctx.config.max_concurrent_diff_syncs,
            ),
            discovery: Discovery::new(peer.quorum_verifier(), summary),
            bcast: Mutex::new(Broadcast::new()),
            learners: Mutex::new(Vec::new()),
            tick: AtomicI64::new(0),
            running: AtomicBool::new(true),
            started: Mutex::new(false),
            started_cv: Condvar::new(),
            zk: Mutex::new(None),
            committer: Mutex::new(None),
            auth_server: ctx
                .config
                .quorum_auth
                .as_ref()
                .map(SaslQuorumAuthServer::new),
            anon_sid: AtomicI64::new(-1),
            started_at: Instant::now(),
        })
    }

    /// NEWLEADER's data: the last-seen config (the one this leader
    /// establishes), as text.
    pub fn new_leader_config_text(&self) -> String {
        self.views.lock().last_seen.to_string()
    }

    /// The committed config's version (a learner with a later one is
    /// refused).
    pub fn config_version(&self) -> i64 {
        self.views.lock().committed.version()
    }

    /// Followers (not observers) getting the broadcast whose acks are
    /// recent (`isQuorumSynced`'s view).
    pub fn synced_follower_sids(&self) -> Vec<i64> {
        let tick = self.tick.load(Ordering::SeqCst);
        self.bcast
            .lock()
            .forwarding()
            .iter()
            .filter(|l| !l.is_observer() && l.synced(tick))
            .map(|l| l.sid())
            .collect()
    }

    /// A tracker over the committed config, and the last-seen one while
    /// a reconfig is pending (both must reach a quorum).
    pub fn new_tracker(&self) -> SyncedLearnerTracker {
        let v = self.views.lock();
        let t = SyncedLearnerTracker::new(Arc::clone(&v.committed));
        if v.last_seen.version() > v.committed.version() {
            t.with_next(Arc::clone(&v.last_seen))
        } else {
            t
        }
    }

    /// Connected learners, synced or not.
    pub fn learner_count(&self) -> usize {
        self.learners.lock().len()
    }

    /// Milliseconds since the role began.
    pub fn uptime_ms(&self) -> i64 {
        self.started_at.elapsed().as_millis() as i64
    }

    /// False once the role is ending.
    pub fn is_running(&self) -> bool {
        self.running.load(Ordering::SeqCst)
    }

    /// Whether `sid` votes.
    pub fn is_participant(&self, sid: i64) -> bool {
        self.verifier.is_voter(sid)
    }

    /// A sid for a learner without LearnerInfo.
    pub fn next_anonymous_sid(&self) -> i64 {
        self.anon_sid.fetch_sub(1, Ordering::SeqCst)
    }

    /// A LearnerHandler registers its learner.
    pub fn add_learner(&self, peer: Arc<LearnerPeer>) {
        self.learners.lock().push(peer);
    }

    /// A LearnerHandler is done.
    pub fn remove_learner(&self, peer: &Arc<LearnerPeer>) {
        self.learners.lock().retain(|p| !Arc::ptr_eq(p, peer));
        self.bcast.lock().remove_forwarding(peer);
    }

    /// Ticks allowed for a new learner's first ack: `tick + initLimit + syncLimit`.
    pub fn tick_of_initial_ack_deadline(&self) -> i64 {
        self.tick.load(Ordering::SeqCst)
            + i64::from(self.timing.init_limit)
            + i64::from(self.timing.sync_limit)
    }

    /// Ticks allowed until the next ack: `tick + syncLimit`.
    pub fn tick_of_next_ack_deadline(&self) -> i64 {
        self.tick.load(Ordering::SeqCst) + i64::from(self.timing.sync_limit)
    }

    /// The CommitProcessor's handle (set when the chain starts).
    pub fn set_committer(&self, c: Committer) {
        *self.committer.lock() = Some(c);
    }

    /// Hands a committed request to the CommitProcessor.
    pub fn commit_to_processor(&self, request: Request) {
        if let Some(c) = self.committer.lock().as_ref() {
            c.commit(request);
        }
    }

    /// Blocks a LearnerHandler until the leader serves (`waitForStartup`);
    /// false if the role ended first.
    pub fn wait_for_startup(&self) -> bool {
        let mut started = self.started.lock();
        while !*started {
            if !self.is_running() {
                return false;
            }
            self.started_cv
                .wait_for(&mut started, Duration::from_millis(100));
        }
        true
    }

    /// Session data from a learner's ping (`Leader.touch` via the tracker).
    pub fn touch(&self, session_id: i64, timeout: i32) -> bool {
        match self.zk.lock().as_ref() {
            Some(zk) => zk.session_tracker().touch_session(session_id, timeout),
            None => false,
        }
    }

    /// REVALIDATE: is the session alive (touching it if so)? If so, its
    /// client is now attached through `owner` (the asking learner's link),
    /// and requests through its previous server are refused SESSIONMOVED.
    pub fn revalidate(&self, session_id: i64, timeout: i32, owner: SessionOwner) -> bool {
        let Some(zk) = self.zk.lock().clone() else {
            return false;
        };
        let tracker = zk.session_tracker();
        // Only a global session can be resumed elsewhere (a local one is
        // known to its own server alone).
        tracker.is_global_session(session_id)
            && tracker.touch_session(session_id, timeout)
            && tracker.set_owner(session_id, owner).is_ok()
    }

    /// A learner's forwarded request enters the leader's pipeline.
    pub fn submit_learner_request(&self, request: Request) {
        let zk = self.zk.lock().clone();
        match zk {
            Some(zk) => {
                if !zk.submit_internal(request) {
                    warn!("Dropping a learner request: the leader's pipeline is stopped");
                }
            }
            None => warn!(
                "Dropping a learner request {:?}: the leader is not serving",
                request
            ),
        }
    }

    /// Stops everything the role started (idempotent).
    pub fn shutdown(&self, reason: &dyn fmt::Display, ctx: &RoleContext) {
        if !self.running.swap(false, Ordering::SeqCst) {
            return;
        }
        info!("Shutting down");
        info!("Shutdown called. For the reason {}", reason);
        ctx.serving.set_server(None);
        self.started_cv.notify_all();
        self.discovery.wake_all();
        let learners: Vec<Arc<LearnerPeer>> = self.learners.lock().drain(..).collect();
        for l in learners {
            l.shutdown();
        }
        if let Some(zk) = self.zk.lock().take() {
            zk.shutdown();
        }
        self.committer.lock().take();
    }

    /// Builds and starts the leader's server (`startZkServer`).
    fn start_zk_server(self: &Arc<Self>, ctx: &RoleContext, zxid: i64) -> Arc<ZooKeeperServer> {
        let zk = LeaderZooKeeperServer::create(Arc::clone(self), ctx);
        zk.server_state().hzxid.store(zxid, Ordering::SeqCst);
        self.db.set_last_processed_zxid(zxid);
        zk.startup();
        *self.zk.lock() = Some(Arc::clone(&zk));
        *self.started.lock() = true;
        self.started_cv.notify_all();
        zk
    }

    /// The learners whose acks are recent enough (`LearnerHandler.synced`).
    fn synced_tracker(&self) -> SyncedLearnerTracker {
        let tick = self.tick.load(Ordering::SeqCst);
        let mut t = self.new_tracker();
        t.add_ack(self.my_id);
        for l in self.learners.lock().iter() {
            if l.synced(tick) {
                t.add_ack(l.sid());
            }
        }
        t
    }
}

/// LEADING: runs until the role ends; returns why.
pub fn lead(peer: &QuorumPeer, ctx: &RoleContext) -> QuorumError {
    info!(
        "LEADING - LEADER ELECTION TOOK - {} MS",
        peer.election_took_ms()
    );
    ctx.db.enable_committed_log();
    let qv = peer.quorum_verifier();
    ctx.db
        .init_config_in_zk_database(&qv.to_string(), qv.version());
    ctx.db.kill_dead_sessions();
    if let Err(e) = ctx.db.take_snapshot() {
        error!("Cannot take the leader's initial snapshot: {}", e);
    }
    let leader = Leader::new(peer, ctx);
    let acceptor = match LearnerCnxAcceptor::start(
        Arc::clone(&leader) as Arc<dyn LearnerMaster>,
        &peer.my_quorum_addrs(),
        peer.role_settings().listen_on_all_ips,
        ctx.config.quorum_tls.clone(),
    ) {
        Ok(a) => a,
        Err(e) => return QuorumError::QuorumPort(e),
    };
    let reason = run(&leader, peer, ctx);
    acceptor.stop();
    leader.shutdown(&reason, ctx);
    // Uncommitted txns may be in our log: the next election must see them.
    match ctx.db.load_database() {
        Ok(z) => peer.set_last_logged_zxid(z),
        Err(e) => error!("Reloading the database after leading: {}", e),
    }
    reason
}

/// Discovery, sync, then the tick loop; returns why the role ended.
fn run(leader: &Arc<Leader>, peer: &QuorumPeer, ctx: &RoleContext) -> QuorumError {
    match discover_and_sync(leader, peer, ctx) {
        Ok(()) => tick_loop(leader, peer).into(),
        Err(e) => e,
    }
}

/// Discovery and sync: the epoch agreed, NEWLEADER acked by a quorum,
/// the leader's server serving.
fn discover_and_sync(
    leader: &Arc<Leader>,
    peer: &QuorumPeer,
    ctx: &RoleContext,
) -> Result<(), QuorumError> {
    let epoch = leader.get_epoch_to_propose(leader.my_id, peer.accepted_epoch())?;
    peer.write_accepted_epoch(&ctx.db, epoch)
        .map_err(|e| QuorumError::WriteEpoch(ACCEPTED_EPOCH_FILE, e))?;
    let zxid = make_zxid(epoch, 0);
    establish_config_version(peer, zxid);
    leader.bcast.lock().start_epoch(zxid);
    leader.discovery.set_new_leader_zxid(zxid);
    leader.wait_for_epoch_ack(
        leader.my_id,
        (peer.current_epoch(), ctx.db.last_processed_zxid()),
    )?;
    peer.write_current_epoch(&ctx.db, epoch)
        .map_err(|e| QuorumError::WriteEpoch(CURRENT_EPOCH_FILE, e))?;
    if let Err(e) = leader.wait_for_new_leader_ack(leader.my_id, zxid) {
        let synced = leader.discovery.new_leader_ack_text();
        warn!("{}", e);
        return Err(LeaderError::NewLeaderNotAcked(synced).into());
    }
    if peer.is_reconfig_enabled() {
        // NEWLEADER carried the last-seen config and a quorum acked it:
        // it is the committed config from now on.
        let last_seen = (*peer.last_seen_quorum_verifier()).clone();
        peer.process_reconfig(last_seen, Some(peer.my_id), Some(zxid), true);
    } else {
        info!("Dynamic reconfig feature is disabled, skip designatedLeader calculation and reconfig processing.");
    }
    let zk = leader.start_zk_server(ctx, zxid);
    peer.update_election_vote(epoch);
    zk.set_role_monitor(Arc::new(LeaderMonitor::new(leader, peer)));
    if ctx.config.leader_serves {
        ctx.serving.set_server(Some(zk));
    } else {
        info!("leaderServes=no: the leader takes no client connections");
        ctx.serving.set_server_without_clients(Some(zk));
    }
    peer.set_last_logged_zxid(zxid);
    info!(
        "LEADING: epoch {} established, serving (zxid 0x{:x})",
        epoch, zxid
    );
    Ok(())
}

/// With reconfig on, a config still at version 0 (as the operator wrote
/// it) gets the new epoch's first zxid as its version, so an established
/// config outranks any initial config of a server trying to join. The
/// new version becomes last-seen here, goes out with NEWLEADER, and is
/// committed once a quorum acked NEWLEADER.
fn establish_config_version(peer: &QuorumPeer, zxid: i64) {
    if !peer.is_reconfig_enabled() {
        return;
    }
    let committed = peer.quorum_verifier();
    if committed.version() != 0 || peer.last_seen_quorum_verifier().version() != 0 {
        return;
    }
    let mut next = (*committed).clone();
    next.members_mut().version = zxid;
    peer.set_last_seen_quorum_verifier(next, true);
}

/// A ping every half tick; every tick, a quorum of synced learners or the
/// role ends (why).
fn tick_loop(leader: &Arc<Leader>, peer: &QuorumPeer) -> LeaderError {
    let half = leader.timing.tick / 2;
    let mut tick_skip = true;
    let mut next = Instant::now() + half;
    loop {
        let now = Instant::now();
        if next > now {
            thread::sleep(next - now);
        }
        next += half;
        if !peer.is_running() {
            return LeaderError::PeerShutdown;
        }
        if !leader.is_running() {
            return LeaderError::Internal;
        }
        if !tick_skip {
            leader.tick.fetch_add(1, Ordering::SeqCst);
        }
        let activated = leader.activated.lock().take();
        if let Some((prev, designated, zxid)) = activated {
            peer.leader_activated(&prev, designated, zxid);
            if designated != peer.my_id {
                info!(
                    "Committed a reconfiguration; server {} leads from now on",
                    designated
                );
            }
        }
        let synced = leader.synced_tracker();
        if !tick_skip && !synced.has_all_quorums() {
            return LeaderError::NotSynced(synced.ack_set_text());
        }
        tick_skip = !tick_skip;
        let last_proposed = leader.bcast.lock().last_proposed();
        let learners: Vec<Arc<LearnerPeer>> = leader.learners.lock().clone();
        for l in learners {
            l.ping(last_proposed);
        }
    }
}
