//! `sessions-max`: how many concurrent sessions one server holds before
//! it refuses the next one, and what they cost.
//!
//! `--sessions` opener threads open sessions on `--server` until one is
//! refused (the connection closed or reset, or the handshake not
//! answered in time) or `--count` are open. Sockets come from several
//! loopback source addresses (127.0.0.2, .3, ...) because one source
//! address has only ~28,000 ephemeral ports; the tool raises its own
//! open-file limit first. Reported: sessions held, the server's RSS
//! and RSS per session, and whether the server process is still alive
//! after the refusal (it must refuse, never crash).
//!
//! Mirrors: nothing in ZooKeeper; part of the zk-bench tool.

use std::net::{Ipv4Addr, SocketAddr};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Barrier, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use crate::client::{connect_frame, Session};
use crate::error::BenchError;
use crate::options::Options;
use crate::proc_stat;
use crate::readiness;
use crate::report::RunResult;

/// A session not answered within this is a refusal (a server out of
/// descriptors leaves the connection unaccepted; on a loaded 2-core
/// machine a forwarded createSession was once slower than 5 s).
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(15);
/// Sockets per loopback source address (below the ~28k ephemeral ports).
const PER_SOURCE: usize = 20_000;
/// Held sessions are pinged this often (a third of the session timeout).
const PING_EVERY: Duration = Duration::from_secs(10);
const SETTLE: Duration = Duration::from_secs(1);

/// The source address of the `n`-th socket: 127.0.0.2 for the first
/// 20,000, then .3, and so on (only for a loopback server).
fn source_for(n: usize) -> Ipv4Addr {
    Ipv4Addr::new(127, 0, 0, 2 + (n / PER_SOURCE).min(250) as u8)
}

/// Raises this process's open-file limit to hold `sockets` (the hard
/// limit too, which works as root); returns the soft limit in force.
fn raise_nofile(sockets: usize) -> u64 {
    let want = sockets as u64 + 1024;
    let mut lim = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit/setrlimit with a valid rlimit struct.
    unsafe {
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) != 0 {
            return 0;
        }
        if lim.rlim_max < want {
            let raised = libc::rlimit {
                rlim_cur: want,
                rlim_max: want,
            };
            if libc::setrlimit(libc::RLIMIT_NOFILE, &raised) == 0 {
                return want;
            }
        }
        lim.rlim_cur = lim.rlim_max.min(want.max(lim.rlim_cur));
        libc::setrlimit(libc::RLIMIT_NOFILE, &lim);
        lim.rlim_cur
    }
}

/// Runs `sessions-max`.
pub fn run(opts: &Options) -> Result<RunResult, BenchError> {
    let nofile = raise_nofile(opts.count);
    if nofile < opts.count as u64 {
        eprintln!(
            "zk-bench: sessions-max: this process may open only {} files, fewer than --count {}",
            nofile, opts.count
        );
    }
    let server = opts.server;
    let loopback = server.ip().is_loopback();
    let rss_before = proc_stat::rss_kib_sum(&opts.pids);
    let next = Arc::new(AtomicUsize::new(0));
    let refused = Arc::new(AtomicBool::new(false));
    let reason: Arc<Mutex<Option<String>>> = Arc::default();
    let done = Arc::new(Barrier::new(opts.sessions + 1));
    let release = Arc::new(Barrier::new(opts.sessions + 1));
    let start = Instant::now();
    let threads: Vec<_> = (0..opts.sessions)
        .map(|_| {
            let (next, refused, reason) = (next.clone(), refused.clone(), reason.clone());
            let (done, release, count) = (done.clone(), release.clone(), opts.count);
            thread::spawn(move || {
                let held = open_until_refused(server, loopback, count, &next, &refused, &reason);
                done.wait();
                release.wait();
                let n = held.len() as u64;
                crate::sessions::close_all(held);
                n
            })
        })
        .collect();
    done.wait();
    let open_secs = start.elapsed().as_secs_f64();
    thread::sleep(SETTLE);
    let rss_after = proc_stat::rss_kib_sum(&opts.pids);
    // SAFETY: kill(pid, 0) only checks that the process exists.
    let alive = opts
        .pid
        .map(|pid| unsafe { libc::kill(pid as libc::pid_t, 0) } == 0);
    release.wait();
    let held: u64 = threads.into_iter().filter_map(|t| t.join().ok()).sum();
    if let Some(why) = reason.lock().unwrap().as_ref() {
        eprintln!(
            "zk-bench: sessions-max: refused after {} sessions: {}",
            held, why
        );
    }
    let mut extra = vec![("sessions_held", held as f64)];
    if let Some(alive) = alive {
        extra.push(("server_alive", f64::from(u8::from(alive))));
    }
    extra.push((
        "refused",
        f64::from(u8::from(refused.load(Ordering::SeqCst))),
    ));
    let per_session = match (rss_before, rss_after) {
        (Some(b), Some(a)) if held > 0 => Some((a as f64 - b as f64) * 1024.0 / held as f64),
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
        ops: held,
        errors: u64::from(alive == Some(false)),
        rss_kib: rss_after,
        rss_per_session_bytes: per_session,
        extra,
        ..Default::default()
    })
}

/// Opens sessions (numbered through `next`) until `count` are open in all
/// or one is refused; returns the sessions this thread holds.
fn open_until_refused(
    server: SocketAddr,
    loopback: bool,
    count: usize,
    next: &AtomicUsize,
    refused: &AtomicBool,
    reason: &Mutex<Option<String>>,
) -> Vec<Session> {
    let mut held: Vec<Session> = Vec::new();
    let mut last_ping = Instant::now();
    while !refused.load(Ordering::SeqCst) {
        let n = next.fetch_add(1, Ordering::SeqCst);
        if n >= count {
            break;
        }
        if last_ping.elapsed() > PING_EVERY {
            // Opening may outlast the session timeout: keep the first ones
            // alive, and read what earlier pings brought back.
            let mut ping = Vec::new();
            Session::push_ping(&mut ping);
            for s in held.iter_mut() {
                let _ = s.send(&ping);
            }
            let streams: Vec<_> = held.iter().map(|s| Some(s.stream.tcp())).collect();
            for i in readiness::readable(&streams, Duration::ZERO) {
                let _ = held[i].fill();
                while let Ok(Some(_)) = held[i].reader.next_frame() {}
            }
            last_ping = Instant::now();
        }
        let stream = if loopback {
            readiness::connect_from(source_for(n), server, HANDSHAKE_TIMEOUT)
        } else {
            std::net::TcpStream::connect_timeout(&server, HANDSHAKE_TIMEOUT)
        };
        let attempt = stream
            .map_err(BenchError::from)
            .and_then(|s| Session::handshake(s, HANDSHAKE_TIMEOUT, &connect_frame()));
        match attempt {
            Ok((session, h)) if h.session_id != 0 => held.push(session),
            other => {
                let why = match other {
                    Ok(_) => "session id 0".to_string(),
                    Err(e) => e.to_string(),
                };
                if !refused.swap(true, Ordering::SeqCst) {
                    *reason.lock().unwrap() = Some(format!("session {}: {}", n + 1, why));
                }
            }
        }
    }
    held
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sources_change_before_the_ports_run_out() {
        assert_eq!(source_for(0), Ipv4Addr::new(127, 0, 0, 2));
        assert_eq!(source_for(19_999), Ipv4Addr::new(127, 0, 0, 2));
        assert_eq!(source_for(20_000), Ipv4Addr::new(127, 0, 0, 3));
        assert_eq!(source_for(59_999), Ipv4Addr::new(127, 0, 0, 4));
    }
}
