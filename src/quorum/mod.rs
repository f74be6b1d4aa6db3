//! Quorum mode: the ensemble's members and quorum rules, the election
//! transport, FastLeaderElection and the peer's state machine. Zab (the
//! leader/learner protocol) is a later issue: until it lands a peer holds
//! its elected role while its election connections show the leader (or a
//! quorum of followers) alive, then goes back to electing; a leader accepts
//! learners on its quorum port but does not sync them.
//!
//! | module | role | Java twin |
//! |---|---|---|
//! | [`quorum_server`] | one `server.N` line | `QuorumPeer.QuorumServer` |
//! | [`flexible`] | majority and hierarchical quorum rules | `flexible.QuorumMaj`, `QuorumHierarchical` |
//! | [`vote`] | votes, states, the total order | `Vote`, `ServerState` |
//! | [`notification`] | the election message layout | `FastLeaderElection.Notification` |
//! | [`initial_message`] | the election connection header | `QuorumCnxManager.InitialMessage` |
//!
//! Mirrors: `org.apache.zookeeper.server.quorum`.

pub mod circular_blocking_queue;
pub mod election_round;
pub mod epoch_files;
pub mod fast_leader_election;
pub mod flexible;
pub mod initial_message;
pub mod learner_cnx_acceptor;
pub mod notification;
pub mod quorum_client_port;
pub mod quorum_cnx_manager;
pub mod quorum_cnx_workers;
pub mod quorum_peer;
pub mod quorum_peer_main;
pub mod quorum_server;
pub mod vote;
