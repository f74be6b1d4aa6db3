//! Snapshot files: write the sessions and the DataTree with their seals and
//! digest section; find the newest readable snapshot, falling back to older
//! ones. Writing runs on the snapshot thread, reading on the loading thread.
//!
//! Layout (uncompressed view):
//!
//! ```text
//! FileHeader{ZKSN, 2, -1}
//! int count, count x (long sessionId, int timeout)
//! DataTree: ACL cache, (path, DataNode)*, "/"
//! seal 1: long adler32, "/"
//! digest: long zxid, int version, long digest          (digest.enabled)
//! seal 2
//! long lastProcessedZxid                               (3.9; 3.8 ignores it)
//! seal 3
//! ```
//!
//! Mirrors: `org.apache.zookeeper.server.persistence.FileSnap` and
//! `org.apache.zookeeper.server.util.SerializeUtils` (snapshot part).

use std::collections::HashMap;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::time::Instant;

use log::{info, warn};
use parking_lot::RwLock;

use super::snap_stream::{self, SnapOutput, SnapReader, StreamMode};
use super::snapshot_tree::SnapshotTree;
use super::util::{self, SNAPSHOT_FILE_PREFIX, SNAP_MAGIC};
use super::{Error, Result};
use crate::jute::persistence::FileHeader;
use crate::jute::{InputArchive, OutputArchive, Record};

/// Current DataTree digest version (`DigestCalculator.DIGEST_VERSION`).
pub const DIGEST_VERSION: i32 = 2;
/// How many snapshots restore tries before giving up (Java: 100).
pub const MAX_SNAPSHOT_CANDIDATES: usize = 100;

/// The digest section: the tree digest after the txn `zxid` (zxid 0 =
/// none yet). The tree keeps the pair of its last applied txn (Java's
/// `DataTree.ZxidDigest`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ZxidDigest {
    /// 0 means "none yet".
    pub zxid: i64,
    /// `DigestCalculator.DIGEST_VERSION` when it was computed.
    pub digest_version: i32,
    /// The tree digest.
    pub digest: i64,
}

/// The pair Java writes when the tree has none yet: `(0, 2, 0)`.
pub const EMPTY_DIGEST: ZxidDigest = ZxidDigest {
    zxid: 0,
    digest_version: DIGEST_VERSION,
    digest: 0,
};

/// The digest section to write for `tree`: the pair after its last applied
/// txn (none right after a load, as in Java).
pub fn digest_section_of<T: SnapshotTree>(tree: &T) -> ZxidDigest {
    tree.last_processed_zxid_digest().unwrap_or(EMPTY_DIGEST)
}

/// How snapshots are written.
#[derive(Debug, Clone, Copy)]
pub struct SnapshotOptions {
    /// Codec (and file extension).
    pub mode: StreamMode,
    /// Write through a temp file, fsync and rename.
    pub fsync: bool,
    /// Write the digest section (`digest.enabled`).
    pub digest_enabled: bool,
    /// Write the 3.9 lastProcessedZxid section.
    pub write_last_zxid: bool,
}

impl Default for SnapshotOptions {
    fn default() -> Self {
        SnapshotOptions {
            mode: StreamMode::Checked,
            fsync: false,
            digest_enabled: true,
            write_last_zxid: true,
        }
    }
}

/// What a snapshot file holds.
pub struct LoadedSnapshot<T> {
    /// The file read.
    pub path: PathBuf,
    /// The zxid in its name: the tree includes every txn up to it.
    pub zxid: i64,
    pub tree: T,
    /// Session id -> timeout.
    pub sessions: HashMap<i64, i32>,
    /// The digest section, if present and not empty (zxid > 0).
    pub digest: Option<ZxidDigest>,
    /// The 3.9 lastProcessedZxid section, if present.
    pub last_processed_zxid: Option<i64>,
}

/// Nodes written per read-lock hold while a live tree is snapshotted: big
/// enough to amortize locking, small enough that a writer waits
/// (microseconds) rather than for the whole snapshot.
pub const NODES_PER_CHUNK: usize = 1000;

/// Writes a snapshot of `tree` and `sessions` to `path`, the tree held
/// still by the caller (tools, tests, a tree nobody writes). On failure
/// the partial file is removed.
pub fn serialize<T: SnapshotTree>(
    tree: &T,
    sessions: &HashMap<i64, i32>,
    path: &Path,
    options: SnapshotOptions,
) -> Result<()> {
    write_file(&|f: &mut dyn FnMut(&T)| f(tree), sessions, path, options)
}

/// Writes a fuzzy snapshot of a live tree: the tree's read lock is taken
/// per chunk of [`NODES_PER_CHUNK`] nodes (each chunk is encoded while
/// locked, compressed and written after), so writers wait microseconds,
/// not for the whole snapshot. Like Java's: nodes are written as they are
/// when reached; replaying the log from the snapshot's zxid (its name,
/// taken before the walk) repairs the rest. The digest and last-zxid
/// sections are those at the end of the walk, as in Java.
pub fn serialize_fuzzy<T: SnapshotTree>(
    tree: &RwLock<T>,
    sessions: &HashMap<i64, i32>,
    path: &Path,
    options: SnapshotOptions,
) -> Result<()> {
    write_file(
        &|f: &mut dyn FnMut(&T)| f(&tree.read()),
        sessions,
        path,
        options,
    )
}

/// Runs a closure with the tree (under a lock for the live case).
type WithTree<'a, T> = &'a dyn Fn(&mut dyn FnMut(&T));

fn write_file<T: SnapshotTree>(
    with_tree: WithTree<T>,
    sessions: &HashMap<i64, i32>,
    path: &Path,
    options: SnapshotOptions,
) -> Result<()> {
    let mut out = SnapOutput::create(path, options.mode, options.fsync)?;
    match write_sections(with_tree, sessions, &mut out, options) {
        Ok(()) => out.finish(),
        Err(e) => {
            out.abandon();
            Err(e)
        }
    }
}

fn write_sections<T: SnapshotTree>(
    with_tree: WithTree<T>,
    sessions: &HashMap<i64, i32>,
    out: &mut SnapOutput,
    options: SnapshotOptions,
) -> Result<()> {
    let path = out.path().to_path_buf();
    let io = |e: std::io::Error| Error::io(&path, e);
    util::snapshot_header().serialize(&mut out.oa).map_err(io)?;
    out.oa.write_int(sessions.len() as i32).map_err(io)?;
    for (id, timeout) in sessions {
        out.oa.write_long(*id).map_err(io)?;
        out.oa.write_int(*timeout).map_err(io)?;
    }
    let mut chunk = Vec::new();
    let mut result = Ok(());
    with_tree(&mut |t| result = t.serialize_acl_cache(&mut OutputArchive::new(&mut chunk)));
    result.map_err(io)?;
    let mut cursor = T::Cursor::default();
    loop {
        out.oa.inner_mut().write_all(&chunk).map_err(io)?;
        if T::walk_done(&cursor) {
            break;
        }
        chunk.clear();
        let mut result = Ok(false);
        with_tree(&mut |t| {
            result = t.serialize_nodes_chunk(
                &mut cursor,
                &mut OutputArchive::new(&mut chunk),
                NODES_PER_CHUNK,
            )
        });
        result.map_err(io)?;
    }
    out.seal()?;
    let (mut digest, mut last_zxid) = (EMPTY_DIGEST, 0);
    with_tree(&mut |t| (digest, last_zxid) = (digest_section_of(t), t.last_processed_zxid()));
    if options.digest_enabled {
        out.oa.write_long(digest.zxid).map_err(io)?;
        out.oa.write_int(digest.digest_version).map_err(io)?;
        out.oa.write_long(digest.digest).map_err(io)?;
        out.seal()?;
    }
    if options.write_last_zxid {
        out.oa.write_long(last_zxid).map_err(io)?;
        out.seal()?;
    }
    Ok(())
}

/// Reads one snapshot file completely, checking every seal.
pub fn read_snapshot<T: SnapshotTree>(path: &Path) -> Result<LoadedSnapshot<T>> {
    let started = Instant::now();
    let zxid = util::zxid_from_name(util::file_name(path), SNAPSHOT_FILE_PREFIX);
    let mut ia = InputArchive::new(snap_stream::open_input(path)?);
    let header =
        FileHeader::deserialize(&mut ia).map_err(|e| decode_error(path, &mut ia, "header", e))?;
    if header.magic != SNAP_MAGIC {
        return Err(Error::BadMagic {
            path: path.to_path_buf(),
            found: header.magic,
            expected: SNAP_MAGIC,
        });
    }
    let sessions =
        read_sessions(&mut ia).map_err(|e| decode_error(path, &mut ia, "sessions", e))?;
    let tree = T::deserialize(&mut ia).map_err(|e| decode_error(path, &mut ia, "data tree", e))?;
    snap_stream::check_seal(&mut ia, path)?;
    let digest = read_digest_section(&mut ia, path)?;
    let last_processed_zxid = match &digest {
        Some(_) => read_last_zxid_section(&mut ia, path)?,
        None => None,
    };
    info!(
        "Read snapshot {} ({} sessions) in {} ms",
        path.display(),
        sessions.len(),
        started.elapsed().as_millis()
    );
    Ok(LoadedSnapshot {
        path: path.to_path_buf(),
        zxid,
        tree,
        sessions,
        digest: digest.flatten(),
        last_processed_zxid,
    })
}

/// Reads the header, sessions and tree of a snapshot file and stops there,
/// checking no seal: what Java's snapshot tools load (they read a file as
/// far as the tree, so a torn or unsealed tail does not stop them).
pub fn read_tree_only<T: SnapshotTree>(path: &Path) -> Result<T> {
    let mut ia = InputArchive::new(snap_stream::open_input(path)?);
    let header =
        FileHeader::deserialize(&mut ia).map_err(|e| decode_error(path, &mut ia, "header", e))?;
    if header.magic != SNAP_MAGIC {
        return Err(Error::BadMagic {
            path: path.to_path_buf(),
            found: header.magic,
            expected: SNAP_MAGIC,
        });
    }
    read_sessions(&mut ia).map_err(|e| decode_error(path, &mut ia, "sessions", e))?;
    T::deserialize(&mut ia).map_err(|e| decode_error(path, &mut ia, "data tree", e))
}

fn decode_error(
    path: &Path,
    ia: &mut InputArchive<SnapReader>,
    what: &str,
    e: crate::jute::Error,
) -> Error {
    let offset = ia.inner_mut().position();
    Error::corrupt(path, offset, format!("reading {}: {}", what, e))
}

fn read_sessions<R: Read>(ia: &mut InputArchive<R>) -> crate::jute::Result<HashMap<i64, i32>> {
    let count = ia.read_int()?;
    let mut sessions = HashMap::new();
    for _ in 0..count.max(0) {
        let id = ia.read_long()?;
        let timeout = ia.read_int()?;
        sessions.insert(id, timeout);
    }
    Ok(sessions)
}

/// The digest section. `Ok(None)`: absent (an old snapshot, EOF);
/// `Ok(Some(None))`: present but empty (zxid 0).
fn read_digest_section(
    ia: &mut InputArchive<SnapReader>,
    path: &Path,
) -> Result<Option<Option<ZxidDigest>>> {
    let read = |ia: &mut InputArchive<SnapReader>| -> crate::jute::Result<ZxidDigest> {
        let zxid = ia.read_long()?;
        let version = ia.read_int()?;
        let digest = if version < 2 {
            let hex = ia.read_string()?;
            i64::from_str_radix(&hex, 16)
                .or_else(|_| u64::from_str_radix(&hex, 16).map(|v| v as i64))
                .map_err(|_| crate::jute::Error::Invalid(format!("bad digest {:?}", hex)))?
        } else {
            ia.read_long()?
        };
        Ok(ZxidDigest {
            zxid,
            digest_version: version,
            digest,
        })
    };
    match read(ia) {
        Ok(d) => {
            snap_stream::check_seal(ia, path)?;
            Ok(Some(if d.zxid > 0 { Some(d) } else { None }))
        }
        Err(crate::jute::Error::Incomplete) => {
            warn!(
                "{}: no digest section, likely an older snapshot",
                path.display()
            );
            Ok(None)
        }
        Err(e) => Err(decode_error(path, ia, "digest", e)),
    }
}

/// The 3.9 lastProcessedZxid section, if present.
fn read_last_zxid_section(ia: &mut InputArchive<SnapReader>, path: &Path) -> Result<Option<i64>> {
    match ia.read_long() {
        Ok(zxid) => {
            snap_stream::check_seal(ia, path)?;
            Ok(Some(zxid))
        }
        Err(crate::jute::Error::Incomplete) => Ok(None),
        Err(e) => Err(decode_error(path, ia, "last zxid", e)),
    }
}

/// The snapshots of one `version-2` snapshot directory.
#[derive(Debug, Clone)]
pub struct FileSnap {
    /// `<dataDir>/version-2`.
    dir: PathBuf,
}

impl FileSnap {
    /// Snapshots in `dir`.
    pub fn new(dir: &Path) -> FileSnap {
        FileSnap {
            dir: dir.to_path_buf(),
        }
    }

    /// The snapshot directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The newest `n` snapshots passing the quick validity check, newest
    /// first.
    pub fn find_n_valid_snapshots(&self, n: usize) -> Vec<PathBuf> {
        util::list_files(&self.dir, SNAPSHOT_FILE_PREFIX, false)
            .into_iter()
            .filter(|f| snap_stream::is_valid_snapshot(f))
            .take(n)
            .collect()
    }

    /// Snapshot files (parsable name) that fail the quick validity check,
    /// newest first: what startup skipped.
    pub fn invalid_snapshots(&self) -> Vec<PathBuf> {
        util::list_files(&self.dir, SNAPSHOT_FILE_PREFIX, false)
            .into_iter()
            .filter(|f| !snap_stream::is_valid_snapshot(f))
            .collect()
    }

    /// The newest valid snapshot.
    pub fn most_recent_snapshot(&self) -> Option<PathBuf> {
        self.find_n_valid_snapshots(1).into_iter().next()
    }

    /// Loads the newest readable snapshot, trying older ones when one
    /// fails. `Ok(None)`: there is no snapshot at all.
    pub fn deserialize<T: SnapshotTree>(&self) -> Result<Option<LoadedSnapshot<T>>> {
        let candidates = self.find_n_valid_snapshots(MAX_SNAPSHOT_CANDIDATES);
        for skipped in self.invalid_snapshots() {
            warn!(
                "Skipping invalid snapshot {} (truncated or bad header)",
                skipped.display()
            );
        }
        let mut first_error = None;
        for path in &candidates {
            info!("Reading snapshot {}", path.display());
            match read_snapshot(path) {
                Ok(snap) => return Ok(Some(snap)),
                Err(e) => {
                    warn!("problem reading snap file {}: {}", path.display(), e);
                    first_error.get_or_insert(e);
                }
            }
        }
        match first_error {
            None => Ok(None),
            Some(cause) => Err(Error::NoValidSnapshot {
                dir: self.dir.clone(),
                cause: Box::new(cause),
            }),
        }
    }

    /// Writes `snapshot.<tree's last zxid><ext>`; returns its path.
    pub fn save<T: SnapshotTree>(
        &self,
        tree: &T,
        sessions: &HashMap<i64, i32>,
        options: SnapshotOptions,
    ) -> Result<PathBuf> {
        let path = self.snapshot_path(tree.last_processed_zxid(), options);
        serialize(tree, sessions, &path, options)?;
        Ok(path)
    }

    /// Writes a fuzzy snapshot of a live tree ([`serialize_fuzzy`]) named
    /// after `zxid`, the tree's last zxid when the caller took `sessions`
    /// (both under one read lock, so that replay from `zxid` sees every
    /// session change the snapshot may lack); returns its path.
    pub fn save_fuzzy<T: SnapshotTree>(
        &self,
        zxid: i64,
        tree: &RwLock<T>,
        sessions: &HashMap<i64, i32>,
        options: SnapshotOptions,
    ) -> Result<PathBuf> {
        let path = self.snapshot_path(zxid, options);
        serialize_fuzzy(tree, sessions, &path, options)?;
        Ok(path)
    }

    fn snapshot_path(&self, zxid: i64, options: SnapshotOptions) -> PathBuf {
        let path = self
            .dir
            .join(util::make_snapshot_name(zxid, options.mode.extension()));
        info!("Snapshotting: {:#x} to {}", zxid, path.display());
        path
    }
}
