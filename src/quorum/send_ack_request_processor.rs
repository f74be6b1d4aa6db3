//! The follower's last logging stage: once a proposal is durable in the
//! txn log, tell the leader with an ACK carrying its zxid.
//!
//! Thread: called on the SyncThread after each group fsync (it is the
//! SyncRequestProcessor's next stage), so an ACK never precedes the fsync
//! of its txn. Writing goes through the shared leader link; a failed write
//! closes the link, which ends the follower's role.
//!
//! Mirrors: `org.apache.zookeeper.server.quorum.SendAckRequestProcessor`.

use std::sync::Arc;

use log::debug;

use super::learner::LeaderWriter;
use super::quorum_packet::{self, packet};
use crate::server::request::Request;
use crate::server::request_processor::RequestProcessor;
use crate::zoo_defs::op_code;

/// Sends one ACK per logged proposal.
pub struct SendAckRequestProcessor {
    /// The link to the leader (shared with the role thread).
    leader: Arc<LeaderWriter>,
}

impl SendAckRequestProcessor {
    /// A stage writing to `leader`.
    pub fn new(leader: Arc<LeaderWriter>) -> SendAckRequestProcessor {
        SendAckRequestProcessor { leader }
    }
}

/// The zxid to acknowledge for a request leaving the sync stage, if any:
/// txns only, and never a `sync`.
pub fn ack_zxid(request: &Request) -> Option<i64> {
    if request.op_type == op_code::SYNC {
        return None;
    }
    request.zxid()
}

impl RequestProcessor for SendAckRequestProcessor {
    fn process_request(&mut self, request: Request) {
        if let Some(zxid) = ack_zxid(&request) {
            debug!("ACK 0x{:x}", zxid);
            // A failure has closed the link; the role thread notices.
            let _ = self
                .leader
                .write_packet(&packet(quorum_packet::ACK, zxid, None));
        }
    }

    fn shutdown(&mut self) {
        debug!("SendAckRequestProcessor shut down");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::jute::txn::{CreateSessionTxn, TxnBody, TxnHeader, TxnLogEntry};

    #[test]
    fn only_txns_are_acked() {
        let mut r = Request::new(None, 1, 0, op_code::CREATE_SESSION, Vec::new(), Vec::new());
        assert_eq!(ack_zxid(&r), None);
        r.txn = Some(TxnLogEntry {
            header: TxnHeader {
                client_id: 1,
                cxid: 0,
                zxid: 0x1_0000_0002,
                time: 0,
                r#type: op_code::CREATE_SESSION,
            },
            body: TxnBody::CreateSession(CreateSessionTxn { time_out: 3000 }),
            digest: None,
        });
        assert_eq!(ack_zxid(&r), Some(0x1_0000_0002));
        r.op_type = op_code::SYNC;
        assert_eq!(ack_zxid(&r), None);
    }
}
