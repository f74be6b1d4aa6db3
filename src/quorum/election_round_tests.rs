//! Table tests of the election decisions (the cases of the seeds: a higher
//! epoch wins, then zxid, then sid; observers do not count; a late joiner
//! follows the leader in place).
//!
//! Mirrors: `org.apache.zookeeper.test.FLEPredicateTest` and `FLETest`
//! (the cases, written anew as table tests of our pure decisions).

use super::*;

fn qv(observers: &[i64]) -> QuorumVerifier {
    let mut pairs: Vec<(String, String)> = (1..=3)
        .map(|i| {
            (
                format!("server.{}", i),
                format!("127.0.0.1:{}:{}", 100 + i, 200 + i),
            )
        })
        .collect();
    for o in observers {
        pairs.push((
            format!("server.{}", o),
            format!("127.0.0.1:{}:{}:observer", 100 + o, 200 + o),
        ));
    }
    QuorumVerifier::from_pairs(&pairs, false).unwrap()
}

fn note(
    sid: i64,
    state: ServerState,
    leader: i64,
    zxid: i64,
    round: i64,
    epoch: i64,
) -> Notification {
    Notification {
        state,
        leader,
        zxid,
        election_epoch: round,
        peer_epoch: epoch,
        version: 2,
        config: None,
        sid,
    }
}

fn looking(sid: i64, leader: i64, zxid: i64, round: i64) -> Notification {
    note(sid, ServerState::Looking, leader, zxid, round, 1)
}

#[test]
fn highest_zxid_wins_over_higher_sid() {
    let qv = qv(&[]);
    let mut r = ElectionRound::start(3, LearnerType::Participant, 0x1_0000_0003, 1, 0);
    assert_eq!(r.logical_clock, 1);
    // My own vote, looped back.
    let s = r.on_notification(&qv, &looking(3, 3, 0x1_0000_0003, 1));
    assert_eq!(
        s,
        Step {
            send_notifications: false,
            outcome: Outcome::Continue
        }
    );
    // Server 1 has more txns: adopt its vote and tell everyone.
    let s = r.on_notification(&qv, &looking(1, 1, 0x1_0000_0005, 1));
    assert_eq!(
        s,
        Step {
            send_notifications: true,
            outcome: Outcome::Continue
        }
    );
    assert_eq!(
        r.proposal,
        Proposal {
            leader: 1,
            zxid: 0x1_0000_0005,
            epoch: 1
        }
    );
    // Server 2 agrees with 1: two of three.
    let s = r.on_notification(&qv, &looking(2, 1, 0x1_0000_0005, 1));
    assert_eq!(s.outcome, Outcome::QuorumReached);
    match r.finish() {
        Outcome::Elected(v, state) => {
            assert_eq!(
                (v.id, v.zxid, v.election_epoch, state),
                (1, 0x1_0000_0005, 1, ServerState::Following)
            );
        }
        other => panic!("{:?}", other),
    }
}

#[test]
fn proposal_order_table() {
    // (my init (zxid, epoch), their proposal (leader, zxid, epoch), adopted?)
    let cases = [
        ((5, 1), (1, 5, 1), false), // same epoch and zxid, lower sid: keep mine (sid 2)
        ((5, 1), (3, 5, 1), true),  // higher sid
        ((5, 1), (1, 6, 1), true),  // higher zxid beats higher sid
        ((5, 2), (3, 9, 1), false), // higher epoch beats higher zxid
        ((5, 1), (1, 0, 2), true),
    ];
    let qv = qv(&[]);
    for ((zxid, epoch), (leader, tz, te), adopted) in cases {
        let mut r = ElectionRound::start(2, LearnerType::Participant, zxid, epoch, 0);
        let s = r.on_notification(&qv, &note(1, ServerState::Looking, leader, tz, 1, te));
        assert_eq!(s.send_notifications, adopted, "{:?}", (leader, tz, te));
        assert_eq!(r.proposal.leader == leader, adopted);
    }
}

#[test]
fn higher_round_resets_votes_and_older_rounds_are_ignored() {
    let qv = qv(&[]);
    let mut r = ElectionRound::start(2, LearnerType::Participant, 5, 1, 0);
    r.on_notification(&qv, &looking(2, 2, 5, 1));
    // A round-4 message for a worse leader: jump to round 4, keep my own vote.
    let s = r.on_notification(&qv, &looking(1, 1, 1, 4));
    assert!(s.send_notifications);
    assert_eq!(r.logical_clock, 4);
    assert_eq!(r.proposal.leader, 2);
    // My round-1 vote was dropped: server 3 agreeing in round 4 makes only
    // two agreeing votes if mine (round 4) arrives too.
    let s = r.on_notification(&qv, &looking(3, 2, 5, 4));
    assert_eq!(s.outcome, Outcome::Continue);
    let s = r.on_notification(&qv, &looking(2, 2, 5, 4));
    assert_eq!(s.outcome, Outcome::QuorumReached);
    // Old rounds change nothing.
    let mut r = ElectionRound::start(2, LearnerType::Participant, 5, 1, 6);
    let s = r.on_notification(&qv, &looking(3, 3, 99, 2));
    assert_eq!(
        s,
        Step {
            send_notifications: false,
            outcome: Outcome::Continue
        }
    );
    assert_eq!(r.proposal.leader, 2);
}

#[test]
fn untrusted_zxids_and_non_voters_are_ignored() {
    let qv = qv(&[4]);
    let mut empty = ElectionRound::start(2, LearnerType::Participant, -1, 0, 0);
    assert!(
        !empty
            .on_notification(&qv, &looking(3, 3, 5, 1))
            .send_notifications
    );
    let mut r = ElectionRound::start(2, LearnerType::Participant, 5, 1, 0);
    assert!(
        !r.on_notification(&qv, &looking(3, 3, -1, 1))
            .send_notifications
    );
    // From an observer, for an observer, from a stranger: nothing.
    assert!(
        !r.on_notification(&qv, &looking(4, 3, 9, 1))
            .send_notifications
    );
    assert!(
        !r.on_notification(&qv, &looking(3, 4, 9, 1))
            .send_notifications
    );
    assert!(
        !r.on_notification(&qv, &looking(9, 3, 9, 1))
            .send_notifications
    );
    assert_eq!(r.proposal.leader, 2);
    // OBSERVING notifications never count.
    let s = r.on_notification(&qv, &note(1, ServerState::Observing, 3, 9, 1, 1));
    assert_eq!(s.outcome, Outcome::Continue);
}

#[test]
fn late_joiner_follows_the_leader_in_place() {
    let qv = qv(&[]);
    let mut r = ElectionRound::start(3, LearnerType::Participant, 0x1_0000_0009, 1, 0);
    // A follower's answer alone is not enough: the leader must say so.
    let s = r.on_notification(
        &qv,
        &note(2, ServerState::Following, 1, 0x1_0000_0005, 7, 1),
    );
    assert_eq!(s.outcome, Outcome::Continue);
    let s = r.on_notification(&qv, &note(1, ServerState::Leading, 1, 0x1_0000_0005, 7, 1));
    match s.outcome {
        Outcome::Elected(v, state) => {
            assert_eq!(
                (v.id, v.election_epoch, state),
                (1, 7, ServerState::Following)
            );
        }
        other => panic!("{:?}", other),
    }
    assert_eq!(r.logical_clock, 7, "the joiner adopts the leader's round");
}

#[test]
fn followers_without_a_leading_leader_are_not_followed() {
    let qv = qv(&[]);
    let mut r = ElectionRound::start(3, LearnerType::Participant, 5, 1, 0);
    r.on_notification(&qv, &note(2, ServerState::Following, 1, 5, 7, 1));
    let s = r.on_notification(&qv, &note(1, ServerState::Following, 1, 5, 7, 1));
    assert_eq!(s.outcome, Outcome::Continue);
}

#[test]
fn settled_votes_must_agree_on_the_epoch() {
    let qv = qv(&[]);
    let mut r = ElectionRound::start(3, LearnerType::Participant, 5, 1, 0);
    r.on_notification(&qv, &note(2, ServerState::Following, 1, 5, 7, 2));
    let s = r.on_notification(&qv, &note(1, ServerState::Leading, 1, 5, 7, 1));
    assert_eq!(s.outcome, Outcome::Continue);
}

#[test]
fn a_leader_may_rejoin_its_own_round() {
    let qv = qv(&[]);
    let mut r = ElectionRound::start(1, LearnerType::Participant, 5, 1, 6); // round 7
    r.on_notification(&qv, &note(2, ServerState::Following, 1, 5, 7, 1));
    let s = r.on_notification(&qv, &note(3, ServerState::Following, 1, 5, 7, 1));
    assert!(matches!(
        s.outcome,
        Outcome::Elected(_, ServerState::Leading)
    ));
    // But not followers of an older round.
    let mut r = ElectionRound::start(1, LearnerType::Participant, 5, 1, 7); // round 8
    r.on_notification(&qv, &note(2, ServerState::Following, 1, 5, 7, 1));
    let s = r.on_notification(&qv, &note(3, ServerState::Following, 1, 5, 7, 1));
    assert_eq!(s.outcome, Outcome::Continue);
}

#[test]
fn observers_learn_the_outcome_without_voting() {
    let qv = qv(&[4]);
    let mut r = ElectionRound::start(4, LearnerType::Observer, 9, 9, 0);
    assert_eq!(r.proposal.leader, i64::MIN);
    r.on_notification(&qv, &looking(1, 3, 5, 1));
    assert_eq!(r.proposal.leader, 3);
    let s = r.on_notification(&qv, &looking(2, 3, 5, 1));
    assert_eq!(s.outcome, Outcome::QuorumReached);
    assert!(matches!(r.finish(), Outcome::Elected(v, ServerState::Observing) if v.id == 3));
}

#[test]
fn finalize_wait_only_breaks_for_a_better_vote() {
    let qv = qv(&[]);
    let mut r = ElectionRound::start(2, LearnerType::Participant, 5, 1, 0);
    r.on_notification(&qv, &looking(2, 2, 5, 1));
    assert!(!r.beats_proposal(&qv, &looking(1, 1, 5, 1)));
    assert!(!r.beats_proposal(&qv, &looking(1, 2, 5, 1)));
    assert!(r.beats_proposal(&qv, &looking(3, 3, 5, 1)));
}

#[test]
fn receiver_reaction_table() {
    let settled = Vote::new(1, 5, 3, 1).with_state(ServerState::Following);
    let proposal = Proposal {
        leader: 2,
        zxid: 6,
        epoch: 1,
    };
    let view = |my_state| ReceiverView {
        my_state,
        current_vote: settled,
        proposal,
        logical_clock: 4,
    };
    let looking_old = looking(3, 3, 1, 2);
    let looking_new = looking(3, 3, 1, 4);
    let following = note(3, ServerState::Following, 1, 5, 3, 1);
    // Looking: enqueue; answer a looking laggard with my proposal and round.
    let r = receiver_reaction(true, &looking_old, &view(ServerState::Looking));
    assert!(r.enqueue);
    assert_eq!(r.reply.map(|v| (v.id, v.election_epoch)), Some((2, 4)));
    let r = receiver_reaction(true, &looking_new, &view(ServerState::Looking));
    assert_eq!(
        r,
        Reaction {
            enqueue: true,
            reply: None
        }
    );
    let r = receiver_reaction(true, &following, &view(ServerState::Looking));
    assert_eq!(
        r,
        Reaction {
            enqueue: true,
            reply: None
        }
    );
    // Settled: answer looking voters with the settled vote and its round.
    let r = receiver_reaction(true, &looking_new, &view(ServerState::Following));
    assert_eq!(
        r,
        Reaction {
            enqueue: false,
            reply: Some(settled)
        }
    );
    let r = receiver_reaction(true, &following, &view(ServerState::Leading));
    assert_eq!(
        r,
        Reaction {
            enqueue: false,
            reply: None
        }
    );
    // Non-voters always get my current vote with my logical clock.
    let r = receiver_reaction(false, &following, &view(ServerState::Looking));
    assert_eq!(r.reply.map(|v| (v.id, v.election_epoch)), Some((1, 4)));
    assert!(!r.enqueue);
}
