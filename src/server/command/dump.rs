//! `dump`: the session expiry buckets (split into local and global
//! sessions, and on a learner the global sessions with their timeouts, as
//! Java's leader and learner session trackers print them), the ephemeral
//! nodes of each session, and the connections grouped by when they would
//! expire idle.
//!
//! Session expiry times are on the session tracker's clock, which starts
//! with the server (see `ServerMetrics::server_clock_to_wall`); connection
//! expiry is recomputed from each connection's last activity and timeout,
//! rounded up to Java's 10 s connection expiry interval. Runs on the
//! asking thread.
//!
//! Mirrors: `org.apache.zookeeper.server.command.DumpCommand`,
//! `ExpiryQueue.dump`, `LeaderSessionTracker.dumpSessions`,
//! `LearnerSessionTracker.dumpSessions`, `DataTree.dumpEphemerals`,
//! `NIOServerCnxnFactory.dumpConnections`.

use std::collections::BTreeMap;
use std::time::{Duration, SystemTime};

use super::{java_date, java_socket_address, CommandContext, ConnectionInfo};
use crate::server::blocking_server_cnxn::SESSIONLESS_CNXN_TIMEOUT;
use crate::server::cnxn_stats::now_monotonic_ms;
use crate::server::server_metrics::metrics;
use crate::server::zookeeper_server::ZooKeeperServer;

/// Java's connection expiry interval (`sessionlessCnxnTimeout`).
const CNXN_EXPIRY_INTERVAL_MS: i64 = SESSIONLESS_CNXN_TIMEOUT.as_millis() as i64;

/// Session expiry time (tracker clock, ms) → session ids, as the admin
/// `dump` reports them: a learner reports none (Java's learner tracker
/// has no expiry map); with local sessions the local buckets, overlaid by
/// the global ones at equal times (Java merges two maps).
pub fn session_buckets(server: &ZooKeeperServer) -> Vec<(i64, Vec<i64>)> {
    let tracker = server.session_tracker();
    if tracker.is_learner_tracker() {
        return Vec::new();
    }
    if !tracker.local_sessions_enabled() {
        return tracker.expiry_map();
    }
    let mut merged: BTreeMap<i64, Vec<i64>> = tracker.expiry_map_of(true).into_iter().collect();
    merged.extend(tracker.expiry_map_of(false));
    merged.into_iter().collect()
}

/// The session part of the 4lw `dump`, as each of Java's trackers prints
/// it: `Session Sets` (standalone, or a leader without local sessions);
/// `Local Session Sets` then `Global Session Sets` (a leader with local
/// sessions); on a learner its local sessions' sets (if enabled) and then
/// `Global Sessions(N):`, each global session with its timeout.
fn session_sets(server: &ZooKeeperServer) -> String {
    let tracker = server.session_tracker();
    let local = tracker.local_sessions_enabled();
    let mut out = String::new();
    if local {
        out.push_str("Local ");
        push_sets(&mut out, &tracker.expiry_map_of(true));
    }
    if tracker.is_learner_tracker() {
        let global: BTreeMap<i64, i32> = tracker.sessions_with_timeouts().into_iter().collect();
        let global: Vec<(i64, i32)> = global
            .into_iter()
            .filter(|(id, _)| !tracker.is_local_session(*id))
            .collect();
        out.push_str(&format!("Global Sessions({}):\n", global.len()));
        for (id, timeout) in global {
            out.push_str(&format!("0x{:x}\t{}ms\n", id, timeout));
        }
    } else if local {
        out.push_str("Global ");
        push_sets(&mut out, &tracker.expiry_map_of(false));
    } else {
        push_sets(&mut out, &tracker.expiry_map());
    }
    out
}

/// `SessionTrackerImpl.dumpSessions`: "Session " and the expiry queue.
fn push_sets(out: &mut String, buckets: &[(i64, Vec<i64>)]) {
    let total: usize = buckets.iter().map(|(_, ids)| ids.len()).sum();
    out.push_str(&format!("Session Sets ({})/({}):\n", buckets.len(), total));
    for (at, ids) in buckets {
        let when = java_date::format(metrics().server_clock_to_wall(*at));
        out.push_str(&format!("{} expire at {}:\n", ids.len(), when));
        for id in ids {
            out.push_str(&format!("\t0x{:x}\n", id));
        }
    }
}

/// Session id → its ephemeral paths, by session id.
pub fn ephemerals(server: &ZooKeeperServer) -> BTreeMap<i64, Vec<String>> {
    server
        .zk_database()
        .tree
        .read()
        .ephemerals_by_session()
        .into_iter()
        .collect()
}

/// `ExpiryQueue.roundToNextInterval`.
fn round_to_interval(time: i64, interval: i64) -> i64 {
    (time / interval + 1) * interval
}

/// Expiry time (monotonic ms) → connections, by time.
pub fn connection_buckets(connections: &[ConnectionInfo]) -> BTreeMap<i64, Vec<&ConnectionInfo>> {
    let mut buckets: BTreeMap<i64, Vec<&ConnectionInfo>> = BTreeMap::new();
    for c in connections {
        let timeout = match c.stats.session_timeout {
            t if t > 0 => i64::from(t),
            _ => CNXN_EXPIRY_INTERVAL_MS,
        };
        let at = round_to_interval(c.stats.last_activity + timeout, CNXN_EXPIRY_INTERVAL_MS);
        buckets.entry(at).or_default().push(c);
    }
    buckets
}

/// Wall time of a monotonic (connection clock) millisecond.
fn monotonic_to_wall(ms: i64) -> SystemTime {
    let now = SystemTime::now();
    let delta = ms - now_monotonic_ms();
    match delta >= 0 {
        true => now + Duration::from_millis(delta as u64),
        false => now - Duration::from_millis(delta.unsigned_abs()),
    }
}

/// The whole answer.
pub fn run(server: &ZooKeeperServer, ctx: &CommandContext<'_>) -> String {
    let mut out = String::from("SessionTracker dump:\n");
    out.push_str(&session_sets(server));
    out.push_str("ephemeral nodes dump:\n");
    let ephemerals = ephemerals(server);
    out.push_str(&format!(
        "Sessions with Ephemerals ({}):\n",
        ephemerals.len()
    ));
    for (sid, paths) in &ephemerals {
        out.push_str(&format!("0x{:x}:\n", sid));
        for path in paths {
            out.push_str(&format!("\t{}\n", path));
        }
    }
    out.push_str("Connections dump:\n");
    let cnxns = connection_buckets(&ctx.connections);
    out.push_str(&format!(
        "Connections Sets ({})/({}):\n",
        cnxns.len(),
        ctx.connections.len()
    ));
    for (at, list) in &cnxns {
        out.push_str(&format!(
            "{} expire at {}:\n",
            list.len(),
            java_date::format(monotonic_to_wall(*at))
        ));
        for c in list {
            out.push_str(&format!(
                "\tip: {} sessionId: 0x{:x}\n",
                java_socket_address(&c.remote),
                c.session_id
            ));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::server::cnxn_stats::CnxnStats;

    fn cnxn(port: u16, session_timeout: i32, last_activity: i64) -> ConnectionInfo {
        let mut stats = CnxnStats::new().snapshot();
        stats.session_timeout = session_timeout;
        stats.last_activity = last_activity;
        ConnectionInfo {
            remote: format!("127.0.0.1:{}", port).parse().unwrap(),
            interest_ops: 1,
            queued: 0,
            received: 0,
            sent: 0,
            session_id: 0,
            stats,
        }
    }

    #[test]
    fn connections_bucket_on_ten_second_boundaries() {
        let list = [
            cnxn(1, 0, 1_000),
            cnxn(2, 4_000, 7_000),
            cnxn(3, 30_000, 1_000),
        ];
        let buckets = connection_buckets(&list);
        let keys: Vec<i64> = buckets.keys().copied().collect();
        assert_eq!(keys, [20_000, 40_000]);
        assert_eq!(buckets[&20_000].len(), 2);
    }
}
