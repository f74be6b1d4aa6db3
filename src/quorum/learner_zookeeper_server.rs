//! The server a follower or observer runs once synced: it serves clients
//! (the client port's [`CnxnHandler`]), forwards their writes to the
//! leader, logs what the leader sends and applies what it commits.
//!
//! Chains:
//!
//! ```text
//! clients ─▶ FollowerRequestProcessor ─▶ CommitProcessor ─▶ Final
//!                  │ REQUEST                   ▲ commit (COMMIT / INFORM / SYNC)
//!                  ▼                           │
//!               leader ──── PROPOSAL/INFORM ─▶ SyncRequestProcessor ─▶ SendAck (followers)
//! ```
//!
//! Sessions: ids are made here (my sid in the top byte), createSession
//! and closeSession are forwarded, the leader owns expiry (with
//! `localSessionsEnabled`, new sessions are local: nothing is forwarded,
//! they expire here, and a first ephemeral create upgrades them); clients' touches
//! are reported in PING replies ([`LearnerSessionTracker`]); a client
//! resuming a session here is checked with the leader (REVALIDATE).
//!
//! The client side (handshakes, auth, touches, backpressure) is the shared
//! [`ZooKeeperServer`] built with [`LearnerRole`], which supplies the
//! chains, records touches, revalidates through the leader and switches
//! off what only a leader does (expiry, containers, purge).
//!
//! Threads: connection threads run the ZooKeeperServer's methods and the
//! first stage; the role thread (reading the leader link) calls `log`,
//! `commit`, `sync`, `finish_revalidation`; the CommitProcessor thread
//! runs Final; the SyncThread logs and acks.
//!
//! Mirrors: `org.apache.zookeeper.server.quorum.LearnerZooKeeperServer`
//! (setupRequestProcessors, revalidateSession, getTouchSnapshot).

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;

use log::{debug, info, warn};
use parking_lot::Mutex;

use super::commit_processor::{CommitProcessor, Committer};
use super::follower_request_processor::{FollowerRequestProcessor, PendingSyncs};
use super::learner::LeaderWriter;
use super::learner_handler::{LearnerPeer, Out};
use super::learner_session_tracker::LearnerSessionTracker;
use super::quorum_packet::{self, packet};
use super::quorum_zookeeper_server::check_upgrade_session;
use crate::config::server_config::ServerConfig;
use crate::jute::txn::TxnLogEntry;
use crate::server::final_request_processor::FinalRequestProcessor;
use crate::server::request::Request;
use crate::server::request_processor::RequestProcessor;
use crate::server::server_cnxn::CloseReason;
use crate::server::server_state::ServerState;
use crate::server::session_tracker::SessionTracker;
use crate::server::sync_request_processor::SyncRequestProcessor;
use crate::server::zk_database::ZkDatabase;
use crate::server::zookeeper_server::{
    Chain, RevalidateDone, ServerRole, Submitter, ZooKeeperServer,
};
use crate::zoo_defs::op_code;

/// The first stage, shared by every submitting thread; `None` once the
/// chain is shut down.
type SharedFirst = Arc<Mutex<Option<FollowerRequestProcessor>>>;

/// A revalidation waiting for the leader's answer.
struct PendingRevalidation {
    /// The server's state (to track the session when valid).
    state: Arc<ServerState>,
    /// The negotiated timeout.
    timeout: i32,
    /// Finishes the client's handshake.
    done: RevalidateDone,
}

/// What a follower's or observer's server does differently from a
/// standalone one (the ServerRole), and the handles the role thread needs.
pub struct LearnerRole {
    /// `follower` or `observer`.
    mode: &'static str,
    /// My sid (thread names).
    my_id: i64,
    /// The leader link (REQUEST, REVALIDATE; ACKs via `after_log`).
    leader: Arc<LeaderWriter>,
    /// Touches since the last PING.
    touches: LearnerSessionTracker,
    /// What follows the log stage; taken when the chain is built.
    after_log: Mutex<Option<Box<dyn RequestProcessor>>>,
    /// The log stage (SyncThread), once the chain is built.
    log: Arc<Mutex<Option<SyncRequestProcessor>>>,
    /// Hands committed requests to the CommitProcessor.
    committer: Mutex<Option<Committer>>,
    /// Forwarded `sync`s waiting for SYNC (shared with the first stage).
    pending_syncs: PendingSyncs,
    /// Reconnecting clients waiting for REVALIDATE answers (dropped
    /// unanswered if the role ends first).
    pending_revalidations: Mutex<HashMap<i64, PendingRevalidation>>,
    /// `localSessionsEnabled`: sessions made here are local and expire here.
    local_sessions: bool,
}

/// Where connection threads submit: the shared first stage.
struct FirstStageSubmitter(SharedFirst);

impl Submitter for FirstStageSubmitter {
    fn submit(&self, request: Request) -> bool {
        match self.0.lock().as_mut() {
            Some(stage) => {
                stage.process_request(request);
                true
            }
            None => false,
        }
    }
}

/// The chain's head as the server shuts it down: the first stage (and so
/// CommitProcessor and Final), then the log stage (drained and fsynced).
struct ChainHead {
    first: SharedFirst,
    log: Arc<Mutex<Option<SyncRequestProcessor>>>,
}

impl RequestProcessor for ChainHead {
    fn process_request(&mut self, request: Request) {
        if !FirstStageSubmitter(Arc::clone(&self.first)).submit(request) {
            warn!("Request dropped: the chain is shut down");
        }
    }

    fn shutdown(&mut self) {
        if let Some(mut first) = self.first.lock().take() {
            first.shutdown();
        }
        if let Some(mut log) = self.log.lock().take() {
            log.shutdown();
        }
    }
}

impl LearnerRole {
    /// A session of an observer served here was touched: reported to the
    /// leader with the next PING reply.
    pub fn touch_learner_session(&self, session_id: i64, timeout: i32) {
        self.touches.touch_session(session_id, timeout);
    }
}

impl ServerRole for LearnerRole {
    fn mode(&self) -> &'static str {
        self.mode
    }

    fn build_chain(&self, state: &Arc<ServerState>) -> std::io::Result<Chain> {
        let final_stage = Box::new(FinalRequestProcessor::new(Arc::clone(state)));
        let commit = CommitProcessor::start(self.my_id, true, final_stage)?;
        *self.committer.lock() = Some(commit.committer());
        let first = FollowerRequestProcessor::new(
            Box::new(commit),
            Arc::clone(&self.leader),
            Arc::clone(&self.pending_syncs),
        );
        let after_log = self
            .after_log
            .lock()
            .take()
            .unwrap_or_else(|| Box::new(Discard));
        *self.log.lock() = Some(SyncRequestProcessor::start(
            Arc::clone(&state.zkdb),
            &state.config,
            after_log,
        ));
        let first: SharedFirst = Arc::new(Mutex::new(Some(first)));
        Ok(Chain {
            submitter: Arc::new(FirstStageSubmitter(Arc::clone(&first))),
            first: Box::new(ChainHead {
                first,
                log: Arc::clone(&self.log),
            }),
            prep: None,
        })
    }

    /// Only local sessions (`localSessionsEnabled`): the leader expires
    /// global ones.
    fn expires_sessions(&self) -> bool {
        self.local_sessions
    }

    fn check_upgrade_session(
        &self,
        state: &Arc<ServerState>,
        request: &mut Request,
    ) -> Option<Request> {
        check_upgrade_session(
            &state.sessions,
            state.config.local_sessions_upgrading_enabled,
            request,
        )
    }

    fn runs_container_manager(&self) -> bool {
        false
    }

    fn runs_purge(&self) -> bool {
        false
    }

    fn revalidate_session(
        &self,
        state: &Arc<ServerState>,
        session_id: i64,
        timeout: i32,
        done: RevalidateDone,
    ) {
        if state.sessions.is_local_session(session_id) {
            // Known here only: the leader has never heard of it.
            return done(state.sessions.touch_session(session_id, timeout));
        }
        let pending = PendingRevalidation {
            state: Arc::clone(state),
            timeout,
            done,
        };
        self.pending_revalidations
            .lock()
            .insert(session_id, pending);
        if self.leader.revalidate(session_id, timeout).is_err() {
            // The link is gone (the role is ending and will close every
            // client connection): the client must see a connection loss
            // and resume its session elsewhere, not hear that it expired.
            // Dropping `done` leaves the handshake unanswered.
            self.pending_revalidations.lock().remove(&session_id);
        }
    }

    fn touched(&self, session_id: i64, timeout: i32) {
        self.touches.touch_session(session_id, timeout);
    }

    fn on_shutdown(&self) {
        // Unanswered revalidations are dropped, not failed: their clients'
        // connections are closed with the role (connection loss, so they
        // resume the session on another server), as Java's learner does.
        let pending = std::mem::take(&mut *self.pending_revalidations.lock());
        if !pending.is_empty() {
            info!(
                "Dropping {} revalidations the leader did not answer",
                pending.len()
            );
        }
    }
}

/// The stage after an observer's log: nothing.
struct Discard;

impl RequestProcessor for Discard {
    fn process_request(&mut self, _request: Request) {}
    fn shutdown(&mut self) {}
}

/// A follower's or observer's server: the shared ZooKeeperServer plus the
/// role's handles.
pub struct LearnerZooKeeperServer {
    /// Serves the client port (it is the [`crate::server::server_cnxn_factory::CnxnHandler`]).
    pub zks: Arc<ZooKeeperServer>,
    /// The chains' handles.
    role: Arc<LearnerRole>,
}

impl LearnerZooKeeperServer {
    /// Builds the server over the synced database and starts its chains.
    /// `after_log` follows the SyncRequestProcessor (SendAck for a
    /// follower; `None` for an observer).
    pub fn start(
        mode: &'static str,
        my_id: i64,
        config: ServerConfig,
        db: Arc<ZkDatabase>,
        leader: Arc<LeaderWriter>,
        after_log: Option<Box<dyn RequestProcessor>>,
    ) -> std::io::Result<LearnerZooKeeperServer> {
        let sessions = Arc::new(
            SessionTracker::new(my_id, config.tick_time, &db.sessions_with_timeouts())
                .with_local_sessions(config.local_sessions_enabled, false),
        );
        let role = Arc::new(LearnerRole {
            mode,
            my_id,
            leader,
            touches: LearnerSessionTracker::new(),
            after_log: Mutex::new(after_log),
            log: Arc::new(Mutex::new(None)),
            committer: Mutex::new(None),
            pending_syncs: Arc::new(Mutex::new(VecDeque::new())),
            pending_revalidations: Mutex::new(HashMap::new()),
            local_sessions: config.local_sessions_enabled,
        });
        let zks = ZooKeeperServer::for_role(
            config,
            db,
            sessions,
            Arc::clone(&role) as Arc<dyn ServerRole>,
        );
        zks.startup();
        if role.committer.lock().is_none() {
            return Err(std::io::Error::other("the learner's chain did not start"));
        }
        info!("{} server started (myid={})", mode, my_id);
        Ok(LearnerZooKeeperServer { zks, role })
    }

    /// The database.
    pub fn zk_database(&self) -> &Arc<ZkDatabase> {
        self.zks.zk_database()
    }

    /// Hands a txn to the logging stage (append, group fsync, then the
    /// stage after it).
    pub fn log(&self, entry: TxnLogEntry) {
        if let Some(log) = self.role.log.lock().as_mut() {
            log.process_request(txn_request(entry));
        }
    }

    /// Hands a committed txn to the CommitProcessor (and so to Final).
    pub fn commit(&self, entry: TxnLogEntry) {
        self.commit_request(txn_request(entry));
    }

    fn commit_request(&self, request: Request) {
        let sent = self
            .role
            .committer
            .lock()
            .as_ref()
            .is_some_and(|c| c.commit(request));
        if !sent {
            warn!("Commit after the CommitProcessor stopped");
        }
    }

    /// The leader completed the oldest forwarded `sync`.
    pub fn sync(&self) {
        let Some(pending) = self.role.pending_syncs.lock().pop_front() else {
            warn!("Not expecting a sync.");
            return;
        };
        if let Some(link) = pending.observer {
            // An observer's: answered on its link, after the INFORMs of
            // everything committed before it.
            match link.downcast::<LearnerPeer>() {
                Ok(peer) => peer.queue(Out::Packet(packet(quorum_packet::SYNC, 0, None))),
                Err(_) => warn!("A relayed sync without its observer link"),
            }
        }
        self.commit_request(Request::new(
            None,
            pending.session_id,
            pending.cxid,
            op_code::SYNC,
            Vec::new(),
            Vec::new(),
        ));
    }

    /// The leader's REVALIDATE answer: finish the waiting handshake.
    pub fn finish_revalidation(&self, session_id: i64, valid: bool) {
        let Some(p) = self.role.pending_revalidations.lock().remove(&session_id) else {
            warn!("Missing session 0x{:x} for validation", session_id);
            return;
        };
        debug!("Session 0x{:x} is valid: {}", session_id, valid);
        if valid {
            // Tracked here so the client's requests are accepted; the
            // leader keeps the clock.
            p.state.sessions.track_session(session_id, p.timeout);
            self.role.touches.touch_session(session_id, p.timeout);
        }
        (p.done)(valid);
    }

    /// The role's handles (an ObserverMaster touches sessions with it).
    pub fn role_handle(&self) -> Arc<LearnerRole> {
        Arc::clone(&self.role)
    }

    /// Sessions touched since the last PING (for the reply).
    pub fn touch_snapshot(&self) -> HashMap<i64, i32> {
        self.role.touches.take_touch_snapshot()
    }

    /// Stops serving: closes the clients, drains the chains (the log is
    /// fsynced), drops pending revalidations.
    pub fn shutdown(&self) {
        for entry in self.zks.server_state().all_cnxns() {
            entry.cnxn.close(CloseReason::ServerShutdown);
        }
        self.zks.shutdown();
    }
}

/// A request carrying a txn from the leader (no connection: Final answers
/// nobody unless the CommitProcessor matches a local twin).
pub fn txn_request(entry: TxnLogEntry) -> Request {
    let h = &entry.header;
    let mut request = Request::new(None, h.client_id, h.cxid, h.r#type, Vec::new(), Vec::new());
    request.txn = Some(entry);
    request
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::jute::txn::{CreateSessionTxn, TxnBody, TxnHeader};

    #[test]
    fn txn_requests_take_session_cxid_and_type_from_the_header() {
        let entry = TxnLogEntry {
            header: TxnHeader {
                client_id: 0x55,
                cxid: 9,
                zxid: 0x1_0000_0004,
                time: 1,
                r#type: op_code::CREATE_SESSION,
            },
            body: TxnBody::CreateSession(CreateSessionTxn { time_out: 4000 }),
            digest: None,
        };
        let r = txn_request(entry);
        assert_eq!(
            (r.session_id, r.cxid, r.op_type, r.zxid()),
            (0x55, 9, op_code::CREATE_SESSION, Some(0x1_0000_0004))
        );
        assert!(r.cnxn.is_none());
    }
}
