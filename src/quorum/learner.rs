//! The learner's side of the quorum port, shared by followers and
//! observers: dialing the leader (bounded retries), the epoch handshake
//! (FOLLOWERINFO/OBSERVERINFO → LEADERINFO → ACKEPOCH), session
//! revalidation and ping replies. The leader link itself (bare jute
//! `QuorumPacket` records in both directions, no length prefix) is in
//! `learner_link.rs`; the synchronization phase (DIFF/TRUNC/SNAP up to
//! UPTODATE) is in [`super::learner_sync`].
//!
//! Threads: the QuorumPeer main thread runs the role (connect, register,
//! sync, then the read loop in `follower`/`observer`) and is the only
//! reader of the link. Writes come from several threads (the role thread,
//! the SyncThread sending ACKs, connection threads forwarding requests and
//! revalidations), so the writer is behind a mutex and every packet is
//! flushed whole. A failed write shuts the socket down, which ends the
//! role thread's read loop.
//!
//! Mirrors: `org.apache.zookeeper.server.quorum.Learner` (connectToLeader,
//! registerWithLeader, readPacket/writePacket, ping, validateSession,
//! revalidate, request).

use std::collections::HashMap;
use std::fmt;
use std::io::{self, BufReader, BufWriter, Write};
use std::net::{Shutdown, SocketAddr, TcpStream};
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use log::{error, info, warn};
use parking_lot::Mutex;

use super::auth::sasl_quorum_auth_learner::SaslQuorumAuthLearner;
use super::learner_sync::SyncOutcome;
use super::learner_zookeeper_server::LearnerZooKeeperServer;
use super::observer_master::{self, ObserverMasterSettings};
use super::quorum_error::QuorumError;
use super::quorum_monitor::LearnerMonitor;
use super::quorum_packet::{self, packet, type_name};
use super::quorum_peer::{QuorumPeer, RoleContext};
use super::unified_socket::QuorumSocket;
use super::vote::{epoch_of_zxid, make_zxid};
use crate::config::quorum_tls::QuorumTls;
use crate::config::server_config::ServerConfig;
use crate::jute::data::Id;
use crate::jute::quorum::QuorumPacket;
use crate::jute::{self, InputArchive, OutputArchive, Record};
use crate::server::protocol_trace::{self, Direction};
use crate::server::zk_database::{ZkDatabase, ACCEPTED_EPOCH_FILE, CURRENT_EPOCH_FILE};
use crate::server::zookeeper_server::ZooKeeperServer;

/// Java's `ExitCode.QUORUM_PACKET_ERROR`: an unexpected first sync packet
/// or a TRUNC that cannot be done.
pub const EXIT_QUORUM_PACKET_ERROR: i32 = 13;
/// Java's `ExitCode.UNMATCHED_TXN_COMMIT`: a COMMIT that is not for the
/// oldest pending proposal.
pub const EXIT_UNMATCHED_TXN_COMMIT: i32 = 12;

/// Why a learner role ended.
#[derive(Debug)]
pub enum LearnerError {
    /// The socket failed (connect, read, write, timeout).
    Io(String, io::Error),
    /// The leader sent something the protocol does not allow here.
    Protocol(String),
    /// A packet could not be decoded.
    Decode(String, jute::Error),
    /// The local database could not be changed (log, snapshot, epochs);
    /// names the step.
    Persistence(&'static str, crate::persistence::Error),
    /// The peer is shutting down.
    Stopped,
    /// A reconfig the leader activated changed my role or my leader.
    Reconfigured,
}

impl fmt::Display for LearnerError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LearnerError::Io(what, e) => write!(f, "{}: {}", what, e),
            LearnerError::Protocol(what) => write!(f, "{}", what),
            LearnerError::Decode(what, e) => write!(f, "cannot decode {}: {}", what, e),
            LearnerError::Persistence(what, e) => write!(f, "{}: {}", what, e),
            LearnerError::Stopped => write!(f, "the peer is shutting down"),
            LearnerError::Reconfigured => write!(f, "changes proposed in reconfig"),
        }
    }
}

impl std::error::Error for LearnerError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            LearnerError::Io(_, e) => Some(e),
            LearnerError::Decode(_, e) => Some(e),
            LearnerError::Persistence(_, e) => Some(e),
            LearnerError::Protocol(_) | LearnerError::Stopped | LearnerError::Reconfigured => None,
        }
    }
}

/// Timing and identity a learner needs (from zoo.cfg).
#[derive(Debug, Clone)]
pub struct LearnerSettings {
    /// My sid.
    pub my_id: i64,
    /// `tickTime` in ms.
    pub tick_ms: u64,
    /// `initLimit` ticks: connecting and syncing.
    pub init_limit: u32,
    /// `syncLimit` ticks: silence tolerated once synced.
    pub sync_limit: u32,
    /// `connectToLearnerMasterLimit` ticks (0 = use initLimit).
    pub connect_limit: u32,
    /// The version of my quorum verifier (LearnerInfo.configVersion).
    pub config_version: i64,
    /// My quorum verifier as text: `/zookeeper/config` after every sync.
    pub config_text: String,
    /// Pause between connection attempts
    /// (`zookeeper.leaderConnectDelayDuringRetryMs`, default 100).
    pub connect_retry_delay: Duration,
    /// `sslQuorum`: the leader is dialed with TLS.
    pub tls: Option<Arc<QuorumTls>>,
}

impl LearnerSettings {
    /// The socket timeout while connecting and syncing.
    pub fn init_timeout(&self) -> Duration {
        Duration::from_millis(self.tick_ms.saturating_mul(self.init_limit.max(1) as u64))
    }

    /// The socket timeout once NEWLEADER is acknowledged.
    pub fn sync_timeout(&self) -> Duration {
        Duration::from_millis(self.tick_ms.saturating_mul(self.sync_limit.max(1) as u64))
    }

    /// The total time allowed for dialing the leader.
    pub fn connect_timeout(&self) -> Duration {
        let ticks = if self.connect_limit > 0 {
            self.connect_limit
        } else {
            self.init_limit.max(1)
        };
        Duration::from_millis(self.tick_ms.saturating_mul(ticks as u64))
    }
}

/// Where `acceptedEpoch` and `currentEpoch` live. The peer implements it
/// so its votes see the new values; [`FileEpochs`] is a standalone version
/// over the database's files.
pub trait EpochStore: Send + Sync {
    /// `acceptedEpoch`.
    fn accepted_epoch(&self) -> i64;
    /// `currentEpoch`.
    fn current_epoch(&self) -> i64;
    /// Writes `acceptedEpoch` (file first, then memory).
    fn set_accepted_epoch(&self, epoch: i64) -> Result<(), LearnerError>;
    /// Writes `currentEpoch` (file first, then memory).
    fn set_current_epoch(&self, epoch: i64) -> Result<(), LearnerError>;
    /// A config the leader proposes (NEWLEADER's data, a reconfig
    /// PROPOSAL): remembered as last-seen. Ignored by default.
    fn proposed_config(&self, _text: &str) {}
    /// `reconfigEnabled` (then the leader's config replaces mine).
    fn reconfig_enabled(&self) -> bool {
        false
    }
    /// A config the leader activates (UPTODATE after NEWLEADER, a
    /// COMMITANDACTIVATE / INFORMANDACTIVATE with the designated leader):
    /// true when my role must end (my role or my leader changed).
    /// Ignored by default.
    fn activate_config(&self, _text: &str, _leader: Option<i64>, _zxid: Option<i64>) -> bool {
        false
    }
}

/// Epochs kept in memory and written to the snap dir's epoch files.
pub struct FileEpochs {
    db: Arc<ZkDatabase>,
    accepted: AtomicI64,
    current: AtomicI64,
}

impl FileEpochs {
    /// Starts from the given values (as loaded at startup).
    pub fn new(db: Arc<ZkDatabase>, current: i64, accepted: i64) -> FileEpochs {
        FileEpochs {
            db,
            accepted: AtomicI64::new(accepted),
            current: AtomicI64::new(current),
        }
    }
}

impl EpochStore for FileEpochs {
    fn accepted_epoch(&self) -> i64 {
        self.accepted.load(Ordering::SeqCst)
    }
    fn current_epoch(&self) -> i64 {
        self.current.load(Ordering::SeqCst)
    }
    fn set_accepted_epoch(&self, epoch: i64) -> Result<(), LearnerError> {
        self.db
            .write_epoch(ACCEPTED_EPOCH_FILE, epoch)
            .map_err(|e| LearnerError::Persistence("writing acceptedEpoch", e))?;
        self.accepted.store(epoch, Ordering::SeqCst);
        Ok(())
    }
    fn set_current_epoch(&self, epoch: i64) -> Result<(), LearnerError> {
        self.db
            .write_epoch(CURRENT_EPOCH_FILE, epoch)
            .map_err(|e| LearnerError::Persistence("writing currentEpoch", e))?;
        self.current.store(epoch, Ordering::SeqCst);
        Ok(())
    }
}

/// The peer's epochs: written through the QuorumPeer so its votes see them.
pub struct PeerEpochs<'a> {
    /// The peer (holds the values the votes carry).
    pub peer: &'a QuorumPeer,
    /// Where the files live.
    pub db: &'a ZkDatabase,
}

impl EpochStore for PeerEpochs<'_> {
    fn accepted_epoch(&self) -> i64 {
        self.peer.accepted_epoch()
    }
    fn current_epoch(&self) -> i64 {
        self.peer.current_epoch()
    }
    fn set_accepted_epoch(&self, epoch: i64) -> Result<(), LearnerError> {
        self.peer
            .write_accepted_epoch(self.db, epoch)
            .map_err(|e| LearnerError::Persistence("writing acceptedEpoch", e))
    }
    fn set_current_epoch(&self, epoch: i64) -> Result<(), LearnerError> {
        self.peer
            .write_current_epoch(self.db, epoch)
            .map_err(|e| LearnerError::Persistence("writing currentEpoch", e))
    }
    fn reconfig_enabled(&self) -> bool {
        self.peer.is_reconfig_enabled()
    }
    fn proposed_config(&self, text: &str) {
        match self.peer.config_from_string(text) {
            Ok(qv) => self.peer.set_last_seen_quorum_verifier(qv, true),
            Err(e) => warn!("Ignoring a proposed config the leader sent: {}", e),
        }
    }
    fn activate_config(&self, text: &str, leader: Option<i64>, zxid: Option<i64>) -> bool {
        match self.peer.config_from_string(text) {
            Ok(qv) => self.peer.process_reconfig(qv, leader, zxid, true),
            Err(e) => {
                warn!("Ignoring a config the leader activated: {}", e);
                false
            }
        }
    }
}

/// The learner settings of a peer: its timing, its quorum verifier's
/// version, `connectToLearnerMasterLimit` from zoo.cfg and
/// `zookeeper.leaderConnectDelayDuringRetryMs` (default 100).
pub fn settings_of(peer: &QuorumPeer, ctx: &RoleContext) -> LearnerSettings {
    let timing = ctx.timing();
    LearnerSettings {
        my_id: peer.my_id,
        tick_ms: timing.tick.as_millis() as u64,
        init_limit: timing.init_limit.max(1) as u32,
        sync_limit: timing.sync_limit.max(1) as u32,
        connect_limit: ctx.config.connect_to_learner_master_limit,
        config_version: peer.quorum_verifier().version(),
        config_text: peer.config_text(),
        connect_retry_delay: Duration::from_millis(ctx.config.leader_connect_delay_during_retry_ms),
        tls: ctx.config.quorum_tls.clone(),
    }
}

/// Runs `role` with a context built from the peer, then fast-forwards the
/// database over what the role logged and records its last zxid for the
/// next election's vote.
pub fn run_as_peer(
    peer: &QuorumPeer,
    ctx: &RoleContext,
    role: fn(&LearnerContext<'_>) -> LearnerError,
) -> QuorumError {
    run_as_peer_with(peer, ctx, None, role)
}

/// As [`run_as_peer`], connecting to `master` (an observer's
/// ObserverMaster: sid and address) instead of the elected leader.
pub fn run_as_peer_with(
    peer: &QuorumPeer,
    ctx: &RoleContext,
    master: Option<(i64, SocketAddr)>,
    role: fn(&LearnerContext<'_>) -> LearnerError,
) -> QuorumError {
    let leader_addrs: Vec<SocketAddr> = match master {
        Some((_, addr)) => vec![addr],
        None => peer
            .leader_quorum_addrs()
            .iter()
            .filter_map(|hp| hp.resolve().ok())
            .collect(),
    };
    let epochs = PeerEpochs { peer, db: &ctx.db };
    let is_running = || peer.is_running();
    let serving = Arc::clone(&ctx.serving);
    let monitor = Arc::new(LearnerMonitor::new(peer));
    let publish = move |server: Option<Arc<ZooKeeperServer>>| {
        if let Some(zk) = &server {
            zk.set_role_monitor(monitor.clone());
            // Synced: currentEpoch is the leader's new epoch now.
            peer.update_election_vote(peer.current_epoch());
        }
        serving.set_server(server)
    };
    let leader_sid = master.map_or_else(|| peer.current_vote().id, |(sid, _)| sid);
    let learner = LearnerContext {
        settings: settings_of(peer, ctx),
        leader_addrs,
        leader_sid,
        auth: (ctx.config.quorum_auth.as_ref())
            .map(|c| (SaslQuorumAuthLearner::new(c), peer.member_host(leader_sid))),
        db: Arc::clone(&ctx.db),
        config: ctx.config.server.clone(),
        epochs: &epochs,
        is_running: &is_running,
        publish: &publish,
        observer_master: observer_master::settings_of(peer, ctx),
    };
    let reason = role(&learner);
    // Proposals logged but not committed belong to the history the next
    // election compares (Java's shutdown fast-forwards the database).
    match ctx.db.fast_forward_database() {
        Ok(zxid) => peer.set_last_logged_zxid(zxid),
        Err(e) => {
            error!("Error updating DB after the role: {}", e);
            peer.set_last_logged_zxid(ctx.db.last_processed_zxid());
        }
    }
    reason.into()
}

#[path = "learner_link.rs"]
mod link;
pub use link::{request_packet, LeaderLink, LeaderWriter};

/// What a learner role needs. [`super::follower::follow_leader`] and
/// [`super::observer::observe_leader`] (the peer's FOLLOW/OBSERVE entries)
/// build one from the QuorumPeer and its RoleContext; tests build one over
/// a scripted leader. The role returns when it ends (always with the
/// reason), after its server is withdrawn and shut down.
pub struct LearnerContext<'a> {
    /// Ids, limits and timeouts.
    pub settings: LearnerSettings,
    /// The leader's quorum address(es), from the elected vote.
    pub leader_addrs: Vec<SocketAddr>,
    /// The elected leader's sid (for log lines).
    pub leader_sid: i64,
    /// Quorum SASL to the leader, with the leader's host name (for
    /// `_HOST` in the service principal); None without quorum SASL.
    pub auth: Option<(SaslQuorumAuthLearner, String)>,
    /// The peer's database (kept across roles).
    pub db: Arc<ZkDatabase>,
    /// The server settings (timeouts, snapCount, whitelist...).
    pub config: ServerConfig,
    /// `acceptedEpoch` / `currentEpoch`.
    pub epochs: &'a dyn EpochStore,
    /// False once the peer shuts down.
    pub is_running: &'a (dyn Fn() -> bool + Sync),
    /// Publishes (Some) or withdraws (None) the server answering clients.
    pub publish: &'a (dyn Fn(Option<Arc<ZooKeeperServer>>) + Sync),
    /// A follower with `observerMasterPort` serves observers with these.
    pub observer_master: Option<ObserverMasterSettings>,
}

/// What followers and observers share around their broadcast phase:
/// connect and sync with `info_type` (FOLLOWERINFO/OBSERVERINFO), start
/// the role's server with `start`, publish it to clients, run `serve`
/// until the role ends, then withdraw and stop the server. `doing` names
/// the role in log lines ("following").
pub fn run_learner_role<S>(
    ctx: &LearnerContext<'_>,
    info_type: i32,
    doing: &str,
    start: impl FnOnce(&LeaderLink) -> io::Result<S>,
    base: impl Fn(&S) -> &LearnerZooKeeperServer,
    serve: impl FnOnce(&mut LeaderLink, &S, SyncOutcome) -> LearnerError,
) -> LearnerError {
    let started = Instant::now();
    let (mut link, outcome) = match connect_and_sync(ctx, info_type) {
        Ok(x) => x,
        Err(e) => {
            warn!("Exception when {} the leader: {}", doing, e);
            return e;
        }
    };
    let server = match start(&link) {
        Ok(s) => s,
        Err(e) => {
            link.close();
            return LearnerError::Io(format!("starting the threads for {}", doing), e);
        }
    };
    info!(
        "Synced with leader {} in {} ms; serving",
        ctx.leader_sid,
        started.elapsed().as_millis()
    );
    (ctx.publish)(Some(Arc::clone(&base(&server).zks)));
    let reason = serve(&mut link, &server, outcome);
    warn!("Exception when {} the leader: {}", doing, reason);
    (ctx.publish)(None);
    link.close();
    base(&server).shutdown();
    info!(
        "Disconnected from leader (with address: {}). Was connected for {}ms.",
        link.addr,
        started.elapsed().as_millis()
    );
    reason
}

/// The broadcast phase's read loop: each packet goes to `process` until
/// the link fails, `process` fails, or the peer stops.
pub fn read_until_end(
    ctx: &LearnerContext<'_>,
    link: &mut LeaderLink,
    mut process: impl FnMut(&LeaderLink, &QuorumPacket) -> Result<(), LearnerError>,
) -> LearnerError {
    while (ctx.is_running)() {
        let qp = match link.read_packet() {
            Ok(qp) => qp,
            Err(e) => return e,
        };
        if let Err(e) = process(link, &qp) {
            return e;
        }
    }
    LearnerError::Stopped
}

/// The broadcast-phase packets followers and observers handle alike
/// (PING, REVALIDATE, SYNC, a late UPTODATE); `Ok(false)` for the others.
/// `role` names the role in log lines ("Follower").
pub fn process_common_packet(
    link: &LeaderLink,
    server: &LearnerZooKeeperServer,
    qp: &QuorumPacket,
    role: &str,
) -> Result<bool, LearnerError> {
    match qp.r#type {
        quorum_packet::PING => link.write_packet(&ping_reply(qp, &server.touch_snapshot()))?,
        quorum_packet::REVALIDATE => {
            let (session_id, valid) = parse_revalidate_reply(qp.data.as_deref())?;
            server.finish_revalidation(session_id, valid);
        }
        quorum_packet::SYNC => server.sync(),
        quorum_packet::UPTODATE => error!("Received an UPTODATE message after {} started", role),
        _ => return Ok(false),
    }
    Ok(true)
}

/// Connects, registers with `info_type` (FOLLOWERINFO/OBSERVERINFO) and
/// runs the sync phase; returns the link and what sync left to finish.
pub fn connect_and_sync(
    ctx: &LearnerContext<'_>,
    info_type: i32,
) -> Result<(LeaderLink, SyncOutcome), LearnerError> {
    let sock = connect_to_leader(&ctx.leader_addrs, &ctx.settings)?;
    let sock = match ctx.settings.tls.as_ref().filter(|t| t.ssl_quorum) {
        Some(tls) => QuorumSocket::dial_tls(sock, tls, ctx.settings.init_timeout())
            .map_err(|e| LearnerError::Io("TLS handshake with the leader".into(), e))?,
        None => QuorumSocket::plain(sock),
    };
    if let Some((auth, host)) = &ctx.auth {
        (auth.authenticate_socket(&sock, host, ctx.settings.init_timeout()))
            .map_err(|e| LearnerError::Protocol(e.to_string()))?;
    }
    let mut link = LeaderLink::new(sock, ctx.leader_sid, ctx.settings.init_timeout())?;
    let last_zxid = ctx.db.last_processed_zxid();
    let new_epoch_zxid =
        register_with_leader(&mut link, info_type, &ctx.settings, ctx.epochs, last_zxid)?;
    let new_epoch = epoch_of_zxid(new_epoch_zxid);
    if new_epoch < ctx.epochs.accepted_epoch() {
        error!(
            "Proposed leader epoch {:x} is less than our accepted epoch {:x}",
            new_epoch,
            ctx.epochs.accepted_epoch()
        );
        return Err(LearnerError::Protocol(
            "Error: Epoch of leader is lower".into(),
        ));
    }
    let outcome = super::learner_sync::sync_with_leader(
        &mut link,
        &ctx.db,
        ctx.epochs,
        &ctx.settings,
        new_epoch_zxid,
        ctx.is_running,
    )?;
    Ok((link, outcome))
}

/// Dials the leader's quorum address(es): up to 5 attempts per address
/// within `settings.connect_timeout()`, pausing between attempts; the
/// first address that answers wins.
pub fn connect_to_leader(
    addrs: &[SocketAddr],
    settings: &LearnerSettings,
) -> Result<TcpStream, LearnerError> {
    let started = Instant::now();
    let budget = settings.connect_timeout();
    let mut last_error =
        io::Error::new(io::ErrorKind::NotFound, "the leader has no quorum address");
    for tries in 0..5 {
        for addr in addrs {
            let remaining = budget.saturating_sub(started.elapsed());
            if remaining.is_zero() {
                error!("connectToLeader exceeded on retries.");
                return Err(LearnerError::Io(
                    format!("Failed connect to {}", addr),
                    last_error,
                ));
            }
            match TcpStream::connect_timeout(addr, remaining) {
                Ok(sock) => {
                    info!("Successfully connected to leader, using address: {}", addr);
                    return Ok(sock);
                }
                Err(e) => {
                    let remaining = budget.saturating_sub(started.elapsed());
                    warn!(
                        "Unexpected exception, tries={}, remaining init limit={}, connecting to {}: {}",
                        tries,
                        remaining.as_millis(),
                        addr,
                        e
                    );
                    last_error = e;
                }
            }
        }
        if budget.saturating_sub(started.elapsed()) <= settings.connect_retry_delay {
            break;
        }
        thread::sleep(settings.connect_retry_delay);
    }
    Err(LearnerError::Io(
        "Failed connect to the leader".into(),
        last_error,
    ))
}

/// What the learner answers to LEADERINFO (pure: Learner.registerWithLeader).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EpochReply {
    /// `acceptedEpoch` must be written with the new epoch first.
    pub accept_new_epoch: bool,
    /// The int in ACKEPOCH: my currentEpoch, or -1 if I had already
    /// accepted this epoch.
    pub reported_epoch: i32,
}

/// Decides the ACKEPOCH for a leader proposing `new_epoch`; an epoch below
/// the one I accepted is refused.
pub fn epoch_reply(
    new_epoch: i64,
    accepted: i64,
    current: i64,
) -> Result<EpochReply, LearnerError> {
    if new_epoch > accepted {
        Ok(EpochReply {
            accept_new_epoch: true,
            reported_epoch: current as i32,
        })
    } else if new_epoch == accepted {
        Ok(EpochReply {
            accept_new_epoch: false,
            reported_epoch: -1,
        })
    } else {
        Err(LearnerError::Protocol(format!(
            "Leaders epoch, {} is less than accepted epoch, {}",
            new_epoch, accepted
        )))
    }
}

/// Sends FOLLOWERINFO/OBSERVERINFO, answers LEADERINFO with ACKEPOCH and
/// returns the new epoch's first zxid. `last_logged_zxid` is what ACKEPOCH
/// reports (the database's last zxid).
pub fn register_with_leader(
    link: &mut LeaderLink,
    info_type: i32,
    settings: &LearnerSettings,
    epochs: &dyn EpochStore,
    last_logged_zxid: i64,
) -> Result<i64, LearnerError> {
    let info = quorum_packet::learner_info_data(settings.my_id, settings.config_version);
    let zxid = make_zxid(epochs.accepted_epoch(), 0);
    link.write_packet(&packet(info_type, zxid, Some(info)))?;
    let qp = link.read_packet()?;
    let new_epoch = epoch_of_zxid(qp.zxid);
    match qp.r#type {
        quorum_packet::LEADERINFO => {
            let reply = epoch_reply(new_epoch, epochs.accepted_epoch(), epochs.current_epoch())?;
            if reply.accept_new_epoch {
                epochs.set_accepted_epoch(new_epoch)?;
            }
            let data = reply.reported_epoch.to_be_bytes().to_vec();
            link.write_packet(&packet(
                quorum_packet::ACKEPOCH,
                last_logged_zxid,
                Some(data),
            ))?;
            Ok(make_zxid(new_epoch, 0))
        }
        quorum_packet::NEWLEADER => {
            // A pre-Zab-1.0 leader: no epoch handshake.
            if new_epoch > epochs.accepted_epoch() {
                epochs.set_accepted_epoch(new_epoch)?;
            }
            Ok(qp.zxid)
        }
        other => {
            error!("First packet should have been NEWLEADER");
            Err(LearnerError::Protocol(format!(
                "First packet should have been NEWLEADER, got {}",
                type_name(other)
            )))
        }
    }
}

/// The PING reply: the leader's packet echoed with (sessionId, timeout)
/// for every session touched since the last ping.
pub fn ping_reply(qp: &QuorumPacket, touched: &HashMap<i64, i32>) -> QuorumPacket {
    let pairs: Vec<(i64, i32)> = touched
        .iter()
        .map(|(id, timeout)| (*id, *timeout))
        .collect();
    let data = quorum_packet::encode_session_touches(&pairs);
    QuorumPacket {
        r#type: qp.r#type,
        zxid: qp.zxid,
        data: Some(data),
        authinfo: qp.authinfo.clone(),
    }
}

/// Decodes a REVALIDATE reply: (sessionId, valid).
pub fn parse_revalidate_reply(data: Option<&[u8]>) -> Result<(i64, bool), LearnerError> {
    quorum_packet::decode_revalidate_reply(data).ok_or_else(|| {
        LearnerError::Protocol(format!(
            "REVALIDATE reply of {} bytes",
            data.map_or(0, <[u8]>::len)
        ))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn epoch_reply_follows_the_accepted_epoch() {
        assert_eq!(
            epoch_reply(5, 4, 3).unwrap(),
            EpochReply {
                accept_new_epoch: true,
                reported_epoch: 3
            }
        );
        assert_eq!(
            epoch_reply(5, 5, 4).unwrap(),
            EpochReply {
                accept_new_epoch: false,
                reported_epoch: -1
            }
        );
        assert!(epoch_reply(4, 5, 5).is_err());
    }

    #[test]
    fn request_packet_layout() {
        let auth = vec![Id {
            scheme: "ip".into(),
            id: "127.0.0.1".into(),
        }];
        let qp = request_packet(0x0102_0304_0506_0708, 7, 1, &[9, 9], &auth);
        assert_eq!(qp.r#type, quorum_packet::REQUEST);
        assert_eq!(qp.zxid, -1);
        assert_eq!(
            qp.data.unwrap(),
            vec![1, 2, 3, 4, 5, 6, 7, 8, 0, 0, 0, 7, 0, 0, 0, 1, 9, 9]
        );
        assert_eq!(qp.authinfo, auth);
    }

    #[test]
    fn ping_reply_lists_touched_sessions() {
        let ping = packet(quorum_packet::PING, 0x1_0000_0003, None);
        let touched: HashMap<i64, i32> = [(0x11, 3000)].into_iter().collect();
        let reply = ping_reply(&ping, &touched);
        assert_eq!(reply.zxid, 0x1_0000_0003);
        assert_eq!(
            reply.data.unwrap(),
            vec![0, 0, 0, 0, 0, 0, 0, 0x11, 0, 0, 0x0b, 0xb8]
        );
        assert_eq!(
            ping_reply(&ping, &HashMap::new()).data.unwrap(),
            Vec::<u8>::new()
        );
    }

    #[test]
    fn revalidate_reply_parsing() {
        let mut data = 0x42i64.to_be_bytes().to_vec();
        data.push(1);
        assert_eq!(parse_revalidate_reply(Some(&data)).unwrap(), (0x42, true));
        data[8] = 0;
        assert_eq!(parse_revalidate_reply(Some(&data)).unwrap(), (0x42, false));
        assert!(parse_revalidate_reply(Some(&data[..8])).is_err());
        assert!(parse_revalidate_reply(None).is_err());
    }

    #[test]
    fn timeouts_from_ticks() {
        let s = LearnerSettings {
            my_id: 1,
            tick_ms: 100,
            init_limit: 10,
            sync_limit: 5,
            connect_limit: 0,
            config_version: 0,
            config_text: String::new(),
            connect_retry_delay: Duration::from_millis(100),
            tls: None,
        };
        assert_eq!(s.init_timeout(), Duration::from_millis(1000));
        assert_eq!(s.sync_timeout(), Duration::from_millis(500));
        assert_eq!(s.connect_timeout(), Duration::from_millis(1000));
        assert_eq!(
            LearnerSettings {
                connect_limit: 3,
                ..s
            }
            .connect_timeout(),
            Duration::from_millis(300)
        );
    }
}
