//! What the request pipeline needs from a client connection.
//!
//! The pipeline (Prep, Final, the session tracker) talks to connections only
//! through this trait, so it can be driven in tests without sockets. The
//! thread-per-connection implementation lives in `blocking_server_cnxn`.
//!
//! Mirrors: `org.apache.zookeeper.server.ServerCnxn` (the abstract class).

use std::net::SocketAddr;

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
}
