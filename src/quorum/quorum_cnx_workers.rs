//! The two threads of an established election connection: the SendWorker
//! drains the peer's send queue onto the socket (re-sending the last
//! message first when the queue is empty, so a reconnected peer hears my
//! vote again), the RecvWorker frames incoming bytes into messages for the
//! election. Either one failing finishes both and unregisters the
//! connection, so the next message to that peer dials again.
//!
//! Frames: int32 length (1..=512 KiB) then the payload; anything else
//! closes the connection with a warning naming the peer.
//!
//! Mirrors: `QuorumCnxManager.SendWorker`, `QuorumCnxManager.RecvWorker`.

use std::io::{self, BufReader, Read, Write};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::Duration;

use log::{debug, info, warn};

use super::quorum_cnx_manager::{close, Message, QuorumCnxManager};
use super::unified_socket::QuorumSocket;

/// `PACKETMAXSIZE`: the largest election message accepted.
pub const PACKET_MAX_SIZE: i32 = 512 * 1024;
/// How often an idle SendWorker checks whether it should stop.
const SEND_POLL: Duration = Duration::from_millis(1000);

/// One live connection to a peer, as registered in the manager.
pub struct Connection {
    /// The peer.
    sid: i64,
    /// Tells this connection apart from a newer one for the same sid.
    id: u64,
    /// The socket (both workers hold clones; closing it stops both).
    stream: QuorumSocket,
    /// Cleared once by [`Connection::finish`].
    running: AtomicBool,
}

impl Connection {
    /// Stops both workers (closing the socket) and unregisters this
    /// connection if it is still the registered one. Idempotent.
    pub fn finish(&self, manager: &QuorumCnxManager) {
        if !self.running.swap(false, Ordering::SeqCst) {
            return;
        }
        info!(
            "Election connection #{} with sid {} is closed",
            self.id, self.sid
        );
        close(&self.stream);
        let mut senders = manager.senders.lock();
        if senders.get(&self.sid).is_some_and(|c| c.id == self.id) {
            senders.remove(&self.sid);
        }
    }

    fn is_running(&self) -> bool {
        self.running.load(Ordering::SeqCst)
    }
}

/// Registers a connection for `sid`, finishing any older one, and starts
/// its two worker threads.
pub fn start_workers(
    manager: &Arc<QuorumCnxManager>,
    stream: QuorumSocket,
    sid: i64,
) -> io::Result<()> {
    let send_stream = stream.try_clone()?;
    let recv_stream = stream.try_clone()?;
    let id = manager.next_connection_id.fetch_add(1, Ordering::SeqCst);
    let connection = Arc::new(Connection {
        sid,
        id,
        stream,
        running: AtomicBool::new(true),
    });
    let old = manager.senders.lock().insert(sid, connection.clone());
    info!(
        "Election connection #{} with sid {} is up ({} -> {})",
        id,
        sid,
        connection
            .stream
            .local_addr()
            .map(|a| a.to_string())
            .unwrap_or_default(),
        connection
            .stream
            .peer_addr()
            .map(|a| a.to_string())
            .unwrap_or_default()
    );
    if let Some(old) = old {
        old.finish(manager);
    }
    let (m, c) = (manager.clone(), connection.clone());
    let sender = thread::Builder::new()
        .name(format!("SendWorker:{}", sid))
        .spawn(move || send_worker(&m, &c, send_stream));
    if let Err(e) = sender {
        connection.finish(manager);
        return Err(e);
    }
    let (m, c) = (manager.clone(), connection.clone());
    let receiver = thread::Builder::new()
        .name(format!("RecvWorker:{}", sid))
        .spawn(move || recv_worker(&m, &c, recv_stream));
    if let Err(e) = receiver {
        connection.finish(manager);
        return Err(e);
    }
    Ok(())
}

/// Writes one frame.
fn send(stream: &mut QuorumSocket, message: &[u8]) -> io::Result<()> {
    let mut frame = Vec::with_capacity(4 + message.len());
    frame.extend_from_slice(&(message.len() as i32).to_be_bytes());
    frame.extend_from_slice(message);
    stream.write_all(&frame)?;
    stream.flush()
}

fn send_worker(manager: &QuorumCnxManager, connection: &Connection, mut stream: QuorumSocket) {
    let sid = connection.sid;
    let queue = manager.queue_for(sid);
    if queue.is_empty() {
        let last = manager.last_message_sent.lock().get(&sid).cloned();
        if let Some(last) = last {
            debug!("Attempting to send lastMessage to sid={}", sid);
            if let Err(e) = send(&mut stream, &last) {
                warn!("Failed to send last message to sid {}: {}", sid, e);
                connection.finish(manager);
                return;
            }
        }
    }
    while connection.is_running() && !manager.shutdown.load(Ordering::SeqCst) {
        let Some(message) = queue.poll(SEND_POLL) else {
            continue;
        };
        manager
            .last_message_sent
            .lock()
            .insert(sid, message.clone());
        if let Err(e) = send(&mut stream, &message) {
            warn!(
                "Exception when using channel: for id {} my id = {}: {}",
                sid,
                manager.my_id(),
                e
            );
            break;
        }
    }
    connection.finish(manager);
    debug!(
        "Send worker leaving thread id {} my id = {}",
        sid,
        manager.my_id()
    );
}

/// Why the receiving side stopped.
enum RecvEnd {
    /// The peer closed, or the socket failed (including our own close).
    Io(io::Error),
    /// A length outside 1..=512 KiB.
    BadLength(i32),
}

fn recv_worker(manager: &QuorumCnxManager, connection: &Connection, stream: QuorumSocket) {
    let sid = connection.sid;
    let mut reader = BufReader::new(stream);
    let end = loop {
        if !connection.is_running() || manager.shutdown.load(Ordering::SeqCst) {
            break None;
        }
        match read_frame(&mut reader) {
            Ok(buffer) => manager.add_to_recv_queue(Message { sid, buffer }),
            Err(end) => break Some(end),
        }
    };
    match end {
        Some(RecvEnd::BadLength(n)) => warn!(
            "Closing election connection of sid {}: Received packet with invalid packet: {}",
            sid, n
        ),
        Some(RecvEnd::Io(e)) if connection.is_running() => {
            warn!(
                "Connection broken for id {}, my id = {}: {}",
                sid,
                manager.my_id(),
                e
            )
        }
        _ => {}
    }
    connection.finish(manager);
}

fn read_frame<R: Read>(reader: &mut R) -> Result<Vec<u8>, RecvEnd> {
    let mut len = [0u8; 4];
    reader.read_exact(&mut len).map_err(RecvEnd::Io)?;
    let length = i32::from_be_bytes(len);
    if length <= 0 || length > PACKET_MAX_SIZE {
        return Err(RecvEnd::BadLength(length));
    }
    let mut buffer = vec![0u8; length as usize];
    reader.read_exact(&mut buffer).map_err(RecvEnd::Io)?;
    Ok(buffer)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frame_limits() {
        let frame = |len: i32, body: &[u8]| {
            let mut b = len.to_be_bytes().to_vec();
            b.extend_from_slice(body);
            b
        };
        assert_eq!(
            read_frame(&mut &frame(3, b"abc")[..]).ok(),
            Some(b"abc".to_vec())
        );
        assert!(matches!(
            read_frame(&mut &frame(0, b"")[..]),
            Err(RecvEnd::BadLength(0))
        ));
        assert!(matches!(
            read_frame(&mut &frame(-4, b"")[..]),
            Err(RecvEnd::BadLength(-4))
        ));
        assert!(matches!(
            read_frame(&mut &frame(PACKET_MAX_SIZE + 1, b"")[..]),
            Err(RecvEnd::BadLength(_))
        ));
        assert!(matches!(
            read_frame(&mut &frame(5, b"ab")[..]),
            Err(RecvEnd::Io(_))
        ));
    }
}
