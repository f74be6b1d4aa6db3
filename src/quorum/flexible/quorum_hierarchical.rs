//! Weighted, grouped quorums: servers are placed in groups (`group.G=a:b:c`)
//! and may carry a weight (`weight.N=w`, default 1). A set of servers is a
//! quorum when, in more than half of the groups that weigh anything, it
//! holds more than half of that group's weight.
//!
//! Pure code. Mirrors: `org.apache.zookeeper.server.quorum.flexible.QuorumHierarchical`.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use super::{Members, VerifierError};

/// Groups and weights on top of the member list.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct QuorumHierarchical {
    /// Servers and config version.
    pub members: Members,
    /// Server id → group id. Every participant is in exactly one group.
    server_group: BTreeMap<i64, i64>,
    /// Server id → weight (participants default to 1).
    server_weight: BTreeMap<i64, i64>,
    /// Group id → sum of its members' weights.
    group_weight: BTreeMap<i64, i64>,
    /// Groups whose weight is not zero (the ones that count).
    num_groups: i64,
}

impl QuorumHierarchical {
    /// Reads `server.N`, `group.G`, `weight.N` and `version`.
    pub fn from_pairs(
        pairs: &[(String, String)],
        multi_address: bool,
    ) -> Result<QuorumHierarchical, VerifierError> {
        let mut q = QuorumHierarchical::default();
        for (key, value) in pairs {
            if q.members.accept(key, value, multi_address)? {
                continue;
            }
            let err = |reason: String| VerifierError {
                key: key.clone(),
                reason,
            };
            let suffix = key.split_once('.').map(|(_, s)| s).unwrap_or("");
            let id = || {
                suffix
                    .parse::<i64>()
                    .map_err(|_| err(format!("'{}' is not a number", suffix)))
            };
            if key.starts_with("group") {
                let gid = id()?;
                q.num_groups += 1;
                for part in value.split(':') {
                    let sid: i64 = part
                        .parse()
                        .map_err(|_| err(format!("'{}' is not a server id", part)))?;
                    if q.server_group.insert(sid, gid).is_some() {
                        return Err(err(format!("Server {}is in multiple groups", sid)));
                    }
                }
            } else if key.starts_with("weight") {
                let sid = id()?;
                let weight: i64 = value
                    .parse()
                    .map_err(|_| err(format!("'{}' is not a weight", value)))?;
                q.server_weight.insert(sid, weight);
            }
        }
        for server in q.members.all.values().filter(|s| s.is_participant()) {
            if !q.server_group.contains_key(&server.id) {
                return Err(VerifierError {
                    key: format!("server.{}", server.id),
                    reason: format!("Server {}is not in a group", server.id),
                });
            }
            q.server_weight.entry(server.id).or_insert(1);
        }
        q.compute_group_weight();
        Ok(q)
    }

    fn compute_group_weight(&mut self) {
        for (sid, gid) in &self.server_group {
            let w = self.server_weight.get(sid).copied().unwrap_or(0);
            *self.group_weight.entry(*gid).or_insert(0) += w;
        }
        let zero_groups = self.group_weight.values().filter(|w| **w == 0).count() as i64;
        self.num_groups -= zero_groups;
    }

    /// The weight of a server (0 when it has none).
    pub fn weight(&self, sid: i64) -> i64 {
        self.server_weight.get(&sid).copied().unwrap_or(0)
    }

    /// `acks` are participant ids.
    pub fn contains_quorum(&self, acks: &BTreeSet<i64>) -> bool {
        if acks.is_empty() {
            return false;
        }
        let mut per_group: BTreeMap<i64, i64> = BTreeMap::new();
        for sid in acks {
            if let Some(gid) = self.server_group.get(sid) {
                *per_group.entry(*gid).or_insert(0) += self.weight(*sid);
            }
        }
        let majority_groups = per_group
            .iter()
            .filter(|(gid, acked)| **acked > self.group_weight.get(gid).copied().unwrap_or(0) / 2)
            .count() as i64;
        majority_groups > self.num_groups / 2
    }

    /// `group.G=a:b` and `weight.N=w` lines, ascending ids.
    pub(super) fn write_groups_and_weights(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut groups: BTreeMap<i64, Vec<String>> = BTreeMap::new();
        for (sid, gid) in &self.server_group {
            groups.entry(*gid).or_default().push(sid.to_string());
        }
        for (gid, sids) in groups {
            writeln!(f, "group.{}={}", gid, sids.join(":"))?;
        }
        for (sid, weight) in &self.server_weight {
            writeln!(f, "weight.{}={}", sid, weight)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::super::QuorumVerifier;
    use std::collections::BTreeSet;

    fn qv(lines: &[(&str, &str)]) -> Result<QuorumVerifier, super::super::VerifierError> {
        let pairs: Vec<(String, String)> = lines
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        QuorumVerifier::from_pairs(&pairs, false)
    }

    fn nine_in_three_groups() -> QuorumVerifier {
        let mut lines = vec![];
        let servers: Vec<(String, String)> = (1..=9)
            .map(|i| {
                (
                    format!("server.{}", i),
                    format!("h:{}:{}", 1000 + i, 2000 + i),
                )
            })
            .collect();
        for (k, v) in &servers {
            lines.push((k.as_str(), v.as_str()));
        }
        lines.extend([
            ("group.1", "1:2:3"),
            ("group.2", "4:5:6"),
            ("group.3", "7:8:9"),
            ("weight.3", "0"),
        ]);
        qv(&lines).unwrap()
    }

    #[test]
    fn group_majority_table() {
        let v = nine_in_three_groups();
        assert!(matches!(v, QuorumVerifier::Hierarchical(_)));
        let cases: [(&[i64], bool); 7] = [
            (&[], false),
            (&[1, 2], false),         // one group only
            (&[1, 2, 4, 5], true),    // two of three groups
            (&[1, 4, 5, 7, 8], true), // group 1: weight 1 of 2 is not a majority
            (&[1, 3, 4, 7], false),   // weight-0 server 3 adds nothing
            (&[1, 2, 4, 7], false),
            (&[1, 2, 4, 5, 7, 8], true),
        ];
        for (acks, expected) in cases {
            let set: BTreeSet<i64> = acks.iter().copied().collect();
            assert_eq!(v.has_quorum(&set), expected, "{:?}", acks);
        }
        assert_eq!(v.weight(3), 0);
        assert_eq!(v.weight(4), 1);
    }

    #[test]
    fn zero_weight_groups_are_not_counted() {
        let v = qv(&[
            ("server.1", "h:1:2"),
            ("server.2", "h:3:4"),
            ("server.3", "h:5:6"),
            ("group.1", "1:2"),
            ("group.2", "3"),
            ("weight.3", "0"),
        ])
        .unwrap();
        // Only group 1 counts: it alone is more than half of one group.
        assert!(v.has_quorum(&[1, 2].into_iter().collect()));
        assert!(!v.has_quorum(&[1].into_iter().collect()));
    }

    #[test]
    fn every_participant_needs_one_group() {
        assert!(qv(&[
            ("server.1", "h:1:2"),
            ("server.2", "h:3:4"),
            ("group.1", "1")
        ])
        .is_err());
        assert!(qv(&[("server.1", "h:1:2"), ("group.1", "1"), ("group.2", "1")]).is_err());
        // Observers need no group.
        assert!(qv(&[
            ("server.1", "h:1:2"),
            ("server.2", "h:3:4:observer"),
            ("group.1", "1")
        ])
        .is_ok());
    }

    #[test]
    fn config_text_lists_groups_and_weights() {
        let v = qv(&[
            ("server.1", "h:1:2"),
            ("server.2", "h:3:4"),
            ("group.1", "1:2"),
            ("weight.2", "3"),
        ])
        .unwrap();
        assert_eq!(
            v.to_string(),
            "server.1=h:1:2:participant\nserver.2=h:3:4:participant\ngroup.1=1:2\nweight.1=1\nweight.2=3\nversion=0"
        );
    }
}
