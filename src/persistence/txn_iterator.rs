//! Reading txn logs: every record from a given zxid on, across files, with
//! Java's rules for where a log ends. Used on the loading thread (restore),
//! by the toolkit, and by truncation.
//!
//! A file ends, quietly, at: the end of the file, a zero record length (the
//! pre-allocated zeros), or a record without its 0x42 end byte (a partial
//! last write). Reading then goes on with the next file. A complete record
//! whose checksum is wrong, an absurd length, a bad magic number or an
//! undecodable txn is corruption: an error naming the file and offset.
//!
//! Mirrors: `org.apache.zookeeper.server.persistence.FileTxnLog.FileTxnIterator`
//! and `Util.readTxnBytes`.

use std::collections::VecDeque;
use std::fs::{self, File};
use std::io::BufReader;
use std::path::{Path, PathBuf};

use byteorder::{BigEndian, ByteOrder};
use log::{debug, warn};

use super::util::{self, read_fully, read_up_to, FILE_HEADER_LEN, LOG_FILE_PREFIX, TXNLOG_MAGIC};
use super::{Error, IoContext, Result};
use crate::jute::txn::TxnLogEntry;

/// The byte that ends every log record ('B').
pub const END_OF_RECORD: u8 = 0x42;
/// Checksum (8) + length (4) + end byte (1) around each payload.
pub const RECORD_OVERHEAD: u64 = 13;

/// One txn read from a log, with where it was found.
#[derive(Debug, Clone)]
pub struct LoggedTxn {
    /// The decoded header, body and digest.
    pub entry: TxnLogEntry,
    /// The raw payload (what a PROPOSAL would carry).
    pub payload: Vec<u8>,
    /// The file it came from.
    pub path: PathBuf,
    /// Offset of the record's checksum field in that file.
    pub offset: u64,
}

impl LoggedTxn {
    /// The txn's zxid.
    pub fn zxid(&self) -> i64 {
        self.entry.header.zxid
    }
}

/// Why a file stopped yielding records (for tools and tests).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogEnd {
    /// The file ended exactly after the last record.
    Eof,
    /// A zero length: the pre-allocated, never written part.
    ZeroPadding,
    /// A record cut short by the end of the file or lacking its end byte.
    PartialRecord,
}

/// Reads the records of one log file, front to back.
pub struct LogFileReader {
    /// The file being read.
    path: PathBuf,
    reader: BufReader<File>,
    /// Offset of the next unread byte (after the last complete record).
    offset: u64,
    /// How the file ended, once it has.
    end: Option<LogEnd>,
}

impl LogFileReader {
    /// Opens a log and checks its header. `Ok(None)` when the file is the
    /// empty last log of a crash right after its creation: it is deleted,
    /// as Java 3.9.3+ does (ZOOKEEPER-2332), unless `read_only`.
    pub fn open(path: &Path, is_last: bool, read_only: bool) -> Result<Option<LogFileReader>> {
        let file = File::open(path).on(path)?;
        let len = file.metadata().on(path)?.len();
        if len == 0 && is_last {
            if read_only {
                warn!("{}: empty last log file", path.display());
            } else {
                warn!("{}: empty last log file, deleting it", path.display());
                fs::remove_file(path).on(path)?;
            }
            return Ok(None);
        }
        let mut reader = BufReader::with_capacity(64 * 1024, file);
        let mut header = [0u8; FILE_HEADER_LEN as usize];
        if !read_fully(&mut reader, &mut header).on(path)? {
            return Err(Error::corrupt(path, 0, "truncated file header"));
        }
        let magic = BigEndian::read_i32(&header[0..4]);
        if magic != TXNLOG_MAGIC {
            return Err(Error::BadMagic {
                path: path.to_path_buf(),
                found: magic,
                expected: TXNLOG_MAGIC,
            });
        }
        Ok(Some(LogFileReader {
            path: path.to_path_buf(),
            reader,
            offset: FILE_HEADER_LEN,
            end: None,
        }))
    }

    /// The file being read.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Offset just after the last complete record read.
    pub fn offset(&self) -> u64 {
        self.offset
    }

    /// How the file ended (`None` while records remain).
    pub fn end(&self) -> Option<LogEnd> {
        self.end
    }

    /// The next complete record, or `None` at the end of the file.
    pub fn next_record(&mut self) -> Result<Option<LoggedTxn>> {
        if self.end.is_some() {
            return Ok(None);
        }
        let start = self.offset;
        let mut head = [0u8; 12];
        let got = read_up_to(&mut self.reader, &mut head).on(&self.path)?;
        if got < head.len() {
            return self.finish(if got == 0 {
                LogEnd::Eof
            } else {
                LogEnd::PartialRecord
            });
        }
        let checksum = BigEndian::read_i64(&head[0..8]);
        let length = BigEndian::read_i32(&head[8..12]);
        if length == 0 {
            return self.finish(LogEnd::ZeroPadding);
        }
        if length < 0 || length as usize > crate::jute::max_field_length() {
            return Err(Error::UnreasonableLength {
                path: self.path.clone(),
                offset: start + 8,
                length: i64::from(length),
            });
        }
        let mut payload = vec![0u8; length as usize];
        if !read_fully(&mut self.reader, &mut payload).on(&self.path)? {
            return self.finish(LogEnd::PartialRecord);
        }
        let mut eor = [0u8; 1];
        if !read_fully(&mut self.reader, &mut eor).on(&self.path)? || eor[0] != END_OF_RECORD {
            return self.finish(LogEnd::PartialRecord);
        }
        if util::adler32(&payload) != checksum {
            return Err(Error::ChecksumMismatch {
                path: self.path.clone(),
                offset: start,
            });
        }
        let entry = match TxnLogEntry::from_bytes(&payload) {
            Ok(entry) => entry,
            // Java reads a payload too short for its txn as the end of the file.
            Err(crate::jute::Error::Incomplete) => return self.finish(LogEnd::PartialRecord),
            Err(e) => {
                return Err(Error::corrupt(
                    &self.path,
                    start,
                    format!("undecodable txn: {}", e),
                ))
            }
        };
        self.offset = start + RECORD_OVERHEAD + length as u64;
        Ok(Some(LoggedTxn {
            entry,
            payload,
            path: self.path.clone(),
            offset: start,
        }))
    }

    /// Records how the file ended; a partial record gets a warning.
    fn finish(&mut self, end: LogEnd) -> Result<Option<LoggedTxn>> {
        match end {
            LogEnd::PartialRecord => warn!(
                "{}: partial record at offset {}, treating it as the end of the log",
                self.path.display(),
                self.offset
            ),
            _ => debug!(
                "{}: end of log at offset {} ({:?})",
                self.path.display(),
                self.offset,
                end
            ),
        }
        self.end = Some(end);
        Ok(None)
    }
}

/// Every txn from a zxid on, across log files in order.
pub struct TxnIterator {
    /// Files still to open, oldest first.
    files: VecDeque<PathBuf>,
    /// The file being read.
    current: Option<LogFileReader>,
    /// Records below this zxid are skipped until the first one at or above.
    start_zxid: i64,
    /// Whether the skipping is over.
    fast_forwarded: bool,
    /// Inspection mode: never delete an empty last file.
    read_only: bool,
}

impl TxnIterator {
    /// Reads `dir` from `zxid` on: the newest file starting below `zxid`
    /// and every file starting at or after it (Java's file choice).
    pub fn new(dir: &Path, zxid: i64) -> TxnIterator {
        TxnIterator::over_files(files_for_zxid(dir, zxid), zxid)
    }

    /// Reads the given files in order, skipping records below `zxid`.
    pub fn over_files(files: Vec<PathBuf>, zxid: i64) -> TxnIterator {
        TxnIterator {
            files: files.into(),
            current: None,
            start_zxid: zxid,
            fast_forwarded: false,
            read_only: false,
        }
    }

    /// Never modifies the directory (for inspection tools).
    pub fn read_only(mut self) -> TxnIterator {
        self.read_only = true;
        self
    }

    /// The next txn, `Ok(None)` when every file is done.
    pub fn next_txn(&mut self) -> Result<Option<LoggedTxn>> {
        loop {
            if self.current.is_none() && !self.open_next()? {
                return Ok(None);
            }
            let reader = self.current.as_mut().expect("opened above");
            match reader.next_record()? {
                Some(txn) if !self.fast_forwarded && txn.zxid() < self.start_zxid => continue,
                Some(txn) => {
                    self.fast_forwarded = true;
                    return Ok(Some(txn));
                }
                None => {
                    if self.files.is_empty() {
                        return Ok(None);
                    }
                    self.current = None;
                }
            }
        }
    }

    /// The file being read and the offset after its last complete record.
    pub fn position(&self) -> Option<(&Path, u64)> {
        self.current.as_ref().map(|r| (r.path(), r.offset()))
    }

    /// Opens the next file; false when none is left.
    fn open_next(&mut self) -> Result<bool> {
        while let Some(path) = self.files.pop_front() {
            if let Some(reader) = LogFileReader::open(&path, self.files.is_empty(), self.read_only)?
            {
                self.current = Some(reader);
                return Ok(true);
            }
        }
        Ok(false)
    }
}

impl Iterator for TxnIterator {
    type Item = Result<LoggedTxn>;

    fn next(&mut self) -> Option<Self::Item> {
        self.next_txn().transpose()
    }
}

/// The files an iterator from `zxid` reads, oldest first: every log
/// starting at or after `zxid`, plus the newest one starting before it.
pub fn files_for_zxid(dir: &Path, zxid: i64) -> Vec<PathBuf> {
    let mut chosen = Vec::new();
    for f in util::list_files(dir, LOG_FILE_PREFIX, false) {
        let start = util::zxid_from_name(util::file_name(&f), LOG_FILE_PREFIX);
        chosen.push(f);
        if start < zxid {
            break;
        }
    }
    chosen.reverse();
    chosen
}

/// The highest zxid logged in `dir`, or -1 without logs. Like Java, the
/// newest file's start zxid counts even if the file holds no record; a
/// read error ends the scan with a warning.
pub fn last_logged_zxid(dir: &Path) -> i64 {
    let files = util::list_files(dir, LOG_FILE_PREFIX, true);
    let newest = match files.last() {
        Some(f) => util::zxid_from_name(util::file_name(f), LOG_FILE_PREFIX),
        None => return -1,
    };
    let mut zxid = newest;
    let mut itr = TxnIterator::new(dir, newest).read_only();
    loop {
        match itr.next_txn() {
            Ok(Some(txn)) => zxid = txn.zxid(),
            Ok(None) => break,
            Err(e) => {
                warn!("reading the last logged zxid: {}", e);
                break;
            }
        }
    }
    zxid
}
