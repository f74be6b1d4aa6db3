//! The request pipeline end to end, without sockets: a fake connection
//! collects every frame the server queues, and each test drives a real
//! `ZooKeeperServer` on a temporary dataDir through a conversation (the
//! helpers are in `server_pipeline_util.rs`). Sessions ending and what the
//! server deletes on its own are in `server_pipeline_sessions.rs`.

use zookeeper::jute;
use zookeeper::jute::data::ids;
use zookeeper::jute::data::Acl;
use zookeeper::jute::multi::{MultiOp, MultiOperationRecord, MultiResponse, OpResult};
use zookeeper::jute::proto::*;
use zookeeper::keeper_exception::Code;
use zookeeper::server::server_cnxn::CloseReason;
use zookeeper::zoo_defs::{event_type, op_code, perms};

mod server_pipeline_util;

use server_pipeline_util::*;

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
