//! `failover`: what clients see when an ensemble's leader dies.
//!
//! The main thread finds the leader (`srvr` on every node), opens
//! `--count` idle sessions spread over all nodes on holder threads (a few
//! hundred each, watched with `poll`), starts `--sessions` writer threads
//! (one setData in flight each, spread over the nodes), lets them run for
//! `--warmup`, then SIGKILLs the leader's process (`--pid`, in the order
//! of `--server`). From that instant it measures:
//!
//! - the time to the first write acknowledged that was sent after the
//!   kill (writers whose server went away open a new session elsewhere);
//! - the time until every idle session is connected again: a session
//!   whose connection closed re-attaches with its id and password to a
//!   surviving node, like a ZooKeeper client; one that never lost its
//!   connection counts once a ping after the first acknowledged write is
//!   answered;
//! - sessions expired (a re-attach answered with session id 0) and
//!   sessions still not back after `--timeout` (counted as errors).
//!
//! Mirrors: the reconnect logic of `org.apache.zookeeper.ClientCnxn`
//! (re-attach with id and password; a read timeout of 2/3 of the session
//! timeout for a silent server).

use std::io::Write;
use std::net::{SocketAddr, TcpStream};
use std::os::fd::AsRawFd;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Barrier, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use zookeeper::jute::proto::SetDataRequest;
use zookeeper::zoo_defs::op_code;

use crate::client::{connect_frame_for, push_record, Handshake, Session, SESSION_TIMEOUT_MS};
use crate::error::BenchError;
use crate::latency::Latencies;
use crate::ops::Rng;
use crate::ops::CONNECT_TIMEOUT;
use crate::options::{Options, Workload};
use crate::pipeline::CLOSE_TIMEOUT;
use crate::proc_stat;
use crate::readiness;
use crate::reattach::{self, Attempt, Progress};
use crate::report::RunResult;
use crate::setup;

/// Idle sessions per holder thread.
const PER_HOLDER: usize = 250;
/// A writer waits this long for one reply before it tries another node.
const WRITE_TIMEOUT: Duration = Duration::from_secs(5);
/// Pause before retrying when no node accepted anything.
const RETRY_PAUSE: Duration = Duration::from_millis(20);
/// The shortest wait of a holder for a reconnect to become due.
const MIN_WAIT: Duration = Duration::from_millis(2);
/// Idle sessions are pinged this often (a third of the session timeout).
const PING_EVERY: Duration = Duration::from_secs(10);

/// State shared by the main thread, the writers and the holders.
struct Shared {
    servers: Vec<SocketAddr>,
    /// Index of the killed node, usize::MAX before the kill.
    killed: AtomicUsize,
    /// When the leader was killed.
    killed_at: Mutex<Option<Instant>>,
    /// The earliest acknowledged write sent after the kill.
    first_write: Mutex<Option<Instant>>,
    stop: AtomicBool,
    /// `--backoff`: the longest random wait before a reconnect.
    backoff: Duration,
    /// `reattach`: at the instant, every idle session drops its
    /// connection instead of the leader being killed.
    drop_all: bool,
}

impl Shared {
    fn killed_at(&self) -> Option<Instant> {
        *self.killed_at.lock().unwrap()
    }

    fn first_write(&self) -> Option<Instant> {
        *self.first_write.lock().unwrap()
    }

    /// The `attempt`-th node to try for a session whose home is `home`,
    /// never the killed one.
    fn candidate(&self, home: usize, attempt: usize) -> SocketAddr {
        let n = self.servers.len();
        let killed = self.killed.load(Ordering::SeqCst);
        let alive: Vec<usize> = (0..n).filter(|&i| i != killed).collect();
        self.servers[alive[(home + attempt) % alive.len()]]
    }
}

/// Runs `failover`.
pub fn run(opts: &Options) -> Result<RunResult, BenchError> {
    let drop_all = opts.workload == Workload::Reattach;
    let leader = if drop_all {
        None
    } else {
        Some(find_leader(&opts.servers)?)
    };
    let mut admin = Session::connect(opts.server, CONNECT_TIMEOUT)?;
    setup::fill_keys(&mut admin, opts.sessions, &setup::payload(opts.payload))?;
    admin.close(CLOSE_TIMEOUT);
    let shared = Arc::new(Shared {
        servers: opts.servers.clone(),
        killed: AtomicUsize::new(usize::MAX),
        killed_at: Mutex::new(None),
        first_write: Mutex::new(None),
        stop: AtomicBool::new(false),
        backoff: opts.backoff,
        drop_all,
    });

    let holders = opts.count.div_ceil(PER_HOLDER);
    let opened = Arc::new(Barrier::new(holders + 1));
    let opening = Instant::now();
    let holder_threads: Vec<_> = (0..holders)
        .map(|h| {
            let first = h * PER_HOLDER;
            let n = PER_HOLDER.min(opts.count - first);
            let (shared, opened, timeout) = (shared.clone(), opened.clone(), opts.timeout);
            thread::spawn(move || hold(&shared, first, n, &opened, timeout))
        })
        .collect();
    opened.wait();
    eprintln!(
        "zk-bench: {} idle sessions open in {:.1} s; leader is {}",
        opts.count,
        opening.elapsed().as_secs_f64(),
        leader.map_or("not looked for".into(), |l| opts.servers[l].to_string())
    );

    let writer_threads: Vec<_> = (0..opts.sessions)
        .map(|i| {
            let shared = shared.clone();
            let payload = setup::payload(opts.payload);
            thread::spawn(move || write_loop(&shared, i, &payload))
        })
        .collect();
    thread::sleep(opts.warmup);

    // CPU from the instant until every session is resolved: the
    // surviving servers', and this tool's own (is the tool the bound?).
    let surviving: Vec<u32> = (opts.pids.iter().enumerate())
        .filter(|&(i, _)| Some(i) != leader)
        .map(|(_, &p)| p)
        .collect();
    let cpu_before = (
        proc_stat::cpu_seconds_sum(&surviving),
        proc_stat::cpu_seconds(std::process::id()),
    );
    if let Some(leader) = leader {
        // SAFETY: kill(2) with a pid the caller gave for the leader's process.
        let killed = unsafe { libc::kill(opts.pids[leader] as libc::pid_t, libc::SIGKILL) };
        if killed != 0 {
            shared.stop.store(true, Ordering::SeqCst);
            return Err(std::io::Error::last_os_error().into());
        }
        shared.killed.store(leader, Ordering::SeqCst);
    }
    let t0 = Instant::now();
    *shared.killed_at.lock().unwrap() = Some(t0);

    let mut tally = Tally::default();
    for h in holder_threads {
        match h.join() {
            Ok(t) => tally.merge(t),
            Err(_) => tally.lost += PER_HOLDER as u64,
        }
    }
    let cpu_after = (
        proc_stat::cpu_seconds_sum(&surviving),
        proc_stat::cpu_seconds(std::process::id()),
    );
    shared.stop.store(true, Ordering::SeqCst);
    let mut latencies = Latencies::default();
    let mut writes = 0;
    for w in writer_threads {
        if let Ok((lat, n)) = w.join() {
            latencies.merge(lat);
            writes += n;
        }
    }
    let ms =
        |at: Option<Instant>| at.map(|at| (at.saturating_duration_since(t0)).as_secs_f64() * 1e3);
    let first_write_ms = ms(shared.first_write());
    let mut extra = Vec::new();
    if let Some(v) = first_write_ms {
        extra.push(("first_write_ms", v));
    }
    if tally.lost == 0 {
        extra.push(("all_connected_ms", tally.last_back_ms));
    }
    tally.back_ms.sort_by(f64::total_cmp);
    if let Some(&half) = tally.back_ms.get(tally.back_ms.len() / 2) {
        extra.push(("half_connected_ms", half));
    }
    if let (Some(a), Some(b)) = (cpu_before.0, cpu_after.0) {
        extra.push(("servers_cpu_ms", (b - a) * 1e3));
    }
    if let (Some(a), Some(b)) = (cpu_before.1, cpu_after.1) {
        extra.push(("bench_cpu_ms", (b - a) * 1e3));
    }
    extra.push(("reconnects", tally.attempts as f64));
    extra.push(("sessions_dropped", tally.dropped as f64));
    extra.push(("sessions_expired", tally.expired as f64));
    extra.push(("sessions_lost", tally.lost as f64));
    Ok(RunResult {
        case: opts.case.clone(),
        label: opts.label.clone(),
        workload: opts.workload.name().into(),
        sessions: opts.count,
        inflight: 1,
        payload: opts.payload,
        seconds: t0.elapsed().as_secs_f64() + opts.warmup.as_secs_f64(),
        ops: writes,
        errors: tally.lost + u64::from(first_write_ms.is_none()),
        latency: Some(latencies.summary()),
        extra,
        ..Default::default()
    })
}

/// The index of the node whose `srvr` says `Mode: leader`.
pub fn find_leader(servers: &[SocketAddr]) -> Result<usize, BenchError> {
    for (i, s) in servers.iter().enumerate() {
        if four_letter(*s, "srvr").contains("Mode: leader") {
            return Ok(i);
        }
    }
    Err(BenchError::Protocol(
        "no node answers srvr with Mode: leader".into(),
    ))
}

/// A four-letter word's answer ("" when the node does not answer).
pub fn four_letter(server: SocketAddr, word: &str) -> String {
    use std::io::Read;
    let Ok(mut s) = TcpStream::connect_timeout(&server, Duration::from_secs(2)) else {
        return String::new();
    };
    let _ = s.set_read_timeout(Some(Duration::from_secs(2)));
    let mut out = String::new();
    if s.write_all(word.as_bytes()).is_ok() {
        let _ = s.read_to_string(&mut out);
    }
    out
}

/// One writer: setData on its key, one in flight, until told to stop;
/// a failed request moves it to another node with a new session.
/// Returns the latencies and the count of acknowledged writes.
fn write_loop(shared: &Shared, i: usize, payload: &[u8]) -> (Latencies, u64) {
    let mut latencies = Latencies::default();
    let (mut acked, mut attempt) = (0u64, 0usize);
    let request = SetDataRequest {
        path: setup::key_path(i),
        data: Some(payload.to_vec()),
        version: -1,
    };
    let mut session: Option<Session> = None;
    while !shared.stop.load(Ordering::SeqCst) {
        let s = match session.as_mut() {
            Some(s) => s,
            None => match Session::connect(shared.candidate(i, attempt), WRITE_TIMEOUT) {
                Ok(s) => session.insert(s),
                Err(_) => {
                    attempt += 1;
                    thread::sleep(RETRY_PAUSE);
                    continue;
                }
            },
        };
        let sent = Instant::now();
        let xid = s.xid();
        let mut out = Vec::new();
        push_record(&mut out, xid, op_code::SET_DATA, &request);
        let ok = s.send(&out).is_ok()
            && s.set_read_timeout(Some(WRITE_TIMEOUT)).is_ok()
            && matches!(s.wait_for(xid), Ok((0, _)));
        if !ok {
            session = None;
            attempt += 1;
            continue;
        }
        let done = Instant::now();
        acked += 1;
        latencies.record_ns((done - sent).as_nanos() as u64);
        if shared.killed_at().is_some_and(|k| sent >= k) {
            let mut first = shared.first_write.lock().unwrap();
            if first.is_none_or(|f| done < f) {
                *first = Some(done);
            }
        }
    }
    if let Some(s) = session {
        s.close(CLOSE_TIMEOUT);
    }
    (latencies, acked)
}

/// One idle session of a holder.
struct Idle {
    session: Option<Session>,
    home: usize,
    id: i64,
    passwd: Vec<u8>,
    attempts: usize,
    /// A reconnect in flight.
    attempt: Option<Attempt>,
    /// When the next reconnect starts (None right after a drop: not
    /// drawn yet).
    next_try: Option<Instant>,
    /// When the last ping was sent and whether it has been answered.
    pinged: Option<Instant>,
    dropped: bool,
    expired: bool,
    /// Connected again (re-attached, or answered a ping after the first
    /// acknowledged write), as time since the kill.
    back_ms: Option<f64>,
}

impl Idle {
    fn resolved(&self) -> bool {
        self.expired || self.back_ms.is_some()
    }

    /// Dropped and no reconnect in flight.
    fn waiting(&self) -> bool {
        self.session.is_none() && self.attempt.is_none() && !self.resolved()
    }
}

/// What the holders counted.
#[derive(Default)]
struct Tally {
    dropped: u64,
    expired: u64,
    lost: u64,
    last_back_ms: f64,
    /// Every session's time back, ms since the instant.
    back_ms: Vec<f64>,
    /// Reconnects started after the instant.
    attempts: u64,
}

impl Tally {
    fn merge(&mut self, other: Tally) {
        self.dropped += other.dropped;
        self.expired += other.expired;
        self.lost += other.lost;
        self.last_back_ms = self.last_back_ms.max(other.last_back_ms);
        self.back_ms.extend(other.back_ms);
        self.attempts += other.attempts;
    }
}

/// A holder: opens sessions `first..first + n` (session k's home is node
/// k mod N), waits at `opened`, keeps them alive, and after the kill
/// follows each one until it is connected again or `timeout` passes.
fn hold(shared: &Shared, first: usize, n: usize, opened: &Barrier, timeout: Duration) -> Tally {
    let mut idle = Vec::with_capacity(n);
    for k in first..first + n {
        let home = k % shared.servers.len();
        let stream = TcpStream::connect_timeout(&shared.servers[home], CONNECT_TIMEOUT);
        let attached = stream.map_err(BenchError::from).and_then(|s| {
            Session::handshake(s, CONNECT_TIMEOUT, &connect_frame_for(0, &[0; 16], 0))
        });
        match attached {
            Ok((
                session,
                Handshake {
                    session_id, passwd, ..
                },
            )) if session_id != 0 => idle.push(Idle {
                session: Some(session),
                home,
                id: session_id,
                passwd,
                attempts: 1,
                attempt: None,
                next_try: None,
                pinged: None,
                dropped: false,
                expired: false,
                back_ms: None,
            }),
            Ok(_) => eprintln!("zk-bench: failover: a session was refused while opening"),
            Err(e) => eprintln!("zk-bench: failover: opening a session failed: {}", e),
        }
    }
    let mut tally = Tally {
        lost: (n - idle.len()) as u64,
        ..Tally::default()
    };
    opened.wait();
    let mut last_ping = Instant::now();
    let t0 = loop {
        if let Some(t0) = shared.killed_at() {
            break t0;
        }
        if last_ping.elapsed() > PING_EVERY {
            ping_all(&mut idle, None);
            last_ping = Instant::now();
        }
        drain(&mut idle, None, Instant::now());
        thread::sleep(Duration::from_millis(5));
    };
    let read_timeout = Duration::from_millis(SESSION_TIMEOUT_MS as u64 * 2 / 3);
    let attempt_timeout =
        Duration::from_millis(SESSION_TIMEOUT_MS as u64) / shared.servers.len().max(1) as u32;
    let mut rng = Rng::new(first as u64 + 1);
    if shared.drop_all {
        idle.iter_mut().for_each(drop_session);
    }
    let deadline = t0 + timeout;
    while Instant::now() < deadline && !idle.iter().all(Idle::resolved) {
        let now = Instant::now();
        let counting_from = shared.first_write().map(|_| t0);
        for s in idle.iter_mut().filter(|s| s.waiting()) {
            match s.next_try {
                // Dropped just now: every reconnect starts after a wait.
                None => s.next_try = Some(now + reattach::backoff(&mut rng, shared.backoff)),
                Some(at) if at <= now => {
                    let server = shared.candidate(s.home, s.attempts);
                    s.attempts += 1;
                    s.next_try = None;
                    if let Ok(a) = Attempt::start(server, now + attempt_timeout) {
                        s.attempt = Some(a);
                    }
                }
                Some(_) => {}
            }
        }
        if counting_from.is_some() {
            // Once writes flow again, a session still on its first
            // connection is back when a ping is answered.
            for s in idle
                .iter_mut()
                .filter(|s| !s.resolved() && s.session.is_some())
            {
                match s.pinged {
                    Some(at) if now - at > read_timeout => drop_session(s),
                    Some(_) => {}
                    None => ping_one(s, now),
                }
            }
        }
        step(&mut idle, counting_from, t0, &mut rng, shared.backoff);
    }
    for s in &idle {
        tally.dropped += u64::from(s.dropped);
        tally.expired += u64::from(s.expired);
        tally.lost += u64::from(!s.resolved());
        tally.attempts += (s.attempts - 1) as u64;
        if let Some(ms) = s.back_ms {
            tally.last_back_ms = tally.last_back_ms.max(ms);
            tally.back_ms.push(ms);
        }
    }
    let sessions: Vec<Session> = idle.into_iter().filter_map(|s| s.session).collect();
    crate::sessions::close_all(sessions);
    tally
}

fn ping_one(s: &mut Idle, now: Instant) {
    let mut ping = Vec::new();
    Session::push_ping(&mut ping);
    match s.session.as_mut().map(|c| c.send(&ping)) {
        Some(Ok(())) => s.pinged = Some(now),
        _ => drop_session(s),
    }
}

fn ping_all(idle: &mut [Idle], now: Option<Instant>) {
    for s in idle.iter_mut().filter(|s| s.session.is_some()) {
        ping_one(s, now.unwrap_or_else(Instant::now));
    }
}

fn drop_session(s: &mut Idle) {
    s.session = None;
    s.pinged = None;
    s.next_try = None;
    s.dropped = true;
}

/// Reads whatever the sessions have; a closed connection drops its
/// session; an answered ping after the first acknowledged write (when
/// `counting_from` is the kill's instant) makes its session back.
fn drain(idle: &mut [Idle], counting_from: Option<Instant>, now: Instant) {
    let ready = {
        let streams: Vec<Option<&TcpStream>> = idle
            .iter()
            .map(|s| s.session.as_ref().map(|c| c.stream.tcp()))
            .collect();
        readiness::readable(&streams, Duration::from_millis(20))
    };
    for i in ready {
        read_ready(&mut idle[i], counting_from, now);
    }
}

/// Reads what an attached session's socket has: a closed connection
/// drops the session; an answered ping after the first acknowledged
/// write (when `counting_from` is the kill's instant) makes it back.
fn read_ready(s: &mut Idle, counting_from: Option<Instant>, now: Instant) {
    let Some(c) = s.session.as_mut() else {
        return;
    };
    if c.set_read_timeout(Some(Duration::from_millis(100)))
        .is_err()
        || c.fill().is_err()
    {
        drop_session(s);
        return;
    }
    let mut answered = false;
    while let Ok(Some(reply)) = c.reader.next_reply() {
        answered |= reply.xid == zookeeper::zoo_defs::xid::PING;
    }
    if answered {
        s.pinged = None;
        if let (Some(t0), None) = (counting_from, s.back_ms) {
            s.back_ms = Some((now - t0).as_secs_f64() * 1e3);
        }
    }
}

/// One poll over every attached session (its replies) and every
/// reconnect in flight, waiting at most until the next reconnect is due
/// (20 ms at most); then each ready socket moves on.
fn step(
    idle: &mut [Idle],
    counting_from: Option<Instant>,
    t0: Instant,
    rng: &mut Rng,
    backoff: Duration,
) {
    let mut fds = Vec::new();
    let mut who = Vec::new();
    let mut wait = Duration::from_millis(20);
    let now = Instant::now();
    // A session that is back needs nothing more: only the unresolved
    // ones are polled, so the set shrinks as sessions come back.
    for (i, s) in idle.iter().enumerate().filter(|(_, s)| !s.resolved()) {
        if let Some(c) = &s.session {
            fds.push((c.stream.tcp().as_raw_fd(), libc::POLLIN));
        } else if let Some(a) = &s.attempt {
            fds.push(a.poll_for());
        } else {
            if let Some(at) = s.next_try {
                // Reconnects start on a 2 ms grid: fewer wake-ups of
                // this thread, which shares the machine with the servers.
                wait = wait.min(at.saturating_duration_since(now).max(MIN_WAIT));
            }
            continue;
        }
        who.push(i);
    }
    let revents = reattach::poll(&fds, wait);
    let now = Instant::now();
    for (&i, &ready) in who.iter().zip(&revents) {
        let s = &mut idle[i];
        if s.session.is_some() {
            if ready != 0 {
                read_ready(s, counting_from, now);
            }
            continue;
        }
        let Some(attempt) = s.attempt.take() else {
            continue;
        };
        let frame = connect_frame_for(s.id, &s.passwd, 0);
        match attempt.advance(ready, &frame) {
            Progress::Pending(a) if !a.expired(now) => s.attempt = Some(a),
            Progress::Answered(session, h) if h.session_id == s.id => {
                s.session = Some(session);
                s.back_ms = Some((now - t0).as_secs_f64() * 1e3);
            }
            Progress::Answered(..) => s.expired = true,
            Progress::Pending(_) | Progress::Failed => {
                s.next_try = Some(now + reattach::backoff(rng, backoff));
            }
        }
    }
}
