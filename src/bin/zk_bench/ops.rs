//! The request-rate workloads: `create`, `set`, `get`, `exists`, `mixed`.
//!
//! The main thread prepares the tree and opens the sessions; then one
//! worker thread per session runs [`pipeline::drive`] with a request
//! generator from here, while the main thread samples the server's CPU
//! at the window's edges.
//!
//! Mirrors: nothing in ZooKeeper; part of the zk-bench tool.

use std::sync::Arc;
use std::thread::{self, JoinHandle};
use std::time::Duration;

use zookeeper::jute::OutputArchive;
use zookeeper::zoo_defs::op_code;

use crate::client::{open_acl, push_request, write_create, Session};
use crate::error::BenchError;
use crate::options::{Options, Workload};
use crate::pipeline::{self, Outcome, Requests};
use crate::report::RunResult;
use crate::setup;
use crate::window::{self, Window};

/// How long opening one session may take.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(30);

/// A small, fast, deterministic random generator (xorshift64*), one per
/// session so that sessions do not share state.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }

    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// Uniform in `0..n` (n > 0; the modulo bias is negligible here).
    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

/// Creates `<prefix>/s<session>-<n>` with the payload, n = 0, 1, ...
pub struct Creates {
    prefix: String,
    payload: Arc<Vec<u8>>,
    acl: Vec<zookeeper::jute::data::Acl>,
    next: u64,
    path: String,
}

impl Requests for Creates {
    fn push_next(&mut self, out: &mut Vec<u8>, xid: i32) -> bool {
        use std::fmt::Write as _;
        self.path.clear();
        let _ = write!(self.path, "{}-{}", self.prefix, self.next);
        self.next += 1;
        let (path, payload, acl) = (&self.path, &self.payload, &self.acl);
        push_request(out, xid, op_code::CREATE, |oa| {
            write_create(oa, path, payload, acl, 0)
        });
        true
    }
}

/// get, set, exists or a mix of get and set, on random keys.
pub struct KeyOps {
    workload: Workload,
    paths: Arc<Vec<String>>,
    payload: Arc<Vec<u8>>,
    read_pct: u32,
    rng: Rng,
}

impl KeyOps {
    /// setData (or get, exists, mixed) on random `paths`, seeded per session.
    pub fn new(
        workload: Workload,
        paths: Arc<Vec<String>>,
        payload: Arc<Vec<u8>>,
        read_pct: u32,
        seed: u64,
    ) -> KeyOps {
        KeyOps {
            workload,
            paths,
            payload,
            read_pct,
            rng: Rng::new(seed),
        }
    }

    /// Whether the next request reads (get) or writes (set).
    fn next_op(&mut self) -> i32 {
        match self.workload {
            Workload::Get => op_code::GET_DATA,
            Workload::Exists => op_code::EXISTS,
            Workload::Set => op_code::SET_DATA,
            _ if (self.rng.below(100) as u32) < self.read_pct => op_code::GET_DATA,
            _ => op_code::SET_DATA,
        }
    }
}

impl Requests for KeyOps {
    fn push_next(&mut self, out: &mut Vec<u8>, xid: i32) -> bool {
        let op = self.next_op();
        let path = &self.paths[self.rng.below(self.paths.len())];
        let payload = &self.payload;
        push_request(out, xid, op, |oa: &mut OutputArchive<&mut Vec<u8>>| {
            oa.write_string(path)?;
            if op == op_code::SET_DATA {
                oa.write_buffer(Some(payload))?;
                oa.write_int(-1)
            } else {
                oa.write_bool(false)
            }
        });
        true
    }
}

/// Runs one of the five request-rate workloads.
pub fn run(opts: &Options) -> Result<RunResult, BenchError> {
    let payload = Arc::new(setup::payload(opts.payload));
    let mut admin = Session::connect(opts.server, CONNECT_TIMEOUT)?;
    let run_prefix = format!("/bench-create/{}", setup::unique_run_id());
    if opts.workload == Workload::Create {
        setup::ensure_paths(&mut admin, &["/bench-create".into(), run_prefix.clone()])?;
    } else {
        setup::fill_keys(&mut admin, opts.keys, &payload)?;
    }
    admin.close(pipeline::CLOSE_TIMEOUT);

    let paths = Arc::new((0..opts.keys).map(setup::key_path).collect::<Vec<_>>());
    let generators: Vec<Box<dyn Requests>> = (0..opts.sessions)
        .map(|i| -> Box<dyn Requests> {
            if opts.workload == Workload::Create {
                Box::new(Creates {
                    prefix: format!("{}/s{}", run_prefix, i),
                    payload: payload.clone(),
                    acl: open_acl(),
                    next: 0,
                    path: String::new(),
                })
            } else {
                Box::new(KeyOps {
                    workload: opts.workload,
                    paths: paths.clone(),
                    payload: payload.clone(),
                    read_pct: opts.read_pct,
                    rng: Rng::new(i as u64 + 1),
                })
            }
        })
        .collect();
    let window = Window::starting_in(opts.warmup, opts.duration);
    let (outcome, cpu) = run_sessions(opts, generators, window)?;
    Ok(result_of(opts, &window, outcome, cpu))
}

impl Requests for Box<dyn Requests> {
    fn push_next(&mut self, out: &mut Vec<u8>, xid: i32) -> bool {
        (**self).push_next(out, xid)
    }
}

/// Opens one session per generator, drives them all on their own
/// threads, samples the server's CPU over `window`, and merges the
/// outcomes.
pub fn run_sessions<R: Requests + 'static>(
    opts: &Options,
    generators: Vec<R>,
    window: Window,
) -> Result<(Outcome, window::Cpu), BenchError> {
    let handles = spawn_sessions(opts, generators, window)?;
    let cpu = window::sample_cpu(&opts.pids, &window);
    Ok((join_sessions(handles), cpu))
}

/// Opens one session per generator and starts a worker thread for each.
pub fn spawn_sessions<R: Requests + 'static>(
    opts: &Options,
    generators: Vec<R>,
    window: Window,
) -> Result<Vec<JoinHandle<Outcome>>, BenchError> {
    let mut sessions = Vec::with_capacity(generators.len());
    for i in 0..generators.len() {
        // Spread over the ensemble: writes on followers are forwarded.
        let server = opts.servers[i % opts.servers.len()];
        sessions.push(Session::connect(server, CONNECT_TIMEOUT)?);
    }
    let inflight = opts.inflight;
    Ok(sessions
        .into_iter()
        .zip(generators)
        .map(|(session, mut requests)| {
            thread::spawn(move || pipeline::drive(session, &mut requests, inflight, window))
        })
        .collect())
}

/// Waits for every worker and merges their outcomes; a session that
/// failed counts as one more error (and is reported on stderr).
pub fn join_sessions(handles: Vec<JoinHandle<Outcome>>) -> Outcome {
    let mut total = Outcome::default();
    for handle in handles {
        match handle.join() {
            Ok(outcome) => total.merge(outcome),
            Err(_) => total.errors += 1,
        }
    }
    if let Some(failure) = &total.failure {
        eprintln!("zk-bench: a session failed: {}", failure);
        total.errors += 1;
    }
    total
}

/// The result line of a timed request workload.
pub fn result_of(
    opts: &Options,
    window: &Window,
    mut outcome: Outcome,
    cpu: window::Cpu,
) -> RunResult {
    RunResult {
        case: opts.case.clone(),
        label: opts.label.clone(),
        workload: opts.workload.name().into(),
        sessions: opts.sessions,
        inflight: opts.inflight,
        payload: opts.payload,
        seconds: window.seconds(),
        ops: outcome.ops,
        errors: outcome.errors,
        latency: Some(outcome.latencies.summary()),
        cpu_us_per_op: window::cpu_per_op(cpu.server, outcome.ops),
        client_cpu_us_per_op: window::cpu_per_op(cpu.client, outcome.ops),
        ..Default::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn paths() -> Arc<Vec<String>> {
        Arc::new((0..4).map(setup::key_path).collect())
    }

    fn key_ops(workload: Workload, read_pct: u32) -> KeyOps {
        KeyOps {
            workload,
            paths: paths(),
            payload: Arc::new(vec![1, 2]),
            read_pct,
            rng: Rng::new(1),
        }
    }

    /// Opcode of each frame in `out`.
    fn opcodes(out: &[u8]) -> Vec<i32> {
        let mut ops = Vec::new();
        let mut rest = out;
        while rest.len() >= 12 {
            let len = i32::from_be_bytes([rest[0], rest[1], rest[2], rest[3]]) as usize;
            ops.push(i32::from_be_bytes([rest[8], rest[9], rest[10], rest[11]]));
            rest = &rest[4 + len..];
        }
        ops
    }

    #[test]
    fn mixed_reads_about_the_asked_share() {
        let mut g = key_ops(Workload::Mixed, 90);
        let mut out = Vec::new();
        for xid in 0..10_000 {
            g.push_next(&mut out, xid);
        }
        let ops = opcodes(&out);
        let reads = ops.iter().filter(|&&op| op == op_code::GET_DATA).count();
        assert_eq!(ops.len(), 10_000);
        assert!((8_700..9_300).contains(&reads), "{} reads", reads);
        assert!(ops
            .iter()
            .all(|&op| op == op_code::GET_DATA || op == op_code::SET_DATA));
    }

    #[test]
    fn pure_workloads_use_one_opcode() {
        for (w, op) in [
            (Workload::Get, op_code::GET_DATA),
            (Workload::Exists, op_code::EXISTS),
            (Workload::Set, op_code::SET_DATA),
        ] {
            let mut g = key_ops(w, 0);
            let mut out = Vec::new();
            for xid in 0..100 {
                g.push_next(&mut out, xid);
            }
            assert!(opcodes(&out).iter().all(|&o| o == op), "{:?}", w);
        }
    }

    #[test]
    fn creates_use_fresh_paths() {
        let mut g = Creates {
            prefix: "/p/s0".into(),
            payload: Arc::new(vec![]),
            acl: open_acl(),
            next: 0,
            path: String::new(),
        };
        let mut out = Vec::new();
        g.push_next(&mut out, 1);
        g.push_next(&mut out, 2);
        let text = String::from_utf8_lossy(&out);
        assert!(text.contains("/p/s0-0") && text.contains("/p/s0-1"));
        assert_eq!(opcodes(&out), vec![op_code::CREATE, op_code::CREATE]);
    }

    #[test]
    fn rng_spreads_over_the_range() {
        let mut rng = Rng::new(7);
        let mut seen = [false; 10];
        for _ in 0..1000 {
            seen[rng.below(10)] = true;
        }
        assert!(seen.iter().all(|&s| s));
    }
}
