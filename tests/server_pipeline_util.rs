//! Helpers of the request-pipeline tests (`server_pipeline.rs`,
//! `server_pipeline_sessions.rs`): a fake connection that records every
//! frame the server queues, a `ZooKeeperServer` on a temporary dataDir,
//! and a client that sends requests and waits for their replies.
#![allow(dead_code)]

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use parking_lot::{Condvar, Mutex};

use zookeeper::config::server_config::ServerConfig;
use zookeeper::jute::data::ids;
use zookeeper::jute::data::{Id, Stat};
use zookeeper::jute::proto::*;
use zookeeper::jute::{self, Record};
use zookeeper::keeper_exception::Code;
use zookeeper::server::server_cnxn::{CloseReason, ServerCnxn};
use zookeeper::server::watch::{WatchedEvent, Watcher};
use zookeeper::server::zookeeper_server::ZooKeeperServer;
use zookeeper::zoo_defs::op_code;

/// What the server queued on a connection, in order.
#[derive(Debug, Clone)]
pub enum Frame {
    Reply(ReplyHeader, Option<Vec<u8>>),
    Connect(ConnectResponse, bool),
    Event(WatchedEvent),
    Closed(CloseReason),
}

/// A connection that records frames instead of writing them.
pub struct FakeCnxn {
    pub id: u64,
    pub session: AtomicI64,
    pub auth: Mutex<Vec<Id>>,
    pub frames: Mutex<Vec<Frame>>,
    pub arrived: Condvar,
}

pub static NEXT_ID: AtomicU64 = AtomicU64::new(1);

impl FakeCnxn {
    pub fn new() -> Arc<FakeCnxn> {
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

    pub fn push(&self, f: Frame) {
        self.frames.lock().push(f);
        self.arrived.notify_all();
    }

    /// Waits until some frame satisfies `pred`; returns its index.
    pub fn wait_for(&self, what: &str, pred: impl Fn(&Frame) -> bool) -> (usize, Frame) {
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

    pub fn reply(&self, xid: i32) -> (usize, ReplyHeader, Option<Vec<u8>>) {
        let (i, f) = self.wait_for(
            &format!("reply {}", xid),
            |f| matches!(f, Frame::Reply(h, _) if h.xid == xid),
        );
        match f {
            Frame::Reply(h, b) => (i, h, b),
            _ => unreachable!(),
        }
    }

    pub fn connect_response(&self) -> (ConnectResponse, bool) {
        match self
            .wait_for("connect response", |f| matches!(f, Frame::Connect(..)))
            .1
        {
            Frame::Connect(r, v) => (r, v),
            _ => unreachable!(),
        }
    }

    pub fn closed(&self) -> CloseReason {
        match self.wait_for("close", |f| matches!(f, Frame::Closed(_))).1 {
            Frame::Closed(r) => r,
            _ => unreachable!(),
        }
    }

    pub fn events(&self) -> Vec<(usize, WatchedEvent)> {
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
pub struct TestServer {
    pub zk: Arc<ZooKeeperServer>,
    pub dir: PathBuf,
}

impl TestServer {
    pub fn start() -> TestServer {
        Self::start_with(|_| {})
    }

    pub fn start_with(tweak: impl FnOnce(&mut ServerConfig)) -> TestServer {
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
    pub fn connect(&self, timeout: i32) -> Client {
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

pub struct Client {
    pub zk: Arc<ZooKeeperServer>,
    pub cnxn: Arc<FakeCnxn>,
    pub dyn_cnxn: Arc<dyn ServerCnxn>,
    pub xid: i32,
    pub session: ConnectResponse,
}

impl Client {
    /// Sends a request and waits for its reply: (header, body).
    pub fn call<R: Record>(&mut self, op: i32, record: &R) -> (ReplyHeader, Option<Vec<u8>>) {
        self.call_raw(op, jute::to_bytes(record))
    }

    pub fn call_raw(&mut self, op: i32, payload: Vec<u8>) -> (ReplyHeader, Option<Vec<u8>>) {
        self.xid += 1;
        let xid = self.xid;
        self.send(xid, op, payload);
        let (_, h, b) = self.cnxn.reply(xid);
        (h, b)
    }

    pub fn send(&self, xid: i32, op: i32, payload: Vec<u8>) {
        self.zk
            .process_packet(&self.dyn_cnxn, RequestHeader { xid, r#type: op }, payload);
    }

    pub fn create(&mut self, path: &str, data: &[u8], flags: i32) -> (Code, String) {
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

    pub fn get(&mut self, path: &str, watch: bool) -> Result<(Option<Vec<u8>>, Stat), Code> {
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

    pub fn exists(&mut self, path: &str, watch: bool) -> Code {
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
