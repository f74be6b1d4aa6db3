//! Votes and the rules that compare them: which proposal is better (the
//! total order on (epoch, zxid, sid)) and when two votes count as the same
//! vote for a quorum.
//!
//! Pure code, used by the election thread (the QuorumPeer main thread) and
//! the notification receiver thread.
//!
//! Mirrors: `org.apache.zookeeper.server.quorum.Vote`,
//! `QuorumPeer.ServerState`, `FastLeaderElection.totalOrderPredicate`.

use std::fmt;

use super::flexible::QuorumVerifier;

/// A peer's state; the ordinal is what notifications carry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ServerState {
    /// Electing a leader.
    Looking,
    /// Following an elected leader.
    Following,
    /// Elected.
    Leading,
    /// Observing an elected leader (observers never vote).
    Observing,
}

impl ServerState {
    /// The wire ordinal (LOOKING 0, FOLLOWING 1, LEADING 2, OBSERVING 3).
    pub fn ordinal(self) -> i32 {
        match self {
            ServerState::Looking => 0,
            ServerState::Following => 1,
            ServerState::Leading => 2,
            ServerState::Observing => 3,
        }
    }

    /// The state for a wire ordinal; `None` for anything else.
    pub fn from_ordinal(ordinal: i32) -> Option<ServerState> {
        match ordinal {
            0 => Some(ServerState::Looking),
            1 => Some(ServerState::Following),
            2 => Some(ServerState::Leading),
            3 => Some(ServerState::Observing),
            _ => None,
        }
    }

    /// Java's enum name (LOOKING, ...), as in its logs.
    pub fn java_name(self) -> &'static str {
        match self {
            ServerState::Looking => "LOOKING",
            ServerState::Following => "FOLLOWING",
            ServerState::Leading => "LEADING",
            ServerState::Observing => "OBSERVING",
        }
    }

    /// What `srvr` prints after `Mode:` (`leader`, `follower`, `observer`);
    /// `None` while looking (nothing is served then).
    pub fn mode_name(self) -> Option<&'static str> {
        match self {
            ServerState::Looking => None,
            ServerState::Following => Some("follower"),
            ServerState::Leading => Some("leader"),
            ServerState::Observing => Some("observer"),
        }
    }
}

impl fmt::Display for ServerState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.java_name())
    }
}

/// A vote: who should lead (and how far its log goes), in which round, by
/// a voter in which state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Vote {
    /// Notification format version the vote arrived with (0 for votes we
    /// build ourselves, as Java's short constructors do).
    pub version: i32,
    /// The proposed (or known) leader's sid.
    pub id: i64,
    /// The proposed leader's last zxid.
    pub zxid: i64,
    /// The voter's election round (logical clock).
    pub election_epoch: i64,
    /// The proposed leader's current epoch.
    pub peer_epoch: i64,
    /// The voter's state.
    pub state: ServerState,
}

impl Vote {
    /// A LOOKING vote of version 0.
    pub fn new(id: i64, zxid: i64, election_epoch: i64, peer_epoch: i64) -> Vote {
        Vote {
            version: 0,
            id,
            zxid,
            election_epoch,
            peer_epoch,
            state: ServerState::Looking,
        }
    }

    /// The same vote with another voter state.
    pub fn with_state(self, state: ServerState) -> Vote {
        Vote { state, ..self }
    }

    /// `Vote.equals`: what counts as agreeing. If either side is LOOKING,
    /// everything but the state must match; between settled voters only
    /// the leader and its epoch matter (the leader id alone when exactly
    /// one side predates format version 1).
    pub fn agrees_with(&self, other: &Vote) -> bool {
        if self.state == ServerState::Looking || other.state == ServerState::Looking {
            return self.id == other.id
                && self.zxid == other.zxid
                && self.election_epoch == other.election_epoch
                && self.peer_epoch == other.peer_epoch;
        }
        if (self.version > 0) ^ (other.version > 0) {
            self.id == other.id
        } else {
            self.id == other.id && self.peer_epoch == other.peer_epoch
        }
    }
}

impl fmt::Display for Vote {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "(leader {}, zxid 0x{:x}, round 0x{:x}, peerEpoch 0x{:x}, {})",
            self.id, self.zxid, self.election_epoch, self.peer_epoch, self.state
        )
    }
}

/// A proposal: (leader, its zxid, its epoch).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Proposal {
    /// Proposed leader sid.
    pub leader: i64,
    /// Its last zxid.
    pub zxid: i64,
    /// Its current epoch.
    pub epoch: i64,
}

/// `totalOrderPredicate`: true when `new` should replace `current`. A
/// server of weight 0 never wins; otherwise the higher epoch wins, then
/// the higher zxid, then the higher sid.
pub fn total_order_predicate(qv: &QuorumVerifier, new: Proposal, current: Proposal) -> bool {
    if qv.weight(new.leader) == 0 {
        return false;
    }
    (new.epoch, new.zxid, new.leader) > (current.epoch, current.zxid, current.leader)
}

/// `ZxidUtils.getEpochFromZxid`.
pub fn epoch_of_zxid(zxid: i64) -> i64 {
    zxid >> 32
}

/// `ZxidUtils.makeZxid`.
pub fn make_zxid(epoch: i64, counter: i64) -> i64 {
    (epoch << 32) | (counter & 0xffff_ffff)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn qv(extra: &[(&str, &str)]) -> QuorumVerifier {
        let mut pairs: Vec<(String, String)> = (1..=3)
            .map(|i| (format!("server.{}", i), format!("h:{}:{}", 10 + i, 20 + i)))
            .collect();
        pairs.extend(extra.iter().map(|(k, v)| (k.to_string(), v.to_string())));
        QuorumVerifier::from_pairs(&pairs, false).unwrap()
    }

    fn p(leader: i64, zxid: i64, epoch: i64) -> Proposal {
        Proposal {
            leader,
            zxid,
            epoch,
        }
    }

    #[test]
    fn total_order_table() {
        let maj = qv(&[]);
        let cases = [
            // (new, current, new wins?)
            (p(1, 0, 2), p(3, 100, 1), true), // higher epoch wins over zxid and sid
            (p(3, 100, 1), p(1, 0, 2), false),
            (p(1, 6, 1), p(3, 5, 1), true), // same epoch: higher zxid wins over sid
            (p(3, 5, 1), p(1, 6, 1), false),
            (p(3, 5, 1), p(2, 5, 1), true), // all equal but sid
            (p(2, 5, 1), p(3, 5, 1), false),
            (p(2, 5, 1), p(2, 5, 1), false), // the same proposal is not better
            (p(1, 0, 0), p(i64::MIN, i64::MIN, i64::MIN), true), // any real vote beats an observer's
        ];
        for (new, current, expected) in cases {
            assert_eq!(
                total_order_predicate(&maj, new, current),
                expected,
                "{:?} vs {:?}",
                new,
                current
            );
        }
        let weighted = qv(&[("group.1", "1:2:3"), ("weight.3", "0")]);
        assert!(
            !total_order_predicate(&weighted, p(3, 9, 9), p(1, 0, 0)),
            "weight 0 never wins"
        );
        assert!(total_order_predicate(&weighted, p(2, 9, 9), p(1, 0, 0)));
    }

    #[test]
    fn vote_agreement_table() {
        let looking = Vote::new(3, 0x100, 2, 1);
        let following = Vote {
            version: 2,
            ..looking.with_state(ServerState::Following)
        };
        let cases = [
            // Looking: everything must match.
            (looking, looking, true),
            (
                looking,
                Vote {
                    election_epoch: 3,
                    ..looking
                },
                false,
            ),
            (
                looking,
                Vote {
                    zxid: 0x101,
                    ..looking
                },
                false,
            ),
            (looking, following, true),
            (
                looking,
                Vote {
                    zxid: 1,
                    ..following
                },
                false,
            ),
            // Settled: leader and epoch only.
            (
                following,
                Vote {
                    zxid: 1,
                    election_epoch: 9,
                    ..following
                },
                true,
            ),
            (
                following,
                Vote {
                    peer_epoch: 2,
                    ..following
                },
                false,
            ),
            (
                following,
                Vote {
                    peer_epoch: 2,
                    version: 0,
                    ..following
                },
                true,
            ), // mixed versions: id only
            (following, Vote { id: 2, ..following }, false),
        ];
        for (a, b, expected) in cases {
            assert_eq!(a.agrees_with(&b), expected, "{} vs {}", a, b);
            assert_eq!(b.agrees_with(&a), expected, "symmetric: {} vs {}", b, a);
        }
    }

    #[test]
    fn state_ordinals_and_zxids() {
        for s in [
            ServerState::Looking,
            ServerState::Following,
            ServerState::Leading,
            ServerState::Observing,
        ] {
            assert_eq!(ServerState::from_ordinal(s.ordinal()), Some(s));
        }
        assert_eq!(ServerState::from_ordinal(4), None);
        assert_eq!(ServerState::from_ordinal(-1), None);
        assert_eq!(make_zxid(3, 7), 0x3_0000_0007);
        assert_eq!(epoch_of_zxid(0x3_0000_0007), 3);
        assert_eq!(epoch_of_zxid(-1), -1);
    }
}
