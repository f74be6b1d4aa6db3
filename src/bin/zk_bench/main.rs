//! `zk-bench`: load generator and measuring tool for ZooKeeper servers
//! (ours or Java's), speaking the wire protocol through our own
//! `zookeeper::jute` records.
//!
//! Runs one workload per invocation on the main thread, which prepares
//! the tree, starts worker threads (one per session, blocking sockets,
//! pipelined requests; no async runtime so the client stays cheap next to
//! the server), samples the server's `/proc/<pid>` at the edges of the
//! measured window, then prints a short table and one JSON line.
//! `zk-bench compare` turns many JSON lines into the side-by-side table
//! of `scripts/bench.sh`.
//!
//! # Layout
//!
//! | module | role |
//! |---|---|
//! | [`options`] | flags |
//! | [`client`] | handshake, request frames, reply frames |
//! | [`tls`] | the TLS client side (`--tls-truststore`, `--tls-keystore`) |
//! | [`pipeline`] | the pipelined request loop of one session |
//! | [`setup`] | znodes a workload needs before it is measured |
//! | [`ops`] | create, set, get, exists, mixed |
//! | [`watch`] | notification fan-out |
//! | [`sessions`] | connect (open+close rate), sessions (idle RSS) |
//! | [`load`] | fill N znodes, RSS |
//! | [`server_proc`] | recover, startup: start the server, time the first reply |
//! | [`failover`] | ensemble: SIGKILL the leader; first write, sessions back; `reattach`: every session drops its connection at once |
//! | [`snap_sync`] | ensemble: a follower joins on an empty dataDir |
//! | [`watch_memory`] | `watches`: RSS per watch, notifications/s |
//! | [`sessions_max`] | sessions one server holds before refusing |
//! | [`reattach`] | failover, reattach: a dropped session's reconnects, as a Java client's |
//! | [`readiness`] | poll(2) over many sessions; connect from a source address |
//! | [`window`], [`latency`], [`proc_stat`] | what is measured and how |
//! | [`report`], [`compare`] | table and JSON line; medians and targets |
//!
//! Mirrors: nothing in ZooKeeper itself; the client side follows
//! `org.apache.zookeeper.ClientCnxn`.

mod client;
mod compare;
mod error;
mod failover;
mod latency;
mod load;
mod ops;
mod options;
mod pipeline;
mod proc_stat;
mod readiness;
mod reattach;
mod report;
mod server_proc;
mod sessions;
mod sessions_max;
mod setup;
mod snap_sync;
mod tls;
mod watch;
mod watch_memory;
mod window;

use std::fs::OpenOptions;
use std::io::Write;
use std::process::exit;

use error::BenchError;
use options::{Options, Workload, USAGE};
use report::RunResult;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match run(&args) {
        Ok(code) => exit(code),
        Err(BenchError::Usage(msg)) => {
            eprintln!("zk-bench: {}\n\n{}", msg, USAGE);
            exit(2);
        }
        Err(e) => {
            eprintln!("zk-bench: {}", e);
            exit(1);
        }
    }
}

/// Dispatches; the exit code is 0 when the run had no errors, 1 if it did.
fn run(args: &[String]) -> Result<i32, BenchError> {
    let Some(first) = args.first() else {
        return Err(BenchError::Usage("no workload given".into()));
    };
    if first == "-h" || first == "--help" {
        print!("{}", USAGE);
        return Ok(0);
    }
    if first == "compare" {
        compare::run(&args[1..])?;
        return Ok(0);
    }
    let workload = Workload::parse(first)
        .ok_or_else(|| BenchError::Usage(format!("unknown workload {:?}", first)))?;
    let opts = Options::parse(workload, &args[1..])?;
    tls::configure(&opts)?;
    let result = run_workload(&opts)?;
    print!("{}", result.to_table());
    let line = result.to_json();
    println!("{}", line);
    if let Some(path) = &opts.json {
        let mut f = OpenOptions::new().create(true).append(true).open(path)?;
        writeln!(f, "{}", line)?;
    }
    Ok(if result.errors == 0 { 0 } else { 1 })
}

fn run_workload(opts: &Options) -> Result<RunResult, BenchError> {
    match opts.workload {
        Workload::Create | Workload::Set | Workload::Get | Workload::Exists | Workload::Mixed => {
            ops::run(opts)
        }
        Workload::Watch => watch::run(opts),
        Workload::Connect => sessions::run_connect(opts),
        Workload::Sessions => sessions::run_sessions(opts),
        Workload::Load => load::run(opts),
        Workload::Recover | Workload::Startup => server_proc::run(opts),
        Workload::Failover | Workload::Reattach => failover::run(opts),
        Workload::SnapSync => snap_sync::run(opts),
        Workload::Watches => watch_memory::run(opts),
        Workload::SessionsMax => sessions_max::run(opts),
    }
}
