//! A panic on a critical thread (SyncThread, the Prep thread, the
//! CommitProcessor) stops the process with exit code 1 and a log line
//! naming the thread, as Java's ZooKeeperCriticalThread does; before, the
//! thread died alone and the process lived on without making progress.
//!
//! Each case runs in a child process (this test binary again, with
//! ZK_CRITICAL_CHILD naming the case): the real stage is started in front
//! of a next stage that panics, one request goes through, and the child
//! would exit 0 after 20 s if nothing stopped it.

use std::collections::HashMap;
use std::process::Command;
use std::sync::Arc;
use std::time::Duration;

use zookeeper::config::server_config::ServerConfig;
use zookeeper::quorum::commit_processor::CommitProcessor;
use zookeeper::server::prep_request_processor::PrepRequestProcessor;
use zookeeper::server::request::Request;
use zookeeper::server::request_processor::RequestProcessor;
use zookeeper::server::server_state::ServerState;
use zookeeper::server::session_tracker::SessionTracker;
use zookeeper::server::sync_request_processor::SyncRequestProcessor;
use zookeeper::server::zk_database::ZkDatabase;
use zookeeper::server::zookeeper_critical_thread;
use zookeeper::zoo_defs::op_code;

struct Panics;

impl RequestProcessor for Panics {
    fn process_request(&mut self, _request: Request) {
        panic!("the next stage failed");
    }

    fn shutdown(&mut self) {}
}

fn read_request() -> Request {
    let mut payload = zookeeper::jute::OutputArchive::new(Vec::new());
    payload.write_string("/").unwrap();
    payload.write_bool(false).unwrap();
    Request::new(
        None,
        1,
        1,
        op_code::GET_DATA,
        payload.into_inner(),
        Vec::new(),
    )
}

fn config(case: &str) -> ServerConfig {
    let dir = std::env::temp_dir().join(format!("zk-critical-{}-{}", case, std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    ServerConfig::with_defaults(&dir, "127.0.0.1:0".parse().unwrap())
}

/// The child's side: start the stage, send one request, wait.
fn child(case: &str) {
    env_logger::Builder::new()
        .filter_level(log::LevelFilter::Info)
        .target(env_logger::Target::Stderr)
        .init();
    zookeeper_critical_thread::install();
    let cfg = config(case);
    let db = Arc::new(ZkDatabase::open(&cfg).unwrap());
    // Kept alive (not dropped) until the process ends either way.
    let mut keep: Vec<Box<dyn RequestProcessor>> = Vec::new();
    match case {
        "sync" => {
            let mut sync = SyncRequestProcessor::start(Arc::clone(&db), &cfg, Box::new(Panics));
            sync.process_request(read_request());
            keep.push(Box::new(sync));
        }
        "prep" => {
            let sessions = Arc::new(SessionTracker::new(0, cfg.tick_time, &HashMap::new()));
            let state = Arc::new(ServerState::new(cfg.clone(), Arc::clone(&db), sessions));
            let mut prep = PrepRequestProcessor::start(state, Box::new(Panics)).unwrap();
            prep.process_request(read_request());
            keep.push(Box::new(prep));
        }
        "commit" => {
            let mut commit = CommitProcessor::start(1, false, Box::new(Panics)).unwrap();
            commit.process_request(read_request());
            keep.push(Box::new(commit));
        }
        other => panic!("unknown case {}", other),
    }
    std::thread::sleep(Duration::from_secs(20));
    std::process::exit(0);
}

fn run_child(case: &str) -> (Option<i32>, String) {
    let out = Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "child_entry", "--nocapture", "--test-threads=1"])
        .env("ZK_CRITICAL_CHILD", case)
        .output()
        .unwrap();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Not a test of its own: the entry point of the child processes.
#[test]
fn child_entry() {
    if let Ok(case) = std::env::var("ZK_CRITICAL_CHILD") {
        child(&case);
    }
}

#[test]
fn a_panic_on_a_critical_thread_stops_the_process() {
    for (case, thread) in [
        ("sync", "SyncThread:0"),
        ("prep", "ProcessThread"),
        ("commit", "CommitProcessor:1"),
    ] {
        let (code, log) = run_child(case);
        assert_eq!(code, Some(1), "{}: exit code; log:\n{}", case, log);
        let line = format!("Severe unrecoverable error, from thread : {}", thread);
        assert!(
            log.contains(&line) && log.contains("the next stage failed"),
            "{}: no {:?} in:\n{}",
            case,
            line,
            log
        );
    }
}
