//! The pair "snapshots + txn logs" of a server: checks and creates the
//! `version-2` directories, restores a DataTree (newest valid snapshot,
//! then the logs after it), saves snapshots and truncates logs. Restore
//! runs on the thread that loads the database (startup, or a learner
//! re-syncing); saving on the snapshot thread.
//!
//! Mirrors: `org.apache.zookeeper.server.persistence.FileTxnSnapLog`.

use std::collections::HashMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::time::Instant;

use log::{debug, error, info, warn};
use parking_lot::RwLock;

use super::file_snap::{FileSnap, LoadedSnapshot, SnapshotOptions, ZxidDigest};
use super::snapshot_tree::SnapshotTree;
use super::txn_iterator::{self, LoggedTxn, TxnIterator};
use super::util::{self, VERSION_DIR};
use super::{Error, IoContext, Result};
use crate::config::server_config::ServerConfig;
use crate::jute::txn::{TxnBody, TxnLogEntry};
use crate::zoo_defs::op_code;

/// Name of the marker file that makes an empty database trustworthy.
pub const INITIALIZE_FILE: &str = "initialize";

/// Directory and recovery switches.
#[derive(Debug, Clone, Copy)]
pub struct DirOptions {
    /// `zookeeper.datadir.autocreate` (default true): create missing dirs.
    pub autocreate_dirs: bool,
    /// `zookeeper.db.autocreate` (default true): an empty dataDir is a new,
    /// trustworthy database.
    pub autocreate_db: bool,
    /// `zookeeper.snapshot.trust.empty` (default false): replay logs even
    /// without a snapshot.
    pub trust_empty_snapshot: bool,
}

impl Default for DirOptions {
    fn default() -> Self {
        DirOptions {
            autocreate_dirs: true,
            autocreate_db: true,
            trust_empty_snapshot: false,
        }
    }
}

impl DirOptions {
    /// The switches of a configuration (system properties in Java,
    /// `-Dzookeeper.db.autocreate=false`, or zoo.cfg keys passed through).
    pub fn from_config(config: &ServerConfig) -> DirOptions {
        DirOptions {
            autocreate_dirs: config.datadir_autocreate,
            autocreate_db: config.db_autocreate,
            trust_empty_snapshot: config.snapshot_trust_empty,
        }
    }
}

/// A restored database.
pub struct Restored<T> {
    pub tree: T,
    /// Session id -> timeout, as of the last replayed txn.
    pub sessions: HashMap<i64, i32>,
    /// The last zxid in the tree; -1 when the database may be missing
    /// data (no snapshot, no logs, autocreate off).
    pub zxid: i64,
    /// The snapshot the tree started from.
    pub snapshot: Option<PathBuf>,
    /// Txns replayed from the logs.
    pub txns_loaded: u64,
}

/// Snapshots and logs of one server.
#[derive(Debug, Clone)]
pub struct FileTxnSnapLog {
    /// `<dataLogDir>/version-2`.
    log_dir: PathBuf,
    /// `<dataDir>/version-2`.
    snap_dir: PathBuf,
    snap: FileSnap,
    options: DirOptions,
    snapshot_options: SnapshotOptions,
}

impl FileTxnSnapLog {
    /// Opens (creating if allowed) `<dataLogDir>/version-2` and
    /// `<dataDir>/version-2`, refusing mixed-up directories as Java does.
    pub fn open(
        data_log_dir: &Path,
        data_dir: &Path,
        options: DirOptions,
        snapshot_options: SnapshotOptions,
    ) -> Result<FileTxnSnapLog> {
        let log_dir = data_log_dir.join(VERSION_DIR);
        let snap_dir = data_dir.join(VERSION_DIR);
        ensure_dir(&log_dir, "data", options.autocreate_dirs)?;
        ensure_dir(&snap_dir, "snap", options.autocreate_dirs)?;
        if log_dir != snap_dir {
            check_no_files(
                &log_dir,
                util::is_snapshot_file_name,
                "Log directory has snapshot files",
            )?;
            check_no_files(
                &snap_dir,
                util::is_log_file_name,
                "Snapshot directory has log files",
            )?;
        }
        let snap = FileSnap::new(&snap_dir);
        Ok(FileTxnSnapLog {
            log_dir,
            snap_dir,
            snap,
            options,
            snapshot_options,
        })
    }

    /// `<dataLogDir>/version-2`.
    pub fn log_dir(&self) -> &Path {
        &self.log_dir
    }

    /// `<dataDir>/version-2`.
    pub fn snap_dir(&self) -> &Path {
        &self.snap_dir
    }

    /// The snapshot files.
    pub fn snap(&self) -> &FileSnap {
        &self.snap
    }

    /// How snapshots are written.
    pub fn snapshot_options(&self) -> SnapshotOptions {
        self.snapshot_options
    }

    /// Rebuilds the database: newest valid snapshot + every later txn.
    /// `listener` sees each replayed txn (the committed-log cache).
    pub fn restore<T: SnapshotTree>(
        &self,
        listener: &mut dyn FnMut(&LoggedTxn),
    ) -> Result<Restored<T>> {
        let started = Instant::now();
        let loaded = self.snap.deserialize()?;
        let trust_empty_db = self.take_initialize_marker() || self.options.autocreate_db;
        let restored = match loaded {
            Some(snapshot) => self.replay_after(snapshot, listener)?,
            None => self.restore_without_snapshot(trust_empty_db, listener)?,
        };
        info!(
            "Database loaded in {} ms, highest zxid is {:#x}, {} txns replayed",
            started.elapsed().as_millis(),
            restored.zxid,
            restored.txns_loaded
        );
        Ok(restored)
    }

    /// Deletes `<dataLogDir>/initialize` if present; true if it was.
    fn take_initialize_marker(&self) -> bool {
        let marker = match self.log_dir.parent() {
            Some(parent) => parent.join(INITIALIZE_FILE),
            None => return false,
        };
        match fs::remove_file(&marker) {
            Ok(()) => {
                info!(
                    "Initialize file found, an empty database will not block voting participation"
                );
                true
            }
            Err(_) => false,
        }
    }

    fn replay_after<T: SnapshotTree>(
        &self,
        snapshot: LoadedSnapshot<T>,
        listener: &mut dyn FnMut(&LoggedTxn),
    ) -> Result<Restored<T>> {
        let LoadedSnapshot {
            path,
            zxid,
            mut tree,
            mut sessions,
            digest,
            ..
        } = snapshot;
        tree.set_last_processed_zxid(zxid);
        match digest {
            // Not fuzzy: compare right away, as Java's FileSnap does.
            Some(d) if d.zxid == zxid => compare_now(&tree, d),
            // Fuzzy: the tree compares when replay reaches the digest's zxid
            // and skips txn digests until then.
            other => tree.set_snapshot_digest(other, zxid),
        }
        let (highest, count) = self.fast_forward(&mut tree, &mut sessions, listener)?;
        Ok(Restored {
            tree,
            sessions,
            zxid: highest,
            snapshot: Some(path),
            txns_loaded: count,
        })
    }

    fn restore_without_snapshot<T: SnapshotTree>(
        &self,
        trust_empty_db: bool,
        listener: &mut dyn FnMut(&LoggedTxn),
    ) -> Result<Restored<T>> {
        let mut tree = T::empty();
        let mut sessions = HashMap::new();
        if txn_iterator::last_logged_zxid(&self.log_dir) != -1 {
            if !self.options.trust_empty_snapshot {
                let invalid = self.snap.invalid_snapshots();
                return Err(Error::NoSnapshotButLogs {
                    dir: self.snap_dir.clone(),
                    invalid,
                });
            }
            warn!("No snapshot found, but there are log entries. This should only be allowed during upgrading.");
            let (zxid, count) = self.fast_forward(&mut tree, &mut sessions, listener)?;
            return Ok(Restored {
                tree,
                sessions,
                zxid,
                snapshot: None,
                txns_loaded: count,
            });
        }
        if trust_empty_db {
            let path = self.save(&tree, &sessions)?;
            return Ok(Restored {
                tree,
                sessions,
                zxid: 0,
                snapshot: Some(path),
                txns_loaded: 0,
            });
        }
        warn!("Unexpected empty data tree, setting zxid to -1");
        tree.set_last_processed_zxid(-1);
        Ok(Restored {
            tree,
            sessions,
            zxid: -1,
            snapshot: None,
            txns_loaded: 0,
        })
    }

    /// Replays every logged txn after the tree's last zxid. Returns the
    /// highest zxid seen and how many txns were applied.
    pub fn fast_forward<T: SnapshotTree>(
        &self,
        tree: &mut T,
        sessions: &mut HashMap<i64, i32>,
        listener: &mut dyn FnMut(&LoggedTxn),
    ) -> Result<(i64, u64)> {
        let started = Instant::now();
        let mut highest = tree.last_processed_zxid();
        let mut itr = TxnIterator::new(&self.log_dir, highest.saturating_add(1));
        let mut count = 0u64;
        while let Some(txn) = itr.next_txn()? {
            let zxid = txn.zxid();
            if zxid < highest && highest != 0 {
                error!(
                    "{:#x}(highestZxid) > {:#x}(next log) for type {}",
                    highest, zxid, txn.entry.header.r#type
                );
            } else {
                highest = zxid;
            }
            replay_txn(tree, sessions, &txn.entry, true);
            listener(&txn);
            count += 1;
            if count.is_multiple_of(100_000) {
                info!("{} txns replayed ({:#x})", count, zxid);
            }
        }
        info!(
            "{} txns loaded in {} ms",
            count,
            started.elapsed().as_millis()
        );
        Ok((highest, count))
    }

    /// Writes a snapshot of `tree` named after its last zxid.
    pub fn save<T: SnapshotTree>(&self, tree: &T, sessions: &HashMap<i64, i32>) -> Result<PathBuf> {
        self.snap.save(tree, sessions, self.snapshot_options)
    }

    /// Writes a fuzzy snapshot of a live tree named after `zxid`, locking
    /// the tree per chunk (see [`FileSnap::save_fuzzy`]).
    pub fn save_fuzzy<T: SnapshotTree>(
        &self,
        zxid: i64,
        tree: &RwLock<T>,
        sessions: &HashMap<i64, i32>,
    ) -> Result<PathBuf> {
        self.snap
            .save_fuzzy(zxid, tree, sessions, self.snapshot_options)
    }

    /// Cuts the logs after `zxid` (see [`super::file_txn_log::truncate`]).
    pub fn truncate_log(&self, zxid: i64) -> Result<()> {
        super::file_txn_log::truncate(&self.log_dir, zxid)
    }

    /// Highest logged zxid, -1 without logs.
    pub fn last_logged_zxid(&self) -> i64 {
        txn_iterator::last_logged_zxid(&self.log_dir)
    }
}

/// Keeps the session table of a replay: createSession adds, closeSession
/// removes (the tree does not know sessions without ephemerals).
pub fn track_sessions(sessions: &mut HashMap<i64, i32>, entry: &TxnLogEntry) {
    match (&entry.body, entry.header.r#type) {
        (TxnBody::CreateSession(t), op_code::CREATE_SESSION) => {
            sessions.insert(entry.header.client_id, t.time_out);
        }
        (_, op_code::CLOSE_SESSION) => {
            sessions.remove(&entry.header.client_id);
        }
        _ => {}
    }
}

/// Applies one replayed txn: the session table, then the tree.
/// `check_digest` is false inside the fuzzy window after a snapshot load,
/// where the tree cannot match the logged digests yet.
pub fn replay_txn<T: SnapshotTree>(
    tree: &mut T,
    sessions: &mut HashMap<i64, i32>,
    entry: &TxnLogEntry,
    check_digest: bool,
) {
    track_sessions(sessions, entry);
    tree.replay_txn(entry, check_digest);
}

/// Compares a non-fuzzy snapshot's digest section with the loaded tree (a
/// mismatch is logged, never fatal).
fn compare_now<T: SnapshotTree>(tree: &T, d: ZxidDigest) {
    if d.digest_version != super::file_snap::DIGEST_VERSION {
        info!(
            "Digest version changed, local: {}, new: {}, skip comparing digest now.",
            super::file_snap::DIGEST_VERSION,
            d.digest_version
        );
    } else if tree.digest() != d.digest {
        error!(
            "Digests are not matching at zxid {:#x}: snapshot says {:#x}, tree has {:#x}",
            d.zxid,
            d.digest,
            tree.digest()
        );
    } else {
        debug!("Snapshot digest matches at zxid {:#x}", d.zxid);
    }
}

fn ensure_dir(dir: &Path, what: &str, autocreate: bool) -> Result<()> {
    if !dir.exists() {
        if !autocreate {
            return Err(Error::DataDir(format!(
                "Missing {} directory {}, automatic data directory creation is disabled \
                 (zookeeper.datadir.autocreate is false). Please create this directory manually.",
                what,
                dir.display()
            )));
        }
        util::create_dir_durably(dir).on(dir)?;
    }
    let meta = fs::metadata(dir).on(dir)?;
    if !meta.is_dir() || meta.permissions().readonly() {
        return Err(Error::DataDir(format!(
            "Cannot write to {} directory {}",
            what,
            dir.display()
        )));
    }
    Ok(())
}

fn check_no_files(dir: &Path, matches: fn(&str) -> bool, message: &str) -> Result<()> {
    let found = fs::read_dir(dir)
        .on(dir)?
        .filter_map(|e| e.ok())
        .any(|e| e.file_name().to_str().map(matches).unwrap_or(false));
    if found {
        return Err(Error::DataDir(format!(
            "{} ({}). Check if dataLogDir and dataDir configuration is correct.",
            message,
            dir.display()
        )));
    }
    Ok(())
}
