//! Reading a snapshot file *as stored*, without building a DataTree: the
//! header, sessions, ACL cache, every (path, node) record, the seals and
//! the trailing sections. The inspection tools print this; `datadir-check`
//! uses it to verify seals independently of the tree code. Runs on the
//! tool's main thread.
//!
//! Mirrors: the reading half of `org.apache.zookeeper.server.SnapshotFormatter`
//! (which goes through Java's DataTree instead).

use std::io::Read;
use std::path::Path;

use super::file_snap::ZxidDigest;
use super::snap_stream::{self, SnapReader};
use super::util::{self, SNAPSHOT_FILE_PREFIX, SNAP_MAGIC};
use super::{Error, Result};
use crate::jute::data::{Acl, StatPersisted};
use crate::jute::persistence::FileHeader;
use crate::jute::{InputArchive, Record};

/// One node record of a snapshot.
#[derive(Debug, Clone)]
pub struct RawNode {
    /// "" for the root, then "/a", "/a/b"... (pre-order).
    pub path: String,
    pub data: Option<Vec<u8>>,
    /// ACL cache id; -1 = no ACL list (read as OPEN_ACL_UNSAFE).
    pub acl: i64,
    pub stat: StatPersisted,
}

/// A snapshot as stored.
#[derive(Debug, Clone)]
pub struct RawSnapshot {
    pub header: FileHeader,
    /// The zxid in the file name (-1 if it does not parse).
    pub name_zxid: i64,
    pub sessions: Vec<(i64, i32)>,
    /// ACL cache: id -> list.
    pub acls: Vec<(i64, Vec<Acl>)>,
    pub nodes: Vec<RawNode>,
    /// How many seals were present and verified (1 to 3).
    pub seals: usize,
    /// The digest section (present even when empty: zxid 0).
    pub digest: Option<ZxidDigest>,
    /// The 3.9 lastProcessedZxid section.
    pub last_processed_zxid: Option<i64>,
}

/// Reads and verifies a snapshot file (codec from its name).
pub fn read_raw_snapshot(path: &Path) -> Result<RawSnapshot> {
    let mut ia = InputArchive::new(snap_stream::open_input(path)?);
    let header = FileHeader::deserialize(&mut ia).map_err(|e| err(path, &mut ia, "header", e))?;
    if header.magic != SNAP_MAGIC {
        return Err(Error::BadMagic {
            path: path.to_path_buf(),
            found: header.magic,
            expected: SNAP_MAGIC,
        });
    }
    let sessions = read_sessions(&mut ia).map_err(|e| err(path, &mut ia, "sessions", e))?;
    let acls = read_acl_cache(&mut ia).map_err(|e| err(path, &mut ia, "ACL cache", e))?;
    let nodes = read_nodes(&mut ia).map_err(|e| err(path, &mut ia, "nodes", e))?;
    snap_stream::check_seal(&mut ia, path)?;
    let mut snap = RawSnapshot {
        header,
        name_zxid: util::zxid_from_name(util::file_name(path), SNAPSHOT_FILE_PREFIX),
        sessions,
        acls,
        nodes,
        seals: 1,
        digest: None,
        last_processed_zxid: None,
    };
    if let Some(d) = optional(read_digest(&mut ia)).map_err(|e| err(path, &mut ia, "digest", e))? {
        snap_stream::check_seal(&mut ia, path)?;
        snap.digest = Some(d);
        snap.seals = 2;
        if let Some(z) = optional(ia.read_long()).map_err(|e| err(path, &mut ia, "last zxid", e))? {
            snap_stream::check_seal(&mut ia, path)?;
            snap.last_processed_zxid = Some(z);
            snap.seals = 3;
        }
    }
    Ok(snap)
}

/// `Ok(None)` for a section that is absent (the input ended before it).
fn optional<T>(r: crate::jute::Result<T>) -> crate::jute::Result<Option<T>> {
    match r {
        Ok(v) => Ok(Some(v)),
        Err(crate::jute::Error::Incomplete) => Ok(None),
        Err(e) => Err(e),
    }
}

fn err(path: &Path, ia: &mut InputArchive<SnapReader>, what: &str, e: crate::jute::Error) -> Error {
    let offset = ia.inner_mut().position();
    Error::corrupt(path, offset, format!("reading {}: {}", what, e))
}

fn read_sessions<R: Read>(ia: &mut InputArchive<R>) -> crate::jute::Result<Vec<(i64, i32)>> {
    let count = ia.read_int()?;
    let mut sessions = Vec::new();
    for _ in 0..count.max(0) {
        sessions.push((ia.read_long()?, ia.read_int()?));
    }
    Ok(sessions)
}

fn read_acl_cache<R: Read>(ia: &mut InputArchive<R>) -> crate::jute::Result<Vec<(i64, Vec<Acl>)>> {
    let count = ia.read_int()?;
    let mut acls = Vec::new();
    for _ in 0..count.max(0) {
        let id = ia.read_long()?;
        acls.push((id, Vec::<Acl>::deserialize(ia)?));
    }
    Ok(acls)
}

fn read_nodes<R: Read>(ia: &mut InputArchive<R>) -> crate::jute::Result<Vec<RawNode>> {
    let mut nodes = Vec::new();
    loop {
        let path = ia.read_string()?;
        if path == "/" {
            return Ok(nodes);
        }
        let data = ia.read_buffer()?;
        let acl = ia.read_long()?;
        let stat = StatPersisted::deserialize(ia)?;
        nodes.push(RawNode {
            path,
            data,
            acl,
            stat,
        });
    }
}

fn read_digest<R: Read>(ia: &mut InputArchive<R>) -> crate::jute::Result<ZxidDigest> {
    let zxid = ia.read_long()?;
    let version = ia.read_int()?;
    let digest = if version < 2 {
        let hex = ia.read_string()?;
        u64::from_str_radix(&hex, 16).map(|v| v as i64).unwrap_or(0)
    } else {
        ia.read_long()?
    };
    Ok(ZxidDigest {
        zxid,
        digest_version: version,
        digest,
    })
}
