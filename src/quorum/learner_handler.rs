//! One learner, seen from the leader (or, for an observer, from a
//! follower's ObserverMaster: see `learner_master`): the handshake
//! (FOLLOWERINFO or OBSERVERINFO → LEADERINFO → ACKEPOCH), the sync (DIFF/TRUNC/SNAP, then
//! NEWLEADER and its ACK, then UPTODATE once the leader serves), then the
//! learner's packets: ACKs, PING replies with session touches, REVALIDATE,
//! forwarded REQUESTs (a `sync` is answered by the leader directly).
//!
//! Threads: "LearnerHandler-<addr>" reads (this file's [`run`]); a sender
//! thread drains the learner's queue to the socket, flushing when the queue
//! runs dry. Other threads reach the learner through its [`LearnerPeer`]
//! (queue a packet, ping, check it is synced, shut it down). Bad input —
//! a wrong first packet, undecodable bytes, a learner stopping mid-sync —
//! drops this learner only.
//!
//! Socket read timeout: initLimit × tickTime until the NEWLEADER ack,
//! syncLimit × tickTime after.
//!
//! Mirrors: `org.apache.zookeeper.server.quorum.LearnerHandler` (run,
//! sendPackets, ping, synced, shutdown).

use std::any::Any;
use std::io::{BufReader, BufWriter, Chain, Cursor, Read, Write};
use std::net::{Shutdown, SocketAddr};
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering};
use std::sync::Arc;
use std::thread;

use crossbeam::channel::{self, Receiver, Sender, TryRecvError};
use log::{debug, error, info, warn};

use super::auth::quorum_auth::{is_auth_packet, QuorumAuthError};
use super::leader::LeaderError;
use super::learner_master::LearnerMaster;
use super::learner_sync_throttler::SyncPermit;
use super::quorum_packet::{self as qp, packet, Display as PacketDisplay};
use super::unified_socket::QuorumSocket;
use crate::jute::quorum::QuorumPacket;
use crate::jute::{InputArchive, OutputArchive};
use crate::server::protocol_trace::{self, Direction};
use crate::server::request::{Origin, Request};
use crate::server::role_monitor::ObserverInfo;
use crate::server::session_tracker::SessionOwner;
use crate::zoo_defs::op_code;

/// Something for the sender thread.
pub enum Out {
    /// A packet as is.
    Packet(QuorumPacket),
    /// PROPOSAL or INFORM: type, zxid and shared txn bytes.
    Txn(i32, i64, Arc<Vec<u8>>),
    /// Stop the sender.
    Stop,
}

/// Numbers the handlers of this process, so each learner link is a
/// distinct session owner (a learner that reconnects is a new one).
static NEXT_HANDLER: AtomicU64 = AtomicU64::new(1);

/// The leader's handle on one learner.
pub struct LearnerPeer {
    /// The session owner this link stands for: the sessions of the
    /// learner's clients, as the leader tracks them.
    owner: SessionOwner,
    /// The learner's sid (known after its first packet).
    sid: AtomicI64,
    /// OBSERVERINFO was its first packet.
    observer: AtomicBool,
    /// To the sender thread.
    queue: Sender<Out>,
    /// Tick by which the learner must have sent something.
    deadline: AtomicI64,
    /// Cleared when the handler ends.
    alive: AtomicBool,
    /// The sender runs (pings are sent only then, as Java).
    sending: AtomicBool,
    /// For shutdown.
    socket: QuorumSocket,
    /// For log lines.
    pub addr: SocketAddr,
    /// What `observers` reports for the link.
    stats: LinkStats,
}

/// The link's counters (Java's LearnerHandler fields behind
/// `getLearnerHandlerInfo`).
struct LinkStats {
    /// When the link was accepted, ms since the epoch.
    established_ms: i64,
    packets_received: AtomicI64,
    packets_sent: AtomicI64,
    /// REQUEST packets (forwarded client requests).
    requests: AtomicI64,
    /// Zxid of the last packet sent that had one (-1: none since reset).
    last_zxid: AtomicI64,
    /// Packets queued for the sender and their approximate size.
    queued: AtomicI64,
    queued_bytes: AtomicI64,
}

impl LinkStats {
    fn new() -> LinkStats {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_millis() as i64);
        LinkStats {
            established_ms: now,
            packets_received: AtomicI64::new(0),
            packets_sent: AtomicI64::new(0),
            requests: AtomicI64::new(0),
            last_zxid: AtomicI64::new(-1),
            queued: AtomicI64::new(0),
            queued_bytes: AtomicI64::new(0),
        }
    }
}

/// Java's estimate of a queued packet's size: the fixed fields plus data.
fn packet_size(out: &Out) -> i64 {
    let data = match out {
        Out::Packet(p) => p.data.as_ref().map_or(0, Vec::len),
        Out::Txn(_, _, payload) => payload.len(),
        Out::Stop => 0,
    };
    (4 + 8 + 8 + 8 + data) as i64
}

impl LearnerPeer {
    /// Its sid.
    pub fn sid(&self) -> i64 {
        self.sid.load(Ordering::SeqCst)
    }

    /// The owner of the sessions this learner's clients resumed or created
    /// through it.
    pub fn session_owner(&self) -> SessionOwner {
        self.owner
    }

    /// Whether it is an observer.
    pub fn is_observer(&self) -> bool {
        self.observer.load(Ordering::SeqCst)
    }

    /// Queues a packet for the sender.
    pub fn queue(&self, out: Out) {
        self.stats.queued.fetch_add(1, Ordering::Relaxed);
        self.stats
            .queued_bytes
            .fetch_add(packet_size(&out), Ordering::Relaxed);
        let _ = self.queue.send(out);
    }

    /// The link as `observers` lists it.
    pub fn info(&self) -> ObserverInfo {
        let s = &self.stats;
        ObserverInfo {
            remote_socket_address: format!("/{}", self.addr),
            sid: self.sid(),
            established: s.established_ms,
            queued_packets: s.queued.load(Ordering::Relaxed).max(0),
            queued_packets_size: s.queued_bytes.load(Ordering::Relaxed).max(0),
            packets_received: s.packets_received.load(Ordering::Relaxed),
            packets_sent: s.packets_sent.load(Ordering::Relaxed),
            requests: s.requests.load(Ordering::Relaxed),
            last_zxid: s.last_zxid.load(Ordering::Relaxed),
        }
    }

    /// Zeroes the counters `orst` resets.
    pub fn reset_stats(&self) {
        let s = &self.stats;
        s.packets_received.store(0, Ordering::Relaxed);
        s.packets_sent.store(0, Ordering::Relaxed);
        s.requests.store(0, Ordering::Relaxed);
        s.last_zxid.store(-1, Ordering::Relaxed);
    }

    /// Alive and heard from by its deadline (`LearnerHandler.synced`).
    pub fn synced(&self, tick: i64) -> bool {
        self.alive.load(Ordering::SeqCst) && tick <= self.deadline.load(Ordering::SeqCst)
    }

    /// PING with the leader's last proposed zxid (once sending).
    pub fn ping(&self, last_proposed: i64) {
        if self.sending.load(Ordering::SeqCst) {
            self.queue(Out::Packet(packet(qp::PING, last_proposed, None)));
        }
    }

    /// Closes the connection; the handler and sender threads then end.
    pub fn shutdown(&self) {
        self.alive.store(false, Ordering::SeqCst);
        let _ = self.queue.send(Out::Stop);
        let _ = self.socket.shutdown(Shutdown::Both);
    }
}

/// Why a learner was dropped.
#[derive(Debug)]
enum HandlerError {
    /// The socket failed while doing what the text names.
    Io(&'static str, std::io::Error),
    /// A packet from the learner could not be read or decoded.
    Read(crate::jute::Error),
    /// The leader refused the learner or is stopping.
    Leader(LeaderError),
    /// The learner broke the protocol (the text says how).
    Protocol(String),
}

impl std::fmt::Display for HandlerError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            HandlerError::Io(what, e) => write!(f, "{}: {}", what, e),
            HandlerError::Read(e) => write!(f, "reading a packet: {}", e),
            HandlerError::Protocol(m) => f.write_str(m),
            HandlerError::Leader(e) => write!(f, "{}", e),
        }
    }
}

impl From<LeaderError> for HandlerError {
    fn from(e: LeaderError) -> Self {
        HandlerError::Leader(e)
    }
}

fn io_err(what: &'static str) -> impl Fn(std::io::Error) -> HandlerError {
    move |e| HandlerError::Io(what, e)
}

type Reader = InputArchive<BufReader<Chain<Cursor<Vec<u8>>, QuorumSocket>>>;
type Writer = OutputArchive<BufWriter<QuorumSocket>>;

/// Starts the handler thread for an accepted learner socket.
pub fn spawn(
    leader: Arc<dyn LearnerMaster>,
    stream: QuorumSocket,
    addr: SocketAddr,
) -> std::io::Result<()> {
    spawn_after(leader, stream, addr, Vec::new())
}

/// As [`spawn`], for a connection whose first bytes (`first`, the whole
/// first packet) the acceptor already read.
pub fn spawn_after(
    leader: Arc<dyn LearnerMaster>,
    stream: QuorumSocket,
    addr: SocketAddr,
    first: Vec<u8>,
) -> std::io::Result<()> {
    thread::Builder::new()
        .name(format!("LearnerHandler-{}", addr))
        .spawn(move || run(leader, stream, addr, first))?;
    Ok(())
}

/// The handler thread.
fn run(leader: Arc<dyn LearnerMaster>, stream: QuorumSocket, addr: SocketAddr, first: Vec<u8>) {
    let setup = (|| -> std::io::Result<_> {
        stream.set_nodelay(true)?;
        stream.set_read_timeout(Some(leader.timing().init_timeout()))?;
        // A learner that stops reading (during a snapshot, or later) must
        // not hold this thread and its queue forever: a write that makes no
        // progress for initLimit ticks (syncLimit once broadcasting) fails,
        // and the learner is dropped. A slow but moving transfer goes on.
        stream.set_write_timeout(Some(leader.timing().init_timeout()))?;
        Ok((stream.try_clone()?, stream.try_clone()?))
    })();
    let (read_half, write_half) = match setup {
        Ok(x) => x,
        Err(e) => {
            error!("Cannot set up the learner socket {}: {}", addr, e);
            return;
        }
    };
    let starts_with_auth = is_auth_packet(&first);
    let mut input = BufReader::new(Cursor::new(first).chain(read_half));
    if let Err(e) = authenticate(leader.as_ref(), starts_with_auth, &mut input, &stream, addr) {
        error!(
            "Server failed to authenticate quorum learner, addr: {}, closing connection: {}",
            addr, e
        );
        let _ = stream.shutdown(Shutdown::Both);
        return;
    }
    let (tx, rx) = channel::unbounded();
    let peer = Arc::new(LearnerPeer {
        owner: SessionOwner::Learner(NEXT_HANDLER.fetch_add(1, Ordering::Relaxed)),
        sid: AtomicI64::new(-1),
        observer: AtomicBool::new(false),
        queue: tx,
        deadline: AtomicI64::new(leader.tick_of_initial_ack_deadline()),
        alive: AtomicBool::new(true),
        sending: AtomicBool::new(false),
        socket: stream,
        addr,
        stats: LinkStats::new(),
    });
    leader.add_learner(Arc::clone(&peer));
    let mut ia = InputArchive::new(input);
    let oa = OutputArchive::new(BufWriter::new(write_half));
    if let Err(e) = handle(&leader, &peer, &mut ia, oa, rx) {
        if leader.is_running() {
            error!("Unexpected exception in LearnerHandler ({}): {}", addr, e);
        }
    }
    warn!("******* GOODBYE {} ********", addr);
    peer.shutdown();
    leader.remove_learner(&peer);
}

/// Quorum SASL before the learner's first packet (a learner that starts
/// with SASL while it is off here is refused: its packets would not parse).
fn authenticate(
    leader: &dyn LearnerMaster,
    starts_with_auth: bool,
    input: &mut dyn Read,
    mut output: &QuorumSocket,
    addr: SocketAddr,
) -> Result<(), QuorumAuthError> {
    match leader.auth_server() {
        Some(server) => {
            server.authenticate(starts_with_auth, input, &mut output, &addr.to_string())
        }
        None if starts_with_auth => Err(QuorumAuthError(
            "the learner authenticates with SASL, but quorum.auth.enableSasl is off here".into(),
        )),
        None => Ok(()),
    }
}

fn read_untraced(ia: &mut Reader) -> Result<QuorumPacket, HandlerError> {
    qp::read_packet(ia).map_err(HandlerError::Read)
}

fn read(ia: &mut Reader, peer: &LearnerPeer) -> Result<QuorumPacket, HandlerError> {
    let p = read_untraced(ia)?;
    trace(Direction::Received, peer, p.r#type, p.zxid, data_len(&p));
    Ok(p)
}

/// The protocol trace of one packet to or from this learner.
fn trace(direction: Direction, peer: &LearnerPeer, kind: i32, zxid: i64, len: usize) {
    protocol_trace::packet(direction, peer.sid(), qp::type_name, kind, zxid, len);
}

fn write_now(oa: &mut Writer, peer: &LearnerPeer, p: &QuorumPacket) -> Result<(), HandlerError> {
    trace(Direction::Sent, peer, p.r#type, p.zxid, data_len(p));
    qp::write_packet(oa, p)
        .and_then(|_| oa.inner_mut().flush())
        .map_err(io_err("writing a packet"))
}

/// Handshake, sync, then the receive loop.
fn handle(
    leader: &Arc<dyn LearnerMaster>,
    peer: &Arc<LearnerPeer>,
    ia: &mut Reader,
    mut oa: Writer,
    rx: Receiver<Out>,
) -> Result<(), HandlerError> {
    let first = read_untraced(ia)?;
    if first.r#type != qp::FOLLOWERINFO && first.r#type != qp::OBSERVERINFO {
        return Err(HandlerError::Protocol(format!(
            "First packet {} is not FOLLOWERINFO or OBSERVERINFO!",
            PacketDisplay(&first)
        )));
    }
    let info = qp::parse_learner_info(first.data.as_deref());
    let sid = info
        .as_ref()
        .map_or_else(|| leader.next_anonymous_sid(), |i| i.serverid);
    let version = info.as_ref().map_or(0, |i| i.protocol_version);
    if let Some(i) = &info {
        if data_len(&first) >= 20 && i.config_version > leader.config_version() {
            return Err(HandlerError::Protocol(
                "Follower is ahead of the leader (has a later activated configuration)".into(),
            ));
        }
    }
    peer.sid.store(sid, Ordering::SeqCst);
    trace(
        Direction::Received,
        peer,
        first.r#type,
        first.zxid,
        data_len(&first),
    );
    peer.observer
        .store(first.r#type == qp::OBSERVERINFO, Ordering::SeqCst);
    match leader.peer_info(sid) {
        Some(s) => info!("Follower sid: {} : info : {}", sid, s),
        None => info!(
            "Follower sid: {} not in the current config {}",
            sid,
            leader.config_version()
        ),
    }
    if version < qp::PROTOCOL_VERSION {
        return Err(HandlerError::Protocol(format!(
            "learner {} speaks pre-Zab-1.0 protocol 0x{:x} (not supported)",
            sid, version
        )));
    }
    let new_epoch = leader.get_epoch_to_propose(sid, qp::epoch_of(first.zxid))?;
    let new_leader_zxid = qp::make_zxid(new_epoch, 0);
    write_now(
        &mut oa,
        peer,
        &packet(
            qp::LEADERINFO,
            new_leader_zxid,
            Some(qp::int_data(qp::PROTOCOL_VERSION)),
        ),
    )?;
    let ack = read(ia, peer)?;
    if ack.r#type != qp::ACKEPOCH {
        return Err(HandlerError::Protocol(format!(
            "{} is not ACKEPOCH",
            PacketDisplay(&ack)
        )));
    }
    let epoch = qp::read_int_data(ack.data.as_deref()).map_or(-1, i64::from);
    leader.wait_for_epoch_ack(sid, (epoch, ack.zxid))?;
    // Counted against the throttle until the learner acks NEWLEADER.
    let permit = sync(leader, peer, ack.zxid, &mut oa)?;
    peer.queue(Out::Packet(packet(
        qp::NEWLEADER,
        new_leader_zxid,
        Some(leader.new_leader_config_text().into_bytes()),
    )));
    start_sender(peer, oa, rx)?;
    let ack = read(ia, peer)?;
    if ack.r#type != qp::ACK {
        return Err(HandlerError::Protocol(format!(
            "Next packet was supposed to be an ACK, but received packet: {}",
            PacketDisplay(&ack)
        )));
    }
    leader.wait_for_new_leader_ack(sid, ack.zxid)?;
    drop(permit);
    peer.socket
        .set_read_timeout(Some(leader.timing().sync_timeout()))
        .map_err(io_err("setting the timeout"))?;
    peer.socket
        .set_write_timeout(Some(leader.timing().sync_timeout()))
        .map_err(io_err("setting the timeout"))?;
    if !leader.wait_for_startup() {
        return Err(HandlerError::Leader(LeaderError::Stopped));
    }
    peer.queue(Out::Packet(packet(qp::UPTODATE, -1, None)));
    receive_loop(leader, peer, ia)
}

fn data_len(p: &QuorumPacket) -> usize {
    p.data.as_ref().map_or(0, Vec::len)
}

/// Decides and queues the sync; a SNAP is written at once (before the
/// sender starts, so it precedes everything queued). The decision and the
/// learner's entry into the master's stream happen under the master's
/// lock (no commit falls between); the snapshot is streamed after it is
/// released, chunk by chunk, so writes go on meanwhile. Then the sync
/// must pass its throttle (an observer over the limit is dropped here,
/// before anything of the sync is sent); the permit is returned to be
/// held until NEWLEADER is acked.
fn sync<'a>(
    master: &'a Arc<dyn LearnerMaster>,
    peer: &Arc<LearnerPeer>,
    peer_last_zxid: i64,
    oa: &mut Writer,
) -> Result<SyncPermit<'a>, HandlerError> {
    let sid = peer.sid();
    let snapshot = master.start_sync(peer, peer_last_zxid);
    // Syncs of followers are counted but never refused.
    let essential = !peer.is_observer();
    let throttler = master.throttler(snapshot.is_some());
    let permit = throttler.begin_sync(essential).map_err(|e| {
        HandlerError::Protocol(format!("too many concurrent sync for sid {}: {}", sid, e))
    })?;
    if let Some((zxid, sessions)) = snapshot {
        info!(
            "Sending snapshot last zxid of peer is 0x{:x}, zxid of leader is 0x{:x}, send zxid of db as 0x{:x}, {} concurrent snapshot sync, snapshot sync was {} from throttle",
            peer_last_zxid,
            master.last_proposed(),
            zxid,
            throttler.in_progress(),
            if essential { "exempt" } else { "not exempt" }
        );
        trace(Direction::Sent, peer, qp::SNAP, zxid, 0);
        qp::write_packet(oa, &packet(qp::SNAP, zxid, None)).map_err(io_err("writing SNAP"))?;
        master
            .db()
            .serialize_snapshot(&sessions, oa)
            .map_err(io_err("writing the snapshot"))?;
        oa.write_string(qp::SNAP_SIGNATURE)
            .map_err(io_err("writing the snapshot signature"))?;
        oa.inner_mut()
            .flush()
            .map_err(io_err("writing the snapshot"))?;
    }
    Ok(permit)
}

/// Starts the sender thread over the write half.
fn start_sender(
    peer: &Arc<LearnerPeer>,
    oa: Writer,
    rx: Receiver<Out>,
) -> Result<(), HandlerError> {
    let p = Arc::clone(peer);
    thread::Builder::new()
        .name(format!("Sender-{}", peer.addr))
        .spawn(move || send_packets(&p, oa, rx))
        .map_err(io_err("starting the sender thread"))?;
    peer.sending.store(true, Ordering::SeqCst);
    Ok(())
}

/// Drains the queue to the socket, flushing whenever it is empty.
fn send_packets(peer: &LearnerPeer, mut oa: Writer, rx: Receiver<Out>) {
    loop {
        let out = match rx.try_recv() {
            Ok(o) => o,
            Err(TryRecvError::Empty) => {
                if oa.inner_mut().flush().is_err() {
                    break;
                }
                match rx.recv() {
                    Ok(o) => o,
                    Err(_) => break,
                }
            }
            Err(TryRecvError::Disconnected) => break,
        };
        let stats = &peer.stats;
        stats.queued.fetch_sub(1, Ordering::Relaxed);
        stats
            .queued_bytes
            .fetch_sub(packet_size(&out), Ordering::Relaxed);
        let zxid = match &out {
            Out::Packet(p) => p.zxid,
            Out::Txn(_, z, _) => *z,
            Out::Stop => 0,
        };
        if zxid > 0 {
            stats.last_zxid.store(zxid, Ordering::Relaxed);
        }
        let written = match out {
            Out::Packet(p) => {
                trace(Direction::Sent, peer, p.r#type, p.zxid, data_len(&p));
                qp::write_packet(&mut oa, &p)
            }
            Out::Txn(t, z, payload) => {
                trace(Direction::Sent, peer, t, z, payload.len());
                write_txn(&mut oa, t, z, &payload)
            }
            Out::Stop => break,
        };
        stats.packets_sent.fetch_add(1, Ordering::Relaxed);
        if let Err(e) = written {
            if peer.alive.load(Ordering::SeqCst) {
                warn!("Unexpected exception at {}: {}", peer.addr, e);
            }
            break;
        }
    }
    let _ = oa.inner_mut().flush();
    let _ = peer.socket.shutdown(Shutdown::Both);
}

/// A PROPOSAL/INFORM without copying the shared bytes (null authinfo, −1).
fn write_txn(oa: &mut Writer, t: i32, zxid: i64, payload: &[u8]) -> std::io::Result<()> {
    oa.write_int(t)?;
    oa.write_long(zxid)?;
    oa.write_buffer(Some(payload))?;
    oa.write_int(-1)
}

/// Broadcast phase: the learner's packets until it goes away.
fn receive_loop(
    leader: &Arc<dyn LearnerMaster>,
    peer: &Arc<LearnerPeer>,
    ia: &mut Reader,
) -> Result<(), HandlerError> {
    let sid = peer.sid();
    while leader.is_running() {
        let p = read(ia, peer)?;
        peer.deadline
            .store(leader.tick_of_next_ack_deadline(), Ordering::SeqCst);
        peer.stats.packets_received.fetch_add(1, Ordering::Relaxed);
        if p.r#type == qp::REQUEST {
            peer.stats.requests.fetch_add(1, Ordering::Relaxed);
        }
        match p.r#type {
            qp::ACK => {
                if peer.is_observer() {
                    debug!("Received ACK from Observer {}", sid);
                }
                leader.process_ack(sid, p.zxid);
            }
            qp::PING => {
                for (session, timeout) in qp::decode_session_touches(p.data.as_deref()) {
                    leader.touch(session, timeout);
                }
            }
            qp::REVALIDATE => match qp::decode_revalidate(p.data.as_deref()) {
                Some((session, timeout)) => leader.revalidate_session(peer, session, timeout),
                None => warn!("Malformed REVALIDATE from sid {}", sid),
            },
            qp::REQUEST => match qp::decode_request(p.data.as_deref()) {
                Some(r) => {
                    let auth = p.authinfo.clone();
                    let mut request = Request::new(None, r.session_id, r.cxid, r.op, r.body, auth)
                        .from(Origin::Learner);
                    request.owner = peer.session_owner();
                    if r.op == op_code::SYNC {
                        // Through Prep like the writes before it, so the
                        // proposal stage sees them proposed first.
                        request.learner_sync = Some(Arc::clone(peer) as Arc<dyn Any + Send + Sync>);
                    }
                    leader.submit_learner_request(request);
                }
                None => warn!("Malformed REQUEST from sid {}", sid),
            },
            other => warn!("unexpected quorum packet, type: {}", qp::type_name(other)),
        }
    }
    Ok(())
}
