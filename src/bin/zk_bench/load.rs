//! `load`: fill the server with `--count` znodes of `--payload` bytes and
//! report its resident memory (and the fill rate).
//!
//! The znodes go to `/bench-load/<run>/p<i / 1000>/n<i>` (a thousand per
//! parent, like a real tree rather than one huge child list), created in
//! multi requests of `--batch` creates, pipelined over `--sessions`
//! sessions. Session `s` makes batches `s`, `s + sessions`, ...; the
//! parents are made first on the main thread.
//!
//! Mirrors: nothing in ZooKeeper; part of the zk-bench tool.

use std::fmt::Write as _;
use std::sync::Arc;
use std::thread;
use std::time::Duration;

use zookeeper::jute::data::Acl;
use zookeeper::jute::proto::MultiHeader;
use zookeeper::jute::Record;
use zookeeper::zoo_defs::op_code;

use crate::client::{open_acl, push_request, write_create, Session};
use crate::error::BenchError;
use crate::ops::{self, CONNECT_TIMEOUT};
use crate::options::Options;
use crate::pipeline::{self, Requests};
use crate::proc_stat;
use crate::report::RunResult;
use crate::setup;
use crate::window::{self, Window};

/// Znodes under one parent.
const PER_PARENT: usize = 1000;
/// Pause between the last reply and the RSS reading, so that buffers
/// the server frees after the burst are returned first.
const SETTLE: Duration = Duration::from_secs(1);

/// The multi batches of one session.
pub struct Batches {
    root: String,
    payload: Arc<Vec<u8>>,
    acl: Vec<Acl>,
    count: usize,
    batch: usize,
    /// Index of this session's next batch; advances by `stride`.
    next_batch: usize,
    stride: usize,
    path: String,
}

impl Batches {
    fn znode_path(&mut self, i: usize) {
        self.path.clear();
        let _ = write!(self.path, "{}/p{}/n{}", self.root, i / PER_PARENT, i);
    }
}

impl Requests for Batches {
    fn push_next(&mut self, out: &mut Vec<u8>, xid: i32) -> bool {
        let first = self.next_batch * self.batch;
        if first >= self.count {
            return false;
        }
        let last = (first + self.batch).min(self.count);
        self.next_batch += self.stride;
        let mut paths = Vec::with_capacity(last - first);
        for i in first..last {
            self.znode_path(i);
            paths.push(self.path.clone());
        }
        let (payload, acl) = (&self.payload, &self.acl);
        push_request(out, xid, op_code::MULTI, |oa| {
            for path in &paths {
                MultiHeader {
                    r#type: op_code::CREATE,
                    done: false,
                    err: -1,
                }
                .serialize(oa)?;
                write_create(oa, path, payload, acl, 0)?;
            }
            MultiHeader {
                r#type: -1,
                done: true,
                err: -1,
            }
            .serialize(oa)
        });
        true
    }
}

/// Runs `load`.
pub fn run(opts: &Options) -> Result<RunResult, BenchError> {
    let root = format!("/bench-load/{}", setup::unique_run_id());
    let mut admin = Session::connect(opts.server, CONNECT_TIMEOUT)?;
    let mut parents = vec!["/bench-load".to_string(), root.clone()];
    parents.extend((0..opts.count.div_ceil(PER_PARENT)).map(|p| format!("{}/p{}", root, p)));
    setup::ensure_paths(&mut admin, &parents)?;
    admin.close(pipeline::CLOSE_TIMEOUT);

    let payload = Arc::new(setup::payload(opts.payload));
    let generators: Vec<Batches> = (0..opts.sessions)
        .map(|s| Batches {
            root: root.clone(),
            payload: payload.clone(),
            acl: open_acl(),
            count: opts.count,
            batch: opts.batch,
            next_batch: s,
            stride: opts.sessions,
            path: String::new(),
        })
        .collect();
    // The batches end the run, not the clock.
    let window = Window::starting_in(Duration::ZERO, Duration::from_secs(86_400));
    let cpu_before = window::cpu_now(&opts.pids);
    let handles = ops::spawn_sessions(opts, generators, window)?;
    let mut outcome = ops::join_sessions(handles);
    let elapsed = window.start.elapsed();
    let cpu = window::cpu_between(cpu_before, window::cpu_now(&opts.pids));
    thread::sleep(SETTLE);
    let made = outcome.replies.saturating_sub(outcome.errors) as usize * opts.batch;
    let znodes = made.min(opts.count) as u64;
    Ok(RunResult {
        case: opts.case.clone(),
        label: opts.label.clone(),
        workload: opts.workload.name().into(),
        sessions: opts.sessions,
        inflight: opts.inflight,
        payload: opts.payload,
        seconds: elapsed.as_secs_f64(),
        ops: znodes,
        errors: outcome.errors,
        latency: Some(outcome.latencies.summary()),
        cpu_us_per_op: window::cpu_per_op(cpu.server, znodes),
        client_cpu_us_per_op: window::cpu_per_op(cpu.client, znodes),
        rss_kib: proc_stat::rss_kib_sum(&opts.pids),
        ..Default::default()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn batches(count: usize, batch: usize, session: usize, stride: usize) -> Batches {
        Batches {
            root: "/r".into(),
            payload: Arc::new(vec![0; 16]),
            acl: open_acl(),
            count,
            batch,
            next_batch: session,
            stride,
            path: String::new(),
        }
    }

    /// Paths each batch of a generator creates, by scanning the frames.
    fn paths_of(g: &mut Batches) -> Vec<String> {
        let mut out = Vec::new();
        let mut xid = 1;
        while g.push_next(&mut out, xid) {
            xid += 1;
        }
        let text = String::from_utf8_lossy(&out).into_owned();
        text.split("/r/")
            .skip(1)
            .map(|s| {
                s.chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || *c == '/')
                    .collect()
            })
            .collect()
    }

    #[test]
    fn sessions_split_the_znodes_without_overlap() {
        let mut all: Vec<String> = Vec::new();
        for s in 0..3 {
            all.extend(paths_of(&mut batches(2500, 100, s, 3)));
        }
        all.sort();
        all.dedup();
        assert_eq!(all.len(), 2500);
        assert!(all.contains(&"p0/n0".to_string()));
        assert!(all.contains(&"p2/n2499".to_string()));
    }

    #[test]
    fn a_partial_last_batch_stops_at_count() {
        let paths = paths_of(&mut batches(150, 100, 0, 1));
        assert_eq!(paths.len(), 150);
    }
}
