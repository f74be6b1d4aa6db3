//! The server object: database, sessions and the processor chain.
//! SKELETON: signatures are the contract between the connection layer and
//! the pipeline; bodies to be written.
//!
//! Mirrors: `org.apache.zookeeper.server.ZooKeeperServer`.

use std::sync::Arc;

use super::server_cnxn::ServerCnxn;
use crate::config::server_config::ServerConfig;
use crate::jute::proto::{ConnectRequest, RequestHeader};

/// Error starting the server (unreadable dataDir, corrupt log, ...).
pub type StartupError = std::io::Error;

/// The standalone server.
pub struct ZooKeeperServer {
    _private: (),
}

/// Counters behind `srvr`/`stat`/`mntr`.
#[derive(Debug, Clone, Default)]
pub struct ServerStatsSnapshot {
    pub min_latency_ms: u64,
    pub avg_latency_ms: f64,
    pub max_latency_ms: u64,
    pub packets_received: u64,
    pub packets_sent: u64,
    pub outstanding_requests: u64,
    pub last_processed_zxid: i64,
    pub node_count: usize,
}

impl ZooKeeperServer {
    /// Loads the database from disk and builds (but does not start) the
    /// session tracker and processor chain.
    pub fn new(config: ServerConfig) -> Result<Arc<ZooKeeperServer>, StartupError> { let _ = config; todo!() }
    /// Starts the session tracker, processor threads and container manager.
    pub fn startup(self: &Arc<Self>) { todo!() }
    /// Stops taking requests, drains the pipeline, fsyncs, closes files.
    pub fn shutdown(&self) { todo!() }
    /// Handles a connection's ConnectRequest; the answer comes later through
    /// `cnxn.finish_session_init` (after the createSession txn is applied).
    pub fn process_connect_request(&self, cnxn: Arc<dyn ServerCnxn>, request: ConnectRequest) { let _ = (cnxn, request); todo!() }
    /// Handles a request frame after the handshake; `payload` is what
    /// follows the header. Auth is answered inline, everything else goes
    /// down the pipeline. Touches the session.
    pub fn process_packet(&self, cnxn: &Arc<dyn ServerCnxn>, header: RequestHeader, payload: Vec<u8>) { let _ = (cnxn, header, payload); todo!() }
    /// A connection is gone: drop its watches (its session lives on until
    /// it expires or is resumed elsewhere).
    pub fn remove_cnxn(&self, cnxn: &dyn ServerCnxn) { let _ = cnxn; todo!() }
    /// Records that a frame was received / sent (for srvr/stat/mntr).
    pub fn incr_packets_received(&self) { todo!() }
    /// See `incr_packets_received`.
    pub fn incr_packets_sent(&self) { todo!() }
    /// Figures for srvr/stat/mntr.
    pub fn stats(&self) -> ServerStatsSnapshot { todo!() }
    /// The validated configuration.
    pub fn config(&self) -> &ServerConfig { todo!() }
}
