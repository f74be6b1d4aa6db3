//! The leader's server: the standalone server's connection handling and
//! session table over the peer's database, with the leader's chain
//! LeaderRequest → Prep → Proposal → Commit → ToBeApplied → Final (and
//! Proposal → Sync → Ack for the leader's own log and ack). The leader
//! owns the global sessions: it expires them, and learners' pings touch
//! them. It runs the container manager; the peer (not the role) runs
//! autopurge.
//!
//! The LeaderRequestProcessor stage of Java upgrades local sessions
//! (`localSessionsEnabled`) before Prep; here that check runs as the
//! request is submitted (`check_upgrade_session`), and requests enter
//! Prep directly. The LeaderSessionTracker is the standalone tracker with
//! the leader's sid in new session ids and local sessions switched on by
//! the config.
//!
//! Session owners: a session created or resumed on the leader is owned by
//! the leader itself; one created or resumed through a learner, by that
//! learner's link (see `LearnerHandler`'s REQUEST and REVALIDATE). Prep
//! refuses a request of a session through any other server with
//! SESSIONMOVED.
//!
//! Thread: built on the QuorumPeer thread by `Leader`; the stages run on
//! their own threads (Prep, Sync, CommitProcessor).
//!
//! Mirrors: `LeaderZooKeeperServer` (setupRequestProcessors,
//! createSessionTracker), `LeaderRequestProcessor`, `LeaderSessionTracker`.

use std::sync::Arc;

use super::ack_request_processor::AckRequestProcessor;
use super::commit_processor::CommitProcessor;
use super::leader::Leader;
use super::leader_reconfig::LeaderReconfig;
use super::proposal_request_processor::ProposalRequestProcessor;
use super::quorum_peer::RoleContext;
use super::quorum_zookeeper_server::check_upgrade_session;
use super::to_be_applied_request_processor::ToBeAppliedRequestProcessor;
use crate::server::final_request_processor::FinalRequestProcessor;
use crate::server::prep_request_processor::PrepRequestProcessor;
use crate::server::request::Request;
use crate::server::request_processor::RequestProcessor;
use crate::server::server_state::ServerState;
use crate::server::session_tracker::{SessionOwner, SessionTracker};
use crate::server::sync_request_processor::SyncRequestProcessor;
use crate::server::zookeeper_server::{Chain, RevalidateDone, ServerRole, ZooKeeperServer};

/// The leader's [`ServerRole`].
pub struct LeaderZooKeeperServer {
    leader: Arc<Leader>,
    /// `standaloneEnabled` (a reconfig must then leave two voters).
    standalone_enabled: bool,
    /// `multiAddress.enabled` (how reconfig's server strings parse).
    multi_address: bool,
}

impl LeaderZooKeeperServer {
    /// The leader's server over the peer's database (not started).
    pub fn create(leader: Arc<Leader>, ctx: &RoleContext) -> Arc<ZooKeeperServer> {
        let config = ctx.config.server.clone();
        let sessions = Arc::new(
            SessionTracker::new(
                leader.my_id,
                config.tick_time,
                &ctx.db.sessions_with_timeouts(),
            )
            .with_local_sessions(config.local_sessions_enabled, true),
        );
        ZooKeeperServer::for_role(
            config,
            Arc::clone(&ctx.db),
            sessions,
            Arc::new(LeaderZooKeeperServer {
                leader,
                standalone_enabled: ctx.config.standalone_enabled,
                multi_address: ctx.config.multi_address_enabled,
            }),
        )
    }
}

impl ServerRole for LeaderZooKeeperServer {
    fn mode(&self) -> &'static str {
        "leader"
    }

    fn build_chain(&self, state: &Arc<ServerState>) -> std::io::Result<Chain> {
        let leader = &self.leader;
        *state.reconfig.lock() = Some(Arc::new(LeaderReconfig {
            leader: Arc::downgrade(leader),
            standalone_enabled: self.standalone_enabled,
            multi_address: self.multi_address,
        }));
        let final_stage: Box<dyn RequestProcessor> =
            Box::new(FinalRequestProcessor::new(Arc::clone(state)));
        let to_be_applied = Box::new(ToBeAppliedRequestProcessor::new(
            Arc::clone(leader),
            final_stage,
        ));
        let commit = CommitProcessor::start(leader.my_id, false, to_be_applied)?;
        leader.set_committer(commit.committer());
        let ack = Box::new(AckRequestProcessor::new(Arc::clone(leader)));
        let sync = Box::new(SyncRequestProcessor::start(
            Arc::clone(&state.zkdb),
            &state.config,
            ack,
        ));
        let proposal = Box::new(ProposalRequestProcessor::new(
            Arc::clone(leader),
            Box::new(commit),
            sync,
        ));
        let prep = PrepRequestProcessor::start(Arc::clone(state), proposal)?;
        let submitter = prep.submitter();
        Ok(Chain {
            submitter: Arc::new(submitter.clone()),
            first: Box::new(prep),
            prep: Some(submitter),
        })
    }

    fn runs_purge(&self) -> bool {
        false
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

    /// A client resumes its session here: valid if alive, and the leader
    /// itself becomes its owner (Java: `setOwner(sessionId, ServerCnxn.me)`).
    fn revalidate_session(
        &self,
        state: &Arc<ServerState>,
        session_id: i64,
        timeout: i32,
        done: RevalidateDone,
    ) {
        let valid = state.sessions.touch_session(session_id, timeout)
            && state
                .sessions
                .set_owner(session_id, SessionOwner::Local)
                .is_ok();
        done(valid)
    }
}
