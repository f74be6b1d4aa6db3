//! The server object: owns the database, the session tracker and the
//! processor chain, and is what connections talk to.
//!
//! Startup: `new` loads the database from disk and builds the session
//! tracker (seeded with the sessions found on disk), after removing the
//! ephemerals of sessions that are gone, and starts a snapshot of what it
//! loaded in the background; `startup` starts the chain
//! Prep -> Sync -> Final, the expiry thread, the container manager and the
//! autopurge timer (Java starts that one in `QuorumPeerMain`).
//! Connections then call `process_connect_request` once and
//! `process_packet` for every later frame, from their own threads.
//!
//! Quorum roles: [`ZooKeeperServer::for_role`] builds a server over an
//! already loaded database with a [`ServerRole`] that supplies the
//! processor chain (leader: LeaderRequest → Prep → Proposal → Commit →
//! ToBeApplied → Final; follower: FollowerRequest → Commit → Final; ...)
//! and says which background duties (session expiry, containers, purge)
//! run and how a reconnecting session is revalidated. The standalone
//! server is the [`StandaloneRole`].
//!
//! Threads: every public method may be called from any connection thread.
//! `process_packet` may *block* the calling thread while more than
//! `globalOutstandingLimit` requests are in the pipeline (backpressure:
//! Java stops reading that socket instead). Nothing here blocks on a
//! socket: replies are queued through `ServerCnxn`.
//!
//! Mirrors: `org.apache.zookeeper.server.ZooKeeperServer`.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;

use log::{debug, error, info, warn};
use parking_lot::Mutex;

use super::auth::sasl_server::ZooKeeperSaslServer;
use super::auth::sasl_server_callback_handler::SaslServerCallbackHandler;
use super::auth::{acl, AuthOutcome};
use super::container_manager::ContainerManager;
use super::ephemeral_type::set_extended_types_enabled;
use super::final_request_processor::{self, generate_passwd, FinalRequestProcessor};
use super::prep_request_processor::{
    accepted_from, is_valid_op, prepare, PrepRequestProcessor, PrepSubmitter,
};
use super::request::{payload_pool, Origin, PendingToken, Request};
use super::request_processor::RequestProcessor;
use super::role_monitor::RoleMonitor;
use super::server_cnxn::{CloseReason, ServerCnxn};
use super::server_state::ServerState;
use super::session_tracker::SessionTracker;
use super::watch::EventAclFilter;
use super::zk_database::ZkDatabase;
use crate::config::server_config::ServerConfig;
use crate::jute::data::{Acl, Id};
use crate::jute::proto::{
    AuthPacket, ConnectRequest, ConnectResponse, GetSaslRequest, ReplyHeader, RequestHeader,
    SetSaslResponse,
};
use crate::jute::txn::CreateSessionTxn;
use crate::jute::{self};
use crate::keeper_exception::Code;
use crate::persistence::datadir_cleanup_manager::DatadirCleanupManager;
use crate::zoo_defs::{op_code, perms};

/// addauth, SASL and the enforce.auth check (an `impl` of this type).
#[path = "zookeeper_server_auth.rs"]
mod auth_requests;

pub use super::startup_error::StartupError;

/// How long shutdown waits for a background snapshot to complete.
const SNAPSHOT_WAIT_AT_SHUTDOWN: std::time::Duration = std::time::Duration::from_secs(60);

/// The server id a standalone server puts in its session ids.
const STANDALONE_SERVER_ID: i64 = 1;

#[path = "zookeeper_server_role.rs"]
mod role;
pub use role::{Chain, RevalidateDone, ServerRole, StandaloneRole, Submitter};

/// The standalone server, or a quorum role's server.
pub struct ZooKeeperServer {
    /// What the processors share with us.
    state: Arc<ServerState>,
    /// Standalone or a quorum role.
    role: Arc<dyn ServerRole>,
    /// Where requests enter the chain; `None` before `startup` and after
    /// `shutdown`.
    submitter: Mutex<Option<Arc<dyn Submitter>>>,
    /// The first stage, kept to shut the chain down.
    prep: Mutex<Option<Box<dyn RequestProcessor>>>,
    /// The session expiry thread.
    tracker_thread: Mutex<Option<JoinHandle<()>>>,
    /// Deletes empty containers and expired TTL nodes.
    container_manager: Mutex<Option<ContainerManager>>,
    /// The autopurge timer (`autopurge.purgeInterval`); dropping it stops
    /// its thread.
    purge: Mutex<Option<DatadirCleanupManager>>,
    /// Set by the first `shutdown`.
    stopped: AtomicBool,
    /// A quorum role's report to the operator (see [`RoleMonitor`]);
    /// `None` for a standalone server.
    role_monitor: Mutex<Option<Arc<dyn RoleMonitor>>>,
    /// The SASL users and name rules; `None` without a JAAS server
    /// section (every SASL token is then refused).
    sasl_handler: Option<SaslServerCallbackHandler>,
    /// Each connection's SASL exchange, by connection id, from its first
    /// token until it closes.
    sasl_servers: Mutex<HashMap<u64, ZooKeeperSaslServer>>,
}

/// Counters behind `srvr`/`stat`/`mntr`.
#[derive(Debug, Clone, Default)]
pub struct ServerStatsSnapshot {
    pub min_latency_ms: u64,
    pub avg_latency_ms: f64,
    pub max_latency_ms: u64,
    pub packets_received: u64,
    pub packets_sent: u64,
    pub outstanding_requests: u64,
    pub last_processed_zxid: i64,
    pub node_count: usize,
}

impl ZooKeeperServer {
    /// Loads the database from disk and builds (but does not start) the
    /// session tracker and processor chain.
    pub fn new(config: ServerConfig) -> Result<Arc<ZooKeeperServer>, StartupError> {
        set_extended_types_enabled(config.extended_types_enabled);
        let zkdb = Arc::new(ZkDatabase::open(&config)?);
        let zxid = zkdb.load_database()?;
        info!("Loaded database, last zxid {:#x}", zxid);
        zkdb.kill_dead_sessions();
        // Java starts from a clean snapshot of what it loaded (and waits
        // for it). Ours is fuzzy like every snapshot, so it is written in
        // the background while the server already serves: txns applied
        // meanwhile are in the log after its zxid, as for any snapshot
        // the Sync thread starts. A crash before it is complete recovers
        // from the previous snapshot and the same logs.
        if !zkdb.take_snapshot_in_background() {
            zkdb.take_snapshot()?;
        }
        let sessions = Arc::new(SessionTracker::new(
            STANDALONE_SERVER_ID,
            config.tick_time,
            &zkdb.sessions_with_timeouts(),
        ));
        Ok(ZooKeeperServer::for_role(
            config,
            zkdb,
            sessions,
            Arc::new(StandaloneRole),
        ))
    }

    /// A server over an already loaded database (a quorum role: the peer
    /// loads the database once and hands it to each role's server).
    /// Nothing starts until [`ZooKeeperServer::startup`].
    pub fn for_role(
        config: ServerConfig,
        zkdb: Arc<ZkDatabase>,
        sessions: Arc<SessionTracker>,
        role: Arc<dyn ServerRole>,
    ) -> Arc<ZooKeeperServer> {
        set_extended_types_enabled(config.extended_types_enabled);
        let sasl_handler = config
            .auth
            .sasl
            .as_ref()
            .map(|sasl| SaslServerCallbackHandler::new(sasl, &config.auth.name_rules));
        let state = Arc::new(ServerState::new(config, zkdb, sessions));
        state
            .zkdb
            .tree
            .write()
            .set_event_acl_filter(Some(event_acl_filter(&state)));
        Arc::new(ZooKeeperServer {
            state,
            role,
            submitter: Mutex::new(None),
            prep: Mutex::new(None),
            tracker_thread: Mutex::new(None),
            container_manager: Mutex::new(None),
            purge: Mutex::new(None),
            stopped: AtomicBool::new(false),
            role_monitor: Mutex::new(None),
            sasl_handler,
            sasl_servers: Mutex::new(HashMap::new()),
        })
    }

    /// Starts the session tracker, processor threads and container manager.
    pub fn startup(self: &Arc<Self>) {
        let chain = match self.role.build_chain(&self.state) {
            Ok(c) => c,
            Err(e) => {
                error!("Cannot start the request processor threads: {}", e);
                return;
            }
        };
        *self.prep.lock() = Some(chain.first);
        *self.submitter.lock() = Some(Arc::clone(&chain.submitter));
        if self.role.expires_sessions() {
            self.start_session_tracker(Arc::clone(&chain.submitter));
        }
        if let (true, Some(prep)) = (self.role.runs_container_manager(), chain.prep) {
            let cm = ContainerManager::start(Arc::clone(&self.state), prep);
            *self.container_manager.lock() = cm;
        }
        if self.role.runs_purge() {
            let mut purge = DatadirCleanupManager::new(&self.state.config);
            purge.start();
            *self.purge.lock() = Some(purge);
        }
        info!("ZooKeeperServer started ({})", self.role.mode());
    }

    /// The expiry thread submits a closeSession for each expired session.
    fn start_session_tracker(&self, submitter: Arc<dyn Submitter>) {
        let sessions = Arc::clone(&self.state.sessions);
        let expirer = Box::new(move |session_id: i64, _timeout: i32| {
            let mut close = Request::new(
                None,
                session_id,
                0,
                op_code::CLOSE_SESSION,
                Vec::new(),
                Vec::new(),
            )
            .from(Origin::Server);
            close.local_session = sessions.is_local_session(session_id);
            submitter.submit(close);
        });
        match self.state.sessions.start(expirer) {
            Ok(h) => *self.tracker_thread.lock() = Some(h),
            Err(e) => error!("Cannot start the SessionTracker thread: {}", e),
        }
    }

    /// Stops taking requests, drains the pipeline, fsyncs, closes files.
    pub fn shutdown(&self) {
        if self.stopped.swap(true, Ordering::SeqCst) {
            return;
        }
        info!("Shutting down");
        self.state.running.store(false, Ordering::SeqCst);
        self.state.wake_all();
        if let Some(cm) = self.container_manager.lock().take() {
            cm.stop();
        }
        drop(self.purge.lock().take());
        self.state.sessions.shutdown();
        if let Some(h) = self.tracker_thread.lock().take() {
            let _ = h.join();
        }
        self.submitter.lock().take();
        if let Some(mut prep) = self.prep.lock().take() {
            prep.shutdown();
        }
        self.role.on_shutdown();
        if self.role.mode() == "standalone" {
            // Let a snapshot in flight (the startup one, say) complete
            // before the files are closed and the process may exit.
            let deadline = std::time::Instant::now() + SNAPSHOT_WAIT_AT_SHUTDOWN;
            while self.state.zkdb.is_snapshot_running() && std::time::Instant::now() < deadline {
                std::thread::sleep(std::time::Duration::from_millis(5));
            }
            // A quorum peer keeps its database across roles.
            if let Err(e) = self.state.zkdb.close() {
                error!("Error closing the database: {}", e);
            }
        }
    }

    /// Handles a connection's ConnectRequest; the answer comes later through
    /// `cnxn.finish_session_init` (after the createSession txn is applied).
    pub fn process_connect_request(&self, cnxn: Arc<dyn ServerCnxn>, request: ConnectRequest) {
        let addr = cnxn.remote_addr();
        if self.role.read_only() && request.read_only != Some(true) {
            info!("Refusing session request for not-read-only client {}", addr);
            cnxn.close(CloseReason::BadRequest);
            return;
        }
        let last = self.state.zkdb.last_processed_zxid();
        if request.last_zxid_seen > last {
            info!(
                "Refusing session({:#x}) request for client {} as it has seen zxid {:#x} our last zxid is {:#x} client must try another server",
                request.session_id, addr, request.last_zxid_seen, last
            );
            cnxn.close(CloseReason::BadRequest);
            return;
        }
        let cfg = &self.state.config;
        let timeout = request
            .time_out
            .max(cfg.min_session_timeout)
            .min(cfg.max_session_timeout);
        if request.session_id == 0 {
            let id = self.state.sessions.create_session(timeout);
            debug!(
                "Client {} attempting to establish new session {:#x}, timeout {}",
                addr, id, timeout
            );
            cnxn.set_session_id(id);
            self.state.bind_cnxn(id, Arc::clone(&cnxn), timeout);
            let payload = jute::to_bytes(&CreateSessionTxn { time_out: timeout });
            let auth = cnxn.auth_info();
            let mut request =
                Request::new(Some(cnxn), id, 0, op_code::CREATE_SESSION, payload, auth)
                    .from(Origin::Server);
            request.local_session = self.state.sessions.is_local_session(id);
            self.submit_request(request);
        } else {
            self.reopen_session(cnxn, &request, timeout);
        }
    }

    /// A client resumes session `request.session_id`: the connection that
    /// served it so far is closed first (even if the password is wrong, as
    /// in Java), then the password is checked and the session touched.
    fn reopen_session(&self, cnxn: Arc<dyn ServerCnxn>, request: &ConnectRequest, timeout: i32) {
        let id = request.session_id;
        if !self.role.may_resume(&self.state, id) {
            info!(
                "Refusing global session reconnection in RO mode {}",
                cnxn.remote_addr()
            );
            cnxn.close(CloseReason::InvalidSession);
            return;
        }
        if let Some(old) = self.state.cnxn_for(id) {
            if old.cnxn.watcher_id() != cnxn.watcher_id() {
                self.state
                    .close_session_cnxn(id, CloseReason::ClientReconnect);
            }
        }
        cnxn.set_session_id(id);
        let password_ok = check_passwd(id, request.passwd.as_deref());
        if !password_ok {
            warn!(
                "Incorrect password from {} for session {:#x}",
                cnxn.remote_addr(),
                id
            );
            finish_reopen(
                &self.state,
                cnxn,
                request.read_only.map(|_| self.role.read_only()),
                id,
                timeout,
                false,
            );
            return;
        }
        let state = Arc::clone(&self.state);
        let read_only = request.read_only.map(|_| self.role.read_only());
        let done: RevalidateDone =
            Box::new(move |valid| finish_reopen(&state, cnxn, read_only, id, timeout, valid));
        self.role.revalidate_session(&self.state, id, timeout, done);
    }

    /// Handles a request frame after the handshake; `payload` is what
    /// follows the header. Auth is answered inline, everything else goes
    /// down the pipeline. Touches the session.
    ///
    /// May block (see the module doc) while the pipeline is full.
    pub fn process_packet(
        &self,
        cnxn: &Arc<dyn ServerCnxn>,
        header: RequestHeader,
        payload: Vec<u8>,
    ) {
        match header.r#type {
            op_code::AUTH => self.process_auth(cnxn, &header, &payload),
            op_code::SASL => self.process_sasl(cnxn, &header, &payload),
            op => {
                let auth = cnxn.auth_info();
                if !self.enforce_authentication(cnxn, &auth, header.xid) {
                    return;
                }
                let request = Request::new(
                    Some(Arc::clone(cnxn)),
                    cnxn.session_id(),
                    header.xid,
                    op,
                    payload,
                    auth,
                );
                self.submit_request(request);
            }
        }
    }

    /// A request frame from a connection thread (see
    /// `CnxnHandler::process_frame`): a plain read of a connection with
    /// nothing in the pipeline is answered here, on the calling thread,
    /// exactly as Prep and Final would (session touch and check, then the
    /// read under the tree lock); anything else goes down the pipeline
    /// carrying a token of `in_pipeline`.
    pub fn process_frame(
        &self,
        cnxn: &Arc<dyn ServerCnxn>,
        header: RequestHeader,
        payload: &[u8],
        in_pipeline: &Arc<AtomicUsize>,
    ) {
        let op = header.r#type;
        if op == op_code::AUTH || op == op_code::SASL {
            return self.process_packet(cnxn, header, payload.to_vec());
        }
        let auth = cnxn.auth_info();
        if !self.enforce_authentication(cnxn, &auth, header.xid) {
            return;
        }
        let payload = payload_pool::copy_of(payload);
        let mut request = Request::new(
            Some(Arc::clone(cnxn)),
            cnxn.session_id(),
            header.xid,
            op,
            payload,
            auth,
        );
        let inline = self.role.answers_reads_on_cnxn_thread()
            && answerable_on_cnxn_thread(op)
            && PendingToken::is_idle(in_pipeline);
        if !inline {
            request.pending = Some(PendingToken::new(in_pipeline));
            return self.submit_request(request);
        }
        if !self.admit(&request) {
            return;
        }
        self.state.inc_in_process();
        prepare(&self.state, &mut request);
        final_request_processor::process(&self.state, request);
    }

    /// Touches the session and queues the request for Prep; an opcode the
    /// server does not accept is answered UNIMPLEMENTED and the connection
    /// closed.
    fn submit_request(&self, mut request: Request) {
        if request.cnxn.is_some() {
            if !self.admit(&request) {
                return;
            }
            if request.op_type == op_code::CLOSE_SESSION {
                request.local_session = self.state.sessions.is_local_session(request.session_id);
            }
            if let Some(upgrade) = self.role.check_upgrade_session(&self.state, &mut request) {
                self.submit_internal(upgrade);
            }
            self.state.wait_for_capacity();
            self.state.inc_in_process();
        }
        let has_cnxn = request.cnxn.is_some();
        // Not under the lock: an inline Prep runs inside `submit`.
        let submitter = self.submitter.lock().clone();
        let submitted = submitter.is_some_and(|s| s.submit(request));
        if !submitted {
            warn!("Request dropped: the server is not running");
            if has_cnxn {
                self.state.dec_in_process();
            }
        }
    }

    /// A client request's session touch and opcode check: false (and the
    /// request dropped, or refused with UNIMPLEMENTED and the connection
    /// closed) when it must not go on.
    fn admit(&self, request: &Request) -> bool {
        let Some(cnxn) = &request.cnxn else {
            return true;
        };
        let sid = request.session_id;
        let timeout = self
            .state
            .cnxn_for(sid)
            .map(|e| e.timeout)
            .or_else(|| self.state.sessions.session_timeout(sid))
            .unwrap_or(0);
        if !self.state.sessions.touch_session(sid, timeout) {
            debug!("Dropping request {:?}: no session {:#x}", request, sid);
            return false;
        }
        // A local session is this server's business: the leader never
        // hears of it (not in the learner's PING touches).
        let sessions = &self.state.sessions;
        if !sessions.local_sessions_enabled() || !sessions.is_local_session(sid) {
            self.role.touched(sid, timeout);
        }
        if !is_valid_op(request.op_type) {
            warn!(
                "Received packet at server of unknown type {} from {}",
                request.op_type,
                cnxn.remote_addr()
            );
            let reply = ReplyHeader {
                xid: request.cxid,
                zxid: -1,
                err: Code::Unimplemented.as_i32(),
            };
            cnxn.send_response(&reply, None);
            cnxn.close(CloseReason::BadRequest);
            return false;
        }
        if !accepted_from(request.origin, request.op_type) {
            // An internal opcode in a client's frame: answered as Java
            // answers it, and the connection closed, here on every role (a
            // learner would otherwise forward it as its own).
            warn!(
                "Refusing internal opcode {} from client {}",
                request.op_type,
                cnxn.remote_addr()
            );
            let reply = ReplyHeader {
                xid: request.cxid,
                zxid: -1,
                err: Code::BadArguments.as_i32(),
            };
            cnxn.send_response(&reply, None);
            cnxn.close(CloseReason::BadRequest);
            return false;
        }
        true
    }

    /// A connection is gone: drop its watches (its session lives on until
    /// it expires or is resumed elsewhere).
    pub fn remove_cnxn(&self, cnxn: &dyn ServerCnxn) {
        let watcher_id = cnxn.watcher_id();
        if self.sasl_handler.is_some() {
            self.sasl_servers.lock().remove(&watcher_id);
        }
        self.state.zkdb.tree.read().remove_cnxn(watcher_id);
        self.state.unbind_cnxn(cnxn.session_id(), watcher_id);
    }

    /// Records that a frame was received / sent (for srvr/stat/mntr).
    pub fn incr_packets_received(&self) {
        self.state.stats.incr_packets_received();
    }

    /// See `incr_packets_received`.
    pub fn incr_packets_sent(&self) {
        self.state.stats.incr_packets_sent();
    }

    /// Figures for srvr/stat/mntr.
    pub fn stats(&self) -> ServerStatsSnapshot {
        let s = &self.state.stats;
        ServerStatsSnapshot {
            min_latency_ms: s.min_latency() as u64,
            avg_latency_ms: s.avg_latency(),
            max_latency_ms: s.max_latency() as u64,
            packets_received: s.packets_received(),
            packets_sent: s.packets_sent(),
            outstanding_requests: self.state.in_process() as u64,
            last_processed_zxid: self.state.zkdb.last_processed_zxid(),
            node_count: self.state.zkdb.tree.read().node_count(),
        }
    }

    /// `srst`: zero the latency and packet counters.
    pub fn reset_stats(&self) {
        self.state.stats.reset_latency();
        self.state.stats.reset_request_counters();
    }

    /// `standalone`, `leader`, `follower` or `observer`.
    pub fn mode(&self) -> &'static str {
        self.role.mode()
    }

    /// What the processors share (role code builds its chain over it).
    pub fn server_state(&self) -> &Arc<ServerState> {
        &self.state
    }

    /// Queues a request at the head of the chain as a connection would
    /// (no session touch): learners' forwarded or internal requests.
    pub fn submit_internal(&self, request: Request) -> bool {
        let submitter = self.submitter.lock().clone();
        submitter.is_some_and(|s| s.submit(request))
    }

    /// Attaches what the quorum role reports (when it starts serving).
    pub fn set_role_monitor(&self, monitor: Arc<dyn RoleMonitor>) {
        *self.role_monitor.lock() = Some(monitor);
    }

    /// What the quorum role reports, if this server serves one.
    pub fn role_monitor(&self) -> Option<Arc<dyn RoleMonitor>> {
        self.role_monitor.lock().clone()
    }

    /// The validated configuration.
    pub fn config(&self) -> &ServerConfig {
        &self.state.config
    }

    /// The database (for 4lw commands: dump, wchs, ...).
    pub fn zk_database(&self) -> &Arc<ZkDatabase> {
        &self.state.zkdb
    }

    /// The session table (for 4lw commands: dump, cons, mntr).
    pub fn session_tracker(&self) -> &Arc<SessionTracker> {
        &self.state.sessions
    }
}

/// Reads a connection thread may answer itself (see `process_frame`):
/// they only read the tree and the connection's own watch registrations.
/// sync, setWatches and the watch-removing calls keep the pipeline.
fn answerable_on_cnxn_thread(op: i32) -> bool {
    use op_code::*;
    matches!(
        op,
        EXISTS
            | GET_DATA
            | GET_CHILDREN
            | GET_CHILDREN2
            | GET_ACL
            | GET_ALL_CHILDREN_NUMBER
            | GET_EPHEMERALS
            | MULTI_READ
            | WHO_AM_I
            | CHECK_WATCHES
            | PING
    )
}

/// 3.9's event ACL check (ZOOKEEPER-4799): `checkACL(READ)` with this
/// server's providers and skipACL. Captures copies, not the state, so the
/// tree does not keep the server alive.
fn event_acl_filter(state: &ServerState) -> EventAclFilter {
    let (registry, skip_acl) = (state.auth.clone(), state.config.skip_acl);
    Arc::new(move |acl: &[Acl], ids: &[Id]| {
        acl::check_acl(&registry, skip_acl, acl, perms::READ, ids).is_ok()
    })
}

/// Ends a reconnect: binds the connection when the session is valid and
/// sends the ConnectResponse (Java's `finishSessionInit`). `read_only` is
/// the answer's readOnly flag (`None` if the client did not send one).
fn finish_reopen(
    state: &ServerState,
    cnxn: Arc<dyn ServerCnxn>,
    read_only: Option<bool>,
    id: i64,
    timeout: i32,
    valid: bool,
) {
    if valid {
        state.bind_cnxn(id, Arc::clone(&cnxn), timeout);
        debug!("Client {} renewed session {:#x}", cnxn.remote_addr(), id);
    } else {
        info!(
            "Invalid session {:#x} for client {}, probably expired",
            id,
            cnxn.remote_addr()
        );
    }
    let response = ConnectResponse {
        protocol_version: 0,
        time_out: if valid { timeout } else { 0 },
        session_id: if valid { id } else { 0 },
        passwd: Some(if valid {
            generate_passwd(id)
        } else {
            vec![0; 16]
        }),
        read_only,
    };
    cnxn.finish_session_init(response, valid);
}

/// `checkPasswd`: a non-zero session and the 16 bytes Java would generate.
fn check_passwd(session_id: i64, passwd: Option<&[u8]>) -> bool {
    session_id != 0 && passwd == Some(generate_passwd(session_id).as_slice())
}

/// The stage between Prep and Final: the
/// SyncRequestProcessor (log append, group fsync, snapshots).
fn sync_stage(
    state: &Arc<ServerState>,
    next: Box<dyn RequestProcessor>,
) -> Box<dyn RequestProcessor> {
    Box::new(super::sync_request_processor::SyncRequestProcessor::start(
        Arc::clone(&state.zkdb),
        &state.config,
        next,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn password_check_needs_a_session_and_the_exact_bytes() {
        let id = 0x0100_000a_71af_0000;
        assert!(check_passwd(id, Some(&generate_passwd(id))));
        assert!(!check_passwd(id, Some(&[0; 16])));
        assert!(!check_passwd(id, None));
        assert!(!check_passwd(0, Some(&generate_passwd(0))));
    }
}
