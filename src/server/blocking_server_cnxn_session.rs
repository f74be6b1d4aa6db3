//! What the rest of the server calls on a connection once it holds one:
//! the `ServerCnxn` side (session id, identities, replies, the end of the
//! handshake, close) and the `Watcher` side (notification frames). Called
//! from any thread (the pipeline's stages, the session expirer, a reader
//! answering inline); each call appends to the connection's output under
//! its lock and never waits on the client's network.
//!
//! Mirrors: `NIOServerCnxn`'s overrides of `ServerCnxn`'s abstract methods
//! (sendResponse, process(WatchedEvent), finishSessionInit, close).

use super::*;

impl Watcher for BlockingServerCnxn {
    fn watcher_id(&self) -> u64 {
        self.id
    }

    /// A notification frame: ReplyHeader{-1, zxid, 0} + WatcherEvent. The
    /// zxid is the triggering txn's, as 3.9 sends it (3.8 sent -1).
    fn process(&self, event: WatchedEvent) {
        let header = ReplyHeader {
            xid: -1,
            zxid: event.zxid,
            err: 0,
        };
        let body = WatcherEvent {
            r#type: event.event_type,
            state: event.state,
            path: event.path,
        };
        self.push_frame(|buf| {
            jute::write_into(&header, buf);
            jute::write_into(&body, buf);
        });
    }

    fn watcher_auth_info(&self) -> Vec<Id> {
        self.identities()
    }

    /// Closing or closed (Java marks a cnxn stale in `close`).
    fn is_stale(&self) -> bool {
        let out = lock(&self.out);
        out.closing.is_some() || out.dead
    }
}

impl ServerCnxn for BlockingServerCnxn {
    fn session_id(&self) -> i64 {
        self.session_id.load(Ordering::Relaxed)
    }

    fn set_session_id(&self, session_id: i64) {
        self.session_id.store(session_id, Ordering::Relaxed);
    }

    fn remote_addr(&self) -> SocketAddr {
        self.remote
    }

    fn auth_info(&self) -> Vec<Id> {
        self.identities()
    }

    fn add_auth_info(&self, id: Id) {
        if id.scheme == "ip" && id.id == self.ip_id.as_str() {
            return;
        }
        let mut ids = lock(&self.auth_info);
        if !ids.contains(&id) {
            ids.push(id);
        }
    }

    fn send_response(&self, header: &ReplyHeader, body: Option<&[u8]>) {
        if header.xid > 0 {
            let _ = self
                .queued
                .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |q| q.checked_sub(1));
        }
        self.stats.response_sent(header.xid, header.zxid);
        self.push_frame(|buf| {
            jute::write_into(header, buf);
            buf.extend_from_slice(body.unwrap_or(&[]));
        });
    }

    fn finish_session_init(&self, mut response: ConnectResponse, valid: bool) {
        response.read_only = match self.client_sent_read_only.load(Ordering::SeqCst) {
            true => Some(response.read_only.unwrap_or(false)),
            false => None,
        };
        self.push_frame(|buf| jute::write_into(&response, buf));
        if !valid {
            self.close(CloseReason::InvalidSession);
            return;
        }
        self.stats.session_established(response.time_out);
        if response.time_out > 0 {
            let timeout = Duration::from_millis(response.time_out as u64);
            self.idle_timeout_ms
                .store(response.time_out as u32, Ordering::Relaxed);
            if recv_timeout(timeout) < QUIET {
                let _ = self.stream.set_read_timeout(Some(recv_timeout(timeout)));
            }
        }
        self.set_handshake(Handshake::Done);
    }

    fn write_held(&self) {
        self.uncork();
    }

    fn close(&self, reason: CloseReason) {
        let first = self.request_close(reason);
        self.set_handshake(Handshake::Closed);
        if first {
            let session = self.session_id();
            // Debug, as Java logs it: one line per session at info would
            // cost the Sync thread a formatted write per closeSession.
            match session {
                0 => debug!(
                    "Closing connection to {} ({:?}, no session)",
                    self.remote, reason
                ),
                sid => debug!(
                    "Closed socket connection for client {} which had sessionid 0x{:x} ({:?})",
                    command::java_socket_address(&self.remote),
                    sid,
                    reason
                ),
            }
            // No shutdown here: the output's end (right away if nothing is
            // pending, else once the last reply is written) shuts the
            // socket down both ways, which also wakes the reader.
        }
    }
}
