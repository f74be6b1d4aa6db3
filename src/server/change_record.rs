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
//! A record keeps no copy of the node's data (the txn carries the one
//! copy): only its length and the CRC its digest starts from.
//!
//! Threads: the [`OutstandingChanges`] live behind a mutex in the server
//! state, taken by Prep (read, add, roll back) and Final (remove applied).
//! Lock order: this lock, then the tree lock.
//!
//! Mirrors: `ZooKeeperServer.ChangeRecord`, `outstandingChanges`,
//! `outstandingChangesForPath`, `PrepRequestProcessor.rollbackPendingChanges`.

use std::collections::hash_map::Entry;
use std::collections::{HashMap, VecDeque};
use std::sync::Arc;

use super::digest_calculator::{self, ZOOKEEPER_NODE_SUBTREE};
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

/// What Prep needs of a pending node's data, without keeping the bytes
/// (they travel once, in the txn): the length, for quota checks, and the
/// CRC32 of the node digest's path-and-data prefix, from which the digest
/// of the node under any later stat follows (a setACL, or a child created
/// or deleted, changes only the stat).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct PendingData {
    /// Bytes of data (0 for none).
    pub len: i64,
    /// CRC32 over the path as the digest writes it ("/" as "") and the
    /// data; `None` when digests are off.
    pub prefix_crc: Option<u32>,
}

impl PendingData {
    /// The summary of `data` at `path`; the CRC only `with_digest`.
    pub fn of(path: &str, data: Option<&[u8]>, with_digest: bool) -> PendingData {
        let prefix_crc = with_digest.then(|| {
            let mut crc = crc32fast::Hasher::new();
            crc.update(if path == "/" { b"" } else { path.as_bytes() });
            if let Some(data) = data {
                crc.update(data);
            }
            crc.finalize()
        });
        PendingData {
            len: data.map_or(0, <[u8]>::len) as i64,
            prefix_crc,
        }
    }

    /// `DigestCalculator::node_digest(path, stat, data)` for the data this
    /// summarises (0 under "/zookeeper/", and when digests are off).
    pub fn node_digest(&self, path: &str, stat: &StatPersisted) -> i64 {
        let Some(prefix) = self.prefix_crc else {
            return 0;
        };
        if path.starts_with(ZOOKEEPER_NODE_SUBTREE) {
            return 0;
        }
        let mut crc = crc32fast::Hasher::new_with_initial(prefix);
        crc.update(&digest_calculator::stat_block(stat));
        crc.finalize() as i64
    }
}

/// The pending state of one node. Cheap to copy for the next change of
/// the same node (a parent gets one per child created or deleted): the
/// path and the ACL are shared, the data is only summarised.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChangeRecord {
    /// The txn that produced this state (-1: read from the tree).
    pub zxid: i64,
    pub path: Arc<str>,
    /// `None` when the node is being deleted.
    pub stat: Option<StatPersisted>,
    /// Number of children in this state.
    pub child_count: i32,
    pub acl: Arc<Vec<Acl>>,
    /// The data's length and digest prefix.
    pub data: PendingData,
    /// Set when `digest.enabled`.
    pub digest: Option<PrecalculatedDigest>,
}

impl ChangeRecord {
    /// A copy of this state, to be modified by txn `zxid`.
    pub fn duplicate(&self, zxid: i64) -> ChangeRecord {
        ChangeRecord {
            zxid,
            stat: Some(self.stat.clone().unwrap_or_default()),
            ..self.clone()
        }
    }

    /// The state "deleted by txn `zxid`".
    pub fn deleted(zxid: i64, path: &str) -> ChangeRecord {
        ChangeRecord {
            zxid,
            path: Arc::from(path),
            stat: None,
            child_count: 0,
            acl: Arc::new(Vec::new()),
            data: PendingData::default(),
            digest: None,
        }
    }

    /// This state's node digest (0 when digests are off).
    pub fn node_digest(&self) -> i64 {
        self.digest.map_or(0, |d| d.node_digest)
    }
}

/// Records that were current for some paths before a multi started, to
/// put back if the multi fails.
pub type PendingSnapshot = HashMap<Arc<str>, Arc<ChangeRecord>>;

/// Pending changes in txn order, and the latest one per path.
#[derive(Debug, Default)]
pub struct OutstandingChanges {
    /// Every record not yet applied, oldest first (zxids ascending).
    list: VecDeque<Arc<ChangeRecord>>,
    /// The latest record of each path with pending changes (keyed by the
    /// record's own path).
    by_path: HashMap<Arc<str>, Arc<ChangeRecord>>,
    /// The ACL list of the last created node: the next one almost always
    /// has the same, and then shares it instead of a copy.
    last_acl: Option<Arc<Vec<Acl>>>,
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

    /// A shared copy of `acl`: the previous one if equal, else a new one
    /// (remembered for the next call).
    pub fn shared_acl(&mut self, acl: &[Acl]) -> Arc<Vec<Acl>> {
        if let Some(last) = &self.last_acl {
            if last.as_slice() == acl {
                return Arc::clone(last);
            }
        }
        let shared = Arc::new(acl.to_vec());
        self.last_acl = Some(Arc::clone(&shared));
        shared
    }

    /// Adds a record as the latest state of its path.
    pub fn add(&mut self, record: ChangeRecord) {
        let record = Arc::new(record);
        self.by_path
            .insert(Arc::clone(&record.path), Arc::clone(&record));
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
            let Some(record) = self.list.pop_front() else {
                break;
            };
            // One lookup: the entry goes only if it is still this record.
            if let Entry::Occupied(latest) = self.by_path.entry(Arc::clone(&record.path)) {
                if Arc::ptr_eq(latest.get(), &record) {
                    latest.remove();
                }
            }
        }
    }

    /// The single write `zxid` was refused after it added its records
    /// (they are at the end of the list): drop them, and make each path's
    /// latest record the newest one still pending, if any.
    pub fn discard(&mut self, zxid: i64) {
        let mut touched = Vec::new();
        while self.list.back().is_some_and(|r| r.zxid == zxid) {
            if let Some(r) = self.list.pop_back() {
                self.by_path.remove(&*r.path);
                touched.push(r.path.clone());
            }
        }
        for path in touched {
            if let Some(r) = self.list.iter().rev().find(|r| r.path == path) {
                self.by_path.insert(Arc::clone(&r.path), Arc::clone(r));
            }
        }
    }

    /// The current records of the paths a multi touches and of their
    /// parents (Java keys parents as "everything before the last '/'").
    pub fn snapshot<'a>(&self, paths: impl Iterator<Item = &'a str>) -> PendingSnapshot {
        let mut snap = PendingSnapshot::new();
        for path in paths {
            if let Some(r) = self.by_path.get(path) {
                snap.insert(Arc::clone(&r.path), Arc::clone(r));
            }
            let Some(slash) = path.rfind('/') else {
                continue;
            };
            if path.contains('\0') {
                continue;
            }
            let parent = &path[..slash];
            if let Some(r) = self.by_path.get(parent) {
                snap.insert(Arc::clone(&r.path), Arc::clone(r));
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
                self.by_path.remove(&*r.path);
            }
        }
        let Some(first_zxid) = self.list.front().map(|r| r.zxid) else {
            return;
        };
        for record in snapshot.values() {
            if record.zxid >= first_zxid {
                self.by_path
                    .insert(Arc::clone(&record.path), Arc::clone(record));
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
            stat: Some(StatPersisted {
                version,
                ..Default::default()
            }),
            child_count: 0,
            acl: Arc::new(Vec::new()),
            data: PendingData::default(),
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
    fn discard_restores_the_newest_pending_record_of_each_path() {
        let mut c = OutstandingChanges::new();
        c.add(rec(5, "/a", 1));
        c.add(rec(6, "/b", 1));
        c.add(rec(7, "/a", 2));
        c.add(rec(7, "/c", 1));
        c.discard(7);
        assert_eq!(c.len(), 2);
        assert_eq!(
            c.get("/a").and_then(|r| r.stat.as_ref()).map(|s| s.version),
            Some(1)
        );
        assert!(c.get("/c").is_none());
        assert_eq!(c.get("/b").map(|r| r.zxid), Some(6));
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
    fn equal_acls_are_shared() {
        use crate::jute::data::Id;
        let acl = |id: &str| {
            vec![Acl {
                perms: 31,
                id: Id {
                    scheme: "world".into(),
                    id: id.into(),
                },
            }]
        };
        let mut c = OutstandingChanges::new();
        let a = c.shared_acl(&acl("anyone"));
        let b = c.shared_acl(&acl("anyone"));
        assert!(Arc::ptr_eq(&a, &b));
        let other = c.shared_acl(&acl("x"));
        assert_eq!(*other, acl("x"));
        assert!(!Arc::ptr_eq(&a, &other));
    }

    #[test]
    fn duplicate_keeps_state_and_takes_the_new_zxid() {
        let r = rec(3, "/a", 7);
        let d = r.duplicate(9);
        assert_eq!((d.zxid, d.stat.as_ref().map(|s| s.version)), (9, Some(7)));
        let gone = ChangeRecord::deleted(4, "/a");
        assert_eq!(gone.duplicate(5).stat, Some(StatPersisted::default()));
    }

    /// The digest from a summary equals DigestCalculator's from the bytes.
    #[test]
    fn summarised_data_gives_the_calculators_digest() {
        use crate::server::digest_calculator::DigestCalculator;
        let stats = [
            StatPersisted::default(),
            StatPersisted {
                czxid: 0x1_0000_0002,
                mzxid: -3,
                ctime: 1_700_000_000_123,
                mtime: i64::MAX,
                version: 7,
                cversion: -1,
                aversion: i32::MIN,
                ephemeral_owner: 0x7e57,
                pzxid: 0x2_0000_0009,
            },
        ];
        let data: Vec<u8> = (0..1500u32).map(|i| (i * 7) as u8).collect();
        for path in [
            "/",
            "/a",
            "/a/b-0000000001",
            "/zookeeper/quota/x",
            "/zookeeper",
        ] {
            for d in [None, Some(&[][..]), Some(&data[..3]), Some(&data[..])] {
                let summary = PendingData::of(path, d, true);
                assert_eq!(summary.len, d.map_or(0, |d| d.len()) as i64);
                for stat in &stats {
                    assert_eq!(
                        summary.node_digest(path, stat),
                        DigestCalculator::node_digest(path, stat, d),
                        "{} {:?}",
                        path,
                        d.map(|d| d.len())
                    );
                }
            }
        }
        let off = PendingData::of("/a", Some(b"x"), false);
        assert_eq!((off.len, off.prefix_crc), (1, None));
    }
}
