//! `dirs`: bytes used by the txn log and snapshot directories.
//!
//! Java's naming is crossed and we keep it: `datadir_size` is the size of
//! the *log* directory and `logdir_size` that of the *snapshot* directory
//! (`ZooKeeperServer.getDataDirSize` reads `snapLog.getDataDir()`, the log
//! dir). Runs on the asking thread; walks the directories.
//!
//! Mirrors: `org.apache.zookeeper.server.command.DirsCommand` and
//! `ZooKeeperServer.getDataDirSize` / `getLogDirSize`.

use std::path::{Path, PathBuf};

use crate::server::zookeeper_server::ZooKeeperServer;

/// `<dataDir>/version-2`: where snapshots live.
pub fn snap_dir(server: &ZooKeeperServer) -> PathBuf {
    server.config().data_dir.join("version-2")
}

/// `<dataLogDir>/version-2`: where txn logs live.
pub fn log_dir(server: &ZooKeeperServer) -> PathBuf {
    server.config().data_log_dir.join("version-2")
}

/// Total bytes of the files under `path` (0 if unreadable).
pub fn dir_size(path: &Path) -> u64 {
    match std::fs::symlink_metadata(path) {
        Ok(meta) if meta.is_dir() => std::fs::read_dir(path)
            .map(|entries| entries.flatten().map(|e| dir_size(&e.path())).sum())
            .unwrap_or(0),
        Ok(meta) => meta.len(),
        Err(_) => 0,
    }
}

/// (`datadir_size`, `logdir_size`) as Java computes them.
pub fn sizes(server: &ZooKeeperServer) -> (u64, u64) {
    (dir_size(&log_dir(server)), dir_size(&snap_dir(server)))
}

/// The whole answer.
pub fn run(server: &ZooKeeperServer) -> String {
    let (data, log) = sizes(server);
    format!("datadir_size: {}\nlogdir_size: {}\n", data, log)
}

#[cfg(test)]
mod tests {
    use super::dir_size;

    #[test]
    fn sums_files_recursively() {
        let dir = std::env::temp_dir().join(format!("zk-dirs-test-{}", std::process::id()));
        std::fs::create_dir_all(dir.join("sub")).unwrap();
        std::fs::write(dir.join("a"), [0u8; 10]).unwrap();
        std::fs::write(dir.join("sub/b"), [0u8; 5]).unwrap();
        assert_eq!(dir_size(&dir), 15);
        assert_eq!(dir_size(&dir.join("missing")), 0);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
