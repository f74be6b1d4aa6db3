//! The iteration order of a `java.util.concurrent.ConcurrentHashMap<String, _>`
//! filled by successive inserts, so `mntr` lists its keys in the order
//! Java 3.8.0 prints them (its metrics live in such maps).
//!
//! Model (JDK 17): the table starts at 16 bins and doubles as soon as the
//! element count reaches 3/4 of it; a key goes to bin `spread(hash) & (n-1)`
//! and is appended to that bin's list. A resize splits each bin into a low
//! and a high list: the longest tail run whose nodes all go the same way is
//! moved as is, and the nodes before it are pushed onto the front of their
//! list one by one (so they come out reversed). Iteration walks bins in
//! index order. Not modelled: tree bins (8+ colliding keys) — our key sets
//! are small and fixed.
//!
//! Pure functions; called once per metrics dump.
//!
//! Mirrors: the iteration order of `java.util.concurrent.ConcurrentHashMap`.

use crate::server::java_hash_map::JavaHash;

/// `ConcurrentHashMap.spread`: high bits folded in, sign bit cleared.
fn spread(hash: i32) -> u32 {
    let h = hash as u32;
    (h ^ (h >> 16)) & 0x7fff_ffff
}

/// Bins of (spread hash, insertion index).
type Bins = Vec<Vec<(u32, usize)>>;

/// Splits every bin of `table` into a table twice the size.
fn resize(table: &Bins) -> Bins {
    let n = table.len() as u32;
    let mut next: Bins = vec![Vec::new(); table.len() * 2];
    for (i, bin) in table.iter().enumerate() {
        let Some(first) = bin.first() else { continue };
        let mut run_bit = first.0 & n;
        let mut last_run = 0;
        for (j, node) in bin.iter().enumerate().skip(1) {
            if node.0 & n != run_bit {
                run_bit = node.0 & n;
                last_run = j;
            }
        }
        let (mut low, mut high) = match run_bit {
            0 => (bin[last_run..].to_vec(), Vec::new()),
            _ => (Vec::new(), bin[last_run..].to_vec()),
        };
        for node in &bin[..last_run] {
            match node.0 & n {
                0 => low.insert(0, *node),
                _ => high.insert(0, *node),
            }
        }
        next[i] = low;
        next[i + table.len()] = high;
    }
    next
}

/// The indices of `keys` (distinct, in insertion order) in the order a
/// `ConcurrentHashMap` would iterate them.
pub fn concurrent_hash_map_order<S: AsRef<str>>(keys: &[S]) -> Vec<usize> {
    let mut table: Bins = vec![Vec::new(); 16];
    for (index, key) in keys.iter().enumerate() {
        let hash = spread(key.as_ref().java_hash());
        let bin = (hash as usize) & (table.len() - 1);
        table[bin].push((hash, index));
        let count = index + 1;
        while count >= table.len() - table.len() / 4 {
            table = resize(&table);
        }
    }
    table
        .into_iter()
        .flatten()
        .map(|(_, index)| index)
        .collect()
}

/// `keys` reordered as a `ConcurrentHashMap` would iterate them.
pub fn in_java_order<S: AsRef<str> + Clone>(keys: &[S]) -> Vec<S> {
    concurrent_hash_map_order(keys)
        .into_iter()
        .map(|i| keys[i].clone())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gauges_come_out_as_java_3_8_0_prints_them() {
        // Registration order (ZooKeeperServer.registerMetrics) ...
        let registered = [
            "avg_latency",
            "max_latency",
            "min_latency",
            "packets_received",
            "packets_sent",
            "num_alive_connections",
            "outstanding_requests",
            "uptime",
            "znode_count",
            "watch_count",
            "ephemerals_count",
            "approximate_data_size",
            "global_sessions",
            "local_sessions",
            "open_file_descriptor_count",
            "max_file_descriptor_count",
            "connection_drop_probability",
            "last_client_response_size",
            "max_client_response_size",
            "min_client_response_size",
            "outstanding_tls_handshake",
            "auth_failed_count",
            "non_mtls_remote_conn_count",
            "non_mtls_local_conn_count",
        ];
        // ... and the order [obs] mntr printed them in.
        let printed = [
            "ephemerals_count",
            "num_alive_connections",
            "avg_latency",
            "outstanding_requests",
            "znode_count",
            "global_sessions",
            "non_mtls_remote_conn_count",
            "last_client_response_size",
            "packets_sent",
            "packets_received",
            "max_client_response_size",
            "connection_drop_probability",
            "watch_count",
            "auth_failed_count",
            "min_latency",
            "max_file_descriptor_count",
            "approximate_data_size",
            "open_file_descriptor_count",
            "local_sessions",
            "uptime",
            "max_latency",
            "outstanding_tls_handshake",
            "min_client_response_size",
            "non_mtls_local_conn_count",
        ];
        assert_eq!(in_java_order(&registered), printed);
    }

    #[test]
    fn small_maps_iterate_by_bucket() {
        // "a" = 97 -> bin 1, "e" = 101 -> bin 5; "b" = 98 -> bin 2.
        assert_eq!(in_java_order(&["e", "a", "b"]), ["a", "b", "e"]);
        assert!(concurrent_hash_map_order::<&str>(&[]).is_empty());
    }

    #[test]
    fn resize_reverses_nodes_before_the_last_run() {
        // Four keys in bin 0 of a 2-bin table: hashes 0, 2, 0, 2 (bit 2 set
        // on the 2nd and 4th). The last run is the 4th alone; the others
        // are prepended, so low = [3rd, 1st], high = [2nd, 4th].
        let table: Bins = vec![vec![(0, 0), (2, 1), (0, 2), (2, 3)], vec![]];
        let next = resize(&table);
        assert_eq!(next[0], vec![(0, 2), (0, 0)]);
        assert_eq!(next[2], vec![(2, 1), (2, 3)]);
    }
}
