//! Who has acked something (a proposal, NEWLEADER, an epoch), and whether
//! those acks form a quorum of every verifier in force: the committed
//! config, plus the proposed one while a reconfig is pending.
//!
//! Pure; owned by whoever holds the Leader's locks.
//!
//! Mirrors: `org.apache.zookeeper.server.quorum.SyncedLearnerTracker`.

use std::collections::BTreeSet;
use std::sync::Arc;

use super::flexible::QuorumVerifier;

/// Acks toward one decision.
#[derive(Debug, Clone)]
pub struct SyncedLearnerTracker {
    /// The quorum rule.
    verifier: Arc<QuorumVerifier>,
    /// Participants that acked (others are ignored, as Java's `addAck`).
    acks: BTreeSet<i64>,
    /// A pending config that must reach its own quorum too, with its acks.
    next: Option<(Arc<QuorumVerifier>, BTreeSet<i64>)>,
}

impl SyncedLearnerTracker {
    /// No acks yet.
    pub fn new(verifier: Arc<QuorumVerifier>) -> SyncedLearnerTracker {
        SyncedLearnerTracker {
            verifier,
            acks: BTreeSet::new(),
            next: None,
        }
    }

    /// Also requires a quorum of `next` (a proposed config).
    pub fn with_next(mut self, next: Arc<QuorumVerifier>) -> SyncedLearnerTracker {
        self.next = Some((next, BTreeSet::new()));
        self
    }

    /// Records `sid`'s ack; false when `sid` is a participant of no config.
    pub fn add_ack(&mut self, sid: i64) -> bool {
        let mut counted = false;
        if let Some((next, acks)) = self.next.as_mut() {
            if next.is_voter(sid) {
                acks.insert(sid);
                counted = true;
            }
        }
        if self.verifier.is_voter(sid) {
            self.acks.insert(sid);
            counted = true;
        }
        counted
    }

    /// The participants of the newest config that acked.
    pub fn newest_acks(&self) -> &BTreeSet<i64> {
        self.next.as_ref().map_or(&self.acks, |(_, acks)| acks)
    }

    /// The ack set of each config, the committed one's first (Java's
    /// `qvAcksetPairs` order).
    pub fn ack_sets(&self) -> Vec<&BTreeSet<i64>> {
        let mut out = vec![&self.acks];
        out.extend(self.next.as_ref().map(|(_, acks)| acks));
        out
    }

    /// Whether `sid` acked.
    pub fn has_sid(&self, sid: i64) -> bool {
        self.acks.contains(&sid) || self.next.as_ref().is_some_and(|(_, a)| a.contains(&sid))
    }

    /// Whether the acks form a quorum (`hasAllQuorums`).
    pub fn has_all_quorums(&self) -> bool {
        self.verifier.has_quorum(&self.acks)
            && self
                .next
                .as_ref()
                .is_none_or(|(next, acks)| next.has_quorum(acks))
    }

    /// `1,2,3` as in Java's "only synced with sids: [ ... ]".
    pub fn ack_set_text(&self) -> String {
        self.acks
            .iter()
            .map(i64::to_string)
            .collect::<Vec<_>>()
            .join(",")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quorum_counts_participants_only() {
        let pairs: Vec<(String, String)> = (1..=4)
            .map(|i| {
                (
                    format!("server.{}", i),
                    format!(
                        "h:{}:{}{}",
                        10 + i,
                        20 + i,
                        if i == 4 { ":observer" } else { "" }
                    ),
                )
            })
            .collect();
        let qv = Arc::new(QuorumVerifier::from_pairs(&pairs, false).unwrap());
        let mut t = SyncedLearnerTracker::new(qv);
        assert!(t.add_ack(1));
        assert!(!t.add_ack(4), "observer");
        assert!(!t.has_all_quorums());
        assert!(t.add_ack(3));
        assert!(t.has_all_quorums());
        assert_eq!(t.ack_set_text(), "1,3");
        assert!(t.has_sid(3) && !t.has_sid(4));
    }
}
