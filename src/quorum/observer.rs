//! The OBSERVING role: like following, but registered with OBSERVERINFO,
//! never voting or acking: committed txns arrive as INFORM and are logged
//! and applied at once; clients' writes are forwarded as a follower's are.
//!
//! With `observerMasterPort` the link goes to a follower's ObserverMaster
//! (each role to the next voting member in turn), which relays the
//! leader's commits as INFORMs and forwards our requests.
//!
//! Thread: the QuorumPeer main thread, the only reader of the leader link.
//!
//! Mirrors: `org.apache.zookeeper.server.quorum.Observer` (observeLeader,
//! processPacket).

use std::sync::Arc;

use log::{info, warn};

use super::learner::{
    process_common_packet, read_until_end, run_as_peer, run_as_peer_with, run_learner_role,
    LeaderLink, LearnerContext, LearnerError,
};
use super::learner_sync::{reconfig_text, split_inform_and_activate, SyncOutcome};
use super::observer_zookeeper_server::ObserverZooKeeperServer;
use super::quorum_error::QuorumError;
use super::quorum_packet::{self, type_name};
use super::quorum_peer::{QuorumPeer, RoleContext};
use crate::jute::quorum::QuorumPacket;
use crate::jute::txn::TxnLogEntry;

/// Observes the leader named in `ctx` until the role ends; returns why.
/// With `observerMasterPort`, the observer syncs from and is fed by the
/// next voting member's ObserverMaster instead (the protocol is the same).
/// The peer's OBSERVE entry (`quorum_peer::OBSERVE`).
pub fn observe_leader(peer: &QuorumPeer, ctx: &RoleContext) -> QuorumError {
    let Some(port) = ctx.config.observer_master_port else {
        return run_as_peer(peer, ctx, observe);
    };
    let Some((sid, master)) = peer.next_observer_master(port) else {
        warn!("No learner master found");
        return QuorumError::NoLearnerMaster;
    };
    match master.resolve() {
        Ok(addr) => {
            info!("Observing new leader sid={} addr={}", sid, addr);
            run_as_peer_with(peer, ctx, Some((sid, addr)), observe)
        }
        Err(e) => {
            warn!("Cannot resolve learner master {}: {}", master.to_wire(), e);
            QuorumError::UnresolvedLearnerMaster(master.to_wire())
        }
    }
}

/// Runs the role described by `ctx` until it ends; returns why.
pub fn observe(ctx: &LearnerContext<'_>) -> LearnerError {
    info!("OBSERVING - leader is myid {}", ctx.leader_sid);
    run_learner_role(
        ctx,
        quorum_packet::OBSERVERINFO,
        "observing",
        |link| {
            ObserverZooKeeperServer::start(
                ctx.settings.my_id,
                ctx.config.clone(),
                Arc::clone(&ctx.db),
                Arc::clone(&link.writer),
            )
        },
        |server| &server.base,
        |link, server, outcome| {
            finish_sync(server, outcome);
            read_until_end(ctx, link, |link, qp| process_packet(ctx, link, server, qp))
        },
    )
}

/// After UPTODATE: the queued txns the leader committed are applied (an
/// observer has no use for uncommitted ones).
fn finish_sync(server: &ObserverZooKeeperServer, mut outcome: SyncOutcome) {
    for pif in outcome.not_logged {
        match outcome.committed.front() {
            Some(&zxid) if zxid == pif.zxid() => {
                outcome.committed.pop_front();
                server.commit_request(pif.entry);
            }
            Some(&zxid) => warn!(
                "Committing 0x{:x}, but next proposal is 0x{:x}",
                zxid,
                pif.zxid()
            ),
            None => break,
        }
    }
}

/// One packet of the broadcast phase.
fn process_packet(
    ctx: &LearnerContext<'_>,
    link: &LeaderLink,
    server: &ObserverZooKeeperServer,
    qp: &QuorumPacket,
) -> Result<(), LearnerError> {
    if process_common_packet(link, &server.base, qp, "Observer")? {
        return Ok(());
    }
    match qp.r#type {
        quorum_packet::PROPOSAL => {
            warn!("Ignoring proposal");
            Ok(())
        }
        quorum_packet::COMMIT => {
            warn!("Ignoring commit");
            Ok(())
        }
        quorum_packet::INFORM => {
            let entry = TxnLogEntry::from_bytes(qp.data.as_deref().unwrap_or(&[]))
                .map_err(|e| LearnerError::Decode("INFORM".into(), e))?;
            server.commit_request(entry);
            Ok(())
        }
        quorum_packet::INFORMANDACTIVATE => {
            let (leader, entry) = split_inform_and_activate(qp.data.as_deref())?;
            let major = reconfig_text(&entry).is_some_and(|text| {
                ctx.epochs
                    .activate_config(&text, Some(leader), Some(qp.zxid))
            });
            server.commit_request(entry);
            if major {
                return Err(LearnerError::Reconfigured);
            }
            Ok(())
        }
        other => {
            warn!("Unknown packet type: {}", type_name(other));
            Ok(())
        }
    }
}
