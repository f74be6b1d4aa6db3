//! Helpers of the learner-side Zab tests (`zab_learner.rs`,
//! `zab_learner_clients.rs`): a dataDir with a loaded database, txns to
//! send, the scripted leader's end of the quorum-port connection, and
//! [`converse`], which runs a Follower/Observer role against it.
#![allow(dead_code)]

use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use parking_lot::Mutex;

use zookeeper::config::server_config::ServerConfig;
use zookeeper::jute::data::ids;
use zookeeper::jute::quorum::{LearnerInfo, QuorumPacket};
use zookeeper::jute::txn::{CreateSessionTxn, CreateTxn, TxnBody, TxnHeader, TxnLogEntry};
use zookeeper::jute::{self, InputArchive, OutputArchive, Record};
use zookeeper::quorum::learner::{FileEpochs, LearnerContext, LearnerError, LearnerSettings};
use zookeeper::quorum::quorum_packet::{self as qp, packet};
use zookeeper::server::zk_database::ZkDatabase;
use zookeeper::server::zookeeper_server::ZooKeeperServer;
use zookeeper::zoo_defs::op_code;

pub const EPOCH: i64 = 1;

/// The learner's own config (written into /zookeeper/config after sync).
pub const LOCAL_CONFIG: &str =
    "server.1=127.0.0.1:1:2:participant\nserver.2=127.0.0.1:3:4:participant\nversion=0";

pub fn z(counter: i64) -> i64 {
    (EPOCH << 32) | counter
}

/// A fresh dataDir with a loaded database.
pub struct Dir {
    pub path: PathBuf,
    pub config: ServerConfig,
}

impl Dir {
    pub fn new(tag: &str) -> Dir {
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

    pub fn open_db(&self) -> Arc<ZkDatabase> {
        let db = ZkDatabase::open(&self.config).unwrap();
        db.load_database().unwrap();
        Arc::new(db)
    }

    pub fn snap_dir(&self) -> PathBuf {
        self.path.join("version-2")
    }
}

impl Drop for Dir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.path);
    }
}

pub fn create_txn(session: i64, cxid: i32, zxid: i64, path: &str, data: &[u8]) -> TxnLogEntry {
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

pub fn session_txn(session: i64, zxid: i64, timeout: i32) -> TxnLogEntry {
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
pub struct Leader {
    pub listener: TcpListener,
    pub conn: Option<(InputArchive<TcpStream>, OutputArchive<TcpStream>)>,
}

impl Leader {
    pub fn bind() -> Leader {
        Leader {
            listener: TcpListener::bind("127.0.0.1:0").unwrap(),
            conn: None,
        }
    }

    pub fn addr(&self) -> SocketAddr {
        self.listener.local_addr().unwrap()
    }

    pub fn accept(&mut self) {
        let (sock, _) = self.listener.accept().unwrap();
        sock.set_read_timeout(Some(Duration::from_secs(10)))
            .unwrap();
        let out = OutputArchive::new(sock.try_clone().unwrap());
        self.conn = Some((InputArchive::new(sock), out));
    }

    pub fn send(&mut self, p: QuorumPacket) {
        let (_, out) = self.conn.as_mut().unwrap();
        p.serialize(out).unwrap();
    }

    pub fn send_raw(&mut self, f: impl FnOnce(&mut OutputArchive<TcpStream>)) {
        let (_, out) = self.conn.as_mut().unwrap();
        f(out);
    }

    pub fn recv(&mut self) -> QuorumPacket {
        let (ia, _) = self.conn.as_mut().unwrap();
        QuorumPacket::deserialize(ia).expect("a packet from the learner")
    }

    pub fn expect(&mut self, t: i32) -> QuorumPacket {
        let p = self.recv();
        assert_eq!(qp::type_name(p.r#type), qp::type_name(t), "packet {:?}", p);
        p
    }

    pub fn proposal(&mut self, e: &TxnLogEntry) {
        self.send(packet(qp::PROPOSAL, e.header.zxid, Some(e.to_bytes())));
    }

    /// Discovery: FOLLOWERINFO/OBSERVERINFO → LEADERINFO → ACKEPOCH;
    /// returns the ACKEPOCH.
    pub fn discovery(&mut self, info_type: i32, my_id: i64) -> QuorumPacket {
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
    pub fn finish_sync(&mut self) {
        self.send(packet(
            qp::NEWLEADER,
            z(0),
            Some(b"server.1=127.0.0.1:1:2:participant\nversion=0".to_vec()),
        ));
        assert_eq!(self.expect(qp::ACK).zxid, z(0), "NEWLEADER ack");
        self.send(packet(qp::UPTODATE, -1, None));
        assert_eq!(self.expect(qp::ACK).zxid, z(0), "UPTODATE ack");
    }

    pub fn close(&mut self) {
        if let Some((ia, _)) = self.conn.take() {
            let _ = ia.into_inner().shutdown(std::net::Shutdown::Both);
        }
    }
}

/// What the learner published for its clients.
#[derive(Default)]
pub struct Published {
    pub server: Mutex<Option<Arc<ZooKeeperServer>>>,
    pub withdrawn: AtomicBool,
}

impl Published {
    pub fn server(&self) -> Arc<ZooKeeperServer> {
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
pub fn converse(
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
pub fn eventually(what: &str, f: impl Fn() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while !f() {
        assert!(Instant::now() < deadline, "timed out: {}", what);
        std::thread::sleep(Duration::from_millis(10));
    }
}

pub fn node_data(db: &ZkDatabase, path: &str) -> Option<Vec<u8>> {
    db.tree
        .read()
        .get_data(path, None)
        .ok()
        .and_then(|(d, _)| d)
}

pub fn epoch_file(dir: &Path, name: &str) -> String {
    std::fs::read_to_string(dir.join(name)).unwrap_or_default()
}
