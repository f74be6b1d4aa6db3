//! The FOLLOWING role: connect to the elected leader, sync, then serve
//! clients while logging, acking and applying what the leader broadcasts,
//! until the link fails, the leader goes silent for syncLimit ticks, or
//! the peer stops.
//!
//! Thread: the QuorumPeer main thread, which is the only reader of the
//! leader link.
//!
//! Mirrors: `org.apache.zookeeper.server.quorum.Follower` (followLeader,
//! processPacket).

use std::sync::Arc;
use std::time::Instant;

use log::{error, info, warn};

use super::follower_zookeeper_server::FollowerZooKeeperServer;
use super::learner::{connect_and_sync, run_as_peer, parse_revalidate_reply, ping_reply, LeaderLink, LearnerContext, LearnerError, EXIT_UNMATCHED_TXN_COMMIT};
use super::learner_sync::SyncOutcome;
use super::quorum_packet::{self, type_name};
use crate::jute::quorum::QuorumPacket;
use crate::jute::txn::TxnLogEntry;
use super::quorum_peer::{QuorumPeer, RoleContext};

/// Follows the leader named in `ctx` until the role ends; returns why.
/// The peer's FOLLOW entry (`quorum_peer::FOLLOW`).
pub fn follow_leader(peer: &QuorumPeer, ctx: &RoleContext) -> String {
    run_as_peer(peer, ctx, follow)
}

/// Runs the role described by `ctx` until it ends; returns why.
pub fn follow(ctx: &LearnerContext<'_>) -> LearnerError {
    info!("FOLLOWING - leader is myid {}", ctx.leader_sid);
    let started = Instant::now();
    let (mut link, outcome) = match connect_and_sync(ctx, quorum_packet::FOLLOWERINFO) {
        Ok(x) => x,
        Err(e) => {
            warn!("Exception when following the leader: {}", e);
            return e;
        }
    };
    let server = match FollowerZooKeeperServer::start(
        ctx.settings.my_id,
        ctx.config.clone(),
        Arc::clone(&ctx.db),
        Arc::clone(&link.writer),
    ) {
        Ok(s) => s,
        Err(e) => {
            link.close();
            return LearnerError::Io("starting the follower's threads".into(), e);
        }
    };
    info!("Synced with leader {} in {} ms; serving", ctx.leader_sid, started.elapsed().as_millis());
    (ctx.publish)(Some(Arc::clone(&server.base.zks)));
    let reason = match finish_sync(&server, outcome) {
        Ok(()) => broadcast_loop(ctx, &mut link, &server),
        Err(e) => e,
    };
    warn!("Exception when following the leader: {}", reason);
    (ctx.publish)(None);
    link.close();
    server.base.shutdown();
    info!(
        "Disconnected from leader (with address: {}). Was connected for {}ms.",
        link.addr,
        started.elapsed().as_millis()
    );
    reason
}

/// After UPTODATE: log the proposals not yet logged, commit what the
/// leader already committed.
fn finish_sync(server: &FollowerZooKeeperServer, outcome: SyncOutcome) -> Result<(), LearnerError> {
    let logged = outcome.not_logged.len();
    for pif in outcome.not_logged {
        server.log_request(pif.entry);
    }
    info!("{} txns have been logged asynchronously", logged);
    let committed = outcome.committed.len();
    for zxid in outcome.committed {
        server.commit(zxid)?;
    }
    info!("{} txns have been committed", committed);
    Ok(())
}

/// Reads and handles packets until something ends the role.
fn broadcast_loop(ctx: &LearnerContext<'_>, link: &mut LeaderLink, server: &FollowerZooKeeperServer) -> LearnerError {
    let mut last_queued = ctx.db.last_processed_zxid();
    while (ctx.is_running)() {
        let qp = match link.read_packet() {
            Ok(qp) => qp,
            Err(e) => return e,
        };
        if let Err(e) = process_packet(link, server, &qp, &mut last_queued) {
            if let LearnerError::Protocol(what) = &e {
                if what.starts_with("Committing zxid") {
                    // Java stops the process: the logs disagree with the leader.
                    error!("{}; exiting", what);
                    std::process::exit(EXIT_UNMATCHED_TXN_COMMIT);
                }
            }
            return e;
        }
    }
    LearnerError::Stopped
}

/// One packet of the broadcast phase.
fn process_packet(
    link: &LeaderLink,
    server: &FollowerZooKeeperServer,
    qp: &QuorumPacket,
    last_queued: &mut i64,
) -> Result<(), LearnerError> {
    match qp.r#type {
        quorum_packet::PING => link.write_packet(&ping_reply(qp, &server.base.touch_snapshot())),
        quorum_packet::PROPOSAL => {
            let entry = TxnLogEntry::from_bytes(qp.data.as_deref().unwrap_or(&[]))
                .map_err(|e| LearnerError::Decode("PROPOSAL".into(), e))?;
            if entry.header.zxid != *last_queued + 1 {
                warn!("Got zxid 0x{:x} expected 0x{:x}", entry.header.zxid, *last_queued + 1);
            }
            *last_queued = entry.header.zxid;
            server.log_request(entry);
            Ok(())
        }
        quorum_packet::COMMIT => server.commit(qp.zxid),
        quorum_packet::COMMITANDACTIVATE => {
            Err(LearnerError::Protocol("reconfig (COMMITANDACTIVATE) is not supported".into()))
        }
        quorum_packet::UPTODATE => {
            error!("Received an UPTODATE message after Follower started");
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
        other => {
            warn!("Unknown packet type: {}", type_name(other));
            Ok(())
        }
    }
}
