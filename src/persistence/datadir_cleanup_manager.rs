//! Periodic purge of old snapshots and logs (`autopurge.purgeInterval`
//! hours, keeping `autopurge.snapRetainCount` snapshots). Runs its own
//! "PurgeTask" thread: first purge at start, then every interval, until
//! shut down.
//!
//! Mirrors: `org.apache.zookeeper.server.DatadirCleanupManager`.

use std::path::PathBuf;
use std::sync::mpsc::{self, RecvTimeoutError, Sender};
use std::thread::JoinHandle;
use std::time::Duration;

use log::{error, info, warn};

use super::purge_txn_log::{self, MIN_SNAP_RETAIN_COUNT};
use crate::config::server_config::ServerConfig;

/// The purge timer of one server.
pub struct DatadirCleanupManager {
    snap_dir: PathBuf,
    data_log_dir: PathBuf,
    /// At least 3 (smaller values are raised, with a warning).
    snap_retain_count: usize,
    /// Hours between purges; 0 = never.
    purge_interval_hours: u64,
    /// Dropping the sender wakes and stops the thread.
    stop: Option<Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl DatadirCleanupManager {
    /// A manager for the directories and settings of `config`.
    pub fn new(config: &ServerConfig) -> DatadirCleanupManager {
        let mut retain = config.autopurge_snap_retain_count;
        if retain < MIN_SNAP_RETAIN_COUNT {
            warn!(
                "Invalid autopurge.snapRetainCount: {}, setting it to {}",
                retain, MIN_SNAP_RETAIN_COUNT
            );
            retain = MIN_SNAP_RETAIN_COUNT;
        }
        info!("autopurge.snapRetainCount set to {}", retain);
        info!(
            "autopurge.purgeInterval set to {}",
            config.autopurge_purge_interval_hours
        );
        DatadirCleanupManager {
            snap_dir: config.data_dir.clone(),
            data_log_dir: config.data_log_dir.clone(),
            snap_retain_count: retain,
            purge_interval_hours: config.autopurge_purge_interval_hours,
            stop: None,
            thread: None,
        }
    }

    /// Starts the purge thread (nothing when the interval is 0).
    pub fn start(&mut self) {
        if self.thread.is_some() {
            warn!("Purge task is already running.");
            return;
        }
        if self.purge_interval_hours == 0 {
            info!("Purge task is not scheduled.");
            return;
        }
        let (tx, rx) = mpsc::channel::<()>();
        let interval = Duration::from_secs(self.purge_interval_hours.saturating_mul(3600));
        let (logs, snaps, retain) = (
            self.data_log_dir.clone(),
            self.snap_dir.clone(),
            self.snap_retain_count,
        );
        let spawned = std::thread::Builder::new()
            .name("PurgeTask".into())
            .spawn(move || loop {
                run_purge(&logs, &snaps, retain);
                match rx.recv_timeout(interval) {
                    Err(RecvTimeoutError::Timeout) => continue,
                    _ => break,
                }
            });
        match spawned {
            Ok(handle) => {
                self.stop = Some(tx);
                self.thread = Some(handle);
            }
            Err(e) => error!("Unable to start the purge task: {}", e),
        }
    }

    /// Stops the purge thread and waits for it.
    pub fn shutdown(&mut self) {
        match self.thread.take() {
            Some(handle) => {
                info!("Shutting down purge task.");
                self.stop = None;
                let _ = handle.join();
            }
            None => warn!("Purge task not started. Ignoring shutdown!"),
        }
    }
}

impl Drop for DatadirCleanupManager {
    fn drop(&mut self) {
        if self.thread.is_some() {
            self.shutdown();
        }
    }
}

fn run_purge(logs: &std::path::Path, snaps: &std::path::Path, retain: usize) {
    info!("Purge task started.");
    if let Err(e) = purge_txn_log::purge(logs, snaps, retain) {
        error!("Error occurred while purging: {}", e);
    }
    info!("Purge task completed.");
}
