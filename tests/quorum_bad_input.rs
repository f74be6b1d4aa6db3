//! Bad input on the election port: wrong protocol version, impossible
//! lengths, garbage, strangers, truncated notifications. Each connection
//! is closed (or the message dropped) with a warning naming the peer, and
//! the election still completes afterwards.

mod quorum_util;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use quorum_util::Ensemble;

const V1: i64 = -65536;

fn connect(port: u16) -> TcpStream {
    let s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    s
}

fn header(version: i64, sid: i64, len: i32, addr: &[u8]) -> Vec<u8> {
    let mut b = version.to_be_bytes().to_vec();
    b.extend_from_slice(&sid.to_be_bytes());
    b.extend_from_slice(&len.to_be_bytes());
    b.extend_from_slice(addr);
    b
}

fn frame(len: i32, body: &[u8]) -> Vec<u8> {
    let mut b = len.to_be_bytes().to_vec();
    b.extend_from_slice(body);
    b
}

/// True when the peer closed the connection (EOF or reset) in time;
/// frames it sent before closing are skipped.
fn closed_by_peer(mut s: TcpStream) -> bool {
    let deadline = Instant::now() + Duration::from_secs(5);
    let mut buf = [0u8; 4096];
    while Instant::now() < deadline {
        match s.read(&mut buf) {
            Ok(0) => return true,
            Ok(_) => continue,
            Err(e)
                if e.kind() == std::io::ErrorKind::WouldBlock
                    || e.kind() == std::io::ErrorKind::TimedOut =>
            {
                return false
            }
            Err(_) => return true,
        }
    }
    false
}

/// Reads one length-prefixed frame.
fn read_frame(s: &mut TcpStream) -> Vec<u8> {
    let mut len = [0u8; 4];
    s.read_exact(&mut len).unwrap();
    let mut body = vec![0u8; i32::from_be_bytes(len) as usize];
    s.read_exact(&mut body).unwrap();
    body
}

#[test]
fn bad_input_is_refused_and_the_election_completes() {
    let mut e = Ensemble::new("qbad", 3);
    e.start(1);
    let port = e.peer(1).election_port;
    let deadline = Instant::now() + Duration::from_secs(10);
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "election port never opened");
        std::thread::sleep(Duration::from_millis(50));
    }
    let addr = format!("127.0.0.1:{}", e.peer(3).election_port);
    let cases: Vec<(&str, Vec<u8>)> = vec![
        (
            "wrong protocol version",
            header(-2, 3, addr.len() as i32, addr.as_bytes()),
        ),
        ("negative address length", header(V1, 3, -1, b"")),
        ("zero address length", header(V1, 3, 0, b"")),
        ("oversized address length", header(V1, 3, 4096, b"")),
        ("unparsable address", header(V1, 3, 5, b"abcde")),
        ("garbage", b"GET / HTTP/1.1\r\nHost: x\r\n\r\n".to_vec()),
        (
            "unknown sid",
            header(V1, 99, addr.len() as i32, addr.as_bytes()),
        ),
        ("truncated header", header(V1, 3, 40, b"127.0.0.1")),
        (
            "negative frame length",
            [
                header(V1, 3, addr.len() as i32, addr.as_bytes()),
                frame(-5, b""),
            ]
            .concat(),
        ),
        (
            "oversized frame length",
            [
                header(V1, 3, addr.len() as i32, addr.as_bytes()),
                frame(600_000, b""),
            ]
            .concat(),
        ),
    ];
    for (name, bytes) in cases {
        let mut s = connect(port);
        let _ = s.write_all(&bytes);
        // ("truncated header": nothing more comes, the handshake timeout
        // of tickTime × syncLimit closes it.)
        assert!(closed_by_peer(s), "{}: not closed", name);
    }

    // Posing as server 3: truncated and short notifications are dropped,
    // the connection stays and carries peer 1's vote.
    let mut s = connect(port);
    s.write_all(&header(V1, 3, addr.len() as i32, addr.as_bytes()))
        .unwrap();
    s.write_all(&frame(10, &[1u8; 10])).unwrap(); // shorter than 28 bytes
    s.write_all(&frame(30, &[0u8; 30])).unwrap(); // ends inside peerEpoch
    let mut bad_config = vec![0u8; 44];
    bad_config[36..40].copy_from_slice(&2i32.to_be_bytes());
    bad_config[40..44].copy_from_slice(&1000i32.to_be_bytes()); // config longer than the message
    s.write_all(&frame(44, &bad_config)).unwrap();
    let vote = read_frame(&mut s);
    assert!(vote.len() >= 44, "{:?}", vote);
    assert_eq!(&vote[0..4], &0i32.to_be_bytes(), "state LOOKING");
    assert_eq!(&vote[4..12], &1i64.to_be_bytes(), "peer 1 votes for itself");
    assert_eq!(&vote[36..40], &2i32.to_be_bytes(), "format version 2");
    drop(s);

    for needle in [
        "initial message refused: Got unrecognized protocol version -2",
        "Unreasonable buffer length: -1",
        "Unreasonable buffer length: 4096",
        "Badly formed address: abcde",
        "sid 99 is not a member of the ensemble",
        "Received packet with invalid packet: -5",
        "Received packet with invalid packet: 600000",
        "Got a short response from server 3: 10",
        "Skipping the processing of a notification sent by sid=3",
    ] {
        let deadline = Instant::now() + Duration::from_secs(5);
        while !e.peer(1).log().contains(needle) && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(50));
        }
        let log = e.peer(1).log();
        assert!(log.contains(needle), "missing {:?} in:\n{}", needle, log);
    }

    // The election still completes once a second voter comes.
    e.start(2);
    e.await_leader(&[1, 2], 2, Duration::from_secs(20));
}

fn threads_of(pid: u32) -> usize {
    let status = std::fs::read_to_string(format!("/proc/{}/status", pid)).unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix("Threads:"))
        .unwrap()
        .trim()
        .parse()
        .unwrap()
}

/// True when the server closes a connection that keeps sending one byte
/// of a never-ending first message every 100 ms, within `within`.
fn trickle_is_cut(port: u16, first: &[u8], within: Duration) -> bool {
    let mut s = connect(port);
    s.set_read_timeout(Some(Duration::from_millis(100)))
        .unwrap();
    let start = Instant::now();
    let mut i = 0;
    while start.elapsed() < within {
        if s.write_all(&first[i % first.len()..i % first.len() + 1])
            .is_err()
        {
            return true;
        }
        i += 1;
        let mut b = [0u8; 64];
        match s.read(&mut b) {
            Ok(0) => return true,
            Ok(_) => {}
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) => {}
            Err(_) => return true,
        }
    }
    false
}

/// Strangers on the election and quorum ports: a thousand idle
/// connections cost the peers no thread, a handshake that trickles in is
/// cut at its total deadline, and a third peer still joins the ensemble.
#[test]
fn idle_and_trickling_connections_cost_no_thread_and_the_ensemble_works() {
    let mut e = Ensemble::new("qflood", 3);
    e.start(1);
    e.start(2);
    e.await_leader(&[1, 2], 2, Duration::from_secs(30));
    let pids: Vec<u32> = [1, 2]
        .iter()
        .map(|s| e.peers[*s - 1].child.as_ref().unwrap().id())
        .collect();
    let before: Vec<usize> = pids.iter().map(|p| threads_of(*p)).collect();
    let ports = [
        e.peer(1).election_port,
        e.peer(2).election_port,
        e.peer(2).quorum_port,
    ];
    let mut idle = Vec::new();
    for i in 0..1500 {
        if let Ok(s) = TcpStream::connect(("127.0.0.1", ports[i % 3])) {
            idle.push(s);
        }
    }
    assert!(idle.len() >= 1400, "only {} connections opened", idle.len());
    let settle = Instant::now() + Duration::from_secs(3);
    let mut grown = 0usize;
    while Instant::now() < settle {
        for (p, b) in pids.iter().zip(&before) {
            grown = grown.max(threads_of(*p).saturating_sub(*b));
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    assert!(grown <= 8, "1,500 idle connections took {} threads", grown);

    // One deadline for the whole first message (tickTime × syncLimit on
    // the election port, × initLimit on the quorum port), not per read.
    let addr = format!("127.0.0.1:{}", e.peer(3).election_port);
    let header = header(V1, 3, addr.len() as i32, addr.as_bytes());
    assert!(trickle_is_cut(
        e.peer(1).election_port,
        &header[..header.len() - 1],
        Duration::from_secs(5)
    ));
    let mut info = 11i32.to_be_bytes().to_vec(); // FOLLOWERINFO
    info.extend_from_slice(&[0u8; 8]);
    info.extend_from_slice(&20i32.to_be_bytes());
    assert!(trickle_is_cut(
        e.peer(2).quorum_port,
        &info,
        Duration::from_secs(5)
    ));

    e.start(3);
    e.await_leader(&[1, 2, 3], 2, Duration::from_secs(30));
    drop(idle);
}
