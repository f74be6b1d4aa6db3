//! What differs between a standalone server and each quorum role: the
//! processor chain it builds and the session rules it applies
//! ([`ServerRole`]), and where requests enter that chain ([`Submitter`]).
//! Java expresses the same as subclasses of `ZooKeeperServer`
//! (`LeaderZooKeeperServer`, `FollowerZooKeeperServer`, ...) overriding
//! `setupRequestProcessors` and the session methods; the standalone role
//! is `ZooKeeperServer` itself. Called from any connection thread.

use super::*;

/// Where requests enter a processor chain, callable from any thread.
pub trait Submitter: Send + Sync {
    /// Queues a request; false if the chain has stopped.
    fn submit(&self, request: Request) -> bool;
}

impl Submitter for PrepSubmitter {
    fn submit(&self, request: Request) -> bool {
        PrepSubmitter::submit(self, request)
    }
}

/// A started processor chain.
pub struct Chain {
    /// Where connection threads (and the session expirer) submit.
    pub submitter: Arc<dyn Submitter>,
    /// The first stage; its `shutdown` stops the whole chain in order.
    pub first: Box<dyn RequestProcessor>,
    /// Prep's own handle when Prep is in the chain (the container manager
    /// submits its deletes there); `None` on learners.
    pub prep: Option<PrepSubmitter>,
}

/// Called with the outcome of a session revalidation.
pub type RevalidateDone = Box<dyn FnOnce(bool) + Send>;

/// What differs between the standalone server and the quorum roles'
/// servers (Java: the ZooKeeperServer subclasses' overrides).
pub trait ServerRole: Send + Sync {
    /// `standalone`, `leader`, `follower`, `observer` (srvr's `Mode:`).
    fn mode(&self) -> &'static str;
    /// Starts the processor chain over the server's shared state
    /// (`setupRequestProcessors`).
    fn build_chain(&self, state: &Arc<ServerState>) -> std::io::Result<Chain>;
    /// Whether this server expires sessions itself (standalone, leader;
    /// learners leave that to the leader).
    fn expires_sessions(&self) -> bool {
        true
    }
    /// Whether the container manager runs here (standalone, leader).
    fn runs_container_manager(&self) -> bool {
        true
    }
    /// Whether this server starts the autopurge timer (standalone only: a
    /// quorum peer starts it once for the process).
    fn runs_purge(&self) -> bool {
        true
    }
    /// A client resumes `session_id` with `timeout`: is it valid? The
    /// default touches the local tracker; a learner asks the leader
    /// (REVALIDATE) and calls `done` when the answer comes.
    fn revalidate_session(
        &self,
        state: &Arc<ServerState>,
        session_id: i64,
        timeout: i32,
        done: RevalidateDone,
    ) {
        done(state.sessions.touch_session(session_id, timeout))
    }
    /// A client request touched its session (learners record it for the
    /// next PING reply).
    fn touched(&self, _session_id: i64, _timeout: i32) {}
    /// The chain stopped (the server shut down).
    fn on_shutdown(&self) {}
    /// Whether this is a read-only server (read-only mode of a peer cut
    /// off from its quorum): only clients that asked for read-only are
    /// served, and their handshake answer says read-only.
    fn read_only(&self) -> bool {
        false
    }
    /// Whether a client may resume `session_id` here at all (checked
    /// before the password; a read-only server refuses the quorum's
    /// sessions).
    fn may_resume(&self, _state: &Arc<ServerState>, _session_id: i64) -> bool {
        true
    }
    /// A client request is about to enter the chain: with local sessions,
    /// a local session's first ephemeral create needs an upgrade first.
    /// Returns the createSession to submit before it, or marks the request
    /// failed (upgrading off). Default: nothing to do.
    fn check_upgrade_session(
        &self,
        _state: &Arc<ServerState>,
        _request: &mut Request,
    ) -> Option<Request> {
        None
    }
    /// Whether a connection thread may answer a read itself when its
    /// session has nothing in the pipeline (the read then sees exactly
    /// what it would see at the end of the chain). Off unless a role's
    /// chain ends in Final with nothing held back for reads.
    fn answers_reads_on_cnxn_thread(&self) -> bool {
        false
    }
}

/// The standalone server's role: Prep (inline on the submitting thread) →
/// Sync → Final, and reads answered on connection threads.
pub struct StandaloneRole;

impl ServerRole for StandaloneRole {
    fn mode(&self) -> &'static str {
        "standalone"
    }

    fn build_chain(&self, state: &Arc<ServerState>) -> std::io::Result<Chain> {
        let final_stage: Box<dyn RequestProcessor> =
            Box::new(FinalRequestProcessor::new(Arc::clone(state)));
        let sync_stage = sync_stage(state, final_stage);
        // Sync only queues, so connection threads can run Prep themselves.
        let prep = PrepRequestProcessor::start_inline(Arc::clone(state), sync_stage);
        let submitter = prep.submitter();
        Ok(Chain {
            submitter: Arc::new(submitter.clone()),
            first: Box::new(prep),
            prep: Some(submitter),
        })
    }

    fn answers_reads_on_cnxn_thread(&self) -> bool {
        true
    }
}
