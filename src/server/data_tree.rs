//! The in-memory tree of znodes. SKELETON: signatures are the contract
//! between the pipeline, persistence and the tree; bodies to be written.
//!
//! Mirrors: `org.apache.zookeeper.server.DataTree`.

use std::io::{Read, Write};
use std::sync::Arc;

use super::data_node::DataNode;
use super::watch::{Watcher, WatcherMode};
use crate::jute::data::{Acl, Stat};
use crate::jute::proto::SetWatches2;
use crate::jute::txn::{TxnBody, TxnDigest, TxnHeader};
use crate::jute::{InputArchive, OutputArchive};
use crate::keeper_exception::Code;

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
    /// The created path (with sequence suffix) or the path acted on.
    pub path: String,
    /// The node's stat after a create2/setData/setACL.
    pub stat: Option<Stat>,
    /// One result per op of a multi.
    pub multi_result: Vec<ProcessTxnResult>,
}

/// The znode tree, its ACL cache, ephemerals index, watches and digest.
pub struct DataTree {
    _private: (),
}

impl DataTree {
    /// A fresh tree: `/`, `/zookeeper`, `/zookeeper/quota`, `/zookeeper/config`.
    pub fn new() -> DataTree { todo!() }

    /// Applies one txn (also the body of each op of a multi) and fires the
    /// watches it triggers. Records `header.zxid` as the last processed zxid.
    pub fn process_txn(&mut self, header: &TxnHeader, body: &TxnBody, digest: Option<&TxnDigest>) -> ProcessTxnResult { let _ = (header, body, digest); todo!() }

    /// The node at `path`.
    pub fn get_node(&self, path: &str) -> Option<&DataNode> { let _ = path; todo!() }
    /// The ACL list a node refers to.
    pub fn get_acl(&self, node: &DataNode) -> Vec<Acl> { let _ = node; todo!() }
    /// getData: data and stat, registering a standard data watch if asked.
    pub fn get_data(&self, path: &str, watcher: Option<Arc<dyn Watcher>>) -> Result<(Option<Vec<u8>>, Stat), Code> { let _ = (path, watcher); todo!() }
    /// exists: the stat; with a watcher, a data watch is registered even when
    /// the node is missing (it then fires NodeCreated).
    pub fn stat_node(&self, path: &str, watcher: Option<Arc<dyn Watcher>>) -> Result<Stat, Code> { let _ = (path, watcher); todo!() }
    /// getChildren/getChildren2: child names and the parent's stat.
    pub fn get_children(&self, path: &str, watcher: Option<Arc<dyn Watcher>>) -> Result<(Vec<String>, Stat), Code> { let _ = (path, watcher); todo!() }
    /// getAllChildrenNumber: all descendants.
    pub fn get_all_children_number(&self, path: &str) -> Result<i32, Code> { let _ = path; todo!() }
    /// getEphemerals: the session's ephemeral paths.
    pub fn get_ephemerals(&self, session_id: i64) -> Vec<String> { let _ = session_id; todo!() }
    /// addWatch.
    pub fn add_watch(&self, path: &str, watcher: Arc<dyn Watcher>, mode: WatcherMode) { let _ = (path, watcher, mode); todo!() }
    /// setWatches/setWatches2: re-registers watches, firing what was missed.
    pub fn set_watches(&self, request: &SetWatches2, watcher: Arc<dyn Watcher>) { let _ = (request, watcher); todo!() }
    /// checkWatches (`remove` false) / removeWatches (`remove` true) for a
    /// `zoo_defs::watcher_type`; false when there was no such watch.
    pub fn contains_or_remove_watch(&self, path: &str, watcher_type: i32, watcher: &dyn Watcher, remove: bool) -> bool { let _ = (path, watcher_type, watcher, remove); todo!() }
    /// Drops every watch of a closed connection.
    pub fn remove_cnxn(&self, watcher_id: u64) { let _ = watcher_id; todo!() }
    /// Java's node count (the root is counted twice: "" and "/").
    pub fn node_count(&self) -> usize { todo!() }
    /// Zxid of the last applied txn.
    pub fn last_processed_zxid(&self) -> i64 { todo!() }
    /// Sets the last processed zxid (after loading a snapshot).
    pub fn set_last_processed_zxid(&mut self, zxid: i64) { let _ = zxid; todo!() }
    /// The DataTree digest (CRC32 sum over nodes).
    pub fn digest(&self) -> i64 { todo!() }
    /// Writes the ACL cache, every node and the "/" terminator, as Java's
    /// `DataTree.serialize` does.
    pub fn serialize<W: Write>(&self, oa: &mut OutputArchive<W>) -> std::io::Result<()> { let _ = oa; todo!() }
    /// Reads what `serialize` (or Java) wrote.
    pub fn deserialize<R: Read>(ia: &mut InputArchive<R>) -> crate::jute::Result<DataTree> { let _ = ia; todo!() }
}
