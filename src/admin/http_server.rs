//! A small HTTP/1.1 server with hard limits, under the AdminServer and
//! the Prometheus `/metrics` endpoint.
//!
//! Java twin: the Jetty `Server` that `JettyAdminServer` sets up (a
//! `ServerConnector` with an idle timeout, 8 KiB of request headers, a
//! bounded `QueuedThreadPool`), and the JDK `HTTPServer` of the Prometheus
//! provider. Only what those endpoints need: `GET`/`HEAD` of a target, one
//! request per connection (`Connection: close`), no request bodies.
//!
//! Threads: one `<name>-io` thread owns the listening socket and every
//! open connection, all non-blocking, and waits in poll(2): it reads
//! request heads and writes responses, so an open connection costs a slot
//! in its table, never a thread. `workers` threads `<name>-worker-N` run
//! the handler for complete requests, handed over through a bounded
//! queue; their answers come back through a channel and a self-pipe that
//! wakes the io thread.
//!
//! TLS (the AdminServer's `admin.forceHttps` / `admin.portUnification`,
//! see [`HttpTls`]): the io thread peeks at a new connection's first byte;
//! a TLS handshake record gives the connection a rustls session, driven
//! non-blocking by the same poll loop (handshake, request head and
//! response all within the connection's deadlines, so a TLS connection
//! costs a session in the table and still no thread). Anything else is
//! plain HTTP on a unified port, and Java's TLS alert then a close where
//! only HTTPS is served. Answers over TLS carry Jetty's HSTS header.
//!
//! Limits (see [`Limits`]): at most `max_connections` open (a new one
//! closes the oldest that has not finished its request), a request head
//! of at most `max_head` bytes (else 431), one deadline per connection
//! for its whole request head and another for writing its response,
//! renewed whenever the client takes more of it (a silent client or one
//! that stops reading loses its connection then, and holds nothing else
//! meanwhile), a full queue answered 503 at once. A response body may be
//! a file, read a chunk at a time as it is sent. When
//! accept fails (out of file descriptors, say) the error is logged, the
//! oldest unfinished connection is closed and the listener rests briefly,
//! instead of spinning or exiting.

use std::collections::HashMap;
use std::io::{self, Read};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crossbeam::channel::{bounded, unbounded, Receiver, Sender, TrySendError};
use log::{debug, warn};
use rustls::ServerConnection;

#[path = "http_server_out.rs"]
mod out;
#[path = "http_server_tls.rs"]
mod tls;
use out::{write_out, Outgoing};
use tls::{add_hsts, decide, read_head_tls, write_out_tls, Decision};
pub use tls::{HttpTls, PLAIN_ON_HTTPS_ALERT};

/// How much a server takes on.
#[derive(Debug, Clone)]
pub struct Limits {
    /// Open connections at most.
    pub max_connections: usize,
    /// Bytes of request line and headers at most (Jetty's default 8 KiB).
    pub max_head: usize,
    /// Time for a connection to send its whole request head, and again
    /// to take more of its response (`admin.idleTimeout`).
    pub deadline: Duration,
    /// Handler threads.
    pub workers: usize,
    /// Complete requests waiting for a handler thread at most.
    pub queue: usize,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            max_connections: 512,
            max_head: 8 * 1024,
            deadline: Duration::from_secs(30),
            workers: 2,
            queue: 64,
        }
    }
}

/// A request as the handler sees it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct HttpRequest {
    /// `GET`, `HEAD`, ...
    pub method: String,
    /// The request target as sent (`/commands/stat?x=1`).
    pub target: String,
    /// It came over TLS.
    pub secure: bool,
    /// The first `Authorization` header's value, if any.
    pub authorization: Option<String>,
    /// The first `X-Forwarded-For` header's value, if any.
    pub forwarded_for: Option<String>,
    /// The peer's address.
    pub remote: Option<SocketAddr>,
    /// The certificate chain the peer presented in its TLS handshake
    /// (DER, its own first; empty without one).
    pub peer_certificates: Vec<Vec<u8>>,
}

/// The handler's answer.
#[derive(Debug)]
pub struct HttpResponse {
    /// Status code.
    pub status: u16,
    /// `Content-Type` (`text/plain; charset=UTF-8` when `None`).
    pub content_type: Option<String>,
    /// The body (left out of the answer to a `HEAD`).
    pub body: Vec<u8>,
    /// More header lines (name, value), after the standard ones.
    pub headers: Vec<(String, String)>,
    /// A file whose first bytes (how many: the number) follow `body`,
    /// read as they are sent (left out of the answer to a `HEAD`).
    pub body_file: Option<(std::fs::File, u64)>,
}

impl HttpResponse {
    /// A response with a text body.
    pub fn text(status: u16, content_type: Option<&str>, body: String) -> HttpResponse {
        HttpResponse {
            status,
            content_type: content_type.map(str::to_string),
            body: body.into_bytes(),
            headers: Vec::new(),
            body_file: None,
        }
    }
}

/// What answers requests (called on a worker thread).
pub type Handler = Arc<dyn Fn(&HttpRequest) -> HttpResponse + Send + Sync>;

/// A running server.
pub struct HttpServer {
    local: SocketAddr,
    stop: Arc<AtomicBool>,
    wake: Arc<OwnedFd>,
    threads: Vec<JoinHandle<()>>,
}

impl HttpServer {
    /// Binds `addr` and starts the io and worker threads named after `name`.
    pub fn bind(
        addr: (&str, u16),
        name: &str,
        limits: Limits,
        handler: Handler,
    ) -> io::Result<HttpServer> {
        HttpServer::bind_tls(addr, name, limits, handler, None)
    }

    /// [`HttpServer::bind`], with TLS on the port when `tls` is set.
    pub fn bind_tls(
        addr: (&str, u16),
        name: &str,
        limits: Limits,
        handler: Handler,
        tls: Option<HttpTls>,
    ) -> io::Result<HttpServer> {
        let listener = TcpListener::bind(addr)?;
        listener.set_nonblocking(true)?;
        let local = listener.local_addr()?;
        let (wake_rd, wake_wr) = pipe()?;
        let wake = Arc::new(wake_wr);
        let stop = Arc::new(AtomicBool::new(false));
        let (jobs_tx, jobs_rx) = bounded::<(u64, HttpRequest)>(limits.queue.max(1));
        let (done_tx, done_rx) = unbounded::<(u64, Outgoing)>();
        let mut threads = Vec::new();
        for i in 0..limits.workers.max(1) {
            let (jobs, done, wake, handler) = (
                jobs_rx.clone(),
                done_tx.clone(),
                Arc::clone(&wake),
                Arc::clone(&handler),
            );
            let t = std::thread::Builder::new()
                .name(format!("{}-worker-{}", name, i))
                .spawn(move || work(&jobs, &done, &wake, handler.as_ref()))?;
            threads.push(t);
        }
        drop((jobs_rx, done_tx));
        let io = Io {
            listener,
            wake_rd,
            limits,
            jobs: jobs_tx,
            done: done_rx,
            conns: HashMap::new(),
            next_id: 0,
            stop: Arc::clone(&stop),
            tls,
        };
        threads.push(
            std::thread::Builder::new()
                .name(format!("{}-io", name))
                .spawn(move || io.run())?,
        );
        Ok(HttpServer {
            local,
            stop,
            wake,
            threads,
        })
    }

    /// The bound address (the real port when 0 was asked for).
    pub fn local_addr(&self) -> SocketAddr {
        self.local
    }

    /// Stops and joins every thread (idempotent).
    pub fn shutdown(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        poke(&self.wake);
        for t in self.threads.drain(..).rev() {
            let _ = t.join();
        }
    }
}

impl Drop for HttpServer {
    fn drop(&mut self) {
        self.shutdown();
    }
}

fn pipe() -> io::Result<(OwnedFd, OwnedFd)> {
    let mut fds = [0 as RawFd; 2];
    // SAFETY: `fds` has room for the two descriptors pipe2 writes; each is
    // owned by exactly one OwnedFd from here on.
    let rc = unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_NONBLOCK | libc::O_CLOEXEC) };
    if rc != 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: both descriptors were just opened and are not owned elsewhere.
    Ok(unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) })
}

/// Wakes the io thread (a full pipe already will).
fn poke(wake: &OwnedFd) {
    // SAFETY: writes one byte from a live local to an open descriptor.
    let _ = unsafe { libc::write(wake.as_raw_fd(), [1u8].as_ptr().cast(), 1) };
}

fn work(
    jobs: &Receiver<(u64, HttpRequest)>,
    done: &Sender<(u64, Outgoing)>,
    wake: &OwnedFd,
    handler: &(dyn Fn(&HttpRequest) -> HttpResponse + Send + Sync),
) {
    while let Ok((id, request)) = jobs.recv() {
        let response = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| handler(&request)))
            .unwrap_or_else(|_| {
                warn!(
                    "HTTP handler failed on {} {}",
                    request.method, request.target
                );
                HttpResponse::text(500, Some("text/html"), error_page(500, "Server Error"))
            });
        let mut response = response;
        let file = response.body_file.take();
        let len = response.body.len() as u64 + file.as_ref().map_or(0, |(_, n)| *n);
        let (mut bytes, file) = if request.method == "HEAD" {
            response.body.clear();
            (encode(&response, len), None)
        } else {
            (encode(&response, len), file)
        };
        if request.secure {
            add_hsts(&mut bytes);
        }
        if done.send((id, Outgoing::new(bytes, file))).is_err() {
            return;
        }
        poke(wake);
    }
}

/// A minimal error page, as Jetty answers.
pub fn error_page(code: u16, reason: &str) -> String {
    format!(
        "<html><body><h2>HTTP ERROR {}</h2><p>{}</p></body></html>\n",
        code, reason
    )
}

enum State {
    /// Reading the request head.
    Reading(Vec<u8>),
    /// Its request is with a worker.
    Waiting,
    /// Writing the response.
    Writing(Outgoing),
}

/// The bytes under a connection's HTTP.
enum Wire {
    /// Plain HTTP.
    Plain,
    /// TLS is served on the port: the first byte decides.
    Undecided,
    /// A TLS session (boxed: a plain connection pays a pointer).
    Tls(Box<ServerConnection>),
}

struct Conn {
    stream: TcpStream,
    wire: Wire,
    state: State,
    deadline: Instant,
}

struct Io {
    listener: TcpListener,
    wake_rd: OwnedFd,
    limits: Limits,
    jobs: Sender<(u64, HttpRequest)>,
    done: Receiver<(u64, Outgoing)>,
    /// Open connections by id (ids grow: the smallest is the oldest).
    conns: HashMap<u64, Conn>,
    next_id: u64,
    stop: Arc<AtomicBool>,
    /// TLS on the port, if any.
    tls: Option<HttpTls>,
}

/// What a request head says, or why it cannot be served.
#[derive(Debug, PartialEq, Eq)]
pub enum Head {
    /// Not complete yet.
    Partial,
    /// A complete, well-formed head.
    Request(HttpRequest),
    /// Answer this status and close.
    Refuse(u16),
}

/// Parses the bytes received so far on a connection.
pub fn parse_head(buf: &[u8], max_head: usize) -> Head {
    let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") else {
        return if buf.len() >= max_head {
            Head::Refuse(431)
        } else {
            Head::Partial
        };
    };
    if end + 4 > max_head {
        return Head::Refuse(431);
    }
    let Ok(text) = std::str::from_utf8(&buf[..end]) else {
        return Head::Refuse(400);
    };
    let mut lines = text.split("\r\n");
    let mut parts = lines.next().unwrap_or("").split(' ');
    let (Some(method), Some(target), Some(version), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Head::Refuse(400);
    };
    if method.is_empty() || !target.starts_with('/') || !version.starts_with("HTTP/1.") {
        return Head::Refuse(400);
    }
    let mut has_body = false;
    let (mut authorization, mut forwarded_for) = (None, None);
    for line in lines {
        let (k, v) = line.split_once(':').unwrap_or((line, ""));
        has_body |= (k.eq_ignore_ascii_case("content-length") && v.trim() != "0")
            || k.eq_ignore_ascii_case("transfer-encoding");
        if k.eq_ignore_ascii_case("authorization") && authorization.is_none() {
            authorization = Some(v.trim().to_string());
        }
        if k.eq_ignore_ascii_case("x-forwarded-for") && forwarded_for.is_none() {
            forwarded_for = Some(v.trim().to_string());
        }
    }
    if has_body {
        // Nothing served here takes a body.
        return Head::Refuse(if method == "GET" || method == "HEAD" {
            400
        } else {
            405
        });
    }
    Head::Request(HttpRequest {
        method: method.to_string(),
        target: target.to_string(),
        authorization,
        forwarded_for,
        ..HttpRequest::default()
    })
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        429 => "Too Many Requests",
        431 => "Request Header Fields Too Large",
        500 => "Server Error",
        503 => "Service Unavailable",
        _ => "",
    }
}

/// The bytes of a response whose full body is `body_len` bytes long (a
/// HEAD answer declares the length and sends no body).
pub fn encode(response: &HttpResponse, body_len: u64) -> Vec<u8> {
    let ct = response
        .content_type
        .as_deref()
        .unwrap_or("text/plain; charset=UTF-8");
    let extra: String = response
        .headers
        .iter()
        .map(|(k, v)| format!("{}: {}\r\n", k, v))
        .collect();
    let mut out = format!(
        "HTTP/1.1 {} {}\r\n{}Content-Type: {}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        response.status,
        reason(response.status),
        extra,
        ct,
        body_len
    )
    .into_bytes();
    out.extend_from_slice(&response.body);
    out
}

fn refusal(status: u16) -> Vec<u8> {
    let r = HttpResponse::text(
        status,
        Some("text/html"),
        error_page(status, reason(status)),
    );
    encode(&r, r.body.len() as u64)
}

impl Io {
    fn run(mut self) {
        let mut listener_rests_until: Option<Instant> = None;
        let mut last_accept_warning: Option<Instant> = None;
        let mut fds: Vec<libc::pollfd> = Vec::new();
        let mut ids: Vec<u64> = Vec::new();
        while !self.stop.load(Ordering::SeqCst) {
            let now = Instant::now();
            if listener_rests_until.is_some_and(|t| t <= now) {
                listener_rests_until = None;
            }
            fds.clear();
            ids.clear();
            fds.push(pollfd(self.wake_rd.as_raw_fd(), libc::POLLIN));
            let listen = listener_rests_until.is_none();
            fds.push(pollfd(
                self.listener.as_raw_fd(),
                if listen { libc::POLLIN } else { 0 },
            ));
            let mut next_deadline = now + Duration::from_secs(1);
            for (id, c) in &self.conns {
                let tls_out = match &c.wire {
                    Wire::Tls(session) if session.wants_write() => libc::POLLOUT,
                    _ => 0,
                };
                let events = match c.state {
                    State::Reading(_) => libc::POLLIN | tls_out,
                    State::Writing(..) => libc::POLLOUT,
                    State::Waiting => 0,
                };
                if !matches!(c.state, State::Waiting) {
                    next_deadline = next_deadline.min(c.deadline);
                }
                fds.push(pollfd(c.stream.as_raw_fd(), events));
                ids.push(*id);
            }
            if let Some(t) = listener_rests_until {
                next_deadline = next_deadline.min(t);
            }
            let timeout = next_deadline
                .saturating_duration_since(now)
                .as_millis()
                .min(1000) as i32;
            // SAFETY: `fds` is a live, initialized array of fds.len() pollfds.
            let n =
                unsafe { libc::poll(fds.as_mut_ptr(), fds.len() as libc::nfds_t, timeout.max(1)) };
            if n < 0 {
                let e = io::Error::last_os_error();
                if e.kind() != io::ErrorKind::Interrupted {
                    warn!("HTTP server: poll failed: {}", e);
                    std::thread::sleep(Duration::from_millis(50));
                }
                continue;
            }
            if fds[0].revents != 0 {
                self.drain_wake();
            }
            while let Ok((id, out)) = self.done.try_recv() {
                if let Some(c) = self.conns.get_mut(&id) {
                    c.state = State::Writing(out);
                    c.deadline = Instant::now() + self.limits.deadline;
                }
            }
            for (i, id) in ids.iter().enumerate() {
                let revents = fds[i + 2].revents;
                if revents != 0 {
                    self.service(*id, revents);
                }
            }
            self.expire(Instant::now());
            if fds[1].revents != 0 {
                if let Err(e) = self.accept_all() {
                    if last_accept_warning.is_none_or(|t| t.elapsed() >= Duration::from_secs(1)) {
                        warn!(
                            "HTTP server on {:?}: accept failed: {}",
                            self.listener.local_addr().ok(),
                            e
                        );
                        last_accept_warning = Some(Instant::now());
                    }
                    self.evict_oldest_unfinished();
                    listener_rests_until = Some(Instant::now() + Duration::from_millis(100));
                }
            }
        }
    }

    fn drain_wake(&self) {
        let mut buf = [0u8; 64];
        // SAFETY: reads into a live local buffer of the given length.
        while unsafe { libc::read(self.wake_rd.as_raw_fd(), buf.as_mut_ptr().cast(), buf.len()) }
            > 0
        {}
    }

    /// Accepts until the listener has nothing more; an error other than
    /// "nothing more" is returned.
    fn accept_all(&mut self) -> io::Result<()> {
        for _ in 0..256 {
            match self.listener.accept() {
                Ok((stream, _)) => {
                    if stream.set_nonblocking(true).is_err() {
                        continue;
                    }
                    if self.conns.len() >= self.limits.max_connections {
                        self.evict_oldest_unfinished();
                    }
                    let id = self.next_id;
                    self.next_id += 1;
                    let deadline = Instant::now() + self.limits.deadline;
                    let wire = match self.tls {
                        Some(_) => Wire::Undecided,
                        None => Wire::Plain,
                    };
                    self.conns.insert(
                        id,
                        Conn {
                            stream,
                            wire,
                            state: State::Reading(Vec::new()),
                            deadline,
                        },
                    );
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(()),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) if e.kind() == io::ErrorKind::ConnectionAborted => {}
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }

    /// Closes the oldest connection still sending its request (a new
    /// connection or a free descriptor is worth more than a silent one).
    fn evict_oldest_unfinished(&mut self) {
        let oldest = self
            .conns
            .iter()
            .filter(|(_, c)| matches!(c.state, State::Reading(_)))
            .map(|(id, _)| *id)
            .min();
        if let Some(id) = oldest {
            debug!("HTTP server: closing the oldest unfinished connection to make room");
            self.conns.remove(&id);
        }
    }

    fn expire(&mut self, now: Instant) {
        self.conns
            .retain(|_, c| matches!(c.state, State::Waiting) || c.deadline > now);
    }

    fn service(&mut self, id: u64, revents: i16) {
        let Some(c) = self.conns.get_mut(&id) else {
            return;
        };
        if matches!(c.wire, Wire::Undecided) {
            match decide(&c.stream, self.tls.as_ref()) {
                Decision::Wait => return,
                Decision::Close => {
                    self.conns.remove(&id);
                    return;
                }
                Decision::Plain => c.wire = Wire::Plain,
                Decision::Refuse => {
                    c.wire = Wire::Plain;
                    c.state = State::Writing(Outgoing::new(PLAIN_ON_HTTPS_ALERT.to_vec(), None));
                }
                Decision::Tls(session) => c.wire = Wire::Tls(session),
            }
        }
        let max_head = self.limits.max_head;
        let close = match (&mut c.state, &mut c.wire) {
            (State::Reading(buf), Wire::Tls(session)) => {
                read_head_tls(&mut c.stream, session, buf, max_head, revents)
            }
            (State::Reading(buf), _) => read_head(&mut c.stream, buf, max_head, revents),
            (State::Writing(out), wire) => {
                let before = out.sent();
                let step = match wire {
                    Wire::Tls(session) => write_out_tls(&mut c.stream, session, out),
                    _ => write_out(&mut c.stream, out),
                };
                if out.sent() != before {
                    // Progress: the deadline is for a stalled reader.
                    c.deadline = Instant::now() + self.limits.deadline;
                }
                step
            }
            (State::Waiting, _) => Step::Stay,
        };
        match close {
            Step::Stay => {}
            Step::Close => {
                self.conns.remove(&id);
            }
            Step::Answer(bytes) => {
                c.state = State::Writing(Outgoing::new(bytes, None));
                c.deadline = Instant::now() + self.limits.deadline;
            }
            Step::Dispatch(request) => {
                let peer_certificates: Vec<Vec<u8>> = match &c.wire {
                    Wire::Tls(session) => session
                        .peer_certificates()
                        .map(|chain| chain.iter().map(|cert| cert.as_ref().to_vec()).collect())
                        .unwrap_or_default(),
                    _ => Vec::new(),
                };
                let request = HttpRequest {
                    secure: matches!(c.wire, Wire::Tls(_)),
                    remote: c.stream.peer_addr().ok(),
                    peer_certificates,
                    ..request
                };
                match self.jobs.try_send((id, request)) {
                    Ok(()) => c.state = State::Waiting,
                    Err(TrySendError::Full(_)) | Err(TrySendError::Disconnected(_)) => {
                        c.state = State::Writing(Outgoing::new(refusal(503), None));
                        c.deadline = Instant::now() + self.limits.deadline;
                    }
                }
            }
        }
    }
}

enum Step {
    Stay,
    Close,
    Answer(Vec<u8>),
    Dispatch(HttpRequest),
}

fn read_head(stream: &mut TcpStream, buf: &mut Vec<u8>, max_head: usize, revents: i16) -> Step {
    let mut chunk = [0u8; 2048];
    loop {
        match stream.read(&mut chunk) {
            Ok(0) => return Step::Close,
            Ok(n) => {
                let room = (max_head + 1).saturating_sub(buf.len());
                buf.extend_from_slice(&chunk[..n.min(room)]);
                match parse_head(buf, max_head) {
                    Head::Partial => continue,
                    Head::Request(r) => return Step::Dispatch(r),
                    Head::Refuse(status) => return Step::Answer(refusal(status)),
                }
            }
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                return if revents & (libc::POLLERR | libc::POLLNVAL) != 0 {
                    Step::Close
                } else {
                    Step::Stay
                };
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(_) => return Step::Close,
        }
    }
}

fn pollfd(fd: RawFd, events: i16) -> libc::pollfd {
    libc::pollfd {
        fd,
        events,
        revents: 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn heads() {
        let get = |t: &str| {
            Head::Request(HttpRequest {
                method: "GET".into(),
                target: t.into(),
                ..HttpRequest::default()
            })
        };
        assert_eq!(
            parse_head(b"GET /commands HTTP/1.1\r\nHost: x\r\n\r\n", 8192),
            get("/commands")
        );
        assert_eq!(
            parse_head(b"GET /commands HTTP/1.1\r\nHost: x\r\n", 8192),
            Head::Partial
        );
        assert_eq!(parse_head(&vec![b'a'; 8192], 8192), Head::Refuse(431));
        let mut big = b"GET / HTTP/1.1\r\nX: ".to_vec();
        big.extend(vec![b'a'; 9000]);
        big.extend(b"\r\n\r\n");
        assert_eq!(parse_head(&big, 8192), Head::Refuse(431));
        assert_eq!(parse_head(b"GARBAGE\r\n\r\n", 8192), Head::Refuse(400));
        assert_eq!(
            parse_head(b"POST /x HTTP/1.1\r\nContent-Length: 5\r\n\r\n", 8192),
            Head::Refuse(405)
        );
        assert_eq!(
            parse_head(b"GET x HTTP/1.1\r\n\r\n", 8192),
            Head::Refuse(400)
        );
    }

    #[test]
    fn credential_headers() {
        let head = b"GET /commands/snapshot HTTP/1.1\r\nauthorization:  digest a:b \r\n\
            Authorization: digest c:d\r\nX-Forwarded-For: 10.0.0.1, 10.0.0.2\r\n\r\n";
        let Head::Request(r) = parse_head(head, 8192) else {
            panic!("not a request");
        };
        assert_eq!(
            r.authorization.as_deref(),
            Some("digest a:b"),
            "the first one"
        );
        assert_eq!(r.forwarded_for.as_deref(), Some("10.0.0.1, 10.0.0.2"));
        let mut extra = HttpResponse::text(200, None, String::new());
        extra.headers.push(("last_zxid".into(), "0x5".into()));
        let text = String::from_utf8(encode(&extra, 0)).unwrap();
        assert!(text.starts_with("HTTP/1.1 200 OK\r\nlast_zxid: 0x5\r\nContent-Type"));
    }

    #[test]
    fn responses() {
        let r = HttpResponse::text(404, None, "Not Found\n".into());
        let bytes = encode(&r, r.body.len() as u64);
        let text = String::from_utf8(bytes).unwrap();
        assert!(text.starts_with("HTTP/1.1 404 Not Found\r\n"));
        assert!(text.contains("Content-Length: 10\r\n"));
        assert!(text.ends_with("\r\n\r\nNot Found\n"));
        let mut secure = bytes_of(&r);
        add_hsts(&mut secure);
        let text = String::from_utf8(secure).unwrap();
        assert!(text.starts_with(
            "HTTP/1.1 404 Not Found\r\nStrict-Transport-Security: max-age=86400; includeSubDomains\r\nContent-Type"
        ));
    }

    fn bytes_of(r: &HttpResponse) -> Vec<u8> {
        encode(r, r.body.len() as u64)
    }
}
