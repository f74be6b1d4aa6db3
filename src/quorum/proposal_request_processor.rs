//! Between the leader's Prep and its CommitProcessor: every request goes on
//! to the CommitProcessor (first, so a commit always finds it there); a txn
//! is also proposed to the followers and handed to the leader's
//! SyncRequestProcessor, whose next stage acks it for the leader.
//!
//! A learner's `sync` travels Prep like any request, so it reaches this
//! stage after every write its session sent before it was proposed; here
//! it leaves the chain and asks the leader (`Leader::process_sync`), which
//! answers once everything proposed so far is committed. (Asking the
//! leader straight from the LearnerHandler let the SYNC overtake a write
//! still in Prep's queue: the follower then saw the sync complete before
//! the write's COMMIT and stalled the session.)
//!
//! Thread: called on the Prep thread.
//!
//! Mirrors: `org.apache.zookeeper.server.quorum.ProposalRequestProcessor`.

use std::sync::Arc;

use log::error;

use super::leader::Leader;
use super::leader_broadcast::stub_of;
use super::learner_handler::LearnerPeer;
use crate::server::request::Request;
use crate::server::request_processor::RequestProcessor;

/// The proposal stage.
pub struct ProposalRequestProcessor {
    leader: Arc<Leader>,
    /// The CommitProcessor.
    next: Box<dyn RequestProcessor>,
    /// The leader's SyncRequestProcessor (→ AckRequestProcessor).
    sync: Box<dyn RequestProcessor>,
}

impl ProposalRequestProcessor {
    /// The stage in front of `next`, logging through `sync`.
    pub fn new(
        leader: Arc<Leader>,
        next: Box<dyn RequestProcessor>,
        sync: Box<dyn RequestProcessor>,
    ) -> Self {
        ProposalRequestProcessor { leader, next, sync }
    }
}

impl RequestProcessor for ProposalRequestProcessor {
    fn process_request(&mut self, mut request: Request) {
        if let Some(origin) = request.learner_sync.take() {
            match origin.downcast::<LearnerPeer>() {
                Ok(peer) => self.leader.process_sync(&peer),
                Err(_) => error!("A learner sync without its learner: {:?}", request),
            }
            return;
        }
        let log_copy = request.txn.is_some().then(|| stub_of(&request));
        if let Some(copy) = log_copy {
            // Queued at the CommitProcessor before any commit of it can be.
            let txn_holder = stub_of(&request);
            self.next.process_request(request);
            self.leader.propose(&txn_holder);
            self.sync.process_request(copy);
        } else {
            self.next.process_request(request);
        }
    }

    fn shutdown(&mut self) {
        self.next.shutdown();
        self.sync.shutdown();
    }
}
