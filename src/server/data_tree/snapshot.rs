//! The tree's part of a snapshot: the ACL cache, then every node as
//! (path, data, acl id, StatPersisted) in pre-order — parent before
//! children, siblings in Java's `HashSet` order, the root as "" — then
//! the path "/" as terminator (storage-format.md §5). Children, ephemerals,
//! container/TTL sets, quota usage and the digest are not stored; reading
//! rebuilds them. Bad input is an `Err`, never a panic.
//!
//! Mirrors: `DataTree.serialize`/`serializeNode`/`deserialize`,
//! `setupQuota`/`traverseNode`.

use std::io::{Read, Write};

use log::warn;

use super::{key, DataTree, QUOTA_ZOOKEEPER, ROOT};
use crate::jute::{Error, InputArchive, OutputArchive};
use crate::server::data_node::DataNode;
use crate::server::ephemeral_type::EphemeralType;
use crate::server::quota::LIMIT_NODE;

/// The end-of-nodes marker.
const TERMINATOR: &str = "/";

impl DataTree {
    pub(super) fn serialize_tree<W: Write>(&self, oa: &mut OutputArchive<W>) -> std::io::Result<()> {
        self.acl_cache.serialize(oa)?;
        self.serialize_nodes(oa)?;
        oa.write_string(TERMINATOR)
    }

    /// Pre-order walk with an explicit stack (trees can be deep). A child
    /// name whose node is missing is skipped, as Java does.
    fn serialize_nodes<W: Write>(&self, oa: &mut OutputArchive<W>) -> std::io::Result<()> {
        let mut stack: Vec<String> = vec![ROOT.to_string()];
        while let Some(path) = stack.pop() {
            let Some(node) = self.nodes.get(path.as_str()) else { continue };
            oa.write_string(&path)?;
            node.serialize(oa)?;
            let children: Vec<&str> = node.children().collect();
            // Reversed so the first child is popped (written) first.
            stack.extend(children.iter().rev().map(|c| format!("{}/{}", path, c)));
        }
        Ok(())
    }

    pub(super) fn deserialize_tree<R: Read>(ia: &mut InputArchive<R>) -> crate::jute::Result<DataTree> {
        // Java reads into a fresh DataTree: the ACL ids it handed out for
        // the built-in nodes keep counting.
        let mut tree = DataTree::new();
        tree.acl_cache.deserialize(ia)?;
        tree.nodes.clear();
        tree.digest = Default::default();
        tree.quota_trie.clear();
        let mut path = ia.read_string()?;
        while path != TERMINATOR {
            let node = DataNode::deserialize(ia)?;
            tree.add_loaded_node(&path, node)?;
            path = ia.read_string()?;
        }
        if tree.get_node(ROOT).is_none() {
            return Err(Error::Invalid("Invalid Datatree, no root node".into()));
        }
        tree.node_data_size = tree.compute_data_size();
        tree.setup_quota();
        tree.acl_cache.purge_unused();
        Ok(tree)
    }

    /// Links one node read from a snapshot into the tree.
    fn add_loaded_node(&mut self, path: &str, node: DataNode) -> crate::jute::Result<()> {
        self.acl_cache.add_usage(node.acl);
        let owner = node.stat.ephemeral_owner;
        let Some(slash) = path.rfind('/') else {
            if !path.is_empty() {
                return Err(Error::Invalid(format!("Invalid Datatree, path without '/': {:?}", path)));
            }
            self.put_node(ROOT, node);
            return Ok(());
        };
        let (parent, child) = (&path[..slash], &path[slash + 1..]);
        let Some(parent_node) = self.nodes.get_mut(key(parent)) else {
            return Err(Error::Invalid(format!(
                "Invalid Datatree, unable to find parent {} of path {}", parent, path
            )));
        };
        parent_node.add_child(child);
        self.put_node(path, node);
        match EphemeralType::get_with(owner, self.extended_types) {
            Ok(_) => self.index_owner(path, owner),
            Err(e) => return Err(Error::Invalid(format!("{} of node {}", e, path))),
        }
        Ok(())
    }

    /// Rebuilds quota marks and usage from `/zookeeper/quota/**`: every
    /// leaf named `zookeeper_limits` marks the path it stands for.
    fn setup_quota(&mut self) {
        let suffix = format!("/{}", LIMIT_NODE);
        let mut stack = vec![QUOTA_ZOOKEEPER.to_string()];
        let mut quota_paths = Vec::new();
        while let Some(p) = stack.pop() {
            let Some(node) = self.get_node(&p) else { continue };
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
                warn!("Ignoring a quota limits node without a quota path under {}", QUOTA_ZOOKEEPER);
                continue;
            }
            self.update_quota_for_path(&real);
            self.quota_trie.add_path(&real);
        }
    }
}
