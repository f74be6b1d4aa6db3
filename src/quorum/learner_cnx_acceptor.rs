//! The leader's quorum port, until Zab lands: learners may connect (so a
//! Java follower gets as far as sending FOLLOWERINFO and waits for the
//! leader's answer, as it would with a slow leader), but nothing is said
//! back; the connections are closed when the role ends. A Java learner
//! gives up after initLimit × tickTime and goes back to LOOKING.
//!
//! Polled from the QuorumPeer main thread while it holds the LEADING role
//! (a non-blocking listener: no thread of its own).
//!
//! Mirrors: `Leader.LearnerCnxAcceptor` (accepting only).

use std::io::ErrorKind;
use std::net::{Ipv4Addr, TcpListener, TcpStream};

use log::{info, warn};

use super::quorum_server::HostPort;

/// The listener and the learners it accepted.
pub struct LearnerCnxAcceptor {
    /// Non-blocking listeners, one per quorum address.
    listeners: Vec<TcpListener>,
    /// Accepted learner sockets, held open until the role ends.
    learners: Vec<TcpStream>,
}

impl LearnerCnxAcceptor {
    /// Binds my quorum address(es) (`0.0.0.0` with `quorumListenOnAllIPs`).
    /// A failure is logged; the role goes on without a quorum port.
    pub fn bind(addrs: &[HostPort], listen_on_all_ips: bool) -> LearnerCnxAcceptor {
        let mut listeners = Vec::new();
        for addr in addrs {
            let target = if listen_on_all_ips {
                HostPort { host: Ipv4Addr::UNSPECIFIED.to_string(), port: addr.port }
            } else {
                addr.clone()
            };
            let bound = target.resolve().and_then(TcpListener::bind).and_then(|l| {
                l.set_nonblocking(true)?;
                Ok(l)
            });
            match bound {
                Ok(l) => {
                    info!("Leader listening for learners on {} (Zab is not implemented yet: no sync)", target);
                    listeners.push(l);
                }
                Err(e) => warn!("Cannot open the quorum port {}: {}", target, e),
            }
        }
        LearnerCnxAcceptor { listeners, learners: Vec::new() }
    }

    /// Accepts whatever learners are waiting.
    pub fn poll(&mut self) {
        for listener in &self.listeners {
            loop {
                match listener.accept() {
                    Ok((stream, from)) => {
                        info!("Learner connected from {}; holding the connection (no Zab yet)", from);
                        self.learners.push(stream);
                    }
                    Err(e) if e.kind() == ErrorKind::WouldBlock => break,
                    Err(e) => {
                        warn!("Exception while accepting a learner: {}", e);
                        break;
                    }
                }
            }
        }
    }
}

impl Drop for LearnerCnxAcceptor {
    fn drop(&mut self) {
        for learner in &self.learners {
            let _ = learner.shutdown(std::net::Shutdown::Both);
        }
    }
}
