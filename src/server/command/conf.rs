//! `conf`: the serving configuration as `key=value` lines, in Java's order.
//!
//! Java's quirk is kept: `dataDir` is the snapshot directory but
//! `dataDirSize` the size of the log directory, and the other way round
//! for `dataLogDir`/`dataLogSize`. A port without its listener (no
//! `clientPort`, or no `secureClientPort`) is -1. A standalone server
//! reports `serverId=0`; a quorum server its myid, then the quorum
//! settings and the membership.
//! Runs on the asking thread.
//!
//! Mirrors: `org.apache.zookeeper.server.command.ConfCommand` and
//! `ZooKeeperServer.dumpConf`.

use super::dirs;
use crate::server::zookeeper_server::ZooKeeperServer;

/// A configuration value: number or text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConfValue {
    Int(i64),
    Text(String),
}

impl std::fmt::Display for ConfValue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ConfValue::Int(v) => write!(f, "{}", v),
            ConfValue::Text(t) => f.write_str(t),
        }
    }
}

/// The `conf` entries, in Java's order.
pub fn entries(server: &ZooKeeperServer) -> Vec<(&'static str, ConfValue)> {
    let cfg = server.config();
    let (data_dir_size, log_dir_size) = dirs::sizes(server);
    let path = |p: std::path::PathBuf| ConfValue::Text(absolute(&p));
    vec![
        ("clientPort", port_or_none(cfg.client_port_address)),
        (
            "secureClientPort",
            port_or_none(cfg.client_tls.as_ref().and_then(|t| t.address)),
        ),
        ("dataDir", path(dirs::snap_dir(server))),
        ("dataDirSize", ConfValue::Int(data_dir_size as i64)),
        ("dataLogDir", path(dirs::log_dir(server))),
        ("dataLogSize", ConfValue::Int(log_dir_size as i64)),
        ("tickTime", ConfValue::Int(i64::from(cfg.tick_time))),
        (
            "maxClientCnxns",
            ConfValue::Int(cfg.max_client_cnxns as i64),
        ),
        (
            "minSessionTimeout",
            ConfValue::Int(i64::from(cfg.min_session_timeout)),
        ),
        (
            "maxSessionTimeout",
            ConfValue::Int(i64::from(cfg.max_session_timeout)),
        ),
        (
            "clientPortListenBacklog",
            ConfValue::Int(i64::from(cfg.client_port_listen_backlog)),
        ),
        (
            "serverId",
            ConfValue::Int(server.role_monitor().map_or(0, |m| m.peer_view().my_id)),
        ),
    ]
}

/// A listener's port, or -1 when there is no such listener (Java's
/// `getClientPort`/`getSecureClientPort` without a factory).
fn port_or_none(address: Option<std::net::SocketAddr>) -> ConfValue {
    ConfValue::Int(address.map_or(-1, |a| i64::from(a.port())))
}

/// `File.getAbsolutePath`: relative paths are resolved against the
/// working directory (not canonicalized).
fn absolute(path: &std::path::Path) -> String {
    match path.is_absolute() {
        true => path.display().to_string(),
        false => std::env::current_dir()
            .map(|d| d.join(path))
            .unwrap_or(path.to_path_buf())
            .display()
            .to_string(),
    }
}

/// The whole answer; a quorum server adds its peer's settings and the
/// membership (Java's `QuorumZooKeeperServer.dumpConf`).
pub fn run(server: &ZooKeeperServer) -> String {
    let mut out: String = entries(server)
        .iter()
        .map(|(k, v)| format!("{}={}\n", k, v))
        .collect();
    if let Some(m) = server.role_monitor() {
        out.push_str(&m.peer_view().conf_tail);
    }
    out
}
