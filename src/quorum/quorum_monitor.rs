//! What a quorum role adds to `mntr`, the AdminServer's `monitor` and
//! `/metrics` for its server: `peer_state` (and an observer's
//! `observer_master_id`) after `server_state`, the `quorum_size` gauge,
//! and on the leader the learner counts, pending syncs, its uptime and
//! the PROPOSAL sizes; and the peer facts of the `leader`, `voting_view`,
//! `zabstate` and `observers` commands and of `conf`'s quorum lines.
//! Handed to the role's server when it starts serving
//! (`ZooKeeperServer::set_role_monitor`); it lapses with the server. The
//! config facts (`conf`'s membership, `voting_view`, `quorum_size`) are
//! read from the peer's committed config when asked, so they follow a
//! reconfig that leaves the role running.
//!
//! Values are read on the asking thread (a 4lw connection, the
//! AdminServer, `/metrics`); the leader's under its `bcast` and
//! `learners` locks, briefly.
//!
//! Mirrors: `QuorumZooKeeperServer.dumpMonitorValues` / `registerMetrics`,
//! `LeaderZooKeeperServer.registerMetrics`,
//! `ObserverZooKeeperServer.dumpMonitorValues` and
//! `QuorumPeer.getDetailedPeerState`.

use std::sync::{Arc, Weak};

use super::flexible::QuorumVerifier;
use super::leader::Leader;
use super::observer_master::ObserverMaster;
use super::quorum_peer::QuorumPeer;
use super::quorum_peer_reconfig::SharedViews;
use super::quorum_server::{delimited_host, LearnerType, QuorumServer, ServerAddress};
use super::vote::ServerState;
use crate::server::role_monitor::{MemberView, ObserverInfo, PeerView, RoleMonitor};
use crate::server::server_metrics::MetricValue;

/// What a serving role's peer facts are made of: the facts fixed while
/// the role lasts (a change of my role or my leader ends it), and the
/// shared config views, read when asked so `conf`, `voting_view` and
/// `quorum_size` show a reconfig committed during the role.
pub struct PeerViewSource {
    my_id: i64,
    is_leader: bool,
    leader_id: i64,
    limits: (i32, i32),
    client_address: Option<std::net::SocketAddr>,
    learner_type: LearnerType,
    views: SharedViews,
}

impl PeerViewSource {
    /// For the role `peer` runs now.
    pub fn new(peer: &QuorumPeer, is_leader: bool) -> PeerViewSource {
        let ctx = peer.role_context();
        let timing = ctx.as_ref().map(|c| c.timing());
        PeerViewSource {
            my_id: peer.my_id,
            is_leader,
            leader_id: if is_leader {
                peer.my_id
            } else {
                peer.current_vote().id
            },
            limits: timing.map_or((0, 0), |t| (t.init_limit, t.sync_limit)),
            client_address: ctx
                .as_ref()
                .and_then(|c| c.config.server.client_port_address),
            learner_type: peer.learner_type(),
            views: peer.shared_views(),
        }
    }

    /// The committed config now.
    fn committed(&self) -> Arc<QuorumVerifier> {
        Arc::clone(&self.views.lock().committed)
    }

    /// Voting members now.
    fn quorum_size(&self) -> usize {
        self.committed().voters().len()
    }

    /// The peer facts, with the committed config as it is now.
    fn view(&self) -> PeerView {
        render_peer_view(self, &self.committed())
    }
}

/// The peer facts of a serving role under config `qv`.
fn render_peer_view(src: &PeerViewSource, qv: &QuorumVerifier) -> PeerView {
    let me = qv.all_members().get(&src.my_id);
    let addresses = |port: fn(&ServerAddress) -> u16| -> Vec<(String, u16)> {
        me.map(|s| {
            s.addresses
                .iter()
                .map(|a| (a.host.clone(), port(a)))
                .collect()
        })
        .unwrap_or_default()
    };
    let quorum_addresses = addresses(|a| a.quorum_port);
    let election_addresses = addresses(|a| a.election_port);
    let leader_ip = qv
        .all_members()
        .get(&src.leader_id)
        .map_or(String::new(), |s| {
            s.addresses
                .iter()
                .map(|a| a.host.clone())
                .collect::<Vec<_>>()
                .join("|")
        });
    let ports = |list: &[(String, u16)]| {
        list.iter()
            .map(|(_, p)| p.to_string())
            .collect::<Vec<_>>()
            .join("|")
    };
    let conf_tail = format!(
        "initLimit={}\nsyncLimit={}\nelectionAlg=3\nelectionPort={}\nquorumPort={}\npeerType={}\nmembership: \n{}",
        src.limits.0,
        src.limits.1,
        ports(&election_addresses),
        ports(&quorum_addresses),
        match src.learner_type {
            LearnerType::Participant => 0,
            LearnerType::Observer => 1,
        },
        qv,
    );
    PeerView {
        my_id: src.my_id,
        is_leader: src.is_leader,
        leader_id: src.leader_id,
        leader_ip,
        quorum_addresses,
        election_addresses,
        client_address: src.client_address,
        voting: qv.is_voter(src.my_id),
        zab_state: "broadcast",
        voting_view: voting_view(qv),
        conf_tail,
    }
}

/// The voting members as `voting_view` lists them.
fn voting_view(verifier: &QuorumVerifier) -> Vec<MemberView> {
    let hp = |host: &str, port: u16| format!("{}:{}", delimited_host(host), port);
    verifier
        .all_members()
        .values()
        .filter(|s| verifier.is_voter(s.id))
        .map(|s: &QuorumServer| MemberView {
            sid: s.id,
            server_addresses: s
                .addresses
                .iter()
                .map(|a| hp(&a.host, a.quorum_port))
                .collect(),
            election_addresses: s
                .addresses
                .iter()
                .map(|a| hp(&a.host, a.election_port))
                .collect(),
            client_address: s
                .client_addr
                .as_ref()
                .map_or(String::new(), |c| hp(&c.host, c.port)),
            learner_type: if s.is_participant() {
                "participant"
            } else {
                "observer"
            },
        })
        .collect()
}

/// `peer_state` of a serving role: its state and Zab phase, lowercase (a
/// role only serves once in broadcast).
pub fn detailed_peer_state(state: ServerState) -> String {
    format!("{} - broadcast", state.java_name().to_lowercase())
}

/// A follower's or observer's additions.
pub struct LearnerMonitor {
    /// FOLLOWING or OBSERVING.
    state: ServerState,
    /// The leader's sid (an observer's `observer_master_id`).
    leader_sid: i64,
    /// The peer facts.
    source: PeerViewSource,
}

impl LearnerMonitor {
    /// For the role `peer` is in now.
    pub fn new(peer: &QuorumPeer) -> LearnerMonitor {
        LearnerMonitor {
            state: peer.state(),
            leader_sid: peer.current_vote().id,
            source: PeerViewSource::new(peer, false),
        }
    }
}

impl RoleMonitor for LearnerMonitor {
    fn state_entries(&self) -> Vec<(&'static str, MetricValue)> {
        let mut out = vec![(
            "peer_state",
            MetricValue::Text(detailed_peer_state(self.state)),
        )];
        if self.state == ServerState::Observing {
            out.push(("observer_master_id", MetricValue::Long(self.leader_sid)));
        }
        out
    }

    fn gauges(&self) -> Vec<(&'static str, MetricValue)> {
        vec![(
            "quorum_size",
            MetricValue::Long(self.source.quorum_size() as i64),
        )]
    }

    fn peer_view(&self) -> PeerView {
        self.source.view()
    }
}

/// The leader's additions, read live from the leader.
pub struct LeaderMonitor {
    /// Weak: the monitor must not keep a finished role alive.
    leader: Weak<Leader>,
    /// The peer facts.
    source: PeerViewSource,
}

impl LeaderMonitor {
    /// For `leader`, run by `peer`.
    pub fn new(leader: &Arc<Leader>, peer: &QuorumPeer) -> LeaderMonitor {
        LeaderMonitor {
            leader: Arc::downgrade(leader),
            source: PeerViewSource::new(peer, true),
        }
    }
}

/// The leader's figures, in Java's registration order.
fn leader_gauges(leader: &Leader) -> Vec<(&'static str, MetricValue)> {
    let learners = leader.learner_count() as i64;
    let b = leader.bcast.lock();
    let observers = b.forwarding().iter().filter(|l| l.is_observer()).count();
    let followers: Vec<i64> = b
        .forwarding()
        .iter()
        .filter(|l| !l.is_observer())
        .map(|l| l.sid())
        .collect();
    let non_voting = followers
        .iter()
        .filter(|sid| !leader.verifier.is_voter(**sid))
        .count();
    let sizes = b.proposal_sizes();
    let pending = b.pending_sync_count();
    drop(b);
    vec![
        ("learners", MetricValue::Long(learners)),
        (
            "synced_followers",
            MetricValue::Long(followers.len() as i64),
        ),
        (
            "synced_non_voting_followers",
            MetricValue::Long(non_voting as i64),
        ),
        ("synced_observers", MetricValue::Long(observers as i64)),
        ("pending_syncs", MetricValue::Long(pending as i64)),
        ("leader_uptime", MetricValue::Long(leader.uptime_ms())),
        ("last_proposal_size", MetricValue::Long(sizes.last)),
        ("max_proposal_size", MetricValue::Long(sizes.max)),
        ("min_proposal_size", MetricValue::Long(sizes.min)),
    ]
}

impl RoleMonitor for LeaderMonitor {
    fn state_entries(&self) -> Vec<(&'static str, MetricValue)> {
        vec![(
            "peer_state",
            MetricValue::Text(detailed_peer_state(ServerState::Leading)),
        )]
    }

    fn gauges(&self) -> Vec<(&'static str, MetricValue)> {
        let mut out = vec![(
            "quorum_size",
            MetricValue::Long(self.source.quorum_size() as i64),
        )];
        if let Some(leader) = self.leader.upgrade() {
            out.extend(leader_gauges(&leader));
        }
        out
    }

    fn peer_view(&self) -> PeerView {
        self.source.view()
    }

    fn observers(&self) -> Option<Vec<ObserverInfo>> {
        let leader = self.leader.upgrade()?;
        let b = leader.bcast.lock();
        Some(
            b.forwarding()
                .iter()
                .filter(|l| l.is_observer())
                .map(|l| l.info())
                .collect(),
        )
    }

    fn reset_observer_stats(&self) {
        if let Some(leader) = self.leader.upgrade() {
            leader
                .bcast
                .lock()
                .forwarding()
                .iter()
                .filter(|l| l.is_observer())
                .for_each(|l| l.reset_stats());
        }
    }
}

/// A follower serving observers: its learner monitor, plus the observers
/// its ObserverMaster feeds (`observers`, `orst`).
pub struct ObserverMasterMonitor {
    inner: Arc<dyn RoleMonitor>,
    om: Arc<ObserverMaster>,
}

impl ObserverMasterMonitor {
    /// Wraps the follower's monitor.
    pub fn new(inner: Arc<dyn RoleMonitor>, om: Arc<ObserverMaster>) -> ObserverMasterMonitor {
        ObserverMasterMonitor { inner, om }
    }
}

impl RoleMonitor for ObserverMasterMonitor {
    fn state_entries(&self) -> Vec<(&'static str, MetricValue)> {
        self.inner.state_entries()
    }

    /// The follower's, then `synced_observers` (Java's follower registers
    /// it; without an ObserverMaster its value is null and not printed).
    fn gauges(&self) -> Vec<(&'static str, MetricValue)> {
        let mut out = self.inner.gauges();
        out.push((
            "synced_observers",
            MetricValue::Long(self.om.active_count() as i64),
        ));
        out
    }

    fn peer_view(&self) -> PeerView {
        self.inner.peer_view()
    }

    fn observers(&self) -> Option<Vec<ObserverInfo>> {
        Some(self.om.observers_info())
    }

    fn reset_observer_stats(&self) {
        self.om.reset_observer_stats()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::server::server_metrics::in_java_order;
    use crate::server::server_metrics::names::GAUGES;

    const THREE: &str = "server.1=127.0.0.1:2001:3001:participant;2181\n\
                         server.2=127.0.0.1:2002:3002:participant;2182\n\
                         server.3=127.0.0.1:2003:3003:participant;2183\nversion=100000000";

    fn qv(text: &str) -> Arc<QuorumVerifier> {
        Arc::new(super::super::quorum_peer_reconfig::config_from_string(text, false).unwrap())
    }

    fn sample_source(views: &SharedViews) -> PeerViewSource {
        PeerViewSource {
            my_id: 1,
            is_leader: false,
            leader_id: 3,
            limits: (10, 5),
            client_address: None,
            learner_type: LearnerType::Participant,
            views: Arc::clone(views),
        }
    }

    #[test]
    fn peer_view_follows_the_committed_config() {
        let views: SharedViews = Arc::new(parking_lot::Mutex::new(
            super::super::quorum_peer_reconfig::QuorumViews::new(qv(THREE)),
        ));
        let src = sample_source(&views);
        let v = src.view();
        assert_eq!(src.quorum_size(), 3);
        assert_eq!(v.voting_view.len(), 3);
        assert_eq!(v.leader_ip, "127.0.0.1");
        assert_eq!(
            v.conf_tail,
            format!(
                "initLimit=10\nsyncLimit=5\nelectionAlg=3\nelectionPort=3001\n\
                 quorumPort=2001\npeerType=0\nmembership: \n{}",
                qv(THREE)
            )
        );
        let four = format!(
            "{}\nserver.4=127.0.0.1:2004:3004:participant;2184\nversion=100000005",
            THREE.trim_end_matches("\nversion=100000000")
        );
        views.lock().committed = qv(&four);
        let v = src.view();
        assert_eq!(src.quorum_size(), 4);
        assert_eq!(v.voting_view.len(), 4);
        assert!(
            v.conf_tail.ends_with(
                "server.4=127.0.0.1:2004:3004:participant;0.0.0.0:2184\nversion=100000005"
            ),
            "{}",
            v.conf_tail
        );
    }

    #[test]
    fn peer_states_read_as_java_prints_them() {
        assert_eq!(
            detailed_peer_state(ServerState::Leading),
            "leading - broadcast"
        );
        assert_eq!(
            detailed_peer_state(ServerState::Following),
            "following - broadcast"
        );
        assert_eq!(
            detailed_peer_state(ServerState::Observing),
            "observing - broadcast"
        );
    }

    #[test]
    fn observer_names_its_leader() {
        let views: SharedViews = Arc::new(parking_lot::Mutex::new(
            super::super::quorum_peer_reconfig::QuorumViews::new(qv(THREE)),
        ));
        let m = LearnerMonitor {
            state: ServerState::Observing,
            leader_sid: 7,
            source: sample_source(&views),
        };
        let keys: Vec<&str> = m.state_entries().iter().map(|(k, _)| *k).collect();
        assert_eq!(keys, ["peer_state", "observer_master_id"]);
        let f = LearnerMonitor {
            state: ServerState::Following,
            source: sample_source(&views),
            ..m
        };
        assert_eq!(f.state_entries().len(), 1);
        assert!(matches!(
            f.gauges()[..],
            [("quorum_size", MetricValue::Long(3))]
        ));
    }

    #[test]
    fn leader_gauges_fall_into_java_3_8_0_mntr_order() {
        // Registration order: the server's gauges, quorum_size, the leader's.
        let mut names: Vec<&str> = GAUGES.to_vec();
        names.extend([
            "quorum_size",
            "learners",
            "synced_followers",
            "synced_non_voting_followers",
            "synced_observers",
            "pending_syncs",
            "leader_uptime",
            "last_proposal_size",
            "max_proposal_size",
            "min_proposal_size",
        ]);
        // What a Java 3.8.0 leader's monitor printed after peer_state.
        let printed = [
            "ephemerals_count",
            "num_alive_connections",
            "avg_latency",
            "min_proposal_size",
            "outstanding_requests",
            "znode_count",
            "global_sessions",
            "non_mtls_remote_conn_count",
            "last_client_response_size",
            "packets_sent",
            "packets_received",
            "max_proposal_size",
            "max_client_response_size",
            "synced_followers",
            "connection_drop_probability",
            "watch_count",
            "synced_non_voting_followers",
            "synced_observers",
            "auth_failed_count",
            "min_latency",
            "max_file_descriptor_count",
            "approximate_data_size",
            "open_file_descriptor_count",
            "last_proposal_size",
            "pending_syncs",
            "leader_uptime",
            "local_sessions",
            "uptime",
            "max_latency",
            "outstanding_tls_handshake",
            "learners",
            "min_client_response_size",
            "non_mtls_local_conn_count",
            "quorum_size",
        ];
        assert_eq!(in_java_order(&names), printed);
    }
}
