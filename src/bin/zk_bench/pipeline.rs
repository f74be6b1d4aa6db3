//! The pipelined request loop: keep `inflight` requests outstanding on
//! one session, time each from send to reply, refill in batches.
//!
//! Runs on one worker thread per session. The loop reads whatever the
//! socket holds, matches every whole reply to its request (ZooKeeper
//! answers a session's requests in order), then sends as many new
//! requests as replies arrived in one `write`. One clock read per batch
//! in each direction keeps the client's CPU per request low.
//!
//! Mirrors: the outgoing/pending queues of `org.apache.zookeeper.ClientCnxn`.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use crate::client::Session;
use crate::error::BenchError;
use crate::latency::Latencies;
use crate::window::Window;

/// How long a worker waits for a reply before giving up on the server.
pub const REPLY_TIMEOUT: Duration = Duration::from_secs(60);
/// How long a worker waits for its closeSession reply at the end.
pub const CLOSE_TIMEOUT: Duration = Duration::from_secs(5);

/// Makes the requests of one session.
pub trait Requests: Send {
    /// Appends the next request frame with `xid` to `out`; false when the
    /// workload has no more requests (it then ends early).
    fn push_next(&mut self, out: &mut Vec<u8>, xid: i32) -> bool;
}

/// What one session's loop measured.
#[derive(Debug, Default)]
pub struct Outcome {
    pub latencies: Latencies,
    /// Replies inside the window.
    pub ops: u64,
    /// Replies anywhere with a non-zero result code.
    pub errors: u64,
    /// Every reply, in the window or not.
    pub replies: u64,
    /// Why the loop stopped early, if it did.
    pub failure: Option<BenchError>,
}

impl Outcome {
    /// Adds another session's outcome; the first failure is kept.
    pub fn merge(&mut self, other: Outcome) {
        self.latencies.merge(other.latencies);
        self.ops += other.ops;
        self.errors += other.errors;
        self.replies += other.replies;
        if self.failure.is_none() {
            self.failure = other.failure;
        }
    }
}

/// Runs `requests` on `session` until the window closes (or the requests
/// run out), then drains the outstanding replies and closes the session.
pub fn drive<R: Requests>(
    mut session: Session,
    requests: &mut R,
    inflight: usize,
    window: Window,
) -> Outcome {
    let mut outcome = Outcome::default();
    if let Err(e) = session.set_read_timeout(Some(REPLY_TIMEOUT)) {
        outcome.failure = Some(e);
        return outcome;
    }
    if let Err(e) = run(&mut session, requests, inflight, &window, &mut outcome) {
        outcome.failure = Some(e);
        return outcome;
    }
    session.close(CLOSE_TIMEOUT);
    outcome
}

fn run<R: Requests>(
    session: &mut Session,
    requests: &mut R,
    inflight: usize,
    window: &Window,
    outcome: &mut Outcome,
) -> Result<(), BenchError> {
    let mut out = Vec::with_capacity(64 * 1024);
    let mut pending: VecDeque<(i32, Instant)> = VecDeque::with_capacity(inflight);
    let mut exhausted = !refill(session, requests, inflight, &mut out, &mut pending);
    session.send(&out)?;
    while !pending.is_empty() {
        session.fill()?;
        let now = Instant::now();
        let mut answered = 0;
        while let Some(reply) = session.reader.next_reply()? {
            if reply.xid < 0 {
                continue; // a ping reply or a notification
            }
            let (xid, sent) = pending.pop_front().ok_or_else(|| {
                BenchError::Protocol(format!("unexpected reply xid {}", reply.xid))
            })?;
            if reply.xid != xid {
                return Err(BenchError::Protocol(format!(
                    "reply xid {} for request {}",
                    reply.xid, xid
                )));
            }
            outcome.replies += 1;
            if reply.err != 0 {
                outcome.errors += 1;
            }
            if window.counts(sent, now) {
                outcome.ops += 1;
                outcome.latencies.record_ns((now - sent).as_nanos() as u64);
            }
            answered += 1;
        }
        if answered > 0 && !exhausted && now < window.end {
            out.clear();
            exhausted = !refill(session, requests, answered, &mut out, &mut pending);
            session.send(&out)?;
        }
    }
    Ok(())
}

/// Appends up to `n` requests stamped with one send time; false if the
/// requests ran out.
fn refill<R: Requests>(
    session: &mut Session,
    requests: &mut R,
    n: usize,
    out: &mut Vec<u8>,
    pending: &mut VecDeque<(i32, Instant)>,
) -> bool {
    let now = Instant::now();
    for _ in 0..n {
        let xid = session.xid();
        if !requests.push_next(out, xid) {
            return false;
        }
        pending.push_back((xid, now));
    }
    true
}
