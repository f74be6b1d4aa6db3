//! The request pipeline end to end, without sockets (helpers in
//! `server_pipeline_util.rs`): sessions that close, reconnect or expire,
//! and what the server deletes on its own (ephemerals of dead sessions at
//! load, emptied containers).

use std::time::{Duration, Instant};

use zookeeper::jute::data::ids;
use zookeeper::jute::proto::*;
use zookeeper::keeper_exception::Code;
use zookeeper::server::server_cnxn::CloseReason;
use zookeeper::zoo_defs::{event_type, op_code};

mod server_pipeline_util;

use server_pipeline_util::*;

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
