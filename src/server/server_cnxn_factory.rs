//! The client port: a listener thread that accepts connections, enforces
//! `maxCnxns` (total) and `maxClientCnxns` (per client IP), starts one
//! [`BlockingServerCnxn`] per socket, and keeps a registry of the live
//! ones (for `stat`/`cons` and for closing them all at shutdown).
//!
//! Threads: one accept thread ("NIOServerCxnFactory.AcceptThread:<addr>");
//! each connection then runs its own thread (replies are written by the
//! threads that produce them, see `blocking_server_cnxn`). The registry is
//! shared by all of them behind one mutex.
//!
//! A reconfig may move the listener (`reconfigure`): the old socket is
//! closed (its accept thread woken and joined), a new one bound and a new
//! accept thread started; the connections already made go on.
//!
//! Shutdown (`shutdown`): stop accepting (the accept thread is woken by a
//! connection to itself and joined), ask every connection to close after
//! flushing what it has queued, wait for them to go, and cut off the ones
//! still stuck after a grace period.
//!
//! Mirrors: `org.apache.zookeeper.server.ServerCnxnFactory` and
//! `NIOServerCnxnFactory` (accept thread and limits; the selector threads
//! are replaced by a thread per connection).

use std::collections::HashMap;
use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use log::{debug, error, info, warn};
use parking_lot::{Condvar, Mutex};

use super::blocking_server_cnxn::{BlockingServerCnxn, TlsAcceptor, TlsMode};
use super::command::ConnectionInfo;
use super::connection_limits::{self, ConnectionLimits};
use super::server_cnxn::{CloseReason, ServerCnxn};
use super::zookeeper_server::{ServerStatsSnapshot, ZooKeeperServer};
use crate::jute::proto::{ConnectRequest, RequestHeader};

/// How long shutdown lets connections flush before cutting them off.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(2);
/// Pause after a failed `accept` (e.g. out of file descriptors), so the
/// loop does not spin; Java rate-limits the log line instead.
const ACCEPT_ERROR_PAUSE: Duration = Duration::from_millis(100);

/// What the connection layer needs from the server. `ZooKeeperServer`
/// implements it; tests can plug in a fake to exercise framing alone.
pub trait CnxnHandler: Send + Sync {
    /// See `ZooKeeperServer::process_connect_request`.
    fn process_connect_request(&self, cnxn: Arc<dyn ServerCnxn>, request: ConnectRequest);
    /// See `ZooKeeperServer::process_packet`.
    fn process_packet(&self, cnxn: &Arc<dyn ServerCnxn>, header: RequestHeader, payload: Vec<u8>);
    /// A request frame as the connection thread read it. `in_pipeline`
    /// counts this connection's requests still inside the processor chain
    /// (a request handed on should carry a `request::PendingToken`); while
    /// it is 0 a handler may answer a read right here, on the calling
    /// thread. The default hands everything to `process_packet`.
    fn process_frame(
        &self,
        cnxn: &Arc<dyn ServerCnxn>,
        header: RequestHeader,
        payload: &[u8],
        in_pipeline: &Arc<AtomicUsize>,
    ) {
        let _ = in_pipeline;
        self.process_packet(cnxn, header, payload.to_vec())
    }
    /// See `ZooKeeperServer::remove_cnxn`.
    fn remove_cnxn(&self, cnxn: &dyn ServerCnxn);
    /// See `ZooKeeperServer::incr_packets_received`.
    fn incr_packets_received(&self);
    /// See `ZooKeeperServer::incr_packets_sent`.
    fn incr_packets_sent(&self);
    /// Figures for srvr/stat; `None` when not serving requests.
    fn stats(&self) -> Option<ServerStatsSnapshot>;
    /// `standalone`, `leader`, ... for srvr's `Mode:` line.
    fn mode(&self) -> &str;
    /// The parsed `4lw.commands.whitelist`.
    fn four_letter_word_whitelist(&self) -> &[String];
    /// The server itself, for 4lw commands that read its tree and sessions.
    fn zk_server(&self) -> Option<&ZooKeeperServer> {
        None
    }
    /// The server as a shared handle, for handlers whose server changes
    /// under them (a quorum peer's roles); used instead of `zk_server`
    /// when `Some`, so a retired role's server can be freed.
    fn zk_server_arc(&self) -> Option<Arc<ZooKeeperServer>> {
        None
    }
}

impl CnxnHandler for ZooKeeperServer {
    fn process_connect_request(&self, cnxn: Arc<dyn ServerCnxn>, request: ConnectRequest) {
        ZooKeeperServer::process_connect_request(self, cnxn, request)
    }
    fn process_packet(&self, cnxn: &Arc<dyn ServerCnxn>, header: RequestHeader, payload: Vec<u8>) {
        ZooKeeperServer::process_packet(self, cnxn, header, payload)
    }
    fn process_frame(
        &self,
        cnxn: &Arc<dyn ServerCnxn>,
        header: RequestHeader,
        payload: &[u8],
        in_pipeline: &Arc<AtomicUsize>,
    ) {
        ZooKeeperServer::process_frame(self, cnxn, header, payload, in_pipeline)
    }
    fn remove_cnxn(&self, cnxn: &dyn ServerCnxn) {
        ZooKeeperServer::remove_cnxn(self, cnxn)
    }
    fn incr_packets_received(&self) {
        ZooKeeperServer::incr_packets_received(self)
    }
    fn incr_packets_sent(&self) {
        ZooKeeperServer::incr_packets_sent(self)
    }
    fn stats(&self) -> Option<ServerStatsSnapshot> {
        Some(ZooKeeperServer::stats(self))
    }
    fn mode(&self) -> &str {
        ZooKeeperServer::mode(self)
    }
    fn four_letter_word_whitelist(&self) -> &[String] {
        &self.config().four_letter_word_whitelist
    }
    fn zk_server(&self) -> Option<&ZooKeeperServer> {
        Some(self)
    }
}

/// Connection limits, from `maxCnxns` and `maxClientCnxns` (0 = none),
/// and the listen queue, from `clientPortListenBacklog`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Total live connections allowed.
    pub max_cnxns: usize,
    /// Live connections allowed per client IP.
    pub max_client_cnxns: usize,
    /// `clientPortListenBacklog`; see [`listen_backlog`].
    pub listen_backlog: i32,
}

/// The length of the client port's queue of connections not yet
/// accepted: `clientPortListenBacklog` when it is positive, else the
/// longest the kernel allows (`net.core.somaxconn`, which also caps a
/// configured value). Java leaves an unset backlog at the JDK's 50: when
/// thousands of clients reconnect at once (a leader died), a short queue
/// drops their SYNs and each dropped one waits for TCP's retransmission,
/// 1, 3, 7 s later; a long queue lets the accept thread catch up instead.
pub fn listen_backlog(configured: i32) -> i32 {
    if configured > 0 {
        configured
    } else {
        i32::MAX
    }
}

/// Sets the queue length of a bound listener (listen(2) again on a
/// listening socket changes only its backlog).
fn set_listen_backlog(listener: &TcpListener, configured: i32) -> std::io::Result<()> {
    use std::os::fd::AsRawFd;
    // SAFETY: listen(2) on a descriptor the listener owns and keeps open
    // across the call.
    if unsafe { libc::listen(listener.as_raw_fd(), listen_backlog(configured)) } < 0 {
        return Err(std::io::Error::last_os_error());
    }
    Ok(())
}

/// Why an accepted socket was turned away (Java's messages).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// `maxCnxns` reached.
    TooManyTotal { max: usize },
    /// `maxClientCnxns` reached for this IP.
    TooManyFromIp { ip: IpAddr, max: usize },
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Refusal::TooManyTotal { max } => {
                write!(f, "Too many connections max allowed is {}", max)
            }
            Refusal::TooManyFromIp { ip, max } => write!(
                f,
                "Too many connections from /{} - max is {}",
                super::command::java_host_address(ip),
                max
            ),
        }
    }
}

/// The accept decision: `alive` connections in total, `from_ip` of them
/// from the new socket's IP. Java checks the total first.
pub fn admit(alive: usize, from_ip: usize, ip: IpAddr, limits: Limits) -> Result<(), Refusal> {
    if limits.max_cnxns > 0 && alive >= limits.max_cnxns {
        return Err(Refusal::TooManyTotal {
            max: limits.max_cnxns,
        });
    }
    if limits.max_client_cnxns > 0 && from_ip >= limits.max_client_cnxns {
        return Err(Refusal::TooManyFromIp {
            ip,
            max: limits.max_client_cnxns,
        });
    }
    Ok(())
}

/// The live connections. Shared by the accept thread (adds), each
/// connection's reader thread (removes itself when done), 4lw commands
/// (reads) and shutdown (closes all).
#[derive(Default)]
pub struct CnxnRegistry {
    /// Guarded state; held only for map updates, never across I/O.
    state: Mutex<RegistryState>,
    /// Signalled whenever a connection leaves, so shutdown can wait.
    changed: Condvar,
}

#[derive(Default)]
struct RegistryState {
    /// Connection id → connection.
    cnxns: HashMap<u64, Arc<BlockingServerCnxn>>,
    /// Live connections per client IP, for `maxClientCnxns`.
    per_ip: HashMap<IpAddr, usize>,
}

impl CnxnRegistry {
    /// Admits and records a connection in one step (so two sockets from
    /// the same IP cannot both squeeze under the limit).
    pub fn try_register(
        &self,
        cnxn: &Arc<BlockingServerCnxn>,
        limits: Limits,
    ) -> Result<(), Refusal> {
        let ip = cnxn.remote_addr().ip();
        let mut state = self.state.lock();
        let from_ip = state.per_ip.get(&ip).copied().unwrap_or(0);
        admit(state.cnxns.len(), from_ip, ip, limits)?;
        state.cnxns.insert(cnxn.id(), cnxn.clone());
        *state.per_ip.entry(ip).or_insert(0) += 1;
        Ok(())
    }

    /// Forgets a connection (its last act, on its reader thread).
    pub fn unregister(&self, id: u64) {
        let mut state = self.state.lock();
        if let Some(cnxn) = state.cnxns.remove(&id) {
            let ip = cnxn.remote_addr().ip();
            if let Some(count) = state.per_ip.get_mut(&ip) {
                *count -= 1;
                if *count == 0 {
                    state.per_ip.remove(&ip);
                }
            }
        }
        self.changed.notify_all();
    }

    /// The live connections, in id (= accept) order.
    pub fn connections(&self) -> Vec<Arc<BlockingServerCnxn>> {
        let mut all: Vec<_> = self.state.lock().cnxns.values().cloned().collect();
        all.sort_by_key(|c| c.id());
        all
    }

    /// What the 4lw commands show for each live connection.
    pub fn connection_infos(&self) -> Vec<ConnectionInfo> {
        self.connections().iter().map(|c| c.info()).collect()
    }

    /// Number of live connections.
    pub fn len(&self) -> usize {
        self.state.lock().cnxns.len()
    }

    /// True when no connection is live.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Waits until no connection is left or `timeout` passes.
    fn wait_empty(&self, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        let mut state = self.state.lock();
        while !state.cnxns.is_empty() {
            if self.changed.wait_until(&mut state, deadline).timed_out() {
                return state.cnxns.is_empty();
            }
        }
        true
    }
}

/// The client port could not be opened.
#[derive(Debug)]
pub struct BindError {
    /// The address from the config.
    pub addr: SocketAddr,
    /// What the OS said (e.g. address in use).
    pub source: std::io::Error,
}

impl fmt::Display for BindError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "cannot bind the client port {}: {}",
            self.addr, self.source
        )
    }
}

impl std::error::Error for BindError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.source)
    }
}

/// The client-port listener and its connections.
pub struct ServerCnxnFactory {
    /// The server every connection talks to.
    handler: Arc<dyn CnxnHandler>,
    /// The bound address (the real port when the config asked for 0);
    /// changed by `reconfigure`.
    local_addr: Mutex<SocketAddr>,
    /// Live connections.
    registry: Arc<CnxnRegistry>,
    /// `maxCnxns` / `maxClientCnxns`.
    limits: Limits,
    /// Set by `shutdown`.
    stopping: AtomicBool,
    /// The running accept thread's stop flag, which it checks after every
    /// accept (each thread has its own: `reconfigure` replaces it).
    accept_stop: Mutex<Arc<AtomicBool>>,
    /// The socket until `start` hands it to the accept thread.
    listener: Mutex<Option<TcpListener>>,
    /// The accept thread, joined by `shutdown`.
    accept_thread: Mutex<Option<JoinHandle<()>>>,
    /// TLS for every connection (the secure client port), for those that
    /// start a handshake (port unification), or none.
    tls: Option<TlsMode>,
}

impl ServerCnxnFactory {
    /// Binds the client port (`NIOServerCnxnFactory.configure`). Nothing
    /// is accepted until [`ServerCnxnFactory::start`].
    pub fn bind(
        addr: SocketAddr,
        limits: Limits,
        handler: Arc<dyn CnxnHandler>,
    ) -> Result<ServerCnxnFactory, BindError> {
        let listener = ServerCnxnFactory::bind_listener(addr)?;
        ServerCnxnFactory::from_listener(listener, limits, handler)
            .map_err(|source| BindError { addr, source })
    }

    /// Just the bind, so a process can claim its port before loading its
    /// database (as Java does), then build the factory with
    /// [`ServerCnxnFactory::from_listener`].
    pub fn bind_listener(addr: SocketAddr) -> Result<TcpListener, BindError> {
        info!("binding to port {}", addr);
        let listener = TcpListener::bind(addr).map_err(|source| BindError { addr, source })?;
        if let Ok(local) = listener.local_addr() {
            info!("bound to port {}", local.port());
        }
        Ok(listener)
    }

    /// A factory around an already bound listener.
    pub fn from_listener(
        listener: TcpListener,
        limits: Limits,
        handler: Arc<dyn CnxnHandler>,
    ) -> std::io::Result<ServerCnxnFactory> {
        let local_addr = listener.local_addr()?;
        set_listen_backlog(&listener, limits.listen_backlog)?;
        // Raises the open-file limit and logs the connection limit, once.
        connection_limits::startup();
        if limits.max_cnxns == 0 {
            warn!("maxCnxns is not configured, using default value 0.");
        } else {
            info!("maxCnxns configured value is {}.", limits.max_cnxns);
        }
        Ok(ServerCnxnFactory {
            handler,
            local_addr: Mutex::new(local_addr),
            registry: Arc::new(CnxnRegistry::default()),
            limits,
            stopping: AtomicBool::new(false),
            accept_stop: Mutex::new(Arc::new(AtomicBool::new(false))),
            listener: Mutex::new(Some(listener)),
            accept_thread: Mutex::new(None),
            tls: None,
        })
    }

    /// Makes this the secure client port (Java's second factory,
    /// `secureServerCnxnFactory`): every connection runs TLS first. Its
    /// connections join `registry` (the plain port's), so `cons`, `stat`
    /// and the AdminServer list both ports' clients as Java does.
    pub fn with_tls(mut self, tls: TlsAcceptor, registry: Arc<CnxnRegistry>) -> ServerCnxnFactory {
        self.tls = Some(TlsMode::Always(tls));
        self.registry = registry;
        self
    }

    /// `client.portUnification`: a plain port whose clients may also
    /// speak TLS (their first byte tells; Java's `DualModeSslHandler`).
    pub fn with_port_unification(mut self, tls: TlsAcceptor) -> ServerCnxnFactory {
        self.tls = Some(TlsMode::Detect(tls));
        self
    }

    /// Starts accepting (`ServerCnxnFactory.startup`'s `start()` part).
    pub fn start(&self) -> std::io::Result<()> {
        let Some(listener) = self.listener.lock().take() else {
            return Ok(()); // already started
        };
        let stop = Arc::new(AtomicBool::new(false));
        *self.accept_stop.lock() = Arc::clone(&stop);
        let accept = AcceptLoop {
            listener,
            handler: self.handler.clone(),
            registry: self.registry.clone(),
            limits: self.limits,
            stopping: stop,
            tls: self.tls.clone(),
        };
        let name = match self.tls {
            Some(TlsMode::Always(_)) => format!("SecureAcceptThread:{}", self.local_addr()),
            _ => format!("NIOServerCxnFactory.AcceptThread:{}", self.local_addr()),
        };
        let handle = std::thread::Builder::new()
            .name(name)
            .spawn(move || accept.run())?;
        *self.accept_thread.lock() = Some(handle);
        Ok(())
    }

    /// True for the secure client port (TLS on every connection).
    pub fn is_secure(&self) -> bool {
        matches!(self.tls, Some(TlsMode::Always(_)))
    }

    /// The address actually bound.
    pub fn local_addr(&self) -> SocketAddr {
        *self.local_addr.lock()
    }

    /// Moves the listener to `addr` (a reconfig changed this server's
    /// client address): stops accepting on the old socket, binds the new
    /// one and accepts there; live connections are left alone. On a bind
    /// error the factory accepts nowhere (as Java's does) and says so.
    pub fn reconfigure(&self, addr: SocketAddr) {
        if self.stopping.load(Ordering::SeqCst) {
            return;
        }
        let started = self.listener.lock().take().is_none();
        self.stop_accepting();
        match ServerCnxnFactory::bind_listener(addr) {
            Ok(listener) => {
                if let Err(e) = set_listen_backlog(&listener, self.limits.listen_backlog) {
                    warn!("Cannot set the listen backlog on {}: {}", addr, e);
                }
                *self.local_addr.lock() = listener.local_addr().unwrap_or(addr);
                *self.listener.lock() = Some(listener);
                if started {
                    if let Err(e) = self.start() {
                        error!("Error reconfiguring client port to {}: {}", addr, e);
                    }
                }
            }
            Err(e) => error!("Error reconfiguring client port to {}: {}", addr, e),
        }
    }

    /// Live connections.
    pub fn registry(&self) -> &Arc<CnxnRegistry> {
        &self.registry
    }

    /// Stops accepting, closes every connection (flushing first, then
    /// cutting off the stuck ones) and waits for their threads to finish.
    pub fn shutdown(&self) {
        if self.stopping.swap(true, Ordering::SeqCst) {
            return;
        }
        info!("shutting down the client port {}", self.local_addr());
        self.stop_accepting();
        for cnxn in self.registry.connections() {
            cnxn.close(CloseReason::ServerShutdown);
        }
        if !self.registry.wait_empty(SHUTDOWN_GRACE) {
            let stuck = self.registry.connections();
            warn!(
                "{} connections did not close in time; cutting them off",
                stuck.len()
            );
            for cnxn in stuck {
                cnxn.force_close();
            }
            if !self.registry.wait_empty(SHUTDOWN_GRACE) {
                error!(
                    "{} connection threads still running after shutdown",
                    self.registry.len()
                );
            }
        }
    }

    /// Wakes the blocked `accept` with a connection to ourselves, then
    /// joins the accept thread (which drops the listening socket).
    fn stop_accepting(&self) {
        let Some(handle) = self.accept_thread.lock().take() else {
            return;
        };
        self.accept_stop.lock().store(true, Ordering::SeqCst);
        let local = self.local_addr();
        let wake_addr = SocketAddr::new(connectable_ip(local.ip()), local.port());
        match TcpStream::connect_timeout(&wake_addr, Duration::from_secs(1)) {
            Ok(_) => {
                let _ = handle.join();
            }
            // Joining would hang; the thread exits with the process.
            Err(e) => warn!("cannot wake the accept thread via {}: {}", wake_addr, e),
        }
    }
}

/// A wildcard address cannot be connected to; use loopback instead.
fn connectable_ip(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V4(v4) if v4.is_unspecified() => IpAddr::V4(Ipv4Addr::LOCALHOST),
        IpAddr::V6(v6) if v6.is_unspecified() => IpAddr::V6(Ipv6Addr::LOCALHOST),
        other => other,
    }
}

/// The accept thread's state.
struct AcceptLoop {
    listener: TcpListener,
    handler: Arc<dyn CnxnHandler>,
    registry: Arc<CnxnRegistry>,
    limits: Limits,
    stopping: Arc<AtomicBool>,
    tls: Option<TlsMode>,
}

impl AcceptLoop {
    fn run(self) {
        loop {
            let accepted = self.listener.accept();
            if self.stopping.load(Ordering::SeqCst) {
                break;
            }
            match accepted {
                Ok((stream, peer)) => self.admit(stream, peer),
                Err(e) => {
                    warn!("Error accepting new connection: {}", e);
                    std::thread::sleep(ACCEPT_ERROR_PAUSE);
                }
            }
        }
        debug!("accept thread exiting");
    }

    /// Checks the limits and starts the connection's threads.
    fn admit(&self, stream: TcpStream, peer: SocketAddr) {
        let os = connection_limits::startup();
        if self.registry.len() >= os.limit {
            // Past this the next thread cannot get its stack mapped (or the
            // next accept fails for want of descriptors) and std aborts the
            // whole process: refuse the one connection instead.
            warn!(
                "Too many connections: refusing {} with {} open, the client connection limit \
                 (bound by {}); raise {}",
                peer,
                self.registry.len(),
                os.binding,
                ConnectionLimits::settings_for(os.limit * 2)
            );
            let _ = stream.shutdown(std::net::Shutdown::Both);
            return;
        }
        let cnxn = match BlockingServerCnxn::with_tls(
            stream,
            self.handler.clone(),
            self.registry.clone(),
            self.tls.as_ref(),
        ) {
            Ok(cnxn) => cnxn,
            Err(e) => {
                warn!("Error accepting new connection from {}: {}", peer, e);
                return;
            }
        };
        if let Err(refusal) = self.registry.try_register(&cnxn, self.limits) {
            if let Refusal::TooManyTotal { max } = refusal {
                error!(
                    "Too many connections {} - max is {}",
                    self.registry.len(),
                    max
                );
            }
            warn!("Error accepting new connection: {}", refusal);
            cnxn.force_close();
            return;
        }
        debug!("Accepted socket connection from {}", peer);
        if let Err(e) = cnxn.start() {
            error!("cannot start threads for connection from {}: {}", peer, e);
            cnxn.force_close();
            self.registry.unregister(cnxn.id());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LOCAL: IpAddr = IpAddr::V4(Ipv4Addr::LOCALHOST);

    #[test]
    fn an_unset_backlog_asks_for_the_kernels_longest_queue() {
        assert_eq!(listen_backlog(-1), i32::MAX);
        assert_eq!(listen_backlog(0), i32::MAX);
        assert_eq!(listen_backlog(50), 50);
    }

    #[test]
    fn per_ip_limit_like_java() {
        let limits = Limits {
            max_cnxns: 0,
            max_client_cnxns: 2,
            listen_backlog: -1,
        };
        assert!(admit(5, 1, LOCAL, limits).is_ok());
        let refusal = admit(5, 2, LOCAL, limits).unwrap_err();
        assert_eq!(
            refusal.to_string(),
            "Too many connections from /127.0.0.1 - max is 2"
        );
    }

    #[test]
    fn total_limit_checked_first() {
        let limits = Limits {
            max_cnxns: 3,
            max_client_cnxns: 1,
            listen_backlog: -1,
        };
        let refusal = admit(3, 5, LOCAL, limits).unwrap_err();
        assert_eq!(refusal, Refusal::TooManyTotal { max: 3 });
        assert_eq!(refusal.to_string(), "Too many connections max allowed is 3");
    }

    #[test]
    fn zero_means_unlimited() {
        let limits = Limits {
            max_cnxns: 0,
            max_client_cnxns: 0,
            listen_backlog: -1,
        };
        assert!(admit(100_000, 100_000, LOCAL, limits).is_ok());
    }

    #[test]
    fn wildcard_is_woken_through_loopback() {
        assert_eq!(connectable_ip("0.0.0.0".parse().unwrap()), LOCAL);
        assert_eq!(
            connectable_ip("::".parse().unwrap()),
            IpAddr::V6(Ipv6Addr::LOCALHOST)
        );
        assert_eq!(
            connectable_ip("10.1.2.3".parse().unwrap()),
            "10.1.2.3".parse::<IpAddr>().unwrap()
        );
    }
}
