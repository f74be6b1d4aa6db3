//! A follower serving observers (`observerMasterPort` on a participant),
//! so that observers do not load the leader: the follower accepts
//! observers on that port, syncs each from its own committed log
//! (DIFF/TRUNC/SNAP, as the leader would), then relays to them, as
//! INFORM, every txn the leader commits (the follower keeps each PROPOSAL
//! until its COMMIT, and a bounded cache of committed ones to catch up an
//! observer that connects). The observers' requests and revalidations go
//! to the leader over the follower's own link, and their sessions' touches
//! ride on the follower's ping replies.
//!
//! Threads: the "ObserverMaster" acceptor (a [`LearnerCnxAcceptor`]), one
//! LearnerHandler thread (plus its sender) per observer, and a pinger
//! that pings the observers every half tick. The follower's role thread
//! calls [`ObserverMaster::proposal_received`] and
//! [`ObserverMaster::proposal_committed`] as it reads the leader's
//! packets; the relay state is behind one lock, which a handler also
//! holds while it decides its sync and joins the stream, so no commit
//! falls between the two.
//!
//! Mirrors: `org.apache.zookeeper.server.quorum.ObserverMaster`.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::sync::Arc;
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use log::{debug, error, info, warn};
use parking_lot::Mutex;

use super::auth::sasl_quorum_auth_server::SaslQuorumAuthServer;
use super::leader::LeaderError;
use super::learner::LeaderWriter;
use super::learner_cnx_acceptor::LearnerCnxAcceptor;
use super::learner_handler::{LearnerPeer, Out};
use super::learner_master::{queue_sync, LearnerMaster, SnapStart};
use super::learner_sync_throttler::{LearnerSyncThrottler, SyncType};
use super::learner_zookeeper_server::LearnerZooKeeperServer;
use super::quorum_packet::{self as qp, packet};
use super::quorum_peer::{QuorumPeer, RoleContext, ZabTiming};
use super::quorum_peer_reconfig::SharedViews;
use super::quorum_server::HostPort;
use crate::config::quorum_tls::QuorumTls;
use crate::server::request::Request;
use crate::server::role_monitor::ObserverInfo;
use crate::server::zk_database::ZkDatabase;
use crate::server::zookeeper_server::ZooKeeperServer;

/// What a follower needs to serve observers, taken from the peer when the
/// role starts (`None` without `observerMasterPort`).
#[derive(Clone)]
pub struct ObserverMasterSettings {
    /// Where to listen: my quorum host(s) at `observerMasterPort`.
    pub addrs: Vec<HostPort>,
    /// `quorumListenOnAllIPs`.
    pub listen_on_all_ips: bool,
    /// `sslQuorum` (and port unification).
    pub tls: Option<Arc<QuorumTls>>,
    /// Quorum SASL, as the leader checks its learners.
    pub auth: Option<Arc<SaslQuorumAuthServer>>,
    /// The peer's configs (NEWLEADER's text, the version, member lines).
    pub views: SharedViews,
    /// tickTime, initLimit, syncLimit.
    pub timing: ZabTiming,
    /// `zookeeper.forceSnapshotSync`.
    pub force_snap: bool,
    /// `maxConcurrentSnapSyncs` / `maxConcurrentDiffSyncs`.
    pub max_snap_syncs: i32,
    pub max_diff_syncs: i32,
    /// `zookeeper.observerMaster.sizeLimit`.
    pub size_limit: usize,
}

/// The ObserverMaster settings of a participant with `observerMasterPort`.
pub fn settings_of(peer: &QuorumPeer, ctx: &RoleContext) -> Option<ObserverMasterSettings> {
    let port = ctx.config.observer_master_port?;
    let addrs = peer
        .my_quorum_addrs()
        .into_iter()
        .map(|hp| HostPort {
            host: hp.host,
            port,
        })
        .collect();
    Some(ObserverMasterSettings {
        addrs,
        listen_on_all_ips: peer.role_settings().listen_on_all_ips,
        tls: ctx.config.quorum_tls.clone(),
        auth: ctx
            .config
            .quorum_auth
            .as_ref()
            .map(|c| Arc::new(SaslQuorumAuthServer::new(c))),
        views: peer.shared_views(),
        timing: ctx.timing(),
        force_snap: ctx.config.force_snapshot_sync,
        max_snap_syncs: ctx.config.max_concurrent_snap_syncs,
        max_diff_syncs: ctx.config.max_concurrent_diff_syncs,
        size_limit: ctx.config.observer_master_size_limit,
    })
}

/// Proposals waiting for their commit, and committed ones kept for
/// observers that connect.
#[derive(Default)]
struct Relay {
    /// PROPOSALs of the leader not yet committed: zxid and txn bytes.
    proposed: VecDeque<(i64, Arc<Vec<u8>>)>,
    /// Committed packets sent to observers: type, zxid, data.
    committed: VecDeque<(i32, i64, Arc<Vec<u8>>)>,
    /// Their total size (Java's estimate).
    committed_bytes: usize,
    /// The last zxid relayed.
    last_proposed: i64,
    /// Observers fed from the stream.
    active: Vec<Arc<LearnerPeer>>,
}

/// Java's estimate of a packet's size (fixed fields plus data).
fn packet_size(data: &[u8]) -> usize {
    4 + 8 + 8 + 8 + data.len()
}

/// Where an observer's stream begins after its sync at `last_seen`, given
/// the zxids of the committed cache (oldest first): `Err` when the cache
/// has lost txns the observer lacks (it must reconnect and sync anew),
/// else the index of the first cached packet to send.
pub fn catch_up_from(cached: &[i64], last_seen: i64) -> Result<usize, i64> {
    match cached.first() {
        Some(head) if *head > last_seen + 1 => Err(*head),
        _ => Ok(cached.partition_point(|z| *z <= last_seen)),
    }
}

/// A follower's ObserverMaster.
pub struct ObserverMaster {
    settings: ObserverMasterSettings,
    /// The follower's database.
    db: Arc<ZkDatabase>,
    /// The follower's currentEpoch (the leader's epoch).
    epoch: i64,
    /// The last zxid the follower committed in its own sync: an observer
    /// is synced from the database once it has applied that far (later
    /// commits are in the relay's cache).
    floor: i64,
    /// The follower's server (observers' requests enter its pipeline).
    zks: Arc<ZooKeeperServer>,
    /// Touches for the follower's next ping reply.
    touches: Box<dyn Fn(i64, i32) + Send + Sync>,
    /// The follower's link to the leader (REVALIDATE).
    leader: Arc<LeaderWriter>,
    snap_throttler: LearnerSyncThrottler,
    diff_throttler: LearnerSyncThrottler,
    relay: Mutex<Relay>,
    /// Every connected observer, synced or not.
    learners: Mutex<Vec<Arc<LearnerPeer>>>,
    /// REVALIDATEs forwarded for observers, in the order sent.
    revalidations: Mutex<VecDeque<(i64, i32, Arc<LearnerPeer>)>>,
    running: AtomicBool,
    anon_sid: AtomicI64,
    /// The acceptor and the pinger, stopped by [`ObserverMaster::stop`].
    threads: Mutex<Option<(LearnerCnxAcceptor, JoinHandle<()>)>>,
}

impl ObserverMaster {
    /// Starts serving observers next to the follower's `server`, synced
    /// up to `floor`, with `pending` proposals (zxid, txn bytes) of its
    /// sync still waiting for their COMMIT.
    pub fn start(
        settings: ObserverMasterSettings,
        epoch: i64,
        server: &LearnerZooKeeperServer,
        leader: Arc<LeaderWriter>,
        floor: i64,
        pending: Vec<(i64, Vec<u8>)>,
    ) -> std::io::Result<Arc<ObserverMaster>> {
        info!("Starting ObserverMaster");
        let role = server.role_handle();
        let relay = Relay {
            proposed: pending.into_iter().map(|(z, d)| (z, Arc::new(d))).collect(),
            last_proposed: floor,
            ..Relay::default()
        };
        let om = Arc::new(ObserverMaster {
            db: Arc::clone(server.zk_database()),
            epoch,
            floor,
            zks: Arc::clone(&server.zks),
            touches: Box::new(move |s, t| role.touch_learner_session(s, t)),
            leader,
            snap_throttler: LearnerSyncThrottler::new(SyncType::Snap, settings.max_snap_syncs),
            diff_throttler: LearnerSyncThrottler::new(SyncType::Diff, settings.max_diff_syncs),
            relay: Mutex::new(relay),
            learners: Mutex::new(Vec::new()),
            revalidations: Mutex::new(VecDeque::new()),
            running: AtomicBool::new(true),
            anon_sid: AtomicI64::new(-1),
            threads: Mutex::new(None),
            settings,
        });
        let acceptor = LearnerCnxAcceptor::start(
            Arc::clone(&om) as Arc<dyn LearnerMaster>,
            &om.settings.addrs,
            om.settings.listen_on_all_ips,
            om.settings.tls.clone(),
        )?;
        let pinger = {
            let om = Arc::clone(&om);
            thread::Builder::new()
                .name("ObserverMasterPinger".into())
                .spawn(move || om.ping_loop())?
        };
        *om.threads.lock() = Some((acceptor, pinger));
        Ok(om)
    }

    /// Stops accepting and drops every observer (they move to another
    /// master).
    pub fn stop(&self) {
        if !self.running.swap(false, Ordering::SeqCst) {
            return;
        }
        if let Some((acceptor, pinger)) = self.threads.lock().take() {
            acceptor.stop();
            let _ = pinger.join();
        }
        let learners: Vec<Arc<LearnerPeer>> = self.learners.lock().drain(..).collect();
        for l in learners {
            l.shutdown();
        }
        self.relay.lock().active.clear();
    }

    /// A PROPOSAL from the leader: kept until its COMMIT.
    pub fn proposal_received(&self, zxid: i64, data: &[u8]) {
        self.relay
            .lock()
            .proposed
            .push_back((zxid, Arc::new(data.to_vec())));
    }

    /// A COMMIT from the leader: relayed as INFORM.
    pub fn proposal_committed(&self, zxid: i64) {
        let mut r = self.relay.lock();
        if let Some(data) = take_proposed(&mut r, zxid) {
            self.relay_committed(&mut r, qp::INFORM, zxid, data);
        }
    }

    /// A COMMITANDACTIVATE: relayed as INFORMANDACTIVATE (the designated
    /// leader's sid, then the txn).
    pub fn inform_and_activate(&self, zxid: i64, designated_leader: i64) {
        let mut r = self.relay.lock();
        if let Some(data) = take_proposed(&mut r, zxid) {
            let mut bytes = Vec::with_capacity(8 + data.len());
            bytes.extend_from_slice(&designated_leader.to_be_bytes());
            bytes.extend_from_slice(&data);
            self.relay_committed(&mut r, qp::INFORMANDACTIVATE, zxid, Arc::new(bytes));
        }
    }

    /// The leader's REVALIDATE answer: true when it was for an observer
    /// (then relayed to it), false when it is the follower's own.
    pub fn revalidate_answered(&self, session_id: i64, valid: bool, data: &[u8]) -> bool {
        let mut pending = self.revalidations.lock();
        match pending.front() {
            Some((id, _, _)) if *id == session_id => {}
            _ => return false,
        }
        let Some((_, timeout, peer)) = pending.pop_front() else {
            return false;
        };
        drop(pending);
        peer.queue(Out::Packet(packet(qp::REVALIDATE, -1, Some(data.to_vec()))));
        if valid {
            (self.touches)(session_id, timeout);
        }
        true
    }

    /// Observers in the stream (`observers`' `synced_observers`).
    pub fn active_count(&self) -> usize {
        self.relay.lock().active.len()
    }

    /// The observers' links, as `observers` lists them.
    pub fn observers_info(&self) -> Vec<ObserverInfo> {
        self.relay.lock().active.iter().map(|l| l.info()).collect()
    }

    /// Zeroes the observers' counters (`orst`).
    pub fn reset_observer_stats(&self) {
        for l in self.relay.lock().active.iter() {
            l.reset_stats();
        }
    }

    fn relay_committed(&self, r: &mut Relay, t: i32, zxid: i64, data: Arc<Vec<u8>>) {
        r.committed_bytes += packet_size(&data);
        r.committed.push_back((t, zxid, Arc::clone(&data)));
        // Trim ahead of the limit (five out per one in), then to it.
        let mut trimmed = 0;
        while r.committed_bytes as f64 > self.settings.size_limit as f64 * 0.8 && trimmed < 5 {
            if !pop_oldest(r) {
                break;
            }
            trimmed += 1;
        }
        while r.committed_bytes > self.settings.size_limit {
            if !pop_oldest(r) {
                break;
            }
        }
        for l in &r.active {
            l.queue(Out::Txn(t, zxid, Arc::clone(&data)));
        }
        r.last_proposed = zxid;
    }

    /// Waits (up to initLimit) until the database has applied what the
    /// follower's own sync committed.
    fn wait_for_floor(&self) {
        let deadline = Instant::now() + self.settings.timing.init_timeout();
        while self.db.last_processed_zxid() < self.floor && Instant::now() < deadline {
            if !self.is_running() {
                return;
            }
            thread::sleep(Duration::from_millis(10));
        }
    }

    fn ping_loop(&self) {
        let half = self.settings.timing.tick / 2;
        let mut next = Instant::now() + half;
        while self.running.load(Ordering::SeqCst) {
            let now = Instant::now();
            if next > now {
                thread::sleep((next - now).min(Duration::from_millis(100)));
                continue;
            }
            next += half;
            let (last, active) = {
                let r = self.relay.lock();
                (r.last_proposed, r.active.clone())
            };
            for l in active {
                l.ping(last);
            }
        }
    }
}

/// The oldest committed packet leaves the cache; false when it is empty.
fn pop_oldest(r: &mut Relay) -> bool {
    match r.committed.pop_front() {
        Some((_, _, data)) => {
            r.committed_bytes = r.committed_bytes.saturating_sub(packet_size(&data));
            true
        }
        None => {
            r.committed_bytes = 0;
            false
        }
    }
}

/// The proposal `zxid` commits, taken from the pending ones; `None` when
/// it was proposed before this master started.
fn take_proposed(r: &mut Relay, zxid: i64) -> Option<Arc<Vec<u8>>> {
    match r.proposed.front() {
        Some((z, _)) if *z == zxid => r.proposed.pop_front().map(|(_, d)| d),
        Some((z, _)) if *z < zxid => {
            error!(
                "Unexpected proposal packet on commit ack, expected zxid 0x{:x} got zxid 0x{:x}",
                zxid, z
            );
            // Drop what can never commit now, and look again.
            while r.proposed.front().is_some_and(|(z, _)| *z < zxid) {
                r.proposed.pop_front();
            }
            take_proposed(r, zxid)
        }
        _ => {
            debug!("ignore missing proposal packet for 0x{:x}", zxid);
            None
        }
    }
}

impl LearnerMaster for ObserverMaster {
    fn timing(&self) -> ZabTiming {
        self.settings.timing
    }

    fn auth_server(&self) -> Option<&SaslQuorumAuthServer> {
        self.settings.auth.as_deref()
    }

    fn db(&self) -> &Arc<ZkDatabase> {
        &self.db
    }

    fn is_running(&self) -> bool {
        self.running.load(Ordering::SeqCst)
    }

    fn add_learner(&self, peer: Arc<LearnerPeer>) {
        if self.is_running() {
            self.learners.lock().push(peer);
        } else {
            peer.shutdown();
        }
    }

    fn remove_learner(&self, peer: &Arc<LearnerPeer>) {
        self.learners.lock().retain(|p| !Arc::ptr_eq(p, peer));
        self.relay.lock().active.retain(|p| !Arc::ptr_eq(p, peer));
    }

    fn next_anonymous_sid(&self) -> i64 {
        self.anon_sid.fetch_sub(1, Ordering::SeqCst)
    }

    fn config_version(&self) -> i64 {
        self.settings.views.lock().committed.version()
    }

    fn peer_info(&self, sid: i64) -> Option<String> {
        let views = self.settings.views.lock();
        let member = views
            .committed
            .all_members()
            .get(&sid)
            .map(|s| s.to_string());
        member
    }

    fn get_epoch_to_propose(&self, _sid: i64, _last_accepted: i64) -> Result<i64, LeaderError> {
        Ok(self.epoch)
    }

    fn wait_for_epoch_ack(&self, _sid: i64, _summary: (i64, i64)) -> Result<(), LeaderError> {
        Ok(()) // a synced follower has nothing to wait for
    }

    fn start_sync(&self, peer: &Arc<LearnerPeer>, peer_last_zxid: i64) -> Option<SnapStart> {
        self.wait_for_floor();
        let mut r = self.relay.lock();
        queue_sync(
            &self.db,
            self.settings.force_snap,
            peer,
            peer_last_zxid,
            |last| {
                let cached: Vec<i64> = r.committed.iter().map(|(_, z, _)| *z).collect();
                match catch_up_from(&cached, last) {
                    Err(head) => {
                        error!(
                        "LearnerHandler is too far behind (0x{:x} < 0x{:x}), disconnecting {} at {}",
                        last + 1,
                        head,
                        peer.sid(),
                        peer.addr
                    );
                        peer.shutdown();
                    }
                    Ok(from) => {
                        let mut sent = 0;
                        for (t, z, data) in r.committed.iter().skip(from) {
                            peer.queue(Out::Txn(*t, *z, Arc::clone(data)));
                            sent += 1;
                        }
                        info!(
                        "finished syncing observer from retained commit queue: sid {}, sync position 0x{:x}, num packets used {}",
                        peer.sid(),
                        last,
                        sent
                    );
                        r.active.push(Arc::clone(peer));
                    }
                }
            },
        )
    }

    fn throttler(&self, snap: bool) -> &LearnerSyncThrottler {
        match snap {
            true => &self.snap_throttler,
            false => &self.diff_throttler,
        }
    }

    fn last_proposed(&self) -> i64 {
        self.relay.lock().last_proposed
    }

    fn new_leader_config_text(&self) -> String {
        self.settings.views.lock().last_seen.to_string()
    }

    fn wait_for_new_leader_ack(&self, _sid: i64, _zxid: i64) -> Result<(), LeaderError> {
        Ok(())
    }

    fn wait_for_startup(&self) -> bool {
        self.is_running()
    }

    fn tick_of_initial_ack_deadline(&self) -> i64 {
        i64::MAX
    }

    fn tick_of_next_ack_deadline(&self) -> i64 {
        i64::MAX
    }

    fn process_ack(&self, sid: i64, zxid: i64) {
        if zxid & 0xffff_ffff != 0 {
            warn!(
                "Observers shouldn't send ACKS ack = 0x{:x} (sid {})",
                zxid, sid
            );
        }
    }

    fn touch(&self, session_id: i64, timeout: i32) {
        (self.touches)(session_id, timeout);
    }

    fn revalidate_session(&self, peer: &Arc<LearnerPeer>, session_id: i64, timeout: i32) {
        let mut pending = self.revalidations.lock();
        pending.push_back((session_id, timeout, Arc::clone(peer)));
        let data = qp::encode_revalidate(session_id, timeout);
        if let Err(e) = self
            .leader
            .write_packet(&packet(qp::REVALIDATE, -1, Some(data)))
        {
            warn!("Cannot forward a revalidation to the leader: {}", e);
        }
    }

    fn submit_learner_request(&self, request: Request) {
        if !self.zks.submit_internal(request) {
            warn!("Dropping an observer's request: the follower's pipeline is stopped");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn catch_up_starts_after_the_sync_position() {
        assert_eq!(catch_up_from(&[], 7), Ok(0));
        assert_eq!(catch_up_from(&[5, 6, 7, 8, 9], 7), Ok(3));
        assert_eq!(catch_up_from(&[8, 9], 7), Ok(0));
        assert_eq!(catch_up_from(&[5, 6], 7), Ok(2));
        // 8 was dropped from the cache: the observer cannot be caught up.
        assert_eq!(catch_up_from(&[9, 10], 7), Err(9));
    }

    #[test]
    fn commits_take_their_proposal_and_skip_stale_ones() {
        let mut r = Relay::default();
        for z in [3, 4, 5] {
            r.proposed.push_back((z, Arc::new(vec![z as u8])));
        }
        assert_eq!(take_proposed(&mut r, 2), None);
        assert_eq!(take_proposed(&mut r, 3).as_deref(), Some(&vec![3u8]));
        assert_eq!(take_proposed(&mut r, 5).as_deref(), Some(&vec![5u8]));
        assert!(r.proposed.is_empty());
    }
}
