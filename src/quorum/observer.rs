//! The OBSERVING role: like following, but registered with OBSERVERINFO,
//! never voting or acking: committed txns arrive as INFORM and are logged
//! and applied at once; clients' writes are forwarded as a follower's are.
//!
//! Thread: the QuorumPeer main thread, the only reader of the leader link.
//!
//! Mirrors: `org.apache.zookeeper.server.quorum.Observer` (observeLeader,
//! processPacket).

use std::sync::Arc;
use std::time::Instant;

use log::{error, info, warn};

use super::learner::{connect_and_sync, run_as_peer, parse_revalidate_reply, ping_reply, LeaderLink, LearnerContext, LearnerError};
use super::learner_sync::SyncOutcome;
use super::observer_zookeeper_server::ObserverZooKeeperServer;
use super::quorum_packet::{self, type_name};
use crate::jute::quorum::QuorumPacket;
use crate::jute::txn::TxnLogEntry;
use super::quorum_peer::{QuorumPeer, RoleContext};

/// Observes the leader named in `ctx` until the role ends; returns why.
/// The peer's OBSERVE entry (`quorum_peer::OBSERVE`).
pub fn observe_leader(peer: &QuorumPeer, ctx: &RoleContext) -> String {
    run_as_peer(peer, ctx, observe)
}

/// Runs the role described by `ctx` until it ends; returns why.
pub fn observe(ctx: &LearnerContext<'_>) -> LearnerError {
    info!("OBSERVING - leader is myid {}", ctx.leader_sid);
    let started = Instant::now();
    let (mut link, outcome) = match connect_and_sync(ctx, quorum_packet::OBSERVERINFO) {
        Ok(x) => x,
        Err(e) => {
            warn!("Exception when observing the leader: {}", e);
            return e;
        }
    };
    let server = match ObserverZooKeeperServer::start(
        ctx.settings.my_id,
        ctx.config.clone(),
        Arc::clone(&ctx.db),
        Arc::clone(&link.writer),
    ) {
        Ok(s) => s,
        Err(e) => {
            link.close();
            return LearnerError::Io("starting the observer's threads".into(), e);
        }
    };
    info!("Synced with leader {} in {} ms; serving", ctx.leader_sid, started.elapsed().as_millis());
    (ctx.publish)(Some(Arc::clone(&server.base.zks)));
    finish_sync(&server, outcome);
    let reason = broadcast_loop(ctx, &mut link, &server);
    warn!("Exception when observing the leader: {}", reason);
    (ctx.publish)(None);
    link.close();
    server.base.shutdown();
    reason
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
            Some(&zxid) => warn!("Committing 0x{:x}, but next proposal is 0x{:x}", zxid, pif.zxid()),
            None => break,
        }
    }
}

fn broadcast_loop(ctx: &LearnerContext<'_>, link: &mut LeaderLink, server: &ObserverZooKeeperServer) -> LearnerError {
    while (ctx.is_running)() {
        let qp = match link.read_packet() {
            Ok(qp) => qp,
            Err(e) => return e,
        };
        if let Err(e) = process_packet(link, server, &qp) {
            return e;
        }
    }
    LearnerError::Stopped
}

/// One packet of the broadcast phase.
fn process_packet(link: &LeaderLink, server: &ObserverZooKeeperServer, qp: &QuorumPacket) -> Result<(), LearnerError> {
    match qp.r#type {
        quorum_packet::PING => link.write_packet(&ping_reply(qp, &server.base.touch_snapshot())),
        quorum_packet::PROPOSAL => {
            warn!("Ignoring proposal");
            Ok(())
        }
        quorum_packet::COMMIT => {
            warn!("Ignoring commit");
            Ok(())
        }
        quorum_packet::UPTODATE => {
            error!("Received an UPTODATE message after Observer started");
            Ok(())
        }
        quorum_packet::REVALIDATE => {
            let (session_id, valid) = parse_revalidate_reply(qp.data.as_deref())?;
            server.base.finish_revalidation(session_id, valid);
            Ok(())
        }
        quorum_packet::SYNC => {
            server.base.sync();
            Ok(())
        }
        quorum_packet::INFORM => {
            let entry = TxnLogEntry::from_bytes(qp.data.as_deref().unwrap_or(&[]))
                .map_err(|e| LearnerError::Decode("INFORM".into(), e))?;
            server.commit_request(entry);
            Ok(())
        }
        quorum_packet::INFORMANDACTIVATE => {
            Err(LearnerError::Protocol("reconfig (INFORMANDACTIVATE) is not supported".into()))
        }
        other => {
            warn!("Unknown packet type: {}", type_name(other));
            Ok(())
        }
    }
}
