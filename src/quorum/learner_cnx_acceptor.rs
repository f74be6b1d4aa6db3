//! The leader's quorum port (and a follower's observerMasterPort):
//! accepts learner connections and starts a LearnerHandler thread for
//! each, until the role ends.
//!
//! Thread: "LearnerCnxAcceptor-<addr>", one per quorum address. A
//! connection gets its LearnerHandler thread only once its first packet
//! (FOLLOWERINFO or OBSERVERINFO, a few dozen bytes, or the first quorum
//! SASL packet) has arrived whole
//! within initLimit ticks: until then it waits in the acceptor's
//! [`super::handshake_gate`], with at most 64 others. The gate checks
//! the stop flag every 100 ms so that [`LearnerCnxAcceptor::stop`] ends
//! it promptly (the port is released when the thread exits). With quorum
//! TLS the gate also tells TLS from plaintext and runs the handshake.
//!
//! Mirrors: `Leader.LearnerCnxAcceptor` and `LearnerCnxAcceptorHandler`.

use std::io::ErrorKind;
use std::net::{Ipv4Addr, SocketAddr, TcpListener};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::{self, JoinHandle};
use std::time::Duration;

use log::{info, warn};

use super::auth::quorum_auth::{auth_packet_len, is_auth_packet};
use super::handshake_gate::{self, BadFirstMessage, GateLimits};
use super::learner_handler;
use super::learner_master::LearnerMaster;
use super::quorum_server::HostPort;
use super::unified_socket::QuorumSocket;
use crate::config::quorum_tls::QuorumTls;
use crate::server::zookeeper_critical_thread;

/// The accept threads.
pub struct LearnerCnxAcceptor {
    /// Cleared by `stop`.
    running: Arc<AtomicBool>,
    /// One per address; joined by `stop`.
    threads: Vec<JoinHandle<()>>,
}

impl LearnerCnxAcceptor {
    /// Binds my quorum address(es) (`0.0.0.0` with `quorumListenOnAllIPs`)
    /// and starts accepting (TLS as `tls` says). Fails if no address could
    /// be bound.
    pub fn start(
        leader: Arc<dyn LearnerMaster>,
        addrs: &[HostPort],
        listen_on_all_ips: bool,
        tls: Option<Arc<QuorumTls>>,
    ) -> std::io::Result<LearnerCnxAcceptor> {
        let running = Arc::new(AtomicBool::new(true));
        let mut threads = Vec::new();
        let mut last_err = None;
        for addr in addrs {
            let target = if listen_on_all_ips {
                HostPort {
                    host: Ipv4Addr::UNSPECIFIED.to_string(),
                    port: addr.port,
                }
            } else {
                addr.clone()
            };
            let bound = target.resolve().and_then(bind_reusable).and_then(|l| {
                l.set_nonblocking(true)?;
                Ok(l)
            });
            match bound {
                Ok(listener) => {
                    info!("Listening for learners on {}", target);
                    let (leader, running) = (Arc::clone(&leader), Arc::clone(&running));
                    let tls = tls.clone();
                    let t = thread::Builder::new()
                        .name(format!("LearnerCnxAcceptor-{}", target))
                        .spawn(move || accept_loop(&listener, &leader, &running, tls.as_deref()))?;
                    threads.push(t);
                }
                Err(e) => {
                    warn!("Cannot open the quorum port {}: {}", target, e);
                    last_err = Some(e);
                }
            }
        }
        match (threads.is_empty(), last_err) {
            (true, Some(e)) => Err(e),
            _ => Ok(LearnerCnxAcceptor { running, threads }),
        }
    }

    /// Stops accepting and closes the port.
    pub fn stop(self) {
        self.running.store(false, Ordering::SeqCst);
        for t in self.threads {
            let _ = t.join();
        }
    }
}

/// Binds, retrying briefly: the previous role's listener may be closing.
fn bind_reusable(addr: std::net::SocketAddr) -> std::io::Result<TcpListener> {
    let mut tries = 0;
    loop {
        match TcpListener::bind(addr) {
            Ok(l) => return Ok(l),
            Err(e) if e.kind() == ErrorKind::AddrInUse && tries < 20 => {
                tries += 1;
                thread::sleep(Duration::from_millis(100));
            }
            Err(e) => return Err(e),
        }
    }
}

/// Connections still sending their first packet, at most.
const MAX_PENDING_LEARNERS: usize = 64;
/// The longest data of a first packet (a LearnerInfo is 20 bytes).
const MAX_FIRST_DATA: usize = 4096;

/// The first packet: a quorum SASL packet (when the learner starts with
/// SASL) or FOLLOWERINFO/OBSERVERINFO.
fn first_packet_len(prefix: &[u8]) -> Result<usize, BadFirstMessage> {
    match is_auth_packet(prefix) {
        true => auth_packet_len(prefix),
        false => handshake_gate::quorum_packet_len(prefix, MAX_FIRST_DATA),
    }
}

fn accept_loop(
    listener: &TcpListener,
    leader: &Arc<dyn LearnerMaster>,
    running: &AtomicBool,
    tls: Option<&QuorumTls>,
) {
    zookeeper_critical_thread::mark();
    let limits = GateLimits {
        max_pending: MAX_PENDING_LEARNERS,
        deadline: leader.timing().init_timeout(),
    };
    let stop = || !running.load(Ordering::SeqCst) || !leader.is_running();
    let mut ready = |stream: QuorumSocket, from: SocketAddr, first: Vec<u8>| {
        info!("Learner connected from {}", from);
        if let Err(e) = learner_handler::spawn_after(Arc::clone(leader), stream, from, first) {
            warn!("Cannot start a LearnerHandler for {}: {}", from, e);
        }
    };
    handshake_gate::run(
        listener,
        "Learner acceptor",
        limits,
        first_packet_len,
        tls,
        &stop,
        &mut ready,
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::quorum::auth::quorum_auth::{send, Status};

    #[test]
    fn first_packet_is_sasl_or_learner_info() {
        let mut auth = Vec::new();
        send(&mut auth, Status::InProgress, Some(b"token")).unwrap();
        // Until 8 bytes show the magic, a QuorumPacket header is assumed.
        assert_eq!(first_packet_len(&auth[..4]), Ok(16));
        assert_eq!(first_packet_len(&auth[..8]), Ok(16));
        assert_eq!(first_packet_len(&auth[..16]), Ok(auth.len()));
        assert_eq!(first_packet_len(&auth), Ok(auth.len()));
        let mut info = Vec::new();
        info.extend_from_slice(&11i32.to_be_bytes());
        info.extend_from_slice(&0i64.to_be_bytes());
        info.extend_from_slice(&20i32.to_be_bytes());
        // Type, zxid, 20 bytes of data, then the identity count.
        assert_eq!(first_packet_len(&info), Ok(40));
    }
}
