//! What PrepRequestProcessor needs from a leader to prepare `reconfig`
//! (opcode 16): the leader checks the request against its configs and
//! connected learners and returns the new config's text, which becomes a
//! setData of `/zookeeper/config` logged with the reconfig type.
//!
//! The trait lives here (the server layer knows nothing of quorums); the
//! leader role implements it (`quorum::leader_reconfig`) and installs it
//! in [`super::server_state::ServerState::reconfig`]. Called on the
//! connection thread under Prep's lock.
//!
//! Mirrors: `PrepRequestProcessor.pRequest2TxnCreate`'s `case reconfig`
//! (the part that needs the `LeaderZooKeeperServer`).

use crate::jute::proto::ReconfigRequest;
use crate::keeper_exception::Code;

/// The leader's side of a reconfig request.
pub trait ReconfigProposer: Send + Sync {
    /// The new config's text (`server.N=...` lines, `version=<zxid hex>`)
    /// for `request`, to be proposed at `zxid`; or the error Java gives
    /// (RECONFIGINPROGRESS, BADVERSION, BADARGUMENTS, NEWCONFIGNOQUORUM).
    fn prepare(&self, request: &ReconfigRequest, zxid: i64) -> Result<String, Code>;
}
