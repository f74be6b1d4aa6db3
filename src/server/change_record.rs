//! The pending state of nodes that Prep has changed but Final has not yet
//! applied ("outstanding changes").
//!
//! Prep validates each write against the tree *as it will be* once every
//! earlier write is applied: a create followed at once by a setData on the
//! new node must see the node, and two sequential creates in a row must
//! get different suffixes. So Prep records, per path, the latest pending
//! node state (a [`ChangeRecord`]), and looks there before looking in the
//! tree. Final drops the records of a txn right after applying it, under
//! the same lock, so a path is always found in one place or the other.
//!
//! Threads: the [`OutstandingChanges`] live behind a mutex in the server
//! state, taken by Prep (read, add, roll back) and Final (remove applied).
//! Lock order: this lock, then the tree lock.
//!
//! Mirrors: `ZooKeeperServer.ChangeRecord`, `outstandingChanges`,
//! `outstandingChangesForPath`, `PrepRequestProcessor.rollbackPendingChanges`.

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;

use crate::jute::data::{Acl, StatPersisted};

/// A node's digest and the tree digest once this record is applied.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PrecalculatedDigest {
    /// `DigestCalculator::node_digest` of the node in this state (0 if
    /// deleted).
    pub node_digest: i64,
    /// The whole tree's digest after the txn that made this record.
    pub tree_digest: i64,
}

/// The pending state of one node.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChangeRecord {
    /// The txn that produced this state (-1: read from the tree).
    pub zxid: i64,
    pub path: String,
    /// `None` when the node is being deleted.
    pub stat: Option<StatPersisted>,
    /// Number of children in this state.
    pub child_count: i32,
    pub acl: Vec<Acl>,
    pub data: Option<Vec<u8>>,
    /// Set when `digest.enabled`.
    pub digest: Option<PrecalculatedDigest>,
}

impl ChangeRecord {
    /// A copy of this state, to be modified by txn `zxid`.
    pub fn duplicate(&self, zxid: i64) -> ChangeRecord {
        ChangeRecord { zxid, stat: Some(self.stat.clone().unwrap_or_default()), ..self.clone() }
    }

    /// The state "deleted by txn `zxid`".
    pub fn deleted(zxid: i64, path: &str) -> ChangeRecord {
        ChangeRecord {
            zxid,
            path: path.to_string(),
            stat: None,
            child_count: 0,
            acl: Vec::new(),
            data: None,
            digest: None,
        }
    }
}

/// Records that were current for some paths before a multi started, to
/// put back if the multi fails.
pub type PendingSnapshot = HashMap<String, Arc<ChangeRecord>>;

/// Pending changes in txn order, and the latest one per path.
#[derive(Debug, Default)]
pub struct OutstandingChanges {
    /// Every record not yet applied, oldest first (zxids ascending).
    list: VecDeque<Arc<ChangeRecord>>,
    /// The latest record of each path with pending changes.
    by_path: HashMap<String, Arc<ChangeRecord>>,
}

impl OutstandingChanges {
    /// No pending changes.
    pub fn new() -> OutstandingChanges {
        OutstandingChanges::default()
    }

    /// The latest pending state of `path`, if any.
    pub fn get(&self, path: &str) -> Option<&Arc<ChangeRecord>> {
        self.by_path.get(path)
    }

    /// Adds a record as the latest state of its path.
    pub fn add(&mut self, record: ChangeRecord) {
        let record = Arc::new(record);
        self.by_path.insert(record.path.clone(), Arc::clone(&record));
        self.list.push_back(record);
    }

    /// True when nothing is pending.
    pub fn is_empty(&self) -> bool {
        self.list.is_empty()
    }

    /// Number of pending records.
    pub fn len(&self) -> usize {
        self.list.len()
    }

    /// The newest record (its digest is the tree digest Prep predicts).
    pub fn last(&self) -> Option<&Arc<ChangeRecord>> {
        self.list.back()
    }

    /// Every pending record, oldest first.
    pub fn iter(&self) -> impl Iterator<Item = &Arc<ChangeRecord>> {
        self.list.iter()
    }

    /// Final applied txn `zxid`: drop every record up to it. A path keeps
    /// a newer record if one was added since.
    pub fn remove_applied(&mut self, zxid: i64) {
        while self.list.front().is_some_and(|r| r.zxid <= zxid) {
            let Some(record) = self.list.pop_front() else { break };
            if self.by_path.get(&record.path).is_some_and(|r| Arc::ptr_eq(r, &record)) {
                self.by_path.remove(&record.path);
            }
        }
    }

    /// The current records of the paths a multi touches and of their
    /// parents (Java keys parents as "everything before the last '/'").
    pub fn snapshot<'a>(&self, paths: impl Iterator<Item = &'a str>) -> PendingSnapshot {
        let mut snap = PendingSnapshot::new();
        for path in paths {
            if let Some(r) = self.by_path.get(path) {
                snap.insert(path.to_string(), Arc::clone(r));
            }
            let Some(slash) = path.rfind('/') else { continue };
            if path.contains('\0') {
                continue;
            }
            let parent = &path[..slash];
            if let Some(r) = self.by_path.get(parent) {
                snap.insert(parent.to_string(), Arc::clone(r));
            }
        }
        snap
    }

    /// A multi with zxid `zxid` failed: drop the records it added (they
    /// are at the end of the list) and restore what `snapshot` saw, unless
    /// those records have been applied meanwhile.
    pub fn rollback(&mut self, zxid: i64, snapshot: &PendingSnapshot) {
        while self.list.back().is_some_and(|r| r.zxid == zxid) {
            if let Some(r) = self.list.pop_back() {
                self.by_path.remove(&r.path);
            }
        }
        let Some(first_zxid) = self.list.front().map(|r| r.zxid) else {
            return;
        };
        for record in snapshot.values() {
            if record.zxid >= first_zxid {
                self.by_path.insert(record.path.clone(), Arc::clone(record));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec(zxid: i64, path: &str, version: i32) -> ChangeRecord {
        ChangeRecord {
            zxid,
            path: path.into(),
            stat: Some(StatPersisted { version, ..Default::default() }),
            child_count: 0,
            acl: Vec::new(),
            data: None,
            digest: None,
        }
    }

    fn version(c: &OutstandingChanges, path: &str) -> Option<i32> {
        c.get(path).and_then(|r| r.stat.as_ref()).map(|s| s.version)
    }

    #[test]
    fn latest_record_wins_and_applied_ones_go() {
        let mut c = OutstandingChanges::new();
        c.add(rec(1, "/a", 0));
        c.add(rec(2, "/a", 1));
        c.add(rec(2, "/b", 0));
        assert_eq!(version(&c, "/a"), Some(1));
        c.remove_applied(1);
        assert_eq!(version(&c, "/a"), Some(1), "a newer record of /a survives");
        assert_eq!(c.len(), 2);
        c.remove_applied(2);
        assert!(c.is_empty());
        assert!(c.get("/a").is_none() && c.get("/b").is_none());
    }

    /// ZOOKEEPER-1624: after a failed multi the parent's pending record
    /// (which carries the cversion for sequential names) is restored.
    #[test]
    fn rollback_restores_the_records_before_the_multi() {
        let mut c = OutstandingChanges::new();
        c.add(rec(5, "/p", 3));
        let snap = c.snapshot(["/p/x", "/q"].into_iter());
        assert!(snap.contains_key("/p"));
        // The failed multi (zxid 6) changed /p and created /p/x.
        c.add(rec(6, "/p", 4));
        c.add(rec(6, "/p/x", 0));
        c.rollback(6, &snap);
        assert_eq!(version(&c, "/p"), Some(3));
        assert!(c.get("/p/x").is_none());
        assert_eq!(c.len(), 1);
    }

    #[test]
    fn rollback_does_not_resurrect_applied_records() {
        let mut c = OutstandingChanges::new();
        c.add(rec(5, "/p", 3));
        let snap = c.snapshot(["/p"].into_iter());
        c.add(rec(6, "/p", 4));
        c.remove_applied(5);
        c.rollback(6, &snap);
        assert!(c.get("/p").is_none(), "record 5 is in the tree now");
        assert!(c.is_empty());
    }

    #[test]
    fn duplicate_keeps_state_and_takes_the_new_zxid() {
        let r = rec(3, "/a", 7);
        let d = r.duplicate(9);
        assert_eq!((d.zxid, d.stat.as_ref().map(|s| s.version)), (9, Some(7)));
        let gone = ChangeRecord::deleted(4, "/a");
        assert_eq!(gone.duplicate(5).stat, Some(StatPersisted::default()));
    }
}
