//! Read-only mode (`-Dreadonlymode.enabled=true`): a peer cut off from its
//! quorum keeps answering reads, from the data it has, to the clients that
//! said in their handshake that a read-only server will do.
//!
//! While the peer is LOOKING, [`while_looking`] waits a grace period
//! (the larger of 2 s and one tick, so a short election does not flip the
//! client port); if the peer is still looking then, it starts the
//! read-only server and publishes it on the client port, where `srvr`
//! shows `Mode: read-only` and `isro` answers `ro`. When the election ends
//! the starter is cancelled and the server shut down, closing its
//! clients, who then reconnect to a read-write server.
//!
//! The server's chain is ReadOnlyRequestProcessor → Prep → Final: every
//! request that would change something (writes, `sync`, and, with local
//! sessions off, createSession and closeSession) is answered NOTREADONLY
//! (-119) at the door; reads go on through Prep and Final as on a
//! standalone server. Nothing reaches the log.
//!
//! Sessions, as Java's read-only server: a client that did not ask for
//! read-only is refused (its connection closed); resuming a session the
//! database knows (a global one) is refused. With local sessions on
//! (`localSessionsEnabled`), a read-only client gets a new local session,
//! expired here, and can resume it here. With them off, a new session
//! cannot be made (its createSession is answered with a bare NOTREADONLY
//! reply header, which Java's clients cannot read as a handshake answer),
//! and resuming any other id with its password is accepted and served
//! read-only, without expiry.
//!
//! Threads: a scoped thread ("ReadOnlyStarter") sleeps out the grace
//! period and starts the server while the QuorumPeer thread runs the
//! election; that thread then cancels the wait or stops the server;
//! connection threads run the ReadOnlyRequestProcessor and Prep inline,
//! and Final after them.
//!
//! Mirrors: `org.apache.zookeeper.server.quorum.ReadOnlyZooKeeperServer`,
//! `ReadOnlyRequestProcessor`, and the read-only part of `QuorumPeer.run`'s
//! LOOKING state.

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use log::{error, info};
use parking_lot::{Condvar, Mutex};

use super::quorum_peer::{QuorumPeer, RoleContext};
use super::vote::ServerState as PeerState;
use crate::jute::proto::ReplyHeader;
use crate::keeper_exception::Code;
use crate::server::final_request_processor::FinalRequestProcessor;
use crate::server::prep_request_processor::PrepRequestProcessor;
use crate::server::request::Request;
use crate::server::server_cnxn::CloseReason;
use crate::server::server_state::ServerState;
use crate::server::session_tracker::SessionTracker;
use crate::server::zookeeper_server::{
    Chain, RevalidateDone, ServerRole, Submitter, ZooKeeperServer,
};
use crate::zoo_defs::op_code;

/// The shortest wait before a looking peer turns read-only.
const MIN_GRACE: Duration = Duration::from_millis(2000);

/// Whether the read-only server refuses `op` at the door (with local
/// sessions off, session creation and closing are refused too).
pub fn refused_when_read_only(op: i32) -> bool {
    use op_code::*;
    matches!(
        op,
        SYNC | CREATE
            | CREATE2
            | CREATE_TTL
            | CREATE_CONTAINER
            | DELETE
            | DELETE_CONTAINER
            | SET_DATA
            | RECONFIG
            | SET_ACL
            | MULTI
            | CHECK
            | CREATE_SESSION
            | CLOSE_SESSION
    )
}

/// The first stage: refuses writes with NOTREADONLY, hands the rest to
/// Prep (`ReadOnlyRequestProcessor`).
struct ReadOnlyRequestProcessor {
    state: Arc<ServerState>,
    prep: Arc<dyn Submitter>,
}

impl Submitter for ReadOnlyRequestProcessor {
    fn submit(&self, request: Request) -> bool {
        let local_session_op = request.local_session
            && matches!(
                request.op_type,
                op_code::CREATE_SESSION | op_code::CLOSE_SESSION
            );
        if local_session_op || !refused_when_read_only(request.op_type) {
            return self.prep.submit(request);
        }
        if let Some(cnxn) = &request.cnxn {
            let zxid = self.state.zkdb.last_processed_zxid();
            let header = ReplyHeader {
                xid: request.cxid,
                zxid,
                err: Code::NotReadOnly.as_i32(),
            };
            cnxn.send_response(&header, None);
            self.state.dec_in_process();
        }
        true
    }
}

/// The read-only server's [`ServerRole`].
pub struct ReadOnlyRole {
    /// `localSessionsEnabled`: new sessions are local ones, made and
    /// expired here.
    local_sessions: bool,
}

impl ServerRole for ReadOnlyRole {
    fn mode(&self) -> &'static str {
        "read-only"
    }

    fn build_chain(&self, state: &Arc<ServerState>) -> std::io::Result<Chain> {
        state.read_only.store(true, Ordering::SeqCst);
        let final_stage = Box::new(FinalRequestProcessor::new(Arc::clone(state)));
        let prep = PrepRequestProcessor::start_inline(Arc::clone(state), final_stage);
        let submitter = prep.submitter();
        let first = ReadOnlyRequestProcessor {
            state: Arc::clone(state),
            prep: Arc::new(submitter),
        };
        Ok(Chain {
            submitter: Arc::new(first),
            first: Box::new(prep),
            prep: None,
        })
    }

    /// Only local sessions (`localSessionsEnabled`) expire here.
    fn expires_sessions(&self) -> bool {
        self.local_sessions
    }

    fn runs_container_manager(&self) -> bool {
        false
    }

    fn runs_purge(&self) -> bool {
        false
    }

    fn read_only(&self) -> bool {
        true
    }

    /// A session the database knows belongs to the quorum: it cannot be
    /// resumed here.
    fn may_resume(&self, state: &Arc<ServerState>, session_id: i64) -> bool {
        !state
            .zkdb
            .sessions_with_timeouts()
            .contains_key(&session_id)
    }

    /// With local sessions, only a local session of this server can be
    /// resumed; without, any other session (its password was checked) is
    /// served here, read-only.
    fn revalidate_session(
        &self,
        state: &Arc<ServerState>,
        session_id: i64,
        timeout: i32,
        done: RevalidateDone,
    ) {
        if self.local_sessions {
            return done(
                state.sessions.is_local_session(session_id)
                    && state.sessions.touch_session(session_id, timeout),
            );
        }
        state.sessions.track_session(session_id, timeout);
        done(true)
    }

    fn answers_reads_on_cnxn_thread(&self) -> bool {
        true
    }
}

/// Builds and starts a read-only server over the peer's database.
pub fn start_read_only_server(my_id: i64, ctx: &RoleContext) -> Arc<ZooKeeperServer> {
    let config = ctx.config.server.clone();
    let local_sessions = config.local_sessions_enabled;
    let sessions = Arc::new(
        SessionTracker::new(my_id, config.tick_time, &Default::default())
            .with_local_sessions(local_sessions, false),
    );
    let role = Arc::new(ReadOnlyRole { local_sessions });
    let zks = ZooKeeperServer::for_role(config, Arc::clone(&ctx.db), sessions, role);
    zks.server_state()
        .hzxid
        .store(ctx.db.last_processed_zxid(), Ordering::SeqCst);
    zks.startup();
    ctx.serving.set_server(Some(Arc::clone(&zks)));
    info!("Read-only server started");
    zks
}

/// Stops a read-only server: off the client port, clients closed.
fn stop_read_only_server(zks: &ZooKeeperServer, ctx: &RoleContext) {
    ctx.serving.set_server(None);
    for entry in zks.server_state().all_cnxns() {
        entry.cnxn.close(CloseReason::ServerShutdown);
    }
    zks.shutdown();
}

/// Where the starter stands.
enum Phase {
    /// Sleeping out the grace period.
    Waiting,
    /// The server runs.
    Started(Arc<ZooKeeperServer>),
    /// The election ended (before or after the start).
    Cancelled,
}

/// What the starter thread and the peer thread share.
struct Starter {
    phase: Mutex<Phase>,
    wake: Condvar,
}

/// Runs `look` (the election) with read-only mode armed: after the grace
/// period, if the peer still looks, the read-only server starts; when
/// `look` returns it is stopped (or never started). Returns what `look`
/// returned.
pub fn while_looking<R>(peer: &QuorumPeer, ctx: &RoleContext, look: impl FnOnce() -> R) -> R {
    info!("Attempting to start ReadOnlyZooKeeperServer");
    let starter = Starter {
        phase: Mutex::new(Phase::Waiting),
        wake: Condvar::new(),
    };
    let grace = MIN_GRACE.max(Duration::from_millis(
        ctx.config.server.tick_time.max(0) as u64
    ));
    let (result, previous) = std::thread::scope(|scope| {
        let waiter = std::thread::Builder::new()
            .name("ReadOnlyStarter".into())
            .spawn_scoped(scope, || wait_then_start(&starter, peer, ctx, grace));
        if let Err(e) = &waiter {
            error!("FAILED to start ReadOnlyZooKeeperServer: {}", e);
        }
        let result = look();
        let previous = std::mem::replace(&mut *starter.phase.lock(), Phase::Cancelled);
        starter.wake.notify_all();
        (result, previous)
    });
    match previous {
        Phase::Started(zks) => stop_read_only_server(&zks, ctx),
        Phase::Waiting => {
            info!("Interrupted while attempting to start ReadOnlyZooKeeperServer, not started")
        }
        Phase::Cancelled => {}
    }
    result
}

/// The starter thread: sleep out `grace` unless cancelled, then start the
/// server if the peer still looks (under the lock, so a cancel either
/// comes first and nothing starts, or comes after and stops it).
fn wait_then_start(starter: &Starter, peer: &QuorumPeer, ctx: &RoleContext, grace: Duration) {
    let deadline = Instant::now() + grace;
    let mut phase = starter.phase.lock();
    while matches!(*phase, Phase::Waiting) && Instant::now() < deadline {
        starter.wake.wait_until(&mut phase, deadline);
    }
    if !matches!(*phase, Phase::Waiting) {
        return;
    }
    if peer.state() != PeerState::Looking || !peer.is_running() {
        *phase = Phase::Cancelled;
        return;
    }
    *phase = Phase::Started(start_read_only_server(peer.my_id, ctx));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_and_session_changes_are_refused_reads_are_not() {
        use op_code::*;
        for op in [
            CREATE,
            CREATE2,
            CREATE_TTL,
            CREATE_CONTAINER,
            DELETE,
            DELETE_CONTAINER,
            SET_DATA,
            SET_ACL,
            MULTI,
        ] {
            assert!(refused_when_read_only(op), "{}", op);
        }
        for op in [SYNC, CHECK, RECONFIG, CREATE_SESSION, CLOSE_SESSION] {
            assert!(refused_when_read_only(op), "{}", op);
        }
        for op in [
            GET_DATA,
            EXISTS,
            GET_CHILDREN,
            GET_CHILDREN2,
            GET_ACL,
            PING,
            SET_WATCHES,
            SET_WATCHES2,
            MULTI_READ,
        ] {
            assert!(!refused_when_read_only(op), "{}", op);
        }
        for op in [
            ADD_WATCH,
            REMOVE_WATCHES,
            CHECK_WATCHES,
            WHO_AM_I,
            GET_EPHEMERALS,
            GET_ALL_CHILDREN_NUMBER,
        ] {
            assert!(!refused_when_read_only(op), "{}", op);
        }
    }
}
