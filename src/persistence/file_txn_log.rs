//! Writing the txn log: append records to `log.<first zxid>`, make them
//! durable with one flush + fsync per batch (`commit`), roll to a new file,
//! and truncate to a zxid. Owned by the SyncRequestProcessor thread (through
//! `ZkDatabase`'s lock); truncation runs while nothing is appending.
//!
//! A record is `checksum:long length:int payload 0x42`, the checksum being
//! the Adler-32 of the payload only (Java's class comment says otherwise;
//! its code does this).
//!
//! Mirrors: `org.apache.zookeeper.server.persistence.FileTxnLog`.

use std::fs::{File, OpenOptions};
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use log::{debug, info, warn};

use super::file_padding::{FilePadding, DEFAULT_PRE_ALLOC_SIZE};
use super::txn_iterator::{files_for_zxid, TxnIterator, END_OF_RECORD};
use super::util::{self, FILE_HEADER_LEN};
use super::{Error, IoContext, Result};
use crate::config::server_config::ServerConfig;
use crate::jute::txn::TxnLogEntry;
use crate::jute::Record;

/// The tunables of the log writer (from zoo.cfg / system properties).
#[derive(Debug, Clone)]
pub struct TxnLogOptions {
    /// `preAllocSize` in bytes (0 = no pre-allocation).
    pub pre_alloc_size: u64,
    /// `forceSync`: fsync on commit (`no` only flushes to the OS).
    pub force_sync: bool,
    /// `fsync.warningthresholdms`: fsyncs slower than this are logged.
    pub fsync_warning_threshold: Duration,
    /// `txnLogSizeLimitInKb` in bytes: roll after a commit past it.
    pub size_limit: Option<u64>,
}

impl Default for TxnLogOptions {
    fn default() -> Self {
        TxnLogOptions {
            pre_alloc_size: DEFAULT_PRE_ALLOC_SIZE,
            force_sync: true,
            fsync_warning_threshold: Duration::from_millis(1000),
            size_limit: None,
        }
    }
}

impl TxnLogOptions {
    /// The options a server configuration asks for.
    pub fn from_config(config: &ServerConfig) -> TxnLogOptions {
        TxnLogOptions {
            pre_alloc_size: config.pre_alloc_size_kb.saturating_mul(1024),
            force_sync: config.force_sync,
            fsync_warning_threshold: Duration::from_millis(config.fsync_warning_threshold_ms),
            size_limit: if config.txn_log_size_limit_kb > 0 {
                Some(config.txn_log_size_limit_kb as u64 * 1024)
            } else {
                None
            },
        }
    }
}

/// The file currently appended to.
struct CurrentLog {
    path: PathBuf,
    writer: BufWriter<File>,
    padding: FilePadding,
    /// Bytes written so far, buffered or not (where the next record goes).
    position: u64,
}

/// The txn log writer of one `version-2` log directory.
pub struct FileTxnLog {
    /// `<dataLogDir>/version-2`.
    dir: PathBuf,
    options: TxnLogOptions,
    /// Open until the next roll; `None` means the next append starts a file.
    current: Option<CurrentLog>,
    /// Files rolled away since the last commit: fsynced by the next commit,
    /// then closed.
    rolled: Vec<(PathBuf, File)>,
    /// Highest zxid appended (a lower one is logged, as Java does).
    last_zxid_seen: i64,
    /// Sizes of the files rolled since the counters were reset.
    prev_logs_total: u64,
    /// Duration of the last fsync, for `mntr`/`stat`.
    last_sync_elapsed: Option<Duration>,
    /// Count of fsyncs slower than the warning threshold.
    fsync_threshold_exceeded: u64,
    /// A log file was created since the directory was last fsynced: the
    /// next commit syncs the directory too, or a power loss could forget
    /// the file's name (and every txn in it) after its txns were acked.
    dir_unsynced: bool,
}

impl FileTxnLog {
    /// A writer for `dir` (the `version-2` directory). Nothing is opened
    /// until the first append: Java never appends to an existing file.
    pub fn new(dir: &Path, options: TxnLogOptions) -> FileTxnLog {
        FileTxnLog {
            dir: dir.to_path_buf(),
            options,
            current: None,
            rolled: Vec::new(),
            last_zxid_seen: 0,
            prev_logs_total: 0,
            last_sync_elapsed: None,
            fsync_threshold_exceeded: 0,
            dir_unsynced: false,
        }
    }

    /// The log directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The writer's tunables.
    pub fn options(&self) -> &TxnLogOptions {
        &self.options
    }

    /// Appends a txn (not durable until [`commit`](Self::commit)).
    pub fn append(&mut self, entry: &TxnLogEntry) -> Result<()> {
        self.append_payload(entry.header.zxid, &entry.to_bytes())
    }

    /// Appends an already encoded payload (TxnHeader + body + digest), as a
    /// learner logs a PROPOSAL's bytes.
    pub fn append_payload(&mut self, zxid: i64, payload: &[u8]) -> Result<()> {
        if payload.is_empty() {
            return Err(Error::corrupt(&self.dir, 0, "empty txn payload"));
        }
        if zxid <= self.last_zxid_seen {
            warn!("Current zxid {:#x} is <= {:#x}", zxid, self.last_zxid_seen);
        } else {
            self.last_zxid_seen = zxid;
        }
        if self.current.is_none() {
            self.current = Some(self.create_log(zxid)?);
        }
        let log = self.current.as_mut().expect("created above");
        log.padding
            .pad_file(log.writer.get_ref(), log.position)
            .on(&log.path)?;
        let mut record = Vec::with_capacity(payload.len() + 13);
        record.extend_from_slice(&util::adler32(payload).to_be_bytes());
        record.extend_from_slice(&(payload.len() as i32).to_be_bytes());
        record.extend_from_slice(payload);
        record.push(END_OF_RECORD);
        log.writer.write_all(&record).on(&log.path)?;
        log.position += record.len() as u64;
        Ok(())
    }

    /// Creates `log.<zxid>` and writes its header.
    fn create_log(&mut self, zxid: i64) -> Result<CurrentLog> {
        let path = self.dir.join(util::make_log_name(zxid));
        info!("Creating new log file: {}", util::file_name(&path));
        let file = OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .open(&path)
            .on(&path)?;
        self.dir_unsynced = true;
        let mut writer = BufWriter::with_capacity(64 * 1024, file);
        let mut oa = crate::jute::OutputArchive::new(&mut writer);
        util::txn_log_header().serialize(&mut oa).on(&path)?;
        // The header goes to the file before any padding.
        writer.flush().on(&path)?;
        let padding = FilePadding::new(self.options.pre_alloc_size, FILE_HEADER_LEN);
        Ok(CurrentLog {
            path,
            writer,
            padding,
            position: FILE_HEADER_LEN,
        })
    }

    /// Makes every append so far durable: flush, then fsync each file
    /// written since the last commit (unless forceSync=no). Rolls the log
    /// afterwards if it grew past `txnLogSizeLimitInKb`.
    pub fn commit(&mut self) -> Result<()> {
        if let Some(log) = self.current.as_mut() {
            log.writer.flush().on(&log.path)?;
        }
        if self.options.force_sync {
            for (path, file) in std::mem::take(&mut self.rolled) {
                let elapsed = fsync(&path, &file)?;
                self.record_sync(elapsed, &file);
            }
            if let Some(log) = self.current.as_ref() {
                let file = log.writer.get_ref();
                let elapsed = fsync(&log.path, file)?;
                let threshold = self.options.fsync_warning_threshold;
                self.last_sync_elapsed = Some(elapsed);
                if elapsed > threshold {
                    self.fsync_threshold_exceeded += 1;
                    warn_slow_fsync(elapsed, file);
                }
            }
            if self.dir_unsynced {
                util::sync_dir(&self.dir).on(&self.dir)?;
                self.dir_unsynced = false;
            }
        } else {
            self.rolled.clear();
        }
        if let Some(limit) = self.options.size_limit {
            let size = self.current_log_size();
            if size > limit {
                debug!("Log size limit reached: {}", size);
                self.roll_log()?;
            }
        }
        Ok(())
    }

    /// Notes an fsync's duration, warning when it was slow.
    fn record_sync(&mut self, elapsed: Duration, file: &File) {
        self.last_sync_elapsed = Some(elapsed);
        if elapsed > self.options.fsync_warning_threshold {
            self.fsync_threshold_exceeded += 1;
            warn_slow_fsync(elapsed, file);
        }
    }

    /// Ends the current file: the next append starts `log.<its zxid>`. The
    /// rolled file is fsynced by the next commit.
    pub fn roll_log(&mut self) -> Result<()> {
        if let Some(mut log) = self.current.take() {
            log.writer.flush().on(&log.path)?;
            self.prev_logs_total += current_size(&log);
            let file = log
                .writer
                .into_inner()
                .map_err(|e| Error::io(&log.path, e.into_error()))?;
            self.rolled.push((log.path, file));
        }
        Ok(())
    }

    /// Size of the current file: its padded size, as Java measures it.
    pub fn current_log_size(&self) -> u64 {
        self.current.as_ref().map(current_size).unwrap_or(0)
    }

    /// Bytes logged since the counters were reset (rolled files included).
    pub fn total_log_size(&self) -> u64 {
        self.prev_logs_total + self.current_log_size()
    }

    /// Resets the rolled-files part of [`total_log_size`](Self::total_log_size).
    pub fn set_total_log_size(&mut self, size: u64) {
        self.prev_logs_total = size;
    }

    /// Duration of the last fsync.
    pub fn last_sync_elapsed(&self) -> Option<Duration> {
        self.last_sync_elapsed
    }

    /// How many fsyncs exceeded `fsync.warningthresholdms`.
    pub fn fsync_threshold_exceeded(&self) -> u64 {
        self.fsync_threshold_exceeded
    }

    /// Flushes and closes every file (no fsync: commit first).
    pub fn close(&mut self) -> Result<()> {
        if let Some(mut log) = self.current.take() {
            log.writer.flush().on(&log.path)?;
        }
        self.rolled.clear();
        Ok(())
    }
}

impl Drop for FileTxnLog {
    fn drop(&mut self) {
        if let Err(e) = self.close() {
            warn!("closing the txn log: {}", e);
        }
    }
}

/// fsyncs one file (data only, as Java's `force(false)`); returns how long
/// it took.
fn fsync(path: &Path, file: &File) -> Result<Duration> {
    let started = Instant::now();
    file.sync_data().on(path)?;
    Ok(started.elapsed())
}

fn warn_slow_fsync(elapsed: Duration, file: &File) {
    let size = file.metadata().map(|m| m.len()).unwrap_or(0);
    warn!(
        "fsync-ing the write ahead log in {} took {}ms which will adversely effect \
         operation latency. File size is {} bytes. See the ZooKeeper troubleshooting guide",
        std::thread::current().name().unwrap_or("?"),
        elapsed.as_millis(),
        size
    );
}

fn current_size(log: &CurrentLog) -> u64 {
    log.padding.current_size().max(log.position)
}

/// Cuts the logs of `dir` right after the last record with a zxid at or
/// below `zxid`, and deletes every later log file (a TRUNC from a leader).
/// Fails when there is no log to cut.
pub fn truncate(dir: &Path, zxid: i64) -> Result<()> {
    let files = files_for_zxid(dir, zxid);
    // The file holding `zxid` is the newest one starting at or before it.
    let keep_upto = files
        .iter()
        .rposition(|f| util::zxid_from_name(util::file_name(f), util::LOG_FILE_PREFIX) <= zxid);
    let target = match keep_upto {
        Some(i) => i,
        None => {
            return Err(Error::DataDir(format!(
                "No log files found to truncate in {}! This could happen if you still have \
                 snapshots from an old setup or log files were deleted accidentally or \
                 dataLogDir was changed in zoo.cfg.",
                dir.display()
            )))
        }
    };
    let path = files[target].clone();
    let cut = end_of_records_upto(&path, zxid)?;
    let file = OpenOptions::new().write(true).open(&path).on(&path)?;
    file.set_len(cut).on(&path)?;
    file.sync_all().on(&path)?;
    info!(
        "Truncated {} at offset {} (zxid {:#x})",
        path.display(),
        cut,
        zxid
    );
    for later in util::list_files(dir, util::LOG_FILE_PREFIX, true) {
        if util::zxid_from_name(util::file_name(&later), util::LOG_FILE_PREFIX)
            > util::zxid_from_name(util::file_name(&path), util::LOG_FILE_PREFIX)
        {
            if let Err(e) = std::fs::remove_file(&later) {
                warn!("Unable to truncate {}: {}", later.display(), e);
            }
        }
    }
    // The removals are durable once the directory is: a power loss must
    // not bring back a log holding the txns just cut.
    util::sync_dir(dir).on(dir)
}

/// Offset just after the last record of `path` with zxid <= `zxid`.
fn end_of_records_upto(path: &Path, zxid: i64) -> Result<u64> {
    let mut itr = TxnIterator::over_files(vec![path.to_path_buf()], i64::MIN).read_only();
    let mut cut = FILE_HEADER_LEN;
    while let Some(txn) = itr.next_txn()? {
        if txn.zxid() > zxid {
            break;
        }
        cut = itr.position().map(|(_, off)| off).unwrap_or(cut);
    }
    Ok(cut)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::jute::txn::{CreateSessionTxn, TxnBody, TxnDigest, TxnHeader};
    use crate::persistence::txn_iterator::TxnIterator;

    fn temp_dir(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("zkrs-ftl-{}-{}", name, std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    fn session_txn(zxid: i64) -> TxnLogEntry {
        TxnLogEntry {
            header: TxnHeader {
                client_id: 0x100 + zxid,
                cxid: 0,
                zxid,
                time: 1_700_000_000_000,
                r#type: -10,
            },
            body: TxnBody::CreateSession(CreateSessionTxn { time_out: 30000 }),
            digest: Some(TxnDigest {
                version: 2,
                tree_digest: zxid * 7,
            }),
        }
    }

    fn small() -> TxnLogOptions {
        TxnLogOptions {
            pre_alloc_size: 4096,
            ..TxnLogOptions::default()
        }
    }

    fn read_all(dir: &Path, from: i64) -> Vec<i64> {
        TxnIterator::new(dir, from)
            .map(|t| t.unwrap().zxid())
            .collect()
    }

    #[test]
    fn record_layout_is_javas() {
        let dir = temp_dir("layout");
        let mut log = FileTxnLog::new(&dir, small());
        let entry = session_txn(1);
        log.append(&entry).unwrap();
        log.commit().unwrap();
        let bytes = std::fs::read(dir.join("log.1")).unwrap();
        assert_eq!(
            &bytes[..16],
            &[0x5a, 0x4b, 0x4c, 0x47, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0]
        );
        let payload = entry.to_bytes();
        assert_eq!(payload.len(), 48); // 32 header + 4 timeout + 12 digest
        assert_eq!(&bytes[16..24], &util::adler32(&payload).to_be_bytes());
        assert_eq!(&bytes[24..28], &48i32.to_be_bytes());
        assert_eq!(&bytes[28..76], &payload[..]);
        assert_eq!(bytes[76], 0x42);
        // Pre-allocated with zeros.
        assert_eq!(bytes.len(), 16 + 4096);
        assert!(bytes[77..].iter().all(|&b| b == 0));
    }

    #[test]
    fn roll_starts_a_file_named_after_its_first_zxid() {
        let dir = temp_dir("roll");
        let mut log = FileTxnLog::new(&dir, small());
        for z in 1..=3 {
            log.append(&session_txn(z)).unwrap();
        }
        log.roll_log().unwrap();
        for z in 4..=5 {
            log.append(&session_txn(z)).unwrap();
        }
        log.commit().unwrap();
        assert!(dir.join("log.1").exists() && dir.join("log.4").exists());
        assert_eq!(read_all(&dir, 0), [1, 2, 3, 4, 5]);
        assert_eq!(read_all(&dir, 3), [3, 4, 5]);
        assert_eq!(read_all(&dir, 5), [5]);
        assert!(read_all(&dir, 6).is_empty());
    }

    #[test]
    fn size_limit_rolls_after_commit() {
        let dir = temp_dir("limit");
        let opts = TxnLogOptions {
            pre_alloc_size: 0,
            size_limit: Some(100),
            ..TxnLogOptions::default()
        };
        let mut log = FileTxnLog::new(&dir, opts);
        for z in 1..=4 {
            log.append(&session_txn(z)).unwrap();
            log.commit().unwrap();
        }
        // 16 + 61 = 77 <= 100, then 138 > 100 -> roll after zxid 2 and 4.
        let names: Vec<String> = util::list_files(&dir, "log", true)
            .iter()
            .map(|p| util::file_name(p).to_string())
            .collect();
        assert_eq!(names, ["log.1", "log.3"]);
    }

    #[test]
    fn truncate_cuts_after_the_zxid_and_drops_later_files() {
        let dir = temp_dir("trunc");
        let mut log = FileTxnLog::new(&dir, small());
        for z in 1..=4 {
            log.append(&session_txn(z)).unwrap();
        }
        log.roll_log().unwrap();
        log.append(&session_txn(5)).unwrap();
        log.commit().unwrap();
        drop(log);
        truncate(&dir, 2).unwrap();
        assert!(!dir.join("log.5").exists());
        assert_eq!(read_all(&dir, 0), [1, 2]);
        assert_eq!(
            std::fs::metadata(dir.join("log.1")).unwrap().len(),
            16 + 2 * 61
        );
        // Appending after a truncation works and is read back.
        let mut log = FileTxnLog::new(&dir, small());
        log.append(&session_txn(3)).unwrap();
        log.commit().unwrap();
        assert_eq!(read_all(&dir, 0), [1, 2, 3]);
    }

    #[test]
    fn truncate_without_logs_fails() {
        let dir = temp_dir("trunc-none");
        assert!(truncate(&dir, 5).is_err());
    }
}
