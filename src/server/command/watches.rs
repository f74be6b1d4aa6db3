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
        Some(registry) => registry
            .connections()
            .iter()
            .map(|c| (c.id(), c.info().session_id))
            .collect(),
        None => HashMap::new(),
    }
}

/// Session id → watched paths (data watches), sorted.
pub fn session_to_paths(
    server: &ZooKeeperServer,
    ctx: &CommandContext<'_>,
) -> BTreeMap<i64, BTreeSet<String>> {
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
pub fn path_to_sessions(
    server: &ZooKeeperServer,
    ctx: &CommandContext<'_>,
) -> BTreeMap<String, BTreeSet<i64>> {
    let sessions = session_of(ctx);
    let by_path = server.zk_database().tree.read().watches_by_path();
    by_path
        .into_iter()
        .map(|(path, ids)| {
            (
                path,
                ids.iter()
                    .map(|id| sessions.get(id).copied().unwrap_or(0))
                    .collect(),
            )
        })
        .collect()
}

/// `wchc`.
pub fn by_session(server: &ZooKeeperServer, ctx: &CommandContext<'_>) -> String {
    grouped(
        session_to_paths(server, ctx),
        |sid| format!("0x{:x}", sid),
        |path| path.clone(),
    )
}

/// `wchp`.
pub fn by_path(server: &ZooKeeperServer, ctx: &CommandContext<'_>) -> String {
    grouped(
        path_to_sessions(server, ctx),
        |path| path.clone(),
        |sid| format!("0x{:x}", sid),
    )
}

/// The layout `wchc` and `wchp` share: each key on its own line, its
/// items below it indented by a tab, and a blank line at the end.
fn grouped<K, V, I: IntoIterator<Item = V>>(
    rows: impl IntoIterator<Item = (K, I)>,
    key: impl Fn(&K) -> String,
    item: impl Fn(&V) -> String,
) -> String {
    let mut out = String::new();
    for (k, items) in rows {
        out.push_str(&key(&k));
        out.push('\n');
        for v in items {
            out.push('\t');
            out.push_str(&item(&v));
            out.push('\n');
        }
    }
    out.push('\n');
    out
}

/// `wchs`.
pub fn summary(server: &ZooKeeperServer) -> String {
    let s = server.zk_database().tree.read().watches_summary();
    format!(
        "{} connections watching {} paths\nTotal watches:{}\n",
        s.num_connections, s.num_paths, s.total_watches
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grouped_lists_keys_with_tab_indented_items_and_a_blank_line() {
        let rows = vec![(1i64, vec!["/a", "/b"]), (0x1f, vec![])];
        let text = grouped(rows, |sid| format!("0x{:x}", sid), |p| p.to_string());
        assert_eq!(text, "0x1\n\t/a\n\t/b\n0x1f\n\n");
        assert_eq!(
            grouped(
                Vec::<(i64, Vec<i64>)>::new(),
                |k| k.to_string(),
                |v| v.to_string()
            ),
            "\n"
        );
    }
}
