//! A response on its way out (see `http_server`'s module doc): the
//! encoded head and small bodies in memory, and optionally a file sent
//! after them in chunks (the AdminServer's `snapshot` answers a whole
//! snapshot file), read as the socket takes the bytes so that a large
//! file never sits in memory.
//!
//! Threads: the server's `<name>-io` thread only.
//!
//! Mirrors: the output side of Jetty's `HttpOutput` as `StreamOutputter`
//! copies a file into it.

use std::fs::File;
use std::io::{self, Read, Write};
use std::net::TcpStream;

use super::Step;

/// Bytes read from a body file at a time.
const CHUNK: usize = 64 * 1024;

/// What a connection still has to send.
pub(super) struct Outgoing {
    /// The bytes in hand.
    bytes: Vec<u8>,
    /// How many of them went out.
    pos: usize,
    /// The rest of the body: a file and how many bytes of it are owed.
    file: Option<(File, u64)>,
    /// Bytes handed to the socket (or TLS session) so far.
    sent: u64,
}

impl Outgoing {
    /// `bytes`, then `file`'s first `len` bytes when given.
    pub(super) fn new(bytes: Vec<u8>, file: Option<(File, u64)>) -> Outgoing {
        Outgoing {
            bytes,
            pos: 0,
            file: file.filter(|(_, len)| *len > 0),
            sent: 0,
        }
    }

    /// The bytes to send next, refilled from the file once those in hand
    /// went out; empty when everything went out. A file shorter than
    /// promised is an error (the answer's length cannot be kept).
    pub(super) fn pending(&mut self) -> io::Result<&[u8]> {
        if self.pos == self.bytes.len() {
            if let Some((file, owed)) = &mut self.file {
                let want = (*owed).min(CHUNK as u64) as usize;
                self.bytes.resize(want, 0);
                let n = file.read(&mut self.bytes)?;
                if n == 0 {
                    return Err(io::Error::new(
                        io::ErrorKind::UnexpectedEof,
                        "the body file ended early",
                    ));
                }
                self.bytes.truncate(n);
                self.pos = 0;
                *owed -= n as u64;
                if *owed == 0 {
                    self.file = None;
                }
            }
        }
        Ok(&self.bytes[self.pos..])
    }

    /// `n` more bytes went out.
    pub(super) fn advance(&mut self, n: usize) {
        self.pos += n;
        self.sent += n as u64;
    }

    /// Whether everything went out.
    pub(super) fn is_done(&self) -> bool {
        self.pos == self.bytes.len() && self.file.is_none()
    }

    /// Bytes sent so far (a change means progress).
    pub(super) fn sent(&self) -> u64 {
        self.sent
    }
}

/// Writes what the socket takes; closes (after a write shutdown) once
/// everything went out.
pub(super) fn write_out(stream: &mut TcpStream, out: &mut Outgoing) -> Step {
    loop {
        let chunk = match out.pending() {
            Ok([]) => break,
            Ok(chunk) => chunk,
            Err(_) => return Step::Close,
        };
        match stream.write(chunk) {
            Ok(0) => return Step::Close,
            Ok(n) => out.advance(n),
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Step::Stay,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(_) => return Step::Close,
        }
    }
    let _ = stream.shutdown(std::net::Shutdown::Write);
    Step::Close
}

#[cfg(test)]
mod tests {
    use super::*;

    fn drain(out: &mut Outgoing) -> io::Result<Vec<u8>> {
        let mut all = Vec::new();
        loop {
            let chunk = out.pending()?.to_vec();
            if chunk.is_empty() {
                return Ok(all);
            }
            // Take a little at a time, as a slow socket would.
            let n = chunk.len().min(1000);
            all.extend_from_slice(&chunk[..n]);
            out.advance(n);
        }
    }

    #[test]
    fn head_then_file_in_chunks() {
        let dir = std::env::temp_dir().join(format!("http-out-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("body");
        let body: Vec<u8> = (0..(3 * CHUNK + 17)).map(|i| (i % 251) as u8).collect();
        std::fs::write(&path, &body).unwrap();
        let file = File::open(&path).unwrap();
        let mut out = Outgoing::new(b"HEAD".to_vec(), Some((file, body.len() as u64)));
        let all = drain(&mut out).unwrap();
        assert_eq!(&all[..4], b"HEAD");
        assert_eq!(&all[4..], &body[..]);
        assert!(out.is_done());
        assert_eq!(out.sent(), all.len() as u64);
        // A file shorter than promised fails instead of ending quietly.
        let file = File::open(&path).unwrap();
        let mut short = Outgoing::new(Vec::new(), Some((file, body.len() as u64 + 1)));
        assert!(drain(&mut short).is_err());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
