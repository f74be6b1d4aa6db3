//! A follower's server: the learner server plus the proposal bookkeeping.
//! A PROPOSAL is logged (its ACK leaves after the fsync, from the
//! SendAckRequestProcessor) and kept in `pending_txns`; a COMMIT must name
//! the oldest pending proposal, which then goes to the CommitProcessor.
//!
//! Threads: `log_request` and `commit` run on the role thread (the only
//! reader of the leader link), so `pending_txns` sees them in packet order.
//!
//! Mirrors: `org.apache.zookeeper.server.quorum.FollowerZooKeeperServer`.

use std::collections::VecDeque;
use std::sync::Arc;

use log::{error, warn};
use parking_lot::Mutex;

use super::learner::{LeaderWriter, LearnerError};
use super::learner_zookeeper_server::LearnerZooKeeperServer;
use super::send_ack_request_processor::SendAckRequestProcessor;
use crate::config::server_config::ServerConfig;
use crate::jute::txn::TxnLogEntry;
use crate::server::zk_database::ZkDatabase;

/// The follower's server.
pub struct FollowerZooKeeperServer {
    /// Serving, forwarding, logging, applying.
    pub base: Arc<LearnerZooKeeperServer>,
    /// Proposals logged (or being logged) and not yet committed, oldest
    /// first. Role thread only (behind a mutex for `Sync`).
    pending_txns: Mutex<VecDeque<TxnLogEntry>>,
}

/// What a COMMIT does, given the oldest pending proposal's zxid (pure).
#[derive(Debug, PartialEq, Eq)]
pub enum CommitCheck {
    /// It is the oldest pending proposal: apply it.
    Apply,
    /// Nothing is pending: Java warns and ignores it.
    NothingPending,
    /// Another proposal is older: Java exits (code 12).
    Mismatch { pending: i64 },
}

/// Matches a COMMIT against the oldest pending proposal.
pub fn check_commit(oldest_pending: Option<i64>, zxid: i64) -> CommitCheck {
    match oldest_pending {
        None => CommitCheck::NothingPending,
        Some(p) if p == zxid => CommitCheck::Apply,
        Some(p) => CommitCheck::Mismatch { pending: p },
    }
}

impl FollowerZooKeeperServer {
    /// Starts the follower's chains (Sync → SendAck).
    pub fn start(
        my_id: i64,
        config: ServerConfig,
        db: Arc<ZkDatabase>,
        leader: Arc<LeaderWriter>,
    ) -> std::io::Result<FollowerZooKeeperServer> {
        let ack = Box::new(SendAckRequestProcessor::new(Arc::clone(&leader)));
        let base = Arc::new(LearnerZooKeeperServer::start(
            "follower",
            my_id,
            config,
            db,
            leader,
            Some(ack),
        )?);
        Ok(FollowerZooKeeperServer {
            base,
            pending_txns: Mutex::new(VecDeque::new()),
        })
    }

    /// A PROPOSAL: remember it (unless it is an epoch's zxid 0) and log it.
    pub fn log_request(&self, entry: TxnLogEntry) {
        if entry.header.zxid & 0xffff_ffff != 0 {
            self.pending_txns.lock().push_back(entry.clone());
        }
        self.base.log(entry);
    }

    /// A COMMIT for `zxid`.
    pub fn commit(&self, zxid: i64) -> Result<(), LearnerError> {
        let mut pending = self.pending_txns.lock();
        match check_commit(pending.front().map(|e| e.header.zxid), zxid) {
            CommitCheck::Apply => {
                if let Some(entry) = pending.pop_front() {
                    drop(pending);
                    self.base.commit(entry);
                }
                Ok(())
            }
            CommitCheck::NothingPending => {
                warn!("Committing {:x} without seeing txn", zxid);
                Ok(())
            }
            CommitCheck::Mismatch { pending: p } => {
                error!(
                    "Committing zxid 0x{:x} but next pending txn 0x{:x}",
                    zxid, p
                );
                Err(LearnerError::Protocol(format!(
                    "Committing zxid 0x{:x} but next pending txn 0x{:x}",
                    zxid, p
                )))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commits_must_match_the_oldest_proposal() {
        assert_eq!(check_commit(Some(5), 5), CommitCheck::Apply);
        assert_eq!(check_commit(None, 5), CommitCheck::NothingPending);
        assert_eq!(
            check_commit(Some(4), 5),
            CommitCheck::Mismatch { pending: 4 }
        );
    }
}
