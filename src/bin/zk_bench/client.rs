//! The benchmark's client side of the wire protocol: the connect
//! handshake, request frames and a reply-frame reader, over one blocking
//! stream per session (TCP, or TLS with `--tls-truststore`). Each session is driven by exactly one thread
//! (the workload's), so nothing here is shared or locked.
//!
//! Requests are encoded straight into a reusable output buffer and replies
//! are parsed in place from a reusable input buffer, so a pipelined session
//! costs one `write` and one `read` syscall per batch of frames and no
//! allocation per request: the point is to spend as little client CPU as
//! possible next to the server being measured.
//!
//! Mirrors: `org.apache.zookeeper.ClientCnxn` (only the handshake and the
//! framing; no reconnects, no watch bookkeeping).

use std::io::{self, Read, Write};
use std::net::SocketAddr;
use std::time::Duration;

use zookeeper::jute::data::{Acl, Id};
use zookeeper::jute::proto::{ConnectRequest, ConnectResponse, ReplyHeader, RequestHeader};
use zookeeper::jute::{self, OutputArchive, Record};
use zookeeper::zoo_defs::{op_code, perms, xid};

use crate::error::BenchError;
use crate::tls::Stream;

/// The session timeout asked for, ms (the server caps it at 20 ticks).
pub const SESSION_TIMEOUT_MS: i32 = 30_000;
/// Largest reply frame accepted; the benchmark never reads big replies.
const MAX_FRAME: usize = 16 * 1024 * 1024;
/// Initial size of the input buffer; it grows only for larger frames.
const READ_CHUNK: usize = 64 * 1024;

/// One reply frame, borrowed from the reader's buffer.
#[derive(Debug, Clone, Copy)]
pub struct Reply<'a> {
    pub xid: i32,
    pub err: i32,
    pub body: &'a [u8],
}

/// Collects bytes from a socket and cuts them into length-prefixed frames.
pub struct FrameReader {
    /// Bytes read and not yet consumed live in `buf[start..end]`.
    buf: Vec<u8>,
    start: usize,
    end: usize,
}

impl Default for FrameReader {
    fn default() -> Self {
        FrameReader {
            buf: vec![0; READ_CHUNK],
            start: 0,
            end: 0,
        }
    }
}

impl FrameReader {
    /// Reads whatever the socket has (blocking until at least one byte);
    /// returns the byte count, 0 at end of stream.
    pub fn read_more<R: Read>(&mut self, src: &mut R) -> io::Result<usize> {
        if self.start > 0 {
            self.buf.copy_within(self.start..self.end, 0);
            self.end -= self.start;
            self.start = 0;
        }
        if self.end == self.buf.len() {
            let grown = self.buf.len() * 2;
            self.buf.resize(grown, 0);
        }
        let n = src.read(&mut self.buf[self.end..])?;
        self.end += n;
        Ok(n)
    }

    /// Feeds bytes directly (tests).
    #[cfg(test)]
    pub fn push(&mut self, bytes: &[u8]) {
        let mut src = bytes;
        while !src.is_empty() {
            self.read_more(&mut src).unwrap();
        }
    }

    /// The next complete frame's bytes, if one is buffered.
    pub fn next_frame(&mut self) -> Result<Option<&[u8]>, BenchError> {
        let avail = self.end - self.start;
        if avail < 4 {
            return Ok(None);
        }
        let head = &self.buf[self.start..self.start + 4];
        let len = i32::from_be_bytes([head[0], head[1], head[2], head[3]]);
        if len < 0 || len as usize > MAX_FRAME {
            return Err(BenchError::Protocol(format!("bad frame length {}", len)));
        }
        let len = len as usize;
        if avail < 4 + len {
            return Ok(None);
        }
        let frame = self.start + 4..self.start + 4 + len;
        self.start += 4 + len;
        Ok(Some(&self.buf[frame]))
    }

    /// The next complete reply (header parsed), if one is buffered.
    pub fn next_reply(&mut self) -> Result<Option<Reply<'_>>, BenchError> {
        match self.next_frame()? {
            None => Ok(None),
            Some(frame) => parse_reply(frame).map(Some),
        }
    }
}

/// Splits a reply frame into its header and body.
pub fn parse_reply(frame: &[u8]) -> Result<Reply<'_>, BenchError> {
    if frame.len() < 16 {
        return Err(BenchError::Protocol(format!(
            "reply of {} bytes",
            frame.len()
        )));
    }
    let header: ReplyHeader = jute::from_bytes(frame)?;
    Ok(Reply {
        xid: header.xid,
        err: header.err,
        body: &frame[16..],
    })
}

/// Appends one request frame (length, header, body written by `body`).
pub fn push_request<F>(out: &mut Vec<u8>, xid: i32, op: i32, body: F)
where
    F: FnOnce(&mut OutputArchive<&mut Vec<u8>>) -> io::Result<()>,
{
    let len_at = out.len();
    out.extend_from_slice(&[0; 4]);
    let mut oa = OutputArchive::new(&mut *out);
    let written = RequestHeader { xid, r#type: op }
        .serialize(&mut oa)
        .and_then(|_| body(&mut oa));
    written.expect("writing to a Vec cannot fail");
    let len = (out.len() - len_at - 4) as i32;
    out[len_at..len_at + 4].copy_from_slice(&len.to_be_bytes());
}

/// Appends a request whose body is already encoded.
pub fn push_encoded(out: &mut Vec<u8>, xid: i32, op: i32, body: &[u8]) {
    push_request(out, xid, op, |oa| oa.inner_mut().write_all(body));
}

/// Appends a request whose body is a record.
pub fn push_record<T: Record>(out: &mut Vec<u8>, xid: i32, op: i32, record: &T) {
    push_request(out, xid, op, |oa| record.serialize(oa));
}

/// `world:anyone` with every permission, the ACL of every benchmark node.
pub fn open_acl() -> Vec<Acl> {
    vec![Acl {
        perms: perms::ALL,
        id: Id {
            scheme: "world".into(),
            id: "anyone".into(),
        },
    }]
}

/// Writes a CreateRequest body without building the record (no copy of
/// the payload per request).
pub fn write_create(
    oa: &mut OutputArchive<&mut Vec<u8>>,
    path: &str,
    data: &[u8],
    acl: &[Acl],
    flags: i32,
) -> io::Result<()> {
    oa.write_string(path)?;
    oa.write_buffer(Some(data))?;
    oa.write_vector_len(acl.len())?;
    for entry in acl {
        entry.serialize(oa)?;
    }
    oa.write_int(flags)
}

/// The first frame of a new session (`session_id` 0) or of a session
/// being re-established on another server (its id and password).
pub fn connect_frame_for(session_id: i64, passwd: &[u8], last_zxid_seen: i64) -> Vec<u8> {
    let request = ConnectRequest {
        protocol_version: 0,
        last_zxid_seen,
        time_out: SESSION_TIMEOUT_MS,
        session_id,
        passwd: Some(passwd.to_vec()),
        read_only: Some(false),
    };
    let body = jute::to_bytes(&request);
    let mut frame = (body.len() as i32).to_be_bytes().to_vec();
    frame.extend_from_slice(&body);
    frame
}

/// The first frame of a new session.
pub fn connect_frame() -> Vec<u8> {
    connect_frame_for(0, &[0; 16], 0)
}

/// What the server answered to a connect request.
#[derive(Debug, Clone)]
pub struct Handshake {
    pub session_id: i64,
    pub passwd: Vec<u8>,
}

/// One client session on a blocking socket.
pub struct Session {
    pub stream: Stream,
    pub reader: FrameReader,
    /// The next xid to use; requests are numbered from 1.
    next_xid: i32,
}

impl Session {
    /// Opens a TCP connection and completes the handshake.
    pub fn connect(addr: SocketAddr, timeout: Duration) -> Result<Session, BenchError> {
        let stream = Stream::connect(addr, timeout)?;
        let (session, handshake) = Session::handshake(stream, timeout, &connect_frame())?;
        if handshake.session_id == 0 {
            return Err(BenchError::Protocol("session refused (id 0)".into()));
        }
        Ok(session)
    }

    /// Sends `connect` (a connect request frame) on an open stream and
    /// reads the answer. A session id of 0 in the answer means the server
    /// refused (for a re-established session: it expired).
    pub fn handshake(
        stream: impl Into<Stream>,
        timeout: Duration,
        connect: &[u8],
    ) -> Result<(Session, Handshake), BenchError> {
        let mut stream = stream.into();
        stream.set_nodelay(true)?;
        stream.write_all(connect)?;
        stream.flush()?;
        Session::read_handshake(stream, timeout)
    }

    /// Reads the answer to a connect request already sent on `stream`
    /// (so many handshakes can be in flight at once).
    pub fn read_handshake(
        stream: impl Into<Stream>,
        timeout: Duration,
    ) -> Result<(Session, Handshake), BenchError> {
        let mut stream = stream.into();
        stream.set_read_timeout(Some(timeout))?;
        let mut reader = FrameReader::default();
        let rsp = loop {
            if let Some(frame) = reader.next_frame()? {
                let rsp: ConnectResponse = jute::from_bytes(frame)?;
                break rsp;
            }
            if reader.read_more(&mut stream)? == 0 {
                return Err(BenchError::Closed("during the handshake"));
            }
        };
        let handshake = Handshake {
            session_id: rsp.session_id,
            passwd: rsp.passwd.unwrap_or_default(),
        };
        let session = Session {
            stream,
            reader,
            next_xid: 1,
        };
        Ok((session, handshake))
    }

    /// Allocates the next xid.
    pub fn xid(&mut self) -> i32 {
        let xid = self.next_xid;
        self.next_xid = self.next_xid.wrapping_add(1).max(1);
        xid
    }

    /// Sets the blocking-read timeout (None: wait forever).
    pub fn set_read_timeout(&self, timeout: Option<Duration>) -> Result<(), BenchError> {
        Ok(self.stream.set_read_timeout(timeout)?)
    }

    /// Writes bytes already framed.
    pub fn send(&mut self, frames: &[u8]) -> Result<(), BenchError> {
        self.stream.write_all(frames)?;
        Ok(self.stream.flush()?)
    }

    /// Blocks for more bytes; end of stream is an error.
    pub fn fill(&mut self) -> Result<(), BenchError> {
        match self.reader.read_more(&mut self.stream)? {
            0 => Err(BenchError::Closed("by the server")),
            _ => Ok(()),
        }
    }

    /// Sends one request and waits for its reply (skipping notifications);
    /// returns the reply's error code and body.
    pub fn call<T: Record>(&mut self, op: i32, record: &T) -> Result<(i32, Vec<u8>), BenchError> {
        let xid = self.xid();
        let mut out = Vec::new();
        push_record(&mut out, xid, op, record);
        self.send(&out)?;
        self.wait_for(xid)
    }

    /// Reads until the reply for `xid` arrives.
    pub fn wait_for(&mut self, want: i32) -> Result<(i32, Vec<u8>), BenchError> {
        loop {
            while let Some(reply) = self.reader.next_reply()? {
                if reply.xid == want {
                    return Ok((reply.err, reply.body.to_vec()));
                }
                if reply.xid > 0 && reply.xid != want {
                    return Err(BenchError::Protocol(format!(
                        "reply xid {} while waiting for {}",
                        reply.xid, want
                    )));
                }
            }
            self.fill()?;
        }
    }

    /// Appends a ping frame (xid -2) to `out`.
    pub fn push_ping(out: &mut Vec<u8>) {
        push_request(out, xid::PING, op_code::PING, |_| Ok(()));
    }

    /// Closes the session on the server (closeSession) and waits up to
    /// `timeout` for the reply; failures are ignored, the socket is dropped.
    pub fn close(mut self, timeout: Duration) {
        let _ = self.stream.set_read_timeout(Some(timeout));
        let xid = self.xid();
        let mut out = Vec::new();
        push_request(&mut out, xid, op_code::CLOSE_SESSION, |_| Ok(()));
        if self.send(&out).is_ok() {
            let _ = self.wait_for(xid);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use zookeeper::jute::proto::GetDataRequest;

    fn reply_frame(xid: i32, err: i32, body: &[u8]) -> Vec<u8> {
        let mut bytes = jute::to_bytes(&ReplyHeader { xid, zxid: 7, err });
        bytes.extend_from_slice(body);
        let mut frame = (bytes.len() as i32).to_be_bytes().to_vec();
        frame.extend_from_slice(&bytes);
        frame
    }

    #[test]
    fn frames_split_across_reads_are_reassembled() {
        let mut all = reply_frame(1, 0, b"abc");
        all.extend(reply_frame(2, -101, b""));
        let mut reader = FrameReader::default();
        reader.push(&all[..5]);
        assert!(reader.next_reply().unwrap().is_none());
        reader.push(&all[5..]);
        let first = reader.next_reply().unwrap().unwrap();
        assert_eq!((first.xid, first.err, first.body), (1, 0, &b"abc"[..]));
        let second = reader.next_reply().unwrap().unwrap();
        assert_eq!((second.xid, second.err), (2, -101));
        assert!(reader.next_reply().unwrap().is_none());
    }

    #[test]
    fn a_frame_larger_than_the_buffer_grows_it() {
        let big = vec![9u8; READ_CHUNK * 3];
        let mut reader = FrameReader::default();
        reader.push(&reply_frame(3, 0, &big));
        let reply = reader.next_reply().unwrap().unwrap();
        assert_eq!(reply.body.len(), big.len());
    }

    #[test]
    fn negative_frame_length_is_a_protocol_error() {
        let mut reader = FrameReader::default();
        reader.push(&(-5i32).to_be_bytes());
        assert!(matches!(reader.next_frame(), Err(BenchError::Protocol(_))));
    }

    #[test]
    fn request_frame_matches_the_record_encoding() {
        let request = GetDataRequest {
            path: "/a".into(),
            watch: true,
        };
        let mut out = Vec::new();
        push_record(&mut out, 5, op_code::GET_DATA, &request);
        let mut expected = jute::to_bytes(&RequestHeader {
            xid: 5,
            r#type: op_code::GET_DATA,
        });
        expected.extend(jute::to_bytes(&request));
        assert_eq!(&out[4..], &expected[..]);
        assert_eq!(
            i32::from_be_bytes([out[0], out[1], out[2], out[3]]) as usize,
            expected.len()
        );
    }

    #[test]
    fn hand_written_create_matches_the_record() {
        use zookeeper::jute::proto::CreateRequest;
        let acl = open_acl();
        let mut out = Vec::new();
        push_request(&mut out, 1, op_code::CREATE, |oa| {
            write_create(oa, "/x", b"d", &acl, 0)
        });
        let record = CreateRequest {
            path: "/x".into(),
            data: Some(b"d".to_vec()),
            acl,
            flags: 0,
        };
        let mut expected = Vec::new();
        push_record(&mut expected, 1, op_code::CREATE, &record);
        assert_eq!(out, expected);
    }
}
