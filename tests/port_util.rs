//! Helper of the integration tests that start servers on loopback: ports
//! for them, picked below the kernel's ephemeral range.
//!
//! A port handed out by `bind(127.0.0.1:0)` is an ephemeral one. Between the
//! test dropping its probe socket and the server binding the port, the
//! kernel may give it to anyone: as the source port of any outgoing
//! connection on the machine (a peer dialling an election port, a `srvr`
//! poll), or to the next `bind(0)` of the same test, so that two members of
//! one ensemble got the same number. Below the ephemeral range only
//! listeners compete; each port is handed out once per test process,
//! starting from a point that differs between processes (the interop
//! suite's conftest.py does the same).
#![allow(dead_code)]

use std::net::TcpListener;
use std::sync::atomic::{AtomicU32, Ordering};

const LOW: u32 = 15000;
const HIGH: u32 = 32000;

/// The first port of the kernel's ephemeral range (32768 if unreadable).
fn ephemeral_low() -> u32 {
    std::fs::read_to_string("/proc/sys/net/ipv4/ip_local_port_range")
        .ok()
        .and_then(|s| s.split_whitespace().next()?.parse().ok())
        .unwrap_or(32768)
}

/// A port below the ephemeral range that nobody listens on now, never
/// handed out before by this process (until the range wraps).
pub fn free_port() -> u16 {
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let high = HIGH.min(ephemeral_low()).max(LOW + 1000);
    let seed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as u32)
        .unwrap_or(0);
    let start = LOW + std::process::id().wrapping_mul(7919).wrapping_add(seed) % (high - LOW);
    let _ = NEXT.compare_exchange(0, start, Ordering::SeqCst, Ordering::SeqCst);
    for _ in LOW..high {
        let n = NEXT.fetch_add(1, Ordering::SeqCst);
        let port = (LOW + (n - LOW) % (high - LOW)) as u16;
        if TcpListener::bind(("127.0.0.1", port)).is_ok() {
            return port;
        }
    }
    panic!("no free port in {}..{}", LOW, high);
}
