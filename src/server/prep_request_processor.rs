//! The first stage of the pipeline: turns each write into a txn.
//!
//! For every write, in arrival order, it assigns the next zxid *before*
//! validating (a write that fails validation is still logged, as an error
//! txn, and consumes its zxid, exactly as Java does), checks it against
//! the outstanding changes (see `change_record`), and builds the txn.
//! Reads only get their session checked; they travel the same queue so
//! that every session's replies come back in order.
//!
//! Thread: "ProcessThread", fed by a crossbeam channel from connection
//! threads, the session expirer and the container manager; hands each
//! request to the next stage on the same thread. The standalone server
//! runs it inline instead (`start_inline`): the submitting thread prepares
//! its request under Prep's lock and queues it for Sync, which saves a
//! thread hand-off per write.
//!
//! Mirrors: `org.apache.zookeeper.server.PrepRequestProcessor`.

use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{SystemTime, UNIX_EPOCH};

use crossbeam::channel::{unbounded, Receiver, Sender};
use log::{debug, error, info, warn};
use std::sync::Mutex;

use super::change_record::OutstandingChanges;
use super::prep_txn::{CreateFields, TxnBuilder};
use super::request::{Origin, Request};
use super::request_processor::RequestProcessor;
use super::server_state::ServerState;
use super::zookeeper_critical_thread;
use crate::jute::data::Acl;
use crate::jute::multi::{MultiOp, MultiOperationRecord};
use crate::jute::proto::{
    CheckVersionRequest, DeleteRequest, ReconfigRequest, SetAclRequest, SetDataRequest,
};
use crate::jute::txn::{
    CreateSessionTxn, ErrorTxn, MultiTxn, Txn, TxnBody, TxnDigest, TxnHeader, TxnLogEntry,
};
use crate::jute::{self, borrowed, InputArchive, Record};
use crate::keeper_exception::Code;
use crate::zoo_defs::op_code;

/// `DigestCalculator.DIGEST_VERSION`.
use super::digest_calculator::DIGEST_VERSION;

/// What the Prep thread receives. (A request is large next to the
/// shutdown marker, but it moves through the channel once; boxing it would
/// only add an allocation per request.)
#[allow(clippy::large_enum_variant)]
enum PrepMessage {
    Request(Request),
    /// Finish what is queued before this, then stop (and stop the next
    /// stage).
    Shutdown,
}

/// How Prep runs: on its own thread behind a queue, or on the submitting
/// thread under a lock.
#[derive(Clone)]
enum Mode {
    /// The "ProcessThread" and its queue.
    Threaded(Sender<PrepMessage>),
    /// The submitter runs Prep itself (see [`PrepRequestProcessor::start_inline`]).
    Inline(Arc<InlinePrep>),
}

/// Prep without a thread: the lock keeps zxid order equal to the order in
/// which requests reach the next stage.
struct InlinePrep {
    state: Arc<ServerState>,
    /// The next stage; `None` once shut down. A std mutex: under
    /// contention from many connection threads it parks after a short
    /// spin, where parking_lot's would `sched_yield` repeatedly.
    next: Mutex<Option<Box<dyn RequestProcessor>>>,
}

impl InlinePrep {
    fn submit(&self, mut request: Request) -> bool {
        let mut next = self
            .next
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let Some(next) = next.as_mut() else {
            return false;
        };
        debug!("Prep {:?}", request);
        let _critical = zookeeper_critical_thread::section();
        prepare(&self.state, &mut request);
        next.process_request(request);
        true
    }

    fn shutdown(&self) {
        let taken = self
            .next
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .take();
        if let Some(mut next) = taken {
            info!("PrepRequestProcessor exited loop!");
            next.shutdown();
        }
    }
}

/// A cheap, clonable handle to submit requests to Prep from any thread.
#[derive(Clone)]
pub struct PrepSubmitter {
    mode: Mode,
}

impl PrepSubmitter {
    /// Queues (or, inline, prepares and hands on) a request; false if Prep
    /// has stopped.
    pub fn submit(&self, request: Request) -> bool {
        match &self.mode {
            Mode::Threaded(sender) => sender.send(PrepMessage::Request(request)).is_ok(),
            Mode::Inline(inline) => inline.submit(request),
        }
    }
}

/// The Prep stage: its queue and thread, or its lock.
pub struct PrepRequestProcessor {
    mode: Mode,
    thread: Option<JoinHandle<()>>,
}

impl PrepRequestProcessor {
    /// Starts the Prep thread in front of `next`.
    pub fn start(
        state: Arc<ServerState>,
        next: Box<dyn RequestProcessor>,
    ) -> std::io::Result<Self> {
        let (sender, receiver) = unbounded();
        let thread = std::thread::Builder::new()
            .name("ProcessThread".into())
            .spawn(move || {
                zookeeper_critical_thread::mark();
                run(state, receiver, next)
            })?;
        Ok(PrepRequestProcessor {
            mode: Mode::Threaded(sender),
            thread: Some(thread),
        })
    }

    /// Prep without a thread: each submitter prepares its request and hands
    /// it to `next` itself, one at a time under a lock (a hand-off less per
    /// request). `next` must only queue (the standalone Sync stage does):
    /// it runs on client connection threads with the lock held.
    pub fn start_inline(state: Arc<ServerState>, next: Box<dyn RequestProcessor>) -> Self {
        info!("PrepRequestProcessor started (inline)");
        let inline = InlinePrep {
            state,
            next: Mutex::new(Some(next)),
        };
        PrepRequestProcessor {
            mode: Mode::Inline(Arc::new(inline)),
            thread: None,
        }
    }

    /// A handle for submitting requests.
    pub fn submitter(&self) -> PrepSubmitter {
        PrepSubmitter {
            mode: self.mode.clone(),
        }
    }
}

impl RequestProcessor for PrepRequestProcessor {
    fn process_request(&mut self, request: Request) {
        let _ = self.submitter().submit(request);
    }

    fn shutdown(&mut self) {
        info!("Shutting down");
        match &self.mode {
            Mode::Threaded(sender) => {
                let _ = sender.send(PrepMessage::Shutdown);
            }
            Mode::Inline(inline) => inline.shutdown(),
        }
        if let Some(t) = self.thread.take() {
            if t.join().is_err() {
                error!("PrepRequestProcessor thread panicked");
            }
        }
    }
}

/// The Prep loop.
fn run(
    state: Arc<ServerState>,
    receiver: Receiver<PrepMessage>,
    mut next: Box<dyn RequestProcessor>,
) {
    info!("PrepRequestProcessor started");
    while let Ok(PrepMessage::Request(mut request)) = receiver.recv() {
        debug!("Prep {:?}", request);
        prepare(&state, &mut request);
        next.process_request(request);
    }
    info!("PrepRequestProcessor exited loop!");
    next.shutdown();
}

/// Whether a client may send this opcode (Java's `Request.isValid`, 3.9.5:
/// top-level `check` is refused, ZOOKEEPER-2623).
pub fn is_valid_op(op: i32) -> bool {
    use op_code::*;
    matches!(
        op,
        CLOSE_SESSION
            | CREATE
            | CREATE2
            | CREATE_TTL
            | CREATE_CONTAINER
            | CREATE_SESSION
            | DELETE
            | DELETE_CONTAINER
            | EXISTS
            | GET_ACL
            | GET_CHILDREN
            | GET_ALL_CHILDREN_NUMBER
            | GET_CHILDREN2
            | GET_DATA
            | GET_EPHEMERALS
            | MULTI
            | MULTI_READ
            | PING
            | RECONFIG
            | SET_ACL
            | SET_DATA
            | SET_WATCHES
            | SET_WATCHES2
            | SYNC
            | CHECK_WATCHES
            | REMOVE_WATCHES
            | ADD_WATCH
            | WHO_AM_I
    )
}

/// Whether a request of `op` made by `origin` may be prepared. The
/// internal opcodes are the server's own: deleteContainer comes only from
/// the container manager (it checks no ACL: the manager chose a node that
/// is due), createSession only from a handshake or a learner forwarding
/// its session's. Java accepts both from any client and a learner (its
/// deleteContainer fails on the path it reads, so the node is kept); a
/// client's or learner's is answered BADARGUMENTS here, as Java answers it.
pub fn accepted_from(origin: Origin, op: i32) -> bool {
    match op {
        op_code::DELETE_CONTAINER => origin == Origin::Server,
        op_code::CREATE_SESSION => origin != Origin::Client,
        _ => true,
    }
}

/// The largest txn (header, body and digest) Prep lets through: what a
/// reader accepts as one txn log record, one PROPOSAL's data or one DIFF
/// entry, ours and Java's alike (`jute.maxbuffer` plus its extra size,
/// 2 MiB by default). A bigger write is refused with BADARGUMENTS before
/// it is logged or proposed; a closeSession is never refused (see
/// `single_write`).
///
/// closeSession lists the session's ephemerals so that a replay over a
/// fuzzy snapshot updates their parents exactly (ZOOKEEPER-3145). When the
/// list does not fit, the txn is written in the form logs had before that
/// list existed: no body and no digest. Java 3.8 and this server read it
/// by deleting the ephemerals the session holds in their tree, which is
/// the same set (every create of them comes earlier in zxid order). Only
/// that one txn loses the exact replay over a fuzzy snapshot; refusing
/// ephemeral creates instead could not cover sessions whose ephemerals
/// were created under another leader or another limit.
pub fn txn_limit() -> usize {
    jute::max_field_length()
}

/// Bytes of a txn around a multi's op list: header (32), digest (12),
/// the list's count (4).
const MULTI_OVERHEAD: usize = 48;

/// Leader wall clock for txn headers, ms since the epoch.
fn wall_time() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

/// A failure while preparing: a result code, or a body that did not decode.
enum PrepFailure {
    Code(Code),
    Undecodable(String),
}

impl From<Code> for PrepFailure {
    fn from(c: Code) -> Self {
        PrepFailure::Code(c)
    }
}

impl From<jute::Error> for PrepFailure {
    fn from(e: jute::Error) -> Self {
        PrepFailure::Undecodable(e.to_string())
    }
}

/// Fills in `request.txn` (writes) and `request.err` (failures).
pub fn prepare(state: &ServerState, request: &mut Request) {
    request.txn = None;
    let mut header: Option<TxnHeader> = None;
    match prepare_inner(state, request, &mut header) {
        Ok(()) => {}
        Err(PrepFailure::Code(code)) => {
            if code.as_i32() > Code::ApiError.as_i32() {
                info!(
                    "Got user-level KeeperException when processing {:?}: {}",
                    request, code
                );
            }
            if let Some(mut h) = header {
                h.r#type = op_code::ERROR;
                request.txn = Some(error_entry(h, code));
            }
            request.err = code;
        }
        Err(PrepFailure::Undecodable(why)) => {
            warn!("Failed to process {:?}: {}", request, why);
            // A write whose body does not decode still gets a zxid of its
            // own, as in Java 3.8 (which takes the zxid before reading the
            // body): its error txn follows the previous txn in every log.
            // (Java 3.9 reuses the current zxid, which puts two records
            // under one zxid in the log and, in an ensemble, proposes a
            // second txn under the last zxid: the client never hears back.)
            let zxid = if writes(request.op_type) {
                state.next_zxid()
            } else {
                state.zxid()
            };
            let mut h = header.unwrap_or_else(|| new_header(request, zxid));
            h.r#type = op_code::ERROR;
            request.txn = Some(error_entry(h, Code::MarshallingError));
            request.err = Code::MarshallingError;
        }
    }
}

/// Ops Prep turns into a txn (their failures become error txns).
fn writes(op: i32) -> bool {
    use op_code::*;
    matches!(
        op,
        CREATE
            | CREATE2
            | CREATE_TTL
            | CREATE_CONTAINER
            | DELETE
            | DELETE_CONTAINER
            | SET_DATA
            | SET_ACL
            | CHECK
            | RECONFIG
            | MULTI
            | CREATE_SESSION
            | CLOSE_SESSION
    )
}

fn new_header(request: &Request, zxid: i64) -> TxnHeader {
    TxnHeader {
        client_id: request.session_id,
        cxid: request.cxid,
        zxid,
        time: wall_time(),
        r#type: request.op_type,
    }
}

fn error_entry(header: TxnHeader, code: Code) -> TxnLogEntry {
    TxnLogEntry {
        header,
        body: TxnBody::Error(ErrorTxn { err: code.as_i32() }),
        digest: None,
    }
}

/// The per-opcode work. `header` is set as soon as a zxid is taken, so
/// the caller can turn a failure into an error txn with that zxid.
fn prepare_inner(
    state: &ServerState,
    request: &mut Request,
    header: &mut Option<TxnHeader>,
) -> Result<(), PrepFailure> {
    let op = request.op_type;
    if !accepted_from(request.origin, op) {
        warn!(
            "Refusing internal opcode {} from a {:?}: {:?}",
            op, request.origin, request
        );
        return single_write(state, request, header, |_| Err(Code::BadArguments));
    }
    match op {
        op_code::CREATE | op_code::CREATE2 | op_code::CREATE_CONTAINER | op_code::CREATE_TTL => {
            let fields = take_create(request)?;
            single_write(state, request, header, |b| b.create(op, fields))
        }
        op_code::DELETE_CONTAINER => {
            let path = decode_delete_container(&request.payload)?;
            single_write(state, request, header, |b| b.delete_container(&path))
        }
        op_code::DELETE => {
            let r: DeleteRequest = jute::from_bytes(&request.payload)?;
            single_write(state, request, header, |b| b.delete(&r.path, r.version))
        }
        op_code::SET_DATA => {
            let r = take_set_data(request)?;
            single_write(state, request, header, |b| b.set_data(r))
        }
        op_code::SET_ACL => {
            let r: SetAclRequest = jute::from_bytes(&request.payload)?;
            single_write(state, request, header, |b| b.set_acl(&r))
        }
        op_code::CHECK => {
            let r: CheckVersionRequest = jute::from_bytes(&request.payload)?;
            single_write(state, request, header, |b| b.check(&r))
        }
        op_code::RECONFIG => {
            let r: ReconfigRequest = jute::from_bytes(&request.payload)?;
            let proposer = state.reconfig.lock().clone();
            match (reconfig_refusal(state), proposer) {
                (Code::Ok, Some(proposer)) => single_write(state, request, header, |b| {
                    b.state.sessions.check_session(b.session_id, b.owner)?;
                    let text = proposer.prepare(&r, b.zxid)?;
                    b.reconfig(text)
                }),
                (Code::Ok, None) => {
                    single_write(state, request, header, |_| Err(Code::Unimplemented))
                }
                (code, _) => single_write(state, request, header, |_| Err(code)),
            }
        }
        op_code::MULTI => prepare_multi(state, request, header),
        // A local session is made and closed on its own server: no txn.
        op_code::CREATE_SESSION | op_code::CLOSE_SESSION if request.local_session => Ok(()),
        op_code::CREATE_SESSION => {
            let txn: CreateSessionTxn = jute::from_bytes(&request.payload)?;
            single_write(state, request, header, |b| Ok(b.create_session(txn)))
        }
        op_code::CLOSE_SESSION => single_write(state, request, header, |b| b.close_session()),
        _ if is_valid_op(op) => Ok(state
            .sessions
            .check_session(request.session_id, request.owner)?),
        _ => {
            warn!("unknown type {}", op);
            Ok(())
        }
    }
}

/// Decodes a create / create2 / createContainer / createTTL request (the
/// fields of `CreateRequest`, plus `CreateTtlRequest`'s ttl), its data
/// taking over the payload's allocation: the one copy of the bytes that
/// travels on in the txn. The payload is left empty.
fn take_create(request: &mut Request) -> Result<CreateFields, jute::Error> {
    let payload = &request.payload;
    let mut ia = InputArchive::new(&payload[..]);
    let path = ia.read_string()?;
    let data = data_range(payload, ia.read_buffer_ref()?);
    let acl: Vec<Acl> = Record::deserialize(&mut ia)?;
    let flags = ia.read_int()?;
    let ttl = if request.op_type == op_code::CREATE_TTL {
        ia.read_long()?
    } else {
        -1
    };
    let data = data.map(|range| borrowed::carve(std::mem::take(&mut request.payload), range));
    Ok(CreateFields {
        path,
        data,
        acl,
        flags,
        ttl,
    })
}

/// Decodes a setData request, its data taking over the payload (see
/// [`take_create`]).
fn take_set_data(request: &mut Request) -> Result<SetDataRequest, jute::Error> {
    let payload = &request.payload;
    let mut ia = InputArchive::new(&payload[..]);
    let path = ia.read_string()?;
    let data = data_range(payload, ia.read_buffer_ref()?);
    let version = ia.read_int()?;
    let data = data.map(|range| borrowed::carve(std::mem::take(&mut request.payload), range));
    Ok(SetDataRequest {
        path,
        data,
        version,
    })
}

/// Where a buffer read by `read_buffer_ref` lies in the payload.
fn data_range(payload: &[u8], field: Option<&[u8]>) -> Option<std::ops::Range<usize>> {
    // A slice the archive returned always lies inside its input.
    field.map(|d| borrowed::range_in(payload, d).unwrap_or(0..0))
}

/// RECONFIGDISABLED unless `reconfigEnabled=true`; then a leader
/// prepares it, and a standalone server answers UNIMPLEMENTED (Java's
/// standalone server is no leader).
fn reconfig_refusal(state: &ServerState) -> Code {
    if state.config.reconfig_enabled {
        Code::Ok
    } else {
        error!("Reconfig operation requested but reconfig feature is disabled.");
        Code::ReconfigDisabled
    }
}

/// deleteContainer's body: the path as a jute buffer (3.9). An internal
/// request, but clients can send the opcode too.
fn decode_delete_container(payload: &[u8]) -> Result<String, PrepFailure> {
    let bytes = InputArchive::new(payload)
        .read_buffer()?
        .unwrap_or_default();
    String::from_utf8(bytes).map_err(|_| PrepFailure::Undecodable("path is not UTF-8".into()))
}

/// Takes the next zxid, builds the txn under the outstanding-changes lock.
fn single_write<F>(
    state: &ServerState,
    request: &mut Request,
    header: &mut Option<TxnHeader>,
    build: F,
) -> Result<(), PrepFailure>
where
    F: FnOnce(&mut TxnBuilder<'_>) -> Result<TxnBody, Code>,
{
    let h = new_header(request, state.next_zxid());
    *header = Some(h.clone());
    let mut changes = state.outstanding.lock();
    let mut builder = builder(state, &mut changes, &h, request);
    let body = build(&mut builder)?;
    builder.finish_digest();
    let digest = builder.txn_digest.map(|d| TxnDigest {
        version: DIGEST_VERSION,
        tree_digest: d,
    });
    let mut entry = TxnLogEntry {
        header: h,
        body,
        digest,
    };
    let len = entry.serialized_len();
    if len > txn_limit() {
        if let TxnBody::CloseSession(Some(t)) = &entry.body {
            warn!(
                "closeSession of {:#x}: listing its {} ephemerals takes {} bytes, over the {} a reader accepts; \
                 logged without the list (readers delete the session's ephemerals they hold)",
                request.session_id,
                t.paths2_delete.len(),
                len,
                txn_limit()
            );
            entry.body = TxnBody::CloseSession(None);
            entry.digest = None;
        } else {
            warn!(
                "Refusing {:?}: its txn takes {} bytes, over the {} a reader accepts",
                request,
                len,
                txn_limit()
            );
            builder.changes.discard(entry.header.zxid);
            return Err(Code::BadArguments.into());
        }
    }
    request.txn = Some(entry);
    Ok(())
}

fn builder<'a>(
    state: &'a ServerState,
    changes: &'a mut OutstandingChanges,
    h: &TxnHeader,
    request: &'a Request,
) -> TxnBuilder<'a> {
    TxnBuilder {
        state,
        changes,
        zxid: h.zxid,
        time: h.time,
        session_id: request.session_id,
        owner: request.owner,
        refuse_ephemeral: request.err == Code::EphemeralOnLocalSession,
        auth_info: &request.auth_info,
        txn_digest: None,
    }
}

/// multi: one zxid for all ops. The first failing op turns the whole multi
/// into error sub-txns at apply time: ops before it keep their txns (the
/// tree reports them as err 0), it gets its code, the rest get
/// RUNTIMEINCONSISTENCY; its pending changes are rolled back.
fn prepare_multi(
    state: &ServerState,
    request: &mut Request,
    header: &mut Option<TxnHeader>,
) -> Result<(), PrepFailure> {
    let zxid = state.next_zxid();
    let h = TxnHeader {
        r#type: op_code::MULTI,
        ..new_header(request, zxid)
    };
    *header = Some(h.clone());
    let record: MultiOperationRecord = jute::from_bytes(&request.payload)?;
    if record.ops.iter().any(MultiOp::is_read) {
        return Err(PrepFailure::Undecodable("read op in a write multi".into()));
    }
    let mut changes = state.outstanding.lock();
    let snapshot = changes.snapshot(record.ops.iter().map(MultiOp::path));
    let mut failure: Option<Code> = None;
    let mut txns = Vec::with_capacity(record.ops.len());
    let mut builder = builder(state, &mut changes, &h, request);
    // Bytes of the op list so far, and the op that took it over the limit.
    let budget = txn_limit().saturating_sub(MULTI_OVERHEAD);
    let mut total = 0usize;
    let mut oversized_at: Option<usize> = None;
    for (i, op) in record.ops.iter().enumerate() {
        let (txn_type, bytes) = match failure {
            Some(_) => (
                op_code::ERROR,
                error_body(Code::RuntimeInconsistency).to_bytes(),
            ),
            None => match multi_op_txn(&mut builder, op).map(|b| b.to_bytes()) {
                Ok(bytes) if total + 8 + bytes.len() > budget => {
                    warn!("Refusing multi {:?}: its txn passes the {} bytes a reader accepts at op {}", request, txn_limit(), i);
                    failure = Some(Code::BadArguments);
                    oversized_at = Some(i);
                    builder.changes.rollback(zxid, &snapshot);
                    (op_code::ERROR, error_body(Code::BadArguments).to_bytes())
                }
                Ok(bytes) => (op.op_code(), bytes),
                Err(code) => {
                    info!(
                        "Multi op {} on {} failed: {}; aborting the rest",
                        op.op_code(),
                        op.path(),
                        code
                    );
                    failure = Some(code);
                    builder.changes.rollback(zxid, &snapshot);
                    (op_code::ERROR, error_body(code).to_bytes())
                }
            },
        };
        total += 8 + bytes.len();
        txns.push(Txn {
            r#type: txn_type,
            data: Some(bytes),
        });
    }
    if let Some(at) = oversized_at {
        // The ops before the one that did not fit would be applied as
        // errors with code 0 anyway: written so, the txn stays small.
        for txn in &mut txns[..at] {
            *txn = Txn {
                r#type: op_code::ERROR,
                data: Some(error_body(Code::Ok).to_bytes()),
            };
        }
    }
    builder.txn_digest = None;
    builder.finish_digest();
    let digest = builder.txn_digest.map(|d| TxnDigest {
        version: DIGEST_VERSION,
        tree_digest: d,
    });
    request.txn = Some(TxnLogEntry {
        header: h,
        body: TxnBody::Multi(MultiTxn { txns }),
        digest,
    });
    if let Some(code) = failure {
        request.err = code;
    }
    Ok(())
}

fn error_body(code: Code) -> TxnBody {
    TxnBody::Error(ErrorTxn { err: code.as_i32() })
}

/// One write op of a multi.
fn multi_op_txn(b: &mut TxnBuilder<'_>, op: &MultiOp) -> Result<TxnBody, Code> {
    match op {
        MultiOp::Create(code, r) => b.create(
            *code,
            CreateFields {
                path: r.path.clone(),
                data: r.data.clone(),
                acl: r.acl.clone(),
                flags: r.flags,
                ttl: -1,
            },
        ),
        MultiOp::CreateTtl(r) => b.create(
            op_code::CREATE_TTL,
            CreateFields {
                path: r.path.clone(),
                data: r.data.clone(),
                acl: r.acl.clone(),
                flags: r.flags,
                ttl: r.ttl,
            },
        ),
        MultiOp::Delete(r) => b.delete(&r.path, r.version),
        MultiOp::SetData(r) => b.set_data(r.clone()),
        MultiOp::Check(r) => b.check(r),
        MultiOp::GetChildren(_) | MultiOp::GetData(_) => Err(Code::MarshallingError),
    }
}

/// Builds the payload of an internal deleteContainer request.
pub fn delete_container_payload(path: &str) -> Vec<u8> {
    let mut oa = jute::OutputArchive::new(Vec::new());
    // Writing to a Vec cannot fail.
    let _ = oa.write_buffer(Some(path.as_bytes()));
    oa.into_inner()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn top_level_check_and_unknown_ops_are_invalid() {
        assert!(!is_valid_op(op_code::CHECK));
        assert!(!is_valid_op(op_code::NOTIFICATION));
        assert!(!is_valid_op(10));
        assert!(
            !is_valid_op(op_code::AUTH),
            "auth never reaches the pipeline"
        );
        assert!(!is_valid_op(op_code::SASL));
        assert!(is_valid_op(op_code::MULTI_READ));
        assert!(is_valid_op(op_code::WHO_AM_I));
    }

    #[test]
    fn internal_opcodes_only_from_their_makers() {
        use Origin::*;
        assert!(accepted_from(Server, op_code::DELETE_CONTAINER));
        assert!(!accepted_from(Client, op_code::DELETE_CONTAINER));
        assert!(!accepted_from(Learner, op_code::DELETE_CONTAINER));
        assert!(accepted_from(Server, op_code::CREATE_SESSION));
        assert!(
            accepted_from(Learner, op_code::CREATE_SESSION),
            "a follower forwards its sessions' createSession"
        );
        assert!(!accepted_from(Client, op_code::CREATE_SESSION));
        for origin in [Client, Learner, Server] {
            assert!(accepted_from(origin, op_code::CLOSE_SESSION));
            assert!(accepted_from(origin, op_code::DELETE));
        }
    }

    #[test]
    fn delete_container_payload_round_trips() {
        let p = delete_container_payload("/c");
        assert_eq!(p, vec![0, 0, 0, 2, b'/', b'c']);
        assert_eq!(decode_delete_container(&p).ok(), Some("/c".to_string()));
        assert!(decode_delete_container(&[0, 0]).is_err());
    }
}
