//! Connection-layer tests: a real listener on 127.0.0.1:0 in front of a
//! fake server (`FakeServer`), driven by raw sockets, so framing,
//! handshake pausing, ordering, batching, limits and shutdown are checked
//! without the request pipeline.

use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddr, TcpStream};
use std::sync::atomic::AtomicUsize;
use std::time::{Duration, Instant};

use parking_lot::Mutex;

use super::*;
use crate::server::server_cnxn_factory::{Limits, ServerCnxnFactory};
use crate::server::zookeeper_server::ServerStatsSnapshot;

/// What the fake server does with a ConnectRequest.
#[derive(Clone, Copy, PartialEq)]
enum OnConnect {
    Accept,
    Reject,
    /// Keep the connection waiting; the test finishes it.
    Hold,
}

struct FakeServer {
    on_connect: OnConnect,
    whitelist: Vec<String>,
    /// Every connection handed to the server.
    cnxns: Mutex<Vec<Arc<dyn ServerCnxn>>>,
    /// Every request seen: (xid, type, payload).
    packets: Mutex<Vec<(i32, i32, Vec<u8>)>>,
    connects: AtomicUsize,
    removed: AtomicUsize,
    received: AtomicUsize,
    sent: AtomicUsize,
}

impl FakeServer {
    fn new(on_connect: OnConnect, whitelist: &[&str]) -> Arc<FakeServer> {
        Arc::new(FakeServer {
            on_connect,
            whitelist: whitelist.iter().map(|s| s.to_string()).collect(),
            cnxns: Mutex::new(Vec::new()),
            packets: Mutex::new(Vec::new()),
            connects: AtomicUsize::new(0),
            removed: AtomicUsize::new(0),
            received: AtomicUsize::new(0),
            sent: AtomicUsize::new(0),
        })
    }
}

fn response(read_only: Option<bool>, valid: bool) -> ConnectResponse {
    ConnectResponse {
        protocol_version: 0,
        time_out: if valid { 30_000 } else { 0 },
        session_id: if valid { 0x1234 } else { 0 },
        passwd: Some(vec![if valid { 7 } else { 0 }; 16]),
        read_only,
    }
}

impl CnxnHandler for FakeServer {
    fn process_connect_request(&self, cnxn: Arc<dyn ServerCnxn>, _request: ConnectRequest) {
        self.connects.fetch_add(1, Ordering::SeqCst);
        self.cnxns.lock().push(cnxn.clone());
        match self.on_connect {
            OnConnect::Accept => {
                cnxn.set_session_id(0x1234);
                // Always offers the byte: the connection drops it for old clients.
                cnxn.finish_session_init(response(Some(false), true), true);
            }
            OnConnect::Reject => cnxn.finish_session_init(response(Some(false), false), false),
            OnConnect::Hold => {}
        }
    }
    /// Type 1 = echo; type 2 = "close session" (reply, then close);
    /// type 3 = fire a notification for the payload as path, then reply;
    /// type 4 = 50 replies at once.
    fn process_packet(&self, cnxn: &Arc<dyn ServerCnxn>, header: RequestHeader, payload: Vec<u8>) {
        self.packets
            .lock()
            .push((header.xid, header.r#type, payload.clone()));
        let reply = ReplyHeader {
            xid: header.xid,
            zxid: 5,
            err: 0,
        };
        match header.r#type {
            2 => {
                cnxn.send_response(&reply, None);
                cnxn.close(CloseReason::ClientClosedSession);
            }
            3 => {
                let path = String::from_utf8_lossy(&payload).into_owned();
                cnxn.process(WatchedEvent {
                    event_type: 3,
                    state: 3,
                    path,
                    zxid: 9,
                });
                cnxn.send_response(&reply, None);
            }
            4 => {
                for i in 0..50 {
                    cnxn.send_response(
                        &ReplyHeader {
                            xid: i,
                            zxid: 5,
                            err: 0,
                        },
                        Some(&[i as u8]),
                    );
                }
            }
            _ => cnxn.send_response(&reply, Some(&payload)),
        }
    }
    fn remove_cnxn(&self, _cnxn: &dyn ServerCnxn) {
        self.removed.fetch_add(1, Ordering::SeqCst);
    }
    fn incr_packets_received(&self) {
        self.received.fetch_add(1, Ordering::SeqCst);
    }
    fn incr_packets_sent(&self) {
        self.sent.fetch_add(1, Ordering::SeqCst);
    }
    fn stats(&self) -> Option<ServerStatsSnapshot> {
        Some(ServerStatsSnapshot {
            node_count: 4,
            last_processed_zxid: 0x2a,
            ..Default::default()
        })
    }
    fn mode(&self) -> &str {
        "standalone"
    }
    fn four_letter_word_whitelist(&self) -> &[String] {
        &self.whitelist
    }
}

struct Harness {
    server: Arc<FakeServer>,
    factory: ServerCnxnFactory,
}

impl Harness {
    fn start(server: Arc<FakeServer>, limits: Limits) -> Harness {
        let addr: SocketAddr = "127.0.0.1:0".parse().unwrap();
        let factory = ServerCnxnFactory::bind(addr, limits, server.clone()).unwrap();
        factory.start().unwrap();
        Harness { server, factory }
    }

    fn simple(on_connect: OnConnect) -> Harness {
        Harness::start(
            FakeServer::new(on_connect, &["srvr"]),
            Limits {
                max_cnxns: 0,
                max_client_cnxns: 60,
                listen_backlog: -1,
            },
        )
    }

    fn connect(&self) -> TcpStream {
        let s = TcpStream::connect(self.factory.local_addr()).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        s
    }
}

impl Drop for Harness {
    fn drop(&mut self) {
        self.factory.shutdown();
    }
}

fn connect_request(read_only: Option<bool>) -> Vec<u8> {
    let req = ConnectRequest {
        protocol_version: 0,
        last_zxid_seen: 0,
        time_out: 30_000,
        session_id: 0,
        passwd: Some(vec![0; 16]),
        read_only,
    };
    frame_of(&[&jute::to_bytes(&req)])
}

fn request(xid: i32, op: i32, payload: &[u8]) -> Vec<u8> {
    frame_of(&[&jute::to_bytes(&RequestHeader { xid, r#type: op }), payload])
}

fn read_frame(s: &mut TcpStream) -> Vec<u8> {
    let mut len = [0u8; 4];
    s.read_exact(&mut len).unwrap();
    let mut body = vec![0u8; i32::from_be_bytes(len) as usize];
    s.read_exact(&mut body).unwrap();
    body
}

/// True if the server closed the connection (EOF or reset) within 5 s.
fn closed_by_server(s: &mut TcpStream) -> bool {
    let mut buf = [0u8; 64];
    loop {
        match s.read(&mut buf) {
            Ok(0) => return true,
            Ok(_) => continue,
            Err(e) if e.kind() == ErrorKind::ConnectionReset => return true,
            Err(_) => return false,
        }
    }
}

fn read_all(s: &mut TcpStream) -> String {
    let mut text = String::new();
    s.read_to_string(&mut text).unwrap();
    text
}

fn handshake(h: &Harness) -> TcpStream {
    let mut s = h.connect();
    s.write_all(&connect_request(Some(false))).unwrap();
    let body = read_frame(&mut s);
    assert_eq!(body.len(), 37, "ConnectResponse with the readOnly byte");
    s
}

fn wait_for(what: &str, cond: impl Fn() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(5);
    while !cond() {
        assert!(Instant::now() < deadline, "timed out waiting for {}", what);
        std::thread::sleep(Duration::from_millis(5));
    }
}

#[test]
fn ruok_outside_whitelist_gets_java_sentence() {
    let h = Harness::simple(OnConnect::Accept);
    let mut s = h.connect();
    s.write_all(b"ruok").unwrap();
    assert_eq!(
        read_all(&mut s),
        "ruok is not executed because it is not in the whitelist.\n"
    );
}

#[test]
fn ruok_with_half_close_answers_imok() {
    let h = Harness::start(
        FakeServer::new(OnConnect::Accept, &["ruok", "srvr"]),
        Limits {
            max_cnxns: 0,
            max_client_cnxns: 0,
            listen_backlog: -1,
        },
    );
    let mut s = h.connect();
    s.write_all(b"ruok").unwrap();
    s.shutdown(Shutdown::Write).unwrap();
    assert_eq!(read_all(&mut s), "imok");
}

#[test]
fn srvr_reports_mode_and_counts() {
    let h = Harness::simple(OnConnect::Accept);
    let mut s = h.connect();
    s.write_all(b"srvr").unwrap();
    let text = read_all(&mut s);
    assert!(text.starts_with("Zookeeper version: "), "{}", text);
    assert!(text.contains("\nConnections: 1\n"), "{}", text);
    assert!(
        text.contains("\nZxid: 0x2a\nMode: standalone\nNode count: 4\n"),
        "{}",
        text
    );
    assert_eq!(
        h.server.received.load(Ordering::SeqCst),
        1,
        "a 4lw counts as a received packet"
    );
}

#[test]
fn stat_lists_this_client() {
    let h = Harness::start(
        FakeServer::new(OnConnect::Accept, &["*"]),
        Limits {
            max_cnxns: 0,
            max_client_cnxns: 0,
            listen_backlog: -1,
        },
    );
    let session = handshake(&h);
    let other = session.local_addr().unwrap().port();
    let mut s = h.connect();
    let me = s.local_addr().unwrap().port();
    s.write_all(b"stat").unwrap();
    let text = read_all(&mut s);
    // Accept order; the asking connection is no longer selectable: [0].
    let expected = format!(
        "Clients:\n /127.0.0.1:{}[1](queued=0,recved=1,sent=1)\n /127.0.0.1:{}[0](queued=0,recved=1,sent=0)\n\n",
        other, me
    );
    assert!(text.contains(&expected), "{}", text);
    assert!(text.contains("\nConnections: 2\n"), "{}", text);
}

#[test]
fn oversized_length_closes_connection() {
    let h = Harness::simple(OnConnect::Accept);
    let mut s = h.connect();
    s.write_all(&(jute::max_buffer() as i32 + 1).to_be_bytes())
        .unwrap();
    assert!(closed_by_server(&mut s));
    assert_eq!(h.server.connects.load(Ordering::SeqCst), 0);
}

#[test]
fn negative_length_closes_connection() {
    let h = Harness::simple(OnConnect::Accept);
    let mut s = h.connect();
    s.write_all(&(-5i32).to_be_bytes()).unwrap();
    assert!(closed_by_server(&mut s));
}

#[test]
fn whitelisted_telnet_close_is_a_bad_length() {
    let h = Harness::start(
        FakeServer::new(OnConnect::Accept, &["*"]),
        Limits {
            max_cnxns: 0,
            max_client_cnxns: 0,
            listen_backlog: -1,
        },
    );
    let mut s = h.connect();
    s.write_all(&[0xff, 0xf4, 0xff, 0xfd]).unwrap();
    assert_eq!(read_all(&mut s), "");
}

#[test]
fn truncated_connect_request_closes_without_calling_server() {
    let h = Harness::simple(OnConnect::Accept);
    let mut s = h.connect();
    s.write_all(&frame_of(&[&[0u8; 10]])).unwrap();
    assert!(closed_by_server(&mut s));
    assert_eq!(h.server.connects.load(Ordering::SeqCst), 0);
}

#[test]
fn garbage_then_eof_closes() {
    let h = Harness::simple(OnConnect::Accept);
    let mut s = h.connect();
    s.write_all(&[0, 0, 0, 44, 1, 2, 3]).unwrap();
    s.shutdown(Shutdown::Write).unwrap();
    assert!(closed_by_server(&mut s));
    wait_for("cleanup", || h.factory.registry().is_empty());
    assert_eq!(
        h.server.removed.load(Ordering::SeqCst),
        1,
        "remove_cnxn is called on close"
    );
}

#[test]
fn connect_response_omits_read_only_byte_for_old_clients() {
    let h = Harness::simple(OnConnect::Accept);
    let mut s = h.connect();
    s.write_all(&connect_request(None)).unwrap();
    assert_eq!(read_frame(&mut s).len(), 36);
}

#[test]
fn rejected_session_gets_response_then_close() {
    let h = Harness::simple(OnConnect::Reject);
    let mut s = h.connect();
    s.write_all(&connect_request(Some(false))).unwrap();
    let body = read_frame(&mut s);
    let rsp: ConnectResponse = jute::from_bytes(&body).unwrap();
    assert_eq!((rsp.time_out, rsp.session_id), (0, 0));
    assert!(closed_by_server(&mut s));
}

#[test]
fn requests_wait_for_the_handshake_then_flow_in_order() {
    let h = Harness::simple(OnConnect::Hold);
    let mut s = h.connect();
    let mut bytes = connect_request(Some(false));
    bytes.extend(request(1, 1, b"a"));
    bytes.extend(request(2, 1, b"b"));
    s.write_all(&bytes).unwrap();
    wait_for("connect", || h.server.connects.load(Ordering::SeqCst) == 1);
    std::thread::sleep(Duration::from_millis(50));
    assert!(
        h.server.packets.lock().is_empty(),
        "reading is paused until finish_session_init"
    );
    let cnxn = h.server.cnxns.lock()[0].clone();
    cnxn.finish_session_init(response(Some(false), true), true);
    assert_eq!(read_frame(&mut s).len(), 37);
    for (xid, payload) in [(1, b"a"), (2, b"b")] {
        let body = read_frame(&mut s);
        let header: ReplyHeader = jute::from_bytes(&body).unwrap();
        assert_eq!((header.xid, header.zxid, header.err), (xid, 5, 0));
        assert_eq!(&body[16..], payload);
    }
}

#[test]
fn notification_carries_triggering_zxid() {
    let h = Harness::simple(OnConnect::Accept);
    let mut s = handshake(&h);
    s.write_all(&request(7, 3, b"/node")).unwrap();
    let body = read_frame(&mut s);
    let header: ReplyHeader = jute::from_bytes(&body).unwrap();
    assert_eq!((header.xid, header.zxid, header.err), (-1, 9, 0));
    let event: WatcherEvent = jute::from_bytes(&body[16..]).unwrap();
    assert_eq!(
        (event.r#type, event.state, event.path.as_str()),
        (3, 3, "/node")
    );
    let reply: ReplyHeader = jute::from_bytes(&read_frame(&mut s)).unwrap();
    assert_eq!(reply.xid, 7, "the event is written before the later reply");
}

#[test]
fn many_replies_arrive_complete_and_in_order() {
    let h = Harness::simple(OnConnect::Accept);
    let mut s = handshake(&h);
    s.write_all(&request(1, 4, b"")).unwrap();
    for i in 0..50 {
        let body = read_frame(&mut s);
        let header: ReplyHeader = jute::from_bytes(&body).unwrap();
        assert_eq!(header.xid, i);
        assert_eq!(body[16], i as u8);
    }
}

#[test]
fn close_after_reply_flushes_the_reply_first() {
    let h = Harness::simple(OnConnect::Accept);
    let mut s = handshake(&h);
    s.write_all(&request(3, 2, b"")).unwrap();
    let header: ReplyHeader = jute::from_bytes(&read_frame(&mut s)).unwrap();
    assert_eq!(header.xid, 3);
    assert!(closed_by_server(&mut s));
}

#[test]
fn short_request_header_closes() {
    let h = Harness::simple(OnConnect::Accept);
    let mut s = handshake(&h);
    s.write_all(&frame_of(&[&[0, 0, 0, 1]])).unwrap();
    assert!(closed_by_server(&mut s));
    assert!(h.server.packets.lock().is_empty());
}

#[test]
fn auth_info_starts_with_peer_ip() {
    let h = Harness::simple(OnConnect::Accept);
    let _s = handshake(&h);
    let cnxn = h.server.cnxns.lock()[0].clone();
    assert_eq!(
        cnxn.auth_info(),
        vec![Id {
            scheme: "ip".into(),
            id: "127.0.0.1".into()
        }]
    );
    assert_eq!(cnxn.session_id(), 0x1234);
}

#[test]
fn max_client_cnxns_per_ip() {
    let h = Harness::start(
        FakeServer::new(OnConnect::Accept, &["srvr"]),
        Limits {
            max_cnxns: 0,
            max_client_cnxns: 2,
            listen_backlog: -1,
        },
    );
    let _a = handshake(&h);
    let _b = handshake(&h);
    let mut c = h.connect();
    assert!(
        closed_by_server(&mut c),
        "third connection from the same IP is refused"
    );
    drop(_a);
    wait_for("slot to free", || h.factory.registry().len() < 2);
    let _d = handshake(&h);
}

#[test]
fn reconfigure_moves_the_listener_and_keeps_the_connections() {
    let h = Harness::simple(OnConnect::Accept);
    let mut kept = handshake(&h);
    let old = h.factory.local_addr();
    h.factory.reconfigure("127.0.0.1:0".parse().unwrap());
    let new = h.factory.local_addr();
    assert_ne!(new.port(), old.port());
    assert!(TcpStream::connect(old).is_err(), "the old port is closed");
    let mut fresh = TcpStream::connect(new).unwrap();
    fresh
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    fresh.write_all(&connect_request(Some(false))).unwrap();
    assert_eq!(read_frame(&mut fresh).len(), 37);
    // The connection made on the old port goes on.
    kept.write_all(&request(7, 1, b"x")).unwrap();
    let body = read_frame(&mut kept);
    let header: ReplyHeader = jute::from_bytes(&body).unwrap();
    assert_eq!((header.xid, header.err), (7, 0));
    assert_eq!(h.factory.registry().len(), 2);
}

#[test]
fn shutdown_closes_every_connection_promptly() {
    let h = Harness::simple(OnConnect::Hold);
    let mut waiting = h.connect();
    waiting.write_all(&connect_request(Some(false))).unwrap();
    let mut idle = h.connect();
    wait_for("both registered", || h.factory.registry().len() == 2);
    let started = Instant::now();
    h.factory.shutdown();
    assert!(started.elapsed() < Duration::from_secs(3));
    assert!(h.factory.registry().is_empty());
    assert!(closed_by_server(&mut waiting));
    assert!(closed_by_server(&mut idle));
    assert!(
        TcpStream::connect(h.factory.local_addr()).is_err(),
        "no longer accepting"
    );
}

#[test]
fn read_chunk_grows_on_full_reads_and_shrinks_on_small_ones() {
    assert_eq!(next_chunk(512, 512, true), 1024);
    assert_eq!(
        next_chunk(MAX_READ_CHUNK, MAX_READ_CHUNK, true),
        MAX_READ_CHUNK
    );
    assert_eq!(next_chunk(4096, 100, false), 2048);
    assert_eq!(next_chunk(512, 10, false), MIN_READ_CHUNK);
    assert_eq!(next_chunk(4096, 2000, false), 4096);
}

#[test]
fn input_finds_whole_frames_and_reports_what_is_missing() {
    let mut input = Input::default();
    input.buf.extend_from_slice(&request(1, 1, b"abc"));
    input.buf.extend_from_slice(&[0, 0, 0, 20, 1]);
    let mut missing = 0;
    let (start, end) = input
        .complete_frame(&mut missing)
        .ok()
        .flatten()
        .expect("a whole frame");
    assert_eq!(&input.buf[start + 8..end], b"abc");
    input.consume(end - input.pos);
    assert!(matches!(input.complete_frame(&mut missing), Ok(None)));
    assert_eq!(missing, 19, "20-byte body, 1 byte there");
    let mut bad = Input::default();
    bad.buf.extend_from_slice(&(-1i32).to_be_bytes());
    assert!(matches!(
        bad.complete_frame(&mut missing),
        Err(ReadEnd::BadLength(-1))
    ));
}

#[test]
fn trimming_the_stack_keeps_live_frames_intact() {
    fn deep(n: u32) -> u64 {
        let block = [n as u64; 64];
        if n == 0 {
            return block.iter().sum();
        }
        deep(n - 1) + std::hint::black_box(block)[3]
    }
    let handle = std::thread::Builder::new()
        .stack_size(CNXN_STACK_SIZE)
        .spawn(|| {
            let live = [7u64; 32];
            let before = deep(100);
            trim_stack();
            // Pages below us come back zeroed; our own frame is untouched.
            assert_eq!(std::hint::black_box(live).iter().sum::<u64>(), 7 * 32);
            assert_eq!(deep(100), before);
        })
        .unwrap();
    handle.join().unwrap();
}

thread_local! {
    /// Stack pointers of the bottom frames of `trim_at_depth`.
    static BOTTOMS: std::cell::RefCell<Vec<usize>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// Whether the page holding `addr` is resident.
fn resident(addr: usize) -> bool {
    let page = addr & !4095;
    let mut v = [0u8; 1];
    // SAFETY: one page of this thread's own stack mapping, one status byte.
    let rc = unsafe { libc::mincore(page as *mut libc::c_void, 4096, v.as_mut_ptr()) };
    assert_eq!(rc, 0);
    v[0] & 1 == 1
}

/// Touches about 50 KiB of stack below the caller and returns.
#[inline(never)]
fn touch_deep(n: u32) -> u64 {
    let block = std::hint::black_box([u64::from(n); 64]);
    if n == 0 {
        return block[0];
    }
    touch_deep(n - 1).wrapping_add(block[1])
}

/// `levels` frames of odd size, each with a canary checked after the
/// trim at the bottom: the bottom lands at stack pointers all over a page.
#[inline(never)]
fn trim_at_depth(levels: u32, tag: u64) -> u64 {
    let canary = std::hint::black_box([tag ^ u64::from(levels); 9]);
    let below = if levels == 0 {
        let sp = threads::stack_pointer().expect("x86-64 or aarch64");
        BOTTOMS.with(|b| b.borrow_mut().push(sp));
        touch_deep(100);
        let deep = sp - 32 * 1024;
        assert!(resident(deep), "touched");
        trim_stack();
        assert!(
            !resident(deep),
            "a page 32 KiB below the stack pointer was not given back"
        );
        assert!(resident(sp), "the current frame's page stays");
        touch_deep(100)
    } else {
        trim_at_depth(levels - 1, tag)
    };
    let canary = std::hint::black_box(canary);
    assert!(
        canary.iter().all(|c| *c == tag ^ u64::from(levels)),
        "canary of level {} changed",
        levels
    );
    below
}

#[test]
fn trimming_the_stack_cuts_below_the_real_stack_pointer_at_every_offset() {
    let handle = std::thread::Builder::new()
        .stack_size(CNXN_STACK_SIZE)
        .spawn(|| {
            for levels in 0..160 {
                trim_at_depth(levels, 0x5EED_0000 + u64::from(levels));
            }
            // The bottom frame's stack pointer went all over a page, into
            // the margin at its start too (where the cut keeps a page more).
            let offsets: std::collections::BTreeSet<usize> =
                BOTTOMS.with(|b| b.borrow().iter().map(|sp| sp % 4096).collect());
            assert!(offsets.len() >= 16, "{:?}", offsets);
            assert!(offsets.iter().any(|o| *o < 128), "{:?}", offsets);
        })
        .unwrap();
    handle.join().unwrap();
}

#[test]
fn a_quiet_connection_gives_back_its_output_room_and_keeps_serving() {
    let h = Harness::simple(OnConnect::Accept);
    let mut s = handshake(&h);
    s.write_all(&request(1, 1, b"hello")).unwrap();
    let reply = read_frame(&mut s);
    assert_eq!(&reply[16..], b"hello");
    let cnxn = h.factory.registry().connections()[0].clone();
    wait_for("the idle connection to release its output buffer", || {
        lock(&cnxn.out).buf.capacity() == 0
    });
    // Trimmed and waiting in poll: the next request is served as before.
    s.write_all(&request(2, 1, b"again")).unwrap();
    assert_eq!(&read_frame(&mut s)[16..], b"again");
}

#[test]
fn a_server_close_during_the_handshake_ends_a_reader_back_at_its_socket() {
    let h = Harness::simple(OnConnect::Hold);
    let mut s = h.connect();
    s.write_all(&connect_request(Some(false))).unwrap();
    wait_for("the ConnectRequest to reach the server", || {
        !h.server.cnxns.lock().is_empty()
    });
    let cnxn = h.server.cnxns.lock()[0].clone();
    cnxn.close(CloseReason::ServerShutdown);
    assert!(closed_by_server(&mut s));
    wait_for("the connection to leave the registry", || {
        h.factory.registry().is_empty()
    });
}

/// A connected loopback pair (client side, server side).
fn socket_pair() -> (TcpStream, TcpStream) {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let a = TcpStream::connect(l.local_addr().unwrap()).unwrap();
    let (b, _) = l.accept().unwrap();
    (a, b)
}

#[test]
fn a_small_read_takes_only_the_bytes_received_from_the_heap() {
    let (mut client, server) = socket_pair();
    let fd = server.as_raw_fd();
    let mut input = Input::default();
    // A ping: 12 bytes. The old path reserved MIN_READ_CHUNK for it.
    let ping = request(-2, 11, b"");
    client.write_all(&ping).unwrap();
    while input.available().len() < ping.len() {
        input.read_more(fd, None, 4).unwrap();
    }
    assert_eq!(input.available(), &ping[..]);
    assert!(
        input.buf.capacity() < MIN_READ_CHUNK / 4,
        "a {}-byte read kept {} bytes of heap",
        ping.len(),
        input.buf.capacity()
    );
    // A frame larger than the stack room still arrives whole, across reads.
    input.consume(ping.len());
    let big = request(7, 5, &vec![9u8; 3 * MIN_READ_CHUNK]);
    let writer = std::thread::spawn(move || client.write_all(&big).map(|_| big));
    let big_len = 4 + 3 * MIN_READ_CHUNK + 8;
    while input.available().len() < big_len {
        input
            .read_more(fd, None, big_len - input.available().len())
            .unwrap();
    }
    let big = writer.join().unwrap().unwrap();
    assert_eq!(input.available(), &big[..]);
}
