//! What the HTTP endpoints read: the server answering clients right now
//! (if any), the mode to report, and the client port's connections.
//!
//! A standalone server is fixed for the life of the process
//! ([`FixedServer`]); a quorum peer's server changes with its role and is
//! absent while it looks for a leader or syncs (the quorum side implements
//! [`ServerView`] over the slot its roles publish into). Both endpoints
//! are started once per process and ask the view on every request.
//!
//! Called from the AdminServer and `/metrics` request threads.
//!
//! Mirrors: `AdminServer.setZooKeeperServer` (Java swaps the server the
//! AdminServer holds when a role starts or ends).

use std::sync::Arc;

use crate::server::server_cnxn_factory::CnxnRegistry;
use crate::server::zookeeper_server::ZooKeeperServer;

/// The live state the endpoints answer from.
pub trait ServerView: Send + Sync {
    /// The server serving clients now; `None` while none is (Java's
    /// AdminServer then holds `null`).
    fn server(&self) -> Option<Arc<ZooKeeperServer>>;
    /// The mode: the serving server's (`standalone`, `leader`, `follower`,
    /// `observer`), else the peer's state in lowercase (`looking`, or a
    /// role still syncing).
    fn mode(&self) -> String;
    /// The client port's connections; `None` when there is no client port.
    fn registry(&self) -> Option<Arc<CnxnRegistry>>;
}

/// A server that never changes: standalone mode.
pub struct FixedServer {
    /// The server, serving from start to shutdown.
    pub zks: Arc<ZooKeeperServer>,
    /// Its client port's connections.
    pub registry: Arc<CnxnRegistry>,
}

impl ServerView for FixedServer {
    fn server(&self) -> Option<Arc<ZooKeeperServer>> {
        Some(Arc::clone(&self.zks))
    }

    fn mode(&self) -> String {
        self.zks.mode().to_string()
    }

    fn registry(&self) -> Option<Arc<CnxnRegistry>> {
        Some(Arc::clone(&self.registry))
    }
}
