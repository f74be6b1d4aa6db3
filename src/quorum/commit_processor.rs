//! Holds each session's writes until the quorum commits them, and keeps
//! every session's reads behind its own pending writes, so a client sees
//! its requests answered in the order it sent them while other sessions'
//! reads go straight through.
//!
//! Used by the leader (after the ProposalRequestProcessor; the leader
//! commits when a quorum acked) and by followers (after the
//! FollowerRequestProcessor; the follower commits on COMMIT from the
//! leader, and, with `match_syncs`, on SYNC for a forwarded `sync`).
//!
//! Thread: "CommitProcessor:<sid>", owned here. `process_request` (the
//! previous stage) and [`Committer::commit`] (any thread) only queue; the
//! thread calls the next stage (ToBeApplied/Final) itself, so writes are
//! applied in commit order. It corks the client connections while it
//! drains what is queued, so a burst of commits reaches each client as
//! one socket write of all its replies and watch events.
//!
//! Matching: a committed request is matched to the head of its session's
//! pending queue by (sessionId, cxid); the local request (which carries the
//! client's connection) goes on with the committed txn. A committed
//! request with no local twin (another server's client, or internal) goes
//! on as it came.
//!
//! Mirrors: `org.apache.zookeeper.server.quorum.CommitProcessor` (one
//! worker: the thread that commits also applies).

use std::collections::{HashMap, VecDeque};
use std::thread::JoinHandle;

use crossbeam::channel::{self, Receiver, Sender};
use log::{error, info, warn};

use crate::server::request::Request;
use crate::server::request_processor::RequestProcessor;
use crate::server::server_cnxn::cork;
use crate::server::zookeeper_critical_thread;
use crate::zoo_defs::op_code;

/// Whether a request must wait for a commit (`CommitProcessor.needCommit`).
/// `match_syncs`: a follower's forwarded `sync` waits for the leader's SYNC.
pub fn needs_commit(op: i32, match_syncs: bool) -> bool {
    match op {
        op_code::CREATE
        | op_code::CREATE2
        | op_code::CREATE_TTL
        | op_code::CREATE_CONTAINER
        | op_code::DELETE
        | op_code::DELETE_CONTAINER
        | op_code::SET_DATA
        | op_code::RECONFIG
        | op_code::MULTI
        | op_code::SET_ACL
        | op_code::CHECK
        | op_code::CREATE_SESSION
        | op_code::CLOSE_SESSION => true,
        op_code::SYNC => match_syncs,
        _ => false,
    }
}

/// [`needs_commit`] for a request: a local session's createSession and
/// closeSession have no txn and go on like reads.
pub fn request_needs_commit(request: &Request, match_syncs: bool) -> bool {
    let local = request.local_session
        && matches!(
            request.op_type,
            op_code::CREATE_SESSION | op_code::CLOSE_SESSION
        );
    !local && needs_commit(request.op_type, match_syncs)
}

/// The ordering decisions, without threads (unit-tested).
pub struct CommitQueue {
    /// Per session: requests waiting (a write at the head; reads and
    /// later writes behind it).
    pending: HashMap<i64, VecDeque<Request>>,
    /// See [`needs_commit`].
    match_syncs: bool,
}

impl CommitQueue {
    /// An empty queue.
    pub fn new(match_syncs: bool) -> CommitQueue {
        CommitQueue {
            pending: HashMap::new(),
            match_syncs,
        }
    }

    /// A request from the previous stage: returns it at once if it may go
    /// on (a read with nothing pending in its session), else holds it.
    pub fn on_request(&mut self, request: Request) -> Option<Request> {
        let write = request_needs_commit(&request, self.match_syncs);
        match self.pending.get_mut(&request.session_id) {
            Some(q) => {
                q.push_back(request);
                None
            }
            None if write => {
                self.pending
                    .insert(request.session_id, VecDeque::from([request]));
                None
            }
            None => Some(request),
        }
    }

    /// A committed request: returns what goes on now, in order: the
    /// committed write (as its local twin when there is one), then the
    /// session's reads that were waiting behind it.
    pub fn on_commit(&mut self, committed: Request) -> Vec<Request> {
        let sid = committed.session_id;
        let Some(queue) = self.pending.get_mut(&sid) else {
            return vec![committed];
        };
        let matches = queue
            .front()
            .is_some_and(|head| head.cxid == committed.cxid);
        if !matches {
            if let Some(head) = queue.front() {
                warn!(
                    "Got cxid 0x{:x} expected 0x{:x} for client session id 0x{:x}",
                    committed.cxid, head.cxid, sid
                );
            }
            return vec![committed];
        }
        let mut local = queue.pop_front().expect("front checked");
        if committed.txn.is_some() {
            local.txn = committed.txn;
            if local.err == crate::keeper_exception::Code::Ok {
                local.err = committed.err;
            }
        }
        let mut out = vec![local];
        while let Some(next) = queue.front() {
            if request_needs_commit(next, self.match_syncs) {
                break;
            }
            out.push(queue.pop_front().expect("front checked"));
        }
        if queue.is_empty() {
            self.pending.remove(&sid);
        }
        out
    }

    /// Requests held (for shutdown logging and tests).
    pub fn held(&self) -> usize {
        self.pending.values().map(VecDeque::len).sum()
    }
}

/// What the thread receives.
enum Item {
    Request(Box<Request>),
    Commit(Box<Request>),
    Shutdown,
}

/// A clonable handle to commit requests from any thread.
#[derive(Clone)]
pub struct Committer {
    queue: Sender<Item>,
}

impl Committer {
    /// Hands a committed request to the processor (false once stopped).
    pub fn commit(&self, request: Request) -> bool {
        self.queue.send(Item::Commit(Box::new(request))).is_ok()
    }
}

/// The stage: its queue and thread.
pub struct CommitProcessor {
    queue: Sender<Item>,
    thread: Option<JoinHandle<()>>,
}

impl CommitProcessor {
    /// Starts the thread in front of `next`.
    pub fn start(
        id: i64,
        match_syncs: bool,
        next: Box<dyn RequestProcessor>,
    ) -> std::io::Result<CommitProcessor> {
        let (tx, rx) = channel::unbounded();
        let thread = std::thread::Builder::new()
            .name(format!("CommitProcessor:{}", id))
            .spawn(move || {
                zookeeper_critical_thread::mark();
                run(rx, CommitQueue::new(match_syncs), next)
            })?;
        Ok(CommitProcessor {
            queue: tx,
            thread: Some(thread),
        })
    }

    /// A handle for whoever learns of commits (the leader, the follower).
    pub fn committer(&self) -> Committer {
        Committer {
            queue: self.queue.clone(),
        }
    }
}

impl RequestProcessor for CommitProcessor {
    fn process_request(&mut self, request: Request) {
        if self.queue.send(Item::Request(Box::new(request))).is_err() {
            error!("CommitProcessor is shut down; request dropped");
        }
    }

    fn shutdown(&mut self) {
        info!("Shutting down");
        let _ = self.queue.send(Item::Shutdown);
        if let Some(t) = self.thread.take() {
            if t.join().is_err() {
                error!("CommitProcessor thread panicked");
            }
        }
    }
}

/// Items the thread handles under one cork at most: a burst of commits
/// (a leader's fsync batch, a follower's read of many COMMITs) leaves as
/// one write per client connection, while a reply waits behind at most
/// this many others.
const MAX_CORKED_ITEMS: usize = 256;

fn run(rx: Receiver<Item>, mut q: CommitQueue, mut next: Box<dyn RequestProcessor>) {
    'outer: while let Ok(item) = rx.recv() {
        // Every frame this burst produces (replies, watch events) is
        // appended in order at once; each connection gets one send when
        // the queue is drained.
        let _cork = cork();
        let mut item = item;
        let mut handled = 0;
        loop {
            match item {
                Item::Request(r) => {
                    if let Some(r) = q.on_request(*r) {
                        next.process_request(r);
                    }
                }
                Item::Commit(r) => {
                    for r in q.on_commit(*r) {
                        next.process_request(r);
                    }
                }
                Item::Shutdown => break 'outer,
            }
            handled += 1;
            if handled == MAX_CORKED_ITEMS {
                break;
            }
            match rx.try_recv() {
                Ok(more) => item = more,
                Err(_) => break,
            }
        }
    }
    if q.held() > 0 {
        info!(
            "CommitProcessor exiting with {} uncommitted requests",
            q.held()
        );
    }
    next.shutdown();
    info!("CommitProcessor exited loop!");
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::jute::txn::{TxnBody, TxnHeader, TxnLogEntry};
    use std::sync::{Arc, Mutex};

    fn req(session: i64, cxid: i32, op: i32) -> Request {
        Request::new(None, session, cxid, op, Vec::new(), Vec::new())
    }

    fn committed(session: i64, cxid: i32, op: i32, zxid: i64) -> Request {
        let mut r = req(session, cxid, op);
        let header = TxnHeader {
            client_id: session,
            cxid,
            zxid,
            time: 0,
            r#type: op,
        };
        r.txn = Some(TxnLogEntry {
            header,
            body: TxnBody::CloseSession(Default::default()),
            digest: None,
        });
        r
    }

    fn ids(v: &[Request]) -> Vec<(i64, i32)> {
        v.iter().map(|r| (r.session_id, r.cxid)).collect()
    }

    #[test]
    fn reads_wait_only_behind_their_own_sessions_writes() {
        let mut q = CommitQueue::new(false);
        assert!(q.on_request(req(1, 1, op_code::SET_DATA)).is_none());
        assert!(
            q.on_request(req(1, 2, op_code::GET_DATA)).is_none(),
            "behind its session's write"
        );
        assert!(q.on_request(req(1, 3, op_code::CREATE)).is_none());
        assert!(q.on_request(req(1, 4, op_code::EXISTS)).is_none());
        assert_eq!(
            q.on_request(req(2, 1, op_code::GET_DATA)).map(|r| r.cxid),
            Some(1),
            "other session passes"
        );
        let out = q.on_commit(committed(1, 1, op_code::SET_DATA, 10));
        assert_eq!(ids(&out), vec![(1, 1), (1, 2)], "stops at the next write");
        assert_eq!(
            out[0].zxid(),
            Some(10),
            "local request carries the committed txn"
        );
        let out = q.on_commit(committed(1, 3, op_code::CREATE, 11));
        assert_eq!(ids(&out), vec![(1, 3), (1, 4)]);
        assert_eq!(q.held(), 0);
        assert_eq!(
            q.on_request(req(1, 5, op_code::GET_DATA)).map(|r| r.cxid),
            Some(5)
        );
    }

    #[test]
    fn foreign_and_mismatched_commits_go_on_as_they_came() {
        let mut q = CommitQueue::new(false);
        assert_eq!(
            ids(&q.on_commit(committed(7, 3, op_code::CREATE, 5))),
            vec![(7, 3)]
        );
        assert!(q.on_request(req(1, 1, op_code::DELETE)).is_none());
        assert_eq!(
            ids(&q.on_commit(committed(1, 9, op_code::DELETE, 6))),
            vec![(1, 9)]
        );
        assert_eq!(
            q.held(),
            1,
            "the local write still waits for its own commit"
        );
    }

    #[test]
    fn syncs_wait_only_when_matching_syncs() {
        let mut leader = CommitQueue::new(false);
        assert!(leader.on_request(req(1, 1, op_code::SYNC)).is_some());
        let mut follower = CommitQueue::new(true);
        assert!(follower.on_request(req(1, 1, op_code::SYNC)).is_none());
        assert!(follower.on_request(req(1, 2, op_code::GET_DATA)).is_none());
        assert_eq!(
            ids(&follower.on_commit(req(1, 1, op_code::SYNC))),
            vec![(1, 1), (1, 2)]
        );
        assert!(
            needs_commit(op_code::CREATE_SESSION, false) && needs_commit(op_code::CHECK, false)
        );
        assert!(!needs_commit(op_code::GET_CHILDREN2, true) && !needs_commit(op_code::PING, true));
    }

    struct Collect(Arc<Mutex<Vec<(i64, i32)>>>);
    impl RequestProcessor for Collect {
        fn process_request(&mut self, r: Request) {
            self.0.lock().unwrap().push((r.session_id, r.cxid));
        }
        fn shutdown(&mut self) {}
    }

    #[test]
    fn thread_applies_in_commit_order() {
        let seen = Arc::new(Mutex::new(Vec::new()));
        let mut cp = CommitProcessor::start(1, false, Box::new(Collect(seen.clone()))).unwrap();
        let c = cp.committer();
        cp.process_request(req(1, 1, op_code::CREATE));
        cp.process_request(req(2, 1, op_code::CREATE));
        cp.process_request(req(1, 2, op_code::GET_DATA));
        assert!(c.commit(committed(2, 1, op_code::CREATE, 1)));
        assert!(c.commit(committed(1, 1, op_code::CREATE, 2)));
        cp.shutdown();
        assert_eq!(*seen.lock().unwrap(), vec![(2, 1), (1, 1), (1, 2)]);
    }
}
