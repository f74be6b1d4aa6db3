//! A request travelling down the processor chain.
//!
//! Created by a connection thread (or internally: session expiry, the
//! container manager), filled in by the PrepRequestProcessor (txn, zxid or
//! error), logged by the SyncRequestProcessor and answered by the
//! FinalRequestProcessor.
//!
//! Mirrors: `org.apache.zookeeper.server.Request`.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Instant;

use super::server_cnxn::ServerCnxn;
use crate::jute::data::Id;
use crate::jute::txn::TxnLogEntry;
use crate::keeper_exception::Code;

/// One client (or internal) request.
pub struct Request {
    /// The connection to answer; `None` for internal requests (expiry,
    /// container deletion) and requests whose connection is gone.
    pub cnxn: Option<Arc<dyn ServerCnxn>>,
    /// The session the request belongs to (0 for server-internal txns).
    pub session_id: i64,
    /// The client's xid, echoed in the reply.
    pub cxid: i32,
    /// The opcode (`zoo_defs::op_code`).
    pub op_type: i32,
    /// The request record's bytes (what follows the RequestHeader).
    pub payload: Vec<u8>,
    /// The connection's identities when the request was submitted.
    pub auth_info: Vec<Id>,
    /// When the request entered the server (for latency stats).
    pub create_time: Instant,
    /// The transaction Prep built for a write; `None` for reads.
    pub txn: Option<TxnLogEntry>,
    /// The failure Prep found (the txn is then an error txn), else `Ok`.
    pub err: Code,
    /// Counts this request in its connection's "in the pipeline" figure
    /// until it is dropped (after Final answered it); `None` for internal
    /// requests and handlers that do not track it.
    pub pending: Option<PendingToken>,
}

/// One unit of a connection's in-pipeline count, given back on drop. The
/// connection answers a read on its own thread only while the count is 0,
/// so no read overtakes an earlier request of the same session. The
/// decrement is a release after the reply was queued; the reader's check
/// is an acquire, so it also sees the tree as that reply saw it.
pub struct PendingToken(Arc<AtomicUsize>);

impl PendingToken {
    /// Counts one more request in `counter`.
    pub fn new(counter: &Arc<AtomicUsize>) -> PendingToken {
        counter.fetch_add(1, Ordering::AcqRel);
        PendingToken(Arc::clone(counter))
    }

    /// True if no request is counted in `counter`.
    pub fn is_idle(counter: &AtomicUsize) -> bool {
        counter.load(Ordering::Acquire) == 0
    }
}

impl Drop for PendingToken {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

impl Request {
    /// A request as it arrives from a connection or an internal source.
    pub fn new(
        cnxn: Option<Arc<dyn ServerCnxn>>,
        session_id: i64,
        cxid: i32,
        op_type: i32,
        payload: Vec<u8>,
        auth_info: Vec<Id>,
    ) -> Request {
        Request {
            cnxn,
            session_id,
            cxid,
            op_type,
            payload,
            auth_info,
            create_time: Instant::now(),
            txn: None,
            err: Code::Ok,
            pending: None,
        }
    }

    /// The zxid Prep assigned, if this request is a txn.
    pub fn zxid(&self) -> Option<i64> {
        self.txn.as_ref().map(|t| t.header.zxid)
    }
}

impl std::fmt::Debug for Request {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "Request(session={:#x} cxid={} type={} zxid={:?} err={:?})",
            self.session_id, self.cxid, self.op_type, self.zxid(), self.err
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_count_until_dropped() {
        let counter = Arc::new(AtomicUsize::new(0));
        let a = PendingToken::new(&counter);
        let b = PendingToken::new(&counter);
        assert!(!PendingToken::is_idle(&counter));
        drop(a);
        assert_eq!(counter.load(Ordering::SeqCst), 1);
        drop(b);
        assert!(PendingToken::is_idle(&counter));
    }
}
