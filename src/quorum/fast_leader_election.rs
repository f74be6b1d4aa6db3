//! FastLeaderElection: the threads around [`super::election_round`].
//!
//! Threads: `WorkerSender` turns queued votes into notifications for the
//! transport; `WorkerReceiver` decodes what the transport received,
//! answers peers that need my vote and hands the rest to the election;
//! [`FastLeaderElection::look_for_leader`] runs on the QuorumPeer main
//! thread while the peer is LOOKING: it sends my proposal to every voter,
//! waits for notifications with an interval that doubles (200 ms up to
//! 60 s, re-sending or reconnecting on each quiet period), and, once a
//! quorum agrees, waits `finalizeWait` for anything better before deciding.
//!
//! Mirrors: `org.apache.zookeeper.server.quorum.FastLeaderElection`
//! (Messenger, WorkerSender, WorkerReceiver, lookForLeader,
//! sendNotifications, leaveInstance).

use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::sync::Arc;
use std::thread::{self, JoinHandle};
use std::time::Duration;

use crossbeam::channel::{self, Receiver, RecvTimeoutError, Sender};
use log::{debug, error, info, warn};
use parking_lot::Mutex;

use super::election_round::{receiver_reaction, ElectionRound, Outcome, ReceiverView};
use super::notification::{self, DecodeError, Notification};
use super::quorum_cnx_manager::QuorumCnxManager;
use super::quorum_peer::QuorumPeer;
use super::quorum_peer_reconfig::same_config;
use super::vote::{Proposal, ServerState, Vote};
use crate::server::protocol_trace::{self, Direction};

/// How long the worker threads wait on their queues before checking `stop`.
const WORKER_POLL: Duration = Duration::from_millis(3000);

/// Timing of the election (`finalizeWait` and the notification interval).
#[derive(Debug, Clone, Copy)]
pub struct ElectionTiming {
    /// Quiet period after a quorum agrees (200 ms).
    pub finalize_wait: Duration,
    /// First notification interval (`zookeeper.fastleader.minNotificationInterval`).
    pub min_notification_interval: Duration,
    /// Cap of the doubling interval (`zookeeper.fastleader.maxNotificationInterval`).
    pub max_notification_interval: Duration,
}

impl Default for ElectionTiming {
    fn default() -> Self {
        ElectionTiming {
            finalize_wait: Duration::from_millis(200),
            min_notification_interval: Duration::from_millis(200),
            max_notification_interval: Duration::from_millis(60_000),
        }
    }
}

/// A vote to send: my state plus the vote, for one peer.
#[derive(Debug, Clone, Copy)]
struct ToSend {
    /// Recipient.
    sid: i64,
    /// My state when it was queued.
    state: ServerState,
    /// The vote.
    vote: Vote,
}

/// The election: its two worker threads and the state they share with the
/// QuorumPeer thread.
pub struct FastLeaderElection {
    /// The peer (state, current vote, config).
    peer: Arc<QuorumPeer>,
    /// The transport.
    manager: Arc<QuorumCnxManager>,
    /// Votes for the WorkerSender.
    send_tx: Sender<ToSend>,
    /// Notifications for `look_for_leader` (filled by the WorkerReceiver;
    /// `look_for_leader` also puts back the one that ends a finalize wait).
    recv_tx: Sender<Notification>,
    recv_rx: Receiver<Notification>,
    /// The round; written by the peer thread, read by the receiver thread
    /// for its replies.
    logical_clock: AtomicI64,
    /// My current proposal, same sharing as `logical_clock`.
    proposal: Mutex<Proposal>,
    /// Set by [`FastLeaderElection::shutdown`].
    stop: AtomicBool,
    /// Timing settings.
    timing: ElectionTiming,
    /// The worker threads, joined on shutdown.
    workers: Mutex<Vec<JoinHandle<()>>>,
}

impl FastLeaderElection {
    /// Builds the election and starts WorkerSender and WorkerReceiver.
    pub fn start(
        peer: Arc<QuorumPeer>,
        manager: Arc<QuorumCnxManager>,
        timing: ElectionTiming,
    ) -> std::io::Result<Arc<Self>> {
        let (send_tx, send_rx) = channel::unbounded();
        let (recv_tx, recv_rx) = channel::unbounded();
        let fle = Arc::new(FastLeaderElection {
            peer,
            manager,
            send_tx,
            recv_tx,
            recv_rx,
            logical_clock: AtomicI64::new(0),
            proposal: Mutex::new(Proposal {
                leader: -1,
                zxid: -1,
                epoch: -1,
            }),
            stop: AtomicBool::new(false),
            timing,
            workers: Mutex::new(Vec::new()),
        });
        let my_id = fle.peer.my_id;
        let me = fle.clone();
        let sender = thread::Builder::new()
            .name(format!("WorkerSender[myid={}]", my_id))
            .spawn(move || me.worker_sender(send_rx))?;
        let me = fle.clone();
        let receiver = thread::Builder::new()
            .name(format!("WorkerReceiver[myid={}]", my_id))
            .spawn(move || me.worker_receiver())?;
        fle.workers.lock().extend([sender, receiver]);
        Ok(fle)
    }

    /// The current round.
    pub fn logical_clock(&self) -> i64 {
        self.logical_clock.load(Ordering::SeqCst)
    }

    /// Stops the worker threads (within their poll interval).
    pub fn shutdown(&self) {
        self.stop.store(true, Ordering::SeqCst);
        let workers: Vec<JoinHandle<()>> = self.workers.lock().drain(..).collect();
        for w in workers {
            let _ = w.join();
        }
        debug!("FLE is down");
    }

    fn worker_sender(&self, send_rx: Receiver<ToSend>) {
        while !self.stop.load(Ordering::SeqCst) {
            let m = match send_rx.recv_timeout(WORKER_POLL) {
                Ok(m) => m,
                Err(RecvTimeoutError::Timeout) => continue,
                Err(RecvTimeoutError::Disconnected) => break,
            };
            let v = m.vote;
            protocol_trace::notification(
                Direction::Sent,
                m.sid,
                &m.state,
                (v.id, v.zxid, v.election_epoch, v.peer_epoch),
            );
            let config = self.peer.config_text();
            let bytes = notification::encode(
                m.state,
                v.id,
                v.zxid,
                v.election_epoch,
                v.peer_epoch,
                &config,
            );
            self.manager.to_send(m.sid, bytes);
        }
        info!("WorkerSender is down");
    }

    fn worker_receiver(&self) {
        while !self.stop.load(Ordering::SeqCst) {
            let Some(message) = self.manager.poll_recv_queue(WORKER_POLL) else {
                continue;
            };
            let n = match notification::decode(message.sid, &message.buffer) {
                Ok(n) => n,
                Err(DecodeError::UnknownState(state))
                    if self.peer.quorum_verifier().is_voter(message.sid) =>
                {
                    warn!(
                        "Ignoring a notification with unknown state {} from sid {}",
                        state, message.sid
                    );
                    continue;
                }
                Err(DecodeError::UnknownState(_)) => {
                    // Java answers non-voters before looking at the state.
                    self.reply_to_non_voter(message.sid);
                    continue;
                }
                Err(DecodeError::Short(len)) => {
                    error!("Got a short response from server {}: {}", message.sid, len);
                    continue;
                }
                Err(e) => {
                    warn!(
                        "Skipping the processing of a notification sent by sid={}: {}",
                        message.sid, e
                    );
                    continue;
                }
            };
            protocol_trace::notification(
                Direction::Received,
                n.sid,
                &n.state,
                (n.leader, n.zxid, n.election_epoch, n.peer_epoch),
            );
            self.process(n);
        }
        info!("WorkerReceiver is down");
    }

    fn view(&self) -> ReceiverView {
        ReceiverView {
            my_state: self.peer.state(),
            current_vote: self.peer.current_vote(),
            proposal: *self.proposal.lock(),
            logical_clock: self.logical_clock(),
        }
    }

    fn reply_to_non_voter(&self, sid: i64) {
        let view = self.view();
        let vote = Vote {
            election_epoch: view.logical_clock,
            ..view.current_vote
        };
        self.queue_send(sid, view.my_state, vote);
    }

    fn process(&self, n: Notification) {
        let my_version = self.peer.quorum_verifier().version();
        if n.config_version() > my_version {
            info!(
                "{} Received version: {:x} my version: {:x}",
                self.peer.my_id,
                n.config_version(),
                my_version
            );
            self.newer_config(&n);
        }
        let view = self.view();
        let is_voter = self
            .peer
            .shared_views()
            .lock()
            .all_voters()
            .contains(&n.sid);
        if is_voter {
            debug!(
                "Notification: my state:{}; n.sid:{}, n.state:{}, n.leader:{}, n.round:0x{:x}, n.peerEpoch:0x{:x}, n.zxid:0x{:x}, message format version:0x{:x}, n.config version:0x{:x}",
                view.my_state, n.sid, n.state, n.leader, n.election_epoch, n.peer_epoch, n.zxid, n.version, n.config_version()
            );
        }
        let reaction = receiver_reaction(is_voter, &n, &view);
        if let Some(vote) = reaction.reply {
            self.queue_send(n.sid, view.my_state, vote);
        }
        if reaction.enqueue {
            let _ = self.recv_tx.send(n);
        }
    }

    /// A notification carries a newer config: while looking (and with
    /// reconfig on) it becomes mine, and if it differs the election starts
    /// over with it; otherwise it is left for the leader to bring.
    fn newer_config(&self, n: &Notification) {
        if !self.peer.is_reconfig_enabled() {
            return;
        }
        let Some(text) = n.config.as_deref() else {
            return;
        };
        if self.peer.state() != ServerState::Looking {
            debug!("Skip processReconfig(), state: {}", self.peer.state());
            return;
        }
        let current = self.peer.quorum_verifier();
        match self.peer.config_from_string(text) {
            Ok(rqv) => {
                let differs = !same_config(&rqv, &current);
                self.peer.process_reconfig(rqv, None, None, false);
                if differs {
                    info!("restarting leader election");
                    self.peer.request_election_restart();
                }
            }
            Err(e) => warn!(
                "Something went wrong while processing config received from {}: {}",
                n.sid, e
            ),
        }
    }

    fn queue_send(&self, sid: i64, state: ServerState, vote: Vote) {
        let _ = self.send_tx.send(ToSend { sid, state, vote });
    }

    /// Sends my proposal (as LOOKING, in my round) to every voter, me included.
    fn send_notifications(&self, round: &ElectionRound) {
        let vote = round.current_vote();
        let voters = self.peer.shared_views().lock().all_voters();
        for sid in voters {
            debug!(
                "Sending Notification: {} (n.leader), 0x{:x} (n.zxid), 0x{:x} (n.round), {} (recipient), {} (myid), 0x{:x} (n.peerEpoch)",
                vote.id, vote.zxid, vote.election_epoch, sid, self.peer.my_id, vote.peer_epoch
            );
            self.queue_send(sid, ServerState::Looking, vote);
        }
    }

    /// Publishes the round's clock and proposal for the receiver thread.
    fn publish(&self, round: &ElectionRound) {
        self.logical_clock
            .store(round.logical_clock, Ordering::SeqCst);
        *self.proposal.lock() = round.proposal;
    }

    /// Runs one election on the calling (QuorumPeer) thread. Returns the
    /// elected vote and sets the peer's state, or `None` if the peer
    /// stopped looking or the election was shut down.
    pub fn look_for_leader(&self) -> Option<Vote> {
        let peer = &self.peer;
        let (last_zxid, epoch) = (peer.last_logged_zxid(), peer.current_epoch());
        let mut round = ElectionRound::start(
            peer.my_id,
            peer.learner_type(),
            last_zxid,
            epoch,
            self.logical_clock(),
        );
        self.publish(&round);
        info!(
            "New election. My id = {}, proposed zxid=0x{:x}",
            peer.my_id, round.proposal.zxid
        );
        self.send_notifications(&round);
        let mut timeout = self.timing.min_notification_interval;
        while peer.state() == ServerState::Looking
            && !self.stop.load(Ordering::SeqCst)
            && peer.is_running()
        {
            if peer.election_restart_requested() {
                return None;
            }
            let n = match self.recv_rx.recv_timeout(timeout) {
                Ok(n) => n,
                Err(RecvTimeoutError::Disconnected) => return None,
                Err(RecvTimeoutError::Timeout) => {
                    if self.manager.have_delivered() {
                        self.send_notifications(&round);
                    } else {
                        self.manager.connect_all();
                    }
                    timeout = (timeout * 2).min(self.timing.max_notification_interval);
                    info!("Notification time out: {} ms", timeout.as_millis());
                    continue;
                }
            };
            let step = round.on_notification(&peer.quorum_verifier(), &n);
            self.publish(&round);
            if step.send_notifications {
                self.send_notifications(&round);
            }
            let outcome = match step.outcome {
                Outcome::QuorumReached => self.finalize_wait(&round),
                other => other,
            };
            if let Outcome::Elected(vote, state) = outcome {
                self.publish(&round);
                return Some(self.leave_instance(vote, state));
            }
        }
        None
    }

    /// Waits `finalizeWait` after each notification that is not better
    /// than my proposal; a better one goes back to the queue and the
    /// election continues.
    fn finalize_wait(&self, round: &ElectionRound) -> Outcome {
        loop {
            match self.recv_rx.recv_timeout(self.timing.finalize_wait) {
                Ok(n) if round.beats_proposal(&self.peer.quorum_verifier(), &n) => {
                    let _ = self.recv_tx.send(n);
                    return Outcome::Continue;
                }
                Ok(_) => continue,
                Err(_) => return round.finish(),
            }
        }
    }

    /// Sets the peer's state and vote, drops queued notifications.
    fn leave_instance(&self, vote: Vote, state: ServerState) -> Vote {
        debug!(
            "About to leave FLE instance: leader={}, zxid=0x{:x}, my id={}, my state={}",
            vote.id, vote.zxid, self.peer.my_id, state
        );
        self.peer.set_current_vote(vote);
        self.peer.set_state(state);
        while self.recv_rx.try_recv().is_ok() {}
        vote
    }
}
