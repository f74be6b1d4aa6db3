//! The election transport: one TCP connection per pair of peers on the
//! election port, carrying length-prefixed FastLeaderElection messages.
//!
//! Threads: a listener per election address accepts connections, reads
//! their initial messages and applies the sid rules; outgoing connections are made on
//! short-lived connect threads (one at a time per peer); each established
//! connection has a SendWorker and a RecvWorker thread
//! ([`super::quorum_cnx_workers`]). The election's sender and receiver
//! threads call [`QuorumCnxManager::to_send`] and
//! [`QuorumCnxManager::poll_recv_queue`].
//!
//! Rules kept from Java: only a connection opened by the larger sid
//! survives (the smaller side closes what it opened, or closes what it
//! accepted and dials back); a newer connection for a sid replaces the
//! older one; per-peer send queues hold one message (a newer one replaces
//! the unsent one) and a new connection re-sends the last message when its
//! queue is empty; messages to myself are looped back. Unlike Java, a
//! connection from a sid that is not in the configuration is closed with a
//! warning, and a connection gets no thread of its own until its initial
//! message has arrived whole within the handshake timeout (the listener
//! polls them all, at most 64 at once: [`super::handshake_gate`]), so a
//! stalled peer or a flood of strangers cannot hold up the others.
//!
//! With quorum TLS (`sslQuorum`, `portUnification`) the gate also tells TLS
//! from plaintext and runs the accepted side's handshake, and connect
//! threads run the dialing side's handshake before the initial message
//! ([`super::unified_socket`]); everything after the handshake is the
//! same code on a [`QuorumSocket`].
//!
//! Mirrors: `org.apache.zookeeper.server.quorum.QuorumCnxManager`
//! (Listener, connectOne, startConnection, handleConnection, toSend).

use std::collections::{HashMap, HashSet};
use std::fmt;
use std::io;
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::Duration;

use log::{debug, error, info, warn};
use parking_lot::Mutex;

use super::auth::quorum_auth::next_packet_is_auth;
use super::auth::sasl_quorum_auth_learner::SaslQuorumAuthLearner;
use super::auth::sasl_quorum_auth_server::SaslQuorumAuthServer;
use super::circular_blocking_queue::CircularBlockingQueue;
use super::handshake_gate::{self, GateLimits};
use super::initial_message::{
    initial_message_len, read_initial_message, write_initial_message, InitialMessage,
};
use super::quorum_cnx_workers::{start_workers, Connection};
use super::quorum_peer_reconfig::SharedViews;
use super::quorum_server::HostPort;
use super::unified_socket::QuorumSocket;
use crate::config::quorum_tls::QuorumTls;

/// `RECV_CAPACITY`: received messages waiting for the election.
const RECV_CAPACITY: usize = 100;
/// `SEND_CAPACITY`: unsent messages per peer.
const SEND_CAPACITY: usize = 1;
/// Pause between bind attempts of the election port.
const BIND_RETRY_PAUSE: Duration = Duration::from_millis(1000);
/// Connections still sending their initial message, at most (per
/// listening address); a new one closes the oldest.
const MAX_PENDING_HANDSHAKES: usize = 64;

/// A message received from (or looped back to) a peer.
#[derive(Debug, Clone)]
pub struct Message {
    /// Who sent it.
    pub sid: i64,
    /// The payload (a notification), without its length prefix.
    pub buffer: Vec<u8>,
}

/// Settings of the transport, from the config.
#[derive(Debug, Clone)]
pub struct CnxSettings {
    /// My sid.
    pub my_id: i64,
    /// My election addresses (sent in the initial message, bound unless
    /// listening on all IPs).
    pub my_election_addrs: Vec<HostPort>,
    /// `quorumListenOnAllIPs`: bind 0.0.0.0 instead.
    pub listen_on_all_ips: bool,
    /// `multiAddress.enabled`: send protocol V2 with every address.
    pub multi_address: bool,
    /// `zookeeper.cnxTimeout`: connect timeout.
    pub connect_timeout: Duration,
    /// Read timeout while the initial message is exchanged
    /// (`quorumCnxnTimeoutMs`, else tickTime × syncLimit).
    pub handshake_timeout: Duration,
    /// `zookeeper.electionPortBindRetry` (0 = forever).
    pub bind_retry: u32,
    /// `sslQuorum` / `portUnification`: TLS on this port and what we dial.
    pub tls: Option<Arc<QuorumTls>>,
    /// Quorum SASL, accepting side (checks peers that dial me).
    pub auth_server: Option<SaslQuorumAuthServer>,
    /// Quorum SASL, dialing side (proves me to the peers I dial).
    pub auth_learner: Option<SaslQuorumAuthLearner>,
    /// `quorum.cnxn.threads.size`: accepted connections in their SASL
    /// exchange at most (each has a thread); more are closed, as Java's
    /// full connection pool refuses them.
    pub max_auth_threads: usize,
    /// `reconfigEnabled`: a server that is in neither of my configs may
    /// connect (a joining server dials the ensemble before it is added,
    /// as Java allows); otherwise such a connection is closed.
    pub accept_unknown_sids: bool,
}

/// Why the election port could not be opened.
#[derive(Debug)]
pub struct BindError {
    /// The address that failed.
    pub addr: String,
    /// Attempts made.
    pub attempts: u32,
    /// The last failure.
    pub source: io::Error,
}

impl fmt::Display for BindError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "Leaving listener thread for address {} after {} errors. Use zookeeper.electionPortBindRetry property to increase retry count. ({})",
            self.addr, self.attempts, self.source
        )
    }
}

impl std::error::Error for BindError {}

/// The transport. Shared (`Arc`) by every election-port thread.
pub struct QuorumCnxManager {
    /// Immutable settings.
    pub(super) settings: CnxSettings,
    /// The members (where to dial each sid; who may connect).
    view: SharedViews,
    /// Messages received from every peer (and looped back), for the
    /// election's receiver thread.
    recv_queue: CircularBlockingQueue<Message>,
    /// Per-peer queues of messages to send; created on first use and kept.
    send_queues: Mutex<HashMap<i64, Arc<CircularBlockingQueue<Vec<u8>>>>>,
    /// The live connection of each peer (its SendWorker's handle).
    pub(super) senders: Mutex<HashMap<i64, Arc<Connection>>>,
    /// The last message sent to each peer, re-sent on a new connection.
    pub(super) last_message_sent: Mutex<HashMap<i64, Vec<u8>>>,
    /// Peers being dialed right now (one connect thread each).
    in_progress: Mutex<HashSet<i64>>,
    /// Set by [`QuorumCnxManager::halt`]: every thread winds down.
    pub(super) shutdown: AtomicBool,
    /// Where the listeners are bound (to wake them on halt).
    bound: Mutex<Vec<SocketAddr>>,
    /// My election addresses now: bound, and sent in initial messages (a
    /// reconfig may move them).
    my_addrs: Mutex<Vec<HostPort>>,
    /// The running listeners' stop flag (replaced when they move).
    listener_stop: Mutex<Arc<AtomicBool>>,
    /// Numbers connections so a worker only unregisters its own.
    pub(super) next_connection_id: AtomicU64,
    /// Accepted connections in their SASL exchange now.
    auth_threads: Arc<AtomicUsize>,
}

impl QuorumCnxManager {
    /// A transport for `settings.my_id` among the members of `view`.
    pub fn new(settings: CnxSettings, view: SharedViews) -> Arc<QuorumCnxManager> {
        Arc::new(QuorumCnxManager {
            my_addrs: Mutex::new(settings.my_election_addrs.clone()),
            listener_stop: Mutex::new(Arc::new(AtomicBool::new(false))),
            settings,
            view,
            recv_queue: CircularBlockingQueue::new(RECV_CAPACITY),
            send_queues: Mutex::new(HashMap::new()),
            senders: Mutex::new(HashMap::new()),
            last_message_sent: Mutex::new(HashMap::new()),
            in_progress: Mutex::new(HashSet::new()),
            shutdown: AtomicBool::new(false),
            bound: Mutex::new(Vec::new()),
            next_connection_id: AtomicU64::new(1),
            auth_threads: Arc::new(AtomicUsize::new(0)),
        })
    }

    /// My sid.
    pub fn my_id(&self) -> i64 {
        self.settings.my_id
    }

    /// Binds the election port(s), retrying as configured, and starts a
    /// listener thread per address. Returns the bound addresses.
    pub fn start_listener(self: &Arc<Self>) -> Result<Vec<SocketAddr>, BindError> {
        let mut bound = Vec::new();
        let stop = Arc::clone(&self.listener_stop.lock());
        for addr in self.listen_addresses() {
            let listener = self.bind_with_retry(&addr)?;
            let local = listener.local_addr().map_err(|source| BindError {
                addr: addr.to_string(),
                attempts: 1,
                source,
            })?;
            info!(
                "{} is accepting connections now, my election bind port: {}",
                self.settings.my_id, local
            );
            bound.push(local);
            let (me, stop) = (self.clone(), Arc::clone(&stop));
            let spawned = thread::Builder::new()
                .name(format!("ListenerHandler-{}", local))
                .spawn(move || me.accept_loop(listener, stop));
            if let Err(source) = spawned {
                return Err(BindError {
                    addr: addr.to_string(),
                    attempts: 1,
                    source,
                });
            }
        }
        // Under the stop flag's lock, so a move cannot fall between the
        // check and the registration: listeners a move already stopped
        // (it came while these were binding) are woken now, else the move
        // that comes later finds them in `bound`.
        let current = self.listener_stop.lock();
        if stop.load(Ordering::SeqCst) {
            drop(current);
            bound.iter().for_each(|a| wake_listener(*a));
        } else {
            self.bound.lock().extend(bound.iter().copied());
        }
        Ok(bound)
    }

    /// A committed config moved my election address (Java then restarts
    /// its election transport on the new one): the listeners close and
    /// new ones bind there, on a thread of their own (retrying as at
    /// startup); connections already made go on.
    pub fn follow_my_election_address(self: &Arc<Self>) {
        let moved = self
            .view
            .lock()
            .committed
            .all_members()
            .get(&self.settings.my_id)
            .map(|s| s.election_addrs())
            .filter(|addrs| !addrs.is_empty() && *addrs != *self.my_addrs.lock());
        let Some(addrs) = moved else {
            return;
        };
        info!(
            "My election address moved to {}",
            addrs
                .iter()
                .map(|a| a.to_wire())
                .collect::<Vec<_>>()
                .join("|")
        );
        *self.my_addrs.lock() = addrs;
        let old: Vec<SocketAddr> = {
            let mut stop = self.listener_stop.lock();
            std::mem::replace(&mut *stop, Arc::new(AtomicBool::new(false)))
                .store(true, Ordering::SeqCst);
            std::mem::take(&mut *self.bound.lock())
        };
        for addr in old {
            wake_listener(addr);
        }
        let me = Arc::clone(self);
        let spawned = thread::Builder::new()
            .name("ElectionListenerMove".into())
            .spawn(move || {
                if let Err(e) = me.start_listener() {
                    error!("{}", e);
                }
            });
        if let Err(e) = spawned {
            error!(
                "Cannot start the election listener on my new address: {}",
                e
            );
        }
    }

    /// My election addresses, or the wildcard with their ports.
    fn listen_addresses(&self) -> Vec<HostPort> {
        self.my_addrs
            .lock()
            .iter()
            .map(|a| {
                if self.settings.listen_on_all_ips {
                    HostPort {
                        host: Ipv4Addr::UNSPECIFIED.to_string(),
                        port: a.port,
                    }
                } else {
                    a.clone()
                }
            })
            .collect()
    }

    fn bind_with_retry(&self, addr: &HostPort) -> Result<TcpListener, BindError> {
        let mut attempts = 0;
        loop {
            attempts += 1;
            let result = addr.resolve().and_then(TcpListener::bind);
            match result {
                Ok(listener) => return Ok(listener),
                Err(source) => {
                    error!("Exception while listening to address {}: {}", addr, source);
                    let retry = self.settings.bind_retry;
                    if (retry != 0 && attempts >= retry) || self.shutdown.load(Ordering::SeqCst) {
                        return Err(BindError {
                            addr: addr.to_string(),
                            attempts,
                            source,
                        });
                    }
                    thread::sleep(BIND_RETRY_PAUSE);
                }
            }
        }
    }

    /// Waits for connections and their initial messages in the
    /// [`handshake_gate`] (no thread per connection before that), then
    /// applies the sid rules on this thread.
    fn accept_loop(self: Arc<Self>, listener: TcpListener, moved: Arc<AtomicBool>) {
        let limits = GateLimits {
            max_pending: MAX_PENDING_HANDSHAKES,
            deadline: self.settings.handshake_timeout,
        };
        let stop = || self.shutdown.load(Ordering::SeqCst) || moved.load(Ordering::SeqCst);
        let mut ready = |stream: QuorumSocket, from: SocketAddr, header: Vec<u8>| {
            let remote = from.to_string();
            info!("Received connection request from {}", remote);
            match read_initial_message(&mut header.as_slice()) {
                Ok(init) => self.clone().receive_connection(stream, &remote, init),
                Err(e) => {
                    warn!(
                        "Closing election connection from {}: initial message refused: {}",
                        remote, e
                    );
                    close(&stream);
                }
            }
        };
        match &self.settings.tls {
            Some(tls) if tls.port_unification => info!("Creating TLS-enabled quorum server socket"),
            Some(_) => info!("Creating TLS-only quorum server socket"),
            None => {}
        }
        handshake_gate::run(
            &listener,
            "Election listener",
            limits,
            initial_message_len,
            self.settings.tls.as_deref(),
            &stop,
            &mut ready,
        );
        info!("Leaving listener");
    }

    /// The accepting side, its initial message read: members only; then
    /// quorum SASL when enabled (on a thread of its own, as the peer may
    /// take a while), then the sid rules.
    fn receive_connection(
        self: Arc<Self>,
        stream: QuorumSocket,
        remote: &str,
        init: InitialMessage,
    ) {
        let _ = stream.set_nodelay(true);
        let sid = init.sid;
        if !self.settings.accept_unknown_sids && !self.view.lock().knows(sid) {
            warn!(
                "Closing election connection from {}: sid {} is not a member of the ensemble",
                remote, sid
            );
            close(&stream);
            return;
        }
        if self.settings.auth_server.is_none() {
            self.apply_sid_rules(stream, remote, sid);
            return;
        }
        let busy = Arc::clone(&self.auth_threads);
        if busy.fetch_add(1, Ordering::SeqCst) >= self.settings.max_auth_threads {
            busy.fetch_sub(1, Ordering::SeqCst);
            error!(
                "Exception handling connection, addr: {}, closing server connection: all {} connection threads (quorum.cnxn.threads.size) are busy",
                remote, self.settings.max_auth_threads
            );
            close(&stream);
            return;
        }
        let remote = remote.to_string();
        let spawned = thread::Builder::new()
            .name(format!("QuorumConnectionReceiverThread-{}", remote))
            .spawn({
                let busy = Arc::clone(&busy);
                move || {
                    let authenticated = self.authenticate_peer(&stream, &remote);
                    busy.fetch_sub(1, Ordering::SeqCst);
                    match authenticated {
                        true => self.apply_sid_rules(stream, &remote, sid),
                        false => close(&stream),
                    }
                }
            });
        if let Err(e) = spawned {
            busy.fetch_sub(1, Ordering::SeqCst);
            error!("Exception handling connection, closing it: {}", e);
        }
    }

    /// Quorum SASL on an accepted connection: true lets it go on.
    fn authenticate_peer(&self, stream: &QuorumSocket, remote: &str) -> bool {
        let Some(server) = &self.settings.auth_server else {
            return true;
        };
        let _ = stream.set_read_timeout(Some(self.settings.handshake_timeout));
        let _ = stream.set_write_timeout(Some(self.settings.handshake_timeout));
        let starts_with_auth = match next_packet_is_auth(stream, self.settings.handshake_timeout) {
            Ok(is_auth) => is_auth,
            Err(e) => {
                // Java counts a peer gone before its first bytes as one
                // that did not authenticate.
                debug!("No SASL packet from {}: {}", remote, e);
                false
            }
        };
        match server.authenticate(starts_with_auth, &mut &*stream, &mut &*stream, remote) {
            Ok(()) => {
                let _ = stream.set_write_timeout(None);
                true
            }
            Err(e) => {
                error!(
                    "Exception handling connection, addr: {}, closing server connection: {}",
                    remote, e
                );
                false
            }
        }
    }

    /// Who keeps an accepted connection from a member.
    fn apply_sid_rules(self: Arc<Self>, stream: QuorumSocket, remote: &str, sid: i64) {
        let my_id = self.settings.my_id;
        if sid < my_id {
            // It lost the tie-break: close it and dial back ourselves. The
            // old connection (if any) is stale.
            debug!("Create new connection to server: {}", sid);
            let old = self.senders.lock().get(&sid).cloned();
            if let Some(old) = old {
                old.finish(&self);
            }
            close(&stream);
            self.connect_one(sid);
        } else if sid == my_id {
            warn!(
                "We got a connection request from a server with our own ID ({}). \
                 This should be either a configuration error, or a bug.",
                remote
            );
            close(&stream);
        } else {
            self.start_connection_workers(stream, sid);
        }
    }

    /// Registers a connection for `sid` (replacing any older one) and starts
    /// its SendWorker and RecvWorker.
    fn start_connection_workers(self: &Arc<Self>, stream: QuorumSocket, sid: i64) {
        let _ = stream.set_read_timeout(None);
        self.queue_for(sid);
        if let Err(e) = start_workers(self, stream, sid) {
            warn!(
                "Cannot start the workers for the election connection of sid {}: {}",
                sid, e
            );
        }
    }

    /// The send queue of `sid`, created if needed.
    pub(super) fn queue_for(&self, sid: i64) -> Arc<CircularBlockingQueue<Vec<u8>>> {
        self.send_queues
            .lock()
            .entry(sid)
            .or_insert_with(|| Arc::new(CircularBlockingQueue::new(SEND_CAPACITY)))
            .clone()
    }

    /// Queues `message` for `sid` (looping it back if `sid` is me) and
    /// makes sure a connection is being made.
    pub fn to_send(self: &Arc<Self>, sid: i64, message: Vec<u8>) {
        if sid == self.settings.my_id {
            self.add_to_recv_queue(Message {
                sid,
                buffer: message,
            });
            return;
        }
        self.queue_for(sid).offer(message);
        self.connect_one(sid);
    }

    /// Hands a received message to the election.
    pub(super) fn add_to_recv_queue(&self, message: Message) {
        if self.recv_queue.offer(message) {
            debug!("Election receive queue full: dropped the oldest message");
        }
    }

    /// The next received message, waiting up to `timeout`.
    pub fn poll_recv_queue(&self, timeout: Duration) -> Option<Message> {
        self.recv_queue.poll(timeout)
    }

    /// Dials `sid` unless connected or already dialing; returns at once.
    pub fn connect_one(self: &Arc<Self>, sid: i64) {
        if self.shutdown.load(Ordering::SeqCst) || self.senders.lock().contains_key(&sid) {
            return;
        }
        let server = {
            let views = self.view.lock();
            let server = views.committed.all_members().get(&sid).cloned();
            server.or_else(|| views.last_seen.all_members().get(&sid).cloned())
        };
        let Some(server) = server else {
            warn!("Invalid server id: {} ", sid);
            return;
        };
        if !self.in_progress.lock().insert(sid) {
            return;
        }
        let addrs = server.election_addrs();
        let me = self.clone();
        let spawned = thread::Builder::new()
            .name(format!("QuorumConnectionReqThread-{}", sid))
            .spawn(move || {
                me.initiate_connection(sid, &addrs);
                me.in_progress.lock().remove(&sid);
            });
        if let Err(e) = spawned {
            self.in_progress.lock().remove(&sid);
            error!(
                "Exception while submitting quorum connection request: {}",
                e
            );
        }
    }

    /// The dialing side: connect to the first reachable address, send the
    /// initial message, keep the connection only if my sid is larger.
    fn initiate_connection(self: &Arc<Self>, sid: i64, addrs: &[HostPort]) {
        let mut last_error = None;
        let stream = addrs.iter().find_map(|addr| {
            let connected = addr.resolve().and_then(|resolved| {
                TcpStream::connect_timeout(&resolved, self.settings.connect_timeout)
            });
            match connected {
                Ok(s) => Some(s),
                Err(e) => {
                    last_error = Some(format!("{}: {}", addr, e));
                    None
                }
            }
        });
        let Some(stream) = stream else {
            warn!(
                "Cannot open channel to {} at election address {}",
                sid,
                last_error.unwrap_or_else(|| "(none configured)".to_string())
            );
            return;
        };
        let _ = stream.set_nodelay(true);
        let stream = match self.secure(stream, sid) {
            Some(s) => s,
            None => return,
        };
        let _ = stream.set_read_timeout(Some(self.settings.handshake_timeout));
        let _ = stream.set_write_timeout(Some(self.settings.handshake_timeout));
        let my_addrs = self.my_addrs.lock().clone();
        let header = write_initial_message(
            &mut &stream,
            self.settings.my_id,
            &my_addrs,
            self.settings.multi_address,
        );
        if let Err(e) = header {
            warn!(
                "Ignoring exception reading or writing challenge to {}: {}",
                sid, e
            );
            close(&stream);
            return;
        }
        if let Some(learner) = &self.settings.auth_learner {
            let host = self.view.lock().member_host(sid);
            let remote = stream
                .peer_addr()
                .map(|a| a.to_string())
                .unwrap_or_default();
            if let Err(e) = learner.authenticate(&mut &stream, &mut &stream, &host, &remote) {
                error!(
                    "Exception while connecting, id: {}, addr: {}, closing learner connection: {}",
                    sid, remote, e
                );
                close(&stream);
                return;
            }
        }
        let _ = stream.set_write_timeout(None);
        if sid > self.settings.my_id {
            info!(
                "Have smaller server identifier, so dropping the connection: (myId:{} --> sid:{})",
                self.settings.my_id, sid
            );
            close(&stream);
        } else {
            debug!(
                "Have larger server identifier, so keeping the connection: (myId:{} --> sid:{})",
                self.settings.my_id, sid
            );
            self.start_connection_workers(stream, sid);
        }
    }

    /// The dialed connection as the quorum talks: TLS with `sslQuorum`
    /// (handshake bounded by the connect timeout), else plaintext; `None`
    /// (closed, logged) when the handshake fails.
    fn secure(&self, stream: TcpStream, sid: i64) -> Option<QuorumSocket> {
        let Some(tls) = self.settings.tls.as_ref().filter(|t| t.ssl_quorum) else {
            return Some(QuorumSocket::plain(stream));
        };
        let timeout = self
            .settings
            .connect_timeout
            .max(self.settings.handshake_timeout);
        match QuorumSocket::dial_tls(stream, tls, timeout) {
            Ok(s) => Some(s),
            Err(e) => {
                warn!("TLS handshake with sid {} failed: {}", sid, e);
                None
            }
        }
    }

    /// Dials every peer we have a send queue for.
    pub fn connect_all(self: &Arc<Self>) {
        let sids: Vec<i64> = self.send_queues.lock().keys().copied().collect();
        for sid in sids {
            self.connect_one(sid);
        }
    }

    /// True when some send queue is empty (something was delivered).
    pub fn have_delivered(&self) -> bool {
        self.send_queues.lock().values().any(|q| q.is_empty())
    }

    /// Stops everything: listeners, workers, dialers.
    pub fn halt(&self) {
        if self.shutdown.swap(true, Ordering::SeqCst) {
            return;
        }
        debug!("Halting listener");
        for addr in self.bound.lock().iter() {
            wake_listener(*addr);
        }
        let connections: Vec<Arc<Connection>> = self.senders.lock().values().cloned().collect();
        for connection in connections {
            connection.finish(self);
        }
    }
}

/// Wakes a listener's accept call (so it sees its stop flag).
fn wake_listener(addr: SocketAddr) {
    let target = if addr.ip().is_unspecified() {
        SocketAddr::new(Ipv4Addr::LOCALHOST.into(), addr.port())
    } else {
        addr
    };
    let _ = TcpStream::connect_timeout(&target, Duration::from_millis(500));
}

/// Closes both directions, ignoring errors (the peer may be gone).
pub(super) fn close(stream: &QuorumSocket) {
    let _ = stream.shutdown(std::net::Shutdown::Both);
}

#[cfg(test)]
mod tests {
    use super::super::quorum_peer_reconfig::{config_from_string, QuorumViews};
    use super::*;

    fn free_port() -> u16 {
        TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port()
    }

    fn config(election_port: u16, version: &str) -> Arc<super::super::flexible::QuorumVerifier> {
        let text = format!(
            "server.1=127.0.0.1:{}:{}:participant;127.0.0.1:{}\nversion={}",
            free_port(),
            election_port,
            free_port(),
            version
        );
        Arc::new(config_from_string(&text, false).unwrap())
    }

    fn accepts(port: u16) -> bool {
        TcpStream::connect(("127.0.0.1", port)).is_ok()
    }

    #[test]
    fn the_listener_follows_my_election_address() {
        let (old, new) = (free_port(), free_port());
        let views: SharedViews = Arc::new(Mutex::new(QuorumViews::new(config(old, "100000000"))));
        let manager = QuorumCnxManager::new(
            CnxSettings {
                my_id: 1,
                my_election_addrs: vec![HostPort {
                    host: "127.0.0.1".into(),
                    port: old,
                }],
                listen_on_all_ips: false,
                multi_address: false,
                connect_timeout: Duration::from_secs(1),
                handshake_timeout: Duration::from_secs(1),
                bind_retry: 3,
                tls: None,
                auth_server: None,
                auth_learner: None,
                max_auth_threads: 1,
                accept_unknown_sids: false,
            },
            Arc::clone(&views),
        );
        manager.start_listener().unwrap();
        assert!(accepts(old));
        // Same address: nothing moves.
        manager.follow_my_election_address();
        assert!(accepts(old) && !accepts(new));
        views.lock().committed = config(new, "100000001");
        manager.follow_my_election_address();
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        while !accepts(new) || accepts(old) {
            assert!(std::time::Instant::now() < deadline, "listener never moved");
            thread::sleep(Duration::from_millis(20));
        }
        manager.halt();
    }
}
