//! Elections among our own peers on loopback: the highest (epoch, zxid,
//! sid) wins, the survivors re-elect when the leader dies, and a restarted
//! peer learns the leader in place without disturbing it.

mod quorum_util;

use std::time::Duration;

use quorum_util::{count, Ensemble};

const SETTLE: Duration = Duration::from_secs(20);

#[test]
fn three_peers_highest_zxid_wins_then_failover_and_rejoin() {
    let mut e = Ensemble::new("q3", 3);
    // Same epoch; peer 2 has the most txns, peer 3 the fewest.
    e.seed_txns(1, 1, 6);
    e.seed_txns(2, 1, 9);
    e.seed_txns(3, 1, 4);
    e.start_all();
    e.await_leader(&[1, 2, 3], 2, SETTLE);
    let log2 = e.peer(2).log();
    assert!(log2.contains("Election done: leader 2 (zxid 0x100000009, round 0x1"), "{}", log2);

    // The leader dies. Zab synced 1 and 3 to its history (and its new
    // epoch), so the survivors tie on (epoch, zxid) and the higher sid
    // wins, as with Java peers.
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
    assert_eq!(count(&log3, "Peer state changed: LEADING"), leading_before, "{}", log3);
    assert_eq!(count(&log3, "LEADING role of myid 3 ended"), 0, "{}", log3);
}

#[test]
fn five_peers_epoch_beats_zxid_beats_sid() {
    let mut e = Ensemble::new("q5", 5);
    for sid in 1..=5 {
        e.seed_txns(sid, 1, 5);
    }
    e.seed_txns(4, 1, 8); // the longest log of epoch 1 (rewrites 4's log)
    e.seed_epochs(2, 2, 2); // a newer epoch with an older log
    e.start_all();
    e.await_leader(&[1, 2, 3, 4, 5], 2, SETTLE);
    // Zab synced everyone to 2's history (4's longer epoch-1 log was
    // truncated), so from here equal logs leave the highest sid to win.
    e.kill(2);
    e.await_leader(&[1, 3, 4, 5], 5, SETTLE);
    e.kill(5);
    // Three of five still make a quorum.
    e.await_leader(&[1, 3, 4], 4, SETTLE);
}

#[test]
fn minority_stays_looking() {
    let mut e = Ensemble::new("qmin", 3);
    e.start(1);
    std::thread::sleep(Duration::from_secs(2));
    assert_eq!(e.peer(1).mode(), "looking");
    let srvr = quorum_util::four_letter(e.peer(1).client_port, "srvr").unwrap();
    assert_eq!(srvr, "This ZooKeeper instance is not currently serving requests\n");
    assert_eq!(quorum_util::four_letter(e.peer(1).client_port, "ruok").unwrap(), "imok");
    e.start(3);
    e.await_leader(&[1, 3], 3, SETTLE);
}
