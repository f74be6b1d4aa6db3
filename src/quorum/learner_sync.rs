//! The learner's synchronization phase: from the leader's first sync
//! packet (DIFF, TRUNC or SNAP) to UPTODATE.
//!
//! - DIFF keeps the local database; the PROPOSAL/COMMIT pairs that follow
//!   are only queued until NEWLEADER.
//! - TRUNC cuts the local txn log after the given zxid and reloads; SNAP
//!   replaces the database with the snapshot streamed right after the
//!   packet (sessions, ACL cache, nodes, then the "BenWasHere" signature).
//!   After either, each COMMIT is applied in memory at once and NEWLEADER
//!   takes a snapshot.
//! - NEWLEADER (3.9.5 order, ZOOKEEPER-4643/4785): the snapshot if one is
//!   needed, then the queued proposals that are already committed are
//!   appended, applied and fsynced, then `currentEpoch` is written, then
//!   the ACK. Uncommitted proposals stay queued for the role server.
//! - UPTODATE: ACK with the new epoch's zxid; the caller starts serving.
//!
//! Thread: the QuorumPeer main thread (the role thread), before the role
//! server exists; it alone touches the database during this phase.
//!
//! Mirrors: `Learner.syncWithLeader` and `Learner.enforceContinuousProposal`.

use std::collections::VecDeque;

use log::{error, info, warn};

use super::learner::{EpochStore, LeaderLink, LearnerError, LearnerSettings};
use super::quorum_packet::{self, packet, type_name};
use super::vote::{epoch_of_zxid, make_zxid};
use crate::jute::txn::{TxnBody, TxnLogEntry};
use crate::jute::{self};
use crate::server::data_tree::DataTree;
use crate::server::zk_database::ZkDatabase;
use crate::zoo_defs::op_code;

/// How the leader synchronized us (`QuorumPeer.SyncMode`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SyncMode {
    Diff,
    Trunc,
    Snap,
}

impl SyncMode {
    /// Lowercase, as `mntr`'s peer_state shows it.
    pub fn name(self) -> &'static str {
        match self {
            SyncMode::Diff => "diff",
            SyncMode::Trunc => "trunc",
            SyncMode::Snap => "snap",
        }
    }
}

/// A proposal received during sync, not yet logged.
#[derive(Debug, Clone)]
pub struct PacketInFlight {
    /// The decoded txn.
    pub entry: TxnLogEntry,
}

impl PacketInFlight {
    /// The txn's zxid.
    pub fn zxid(&self) -> i64 {
        self.entry.header.zxid
    }
}

/// What sync leaves for the role server once it starts serving.
#[derive(Debug, Default)]
pub struct SyncOutcome {
    /// Proposals not yet in the log, oldest first.
    pub not_logged: VecDeque<PacketInFlight>,
    /// Zxids committed by the leader but not yet applied, oldest first.
    pub committed: VecDeque<i64>,
    /// The mode of the first packet.
    pub mode: Option<SyncMode>,
}

/// The order checks on proposals received during sync (3.9.4+): a gap
/// inside one epoch aborts the sync, a jump to a later epoch is logged.
/// Returns the new last queued zxid.
pub fn enforce_continuous_proposal(last_queued: i64, zxid: i64) -> Result<i64, LearnerError> {
    if last_queued == 0 {
        info!("DIFF sync got first proposal 0x{:x}", zxid);
    } else if zxid != last_queued + 1 {
        if epoch_of_zxid(zxid) <= epoch_of_zxid(last_queued) {
            let msg = format!(
                "DIFF sync got proposal 0x{:x}, last queued 0x{:x}, expected 0x{:x}",
                zxid,
                last_queued,
                last_queued + 1
            );
            error!("{}", msg);
            return Err(LearnerError::Protocol(msg));
        }
        warn!(
            "DIFF sync got new epoch proposal 0x{:x}, last queued 0x{:x}, expected 0x{:x}",
            zxid,
            last_queued,
            last_queued + 1
        );
    }
    Ok(zxid)
}

/// The queues of the sync phase and what a COMMIT does to them (pure).
#[derive(Debug, Default)]
pub struct SyncQueues {
    /// Proposals received and not logged.
    pub not_logged: VecDeque<PacketInFlight>,
    /// Commits to apply once logging starts.
    pub committed: VecDeque<i64>,
    /// After NEWLEADER (or from the start with DIFF): commits are queued,
    /// not applied in memory.
    pub write_to_txn_log: bool,
    /// The last proposal's zxid (0 = none yet).
    pub last_queued: i64,
}

/// What to do for a COMMIT during sync.
#[derive(Debug, PartialEq)]
pub enum CommitAction {
    /// Apply this txn in memory now (SNAP/TRUNC before NEWLEADER).
    ApplyNow(TxnLogEntry),
    /// Queued for after NEWLEADER/UPTODATE.
    Queued,
    /// Nothing to do (a commit for something we do not hold; logged).
    Ignored,
}

impl SyncQueues {
    /// A PROPOSAL (or INFORM's txn) arrived.
    pub fn proposal(&mut self, entry: TxnLogEntry) -> Result<(), LearnerError> {
        self.last_queued = enforce_continuous_proposal(self.last_queued, entry.header.zxid)?;
        self.not_logged.push_back(PacketInFlight { entry });
        Ok(())
    }

    /// A COMMIT for `zxid` arrived.
    pub fn commit(&mut self, zxid: i64) -> CommitAction {
        if self.write_to_txn_log {
            self.committed.push_back(zxid);
            return CommitAction::Queued;
        }
        match self.not_logged.front() {
            Some(pif) if pif.zxid() == zxid => match self.not_logged.pop_front() {
                Some(pif) => CommitAction::ApplyNow(pif.entry),
                None => CommitAction::Ignored,
            },
            Some(pif) => {
                warn!(
                    "Committing 0x{:x}, but next proposal is 0x{:x}",
                    zxid,
                    pif.zxid()
                );
                CommitAction::Ignored
            }
            None => {
                warn!("Committing 0x{:x}, but got no proposal", zxid);
                CommitAction::Ignored
            }
        }
    }

    /// An INFORM (a committed txn for observers) arrived.
    pub fn inform(&mut self, entry: TxnLogEntry) -> Result<Option<TxnLogEntry>, LearnerError> {
        self.last_queued = enforce_continuous_proposal(self.last_queued, entry.header.zxid)?;
        if !self.write_to_txn_log {
            return Ok(Some(entry));
        }
        self.committed.push_back(entry.header.zxid);
        self.not_logged.push_back(PacketInFlight { entry });
        Ok(None)
    }

    /// At NEWLEADER: takes the committed proposals at the head of the
    /// queue (each commit matched against the oldest proposal, as Java).
    pub fn take_committed(&mut self) -> Vec<TxnLogEntry> {
        let mut out = Vec::new();
        while let Some(zxid) = self.committed.pop_front() {
            match self.not_logged.front() {
                None => warn!("Committing 0x{:x}, but got no proposal", zxid),
                Some(pif) if pif.zxid() != zxid => {
                    warn!(
                        "Committing 0x{:x}, but next proposal is 0x{:x}",
                        zxid,
                        pif.zxid()
                    )
                }
                Some(_) => {
                    if let Some(pif) = self.not_logged.pop_front() {
                        out.push(pif.entry);
                    }
                }
            }
        }
        out
    }
}

/// Decodes a PROPOSAL/INFORM body.
fn decode_txn(data: Option<&[u8]>, what: &str) -> Result<TxnLogEntry, LearnerError> {
    TxnLogEntry::from_bytes(data.unwrap_or(&[])).map_err(|e| LearnerError::Decode(what.into(), e))
}

/// The config a reconfig txn carries (its SetData's data), as text.
pub fn reconfig_text(entry: &TxnLogEntry) -> Option<String> {
    match (&entry.header.r#type, &entry.body) {
        (&op_code::RECONFIG, TxnBody::SetData(t)) => t
            .data
            .as_deref()
            .map(|d| String::from_utf8_lossy(d).into_owned()),
        _ => None,
    }
}

/// COMMITANDACTIVATE's data: the designated leader's sid.
pub fn designated_leader(data: Option<&[u8]>) -> Result<i64, LearnerError> {
    data.and_then(|d| d.get(..8))
        .map(|b| i64::from_be_bytes(b.try_into().unwrap_or([0; 8])))
        .ok_or_else(|| LearnerError::Protocol("COMMITANDACTIVATE without a leader id".into()))
}

/// INFORMANDACTIVATE's data: the designated leader's sid, then the txn.
pub fn split_inform_and_activate(data: Option<&[u8]>) -> Result<(i64, TxnLogEntry), LearnerError> {
    let leader = designated_leader(data)?;
    let entry = decode_txn(data.and_then(|d| d.get(8..)), "INFORMANDACTIVATE")?;
    Ok((leader, entry))
}

/// Runs the sync phase on `link` against `db`; returns the queues the role
/// server must finish. `new_leader_zxid` is what registration returned.
/// If it fails after a SNAP or TRUNC changed the tree but before the
/// NEWLEADER snapshot saved it, the database is reloaded from disk, so
/// memory never holds a state the disk cannot reproduce.
pub fn sync_with_leader(
    link: &mut LeaderLink,
    db: &ZkDatabase,
    epochs: &dyn EpochStore,
    settings: &LearnerSettings,
    new_leader_zxid: i64,
    is_running: &dyn Fn() -> bool,
) -> Result<SyncOutcome, LearnerError> {
    let mut unsaved = false;
    let result = sync_phase(
        link,
        db,
        epochs,
        settings,
        new_leader_zxid,
        is_running,
        &mut unsaved,
    );
    if result.is_err() && unsaved {
        warn!("Sync with the leader failed before the sync snapshot; reloading the database from disk");
        if let Err(e) = db.load_database() {
            error!("Reloading the database: {}", e);
        }
    }
    result
}

/// `sync_with_leader`'s work; `unsaved` is set while the tree holds what
/// only a snapshot would persist.
fn sync_phase(
    link: &mut LeaderLink,
    db: &ZkDatabase,
    epochs: &dyn EpochStore,
    settings: &LearnerSettings,
    new_leader_zxid: i64,
    is_running: &dyn Fn() -> bool,
    unsaved: &mut bool,
) -> Result<SyncOutcome, LearnerError> {
    let new_epoch = epoch_of_zxid(new_leader_zxid);
    let first = link.read_packet()?;
    *unsaved = matches!(first.r#type, quorum_packet::SNAP | quorum_packet::TRUNC);
    let mode = apply_first_packet(link, db, &first)?;
    // Without reconfig the local config wins over whatever the leader's
    // snapshot held (ZOOKEEPER-2819), after every kind of sync; with it,
    // the leader's config comes with NEWLEADER and UPTODATE.
    if !epochs.reconfig_enabled() {
        db.init_config_in_zk_database(&settings.config_text, settings.config_version);
    }
    let mut new_leader_config: Option<String> = None;
    let mut snapshot_needed = mode != SyncMode::Diff;
    let mut queues = SyncQueues {
        write_to_txn_log: !snapshot_needed,
        ..SyncQueues::default()
    };
    loop {
        if !is_running() {
            return Err(LearnerError::Stopped);
        }
        let qp = link.read_packet()?;
        match qp.r#type {
            quorum_packet::PROPOSAL => {
                let entry = decode_txn(qp.data.as_deref(), "PROPOSAL")?;
                if let Some(text) = reconfig_text(&entry) {
                    epochs.proposed_config(&text);
                }
                queues.proposal(entry)?
            }
            quorum_packet::COMMIT | quorum_packet::COMMITANDACTIVATE => {
                if qp.r#type == quorum_packet::COMMITANDACTIVATE {
                    let text = queues
                        .not_logged
                        .front()
                        .filter(|pif| pif.zxid() == qp.zxid)
                        .and_then(|pif| reconfig_text(&pif.entry));
                    let leader = designated_leader(qp.data.as_deref())?;
                    if let Some(text) = text {
                        if epochs.activate_config(&text, Some(leader), Some(qp.zxid)) {
                            return Err(LearnerError::Reconfigured);
                        }
                    }
                }
                if let CommitAction::ApplyNow(entry) = queues.commit(qp.zxid) {
                    db.process_txn(&entry);
                }
            }
            quorum_packet::INFORM | quorum_packet::INFORMANDACTIVATE => {
                let entry = if qp.r#type == quorum_packet::INFORMANDACTIVATE {
                    let (leader, entry) = split_inform_and_activate(qp.data.as_deref())?;
                    if let Some(text) = reconfig_text(&entry) {
                        if epochs.activate_config(&text, Some(leader), Some(qp.zxid)) {
                            return Err(LearnerError::Reconfigured);
                        }
                    }
                    entry
                } else {
                    decode_txn(qp.data.as_deref(), "INFORM")?
                };
                if let Some(entry) = queues.inform(entry)? {
                    db.process_txn(&entry);
                }
            }
            quorum_packet::NEWLEADER => {
                info!("Learner received NEWLEADER message");
                if let Some(data) = qp.data.as_deref().filter(|d| d.len() > 1) {
                    let text = String::from_utf8_lossy(data).into_owned();
                    epochs.proposed_config(&text);
                    new_leader_config = Some(text);
                }
                if snapshot_needed {
                    snapshot(db)?;
                    snapshot_needed = false;
                    *unsaved = false;
                }
                queues.write_to_txn_log = true;
                persist_committed(db, &mut queues)?;
                epochs.set_current_epoch(new_epoch)?;
                info!("Set the current epoch to {}", new_epoch);
                link.set_read_timeout(settings.sync_timeout())?;
                link.write_packet(&packet(quorum_packet::ACK, new_leader_zxid, None))?;
                info!(
                    "Sent NEWLEADER ack to leader with zxid {:x}",
                    new_leader_zxid
                );
            }
            quorum_packet::UPTODATE => {
                info!("Learner received UPTODATE message");
                if let Some(text) = new_leader_config.take() {
                    if epochs.activate_config(&text, None, None) {
                        return Err(LearnerError::Reconfigured);
                    }
                }
                if snapshot_needed {
                    // A pre-Zab-1.0 leader never sent NEWLEADER.
                    snapshot(db)?;
                    *unsaved = false;
                    epochs.set_current_epoch(new_epoch)?;
                }
                break;
            }
            other => warn!("Ignoring {} during sync", type_name(other)),
        }
    }
    link.write_packet(&packet(quorum_packet::ACK, make_zxid(new_epoch, 0), None))?;
    Ok(SyncOutcome {
        not_logged: queues.not_logged,
        committed: queues.committed,
        mode: Some(mode),
    })
}

/// DIFF, TRUNC or SNAP: brings the database to the leader's starting point.
fn apply_first_packet(
    link: &mut LeaderLink,
    db: &ZkDatabase,
    qp: &crate::jute::quorum::QuorumPacket,
) -> Result<SyncMode, LearnerError> {
    match qp.r#type {
        quorum_packet::DIFF => {
            info!("Getting a diff from the leader 0x{:x}", qp.zxid);
            Ok(SyncMode::Diff)
        }
        quorum_packet::SNAP => {
            info!("Getting a snapshot from leader 0x{:x}", qp.zxid);
            load_snapshot_stream(link, db, qp.zxid)?;
            Ok(SyncMode::Snap)
        }
        quorum_packet::TRUNC => {
            warn!(
                "Truncating log to get in sync with the leader 0x{:x}",
                qp.zxid
            );
            if let Err(e) = db.truncate_log(qp.zxid) {
                error!("Not able to truncate the log 0x{:x}: {}", qp.zxid, e);
                std::process::exit(super::learner::EXIT_QUORUM_PACKET_ERROR);
            }
            db.set_last_processed_zxid(qp.zxid);
            Ok(SyncMode::Trunc)
        }
        other => {
            error!(
                "Got unexpected packet from leader: {}, exiting ... ",
                type_name(other)
            );
            Err(LearnerError::Protocol(format!(
                "unexpected first sync packet {}",
                type_name(other)
            )))
        }
    }
}

/// Reads the snapshot that follows SNAP and replaces the database with it.
fn load_snapshot_stream(
    link: &mut LeaderLink,
    db: &ZkDatabase,
    zxid: i64,
) -> Result<(), LearnerError> {
    let ia = &mut link.reader;
    let decode =
        |what: &str, e: jute::Error| LearnerError::Decode(format!("the snapshot's {}", what), e);
    let count = ia.read_int().map_err(|e| decode("session count", e))?;
    let mut sessions = Vec::with_capacity(count.clamp(0, 1 << 16) as usize);
    for _ in 0..count.max(0) {
        let id = ia.read_long().map_err(|e| decode("sessions", e))?;
        let timeout = ia.read_int().map_err(|e| decode("sessions", e))?;
        sessions.push((id, timeout));
    }
    let tree = DataTree::deserialize(ia).map_err(|e| decode("data tree", e))?;
    let signature = ia.read_string().map_err(|e| decode("signature", e))?;
    if signature != quorum_packet::SNAP_SIGNATURE {
        error!("Missing signature. Got {}", signature);
        return Err(LearnerError::Protocol("Missing signature".into()));
    }
    replace_database(db, tree, &sessions, zxid);
    Ok(())
}

/// Swaps in a tree received from the leader (keeping the server's event
/// ACL filter) and its session table.
pub fn replace_database(db: &ZkDatabase, mut tree: DataTree, sessions: &[(i64, i32)], zxid: i64) {
    {
        let mut current = db.tree.write();
        tree.set_event_acl_filter(current.event_acl_filter());
        tree.set_last_processed_zxid(zxid);
        *current = tree;
    }
    for old in db.sessions_with_timeouts().keys() {
        db.remove_session(*old);
    }
    for (id, timeout) in sessions {
        db.add_session(*id, *timeout);
    }
    info!(
        "Loaded the leader's snapshot: {} sessions, last zxid 0x{:x}",
        sessions.len(),
        zxid
    );
}

/// The NEWLEADER snapshot (after SNAP or TRUNC).
fn snapshot(db: &ZkDatabase) -> Result<(), LearnerError> {
    db.take_snapshot()
        .map(|_| ())
        .map_err(|e| LearnerError::Persistence("taking the sync snapshot", e))
}

/// 3.9.5: the committed proposals are appended, applied and fsynced before
/// NEWLEADER is acknowledged.
fn persist_committed(db: &ZkDatabase, queues: &mut SyncQueues) -> Result<(), LearnerError> {
    if queues.committed.is_empty() {
        return Ok(());
    }
    let started = std::time::Instant::now();
    for entry in queues.take_committed() {
        db.append(&entry)
            .map_err(|e| LearnerError::Persistence("logging a sync txn", e))?;
        db.process_txn(&entry);
    }
    db.commit()
        .map_err(|e| LearnerError::Persistence("fsync of the sync txns", e))?;
    info!(
        "It took {}ms to persist and commit txns in packetsCommitted. {} outstanding txns left in packetsNotLogged",
        started.elapsed().as_millis(),
        queues.not_logged.len()
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::jute::txn::{CreateSessionTxn, TxnBody, TxnHeader};

    fn txn(zxid: i64) -> TxnLogEntry {
        TxnLogEntry {
            header: TxnHeader {
                client_id: 1,
                cxid: 0,
                zxid,
                time: 0,
                r#type: -10,
            },
            body: TxnBody::CreateSession(CreateSessionTxn { time_out: 3000 }),
            digest: None,
        }
    }

    #[test]
    fn proposals_must_be_continuous_within_an_epoch() {
        assert_eq!(
            enforce_continuous_proposal(0, 0x1_0000_0005).unwrap(),
            0x1_0000_0005
        );
        assert_eq!(
            enforce_continuous_proposal(0x1_0000_0005, 0x1_0000_0006).unwrap(),
            0x1_0000_0006
        );
        assert!(enforce_continuous_proposal(0x1_0000_0005, 0x1_0000_0007).is_err());
        assert_eq!(
            enforce_continuous_proposal(0x1_0000_0005, 0x2_0000_0001).unwrap(),
            0x2_0000_0001
        );
    }

    #[test]
    fn snap_mode_applies_commits_at_once() {
        let mut q = SyncQueues::default();
        q.proposal(txn(0x1_0000_0001)).unwrap();
        q.proposal(txn(0x1_0000_0002)).unwrap();
        assert_eq!(
            q.commit(0x1_0000_0002),
            CommitAction::Ignored,
            "not the oldest"
        );
        assert_eq!(
            q.commit(0x1_0000_0001),
            CommitAction::ApplyNow(txn(0x1_0000_0001))
        );
        assert_eq!(q.not_logged.len(), 1);
        assert!(q.committed.is_empty());
    }

    #[test]
    fn diff_mode_queues_commits_until_newleader() {
        let mut q = SyncQueues {
            write_to_txn_log: true,
            ..SyncQueues::default()
        };
        for z in 1..=3 {
            q.proposal(txn(0x1_0000_0000 + z)).unwrap();
        }
        assert_eq!(q.commit(0x1_0000_0001), CommitAction::Queued);
        assert_eq!(q.commit(0x1_0000_0002), CommitAction::Queued);
        let applied: Vec<i64> = q.take_committed().iter().map(|e| e.header.zxid).collect();
        assert_eq!(applied, vec![0x1_0000_0001, 0x1_0000_0002]);
        assert_eq!(
            q.not_logged.len(),
            1,
            "the uncommitted proposal stays queued"
        );
        assert_eq!(q.not_logged[0].zxid(), 0x1_0000_0003);
    }

    #[test]
    fn inform_before_newleader_applies_in_memory() {
        let mut q = SyncQueues::default();
        assert_eq!(
            q.inform(txn(0x1_0000_0001)).unwrap(),
            Some(txn(0x1_0000_0001))
        );
        q.write_to_txn_log = true;
        assert_eq!(q.inform(txn(0x1_0000_0002)).unwrap(), None);
        assert_eq!(q.committed, VecDeque::from(vec![0x1_0000_0002]));
    }

    #[test]
    fn sync_mode_names() {
        assert_eq!(SyncMode::Diff.name(), "diff");
        assert_eq!(SyncMode::Snap.name(), "snap");
        assert_eq!(SyncMode::Trunc.name(), "trunc");
    }
}
