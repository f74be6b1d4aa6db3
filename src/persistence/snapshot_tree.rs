//! What persistence needs of the tree it saves and restores: the snapshot
//! walk (ACL cache, then nodes in chunks), reading a tree back, and
//! replaying one logged txn.
//!
//! No Java twin: Java's `FileSnap` and `FileTxnSnapLog` take the server's
//! `DataTree` itself. Here the server's
//! [`DataTree`](../../server/data_tree/struct.DataTree.html) implements
//! this trait, so persistence (layer 3) never names the server (layer 4)
//! and a live write goes from `ZKDatabase` to the tree without passing
//! through persistence, as in Java. Called on whichever thread saves or
//! restores (the sync thread's snapshot thread, startup, the tools).

use std::io::{Read, Write};

use super::file_snap::ZxidDigest;
use crate::jute::txn::TxnLogEntry;
use crate::jute::{InputArchive, OutputArchive};

/// A tree that can be written to and read from a snapshot and brought
/// forward by replaying the txn log.
pub trait SnapshotTree: Sized {
    /// Where a chunked walk over the nodes stands between two chunks (the
    /// tree may change in between: snapshots are fuzzy).
    type Cursor: Default;

    /// An empty tree (only the system nodes).
    fn empty() -> Self;

    /// Reads the ACL cache and the nodes, up to and including `"/"`.
    fn deserialize<R: Read>(ia: &mut InputArchive<R>) -> crate::jute::Result<Self>;

    /// Writes the ACL cache section.
    fn serialize_acl_cache<W: Write>(&self, oa: &mut OutputArchive<W>) -> std::io::Result<()>;

    /// Writes up to `max_nodes` more nodes from `cursor`, then the
    /// terminator when the walk is over; true when it is over.
    fn serialize_nodes_chunk<W: Write>(
        &self,
        cursor: &mut Self::Cursor,
        oa: &mut OutputArchive<W>,
        max_nodes: usize,
    ) -> std::io::Result<bool>;

    /// Whether the walk of `cursor` has written its terminator.
    fn walk_done(cursor: &Self::Cursor) -> bool;

    /// The digest after the last applied txn (`None` before any).
    fn last_processed_zxid_digest(&self) -> Option<ZxidDigest>;

    /// The zxid of the last applied txn.
    fn last_processed_zxid(&self) -> i64;

    /// Sets the zxid the tree is at (after a load).
    fn set_last_processed_zxid(&mut self, zxid: i64);

    /// After a load: the snapshot's digest section and the zxid in its name.
    fn set_snapshot_digest(&mut self, digest: Option<ZxidDigest>, snapshot_zxid: i64);

    /// The tree's digest now.
    fn digest(&self) -> i64;

    /// Applies one logged txn during replay; `check_digest` is false in the
    /// fuzzy window after a snapshot load. A failure (NONODE on a fuzzy
    /// replay...) is logged by the tree, never returned.
    fn replay_txn(&mut self, entry: &TxnLogEntry, check_digest: bool);
}
