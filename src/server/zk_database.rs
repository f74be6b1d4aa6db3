//! The in-memory database and its disk image: the DataTree, the session
//! table, the txn log being written and the snapshots.
//!
//! Threads: the loading thread calls `load_database` once; the
//! SyncRequestProcessor thread appends, commits and rolls the log; the
//! FinalRequestProcessor (on the sync thread) applies txns; a short-lived
//! "Snapshot Thread" writes snapshots. Snapshots are fuzzy, as Java's: the
//! tree's read lock is taken per chunk of nodes, so writes go on while a
//! snapshot is written, and loading replays the log from the snapshot's
//! zxid over whatever the snapshot caught.
//!
//! Mirrors: `org.apache.zookeeper.server.ZKDatabase`.

use std::collections::{HashMap, VecDeque};
use std::fs::{self, File};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use log::{error, info, warn};
use parking_lot::{Mutex, RwLock};

use super::data_tree::{DataTree, ProcessTxnResult};
use super::protocol_trace;
use crate::config::pass_through::DEFAULT_SNAPSHOT_SIZE_FACTOR;
use crate::config::server_config::ServerConfig;
use crate::jute::txn::TxnLogEntry;
use crate::persistence::file_snap::SnapshotOptions;
use crate::persistence::file_txn_log::{FileTxnLog, TxnLogOptions};
use crate::persistence::file_txn_snap_log::{track_sessions, DirOptions, FileTxnSnapLog};
use crate::persistence::snap_stream::StreamMode;
use crate::persistence::{Error, IoContext};

/// The epoch file holding the last epoch this server accepted.
pub const ACCEPTED_EPOCH_FILE: &str = "acceptedEpoch";
/// The epoch file holding the epoch this server is in.
pub const CURRENT_EPOCH_FILE: &str = "currentEpoch";

/// How many committed proposals a quorum peer keeps in memory for
/// learners' DIFF sync (`zookeeper.commitLogCount`, default and minimum).
pub const COMMIT_LOG_COUNT: usize = 500;

/// One committed txn as a PROPOSAL would carry it.
#[derive(Debug, Clone)]
pub struct CommittedProposal {
    /// Its zxid.
    pub zxid: i64,
    /// TxnHeader + txn record [+ digest], shared with queued packets.
    pub payload: Arc<Vec<u8>>,
}

/// A copy of the committed log (ZKDatabase's `committedLog` with its
/// bounds; when empty both bounds are the last processed zxid).
#[derive(Debug, Clone)]
pub struct CommittedLogView {
    /// `minCommittedLog`.
    pub min: i64,
    /// `maxCommittedLog`.
    pub max: i64,
    /// The proposals, oldest first.
    pub proposals: Vec<CommittedProposal>,
}

/// A persistence failure, naming the file (and offset) when there is one.
pub type PersistenceError = crate::persistence::Error;

/// Java exits with this code when a snapshot cannot be written
/// (`ExitCode.TXNLOG_ERROR_TAKING_SNAPSHOT`).
const EXIT_SNAPSHOT_FAILED: i32 = 10;

/// The DataTree, the session table, and the txn log + snapshots behind them.
pub struct ZkDatabase {
    /// The tree. Read-locked by Prep and by reads in Final; write-locked
    /// only while Final applies a txn.
    pub tree: RwLock<DataTree>,
    /// Session id -> timeout, as logged. Changed only while the tree's
    /// write lock is held (see `process_txn`), so a snapshot taken under
    /// the read lock sees sessions and tree at the same zxid.
    sessions: Mutex<HashMap<i64, i32>>,
    /// Directories, restore and snapshot writing.
    snap_log: FileTxnSnapLog,
    /// The log being appended to; used by the sync thread (and truncation).
    txn_log: Mutex<FileTxnLog>,
    /// Txns appended since the last roll (drives snapshots).
    txn_count: AtomicU64,
    /// A background snapshot is being written (at most one at a time).
    snapshot_running: AtomicBool,
    /// Held while any snapshot file is written (the background one, a
    /// learner's sync snapshot, the AdminServer's `snapshot`): two at the
    /// same zxid would write the same file (`snapshotAndRestoreLock`).
    snapshot_lock: Mutex<()>,
    /// The last snapshot written or loaded.
    last_snapshot: Mutex<Option<PathBuf>>,
    /// The last [`COMMIT_LOG_COUNT`] committed txns (quorum peers only:
    /// see `enable_committed_log`). Filled by `load_database` (replayed
    /// txns) and `process_txn`; read by the leader's LearnerHandlers.
    committed_log: Mutex<VecDeque<CommittedProposal>>,
    /// Whether `committed_log` is kept (off for the standalone server).
    committed_log_enabled: AtomicBool,
    /// `zookeeper.snapshotSizeFactor` (negative: no sync from the txn
    /// log), as bits of an f64 so tests can change it.
    snapshot_size_factor: AtomicU64,
}

impl ZkDatabase {
    /// Opens `dataDir`/`dataLogDir` (creating `version-2/` as Java does).
    pub fn open(config: &ServerConfig) -> Result<ZkDatabase, PersistenceError> {
        let snapshot_options = SnapshotOptions {
            mode: StreamMode::from_config(config.snapshot_compression),
            // Through a temp file, fsynced, renamed, directory fsynced: a
            // snapshot a power loss left empty would be skipped, and with no
            // other snapshot the logs after it could not be replayed (the
            // learner's snapshot after a SNAP sync holds txns it acks).
            fsync: true,
            digest_enabled: config.digest_enabled,
            write_last_zxid: config.serialize_last_processed_zxid_enabled,
        };
        let db = ZkDatabase::open_dirs(
            &config.data_log_dir,
            &config.data_dir,
            DirOptions::from_config(config),
            TxnLogOptions::from_config(config),
            snapshot_options,
        )?;
        db.set_snapshot_size_factor(config.snapshot_size_factor);
        Ok(db)
    }

    /// Opens explicit directories with explicit options (tests, tools).
    pub fn open_dirs(
        data_log_dir: &Path,
        data_dir: &Path,
        dir_options: DirOptions,
        log_options: TxnLogOptions,
        snapshot_options: SnapshotOptions,
    ) -> Result<ZkDatabase, PersistenceError> {
        let snap_log = FileTxnSnapLog::open(data_log_dir, data_dir, dir_options, snapshot_options)?;
        let txn_log = FileTxnLog::new(snap_log.log_dir(), log_options);
        Ok(ZkDatabase {
            tree: RwLock::new(DataTree::new()),
            sessions: Mutex::new(HashMap::new()),
            snap_log,
            txn_log: Mutex::new(txn_log),
            txn_count: AtomicU64::new(0),
            snapshot_running: AtomicBool::new(false),
            snapshot_lock: Mutex::new(()),
            last_snapshot: Mutex::new(None),
            committed_log: Mutex::new(VecDeque::new()),
            committed_log_enabled: AtomicBool::new(false),
            snapshot_size_factor: AtomicU64::new(DEFAULT_SNAPSHOT_SIZE_FACTOR.to_bits()),
        })
    }

    /// `zookeeper.snapshotSizeFactor` (negative turns the txn-log sync off).
    pub fn set_snapshot_size_factor(&self, factor: f64) {
        info!("zookeeper.snapshotSizeFactor = {}", factor);
        self.snapshot_size_factor
            .store(factor.to_bits(), Ordering::SeqCst);
    }

    /// Whether learners older than the committed log may be synced from
    /// the txn log (`isTxnLogSyncEnabled`).
    pub fn is_txn_log_sync_enabled(&self) -> bool {
        let factor = f64::from_bits(self.snapshot_size_factor.load(Ordering::SeqCst));
        let enabled = factor >= 0.0;
        if enabled {
            info!(
                "On disk txn sync enabled with snapshotSizeFactor {}",
                factor
            );
        } else {
            info!("On disk txn sync disabled");
        }
        enabled
    }

    /// How many bytes of txn log a sync may read: the newest snapshot's
    /// size times the factor (`calculateTxnLogSizeLimit`; 0 = no limit
    /// when there is no snapshot).
    pub fn txn_log_size_limit(&self) -> i64 {
        let factor = f64::from_bits(self.snapshot_size_factor.load(Ordering::SeqCst));
        let size = self
            .snap_log
            .snap()
            .most_recent_snapshot()
            .and_then(|p| fs::metadata(p).ok())
            .map_or(0, |m| m.len());
        (size as f64 * factor) as i64
    }

    /// The logged txns from the log file holding `start_zxid` up to the
    /// first one past `up_to` (`getProposalsFromTxnLog`): empty when the
    /// log does not reach back to `start_zxid`, when the files to read
    /// (after the first) exceed `size_limit` (0 = no limit, negative =
    /// disabled), or on a read error. Txns at or before `start_zxid` come
    /// without payload (only their zxids are used).
    pub fn proposals_from_txn_log(
        &self,
        start_zxid: i64,
        size_limit: i64,
        up_to: i64,
    ) -> Vec<CommittedProposal> {
        use crate::persistence::txn_iterator::{files_for_zxid, TxnIterator};
        if size_limit < 0 {
            return Vec::new();
        }
        let files = files_for_zxid(self.snap_log.log_dir(), start_zxid);
        if size_limit > 0 {
            let size: u64 = files
                .iter()
                .skip(1)
                .filter_map(|f| fs::metadata(f).ok())
                .map(|m| m.len())
                .sum();
            if size > size_limit as u64 {
                info!("Txnlog size: {} exceeds sizeLimit: {}", size, size_limit);
                return Vec::new();
            }
        }
        let empty = Arc::new(Vec::new());
        let mut out = Vec::new();
        for txn in TxnIterator::over_files(files, i64::MIN).read_only() {
            let txn = match txn {
                Ok(t) => t,
                Err(e) => {
                    error!("Unable to read txnlog from disk: {}", e);
                    return Vec::new();
                }
            };
            let zxid = txn.zxid();
            if out.is_empty() && zxid > start_zxid {
                warn!(
                    "Unable to find proposals from txnlog for zxid: 0x{:x}",
                    start_zxid
                );
                return Vec::new();
            }
            let payload = if zxid > start_zxid {
                Arc::new(txn.payload)
            } else {
                Arc::clone(&empty)
            };
            out.push(CommittedProposal { zxid, payload });
            if zxid > up_to {
                break;
            }
        }
        out
    }

    /// Writes the ensemble's config into `/zookeeper/config` (Java's
    /// `initConfigInZKDatabase`): at startup and after every learner sync,
    /// so the node shows the local config rather than whatever a snapshot
    /// from the leader held.
    pub fn init_config_in_zk_database(&self, config_text: &str, config_version: i64) {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_millis() as i64);
        self.tree
            .write()
            .set_config_node(config_text.as_bytes(), config_version, now);
    }

    /// Keeps the committed-proposal log from now on (a quorum peer calls
    /// this before `load_database`).
    pub fn enable_committed_log(&self) {
        self.committed_log_enabled.store(true, Ordering::SeqCst);
    }

    /// Records a committed txn (`addCommittedProposal`), dropping the
    /// oldest past [`COMMIT_LOG_COUNT`].
    pub fn add_committed_proposal(&self, zxid: i64, payload: Arc<Vec<u8>>) {
        if !self.committed_log_enabled.load(Ordering::Relaxed) {
            return;
        }
        let mut log = self.committed_log.lock();
        if log.back().is_some_and(|last| last.zxid >= zxid) {
            return;
        }
        if log.len() >= COMMIT_LOG_COUNT {
            log.pop_front();
        }
        log.push_back(CommittedProposal { zxid, payload });
    }

    /// The committed log and its bounds (empty: both = last processed zxid).
    pub fn committed_log(&self) -> CommittedLogView {
        let last = self.last_processed_zxid();
        let log = self.committed_log.lock();
        CommittedLogView {
            min: log.front().map_or(last, |p| p.zxid),
            max: log.back().map_or(last, |p| p.zxid),
            proposals: log.iter().cloned().collect(),
        }
    }

    /// Where a SNAP sync starts: the tree's last processed zxid and the
    /// session table, taken together (sessions change only under the
    /// tree's write lock).
    pub fn snapshot_start(&self) -> (i64, HashMap<i64, i32>) {
        let tree = self.tree.read();
        (tree.last_processed_zxid(), self.sessions.lock().clone())
    }

    /// Streams what a SNAP sync sends after the packet: the session count
    /// and (id, timeout) pairs, then the tree (ACL cache, nodes, "/"
    /// terminator); the caller adds the signature
    /// (`ZKDatabase.serializeSnapshot`). Fuzzy, like a snapshot file: the
    /// tree's read lock is taken per chunk of nodes and the chunk is
    /// written to `oa` after the lock is released, so writes go on while
    /// a slow learner reads. The learner replays, from the zxid of
    /// [`ZkDatabase::snapshot_start`], every txn the walk may have caught.
    pub fn serialize_snapshot<W: Write>(
        &self,
        sessions: &HashMap<i64, i32>,
        oa: &mut crate::jute::OutputArchive<W>,
    ) -> std::io::Result<()> {
        use crate::jute::OutputArchive;
        use crate::persistence::file_snap::NODES_PER_CHUNK;
        use crate::server::data_tree::SnapshotCursor;
        oa.write_int(sessions.len() as i32)?;
        for (id, timeout) in sessions {
            oa.write_long(*id)?;
            oa.write_int(*timeout)?;
        }
        let mut chunk = Vec::new();
        self.tree
            .read()
            .serialize_acl_cache(&mut OutputArchive::new(&mut chunk))?;
        let mut cursor = SnapshotCursor::new();
        loop {
            oa.inner_mut().write_all(&chunk)?;
            if cursor.is_done() {
                return Ok(());
            }
            chunk.clear();
            self.tree.read().serialize_nodes_chunk(
                &mut cursor,
                &mut OutputArchive::new(&mut chunk),
                NODES_PER_CHUNK,
            )?;
        }
    }

    /// Restores the newest valid snapshot and replays the log after it.
    /// Returns the last zxid. Logs progress for large snapshots.
    pub fn load_database(&self) -> Result<i64, PersistenceError> {
        let started = Instant::now();
        self.committed_log.lock().clear();
        // The payload is copied only when the committed log is kept.
        let keep = self.committed_log_enabled.load(Ordering::Relaxed);
        let restored = self.snap_log.restore(&mut |t| {
            if keep {
                self.add_committed_proposal(t.entry.header.zxid, Arc::new(t.payload.clone()))
            }
        })?;
        let mut tree = self.tree.write();
        // The event ACL check belongs to the server, not to the image.
        let filter = tree.event_acl_filter();
        *tree = restored.tree;
        tree.set_event_acl_filter(filter);
        *self.sessions.lock() = restored.sessions;
        *self.last_snapshot.lock() = restored.snapshot;
        info!(
            "Snapshot loaded in {} ms, highest zxid is {:#x}, digest is {}",
            started.elapsed().as_millis(),
            restored.zxid,
            tree.digest()
        );
        Ok(restored.zxid)
    }

    /// Applies every logged txn after the tree's last processed zxid
    /// (`fastForwardDataBase`): when a learner's role ends, the proposals
    /// it logged but never saw committed become part of its state, as
    /// they are of the history the next leader will continue. Returns
    /// the last zxid.
    pub fn fast_forward_database(&self) -> Result<i64, PersistenceError> {
        let mut replayed = Vec::new();
        let zxid = {
            let mut tree = self.tree.write();
            let mut sessions = self.sessions.lock();
            let (zxid, _) = self
                .snap_log
                .fast_forward(&mut *tree, &mut sessions, &mut |t| {
                    replayed.push((t.zxid(), Arc::new(t.payload.clone())))
                })?;
            zxid
        };
        for (z, payload) in replayed {
            self.add_committed_proposal(z, payload);
        }
        Ok(zxid)
    }

    /// After loading: removes the ephemerals of sessions missing from the
    /// session table (a closeSession the snapshot caught half-applied),
    /// at the last processed zxid and without a txn, as Java's
    /// `ZooKeeperServer.loadData` does. Returns the sessions killed.
    pub fn kill_dead_sessions(&self) -> Vec<i64> {
        let mut tree = self.tree.write();
        let sessions = self.sessions.lock();
        let zxid = tree.last_processed_zxid();
        let mut dead: Vec<i64> = tree
            .sessions_with_ephemerals()
            .into_iter()
            .filter(|s| !sessions.contains_key(s))
            .collect();
        dead.sort_unstable();
        for &session in &dead {
            info!("Removing the ephemerals of dead session 0x{:x}", session);
            tree.kill_dead_session(session, zxid);
        }
        dead
    }

    /// Applies a txn to the tree and the session table (createSession adds,
    /// closeSession removes), as Java's `ZKDatabase.processTxn`.
    pub fn process_txn(&self, entry: &TxnLogEntry) -> ProcessTxnResult {
        let rc = {
            let mut tree = self.tree.write();
            let mut sessions = self.sessions.lock();
            apply_txn(&mut tree, &mut sessions, entry, true)
        };
        let h = &entry.header;
        protocol_trace::txn_applied(h.zxid, h.r#type, h.client_id);
        if self.committed_log_enabled.load(Ordering::Relaxed) {
            self.add_committed_proposal(entry.header.zxid, Arc::new(entry.to_bytes()));
        }
        rc
    }

    /// Sessions and their timeouts (restored from disk, kept current).
    pub fn sessions_with_timeouts(&self) -> HashMap<i64, i32> {
        self.sessions.lock().clone()
    }

    /// Records a session (for a session tracker that registers sessions
    /// before their txn is applied, as Java's does).
    pub fn add_session(&self, session_id: i64, timeout: i32) {
        let _tree = self.tree.write();
        self.sessions.lock().insert(session_id, timeout);
    }

    /// Forgets a session.
    pub fn remove_session(&self, session_id: i64) {
        let _tree = self.tree.write();
        self.sessions.lock().remove(&session_id);
    }

    /// Zxid of the last applied txn.
    pub fn last_processed_zxid(&self) -> i64 {
        self.tree.read().last_processed_zxid()
    }

    /// Sets the tree's last processed zxid (a leader starting an epoch).
    pub fn set_last_processed_zxid(&self, zxid: i64) {
        self.tree.write().set_last_processed_zxid(zxid);
    }

    /// Appends a txn to the current log (opening a new `log.<zxid>` if
    /// needed). Not durable until `commit`.
    pub fn append(&self, entry: &TxnLogEntry) -> Result<(), PersistenceError> {
        self.txn_log.lock().append(entry)?;
        let h = &entry.header;
        protocol_trace::txn_logged(h.zxid, h.r#type, h.client_id);
        self.txn_count.fetch_add(1, Ordering::SeqCst);
        Ok(())
    }

    /// Appends an encoded txn (a PROPOSAL's bytes).
    pub fn append_payload(&self, zxid: i64, payload: &[u8]) -> Result<(), PersistenceError> {
        self.txn_log.lock().append_payload(zxid, payload)?;
        self.txn_count.fetch_add(1, Ordering::SeqCst);
        Ok(())
    }

    /// Flushes appended txns and fsyncs them (unless forceSync=no).
    pub fn commit(&self) -> Result<(), PersistenceError> {
        self.txn_log.lock().commit()
    }

    /// Closes the current log so the next append starts a new file, and
    /// restarts the counters that trigger snapshots.
    pub fn roll_log(&self) -> Result<(), PersistenceError> {
        let mut log = self.txn_log.lock();
        log.roll_log()?;
        log.set_total_log_size(0);
        self.txn_count.store(0, Ordering::SeqCst);
        Ok(())
    }

    /// Txns appended since the last roll.
    pub fn txn_count(&self) -> u64 {
        self.txn_count.load(Ordering::SeqCst)
    }

    /// Bytes of log written since the last roll (padded sizes, as Java).
    pub fn txn_log_size(&self) -> u64 {
        self.txn_log.lock().total_log_size()
    }

    /// Duration of the last fsync and how many exceeded the warning
    /// threshold (for `stat`/`mntr`).
    pub fn fsync_stats(&self) -> (Option<Duration>, u64) {
        let log = self.txn_log.lock();
        (log.last_sync_elapsed(), log.fsync_threshold_exceeded())
    }

    /// Writes a snapshot of the current tree and sessions (fuzzy: writes may
    /// continue meanwhile).
    pub fn take_snapshot(&self) -> Result<(), PersistenceError> {
        self.take_snapshot_file().map(|_| ())
    }

    /// Writes a snapshot and returns its path.
    pub fn take_snapshot_file(&self) -> Result<PathBuf, PersistenceError> {
        let _one_at_a_time = self.snapshot_lock.lock();
        let started = Instant::now();
        // The name's zxid and the sessions together (sessions change only
        // under the tree's write lock), then the tree chunk by chunk.
        let (zxid, sessions) = {
            let tree = self.tree.read();
            (tree.last_processed_zxid(), self.sessions.lock().clone())
        };
        let path = self.snap_log.save_fuzzy(zxid, &self.tree, &sessions)?;
        info!("Snapshot taken in {} ms", started.elapsed().as_millis());
        *self.last_snapshot.lock() = Some(path.clone());
        Ok(path)
    }

    /// Starts a snapshot on a "Snapshot Thread" unless one is running
    /// (then: "Too busy to snap, skipping"). Returns whether it started.
    /// A failed snapshot exits the process, as Java does.
    pub fn take_snapshot_in_background(self: &Arc<Self>) -> bool {
        if self.snapshot_running.swap(true, Ordering::SeqCst) {
            warn!("Too busy to snap, skipping");
            return false;
        }
        let db = Arc::clone(self);
        let spawned = std::thread::Builder::new()
            .name("Snapshot Thread".into())
            .spawn(move || {
                if let Err(e) = db.take_snapshot() {
                    error!("Severe unrecoverable error, exiting: {}", e);
                    std::process::exit(EXIT_SNAPSHOT_FAILED);
                }
                db.snapshot_running.store(false, Ordering::SeqCst);
            });
        if let Err(e) = spawned {
            warn!("Unable to start the snapshot thread: {}", e);
            self.snapshot_running.store(false, Ordering::SeqCst);
            return false;
        }
        true
    }

    /// Whether a background snapshot is being written.
    pub fn is_snapshot_running(&self) -> bool {
        self.snapshot_running.load(Ordering::SeqCst)
    }

    /// The last snapshot written or loaded.
    pub fn last_snapshot(&self) -> Option<PathBuf> {
        self.last_snapshot.lock().clone()
    }

    /// Highest zxid in the logs (-1 without logs), for a peer's vote.
    pub fn last_logged_zxid(&self) -> i64 {
        self.snap_log.last_logged_zxid()
    }

    /// Cuts the log after `zxid` (a TRUNC from a leader) and reloads the
    /// database from disk.
    pub fn truncate_log(&self, zxid: i64) -> Result<(), PersistenceError> {
        {
            let mut log = self.txn_log.lock();
            log.close()?;
            self.snap_log.truncate_log(zxid)?;
            let options = log.options().clone();
            *log = FileTxnLog::new(self.snap_log.log_dir(), options);
        }
        self.load_database().map(|_| ())
    }

    /// Directories, restore and snapshot writing.
    pub fn snap_log(&self) -> &FileTxnSnapLog {
        &self.snap_log
    }

    /// Reads an epoch file (`acceptedEpoch` / `currentEpoch`) of the snap
    /// dir; `Ok(None)` when it does not exist.
    pub fn read_epoch(&self, name: &str) -> Result<Option<i64>, PersistenceError> {
        read_long_file(&self.snap_log.snap_dir().join(name))
    }

    /// Writes an epoch file atomically (`<name>.tmp`, fsync, rename).
    pub fn write_epoch(&self, name: &str, value: i64) -> Result<(), PersistenceError> {
        write_long_file(&self.snap_log.snap_dir().join(name), value)
    }

    /// Flushes and closes files.
    pub fn close(&self) -> Result<(), PersistenceError> {
        self.txn_log.lock().close()
    }
}

/// Reads a file holding one decimal long on its first line.
pub fn read_long_file(path: &Path) -> Result<Option<i64>, Error> {
    let text = match fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(Error::io(path, e)),
    };
    let line = text.lines().next().unwrap_or("");
    line.parse::<i64>()
        .map(Some)
        .map_err(|_| Error::corrupt(path, 0, format!("not a number: {:?}", line)))
}

/// Writes `value` in decimal, without newline, through `<name>.tmp` and a
/// rename (Java's `AtomicFileWritingIdiom`).
pub fn write_long_file(path: &Path, value: i64) -> Result<(), Error> {
    let mut tmp_name = path
        .file_name()
        .map(|n| n.to_os_string())
        .unwrap_or_default();
    tmp_name.push(".tmp");
    let tmp = path.with_file_name(tmp_name);
    let mut f = File::create(&tmp).on(&tmp)?;
    f.write_all(value.to_string().as_bytes()).on(&tmp)?;
    f.sync_all().on(&tmp)?;
    drop(f);
    fs::rename(&tmp, path).on(path)?;
    // The rename is durable once the directory is (a power loss could
    // otherwise bring the old epoch back after the new one was acted on).
    match path.parent().filter(|d| !d.as_os_str().is_empty()) {
        Some(dir) => crate::persistence::util::sync_dir(dir).on(dir),
        None => Ok(()),
    }
}

/// Applies one txn to the session table (createSession adds, closeSession
/// removes) and to the tree, returning the tree's result.
pub fn apply_txn(
    tree: &mut DataTree,
    sessions: &mut HashMap<i64, i32>,
    entry: &TxnLogEntry,
    check_digest: bool,
) -> ProcessTxnResult {
    track_sessions(sessions, entry);
    tree.apply_logged_txn(entry, check_digest)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn epoch_files_round_trip_without_newline() {
        let dir = std::env::temp_dir().join(format!("zkrs-epoch-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).unwrap();
        let path = dir.join(CURRENT_EPOCH_FILE);
        assert_eq!(read_long_file(&path).unwrap(), None);
        write_long_file(&path, 7).unwrap();
        assert_eq!(fs::read(&path).unwrap(), b"7");
        assert_eq!(read_long_file(&path).unwrap(), Some(7));
        fs::write(&path, "12\n").unwrap();
        assert_eq!(read_long_file(&path).unwrap(), Some(12));
        fs::write(&path, "x").unwrap();
        assert!(read_long_file(&path).is_err());
        fs::remove_dir_all(&dir).unwrap();
    }
}
