//! An observer's server: the learner server without votes. Committed txns
//! arrive as INFORM; each is logged (no ACK: observers do not vote) and
//! applied at once through the CommitProcessor.
//!
//! Thread: `commit_request` runs on the role thread.
//!
//! Mirrors: `org.apache.zookeeper.server.quorum.ObserverZooKeeperServer`
//! (with `zookeeper.observer.syncEnabled` at its default, true).

use std::sync::Arc;

use super::learner::LeaderWriter;
use super::learner_zookeeper_server::LearnerZooKeeperServer;
use crate::config::server_config::ServerConfig;
use crate::jute::txn::TxnLogEntry;
use crate::server::zk_database::ZkDatabase;

/// The observer's server.
pub struct ObserverZooKeeperServer {
    /// Serving, forwarding, logging, applying.
    pub base: Arc<LearnerZooKeeperServer>,
}

impl ObserverZooKeeperServer {
    /// Starts the observer's chains.
    pub fn start(
        my_id: i64,
        config: ServerConfig,
        db: Arc<ZkDatabase>,
        leader: Arc<LeaderWriter>,
    ) -> std::io::Result<ObserverZooKeeperServer> {
        let base = Arc::new(LearnerZooKeeperServer::start(
            "observer", my_id, config, db, leader, None,
        )?);
        Ok(ObserverZooKeeperServer { base })
    }

    /// A committed txn (INFORM): log it and apply it.
    pub fn commit_request(&self, entry: TxnLogEntry) {
        self.base.log(entry.clone());
        self.base.commit(entry);
    }
}
