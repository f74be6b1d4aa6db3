//! The session workloads.
//!
//! - `connect`: `--sessions` threads each open a session and close it
//!   (closeSession, reply, socket closed), again and again; the rate of
//!   whole open+close cycles and their latency.
//! - `sessions`: `--sessions` opener threads open `--count` sessions in
//!   all and keep them idle; the main thread reads the server's RSS
//!   before and after, then lets the openers close them.
//!
//! Mirrors: nothing in ZooKeeper; part of the zk-bench tool.

use std::sync::{Arc, Barrier};
use std::thread;
use std::time::{Duration, Instant};

use crate::client::Session;
use crate::error::BenchError;
use crate::latency::Latencies;
use crate::ops::CONNECT_TIMEOUT;
use crate::options::Options;
use crate::pipeline::CLOSE_TIMEOUT;
use crate::proc_stat;
use crate::report::RunResult;
use crate::window::{self, Window};

/// Pause after opening everything before RSS is read, so the server has
/// finished allocating for the last sessions.
const SETTLE: Duration = Duration::from_secs(1);
/// Idle sessions are pinged this often while more are being opened (a
/// third of the session timeout asked for).
const PING_EVERY: Duration = Duration::from_secs(10);

/// What one `connect` thread measured.
#[derive(Default)]
struct Cycles {
    latencies: Latencies,
    ops: u64,
    errors: u64,
}

/// Runs `connect`.
pub fn run_connect(opts: &Options) -> Result<RunResult, BenchError> {
    let window = Window::starting_in(opts.warmup, opts.duration);
    let handles: Vec<_> = (0..opts.sessions)
        .map(|i| {
            let server = opts.servers[i % opts.servers.len()];
            thread::spawn(move || open_close_loop(server, window))
        })
        .collect();
    let cpu = window::sample_cpu(&opts.pids, &window);
    let mut latencies = Latencies::default();
    let (mut ops, mut errors) = (0, 0);
    for handle in handles {
        match handle.join() {
            Ok(c) => {
                latencies.merge(c.latencies);
                ops += c.ops;
                errors += c.errors;
            }
            Err(_) => errors += 1,
        }
    }
    Ok(RunResult {
        case: opts.case.clone(),
        label: opts.label.clone(),
        workload: opts.workload.name().into(),
        sessions: opts.sessions,
        inflight: 1,
        payload: 0,
        seconds: window.seconds(),
        ops,
        errors,
        latency: Some(latencies.summary()),
        cpu_us_per_op: window::cpu_per_op(cpu.server, ops),
        client_cpu_us_per_op: window::cpu_per_op(cpu.client, ops),
        ..Default::default()
    })
}

/// Opens and closes sessions until the window ends.
fn open_close_loop(server: std::net::SocketAddr, window: Window) -> Cycles {
    let mut cycles = Cycles::default();
    while Instant::now() < window.end {
        let started = Instant::now();
        match Session::connect(server, CONNECT_TIMEOUT) {
            Ok(session) => session.close(CLOSE_TIMEOUT),
            Err(e) => {
                cycles.errors += 1;
                if cycles.errors == 1 {
                    eprintln!("zk-bench: connect failed: {}", e);
                }
                thread::sleep(Duration::from_millis(10));
                continue;
            }
        }
        let done = Instant::now();
        if window.counts(started, done) {
            cycles.ops += 1;
            cycles
                .latencies
                .record_ns((done - started).as_nanos() as u64);
        }
    }
    cycles
}

/// Runs `sessions`.
pub fn run_sessions(opts: &Options) -> Result<RunResult, BenchError> {
    let rss_before = proc_stat::rss_kib_sum(&opts.pids);
    let openers = opts.sessions.min(opts.count);
    // Both barriers hold the openers and the main thread: "all open",
    // then "RSS read, close them".
    let opened = Arc::new(Barrier::new(openers + 1));
    let release = Arc::new(Barrier::new(openers + 1));
    let start = Instant::now();
    let handles: Vec<_> = (0..openers)
        .map(|t| {
            let share = opts.count / openers + usize::from(t < opts.count % openers);
            let server = opts.servers[t % opts.servers.len()];
            let (opened, release) = (opened.clone(), release.clone());
            thread::spawn(move || hold_sessions(server, share, &opened, &release))
        })
        .collect();
    opened.wait();
    let open_secs = start.elapsed().as_secs_f64();
    thread::sleep(SETTLE);
    let rss_after = proc_stat::rss_kib_sum(&opts.pids);
    release.wait();
    let (mut ops, mut errors) = (0u64, 0u64);
    for handle in handles {
        match handle.join() {
            Ok((held, failed)) => {
                ops += held;
                errors += failed;
            }
            Err(_) => errors += 1,
        }
    }
    let per_session = match (rss_before, rss_after) {
        (Some(b), Some(a)) if ops > 0 => Some((a as f64 - b as f64) * 1024.0 / ops as f64),
        _ => None,
    };
    Ok(RunResult {
        case: opts.case.clone(),
        label: opts.label.clone(),
        workload: opts.workload.name().into(),
        sessions: opts.count,
        inflight: 0,
        payload: 0,
        seconds: open_secs,
        ops,
        errors,
        rss_kib: rss_after,
        rss_per_session_bytes: per_session,
        ..Default::default()
    })
}

/// Opens `n` sessions, waits at both barriers, closes them; (opened,
/// failed). Closing is pipelined: every closeSession is sent before any
/// reply is awaited.
fn hold_sessions(
    server: std::net::SocketAddr,
    n: usize,
    opened: &Barrier,
    release: &Barrier,
) -> (u64, u64) {
    let mut held: Vec<Session> = Vec::with_capacity(n);
    let mut failed = 0;
    let mut last_ping = Instant::now();
    for _ in 0..n {
        if last_ping.elapsed() > PING_EVERY {
            // Opening may outlast the session timeout; keep the first ones alive.
            let mut ping = Vec::new();
            Session::push_ping(&mut ping);
            for s in held.iter_mut() {
                let _ = s.send(&ping);
            }
            last_ping = Instant::now();
        }
        match Session::connect(server, CONNECT_TIMEOUT) {
            Ok(s) => held.push(s),
            Err(e) => {
                if failed == 0 {
                    eprintln!("zk-bench: session open failed: {}", e);
                }
                failed += 1;
            }
        }
    }
    opened.wait();
    release.wait();
    let count = held.len() as u64;
    close_all(held);
    (count, failed)
}

/// Sends closeSession on every session, then waits for each reply.
pub fn close_all(sessions: Vec<Session>) {
    use zookeeper::zoo_defs::op_code;
    let mut waiting = Vec::with_capacity(sessions.len());
    for mut s in sessions {
        let xid = s.xid();
        let mut out = Vec::new();
        crate::client::push_request(&mut out, xid, op_code::CLOSE_SESSION, |_| Ok(()));
        if s.send(&out).is_ok() {
            waiting.push((s, xid));
        }
    }
    for (mut s, xid) in waiting {
        let _ = s.set_read_timeout(Some(CLOSE_TIMEOUT));
        let _ = s.wait_for(xid);
    }
}
