//! Quorum SASL: peers proving who they are to each other on the election
//! and quorum ports, before any election or Zab message.
//!
//! | module | role | Java twin |
//! |---|---|---|
//! | [`quorum_auth`] | the exchange's packet, its statuses and magic number | `QuorumAuth`, `QuorumAuthPacket` |
//! | [`sasl_quorum_auth_server`] | the accepting side: checks a dialing peer | `SaslQuorumAuthServer`, `SaslQuorumServerCallbackHandler` |
//! | [`sasl_quorum_auth_learner`] | the dialing side: proves this peer | `SaslQuorumAuthLearner` |
//!
//! Where they run: the election port's connection threads
//! ([`super::quorum_cnx_manager`]: the dialer authenticates right after
//! its initial message, the acceptor checks before the sid rules), a
//! learner right after connecting to its leader ([`super::learner`]), and
//! the leader's LearnerHandler before the learner's first packet
//! ([`super::learner_handler`]).

pub mod quorum_auth;
pub mod sasl_quorum_auth_learner;
pub mod sasl_quorum_auth_server;
