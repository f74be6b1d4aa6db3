//! Per-connection statistics for `cons`, `crst` and the AdminServer's
//! `connections`: when the connection was established, its session
//! timeout, the last operation answered (op, cxid, zxid, time) and
//! min/avg/max response latency.
//!
//! The connection records a request when its frame is handed to the
//! server and matches the reply by xid when it is queued, so the pipeline
//! needs no extra call. Threads: the connection's reader records requests,
//! whichever thread answers records replies, 4lw/admin threads read; one
//! short mutex, never held across I/O.
//!
//! Mirrors: the statistics half of `org.apache.zookeeper.server.ServerCnxn`
//! (`updateStatsForResponse`, `resetStats`, the `get*Latency` getters).

use std::collections::VecDeque;
use std::sync::OnceLock;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use std::sync::{Mutex, MutexGuard, PoisonError};

use crate::zoo_defs::op_code;

/// Requests remembered while waiting for their reply; a client cannot have
/// more in flight in practice, and the oldest are dropped beyond it.
const MAX_PENDING: usize = 4096;

/// The origin of the monotonic millisecond clock (`lresp`), like Java's
/// `Time.currentElapsedTime()` (arbitrary origin).
fn monotonic_ms() -> i64 {
    static ORIGIN: OnceLock<Instant> = OnceLock::new();
    ORIGIN.get_or_init(Instant::now).elapsed().as_millis() as i64
}

fn epoch_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

/// `Request.op2String` as `FinalRequestProcessor` sets `lastOp`.
pub fn op_name(op: i32) -> &'static str {
    match op {
        op_code::PING => "PING",
        op_code::CREATE_SESSION => "SESS",
        op_code::CLOSE_SESSION => "CLOS",
        op_code::MULTI => "MULT",
        op_code::MULTI_READ => "MLTR",
        op_code::CREATE | op_code::CREATE2 | op_code::CREATE_TTL | op_code::CREATE_CONTAINER => {
            "CREA"
        }
        op_code::DELETE | op_code::DELETE_CONTAINER => "DELE",
        op_code::SET_DATA => "SETD",
        op_code::RECONFIG => "RECO",
        op_code::SET_ACL => "SETA",
        op_code::SYNC => "SYNC",
        op_code::CHECK => "CHEC",
        op_code::EXISTS => "EXIS",
        op_code::GET_DATA => "GETD",
        op_code::SET_WATCHES => "SETW",
        op_code::SET_WATCHES2 => "STW2",
        op_code::ADD_WATCH => "ADDW",
        op_code::GET_ACL => "GETA",
        op_code::GET_CHILDREN | op_code::GET_CHILDREN2 => "GETC",
        op_code::GET_ALL_CHILDREN_NUMBER => "GETACN",
        op_code::CHECK_WATCHES => "CHKW",
        op_code::REMOVE_WATCHES => "REMW",
        op_code::WHO_AM_I => "HOMI",
        op_code::GET_EPHEMERALS => "GETE",
        _ => "NA",
    }
}

/// What `cons` prints about one connection beyond its packet counts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CnxnStatsSnapshot {
    /// Accept time, ms since the epoch (`est`).
    pub established_ms: i64,
    /// Negotiated session timeout, 0 before the handshake (`to`).
    pub session_timeout: i32,
    /// Last answered op (`lop`), `NA` before any.
    pub last_op: &'static str,
    /// Last non-negative cxid answered, -1 before any (`lcxid`).
    pub last_cxid: i64,
    /// Zxid of the last reply, -1 before any (`lzxid`).
    pub last_zxid: i64,
    /// Monotonic ms of the last reply, 0 before any (`lresp`).
    pub last_response_time: i64,
    /// Latency of the last reply in ms (`llat`).
    pub last_latency: i64,
    /// `minlat`, `avglat` (integer division, as Java), `maxlat`.
    pub min_latency: i64,
    pub avg_latency: i64,
    pub max_latency: i64,
    /// Packet counts at the last `crst` (subtracted from the live counts).
    pub received_at_reset: u64,
    pub sent_at_reset: u64,
    /// Monotonic ms of the last frame received (for `dump`'s connection
    /// expiry report).
    pub last_activity: i64,
}

#[derive(Debug)]
struct Inner {
    established_ms: i64,
    accepted: Instant,
    session_timeout: i32,
    last_op: &'static str,
    last_cxid: i64,
    last_zxid: i64,
    last_response_time: i64,
    last_latency: i64,
    min_latency: i64,
    max_latency: i64,
    count: i64,
    total_latency: i64,
    received_at_reset: u64,
    sent_at_reset: u64,
    last_activity: i64,
    /// (xid, op, arrival) of requests handed to the server, unanswered.
    pending: VecDeque<(i32, i32, Instant)>,
}

/// The statistics of one connection.
#[derive(Debug)]
pub struct CnxnStats {
    inner: Mutex<Inner>,
}

impl Default for CnxnStats {
    fn default() -> Self {
        CnxnStats::new()
    }
}

impl CnxnStats {
    /// Fresh statistics for a connection accepted now.
    pub fn new() -> CnxnStats {
        CnxnStats {
            inner: Mutex::new(Inner {
                established_ms: epoch_ms(),
                accepted: Instant::now(),
                session_timeout: 0,
                last_op: "NA",
                last_cxid: -1,
                last_zxid: -1,
                last_response_time: 0,
                last_latency: 0,
                min_latency: i64::MAX,
                max_latency: 0,
                count: 0,
                total_latency: 0,
                received_at_reset: 0,
                sent_at_reset: 0,
                last_activity: monotonic_ms(),
                pending: VecDeque::new(),
            }),
        }
    }

    /// The figures (a std lock: parking_lot would keep a record for every
    /// connection thread that ever waited on one).
    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// An idle connection keeps no spare room for unanswered requests.
    pub fn release_idle_memory(&self) {
        let mut inner = self.lock();
        if inner.pending.is_empty() {
            inner.pending = VecDeque::new();
        }
    }

    /// A request frame went to the server (reader thread). Auth and SASL
    /// are answered outside the pipeline and, as in Java, not counted.
    pub fn request_received(&self, xid: i32, op: i32) {
        let mut inner = self.lock();
        inner.last_activity = monotonic_ms();
        if op == op_code::AUTH || op == op_code::SASL {
            return;
        }
        if inner.pending.len() >= MAX_PENDING {
            inner.pending.pop_front();
        }
        inner.pending.push_back((xid, op, Instant::now()));
    }

    /// A reply with `xid`/`zxid` was queued: completes the matching request.
    pub fn response_sent(&self, xid: i32, zxid: i64) {
        let mut inner = self.lock();
        let Some(pos) = inner.pending.iter().position(|(x, _, _)| *x == xid) else {
            return;
        };
        let Some((_, op, start)) = inner.pending.remove(pos) else {
            return;
        };
        let latency = start.elapsed().as_millis() as i64;
        inner.update(xid as i64, zxid, op_name(op), latency);
    }

    /// The handshake ended with this negotiated timeout (`lop=SESS`).
    pub fn session_established(&self, timeout: i32) {
        let mut inner = self.lock();
        inner.session_timeout = timeout;
        let latency = inner.accepted.elapsed().as_millis() as i64;
        let zxid = inner.last_zxid;
        inner.update(0, zxid, "SESS", latency);
    }

    /// `crst`: forget the figures; the live packet counts become the new zero.
    pub fn reset(&self, received_now: u64, sent_now: u64) {
        let mut inner = self.lock();
        inner.last_op = "NA";
        inner.last_cxid = -1;
        inner.last_zxid = -1;
        inner.last_response_time = 0;
        inner.last_latency = 0;
        inner.min_latency = i64::MAX;
        inner.max_latency = 0;
        inner.count = 0;
        inner.total_latency = 0;
        inner.received_at_reset = received_now;
        inner.sent_at_reset = sent_now;
    }

    /// The current figures.
    pub fn snapshot(&self) -> CnxnStatsSnapshot {
        let inner = self.lock();
        CnxnStatsSnapshot {
            established_ms: inner.established_ms,
            session_timeout: inner.session_timeout,
            last_op: inner.last_op,
            last_cxid: inner.last_cxid,
            last_zxid: inner.last_zxid,
            last_response_time: inner.last_response_time,
            last_latency: inner.last_latency,
            min_latency: if inner.min_latency == i64::MAX {
                0
            } else {
                inner.min_latency
            },
            avg_latency: if inner.count == 0 {
                0
            } else {
                inner.total_latency / inner.count
            },
            max_latency: inner.max_latency,
            received_at_reset: inner.received_at_reset,
            sent_at_reset: inner.sent_at_reset,
            last_activity: inner.last_activity,
        }
    }
}

impl Inner {
    /// `ServerCnxn.updateStatsForResponse`.
    fn update(&mut self, cxid: i64, zxid: i64, op: &'static str, latency: i64) {
        if cxid >= 0 {
            self.last_cxid = cxid;
        }
        self.last_zxid = zxid;
        self.last_op = op;
        self.last_response_time = monotonic_ms();
        self.last_latency = latency;
        self.min_latency = self.min_latency.min(latency);
        self.max_latency = self.max_latency.max(latency);
        self.count += 1;
        self.total_latency += latency;
    }
}

/// The current monotonic millisecond clock (same origin as `lresp`).
pub fn now_monotonic_ms() -> i64 {
    monotonic_ms()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fresh_connection_reads_as_java_defaults() {
        let s = CnxnStats::new().snapshot();
        assert_eq!(
            (s.last_op, s.last_cxid, s.last_zxid, s.last_response_time),
            ("NA", -1, -1, 0)
        );
        assert_eq!((s.min_latency, s.avg_latency, s.max_latency), (0, 0, 0));
        assert!(s.established_ms > 1_600_000_000_000);
    }

    #[test]
    fn replies_are_matched_to_requests_by_xid() {
        let stats = CnxnStats::new();
        stats.request_received(1, op_code::CREATE);
        stats.request_received(-2, op_code::PING);
        stats.request_received(2, op_code::GET_DATA);
        stats.response_sent(1, 0x10);
        let s = stats.snapshot();
        assert_eq!((s.last_op, s.last_cxid, s.last_zxid), ("CREA", 1, 0x10));
        stats.response_sent(-2, 0x11);
        let s = stats.snapshot();
        assert_eq!(
            (s.last_op, s.last_cxid, s.last_zxid),
            ("PING", 1, 0x11),
            "negative xids keep lcxid"
        );
        stats.response_sent(2, 0x11);
        assert_eq!(stats.snapshot().last_op, "GETD");
        // A reply nobody asked for changes nothing.
        stats.response_sent(99, 0x50);
        assert_eq!(stats.snapshot().last_zxid, 0x11);
    }

    #[test]
    fn auth_is_not_counted() {
        let stats = CnxnStats::new();
        stats.request_received(-4, op_code::AUTH);
        stats.response_sent(-4, 0);
        assert_eq!(stats.snapshot().last_op, "NA");
    }

    #[test]
    fn session_and_reset() {
        let stats = CnxnStats::new();
        stats.session_established(10_000);
        let s = stats.snapshot();
        assert_eq!(
            (s.session_timeout, s.last_op, s.last_cxid),
            (10_000, "SESS", 0)
        );
        stats.reset(7, 5);
        let s = stats.snapshot();
        assert_eq!(
            (s.last_op, s.last_cxid, s.session_timeout),
            ("NA", -1, 10_000)
        );
        assert_eq!((s.received_at_reset, s.sent_at_reset), (7, 5));
    }

    #[test]
    fn pending_requests_are_bounded() {
        let stats = CnxnStats::new();
        for xid in 0..(MAX_PENDING as i32 + 10) {
            stats.request_received(xid, op_code::EXISTS);
        }
        assert_eq!(stats.lock().pending.len(), MAX_PENDING);
    }

    #[test]
    fn op_names_follow_java() {
        assert_eq!(op_name(op_code::CREATE2), "CREA");
        assert_eq!(op_name(op_code::GET_CHILDREN2), "GETC");
        assert_eq!(op_name(op_code::WHO_AM_I), "HOMI");
        assert_eq!(op_name(12345), "NA");
    }
}
