//! Quorum mode: the ensemble's members and quorum rules, the election
//! transport, FastLeaderElection, the peer's state machine, and Zab: the
//! leader (discovery, learner sync, broadcast), the followers and
//! observers, the role servers with their processor chains, and the ops
//! surface a peer shares across roles (client port, AdminServer,
//! `/metrics`).
//!
//! | module | role | Java twin |
//! |---|---|---|
//! | [`quorum_server`] | one `server.N` line | `QuorumPeer.QuorumServer` |
//! | [`flexible`] | majority and hierarchical quorum rules | `flexible.QuorumMaj`, `QuorumHierarchical` |
//! | [`vote`] | votes, states, the total order | `Vote`, `ServerState` |
//! | [`notification`] | the election message layout | `FastLeaderElection.Notification` |
//! | [`initial_message`] | the election connection header | `QuorumCnxManager.InitialMessage` |
//! | [`circular_blocking_queue`] | bounded queue dropping the oldest | `util.CircularBlockingQueue` |
//! | [`quorum_cnx_manager`], [`quorum_cnx_workers`] | election-port connections | `QuorumCnxManager` |
//! | [`unified_socket`] | a quorum connection's socket, plaintext or TLS; TLS detection | `UnifiedServerSocket`, `SSLSocket` |
//! | [`auth`] | quorum SASL between peers (election and quorum ports) | `quorum.auth` package |
//! | [`election_round`] | the decisions of one election (pure) | `FastLeaderElection.lookForLeader` |
//! | [`fast_leader_election`] | election threads | `FastLeaderElection` |
//! | [`epoch_files`] | `acceptedEpoch` / `currentEpoch` checks | `QuorumPeer.loadDataBase` |
//! | [`quorum_peer`] | LOOKING/FOLLOWING/LEADING/OBSERVING loop | `QuorumPeer` |
//! | [`quorum_peer_reconfig`] | committed and last-seen configs, activating a new one, its files | `QuorumPeer` (QV_LOCK, processReconfig) |
//! | [`quorum_packet`] | leader↔learner packet types and payloads | `Leader` constants |
//! | **leader** | | |
//! | [`leader`] | the LEADING role: tick loop, learner registry, shutdown | `Leader` |
//! | [`leader_discovery`] | epoch agreement, NEWLEADER ack quorum | `Leader.getEpochToPropose`, `waitForEpochAck`, `waitForNewLeaderAck` |
//! | [`leader_broadcast`] | proposals, acks, commits, forwarding set, syncs | `Leader.propose`, `processAck`, `commit` |
//! | [`synced_learner_tracker`] | who acked, per quorum rule | `SyncedLearnerTracker` |
//! | [`learner_cnx_acceptor`], [`learner_handler`] | the leader's quorum port, one thread per learner | `Leader.LearnerCnxAcceptor`, `LearnerHandler` |
//! | [`learner_handler_sync`] | DIFF / TRUNC / SNAP decision (committed log, txn log) | `LearnerHandler.syncFollower` |
//! | [`learner_master`] | what a LearnerHandler needs of the leader or of an ObserverMaster | `LearnerMaster` |
//! | [`leader_zookeeper_server`] | the leader's server and chain | `LeaderZooKeeperServer` |
//! | [`proposal_request_processor`] | proposes, then logs locally | `ProposalRequestProcessor` |
//! | [`ack_request_processor`] | the leader's own ack after its fsync | `AckRequestProcessor` |
//! | [`to_be_applied_request_processor`] | drops applied txns from toBeApplied | `Leader.ToBeAppliedRequestProcessor` |
//! | **learners** | | |
//! | [`learner`], [`learner_sync`] | connect, register, sync with the leader | `Learner` |
//! | [`follower`], [`observer`] | the FOLLOWING / OBSERVING roles | `Follower`, `Observer` |
//! | [`observer_master`] | a follower serving observers (`observerMasterPort`) | `ObserverMaster` |
//! | [`learner_zookeeper_server`], [`follower_zookeeper_server`], [`observer_zookeeper_server`] | the learners' servers and chains | `LearnerZooKeeperServer`, `FollowerZooKeeperServer`, `ObserverZooKeeperServer` |
//! | [`follower_request_processor`], [`observer_request_processor`] | forward writes to the leader | `FollowerRequestProcessor`, `ObserverRequestProcessor` |
//! | [`send_ack_request_processor`] | ACK each logged proposal | `SendAckRequestProcessor` |
//! | [`learner_session_tracker`] | sessions touched since the last PING | `LearnerSessionTracker` |
//! | **shared by the roles** | | |
//! | [`commit_processor`] | holds writes until committed, per-session order | `CommitProcessor` |
//! | [`quorum_client_port`] | the client port in front of the serving role | `NIOServerCnxnFactory` + `QuorumPeer.setZooKeeperServer` |
//! | [`quorum_serving`] | the serving slot; AdminServer and `/metrics` once per process | `QuorumPeer.start`, `adminServer.setZooKeeperServer` |
//! | [`quorum_monitor`] | the roles' `mntr` / `monitor` / `/metrics` values | `QuorumZooKeeperServer.dumpMonitorValues`, `LeaderZooKeeperServer.registerMetrics` |
//! | [`quorum_zookeeper_server`] | local sessions: upgrade on the first ephemeral create | `QuorumZooKeeperServer.checkUpgradeSession` |
//! | [`read_only_zookeeper_server`] | read-only mode while LOOKING (`readonlymode.enabled`) | `ReadOnlyZooKeeperServer`, `ReadOnlyRequestProcessor` |
//! | [`quorum_peer_config`] | the ensemble part of `zoo.cfg`, validated | `QuorumPeerConfig` |
//! | [`quorum_peer_main`] | entry point | `QuorumPeerMain` |
//! | [`quorum_error`] | why the peer could not start, or why a role ended | (Java's exceptions out of `runFromConfig` and the roles) |
//!
//! Mirrors: `org.apache.zookeeper.server.quorum`.

pub mod ack_request_processor;
pub mod auth;
pub mod circular_blocking_queue;
pub mod commit_processor;
pub mod election_round;
pub mod epoch_files;
pub mod fast_leader_election;
pub mod flexible;
pub mod follower;
pub mod follower_request_processor;
pub mod follower_zookeeper_server;
pub mod handshake_gate;
pub mod initial_message;
pub mod leader;
pub mod leader_broadcast;
pub mod leader_discovery;
pub mod leader_reconfig;
pub mod leader_zookeeper_server;
pub mod learner;
pub mod learner_cnx_acceptor;
pub mod learner_handler;
pub mod learner_handler_sync;
pub mod learner_master;
pub mod learner_session_tracker;
pub mod learner_sync;
pub mod learner_sync_throttler;
pub mod learner_zookeeper_server;
pub mod notification;
pub mod observer;
pub mod observer_master;
pub mod observer_request_processor;
pub mod observer_zookeeper_server;
pub mod proposal_request_processor;
pub mod quorum_client_port;
pub mod quorum_cnx_manager;
pub mod quorum_cnx_workers;
pub mod quorum_error;
pub mod quorum_monitor;
pub mod quorum_packet;
pub mod quorum_peer;
pub mod quorum_peer_config;
pub mod quorum_peer_main;
pub mod quorum_peer_reconfig;
pub mod quorum_server;
pub mod quorum_serving;
pub mod quorum_zookeeper_server;
pub mod read_only_zookeeper_server;
pub mod send_ack_request_processor;
pub mod synced_learner_tracker;
pub mod to_be_applied_request_processor;
pub mod unified_socket;
pub mod vote;
