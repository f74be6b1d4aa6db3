//! Who counts towards a quorum: the member list of the ensemble plus the
//! rule that says whether a set of server ids is enough.
//!
//! [`QuorumVerifier`] is the closed set of rules Java offers: plain
//! majority ([`quorum_maj`]) and weighted groups ([`quorum_hierarchical`]).
//! Pure code, built at startup, read by the election threads.
//!
//! Mirrors: `org.apache.zookeeper.server.quorum.flexible.QuorumVerifier`.

pub mod quorum_hierarchical;
pub mod quorum_maj;

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use super::quorum_server::QuorumServer;
use quorum_hierarchical::QuorumHierarchical;
use quorum_maj::QuorumMaj;

/// Why a member list could not be built.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifierError {
    /// The key at fault.
    pub key: String,
    /// What is wrong with it.
    pub reason: String,
}

impl fmt::Display for VerifierError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.key, self.reason)
    }
}

impl std::error::Error for VerifierError {}

/// The members shared by every rule: `server.N` lines and `version`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Members {
    /// Every server, by id (participants and observers).
    pub all: BTreeMap<i64, QuorumServer>,
    /// The config version (`version=<hex>`; 0 unless reconfig is used).
    pub version: i64,
}

impl Members {
    /// Reads `server.N` and `version` keys; other keys are left to the rule.
    fn accept(
        &mut self,
        key: &str,
        value: &str,
        multi_address: bool,
    ) -> Result<bool, VerifierError> {
        let err = |reason: String| VerifierError {
            key: key.to_string(),
            reason,
        };
        if let Some(sid) = key.strip_prefix("server.") {
            let sid: i64 = sid
                .parse()
                .map_err(|_| err(format!("'{}' is not a server id", sid)))?;
            let server = QuorumServer::parse(sid, value, multi_address).map_err(|e| err(e.0))?;
            self.all.insert(sid, server);
            Ok(true)
        } else if key == "version" {
            self.version = i64::from_str_radix(value, 16)
                .or_else(|_| u64::from_str_radix(value, 16).map(|v| v as i64))
                .map_err(|_| err(format!("'{}' is not a hex version", value)))?;
            Ok(true)
        } else {
            Ok(false)
        }
    }

    /// Ids of the participants.
    pub fn voters(&self) -> BTreeSet<i64> {
        self.all
            .values()
            .filter(|s| s.is_participant())
            .map(|s| s.id)
            .collect()
    }

    /// `server.N=<server string>` lines, ascending by id, each ending in `\n`.
    fn write_servers(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for server in self.all.values() {
            writeln!(f, "server.{}={}", server.id, server)?;
        }
        Ok(())
    }
}

/// The quorum rule in force.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum QuorumVerifier {
    /// More than half of the participants.
    Majority(QuorumMaj),
    /// A majority of weighted groups, each by a weighted majority.
    Hierarchical(QuorumHierarchical),
}

impl QuorumVerifier {
    /// Builds the rule from the dynamic part of the config (`server.N`,
    /// `group.G`, `weight.N`, `version`; keys and values trimmed): groups or
    /// weights present make it hierarchical, as `QuorumPeerConfig` decides.
    pub fn from_pairs(
        pairs: &[(String, String)],
        multi_address: bool,
    ) -> Result<QuorumVerifier, VerifierError> {
        let hierarchical = pairs
            .iter()
            .any(|(k, _)| k.starts_with("group") || k.starts_with("weight"));
        if hierarchical {
            QuorumHierarchical::from_pairs(pairs, multi_address).map(QuorumVerifier::Hierarchical)
        } else {
            QuorumMaj::from_pairs(pairs, multi_address).map(QuorumVerifier::Majority)
        }
    }

    /// Members and version.
    pub fn members(&self) -> &Members {
        match self {
            QuorumVerifier::Majority(q) => &q.members,
            QuorumVerifier::Hierarchical(q) => &q.members,
        }
    }

    /// Mutable members (to fill in this server's static client address).
    pub fn members_mut(&mut self) -> &mut Members {
        match self {
            QuorumVerifier::Majority(q) => &mut q.members,
            QuorumVerifier::Hierarchical(q) => &mut q.members,
        }
    }

    /// Every server, by id.
    pub fn all_members(&self) -> &BTreeMap<i64, QuorumServer> {
        &self.members().all
    }

    /// The config version.
    pub fn version(&self) -> i64 {
        self.members().version
    }

    /// True when `sid` is a participant.
    pub fn is_voter(&self, sid: i64) -> bool {
        self.all_members()
            .get(&sid)
            .is_some_and(QuorumServer::is_participant)
    }

    /// Ids of the participants.
    pub fn voters(&self) -> BTreeSet<i64> {
        self.members().voters()
    }

    /// A server's weight; a weight of 0 can never be elected.
    pub fn weight(&self, sid: i64) -> i64 {
        match self {
            QuorumVerifier::Majority(_) => 1,
            QuorumVerifier::Hierarchical(q) => q.weight(sid),
        }
    }

    /// Whether `acks` (ids of servers that agree) form a quorum. Acks of
    /// non-participants are ignored, as `SyncedLearnerTracker.addAck` does.
    pub fn has_quorum(&self, acks: &BTreeSet<i64>) -> bool {
        let voting: BTreeSet<i64> = acks
            .iter()
            .copied()
            .filter(|sid| self.is_voter(*sid))
            .collect();
        match self {
            QuorumVerifier::Majority(q) => q.contains_quorum(&voting),
            QuorumVerifier::Hierarchical(q) => q.contains_quorum(&voting),
        }
    }
}

/// The config text carried by notifications and NEWLEADER: server lines,
/// group and weight lines for hierarchical rules, then `version=<hex>`
/// with no trailing newline.
impl fmt::Display for QuorumVerifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.members().write_servers(f)?;
        if let QuorumVerifier::Hierarchical(q) = self {
            q.write_groups_and_weights(f)?;
        }
        write!(f, "version={:x}", self.version())
    }
}
