//! What a quorum role's server tells the operator beyond a standalone
//! server: its extra `mntr` values, the quorum part of `conf`, and the
//! peer facts the AdminServer's `leader`, `voting_view`, `zabstate`,
//! `observers` and `observer_connection_stat_reset` commands report.
//!
//! The server layer knows nothing of elections and learners, so a role
//! hands its server a [`RoleMonitor`] when it starts serving
//! ([`ZooKeeperServer::set_role_monitor`]); the commands ask the server
//! for it, and a standalone server has none (the commands then answer as
//! Java's do for a server that is not a quorum server). The answers are
//! plain data, read on the asking thread.
//!
//! Mirrors: the overrides of `QuorumZooKeeperServer` (`dumpConf`,
//! `dumpMonitorValues`, `registerMetrics`) and what the admin `Commands`
//! read from `QuorumZooKeeperServer.self` (the `QuorumPeer`).
//!
//! [`ZooKeeperServer::set_role_monitor`]: super::zookeeper_server::ZooKeeperServer::set_role_monitor

use std::net::SocketAddr;

use super::server_metrics::MetricValue;

/// What a quorum role adds to its server's monitor values and commands.
pub trait RoleMonitor: Send + Sync {
    /// Entries printed right after `server_state` (Java's
    /// `dumpMonitorValues` overrides: `peer_state`, `observer_master_id`).
    fn state_entries(&self) -> Vec<(&'static str, MetricValue)>;
    /// Gauges the role registers besides the server's (`quorum_size`,
    /// `learners`, ...), in registration order.
    fn gauges(&self) -> Vec<(&'static str, MetricValue)>;
    /// The peer behind the role, as the commands report it.
    fn peer_view(&self) -> PeerView;
    /// The observers this server feeds (the leader; a follower only as an
    /// observer master): `None` when it feeds none.
    fn observers(&self) -> Option<Vec<ObserverInfo>> {
        None
    }
    /// Zeroes the observers' connection counters (`orst`).
    fn reset_observer_stats(&self) {}
}

/// One member of the voting view (`voting_view`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MemberView {
    pub sid: i64,
    /// `host:port` of each quorum (learner) address.
    pub server_addresses: Vec<String>,
    /// `host:port` of each election address.
    pub election_addresses: Vec<String>,
    /// `host:port`, or empty when the member's line names none.
    pub client_address: String,
    /// `participant` or `observer`.
    pub learner_type: &'static str,
}

/// The peer facts of a serving role.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PeerView {
    pub my_id: i64,
    pub is_leader: bool,
    /// The sid of the leader this role follows (its own when leading).
    pub leader_id: i64,
    /// The leader's quorum host(s), `|`-separated.
    pub leader_ip: String,
    /// This peer's quorum and election addresses (host as configured,
    /// port), and its client address.
    pub quorum_addresses: Vec<(String, u16)>,
    pub election_addresses: Vec<(String, u16)>,
    pub client_address: Option<SocketAddr>,
    /// Whether this peer is a voting member at those addresses.
    pub voting: bool,
    /// `election`, `discovery`, `synchronization` or `broadcast`.
    pub zab_state: &'static str,
    /// The voting members, by sid.
    pub voting_view: Vec<MemberView>,
    /// `conf`'s lines after the server's own: `initLimit=` ...
    /// `membership: ` and the quorum verifier's text.
    pub conf_tail: String,
}

/// One observer's link, as `observers` lists it (Java's
/// `LearnerHandler.getLearnerHandlerInfo`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObserverInfo {
    /// `/host:port` of the observer's end.
    pub remote_socket_address: String,
    pub sid: i64,
    /// When the link was made, ms since the epoch.
    pub established: i64,
    pub queued_packets: i64,
    pub queued_packets_size: i64,
    pub packets_received: i64,
    pub packets_sent: i64,
    pub requests: i64,
    pub last_zxid: i64,
}
