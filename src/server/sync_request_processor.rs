//! The stage that makes writes durable: appends each txn to the log, one
//! commit (flush + fsync) per batch, and only then hands the batch to the
//! next stage (the FinalRequestProcessor, called on this thread), so no
//! client sees a reply for a write that is not on disk. Also rolls the log
//! and starts background snapshots every `snapCount/2 + random(snapCount/2)`
//! txns (or past `snapSizeLimitInKb/2 + random`), so that servers of an
//! ensemble do not all snapshot at once.
//!
//! Thread: "SyncThread", owned by this processor; `process_request` only
//! queues (a locked vector the thread takes whole, so a busy pipeline costs
//! one wake-up per batch). The next stage's replies are corked per batch:
//! each connection gets one socket write per fsync. Reads (requests without a txn) pass straight through when no
//! write is waiting for a flush, else they queue behind the writes to keep
//! each session's order.
//!
//! Mirrors: `org.apache.zookeeper.server.SyncRequestProcessor`.

use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{SystemTime, UNIX_EPOCH};

use log::{error, info};
use parking_lot::{Condvar, Mutex};

use super::protocol_trace;
use super::request::Request;
use super::request_processor::RequestProcessor;
use super::server_cnxn::cork;
use super::zk_database::ZkDatabase;
use super::zookeeper_critical_thread;
use crate::config::server_config::ServerConfig;
use crate::jute::txn::TxnLogEntry;
use crate::jute::{OutputArchive, Record};

/// Most requests committed by one fsync (Java's `zookeeper.maxBatchSize`
/// default).
pub const MAX_BATCH_SIZE: usize = 1000;

/// What travels on the queue.
#[allow(clippy::large_enum_variant)]
enum Item {
    Request(Request),
    /// Drain, commit, stop, then shut down the next stage.
    Shutdown,
}

/// The queue into the SyncThread: a locked vector the thread swaps out
/// whole, and a condvar it sleeps on only when there is nothing to do (a
/// sleeping consumer costs one futex wake per batch, no spinning).
#[derive(Default)]
struct SyncQueue {
    state: Mutex<QueueState>,
    ready: Condvar,
}

#[derive(Default)]
struct QueueState {
    items: Vec<Item>,
    /// The SyncThread is asleep on `ready`.
    sleeping: bool,
    /// Shutdown was queued; later requests are refused.
    closed: bool,
}

impl SyncQueue {
    /// False once shut down.
    fn push(&self, item: Item) -> bool {
        let mut q = self.state.lock();
        if q.closed {
            return false;
        }
        q.closed = matches!(item, Item::Shutdown);
        q.items.push(item);
        if q.sleeping {
            q.sleeping = false;
            self.ready.notify_one();
        }
        true
    }

    /// Swaps everything queued into `batch` (empty on entry); with `block`,
    /// waits for at least one item.
    fn take(&self, batch: &mut Vec<Item>, block: bool) {
        let mut q = self.state.lock();
        while block && q.items.is_empty() {
            q.sleeping = true;
            self.ready.wait(&mut q);
        }
        std::mem::swap(&mut q.items, batch);
    }
}

/// Handle of the sync stage; the work happens on its thread.
pub struct SyncRequestProcessor {
    /// Requests to log, in arrival order.
    queue: Arc<SyncQueue>,
    /// The SyncThread; taken by `shutdown`.
    thread: Option<JoinHandle<()>>,
}

impl SyncRequestProcessor {
    /// Starts the SyncThread in front of `next`.
    pub fn start(
        zkdb: Arc<ZkDatabase>,
        config: &ServerConfig,
        next: Box<dyn RequestProcessor>,
    ) -> SyncRequestProcessor {
        let queue = Arc::new(SyncQueue::default());
        let trigger = SnapshotTrigger::new(
            config.snap_count,
            config.snap_size_limit_kb.saturating_mul(1024),
            seed(),
        );
        let worker = SyncWorker {
            db: zkdb,
            next,
            to_flush: Vec::new(),
            trigger,
            queue: Arc::clone(&queue),
            encoded: Vec::new(),
        };
        let thread = std::thread::Builder::new()
            .name("SyncThread:0".into())
            .spawn(move || {
                zookeeper_critical_thread::mark();
                worker.run()
            })
            .expect("spawning the SyncThread");
        SyncRequestProcessor {
            queue,
            thread: Some(thread),
        }
    }
}

impl RequestProcessor for SyncRequestProcessor {
    fn process_request(&mut self, request: Request) {
        if !self.queue.push(Item::Request(request)) {
            error!("SyncRequestProcessor is shut down; request dropped");
        }
    }

    fn shutdown(&mut self) {
        info!("Shutting down");
        self.queue.push(Item::Shutdown);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// The state of the SyncThread.
struct SyncWorker {
    db: Arc<ZkDatabase>,
    /// The next stage (Final, or the quorum's ack stage), called on this
    /// thread.
    next: Box<dyn RequestProcessor>,
    /// Requests appended (or queued behind them) but not yet committed.
    to_flush: Vec<Request>,
    trigger: SnapshotTrigger,
    queue: Arc<SyncQueue>,
    /// The txn being logged, encoded (reused: no allocation per txn).
    encoded: Vec<u8>,
}

impl SyncWorker {
    /// Takes everything queued at once; commits when the queue runs dry or
    /// the batch is full.
    fn run(mut self) {
        let mut batch = Vec::new();
        let mut stopping = false;
        while !stopping {
            self.queue.take(&mut batch, self.to_flush.is_empty());
            if batch.is_empty() {
                self.flush();
                continue;
            }
            // Replies of reads passed straight through leave together.
            let _cork = cork();
            for item in batch.drain(..) {
                match item {
                    Item::Request(request) => self.handle(request),
                    Item::Shutdown => stopping = true,
                }
            }
        }
        self.flush();
        self.next.shutdown();
        info!("SyncRequestProcessor exited!");
    }

    fn handle(&mut self, request: Request) {
        match &request.txn {
            Some(txn) => {
                encode_txn(txn, &mut self.encoded);
                if let Err(e) = self.db.append_payload(txn.header.zxid, &self.encoded) {
                    fatal(&e);
                }
                protocol_trace::txn_logged(
                    txn.header.zxid,
                    txn.header.r#type,
                    txn.header.client_id,
                );
                self.maybe_snapshot();
            }
            None if self.to_flush.is_empty() => {
                // A read with no write waiting: nothing to keep order with.
                self.next.process_request(request);
                return;
            }
            None => {}
        }
        self.to_flush.push(request);
        if self.to_flush.len() >= MAX_BATCH_SIZE {
            self.flush();
        }
    }

    /// Rolls the log and starts a background snapshot when due.
    fn maybe_snapshot(&mut self) {
        if !self
            .trigger
            .should_snapshot(self.db.txn_count(), self.db.txn_log_size())
        {
            return;
        }
        self.trigger.reset();
        if let Err(e) = self.db.roll_log() {
            fatal(&e);
        }
        self.db.take_snapshot_in_background();
    }

    /// One commit for everything appended, then the batch goes on, in order.
    fn flush(&mut self) {
        if self.to_flush.is_empty() {
            return;
        }
        if let Err(e) = self.db.commit() {
            fatal(&e);
        }
        super::server_metrics::record_sync_batch(self.to_flush.len(), self.db.fsync_stats().0);
        // One socket write per connection for the whole batch's replies.
        let _cork = cork();
        for request in self.to_flush.drain(..) {
            self.next.process_request(request);
        }
    }
}

/// `entry`'s log payload (header, body, digest: the bytes of
/// `TxnLogEntry::to_bytes`) into `buf`, replacing what it held.
fn encode_txn(entry: &TxnLogEntry, buf: &mut Vec<u8>) {
    buf.clear();
    let mut oa = OutputArchive::new(buf);
    // Writing to a Vec cannot fail.
    let _ = entry.header.serialize(&mut oa);
    let _ = entry.body.serialize(&mut oa);
    if let Some(d) = &entry.digest {
        let _ = d.serialize(&mut oa);
    }
}

/// A log that cannot be written means acknowledged writes could be lost:
/// stop the server, as Java's critical-thread handler does.
fn fatal(e: &dyn std::fmt::Display) -> ! {
    zookeeper_critical_thread::exit(&e.to_string())
}

/// When to roll the log and snapshot: after `snap_count/2 + rand_roll`
/// txns or `snap_size/2 + rand_size` log bytes, the random parts re-drawn
/// after every snapshot.
#[derive(Debug, Clone)]
pub struct SnapshotTrigger {
    /// `snapCount`, at least 2.
    snap_count: u64,
    /// `snapSizeLimitInKb` in bytes; <= 0 disables the size rule.
    snap_size_bytes: i64,
    rand_roll: u64,
    rand_size: i64,
    /// xorshift64 state.
    rng: u64,
}

impl SnapshotTrigger {
    /// A trigger with its first random draw made.
    pub fn new(snap_count: u64, snap_size_bytes: i64, seed: u64) -> SnapshotTrigger {
        let mut t = SnapshotTrigger {
            snap_count: snap_count.max(2),
            snap_size_bytes,
            rand_roll: 0,
            rand_size: 0,
            rng: seed | 1,
        };
        t.reset();
        t
    }

    /// Whether `log_count` txns / `log_size` bytes since the last roll
    /// call for a snapshot.
    pub fn should_snapshot(&self, log_count: u64, log_size: u64) -> bool {
        log_count > self.snap_count / 2 + self.rand_roll
            || (self.snap_size_bytes > 0
                && log_size as i64 > self.snap_size_bytes / 2 + self.rand_size)
    }

    /// Draws new random parts.
    pub fn reset(&mut self) {
        self.rand_roll = self.next_random() % (self.snap_count / 2);
        let half_size = self.snap_size_bytes / 2;
        self.rand_size = if half_size > 0 {
            (self.next_random() % half_size as u64) as i64
        } else {
            0
        };
    }

    fn next_random(&mut self) -> u64 {
        let mut x = self.rng;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.rng = x;
        x
    }
}

fn seed() -> u64 {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or(1);
    nanos ^ (std::process::id() as u64).rotate_left(32)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snapshot_after_half_plus_random_txns() {
        for seed in 1..50 {
            let t = SnapshotTrigger::new(100, 0, seed);
            assert!(t.rand_roll < 50);
            assert!(!t.should_snapshot(50, 0));
            assert!(t.should_snapshot(100, 0));
            assert!(t.should_snapshot(51 + t.rand_roll, 0));
            assert!(!t.should_snapshot(50 + t.rand_roll, 0));
        }
    }

    #[test]
    fn size_rule_and_its_off_switch() {
        let t = SnapshotTrigger::new(1_000_000, 1000, 7);
        assert!(t.rand_size < 500);
        assert!(t.should_snapshot(0, 1000));
        assert!(!t.should_snapshot(0, 500));
        let off = SnapshotTrigger::new(1_000_000, 0, 7);
        assert!(!off.should_snapshot(0, u64::MAX / 2));
    }

    #[test]
    fn encoded_txn_is_to_bytes_and_the_buffer_is_reused() {
        use crate::jute::txn::{CreateTxn, TxnBody, TxnDigest, TxnHeader};
        let entry = |data: Vec<u8>, digest: Option<TxnDigest>| TxnLogEntry {
            header: TxnHeader {
                client_id: 7,
                cxid: 3,
                zxid: 0x1_0000_0004,
                time: 99,
                r#type: 1,
            },
            body: TxnBody::Create(CreateTxn {
                path: "/n".into(),
                data: Some(data),
                acl: Vec::new(),
                ephemeral: false,
                parent_c_version: 2,
            }),
            digest,
        };
        let mut buf = Vec::new();
        let big = entry(
            vec![5; 1024],
            Some(TxnDigest {
                version: 2,
                tree_digest: -8,
            }),
        );
        encode_txn(&big, &mut buf);
        assert_eq!(buf, big.to_bytes());
        let small = entry(vec![1], None);
        encode_txn(&small, &mut buf);
        assert_eq!(buf, small.to_bytes(), "earlier bytes do not linger");
    }

    #[test]
    fn snap_count_below_two_is_two() {
        let t = SnapshotTrigger::new(0, 0, 3);
        assert!(!t.should_snapshot(1, 0));
        assert!(t.should_snapshot(2, 0));
    }

    #[test]
    fn draws_change_after_reset() {
        let mut t = SnapshotTrigger::new(1_000_000, 0, 42);
        let first = t.rand_roll;
        let mut changed = false;
        for _ in 0..5 {
            t.reset();
            changed |= t.rand_roll != first;
        }
        assert!(changed);
    }
}
