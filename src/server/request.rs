//! A request travelling down the processor chain.
//!
//! Created by a connection thread (or internally: session expiry, the
//! container manager), filled in by the PrepRequestProcessor (txn, zxid or
//! error), logged by the SyncRequestProcessor and answered by the
//! FinalRequestProcessor.
//!
//! Mirrors: `org.apache.zookeeper.server.Request`.

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
