//! The leader's own ACK: the last stage after the leader's
//! SyncRequestProcessor, so the leader acks a txn only once it is on its
//! disk.
//!
//! Thread: called on the leader's SyncThread.
//!
//! Mirrors: `org.apache.zookeeper.server.quorum.AckRequestProcessor`.

use std::sync::Arc;

use log::debug;

use super::leader::Leader;
use crate::server::request::Request;
use crate::server::request_processor::RequestProcessor;

/// Acks logged txns for the leader.
pub struct AckRequestProcessor {
    leader: Arc<Leader>,
}

impl AckRequestProcessor {
    /// The stage for `leader`.
    pub fn new(leader: Arc<Leader>) -> AckRequestProcessor {
        AckRequestProcessor { leader }
    }
}

impl RequestProcessor for AckRequestProcessor {
    fn process_request(&mut self, request: Request) {
        if let Some(zxid) = request.zxid() {
            self.leader.process_ack(self.leader.my_id, zxid);
        }
    }

    fn shutdown(&mut self) {
        debug!("Shutting down AckRequestProcessor");
    }
}
