//! The tree's part of a snapshot: the ACL cache, then every node as
//! (path, data, acl id, StatPersisted) in pre-order — parent before
//! children, siblings in Java's `HashSet` order, the root as "" — then
//! the path "/" as terminator (Java's `DataTree.serialize`). Children, ephemerals,
//! container/TTL sets, quota usage and the digest are not stored; reading
//! rebuilds them. Bad input is an `Err`, never a panic.
//!
//! Writing is resumable ([`SnapshotCursor`]) so that a snapshot can be
//! taken in chunks, each under a short read lock, while writes go on.
//!
//! Mirrors: `DataTree.serialize`/`serializeNode`/`deserialize`,
//! `setupQuota`/`traverseNode`.

use std::io::{Read, Write};

use log::warn;

use super::{node_size, DataTree, ZxidDigest, QUOTA_ZOOKEEPER, ROOT};
use crate::jute::txn::TxnLogEntry;
use crate::jute::{Error, InputArchive, OutputArchive};
use crate::server::data_node::DataNode;
use crate::server::ephemeral_type::EphemeralType;
use crate::server::quota::LIMIT_NODE;

/// The end-of-nodes marker.
const TERMINATOR: &str = "/";

/// `ia.read_string()` into `out`, through `raw`, reusing both buffers (a
/// snapshot holds a path per node): null reads as "", invalid UTF-8 as
/// U+FFFD, a negative or oversized length is an error, as in jute.
pub(crate) fn read_string_into<R: Read>(
    ia: &mut InputArchive<R>,
    raw: &mut Vec<u8>,
    out: &mut String,
) -> crate::jute::Result<()> {
    out.clear();
    let len = ia.read_int()?;
    if len == -1 {
        return Ok(());
    }
    if len < 0 || len as usize > crate::jute::max_field_length() {
        return Err(Error::UnreasonableLength(i64::from(len)));
    }
    raw.clear();
    raw.resize(len as usize, 0);
    ia.inner_mut().read_exact(raw)?;
    match std::str::from_utf8(raw) {
        Ok(s) => out.push_str(s),
        Err(_) => out.push_str(&String::from_utf8_lossy(raw)),
    }
    Ok(())
}

/// Where a snapshot's walk over the nodes stands, between chunks. Each
/// chunk runs under the tree's read lock; writes go on between chunks, so
/// the snapshot is fuzzy exactly as Java's: a node is written as it is
/// when the walk reaches it, with the child names its parent had when the
/// parent was written (children deleted since are skipped, children added
/// since are not visited; replaying the log from the snapshot's zxid
/// repairs both).
#[derive(Debug, Default)]
pub struct SnapshotCursor {
    /// The root has been written.
    started: bool,
    /// The terminator has been written.
    done: bool,
    /// One frame per node on the current path whose children are not all
    /// visited yet.
    stack: Vec<Frame>,
    /// The path of the node being written (reused).
    path: String,
}

/// A written node and the child names it had then, visited in order.
#[derive(Debug)]
struct Frame {
    /// The node's snapshot path ("" for the root).
    path: String,
    /// The child names, concatenated (one buffer instead of one string
    /// per child: a parent may have millions).
    names: String,
    /// End offset of each name in `names`, and the child's slot.
    children: Vec<(u32, u32)>,
    /// The store's generation when the slots were read: while it is
    /// unchanged they still name these children (no lookup by path).
    generation: u64,
    /// Index of the next child to visit.
    next: usize,
}

impl Frame {
    fn new(path: String, node: &DataNode, generation: u64) -> Frame {
        let mut names = String::new();
        let mut children = Vec::with_capacity(node.num_children());
        for (child, slot) in node.child_slots() {
            names.push_str(child);
            children.push((names.len() as u32, slot));
        }
        Frame {
            path,
            names,
            children,
            generation,
            next: 0,
        }
    }

    /// Puts the path of the next child in `out` and returns its slot,
    /// advancing; `None` when all are visited.
    fn next_child(&mut self, out: &mut String) -> Option<u32> {
        let (end, slot) = *self.children.get(self.next)?;
        let start = match self.next {
            0 => 0,
            i => self.children[i - 1].0 as usize,
        };
        self.next += 1;
        out.clear();
        out.push_str(&self.path);
        out.push('/');
        out.push_str(self.names.get(start..end as usize).unwrap_or_default());
        Some(slot)
    }
}

impl SnapshotCursor {
    /// A walk that has not started.
    pub fn new() -> SnapshotCursor {
        SnapshotCursor::default()
    }

    /// The terminator has been written: the tree section is complete.
    pub fn is_done(&self) -> bool {
        self.done
    }
}

impl DataTree {
    pub(super) fn serialize_tree<W: Write>(
        &self,
        oa: &mut OutputArchive<W>,
    ) -> std::io::Result<()> {
        self.serialize_acl_cache(oa)?;
        let mut cursor = SnapshotCursor::new();
        while !self.serialize_nodes_chunk(&mut cursor, oa, usize::MAX)? {}
        Ok(())
    }

    /// The ACL cache section (the first part of the tree's section).
    pub fn serialize_acl_cache<W: Write>(&self, oa: &mut OutputArchive<W>) -> std::io::Result<()> {
        self.acl_cache.serialize(oa)
    }

    /// Writes up to `max_nodes` more nodes of the pre-order walk (parent
    /// before children, siblings in Java's order, the root as ""), then,
    /// once the walk ends, the "/" terminator. Returns true when the
    /// terminator has been written. A child whose node is gone is skipped,
    /// as in Java.
    pub fn serialize_nodes_chunk<W: Write>(
        &self,
        cursor: &mut SnapshotCursor,
        oa: &mut OutputArchive<W>,
        max_nodes: usize,
    ) -> std::io::Result<bool> {
        if cursor.done {
            return Ok(true);
        }
        let mut written = 0;
        let generation = self.nodes.generation();
        let SnapshotCursor {
            started,
            done,
            stack,
            path,
        } = cursor;
        if !*started {
            *started = true;
            if let Some(root) = self.get_node(ROOT) {
                self.write_node(ROOT, root, stack, oa)?;
                written += 1;
            }
        }
        while written < max_nodes {
            let Some(top) = stack.last_mut() else {
                oa.write_string(TERMINATOR)?;
                *done = true;
                return Ok(true);
            };
            let Some(slot) = top.next_child(path) else {
                stack.pop();
                continue;
            };
            let node = match top.generation == generation {
                true => Some(self.nodes.node(slot)),
                false => self.get_node(path),
            };
            if let Some(node) = node {
                self.write_node(path, node, stack, oa)?;
                written += 1;
            }
        }
        Ok(false)
    }

    fn write_node<W: Write>(
        &self,
        path: &str,
        node: &DataNode,
        stack: &mut Vec<Frame>,
        oa: &mut OutputArchive<W>,
    ) -> std::io::Result<()> {
        oa.write_string(path)?;
        node.serialize(oa)?;
        if node.num_children() > 0 {
            stack.push(Frame::new(path.to_string(), node, self.nodes.generation()));
        }
        Ok(())
    }

    pub(super) fn deserialize_tree<R: Read>(
        ia: &mut InputArchive<R>,
    ) -> crate::jute::Result<DataTree> {
        // Java reads into a fresh DataTree: the ACL ids it handed out for
        // the built-in nodes keep counting.
        let mut tree = DataTree::new();
        tree.acl_cache.deserialize(ia)?;
        tree.nodes.clear();
        tree.digest = Default::default();
        tree.quota_trie.clear();
        tree.quota_marked = false;
        tree.node_data_size = 0;
        let (mut path, mut raw) = (String::new(), Vec::new());
        read_string_into(ia, &mut raw, &mut path)?;
        while path != TERMINATOR {
            let node = DataNode::deserialize(ia)?;
            tree.add_loaded_node(&path, node)?;
            read_string_into(ia, &mut raw, &mut path)?;
        }
        let Some(root) = tree.get_node(ROOT) else {
            return Err(Error::Invalid("Invalid Datatree, no root node".into()));
        };
        // The root's alias "/" counts too (see `compute_data_size`).
        tree.node_data_size += node_size("/", root.data());
        tree.setup_quota();
        tree.acl_cache.purge_unused();
        Ok(tree)
    }

    /// Links one node read from a snapshot into the tree, counting its
    /// size (a path read twice replaces the first node, as in Java's map).
    fn add_loaded_node(&mut self, path: &str, node: DataNode) -> crate::jute::Result<()> {
        self.acl_cache.add_usage(node.acl);
        let owner = node.stat.ephemeral_owner;
        let size = node_size(path, node.data());
        let Some(slash) = path.rfind('/') else {
            if !path.is_empty() {
                return Err(Error::Invalid(format!(
                    "Invalid Datatree, path without '/': {:?}",
                    path
                )));
            }
            let linked = self.link_node(ROOT, node);
            self.count_loaded(size, linked);
            return Ok(());
        };
        let parent = &path[..slash];
        let linked = match self.nodes.parent_slot(parent) {
            Some(_) => self.link_node(path, node),
            None => Err(()),
        };
        if linked.is_err() {
            return Err(Error::Invalid(format!(
                "Invalid Datatree, unable to find parent {} of path {}",
                parent, path
            )));
        }
        self.count_loaded(size, linked);
        match EphemeralType::get_with(owner, self.extended_types) {
            Ok(_) => self.index_owner(path, owner),
            Err(e) => return Err(Error::Invalid(format!("{} of node {}", e, path))),
        }
        Ok(())
    }

    /// Adds a loaded node's size to `node_data_size`, less the size of
    /// the node it replaced.
    fn count_loaded(&mut self, size: i64, linked: Result<Option<(String, DataNode)>, ()>) {
        self.node_data_size += size;
        if let Ok(Some((path, old))) = linked {
            self.node_data_size -= node_size(&path, old.data());
        }
    }

    /// Rebuilds quota marks and usage from `/zookeeper/quota/**`: every
    /// leaf named `zookeeper_limits` marks the path it stands for.
    fn setup_quota(&mut self) {
        let suffix = format!("/{}", LIMIT_NODE);
        let mut stack = vec![QUOTA_ZOOKEEPER.to_string()];
        let mut quota_paths = Vec::new();
        while let Some(p) = stack.pop() {
            let Some(node) = self.get_node(&p) else {
                continue;
            };
            if node.num_children() > 0 {
                stack.extend(node.children().map(|c| format!("{}/{}", p, c)));
            } else if p.ends_with(&suffix) {
                let end = p.find(&suffix).unwrap_or(p.len());
                if let Some(real) = p.get(QUOTA_ZOOKEEPER.len()..end) {
                    quota_paths.push(real.to_string());
                }
            }
        }
        for real in quota_paths {
            if real.is_empty() {
                warn!(
                    "Ignoring a quota limits node without a quota path under {}",
                    QUOTA_ZOOKEEPER
                );
                continue;
            }
            self.update_quota_for_path(&real);
            self.mark_quota(&real);
        }
    }
}

/// What persistence sees of the tree: the snapshot walk above, reading a
/// tree back, and replaying logged txns.
impl crate::persistence::snapshot_tree::SnapshotTree for DataTree {
    type Cursor = SnapshotCursor;

    fn empty() -> Self {
        DataTree::new()
    }

    fn deserialize<R: Read>(ia: &mut InputArchive<R>) -> crate::jute::Result<Self> {
        DataTree::deserialize(ia)
    }

    fn serialize_acl_cache<W: Write>(&self, oa: &mut OutputArchive<W>) -> std::io::Result<()> {
        DataTree::serialize_acl_cache(self, oa)
    }

    fn serialize_nodes_chunk<W: Write>(
        &self,
        cursor: &mut SnapshotCursor,
        oa: &mut OutputArchive<W>,
        max_nodes: usize,
    ) -> std::io::Result<bool> {
        DataTree::serialize_nodes_chunk(self, cursor, oa, max_nodes)
    }

    fn walk_done(cursor: &SnapshotCursor) -> bool {
        cursor.is_done()
    }

    fn last_processed_zxid_digest(&self) -> Option<ZxidDigest> {
        DataTree::last_processed_zxid_digest(self)
    }

    fn last_processed_zxid(&self) -> i64 {
        DataTree::last_processed_zxid(self)
    }

    fn set_last_processed_zxid(&mut self, zxid: i64) {
        DataTree::set_last_processed_zxid(self, zxid)
    }

    fn set_snapshot_digest(&mut self, digest: Option<ZxidDigest>, snapshot_zxid: i64) {
        DataTree::set_snapshot_digest(self, digest, snapshot_zxid)
    }

    fn digest(&self) -> i64 {
        DataTree::digest(self)
    }

    fn replay_txn(&mut self, entry: &TxnLogEntry, check_digest: bool) {
        self.apply_logged_txn(entry, check_digest);
    }
}
