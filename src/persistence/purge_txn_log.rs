//! Deleting old snapshots and logs: keep the newest N valid snapshots and
//! every log a replay from the oldest of them needs. Runs on the purge
//! timer thread (`DatadirCleanupManager`) or from the `purge` tool.
//!
//! Mirrors: `org.apache.zookeeper.server.PurgeTxnLog`.

use std::collections::HashSet;
use std::fs;
use std::path::{Path, PathBuf};

use log::{info, warn};

use super::file_snap::FileSnap;
use super::util::{self, LOG_FILE_PREFIX, SNAPSHOT_FILE_PREFIX, VERSION_DIR};
use super::{Error, Result};

/// The smallest retain count Java accepts.
pub const MIN_SNAP_RETAIN_COUNT: usize = 3;

/// Keeps the newest `retain` valid snapshots of `<snap_dir>/version-2` and
/// the logs of `<data_log_dir>/version-2` they need; deletes older files.
/// Returns the deleted paths.
pub fn purge(data_log_dir: &Path, snap_dir: &Path, retain: usize) -> Result<Vec<PathBuf>> {
    if retain < MIN_SNAP_RETAIN_COUNT {
        return Err(Error::DataDir(
            "count should be greater than or equal to 3".into(),
        ));
    }
    let log_dir = data_log_dir.join(VERSION_DIR);
    let snap_dir = snap_dir.join(VERSION_DIR);
    let snaps = FileSnap::new(&snap_dir).find_n_valid_snapshots(retain);
    match snaps.last() {
        Some(oldest_kept) => Ok(purge_older_than(&log_dir, &snap_dir, oldest_kept)),
        None => Ok(Vec::new()),
    }
}

/// Deletes snapshots and logs older than `oldest_kept`, except the log
/// that covers its zxid (it holds the txns right after it).
pub fn purge_older_than(log_dir: &Path, snap_dir: &Path, oldest_kept: &Path) -> Vec<PathBuf> {
    let least = util::zxid_from_name(util::file_name(oldest_kept), SNAPSHOT_FILE_PREFIX);
    let retained_logs: HashSet<PathBuf> =
        util::log_files_from(log_dir, least).into_iter().collect();
    let mut doomed = files_to_delete(log_dir, LOG_FILE_PREFIX, least, &retained_logs);
    doomed.extend(files_to_delete(
        snap_dir,
        SNAPSHOT_FILE_PREFIX,
        least,
        &HashSet::new(),
    ));
    let mut deleted = Vec::new();
    for f in doomed {
        info!("Removing file: {}", f.display());
        match fs::remove_file(&f) {
            Ok(()) => deleted.push(f),
            Err(e) => warn!("Failed to remove {}: {}", f.display(), e),
        }
    }
    deleted
}

/// Files of `dir` named `<prefix>.<zxid>` with zxid below `least`, not in
/// `keep`. (Unparsable names count as -1 and go too, as in Java.)
fn files_to_delete(dir: &Path, prefix: &str, least: i64, keep: &HashSet<PathBuf>) -> Vec<PathBuf> {
    let dotted = format!("{}.", prefix);
    let entries = match fs::read_dir(dir) {
        Ok(e) => e,
        Err(_) => return Vec::new(),
    };
    entries
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .filter(|p| util::file_name(p).starts_with(&dotted))
        .filter(|p| !keep.contains(p))
        .filter(|p| util::zxid_from_name(util::file_name(p), prefix) < least)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn snapshot_bytes() -> Vec<u8> {
        vec![0, 0, 0, 0, 0, 0, 0, 0, 0, 1, b'/']
    }

    #[test]
    fn keeps_n_snapshots_and_the_logs_they_need() {
        let root = std::env::temp_dir().join(format!("zkrs-purge-{}", std::process::id()));
        let _ = fs::remove_dir_all(&root);
        let dir = root.join(VERSION_DIR);
        fs::create_dir_all(&dir).unwrap();
        for z in [0x10, 0x20, 0x30, 0x40] {
            fs::write(dir.join(format!("snapshot.{:x}", z)), snapshot_bytes()).unwrap();
        }
        // An invalid newest snapshot does not count towards the retained ones.
        fs::write(dir.join("snapshot.50"), b"partial").unwrap();
        for z in [0x1, 0x11, 0x19, 0x25, 0x41] {
            fs::write(dir.join(format!("log.{:x}", z)), b"").unwrap();
        }
        let deleted = purge(&root, &root, 3).unwrap();
        let mut names: Vec<String> = deleted
            .iter()
            .map(|p| util::file_name(p).to_string())
            .collect();
        names.sort();
        // Oldest kept snapshot is 0x20: log.19 covers it and stays.
        assert_eq!(names, ["log.1", "log.11", "snapshot.10"]);
        assert!(dir.join("log.19").exists() && dir.join("snapshot.50").exists());
        assert!(purge(&root, &root, 2).is_err());
        fs::remove_dir_all(&root).unwrap();
    }
}
