//! How a dropped idle session of `failover` and `reattach` comes back:
//! the way every ZooKeeper client does it on its own. It waits a random
//! time below `--backoff` (the Java client sleeps up to 1 s before each
//! reconnect, so a crowd of clients spreads its attempts), then connects
//! to the next surviving node. It sends its session id and password and
//! gives the attempt a deadline for connect plus answer (the session
//! timeout divided by the number of nodes). On failure it starts over.
//!
//! One holder thread drives a few hundred of these clients. Connects are
//! non-blocking and one `poll(2)` watches every attempt in flight, so no
//! session waits behind another one's connect or answer (the loop before
//! this connected one session after another and read the answers in
//! order).
//!
//! Runs on the holder threads of [`crate::failover`], each on its own
//! sessions only.
//!
//! Mirrors: the reconnect loop of `org.apache.zookeeper.ClientCnxn`
//! (`SendThread.startConnect`'s random sleep; `connectTimeout`, the
//! session timeout over the number of hosts).

use std::io::{ErrorKind, Write};
use std::net::{SocketAddr, TcpStream};
use std::os::fd::{AsRawFd, FromRawFd, RawFd};
use std::time::{Duration, Instant};

use crate::client::{Handshake, Session};
use crate::ops::Rng;

/// The wait before a reconnect: uniform in `0..max` (none when `max` is
/// zero), as `ClientCnxn` draws it before every attempt but the first.
pub fn backoff(rng: &mut Rng, max: Duration) -> Duration {
    let ms = max.as_millis() as usize;
    if ms == 0 {
        return Duration::ZERO;
    }
    Duration::from_millis(rng.below(ms) as u64)
}

/// One connect attempt in flight.
pub struct Attempt {
    stream: TcpStream,
    /// The connect request has been sent; waiting for the answer.
    answering: bool,
    deadline: Instant,
}

/// What became of an attempt after its socket was ready.
pub enum Progress {
    /// Still connecting or waiting for the answer.
    Pending(Attempt),
    /// The server answered (session id 0: the session expired).
    Answered(Session, Handshake),
    /// Refused, reset, closed before answering, or past its deadline.
    Failed,
}

impl Attempt {
    /// Starts a non-blocking connect to `server`; `connect` (the connect
    /// request frame) is sent once the connection is up.
    pub fn start(server: SocketAddr, deadline: Instant) -> std::io::Result<Attempt> {
        let SocketAddr::V4(v4) = server else {
            return Err(std::io::Error::new(ErrorKind::Unsupported, "IPv4 only"));
        };
        let to = libc::sockaddr_in {
            sin_family: libc::AF_INET as libc::sa_family_t,
            sin_port: v4.port().to_be(),
            sin_addr: libc::in_addr {
                s_addr: u32::from(*v4.ip()).to_be(),
            },
            sin_zero: [0; 8],
        };
        let len = std::mem::size_of::<libc::sockaddr_in>() as libc::socklen_t;
        // SAFETY: a socket this function owns (wrapped in a TcpStream at
        // once, which closes it on every path); `to` outlives the call.
        unsafe {
            let fd = libc::socket(
                libc::AF_INET,
                libc::SOCK_STREAM | libc::SOCK_NONBLOCK | libc::SOCK_CLOEXEC,
                0,
            );
            if fd < 0 {
                return Err(std::io::Error::last_os_error());
            }
            let stream = TcpStream::from_raw_fd(fd);
            if libc::connect(fd, &to as *const _ as *const libc::sockaddr, len) < 0 {
                let e = std::io::Error::last_os_error();
                if e.raw_os_error() != Some(libc::EINPROGRESS) {
                    return Err(e);
                }
            }
            Ok(Attempt {
                stream,
                answering: false,
                deadline,
            })
        }
    }

    /// The descriptor and the events to poll it for.
    pub fn poll_for(&self) -> (RawFd, i16) {
        let events = if self.answering {
            libc::POLLIN
        } else {
            libc::POLLOUT
        };
        (self.stream.as_raw_fd(), events)
    }

    pub fn expired(&self, now: Instant) -> bool {
        now >= self.deadline
    }

    /// Moves the attempt on after poll reported `revents` on it.
    pub fn advance(self, revents: i16, connect: &[u8]) -> Progress {
        if !self.answering {
            if revents & (libc::POLLOUT | libc::POLLERR | libc::POLLHUP) == 0 {
                return Progress::Pending(self);
            }
            if !matches!(self.stream.take_error(), Ok(None)) {
                return Progress::Failed;
            }
            let mut stream = self.stream;
            let sent = stream.set_nonblocking(false).is_ok()
                && stream.set_nodelay(true).is_ok()
                && stream
                    .set_write_timeout(Some(Duration::from_secs(1)))
                    .is_ok()
                && stream.write_all(connect).is_ok();
            if !sent {
                return Progress::Failed;
            }
            return Progress::Pending(Attempt {
                stream,
                answering: true,
                deadline: self.deadline,
            });
        }
        if revents == 0 {
            return Progress::Pending(self);
        }
        // Readable: the answer (a few dozen bytes) is there, or the
        // connection closed.
        match Session::read_handshake(self.stream, Duration::from_millis(200)) {
            Ok((session, handshake)) => Progress::Answered(session, handshake),
            Err(_) => Progress::Failed,
        }
    }
}

/// `poll(2)` over `fds` (descriptor, events); returns each one's revents
/// (0 for those not ready), waiting at most `timeout`.
pub fn poll(fds: &[(RawFd, i16)], timeout: Duration) -> Vec<i16> {
    let mut pfds: Vec<libc::pollfd> = fds
        .iter()
        .map(|&(fd, events)| libc::pollfd {
            fd,
            events,
            revents: 0,
        })
        .collect();
    let ms = timeout.as_millis().min(i32::MAX as u128) as i32;
    if pfds.is_empty() {
        std::thread::sleep(timeout);
        return Vec::new();
    }
    // SAFETY: `pfds` is a valid array of `pfds.len()` pollfd structs that
    // lives across the call; the descriptors belong to live sockets.
    let n = unsafe { libc::poll(pfds.as_mut_ptr(), pfds.len() as libc::nfds_t, ms) };
    if n <= 0 {
        return vec![0; pfds.len()];
    }
    pfds.iter().map(|p| p.revents).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::client::connect_frame_for;
    use std::io::Read;
    use std::net::TcpListener;

    #[test]
    fn backoff_stays_below_its_bound_and_spreads() {
        let mut rng = Rng::new(7);
        let max = Duration::from_millis(1000);
        let waits: Vec<Duration> = (0..1000).map(|_| backoff(&mut rng, max)).collect();
        assert!(waits.iter().all(|w| *w < max));
        assert!(waits.iter().any(|w| *w < Duration::from_millis(100)));
        assert!(waits.iter().any(|w| *w > Duration::from_millis(900)));
        assert_eq!(backoff(&mut rng, Duration::ZERO), Duration::ZERO);
    }

    fn run(mut attempt: Attempt, frame: &[u8]) -> Progress {
        loop {
            let revents = poll(&[attempt.poll_for()], Duration::from_secs(5));
            match attempt.advance(revents[0], frame) {
                Progress::Pending(a) => attempt = a,
                done => return done,
            }
        }
    }

    #[test]
    fn an_answered_attempt_carries_the_session_back() {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let server = std::thread::spawn(move || {
            let (mut s, _) = listener.accept().unwrap();
            let frame = connect_frame_for(0x42, &[7; 16], 0);
            let mut got = vec![0; frame.len()];
            s.read_exact(&mut got).unwrap();
            assert_eq!(got, frame);
            // ConnectResponse: protocol, timeout, session id, password.
            let mut body = Vec::new();
            body.extend_from_slice(&0i32.to_be_bytes());
            body.extend_from_slice(&30_000i32.to_be_bytes());
            body.extend_from_slice(&0x42i64.to_be_bytes());
            body.extend_from_slice(&16i32.to_be_bytes());
            body.extend_from_slice(&[7; 16]);
            let mut out = (body.len() as i32).to_be_bytes().to_vec();
            out.extend_from_slice(&body);
            s.write_all(&out).unwrap();
            s
        });
        let deadline = Instant::now() + Duration::from_secs(10);
        let attempt = Attempt::start(addr, deadline).unwrap();
        let frame = connect_frame_for(0x42, &[7; 16], 0);
        match run(attempt, &frame) {
            Progress::Answered(_, h) => assert_eq!(h.session_id, 0x42),
            _ => panic!("the attempt was not answered"),
        }
        drop(server.join().unwrap());
    }

    #[test]
    fn a_closed_port_fails_the_attempt() {
        let addr = {
            let l = TcpListener::bind("127.0.0.1:0").unwrap();
            l.local_addr().unwrap()
        };
        let deadline = Instant::now() + Duration::from_secs(10);
        match Attempt::start(addr, deadline) {
            Err(_) => {}
            Ok(attempt) => assert!(matches!(run(attempt, b"x"), Progress::Failed)),
        }
    }
}
