//! The leader role (being built): see `quorum_peer` for how roles run.
//!
//! Mirrors: `org.apache.zookeeper.server.quorum.Leader`.

use super::quorum_peer::{QuorumPeer, RoleContext};

/// LEADING: runs until the role ends; returns why.
pub fn lead(peer: &QuorumPeer, _ctx: &RoleContext) -> String {
    peer.hold_leading()
}
