//! Txn logs and snapshots, byte-compatible with Java ZooKeeper 3.8/3.9.
//!
//! # On-disk layout
//!
//! ```text
//! <dataDir>/version-2/snapshot.<hex zxid>[.gz|.snappy]   FileSnap
//! <dataDir>/version-2/acceptedEpoch, currentEpoch         quorum epoch files
//! <dataLogDir>/version-2/log.<hex first zxid>             FileTxnLog
//! <dataLogDir>/initialize                                 "empty DB is trustworthy" marker
//! ```
//!
//! A txn log is a 16-byte `FileHeader` (`ZKLG`, 2, dbid 0) and records
//! `checksum:long length:int payload:bytes 0x42`, where the checksum is the
//! Adler-32 of the payload (TxnHeader + body + optional TxnDigest). Files are
//! pre-allocated with zeros in `preAllocSize` steps, so a zero length marks
//! the end of the written part.
//!
//! A snapshot is a `FileHeader` (`ZKSN`, 2, -1), the sessions, the DataTree
//! (ACL cache, nodes, `"/"`), then sealed sections: each seal is the running
//! Adler-32 of every uncompressed byte before it plus the string `"/"`.
//!
//! # Recovery rules (`FileTxnSnapLog::restore`)
//!
//! 1. Load the newest *valid* snapshot (name parses, trailer looks right),
//!    falling back to older ones if it cannot be read; its name is the zxid
//!    the tree is at.
//! 2. Replay every logged txn after that zxid. Snapshots are fuzzy, so
//!    replay tolerates txns whose effect is already in the tree.
//! 3. A log ends quietly at a zero length, a missing end-of-record byte or
//!    the end of the file (a torn tail after a crash); a checksum failure on a
//!    complete record is corruption and stops startup, naming file and offset.
//! 4. No snapshot but logs: refuse (unless `snapshot.trust.empty`). No
//!    snapshot and no logs: a new database, saved as `snapshot.0`.
//!
//! Mirrors: `org.apache.zookeeper.server.persistence`.

pub mod datadir_cleanup_manager;
pub mod file_padding;
pub mod file_snap;
pub mod file_txn_log;
pub mod file_txn_snap_log;
pub mod purge_txn_log;
pub mod snap_stream;
pub mod snappy_stream;
pub mod snapshot_dump;
pub mod snapshot_tree;
pub mod txn_format;
pub mod txn_iterator;
pub mod txn_log_toolkit;
pub mod util;

use std::fmt;
use std::io;
use std::path::{Path, PathBuf};

/// What went wrong with the files of a dataDir. Every variant that concerns
/// one file names it; corruption also names the byte offset.
#[derive(Debug)]
pub enum Error {
    /// An I/O failure on `path` (open, read, write, fsync, rename...).
    Io { path: PathBuf, source: io::Error },
    /// A complete log record whose Adler-32 does not match its payload.
    /// Java: "CRC check failed".
    ChecksumMismatch { path: PathBuf, offset: u64 },
    /// A record length that is negative or above jute.maxbuffer + extra.
    /// Java: "Unreasonable length".
    UnreasonableLength {
        path: PathBuf,
        offset: u64,
        length: i64,
    },
    /// A file whose header has the wrong magic number.
    BadMagic {
        path: PathBuf,
        found: i32,
        expected: i32,
    },
    /// A record or section that cannot be decoded (unknown txn type, bad
    /// snapshot seal, truncated snapshot...).
    Corrupt {
        path: PathBuf,
        offset: u64,
        reason: String,
    },
    /// Snapshots exist but none of them could be read; `cause` is why the
    /// newest one failed (naming its file and offset).
    NoValidSnapshot { dir: PathBuf, cause: Box<Error> },
    /// There are txn logs but no snapshot (Java: "No snapshot found, but
    /// there are log entries. Something is broken!"). `invalid` names the
    /// snapshot files that failed the quick validity check, if any.
    NoSnapshotButLogs { dir: PathBuf, invalid: Vec<PathBuf> },
    /// A data directory problem: missing with autocreate off, not
    /// writable, or holding the other kind of files.
    DataDir(String),
}

impl Error {
    /// An I/O error on `path`.
    pub fn io(path: &Path, source: io::Error) -> Error {
        Error::Io {
            path: path.to_path_buf(),
            source,
        }
    }

    /// A corruption error at `offset` of `path`.
    pub fn corrupt(path: &Path, offset: u64, reason: impl Into<String>) -> Error {
        Error::Corrupt {
            path: path.to_path_buf(),
            offset,
            reason: reason.into(),
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Io { path, source } => write!(f, "{}: {}", path.display(), source),
            Error::ChecksumMismatch { path, offset } => {
                write!(
                    f,
                    "{}: checksum mismatch at offset {}",
                    path.display(),
                    offset
                )
            }
            Error::UnreasonableLength {
                path,
                offset,
                length,
            } => write!(
                f,
                "{}: unreasonable record length {} at offset {}",
                path.display(),
                length,
                offset
            ),
            Error::BadMagic {
                path,
                found,
                expected,
            } => write!(
                f,
                "{}: invalid magic number {:#x} (expected {:#x})",
                path.display(),
                found,
                expected
            ),
            Error::Corrupt {
                path,
                offset,
                reason,
            } => {
                write!(f, "{}: {} at offset {}", path.display(), reason, offset)
            }
            Error::NoValidSnapshot { dir, cause } => {
                write!(
                    f,
                    "not able to find a valid snapshot in {}: {}",
                    dir.display(),
                    cause
                )
            }
            Error::NoSnapshotButLogs { dir, invalid } => {
                write!(
                    f,
                    "no snapshot found in {}, but there are log entries (set \
                     snapshot.trust.empty=true only when upgrading from 3.4)",
                    dir.display()
                )?;
                if !invalid.is_empty() {
                    let names: Vec<String> =
                        invalid.iter().map(|p| p.display().to_string()).collect();
                    write!(
                        f,
                        "; not valid snapshots (truncated or bad header): {}",
                        names.join(", ")
                    )?;
                }
                Ok(())
            }
            Error::DataDir(why) => write!(f, "{}", why),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Io { source, .. } => Some(source),
            _ => None,
        }
    }
}

/// Result alias of the persistence layer.
pub type Result<T> = std::result::Result<T, Error>;

/// Extension to tag `io::Result`s with the file they concern.
pub(crate) trait IoContext<T> {
    /// Wraps the error as [`Error::Io`] on `path`.
    fn on(self, path: &Path) -> Result<T>;
}

impl<T> IoContext<T> for io::Result<T> {
    fn on(self, path: &Path) -> Result<T> {
        self.map_err(|e| Error::io(path, e))
    }
}
