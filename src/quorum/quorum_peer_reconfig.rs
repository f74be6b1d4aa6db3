//! The peer's two configs and how a new one takes effect: the committed
//! config (who votes now) and the last-seen one (a proposed config, or the
//! version a new leader is about to establish), their files on disk, and
//! `process_reconfig`, which activates a config when a reconfig commits,
//! when a leader's NEWLEADER config is confirmed by UPTODATE, or when an
//! election notification carries a newer config.
//!
//! Threads: both views sit behind one lock ([`SharedViews`], Java's
//! `QV_LOCK`), shared with the election transport (which dials the
//! members of both). Writers: the QuorumPeer thread (roles), the election
//! receiver (a newer config from a notification), the leader's commit
//! path. The files are written under the same lock, so two activations
//! never interleave their writes.
//!
//! Mirrors: `QuorumPeer` (getQuorumVerifier, getLastSeenQuorumVerifier,
//! setQuorumVerifier, setLastSeenQuorumVerifier, processReconfig,
//! updateLearnerType, updateVote, restartLeaderElection,
//! initConfigInZKDatabase, reconfigFlag).

use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;
use std::sync::Arc;

use log::{error, info, warn};
use parking_lot::Mutex;

use super::flexible::{QuorumVerifier, VerifierError};
use super::quorum_peer::QuorumPeer;
use super::quorum_server::LearnerType;
use super::vote::Vote;
use crate::config::properties::Properties;
use crate::config::quorum_peer_config_files as files;

/// The committed and the last-seen config.
#[derive(Debug, Clone)]
pub struct QuorumViews {
    /// Who votes now.
    pub committed: Arc<QuorumVerifier>,
    /// The newest config heard of (equal to `committed` unless a reconfig
    /// or a new leader's version is pending).
    pub last_seen: Arc<QuorumVerifier>,
}

impl QuorumViews {
    /// Both views the same config.
    pub fn new(committed: Arc<QuorumVerifier>) -> QuorumViews {
        QuorumViews {
            last_seen: Arc::clone(&committed),
            committed,
        }
    }

    /// True when `sid` is a member of either config.
    pub fn knows(&self, sid: i64) -> bool {
        self.committed.all_members().contains_key(&sid)
            || self.last_seen.all_members().contains_key(&sid)
    }

    /// The host of a member's (first) server-line address, from the
    /// committed config or else the newest one heard of: what quorum SASL
    /// puts in for `_HOST`.
    pub fn member_host(&self, sid: i64) -> String {
        (self.committed.all_members().get(&sid))
            .or_else(|| self.last_seen.all_members().get(&sid))
            .and_then(|m| m.addresses.first())
            .map(|a| a.host.clone())
            .unwrap_or_default()
    }

    /// Voters of both configs (notifications go to all of them).
    pub fn all_voters(&self) -> std::collections::BTreeSet<i64> {
        let mut v = self.committed.voters();
        v.extend(self.last_seen.voters());
        v
    }
}

/// The views, shared by the peer and its election transport.
pub type SharedViews = Arc<Mutex<QuorumViews>>;

/// Reconfig settings of a peer (zoo.cfg).
#[derive(Debug, Clone, Default)]
pub struct ReconfigSettings {
    /// `reconfigEnabled`.
    pub enabled: bool,
    /// zoo.cfg's path (the dynamic files live beside it); `None` in tests.
    pub config_file: Option<PathBuf>,
    /// `multiAddress.enabled` (how server strings are parsed).
    pub multi_address: bool,
}

/// `configFromString`: a config text (as in notifications, NEWLEADER and
/// the reconfig txn) to a verifier.
pub fn config_from_string(
    text: &str,
    multi_address: bool,
) -> Result<QuorumVerifier, VerifierError> {
    let props = Properties::parse(text).map_err(|e| VerifierError {
        key: "config".into(),
        reason: e.to_string(),
    })?;
    let pairs: Vec<(String, String)> = props
        .effective()
        .into_iter()
        .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
        .collect();
    QuorumVerifier::from_pairs(&pairs, multi_address)
}

/// Java's `QuorumVerifier.equals`: the same version, or the same members
/// (addresses and roles) and rule.
pub fn same_config(a: &QuorumVerifier, b: &QuorumVerifier) -> bool {
    if a.version() == b.version() {
        return true;
    }
    let text = |q: &QuorumVerifier| {
        let mut t = q.to_string();
        if let Some(i) = t.rfind("version=") {
            t.truncate(i);
        }
        t
    };
    text(a) == text(b)
}

/// `updateLearnerType`'s decision: my role in `qv` (a server missing from
/// it is a non-voting participant).
pub fn learner_type_in(qv: &QuorumVerifier, my_id: i64) -> LearnerType {
    match qv.all_members().get(&my_id) {
        Some(s) if !s.is_participant() => LearnerType::Observer,
        _ => LearnerType::Participant,
    }
}

/// Without a designated leader: must I look for a new leader because my
/// leader is no longer a voter at the same quorum address?
pub fn leader_changed(prev: &QuorumVerifier, new: &QuorumVerifier, leader: i64) -> bool {
    let voter = |q: &QuorumVerifier| {
        q.all_members()
            .get(&leader)
            .filter(|s| s.is_participant())
            .map(|s| s.quorum_addrs())
    };
    match (voter(prev), voter(new)) {
        (Some(a), Some(b)) => a != b,
        _ => true,
    }
}

impl QuorumPeer {
    /// The committed config.
    pub fn quorum_verifier(&self) -> Arc<QuorumVerifier> {
        Arc::clone(&self.views.lock().committed)
    }

    /// The last-seen config.
    pub fn last_seen_quorum_verifier(&self) -> Arc<QuorumVerifier> {
        Arc::clone(&self.views.lock().last_seen)
    }

    /// The shared views (the election transport dials their members).
    pub fn shared_views(&self) -> SharedViews {
        Arc::clone(&self.views)
    }

    /// `reconfigEnabled`.
    pub fn is_reconfig_enabled(&self) -> bool {
        self.reconfig.enabled
    }

    /// Parses a config text with this peer's address rules.
    pub fn config_from_string(&self, text: &str) -> Result<QuorumVerifier, VerifierError> {
        config_from_string(text, self.reconfig.multi_address)
    }

    /// Records a proposed config (written to `.dynamic.next`); ignored
    /// without `reconfigEnabled`, or when its version is already known.
    pub fn set_last_seen_quorum_verifier(&self, qv: QuorumVerifier, write_to_disk: bool) {
        set_last_seen(&self.views, &self.reconfig, qv, write_to_disk)
    }

    /// Makes `qv` the committed config (unless it is not newer); writes
    /// its dynamic file and points zoo.cfg at it. Returns the previous
    /// committed config.
    pub fn set_quorum_verifier(
        &self,
        qv: QuorumVerifier,
        write_to_disk: bool,
    ) -> Arc<QuorumVerifier> {
        set_committed(&self.views, &self.reconfig, self.my_id, qv, write_to_disk)
    }

    /// The reconfig settings (the leader records proposals with them).
    pub fn reconfig_settings(&self) -> ReconfigSettings {
        self.reconfig.clone()
    }

    /// On the leader, after it activated a committed reconfig itself
    /// (`prev` was the committed config): my role and my vote follow the
    /// new config and its designated leader. True when the role must end.
    pub fn leader_activated(&self, prev: &QuorumVerifier, designated: i64, zxid: i64) -> bool {
        let new = self.quorum_verifier();
        if same_config(prev, &new) {
            return false;
        }
        self.init_config_in_zk_database();
        self.follow_my_addresses(&new);
        let role_change = self.update_learner_type(&new);
        let leader_change = self.update_vote(designated, zxid);
        role_change || leader_change
    }

    /// Activates `qv` (a committed reconfig, or a config confirmed by a
    /// leader): the committed config, its files, `/zookeeper/config`, my
    /// role and my leader. True when this role must end (my role or my
    /// leader changed).
    pub fn process_reconfig(
        &self,
        qv: QuorumVerifier,
        suggested_leader: Option<i64>,
        zxid: Option<i64>,
        restart_election: bool,
    ) -> bool {
        if !self.reconfig.enabled {
            return false;
        }
        let new = Arc::new(qv.clone());
        let prev = self.set_quorum_verifier(qv, true);
        self.init_config_in_zk_database();
        if prev.version() >= new.version() || same_config(&prev, &new) {
            return false;
        }
        if restart_election {
            self.restart_election.store(true, Ordering::SeqCst);
        }
        self.follow_my_addresses(&new);
        let role_change = self.update_learner_type(&new);
        let leader_change = match suggested_leader {
            Some(leader) => self.update_vote(leader, zxid.unwrap_or(0)),
            None => {
                self.reconfig_flag.store(false, Ordering::SeqCst);
                leader_changed(&prev, &new, self.current_vote().id)
            }
        };
        role_change || leader_change
    }

    /// Writes the committed config into `/zookeeper/config` (mzxid = its
    /// version), when the roles' database is attached.
    pub fn init_config_in_zk_database(&self) {
        if let Some(ctx) = self.role_context() {
            let qv = self.quorum_verifier();
            ctx.db
                .init_config_in_zk_database(&qv.to_string(), qv.version());
        }
    }

    /// What to call when a config becomes active (the election transport
    /// moving to my new election address).
    pub fn on_config_activated(&self, f: Box<dyn Fn() + Send + Sync>) {
        *self.on_activated.lock() = Some(f);
    }

    /// My addresses in `qv`: the election transport follows my election
    /// address, and the client port my client address (when my line has
    /// one), each only if it moved.
    fn follow_my_addresses(&self, qv: &QuorumVerifier) {
        if let Some(f) = self.on_activated.lock().as_ref() {
            f();
        }
        let Some(addr) = qv
            .all_members()
            .get(&self.my_id)
            .and_then(|s| s.client_addr.as_ref())
        else {
            return;
        };
        let Some(ctx) = self.role_context() else {
            return;
        };
        match addr.resolve() {
            Ok(addr) => ctx.serving.reconfigure_client_port(addr),
            Err(e) => warn!(
                "Cannot resolve my new client address {}: {}",
                addr.to_wire(),
                e
            ),
        }
    }

    fn update_learner_type(&self, qv: &QuorumVerifier) -> bool {
        let new = learner_type_in(qv, self.my_id);
        let mut current = self.learner_type.lock();
        if *current == new {
            return false;
        }
        *current = new;
        drop(current);
        info!(
            "Becoming {}",
            match (new, qv.all_members().contains_key(&self.my_id)) {
                (LearnerType::Observer, _) => "an observer",
                (_, true) => "a voting participant",
                _ => "a non-voting participant",
            }
        );
        self.reconfig_flag.store(true, Ordering::SeqCst);
        true
    }

    fn update_vote(&self, designated_leader: i64, zxid: i64) -> bool {
        let vote = self.current_vote();
        if designated_leader == vote.id {
            return false;
        }
        self.set_current_vote(Vote::new(
            designated_leader,
            zxid,
            vote.election_epoch,
            vote.peer_epoch,
        ));
        self.reconfig_flag.store(true, Ordering::SeqCst);
        warn!("Suggested leader: {}", designated_leader);
        true
    }
}

/// `setLastSeenQuorumVerifier` over the shared views.
pub fn set_last_seen(
    views: &SharedViews,
    settings: &ReconfigSettings,
    qv: QuorumVerifier,
    write_to_disk: bool,
) {
    if !settings.enabled {
        info!("Dynamic reconfig is disabled, we don't store the last seen config.");
        return;
    }
    let mut views = views.lock();
    if views.last_seen.version() > qv.version() {
        error!(
            "setLastSeenQuorumVerifier called with stale config {:x}. Current version: {:x}",
            qv.version(),
            views.committed.version()
        );
    }
    if views.last_seen.version() == qv.version() {
        return;
    }
    if write_to_disk {
        if let Some(cfg) = &settings.config_file {
            let path = files::next_dynamic_config_filename(cfg);
            let text = files::dynamic_config_text(&qv.to_string(), true);
            if let Err(e) = files::write_atomically(&path, text.as_bytes()) {
                error!("Error writing next dynamic config file to disk: {}", e);
            }
        }
    }
    views.last_seen = Arc::new(qv);
}

/// `setQuorumVerifier` over the shared views: returns the previous
/// committed config (the current one when `qv` is not newer).
pub fn set_committed(
    views: &SharedViews,
    settings: &ReconfigSettings,
    my_id: i64,
    qv: QuorumVerifier,
    write_to_disk: bool,
) -> Arc<QuorumVerifier> {
    let mut views = views.lock();
    if views.committed.version() >= qv.version() {
        return Arc::clone(&views.committed);
    }
    let prev = Arc::clone(&views.committed);
    let qv = Arc::new(qv);
    views.committed = Arc::clone(&qv);
    if qv.version() > views.last_seen.version() {
        views.last_seen = Arc::clone(&qv);
    }
    if let (true, Some(cfg)) = (write_to_disk, &settings.config_file) {
        if let Err(e) = write_config_files(cfg, &qv, my_id) {
            error!("Error writing the dynamic config files: {}", e);
        }
    }
    if qv.version() == views.last_seen.version() {
        if let Some(cfg) = &settings.config_file {
            files::delete_file(&files::next_dynamic_config_filename(cfg));
        }
    }
    info!(
        "Quorum config 0x{:x} active: {} voters, {} members",
        qv.version(),
        qv.voters().len(),
        qv.all_members().len()
    );
    prev
}

/// Writes `<cfg>.dynamic.<version>` and rewrites zoo.cfg to point at it
/// (keeping the client-port keys unless my server line carries my client
/// address).
fn write_config_files(cfg: &Path, qv: &QuorumVerifier, my_id: i64) -> std::io::Result<()> {
    let dynamic = files::dynamic_config_filename(cfg, qv.version());
    let text = files::dynamic_config_text(&qv.to_string(), false);
    files::write_atomically(&dynamic, text.as_bytes())?;
    let erase_client = qv
        .all_members()
        .get(&my_id)
        .is_some_and(|s| s.client_addr.is_some() && !s.client_addr_from_static);
    let static_text = std::fs::read(cfg)?;
    let static_text: String = static_text.iter().map(|&b| b as char).collect();
    let edited = files::edit_static_config(&static_text, &files::canonical(&dynamic), erase_client);
    files::write_atomically(cfg, edited.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn qv(text: &str) -> QuorumVerifier {
        config_from_string(text, false).unwrap()
    }

    const THREE: &str = "server.1=127.0.0.1:2001:3001:participant;2181\n\
                         server.2=127.0.0.1:2002:3002:participant;2182\n\
                         server.3=127.0.0.1:2003:3003:participant;2183\nversion=100000000";

    #[test]
    fn parses_config_text() {
        let q = qv(THREE);
        assert_eq!(q.version(), 0x1_0000_0000);
        assert_eq!(q.voters().len(), 3);
        assert!(config_from_string("server.x=1", false).is_err());
    }

    #[test]
    fn equality_ignores_version_only_when_members_match() {
        let a = qv(THREE);
        let b = qv(&THREE.replace("version=100000000", "version=100000003"));
        assert!(same_config(&a, &b));
        let c = qv(&THREE
            .replace("2003:3003:participant", "2003:3003:observer")
            .replace("version=100000000", "version=100000004"));
        assert!(!same_config(&a, &c));
    }

    #[test]
    fn roles_and_leader_changes() {
        let a = qv(THREE);
        let observer3 = qv(&THREE
            .replace("2003:3003:participant", "2003:3003:observer")
            .replace("version=100000000", "version=100000004"));
        assert_eq!(learner_type_in(&observer3, 3), LearnerType::Observer);
        assert_eq!(learner_type_in(&observer3, 2), LearnerType::Participant);
        assert_eq!(learner_type_in(&observer3, 9), LearnerType::Participant);
        assert!(!leader_changed(&a, &observer3, 1));
        assert!(leader_changed(&a, &observer3, 3));
        let moved = qv(&THREE
            .replace("2001:3001", "2011:3011")
            .replace("version=100000000", "version=100000005"));
        assert!(leader_changed(&a, &moved, 1));
    }

    #[test]
    fn views_know_members_of_both_configs() {
        let mut v = QuorumViews::new(Arc::new(qv(THREE)));
        assert!(!v.knows(4));
        v.last_seen = Arc::new(qv(&format!(
            "{}\nserver.4=127.0.0.1:2004:3004:participant;2184\nversion=100000001",
            THREE.trim_end_matches("version=100000000").trim_end()
        )));
        assert!(v.knows(4));
        assert_eq!(v.all_voters().len(), 4);
    }
}
