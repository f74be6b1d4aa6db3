//! The stage after the leader's CommitProcessor: applies through the
//! FinalRequestProcessor, then drops the txn from the leader's toBeApplied
//! list (which a learner joining meanwhile is sent from).
//!
//! Thread: called on the CommitProcessor thread.
//!
//! Mirrors: `Leader.ToBeAppliedRequestProcessor`.

use std::sync::Arc;

use super::leader::Leader;
use crate::server::request::Request;
use crate::server::request_processor::RequestProcessor;

/// ToBeApplied → Final.
pub struct ToBeAppliedRequestProcessor {
    leader: Arc<Leader>,
    /// The FinalRequestProcessor.
    next: Box<dyn RequestProcessor>,
}

impl ToBeAppliedRequestProcessor {
    /// The stage in front of Final.
    pub fn new(leader: Arc<Leader>, next: Box<dyn RequestProcessor>) -> Self {
        ToBeAppliedRequestProcessor { leader, next }
    }
}

impl RequestProcessor for ToBeAppliedRequestProcessor {
    fn process_request(&mut self, request: Request) {
        let zxid = request.zxid();
        self.next.process_request(request);
        if let Some(z) = zxid {
            self.leader.applied(z);
        }
    }

    fn shutdown(&mut self) {
        self.next.shutdown();
    }
}
