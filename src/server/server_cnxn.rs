//! What the request pipeline needs from a client connection.
//!
//! The pipeline (Prep, Final, the session tracker) talks to connections only
//! through this trait, so it can be driven in tests without sockets. The
//! thread-per-connection implementation lives in `blocking_server_cnxn`.
//! The one batching control the pipeline has over sockets, the *cork*
//! ([`cork`]), is here too: a stage corks its thread, never a connection
//! type.
//!
//! Mirrors: `org.apache.zookeeper.server.ServerCnxn` (the abstract class).

use std::cell::RefCell;
use std::net::SocketAddr;
use std::sync::Arc;

use super::watch::Watcher;
use crate::jute::data::Id;
use crate::jute::proto::{ConnectResponse, ReplyHeader};

/// Why a connection is being closed (for the log line, as Java's
/// `ServerCnxn.DisconnectReason`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CloseReason {
    /// The client sent closeSession and got its reply.
    ClientClosedSession,
    /// The session expired.
    SessionExpired,
    /// Another connection took over the session.
    ClientReconnect,
    /// The handshake failed (bad password, unknown session, ...).
    InvalidSession,
    /// The client sent something we could not accept.
    BadRequest,
    /// Authentication failed.
    AuthFailed,
    /// The server is shutting down.
    ServerShutdown,
    /// The peer closed the socket or it broke.
    ConnectionClosed,
}

/// A client connection as seen by the server's request pipeline.
pub trait ServerCnxn: Watcher {
    /// The session bound to this connection (0 before the handshake ends).
    fn session_id(&self) -> i64;
    /// Binds the connection to a session (when the handshake is accepted).
    fn set_session_id(&self, session_id: i64);
    /// The client's address.
    fn remote_addr(&self) -> SocketAddr;
    /// The identities this connection has authenticated as; always
    /// includes `ip:<address>`.
    fn auth_info(&self) -> Vec<Id>;
    /// Adds an authenticated identity (addauth).
    fn add_auth_info(&self, id: Id);
    /// Queues a reply frame: the header and, if given, an already
    /// serialized response record. Never blocks on the network.
    fn send_response(&self, header: &ReplyHeader, body: Option<&[u8]>);
    /// Ends the handshake: queues the ConnectResponse (with the readOnly
    /// byte only if the client sent one) and, when `valid` is false, closes
    /// the connection after it is written.
    fn finish_session_init(&self, response: ConnectResponse, valid: bool);
    /// Closes the connection once what is queued has been written.
    fn close(&self, reason: CloseReason);
    /// Writes what this connection held back for a thread's cork (see
    /// [`cork`]); a connection that never joins a cork has nothing held.
    fn write_held(&self) {}
}

/// This thread's cork: depth of nested guards and the connections with
/// deferred writes.
#[derive(Default)]
struct CorkState {
    depth: u32,
    dirty: Vec<Arc<dyn ServerCnxn>>,
}

thread_local! {
    static CORK: RefCell<CorkState> = RefCell::new(CorkState::default());
}

/// Defers this thread's socket writes until the guard drops (nested guards
/// flush at the outermost).
pub struct CorkGuard {
    /// Not Send: the cork belongs to the thread that took it.
    _not_send: std::marker::PhantomData<*const ()>,
}

/// Corks this thread: replies and notifications queued on any connection
/// from now on are appended to its output at once (their order is kept)
/// but written to the socket only when the outermost guard drops, one
/// write per connection. The Sync thread corks a whole fsync batch, a
/// connection's reader the frames of one `recv`.
pub fn cork() -> CorkGuard {
    CORK.with(|c| c.borrow_mut().depth += 1);
    CorkGuard {
        _not_send: std::marker::PhantomData,
    }
}

impl Drop for CorkGuard {
    fn drop(&mut self) {
        let outermost = CORK.with(|c| {
            let mut c = c.borrow_mut();
            c.depth -= 1;
            c.depth == 0
        });
        if outermost {
            flush_corked();
        }
    }
}

/// Writes everything this thread's cork has deferred so far (the cork
/// stays on).
pub fn flush_corked() {
    let dirty = CORK.with(|c| std::mem::take(&mut c.borrow_mut().dirty));
    if dirty.is_empty() {
        return;
    }
    for cnxn in &dirty {
        cnxn.write_held();
    }
    let mut dirty = dirty;
    dirty.clear();
    CORK.with(|c| {
        let mut c = c.borrow_mut();
        if c.dirty.is_empty() {
            c.dirty = dirty; // keep the allocation
        }
    });
}

/// Whether this thread holds a cork: a connection asked to send then
/// joins the cork ([`hold_until_uncorked`]) instead of writing.
pub fn corked_here() -> bool {
    CORK.with(|c| c.borrow().depth > 0)
}

/// Lists a connection whose writes wait for this thread's cork; its
/// [`ServerCnxn::write_held`] runs when the cork is flushed.
pub fn hold_until_uncorked(cnxn: Arc<dyn ServerCnxn>) {
    CORK.with(|c| c.borrow_mut().dirty.push(cnxn));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nested_corks_flush_only_at_the_outermost() {
        let outer = cork();
        {
            let _inner = cork();
            assert!(corked_here());
        }
        assert!(corked_here(), "the inner guard must not uncork");
        drop(outer);
        assert!(!corked_here());
    }
}
