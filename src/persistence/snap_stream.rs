//! Snapshot streams: plain, gzip or snappy-java compressed, with a running
//! Adler-32 over the *uncompressed* bytes for the seals; and the quick
//! validity check used to pick snapshots. Runs on the snapshot thread
//! (writing) and the loading thread (reading).
//!
//! The codec of a file follows from the last component of its name
//! (`.gz`, `.snappy`, anything else = plain), whatever the configured
//! `snapshot.compression.method` is; the setting only picks how new
//! snapshots are written.
//!
//! Mirrors: `org.apache.zookeeper.server.persistence.SnapStream` and
//! `org.apache.zookeeper.common.AtomicFileOutputStream`.

use std::fs::{self, File};
use std::io::{self, BufReader, BufWriter, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::time::Instant;

use flate2::read::MultiGzDecoder;
use flate2::write::GzEncoder;
use log::info;

use super::snappy_stream::{SnappyJavaReader, SnappyJavaWriter, MAGIC as SNAPPY_MAGIC};
use super::util::{self, SNAPSHOT_FILE_PREFIX};
use super::{Error, IoContext, Result};
use crate::config::server_config::SnapshotCompression;
use crate::jute::{InputArchive, OutputArchive};

/// How a snapshot file is encoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StreamMode {
    /// Plain bytes ("CHECKED" in Java).
    Checked,
    /// gzip, `.gz`.
    Gzip,
    /// snappy-java stream, `.snappy`.
    Snappy,
}

impl StreamMode {
    /// Java's `StreamMode.fromString`: case-insensitive "gz" / "snappy",
    /// anything else is plain.
    pub fn from_name(name: &str) -> StreamMode {
        if name.eq_ignore_ascii_case("gz") {
            StreamMode::Gzip
        } else if name.eq_ignore_ascii_case("snappy") {
            StreamMode::Snappy
        } else {
            StreamMode::Checked
        }
    }

    /// The codec of a file, from the last '.'-component of its name.
    pub fn from_file_name(name: &str) -> StreamMode {
        match name.rsplit_once('.') {
            Some((_, ext)) => StreamMode::from_name(ext),
            None => StreamMode::Checked,
        }
    }

    /// The configured mode.
    pub fn from_config(c: SnapshotCompression) -> StreamMode {
        match c {
            SnapshotCompression::None => StreamMode::Checked,
            SnapshotCompression::Gz => StreamMode::Gzip,
            SnapshotCompression::Snappy => StreamMode::Snappy,
        }
    }

    /// The file-name extension: "", ".gz" or ".snappy".
    pub fn extension(self) -> &'static str {
        match self {
            StreamMode::Checked => "",
            StreamMode::Gzip => ".gz",
            StreamMode::Snappy => ".snappy",
        }
    }
}

/// A reader that keeps the Adler-32 and count of the bytes read through it.
///
/// Buffered itself: a snapshot is read field by field (4 and 8 bytes at a
/// time), so the reads are served from `buf` and the checksum is brought
/// up to date over the consumed bytes in bulk (when the buffer is
/// refilled, and when asked for), instead of once per field.
pub struct CheckedReader<R> {
    inner: R,
    /// Bytes read from `inner`; `buf[pos..filled]` not consumed yet.
    buf: Box<[u8]>,
    pos: usize,
    filled: usize,
    /// `buf[..summed]` is already in `adler` (`summed <= pos`).
    summed: usize,
    adler: simd_adler32::Adler32,
    /// Bytes consumed so far.
    position: u64,
}

/// Size of a `CheckedReader`'s buffer (the size of the file buffer under
/// it, so refills go straight through that one).
const CHECKED_READER_BUFFER: usize = 256 * 1024;

impl<R: Read> CheckedReader<R> {
    /// Wraps `inner`.
    pub fn new(inner: R) -> Self {
        CheckedReader {
            inner,
            buf: vec![0u8; CHECKED_READER_BUFFER].into_boxed_slice(),
            pos: 0,
            filled: 0,
            summed: 0,
            adler: simd_adler32::Adler32::new(),
            position: 0,
        }
    }

    /// Adler-32 of everything read so far.
    pub fn checksum(&mut self) -> i64 {
        self.sum_consumed();
        i64::from(self.adler.finish())
    }

    /// Uncompressed bytes read so far.
    pub fn position(&self) -> u64 {
        self.position
    }

    /// Adds the consumed bytes not yet in the checksum.
    fn sum_consumed(&mut self) {
        self.adler.write(&self.buf[self.summed..self.pos]);
        self.summed = self.pos;
    }
}

impl<R: Read> Read for CheckedReader<R> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        if self.pos == self.filled {
            self.sum_consumed();
            if out.len() >= self.buf.len() {
                // A large read goes straight through.
                let n = self.inner.read(out)?;
                self.adler.write(&out[..n]);
                self.position += n as u64;
                return Ok(n);
            }
            self.filled = self.inner.read(&mut self.buf)?;
            (self.pos, self.summed) = (0, 0);
        }
        let n = out.len().min(self.filled - self.pos);
        out[..n].copy_from_slice(&self.buf[self.pos..self.pos + n]);
        self.pos += n;
        self.position += n as u64;
        Ok(n)
    }
}

/// A writer that keeps the Adler-32 of the bytes written through it.
pub struct CheckedWriter<W> {
    inner: W,
    adler: simd_adler32::Adler32,
}

impl<W: Write> CheckedWriter<W> {
    /// Wraps `inner`.
    pub fn new(inner: W) -> Self {
        CheckedWriter {
            inner,
            adler: simd_adler32::Adler32::new(),
        }
    }

    /// Adler-32 of everything written so far.
    pub fn checksum(&self) -> i64 {
        i64::from(self.adler.finish())
    }

    /// The wrapped writer.
    pub fn into_inner(self) -> W {
        self.inner
    }
}

impl<W: Write> Write for CheckedWriter<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.adler.write(&buf[..n]);
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

/// The reader type of a snapshot being loaded.
pub type SnapReader = CheckedReader<Box<dyn Read + Send>>;

/// Opens a snapshot for reading with the codec its name implies.
pub fn open_input(path: &Path) -> Result<SnapReader> {
    let file = File::open(path).on(path)?;
    let buffered = BufReader::with_capacity(256 * 1024, file);
    let decoded: Box<dyn Read + Send> = match StreamMode::from_file_name(util::file_name(path)) {
        StreamMode::Checked => Box::new(buffered),
        StreamMode::Gzip => Box::new(MultiGzDecoder::new(buffered)),
        StreamMode::Snappy => Box::new(SnappyJavaReader::new(buffered)),
    };
    let progress = ProgressReader {
        inner: decoded,
        name: util::file_name(path).to_string(),
        read: 0,
        next: PROGRESS_STEP,
        started: Instant::now(),
    };
    Ok(CheckedReader::new(Box::new(progress)))
}

/// Uncompressed bytes between two progress lines while a snapshot loads.
const PROGRESS_STEP: u64 = 256 * 1024 * 1024;

/// Logs how far the loading of a large snapshot has come.
struct ProgressReader<R> {
    inner: R,
    name: String,
    read: u64,
    next: u64,
    started: Instant,
}

impl<R: Read> Read for ProgressReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.read += n as u64;
        if self.read >= self.next {
            info!(
                "Loading {}: {} MiB read in {} ms",
                self.name,
                self.read / (1024 * 1024),
                self.started.elapsed().as_millis()
            );
            self.next += PROGRESS_STEP;
        }
        Ok(n)
    }
}

/// The encoder under a snapshot being written.
pub enum SnapSink {
    /// Plain bytes.
    Plain(BufWriter<File>),
    /// gzip (boxed: the encoder state is large).
    Gzip(Box<GzEncoder<BufWriter<File>>>),
    /// snappy-java (boxed: the encoder's table is large).
    Snappy(Box<SnappyJavaWriter<BufWriter<File>>>),
}

impl Write for SnapSink {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            SnapSink::Plain(w) => w.write(buf),
            SnapSink::Gzip(w) => w.write(buf),
            SnapSink::Snappy(w) => w.write(buf),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match self {
            SnapSink::Plain(w) => w.flush(),
            SnapSink::Gzip(w) => w.flush(),
            SnapSink::Snappy(w) => w.flush(),
        }
    }
}

/// A snapshot file being written. With `fsync`, bytes go to `<name>.tmp`,
/// which is fsynced and renamed over the final name by [`finish`]
/// (Java's AtomicFileOutputStream); otherwise straight to the file.
///
/// [`finish`]: SnapOutput::finish
pub struct SnapOutput {
    /// The archive to serialize into (checksummed, then encoded).
    pub oa: OutputArchive<CheckedWriter<SnapSink>>,
    path: PathBuf,
    tmp: Option<PathBuf>,
}

impl SnapOutput {
    /// Creates `path` (or its temp file) for writing in `mode`.
    pub fn create(path: &Path, mode: StreamMode, fsync: bool) -> Result<SnapOutput> {
        let tmp = if fsync { Some(tmp_path(path)) } else { None };
        let target = tmp.as_deref().unwrap_or(path);
        let file = File::create(target).on(target)?;
        let buffered = BufWriter::with_capacity(256 * 1024, file);
        let sink = match mode {
            StreamMode::Checked => SnapSink::Plain(buffered),
            StreamMode::Gzip => SnapSink::Gzip(Box::new(GzEncoder::new(
                buffered,
                flate2::Compression::default(),
            ))),
            StreamMode::Snappy => SnapSink::Snappy(Box::new(SnappyJavaWriter::new(buffered))),
        };
        Ok(SnapOutput {
            oa: OutputArchive::new(CheckedWriter::new(sink)),
            path: path.to_path_buf(),
            tmp,
        })
    }

    /// Writes a seal: the running Adler-32 as a long, then the string "/".
    pub fn seal(&mut self) -> Result<()> {
        let value = self.oa.inner_mut().checksum();
        self.oa.write_long(value).on(&self.path)?;
        self.oa.write_string("/").on(&self.path)
    }

    /// The final file name.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Ends the encoding, flushes, and (with fsync) syncs and renames.
    pub fn finish(self) -> Result<()> {
        let target = self.tmp.clone().unwrap_or_else(|| self.path.clone());
        let sink = self.oa.into_inner().into_inner();
        let buffered = match sink {
            SnapSink::Plain(w) => w,
            SnapSink::Gzip(w) => (*w).finish().on(&target)?,
            SnapSink::Snappy(w) => (*w).finish().on(&target)?,
        };
        let file = buffered
            .into_inner()
            .map_err(|e| Error::io(&target, e.into_error()))?;
        if let Some(tmp) = &self.tmp {
            file.sync_all().on(tmp)?;
            drop(file);
            fs::rename(tmp, &self.path).on(&self.path)?;
            if let Some(dir) = self.path.parent() {
                // Make the rename itself durable.
                if let Ok(d) = File::open(dir) {
                    let _ = d.sync_all();
                }
            }
        }
        Ok(())
    }

    /// Gives up: removes the partial file.
    pub fn abandon(self) {
        let target = self.tmp.clone().unwrap_or_else(|| self.path.clone());
        drop(self.oa);
        let _ = fs::remove_file(target);
    }
}

fn tmp_path(path: &Path) -> PathBuf {
    let mut name = path
        .file_name()
        .map(|n| n.to_os_string())
        .unwrap_or_default();
    name.push(".tmp");
    path.with_file_name(name)
}

/// Reads a seal and compares it with the checksum of everything before it.
/// Java: `SnapStream.checkSealIntegrity` ("CRC corruption").
pub fn check_seal(ia: &mut InputArchive<SnapReader>, path: &Path) -> Result<()> {
    let expected = ia.inner_mut().checksum();
    let offset = ia.inner_mut().position();
    let value = ia
        .read_long()
        .map_err(|e| Error::corrupt(path, offset, format!("reading seal: {}", e)))?;
    ia.read_string()
        .map_err(|e| Error::corrupt(path, offset, format!("reading seal: {}", e)))?;
    if value != expected {
        return Err(Error::corrupt(
            path,
            offset,
            format!(
                "snapshot seal mismatch (stored {:#x}, computed {:#x})",
                value, expected
            ),
        ));
    }
    Ok(())
}

/// Java's quick validity check: a parsable name, and for plain files at
/// least 10 bytes ending in the string "/" (`00 00 00 01 2F`); for `.gz`
/// the gzip magic; for `.snappy` the snappy-java magic.
pub fn is_valid_snapshot(path: &Path) -> bool {
    let name = util::file_name(path);
    if util::zxid_from_name(name, SNAPSHOT_FILE_PREFIX) == -1 {
        return false;
    }
    let check = match StreamMode::from_file_name(name) {
        StreamMode::Gzip => starts_with(path, &[0x1f, 0x8b]),
        StreamMode::Snappy => starts_with(path, &SNAPPY_MAGIC),
        StreamMode::Checked => ends_with_slash_string(path),
    };
    check.unwrap_or(false)
}

fn starts_with(path: &Path, magic: &[u8]) -> io::Result<bool> {
    let mut head = vec![0u8; magic.len()];
    let mut f = File::open(path)?;
    match f.read_exact(&mut head) {
        Ok(()) => Ok(head == magic),
        Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => Ok(false),
        Err(e) => Err(e),
    }
}

fn ends_with_slash_string(path: &Path) -> io::Result<bool> {
    let mut f = File::open(path)?;
    let len = f.metadata()?.len();
    if len < 10 {
        return Ok(false);
    }
    f.seek(SeekFrom::Start(len - 5))?;
    let mut tail = [0u8; 5];
    f.read_exact(&mut tail)?;
    Ok(tail == [0, 0, 0, 1, b'/'])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("zkrs-ss-{}-{}", name, std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).unwrap();
        dir
    }

    #[test]
    fn mode_follows_the_last_name_component() {
        assert_eq!(
            StreamMode::from_file_name("snapshot.5"),
            StreamMode::Checked
        );
        assert_eq!(
            StreamMode::from_file_name("snapshot.5.gz"),
            StreamMode::Gzip
        );
        assert_eq!(
            StreamMode::from_file_name("snapshot.5.SNAPPY"),
            StreamMode::Snappy
        );
        assert_eq!(StreamMode::from_file_name("snapshot"), StreamMode::Checked);
    }

    #[test]
    fn every_mode_round_trips_with_seals() {
        let dir = temp("modes");
        for (mode, fsync) in [
            (StreamMode::Checked, false),
            (StreamMode::Gzip, true),
            (StreamMode::Snappy, false),
        ] {
            let path = dir.join(format!("snapshot.1{}", mode.extension()));
            let mut out = SnapOutput::create(&path, mode, fsync).unwrap();
            for i in 0..10_000 {
                out.oa.write_long(i).unwrap();
            }
            out.seal().unwrap();
            out.oa.write_int(7).unwrap();
            out.seal().unwrap();
            out.finish().unwrap();
            assert!(is_valid_snapshot(&path), "{:?}", mode);
            assert!(!tmp_path(&path).exists());

            let mut ia = InputArchive::new(open_input(&path).unwrap());
            for i in 0..10_000 {
                assert_eq!(ia.read_long().unwrap(), i);
            }
            check_seal(&mut ia, &path).unwrap();
            assert_eq!(ia.read_int().unwrap(), 7);
            check_seal(&mut ia, &path).unwrap();
        }
    }

    /// Small reads, reads across refills and reads larger than the
    /// buffer: the checksum and position always cover exactly the bytes
    /// handed out.
    #[test]
    fn checked_reader_sums_what_was_consumed() {
        let data: Vec<u8> = (0..700_000u32)
            .map(|i| (i.wrapping_mul(2_654_435_761) >> 11) as u8)
            .collect();
        let mut r = CheckedReader::new(&data[..]);
        let mut at = 0;
        for (i, want) in [4usize, 8, 1, 300_000, 3, CHECKED_READER_BUFFER + 7, 12, 5]
            .iter()
            .cycle()
            .take(24)
            .enumerate()
        {
            let mut out = vec![0u8; *want];
            let got = r.read(&mut out).unwrap();
            assert_eq!(&out[..got], &data[at..at + got], "read {}", i);
            at += got;
            assert_eq!(r.position(), at as u64);
            assert_eq!(
                r.checksum(),
                util::adler32(&data[..at]),
                "after read {} ({} bytes)",
                i,
                at
            );
            if got == 0 {
                break;
            }
        }
        assert_eq!(at, data.len());
    }

    #[test]
    fn a_changed_byte_breaks_the_seal() {
        let dir = temp("seal");
        let path = dir.join("snapshot.2");
        let mut out = SnapOutput::create(&path, StreamMode::Checked, false).unwrap();
        out.oa.write_long(42).unwrap();
        out.seal().unwrap();
        out.finish().unwrap();
        let mut bytes = fs::read(&path).unwrap();
        bytes[3] ^= 1;
        fs::write(&path, &bytes).unwrap();
        let mut ia = InputArchive::new(open_input(&path).unwrap());
        ia.read_long().unwrap();
        let err = check_seal(&mut ia, &path).unwrap_err().to_string();
        assert!(
            err.contains("seal mismatch") && err.contains("offset 8"),
            "{}",
            err
        );
    }

    #[test]
    fn validity_check_is_javas() {
        let dir = temp("valid");
        fs::write(
            dir.join("snapshot.1"),
            [0u8, 0, 0, 0, 0, 0, 0, 0, 0, 1, b'/'],
        )
        .unwrap();
        fs::write(dir.join("snapshot.2"), [0u8, 0, 0, 1, b'/']).unwrap(); // too short
        fs::write(dir.join("snapshot.3"), [0u8; 20]).unwrap(); // no trailer
        fs::write(dir.join("snapshot.4.gz"), [0x1f, 0x8b, 0]).unwrap();
        fs::write(
            dir.join("snapshot.zz"),
            [0u8, 0, 0, 0, 0, 0, 0, 0, 0, 1, b'/'],
        )
        .unwrap();
        let valid: Vec<bool> = [
            "snapshot.1",
            "snapshot.2",
            "snapshot.3",
            "snapshot.4.gz",
            "snapshot.zz",
        ]
        .iter()
        .map(|n| is_valid_snapshot(&dir.join(n)))
        .collect();
        assert_eq!(valid, [true, false, false, true, false]);
    }
}
