//! ACL interning: each distinct ACL list is stored once and nodes refer to
//! it by a `long` id, which is also what snapshots store per node.
//!
//! Ids are handed out 1, 2, 3… and never reused; -1 means "no list"
//! (read back as OPEN_ACL_UNSAFE; only Java's built-in root, /zookeeper
//! and /zookeeper/quota use it). Each id counts the nodes using it and is
//! dropped when the count reaches zero. A loaded snapshot may hold ids no
//! node uses (fuzzy snapshots); they are purged after the nodes are read.
//!
//! Owned by the DataTree (so by whoever holds the tree's lock).
//!
//! Mirrors: `org.apache.zookeeper.server.ReferenceCountedACLCache`.

use std::collections::HashMap;
use std::io::{Read, Write};

use log::{error, info};

use super::java_hash_map::JavaHashMap;
use crate::jute::data::ids;
use crate::jute::data::Acl;
use crate::jute::{InputArchive, OutputArchive, Record};

/// The id of "no ACL list" (reads as OPEN_ACL_UNSAFE).
pub const OPEN_UNSAFE_ACL_ID: i64 = -1;

/// Interned ACL lists with reference counts.
#[derive(Debug, Clone, Default)]
pub struct ReferenceCountedAclCache {
    /// id → list, in Java `HashMap` order because snapshots are written in
    /// that order.
    long_key_map: JavaHashMap<i64, Vec<Acl>>,
    /// list → id, to intern.
    acl_key_map: HashMap<Vec<Acl>, i64>,
    /// id → number of nodes using it (0 right after loading a snapshot).
    reference_counter: HashMap<i64, i64>,
    /// The last id handed out; survives `deserialize`, as in Java.
    acl_index: i64,
}

impl ReferenceCountedAclCache {
    /// An empty cache.
    pub fn new() -> Self {
        Self::default()
    }

    /// The id for `acls`, creating it if needed, and counts one more user.
    pub fn convert_acls(&mut self, acls: &[Acl]) -> i64 {
        let id = match self.acl_key_map.get(acls) {
            Some(&id) => id,
            None => {
                self.acl_index += 1;
                let id = self.acl_index;
                self.long_key_map.insert(id, acls.to_vec());
                self.acl_key_map.insert(acls.to_vec(), id);
                id
            }
        };
        self.add_usage(id);
        id
    }

    /// The list behind an id; `None` for an unknown id (Java throws).
    pub fn convert_long(&self, id: i64) -> Option<Vec<Acl>> {
        if id == OPEN_UNSAFE_ACL_ID {
            return Some(ids::open_acl_unsafe());
        }
        let acls = self.long_key_map.get(&id).cloned();
        if acls.is_none() {
            error!("ERROR: ACL not available for long {}", id);
        }
        acls
    }

    /// Counts one more node using `id`.
    pub fn add_usage(&mut self, id: i64) {
        if id == OPEN_UNSAFE_ACL_ID {
            return;
        }
        if !self.long_key_map.contains_key(&id) {
            info!("Ignoring acl {} as it does not exist in the cache", id);
            return;
        }
        *self.reference_counter.entry(id).or_insert(0) += 1;
    }

    /// Counts one node less using `id`; forgets the id at zero.
    pub fn remove_usage(&mut self, id: i64) {
        if id == OPEN_UNSAFE_ACL_ID {
            return;
        }
        if !self.long_key_map.contains_key(&id) {
            info!("Ignoring acl {} as it does not exist in the cache", id);
            return;
        }
        let count = self.reference_counter.entry(id).or_insert(0);
        *count -= 1;
        if *count <= 0 {
            self.forget(id);
        }
    }

    /// Drops ids no node uses (after loading a snapshot).
    pub fn purge_unused(&mut self) {
        let unused: Vec<i64> = self
            .reference_counter
            .iter()
            .filter(|(_, &c)| c <= 0)
            .map(|(&id, _)| id)
            .collect();
        for id in unused {
            self.forget(id);
        }
    }

    fn forget(&mut self, id: i64) {
        self.reference_counter.remove(&id);
        if let Some(acls) = self.long_key_map.remove(&id) {
            self.acl_key_map.remove(&acls);
        }
    }

    /// Number of distinct lists.
    pub fn size(&self) -> usize {
        self.acl_key_map.len()
    }

    /// The reference count of `id` (tests and diagnostics).
    pub fn usage(&self, id: i64) -> i64 {
        self.reference_counter.get(&id).copied().unwrap_or(0)
    }

    /// Writes `int count` then `(long id, vector<ACL>)` per list, in the
    /// order Java's `new HashMap<>(longKeyMap)` iterates.
    pub fn serialize<W: Write>(&self, oa: &mut OutputArchive<W>) -> std::io::Result<()> {
        let copy = JavaHashMap::copy_of(&self.long_key_map);
        oa.write_int(copy.len() as i32)?;
        for (id, acls) in copy.iter() {
            oa.write_long(*id)?;
            acls.serialize(oa)?;
        }
        Ok(())
    }

    /// Replaces the contents with what `serialize` wrote; every id starts
    /// with zero users (the nodes add theirs as they are read).
    pub fn deserialize<R: Read>(&mut self, ia: &mut InputArchive<R>) -> crate::jute::Result<()> {
        let count = ia.read_int()?;
        let mut lists = Vec::new();
        for _ in 0..count.max(0) {
            let id = ia.read_long()?;
            let acls = Vec::<Acl>::deserialize(ia)?;
            lists.push((id, acls));
        }
        self.long_key_map.clear();
        self.acl_key_map.clear();
        self.reference_counter.clear();
        for (id, acls) in lists {
            self.acl_index = self.acl_index.max(id);
            self.acl_key_map.insert(acls.clone(), id);
            self.long_key_map.insert(id, acls);
            self.reference_counter.insert(id, 0);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::jute::data::Id;

    fn acl(perms: i32, scheme: &str, id: &str) -> Vec<Acl> {
        vec![Acl {
            perms,
            id: Id {
                scheme: scheme.into(),
                id: id.into(),
            },
        }]
    }

    #[test]
    fn interns_and_counts() {
        let mut c = ReferenceCountedAclCache::new();
        let open = ids::open_acl_unsafe();
        assert_eq!(c.convert_acls(&open), 1);
        assert_eq!(c.convert_acls(&acl(1, "world", "anyone")), 2);
        assert_eq!(c.convert_acls(&open), 1);
        assert_eq!(c.usage(1), 2);
        assert_eq!(c.size(), 2);
        c.remove_usage(2);
        assert_eq!(c.size(), 1);
        assert_eq!(c.convert_long(2), None);
        // Ids are never reused.
        assert_eq!(c.convert_acls(&acl(1, "world", "anyone")), 3);
        assert_eq!(c.convert_long(OPEN_UNSAFE_ACL_ID), Some(open));
    }

    #[test]
    fn round_trip_then_purge() {
        let mut c = ReferenceCountedAclCache::new();
        c.convert_acls(&ids::read_acl_unsafe());
        c.convert_acls(&ids::open_acl_unsafe());
        let mut oa = OutputArchive::new(Vec::new());
        c.serialize(&mut oa).unwrap();
        let bytes = oa.into_inner();
        // count, then (1, [READ world:anyone]) first.
        assert_eq!(&bytes[..12], &[0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 1]);

        let mut d = ReferenceCountedAclCache::new();
        d.deserialize(&mut InputArchive::new(&bytes[..])).unwrap();
        assert_eq!(d.size(), 2);
        d.add_usage(2);
        d.purge_unused();
        assert_eq!(d.size(), 1);
        assert_eq!(d.convert_long(2), Some(ids::open_acl_unsafe()));
        // New ids continue after the largest loaded one.
        assert_eq!(d.convert_acls(&acl(31, "digest", "u:x")), 3);
    }

    #[test]
    fn truncated_input_is_an_error() {
        let mut c = ReferenceCountedAclCache::new();
        c.convert_acls(&ids::open_acl_unsafe());
        let mut oa = OutputArchive::new(Vec::new());
        c.serialize(&mut oa).unwrap();
        let bytes = oa.into_inner();
        let mut d = ReferenceCountedAclCache::new();
        assert!(d
            .deserialize(&mut InputArchive::new(&bytes[..bytes.len() - 1]))
            .is_err());
    }
}
