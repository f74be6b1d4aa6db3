//! Elections among our own peers on loopback: the highest (epoch, zxid,
//! sid) wins, the survivors re-elect when the leader dies, and a restarted
//! peer learns the leader in place without disturbing it.

mod quorum_util;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use quorum_util::{count, Ensemble};
use zookeeper::quorum::notification;
use zookeeper::quorum::vote::ServerState;

/// A deadline on an observable state, generous for a loaded 2-core machine.
const SETTLE: Duration = Duration::from_secs(60);

/// Starts `first` and waits until it answers, then the others: the peer
/// expected to win is looking before anyone can settle without it. (Peers
/// that reach a quorum and wait out finalizeWait without having heard the
/// best vote elect the best one they heard, as Java's do; a winner that
/// starts last on a loaded machine is then only a follower.)
fn start_first(e: &mut Ensemble, first: i64) {
    e.start(first);
    e.await_up(first, SETTLE);
    for sid in 1..=e.peers.len() as i64 {
        if sid != first {
            e.start(sid);
        }
    }
}

#[test]
fn three_peers_highest_zxid_wins_then_failover_and_rejoin() {
    let mut e = Ensemble::new("q3", 3).with_limits(50, 25);
    // Same epoch; peer 2 has the most txns, peer 3 the fewest.
    e.seed_txns(1, 1, 6);
    e.seed_txns(2, 1, 9);
    e.seed_txns(3, 1, 4);
    start_first(&mut e, 2);
    e.await_leader(&[1, 2, 3], 2, SETTLE);
    let log2 = e.peer(2).log();
    assert!(
        log2.contains("Election done: leader 2 (zxid 0x100000009, round 0x1"),
        "{}",
        log2
    );

    // The leader dies. Zab synced 1 and 3 to its history (and its new
    // epoch), so the survivors tie on (epoch, zxid) and the higher sid
    // wins, as with Java peers: two survivors are a quorum only together,
    // and 3 never votes for a lower sid.
    e.kill(2);
    e.await_leader(&[1, 3], 3, SETTLE);

    // It comes back: it follows 3 although it led before, and
    // 3 is not disturbed (it became leader once and never left the role).
    let leading_before = count(&e.peer(3).log(), "Peer state changed: LEADING");
    e.start(2);
    e.await_leader(&[1, 2, 3], 3, SETTLE);
    std::thread::sleep(Duration::from_millis(1500));
    e.await_leader(&[1, 2, 3], 3, SETTLE);
    let log3 = e.peer(3).log();
    assert_eq!(
        count(&log3, "Peer state changed: LEADING"),
        leading_before,
        "{}",
        e.logs(&[1, 2, 3])
    );
    assert_eq!(
        count(&log3, "LEADING role of myid 3 ended"),
        0,
        "{}",
        e.logs(&[1, 2, 3])
    );
}

#[test]
fn five_peers_epoch_beats_zxid_beats_sid() {
    let mut e = Ensemble::new("q5", 5).with_limits(50, 25);
    for sid in 1..=5 {
        e.seed_txns(sid, 1, 5);
    }
    e.seed_txns(4, 1, 8); // the longest log of epoch 1 (rewrites 4's log)
    e.seed_epochs(2, 2, 2); // a newer epoch with an older log
    start_first(&mut e, 2);
    e.await_leader(&[1, 2, 3, 4, 5], 2, SETTLE);
    // Zab synced everyone to 2's history (4's longer epoch-1 log was
    // truncated), so from here the survivors tie on (epoch, zxid) and each
    // prefers the higher sid. Any three of the four are a quorum, so the
    // winner is the highest sid of whichever three heard each other first:
    // 5, or 4 when 5's first vote reached the others while they still
    // followed 2 (they answer with their old vote and drop it, as Java
    // does). Never 1 or 3: every quorum holds 4 or 5.
    e.kill(2);
    let leader = e.await_some_leader(&[1, 3, 4, 5], SETTLE);
    assert!(leader == 4 || leader == 5, "leader {}", leader);
    e.kill(leader);
    // Three of five still make a quorum, only all together: the highest
    // sid of them wins.
    let rest: Vec<i64> = [1, 3, 4, 5].into_iter().filter(|s| *s != leader).collect();
    e.await_leader(&rest, *rest.iter().max().unwrap(), SETTLE);
}

#[test]
fn minority_stays_looking() {
    let mut e = Ensemble::new("qmin", 3).with_limits(50, 25);
    e.start(1);
    std::thread::sleep(Duration::from_secs(2));
    assert_eq!(e.peer(1).mode(), "looking");
    let srvr = quorum_util::four_letter(e.peer(1).client_port, "srvr").unwrap();
    assert_eq!(
        srvr,
        "This ZooKeeper instance is not currently serving requests\n"
    );
    assert_eq!(
        quorum_util::four_letter(e.peer(1).client_port, "ruok").unwrap(),
        "imok"
    );
    e.start(3);
    e.await_leader(&[1, 3], 3, SETTLE);
}

/// What a LOOKING newcomer hears from a settled member: (state, leader,
/// peerEpoch) of the reply to one notification sent as `my_sid`.
fn settled_vote_of(election_port: u16, my_sid: i64, my_election_port: u16) -> (i32, i64, i64) {
    let mut s = TcpStream::connect(("127.0.0.1", election_port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let addr = format!("127.0.0.1:{}", my_election_port);
    let mut header = (-65536i64).to_be_bytes().to_vec();
    header.extend_from_slice(&my_sid.to_be_bytes());
    header.extend_from_slice(&(addr.len() as i32).to_be_bytes());
    header.extend_from_slice(addr.as_bytes());
    s.write_all(&header).unwrap();
    let body = notification::encode(ServerState::Looking, my_sid, 0, 1, 0, "");
    s.write_all(&(body.len() as i32).to_be_bytes()).unwrap();
    s.write_all(&body).unwrap();
    // A new connection first carries the last message sent to this sid
    // (the member's own LOOKING notification from its election): skip it.
    loop {
        let mut len = [0u8; 4];
        s.read_exact(&mut len).unwrap();
        let mut reply = vec![0u8; i32::from_be_bytes(len) as usize];
        s.read_exact(&mut reply).unwrap();
        let state = i32::from_be_bytes(reply[0..4].try_into().unwrap());
        if state == ServerState::Looking.ordinal() {
            continue;
        }
        let leader = i64::from_be_bytes(reply[4..12].try_into().unwrap());
        let peer_epoch = i64::from_be_bytes(reply[28..36].try_into().unwrap());
        return (state, leader, peer_epoch);
    }
}

/// ZOOKEEPER-1732: once serving, the leader and its followers report the
/// new epoch in their votes. A late joiner (Java's or ours) counts a
/// quorum of out-of-election votes only when their (leader, peerEpoch)
/// agree, so a member still reporting the epoch it was elected with
/// (here 0, a fresh ensemble) would leave it looking forever.
#[test]
fn settled_members_report_the_epoch_they_serve_in() {
    let mut e = Ensemble::new("qvote", 3).with_limits(50, 25);
    e.start(1);
    e.start(2);
    e.await_leader(&[1, 2], 2, SETTLE);
    let joiner_port = e.peer(3).election_port;
    // Posing as sid 3 (larger than both: they keep the connection).
    let leader = settled_vote_of(e.peer(2).election_port, 3, joiner_port);
    let follower = settled_vote_of(e.peer(1).election_port, 3, joiner_port);
    assert_eq!(
        leader,
        (ServerState::Leading.ordinal(), 2, 1),
        "leader's vote"
    );
    assert_eq!(
        follower,
        (ServerState::Following.ordinal(), 2, 1),
        "follower's vote"
    );
}
