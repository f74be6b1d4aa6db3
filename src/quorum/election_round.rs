//! The decisions of one FastLeaderElection instance, without threads or
//! sockets: what a notification does to my proposal, when the votes I hold
//! make a quorum, when a late joiner may follow a leader already in place,
//! and what the notification receiver answers while I am not looking.
//!
//! Owned by the QuorumPeer main thread while it runs `lookForLeader`; the
//! receiver thread only calls [`receiver_reaction`].
//!
//! Mirrors: the decision parts of `FastLeaderElection.lookForLeader`,
//! `receivedFollowingNotification`, `receivedLeadingNotification`,
//! `checkLeader`, `getVoteTracker`, `setPeerState`, and of
//! `WorkerReceiver.run`.

use std::collections::{BTreeMap, BTreeSet};

use log::{debug, warn};

use super::flexible::QuorumVerifier;
use super::notification::Notification;
use super::quorum_server::LearnerType;
use super::vote::{total_order_predicate, Proposal, ServerState, Vote};

/// What a notification led to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Keep waiting.
    Continue,
    /// My proposal has a quorum: wait `finalizeWait` for a better vote.
    QuorumReached,
    /// The election is over: this vote, and my new state.
    Elected(Vote, ServerState),
}

/// The reaction to one notification.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Step {
    /// My proposal (or round) changed: tell every voter.
    pub send_notifications: bool,
    /// What happens next.
    pub outcome: Outcome,
}

impl Step {
    fn quiet(outcome: Outcome) -> Step {
        Step {
            send_notifications: false,
            outcome,
        }
    }
}

/// One election instance: my round, my proposal and the votes seen.
#[derive(Debug, Clone)]
pub struct ElectionRound {
    /// My sid.
    my_id: i64,
    /// Participants vote; observers only learn the outcome.
    learner_type: LearnerType,
    /// My own initial vote: (myid, last logged zxid, current epoch) for a
    /// participant, all `i64::MIN` for an observer.
    init: Proposal,
    /// The logical clock (round).
    pub logical_clock: i64,
    /// Whom I currently propose.
    pub proposal: Proposal,
    /// Votes of this round, by sender.
    recvset: BTreeMap<i64, Vote>,
    /// FOLLOWING/LEADING votes of any round, by sender: how a late joiner
    /// learns of the leader in place.
    outofelection: BTreeMap<i64, Vote>,
}

impl ElectionRound {
    /// Starts a new instance: the round after `previous_clock`, proposing
    /// myself (or nobody, for an observer).
    pub fn start(
        my_id: i64,
        learner_type: LearnerType,
        last_zxid: i64,
        current_epoch: i64,
        previous_clock: i64,
    ) -> ElectionRound {
        let init = match learner_type {
            LearnerType::Participant => Proposal {
                leader: my_id,
                zxid: last_zxid,
                epoch: current_epoch,
            },
            LearnerType::Observer => Proposal {
                leader: i64::MIN,
                zxid: i64::MIN,
                epoch: i64::MIN,
            },
        };
        ElectionRound {
            my_id,
            learner_type,
            init,
            logical_clock: previous_clock.wrapping_add(1),
            proposal: init,
            recvset: BTreeMap::new(),
            outofelection: BTreeMap::new(),
        }
    }

    /// My proposal as a LOOKING vote of the current round.
    pub fn current_vote(&self) -> Vote {
        Vote::new(
            self.proposal.leader,
            self.proposal.zxid,
            self.logical_clock,
            self.proposal.epoch,
        )
    }

    /// Whether `n` proposes someone better than my proposal (used while
    /// waiting `finalizeWait`).
    pub fn beats_proposal(&self, qv: &QuorumVerifier, n: &Notification) -> bool {
        total_order_predicate(qv, proposal_of(n), self.proposal)
    }

    /// The result once the finalize wait passed quietly.
    pub fn finish(&self) -> Outcome {
        let vote = self.current_vote();
        Outcome::Elected(vote, self.state_for(vote.id))
    }

    /// LEADING if the leader is me, else following/observing by my type.
    fn state_for(&self, leader: i64) -> ServerState {
        if leader == self.my_id {
            ServerState::Leading
        } else if self.learner_type == LearnerType::Participant {
            ServerState::Following
        } else {
            ServerState::Observing
        }
    }

    /// Processes one notification from the receive queue.
    pub fn on_notification(&mut self, qv: &QuorumVerifier, n: &Notification) -> Step {
        if !qv.is_voter(n.sid) || !qv.is_voter(n.leader) {
            if !qv.is_voter(n.leader) {
                warn!(
                    "Ignoring notification for non-cluster member sid {} from sid {}",
                    n.leader, n.sid
                );
            }
            if !qv.is_voter(n.sid) {
                warn!(
                    "Ignoring notification for sid {} from non-quorum member sid {}",
                    n.leader, n.sid
                );
            }
            return Step::quiet(Outcome::Continue);
        }
        match n.state {
            ServerState::Looking => self.on_looking(qv, n),
            ServerState::Observing => {
                debug!("Notification from observer: {}", n.sid);
                Step::quiet(Outcome::Continue)
            }
            ServerState::Following | ServerState::Leading => Step::quiet(self.on_settled(qv, n)),
        }
    }

    fn on_looking(&mut self, qv: &QuorumVerifier, n: &Notification) -> Step {
        if self.init.zxid == -1 {
            debug!("Ignoring notification as our zxid is -1");
            return Step::quiet(Outcome::Continue);
        }
        if n.zxid == -1 {
            debug!("Ignoring notification from member with -1 zxid {}", n.sid);
            return Step::quiet(Outcome::Continue);
        }
        let theirs = proposal_of(n);
        let mut send = false;
        if n.election_epoch > self.logical_clock {
            self.logical_clock = n.election_epoch;
            self.recvset.clear();
            self.proposal = if total_order_predicate(qv, theirs, self.init) {
                theirs
            } else {
                self.init
            };
            send = true;
        } else if n.election_epoch < self.logical_clock {
            debug!(
                "Notification election epoch is smaller than logicalclock. n.electionEpoch = 0x{:x}, logicalclock=0x{:x}",
                n.election_epoch, self.logical_clock
            );
            return Step::quiet(Outcome::Continue);
        } else if total_order_predicate(qv, theirs, self.proposal) {
            self.proposal = theirs;
            send = true;
        }
        self.recvset.insert(
            n.sid,
            Vote::new(n.leader, n.zxid, n.election_epoch, n.peer_epoch),
        );
        let outcome = if has_all_quorums(qv, &self.recvset, &self.current_vote()) {
            Outcome::QuorumReached
        } else {
            Outcome::Continue
        };
        Step {
            send_notifications: send,
            outcome,
        }
    }

    /// FOLLOWING or LEADING: join a leader that a quorum follows and that
    /// says it leads (in this round, or in any round for a late joiner).
    fn on_settled(&mut self, qv: &QuorumVerifier, n: &Notification) -> Outcome {
        let theirs = Vote {
            version: n.version,
            id: n.leader,
            zxid: n.zxid,
            election_epoch: n.election_epoch,
            peer_epoch: n.peer_epoch,
            state: n.state,
        };
        let elected = Vote::new(n.leader, n.zxid, n.election_epoch, n.peer_epoch);
        if n.election_epoch == self.logical_clock {
            self.recvset.insert(
                n.sid,
                Vote {
                    version: 0,
                    ..theirs
                },
            );
            if has_all_quorums(qv, &self.recvset, &theirs)
                && self.check_leader(&self.recvset, n.leader, n.election_epoch)
            {
                return Outcome::Elected(elected, self.state_for(n.leader));
            }
        }
        self.outofelection.insert(n.sid, theirs);
        if has_all_quorums(qv, &self.outofelection, &theirs)
            && self.check_leader(&self.outofelection, n.leader, n.election_epoch)
        {
            self.logical_clock = n.election_epoch;
            return Outcome::Elected(elected, self.state_for(n.leader));
        }
        Outcome::Continue
    }

    /// `checkLeader`: someone else must have told us it is LEADING; if the
    /// leader is me, the round must be mine.
    fn check_leader(&self, votes: &BTreeMap<i64, Vote>, leader: i64, election_epoch: i64) -> bool {
        if leader != self.my_id {
            votes
                .get(&leader)
                .is_some_and(|v| v.state == ServerState::Leading)
        } else {
            self.logical_clock == election_epoch
        }
    }
}

/// (leader, zxid, peerEpoch) of a notification.
pub fn proposal_of(n: &Notification) -> Proposal {
    Proposal {
        leader: n.leader,
        zxid: n.zxid,
        epoch: n.peer_epoch,
    }
}

/// `getVoteTracker(votes, vote).hasAllQuorums()`: do the senders whose vote
/// agrees with `vote` form a quorum? (One verifier: reconfig is not
/// supported, so there is never a newer last-seen one.)
pub fn has_all_quorums(qv: &QuorumVerifier, votes: &BTreeMap<i64, Vote>, vote: &Vote) -> bool {
    let acks: BTreeSet<i64> = votes
        .iter()
        .filter(|(_, v)| vote.agrees_with(v))
        .map(|(sid, _)| *sid)
        .collect();
    qv.has_quorum(&acks)
}

/// What the receiver thread does with a decoded notification.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Reaction {
    /// Hand it to the election (I am looking and the sender votes).
    pub enqueue: bool,
    /// Answer the sender with this vote, sent with my state.
    pub reply: Option<Vote>,
}

/// What I know when a notification arrives.
#[derive(Debug, Clone, Copy)]
pub struct ReceiverView {
    /// My state now.
    pub my_state: ServerState,
    /// The vote I settled on (meaningful when not looking).
    pub current_vote: Vote,
    /// My proposal in the running election (when looking).
    pub proposal: Proposal,
    /// My logical clock.
    pub logical_clock: i64,
}

/// `WorkerReceiver`: a non-voter always gets my current vote (with my
/// logical clock); while looking, every voter's message goes to the
/// election and a looking voter in an older round gets my proposal; while
/// not looking, a looking voter gets the vote I settled on (with its own
/// round), which is how it learns of the leader in place.
pub fn receiver_reaction(sender_is_voter: bool, n: &Notification, view: &ReceiverView) -> Reaction {
    let cv = view.current_vote;
    if !sender_is_voter {
        let reply = Vote {
            election_epoch: view.logical_clock,
            ..cv
        };
        return Reaction {
            enqueue: false,
            reply: Some(reply),
        };
    }
    if view.my_state == ServerState::Looking {
        let reply = (n.state == ServerState::Looking && n.election_epoch < view.logical_clock)
            .then(|| {
                Vote::new(
                    view.proposal.leader,
                    view.proposal.zxid,
                    view.logical_clock,
                    view.proposal.epoch,
                )
            });
        return Reaction {
            enqueue: true,
            reply,
        };
    }
    let reply = (n.state == ServerState::Looking).then_some(cv);
    Reaction {
        enqueue: false,
        reply,
    }
}

#[cfg(test)]
#[path = "election_round_tests.rs"]
mod tests;
