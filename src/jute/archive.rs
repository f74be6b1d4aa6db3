//! The binary archive: how jute primitives look on the wire and on disk.
//!
//! Everything is big-endian. `buffer` and `ustring` are an int32 length and
//! the bytes (-1 means null); `vector<T>` is an int32 count and the elements
//! inline (-1 means null); `boolean` is one byte (any non-zero byte reads as
//! true, as Java's `DataInput.readBoolean`). Records are their fields
//! concatenated, with no tags.
//!
//! Every length prefix is checked against the limit before anything is
//! allocated, so a hostile 0x7fffffff cannot make us reserve 2 GiB.
//!
//! Mirrors: `org.apache.jute.BinaryInputArchive`, `BinaryOutputArchive`.

use std::io::{Read, Write};
use std::sync::atomic::{AtomicUsize, Ordering};

use byteorder::{BigEndian, ReadBytesExt, WriteBytesExt};

use super::error::{Error, Result};

/// Default of `jute.maxbuffer`: 0xfffff bytes.
pub const DEFAULT_MAX_BUFFER: usize = 0xfffff;

/// The smallest `zookeeper.jute.maxbuffer.extrasize` Java accepts.
const MIN_EXTRA_BUFFER: usize = 1024;

/// `jute.maxbuffer`, process wide as in Java (a system property there).
static MAX_BUFFER: AtomicUsize = AtomicUsize::new(DEFAULT_MAX_BUFFER);
/// `zookeeper.jute.maxbuffer.extrasize`; 0 means "same as jute.maxbuffer".
static EXTRA_BUFFER: AtomicUsize = AtomicUsize::new(0);

/// Sets `jute.maxbuffer` (from zoo.cfg or `-Djute.maxbuffer`).
pub fn set_max_buffer(bytes: usize) {
    MAX_BUFFER.store(bytes, Ordering::Relaxed);
}

/// Sets `zookeeper.jute.maxbuffer.extrasize`.
pub fn set_extra_max_buffer(bytes: usize) {
    EXTRA_BUFFER.store(bytes, Ordering::Relaxed);
}

/// The current `jute.maxbuffer`: the largest frame a server accepts.
pub fn max_buffer() -> usize {
    MAX_BUFFER.load(Ordering::Relaxed)
}

/// The largest single buffer or string a reader accepts: `jute.maxbuffer`
/// plus the extra size (which defaults to `jute.maxbuffer`, at least 1024).
pub fn max_field_length() -> usize {
    let max = max_buffer();
    let extra = match EXTRA_BUFFER.load(Ordering::Relaxed) {
        0 => max,
        n => n,
    };
    max.saturating_add(extra.max(MIN_EXTRA_BUFFER))
}

/// Reads jute primitives from any byte source.
pub struct InputArchive<R> {
    /// Where the bytes come from: a frame already in memory (`&[u8]`) or a
    /// file stream.
    inner: R,
    /// The largest buffer or string accepted, fixed when the archive is made.
    max_len: usize,
}

impl<R: Read> InputArchive<R> {
    /// An archive over `inner` that enforces the process-wide limit.
    pub fn new(inner: R) -> Self {
        InputArchive {
            inner,
            max_len: max_field_length(),
        }
    }

    /// Gives back the underlying reader.
    pub fn into_inner(self) -> R {
        self.inner
    }

    /// The underlying reader, to check what is left of a frame.
    pub fn inner_mut(&mut self) -> &mut R {
        &mut self.inner
    }

    /// Reads a boolean: any non-zero byte is true.
    pub fn read_bool(&mut self) -> Result<bool> {
        Ok(self.inner.read_u8()? != 0)
    }

    /// Reads a big-endian int32.
    pub fn read_int(&mut self) -> Result<i32> {
        Ok(self.inner.read_i32::<BigEndian>()?)
    }

    /// Reads a big-endian int64.
    pub fn read_long(&mut self) -> Result<i64> {
        Ok(self.inner.read_i64::<BigEndian>()?)
    }

    /// Reads a length prefix; `None` for the -1 that means null.
    pub(super) fn read_length(&mut self) -> Result<Option<usize>> {
        let len = self.read_int()?;
        if len == -1 {
            return Ok(None);
        }
        if len < 0 || len as usize > self.max_len {
            return Err(Error::UnreasonableLength(len as i64));
        }
        Ok(Some(len as usize))
    }

    /// Reads exactly `len` bytes into a new vector.
    fn read_exact_vec(&mut self, len: usize) -> Result<Vec<u8>> {
        let mut bytes = Vec::with_capacity(len.min(64 * 1024));
        let got = (&mut self.inner).take(len as u64).read_to_end(&mut bytes)?;
        if got < len {
            return Err(Error::Incomplete);
        }
        Ok(bytes)
    }

    /// Reads a buffer; `None` when the length is -1.
    pub fn read_buffer(&mut self) -> Result<Option<Vec<u8>>> {
        match self.read_length()? {
            None => Ok(None),
            Some(len) => self.read_exact_vec(len).map(Some),
        }
    }

    /// Reads a UTF-8 string; a null string (-1) reads as empty. Invalid
    /// sequences become U+FFFD, as Java's `new String(bytes, UTF_8)` does,
    /// so a bad path is then rejected by path validation (BADARGUMENTS),
    /// not by the decoder.
    pub fn read_string(&mut self) -> Result<String> {
        match self.read_length()? {
            None => Ok(String::new()),
            Some(len) => {
                let bytes = self.read_exact_vec(len)?;
                Ok(String::from_utf8(bytes)
                    .unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned()))
            }
        }
    }

    /// Reads a vector count; a null vector (-1) reads as empty. The count
    /// is not bounded by Java, so we bound only what we preallocate.
    pub fn read_vector_len(&mut self) -> Result<usize> {
        let count = self.read_int()?;
        if count == -1 {
            return Ok(0);
        }
        if count < 0 {
            return Err(Error::UnreasonableLength(count as i64));
        }
        Ok(count as usize)
    }
}

/// Writes jute primitives to any byte sink.
pub struct OutputArchive<W> {
    /// Where the bytes go: a `Vec<u8>` frame or a checksummed file stream.
    inner: W,
}

impl<W: Write> OutputArchive<W> {
    /// An archive writing to `inner`.
    pub fn new(inner: W) -> Self {
        OutputArchive { inner }
    }

    /// Gives back the underlying writer.
    pub fn into_inner(self) -> W {
        self.inner
    }

    /// The underlying writer.
    pub fn inner_mut(&mut self) -> &mut W {
        &mut self.inner
    }

    /// Writes a boolean as 0 or 1.
    pub fn write_bool(&mut self, v: bool) -> std::io::Result<()> {
        self.inner.write_u8(v as u8)
    }

    /// Writes a big-endian int32.
    pub fn write_int(&mut self, v: i32) -> std::io::Result<()> {
        self.inner.write_i32::<BigEndian>(v)
    }

    /// Writes a big-endian int64.
    pub fn write_long(&mut self, v: i64) -> std::io::Result<()> {
        self.inner.write_i64::<BigEndian>(v)
    }

    /// Writes a buffer; `None` is written as length -1.
    pub fn write_buffer(&mut self, v: Option<&[u8]>) -> std::io::Result<()> {
        match v {
            None => self.write_int(-1),
            Some(bytes) => {
                self.write_int(bytes.len() as i32)?;
                self.inner.write_all(bytes)
            }
        }
    }

    /// Writes a string as its UTF-8 length and bytes.
    pub fn write_string(&mut self, v: &str) -> std::io::Result<()> {
        self.write_int(v.len() as i32)?;
        self.inner.write_all(v.as_bytes())
    }

    /// Writes a vector count.
    pub fn write_vector_len(&mut self, len: usize) -> std::io::Result<()> {
        self.write_int(len as i32)
    }
}
