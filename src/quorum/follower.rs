//! The FOLLOWING role: connect to the elected leader, sync, then serve
//! clients while logging, acking and applying what the leader broadcasts,
//! until the link fails, the leader goes silent for syncLimit ticks, or
//! the peer stops.
//!
//! With `observerMasterPort`, the follower also serves observers once
//! synced (see `observer_master`): each PROPOSAL is handed to it and each
//! COMMIT relayed as INFORM before it is applied here.
//!
//! Thread: the QuorumPeer main thread, which is the only reader of the
//! leader link.
//!
//! Mirrors: `org.apache.zookeeper.server.quorum.Follower` (followLeader,
//! processPacket).

use std::collections::VecDeque;
use std::sync::Arc;

use log::{error, info, warn};

use super::follower_zookeeper_server::FollowerZooKeeperServer;
use super::learner::{
    parse_revalidate_reply, process_common_packet, read_until_end, run_as_peer, run_learner_role,
    LeaderLink, LearnerContext, LearnerError, EXIT_UNMATCHED_TXN_COMMIT,
};
use super::learner_sync::{designated_leader, reconfig_text, SyncOutcome};
use super::observer_master::ObserverMaster;
use super::quorum_error::QuorumError;
use super::quorum_monitor::ObserverMasterMonitor;
use super::quorum_packet::{self, type_name};
use super::quorum_peer::{QuorumPeer, RoleContext};
use crate::jute::quorum::QuorumPacket;
use crate::jute::txn::TxnLogEntry;
use crate::server::zk_database::ZkDatabase;

/// Follows the leader named in `ctx` until the role ends; returns why.
/// The peer's FOLLOW entry (`quorum_peer::FOLLOW`).
pub fn follow_leader(peer: &QuorumPeer, ctx: &RoleContext) -> QuorumError {
    info!(
        "FOLLOWING - LEADER ELECTION TOOK - {} MS",
        peer.election_took_ms()
    );
    run_as_peer(peer, ctx, follow)
}

/// Runs the role described by `ctx` until it ends; returns why.
pub fn follow(ctx: &LearnerContext<'_>) -> LearnerError {
    info!("FOLLOWING - leader is myid {}", ctx.leader_sid);
    run_learner_role(
        ctx,
        quorum_packet::FOLLOWERINFO,
        "following",
        |link| {
            FollowerZooKeeperServer::start(
                ctx.settings.my_id,
                ctx.config.clone(),
                Arc::clone(&ctx.db),
                Arc::clone(&link.writer),
            )
        },
        |server| &server.base,
        |link, server, outcome| {
            let relay = RelaySeed::of(&ctx.db, &outcome);
            if let Err(e) = finish_sync(server, outcome) {
                return e;
            }
            let om = match start_observer_master(ctx, link, server, relay) {
                Ok(om) => om,
                Err(e) => return e,
            };
            let reason = broadcast_loop(ctx, link, server, om.as_deref());
            if let Some(om) = om {
                om.stop();
            }
            reason
        },
    )
}

/// What an ObserverMaster started after the sync must know of it: the
/// last zxid the follower committed (observers are synced from the
/// database once it got there) and the proposals still waiting for their
/// COMMIT.
struct RelaySeed {
    floor: i64,
    pending: Vec<(i64, Vec<u8>)>,
}

impl RelaySeed {
    fn of(db: &ZkDatabase, outcome: &SyncOutcome) -> RelaySeed {
        let floor = outcome
            .committed
            .iter()
            .copied()
            .fold(db.last_processed_zxid(), i64::max);
        let pending = outcome
            .not_logged
            .iter()
            .filter(|p| p.entry.header.zxid > floor)
            .map(|p| (p.entry.header.zxid, p.entry.to_bytes()))
            .collect();
        RelaySeed { floor, pending }
    }
}

/// With `observerMasterPort`: serve observers from now on, and show them
/// in `observers` (Java: Follower.followLeader's ObserverMaster).
fn start_observer_master(
    ctx: &LearnerContext<'_>,
    link: &LeaderLink,
    server: &FollowerZooKeeperServer,
    seed: RelaySeed,
) -> Result<Option<Arc<ObserverMaster>>, LearnerError> {
    let Some(settings) = ctx.observer_master.clone() else {
        return Ok(None);
    };
    let om = ObserverMaster::start(
        settings,
        ctx.epochs.current_epoch(),
        &server.base,
        Arc::clone(&link.writer),
        seed.floor,
        seed.pending,
    )
    .map_err(|e| LearnerError::Io("starting the ObserverMaster".into(), e))?;
    if let Some(inner) = server.base.zks.role_monitor() {
        server
            .base
            .zks
            .set_role_monitor(Arc::new(ObserverMasterMonitor::new(inner, Arc::clone(&om))));
    }
    Ok(Some(om))
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
fn broadcast_loop(
    ctx: &LearnerContext<'_>,
    link: &mut LeaderLink,
    server: &FollowerZooKeeperServer,
    om: Option<&ObserverMaster>,
) -> LearnerError {
    let mut last_queued = ctx.db.last_processed_zxid();
    let mut configs = PendingConfigs::default();
    let reason = read_until_end(ctx, link, |link, qp| {
        process_packet(ctx, link, server, om, qp, &mut last_queued, &mut configs)
    });
    if let LearnerError::Protocol(what) = &reason {
        if what.starts_with("Committing zxid") {
            // Java stops the process: the logs disagree with the leader.
            error!("{}; exiting", what);
            std::process::exit(EXIT_UNMATCHED_TXN_COMMIT);
        }
    }
    reason
}

/// Configs of reconfig proposals not yet committed, by zxid.
#[derive(Default)]
struct PendingConfigs(VecDeque<(i64, String)>);

impl PendingConfigs {
    /// The config proposed at `zxid` (older ones are dropped: their
    /// commits have passed).
    fn take(&mut self, zxid: i64) -> Option<String> {
        while let Some((z, _)) = self.0.front() {
            if *z < zxid {
                self.0.pop_front();
            } else {
                break;
            }
        }
        match self.0.front() {
            Some((z, _)) if *z == zxid => self.0.pop_front().map(|(_, t)| t),
            _ => None,
        }
    }
}

/// One packet of the broadcast phase.
fn process_packet(
    ctx: &LearnerContext<'_>,
    link: &LeaderLink,
    server: &FollowerZooKeeperServer,
    om: Option<&ObserverMaster>,
    qp: &QuorumPacket,
    last_queued: &mut i64,
    configs: &mut PendingConfigs,
) -> Result<(), LearnerError> {
    if let (Some(om), quorum_packet::REVALIDATE) = (om, qp.r#type) {
        let (session_id, valid) = parse_revalidate_reply(qp.data.as_deref())?;
        let data = qp.data.as_deref().unwrap_or_default();
        if om.revalidate_answered(session_id, valid, data) {
            return Ok(());
        }
    }
    if process_common_packet(link, &server.base, qp, "Follower")? {
        return Ok(());
    }
    match qp.r#type {
        quorum_packet::PROPOSAL => {
            let entry = TxnLogEntry::from_bytes(qp.data.as_deref().unwrap_or(&[]))
                .map_err(|e| LearnerError::Decode("PROPOSAL".into(), e))?;
            if entry.header.zxid != *last_queued + 1 {
                warn!(
                    "Got zxid 0x{:x} expected 0x{:x}",
                    entry.header.zxid,
                    *last_queued + 1
                );
            }
            *last_queued = entry.header.zxid;
            if let Some(text) = reconfig_text(&entry) {
                ctx.epochs.proposed_config(&text);
                configs.0.push_back((entry.header.zxid, text));
            }
            if let Some(om) = om {
                om.proposal_received(entry.header.zxid, qp.data.as_deref().unwrap_or_default());
            }
            server.log_request(entry);
            Ok(())
        }
        quorum_packet::COMMIT => {
            // Relayed before it is applied here, so an observer syncing
            // from our database meanwhile finds it in the relay's cache.
            if let Some(om) = om {
                om.proposal_committed(qp.zxid);
            }
            server.commit(qp.zxid)
        }
        quorum_packet::COMMITANDACTIVATE => {
            let leader = designated_leader(qp.data.as_deref())?;
            if let Some(om) = om {
                om.inform_and_activate(qp.zxid, leader);
            }
            let major = match configs.take(qp.zxid) {
                Some(text) => ctx
                    .epochs
                    .activate_config(&text, Some(leader), Some(qp.zxid)),
                None => {
                    warn!(
                        "COMMITANDACTIVATE 0x{:x} without its reconfig proposal",
                        qp.zxid
                    );
                    false
                }
            };
            server.commit(qp.zxid)?;
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
