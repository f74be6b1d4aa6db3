//! The ops surface of a quorum peer: one slot where the current role
//! publishes its server, read by the client port, the AdminServer and the
//! Prometheus `/metrics` endpoint; and the start of those two HTTP
//! endpoints, once per process (not per role).
//!
//! While no role serves (LOOKING, or a role still in discovery or sync)
//! the endpoints see no server: the AdminServer answers Java's "not
//! currently serving" errors and `/metrics` has no server gauges, as a
//! Java peer's.
//!
//! Java 3.8.0 and 3.9 differ from standalone on a taken admin port: the
//! peer logs "Problem starting AdminServer" and runs on without it (no
//! exit 4). A metrics provider that cannot start stops the process (exit
//! 1), before the peer takes part in any election.
//!
//! Threads: the QuorumPeer thread (through the role) calls
//! [`ServingSlot::set_server`]; the HTTP threads call the [`ServerView`]
//! methods.
//!
//! Mirrors: `QuorumPeer.setZooKeeperServer` together with
//! `adminServer.setZooKeeperServer` (Leader, Learner), `QuorumPeer.start`
//! (`adminServer.start`) and the metrics provider boot of
//! `QuorumPeerMain.runFromConfig`.

use std::sync::Arc;

use log::{info, warn};
use parking_lot::RwLock;

use super::quorum_client_port::QuorumClientPort;
use super::quorum_error::QuorumError;
use super::quorum_peer::{QuorumPeer, ServingSlot};
use crate::admin::admin_server::AdminServer;
use crate::admin::prometheus::{self, PrometheusEndpoint};
use crate::admin::server_view::ServerView;
use crate::config::server_config::ServerConfig;
use crate::server::server_cnxn_factory::CnxnRegistry;
use crate::server::zookeeper_server::ZooKeeperServer;

/// Where roles publish their server; what the ops endpoints read.
pub struct PeerServing {
    /// The peer (its state is the mode while no role serves).
    peer: Arc<QuorumPeer>,
    /// The serving role's server; `None` while not serving. Written by
    /// the QuorumPeer thread, read per HTTP request.
    current: RwLock<Option<Arc<ZooKeeperServer>>>,
    /// The client port, when `clientPort` is configured.
    client_port: Option<Arc<QuorumClientPort>>,
}

impl PeerServing {
    /// A slot in front of `client_port` (if any).
    pub fn new(peer: Arc<QuorumPeer>, client_port: Option<Arc<QuorumClientPort>>) -> PeerServing {
        PeerServing {
            peer,
            current: RwLock::new(None),
            client_port,
        }
    }
}

impl ServingSlot for PeerServing {
    fn reconfigure_client_port(&self, addr: std::net::SocketAddr) {
        if let Some(port) = &self.client_port {
            port.reconfigure(addr);
        }
    }

    fn set_server(&self, server: Option<Arc<ZooKeeperServer>>) {
        let retired = std::mem::replace(&mut *self.current.write(), server.clone());
        drop(retired);
        if let Some(port) = &self.client_port {
            port.set_server(server);
        }
    }

    fn set_server_without_clients(&self, server: Option<Arc<ZooKeeperServer>>) {
        let retired = std::mem::replace(&mut *self.current.write(), server);
        drop(retired);
        if let Some(port) = &self.client_port {
            port.set_server(None);
        }
    }
}

impl ServerView for PeerServing {
    fn server(&self) -> Option<Arc<ZooKeeperServer>> {
        self.current.read().clone()
    }

    fn mode(&self) -> String {
        match self.server() {
            Some(zks) => zks.mode().to_string(),
            None => self.peer.state().java_name().to_lowercase(),
        }
    }

    fn registry(&self) -> Option<Arc<CnxnRegistry>> {
        self.client_port.as_ref().and_then(|port| port.registry())
    }
}

/// The HTTP endpoints of the process; stopped on drop.
#[derive(Default)]
pub struct OpsEndpoints {
    admin: Option<AdminServer>,
    metrics: Option<PrometheusEndpoint>,
}

impl OpsEndpoints {
    /// The AdminServer's bound port, if it runs.
    pub fn admin_port(&self) -> Option<u16> {
        self.admin.as_ref().and_then(AdminServer::port)
    }

    /// Stops both endpoints.
    pub fn shutdown(&mut self) {
        if let Some(admin) = self.admin.as_mut() {
            admin.shutdown();
        }
        if let Some(metrics) = self.metrics.as_mut() {
            metrics.shutdown();
        }
    }
}

/// Starts `/metrics` (if the Prometheus provider is configured) and the
/// AdminServer (if `admin.enableServer`). `Err` (exit 1) only when the
/// metrics provider cannot start; an AdminServer that cannot start is
/// logged and left out, as Java's QuorumPeer does.
pub fn start_endpoints(
    config: &ServerConfig,
    view: Arc<dyn ServerView>,
) -> Result<OpsEndpoints, QuorumError> {
    prometheus::check_provider(config).map_err(QuorumError::MetricsProvider)?;
    let mut endpoints = OpsEndpoints::default();
    let address = prometheus::endpoint_address(config).map_err(QuorumError::MetricsProvider)?;
    if let Some((host, port)) = address {
        match PrometheusEndpoint::start_view(&host, port, Arc::clone(&view)) {
            Ok(endpoint) => endpoints.metrics = Some(endpoint),
            Err(e) => {
                return Err(QuorumError::MetricsProvider(format!(
                    "Cannot boot MetricsProvider {}: Cannot start /metrics server: {}",
                    config.metrics_provider_class_name, e
                )))
            }
        }
    }
    if !config.admin_enable_server {
        info!("AdminServer disabled (admin.enableServer=false)");
        return Ok(endpoints);
    }
    match AdminServer::start_view(view, config) {
        Ok(admin) => endpoints.admin = Some(admin),
        Err(e) => warn!("Problem starting AdminServer: {}; running without it", e),
    }
    Ok(endpoints)
}
