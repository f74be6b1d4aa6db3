//! `watch`: notification fan-out. `--watchers` sessions each hold a
//! persistent watch (addWatch, mode PERSISTENT) on each of `--nodes`
//! znodes; one writer session sets the znodes round robin with
//! `--inflight` requests in flight. Reports notifications delivered per
//! second and, per write, the latency from sending the setData to the
//! moment the *last* watcher has its notification.
//!
//! Threads: one per watcher (blocking reads), one for the writer, and the
//! main thread sampling CPU. Write `i` goes to node `i % nodes`; a
//! session's notifications for a node arrive in write order, so a
//! watcher's k-th notification for node j belongs to write `k*nodes + j`
//! and no matching table is shared between threads.
//!
//! Mirrors: nothing in ZooKeeper; part of the zk-bench tool.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use zookeeper::jute::proto::{AddWatchRequest, WatcherEvent};
use zookeeper::jute::{self, OutputArchive};
use zookeeper::zoo_defs::{add_watch_mode, op_code, xid};

use crate::client::{push_request, Session};
use crate::error::BenchError;
use crate::latency::Latencies;
use crate::ops::CONNECT_TIMEOUT;
use crate::options::Options;
use crate::pipeline::{self, Requests, CLOSE_TIMEOUT};
use crate::report::RunResult;
use crate::setup;
use crate::window::{self, Window};

const ROOT: &str = "/bench-watch";
/// How long watchers wait for late notifications after the writer stops.
const DRAIN: Duration = Duration::from_secs(5);
/// Watchers only read; they ping this often to keep their session.
const PING_EVERY: Duration = Duration::from_secs(5);
/// Arrival slot of a write the watcher has not heard about.
const NOT_YET: u32 = u32::MAX;

fn node_path(j: usize) -> String {
    format!("{}/n{}", ROOT, j)
}

/// The node index of a notification's path (`/bench-watch/n<j>`).
fn node_index(path: &str) -> Option<usize> {
    path.strip_prefix(ROOT)?.strip_prefix("/n")?.parse().ok()
}

/// The writer's requests: setData round robin, remembering send times.
struct Writes {
    paths: Vec<String>,
    payload: Vec<u8>,
    next: usize,
    /// Send time of each write, by write index.
    sent: Vec<Instant>,
}

impl Requests for Writes {
    fn push_next(&mut self, out: &mut Vec<u8>, xid: i32) -> bool {
        let path = &self.paths[self.next % self.paths.len()];
        let payload = &self.payload;
        push_request(
            out,
            xid,
            op_code::SET_DATA,
            |oa: &mut OutputArchive<&mut Vec<u8>>| {
                oa.write_string(path)?;
                oa.write_buffer(Some(payload))?;
                oa.write_int(-1)
            },
        );
        self.next += 1;
        self.sent.push(Instant::now());
        true
    }
}

/// What one watcher saw: arrival of each write's notification, in µs
/// since the common base instant.
struct Arrivals {
    at_us: Vec<u32>,
    in_window: u64,
    failure: Option<BenchError>,
}

/// Runs `watch`.
pub fn run(opts: &Options) -> Result<RunResult, BenchError> {
    let paths: Vec<String> = (0..opts.nodes).map(node_path).collect();
    let mut admin = Session::connect(opts.server, CONNECT_TIMEOUT)?;
    let mut all = vec![ROOT.to_string()];
    all.extend(paths.iter().cloned());
    setup::ensure_paths(&mut admin, &all)?;
    admin.close(CLOSE_TIMEOUT);

    let mut watchers = Vec::with_capacity(opts.watchers);
    for i in 0..opts.watchers {
        let server = opts.servers[i % opts.servers.len()];
        let mut s = Session::connect(server, CONNECT_TIMEOUT)?;
        let adds = paths.iter().map(|p| {
            let request = AddWatchRequest {
                path: p.clone(),
                mode: add_watch_mode::PERSISTENT,
            };
            (op_code::ADD_WATCH, jute::to_bytes(&request))
        });
        if let Some(err) = setup::pipelined(&mut s, adds)?
            .into_iter()
            .find(|e| *e != 0)
        {
            return Err(BenchError::Server {
                what: "addWatch".into(),
                err,
            });
        }
        watchers.push(s);
    }
    let writer = Session::connect(opts.server, CONNECT_TIMEOUT)?;

    let base = Instant::now();
    let window = Window::starting_in(opts.warmup, opts.duration);
    let total_writes = Arc::new(AtomicU64::new(u64::MAX));
    let nodes = opts.nodes;
    let watcher_threads: Vec<_> = watchers
        .into_iter()
        .map(|s| {
            let total = total_writes.clone();
            thread::spawn(move || listen(s, nodes, base, window, &total))
        })
        .collect();
    let inflight = opts.inflight;
    let mut writes = Writes {
        paths,
        payload: setup::payload(opts.payload),
        next: 0,
        sent: Vec::new(),
    };
    let writer_thread = thread::spawn(move || {
        let outcome = pipeline::drive(writer, &mut writes, inflight, window);
        (outcome, writes.sent)
    });
    let cpu = window::sample_cpu(&opts.pids, &window);
    let (writer_outcome, sent) = writer_thread
        .join()
        .map_err(|_| BenchError::Protocol("writer panicked".into()))?;
    // Replies to the writer say how many writes the server took.
    total_writes.store(writer_outcome.replies, Ordering::SeqCst);
    let mut errors = writer_outcome.errors;
    if let Some(f) = &writer_outcome.failure {
        eprintln!("zk-bench: the writer failed: {}", f);
        errors += 1;
    }
    let mut arrivals = Vec::new();
    for t in watcher_threads {
        match t.join() {
            Ok(a) => arrivals.push(a),
            Err(_) => errors += 1,
        }
    }
    let (mut latencies, missing) = fan_out_latencies(
        &sent,
        writer_outcome.replies as usize,
        &arrivals,
        base,
        &window,
    );
    errors += missing;
    let notifications: u64 = arrivals.iter().map(|a| a.in_window).sum();
    for a in &arrivals {
        if let Some(f) = &a.failure {
            eprintln!("zk-bench: a watcher failed: {}", f);
            errors += 1;
        }
    }
    Ok(RunResult {
        case: opts.case.clone(),
        label: opts.label.clone(),
        workload: opts.workload.name().into(),
        sessions: opts.watchers,
        inflight: opts.inflight,
        payload: opts.payload,
        seconds: window.seconds(),
        ops: notifications,
        errors,
        latency: Some(latencies.summary()),
        cpu_us_per_op: window::cpu_per_op(cpu.server, notifications),
        client_cpu_us_per_op: window::cpu_per_op(cpu.client, notifications),
        ..Default::default()
    })
}

/// For each write sent inside the window: the time until its last
/// watcher heard of it. Also counts (write, watcher) pairs never heard.
fn fan_out_latencies(
    sent: &[Instant],
    acknowledged: usize,
    arrivals: &[Arrivals],
    base: Instant,
    window: &Window,
) -> (Latencies, u64) {
    let mut latencies = Latencies::default();
    let mut missing = 0;
    for (i, &sent_at) in sent.iter().enumerate().take(acknowledged) {
        let last = arrivals
            .iter()
            .map(|a| a.at_us.get(i).copied().unwrap_or(NOT_YET))
            .max();
        let Some(last) = last else { continue };
        if last == NOT_YET {
            missing += arrivals
                .iter()
                .filter(|a| a.at_us.get(i).copied().unwrap_or(NOT_YET) == NOT_YET)
                .count() as u64;
            continue;
        }
        if sent_at < window.start {
            continue;
        }
        let sent_us = (sent_at - base).as_micros() as u64;
        latencies.record_ns((last as u64).saturating_sub(sent_us) * 1000);
    }
    (latencies, missing)
}

/// A watcher's loop: record notification arrivals until it has one for
/// every write (once the writer is done) or the drain time runs out.
fn listen(
    mut s: Session,
    nodes: usize,
    base: Instant,
    window: Window,
    total: &AtomicU64,
) -> Arrivals {
    let mut arrivals = Arrivals {
        at_us: Vec::new(),
        in_window: 0,
        failure: None,
    };
    if let Err(e) = listen_loop(&mut s, nodes, base, window, total, &mut arrivals) {
        arrivals.failure = Some(e);
    }
    s.close(CLOSE_TIMEOUT);
    arrivals
}

fn listen_loop(
    s: &mut Session,
    nodes: usize,
    base: Instant,
    window: Window,
    total: &AtomicU64,
    arrivals: &mut Arrivals,
) -> Result<(), BenchError> {
    s.set_read_timeout(Some(Duration::from_millis(200)))?;
    let mut per_node = vec![0usize; nodes];
    let mut received = 0u64;
    let mut last_ping = Instant::now();
    let drain_end = window.end + DRAIN;
    loop {
        if received >= total.load(Ordering::SeqCst) || Instant::now() > drain_end {
            return Ok(());
        }
        if last_ping.elapsed() > PING_EVERY {
            let mut ping = Vec::new();
            Session::push_ping(&mut ping);
            s.send(&ping)?;
            last_ping = Instant::now();
        }
        match s.fill() {
            Ok(()) => {}
            Err(BenchError::Io(e))
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) =>
            {
                continue
            }
            Err(e) => return Err(e),
        }
        let now = Instant::now();
        let now_us = (now - base).as_micros().min(NOT_YET as u128 - 1) as u32;
        while let Some(reply) = s.reader.next_reply()? {
            if reply.xid != xid::NOTIFICATION {
                continue;
            }
            let event: WatcherEvent = jute::from_bytes(reply.body)?;
            let j = node_index(&event.path)
                .filter(|&j| j < nodes)
                .ok_or_else(|| BenchError::Protocol(format!("notification for {}", event.path)))?;
            let write = per_node[j] * nodes + j;
            per_node[j] += 1;
            if arrivals.at_us.len() <= write {
                arrivals.at_us.resize(write + 1, NOT_YET);
            }
            arrivals.at_us[write] = now_us;
            received += 1;
            if now >= window.start && now <= window.end {
                arrivals.in_window += 1;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn node_index_parses_only_our_paths() {
        assert_eq!(node_index("/bench-watch/n7"), Some(7));
        assert_eq!(node_index("/bench-watch/x7"), None);
        assert_eq!(node_index("/other/n7"), None);
    }

    #[test]
    fn latency_is_to_the_last_watcher_and_misses_are_counted() {
        let base = Instant::now();
        let window = Window {
            start: base,
            end: base + Duration::from_secs(10),
        };
        let sent = vec![
            base + Duration::from_micros(100),
            base + Duration::from_micros(200),
        ];
        let a = Arrivals {
            at_us: vec![150, 260],
            in_window: 2,
            failure: None,
        };
        let b = Arrivals {
            at_us: vec![400],
            in_window: 1,
            failure: None,
        };
        let (mut lat, missing) = fan_out_latencies(&sent, 2, &[a, b], base, &window);
        let s = lat.summary();
        assert_eq!(s.count, 1);
        assert_eq!(s.max_us, 300.0);
        assert_eq!(missing, 1);
    }
}
