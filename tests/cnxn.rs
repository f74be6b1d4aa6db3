//! The client port end to end: a real `ZooKeeperServer` behind a real
//! `ServerCnxnFactory` on 127.0.0.1:0, driven with raw sockets. Each kind
//! of bad framing must close only the offending connection (and never the
//! server): a healthy session keeps working before and after. Four-letter
//! words are checked with and without the client half-closing.

use std::io::{ErrorKind, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpStream};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use zookeeper::config::server_config::ServerConfig;
use zookeeper::jute;
use zookeeper::jute::proto::{ConnectRequest, ConnectResponse, ReplyHeader, RequestHeader};
use zookeeper::server::server_cnxn_factory::{Limits, ServerCnxnFactory};
use zookeeper::server::zookeeper_server::ZooKeeperServer;

/// A running server on a fresh temporary dataDir; stopped on drop.
struct Server {
    zks: Arc<ZooKeeperServer>,
    factory: ServerCnxnFactory,
    dir: PathBuf,
}

impl Server {
    fn start(name: &str, whitelist: &[&str], limits: Limits) -> Server {
        let dir = std::env::temp_dir().join(format!("zkrs-cnxn-{}-{}", name, std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let mut config = ServerConfig::with_defaults(&dir, "127.0.0.1:0".parse().unwrap());
        config.four_letter_word_whitelist = whitelist.iter().map(|s| s.to_string()).collect();
        config.max_client_cnxns = limits.max_client_cnxns;
        config.max_cnxns = limits.max_cnxns;
        let zks = ZooKeeperServer::new(config).unwrap();
        let factory =
            ServerCnxnFactory::bind("127.0.0.1:0".parse().unwrap(), limits, zks.clone()).unwrap();
        zks.startup();
        factory.start().unwrap();
        Server { zks, factory, dir }
    }

    fn simple(name: &str) -> Server {
        Server::start(
            name,
            &["ruok", "srvr"],
            Limits {
                max_cnxns: 0,
                max_client_cnxns: 60,
                listen_backlog: -1,
            },
        )
    }

    fn addr(&self) -> SocketAddr {
        self.factory.local_addr()
    }

    fn connect(&self) -> TcpStream {
        let s = TcpStream::connect(self.addr()).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        s
    }

    /// A full handshake; returns the socket and the ConnectResponse.
    fn session(&self) -> (TcpStream, ConnectResponse) {
        let mut s = self.connect();
        s.write_all(&connect_request()).unwrap();
        let rsp: ConnectResponse = jute::from_bytes(&read_frame(&mut s)).unwrap();
        assert_ne!(rsp.session_id, 0);
        (s, rsp)
    }

    fn four_letter(&self, word: &[u8], half_close: bool) -> String {
        let mut s = self.connect();
        s.write_all(word).unwrap();
        if half_close {
            s.shutdown(Shutdown::Write).unwrap();
        }
        let mut text = String::new();
        s.read_to_string(&mut text).unwrap();
        text
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.factory.shutdown();
        self.zks.shutdown();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn frame(body: &[u8]) -> Vec<u8> {
    let mut f = (body.len() as i32).to_be_bytes().to_vec();
    f.extend_from_slice(body);
    f
}

fn connect_request() -> Vec<u8> {
    frame(&jute::to_bytes(&ConnectRequest {
        protocol_version: 0,
        last_zxid_seen: 0,
        time_out: 10_000,
        session_id: 0,
        passwd: Some(vec![0; 16]),
        read_only: Some(false),
    }))
}

fn read_frame(s: &mut TcpStream) -> Vec<u8> {
    let mut len = [0u8; 4];
    s.read_exact(&mut len).unwrap();
    let mut body = vec![0u8; i32::from_be_bytes(len) as usize];
    s.read_exact(&mut body).unwrap();
    body
}

/// Pings and checks the reply: proof that a session is alive.
fn ping(s: &mut TcpStream) {
    s.write_all(&frame(&jute::to_bytes(&RequestHeader {
        xid: -2,
        r#type: 11,
    })))
    .unwrap();
    let reply: ReplyHeader = jute::from_bytes(&read_frame(s)).unwrap();
    assert_eq!((reply.xid, reply.err), (-2, 0));
}

/// True when the server closes the connection (EOF or reset).
fn closed_by_server(s: &mut TcpStream) -> bool {
    let mut buf = [0u8; 256];
    loop {
        match s.read(&mut buf) {
            Ok(0) => return true,
            Ok(_) => continue,
            Err(e) if e.kind() == ErrorKind::ConnectionReset => return true,
            Err(_) => return false,
        }
    }
}

/// Sends `bytes` on a fresh connection; the server must hang up, and a
/// healthy session must be unaffected.
fn assert_rejected(server: &Server, healthy: &mut TcpStream, bytes: &[u8]) {
    let mut s = server.connect();
    s.write_all(bytes).unwrap();
    assert!(
        closed_by_server(&mut s),
        "server kept the connection after {:02x?}",
        &bytes[..bytes.len().min(16)]
    );
    ping(healthy);
}

#[test]
fn handshake_and_ping() {
    let server = Server::simple("handshake");
    let (mut s, rsp) = server.session();
    assert_eq!(rsp.time_out, 10_000);
    assert_eq!(rsp.passwd.as_ref().map(Vec::len), Some(16));
    assert_eq!(rsp.read_only, Some(false));
    ping(&mut s);
}

#[test]
fn bad_lengths_close_only_that_connection() {
    let server = Server::simple("lengths");
    let (mut healthy, _) = server.session();
    let too_big = (jute::max_buffer() as i32 + 1).to_be_bytes();
    assert_rejected(&server, &mut healthy, &too_big);
    assert_rejected(&server, &mut healthy, &(-1i32).to_be_bytes());
    assert_rejected(&server, &mut healthy, &i32::MIN.to_be_bytes());
}

#[test]
fn garbage_and_truncated_handshakes_close() {
    let server = Server::simple("garbage");
    let (mut healthy, _) = server.session();
    // A ConnectRequest cut short: the frame says 10 bytes, and they come.
    assert_rejected(&server, &mut healthy, &frame(&[0u8; 10]));
    // A RequestHeader where the ConnectRequest should be.
    assert_rejected(
        &server,
        &mut healthy,
        &frame(&jute::to_bytes(&RequestHeader { xid: 1, r#type: 4 })),
    );
    // Random bytes with a plausible length, then the peer goes away.
    let mut s = server.connect();
    s.write_all(&[0, 0, 0, 44, 0xde, 0xad, 0xbe, 0xef]).unwrap();
    s.shutdown(Shutdown::Write).unwrap();
    assert!(closed_by_server(&mut s));
    ping(&mut healthy);
}

#[test]
fn truncated_request_after_handshake_closes_that_session_only() {
    let server = Server::simple("truncated");
    let (mut healthy, _) = server.session();
    let (mut bad, _) = server.session();
    bad.write_all(&frame(&[0, 0, 0])).unwrap(); // shorter than a RequestHeader
    assert!(closed_by_server(&mut bad));
    ping(&mut healthy);
}

#[test]
fn four_letter_words() {
    let server = Server::simple("fourlw");
    assert_eq!(server.four_letter(b"ruok", false), "imok");
    assert_eq!(server.four_letter(b"ruok", true), "imok");
    let srvr = server.four_letter(b"srvr", true);
    assert!(
        srvr.starts_with("Zookeeper version: 3.9.5-zookeeper-rs-"),
        "{}",
        srvr
    );
    assert!(srvr.contains("\nMode: standalone\n"), "{}", srvr);
    assert!(srvr.contains("\nNode count: "), "{}", srvr);
    assert_eq!(
        server.four_letter(b"stat", true),
        "stat is not executed because it is not in the whitelist.\n"
    );
}

#[test]
fn srvr_is_answered_even_with_an_empty_whitelist() {
    let server = Server::start(
        "srvr-always",
        &[],
        Limits {
            max_cnxns: 0,
            max_client_cnxns: 0,
            listen_backlog: -1,
        },
    );
    assert!(server
        .four_letter(b"srvr", false)
        .contains("Mode: standalone"));
    assert_eq!(
        server.four_letter(b"ruok", false),
        "ruok is not executed because it is not in the whitelist.\n"
    );
}

#[test]
fn per_ip_limit_refuses_the_extra_connection() {
    let server = Server::start(
        "limit",
        &["srvr"],
        Limits {
            max_cnxns: 0,
            max_client_cnxns: 1,
            listen_backlog: -1,
        },
    );
    let (mut first, _) = server.session();
    let mut second = server.connect();
    assert!(closed_by_server(&mut second));
    ping(&mut first);
}

/// Connections the server has not accepted yet wait in the kernel's queue
/// instead of being dropped: with nothing accepting (the factory is not
/// started), 300 connects all complete. The queue std's bind leaves
/// (128) drops the SYNs after it, and each dropped client would wait for
/// TCP's retransmission (1, 3, 7 s) - the tail of a mass reconnect after
/// a leader dies.
#[test]
fn a_burst_of_connects_waits_in_a_long_listen_queue() {
    let somaxconn: usize = std::fs::read_to_string("/proc/sys/net/core/somaxconn")
        .ok()
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(4096);
    assert!(
        somaxconn > 300,
        "net.core.somaxconn is {somaxconn}: this test needs more than 300"
    );
    let dir = std::env::temp_dir().join(format!("zkrs-cnxn-backlog-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let config = ServerConfig::with_defaults(&dir, "127.0.0.1:0".parse().unwrap());
    let zks = ZooKeeperServer::new(config).unwrap();
    let limits = Limits {
        max_cnxns: 0,
        max_client_cnxns: 0,
        listen_backlog: -1,
    };
    let factory = ServerCnxnFactory::bind("127.0.0.1:0".parse().unwrap(), limits, zks).unwrap();
    let addr = factory.local_addr();
    let mut held = Vec::new();
    for i in 0..300 {
        match TcpStream::connect_timeout(&addr, Duration::from_millis(500)) {
            Ok(s) => held.push(s),
            Err(e) => panic!("connect {i} to a server not accepting yet failed: {e}"),
        }
    }
    drop(held);
    factory.shutdown();
    let _ = std::fs::remove_dir_all(&dir);
}
