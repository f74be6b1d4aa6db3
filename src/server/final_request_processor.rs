//! The last stage: apply the txn, answer the client.
//!
//! For a write it applies the txn to the database (the tree fires the
//! watches it triggers, which queues the notifications before our reply),
//! drops the txn's outstanding changes, and answers with the result. Reads
//! are executed here, against the tree as it is after every earlier txn,
//! which is what keeps a session's replies in order and makes a watch
//! event arrive before the reply of any later read that shows the change.
//!
//! Thread: synchronous, called on the Sync thread (after the txn is
//! durable), or on a connection thread for a read of a session with
//! nothing in the pipeline. Never blocks on the network: replies are
//! appended to the connection's buffer and sent without blocking.
//!
//! Mirrors: `org.apache.zookeeper.server.FinalRequestProcessor` and
//! `ZooKeeperServer.processTxn`.

use std::sync::Arc;

use log::{debug, warn};

use super::data_tree::ProcessTxnResult;
use super::final_reads;
use super::java_random::JavaRandom;
use super::request::{self, Request};
use super::request_processor::RequestProcessor;
use super::server_cnxn::cork;
use super::server_cnxn::{CloseReason, ServerCnxn};
use super::server_metrics;
use super::server_state::ServerState;
use crate::jute::data::Stat;
use crate::jute::multi::{MultiResponse, OpResult};
use crate::jute::proto::{
    ConnectResponse, GetDataResponse, ReplyHeader, SetAclResponse, SetDataResponse,
};
use crate::jute::txn::TxnBody;
use crate::jute::{self, OutputArchive, Record};
use crate::keeper_exception::Code;
use crate::zoo_defs::{op_code, xid};

/// Java's `ZooKeeperServer.superSecret`, mixed into password seeds.
const SUPER_SECRET: i64 = 0xB341_5C00;

/// The password of a session: regenerated, never stored (§3.4).
pub fn generate_passwd(session_id: i64) -> Vec<u8> {
    let mut p = vec![0u8; 16];
    JavaRandom::new(session_id ^ SUPER_SECRET).next_bytes(&mut p);
    p
}

/// The Final stage.
pub struct FinalRequestProcessor {
    state: Arc<ServerState>,
}

impl FinalRequestProcessor {
    /// A Final stage over the shared server state.
    pub fn new(state: Arc<ServerState>) -> FinalRequestProcessor {
        FinalRequestProcessor { state }
    }
}

impl RequestProcessor for FinalRequestProcessor {
    fn process_request(&mut self, request: Request) {
        process(&self.state, request);
    }

    fn shutdown(&mut self) {
        debug!("shutdown of request processor complete");
    }
}

/// What the reply carries: the code and, if there is one, the body.
pub(crate) struct Outcome {
    pub err: Code,
    pub body: Option<Vec<u8>>,
}

impl Outcome {
    pub(crate) fn ok(body: Option<Vec<u8>>) -> Outcome {
        Outcome {
            err: Code::Ok,
            body,
        }
    }

    pub(crate) fn of<R: Record>(err: Code, record: &R) -> Outcome {
        Outcome {
            err,
            body: Some(jute::to_bytes(record)),
        }
    }

    pub(crate) fn error(err: Code) -> Outcome {
        Outcome { err, body: None }
    }
}

/// Applies and answers one request, then recycles its large buffers.
pub fn process(state: &ServerState, request: Request) {
    answer(state, &request);
    request::recycle_buffers(request);
}

/// Applies and answers one request.
fn answer(state: &ServerState, request: &Request) {
    debug!("Processing request:: {:?}", request);
    // Frames produced here (watch events under the tree lock, the reply)
    // are written after the lock is released, or at the end of the
    // caller's batch if it corked.
    let _cork = cork();
    let rc = apply(state, request);
    let Some(cnxn) = request.cnxn.clone() else {
        if request.op_type == op_code::CLOSE_SESSION {
            // Expiry (or a client whose connection is gone): drop the
            // session's connection, if it still has one.
            state.close_session_cnxn(request.session_id, CloseReason::SessionExpired);
        }
        return;
    };
    let last_zxid = state.zkdb.last_processed_zxid();
    state.dec_in_process();
    state
        .stats
        .update_latency(request.create_time.elapsed().as_millis() as i64);
    server_metrics::record_latency(request);
    match request.op_type {
        op_code::PING if request.err == Code::Ok => {
            let header = ReplyHeader {
                xid: xid::PING,
                zxid: last_zxid,
                err: 0,
            };
            cnxn.send_response(&header, None);
            return;
        }
        op_code::CREATE_SESSION if !is_error_txn(request) => {
            finish_new_session(state, &*cnxn, request);
            return;
        }
        _ => {}
    }
    let outcome = match failure_of(request) {
        Some(err) => Outcome::error(err),
        None => respond(state, request, &cnxn, rc.as_ref()),
    };
    server_metrics::record_read(request, outcome.err, outcome.body.as_deref());
    if outcome.err == Code::SessionMoved {
        cnxn.close(CloseReason::BadRequest);
        return;
    }
    let header = ReplyHeader {
        xid: request.cxid,
        zxid: last_zxid,
        err: outcome.err.as_i32(),
    };
    cnxn.send_response(&header, outcome.body.as_deref());
    if request.op_type == op_code::CLOSE_SESSION {
        state.unbind_cnxn(request.session_id, cnxn.watcher_id());
        cnxn.close(CloseReason::ClientClosedSession);
    }
}

/// Session bookkeeping, then the txn (if any) under the outstanding lock.
fn apply(state: &ServerState, request: &Request) -> Option<ProcessTxnResult> {
    match (request.op_type, request.txn.as_ref().map(|t| &t.body)) {
        (op_code::CREATE_SESSION, Some(TxnBody::CreateSession(t))) => {
            state
                .sessions
                .commit_session(request.session_id, t.time_out);
        }
        (op_code::CLOSE_SESSION, _) => state.sessions.remove_session(request.session_id),
        _ => {}
    }
    let entry = request.txn.as_ref()?;
    let mut changes = state.outstanding.lock();
    let rc = state.zkdb.process_txn(entry);
    server_metrics::record_txn(entry);
    changes.remove_applied(entry.header.zxid);
    Some(rc)
}

fn is_error_txn(request: &Request) -> bool {
    request
        .txn
        .as_ref()
        .is_some_and(|t| t.header.r#type == op_code::ERROR)
}

/// The code a request failed with in Prep: its error txn's code, or a
/// session failure of a read. A multi's failures are in its results.
fn failure_of(request: &Request) -> Option<Code> {
    if let Some(entry) = &request.txn {
        if entry.header.r#type == op_code::ERROR {
            // The code found here first wins (a learner knows a refused
            // upgrade as EPHEMERALONLOCALSESSION; the leader only saw an
            // unknown session).
            if request.err != Code::Ok {
                return Some(request.err);
            }
            return Some(match &entry.body {
                TxnBody::Error(e) => Code::from_i32(e.err).unwrap_or(request.err),
                _ => request.err,
            });
        }
    }
    (request.err != Code::Ok && request.op_type != op_code::MULTI).then_some(request.err)
}

/// createSession applied: the handshake answer.
fn finish_new_session(state: &ServerState, cnxn: &dyn ServerCnxn, request: &Request) {
    let timeout = match request.txn.as_ref().map(|t| &t.body) {
        Some(TxnBody::CreateSession(t)) => t.time_out,
        // A local session: no txn, the tracker has its timeout.
        _ => state
            .sessions
            .session_timeout(request.session_id)
            .unwrap_or(0),
    };
    let response = ConnectResponse {
        protocol_version: 0,
        time_out: timeout,
        session_id: request.session_id,
        passwd: Some(generate_passwd(request.session_id)),
        read_only: Some(state.read_only.load(std::sync::atomic::Ordering::Relaxed)),
    };
    debug!(
        "Established session {:#x} with negotiated timeout {}",
        request.session_id, timeout
    );
    cnxn.finish_session_init(response, true);
}

/// The reply of a request Prep accepted.
fn respond(
    state: &ServerState,
    request: &Request,
    cnxn: &Arc<dyn ServerCnxn>,
    rc: Option<&ProcessTxnResult>,
) -> Outcome {
    if let (Some(rc), op_code::RECONFIG) = (rc, request.op_type) {
        // The new config (now in /zookeeper/config) and the node's stat.
        let err = Code::from_i32(rc.err.as_i32()).unwrap_or(Code::SystemError);
        let data = state
            .zkdb
            .tree
            .read()
            .get_node(crate::server::data_tree::CONFIG_ZOOKEEPER)
            .and_then(|n| n.data.as_deref().map(<[u8]>::to_vec));
        let stat = rc.stat.clone().unwrap_or_default();
        return Outcome::of(err, &GetDataResponse { data, stat });
    }
    if let Some(rc) = rc {
        if let Some(outcome) = write_reply(request.op_type, rc) {
            return outcome;
        }
    }
    match final_reads::read_reply(state, request, cnxn) {
        Ok(outcome) => outcome,
        Err(err) => Outcome::error(err),
    }
}

/// The reply of an applied write; `None` if `op` is not a write.
fn write_reply(op: i32, rc: &ProcessTxnResult) -> Option<Outcome> {
    let err = Code::from_i32(rc.err.as_i32()).unwrap_or(Code::SystemError);
    let stat = rc.stat.clone().unwrap_or_default();
    Some(match op {
        op_code::CREATE => created(err, &rc.path, None),
        op_code::CREATE2 | op_code::CREATE_TTL | op_code::CREATE_CONTAINER => {
            created(err, &rc.path, Some(&stat))
        }
        op_code::DELETE | op_code::DELETE_CONTAINER | op_code::CLOSE_SESSION => Outcome::error(err),
        op_code::SET_DATA | op_code::CHECK => Outcome::of(err, &SetDataResponse { stat }),
        op_code::SET_ACL => Outcome::of(err, &SetAclResponse { stat }),
        op_code::MULTI => multi_reply(rc),
        _ => return None,
    })
}

/// The body of a `CreateResponse` (no stat) or `Create2Response`, written
/// straight from the applied path into one buffer of the right size.
fn created(err: Code, path: &str, stat: Option<&Stat>) -> Outcome {
    /// A Stat on the wire: 6 longs and 5 ints.
    const STAT_BYTES: usize = 68;
    let mut body = Vec::with_capacity(4 + path.len() + STAT_BYTES);
    let mut oa = OutputArchive::new(&mut body);
    // Writing to a Vec cannot fail.
    let _ = oa.write_string(path);
    if let Some(stat) = stat {
        let _ = stat.serialize(&mut oa);
    }
    Outcome {
        err,
        body: Some(body),
    }
}

/// A multi's results, one per op (Java's `MultiResponse`).
fn multi_reply(rc: &ProcessTxnResult) -> Outcome {
    let mut results = Vec::with_capacity(rc.multi_result.len());
    for sub in &rc.multi_result {
        let stat = || sub.stat.clone().unwrap_or_default();
        results.push(match sub.op_type {
            op_code::CHECK => OpResult::Check,
            op_code::CREATE => OpResult::Create {
                path: sub.path.clone(),
            },
            op_code::CREATE2 | op_code::CREATE_TTL | op_code::CREATE_CONTAINER => {
                OpResult::Create2 {
                    path: sub.path.clone(),
                    stat: stat(),
                }
            }
            op_code::DELETE | op_code::DELETE_CONTAINER => OpResult::Delete,
            op_code::SET_DATA => OpResult::SetData { stat: stat() },
            op_code::ERROR => {
                if sub.err == Code::SessionMoved {
                    return Outcome::error(Code::SessionMoved);
                }
                OpResult::Error {
                    err: sub.err.as_i32(),
                }
            }
            other => {
                warn!("Invalid type of op {} in a multi result", other);
                return Outcome::error(Code::MarshallingError);
            }
        });
    }
    Outcome::of(Code::Ok, &MultiResponse { results })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn create_replies_are_the_records_bytes() {
        use crate::jute::proto::{Create2Response, CreateResponse};
        let stat = Stat {
            czxid: 5,
            mzxid: -1,
            ctime: 9,
            data_length: 1024,
            num_children: 3,
            pzxid: 7,
            ..Default::default()
        };
        let plain = created(Code::Ok, "/a/b-0000000001", None).body.unwrap();
        assert_eq!(
            plain,
            jute::to_bytes(&CreateResponse {
                path: "/a/b-0000000001".into()
            })
        );
        let with_stat = created(Code::Ok, "/a", Some(&stat)).body.unwrap();
        assert_eq!(
            with_stat,
            jute::to_bytes(&Create2Response {
                path: "/a".into(),
                stat: stat.clone()
            })
        );
        assert_eq!(with_stat.capacity(), with_stat.len(), "sized exactly");
    }

    #[test]
    fn passwords_are_javas() {
        let hex: String = generate_passwd(0x0001_0000_0000_0000)
            .iter()
            .map(|b| format!("{:02x}", b))
            .collect();
        assert_eq!(hex, "f22acd4a97e69d6d20a49bb638eadb38");
    }

    fn sub(op_type: i32, err: Code) -> ProcessTxnResult {
        ProcessTxnResult {
            client_id: 1,
            cxid: 1,
            zxid: 5,
            op_type,
            err,
            path: "/a".into(),
            stat: None,
            multi_result: Vec::new(),
        }
    }

    #[test]
    fn failed_multi_reports_each_op() {
        let mut rc = sub(op_code::MULTI, Code::NodeExists);
        rc.multi_result = vec![
            sub(op_code::ERROR, Code::Ok),
            sub(op_code::ERROR, Code::NodeExists),
            sub(op_code::ERROR, Code::RuntimeInconsistency),
        ];
        let out = multi_reply(&rc);
        assert_eq!(out.err, Code::Ok, "the header of a failed multi says OK");
        let resp: MultiResponse = jute::from_bytes(&out.body.unwrap()).unwrap();
        let errs: Vec<i32> = resp
            .results
            .iter()
            .map(|r| match r {
                OpResult::Error { err } => *err,
                other => panic!("{:?}", other),
            })
            .collect();
        assert_eq!(errs, vec![0, -110, -2]);
    }

    #[test]
    fn successful_multi_results_by_type() {
        let mut rc = sub(op_code::MULTI, Code::Ok);
        rc.multi_result = vec![
            sub(op_code::CREATE, Code::Ok),
            sub(op_code::CREATE2, Code::Ok),
            sub(op_code::CHECK, Code::Ok),
        ];
        let resp: MultiResponse = jute::from_bytes(&multi_reply(&rc).body.unwrap()).unwrap();
        assert!(matches!(resp.results[0], OpResult::Create { .. }));
        assert!(matches!(resp.results[1], OpResult::Create2 { .. }));
        assert_eq!(resp.results[2], OpResult::Check);
    }
}
