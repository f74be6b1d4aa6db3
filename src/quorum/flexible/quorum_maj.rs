//! The default quorum rule: more than half of the participants.
//!
//! Pure code. Mirrors: `org.apache.zookeeper.server.quorum.flexible.QuorumMaj`.

use std::collections::BTreeSet;

use super::{Members, VerifierError};

/// Majority of participants; every server weighs 1.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct QuorumMaj {
    /// Servers and config version.
    pub members: Members,
}

impl QuorumMaj {
    /// Reads `server.N` and `version`; other keys are ignored (Java's
    /// config parser has already refused unknown ones).
    pub fn from_pairs(pairs: &[(String, String)], multi_address: bool) -> Result<QuorumMaj, VerifierError> {
        let mut members = Members::default();
        for (key, value) in pairs {
            members.accept(key, value, multi_address)?;
        }
        Ok(QuorumMaj { members })
    }

    /// `acks` are participant ids: a quorum when more than half of all
    /// participants are in it.
    pub fn contains_quorum(&self, acks: &BTreeSet<i64>) -> bool {
        acks.len() > self.members.voters().len() / 2
    }
}

#[cfg(test)]
mod tests {
    use super::super::QuorumVerifier;
    use std::collections::BTreeSet;

    fn qv(lines: &[(&str, &str)]) -> QuorumVerifier {
        let pairs: Vec<(String, String)> = lines.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        QuorumVerifier::from_pairs(&pairs, false).unwrap()
    }

    fn set(ids: &[i64]) -> BTreeSet<i64> {
        ids.iter().copied().collect()
    }

    #[test]
    fn majority_table() {
        let three = qv(&[("server.1", "h:1:2"), ("server.2", "h:3:4"), ("server.3", "h:5:6")]);
        let four = qv(&[("server.1", "h:1:2"), ("server.2", "h:3:4"), ("server.3", "h:5:6"), ("server.4", "h:7:8")]);
        let with_observer = qv(&[
            ("server.1", "h:1:2"),
            ("server.2", "h:3:4"),
            ("server.3", "h:5:6"),
            ("server.4", "h:7:8:observer"),
        ]);
        let cases: [(&QuorumVerifier, &[i64], bool); 10] = [
            (&three, &[], false),
            (&three, &[1], false),
            (&three, &[1, 2], true),
            (&three, &[1, 2, 3], true),
            (&three, &[1, 9], false), // unknown ids do not count
            (&four, &[1, 2], false),
            (&four, &[1, 2, 3], true),
            (&with_observer, &[1, 4], false), // observers do not count
            (&with_observer, &[2, 3], true),
            (&with_observer, &[3, 4], false),
        ];
        for (verifier, acks, expected) in cases {
            assert_eq!(verifier.has_quorum(&set(acks)), expected, "{:?}", acks);
        }
        assert!(with_observer.is_voter(1));
        assert!(!with_observer.is_voter(4));
        assert!(!with_observer.is_voter(5));
        assert_eq!(with_observer.weight(4), 1);
    }

    #[test]
    fn config_text_is_javas() {
        let v = qv(&[("server.2", "127.0.0.1:3:4"), ("server.1", "127.0.0.1:1:2;2181"), ("version", "100000000")]);
        assert_eq!(
            v.to_string(),
            "server.1=127.0.0.1:1:2:participant;0.0.0.0:2181\nserver.2=127.0.0.1:3:4:participant\nversion=100000000"
        );
        assert_eq!(v.version(), 0x1_0000_0000);
    }
}
