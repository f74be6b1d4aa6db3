//! `srst`: zero the server's latency and packet counters and every metric.
//! Runs on the asking thread.
//!
//! Mirrors: `org.apache.zookeeper.server.command.StatResetCommand` and
//! `ServerStats.reset`.

use crate::server::server_metrics::metrics;
use crate::server::zookeeper_server::ZooKeeperServer;

/// Resets and answers.
pub fn run(server: &ZooKeeperServer) -> String {
    reset(server);
    "Server stats reset.\n".to_string()
}

/// The reset itself (also the AdminServer's `stat_reset`).
pub fn reset(server: &ZooKeeperServer) {
    server.reset_stats();
    metrics().reset_all();
}
