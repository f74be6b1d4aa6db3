//! The client ports of a quorum peer (`clientPort`, `secureClientPort`,
//! `client.portUnification`): the standalone connection layer
//! (`ServerCnxnFactory`, thread per connection, four-letter words) in front
//! of whichever server the current role publishes. While no role serves
//! (LOOKING, or a role still syncing) client sessions are refused (the
//! connection is closed, as a Java peer that is not serving does) and
//! `srvr`/`stat` print Java's "not currently serving" line. When a role
//! ends its server is withdrawn and every client connection is closed, so
//! clients reconnect elsewhere (Java's `closeAllConnections`).
//!
//! Threads: the factory's accept thread and connection threads call the
//! [`CnxnHandler`] methods; the QuorumPeer thread (through the role)
//! calls [`ServingSlot::set_server`].
//!
//! The published server is held as an `Arc`: a connection thread clones it
//! for the request (or four-letter word) at hand, so a retired role's
//! server is freed once the last such call returns.
//!
//! Mirrors: `QuorumPeer.setZooKeeperServer` with `ServerCnxnFactory` and
//! the per-connection `zkServer` checks of `NIOServerCnxn`.

use std::net::SocketAddr;
use std::sync::{Arc, OnceLock};

use log::info;
use parking_lot::{Mutex, RwLock};

use super::quorum_peer::{QuorumPeer, ServingSlot};
use crate::config::server_config::ServerConfig;
use crate::jute::proto::{ConnectRequest, RequestHeader};
use crate::server::cert_file_reloader::{self, CertFileReloader};
use crate::server::server_cnxn::{CloseReason, ServerCnxn};
use crate::server::server_cnxn_factory::{
    BindError, CnxnHandler, CnxnRegistry, Limits, ServerCnxnFactory,
};
use crate::server::zookeeper_server::{ServerStatsSnapshot, ZooKeeperServer};

/// The handler behind the client port.
pub struct QuorumClientPort {
    /// The peer (its state is srvr's mode).
    peer: Arc<QuorumPeer>,
    /// The serving role's server; `None` while not serving.
    current: RwLock<Option<Arc<ZooKeeperServer>>>,
    /// `4lw.commands.whitelist`.
    whitelist: Vec<String>,
    /// The listeners (plain and/or secure), sharing one registry, to
    /// close connections when a role ends.
    factories: OnceLock<Vec<ServerCnxnFactory>>,
    /// `client.certReload`'s watcher, while the ports run.
    reloader: Mutex<Option<CertFileReloader>>,
}

impl QuorumClientPort {
    fn server(&self) -> Option<Arc<ZooKeeperServer>> {
        self.current.read().clone()
    }

    /// The live client connections (for the AdminServer and `/metrics`).
    pub fn registry(&self) -> Option<Arc<CnxnRegistry>> {
        self.factories
            .get()
            .and_then(|f| f.first())
            .map(|f| Arc::clone(f.registry()))
    }
}

/// Binds the client port (`plain`, when `clientPort` is configured) and
/// the secure client port (`secureClientPort`), and starts accepting;
/// returns the handle roles publish their server through. Both ports'
/// connections share one registry, as the standalone server's do.
pub fn start(
    plain: Option<SocketAddr>,
    peer: Arc<QuorumPeer>,
    config: &ServerConfig,
) -> std::io::Result<Arc<QuorumClientPort>> {
    let port = Arc::new(QuorumClientPort {
        peer,
        current: RwLock::new(None),
        whitelist: config.four_letter_word_whitelist.clone(),
        factories: OnceLock::new(),
        reloader: Mutex::new(None),
    });
    let limits = Limits {
        max_cnxns: config.max_cnxns,
        max_client_cnxns: config.max_client_cnxns,
        listen_backlog: config.client_port_listen_backlog,
    };
    let handler = port.clone() as Arc<dyn CnxnHandler>;
    let in_use = |e: BindError| std::io::Error::new(std::io::ErrorKind::AddrInUse, e.to_string());
    let tls = match &config.client_tls {
        Some(tls) => Some(cert_file_reloader::acceptor(
            tls,
            &config.system_properties,
        )?),
        None => None,
    };
    let mut factories = Vec::new();
    if let Some(addr) = plain {
        let mut factory = ServerCnxnFactory::bind(addr, limits, handler.clone()).map_err(in_use)?;
        if let (Some(client_tls), Some((acceptor, _))) = (&config.client_tls, &tls) {
            if client_tls.port_unification {
                factory = factory.with_port_unification(acceptor.clone());
            }
        }
        factories.push(factory);
    }
    let secure_addr = config.client_tls.as_ref().and_then(|t| t.address);
    if let (Some(addr), Some((acceptor, _))) = (secure_addr, &tls) {
        let factory = ServerCnxnFactory::bind(addr, limits, handler).map_err(in_use)?;
        let registry = match factories.first() {
            Some(plain) => plain.registry().clone(),
            None => factory.registry().clone(),
        };
        factories.push(factory.with_tls(acceptor.clone(), registry));
    }
    for factory in &factories {
        factory.start()?;
        info!("Serving client connections on {}", factory.local_addr());
    }
    *port.reloader.lock() = tls.and_then(|(_, reloader)| reloader);
    let _ = port.factories.set(factories);
    Ok(port)
}

impl QuorumClientPort {
    /// A reconfig gave this server the client address `addr`: the plain
    /// client port moves there if it is elsewhere (the secure port stays,
    /// as Java's does); its connections go on.
    pub fn reconfigure(&self, addr: SocketAddr) {
        let Some(plain) = self
            .factories
            .get()
            .and_then(|f| f.iter().find(|f| !f.is_secure()))
        else {
            return;
        };
        let current = plain.local_addr();
        if current != addr {
            info!("Moving the client port from {} to {}", current, addr);
            plain.reconfigure(addr);
        }
    }
}

impl ServingSlot for QuorumClientPort {
    fn reconfigure_client_port(&self, addr: SocketAddr) {
        self.reconfigure(addr);
    }

    fn set_server(&self, server: Option<Arc<ZooKeeperServer>>) {
        let serving = server.is_some();
        let retired = std::mem::replace(&mut *self.current.write(), server);
        drop(retired);
        if !serving {
            if let Some(registry) = self.registry() {
                let cnxns = registry.connections();
                if !cnxns.is_empty() {
                    info!("closing {} client connections: the role ended", cnxns.len());
                }
                for c in cnxns {
                    c.close(CloseReason::ServerShutdown);
                }
            }
        }
    }
}

impl CnxnHandler for QuorumClientPort {
    fn process_connect_request(&self, cnxn: Arc<dyn ServerCnxn>, request: ConnectRequest) {
        match self.server() {
            Some(zk) => zk.process_connect_request(cnxn, request),
            None => {
                info!(
                    "Refusing session request for client {} as it is not serving",
                    cnxn.remote_addr()
                );
                cnxn.close(CloseReason::ServerShutdown);
            }
        }
    }

    fn process_packet(&self, cnxn: &Arc<dyn ServerCnxn>, header: RequestHeader, payload: Vec<u8>) {
        match self.server() {
            Some(zk) => zk.process_packet(cnxn, header, payload),
            None => cnxn.close(CloseReason::ServerShutdown),
        }
    }

    fn remove_cnxn(&self, cnxn: &dyn ServerCnxn) {
        if let Some(zk) = self.server() {
            zk.remove_cnxn(cnxn);
        }
    }

    fn incr_packets_received(&self) {
        if let Some(zk) = self.server() {
            zk.incr_packets_received();
        }
    }

    fn incr_packets_sent(&self) {
        if let Some(zk) = self.server() {
            zk.incr_packets_sent();
        }
    }

    fn stats(&self) -> Option<ServerStatsSnapshot> {
        self.server().map(|zk| zk.stats())
    }

    fn mode(&self) -> &str {
        // The serving server's own name first: a LOOKING peer may serve
        // read-only clients.
        match self.server() {
            Some(zk) => zk.mode(),
            None => self.peer.state().mode_name().unwrap_or("standalone"),
        }
    }

    fn four_letter_word_whitelist(&self) -> &[String] {
        &self.whitelist
    }

    fn zk_server_arc(&self) -> Option<Arc<ZooKeeperServer>> {
        self.server()
    }
}
