//! Conversation tests of the learner side of Zab with clients attached:
//! a scripted leader (see `zab_learner_util.rs`) drives our in-process
//! Follower while a recording client connection submits requests: writes
//! are forwarded to the leader as REQUEST and answered once committed,
//! `sync` goes through the leader, and a reconnecting client's session is
//! revalidated by the leader.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use parking_lot::{Condvar, Mutex};

use zookeeper::jute;
use zookeeper::jute::data::ids;
use zookeeper::jute::data::Id;
use zookeeper::jute::proto::{
    ConnectRequest, ConnectResponse, CreateRequest, CreateResponse, GetDataRequest, ReplyHeader,
    RequestHeader, SyncRequest,
};
use zookeeper::quorum::follower;
use zookeeper::quorum::quorum_packet::{self as qp, packet};
use zookeeper::server::server_cnxn::{CloseReason, ServerCnxn};
use zookeeper::server::watch::{WatchedEvent, Watcher};
use zookeeper::zoo_defs::op_code;

mod zab_learner_util;

use zab_learner_util::*;

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
