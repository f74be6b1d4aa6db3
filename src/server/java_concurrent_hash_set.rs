//! The iteration order of a `ConcurrentHashMap`-backed set, for the one
//! place a client can see it: a connection's identities.
//!
//! Java keeps each connection's `authInfo` (the `ip:` identity added when
//! the connection is made, then every `addauth`, SASL or x509 identity)
//! in `ConcurrentHashMap.newKeySet()`. `whoami` lists them in that set's
//! iteration order, the `auth` ACL scheme expands to them in that order
//! (so the order is written into txns and snapshots), and a follower
//! forwards them to the leader in that order. To answer and write the
//! same bytes we replay the insertions into the same bucket layout:
//!
//! - the hash is the record's `hashCode()` as jute generates it
//!   (`17`, then `37 * h + field.hashCode()` for each field), spread by
//!   `(h ^ h >>> 16) & 0x7fffffff`;
//! - the table starts at 16 buckets and doubles once the count reaches
//!   3/4 of it; a new key goes to the tail of its bucket;
//! - a doubling splits each bucket in two. The longest tail of entries
//!   that all go to the same half keeps its order; every entry before
//!   that tail is pushed, one by one, onto the front of its half (so
//!   their order is reversed) — `ConcurrentHashMap.transfer`'s way, which
//!   differs from `HashMap` (see [`super::java_hash_map`]);
//! - iteration walks the buckets in index order.
//!
//! Not reproduced: tree bins (a bucket of 8+ entries), which need
//! colliding hashes no realistic set of identities has.
//!
//! Pure code, any thread.
//!
//! Mirrors: `java.util.concurrent.ConcurrentHashMap` (JDK 17) as used by
//! `org.apache.zookeeper.server.ServerCnxn.authInfo`.

use super::java_hash_map::JavaHash;
use crate::jute::data::Id;

/// Initial table size of a `ConcurrentHashMap` made with no arguments.
const INITIAL_BUCKETS: usize = 16;

/// `Id.hashCode()` as jute generates it.
pub fn id_hash(id: &Id) -> i32 {
    let mut h = 17i32;
    h = h.wrapping_mul(37).wrapping_add(id.scheme.java_hash());
    h.wrapping_mul(37).wrapping_add(id.id.java_hash())
}

/// `ConcurrentHashMap.spread`.
fn spread(h: i32) -> usize {
    ((h ^ ((h as u32) >> 16) as i32) & 0x7fff_ffff) as usize
}

/// The order a `ConcurrentHashMap.newKeySet()` iterates `ids` in, after
/// adding them one by one in the given order (duplicates are ignored,
/// as `Set.add` ignores them).
pub fn iteration_order(ids: &[Id]) -> Vec<Id> {
    // Each bucket holds (spread hash, index into `ids`).
    let mut table: Vec<Vec<(usize, usize)>> = vec![Vec::new(); INITIAL_BUCKETS];
    let mut count = 0usize;
    for (i, id) in ids.iter().enumerate() {
        let hash = spread(id_hash(id));
        let mask = table.len() - 1;
        let bucket = &mut table[hash & mask];
        if bucket.iter().any(|&(h, j)| h == hash && ids[j] == *id) {
            continue;
        }
        bucket.push((hash, i));
        count += 1;
        while count >= table.len() - table.len() / 4 {
            table = transfer(&table);
        }
    }
    table
        .iter()
        .flatten()
        .map(|&(_, i)| ids[i].clone())
        .collect()
}

/// One doubling of the table, splitting each bucket as
/// `ConcurrentHashMap.transfer` does.
fn transfer(table: &[Vec<(usize, usize)>]) -> Vec<Vec<(usize, usize)>> {
    let n = table.len();
    let mut next: Vec<Vec<(usize, usize)>> = vec![Vec::new(); n * 2];
    for (i, bucket) in table.iter().enumerate() {
        let Some(&(first, _)) = bucket.first() else {
            continue;
        };
        // The tail that already sits in one half keeps its order.
        let mut run_bit = first & n;
        let mut last_run = 0;
        for (k, &(h, _)) in bucket.iter().enumerate().skip(1) {
            if h & n != run_bit {
                run_bit = h & n;
                last_run = k;
            }
        }
        let mut low: Vec<(usize, usize)> = Vec::new();
        let mut high: Vec<(usize, usize)> = Vec::new();
        let tail = bucket[last_run..].to_vec();
        if run_bit == 0 {
            low = tail;
        } else {
            high = tail;
        }
        // Entries before it are pushed onto the front, one at a time.
        for &entry in &bucket[..last_run] {
            if entry.0 & n == 0 {
                low.insert(0, entry);
            } else {
                high.insert(0, entry);
            }
        }
        next[i] = low;
        next[i + n] = high;
    }
    next
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(scheme: &str, id: &str) -> Id {
        Id {
            scheme: scheme.to_string(),
            id: id.to_string(),
        }
    }

    #[test]
    fn id_hash_is_jutes_record_hash() {
        // "ip".hashCode() = 'i'*31 + 'p' = 105*31 + 112 = 3367; "" hashes to 0.
        assert_eq!(id_hash(&id("ip", "")), (17 * 37 + 3367) * 37);
        let h = (17i32 * 37)
            .wrapping_add("world".java_hash())
            .wrapping_mul(37)
            .wrapping_add("anyone".java_hash());
        assert_eq!(id_hash(&id("world", "anyone")), h);
    }

    #[test]
    fn one_identity_and_duplicates() {
        let ip = id("ip", "127.0.0.1");
        assert_eq!(iteration_order(std::slice::from_ref(&ip)), vec![ip.clone()]);
        assert_eq!(iteration_order(&[ip.clone(), ip.clone()]), vec![ip]);
    }

    #[test]
    fn order_follows_buckets_not_insertion() {
        let ids = [
            id("ip", "127.0.0.1"),
            id("digest", "u1:x"),
            id("digest", "u2:y"),
        ];
        let out = iteration_order(&ids);
        let mut by_bucket: Vec<(usize, usize)> = ids
            .iter()
            .enumerate()
            .map(|(i, x)| (spread(id_hash(x)) & 15, i))
            .collect();
        by_bucket.sort();
        let expected: Vec<Id> = by_bucket.iter().map(|&(_, i)| ids[i].clone()).collect();
        assert_eq!(out, expected);
    }

    #[test]
    fn a_doubling_keeps_the_last_run_and_reverses_what_is_before_it() {
        // Hashes 0, 16, 0+32... all in bucket 0 of 16; bit 16 splits them.
        let bucket = vec![(0, 0), (16, 1), (32, 2), (48, 3), (64, 4)];
        let mut table = vec![Vec::new(); 16];
        table[0] = bucket;
        let next = transfer(&table);
        // Bits &16: 0,16,0,16,0 -> last run is the final entry (64, low).
        // Before it: 0 (low), 16 (high), 32 (low), 48 (high), each pushed
        // onto the front of its half.
        assert_eq!(next[0], vec![(32, 2), (0, 0), (64, 4)]);
        assert_eq!(next[16], vec![(48, 3), (16, 1)]);
    }

    #[test]
    fn the_table_doubles_at_three_quarters() {
        // 12 distinct ids force one doubling (count 12 >= 12): every id is
        // still listed once.
        let ids: Vec<Id> = (0..20)
            .map(|i| id("digest", &format!("user{}:h", i)))
            .collect();
        let out = iteration_order(&ids);
        assert_eq!(out.len(), 20);
        let mut sorted_in = ids.clone();
        sorted_in.sort_by(|a, b| a.id.cmp(&b.id));
        let mut sorted_out = out.clone();
        sorted_out.sort_by(|a, b| a.id.cmp(&b.id));
        assert_eq!(sorted_in, sorted_out);
        // With 20 entries the table has 32 buckets: output is in bucket order.
        let buckets: Vec<usize> = out.iter().map(|x| spread(id_hash(x)) & 31).collect();
        assert!(buckets.windows(2).all(|w| w[0] <= w[1]), "{:?}", buckets);
    }
}
