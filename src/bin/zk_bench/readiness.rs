//! Which of many sessions have bytes to read: one `poll(2)` over their
//! sockets, so one thread can watch hundreds of idle sessions (the
//! `failover` and `watches` workloads hold thousands).
//!
//! Called by the holder threads of those workloads, each on its own
//! sessions only.
//!
//! Mirrors: nothing in ZooKeeper; part of the zk-bench tool (Java's
//! client uses one selector per session instead).

use std::net::{Ipv4Addr, SocketAddr, TcpStream};
use std::os::fd::{AsRawFd, FromRawFd};
use std::time::Duration;

/// Indexes (into `streams`) of the sockets that are readable or closed,
/// waiting at most `timeout`. `None` entries are skipped.
pub fn readable(streams: &[Option<&TcpStream>], timeout: Duration) -> Vec<usize> {
    let mut fds: Vec<libc::pollfd> = Vec::with_capacity(streams.len());
    let mut index = Vec::with_capacity(streams.len());
    for (i, s) in streams.iter().enumerate() {
        if let Some(s) = s {
            fds.push(libc::pollfd {
                fd: s.as_raw_fd(),
                events: libc::POLLIN,
                revents: 0,
            });
            index.push(i);
        }
    }
    if fds.is_empty() {
        std::thread::sleep(timeout);
        return Vec::new();
    }
    let ms = timeout.as_millis().min(i32::MAX as u128) as i32;
    // SAFETY: `fds` is a valid array of `fds.len()` pollfd structs that
    // lives across the call; the descriptors belong to live streams.
    let n = unsafe { libc::poll(fds.as_mut_ptr(), fds.len() as libc::nfds_t, ms) };
    if n <= 0 {
        return Vec::new();
    }
    fds.iter()
        .zip(index)
        .filter(|(fd, _)| fd.revents != 0)
        .map(|(_, i)| i)
        .collect()
}

/// Connects to `server` from the local address `local` (a loopback
/// alias such as 127.0.0.2): one source address has only ~28,000
/// ephemeral ports, too few for `sessions-max`. `timeout` bounds the
/// connect (SO_SNDTIMEO, which Linux applies to connect).
pub fn connect_from(
    local: Ipv4Addr,
    server: SocketAddr,
    timeout: Duration,
) -> std::io::Result<TcpStream> {
    let SocketAddr::V4(server) = server else {
        return TcpStream::connect_timeout(&server, timeout);
    };
    let sockaddr = |ip: Ipv4Addr, port: u16| libc::sockaddr_in {
        sin_family: libc::AF_INET as libc::sa_family_t,
        sin_port: port.to_be(),
        sin_addr: libc::in_addr {
            s_addr: u32::from(ip).to_be(),
        },
        sin_zero: [0; 8],
    };
    let len = std::mem::size_of::<libc::sockaddr_in>() as libc::socklen_t;
    // SAFETY: plain socket calls on a descriptor this function owns (it is
    // wrapped in a TcpStream at once, which closes it on every path); the
    // address structs outlive the calls.
    unsafe {
        let fd = libc::socket(libc::AF_INET, libc::SOCK_STREAM | libc::SOCK_CLOEXEC, 0);
        if fd < 0 {
            return Err(std::io::Error::last_os_error());
        }
        let stream = TcpStream::from_raw_fd(fd);
        stream.set_write_timeout(Some(timeout))?;
        let from = sockaddr(local, 0);
        if libc::bind(fd, &from as *const _ as *const libc::sockaddr, len) < 0 {
            return Err(std::io::Error::last_os_error());
        }
        let to = sockaddr(*server.ip(), server.port());
        if libc::connect(fd, &to as *const _ as *const libc::sockaddr, len) < 0 {
            return Err(std::io::Error::last_os_error());
        }
        stream.set_write_timeout(None)?;
        Ok(stream)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;
    use std::net::TcpListener;

    #[test]
    fn only_sockets_with_data_are_readable() {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let a = connect_from(Ipv4Addr::new(127, 0, 0, 2), addr, Duration::from_secs(2)).unwrap();
        let b = TcpStream::connect(addr).unwrap();
        let (mut a_peer, _) = listener.accept().unwrap();
        let (_b_peer, _) = listener.accept().unwrap();
        assert_eq!(a.local_addr().unwrap().ip().to_string(), "127.0.0.2");
        let streams = [Some(&a), None, Some(&b)];
        assert!(readable(&streams, Duration::from_millis(10)).is_empty());
        a_peer.write_all(b"x").unwrap();
        assert_eq!(readable(&streams, Duration::from_secs(2)), vec![0]);
    }
}
