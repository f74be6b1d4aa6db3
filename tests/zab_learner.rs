//! Conversation tests of the learner side of Zab: a scripted leader on a
//! loopback socket speaks bare QuorumPacket records to our in-process
//! Follower/Observer (as Java's Zab1_0Test does), through each sync path
//! (DIFF, TRUNC, SNAP) and then the broadcast phase: proposals, acks after
//! the log, commits applied, pings answered with session touches. Client
//! traffic through the learner (writes forwarded as REQUEST and answered
//! when committed, `sync`, revalidation) is in `zab_learner_clients.rs`.

use std::sync::Arc;
use std::time::Duration;

use zookeeper::jute::quorum::QuorumPacket;
use zookeeper::jute::txn::{CreateSessionTxn, TxnBody};
use zookeeper::jute::Record;
use zookeeper::quorum::learner::{
    EpochStore, FileEpochs, LearnerContext, LearnerError, LearnerSettings,
};
use zookeeper::quorum::quorum_packet::{self as qp, packet};
use zookeeper::quorum::{follower, observer};
use zookeeper::server::data_tree::DataTree;
use zookeeper::server::zookeeper_server::ZooKeeperServer;

mod zab_learner_util;

use zab_learner_util::*;

#[test]
fn diff_sync_then_broadcast_acks_after_logging_and_applies_commits() {
    let dir = Dir::new("diff");
    let db = dir.open_db();
    let db2 = Arc::clone(&db);
    let snap_dir = dir.snap_dir();
    let (reason, epochs) = converse(&dir, db, follower::follow, move |l, _| {
        let ackepoch = l.discovery(qp::FOLLOWERINFO, 2);
        assert_eq!(ackepoch.zxid, 0, "empty database");
        assert_eq!(
            epoch_file(&snap_dir, "acceptedEpoch"),
            "1",
            "acceptedEpoch written before ACKEPOCH"
        );
        l.send(packet(qp::DIFF, z(2), None));
        let s = session_txn(0x99, z(1), 3000);
        let a = create_txn(0x99, 1, z(2), "/a", b"1");
        let b = create_txn(0x99, 2, z(3), "/b", b"2");
        l.proposal(&s);
        l.send(packet(qp::COMMIT, z(1), None));
        l.proposal(&a);
        l.send(packet(qp::COMMIT, z(2), None));
        l.proposal(&b); // not committed before NEWLEADER
        l.send(packet(qp::NEWLEADER, z(0), Some(b"version=0".to_vec())));
        assert_eq!(l.expect(qp::ACK).zxid, z(0));
        // 3.9.5: committed sync txns are applied and durable before the ack,
        // and currentEpoch is written after them.
        assert_eq!(node_data(&db2, "/a"), Some(b"1".to_vec()));
        assert_eq!(node_data(&db2, "/b"), None, "uncommitted stays queued");
        assert_eq!(epoch_file(&snap_dir, "currentEpoch"), "1");
        l.send(packet(qp::UPTODATE, -1, None));
        assert_eq!(l.expect(qp::ACK).zxid, z(0));
        // The queued uncommitted proposal is logged now, then acked.
        assert_eq!(l.expect(qp::ACK).zxid, z(3));
        l.send(packet(qp::COMMIT, z(3), None));
        eventually("/b applied", || node_data(&db2, "/b").is_some());
        // Broadcast: ack only after logging, apply only on commit.
        let c = create_txn(0x99, 3, z(4), "/c", b"3");
        l.proposal(&c);
        assert_eq!(l.expect(qp::ACK).zxid, z(4));
        assert_eq!(node_data(&db2, "/c"), None, "not applied before COMMIT");
        l.send(packet(qp::COMMIT, z(4), None));
        eventually("/c applied", || {
            node_data(&db2, "/c") == Some(b"3".to_vec())
        });
        l.send(packet(qp::PING, z(4), None));
        let pong = l.expect(qp::PING);
        assert_eq!(pong.zxid, z(4));
        assert_eq!(
            pong.data.as_deref(),
            Some(&[][..]),
            "no client touched a session"
        );
    });
    assert!(
        matches!(reason, LearnerError::Io(..)),
        "the role ends when the leader goes: {}",
        reason
    );
    assert_eq!(epochs.current_epoch(), 1);
    // Everything acked is in the log: reload from disk.
    let reloaded = dir.open_db();
    assert_eq!(reloaded.last_processed_zxid(), z(4));
    assert_eq!(node_data(&reloaded, "/c"), Some(b"3".to_vec()));
}

#[test]
fn trunc_sync_cuts_uncommitted_txns_from_the_log() {
    let dir = Dir::new("trunc");
    {
        // A log with three txns, the last two never committed by the
        // leader that follows.
        let db = dir.open_db();
        for e in [
            session_txn(0x7, z(1), 3000),
            create_txn(0x7, 1, z(2), "/keep", b"k"),
            create_txn(0x7, 2, z(3), "/gone", b"g"),
        ] {
            db.append(&e).unwrap();
            db.process_txn(&e);
        }
        db.commit().unwrap();
        db.close().unwrap();
    }
    let db = dir.open_db();
    assert_eq!(db.last_processed_zxid(), z(3));
    let db2 = Arc::clone(&db);
    let (_reason, _) = converse(&dir, db, follower::follow, move |l, _| {
        let ackepoch = l.discovery(qp::FOLLOWERINFO, 2);
        assert_eq!(ackepoch.zxid, z(3), "ACKEPOCH carries my last zxid");
        l.send(packet(qp::TRUNC, z(2), None));
        l.finish_sync();
        assert_eq!(db2.last_processed_zxid(), z(2));
        assert_eq!(node_data(&db2, "/gone"), None);
        assert_eq!(node_data(&db2, "/keep"), Some(b"k".to_vec()));
    });
    let reloaded = dir.open_db();
    assert_eq!(
        reloaded.last_processed_zxid(),
        z(2),
        "the log itself was cut"
    );
    assert_eq!(node_data(&reloaded, "/gone"), None);
}

#[test]
fn snap_sync_replaces_the_database_and_snapshots_at_newleader() {
    let dir = Dir::new("snap");
    let db = dir.open_db();
    // Something local the leader does not have: must disappear.
    let local = create_txn(0x5, 1, z(1), "/local", b"x");
    db.process_txn(&local);
    let db2 = Arc::clone(&db);
    let snap_dir = dir.snap_dir();
    let (_reason, _) = converse(&dir, db, follower::follow, move |l, _| {
        l.discovery(qp::FOLLOWERINFO, 2);
        let mut tree = DataTree::new();
        tree.process_txn(
            &session_txn(0x42, z(7), 5000).header,
            &TxnBody::CreateSession(CreateSessionTxn { time_out: 5000 }),
            None,
        );
        let e = create_txn(0x42, 1, z(8), "/from-leader", b"L");
        tree.process_txn(&e.header, &e.body, None);
        tree.set_config_node(b"server.9=elsewhere:1:2:participant\nversion=0", 0, 1);
        l.send(packet(qp::SNAP, z(8), None));
        l.send_raw(|out| {
            out.write_int(1).unwrap();
            out.write_long(0x42).unwrap();
            out.write_int(5000).unwrap();
            tree.serialize(out).unwrap();
            out.write_string("BenWasHere").unwrap();
        });
        // A commit before NEWLEADER is applied in memory at once.
        let after = create_txn(0x42, 2, z(9), "/after-snap", b"A");
        l.proposal(&after);
        l.send(packet(qp::COMMIT, z(9), None));
        l.finish_sync();
        assert_eq!(node_data(&db2, "/from-leader"), Some(b"L".to_vec()));
        assert_eq!(node_data(&db2, "/after-snap"), Some(b"A".to_vec()));
        assert_eq!(
            node_data(&db2, "/local"),
            None,
            "the local tree was replaced"
        );
        let config = db2
            .tree
            .read()
            .get_node("/zookeeper/config")
            .map(|n| (n.data().map(<[u8]>::to_vec), n.stat.version));
        assert_eq!(
            config,
            Some((Some(LOCAL_CONFIG.as_bytes().to_vec()), -1)),
            "the local config, not the leader's"
        );
        assert_eq!(db2.sessions_with_timeouts().get(&0x42), Some(&5000));
        let snaps: Vec<String> = std::fs::read_dir(&snap_dir)
            .unwrap()
            .filter_map(|e| e.ok()?.file_name().into_string().ok())
            .filter(|n| n.starts_with("snapshot."))
            .collect();
        assert!(
            snaps.iter().any(|n| n == &format!("snapshot.{:x}", z(9))),
            "NEWLEADER snapshot: {:?}",
            snaps
        );
    });
    let reloaded = dir.open_db();
    assert_eq!(
        node_data(&reloaded, "/after-snap"),
        Some(b"A".to_vec()),
        "the snapshot holds the sync"
    );
}

#[test]
fn snap_without_signature_ends_the_role() {
    let dir = Dir::new("badsnap");
    let db = dir.open_db();
    let (reason, _) = converse(&dir, db, follower::follow, |l, _| {
        l.discovery(qp::FOLLOWERINFO, 2);
        l.send(packet(qp::SNAP, z(1), None));
        l.send_raw(|out| {
            out.write_int(0).unwrap();
            DataTree::new().serialize(out).unwrap();
            out.write_string("NotBen").unwrap();
        });
        // The learner hangs up instead of acking anything.
        let (ia, _) = l.conn.as_mut().unwrap();
        assert!(QuorumPacket::deserialize(ia).is_err());
    });
    assert!(
        reason.to_string().contains("Missing signature"),
        "{}",
        reason
    );
}

#[test]
fn leader_with_an_older_epoch_is_refused() {
    let dir = Dir::new("oldepoch");
    let db = dir.open_db();
    db.write_epoch("acceptedEpoch", 3).unwrap();
    let mut leader = Leader::bind();
    let epochs = FileEpochs::new(Arc::clone(&db), 3, 3);
    let is_running = || true;
    let publish = |_: Option<Arc<ZooKeeperServer>>| {};
    let ctx = LearnerContext {
        settings: LearnerSettings {
            my_id: 2,
            tick_ms: 100,
            init_limit: 20,
            sync_limit: 20,
            connect_limit: 0,
            config_version: 0,
            config_text: String::new(),
            connect_retry_delay: Duration::from_millis(50),
            tls: None,
        },
        leader_addrs: vec![leader.addr()],
        leader_sid: 1,
        auth: None,
        db,
        config: dir.config.clone(),
        epochs: &epochs,
        is_running: &is_running,
        publish: &publish,
        observer_master: None,
    };
    let reason = std::thread::scope(|s| {
        let t = s.spawn(|| follower::follow(&ctx));
        leader.accept();
        let info = leader.expect(qp::FOLLOWERINFO);
        assert_eq!(info.zxid, 3 << 32);
        leader.send(packet(
            qp::LEADERINFO,
            2 << 32,
            Some(qp::int_data(qp::PROTOCOL_VERSION)),
        ));
        t.join().unwrap()
    });
    assert!(
        reason.to_string().contains("less than accepted epoch"),
        "{}",
        reason
    );
}

#[test]
fn observer_applies_informs_without_acking() {
    let dir = Dir::new("observer");
    let db = dir.open_db();
    let db2 = Arc::clone(&db);
    converse(&dir, db, observer::observe, move |l, published| {
        l.discovery(qp::OBSERVERINFO, 2);
        l.send(packet(qp::DIFF, 0, None));
        l.finish_sync();
        assert_eq!(published.server().mode(), "observer");
        let e = create_txn(0x9, 1, z(1), "/seen", b"s");
        l.send(packet(qp::INFORM, z(1), Some(e.to_bytes())));
        eventually("/seen applied", || node_data(&db2, "/seen").is_some());
        l.send(packet(qp::PING, z(1), None));
        // The next thing the observer says is the PING reply: no ACK.
        assert_eq!(l.expect(qp::PING).zxid, z(1));
    });
    let reloaded = dir.open_db();
    assert_eq!(
        node_data(&reloaded, "/seen"),
        Some(b"s".to_vec()),
        "INFORMs are logged"
    );
}

#[test]
fn proposals_logged_but_never_committed_join_the_state_after_the_role() {
    // What the peer does when a learner role ends (Java's
    // fastForwardDataBase): the next election and leader see them.
    let dir = Dir::new("fastforward");
    let db = dir.open_db();
    let e = create_txn(0x5, 1, z(1), "/logged", b"x");
    db.append(&e).unwrap();
    db.commit().unwrap();
    assert_eq!(node_data(&db, "/logged"), None, "only logged");
    assert_eq!(db.fast_forward_database().unwrap(), z(1));
    assert_eq!(node_data(&db, "/logged"), Some(b"x".to_vec()));
    assert_eq!(db.last_processed_zxid(), z(1));
    assert_eq!(db.committed_log().max, z(1));
}
