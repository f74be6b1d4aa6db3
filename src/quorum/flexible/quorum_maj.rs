//! The default quorum rule: more than half of the participants; with an
//! oracle (`oraclePath`) and exactly two participants, a set without a
//! majority is a quorum when the oracle file says so, so the survivor of
//! a two-node ensemble can keep serving.
//!
//! The oracle is a file whose first character an outside arbiter sets:
//! `1` means "you may act alone", anything else (or no file) means no.
//! Like Java's, the rule asks it whenever a majority is missing, on every
//! quorum question: an election with one vote, a leader's synced set, a
//! proposal acked by the leader alone.
//!
//! Pure code apart from reading the oracle file. Mirrors:
//! `org.apache.zookeeper.server.quorum.flexible.QuorumMaj` and
//! `QuorumOracleMaj`.

use std::collections::BTreeSet;
use std::io::Read;
use std::path::{Path, PathBuf};

use log::debug;

use super::{Members, VerifierError};

/// Majority of participants; every server weighs 1.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct QuorumMaj {
    /// Servers and config version.
    pub members: Members,
    /// `oraclePath`: the two-node tie breaker (`QuorumOracleMaj`).
    pub oracle: Option<PathBuf>,
}

/// What the oracle file says: true only if its first byte is `1`.
pub fn ask_oracle(path: &Path) -> bool {
    let mut first = [0u8; 1];
    let says = std::fs::File::open(path)
        .and_then(|mut f| f.read_exact(&mut first))
        .is_ok()
        && first[0] == b'1';
    debug!("Oracle says: {}", says);
    says
}

impl QuorumMaj {
    /// Reads `server.N` and `version`; other keys are ignored (Java's
    /// config parser has already refused unknown ones).
    pub fn from_pairs(
        pairs: &[(String, String)],
        multi_address: bool,
    ) -> Result<QuorumMaj, VerifierError> {
        let mut members = Members::default();
        for (key, value) in pairs {
            members.accept(key, value, multi_address)?;
        }
        Ok(QuorumMaj {
            members,
            oracle: None,
        })
    }

    /// `acks` are participant ids: a quorum when more than half of all
    /// participants are in it, or, with an oracle over two participants,
    /// when the oracle says so.
    pub fn contains_quorum(&self, acks: &BTreeSet<i64>) -> bool {
        let voters = self.members.voters().len();
        if acks.len() > voters / 2 {
            return true;
        }
        match &self.oracle {
            Some(path) if voters == 2 => ask_oracle(path),
            _ => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::QuorumVerifier;
    use std::collections::BTreeSet;

    fn qv(lines: &[(&str, &str)]) -> QuorumVerifier {
        let pairs: Vec<(String, String)> = lines
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        QuorumVerifier::from_pairs(&pairs, false).unwrap()
    }

    fn set(ids: &[i64]) -> BTreeSet<i64> {
        ids.iter().copied().collect()
    }

    #[test]
    fn majority_table() {
        let three = qv(&[
            ("server.1", "h:1:2"),
            ("server.2", "h:3:4"),
            ("server.3", "h:5:6"),
        ]);
        let four = qv(&[
            ("server.1", "h:1:2"),
            ("server.2", "h:3:4"),
            ("server.3", "h:5:6"),
            ("server.4", "h:7:8"),
        ]);
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
    fn the_oracle_breaks_a_two_node_tie_only() {
        let dir = std::env::temp_dir().join(format!("zkrs-oracle-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("mastership");
        let with_oracle = |lines: &[(&str, &str)]| match qv(lines) {
            QuorumVerifier::Majority(mut m) => {
                m.oracle = Some(file.clone());
                QuorumVerifier::Majority(m)
            }
            other => other,
        };
        let two = with_oracle(&[("server.1", "h:1:2"), ("server.2", "h:3:4")]);
        let three = with_oracle(&[
            ("server.1", "h:1:2"),
            ("server.2", "h:3:4"),
            ("server.3", "h:5:6"),
        ]);
        assert!(!two.has_quorum(&set(&[1])), "no file: no");
        std::fs::write(&file, "1").unwrap();
        assert!(two.has_quorum(&set(&[1])), "the oracle says 1");
        assert!(two.has_quorum(&set(&[2])));
        assert!(!three.has_quorum(&set(&[1])), "only two-node ensembles ask");
        std::fs::write(&file, "0").unwrap();
        assert!(!two.has_quorum(&set(&[1])));
        assert!(two.has_quorum(&set(&[1, 2])), "a majority needs no oracle");
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn config_text_is_javas() {
        let v = qv(&[
            ("server.2", "127.0.0.1:3:4"),
            ("server.1", "127.0.0.1:1:2;2181"),
            ("version", "100000000"),
        ]);
        assert_eq!(
            v.to_string(),
            "server.1=127.0.0.1:1:2:participant;0.0.0.0:2181\nserver.2=127.0.0.1:3:4:participant\nversion=100000000"
        );
        assert_eq!(v.version(), 0x1_0000_0000);
    }
}
