//! A request travelling down the processor chain.
//!
//! Created by a connection thread (or internally: session expiry, the
//! container manager), filled in by the PrepRequestProcessor (txn, zxid or
//! error), logged by the SyncRequestProcessor and answered by the
//! FinalRequestProcessor.
//!
//! Mirrors: `org.apache.zookeeper.server.Request`.

use std::any::Any;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Instant;

use super::server_cnxn::ServerCnxn;
use super::session_tracker::SessionOwner;
use crate::jute::data::Id;
use crate::jute::txn::TxnLogEntry;
use crate::keeper_exception::Code;

/// Who made a request: what it may ask for depends on it (see
/// `prep_request_processor::accepted_from`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    /// Read from a client's frame after the handshake: any opcode a
    /// client may send, never an internal one.
    Client,
    /// Forwarded by a learner (a follower or observer, ours or Java's): the
    /// client requests it forwards, plus its sessions' createSession and
    /// closeSession.
    Learner,
    /// Made by this server: the handshake's createSession, session expiry,
    /// the container manager.
    Server,
}

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
    /// Who made it (a new request counts as a client's until marked).
    pub origin: Origin,
    /// The request record's bytes (what follows the RequestHeader).
    pub payload: Vec<u8>,
    /// The connection's identities when the request was submitted.
    pub auth_info: Vec<Id>,
    /// Which server the request came through (Java's `Request.owner`):
    /// `Local` unless a learner forwarded it to the leader.
    pub owner: SessionOwner,
    /// A createSession or closeSession of a local session (no txn, not
    /// forwarded; Java's `Request.isLocalSession`).
    pub local_session: bool,
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
    /// For a `sync` a learner forwarded (Java's `LearnerSyncRequest`): the
    /// learner to answer once everything proposed before the sync has
    /// committed. The quorum layer puts its learner handle here and takes
    /// it back out after Prep; the server layer only carries it, so the
    /// sync keeps its place in Prep's queue behind the same session's writes.
    pub learner_sync: Option<Arc<dyn Any + Send + Sync>>,
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
    /// A request as it arrives from a connection; internal sources and
    /// learners mark theirs with [`Request::from`].
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
            origin: Origin::Client,
            payload,
            auth_info,
            owner: SessionOwner::Local,
            local_session: false,
            create_time: Instant::now(),
            txn: None,
            err: Code::Ok,
            pending: None,
            learner_sync: None,
        }
    }

    /// The same request, made by `origin`.
    pub fn from(mut self, origin: Origin) -> Request {
        self.origin = origin;
        self
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
            self.session_id,
            self.cxid,
            self.op_type,
            self.zxid(),
            self.err
        )
    }
}

/// Payload buffers of 1 KiB and more, recycled from the Final stage (which
/// drops requests, on the Sync thread) to the connection threads (which
/// copy frames into new requests).
///
/// Why: every create or setData payload is a "large" allocation for glibc
/// (>= 1 KiB), made on a connection thread and freed on the Sync thread.
/// A large request makes glibc consolidate the arena's fast bins first,
/// and a connection thread's arena is full of the small chunks the Sync
/// thread freed back into it: that walk was the top entry of a create's
/// profile. A recycled buffer skips both the malloc and the cross-thread
/// free. The pool is small and bounded (a few hundred KiB), shared by all
/// connections, and never blocks: a busy lock means "allocate" or "free".
pub mod payload_pool {
    use std::sync::Mutex;

    /// Smallest capacity worth recycling: below this glibc serves the
    /// request from its small bins without consolidating.
    pub const MIN_CAPACITY: usize = 1000;
    /// Largest capacity kept (bigger buffers are rare; let them go).
    pub const MAX_CAPACITY: usize = 16 * 1024;
    /// Most bytes of capacity kept in the pool.
    pub const MAX_POOLED_BYTES: usize = 1024 * 1024;

    /// Free buffers and the sum of their capacities.
    #[derive(Default)]
    pub struct Pool {
        free: Vec<Vec<u8>>,
        bytes: usize,
    }

    impl Pool {
        /// An empty pool.
        pub const fn new() -> Pool {
            Pool {
                free: Vec::new(),
                bytes: 0,
            }
        }

        /// The last free buffer, emptied, if it can hold `len` bytes.
        pub fn take(&mut self, len: usize) -> Option<Vec<u8>> {
            if self.free.last()?.capacity() < len {
                return None;
            }
            let mut buf = self.free.pop()?;
            self.bytes -= buf.capacity();
            buf.clear();
            Some(buf)
        }

        /// Keeps `buf` if its capacity is worth it and there is room.
        pub fn put(&mut self, buf: Vec<u8>) -> bool {
            let cap = buf.capacity();
            if !(MIN_CAPACITY..=MAX_CAPACITY).contains(&cap) || self.bytes + cap > MAX_POOLED_BYTES
            {
                return false;
            }
            self.bytes += cap;
            self.free.push(buf);
            true
        }

        /// Buffers and bytes held.
        pub fn held(&self) -> (usize, usize) {
            (self.free.len(), self.bytes)
        }
    }

    /// The process-wide pool.
    static POOL: Mutex<Pool> = Mutex::new(Pool::new());

    /// A copy of `frame`, in a recycled buffer when it is large and one
    /// is at hand.
    pub fn copy_of(frame: &[u8]) -> Vec<u8> {
        if frame.len() < MIN_CAPACITY {
            return frame.to_vec();
        }
        let mut buf = POOL
            .try_lock()
            .ok()
            .and_then(|mut pool| pool.take(frame.len()))
            .unwrap_or_else(|| Vec::with_capacity(rounded_capacity(frame.len())));
        buf.extend_from_slice(frame);
        buf
    }

    /// A new buffer's capacity: rounded up, so that once recycled it also
    /// fits the next frames of about the same size (paths differ by a few
    /// bytes).
    pub fn rounded_capacity(len: usize) -> usize {
        (len + 256).next_multiple_of(256)
    }

    /// Gives a buffer back (freed if the pool does not keep it).
    pub fn recycle(buf: Vec<u8>) {
        if buf.capacity() < MIN_CAPACITY {
            return;
        }
        if let Ok(mut pool) = POOL.try_lock() {
            pool.put(buf);
        }
    }
}

/// Gives the large buffers of an answered request back to the payload
/// pool: its payload and the data of its txn (create and setData carry
/// the payload's own allocation there).
pub fn recycle_buffers(request: Request) {
    use crate::jute::txn::TxnBody;
    let Request { payload, txn, .. } = request;
    payload_pool::recycle(payload);
    let data = match txn.map(|t| t.body) {
        Some(TxnBody::Create(t)) => t.data,
        Some(TxnBody::CreateTtl(t)) => t.data,
        Some(TxnBody::CreateContainer(t)) => t.data,
        Some(TxnBody::SetData(t)) => t.data,
        _ => None,
    };
    if let Some(data) = data {
        payload_pool::recycle(data);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_pool_keeps_large_buffers_within_its_bounds() {
        use payload_pool::*;
        let mut pool = Pool::new();
        assert!(!pool.put(Vec::with_capacity(MIN_CAPACITY - 1)), "too small");
        assert!(!pool.put(Vec::with_capacity(MAX_CAPACITY + 1)), "too large");
        assert!(pool.take(1).is_none());
        let mut buf = Vec::with_capacity(2000);
        buf.extend_from_slice(b"old");
        let ptr = buf.as_ptr();
        assert!(pool.put(buf));
        assert_eq!(pool.held(), (1, 2000));
        assert!(pool.take(2001).is_none(), "does not fit");
        let again = pool.take(1500).unwrap();
        assert_eq!(
            (again.as_ptr(), again.len()),
            (ptr, 0),
            "the same buffer, emptied"
        );
        assert_eq!(pool.held(), (0, 0));
        let mut kept = 0;
        while pool.put(Vec::with_capacity(MAX_CAPACITY)) {
            kept += 1;
        }
        assert_eq!(kept, MAX_POOLED_BYTES / MAX_CAPACITY);
        assert!(pool.held().1 <= MAX_POOLED_BYTES);
    }

    #[test]
    fn fresh_buffers_leave_room_for_a_slightly_longer_frame() {
        for len in [1000, 1024, 1100, 4096] {
            let cap = payload_pool::rounded_capacity(len);
            assert!(
                cap >= len + 256 && cap.is_multiple_of(256),
                "{} -> {}",
                len,
                cap
            );
        }
    }

    #[test]
    fn copies_are_exact_whatever_the_buffer() {
        for len in [0, 10, payload_pool::MIN_CAPACITY, 5000] {
            let frame: Vec<u8> = (0..len).map(|i| i as u8).collect();
            assert_eq!(payload_pool::copy_of(&frame), frame);
        }
        payload_pool::recycle(Vec::with_capacity(4096));
        let frame = vec![9u8; 1200];
        assert_eq!(payload_pool::copy_of(&frame), frame);
    }

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
