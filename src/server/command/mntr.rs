//! `mntr`: every monitoring value as `zk_<key>\t<value>` lines — version
//! and state first, then the server's gauges, then every metric of
//! [`ServerMetrics`](crate::server::server_metrics), in the order Java
//! 3.8.0 prints them (its hash-map order, reproduced).
//!
//! Values we do not measure read 0 (or -1 where Java starts at -1), so the
//! key set matches Java's. Runs on the asking thread.
//!
//! A quorum role's server adds its own values (`peer_state`, the leader's
//! learner counts, ...) through the [`RoleMonitor`](crate::server::role_monitor::RoleMonitor) its role gave it
//! when it started serving.
//!
//! Mirrors: `org.apache.zookeeper.server.command.MonitorCommand`,
//! `ZooKeeperServer.dumpMonitorValues` and the gauges of
//! `ZooKeeperServer.registerMetrics` (with the quorum servers' overrides).

use super::{full_version, CommandContext};
use crate::server::server_metrics::names::GAUGES;
use crate::server::server_metrics::{in_java_order, metrics, MetricValue};
use crate::server::zookeeper_server::ZooKeeperServer;

/// The server's gauges and its role's, each (name, value): `GAUGES` in
/// registration order, then the role's.
pub fn all_gauges(
    server: &ZooKeeperServer,
    ctx: &CommandContext<'_>,
) -> Vec<(&'static str, MetricValue)> {
    let mut out: Vec<(&'static str, MetricValue)> = GAUGES
        .iter()
        .map(|name| (*name, gauge(name, server, ctx)))
        .collect();
    if let Some(role) = server.role_monitor() {
        out.extend(role.gauges());
    }
    out
}

/// Every `mntr` entry (key without `zk_`), in Java's order.
pub fn entries(server: &ZooKeeperServer, ctx: &CommandContext<'_>) -> Vec<(String, MetricValue)> {
    let mut out = vec![
        ("version".to_string(), MetricValue::Text(full_version())),
        (
            "server_state".to_string(),
            MetricValue::Text(ctx.mode.to_string()),
        ),
    ];
    if let Some(role) = server.role_monitor() {
        out.extend(
            role.state_entries()
                .into_iter()
                .map(|(k, v)| (k.to_string(), v)),
        );
    }
    let mut gauges = all_gauges(server, ctx);
    let names: Vec<&str> = gauges.iter().map(|(name, _)| *name).collect();
    for name in in_java_order(&names) {
        if let Some(i) = gauges.iter().position(|(n, _)| *n == name) {
            let (name, value) = gauges.swap_remove(i);
            out.push((name.to_string(), value));
        }
    }
    let mismatches = server.zk_database().tree.read().digest_mismatches() as i64;
    for (key, value) in metrics().dump() {
        let value = if key == "digest_mismatches_count" {
            MetricValue::Long(mismatches)
        } else {
            value
        };
        out.push((key, value));
    }
    out
}

/// The value of one of the server's gauges (a name of `GAUGES`).
pub fn gauge(name: &str, server: &ZooKeeperServer, ctx: &CommandContext<'_>) -> MetricValue {
    use MetricValue::{Double, Long};
    let stats = ctx.stats.clone().unwrap_or_default();
    let tree = || server.zk_database().tree.read();
    match name {
        "avg_latency" => Double(stats.avg_latency_ms),
        "max_latency" => Long(stats.max_latency_ms as i64),
        "min_latency" => Long(stats.min_latency_ms as i64),
        "packets_received" => Long(stats.packets_received as i64),
        "packets_sent" => Long(stats.packets_sent as i64),
        "num_alive_connections" => Long(ctx.connections.len() as i64),
        "outstanding_requests" => Long(stats.outstanding_requests as i64),
        "uptime" => Long(metrics().uptime_ms()),
        "znode_count" => Long(stats.node_count as i64),
        "watch_count" => Long(tree().watch_count() as i64),
        "ephemerals_count" => Long(tree().ephemerals_count() as i64),
        "approximate_data_size" => Long(tree().approximate_data_size()),
        "global_sessions" => Long(server.zk_database().sessions_with_timeouts().len() as i64),
        "local_sessions" => Long(server.session_tracker().local_session_count() as i64),
        "open_file_descriptor_count" => Long(open_fds()),
        "max_file_descriptor_count" => Long(max_fds()),
        "connection_drop_probability" => Double(0.0),
        "last_client_response_size" | "max_client_response_size" | "min_client_response_size" => {
            Long(-1)
        }
        _ => Long(0),
    }
}

/// Open file descriptors of this process (0 if unknown).
pub fn open_fds() -> i64 {
    std::fs::read_dir("/proc/self/fd")
        .map(|d| d.count() as i64)
        .unwrap_or(0)
}

/// The soft limit on open files (0 if unknown).
pub fn max_fds() -> i64 {
    let limits = std::fs::read_to_string("/proc/self/limits").unwrap_or_default();
    parse_max_open_files(&limits).unwrap_or(0)
}

/// The soft "Max open files" value of a `/proc/<pid>/limits` text.
fn parse_max_open_files(limits: &str) -> Option<i64> {
    let line = limits.lines().find(|l| l.starts_with("Max open files"))?;
    line["Max open files".len()..]
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

/// The whole answer.
pub fn run(server: &ZooKeeperServer, ctx: &CommandContext<'_>) -> String {
    entries(server, ctx)
        .iter()
        .map(|(k, v)| format!("zk_{}\t{}\n", k, v.mntr_text()))
        .collect()
}

#[cfg(test)]
mod tests {
    #[test]
    fn parses_proc_limits() {
        let text = "Limit                     Soft Limit           Hard Limit           Units     \n\
                    Max open files            20000                1048576              files     \n";
        assert_eq!(super::parse_max_open_files(text), Some(20000));
        assert_eq!(super::parse_max_open_files(""), None);
    }
}
