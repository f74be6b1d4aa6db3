//! `snap-sync`: a follower joins on an empty dataDir while the leader
//! holds a big tree (filled beforehand with `load`) and serves writes.
//!
//! The main thread opens `--sessions` writer sessions on `--server` (the
//! leader), each with `--inflight` setData requests in flight on worker
//! threads, lets them run for `--warmup`, starts the follower with
//! `--server-cmd`, and polls `--follower` until a session there gets an
//! OK reply. Reported: the time from the follower's start to serving,
//! and the writes' latency while the leader was sending it the tree.
//! The follower is stopped again at the end (SIGTERM).
//!
//! Mirrors: nothing in ZooKeeper; part of the zk-bench tool.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
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
    // Only the leader takes the writes (every session on --server); the
    // window opens when the follower starts and is closed by `stop`.
    let window = Window::starting_in(opts.warmup, opts.timeout + Duration::from_secs(3600));
    let writers = ops::spawn_sessions(opts, generators, window)?;
    window::sleep_until(window.start);
    let cpu_before = window::cpu_now(&opts.pids);
    let start = Instant::now();
    let served = server_proc::spawn(opts).and_then(|mut child| {
        let follower = opts.follower.unwrap_or(opts.server);
        let served = server_proc::wait_until_served(follower, opts.timeout, &mut child, start);
        stop.store(true, Ordering::SeqCst);
        server_proc::stop(&mut child);
        served
    });
    stop.store(true, Ordering::SeqCst);
    let cpu = window::cpu_between(cpu_before, window::cpu_now(&opts.pids));
    let outcome = ops::join_sessions(writers);
    let serving_ms = served?;
    let mut result = ops::result_of(opts, &window, outcome, cpu);
    result.seconds = serving_ms / 1000.0;
    result.extra.push(("follower_serving_ms", serving_ms));
    Ok(result)
}
