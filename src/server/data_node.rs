//! One znode: its data, ACL reference, persisted stat and child names.
//!
//! Kept small because a tree holds millions of them: nodes live in the
//! tree's arena (a `Vec`) and know neither their path nor their parent;
//! data is a boxed slice; a leaf has no child table at all; a parent maps
//! each child name to the child's arena slot in a [`JavaHashMap`], so
//! names iterate (in getChildren replies and snapshots) in the same order
//! as Java's `HashSet<String>`, and each name is stored once.
//!
//! Owned by the DataTree; mutated only by the thread applying txns.
//!
//! Mirrors: `org.apache.zookeeper.server.DataNode`.

use std::io::{Read, Write};

use super::ephemeral_type::EphemeralType;
use super::java_hash_map::JavaHashMap;
use crate::jute::data::{Stat, StatPersisted};
use crate::jute::{InputArchive, OutputArchive, Record};

/// Java creates a node's child set with `new HashSet<>(8)`.
const CHILD_SET_INITIAL_CAPACITY: usize = 8;

/// A znode.
#[derive(Debug, Clone, Default)]
pub struct DataNode {
    /// The data; `None` when created with a null buffer (clients see the
    /// difference: zkCli prints `null`).
    pub data: Option<Box<[u8]>>,
    /// Id in the tree's ACL cache (-1 = no list, reads as open ACL).
    pub acl: i64,
    /// The persisted stat (stored cversion counts child creations).
    pub stat: StatPersisted,
    /// Child name → the child's slot in the tree's arena; `None` until
    /// the first child is added (Java's lazy set), then kept (with its
    /// table size) even when emptied.
    children: Option<Box<JavaHashMap<Box<str>, u32>>>,
}

impl DataNode {
    /// A node without children.
    pub fn new(data: Option<Box<[u8]>>, acl: i64, stat: StatPersisted) -> DataNode {
        DataNode {
            data,
            acl,
            stat,
            children: None,
        }
    }

    /// The data as a slice.
    pub fn data(&self) -> Option<&[u8]> {
        self.data.as_deref()
    }

    /// Length of the data (0 for none).
    pub fn data_len(&self) -> usize {
        self.data.as_ref().map_or(0, |d| d.len())
    }

    /// Links a child name to its arena slot; false (and no change) if the
    /// name was there.
    pub fn add_child(&mut self, name: &str, slot: u32) -> bool {
        let set = self.children.get_or_insert_with(|| {
            Box::new(JavaHashMap::with_capacity(CHILD_SET_INITIAL_CAPACITY))
        });
        if set.contains_key(name) {
            return false;
        }
        set.insert(name.into(), slot);
        true
    }

    /// Links a child name the caller knows is not there yet (one hash
    /// lookup fewer than [`DataNode::add_child`]).
    pub fn add_new_child(&mut self, name: &str, slot: u32) {
        let set = self.children.get_or_insert_with(|| {
            Box::new(JavaHashMap::with_capacity(CHILD_SET_INITIAL_CAPACITY))
        });
        set.insert_new(name.into(), slot);
    }

    /// Unlinks a child name; its slot, or `None` if it was not there.
    pub fn remove_child(&mut self, name: &str) -> Option<u32> {
        self.children.as_mut()?.remove(name)
    }

    /// The arena slot of child `name`.
    pub fn child(&self, name: &str) -> Option<u32> {
        self.children.as_ref()?.get(name).copied()
    }

    /// Child names in Java's iteration order.
    pub fn children(&self) -> impl Iterator<Item = &str> + '_ {
        self.children
            .iter()
            .flat_map(|set| set.keys().map(|k| &**k))
    }

    /// (name, slot) of each child, in Java's iteration order.
    pub fn child_slots(&self) -> impl Iterator<Item = (&str, u32)> + '_ {
        self.children
            .iter()
            .flat_map(|set| set.iter().map(|(k, v)| (&**k, *v)))
    }

    /// Moves `other`'s child table into this node (a node replaced in
    /// place keeps its children).
    pub(crate) fn take_children_from(&mut self, other: &mut DataNode) {
        self.children = other.children.take();
    }

    /// Number of children.
    pub fn num_children(&self) -> usize {
        self.children.as_ref().map_or(0, |set| set.len())
    }

    /// The Stat clients see. `extended_types` is
    /// `zookeeper.extendedTypesEnabled` (it decides whether a TTL owner is
    /// hidden like a container's).
    pub fn copy_stat(&self, extended_types: bool) -> Stat {
        let s = &self.stat;
        let num_children = self.num_children() as i32;
        let owner = match EphemeralType::get_with(s.ephemeral_owner, extended_types) {
            Ok(EphemeralType::Normal) | Err(_) => s.ephemeral_owner,
            Ok(_) => 0,
        };
        Stat {
            czxid: s.czxid,
            mzxid: s.mzxid,
            ctime: s.ctime,
            mtime: s.mtime,
            version: s.version,
            // Stored cversion counts creates; clients expect creates +
            // deletes, i.e. every create but those still present twice.
            cversion: s.cversion.wrapping_mul(2).wrapping_sub(num_children),
            aversion: s.aversion,
            ephemeral_owner: owner,
            data_length: self.data_len() as i32,
            num_children,
            pzxid: s.pzxid,
        }
    }

    /// Heap bytes of the data and child table (for memory estimates).
    pub fn heap_bytes(&self) -> usize {
        let children = self.children.as_ref().map_or(0, |set| {
            set.heap_bytes() + set.keys().map(|k| k.len()).sum::<usize>()
        });
        self.data_len() + children
    }

    /// Writes the snapshot record: data buffer, acl long, StatPersisted.
    pub fn serialize<W: Write>(&self, oa: &mut OutputArchive<W>) -> std::io::Result<()> {
        oa.write_buffer(self.data.as_deref())?;
        oa.write_long(self.acl)?;
        self.stat.serialize(oa)
    }

    /// Reads what `serialize` wrote (children are rebuilt by the tree).
    pub fn deserialize<R: Read>(ia: &mut InputArchive<R>) -> crate::jute::Result<DataNode> {
        let data = read_data(ia)?;
        let acl = ia.read_long()?;
        let stat = StatPersisted::deserialize(ia)?;
        Ok(DataNode::new(data, acl, stat))
    }
}

/// `ia.read_buffer()` straight into the node's box (one allocation of the
/// exact size, one read): null (-1) is `None`; a negative or oversized
/// length is an error, a short one `Incomplete`, as in jute.
fn read_data<R: Read>(ia: &mut InputArchive<R>) -> crate::jute::Result<Option<Box<[u8]>>> {
    let len = ia.read_int()?;
    if len == -1 {
        return Ok(None);
    }
    if len < 0 || len as usize > crate::jute::max_field_length() {
        return Err(crate::jute::Error::UnreasonableLength(i64::from(len)));
    }
    let mut data = vec![0u8; len as usize].into_boxed_slice();
    ia.inner_mut().read_exact(&mut data)?;
    Ok(Some(data))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn client_cversion_counts_creates_and_deletes() {
        let mut n = DataNode::new(None, -1, StatPersisted::default());
        // Fresh "/": one child added without bumping cversion.
        n.add_child("zookeeper", 1);
        assert_eq!(n.copy_stat(false).cversion, -1);
        n.stat.cversion = 3;
        n.add_child("a", 2);
        n.add_child("b", 3);
        assert!(!n.add_child("b", 4));
        assert_eq!(n.child("b"), Some(3));
        assert_eq!(n.copy_stat(false).cversion, 3);
        assert_eq!(n.remove_child("a"), Some(2));
        assert_eq!(n.remove_child("a"), None);
        let s = n.copy_stat(false);
        assert_eq!((s.cversion, s.num_children), (4, 2));
    }

    #[test]
    fn stat_hides_container_and_ttl_owners() {
        let mut n = DataNode::new(Some(b"abc".to_vec().into()), 1, StatPersisted::default());
        n.stat.ephemeral_owner = i64::MIN;
        assert_eq!(n.copy_stat(false).ephemeral_owner, 0);
        assert_eq!(n.copy_stat(false).data_length, 3);
        let ttl = EphemeralType::ttl_owner(100).unwrap();
        n.stat.ephemeral_owner = ttl;
        assert_eq!(n.copy_stat(true).ephemeral_owner, 0);
        assert_eq!(n.copy_stat(false).ephemeral_owner, ttl);
        n.stat.ephemeral_owner = 0x55;
        assert_eq!(n.copy_stat(true).ephemeral_owner, 0x55);
    }

    #[test]
    fn record_round_trip_keeps_null_data() {
        let n = DataNode::new(
            None,
            7,
            StatPersisted {
                czxid: 9,
                ..Default::default()
            },
        );
        let mut oa = OutputArchive::new(Vec::new());
        n.serialize(&mut oa).unwrap();
        let bytes = oa.into_inner();
        assert_eq!(bytes.len(), 4 + 8 + 60);
        let back = DataNode::deserialize(&mut InputArchive::new(&bytes[..])).unwrap();
        assert_eq!((back.data, back.acl, back.stat), (None, 7, n.stat));
    }
}
