//! Conversation tests of the learner side of Zab: a scripted leader on a
//! loopback socket speaks bare QuorumPacket records to our in-process
//! Follower/Observer (as Java's Zab1_0Test does), through each sync path
//! (DIFF, TRUNC, SNAP) and then the broadcast phase: proposals, acks after
//! the log, commits applied, pings answered with session touches, client
//! writes forwarded as REQUEST and answered when committed, `sync`.

use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use parking_lot::{Condvar, Mutex};

use zookeeper::config::server_config::ServerConfig;
use zookeeper::jute::data::ids;
use zookeeper::jute::data::Id;
use zookeeper::jute::proto::{
    ConnectRequest, ConnectResponse, CreateRequest, CreateResponse, GetDataRequest, ReplyHeader,
    RequestHeader, SyncRequest,
};
use zookeeper::jute::quorum::{LearnerInfo, QuorumPacket};
use zookeeper::jute::txn::{CreateSessionTxn, CreateTxn, TxnBody, TxnHeader, TxnLogEntry};
use zookeeper::jute::{self, InputArchive, OutputArchive, Record};
use zookeeper::quorum::learner::{
    EpochStore, FileEpochs, LearnerContext, LearnerError, LearnerSettings,
};
use zookeeper::quorum::quorum_packet::{self as qp, packet};
use zookeeper::quorum::{follower, observer};
use zookeeper::server::data_tree::DataTree;
use zookeeper::server::server_cnxn::{CloseReason, ServerCnxn};
use zookeeper::server::watch::{WatchedEvent, Watcher};
use zookeeper::server::zk_database::ZkDatabase;
use zookeeper::server::zookeeper_server::ZooKeeperServer;
use zookeeper::zoo_defs::op_code;

const EPOCH: i64 = 1;

/// The learner's own config (written into /zookeeper/config after sync).
const LOCAL_CONFIG: &str =
    "server.1=127.0.0.1:1:2:participant\nserver.2=127.0.0.1:3:4:participant\nversion=0";

fn z(counter: i64) -> i64 {
    (EPOCH << 32) | counter
}

/// A fresh dataDir with a loaded database.
struct Dir {
    path: PathBuf,
    config: ServerConfig,
}

impl Dir {
    fn new(tag: &str) -> Dir {
        static N: AtomicU64 = AtomicU64::new(0);
        let path = std::env::temp_dir().join(format!(
            "zab-learner-{}-{}-{}",
            tag,
            std::process::id(),
            N.fetch_add(1, Ordering::SeqCst)
        ));
        let _ = std::fs::remove_dir_all(&path);
        std::fs::create_dir_all(&path).unwrap();
        let mut config = ServerConfig::with_defaults(&path, "127.0.0.1:0".parse().unwrap());
        config.tick_time = 200;
        config.min_session_timeout = 400;
        config.max_session_timeout = 4000;
        config.force_sync = false;
        Dir { path, config }
    }

    fn open_db(&self) -> Arc<ZkDatabase> {
        let db = ZkDatabase::open(&self.config).unwrap();
        db.load_database().unwrap();
        Arc::new(db)
    }

    fn snap_dir(&self) -> PathBuf {
        self.path.join("version-2")
    }
}

impl Drop for Dir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.path);
    }
}

fn create_txn(session: i64, cxid: i32, zxid: i64, path: &str, data: &[u8]) -> TxnLogEntry {
    TxnLogEntry {
        header: TxnHeader {
            client_id: session,
            cxid,
            zxid,
            time: 1,
            r#type: op_code::CREATE,
        },
        body: TxnBody::Create(CreateTxn {
            path: path.into(),
            data: Some(data.to_vec()),
            acl: ids::open_acl_unsafe(),
            ephemeral: false,
            parent_c_version: 0,
        }),
        digest: None,
    }
}

fn session_txn(session: i64, zxid: i64, timeout: i32) -> TxnLogEntry {
    TxnLogEntry {
        header: TxnHeader {
            client_id: session,
            cxid: 0,
            zxid,
            time: 1,
            r#type: op_code::CREATE_SESSION,
        },
        body: TxnBody::CreateSession(CreateSessionTxn { time_out: timeout }),
        digest: None,
    }
}

/// The scripted leader's end of the quorum-port connection.
struct Leader {
    listener: TcpListener,
    conn: Option<(InputArchive<TcpStream>, OutputArchive<TcpStream>)>,
}

impl Leader {
    fn bind() -> Leader {
        Leader {
            listener: TcpListener::bind("127.0.0.1:0").unwrap(),
            conn: None,
        }
    }

    fn addr(&self) -> SocketAddr {
        self.listener.local_addr().unwrap()
    }

    fn accept(&mut self) {
        let (sock, _) = self.listener.accept().unwrap();
        sock.set_read_timeout(Some(Duration::from_secs(10)))
            .unwrap();
        let out = OutputArchive::new(sock.try_clone().unwrap());
        self.conn = Some((InputArchive::new(sock), out));
    }

    fn send(&mut self, p: QuorumPacket) {
        let (_, out) = self.conn.as_mut().unwrap();
        p.serialize(out).unwrap();
    }

    fn send_raw(&mut self, f: impl FnOnce(&mut OutputArchive<TcpStream>)) {
        let (_, out) = self.conn.as_mut().unwrap();
        f(out);
    }

    fn recv(&mut self) -> QuorumPacket {
        let (ia, _) = self.conn.as_mut().unwrap();
        QuorumPacket::deserialize(ia).expect("a packet from the learner")
    }

    fn expect(&mut self, t: i32) -> QuorumPacket {
        let p = self.recv();
        assert_eq!(qp::type_name(p.r#type), qp::type_name(t), "packet {:?}", p);
        p
    }

    fn proposal(&mut self, e: &TxnLogEntry) {
        self.send(packet(qp::PROPOSAL, e.header.zxid, Some(e.to_bytes())));
    }

    /// Discovery: FOLLOWERINFO/OBSERVERINFO → LEADERINFO → ACKEPOCH;
    /// returns the ACKEPOCH.
    fn discovery(&mut self, info_type: i32, my_id: i64) -> QuorumPacket {
        self.accept();
        let info = self.expect(info_type);
        assert_eq!(info.zxid, 0, "acceptedEpoch 0 << 32");
        let li: LearnerInfo = jute::from_bytes(info.data.as_deref().unwrap()).unwrap();
        assert_eq!(
            (li.serverid, li.protocol_version, li.config_version),
            (my_id, 0x10000, 0)
        );
        self.send(packet(
            qp::LEADERINFO,
            z(0),
            Some(qp::int_data(qp::PROTOCOL_VERSION)),
        ));
        let ack = self.expect(qp::ACKEPOCH);
        assert_eq!(
            qp::read_int_data(ack.data.as_deref()),
            Some(0),
            "my currentEpoch was 0"
        );
        ack
    }

    /// NEWLEADER → ACK, UPTODATE → ACK.
    fn finish_sync(&mut self) {
        self.send(packet(
            qp::NEWLEADER,
            z(0),
            Some(b"server.1=127.0.0.1:1:2:participant\nversion=0".to_vec()),
        ));
        assert_eq!(self.expect(qp::ACK).zxid, z(0), "NEWLEADER ack");
        self.send(packet(qp::UPTODATE, -1, None));
        assert_eq!(self.expect(qp::ACK).zxid, z(0), "UPTODATE ack");
    }

    fn close(&mut self) {
        if let Some((ia, _)) = self.conn.take() {
            let _ = ia.into_inner().shutdown(std::net::Shutdown::Both);
        }
    }
}

/// What the learner published for its clients.
#[derive(Default)]
struct Published {
    server: Mutex<Option<Arc<ZooKeeperServer>>>,
    withdrawn: AtomicBool,
}

impl Published {
    fn server(&self) -> Arc<ZooKeeperServer> {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            if let Some(s) = self.server.lock().clone() {
                return s;
            }
            assert!(
                Instant::now() < deadline,
                "the learner never published its server"
            );
            std::thread::sleep(Duration::from_millis(10));
        }
    }
}

/// Runs `role` against the scripted leader while `script` plays the
/// leader; returns the role's end and the epochs it left.
fn converse(
    dir: &Dir,
    db: Arc<ZkDatabase>,
    role: fn(&LearnerContext<'_>) -> LearnerError,
    script: impl FnOnce(&mut Leader, &Published) + Send,
) -> (LearnerError, Arc<FileEpochs>) {
    let mut leader = Leader::bind();
    let epochs = Arc::new(FileEpochs::new(Arc::clone(&db), 0, 0));
    let published = Published::default();
    let running = AtomicBool::new(true);
    let settings = LearnerSettings {
        my_id: 2,
        tick_ms: 200,
        init_limit: 25,
        sync_limit: 25,
        connect_limit: 0,
        config_version: 0,
        config_text: LOCAL_CONFIG.to_string(),
        connect_retry_delay: Duration::from_millis(50),
        tls: None,
    };
    let is_running = || running.load(Ordering::SeqCst);
    let publish = |s: Option<Arc<ZooKeeperServer>>| match s {
        Some(s) => *published.server.lock() = Some(s),
        None => published.withdrawn.store(true, Ordering::SeqCst),
    };
    let ctx = LearnerContext {
        settings,
        leader_addrs: vec![leader.addr()],
        leader_sid: 1,
        auth: None,
        db,
        config: dir.config.clone(),
        epochs: epochs.as_ref(),
        is_running: &is_running,
        publish: &publish,
        observer_master: None,
    };
    let reason = std::thread::scope(|s| {
        let learner = s.spawn(|| role(&ctx));
        script(&mut leader, &published);
        leader.close();
        learner.join().unwrap()
    });
    assert!(published.withdrawn.load(Ordering::SeqCst) || published.server.lock().is_none());
    (reason, epochs)
}

/// Polls until `f` holds (10 s).
fn eventually(what: &str, f: impl Fn() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while !f() {
        assert!(Instant::now() < deadline, "timed out: {}", what);
        std::thread::sleep(Duration::from_millis(10));
    }
}

fn node_data(db: &ZkDatabase, path: &str) -> Option<Vec<u8>> {
    db.tree
        .read()
        .get_data(path, None)
        .ok()
        .and_then(|(d, _)| d)
}

fn epoch_file(dir: &Path, name: &str) -> String {
    std::fs::read_to_string(dir.join(name)).unwrap_or_default()
}

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

/// A client connection that records what the server queues.
struct FakeCnxn {
    id: u64,
    session: AtomicI64,
    frames: Mutex<Vec<String>>,
    connect: Mutex<Option<(ConnectResponse, bool)>>,
    replies: Mutex<Vec<(ReplyHeader, Option<Vec<u8>>)>>,
    arrived: Condvar,
}

impl FakeCnxn {
    fn new() -> Arc<FakeCnxn> {
        static N: AtomicU64 = AtomicU64::new(1000);
        Arc::new(FakeCnxn {
            id: N.fetch_add(1, Ordering::SeqCst),
            session: AtomicI64::new(0),
            frames: Mutex::new(Vec::new()),
            connect: Mutex::new(None),
            replies: Mutex::new(Vec::new()),
            arrived: Condvar::new(),
        })
    }

    fn connect_response(&self) -> (ConnectResponse, bool) {
        let deadline = Instant::now() + Duration::from_secs(10);
        let mut c = self.connect.lock();
        while c.is_none() {
            assert!(
                !self.arrived.wait_until(&mut c, deadline).timed_out(),
                "no ConnectResponse"
            );
        }
        c.clone().unwrap()
    }

    fn reply(&self, xid: i32) -> (ReplyHeader, Option<Vec<u8>>) {
        let deadline = Instant::now() + Duration::from_secs(10);
        let mut r = self.replies.lock();
        loop {
            if let Some(found) = r.iter().find(|(h, _)| h.xid == xid) {
                return found.clone();
            }
            assert!(
                !self.arrived.wait_until(&mut r, deadline).timed_out(),
                "no reply to xid {}",
                xid
            );
        }
    }
}

impl Watcher for FakeCnxn {
    fn watcher_id(&self) -> u64 {
        self.id
    }
    fn process(&self, event: WatchedEvent) {
        self.frames.lock().push(format!("{:?}", event));
    }
    fn watcher_auth_info(&self) -> Vec<Id> {
        vec![]
    }
}

impl ServerCnxn for FakeCnxn {
    fn session_id(&self) -> i64 {
        self.session.load(Ordering::SeqCst)
    }
    fn set_session_id(&self, session_id: i64) {
        self.session.store(session_id, Ordering::SeqCst)
    }
    fn remote_addr(&self) -> SocketAddr {
        "127.0.0.1:40000".parse().unwrap()
    }
    fn auth_info(&self) -> Vec<Id> {
        vec![Id {
            scheme: "ip".into(),
            id: "127.0.0.1".into(),
        }]
    }
    fn add_auth_info(&self, _id: Id) {}
    fn send_response(&self, header: &ReplyHeader, body: Option<&[u8]>) {
        self.replies
            .lock()
            .push((header.clone(), body.map(<[u8]>::to_vec)));
        self.arrived.notify_all();
    }
    fn finish_session_init(&self, response: ConnectResponse, valid: bool) {
        *self.connect.lock() = Some((response, valid));
        self.arrived.notify_all();
    }
    fn close(&self, reason: CloseReason) {
        self.frames.lock().push(format!("closed {:?}", reason));
    }
}

#[test]
fn client_writes_are_forwarded_and_answered_on_commit() {
    let dir = Dir::new("client");
    let db = dir.open_db();
    let (_reason, _) = converse(&dir, db, follower::follow, |l, published| {
        l.discovery(qp::FOLLOWERINFO, 2);
        l.send(packet(qp::DIFF, 0, None));
        l.finish_sync();
        let zks = published.server();
        assert_eq!(zks.mode(), "follower");
        // createSession: forwarded, answered once the leader commits it.
        let cnxn = FakeCnxn::new();
        let dyn_cnxn: Arc<dyn ServerCnxn> = cnxn.clone();
        zks.process_connect_request(
            Arc::clone(&dyn_cnxn),
            ConnectRequest {
                time_out: 3000,
                passwd: Some(vec![0; 16]),
                ..Default::default()
            },
        );
        let fwd = l.expect(qp::REQUEST);
        let req = qp::decode_request(fwd.data.as_deref()).unwrap();
        assert_eq!(req.op, op_code::CREATE_SESSION);
        assert_eq!(req.session_id >> 56, 2, "my sid in the session id");
        assert_eq!(req.body, 3000i32.to_be_bytes().to_vec());
        let session = req.session_id;
        l.proposal(&session_txn(session, z(1), 3000));
        assert_eq!(l.expect(qp::ACK).zxid, z(1));
        l.send(packet(qp::COMMIT, z(1), None));
        let (resp, valid) = cnxn.connect_response();
        assert!(valid);
        assert_eq!((resp.session_id, resp.time_out), (session, 3000));
        // A create: forwarded with the client's bytes, answered on commit.
        let create = CreateRequest {
            path: "/w".into(),
            data: Some(b"v".to_vec()),
            acl: ids::open_acl_unsafe(),
            flags: 0,
        };
        zks.process_packet(
            &dyn_cnxn,
            RequestHeader {
                xid: 1,
                r#type: op_code::CREATE,
            },
            jute::to_bytes(&create),
        );
        // A read behind it waits for the write (same session).
        zks.process_packet(
            &dyn_cnxn,
            RequestHeader {
                xid: 2,
                r#type: op_code::GET_DATA,
            },
            jute::to_bytes(&GetDataRequest {
                path: "/w".into(),
                watch: false,
            }),
        );
        let fwd = l.expect(qp::REQUEST);
        let req = qp::decode_request(fwd.data.as_deref()).unwrap();
        assert_eq!(
            (req.session_id, req.cxid, req.op),
            (session, 1, op_code::CREATE)
        );
        assert_eq!(req.body, jute::to_bytes(&create));
        assert!(
            fwd.authinfo.iter().any(|id| id.scheme == "ip"),
            "authinfo carries the client's ids"
        );
        std::thread::sleep(Duration::from_millis(100));
        assert!(
            cnxn.replies.lock().is_empty(),
            "nothing answered before the commit"
        );
        l.proposal(&create_txn(session, 1, z(2), "/w", b"v"));
        assert_eq!(l.expect(qp::ACK).zxid, z(2));
        l.send(packet(qp::COMMIT, z(2), None));
        let (h, body) = cnxn.reply(1);
        assert_eq!((h.err, h.zxid), (0, z(2)));
        assert_eq!(
            jute::from_bytes::<CreateResponse>(&body.unwrap())
                .unwrap()
                .path,
            "/w"
        );
        let (h, _) = cnxn.reply(2);
        assert_eq!(h.err, 0, "the read saw the write");
        // sync: forwarded, answered when the leader says SYNC.
        zks.process_packet(
            &dyn_cnxn,
            RequestHeader {
                xid: 3,
                r#type: op_code::SYNC,
            },
            jute::to_bytes(&SyncRequest { path: "/w".into() }),
        );
        let fwd = l.expect(qp::REQUEST);
        assert_eq!(
            qp::decode_request(fwd.data.as_deref()).unwrap().op,
            op_code::SYNC
        );
        l.send(packet(qp::SYNC, 0, None));
        assert_eq!(cnxn.reply(3).0.err, 0);
        // The session was touched: the next PING reply says so.
        l.send(packet(qp::PING, z(2), None));
        let pong = l.expect(qp::PING);
        assert_eq!(
            qp::decode_session_touches(pong.data.as_deref()),
            vec![(session, 3000)]
        );
        // A commit of another server's client applies without a reply here.
        l.proposal(&create_txn(0x1_0000_0000_0077, 5, z(3), "/other", b"o"));
        assert_eq!(l.expect(qp::ACK).zxid, z(3));
        l.send(packet(qp::COMMIT, z(3), None));
        eventually("/other applied", || {
            node_data(zks.zk_database(), "/other").is_some()
        });
    });
}

#[test]
fn reconnecting_client_is_revalidated_by_the_leader() {
    let dir = Dir::new("reval");
    let db = dir.open_db();
    converse(&dir, db, follower::follow, |l, published| {
        l.discovery(qp::FOLLOWERINFO, 2);
        l.send(packet(qp::DIFF, 0, None));
        l.finish_sync();
        let zks = published.server();
        let session = 0x0300_0000_0000_0001;
        let passwd = zookeeper::server::final_request_processor::generate_passwd(session);
        let cnxn = FakeCnxn::new();
        zks.process_connect_request(
            cnxn.clone(),
            ConnectRequest {
                time_out: 3000,
                session_id: session,
                passwd: Some(passwd),
                ..Default::default()
            },
        );
        let p = l.expect(qp::REVALIDATE);
        assert_eq!(
            qp::decode_revalidate(p.data.as_deref()),
            Some((session, 3000))
        );
        l.send(packet(
            qp::REVALIDATE,
            -1,
            Some(qp::encode_revalidate_reply(session, true)),
        ));
        let (resp, valid) = cnxn.connect_response();
        assert!(valid);
        assert_eq!(resp.session_id, session);
        // An unknown session is refused by the leader.
        let other = 0x0300_0000_0000_0002;
        let cnxn2 = FakeCnxn::new();
        let passwd = zookeeper::server::final_request_processor::generate_passwd(other);
        zks.process_connect_request(
            cnxn2.clone(),
            ConnectRequest {
                time_out: 3000,
                session_id: other,
                passwd: Some(passwd),
                ..Default::default()
            },
        );
        l.expect(qp::REVALIDATE);
        l.send(packet(
            qp::REVALIDATE,
            -1,
            Some(qp::encode_revalidate_reply(other, false)),
        ));
        assert!(!cnxn2.connect_response().1);
    });
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
