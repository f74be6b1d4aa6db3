//! Conversation tests of the leader side of Zab: a scripted learner on a
//! loopback socket speaks bare QuorumPacket records to our in-process
//! leader (as Java's Zab1_0Test does): epoch agreement, an empty DIFF,
//! NEWLEADER with the config, UPTODATE, then a forwarded createSession
//! proposed, acked and committed, a forwarded `sync` answered, and the
//! epoch files written. Bad first packets drop only that learner. A
//! learner older than the committed log gets DIFF from the txn log (or
//! SNAP when `snapshotSizeFactor` turns that off); the role's server is
//! freed when the role ends.

use std::io::{BufReader, BufWriter, Write};
use std::net::TcpStream;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::thread;
use std::time::{Duration, Instant};

use zookeeper::config::system_properties::SystemProperties;
use zookeeper::jute::quorum::QuorumPacket;
use zookeeper::jute::{InputArchive, OutputArchive};
use zookeeper::quorum::quorum_error::QuorumError;
use zookeeper::quorum::quorum_packet::{self as qp, packet};
use zookeeper::quorum::quorum_peer::{QuorumPeer, RoleContext, RoleSettings, ServingSlot};
use zookeeper::quorum::quorum_peer_config::{read_config_files, QuorumPeerConfig};
use zookeeper::quorum::vote::{ServerState, Vote};
use zookeeper::quorum::{leader, quorum_client_port};
use zookeeper::server::zk_database::ZkDatabase;
use zookeeper::server::zookeeper_server::ZooKeeperServer;
use zookeeper::zoo_defs::op_code;

#[path = "persistence_util.rs"]
mod persistence_util;

/// The peer's real client port, remembering (weakly) every server a role
/// published through it.
struct NoPort {
    published: Mutex<Vec<Weak<ZooKeeperServer>>>,
    port: Mutex<Option<Arc<dyn ServingSlot>>>,
}

impl ServingSlot for NoPort {
    fn set_server(&self, s: Option<Arc<ZooKeeperServer>>) {
        if let Some(s) = &s {
            self.published.lock().unwrap().push(Arc::downgrade(s));
        }
        if let Some(port) = self.port.lock().unwrap().as_ref() {
            port.set_server(s);
        }
    }
}

#[path = "port_util.rs"]
mod port_util;

use port_util::free_port;

/// Our leader (sid 1) of a 3-voter ensemble, running `lead` on a thread.
struct LeaderUnderTest {
    dir: PathBuf,
    quorum_port: u16,
    peer: Arc<QuorumPeer>,
    port: Arc<NoPort>,
    thread: Option<thread::JoinHandle<QuorumError>>,
}

impl LeaderUnderTest {
    fn start(tag: &str) -> LeaderUnderTest {
        LeaderUnderTest::start_with(tag, "", |_| {})
    }

    /// With extra zoo.cfg lines, after `seed` wrote into `version-2/`.
    fn start_with(
        tag: &str,
        extra_cfg: &str,
        seed: impl FnOnce(&std::path::Path),
    ) -> LeaderUnderTest {
        static N: AtomicU64 = AtomicU64::new(0);
        let dir = std::env::temp_dir().join(format!(
            "zab-leader-{}-{}-{}",
            tag,
            std::process::id(),
            N.fetch_add(1, Ordering::SeqCst)
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("data")).unwrap();
        std::fs::write(dir.join("data/myid"), "1").unwrap();
        std::fs::create_dir_all(dir.join("data/version-2")).unwrap();
        seed(&dir.join("data/version-2"));
        let ports: Vec<(u16, u16)> = (0..3).map(|_| (free_port(), free_port())).collect();
        let mut cfg = format!(
            "tickTime=200\ninitLimit=10\nsyncLimit=5\ndataDir={}\nclientPort={}\nforceSync=no\nsnapshot.trust.empty=true\n{}",
            dir.join("data").display(),
            free_port(),
            extra_cfg
        );
        for (i, (q, e)) in ports.iter().enumerate() {
            cfg.push_str(&format!("server.{}=127.0.0.1:{}:{}\n", i + 1, q, e));
        }
        let cfg_path = dir.join("zoo.cfg");
        std::fs::write(&cfg_path, cfg).unwrap();
        let files = read_config_files(&cfg_path).unwrap();
        let config =
            QuorumPeerConfig::from_files(&files, Some(&cfg_path), &SystemProperties::new())
                .unwrap();
        let db = Arc::new(ZkDatabase::open(&config.server).unwrap());
        db.enable_committed_log();
        db.load_database().unwrap();
        let tick = Duration::from_millis(200);
        let role = RoleSettings {
            tick,
            listen_on_all_ips: false,
        };
        let peer = Arc::new(QuorumPeer::new(
            1,
            config.learner_type,
            Arc::new(config.verifier.clone()),
            0,
            0,
            0,
            role,
        ));
        peer.set_current_vote(Vote::new(1, 0, 1, 0));
        peer.set_state(ServerState::Leading);
        let client_port = quorum_client_port::start(
            config.server.client_port_address,
            Arc::clone(&peer),
            &config.server,
        )
        .expect("the client port");
        let port = Arc::new(NoPort {
            published: Mutex::new(Vec::new()),
            port: Mutex::new(Some(client_port)),
        });
        peer.attach_roles(RoleContext {
            db,
            config: Arc::new(config),
            serving: port.clone(),
        });
        let p = Arc::clone(&peer);
        let ctx_thread = thread::spawn(move || {
            let ctx = p.role_context().expect("attached");
            leader::lead(&p, &ctx)
        });
        LeaderUnderTest {
            dir,
            quorum_port: ports[0].0,
            peer,
            port,
            thread: Some(ctx_thread),
        }
    }

    fn connect(&self) -> Learner {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            match TcpStream::connect(("127.0.0.1", self.quorum_port)) {
                Ok(s) => {
                    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
                    return Learner {
                        ia: InputArchive::new(BufReader::new(s.try_clone().unwrap())),
                        oa: OutputArchive::new(BufWriter::new(s)),
                    };
                }
                Err(_) if Instant::now() < deadline => thread::sleep(Duration::from_millis(50)),
                Err(e) => panic!("cannot reach the leader: {}", e),
            }
        }
    }

    fn epoch_file(&self, name: &str) -> String {
        std::fs::read_to_string(self.dir.join("data/version-2").join(name)).unwrap_or_default()
    }
}

impl Drop for LeaderUnderTest {
    fn drop(&mut self) {
        self.peer.shutdown();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

struct Learner {
    ia: InputArchive<BufReader<TcpStream>>,
    oa: OutputArchive<BufWriter<TcpStream>>,
}

impl Learner {
    fn send(&mut self, p: QuorumPacket) {
        qp::write_packet(&mut self.oa, &p).unwrap();
        self.oa.inner_mut().flush().unwrap();
    }

    /// The next packet that is not a PING.
    fn recv(&mut self) -> QuorumPacket {
        loop {
            let p = qp::read_packet(&mut self.ia).expect("a packet from the leader");
            if p.r#type != qp::PING {
                return p;
            }
        }
    }

    /// FOLLOWERINFO → LEADERINFO → ACKEPOCH → DIFF, NEWLEADER → ACK → UPTODATE.
    fn join(&mut self, sid: i64, config_text: &str) {
        self.send(packet(
            qp::FOLLOWERINFO,
            0,
            Some(qp::learner_info_data(sid, 0)),
        ));
        let li = self.recv();
        assert_eq!((li.r#type, li.zxid), (qp::LEADERINFO, 1 << 32));
        assert_eq!(li.data.as_deref(), Some(&[0u8, 1, 0, 0][..]));
        self.send(packet(qp::ACKEPOCH, 0, Some(qp::int_data(0))));
        let diff = self.recv();
        assert_eq!(
            (diff.r#type, diff.zxid),
            (qp::DIFF, 0),
            "empty databases: DIFF 0x0"
        );
        let nl = self.recv();
        assert_eq!((nl.r#type, nl.zxid), (qp::NEWLEADER, 1 << 32));
        let text = String::from_utf8(nl.data.unwrap()).unwrap();
        assert_eq!(text, config_text);
        self.send(packet(qp::ACK, 1 << 32, None));
        let up = self.recv();
        assert_eq!((up.r#type, up.zxid), (qp::UPTODATE, -1));
        self.send(packet(qp::ACK, 1 << 32, None));
    }
}

#[test]
fn learner_joins_then_forwarded_writes_are_proposed_and_committed() {
    let l = LeaderUnderTest::start("join");
    let mut f = l.connect();
    f.join(2, &l.peer.config_text());
    assert_eq!(l.epoch_file("acceptedEpoch"), "1");
    assert_eq!(l.epoch_file("currentEpoch"), "1");

    let session = 0x0200_0000_0000_0001_i64;
    let req = qp::ForwardedRequest {
        session_id: session,
        cxid: 0,
        op: op_code::CREATE_SESSION,
        body: 30000i32.to_be_bytes().to_vec(),
    };
    f.send(packet(qp::REQUEST, -1, Some(qp::encode_request(&req))));
    let prop = f.recv();
    assert_eq!((prop.r#type, prop.zxid), (qp::PROPOSAL, (1 << 32) | 1));
    let txn = zookeeper::jute::txn::TxnLogEntry::from_bytes(prop.data.as_deref().unwrap()).unwrap();
    assert_eq!(
        (txn.header.client_id, txn.header.r#type),
        (session, op_code::CREATE_SESSION)
    );
    // The leader acked itself after its fsync; ours makes the quorum.
    f.send(packet(qp::ACK, prop.zxid, None));
    let commit = f.recv();
    assert_eq!((commit.r#type, commit.zxid), (qp::COMMIT, prop.zxid));

    // A forwarded sync with nothing outstanding is answered at once.
    let sync = qp::ForwardedRequest {
        session_id: session,
        cxid: 1,
        op: op_code::SYNC,
        body: Vec::new(),
    };
    f.send(packet(qp::REQUEST, -1, Some(qp::encode_request(&sync))));
    let s = f.recv();
    assert_eq!((s.r#type, s.zxid), (qp::SYNC, 0));

    // REVALIDATE of the live session: valid.
    f.send(packet(
        qp::REVALIDATE,
        -1,
        Some(qp::encode_revalidate(session, 30000)),
    ));
    let r = f.recv();
    assert_eq!(r.r#type, qp::REVALIDATE);
    assert_eq!(
        qp::decode_revalidate_reply(r.data.as_deref()),
        Some((session, true))
    );
    f.send(packet(
        qp::REVALIDATE,
        -1,
        Some(qp::encode_revalidate(0x0300_0000_0000_0009, 30000)),
    ));
    let r = f.recv();
    assert_eq!(
        qp::decode_revalidate_reply(r.data.as_deref()),
        Some((0x0300_0000_0000_0009, false))
    );
}

#[test]
fn a_bad_first_packet_drops_only_that_learner() {
    let l = LeaderUnderTest::start("bad");
    let mut bad = l.connect();
    bad.send(packet(qp::ACK, 5, None));
    assert!(
        qp::read_packet(&mut bad.ia).is_err(),
        "the leader closes a learner whose first packet is wrong"
    );
    let mut garbage = l.connect();
    garbage
        .oa
        .inner_mut()
        .write_all(&[0, 0, 0, 11, 0xff, 0xff])
        .unwrap();
    drop(garbage);
    let mut f = l.connect();
    f.join(2, &l.peer.config_text());
}

/// Epoch 1's txns 0x100000001..=0x100000000+n in the leader's txn log.
fn seed_log(n: i64) -> impl FnOnce(&std::path::Path) {
    move |dir| {
        use zookeeper::persistence::file_txn_log::{FileTxnLog, TxnLogOptions};
        let mut log = FileTxnLog::new(
            dir,
            TxnLogOptions {
                pre_alloc_size: 0,
                ..Default::default()
            },
        );
        for entry in persistence_util::workload_txns((1 << 32) + 1, n) {
            log.append(&entry).unwrap();
        }
        log.commit().unwrap();
        log.close().unwrap();
    }
}

/// Discovery for a learner whose log ends at `last_zxid` (epoch 1
/// accepted, current epoch reported as 0 so it is not ahead of the
/// leader); returns the first sync packet.
fn discover_from(f: &mut Learner, last_zxid: i64) -> QuorumPacket {
    f.send(packet(
        qp::FOLLOWERINFO,
        1 << 32,
        Some(qp::learner_info_data(2, 0)),
    ));
    let li = f.recv();
    assert_eq!((li.r#type, li.zxid), (qp::LEADERINFO, 2 << 32));
    f.send(packet(qp::ACKEPOCH, last_zxid, Some(qp::int_data(0))));
    f.recv()
}

#[test]
fn a_learner_older_than_the_committed_log_gets_diff_from_the_txn_log() {
    // 600 txns: the committed log keeps the last 500, the learner has 4.
    let last = (1i64 << 32) + 600;
    let l = LeaderUnderTest::start_with("txnlog", "", seed_log(600));
    let mut f = l.connect();
    let first = discover_from(&mut f, (1 << 32) + 4);
    assert_eq!(
        (first.r#type, first.zxid),
        (qp::DIFF, last),
        "DIFF up to the last committed txn"
    );
    for zxid in (1i64 << 32) + 5..=last {
        let p = f.recv();
        assert_eq!((p.r#type, p.zxid), (qp::PROPOSAL, zxid));
        let txn =
            zookeeper::jute::txn::TxnLogEntry::from_bytes(p.data.as_deref().unwrap()).unwrap();
        assert_eq!(txn.header.zxid, zxid, "the logged txn itself");
        let c = f.recv();
        assert_eq!((c.r#type, c.zxid), (qp::COMMIT, zxid));
    }
    let nl = f.recv();
    assert_eq!((nl.r#type, nl.zxid), (qp::NEWLEADER, 2 << 32));
}

#[test]
fn without_txn_log_sync_an_old_learner_gets_a_snapshot_stream() {
    let last = (1i64 << 32) + 600;
    let l = LeaderUnderTest::start_with("snapsync", "snapshotSizeFactor=-1\n", seed_log(600));
    let mut f = l.connect();
    let first = discover_from(&mut f, (1 << 32) + 4);
    assert_eq!((first.r#type, first.zxid), (qp::SNAP, last));
    let count = f.ia.read_int().unwrap();
    for _ in 0..count {
        f.ia.read_long().unwrap();
        f.ia.read_int().unwrap();
    }
    let tree = zookeeper::server::data_tree::DataTree::deserialize(&mut f.ia).unwrap();
    assert_eq!(f.ia.read_string().unwrap(), "BenWasHere");
    assert!(
        tree.get_node("/n00010").is_some() && tree.get_node("/n00590").is_some(),
        "the whole tree"
    );
    let config = tree
        .get_node("/zookeeper/config")
        .and_then(|n| n.data().map(<[u8]>::to_vec))
        .unwrap_or_default();
    assert_eq!(
        String::from_utf8(config).unwrap(),
        l.peer.config_text(),
        "the leader's config node"
    );
    let nl = f.recv();
    assert_eq!((nl.r#type, nl.zxid), (qp::NEWLEADER, 2 << 32));
}

#[test]
fn the_role_server_is_freed_when_the_role_ends() {
    let mut l = LeaderUnderTest::start("free");
    let mut f = l.connect();
    f.join(2, &l.peer.config_text());
    let deadline = Instant::now() + Duration::from_secs(10);
    while l.port.published.lock().unwrap().is_empty() {
        assert!(Instant::now() < deadline, "the leader never served");
        thread::sleep(Duration::from_millis(20));
    }
    drop(f);
    l.peer.shutdown();
    let reason = l.thread.take().unwrap().join().unwrap();
    assert!(!reason.to_string().is_empty());
    let deadline = Instant::now() + Duration::from_secs(10);
    while l
        .port
        .published
        .lock()
        .unwrap()
        .iter()
        .any(|w| w.upgrade().is_some())
    {
        assert!(Instant::now() < deadline, "the leader's ZooKeeperServer (published on the client port) is still alive after the role ended");
        thread::sleep(Duration::from_millis(50));
    }
}

/// `n` creates of `size`-byte nodes in epoch 1 (a snapshot of n x size).
fn seed_big(n: i64, size: usize) -> impl FnOnce(&std::path::Path) {
    move |dir| {
        use zookeeper::jute::data::{Acl, Id};
        use zookeeper::jute::txn::{CreateTxn, TxnBody, TxnHeader, TxnLogEntry};
        use zookeeper::persistence::file_txn_log::{FileTxnLog, TxnLogOptions};
        let mut log = FileTxnLog::new(
            dir,
            TxnLogOptions {
                pre_alloc_size: 0,
                ..Default::default()
            },
        );
        let acl = vec![Acl {
            perms: 31,
            id: Id {
                scheme: "world".into(),
                id: "anyone".into(),
            },
        }];
        for k in 0..n {
            let zxid = (1i64 << 32) + 1 + k;
            let header = TxnHeader {
                client_id: 0,
                cxid: k as i32,
                zxid,
                time: 0,
                r#type: op_code::CREATE,
            };
            let body = TxnBody::Create(CreateTxn {
                path: format!("/big{:06}", k),
                data: Some(vec![b'x'; size]),
                acl: acl.clone(),
                ephemeral: false,
                parent_c_version: -1,
            });
            log.append(&TxnLogEntry {
                header,
                body,
                digest: None,
            })
            .unwrap();
        }
        log.commit().unwrap();
        log.close().unwrap();
    }
}

/// Reads a SNAP's sessions, tree and signature, then completes the sync
/// (NEWLEADER, ACK, UPTODATE, ACK).
fn finish_snap_sync(f: &mut Learner) {
    let count = f.ia.read_int().unwrap();
    for _ in 0..count {
        f.ia.read_long().unwrap();
        f.ia.read_int().unwrap();
    }
    zookeeper::server::data_tree::DataTree::deserialize(&mut f.ia).unwrap();
    assert_eq!(f.ia.read_string().unwrap(), "BenWasHere");
    let nl = f.recv();
    assert_eq!(nl.r#type, qp::NEWLEADER);
    f.send(packet(qp::ACK, nl.zxid, None));
    let up = f.recv();
    assert_eq!(up.r#type, qp::UPTODATE);
    f.send(packet(qp::ACK, nl.zxid, None));
}

#[test]
fn a_learner_that_stops_reading_a_snapshot_is_dropped_and_the_leader_goes_on() {
    // 64 MiB of snapshot: far more than the two sockets' buffers hold.
    let (nodes, size) = (8 * 1024, 8 * 1024);
    let l =
        LeaderUnderTest::start_with("stalled", "snapshotSizeFactor=-1\n", seed_big(nodes, size));
    // A healthy follower makes the quorum.
    let mut f = l.connect();
    let first = discover_from(&mut f, (1 << 32) + 4);
    assert_eq!(first.r#type, qp::SNAP);
    finish_snap_sync(&mut f);
    // It answers pings from here on (on its own thread), so the leader
    // keeps its quorum while the test waits.
    let Learner { mut ia, oa } = f;
    let oa = Arc::new(Mutex::new(oa));
    let (tx, seen) = std::sync::mpsc::channel();
    let pong = Arc::clone(&oa);
    thread::spawn(move || {
        while let Ok(p) = qp::read_packet(&mut ia) {
            if p.r#type == qp::PING {
                let mut w = pong.lock().unwrap();
                let _ = qp::write_packet(&mut *w, &packet(qp::PING, p.zxid, None));
                let _ = w.inner_mut().flush();
            } else if tx.send(p).is_err() {
                break;
            }
        }
    });
    // A second learner takes the snapshot's first packet, then stops
    // reading. The leader's sends to it time out after initLimit x
    // tickTime (10 x 200 ms) without progress; while the kernel still
    // squeezes the receive queue a send may trickle on for a few rounds,
    // so the learner stays silent well past that.
    let mut stalled = l.connect();
    stalled.send(packet(
        qp::FOLLOWERINFO,
        1 << 32,
        Some(qp::learner_info_data(3, 0)),
    ));
    let li = stalled.recv();
    assert_eq!(li.r#type, qp::LEADERINFO);
    stalled.send(packet(qp::ACKEPOCH, (1 << 32) + 4, Some(qp::int_data(0))));
    assert_eq!(stalled.recv().r#type, qp::SNAP);
    thread::sleep(Duration::from_secs(12));
    // What the leader sent before it gave up is still in the buffers;
    // after that the connection must end, long before the whole snapshot.
    stalled
        .ia
        .inner_mut()
        .get_mut()
        .set_read_timeout(Some(Duration::from_secs(20)))
        .unwrap();
    let mut total = 0usize;
    let mut buf = vec![0u8; 1 << 16];
    let ended = loop {
        match std::io::Read::read(&mut stalled.ia.inner_mut(), &mut buf) {
            Ok(0) => break true,
            Ok(n) => total += n,
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => break true,
            Err(_) => break false,
        }
        if total > nodes as usize * size {
            break false;
        }
    };
    assert!(
        ended,
        "the leader never dropped the stalled learner ({} bytes read)",
        total
    );
    assert!(
        total < nodes as usize * size / 2,
        "the leader dropped it only after {} bytes",
        total
    );
    // The leader still leads with the healthy follower: a forwarded write
    // is proposed to it.
    let session = 0x0200_0000_0000_0001_i64;
    let req = qp::ForwardedRequest {
        session_id: session,
        cxid: 0,
        op: op_code::CREATE_SESSION,
        body: 30000i32.to_be_bytes().to_vec(),
    };
    qp::write_packet(
        &mut *oa.lock().unwrap(),
        &packet(qp::REQUEST, -1, Some(qp::encode_request(&req))),
    )
    .unwrap();
    oa.lock().unwrap().inner_mut().flush().unwrap();
    let prop = seen
        .recv_timeout(Duration::from_secs(10))
        .expect("a packet after the stalled learner was dropped");
    assert_eq!(prop.r#type, qp::PROPOSAL, "the leader goes on");
}

/// Forwards one request and lets the learner ack its proposal; returns the
/// proposed txn once committed.
fn forward(
    f: &mut Learner,
    session: i64,
    cxid: i32,
    op: i32,
    body: Vec<u8>,
) -> zookeeper::jute::txn::TxnLogEntry {
    let req = qp::ForwardedRequest {
        session_id: session,
        cxid,
        op,
        body,
    };
    f.send(packet(qp::REQUEST, -1, Some(qp::encode_request(&req))));
    let prop = f.recv();
    assert_eq!(prop.r#type, qp::PROPOSAL);
    f.send(packet(qp::ACK, prop.zxid, None));
    let commit = f.recv();
    assert_eq!((commit.r#type, commit.zxid), (qp::COMMIT, prop.zxid));
    zookeeper::jute::txn::TxnLogEntry::from_bytes(prop.data.as_deref().unwrap()).unwrap()
}

#[test]
fn a_learner_cannot_forward_the_internal_delete_container() {
    use zookeeper::jute::data::{Acl, Id};
    use zookeeper::jute::proto::{CreateRequest, DeleteRequest};
    use zookeeper::jute::txn::TxnBody;
    use zookeeper::server::prep_request_processor::delete_container_payload;

    let l = LeaderUnderTest::start("container");
    let mut f = l.connect();
    f.join(2, &l.peer.config_text());
    let session = 0x0200_0000_0000_0002_i64;
    forward(
        &mut f,
        session,
        0,
        op_code::CREATE_SESSION,
        30000i32.to_be_bytes().to_vec(),
    );
    let open = vec![Acl {
        perms: 31,
        id: Id {
            scheme: "world".into(),
            id: "anyone".into(),
        },
    }];
    let create = CreateRequest {
        path: "/c".into(),
        data: None,
        acl: open,
        flags: 4,
    };
    let txn = forward(
        &mut f,
        session,
        1,
        op_code::CREATE_CONTAINER,
        zookeeper::jute::to_bytes(&create),
    );
    assert_eq!(txn.header.r#type, op_code::CREATE_CONTAINER);
    // The container manager's own payload, then a client's DeleteRequest:
    // both refused with BADARGUMENTS (an error txn), the container kept.
    let delete = DeleteRequest {
        path: "/c".into(),
        version: -1,
    };
    for (cxid, body) in [
        (2, delete_container_payload("/c")),
        (3, zookeeper::jute::to_bytes(&delete)),
    ] {
        let txn = forward(&mut f, session, cxid, op_code::DELETE_CONTAINER, body);
        assert_eq!(
            txn.header.r#type,
            op_code::ERROR,
            "a learner's deleteContainer must not become a delete txn"
        );
        match txn.body {
            TxnBody::Error(e) => assert_eq!(e.err, -8),
            other => panic!("expected an error txn, got {:?}", other),
        }
    }
    // The leader applies a commit after sending it: wait for the create.
    let zk = l
        .port
        .published
        .lock()
        .unwrap()
        .iter()
        .rev()
        .find_map(|w| w.upgrade())
        .expect("the leader serves");
    let deadline = Instant::now() + Duration::from_secs(10);
    while zk.server_state().zkdb.tree.read().get_node("/c").is_none() {
        assert!(Instant::now() < deadline, "the container is not there");
        thread::sleep(Duration::from_millis(20));
    }
}
