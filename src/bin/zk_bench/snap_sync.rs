//! `snap-sync`: a follower joins on an empty dataDir while the leader
//! holds a big tree (filled beforehand with `load`) and serves writes.
//!
//! The main thread starts the follower with `--server-cmd`, polls the
//! leader's (`--server`) `mntr` until its `zk_learners` count grows (the
//! follower connected to the leader and its sync starts; a JVM's
//! start-up before that is no load on the leader), then opens
//! `--sessions` writer sessions on the leader, each with `--inflight`
//! setData requests in flight on worker threads, and polls `--follower`
//! until a session there gets an OK reply. Reported: the time from the
//! follower's start to serving, the part of it before the leader saw the
//! follower, and the writes' latency from then until the follower
//! served. The follower is stopped again at the end (SIGTERM).
//!
//! Mirrors: nothing in ZooKeeper; part of the zk-bench tool.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use crate::client::Session;
use crate::error::BenchError;
use crate::ops::{self, KeyOps, CONNECT_TIMEOUT};
use crate::options::{Options, Workload};
use crate::pipeline::{Requests, CLOSE_TIMEOUT};
use crate::report::RunResult;
use crate::server_proc;
use crate::setup;
use crate::window::{self, Window};

/// Requests of another generator until `stop` is set.
struct UntilStopped {
    inner: KeyOps,
    stop: Arc<AtomicBool>,
}

impl Requests for UntilStopped {
    fn push_next(&mut self, out: &mut Vec<u8>, xid: i32) -> bool {
        !self.stop.load(Ordering::Relaxed) && self.inner.push_next(out, xid)
    }
}

/// Runs `snap-sync`.
pub fn run(opts: &Options) -> Result<RunResult, BenchError> {
    let payload = Arc::new(setup::payload(opts.payload));
    let mut admin = Session::connect(opts.server, CONNECT_TIMEOUT)?;
    setup::fill_keys(&mut admin, opts.keys, &payload)?;
    admin.close(CLOSE_TIMEOUT);
    let paths = Arc::new((0..opts.keys).map(setup::key_path).collect::<Vec<_>>());
    let stop = Arc::new(AtomicBool::new(false));
    let generators: Vec<UntilStopped> = (0..opts.sessions)
        .map(|i| UntilStopped {
            inner: KeyOps::new(
                Workload::Set,
                paths.clone(),
                payload.clone(),
                0,
                i as u64 + 1,
            ),
            stop: stop.clone(),
        })
        .collect();
    let learners_before = learners(opts.server);
    let start = Instant::now();
    let mut child = server_proc::spawn(opts)?;
    // The window opens when the leader sees the follower and is closed by
    // `stop`; only the leader takes the writes (every session on --server).
    let seen = wait_for_learner(opts, &mut child, learners_before, start);
    let window = Window::starting_in(Duration::ZERO, opts.timeout + Duration::from_secs(3600));
    let cpu_before = window::cpu_now(&opts.pids);
    let writers = match ops::spawn_sessions(opts, generators, window) {
        Ok(w) => w,
        Err(e) => {
            server_proc::stop(&mut child);
            return Err(e);
        }
    };
    let follower = opts.follower.unwrap_or(opts.server);
    let served = server_proc::wait_until_served(follower, opts.timeout, &mut child, start);
    stop.store(true, Ordering::SeqCst);
    let cpu = window::cpu_between(cpu_before, window::cpu_now(&opts.pids));
    // The writers finish what they have in flight before the follower
    // goes: killing it first can fail a write still waiting on its ack.
    let outcome = ops::join_sessions(writers);
    server_proc::stop(&mut child);
    let serving_ms = served?;
    let mut result = ops::result_of(opts, &window, outcome, cpu);
    let seen_ms = (seen - start).as_secs_f64() * 1000.0;
    result.seconds = (serving_ms - seen_ms).max(0.001) / 1000.0;
    result.extra.push(("follower_serving_ms", serving_ms));
    result.extra.push(("leader_sees_follower_ms", seen_ms));
    Ok(result)
}

/// The leader's `zk_learners` (its `mntr`), None when it does not answer.
fn learners(leader: std::net::SocketAddr) -> Option<u64> {
    crate::failover::four_letter(leader, "mntr")
        .lines()
        .find_map(|l| l.strip_prefix("zk_learners")?.trim().parse().ok())
}

/// Polls the leader until its learner count exceeds `before` (the new
/// follower connected), the follower exits, or `--timeout` passes; the
/// instant it was seen (or now, if it never was).
fn wait_for_learner(
    opts: &Options,
    child: &mut std::process::Child,
    before: Option<u64>,
    start: Instant,
) -> Instant {
    while start.elapsed() < opts.timeout && !matches!(child.try_wait(), Ok(Some(_))) {
        match (learners(opts.server), before) {
            (Some(now), Some(b)) if now > b => break,
            (_, None) => break,
            _ => thread::sleep(Duration::from_millis(5)),
        }
    }
    Instant::now()
}
