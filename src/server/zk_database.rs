//! The in-memory database and its disk image. SKELETON: signatures are the
//! contract between the pipeline and persistence; bodies to be written.
//!
//! Mirrors: `org.apache.zookeeper.server.ZKDatabase`.

use std::collections::HashMap;

use parking_lot::RwLock;

use super::data_tree::{DataTree, ProcessTxnResult};
use crate::config::server_config::ServerConfig;
use crate::jute::txn::TxnLogEntry;

/// The DataTree, the session table, and the txn log + snapshots behind them.
pub struct ZkDatabase {
    /// The tree. Read-locked by Prep and by reads in Final; write-locked
    /// only while Final applies a txn.
    pub tree: RwLock<DataTree>,
}

/// A persistence failure, naming the file (and offset) when there is one.
pub type PersistenceError = std::io::Error;

impl ZkDatabase {
    /// Opens `dataDir`/`dataLogDir` (creating `version-2/` as Java does).
    pub fn open(config: &ServerConfig) -> Result<ZkDatabase, PersistenceError> { let _ = config; todo!() }
    /// Restores the newest valid snapshot and replays the log after it.
    /// Returns the last zxid. Logs progress for large snapshots.
    pub fn load_database(&self) -> Result<i64, PersistenceError> { todo!() }
    /// Applies a txn to the tree and the session table (createSession adds,
    /// closeSession removes).
    pub fn process_txn(&self, entry: &TxnLogEntry) -> ProcessTxnResult { let _ = entry; todo!() }
    /// Sessions and their timeouts (restored from disk, kept current).
    pub fn sessions_with_timeouts(&self) -> HashMap<i64, i32> { todo!() }
    /// Zxid of the last applied txn.
    pub fn last_processed_zxid(&self) -> i64 { todo!() }
    /// Appends a txn to the current log (opening a new `log.<zxid>` if
    /// needed). Not durable until `commit`.
    pub fn append(&self, entry: &TxnLogEntry) -> Result<(), PersistenceError> { let _ = entry; todo!() }
    /// Flushes appended txns and fsyncs them (unless forceSync=no).
    pub fn commit(&self) -> Result<(), PersistenceError> { todo!() }
    /// Closes the current log so the next append starts a new file.
    pub fn roll_log(&self) -> Result<(), PersistenceError> { todo!() }
    /// Writes a snapshot of the current tree and sessions (fuzzy: writes may
    /// continue meanwhile).
    pub fn take_snapshot(&self) -> Result<(), PersistenceError> { todo!() }
    /// Flushes and closes files.
    pub fn close(&self) -> Result<(), PersistenceError> { todo!() }
}
