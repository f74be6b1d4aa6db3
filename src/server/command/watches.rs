//! `wchs`, `wchc`, `wchp`: the data-watch table (Java reports only that
//! one: child watches are not listed) summarized, by session and by path.
//!
//! Watches are keyed by connection id in the tree; the factory's registry
//! maps them to the connections' session ids. Sessions and paths are
//! sorted (Java prints hash order). Runs on the asking thread.
//!
//! Mirrors: `org.apache.zookeeper.server.command.WatchCommand` and
//! `DataTree.dumpWatches` / `dumpWatchesSummary`.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use super::CommandContext;
use crate::server::zookeeper_server::ZooKeeperServer;

/// Connection id → session id, for the live connections.
fn session_of(ctx: &CommandContext<'_>) -> HashMap<u64, i64> {
    match ctx.registry {
        Some(registry) => registry.connections().iter().map(|c| (c.id(), c.info().session_id)).collect(),
        None => HashMap::new(),
    }
}

/// Session id → watched paths (data watches), sorted.
pub fn session_to_paths(server: &ZooKeeperServer, ctx: &CommandContext<'_>) -> BTreeMap<i64, BTreeSet<String>> {
    let sessions = session_of(ctx);
    let by_cnxn = server.zk_database().tree.read().watches_by_connection();
    let mut out: BTreeMap<i64, BTreeSet<String>> = BTreeMap::new();
    for (cnxn, paths) in by_cnxn {
        let sid = sessions.get(&cnxn).copied().unwrap_or(0);
        out.entry(sid).or_default().extend(paths);
    }
    out
}

/// Path → session ids watching it (data watches), sorted.
pub fn path_to_sessions(server: &ZooKeeperServer, ctx: &CommandContext<'_>) -> BTreeMap<String, BTreeSet<i64>> {
    let sessions = session_of(ctx);
    let by_path = server.zk_database().tree.read().watches_by_path();
    by_path
        .into_iter()
        .map(|(path, ids)| (path, ids.iter().map(|id| sessions.get(id).copied().unwrap_or(0)).collect()))
        .collect()
}

/// `wchc`.
pub fn by_session(server: &ZooKeeperServer, ctx: &CommandContext<'_>) -> String {
    let mut out = String::new();
    for (sid, paths) in session_to_paths(server, ctx) {
        out.push_str(&format!("0x{:x}\n", sid));
        for path in paths {
            out.push_str(&format!("\t{}\n", path));
        }
    }
    out.push('\n');
    out
}

/// `wchp`.
pub fn by_path(server: &ZooKeeperServer, ctx: &CommandContext<'_>) -> String {
    let mut out = String::new();
    for (path, sids) in path_to_sessions(server, ctx) {
        out.push_str(&format!("{}\n", path));
        for sid in sids {
            out.push_str(&format!("\t0x{:x}\n", sid));
        }
    }
    out.push('\n');
    out
}

/// `wchs`.
pub fn summary(server: &ZooKeeperServer) -> String {
    let s = server.zk_database().tree.read().watches_summary();
    format!("{} connections watching {} paths\nTotal watches:{}\n", s.num_connections, s.num_paths, s.total_watches)
}
