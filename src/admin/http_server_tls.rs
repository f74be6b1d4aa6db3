//! TLS under the small HTTP server (see `http_server`'s module doc): the
//! first-byte decision on a port that serves TLS, the non-blocking rustls
//! session driven by the io thread's poll loop (handshake and request
//! head, then the response and close_notify), and the HSTS header Jetty
//! adds to answers over TLS.
//!
//! Threads: the server's `<name>-io` thread only (workers call
//! [`add_hsts`] on the bytes they produced).
//!
//! Mirrors: Jetty's `SslConnectionFactory` / `UnifiedConnectionFactory`
//! and `SecureRequestCustomizer` as `JettyAdminServer` sets them up.

use std::io::{self, Read, Write};
use std::net::TcpStream;
use std::sync::Arc;

use log::{debug, warn};
use rustls::{ServerConfig, ServerConnection};

use super::out::Outgoing;
use super::{parse_head, refusal, Head, Step};

/// TLS on a server's port.
#[derive(Clone)]
pub enum HttpTls {
    /// Only HTTPS: a connection that does not open a TLS handshake gets
    /// Java's alert and is closed.
    Force(Arc<ServerConfig>),
    /// HTTPS and plain HTTP on the one port.
    Unified(Arc<ServerConfig>),
}

/// What Java's Jetty HTTPS-only connector sends a plain HTTP client: a
/// fatal TLS 1.2 `internal_error` alert (then it closes).
pub const PLAIN_ON_HTTPS_ALERT: &[u8] = &[0x15, 0x03, 0x03, 0x00, 0x02, 0x02, 0x50];
/// The first byte of a TLS handshake record.
const TLS_HANDSHAKE_RECORD: u8 = 0x16;
/// What Jetty's secure request customizer adds to answers over TLS.
const HSTS: &str = "Strict-Transport-Security: max-age=86400; includeSubDomains\r\n";

/// Adds Jetty's HSTS header after the status line of `response`.
pub(super) fn add_hsts(response: &mut Vec<u8>) {
    if let Some(end) = response.windows(2).position(|w| w == b"\r\n") {
        response.splice(end + 2..end + 2, HSTS.bytes());
    }
}

/// How a connection on a TLS port goes on, from its first byte.
pub(super) enum Decision {
    /// Nothing arrived yet.
    Wait,
    /// The client left (or the socket failed).
    Close,
    /// Plain HTTP (a unified port).
    Plain,
    /// Plain HTTP where only HTTPS is served: Java's alert, then close.
    Refuse,
    /// A TLS handshake: its session.
    Tls(Box<ServerConnection>),
}

pub(super) fn decide(stream: &TcpStream, tls: Option<&HttpTls>) -> Decision {
    let mut first = [0u8; 1];
    let byte = match stream.peek(&mut first) {
        Ok(0) => return Decision::Close,
        Ok(_) => first[0],
        Err(e)
            if matches!(
                e.kind(),
                io::ErrorKind::WouldBlock | io::ErrorKind::Interrupted
            ) =>
        {
            return Decision::Wait
        }
        Err(_) => return Decision::Close,
    };
    let (config, force) = match tls {
        Some(HttpTls::Force(config)) => (config, true),
        Some(HttpTls::Unified(config)) => (config, false),
        None => return Decision::Plain,
    };
    if byte != TLS_HANDSHAKE_RECORD {
        return if force {
            Decision::Refuse
        } else {
            Decision::Plain
        };
    }
    match ServerConnection::new(Arc::clone(config)) {
        Ok(session) => Decision::Tls(Box::new(session)),
        Err(e) => {
            warn!("HTTP server: cannot start a TLS session: {}", e);
            Decision::Close
        }
    }
}

/// Sends what the session has queued; `Err` when the socket failed.
fn flush_tls(stream: &mut TcpStream, session: &mut ServerConnection) -> Result<(), ()> {
    while session.wants_write() {
        match session.write_tls(stream) {
            Ok(_) => {}
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(()),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(_) => return Err(()),
        }
    }
    Ok(())
}

/// [`read_head`] through a TLS session: the handshake runs here too.
pub(super) fn read_head_tls(
    stream: &mut TcpStream,
    session: &mut ServerConnection,
    buf: &mut Vec<u8>,
    max_head: usize,
    revents: i16,
) -> Step {
    let mut chunk = [0u8; 2048];
    loop {
        if flush_tls(stream, session).is_err() {
            return Step::Close;
        }
        loop {
            match session.reader().read(&mut chunk) {
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
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                Err(_) => return Step::Close,
            }
        }
        match session.read_tls(stream) {
            Ok(0) => return Step::Close,
            Ok(_) => {
                if let Err(e) = session.process_new_packets() {
                    debug!("HTTP server: TLS failed: {}", e);
                    let _ = session.write_tls(stream);
                    return Step::Close;
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

/// [`write_out`] through a TLS session, ending with close_notify.
pub(super) fn write_out_tls(
    stream: &mut TcpStream,
    session: &mut ServerConnection,
    out: &mut Outgoing,
) -> Step {
    loop {
        let mut took = 0;
        if !out.is_done() {
            let chunk = match out.pending() {
                Ok(chunk) => chunk,
                Err(_) => return Step::Close,
            };
            match session.writer().write(chunk) {
                Ok(n) => took = n,
                Err(_) => return Step::Close,
            }
            out.advance(took);
            if out.is_done() {
                session.send_close_notify();
            }
        }
        if !session.wants_write() {
            if out.is_done() {
                let _ = stream.shutdown(std::net::Shutdown::Write);
                return Step::Close;
            }
            if took == 0 {
                return Step::Close; // the session takes no more
            }
            continue; // the session took it all: feed it more
        }
        while session.wants_write() {
            match session.write_tls(stream) {
                Ok(_) => {}
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Step::Stay,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(_) => return Step::Close,
            }
        }
    }
}
