//! Schema module `org.apache.zookeeper.server.quorum`: peer-port records.
//!
//! Mirrors: the classes jute generates for `org.apache.zookeeper.server.quorum`
//! (`QuorumPacket`, `LearnerInfo`, `QuorumAuthPacket`).

use super::data::Id;

jute_record! {
    /// Sent by a learner in FOLLOWERINFO / OBSERVERINFO.
    pub struct LearnerInfo {
        serverid: i64,
        protocol_version: i32,
        config_version: i64,
    }

    /// Every message between leader and learners.
    pub struct QuorumPacket {
        /// PROPOSAL, ACK, COMMIT, PING, ... (`Leader` constants).
        r#type: i32,
        zxid: i64,
        data: Option<Vec<u8>>,
        authinfo: Vec<Id>,
    }

    /// SASL exchange between quorum peers.
    pub struct QuorumAuthPacket {
        magic: i64,
        status: i32,
        token: Option<Vec<u8>>,
    }
}
