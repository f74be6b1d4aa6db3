//! The link from a learner to its leader: bare jute `QuorumPacket`
//! records in both directions, no length prefix. [`LeaderLink`] holds the
//! reader, which only the role thread (the QuorumPeer main thread) uses;
//! [`LeaderWriter`] is shared by every thread that writes to the leader
//! (the role thread, the SyncThread's ACKs, connection threads forwarding
//! requests and revalidations), so it sits behind a mutex and flushes each
//! packet whole; a failed write shuts the socket down, which ends the
//! role thread's read loop.
//!
//! Mirrors: `org.apache.zookeeper.server.quorum.Learner`'s leader streams
//! (readPacket, writePacket, request, validateSession's REVALIDATE).

use super::*;

/// The writing half of the leader link, shared by every thread that talks
/// to the leader.
pub struct LeaderWriter {
    /// Buffered so a packet leaves in one segment; flushed per packet.
    out: Mutex<OutputArchive<BufWriter<QuorumSocket>>>,
    /// A handle to shut the socket down (ends the reader's loop).
    sock: QuorumSocket,
    /// The leader's sid, for the protocol trace.
    leader_sid: i64,
}

impl LeaderWriter {
    /// Sends one packet and flushes it. A failure closes the link.
    pub fn write_packet(&self, qp: &QuorumPacket) -> Result<(), LearnerError> {
        let len = qp.data.as_ref().map_or(0, Vec::len);
        protocol_trace::packet(
            Direction::Sent,
            self.leader_sid,
            type_name,
            qp.r#type,
            qp.zxid,
            len,
        );
        let mut out = self.out.lock();
        let result = qp.serialize(&mut out).and_then(|_| out.inner_mut().flush());
        drop(out);
        result.map_err(|e| {
            warn!(
                "Closing connection to leader, exception during packet send: {}",
                e
            );
            self.close();
            LearnerError::Io(format!("sending {}", type_name(qp.r#type)), e)
        })
    }

    /// Closes the socket in both directions (idempotent).
    pub fn close(&self) {
        let _ = self.sock.shutdown(Shutdown::Both);
    }

    /// Forwards a client request: sessionId, cxid, type, then the request
    /// bytes as the client sent them; the connection's ids as authinfo.
    pub fn request(
        &self,
        session_id: i64,
        cxid: i32,
        op: i32,
        payload: &[u8],
        auth: &[Id],
    ) -> Result<(), LearnerError> {
        self.write_packet(&request_packet(session_id, cxid, op, payload, auth))
    }

    /// Asks the leader whether `session_id` may be resumed here.
    pub fn revalidate(&self, session_id: i64, timeout: i32) -> Result<(), LearnerError> {
        info!("Revalidating client: 0x{:x}", session_id);
        let data = quorum_packet::encode_revalidate(session_id, timeout);
        self.write_packet(&packet(quorum_packet::REVALIDATE, -1, Some(data)))
    }
}

/// The link to the leader: the reader (role thread only) and the shared
/// writer.
pub struct LeaderLink {
    /// Reads bare QuorumPacket records (and, after SNAP, the snapshot).
    pub reader: InputArchive<BufReader<QuorumSocket>>,
    /// Shared with the threads that write.
    pub writer: Arc<LeaderWriter>,
    /// For changing the read timeout after NEWLEADER.
    sock: QuorumSocket,
    /// The leader's address, for log lines.
    pub addr: SocketAddr,
    /// The leader's sid, for the protocol trace.
    leader_sid: i64,
}

impl LeaderLink {
    /// Wraps a connected socket to the leader `leader_sid`; reads time
    /// out after `read_timeout`.
    pub fn new(
        sock: QuorumSocket,
        leader_sid: i64,
        read_timeout: Duration,
    ) -> Result<LeaderLink, LearnerError> {
        let io = |e| LearnerError::Io("setting up the leader socket".into(), e);
        let addr = sock.peer_addr().map_err(io)?;
        sock.set_nodelay(true).map_err(io)?;
        sock.set_read_timeout(Some(read_timeout)).map_err(io)?;
        let reader = InputArchive::new(BufReader::new(sock.try_clone().map_err(io)?));
        let out = OutputArchive::new(BufWriter::new(sock.try_clone().map_err(io)?));
        let writer = Arc::new(LeaderWriter {
            out: Mutex::new(out),
            sock: sock.try_clone().map_err(io)?,
            leader_sid,
        });
        Ok(LeaderLink {
            reader,
            writer,
            sock,
            addr,
            leader_sid,
        })
    }

    /// Reads the next packet.
    pub fn read_packet(&mut self) -> Result<QuorumPacket, LearnerError> {
        let qp = QuorumPacket::deserialize(&mut self.reader).map_err(|e| match e {
            jute::Error::Io(io) => LearnerError::Io("reading from the leader".into(), io),
            jute::Error::Incomplete => LearnerError::Io(
                "reading from the leader".into(),
                io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    "the leader closed the connection",
                ),
            ),
            other => LearnerError::Decode("a packet from the leader".into(), other),
        })?;
        let len = qp.data.as_ref().map_or(0, Vec::len);
        protocol_trace::packet(
            Direction::Received,
            self.leader_sid,
            type_name,
            qp.r#type,
            qp.zxid,
            len,
        );
        Ok(qp)
    }

    /// Sends a packet (see [`LeaderWriter::write_packet`]).
    pub fn write_packet(&self, qp: &QuorumPacket) -> Result<(), LearnerError> {
        self.writer.write_packet(qp)
    }

    /// Changes the read timeout (syncLimit once synced).
    pub fn set_read_timeout(&self, timeout: Duration) -> Result<(), LearnerError> {
        self.sock
            .set_read_timeout(Some(timeout))
            .map_err(|e| LearnerError::Io("setting the read timeout".into(), e))
    }

    /// Closes the link.
    pub fn close(&self) {
        self.writer.close();
    }
}

/// The REQUEST packet forwarding a client request.
pub fn request_packet(
    session_id: i64,
    cxid: i32,
    op: i32,
    payload: &[u8],
    auth: &[Id],
) -> QuorumPacket {
    let data = quorum_packet::encode_request(&quorum_packet::ForwardedRequest {
        session_id,
        cxid,
        op,
        body: payload.to_vec(),
    });
    QuorumPacket {
        r#type: quorum_packet::REQUEST,
        zxid: -1,
        data: Some(data),
        authinfo: auth.to_vec(),
    }
}
