//! The in-memory tree of znodes, and everything applying a txn changes
//! along with it: the ACL cache, the ephemerals index, the container and
//! TTL sets, quota usage, the tree digest and the watch tables.
//!
//! Writes (`process_txn`) take `&mut self`: the thread applying committed
//! txns holds the tree's write lock. Reads take `&self` (read lock) and
//! may still register watches, which live behind their own mutex.
//!
//! Storage: nodes live in an arena (`data_tree/node_store.rs`); a path is
//! found by walking its components, so no node stores its path. The root
//! answers to both "" and "/" — Java stores it under both keys — and the
//! node count adds the alias back.
//!
//! Split: `data_tree/apply.rs` (create/delete/setData/setACL/sessions),
//! `data_tree/quota_upkeep.rs` (quota usage and checks),
//! `data_tree/node_store.rs` (the arena),
//! `data_tree/snapshot.rs` (serialize/deserialize),
//! `data_tree/digest_log.rs` (digest history and checks),
//! `data_tree/tests.rs`.
//!
//! Mirrors: `org.apache.zookeeper.server.DataTree`.

mod apply;
mod create_ref;
mod digest_log;
#[cfg(test)]
mod multi_tests;
mod node_store;
mod quota_upkeep;
mod snapshot;
#[cfg(test)]
mod snapshot_tests;
#[cfg(test)]
mod tests;

use std::collections::{HashMap, HashSet};
use std::io::{Read, Write};
use std::sync::Arc;

use log::{debug, warn};

use self::digest_log::DigestLog;
use self::node_store::NodeStore;
use super::data_node::DataNode;
use super::digest_calculator::{DigestCalculator, TreeDigest};
use super::ephemeral_type::extended_types_enabled;
use super::java_hash_map::JavaHashMap;
use super::path_utils::java_length;
use super::quota::QuotaTrie;
use super::reference_counted_acl_cache::ReferenceCountedAclCache;
use super::watch::watch_manager::{WatchManager, WatchesSummary};
use super::watch::{EventAclFilter, WatchedEvent, Watcher, WatcherMode};
use crate::jute::data::ids;
use crate::jute::data::{Acl, Stat, StatPersisted};
use crate::jute::proto::SetWatches2;
use crate::jute::txn::{TxnBody, TxnDigest, TxnHeader};
use crate::jute::{InputArchive, OutputArchive};
use crate::keeper_exception::Code;
use crate::zoo_defs::{event_type, keeper_state, watcher_type};

pub use self::digest_log::ZxidDigest;
pub use self::snapshot::SnapshotCursor;

/// `/zookeeper`.
pub const PROC_ZOOKEEPER: &str = "/zookeeper";
/// `/zookeeper/quota`.
pub const QUOTA_ZOOKEEPER: &str = "/zookeeper/quota";
/// `/zookeeper/config` (ZooDefs.CONFIG_NODE).
pub const CONFIG_ZOOKEEPER: &str = "/zookeeper/config";

/// What applying one txn did, for the reply (Java's `ProcessTxnResult`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProcessTxnResult {
    pub client_id: i64,
    pub cxid: i32,
    pub zxid: i64,
    /// The txn type.
    pub op_type: i32,
    /// `Code::Ok`, or the failure (error txns, failed apply).
    pub err: Code,
    /// The created path (with sequence suffix) or the path acted on; ""
    /// for session and error txns (Java: null).
    pub path: String,
    /// The node's stat after a create2/createContainer/createTTL/setData/
    /// setACL.
    pub stat: Option<Stat>,
    /// One result per op of a multi (empty otherwise).
    pub multi_result: Vec<ProcessTxnResult>,
}

/// The znode tree, its ACL cache, ephemerals index, watches and digest.
pub struct DataTree {
    /// Every znode, in an arena walked by path components.
    nodes: NodeStore,
    /// Interned ACL lists referenced by `DataNode::acl`.
    acl_cache: ReferenceCountedAclCache,
    /// Session → paths of its ephemerals. A session keeps its (maybe empty)
    /// entry until closeSession, as in Java (the `dump` 4lw counts it).
    /// Sets are Java-ordered so getEphemerals answers in Java's order.
    ephemerals: HashMap<i64, JavaHashMap<Box<str>, ()>>,
    /// Container nodes, for the container manager.
    containers: HashSet<String>,
    /// TTL nodes, for the container manager.
    ttls: HashSet<String>,
    /// Paths with a quota (from `/zookeeper/quota/**/zookeeper_limits`).
    quota_trie: QuotaTrie,
    /// Whether a quota was ever added to `quota_trie` since it was last
    /// cleared: while false, no path has a quota and the (allocating)
    /// trie lookup on every create, delete and setData is skipped.
    quota_marked: bool,
    /// Sum of all node digests, kept current on every change.
    digest: TreeDigest,
    /// Watches set by getData/exists and addWatch.
    data_watches: WatchManager,
    /// Watches set by getChildren and addWatch (persistent only).
    child_watches: WatchManager,
    /// Zxid of the last applied (top-level) txn.
    last_processed_zxid: i64,
    /// Java's `nodeDataSize`: sum of path lengths + data lengths, updated
    /// incrementally (and, like Java, not on quota-stat rewrites).
    node_data_size: i64,
    /// `zookeeper.extendedTypesEnabled` when the tree was made.
    extended_types: bool,
    /// Digest history and the snapshot/txn digest checks.
    digest_log: DigestLog,
    /// The event ACL check installed in both watch tables (kept here to
    /// know whether triggers need the node's ACL at all).
    event_filter: Option<EventAclFilter>,
}

/// The root's key.
const ROOT: &str = "";

/// Maps the root's alias "/" to its key "".
fn key(path: &str) -> &str {
    if path == "/" {
        ROOT
    } else {
        path
    }
}

/// Java's `getNodeSize`: path length plus data length.
fn node_size(path: &str, data: Option<&[u8]>) -> i64 {
    (java_length(path) + data.map_or(0, |d| d.len())) as i64
}

/// An ACL nobody matches: what a node whose ACL id is missing from the
/// cache gets (Java throws), so that it fails closed.
fn deny_all_acl() -> Vec<Acl> {
    vec![Acl {
        perms: 0,
        id: ids::anyone_id_unsafe(),
    }]
}

/// Java's `createStat`: a new node's stat (all zxids the create's, versions
/// 0). Public so Prep builds the same stat for its outstanding changes.
pub fn create_stat(zxid: i64, time: i64, ephemeral_owner: i64) -> StatPersisted {
    StatPersisted {
        czxid: zxid,
        mzxid: zxid,
        ctime: time,
        mtime: time,
        version: 0,
        cversion: 0,
        aversion: 0,
        ephemeral_owner,
        pzxid: zxid,
    }
}

impl Default for DataTree {
    fn default() -> Self {
        Self::new()
    }
}

impl DataTree {
    /// A fresh tree: `/`, `/zookeeper`, `/zookeeper/quota`,
    /// `/zookeeper/config`, all with zero stats and empty data. The root
    /// and `/zookeeper` get their children without a cversion bump (so
    /// clients see cversion -1 and -2); `/zookeeper/config` gets
    /// READ_ACL_UNSAFE with aversion -1 (ZOOKEEPER-2014).
    pub fn new() -> DataTree {
        let mut tree = DataTree::empty();
        let blank = || DataNode::new(Some(Box::new([])), -1, StatPersisted::default());
        tree.put_node(ROOT, blank());
        tree.put_node(PROC_ZOOKEEPER, blank());
        tree.put_node(QUOTA_ZOOKEEPER, blank());
        tree.add_config_node();
        tree.node_data_size = tree.compute_data_size();
        tree
    }

    /// No nodes at all (the start of `deserialize`).
    fn empty() -> DataTree {
        DataTree {
            nodes: NodeStore::new(),
            acl_cache: ReferenceCountedAclCache::new(),
            ephemerals: HashMap::new(),
            containers: HashSet::new(),
            ttls: HashSet::new(),
            quota_trie: QuotaTrie::default(),
            quota_marked: false,
            digest: TreeDigest::default(),
            data_watches: WatchManager::new(),
            child_watches: WatchManager::new(),
            last_processed_zxid: 0,
            node_data_size: 0,
            extended_types: extended_types_enabled(),
            digest_log: DigestLog::default(),
            event_filter: None,
        }
    }

    /// Java's `addConfigNode`.
    fn add_config_node(&mut self) {
        self.put_node(
            CONFIG_ZOOKEEPER,
            DataNode::new(Some(Box::new([])), -1, StatPersisted::default()),
        );
        let _ = self.set_acl(CONFIG_ZOOKEEPER, &ids::read_acl_unsafe(), -1);
    }

    /// Writes the ensemble's config into `/zookeeper/config` (re-created
    /// if a snapshot lacked it): mzxid = the config's version, version -1,
    /// mtime = `time`, as Java's `ZKDatabase.initConfigInZKDatabase`. The
    /// node is outside the digest.
    pub fn set_config_node(&mut self, config: &[u8], config_version: i64, time: i64) {
        if self.get_node(CONFIG_ZOOKEEPER).is_none() {
            warn!("configuration znode missing (should only happen during upgrade), creating the node");
            self.add_config_node();
        }
        let _ = self.set_data(CONFIG_ZOOKEEPER, Some(config), -1, config_version, time);
    }

    /// Sets `zookeeper.extendedTypesEnabled` for this tree (tests; the
    /// server sets the process-wide flag before building trees).
    pub fn set_extended_types_enabled(&mut self, enabled: bool) {
        self.extended_types = enabled;
    }

    // ----- node map with digest upkeep (Java's NodeHashMapImpl) -----

    /// Links a node in under its parent (replacing one already at
    /// `path`) and adds its digest. False, changing nothing, when the
    /// parent is missing or the path malformed.
    fn put_node(&mut self, path: &str, node: DataNode) -> bool {
        self.link_node(path, node).is_ok()
    }

    /// `put_node`, returning the node replaced (with its path) if any;
    /// `Err` (logged) when nothing was linked.
    fn link_node(&mut self, path: &str, node: DataNode) -> Result<Option<(String, DataNode)>, ()> {
        let digest = DigestCalculator::node_digest(path, &node.stat, node.data());
        match self.nodes.insert(path, node) {
            Ok(old) => {
                self.digest.add(digest);
                Ok(old.map(|old| {
                    self.digest
                        .remove(DigestCalculator::node_digest(path, &old.stat, old.data()));
                    (path.to_string(), old)
                }))
            }
            Err(e) => {
                warn!("Cannot link node {:?}: {:?}", path, e);
                Err(())
            }
        }
    }

    /// Unlinks a node and removes its digest. The root stays.
    fn remove_node(&mut self, path: &str) -> Option<DataNode> {
        let node = self.nodes.remove(path)?;
        self.digest
            .remove(DigestCalculator::node_digest(path, &node.stat, node.data()));
        Some(node)
    }

    /// Changes a node in place, replacing its digest (Java's
    /// preChange/postChange). `None` if there is no such node.
    fn change_node<T>(&mut self, path: &str, f: impl FnOnce(&mut DataNode) -> T) -> Option<T> {
        let node = self.nodes.get_mut(path)?;
        self.digest
            .remove(DigestCalculator::node_digest(path, &node.stat, node.data()));
        let out = f(node);
        self.digest
            .add(DigestCalculator::node_digest(path, &node.stat, node.data()));
        Some(out)
    }

    /// [`DataTree::change_node`] for a node already looked up: `path` is
    /// its path (for the digest).
    fn change_slot<T>(&mut self, slot: u32, path: &str, f: impl FnOnce(&mut DataNode) -> T) -> T {
        let node = self.nodes.node_mut(slot);
        self.digest
            .remove(DigestCalculator::node_digest(path, &node.stat, node.data()));
        let out = f(node);
        self.digest
            .add(DigestCalculator::node_digest(path, &node.stat, node.data()));
        out
    }

    // ----- applying txns -----

    /// Applies one txn (a multi's ops included) and fires the watches it
    /// triggers, with `header.zxid` in the events. Records `header.zxid` as
    /// the last processed zxid. With a `digest`, compares it with the tree
    /// afterwards and logs a mismatch (never fails).
    pub fn process_txn(
        &mut self,
        header: &TxnHeader,
        body: &TxnBody,
        digest: Option<&TxnDigest>,
    ) -> ProcessTxnResult {
        let rc = self.process_txn_inner(header, body, false);
        self.compare_digest(header, digest);
        rc
    }

    /// Applies a logged txn (live or replayed): [`Self::process_txn`] with
    /// the entry's digest when `check_digest` (false in the fuzzy window
    /// after a snapshot load). Failures (NONODE, NODEEXISTS...) are
    /// expected on replay of a fuzzy snapshot and only logged at debug.
    pub fn apply_logged_txn(
        &mut self,
        entry: &crate::jute::txn::TxnLogEntry,
        check_digest: bool,
    ) -> ProcessTxnResult {
        let digest = entry.digest.as_ref().filter(|_| check_digest);
        let rc = self.process_txn(&entry.header, &entry.body, digest);
        if rc.err != Code::Ok {
            debug!(
                "Ignoring processTxn failure type {} zxid {:#x}: {:?}",
                rc.op_type, rc.zxid, rc.err
            );
        }
        rc
    }

    // ----- reads -----

    /// The node at `path` ("/" and "" both name the root).
    pub fn get_node(&self, path: &str) -> Option<&DataNode> {
        self.nodes.get(path)
    }

    /// The ACL list a node refers to (a deny-all list if its id is unknown,
    /// where Java throws).
    pub fn get_acl(&self, node: &DataNode) -> Vec<Acl> {
        self.acl_cache
            .convert_long(node.acl)
            .unwrap_or_else(deny_all_acl)
    }

    /// getACL: the node's ACL list and stat.
    pub fn get_acl_of(&self, path: &str) -> Result<(Vec<Acl>, Stat), Code> {
        let node = self.get_node(path).ok_or(Code::NoNode)?;
        Ok((self.get_acl(node), node.copy_stat(self.extended_types)))
    }

    /// getData: data and stat, registering a standard data watch if asked
    /// (not when the node is missing).
    pub fn get_data(
        &self,
        path: &str,
        watcher: Option<Arc<dyn Watcher>>,
    ) -> Result<(Option<Vec<u8>>, Stat), Code> {
        let node = self.get_node(path).ok_or(Code::NoNode)?;
        if let Some(w) = watcher {
            self.data_watches.add_watch(path, w, WatcherMode::Standard);
        }
        Ok((
            node.data().map(<[u8]>::to_vec),
            node.copy_stat(self.extended_types),
        ))
    }

    /// exists: the stat; with a watcher, a data watch is registered even when
    /// the node is missing (it then fires NodeCreated).
    pub fn stat_node(&self, path: &str, watcher: Option<Arc<dyn Watcher>>) -> Result<Stat, Code> {
        if let Some(w) = watcher {
            self.data_watches.add_watch(path, w, WatcherMode::Standard);
        }
        let node = self.get_node(path).ok_or(Code::NoNode)?;
        Ok(node.copy_stat(self.extended_types))
    }

    /// getChildren/getChildren2: child names (Java's order) and the
    /// node's stat; registers a standard child watch if asked.
    pub fn get_children(
        &self,
        path: &str,
        watcher: Option<Arc<dyn Watcher>>,
    ) -> Result<(Vec<String>, Stat), Code> {
        let node = self.get_node(path).ok_or(Code::NoNode)?;
        let children = node.children().map(str::to_string).collect();
        if let Some(w) = watcher {
            self.child_watches.add_watch(path, w, WatcherMode::Standard);
        }
        Ok((children, node.copy_stat(self.extended_types)))
    }

    /// getAllChildrenNumber: all descendants of `path` (for "/", the node
    /// count minus the root's two entries). NoNode if `path` is missing
    /// (the check Java's FinalRequestProcessor makes first).
    pub fn get_all_children_number(&self, path: &str) -> Result<i32, Code> {
        self.get_node(path).ok_or(Code::NoNode)?;
        if path == "/" {
            return Ok((self.node_count() - 2) as i32);
        }
        // Java counts the keys starting with `path + "/"`: the strict
        // descendants.
        let mut count = 0usize;
        self.nodes.for_each_under(path, &mut |_, _| count += 1);
        Ok(count.saturating_sub(1) as i32)
    }

    /// getEphemerals: the session's ephemeral paths (Java's order).
    pub fn get_ephemerals(&self, session_id: i64) -> Vec<String> {
        match self.ephemerals.get(&session_id) {
            Some(set) => JavaHashMap::copy_of(set)
                .keys()
                .map(|p| p.to_string())
                .collect(),
            None => Vec::new(),
        }
    }

    /// The getEphemerals request: all of the session's ephemerals when
    /// `prefix` is blank or "/", else those whose path starts with it.
    pub fn get_ephemerals_with_prefix(&self, session_id: i64, prefix: &str) -> Vec<String> {
        let trimmed = prefix.trim_matches(|c: char| c <= ' ');
        let all = self.get_ephemerals(session_id);
        if trimmed.is_empty() || trimmed == "/" {
            return all;
        }
        all.into_iter().filter(|p| p.starts_with(prefix)).collect()
    }

    /// Every session with ephemerals and their paths (the `dump` 4lw);
    /// sessions whose ephemerals were all deleted are listed empty.
    pub fn ephemerals_by_session(&self) -> HashMap<i64, Vec<String>> {
        self.ephemerals
            .iter()
            .map(|(s, set)| (*s, set.keys().map(|p| p.to_string()).collect()))
            .collect()
    }

    /// Number of ephemeral nodes (mntr `ephemerals_count`).
    pub fn ephemerals_count(&self) -> usize {
        self.ephemerals.values().map(|s| s.len()).sum()
    }

    /// Sessions that have (or had) ephemerals.
    pub fn sessions_with_ephemerals(&self) -> Vec<i64> {
        self.ephemerals.keys().copied().collect()
    }

    /// Paths of container nodes (for the container manager).
    pub fn containers(&self) -> Vec<String> {
        self.containers.iter().cloned().collect()
    }

    /// Paths of TTL nodes (for the container manager).
    pub fn ttls(&self) -> Vec<String> {
        self.ttls.iter().cloned().collect()
    }

    /// Java's node count (the root is counted twice: "" and "/").
    pub fn node_count(&self) -> usize {
        self.nodes.len() + 1
    }

    /// Java's `cachedApproximateDataSize` (mntr `approximate_data_size`).
    pub fn approximate_data_size(&self) -> i64 {
        self.node_data_size
    }

    /// Recomputes the data size from scratch, counting the root's "/" alias.
    fn compute_data_size(&self) -> i64 {
        let alias = self
            .get_node("/")
            .map_or(0, |root| node_size("/", root.data()));
        let mut sum = 0;
        self.nodes
            .for_each(|p, n| sum += node_size(key(p), n.data()));
        sum + alias
    }

    /// Number of distinct ACL lists.
    pub fn acl_cache_size(&self) -> usize {
        self.acl_cache.size()
    }

    /// Java's `isSpecialPath`: nodes clients may not delete.
    pub fn is_special_path(path: &str) -> bool {
        matches!(
            path,
            "/" | PROC_ZOOKEEPER | QUOTA_ZOOKEEPER | CONFIG_ZOOKEEPER
        )
    }

    /// Zxid of the last applied txn.
    pub fn last_processed_zxid(&self) -> i64 {
        self.last_processed_zxid
    }

    /// Sets the last processed zxid (after loading a snapshot).
    pub fn set_last_processed_zxid(&mut self, zxid: i64) {
        self.last_processed_zxid = zxid;
    }

    /// The DataTree digest (CRC32 sum over nodes).
    pub fn digest(&self) -> i64 {
        self.digest.value()
    }

    // ----- watches -----

    /// addWatch: persistent watches go in both tables, recursive ones in
    /// the data table only (3.9).
    pub fn add_watch(&self, path: &str, watcher: Arc<dyn Watcher>, mode: WatcherMode) {
        if mode != WatcherMode::PersistentRecursive {
            self.child_watches.add_watch(path, watcher.clone(), mode);
        }
        self.data_watches.add_watch(path, watcher, mode);
    }

    /// setWatches/setWatches2: re-registers watches after a reconnect,
    /// telling the watcher at once (zxid -1) about what it missed since
    /// `relative_zxid` (Java's `DataTree.setWatches`).
    pub fn set_watches(&self, request: &SetWatches2, watcher: Arc<dyn Watcher>) {
        let rel = request.relative_zxid;
        let tell = |event_type: i32, path: &str| {
            debug!("setWatches: firing {} for {} at once", event_type, path);
            watcher.process(WatchedEvent {
                event_type,
                state: keeper_state::SYNC_CONNECTED,
                path: path.to_string(),
                zxid: -1,
            })
        };
        for path in &request.data_watches {
            match self.get_node(path) {
                None => tell(event_type::NODE_DELETED, path),
                Some(n) if n.stat.mzxid > rel => tell(event_type::NODE_DATA_CHANGED, path),
                Some(_) => {
                    self.data_watches
                        .add_watch(path, watcher.clone(), WatcherMode::Standard);
                }
            }
        }
        for path in &request.exist_watches {
            match self.get_node(path) {
                Some(_) => tell(event_type::NODE_CREATED, path),
                None => {
                    self.data_watches
                        .add_watch(path, watcher.clone(), WatcherMode::Standard);
                }
            }
        }
        for path in &request.child_watches {
            match self.get_node(path) {
                None => tell(event_type::NODE_DELETED, path),
                Some(n) if n.stat.pzxid > rel => tell(event_type::NODE_CHILDREN_CHANGED, path),
                Some(_) => {
                    self.child_watches
                        .add_watch(path, watcher.clone(), WatcherMode::Standard);
                }
            }
        }
        for path in &request.persistent_watches {
            self.child_watches
                .add_watch(path, watcher.clone(), WatcherMode::Persistent);
            self.data_watches
                .add_watch(path, watcher.clone(), WatcherMode::Persistent);
        }
        for path in &request.persistent_recursive_watches {
            self.data_watches
                .add_watch(path, watcher.clone(), WatcherMode::PersistentRecursive);
        }
    }

    /// checkWatches (`remove` false) / removeWatches (`remove` true) for a
    /// `zoo_defs::watcher_type` (1..5); false when there was no such watch
    /// or the type is unknown.
    pub fn contains_or_remove_watch(
        &self,
        path: &str,
        watcher_type: i32,
        watcher: &dyn Watcher,
        remove: bool,
    ) -> bool {
        let id = watcher.watcher_id();
        let (data, child) = (&self.data_watches, &self.child_watches);
        let op = |m: &WatchManager, mode: Option<WatcherMode>| {
            if remove {
                m.remove_watch(path, id, mode)
            } else {
                m.contains_watcher(path, id, mode)
            }
        };
        match watcher_type {
            watcher_type::CHILDREN => op(child, Some(WatcherMode::Standard)),
            watcher_type::DATA => op(data, Some(WatcherMode::Standard)),
            watcher_type::PERSISTENT if remove => {
                let c = op(child, Some(WatcherMode::Persistent));
                op(data, Some(WatcherMode::Persistent)) | c
            }
            watcher_type::PERSISTENT => op(data, Some(WatcherMode::Persistent)),
            watcher_type::PERSISTENT_RECURSIVE => op(data, Some(WatcherMode::PersistentRecursive)),
            watcher_type::ANY if remove => {
                let c = op(child, None);
                op(data, None) | c
            }
            watcher_type::ANY => op(child, None) || op(data, None),
            _ => false,
        }
    }

    /// Installs the event ACL check (3.9: an event reaches only watchers
    /// with READ on the node); `None` delivers every event.
    pub fn set_event_acl_filter(&mut self, filter: Option<EventAclFilter>) {
        self.data_watches.set_filter(filter.clone());
        self.child_watches.set_filter(filter.clone());
        self.event_filter = filter;
    }

    /// The installed event ACL check.
    pub fn event_acl_filter(&self) -> Option<EventAclFilter> {
        self.event_filter.clone()
    }

    /// The ACL list with cache id `acl_id`, for a trigger; `None` (no
    /// lookup) when no event filter is installed.
    fn event_acl(&self, acl_id: i64) -> Option<Vec<Acl>> {
        self.event_filter.as_ref()?;
        Some(
            self.acl_cache
                .convert_long(acl_id)
                .unwrap_or_else(deny_all_acl),
        )
    }

    /// The ACL of the node at `path`, for a trigger (see `event_acl`).
    fn event_acl_of(&self, path: &str) -> Option<Vec<Acl>> {
        self.event_acl(self.get_node(path)?.acl)
    }

    /// Drops every watch of a closed connection.
    pub fn remove_cnxn(&self, watcher_id: u64) {
        self.data_watches.remove_watcher(watcher_id);
        self.child_watches.remove_watcher(watcher_id);
    }

    /// Data + child watch count (mntr `watch_count`).
    pub fn watch_count(&self) -> usize {
        self.data_watches.size() + self.child_watches.size()
    }

    /// `wchs`: like Java, counts the data table only.
    pub fn watches_summary(&self) -> WatchesSummary {
        self.data_watches.summary()
    }

    /// `wchp`: path → watcher ids (data table, as Java).
    pub fn watches_by_path(&self) -> HashMap<String, Vec<u64>> {
        self.data_watches.watches_by_path()
    }

    /// `wchc`: watcher id → paths (data table, as Java).
    pub fn watches_by_connection(&self) -> HashMap<u64, Vec<String>> {
        self.data_watches.watches_by_connection()
    }

    // ----- snapshots -----

    /// Writes the ACL cache, every node (pre-order, Java's child order, the
    /// root as "") and the "/" terminator, as Java's `DataTree.serialize`.
    pub fn serialize<W: Write>(&self, oa: &mut OutputArchive<W>) -> std::io::Result<()> {
        self.serialize_tree(oa)
    }

    /// Reads what `serialize` (or Java) wrote, rebuilding children, the
    /// ephemerals index, container/TTL sets, quotas and the digest.
    pub fn deserialize<R: Read>(ia: &mut InputArchive<R>) -> crate::jute::Result<DataTree> {
        Self::deserialize_tree(ia)
    }
}
