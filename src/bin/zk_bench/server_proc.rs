//! `recover` and `startup`: start the server ourselves (`--server-cmd`,
//! split on blanks and executed directly, no shell) and time how long it takes until a client gets a
//! successful reply; then stop it again (SIGTERM, SIGKILL after a grace
//! period).
//!
//! Runs on the main thread. "Served" means a full session handshake and
//! an `exists /` answered with OK: a server that accepts TCP but is
//! still loading (Java closes such connections) does not count.
//!
//! Mirrors: nothing in ZooKeeper; part of the zk-bench tool.

use std::fs::File;
use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use zookeeper::jute::proto::ExistsRequest;
use zookeeper::zoo_defs::op_code;

use crate::client::Session;
use crate::error::BenchError;
use crate::options::Options;
use crate::proc_stat;
use crate::report::RunResult;

/// Pause between two attempts while the server is not up yet.
const POLL: Duration = Duration::from_millis(1);
/// How long one connection attempt may take.
const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(2);
/// How long the server gets to exit after SIGTERM.
const STOP_GRACE: Duration = Duration::from_secs(30);

/// Runs `recover` or `startup`.
pub fn run(opts: &Options) -> Result<RunResult, BenchError> {
    let start = Instant::now();
    let mut child = spawn(opts)?;
    let served = wait_until_served(opts.server, opts.timeout, &mut child, start);
    let rss = proc_stat::rss_kib(child.id());
    stop(&mut child);
    let first_ms = served?;
    Ok(RunResult {
        case: opts.case.clone(),
        label: opts.label.clone(),
        workload: opts.workload.name().into(),
        sessions: 1,
        inflight: 1,
        payload: 0,
        seconds: first_ms / 1000.0,
        ops: 1,
        errors: 0,
        first_reply_ms: Some(first_ms),
        rss_kib: rss,
        ..Default::default()
    })
}

/// Starts `--server-cmd` with its output to `--server-log`.
pub fn spawn(opts: &Options) -> Result<Child, BenchError> {
    let cmd = opts.server_cmd.as_deref().unwrap_or("false");
    let log = File::create(&opts.server_log)?;
    // Split on blanks and exec directly: a shell in between would add its
    // own start-up to the figure.
    let mut words = cmd.split_whitespace();
    let program = words
        .next()
        .ok_or_else(|| BenchError::Usage("--server-cmd is empty".into()))?;
    Ok(Command::new(program)
        .args(words)
        .stdin(Stdio::null())
        .stdout(log.try_clone()?)
        .stderr(log)
        .spawn()?)
}

/// Polls `server` until a session gets an OK reply; ms since `start`.
pub fn wait_until_served(
    server: SocketAddr,
    timeout: Duration,
    child: &mut Child,
    start: Instant,
) -> Result<f64, BenchError> {
    let deadline = start + timeout;
    let mut last = String::from("no attempt");
    while Instant::now() < deadline {
        if let Ok(Some(status)) = child.try_wait() {
            return Err(BenchError::Timeout(format!(
                "the server exited ({}) before serving",
                status
            )));
        }
        match try_once(server) {
            Ok(session) => {
                let ms = start.elapsed().as_secs_f64() * 1000.0;
                session.close(ATTEMPT_TIMEOUT);
                return Ok(ms);
            }
            Err(e) => last = e.to_string(),
        }
        thread::sleep(POLL);
    }
    Err(BenchError::Timeout(format!(
        "no successful request within {:?} (last: {})",
        timeout, last
    )))
}

/// One attempt: connect, handshake, `exists /`; the open session.
fn try_once(server: SocketAddr) -> Result<Session, BenchError> {
    let mut session = Session::connect(server, ATTEMPT_TIMEOUT)?;
    let (err, _) = session.call(
        op_code::EXISTS,
        &ExistsRequest {
            path: "/".into(),
            watch: false,
        },
    )?;
    if err != 0 {
        return Err(BenchError::Server {
            what: "exists /".into(),
            err,
        });
    }
    Ok(session)
}

/// SIGTERM (through kill(1): no libc binding needed), then SIGKILL.
pub fn stop(child: &mut Child) {
    let _ = Command::new("kill")
        .arg("-TERM")
        .arg(child.id().to_string())
        .status();
    let deadline = Instant::now() + STOP_GRACE;
    while Instant::now() < deadline {
        if let Ok(Some(_)) = child.try_wait() {
            return;
        }
        thread::sleep(Duration::from_millis(20));
    }
    let _ = child.kill();
    let _ = child.wait();
}
