//! Where the znodes live: one arena (`Vec<DataNode>`) with a free list,
//! the root in slot 0, and each parent mapping its child names to arena
//! slots. A path is found by walking its components from the root, so no
//! node stores its path and no table is keyed by full paths — the layout
//! that keeps a million small znodes in a fraction of Java's memory.
//!
//! Path rules follow Java's `nodes` map: the root answers to "" and "/",
//! every other path to exactly one spelling ("/a/b"; "/a/", "//a" and
//! "a" name nothing).
//!
//! Owned by the DataTree (so guarded by its lock); no I/O.
//!
//! Mirrors: `org.apache.zookeeper.server.NodeHashMapImpl` (the storage
//! half; the digest upkeep stays in `DataTree`).

use std::sync::atomic::{AtomicU64, Ordering};

use crate::server::data_node::DataNode;

/// The root's slot.
const ROOT_SLOT: u32 = 0;

/// Source of [`NodeStore::generation`] values, unique in the process.
static GENERATIONS: AtomicU64 = AtomicU64::new(1);

fn next_generation() -> u64 {
    GENERATIONS.fetch_add(1, Ordering::Relaxed)
}

/// The arena of znodes.
#[derive(Debug)]
pub(super) struct NodeStore {
    /// Every slot ever handed out; vacant ones hold a blank node and are
    /// listed in `free`. Slot 0 is the root once set.
    slots: Vec<DataNode>,
    /// Vacant slots, reused before the arena grows.
    free: Vec<u32>,
    /// Occupied slots.
    live: usize,
    /// Slot 0 holds the root.
    has_root: bool,
    /// The last parent path looked up by [`NodeStore::parent_slot`] and its
    /// slot: consecutive creates nearly always share a parent (a multi of
    /// creates, a replayed log), so most lookups skip the walk. A slot
    /// stays right until a node is removed (an insert over an existing
    /// node keeps its slot), so every removal forgets it.
    parent_memo: Option<(String, u32)>,
    /// Changes whenever a slot may come to hold another node (a removal,
    /// a clear) and differs between stores: a slot read while the
    /// generation was G names the same node for as long as it is G (a
    /// snapshot walk keeps slots across its chunks on that promise).
    generation: u64,
}

impl Default for NodeStore {
    fn default() -> Self {
        NodeStore {
            slots: Vec::new(),
            free: Vec::new(),
            live: 0,
            has_root: false,
            parent_memo: None,
            generation: next_generation(),
        }
    }
}

/// Why a node could not be linked in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum InsertError {
    /// The parent path names no node.
    NoParent,
    /// Not "" / "/" and not of the form `<parent>/<name>`.
    BadPath,
}

/// `(parent, name)` of a non-root path: "/a" → ("", "a"), "/a/b" →
/// ("/a", "b"); `None` for a path without '/'.
fn split(path: &str) -> Option<(&str, &str)> {
    let slash = path.rfind('/')?;
    Some((&path[..slash], &path[slash + 1..]))
}

fn is_root(path: &str) -> bool {
    path.is_empty() || path == "/"
}

impl NodeStore {
    /// No nodes (not even the root).
    pub fn new() -> NodeStore {
        NodeStore::default()
    }

    /// Occupied slots (the root counted once).
    pub fn len(&self) -> usize {
        self.live
    }

    /// Drops every node, keeping the arena's allocation.
    pub fn clear(&mut self) {
        self.parent_memo = None;
        self.generation = next_generation();
        self.slots.clear();
        self.free.clear();
        self.live = 0;
        self.has_root = false;
    }

    /// The slot of the node at `path`.
    pub fn slot_of(&self, path: &str) -> Option<u32> {
        if !self.has_root {
            return None;
        }
        if is_root(path) {
            return Some(ROOT_SLOT);
        }
        let mut slot = ROOT_SLOT;
        for name in path.strip_prefix('/')?.split('/') {
            slot = self.slots[slot as usize].child(name)?;
        }
        Some(slot)
    }

    /// The slot of the node at `path`, remembered for the next call: the
    /// lookup of a parent about to gain (or lose) a child.
    pub fn parent_slot(&mut self, path: &str) -> Option<u32> {
        if let Some((memo, slot)) = &self.parent_memo {
            if memo == path {
                return Some(*slot);
            }
        }
        let slot = self.slot_of(path)?;
        match &mut self.parent_memo {
            Some((memo, memo_slot)) => {
                memo.clear();
                memo.push_str(path);
                *memo_slot = slot;
            }
            None => self.parent_memo = Some((path.to_string(), slot)),
        }
        Some(slot)
    }

    /// The slot of `parent_slot`'s child `name`. `path` is that child's
    /// full path: "/" (the root's alias, not a child of anything) names
    /// the root itself, as a path walk would.
    pub fn child_slot(&self, parent_slot: u32, name: &str, path: &str) -> Option<u32> {
        if is_root(path) {
            return self.has_root.then_some(ROOT_SLOT);
        }
        self.slots[parent_slot as usize].child(name)
    }

    /// See the field: compare before trusting a slot kept from earlier.
    pub fn generation(&self) -> u64 {
        self.generation
    }

    /// The node in `slot` (a slot from this store's lookups).
    pub fn node(&self, slot: u32) -> &DataNode {
        &self.slots[slot as usize]
    }

    /// The node in `slot`, mutably (see [`NodeStore::get_mut`]).
    pub fn node_mut(&mut self, slot: u32) -> &mut DataNode {
        &mut self.slots[slot as usize]
    }

    /// Links a new node under `parent_slot` as `name`, which the caller
    /// has checked is not taken (with [`NodeStore::child_slot`]).
    pub fn insert_child(&mut self, parent_slot: u32, name: &str, node: DataNode) -> u32 {
        let slot = self.allocate(node);
        self.slots[parent_slot as usize].add_new_child(name, slot);
        slot
    }

    /// The node at `path`.
    pub fn get(&self, path: &str) -> Option<&DataNode> {
        self.slot_of(path).map(|s| &self.slots[s as usize])
    }

    /// The node at `path`, mutably (its child links are the store's
    /// business: callers must not relink children through it).
    pub fn get_mut(&mut self, path: &str) -> Option<&mut DataNode> {
        let slot = self.slot_of(path)?;
        Some(&mut self.slots[slot as usize])
    }

    /// Puts `node` at `path` under its existing parent. A node already
    /// there is replaced in place (keeping its children, as the child
    /// links live in the store) and returned.
    pub fn insert(
        &mut self,
        path: &str,
        mut node: DataNode,
    ) -> Result<Option<DataNode>, InsertError> {
        if is_root(path) {
            return Ok(self.put_root(node));
        }
        let (parent, name) = split(path).ok_or(InsertError::BadPath)?;
        let parent_slot = self.parent_slot(parent).ok_or(InsertError::NoParent)?;
        if let Some(existing) = self.slots[parent_slot as usize].child(name) {
            let old = &mut self.slots[existing as usize];
            node.take_children_from(old);
            return Ok(Some(std::mem::replace(old, node)));
        }
        let slot = self.allocate(node);
        self.slots[parent_slot as usize].add_new_child(name, slot);
        Ok(None)
    }

    /// Unlinks the node at `path` and frees its slot (and, should it still
    /// have any, its descendants' slots: they are unreachable from then
    /// on). `None` if there is no such node. The root is never removed.
    pub fn remove(&mut self, path: &str) -> Option<DataNode> {
        self.parent_memo = None;
        self.generation = next_generation();
        let (parent, name) = split(path)?;
        let parent_slot = self.slot_of(parent)?;
        let slot = self.slots[parent_slot as usize].remove_child(name)?;
        let node = self.release(slot);
        let mut orphans: Vec<u32> = node.child_slots().map(|(_, s)| s).collect();
        while let Some(s) = orphans.pop() {
            let orphan = self.release(s);
            orphans.extend(orphan.child_slots().map(|(_, s)| s));
        }
        Some(node)
    }

    fn put_root(&mut self, mut node: DataNode) -> Option<DataNode> {
        if self.has_root {
            let old = &mut self.slots[ROOT_SLOT as usize];
            node.take_children_from(old);
            return Some(std::mem::replace(old, node));
        }
        // The root is always the first node of an empty store.
        self.clear();
        self.slots.push(node);
        self.live = 1;
        self.has_root = true;
        None
    }

    fn allocate(&mut self, node: DataNode) -> u32 {
        self.live += 1;
        match self.free.pop() {
            Some(slot) => {
                self.slots[slot as usize] = node;
                slot
            }
            None => {
                self.slots.push(node);
                (self.slots.len() - 1) as u32
            }
        }
    }

    fn release(&mut self, slot: u32) -> DataNode {
        self.live -= 1;
        self.free.push(slot);
        std::mem::take(&mut self.slots[slot as usize])
    }

    /// Every node in pre-order (parent before children, children in
    /// Java's order), with its path ("/" for the root).
    pub fn for_each(&self, mut f: impl FnMut(&str, &DataNode)) {
        self.for_each_under("/", &mut f);
    }

    /// The node at `path` and all its descendants, pre-order.
    pub fn for_each_under(&self, path: &str, f: &mut dyn FnMut(&str, &DataNode)) {
        let Some(start) = self.slot_of(path) else {
            return;
        };
        let mut stack = vec![(path.to_string(), start)];
        while let Some((p, slot)) = stack.pop() {
            let node = &self.slots[slot as usize];
            f(&p, node);
            let base = if p == "/" { "" } else { p.as_str() };
            let first = stack.len();
            stack.extend(
                node.child_slots()
                    .map(|(name, s)| (format!("{}/{}", base, name), s)),
            );
            stack[first..].reverse();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::jute::data::StatPersisted;

    fn node(version: i32) -> DataNode {
        DataNode::new(
            None,
            -1,
            StatPersisted {
                version,
                ..Default::default()
            },
        )
    }

    fn store() -> NodeStore {
        let mut s = NodeStore::new();
        for (i, p) in ["", "/a", "/a/b", "/a/c", "/d"].iter().enumerate() {
            assert!(matches!(s.insert(p, node(i as i32)), Ok(None)));
        }
        s
    }

    #[test]
    fn paths_resolve_like_javas_map_keys() {
        let s = store();
        assert_eq!(s.len(), 5);
        assert_eq!(s.get("").map(|n| n.stat.version), Some(0));
        assert_eq!(s.get("/").map(|n| n.stat.version), Some(0));
        assert_eq!(s.get("/a/c").map(|n| n.stat.version), Some(3));
        for missing in ["/a/", "//a", "a", "/a/b/c", "/x", "/a//b"] {
            assert!(s.get(missing).is_none(), "{}", missing);
        }
        assert_eq!(NodeStore::new().get("/").map(|n| n.stat.version), None);
    }

    #[test]
    fn insert_needs_the_parent_and_replaces_in_place() {
        let mut s = store();
        assert_eq!(s.insert("/x/y", node(9)).err(), Some(InsertError::NoParent));
        assert_eq!(s.insert("y", node(9)).err(), Some(InsertError::BadPath));
        let old = s.insert("/a", node(7)).unwrap().unwrap();
        assert_eq!(old.stat.version, 1);
        // The replacement keeps /a's children.
        assert_eq!(s.get("/a/b").map(|n| n.stat.version), Some(2));
        assert_eq!(s.get("/a").map(|n| n.num_children()), Some(2));
        assert_eq!(s.len(), 5);
    }

    #[test]
    fn removed_slots_are_reused_and_orphans_freed() {
        let mut s = store();
        assert_eq!(s.remove("/a/b").map(|n| n.stat.version), Some(2));
        assert!(s.remove("/a/b").is_none());
        assert!(s.remove("/").is_none() && s.remove("").is_none());
        assert_eq!(s.len(), 4);
        s.insert("/e", node(5)).unwrap();
        assert_eq!(s.slots.len(), 5, "the freed slot was reused");
        // Removing a node that still has children frees them too.
        s.remove("/a");
        assert_eq!(s.len(), 3);
        assert!(s.get("/a/c").is_none());
        let mut seen = Vec::new();
        s.for_each(|p, _| seen.push(p.to_string()));
        seen.sort();
        assert_eq!(seen, ["/", "/d", "/e"]);
    }

    #[test]
    fn walks_are_pre_order_with_paths() {
        let s = store();
        let mut seen = Vec::new();
        s.for_each(|p, _| seen.push(p.to_string()));
        assert_eq!(seen[0], "/");
        let a = seen.iter().position(|p| p == "/a").unwrap();
        assert!(seen.iter().position(|p| p == "/a/b").unwrap() > a);
        let mut under = Vec::new();
        s.for_each_under("/a", &mut |p, _| under.push(p.to_string()));
        under.sort();
        assert_eq!(under, ["/a", "/a/b", "/a/c"]);
    }
}
