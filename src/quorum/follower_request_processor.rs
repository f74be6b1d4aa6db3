//! A learner's first stage for client requests: everything goes on to the
//! CommitProcessor (which answers reads at once and holds writes), and
//! writes, `sync`, createSession and closeSession are also forwarded to
//! the leader as REQUEST packets. The local request is queued in the
//! CommitProcessor before the REQUEST leaves, so the leader's COMMIT can
//! never arrive before the request it completes.
//!
//! Thread: runs on the submitting connection thread, under the server's
//! lock around this stage (Java gives it a thread of its own; the order
//! of requests of one session is the same either way).
//!
//! Mirrors: `org.apache.zookeeper.server.quorum.FollowerRequestProcessor`.

use std::any::Any;
use std::collections::VecDeque;
use std::sync::Arc;

use log::{debug, warn};
use parking_lot::Mutex;

use super::commit_processor::{needs_commit, request_needs_commit};
use super::learner::{request_packet, LeaderWriter};
use crate::server::request::Request;
use crate::server::request_processor::RequestProcessor;
use crate::zoo_defs::op_code;

/// Whether a client request goes to the leader (global sessions only).
pub fn forwarded(op: i32) -> bool {
    needs_commit(op, true)
}

/// A forwarded `sync` waiting for the leader's SYNC.
pub struct PendingSync {
    pub session_id: i64,
    pub cxid: i32,
    /// The observer link it came from (a follower serving observers):
    /// the SYNC is relayed to it.
    pub observer: Option<Arc<dyn Any + Send + Sync>>,
}

/// The pending `sync`s, oldest first.
pub type PendingSyncs = Arc<Mutex<VecDeque<PendingSync>>>;

/// The forwarding stage.
pub struct FollowerRequestProcessor {
    /// The CommitProcessor.
    next: Box<dyn RequestProcessor>,
    /// The leader link.
    leader: Arc<LeaderWriter>,
    /// Forwarded `sync`s waiting for the leader's SYNC, oldest first.
    /// Shared with the role thread.
    pending_syncs: PendingSyncs,
}

impl FollowerRequestProcessor {
    /// A stage in front of `next` forwarding to `leader`.
    pub fn new(
        next: Box<dyn RequestProcessor>,
        leader: Arc<LeaderWriter>,
        pending_syncs: PendingSyncs,
    ) -> FollowerRequestProcessor {
        FollowerRequestProcessor {
            next,
            leader,
            pending_syncs,
        }
    }
}

impl RequestProcessor for FollowerRequestProcessor {
    fn process_request(&mut self, request: Request) {
        debug!("Processing request:: {:?}", request);
        if !request_needs_commit(&request, true) {
            self.next.process_request(request);
            return;
        }
        let qp = request_packet(
            request.session_id,
            request.cxid,
            request.op_type,
            &request.payload,
            &request.auth_info,
        );
        if request.op_type == op_code::SYNC {
            self.pending_syncs.lock().push_back(PendingSync {
                session_id: request.session_id,
                cxid: request.cxid,
                observer: request.learner_sync.clone(),
            });
        }
        self.next.process_request(request);
        if let Err(e) = self.leader.write_packet(&qp) {
            warn!("Forwarding a request to the leader failed: {}", e);
        }
    }

    fn shutdown(&mut self) {
        debug!("FollowerRequestProcessor shut down");
        self.next.shutdown();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_sessions_and_sync_are_forwarded_reads_are_not() {
        for op in [
            op_code::CREATE,
            op_code::SET_DATA,
            op_code::MULTI,
            op_code::SYNC,
            op_code::CREATE_SESSION,
            op_code::CLOSE_SESSION,
        ] {
            assert!(forwarded(op), "{}", op);
        }
        for op in [
            op_code::GET_DATA,
            op_code::EXISTS,
            op_code::GET_CHILDREN2,
            op_code::PING,
            op_code::MULTI_READ,
        ] {
            assert!(!forwarded(op), "{}", op);
        }
    }
}
