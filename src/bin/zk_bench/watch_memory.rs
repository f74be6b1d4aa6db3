//! `watches`: many sessions holding many watches, across an ensemble.
//!
//! `--nodes` znodes under `/bench-watches`; `--watchers` sessions spread
//! round robin over `--server`, held by holder threads (a few dozen
//! sessions each, read with `poll`). Session k sets one watch on each
//! of its share of the znodes (`--count` / `--watchers`), of the kind
//! k mod 4: a data watch (getData), a child watch (getChildren), an
//! exists watch, or a persistent watch (addWatch), pinging its sessions
//! while it waits (setting a million watches outlasts a session
//! timeout). The servers' RSS
//! (summed over `--pid`) is read with the sessions open and again with
//! the watches set: the difference per watch is reported.
//!
//! Then the main thread changes `--changes` percent of the znodes
//! (setData and a new child each, pipelined on one session) and the
//! holders count the notifications until every expected one arrived:
//! notifications per second from the first change to the last
//! notification.
//!
//! Mirrors: nothing in ZooKeeper; part of the zk-bench tool.

use std::net::TcpStream;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Barrier};
use std::thread;
use std::time::{Duration, Instant};

use zookeeper::jute::proto::{AddWatchRequest, ExistsRequest, GetChildrenRequest, GetDataRequest};
use zookeeper::jute::{self, Record};
use zookeeper::zoo_defs::{add_watch_mode, op_code, xid};

use crate::client::Session;
use crate::error::BenchError;
use crate::ops::CONNECT_TIMEOUT;
use crate::options::Options;
use crate::pipeline::CLOSE_TIMEOUT;
use crate::proc_stat;
use crate::readiness;
use crate::report::RunResult;
use crate::setup;

const ROOT: &str = "/bench-watches";
/// Sessions per holder thread.
const PER_HOLDER: usize = 50;
/// Pause before reading RSS, so the servers finished allocating.
const SETTLE: Duration = Duration::from_secs(1);
/// Sessions are pinged this often (a third of the session timeout).
const PING_EVERY: Duration = Duration::from_secs(10);

fn node_path(i: usize) -> String {
    format!("{}/n{}", ROOT, i)
}

/// The watch kinds, by session index.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Kind {
    Data,
    Child,
    Exists,
    Persistent,
}

impl Kind {
    fn of(session: usize) -> Kind {
        [Kind::Data, Kind::Child, Kind::Exists, Kind::Persistent][session % 4]
    }

    /// The request that sets this watch on `path`.
    fn request(self, path: String) -> (i32, Vec<u8>) {
        match self {
            Kind::Data => (
                op_code::GET_DATA,
                bytes(&GetDataRequest { path, watch: true }),
            ),
            Kind::Child => (
                op_code::GET_CHILDREN,
                bytes(&GetChildrenRequest { path, watch: true }),
            ),
            Kind::Exists => (op_code::EXISTS, bytes(&ExistsRequest { path, watch: true })),
            Kind::Persistent => (
                op_code::ADD_WATCH,
                bytes(&AddWatchRequest {
                    path,
                    mode: add_watch_mode::PERSISTENT,
                }),
            ),
        }
    }

    /// Notifications one changed znode (setData + a new child) sends.
    fn notifications_per_change(self) -> u64 {
        match self {
            Kind::Persistent => 2,
            _ => 1,
        }
    }
}

fn bytes<T: Record>(r: &T) -> Vec<u8> {
    jute::to_bytes(r)
}

/// The znodes session `k` watches (its share of `count`, wrapping).
fn watched(k: usize, per_session: usize, nodes: usize) -> impl Iterator<Item = usize> {
    (0..per_session).map(move |j| (k + j) % nodes)
}

/// Runs `watches`.
pub fn run(opts: &Options) -> Result<RunResult, BenchError> {
    let per_session = (opts.count / opts.watchers).clamp(1, opts.nodes);
    let watches = (per_session * opts.watchers) as u64;
    let changed = (opts.nodes * opts.changes_pct as usize / 100).max(1);
    let mut admin = Session::connect(opts.server, CONNECT_TIMEOUT)?;
    let mut all = vec![ROOT.to_string()];
    all.extend((0..opts.nodes).map(node_path));
    setup::ensure_paths(&mut admin, &all)?;
    // Setting a million watches outlasts a session timeout: the changes
    // go through a session opened afterwards.
    admin.close(CLOSE_TIMEOUT);

    let holders = opts.watchers.div_ceil(PER_HOLDER);
    // Three meeting points: sessions open, watches set, changes sent.
    let opened = Arc::new(Barrier::new(holders + 1));
    let watching = Arc::new(Gate::default());
    let setup_start = Instant::now();
    let threads: Vec<_> = (0..holders)
        .map(|h| {
            let first = h * PER_HOLDER;
            let ks: Vec<usize> = (first..opts.watchers.min(first + PER_HOLDER)).collect();
            let servers = opts.servers.clone();
            let (opened, watching) = (opened.clone(), watching.clone());
            let (nodes, timeout) = (opts.nodes, opts.timeout);
            thread::spawn(move || {
                holder(
                    &servers,
                    ks,
                    per_session,
                    nodes,
                    changed,
                    &opened,
                    &watching,
                    timeout,
                )
            })
        })
        .collect();
    opened.wait();
    thread::sleep(SETTLE);
    let rss_open = proc_stat::rss_kib_sum(&opts.pids);
    watching.wait_for(holders);
    let setup_secs = setup_start.elapsed().as_secs_f64();
    thread::sleep(SETTLE);
    let rss_watching = proc_stat::rss_kib_sum(&opts.pids);

    let mut changer = Session::connect(opts.server, CONNECT_TIMEOUT)?;
    watching.open();
    let changes_start = Instant::now();
    let changes = (0..changed).flat_map(|i| {
        let (path, child) = (node_path(i), format!("{}/c", node_path(i)));
        [
            (op_code::SET_DATA, set_body(&path)),
            (op_code::CREATE, setup::create_body(&child, b"")),
        ]
    });
    let failed = setup::pipelined(&mut changer, changes)?
        .into_iter()
        .filter(|e| *e != 0)
        .count() as u64;
    changer.close(CLOSE_TIMEOUT);

    let (mut received, mut expected, mut last, mut errors) = (0u64, 0u64, changes_start, failed);
    for t in threads {
        match t.join() {
            Ok(h) => {
                received += h.received;
                expected += h.expected;
                errors += h.errors;
                last = last.max(h.last.unwrap_or(changes_start));
            }
            Err(_) => errors += 1,
        }
    }
    let secs = (last - changes_start).as_secs_f64();
    let mut extra = vec![("watches_set", watches as f64)];
    if let (Some(a), Some(b)) = (rss_open, rss_watching) {
        extra.push((
            "rss_per_watch_bytes",
            (b as f64 - a as f64) * 1024.0 / watches as f64,
        ));
    }
    extra.push(("setup_s", setup_secs));
    extra.push(("notifications_expected", expected as f64));
    Ok(RunResult {
        case: opts.case.clone(),
        label: opts.label.clone(),
        workload: opts.workload.name().into(),
        sessions: opts.watchers,
        inflight: 0,
        payload: 0,
        seconds: secs,
        ops: received,
        errors: errors + expected.saturating_sub(received),
        rss_kib: rss_watching,
        extra,
        ..Default::default()
    })
}

fn set_body(path: &str) -> Vec<u8> {
    let mut out = Vec::new();
    let mut oa = jute::OutputArchive::new(&mut out);
    let _ = oa.write_string(path);
    let _ = oa.write_buffer(Some(b"changed"));
    let _ = oa.write_int(-1);
    out
}

/// Where the holders wait, pinging their sessions (setting a million
/// watches outlasts a session timeout), until the main thread has read
/// the RSS and opens it.
#[derive(Default)]
struct Gate {
    arrived: AtomicUsize,
    open: AtomicBool,
}

impl Gate {
    /// A holder arrives and waits, pinging `sessions` every [`PING_EVERY`].
    fn arrive(&self, sessions: &mut [Option<Session>]) {
        self.arrived.fetch_add(1, Ordering::SeqCst);
        let mut ping = Vec::new();
        Session::push_ping(&mut ping);
        let mut last = Instant::now();
        while !self.open.load(Ordering::SeqCst) {
            if last.elapsed() > PING_EVERY {
                for s in sessions.iter_mut().flatten() {
                    let _ = s.send(&ping);
                }
                last = Instant::now();
            }
            thread::sleep(Duration::from_millis(10));
        }
    }

    /// The main thread waits for `n` holders.
    fn wait_for(&self, n: usize) {
        while self.arrived.load(Ordering::SeqCst) < n {
            thread::sleep(Duration::from_millis(10));
        }
    }

    fn open(&self) {
        self.open.store(true, Ordering::SeqCst);
    }
}

/// What one holder counted.
struct Heard {
    received: u64,
    expected: u64,
    errors: u64,
    last: Option<Instant>,
}

/// Opens sessions `ks`, sets their watches, then counts notifications
/// until every expected one arrived or `timeout` passed.
#[allow(clippy::too_many_arguments)]
fn holder(
    servers: &[std::net::SocketAddr],
    ks: Vec<usize>,
    per_session: usize,
    nodes: usize,
    changed: usize,
    opened: &Barrier,
    watching: &Gate,
    timeout: Duration,
) -> Heard {
    let mut heard = Heard {
        received: 0,
        expected: 0,
        errors: 0,
        last: None,
    };
    let mut sessions: Vec<Option<Session>> = ks
        .iter()
        .map(|&k| Session::connect(servers[k % servers.len()], CONNECT_TIMEOUT).ok())
        .collect();
    opened.wait();
    let mut ping = Vec::new();
    Session::push_ping(&mut ping);
    let mut last_ping = Instant::now();
    for i in 0..sessions.len() {
        if last_ping.elapsed() > PING_EVERY {
            for s in sessions.iter_mut().flatten() {
                let _ = s.send(&ping);
            }
            last_ping = Instant::now();
        }
        let (s, k) = (&mut sessions[i], ks[i]);
        let kind = Kind::of(k);
        let Some(session) = s else { continue };
        let requests = watched(k, per_session, nodes).map(|n| kind.request(node_path(n)));
        match setup::pipelined(session, requests) {
            Ok(codes) if codes.iter().all(|c| *c == 0) => {
                let hits = watched(k, per_session, nodes)
                    .filter(|&i| i < changed)
                    .count();
                heard.expected += hits as u64 * kind.notifications_per_change();
            }
            _ => *s = None,
        }
    }
    heard.errors += sessions.iter().filter(|s| s.is_none()).count() as u64;
    watching.arrive(&mut sessions);
    let deadline = Instant::now() + timeout;
    while heard.received < heard.expected && Instant::now() < deadline {
        let ready = {
            let streams: Vec<Option<&TcpStream>> = sessions
                .iter()
                .map(|s| s.as_ref().map(|c| c.stream.tcp()))
                .collect();
            readiness::readable(&streams, Duration::from_millis(50))
        };
        for i in ready {
            let Some(c) = sessions[i].as_mut() else {
                continue;
            };
            if c.fill().is_err() {
                sessions[i] = None;
                heard.errors += 1;
                continue;
            }
            while let Ok(Some(reply)) = c.reader.next_reply() {
                if reply.xid == xid::NOTIFICATION {
                    heard.received += 1;
                    heard.last = Some(Instant::now());
                }
            }
        }
    }
    crate::sessions::close_all(sessions.into_iter().flatten().collect());
    heard
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_rotate_and_persistent_hears_both_changes() {
        assert_eq!(Kind::of(0), Kind::Data);
        assert_eq!(Kind::of(7), Kind::Persistent);
        let total: u64 = (0..4).map(|k| Kind::of(k).notifications_per_change()).sum();
        assert_eq!(total, 5);
    }

    #[test]
    fn each_session_watches_distinct_nodes() {
        let w: Vec<usize> = watched(998, 4, 1000).collect();
        assert_eq!(w, vec![998, 999, 0, 1]);
        assert_eq!(watched(5, 1000, 1000).count(), 1000);
    }
}
