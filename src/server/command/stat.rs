//! `srvr` and `stat`: version, latency, packet counts, connections,
//! outstanding requests, last zxid, mode and node count; `stat` also lists
//! the connected clients (brief form) after the version line.
//!
//! zkServer.sh `status` greps the `Mode:` line of `srvr`, so `srvr` is
//! always whitelisted and its lines keep Java's exact labels and order.
//! Runs on the asking connection's reader thread.
//!
//! Mirrors: `org.apache.zookeeper.server.command.StatCommand` and
//! `ServerStats.toString`.

use super::{full_version, java_double_to_string, CommandContext, ZK_NOT_SERVING};
use crate::server::zookeeper_server::ServerStatsSnapshot;

/// The whole answer; `with_clients` = `stat`.
pub fn run(with_clients: bool, ctx: &CommandContext<'_>) -> String {
    let Some(stats) = &ctx.stats else {
        return format!("{}\n", ZK_NOT_SERVING);
    };
    let mut out = format!("Zookeeper version: {}\n", full_version());
    if ctx.mode == "read-only" {
        out.push_str("READ-ONLY mode; serving only read-only clients\n");
    }
    if with_clients {
        out.push_str("Clients:\n");
        for cnxn in &ctx.connections {
            out.push_str(&cnxn.brief());
            out.push('\n');
        }
        out.push('\n');
    }
    out.push_str(&server_stats_lines(stats, ctx.connections.len(), ctx.mode));
    out.push_str(&format!("Node count: {}\n", stats.node_count));
    out
}

/// `ServerStats.toString()`: the lines from `Latency` to `Mode`.
pub fn server_stats_lines(stats: &ServerStatsSnapshot, connections: usize, mode: &str) -> String {
    let avg = (stats.avg_latency_ms * 10_000.0).round() / 10_000.0;
    format!(
        "Latency min/avg/max: {}/{}/{}\nReceived: {}\nSent: {}\nConnections: {}\n\
         Outstanding: {}\nZxid: 0x{:x}\nMode: {}\n",
        stats.min_latency_ms,
        java_double_to_string(avg),
        stats.max_latency_ms,
        stats.packets_received,
        stats.packets_sent,
        connections,
        stats.outstanding_requests,
        stats.last_processed_zxid,
        mode
    )
}

#[cfg(test)]
mod tests {
    use super::super::ConnectionInfo;
    use super::*;

    fn sample_stats() -> ServerStatsSnapshot {
        ServerStatsSnapshot {
            min_latency_ms: 0,
            avg_latency_ms: 3.30769,
            max_latency_ms: 15,
            packets_received: 16,
            packets_sent: 15,
            outstanding_requests: 0,
            last_processed_zxid: 0xb,
            node_count: 7,
        }
    }

    fn cnxn(port: u16) -> ConnectionInfo {
        ConnectionInfo {
            remote: format!("127.0.0.1:{}", port).parse().unwrap(),
            interest_ops: 1,
            queued: 0,
            received: 5,
            sent: 4,
            session_id: 0,
            stats: crate::server::cnxn_stats::CnxnStats::new().snapshot(),
        }
    }

    #[test]
    fn srvr_has_java_lines_in_java_order() {
        let wl = vec!["srvr".to_string()];
        let ctx = CommandContext {
            stats: Some(sample_stats()),
            mode: "standalone",
            connections: vec![cnxn(40428)],
            whitelist: &wl,
            argument: None,
            server: None,
            registry: None,
        };
        let text = run(false, &ctx);
        let lines: Vec<&str> = text.lines().collect();
        assert!(lines[0].starts_with("Zookeeper version: 3.9.5-zookeeper-rs-"));
        assert_eq!(
            &lines[1..],
            &[
                "Latency min/avg/max: 0/3.3077/15",
                "Received: 16",
                "Sent: 15",
                "Connections: 1",
                "Outstanding: 0",
                "Zxid: 0xb",
                "Mode: standalone",
                "Node count: 7",
            ]
        );
        assert!(text.ends_with('\n'));
    }

    #[test]
    fn stat_lists_clients_then_a_blank_line() {
        let wl = vec!["*".to_string()];
        let ctx = CommandContext {
            stats: Some(sample_stats()),
            mode: "standalone",
            connections: vec![cnxn(1), cnxn(2)],
            whitelist: &wl,
            argument: None,
            server: None,
            registry: None,
        };
        let text = run(true, &ctx);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[1], "Clients:");
        assert_eq!(lines[2], " /127.0.0.1:1[1](queued=0,recved=5,sent=4)");
        assert_eq!(lines[3], " /127.0.0.1:2[1](queued=0,recved=5,sent=4)");
        assert_eq!(lines[4], "");
        assert_eq!(lines[5], "Latency min/avg/max: 0/3.3077/15");
        assert_eq!(lines[8], "Connections: 2");
    }

    #[test]
    fn zero_latency_prints_as_java_double() {
        let stats = ServerStatsSnapshot::default();
        assert!(server_stats_lines(&stats, 0, "standalone")
            .starts_with("Latency min/avg/max: 0/0.0/0\n"));
    }

    #[test]
    fn negative_zxid_is_twos_complement_hex_like_java() {
        let stats = ServerStatsSnapshot {
            last_processed_zxid: -1,
            ..Default::default()
        };
        assert!(server_stats_lines(&stats, 0, "standalone").contains("Zxid: 0xffffffffffffffff\n"));
    }
}
