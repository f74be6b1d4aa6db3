//! Inspection and maintenance commands of the `zk-server` binary, the
//! twins of Java's `TxnLogToolkit`, `SnapshotFormatter` and `PurgeTxnLog`:
//!
//! ```text
//! zk-server txnlog-dump <log file> [--json]
//! zk-server snapshot-dump <snapshot file> [--json]
//! zk-server datadir-check <dataDir> [dataLogDir]
//! zk-server datadir-dump <dataDir> [dataLogDir] [--json]
//! zk-server purge <dataLogDir> [snapDir] -n <count>
//! zk-server txnlog-toolkit [-dhrvyc] <log file> (-z <zxid>)   (Java's TxnLogToolkit, see txn_log_toolkit)
//! zk-server snapshot-comparer -l <left> -r <right> -b <bytes> -n <nodes> [-d] [-i]   (see snapshot_comparer)
//! zk-server snapshot-recursive-summary <snapshot> <starting node> <max depth>   (see snapshot_recursive_summary)
//! ```
//!
//! Everything here is read-only except `purge` (and the toolkit's recover and
//! chop modes, which write new files beside the log). Runs on the main thread
//! before any server starts; `main.rs` calls [`run_tool`] first.
//!
//! In the server module because it restores a whole DataTree (as Java's
//! `SnapshotFormatter` and `PurgeTxnLog` live in the server package).
//!
//! Mirrors: `org.apache.zookeeper.server.persistence.TxnLogToolkit`,
//! `org.apache.zookeeper.server.SnapshotFormatter`,
//! `org.apache.zookeeper.server.SnapshotComparer`,
//! `org.apache.zookeeper.server.SnapshotRecursiveSummary`,
//! `org.apache.zookeeper.server.PurgeTxnLog.main`.

use std::collections::HashMap;
use std::fs::File;
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};

use byteorder::{BigEndian, ByteOrder};

use super::data_tree::DataTree;
use super::zk_database::apply_txn;
use crate::persistence::file_snap::{FileSnap, ZxidDigest, DIGEST_VERSION};
use crate::persistence::snapshot_dump::{read_raw_snapshot, RawSnapshot};
use crate::persistence::txn_format::{self as fmt, json_str};
use crate::persistence::txn_iterator::{LogEnd, LogFileReader, TxnIterator};
use crate::persistence::util::{self, LOG_FILE_PREFIX, SNAPSHOT_FILE_PREFIX, VERSION_DIR};
use crate::persistence::{purge_txn_log, Result};

/// Runs a persistence subcommand if `args[1]` names one; returns its exit
/// code, or `None` to let the server start.
pub fn run_tool(args: &[String]) -> Option<i32> {
    let command = args.get(1)?.as_str();
    if command == "txnlog-toolkit" {
        let (stdin, stdout) = (io::stdin(), io::stdout());
        let (mut input, mut out) = (stdin.lock(), stdout.lock());
        return Some(crate::persistence::txn_log_toolkit::main(
            &args[2..],
            &mut input,
            &mut out,
            &mut io::stderr(),
        ));
    }
    if command == "snapshot-comparer" {
        let (stdin, stdout) = (io::stdin(), io::stdout());
        let (mut input, mut out) = (stdin.lock(), stdout.lock());
        return Some(super::snapshot_comparer::main(
            &args[2..],
            &mut input,
            &mut out,
            &mut io::stderr(),
        ));
    }
    if command == "snapshot-recursive-summary" {
        let stdout = io::stdout();
        return Some(super::snapshot_recursive_summary::main(
            &args[2..],
            &mut stdout.lock(),
            &mut io::stderr(),
        ));
    }
    let rest: Vec<&str> = args.iter().skip(2).map(String::as_str).collect();
    let json = rest.contains(&"--json");
    let positional: Vec<&str> = rest
        .iter()
        .copied()
        .filter(|a| !a.starts_with("--"))
        .collect();
    let stdout = io::stdout();
    let mut out = stdout.lock();
    let result = match (command, positional.as_slice()) {
        ("txnlog-dump", [file]) => txnlog_dump(Path::new(file), json, &mut out),
        ("snapshot-dump", [file]) => snapshot_dump(Path::new(file), json, &mut out),
        ("datadir-check", [data]) => datadir_check(Path::new(data), Path::new(data), &mut out),
        ("datadir-check", [data, logs]) => {
            datadir_check(Path::new(data), Path::new(logs), &mut out)
        }
        ("datadir-dump", [data]) => datadir_dump(Path::new(data), Path::new(data), json, &mut out),
        ("datadir-dump", [data, logs]) => {
            datadir_dump(Path::new(data), Path::new(logs), json, &mut out)
        }
        ("purge", _) => purge(&rest, &mut out),
        ("txnlog-dump" | "snapshot-dump" | "datadir-check" | "datadir-dump", _) => {
            eprintln!("usage: {} {}", args[0], usage(command));
            return Some(2);
        }
        _ => return None,
    };
    let _ = out.flush();
    Some(match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {}", e);
            1
        }
    })
}

fn usage(command: &str) -> &'static str {
    match command {
        "txnlog-dump" => "txnlog-dump <log file> [--json]",
        "snapshot-dump" => "snapshot-dump <snapshot file> [--json]",
        "datadir-check" => "datadir-check <dataDir> [dataLogDir]",
        _ => "datadir-dump <dataDir> [dataLogDir] [--json]",
    }
}

/// Tool results: an exit code, or an error to print.
type ToolResult = std::result::Result<i32, Box<dyn std::error::Error>>;

/// Prints every record of one log file; exit 1 if it is corrupt.
fn txnlog_dump(path: &Path, json: bool, out: &mut dyn Write) -> ToolResult {
    let (dbid, version) = read_file_header(path)?;
    let mut reader = match LogFileReader::open(path, false, true)? {
        Some(r) => r,
        None => return Err(format!("{}: empty file", path.display()).into()),
    };
    let mut count = 0u64;
    let mut items = Vec::new();
    if !json {
        writeln!(
            out,
            "ZooKeeper Transactional Log File with dbid {} txnlog format version {}",
            dbid, version
        )?;
    }
    let error = loop {
        match reader.next_record() {
            Ok(Some(txn)) => {
                count += 1;
                if json {
                    items.push(fmt::json_txn(&txn.entry));
                } else {
                    writeln!(out, "{}", fmt::text_txn(&txn.entry))?;
                }
            }
            Ok(None) => break None,
            Err(e) => break Some(e),
        }
    };
    let end = match reader.end() {
        Some(LogEnd::Eof) => "eof",
        Some(LogEnd::ZeroPadding) => "zero_padding",
        Some(LogEnd::PartialRecord) => "partial_record",
        None => "error",
    };
    if json {
        let err = error
            .as_ref()
            .map(|e| json_str(&e.to_string()))
            .unwrap_or_else(|| "null".into());
        writeln!(
            out,
            "{{\"file\":{},\"dbid\":{},\"version\":{},\"txns\":[{}],\"end\":{},\"endOffset\":{},\"error\":{}}}",
            json_str(&path.display().to_string()),
            dbid,
            version,
            items.join(",\n"),
            json_str(end),
            reader.offset(),
            err
        )?;
    } else {
        writeln!(
            out,
            "EOF reached after {} txns ({} at offset {}).",
            count,
            end,
            reader.offset()
        )?;
    }
    match error {
        Some(e) => Err(e.into()),
        None => Ok(0),
    }
}

fn read_file_header(path: &Path) -> io::Result<(i64, i32)> {
    let mut header = [0u8; 16];
    File::open(path)?.read_exact(&mut header)?;
    Ok((
        BigEndian::read_i64(&header[8..16]),
        BigEndian::read_i32(&header[4..8]),
    ))
}

/// Prints a snapshot as stored.
fn snapshot_dump(path: &Path, json: bool, out: &mut dyn Write) -> ToolResult {
    let snap = read_raw_snapshot(path)?;
    if json {
        write_snapshot_json(&snap, out)?;
    } else {
        write_snapshot_text(&snap, out)?;
    }
    Ok(0)
}

fn write_snapshot_text(snap: &RawSnapshot, out: &mut dyn Write) -> io::Result<()> {
    writeln!(
        out,
        "ZooKeeper snapshot, dbid {} format version {}",
        snap.header.dbid, snap.header.version
    )?;
    writeln!(out, "ACL cache ({} lists):", snap.acls.len())?;
    for (id, acl) in &snap.acls {
        writeln!(out, "  {} = {}", id, fmt::text_acl(acl))?;
    }
    writeln!(out, "ZNode Details (count={}):", snap.nodes.len())?;
    for node in &snap.nodes {
        writeln!(out, "----")?;
        writeln!(
            out,
            "{}",
            if node.path.is_empty() {
                "/"
            } else {
                &node.path
            }
        )?;
        write!(out, "{}", fmt::text_stat_persisted(&node.stat))?;
        writeln!(out, "  acl = {}", node.acl)?;
        writeln!(out, "  data = {}", fmt::text_data(&node.data))?;
    }
    writeln!(out, "----")?;
    writeln!(out, "Session Details (sid, timeout):")?;
    for (id, timeout) in &snap.sessions {
        writeln!(out, "{:#018x}, {}", id, timeout)?;
    }
    if let Some(d) = &snap.digest {
        writeln!(
            out,
            "Digest: zxid {:#x}, version {}, digest {:#x}",
            d.zxid, d.digest_version, d.digest
        )?;
    }
    if let Some(z) = snap.last_processed_zxid {
        writeln!(out, "Last processed zxid: {:#x}", z)?;
    }
    writeln!(out, "Seals verified: {}", snap.seals)?;
    writeln!(out, "----\nLast zxid: {:#x}", snap.name_zxid)
}

fn write_snapshot_json(snap: &RawSnapshot, out: &mut dyn Write) -> io::Result<()> {
    let sessions: Vec<String> = snap
        .sessions
        .iter()
        .map(|(id, t)| format!("[{},{}]", id, t))
        .collect();
    let acls: Vec<String> = snap
        .acls
        .iter()
        .map(|(id, a)| format!("[{},{}]", id, fmt::json_acl(a)))
        .collect();
    let nodes: Vec<String> = snap
        .nodes
        .iter()
        .map(|n| {
            format!(
                "{{\"path\":{},\"data\":{},\"acl\":{},\"stat\":{}}}",
                json_str(&n.path),
                fmt::json_data(&n.data),
                n.acl,
                fmt::json_stat_persisted(&n.stat)
            )
        })
        .collect();
    let digest = match &snap.digest {
        Some(d) => format!(
            "{{\"zxid\":{},\"version\":{},\"digest\":{}}}",
            d.zxid, d.digest_version, d.digest
        ),
        None => "null".into(),
    };
    let last = snap
        .last_processed_zxid
        .map(|z| z.to_string())
        .unwrap_or_else(|| "null".into());
    writeln!(
        out,
        "{{\"dbid\":{},\"version\":{},\"zxid\":{},\"sessions\":[{}],\"acls\":[{}],\"nodes\":[{}],\
         \"digest\":{},\"lastProcessedZxid\":{},\"seals\":{}}}",
        snap.header.dbid,
        snap.header.version,
        snap.name_zxid,
        sessions.join(","),
        acls.join(","),
        nodes.join(",\n"),
        digest,
        last,
        snap.seals
    )
}

/// What a read-only restore found.
pub struct CheckedRestore {
    pub tree: DataTree,
    pub sessions: HashMap<i64, i32>,
    pub snapshot: Option<PathBuf>,
    pub zxid: i64,
    pub txns: u64,
    /// Logged TxnDigests compared with the tree, and how many differed.
    pub digests_checked: u64,
    pub digest_mismatches: Vec<i64>,
    /// The snapshot's digest section matched the tree when replay reached it
    /// (`None`: nothing to compare).
    pub snapshot_digest_ok: Option<bool>,
}

/// Restores a dataDir without changing it (no snapshot.0 written, no file
/// deleted), checking every logged digest against the tree.
pub fn restore_read_only(data_dir: &Path, data_log_dir: &Path) -> Result<CheckedRestore> {
    let snap = FileSnap::new(&data_dir.join(VERSION_DIR)).deserialize()?;
    let (mut tree, mut sessions, zxid, snapshot, digest) = match snap {
        Some(s) => (s.tree, s.sessions, s.zxid, Some(s.path), s.digest),
        None => (DataTree::new(), HashMap::new(), 0, None, None),
    };
    tree.set_last_processed_zxid(zxid);
    let mut r = CheckedRestore {
        tree: DataTree::new(),
        sessions: HashMap::new(),
        snapshot,
        zxid,
        txns: 0,
        digests_checked: 0,
        digest_mismatches: Vec::new(),
        snapshot_digest_ok: None,
    };
    let mut target: Option<ZxidDigest> = digest.filter(|d| d.zxid >= zxid);
    check_snapshot_digest(&tree, zxid, &mut target, &mut r);
    let mut itr =
        TxnIterator::new(&data_log_dir.join(VERSION_DIR), zxid.saturating_add(1)).read_only();
    while let Some(txn) = itr.next_txn()? {
        let fuzzy = target.is_some();
        apply_txn(&mut tree, &mut sessions, &txn.entry, !fuzzy);
        r.txns += 1;
        r.zxid = r.zxid.max(txn.zxid());
        check_snapshot_digest(&tree, txn.zxid(), &mut target, &mut r);
        if let (false, Some(d)) = (fuzzy, &txn.entry.digest) {
            if d.version == DIGEST_VERSION {
                r.digests_checked += 1;
                if tree.digest() != d.tree_digest {
                    r.digest_mismatches.push(txn.zxid());
                }
            }
        }
    }
    r.tree = tree;
    r.sessions = sessions;
    Ok(r)
}

fn check_snapshot_digest(
    tree: &DataTree,
    zxid: i64,
    target: &mut Option<ZxidDigest>,
    r: &mut CheckedRestore,
) {
    if let Some(d) = *target {
        if d.zxid == zxid {
            r.snapshot_digest_ok =
                Some(d.digest_version != DIGEST_VERSION || tree.digest() == d.digest);
            *target = None;
        }
    }
}

/// Verifies every log record and snapshot seal, then restores and checks
/// digests. Exit 0 when everything is sound.
fn datadir_check(data_dir: &Path, data_log_dir: &Path, out: &mut dyn Write) -> ToolResult {
    let mut problems = 0;
    let log_dir = data_log_dir.join(VERSION_DIR);
    for file in util::list_files(&log_dir, LOG_FILE_PREFIX, true) {
        problems += check_log_file(&file, out)?;
    }
    let snap_dir = data_dir.join(VERSION_DIR);
    for file in util::list_files(&snap_dir, SNAPSHOT_FILE_PREFIX, true) {
        match read_raw_snapshot(&file) {
            Ok(s) => writeln!(
                out,
                "{}: ok, {} nodes, {} sessions, {} seals",
                file.display(),
                s.nodes.len(),
                s.sessions.len(),
                s.seals
            )?,
            Err(e) => {
                problems += 1;
                writeln!(out, "{}: BAD: {}", file.display(), e)?;
            }
        }
    }
    match restore_read_only(data_dir, data_log_dir) {
        Ok(r) => {
            writeln!(
                out,
                "restore: snapshot {}, {} txns replayed, last zxid {:#x}, {} nodes, {} sessions, digest {:#x}",
                r.snapshot.as_deref().map(util::file_name).unwrap_or("(none)"),
                r.txns,
                r.zxid,
                r.tree.node_count(),
                r.sessions.len(),
                r.tree.digest()
            )?;
            if r.snapshot_digest_ok == Some(false) {
                problems += 1;
                writeln!(
                    out,
                    "restore: BAD: tree digest differs from the snapshot's digest section"
                )?;
            }
            writeln!(
                out,
                "restore: {} logged digests checked, {} mismatches",
                r.digests_checked,
                r.digest_mismatches.len()
            )?;
            if let Some(z) = r.digest_mismatches.first() {
                problems += 1;
                writeln!(out, "restore: BAD: first digest mismatch at zxid {:#x}", z)?;
            }
        }
        Err(e) => {
            problems += 1;
            writeln!(out, "restore: BAD: {}", e)?;
        }
    }
    writeln!(
        out,
        "{}",
        if problems == 0 {
            "OK"
        } else {
            "PROBLEMS FOUND"
        }
    )?;
    Ok(if problems == 0 { 0 } else { 1 })
}

/// Reads one log completely; returns 1 if it is corrupt.
fn check_log_file(file: &Path, out: &mut dyn Write) -> std::result::Result<u32, io::Error> {
    let mut reader = match LogFileReader::open(file, false, true) {
        Ok(Some(r)) => r,
        Ok(None) => {
            writeln!(out, "{}: empty", file.display())?;
            return Ok(0);
        }
        Err(e) => {
            writeln!(out, "{}: BAD: {}", file.display(), e)?;
            return Ok(1);
        }
    };
    let (mut count, mut first, mut last) = (0u64, None, None);
    loop {
        match reader.next_record() {
            Ok(Some(t)) => {
                count += 1;
                first.get_or_insert(t.zxid());
                last = Some(t.zxid());
            }
            Ok(None) => break,
            Err(e) => {
                writeln!(out, "{}: BAD after {} txns: {}", file.display(), count, e)?;
                return Ok(1);
            }
        }
    }
    let range = match (first, last) {
        (Some(a), Some(b)) => format!("zxids {:#x}..{:#x}", a, b),
        _ => "no txns".to_string(),
    };
    writeln!(
        out,
        "{}: ok, {} txns, {}, ended by {:?} at offset {}",
        file.display(),
        count,
        range,
        reader.end(),
        reader.offset()
    )?;
    Ok(0)
}

/// Restores read-only and prints the whole tree, sorted by path.
fn datadir_dump(
    data_dir: &Path,
    data_log_dir: &Path,
    json: bool,
    out: &mut dyn Write,
) -> ToolResult {
    let mut r = restore_read_only(data_dir, data_log_dir)?;
    // Show stats as a server with TTL nodes enabled would (a TTL's owner
    // field reads as 0); without TTL nodes no owner has that form.
    r.tree.set_extended_types_enabled(true);
    let mut paths = Vec::new();
    collect_paths(&r.tree, "/", &mut paths);
    paths.sort();
    let mut nodes = Vec::new();
    for path in &paths {
        let (data, stat) = match r.tree.get_data(path, None) {
            Ok(v) => v,
            Err(_) => continue,
        };
        let acl = r
            .tree
            .get_node(path)
            .map(|n| r.tree.get_acl(n))
            .unwrap_or_default();
        if json {
            nodes.push(format!(
                "{{\"path\":{},\"data\":{},\"acl\":{},\"stat\":{}}}",
                json_str(path),
                fmt::json_data(&data),
                fmt::json_acl(&acl),
                fmt::json_stat(&stat)
            ));
        } else {
            writeln!(
                out,
                "{}\tdata={}\tacl={}\tstat={}",
                path,
                fmt::text_data(&data),
                fmt::text_acl(&acl),
                fmt::json_stat(&stat)
            )?;
        }
    }
    let mut sessions: Vec<(i64, i32)> = r.sessions.iter().map(|(k, v)| (*k, *v)).collect();
    sessions.sort();
    if json {
        let s: Vec<String> = sessions
            .iter()
            .map(|(id, t)| format!("[{},{}]", id, t))
            .collect();
        writeln!(
            out,
            "{{\"zxid\":{},\"digest\":{},\"sessions\":[{}],\"nodes\":[{}]}}",
            r.zxid,
            r.tree.digest(),
            s.join(","),
            nodes.join(",\n")
        )?;
    } else {
        for (id, t) in sessions {
            writeln!(out, "session {:#x} timeout {}", id, t)?;
        }
        writeln!(out, "zxid {:#x} digest {:#x}", r.zxid, r.tree.digest())?;
    }
    Ok(0)
}

fn collect_paths(tree: &DataTree, path: &str, out: &mut Vec<String>) {
    out.push(path.to_string());
    if let Ok((children, _)) = tree.get_children(path, None) {
        for child in children {
            let child_path = if path == "/" {
                format!("/{}", child)
            } else {
                format!("{}/{}", path, child)
            };
            collect_paths(tree, &child_path, out);
        }
    }
}

/// `purge <dataLogDir> [snapDir] -n <count>` (zkCleanup.sh).
fn purge(args: &[&str], out: &mut dyn Write) -> ToolResult {
    let (logs, snaps, count) = match args {
        [logs, "-n", n] => (*logs, *logs, *n),
        [logs, snaps, "-n", n] => (*logs, *snaps, *n),
        _ => {
            eprintln!("usage: purge <dataLogDir> [snapDir] -n <count>  (count >= 3)");
            return Ok(2);
        }
    };
    let count: usize = match count.parse() {
        Ok(c) if c >= purge_txn_log::MIN_SNAP_RETAIN_COUNT => c,
        _ => {
            eprintln!(
                "'{}': count should be an integer greater than or equal to 3",
                count
            );
            return Ok(2);
        }
    };
    for f in purge_txn_log::purge(Path::new(logs), Path::new(snaps), count)? {
        writeln!(out, "Removing file: {}", f.display())?;
    }
    Ok(0)
}
