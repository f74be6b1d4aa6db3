//! The request pipeline end to end, without sockets: a fake connection
//! collects every frame the server queues, and each test drives a real
//! `ZooKeeperServer` on a temporary dataDir through a conversation.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use parking_lot::{Condvar, Mutex};

use zookeeper::config::server_config::ServerConfig;
use zookeeper::jute::data::ids;
use zookeeper::jute::data::{Acl, Id, Stat};
use zookeeper::jute::multi::{MultiOp, MultiOperationRecord, MultiResponse, OpResult};
use zookeeper::jute::proto::*;
use zookeeper::jute::{self, Record};
use zookeeper::keeper_exception::Code;
use zookeeper::server::server_cnxn::{CloseReason, ServerCnxn};
use zookeeper::server::watch::{WatchedEvent, Watcher};
use zookeeper::server::zookeeper_server::ZooKeeperServer;
use zookeeper::zoo_defs::{event_type, op_code, perms};

/// What the server queued on a connection, in order.
#[derive(Debug, Clone)]
enum Frame {
    Reply(ReplyHeader, Option<Vec<u8>>),
    Connect(ConnectResponse, bool),
    Event(WatchedEvent),
    Closed(CloseReason),
}

/// A connection that records frames instead of writing them.
struct FakeCnxn {
    id: u64,
    session: AtomicI64,
    auth: Mutex<Vec<Id>>,
    frames: Mutex<Vec<Frame>>,
    arrived: Condvar,
}

static NEXT_ID: AtomicU64 = AtomicU64::new(1);

impl FakeCnxn {
    fn new() -> Arc<FakeCnxn> {
        Arc::new(FakeCnxn {
            id: NEXT_ID.fetch_add(1, Ordering::SeqCst),
            session: AtomicI64::new(0),
            auth: Mutex::new(vec![Id {
                scheme: "ip".into(),
                id: "127.0.0.1".into(),
            }]),
            frames: Mutex::new(Vec::new()),
            arrived: Condvar::new(),
        })
    }

    fn push(&self, f: Frame) {
        self.frames.lock().push(f);
        self.arrived.notify_all();
    }

    /// Waits until some frame satisfies `pred`; returns its index.
    fn wait_for(&self, what: &str, pred: impl Fn(&Frame) -> bool) -> (usize, Frame) {
        let deadline = Instant::now() + Duration::from_secs(10);
        let mut frames = self.frames.lock();
        loop {
            if let Some(i) = frames.iter().position(&pred) {
                return (i, frames[i].clone());
            }
            if self.arrived.wait_until(&mut frames, deadline).timed_out() {
                panic!("timed out waiting for {}; frames: {:?}", what, *frames);
            }
        }
    }

    fn reply(&self, xid: i32) -> (usize, ReplyHeader, Option<Vec<u8>>) {
        let (i, f) = self.wait_for(
            &format!("reply {}", xid),
            |f| matches!(f, Frame::Reply(h, _) if h.xid == xid),
        );
        match f {
            Frame::Reply(h, b) => (i, h, b),
            _ => unreachable!(),
        }
    }

    fn connect_response(&self) -> (ConnectResponse, bool) {
        match self
            .wait_for("connect response", |f| matches!(f, Frame::Connect(..)))
            .1
        {
            Frame::Connect(r, v) => (r, v),
            _ => unreachable!(),
        }
    }

    fn closed(&self) -> CloseReason {
        match self.wait_for("close", |f| matches!(f, Frame::Closed(_))).1 {
            Frame::Closed(r) => r,
            _ => unreachable!(),
        }
    }

    fn events(&self) -> Vec<(usize, WatchedEvent)> {
        let frames = self.frames.lock();
        frames
            .iter()
            .enumerate()
            .filter_map(|(i, f)| match f {
                Frame::Event(e) => Some((i, e.clone())),
                _ => None,
            })
            .collect()
    }
}

impl Watcher for FakeCnxn {
    fn watcher_id(&self) -> u64 {
        self.id
    }
    fn process(&self, event: WatchedEvent) {
        self.push(Frame::Event(event));
    }
    fn watcher_auth_info(&self) -> Vec<Id> {
        self.auth.lock().clone()
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
        self.auth.lock().clone()
    }
    fn add_auth_info(&self, id: Id) {
        self.auth.lock().push(id)
    }
    fn send_response(&self, header: &ReplyHeader, body: Option<&[u8]>) {
        self.push(Frame::Reply(header.clone(), body.map(<[u8]>::to_vec)));
    }
    fn finish_session_init(&self, response: ConnectResponse, valid: bool) {
        self.push(Frame::Connect(response, valid));
        if !valid {
            self.push(Frame::Closed(CloseReason::InvalidSession));
        }
    }
    fn close(&self, reason: CloseReason) {
        self.push(Frame::Closed(reason));
    }
}

/// A server on a fresh temporary dataDir, stopped and removed on drop.
struct TestServer {
    zk: Arc<ZooKeeperServer>,
    dir: PathBuf,
}

impl TestServer {
    fn start() -> TestServer {
        Self::start_with(|_| {})
    }

    fn start_with(tweak: impl FnOnce(&mut ServerConfig)) -> TestServer {
        static N: AtomicU64 = AtomicU64::new(0);
        let dir = std::env::temp_dir().join(format!(
            "zk-pipeline-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::SeqCst)
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let mut config = ServerConfig::with_defaults(&dir, "127.0.0.1:0".parse().unwrap());
        config.tick_time = 100;
        config.min_session_timeout = 200;
        config.max_session_timeout = 2000;
        config.force_sync = false;
        tweak(&mut config);
        let zk = ZooKeeperServer::new(config).expect("server starts");
        zk.startup();
        TestServer { zk, dir }
    }

    /// A connected client.
    fn connect(&self, timeout: i32) -> Client {
        let cnxn = FakeCnxn::new();
        let dyn_cnxn: Arc<dyn ServerCnxn> = cnxn.clone();
        let request = ConnectRequest {
            time_out: timeout,
            passwd: Some(vec![0; 16]),
            read_only: Some(false),
            ..Default::default()
        };
        self.zk
            .process_connect_request(Arc::clone(&dyn_cnxn), request);
        let (resp, valid) = cnxn.connect_response();
        assert!(valid);
        Client {
            zk: Arc::clone(&self.zk),
            cnxn,
            dyn_cnxn,
            xid: 0,
            session: resp,
        }
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        self.zk.shutdown();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

struct Client {
    zk: Arc<ZooKeeperServer>,
    cnxn: Arc<FakeCnxn>,
    dyn_cnxn: Arc<dyn ServerCnxn>,
    xid: i32,
    session: ConnectResponse,
}

impl Client {
    /// Sends a request and waits for its reply: (header, body).
    fn call<R: Record>(&mut self, op: i32, record: &R) -> (ReplyHeader, Option<Vec<u8>>) {
        self.call_raw(op, jute::to_bytes(record))
    }

    fn call_raw(&mut self, op: i32, payload: Vec<u8>) -> (ReplyHeader, Option<Vec<u8>>) {
        self.xid += 1;
        let xid = self.xid;
        self.send(xid, op, payload);
        let (_, h, b) = self.cnxn.reply(xid);
        (h, b)
    }

    fn send(&self, xid: i32, op: i32, payload: Vec<u8>) {
        self.zk
            .process_packet(&self.dyn_cnxn, RequestHeader { xid, r#type: op }, payload);
    }

    fn create(&mut self, path: &str, data: &[u8], flags: i32) -> (Code, String) {
        let req = CreateRequest {
            path: path.into(),
            data: Some(data.to_vec()),
            acl: ids::open_acl_unsafe(),
            flags,
        };
        let (h, b) = self.call(op_code::CREATE, &req);
        let path = match (h.err, b) {
            (0, Some(b)) => jute::from_bytes::<CreateResponse>(&b).unwrap().path,
            _ => String::new(),
        };
        (Code::from_i32(h.err).unwrap(), path)
    }

    fn get(&mut self, path: &str, watch: bool) -> Result<(Option<Vec<u8>>, Stat), Code> {
        let (h, b) = self.call(
            op_code::GET_DATA,
            &GetDataRequest {
                path: path.into(),
                watch,
            },
        );
        if h.err != 0 {
            return Err(Code::from_i32(h.err).unwrap());
        }
        let r: GetDataResponse = jute::from_bytes(&b.unwrap()).unwrap();
        Ok((r.data, r.stat))
    }

    fn exists(&mut self, path: &str, watch: bool) -> Code {
        let (h, _) = self.call(
            op_code::EXISTS,
            &ExistsRequest {
                path: path.into(),
                watch,
            },
        );
        Code::from_i32(h.err).unwrap()
    }
}

#[test]
fn connect_negotiates_the_timeout_and_hands_out_javas_password() {
    let server = TestServer::start();
    let c = server.connect(1);
    assert_eq!(c.session.time_out, 200, "clamped up to minSessionTimeout");
    assert_eq!(c.session.session_id >> 56, 1, "standalone server id 1");
    let d = server.connect(1_000_000);
    assert_eq!(
        d.session.time_out, 2000,
        "clamped down to maxSessionTimeout"
    );
    assert_eq!(d.session.session_id, c.session.session_id + 1);
    assert_eq!(c.session.passwd.as_ref().map(Vec::len), Some(16));
}

#[test]
fn crud_with_versions_and_zxids() {
    let server = TestServer::start();
    let mut c = server.connect(2000);
    assert_eq!(c.create("/a", b"one", 0), (Code::Ok, "/a".to_string()));
    let (data, stat) = c.get("/a", false).unwrap();
    assert_eq!(data.as_deref(), Some(&b"one"[..]));
    assert_eq!(
        (stat.version, stat.czxid, stat.mzxid, stat.pzxid),
        (0, stat.czxid, stat.czxid, stat.czxid)
    );

    let set = SetDataRequest {
        path: "/a".into(),
        data: Some(b"two".to_vec()),
        version: 0,
    };
    let (h, b) = c.call(op_code::SET_DATA, &set);
    assert_eq!(h.err, 0);
    let after: SetDataResponse = jute::from_bytes(&b.unwrap()).unwrap();
    assert_eq!(after.stat.version, 1);
    assert_eq!(h.zxid, after.stat.mzxid, "reply zxid is the write's zxid");

    // A failed write consumes a zxid (an error txn is logged).
    let (bad, _) = c.call(op_code::SET_DATA, &set);
    assert_eq!(bad.err, Code::BadVersion.as_i32());
    assert_eq!(bad.zxid, h.zxid + 1);
    assert_eq!(c.create("/a", b"", 0).0, Code::NodeExists);
    assert_eq!(c.create("/missing/x", b"", 0).0, Code::NoNode);
    assert_eq!(c.create("/a/", b"", 0).0, Code::BadArguments);

    let (del, _) = c.call(
        op_code::DELETE,
        &DeleteRequest {
            path: "/a".into(),
            version: 1,
        },
    );
    assert_eq!(del.err, 0);
    assert_eq!(c.get("/a", false), Err(Code::NoNode));
    let (special, _) = c.call(
        op_code::DELETE,
        &DeleteRequest {
            path: "/zookeeper".into(),
            version: -1,
        },
    );
    assert_eq!(special.err, Code::BadArguments.as_i32());
}

#[test]
fn sequential_names_count_creations_under_the_parent() {
    let server = TestServer::start();
    let mut c = server.connect(2000);
    c.create("/q", b"", 0);
    assert_eq!(c.create("/q/s-", b"", 2).1, "/q/s-0000000000");
    assert_eq!(c.create("/q/s-", b"", 2).1, "/q/s-0000000001");
    c.call(
        op_code::DELETE,
        &DeleteRequest {
            path: "/q/s-0000000000".into(),
            version: -1,
        },
    );
    assert_eq!(
        c.create("/q/s-", b"", 2).1,
        "/q/s-0000000002",
        "deletes do not reuse numbers"
    );
}

#[test]
fn a_watch_event_arrives_before_the_writers_reply_and_later_reads() {
    let server = TestServer::start();
    let mut writer = server.connect(2000);
    let mut watcher = server.connect(2000);
    writer.create("/w", b"", 0);
    watcher.get("/w", true).unwrap();
    assert_eq!(
        watcher.exists("/new", true),
        Code::NoNode,
        "exists on a missing node still sets a watch"
    );
    writer.call(
        op_code::SET_DATA,
        &SetDataRequest {
            path: "/w".into(),
            data: None,
            version: -1,
        },
    );
    writer.create("/new", b"", 0);
    let (read_idx, _, _) = {
        watcher.xid += 1;
        let xid = watcher.xid;
        watcher.send(
            xid,
            op_code::EXISTS,
            jute::to_bytes(&ExistsRequest {
                path: "/w".into(),
                watch: false,
            }),
        );
        watcher.cnxn.reply(xid)
    };
    let events = watcher.cnxn.events();
    let kinds: Vec<(i32, &str)> = events
        .iter()
        .map(|(_, e)| (e.event_type, e.path.as_str()))
        .collect();
    assert_eq!(
        kinds,
        vec![
            (event_type::NODE_DATA_CHANGED, "/w"),
            (event_type::NODE_CREATED, "/new")
        ]
    );
    assert!(events.iter().all(|(i, _)| *i < read_idx));
    assert!(
        events[0].1.zxid > 0,
        "3.9: events carry the zxid that fired them"
    );
    // One-shot: a second change fires nothing.
    writer.call(
        op_code::SET_DATA,
        &SetDataRequest {
            path: "/w".into(),
            data: None,
            version: -1,
        },
    );
    watcher.exists("/w", false);
    assert_eq!(watcher.cnxn.events().len(), 2);
}

#[test]
fn a_failed_multi_applies_nothing_and_reports_each_op() {
    let server = TestServer::start();
    let mut c = server.connect(2000);
    c.create("/exists", b"", 0);
    let create = |p: &str| {
        MultiOp::Create(
            op_code::CREATE,
            CreateRequest {
                path: p.into(),
                data: None,
                acl: ids::open_acl_unsafe(),
                flags: 0,
            },
        )
    };
    let multi = MultiOperationRecord {
        ops: vec![create("/m1"), create("/exists"), create("/m2")],
    };
    let (h, b) = c.call(op_code::MULTI, &multi);
    assert_eq!(h.err, 0, "the header of a failed multi is OK");
    let resp: MultiResponse = jute::from_bytes(&b.unwrap()).unwrap();
    assert_eq!(
        resp.results,
        vec![
            OpResult::Error { err: 0 },
            OpResult::Error { err: -110 },
            OpResult::Error { err: -2 }
        ]
    );
    assert_eq!(c.exists("/m1", false), Code::NoNode);
    // Rolled back: a following multi on the same paths works.
    let ok = MultiOperationRecord {
        ops: vec![create("/m1"), create("/m2")],
    };
    let (h, b) = c.call(op_code::MULTI, &ok);
    assert_eq!(h.err, 0);
    let resp: MultiResponse = jute::from_bytes(&b.unwrap()).unwrap();
    assert_eq!(
        resp.results,
        vec![
            OpResult::Create { path: "/m1".into() },
            OpResult::Create { path: "/m2".into() }
        ]
    );
}

#[test]
fn closing_a_session_deletes_its_ephemerals_and_the_connection() {
    let server = TestServer::start();
    let mut owner = server.connect(2000);
    let mut other = server.connect(2000);
    owner.create("/e", b"", 1);
    let (_, stat) = other.get("/e", true).unwrap();
    assert_eq!(stat.ephemeral_owner, owner.session.session_id);
    let (h, body) = owner.call_raw(op_code::CLOSE_SESSION, Vec::new());
    assert_eq!((h.err, body), (0, None));
    assert_eq!(owner.cnxn.closed(), CloseReason::ClientClosedSession);
    other.cnxn.wait_for(
        "NodeDeleted",
        |f| matches!(f, Frame::Event(e) if e.event_type == event_type::NODE_DELETED),
    );
    assert_eq!(other.get("/e", false), Err(Code::NoNode));
}

#[test]
fn reconnect_checks_the_password_and_replaces_the_old_connection() {
    let server = TestServer::start();
    let first = server.connect(2000);
    let id = first.session.session_id;
    // Wrong password: invalid answer, connection closed, but the old
    // connection is closed first all the same.
    let bad = FakeCnxn::new();
    let req = ConnectRequest {
        session_id: id,
        time_out: 2000,
        passwd: Some(vec![0; 16]),
        read_only: Some(false),
        ..Default::default()
    };
    server.zk.process_connect_request(bad.clone(), req.clone());
    let (resp, valid) = bad.connect_response();
    assert!(!valid);
    assert_eq!(
        (resp.time_out, resp.session_id, resp.passwd.clone()),
        (0, 0, Some(vec![0; 16]))
    );
    assert_eq!(first.cnxn.closed(), CloseReason::ClientReconnect);
    // Right password: the session lives on.
    let good = FakeCnxn::new();
    let req = ConnectRequest {
        passwd: first.session.passwd.clone(),
        ..req
    };
    server.zk.process_connect_request(good.clone(), req);
    let (resp, valid) = good.connect_response();
    assert!(valid);
    assert_eq!(resp.session_id, id);
}

#[test]
fn an_expired_session_loses_its_ephemerals() {
    let server = TestServer::start();
    let mut short = server.connect(200);
    let mut other = server.connect(2000);
    short.create("/gone", b"", 1);
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        if other.exists("/gone", false) == Code::NoNode {
            break;
        }
        assert!(Instant::now() < deadline, "session never expired");
        std::thread::sleep(Duration::from_millis(50));
    }
    assert_eq!(short.cnxn.closed(), CloseReason::SessionExpired);
}

#[test]
fn unknown_opcodes_and_top_level_check_are_unimplemented() {
    let server = TestServer::start();
    let mut c = server.connect(2000);
    let (h, _) = c.call(
        op_code::CHECK,
        &CheckVersionRequest {
            path: "/".into(),
            version: -1,
        },
    );
    assert_eq!(h.err, Code::Unimplemented.as_i32());
    assert_eq!(c.cnxn.closed(), CloseReason::BadRequest);
    let mut d = server.connect(2000);
    let (h, _) = d.call_raw(99, Vec::new());
    assert_eq!(h.err, Code::Unimplemented.as_i32());
}

#[test]
fn undecodable_bodies_are_marshalling_errors() {
    let server = TestServer::start();
    let mut c = server.connect(2000);
    assert_eq!(c.create("/before", b"", 0).0, Code::Ok);
    let (before, _) = c.call_raw(
        op_code::SYNC,
        jute::to_bytes(&SyncRequest { path: "/".into() }),
    );
    let (h, _) = c.call_raw(op_code::CREATE, vec![0, 0]);
    assert_eq!(h.err, Code::MarshallingError.as_i32());
    // Its error txn takes a zxid of its own (as Java 3.8): two records
    // under one zxid would stall an ensemble.
    assert_eq!(
        h.zxid,
        before.zxid + 1,
        "the bad write's error txn has the next zxid"
    );
    let (h, _) = c.call_raw(op_code::GET_DATA, vec![0, 0, 0, 9]);
    assert_eq!(h.err, Code::MarshallingError.as_i32());
    assert_eq!(h.zxid, before.zxid + 1, "a read takes no zxid");
    assert_eq!(
        c.create("/after", b"", 0).0,
        Code::Ok,
        "the session goes on"
    );
}

#[test]
fn digest_auth_and_acl_denial() {
    let server = TestServer::start();
    let mut alice = server.connect(2000);
    let mut anon = server.connect(2000);
    let auth = AuthPacket {
        r#type: 0,
        scheme: "digest".into(),
        auth: Some(b"alice:secret".to_vec()),
    };
    alice.send(-4, op_code::AUTH, jute::to_bytes(&auth));
    let (_, h, _) = alice.cnxn.reply(-4);
    assert_eq!((h.err, h.zxid), (0, 0));
    let req = CreateRequest {
        path: "/private".into(),
        data: None,
        acl: ids::creator_all_acl(),
        flags: 0,
    };
    assert_eq!(alice.call(op_code::CREATE, &req).0.err, 0);
    assert_eq!(anon.get("/private", false), Err(Code::NoAuth));
    assert!(alice.get("/private", false).is_ok());
    // getACL without ADMIN hides the hash; anon has no READ either.
    let (h, _) = anon.call(
        op_code::GET_ACL,
        &GetAclRequest {
            path: "/private".into(),
        },
    );
    assert_eq!(h.err, Code::NoAuth.as_i32());
    let (h, b) = alice.call(
        op_code::GET_ACL,
        &GetAclRequest {
            path: "/private".into(),
        },
    );
    assert_eq!(h.err, 0);
    let acl: GetAclResponse = jute::from_bytes(&b.unwrap()).unwrap();
    assert_eq!(acl.acl[0].id.scheme, "digest");
    assert!(acl.acl[0].id.id.starts_with("alice:"));
    // An auth-less "auth" ACL is INVALIDACL; an unknown scheme fails auth and closes.
    assert_eq!(
        anon.call(
            op_code::CREATE,
            &CreateRequest {
                path: "/x".into(),
                ..req.clone()
            }
        )
        .0
        .err,
        Code::InvalidAcl.as_i32()
    );
    let bad = AuthPacket {
        r#type: 0,
        scheme: "nosuch".into(),
        auth: Some(vec![]),
    };
    anon.send(-4, op_code::AUTH, jute::to_bytes(&bad));
    let (_, h, _) = anon.cnxn.reply(-4);
    assert_eq!(h.err, Code::AuthFailed.as_i32());
    assert_eq!(anon.cnxn.closed(), CloseReason::AuthFailed);
    let _ = Acl {
        perms: perms::ALL,
        id: ids::anyone_id_unsafe(),
    };
}

#[test]
fn ping_and_who_am_i() {
    let server = TestServer::start();
    let c = server.connect(2000);
    c.send(-2, op_code::PING, Vec::new());
    let (_, h, b) = c.cnxn.reply(-2);
    assert_eq!((h.err, b), (0, None));
    let mut c = c;
    let (h, b) = c.call_raw(op_code::WHO_AM_I, Vec::new());
    assert_eq!(h.err, 0);
    let who: WhoAmIResponse = jute::from_bytes(&b.unwrap()).unwrap();
    assert_eq!(who.client_info.len(), 1);
    assert_eq!(
        (
            who.client_info[0].auth_scheme.as_str(),
            who.client_info[0].user.as_str()
        ),
        ("ip", "127.0.0.1")
    );
}

/// Prep predicts the tree digest each txn will produce (digest.enabled);
/// the tree compares it on apply and counts mismatches.
#[test]
fn prep_predicts_the_tree_digest_of_every_txn() {
    let server = TestServer::start();
    let mut c = server.connect(2000);
    let before = server.zk.zk_database().tree.read().digest();
    c.create("/d", b"x", 0);
    c.create("/d/s-", b"", 2);
    c.create("/d/e", b"eph", 1);
    c.call(
        op_code::SET_DATA,
        &SetDataRequest {
            path: "/d".into(),
            data: Some(b"yy".to_vec()),
            version: -1,
        },
    );
    c.call(
        op_code::SET_DATA,
        &SetDataRequest {
            path: "/".into(),
            data: Some(b"root".to_vec()),
            version: -1,
        },
    );
    let acl = SetAclRequest {
        path: "/d".into(),
        acl: ids::open_acl_unsafe(),
        version: -1,
    };
    c.call(op_code::SET_ACL, &acl);
    let create = |p: &str| {
        MultiOp::Create(
            op_code::CREATE2,
            CreateRequest {
                path: p.into(),
                data: None,
                acl: ids::open_acl_unsafe(),
                flags: 0,
            },
        )
    };
    c.call(
        op_code::MULTI,
        &MultiOperationRecord {
            ops: vec![create("/d/m"), create("/d/m/n")],
        },
    );
    c.call(
        op_code::MULTI,
        &MultiOperationRecord {
            ops: vec![create("/d/z"), create("/d/m")],
        },
    );
    c.call(
        op_code::DELETE,
        &DeleteRequest {
            path: "/d/s-0000000000".into(),
            version: -1,
        },
    );
    let container = CreateRequest {
        path: "/c".into(),
        data: None,
        acl: ids::open_acl_unsafe(),
        flags: 4,
    };
    c.call(op_code::CREATE_CONTAINER, &container);
    // Several writes in flight at once exercise the pending records.
    for i in 0..20 {
        let req = CreateRequest {
            path: format!("/d/burst{}", i),
            data: Some(vec![i as u8]),
            acl: ids::open_acl_unsafe(),
            flags: 0,
        };
        c.send(1000 + i, op_code::CREATE, jute::to_bytes(&req));
    }
    c.cnxn.reply(1019);
    c.call_raw(op_code::CLOSE_SESSION, Vec::new());
    let tree = server.zk.zk_database().tree.read();
    assert_ne!(tree.digest(), before);
    assert_eq!(tree.digest_mismatches(), 0);
}

/// A container that had a child and lost it is deleted by the container
/// manager; a fresh one is not.
#[test]
fn the_container_manager_deletes_emptied_containers() {
    let server = TestServer::start_with(|c| c.container_check_interval_ms = 50);
    let mut c = server.connect(2000);
    let container = |p: &str| CreateRequest {
        path: p.into(),
        data: None,
        acl: ids::open_acl_unsafe(),
        flags: 4,
    };
    assert_eq!(
        c.call(op_code::CREATE_CONTAINER, &container("/used")).0.err,
        0
    );
    assert_eq!(
        c.call(op_code::CREATE_CONTAINER, &container("/fresh"))
            .0
            .err,
        0
    );
    c.create("/used/child", b"", 0);
    c.call(
        op_code::DELETE,
        &DeleteRequest {
            path: "/used/child".into(),
            version: -1,
        },
    );
    let deadline = Instant::now() + Duration::from_secs(5);
    while c.exists("/used", false) == Code::Ok {
        assert!(Instant::now() < deadline, "container never deleted");
        std::thread::sleep(Duration::from_millis(20));
    }
    assert_eq!(c.exists("/fresh", false), Code::Ok);
}

/// Java's `ZooKeeperServer.loadData`: ephemerals whose session is not in
/// the loaded session table are removed (without a txn) before serving.
#[test]
fn ephemerals_of_dead_sessions_are_removed_at_load() {
    use zookeeper::jute::txn::{CreateSessionTxn, CreateTxn, TxnBody, TxnHeader, TxnLogEntry};
    use zookeeper::server::zk_database::ZkDatabase;
    let (live, dead) = (0x0100_0000_0000_0001_i64, 0x0100_0000_0000_0002_i64);
    let entry = |zxid: i64, client_id: i64, r#type: i32, body: TxnBody| TxnLogEntry {
        header: TxnHeader {
            client_id,
            cxid: 1,
            zxid,
            time: 1_700_000_000_000 + zxid,
            r#type,
        },
        body,
        digest: None,
    };
    let ephemeral = |path: &str| {
        TxnBody::Create(CreateTxn {
            path: path.into(),
            data: Some(vec![]),
            acl: ids::open_acl_unsafe(),
            ephemeral: true,
            parent_c_version: -1,
        })
    };
    let server = TestServer::start_with(|config| {
        let db = ZkDatabase::open(config).unwrap();
        db.load_database().unwrap();
        // Session `dead` never had a createSession in this image.
        for e in [
            entry(
                1,
                live,
                op_code::CREATE_SESSION,
                TxnBody::CreateSession(CreateSessionTxn { time_out: 30000 }),
            ),
            entry(2, live, op_code::CREATE, ephemeral("/live")),
            entry(3, dead, op_code::CREATE, ephemeral("/dead")),
        ] {
            db.append(&e).unwrap();
        }
        db.commit().unwrap();
        db.close().unwrap();
    });
    let db = server.zk.zk_database();
    let tree = db.tree.read();
    assert_eq!(
        tree.get_node("/live").map(|n| n.stat.ephemeral_owner),
        Some(live)
    );
    assert!(tree.get_node("/dead").is_none());
    assert_eq!(tree.sessions_with_ephemerals(), [live]);
    // No txn was logged for it: the last zxid is still the log's.
    assert_eq!(tree.last_processed_zxid(), 3);
    assert_eq!(tree.get_node("/").unwrap().stat.pzxid, 3);
    drop(tree);
    assert!(server.zk.session_tracker().session_timeout(live).is_some());
}
