//! The stream format of xerial snappy-java's `SnappyOutputStream`, which
//! Java ZooKeeper uses for `snapshot.*.snappy` (it is *not* the standard
//! Snappy framing format):
//!
//! ```text
//! header  : 0x82 'S' 'N' 'A' 'P' 'P' 'Y' 0x00, int version = 1, int compatible = 1
//! blocks  : int compressed length (big-endian), raw Snappy block
//! ```
//!
//! Each block compresses up to 32 KiB of input. The reader also accepts a
//! header repeated between blocks (concatenated streams) and, as
//! snappy-java does, a stream without header holding one raw Snappy block.
//! Runs on whichever thread reads or writes a snapshot.
//!
//! Mirrors: `org.xerial.snappy.SnappyOutputStream`, `SnappyInputStream`,
//! `SnappyCodec`.

use std::io::{self, Read, Write};

use super::util::read_up_to;

/// The 8-byte magic that starts a snappy-java stream.
pub const MAGIC: [u8; 8] = [0x82, b'S', b'N', b'A', b'P', b'P', b'Y', 0];
/// Magic + version + minimum compatible version.
pub const HEADER_LEN: usize = 16;
/// Uncompressed bytes per block (snappy-java's default block size).
pub const BLOCK_SIZE: usize = 32 * 1024;

/// The 16 header bytes snappy-java writes.
fn header() -> [u8; HEADER_LEN] {
    let mut h = [0u8; HEADER_LEN];
    h[..8].copy_from_slice(&MAGIC);
    h[8..12].copy_from_slice(&1i32.to_be_bytes());
    h[12..16].copy_from_slice(&1i32.to_be_bytes());
    h
}

/// Compresses into the snappy-java stream format.
pub struct SnappyJavaWriter<W: Write> {
    inner: Option<W>,
    /// Input waiting to fill a block.
    buffer: Vec<u8>,
    encoder: snap::raw::Encoder,
    header_written: bool,
}

impl<W: Write> SnappyJavaWriter<W> {
    /// A writer over `inner`; the header goes out with the first block.
    pub fn new(inner: W) -> Self {
        SnappyJavaWriter {
            inner: Some(inner),
            buffer: Vec::with_capacity(BLOCK_SIZE),
            encoder: snap::raw::Encoder::new(),
            header_written: false,
        }
    }

    fn inner(&mut self) -> &mut W {
        self.inner.as_mut().expect("writer used after finish")
    }

    /// Compresses and writes the buffered input as one block.
    fn write_block(&mut self) -> io::Result<()> {
        if !self.header_written {
            let h = header();
            self.inner().write_all(&h)?;
            self.header_written = true;
        }
        if self.buffer.is_empty() {
            return Ok(());
        }
        let compressed = self
            .encoder
            .compress_vec(&self.buffer)
            .map_err(io::Error::other)?;
        self.buffer.clear();
        let len = (compressed.len() as i32).to_be_bytes();
        let inner = self.inner();
        inner.write_all(&len)?;
        inner.write_all(&compressed)
    }

    /// Writes the last block and returns the underlying writer.
    pub fn finish(mut self) -> io::Result<W> {
        self.write_block()?;
        let mut inner = self.inner.take().expect("finish called once");
        inner.flush()?;
        Ok(inner)
    }
}

impl<W: Write> Write for SnappyJavaWriter<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let room = BLOCK_SIZE - self.buffer.len();
        let n = room.min(buf.len());
        self.buffer.extend_from_slice(&buf[..n]);
        if self.buffer.len() == BLOCK_SIZE {
            self.write_block()?;
        }
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.write_block()?;
        self.inner().flush()
    }
}

/// Decompresses the snappy-java stream format.
pub struct SnappyJavaReader<R: Read> {
    inner: R,
    decoder: snap::raw::Decoder,
    /// The current decompressed block and how much of it was consumed.
    block: Vec<u8>,
    cursor: usize,
    /// Set once the input is exhausted.
    done: bool,
    /// Whether the header has been read.
    started: bool,
}

impl<R: Read> SnappyJavaReader<R> {
    /// A reader over `inner`; the header is checked on the first read.
    pub fn new(inner: R) -> Self {
        SnappyJavaReader {
            inner,
            decoder: snap::raw::Decoder::new(),
            block: Vec::new(),
            cursor: 0,
            done: false,
            started: false,
        }
    }

    /// Reads the header, or falls back to one raw Snappy block when the
    /// input does not start with the magic (snappy-java's behaviour).
    fn start(&mut self) -> io::Result<()> {
        self.started = true;
        let mut head = [0u8; HEADER_LEN];
        let got = read_up_to(&mut self.inner, &mut head)?;
        if got == HEADER_LEN && head[..8] == MAGIC {
            let version = i32::from_be_bytes([head[8], head[9], head[10], head[11]]);
            if version < 1 {
                return Err(invalid(format!(
                    "snappy stream version {} is not supported",
                    version
                )));
            }
            return Ok(());
        }
        let mut all = head[..got].to_vec();
        self.inner.read_to_end(&mut all)?;
        self.block = self
            .decoder
            .decompress_vec(&all)
            .map_err(|e| invalid(e.to_string()))?;
        self.done = true;
        Ok(())
    }

    /// Loads the next block; false at the end of the input.
    fn next_block(&mut self) -> io::Result<bool> {
        loop {
            let mut len = [0u8; 4];
            let got = read_up_to(&mut self.inner, &mut len)?;
            if got == 0 {
                return Ok(false);
            }
            if got < 4 {
                return Err(invalid("truncated snappy block length".into()));
            }
            if len == MAGIC[..4] {
                // A concatenated stream: skip the rest of its header.
                let mut rest = [0u8; HEADER_LEN - 4];
                if read_up_to(&mut self.inner, &mut rest)? < rest.len() {
                    return Err(invalid("truncated snappy header".into()));
                }
                continue;
            }
            let size = i32::from_be_bytes(len);
            if size < 0 || size as usize > snap::raw::max_compress_len(16 * 1024 * 1024) {
                return Err(invalid(format!(
                    "unreasonable snappy block length {}",
                    size
                )));
            }
            let mut compressed = vec![0u8; size as usize];
            if read_up_to(&mut self.inner, &mut compressed)? < compressed.len() {
                return Err(invalid("failed to read snappy chunk".into()));
            }
            self.block = self
                .decoder
                .decompress_vec(&compressed)
                .map_err(|e| invalid(e.to_string()))?;
            self.cursor = 0;
            return Ok(true);
        }
    }
}

impl<R: Read> Read for SnappyJavaReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if !self.started {
            self.start()?;
        }
        while self.cursor >= self.block.len() {
            if self.done || !self.next_block()? {
                self.done = true;
                return Ok(0);
            }
        }
        let n = (self.block.len() - self.cursor).min(buf.len());
        buf[..n].copy_from_slice(&self.block[self.cursor..self.cursor + n]);
        self.cursor += n;
        Ok(n)
    }
}

fn invalid(msg: String) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, msg)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn round_trip(data: &[u8]) -> Vec<u8> {
        let mut w = SnappyJavaWriter::new(Vec::new());
        w.write_all(data).unwrap();
        let bytes = w.finish().unwrap();
        let mut out = Vec::new();
        SnappyJavaReader::new(&bytes[..])
            .read_to_end(&mut out)
            .unwrap();
        out
    }

    #[test]
    fn header_is_snappy_javas() {
        let bytes = SnappyJavaWriter::new(Vec::new()).finish().unwrap();
        assert_eq!(
            bytes,
            [0x82, b'S', b'N', b'A', b'P', b'P', b'Y', 0, 0, 0, 0, 1, 0, 0, 0, 1]
        );
    }

    #[test]
    fn round_trips_across_blocks() {
        let data: Vec<u8> = (0..100_000u32).map(|i| (i % 251) as u8).collect();
        assert_eq!(round_trip(&data), data);
        assert!(round_trip(b"").is_empty());
    }

    #[test]
    fn blocks_are_length_prefixed_raw_snappy() {
        let mut w = SnappyJavaWriter::new(Vec::new());
        w.write_all(b"hello hello hello").unwrap();
        let bytes = w.finish().unwrap();
        let len = i32::from_be_bytes([bytes[16], bytes[17], bytes[18], bytes[19]]) as usize;
        assert_eq!(bytes.len(), 20 + len);
        let raw = snap::raw::Decoder::new()
            .decompress_vec(&bytes[20..])
            .unwrap();
        assert_eq!(raw, b"hello hello hello");
    }

    #[test]
    fn concatenated_streams_and_headerless_input_are_read() {
        let mut a = SnappyJavaWriter::new(Vec::new());
        a.write_all(b"first ").unwrap();
        let mut bytes = a.finish().unwrap();
        let mut b = SnappyJavaWriter::new(Vec::new());
        b.write_all(b"second").unwrap();
        bytes.extend(b.finish().unwrap());
        let mut out = Vec::new();
        SnappyJavaReader::new(&bytes[..])
            .read_to_end(&mut out)
            .unwrap();
        assert_eq!(out, b"first second");

        let raw = snap::raw::Encoder::new()
            .compress_vec(b"raw block")
            .unwrap();
        let mut out = Vec::new();
        SnappyJavaReader::new(&raw[..])
            .read_to_end(&mut out)
            .unwrap();
        assert_eq!(out, b"raw block");
    }

    #[test]
    fn a_truncated_block_is_an_error() {
        let mut w = SnappyJavaWriter::new(Vec::new());
        w.write_all(&[7u8; 1000]).unwrap();
        let bytes = w.finish().unwrap();
        let mut out = Vec::new();
        assert!(SnappyJavaReader::new(&bytes[..bytes.len() - 1])
            .read_to_end(&mut out)
            .is_err());
    }
}
