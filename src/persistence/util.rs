//! File names and zxids, sorting a data directory, the file header, the
//! Adler-32 checksum. Pure helpers, called from whichever thread touches
//! files.
//!
//! Mirrors: `org.apache.zookeeper.server.persistence.Util` (and the
//! `FileHeader` constants of `FileTxnLog`/`FileSnap`).

use std::fs;
use std::io::{self, Read};
use std::path::{Path, PathBuf};

use crate::jute::persistence::FileHeader;

/// Prefix of txn log files: `log.<hex zxid>`.
pub const LOG_FILE_PREFIX: &str = "log";
/// Prefix of snapshot files: `snapshot.<hex zxid>[.gz|.snappy]`.
pub const SNAPSHOT_FILE_PREFIX: &str = "snapshot";
/// `ZKLG`, the magic number of txn logs.
pub const TXNLOG_MAGIC: i32 = 0x5A4B_4C47;
/// `ZKSN`, the magic number of snapshots.
pub const SNAP_MAGIC: i32 = 0x5A4B_534E;
/// The only file format version (also the `version-2` directory name).
pub const VERSION: i32 = 2;
/// Name of the versioned sub-directory of dataDir and dataLogDir.
pub const VERSION_DIR: &str = "version-2";
/// Size of the file header in bytes.
pub const FILE_HEADER_LEN: u64 = 16;

/// The header written at the start of a txn log (dbid 0).
/// fsyncs a directory, making the names created, renamed or removed in it
/// durable (an fsync of a file covers its data, not its directory entry).
pub fn sync_dir(dir: &Path) -> io::Result<()> {
    fs::File::open(dir)?.sync_all()
}

/// `create_dir_all`, then fsyncs the parent of every directory it created,
/// so that the new directories outlive a power loss.
pub fn create_dir_durably(dir: &Path) -> io::Result<()> {
    let mut missing = Vec::new();
    let mut cursor = Some(dir);
    while let Some(d) = cursor {
        if d.as_os_str().is_empty() || d.exists() {
            break;
        }
        missing.push(d.to_path_buf());
        cursor = d.parent();
    }
    fs::create_dir_all(dir)?;
    for created in missing.iter().rev() {
        if let Some(parent) = created.parent().filter(|p| !p.as_os_str().is_empty()) {
            sync_dir(parent)?;
        }
    }
    Ok(())
}

pub fn txn_log_header() -> FileHeader {
    FileHeader {
        magic: TXNLOG_MAGIC,
        version: VERSION,
        dbid: 0,
    }
}

/// The header written at the start of a snapshot (dbid -1).
pub fn snapshot_header() -> FileHeader {
    FileHeader {
        magic: SNAP_MAGIC,
        version: VERSION,
        dbid: -1,
    }
}

/// `log.<hex>`: lowercase hex without padding, as Java's `Long.toHexString`
/// (negative zxids print as their two's complement).
pub fn make_log_name(zxid: i64) -> String {
    format!("{}.{:x}", LOG_FILE_PREFIX, zxid)
}

/// `snapshot.<hex><extension>`, the extension being "", ".gz" or ".snappy".
pub fn make_snapshot_name(zxid: i64, extension: &str) -> String {
    format!("{}.{:x}{}", SNAPSHOT_FILE_PREFIX, zxid, extension)
}

/// The zxid in a file name with the given prefix, or -1 when the name does
/// not parse. Like Java: split on '.', part 0 must be the prefix, part 1 is
/// hex (an optional sign is accepted, as `Long.parseLong` does).
pub fn zxid_from_name(name: &str, prefix: &str) -> i64 {
    let mut parts = name.split('.');
    if parts.next() != Some(prefix) {
        return -1;
    }
    match parts.next() {
        Some(hex) => parse_java_hex(hex).unwrap_or(-1),
        None => -1,
    }
}

/// `Long.parseLong(s, 16)`: optional sign, hex digits, must fit in an i64.
fn parse_java_hex(s: &str) -> Option<i64> {
    let (negative, digits) = match s.as_bytes().first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    };
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    let magnitude = i128::from_str_radix(digits, 16).ok()?;
    let value = if negative { -magnitude } else { magnitude };
    i64::try_from(value).ok()
}

/// Whether a name looks like a txn log (`log.` prefix; Java's check).
pub fn is_log_file_name(name: &str) -> bool {
    name.starts_with("log.")
}

/// Whether a name looks like a snapshot (`snapshot.` prefix).
pub fn is_snapshot_file_name(name: &str) -> bool {
    name.starts_with("snapshot.")
}

/// The file name of a path as text ("" when it has none).
pub fn file_name(path: &Path) -> &str {
    path.file_name().and_then(|n| n.to_str()).unwrap_or("")
}

/// Sorts paths by the zxid in their names (unparsable names count as -1).
pub fn sort_by_zxid(files: &mut [PathBuf], prefix: &str, ascending: bool) {
    files.sort_by_key(|f| zxid_from_name(file_name(f), prefix));
    if !ascending {
        files.reverse();
    }
}

/// Every regular file of `dir` whose name parses with `prefix`, sorted by
/// zxid. A missing directory reads as empty.
pub fn list_files(dir: &Path, prefix: &str, ascending: bool) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = match fs::read_dir(dir) {
        Ok(entries) => entries
            .filter_map(|e| e.ok())
            .map(|e| e.path())
            .filter(|p| zxid_from_name(file_name(p), prefix) >= 0)
            .collect(),
        Err(_) => Vec::new(),
    };
    // Stable order for equal zxids (e.g. snapshot.5 and snapshot.5.gz).
    files.sort();
    sort_by_zxid(&mut files, prefix, ascending);
    files
}

/// The log files that may hold txns after `snapshot_zxid`: the newest log
/// starting at or before it, and every later one (ascending).
/// Java: `FileTxnLog.getLogFiles`.
pub fn log_files_from(dir: &Path, snapshot_zxid: i64) -> Vec<PathBuf> {
    let files = list_files(dir, LOG_FILE_PREFIX, true);
    let start = files
        .iter()
        .map(|f| zxid_from_name(file_name(f), LOG_FILE_PREFIX))
        .filter(|&z| z <= snapshot_zxid)
        .max()
        .unwrap_or(0);
    files
        .into_iter()
        .filter(|f| zxid_from_name(file_name(f), LOG_FILE_PREFIX) >= start)
        .collect()
}

/// The Adler-32 of `bytes`, as Java's `java.util.zip.Adler32.getValue()`.
/// Vectorized (AVX2/SSSE3 picked at run time): a log record is checked
/// on every replay.
pub fn adler32(bytes: &[u8]) -> i64 {
    let mut a = simd_adler32::Adler32::new();
    a.write(bytes);
    i64::from(a.finish())
}

/// Reads until `buf` is full or the input ends; returns the bytes read
/// (a short count means the input ended: a torn tail, not an error).
pub fn read_up_to<R: Read>(r: &mut R, buf: &mut [u8]) -> io::Result<usize> {
    let mut done = 0;
    while done < buf.len() {
        match r.read(&mut buf[done..]) {
            Ok(0) => break,
            Ok(n) => done += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(done)
}

/// Fills `buf`; `Ok(false)` if the input ended first.
pub fn read_fully<R: Read>(r: &mut R, buf: &mut [u8]) -> io::Result<bool> {
    Ok(read_up_to(r, buf)? == buf.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_lowercase_hex_without_padding() {
        assert_eq!(make_log_name(1), "log.1");
        assert_eq!(make_log_name(0x1_0000_0001), "log.100000001");
        assert_eq!(make_snapshot_name(0, ""), "snapshot.0");
        assert_eq!(make_snapshot_name(0xab, ".snappy"), "snapshot.ab.snappy");
        assert_eq!(make_log_name(-1), "log.ffffffffffffffff");
    }

    #[test]
    fn directories_created_durably_exist_and_a_missing_one_cannot_be_synced() {
        let base = std::env::temp_dir().join(format!("zk-util-durable-{}", std::process::id()));
        let _ = fs::remove_dir_all(&base);
        fs::create_dir_all(&base).unwrap();
        let nested = base.join("a").join("b").join("version-2");
        create_dir_durably(&nested).unwrap();
        assert!(nested.is_dir());
        create_dir_durably(&nested).unwrap(); // already there: nothing to do
        sync_dir(&nested).unwrap();
        assert!(sync_dir(&base.join("missing")).is_err());
        fs::remove_dir_all(&base).unwrap();
    }

    #[test]
    fn zxid_parsing_follows_java() {
        assert_eq!(zxid_from_name("log.100000001", "log"), 0x1_0000_0001);
        assert_eq!(zxid_from_name("snapshot.5.gz", "snapshot"), 5);
        assert_eq!(zxid_from_name("snapshot.5", "log"), -1);
        assert_eq!(zxid_from_name("log.xyz", "log"), -1);
        assert_eq!(zxid_from_name("log", "log"), -1);
        assert_eq!(zxid_from_name("log.", "log"), -1);
        assert_eq!(zxid_from_name("logs.1", "log"), -1);
        // Long.parseLong rejects 2^63 and more...
        assert_eq!(zxid_from_name("log.8000000000000000", "log"), -1);
        // ...but accepts a sign.
        assert_eq!(zxid_from_name("log.-1", "log"), -1);
        assert_eq!(zxid_from_name("log.+a", "log"), 10);
    }

    #[test]
    fn sorting_is_numeric_not_lexical() {
        let mut files: Vec<PathBuf> = ["log.a", "log.9", "log.100000001", "log.10"]
            .iter()
            .map(PathBuf::from)
            .collect();
        sort_by_zxid(&mut files, "log", true);
        let names: Vec<&str> = files.iter().map(|f| file_name(f)).collect();
        assert_eq!(names, ["log.9", "log.a", "log.10", "log.100000001"]);
        sort_by_zxid(&mut files, "log", false);
        assert_eq!(file_name(&files[0]), "log.100000001");
    }

    #[test]
    fn log_files_from_keeps_the_log_covering_the_snapshot() {
        let dir = std::env::temp_dir().join(format!("zkrs-util-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).unwrap();
        for name in ["log.1", "log.5", "log.9", "snapshot.6", "other"] {
            fs::write(dir.join(name), b"").unwrap();
        }
        let names = |v: Vec<PathBuf>| {
            v.iter()
                .map(|p| file_name(p).to_string())
                .collect::<Vec<_>>()
        };
        assert_eq!(names(log_files_from(&dir, 6)), ["log.5", "log.9"]);
        assert_eq!(names(log_files_from(&dir, 5)), ["log.5", "log.9"]);
        assert_eq!(names(log_files_from(&dir, 0)), ["log.1", "log.5", "log.9"]);
        assert_eq!(names(log_files_from(&dir, 100)), ["log.9"]);
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn vectorized_adler32_matches_the_scalar_one() {
        // Lengths around the 16/32-byte lanes and the 5552-byte reduction
        // block, over bytes that make the sums wrap.
        let data: Vec<u8> = (0..70_000u32)
            .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8 | 0x80)
            .collect();
        for len in [
            0, 1, 15, 16, 17, 31, 32, 33, 63, 64, 65, 5551, 5552, 5553, 11_104, 65_536, 70_000,
        ] {
            let mut scalar = adler2::Adler32::new();
            scalar.write_slice(&data[..len]);
            assert_eq!(
                adler32(&data[..len]),
                i64::from(scalar.checksum()),
                "length {}",
                len
            );
        }
    }

    #[test]
    fn adler32_matches_java() {
        // java.util.zip.Adler32 over "Wikipedia" = 0x11E60398.
        assert_eq!(adler32(b"Wikipedia"), 0x11E6_0398);
        assert_eq!(adler32(b""), 1);
    }

    #[test]
    fn read_up_to_stops_at_the_end_of_input_and_counts() {
        let mut buf = [0u8; 4];
        assert_eq!(read_up_to(&mut &b"ab"[..], &mut buf).unwrap(), 2);
        assert_eq!(&buf[..2], b"ab");
        assert!(read_fully(&mut &b"abcdef"[..], &mut buf).unwrap());
        assert_eq!(&buf, b"abcd");
        assert!(!read_fully(&mut &b"abc"[..], &mut buf).unwrap());
    }
}
