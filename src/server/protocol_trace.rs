//! The protocol trace: one readable log line per protocol event, so a
//! student can watch an election, a sync and a failover happen.
//!
//! What is traced, each under the single log target [`TARGET`]
//! (`zk_trace`), in the order the events happen on this server:
//!
//! - `ELECTION`: every FastLeaderElection notification sent and received
//!   (the sender's state, the proposed leader, its zxid, the election
//!   round and the proposed leader's epoch, and the peer);
//! - `PACKET`: every leader ↔ learner packet sent and received (type,
//!   zxid, payload size, peer);
//! - `TXN`: every txn appended to the log (`logged`) and applied to the
//!   DataTree (`applied`) while the server runs (not the replay of a
//!   restore);
//! - `SESSION`: every session created, closed, expired, or moved to
//!   another owner.
//!
//! The switch: `protocolTrace=true` in zoo.cfg (a typed setting,
//! [`crate::config::server_config::ServerConfig::protocol_trace`]), or a
//! `RUST_LOG` directive naming the target (`RUST_LOG=info,zk_trace=info`,
//! see [`rust_log_asks_for_trace`]). Either sets one process-wide flag at
//! startup, as the log level itself is process-wide. Off by default, and
//! free when off: every emitter below is an inlined check of that flag
//! (one relaxed atomic load); the formatting is in cold, out-of-line
//! functions reached only when the flag is set.
//!
//! The line formats are pure functions (unit-tested below); the emitters
//! take plain values (numbers, static names), so this module needs
//! nothing from the layers above it: the quorum code passes its packet
//! and state names in.
//!
//! Mirrors: no Java class. Java has no such trace; the nearest are the
//! DEBUG lines of `FastLeaderElection` ("Sending Notification", "Notification:
//! ..."), `LearnerHandler.packetToString` and the TRACE-level
//! `ZooTrace` masks.

use std::fmt;
use std::sync::atomic::{AtomicBool, Ordering};

use log::info;

use crate::persistence::txn_format::op_name;

/// The log target of every trace line (`RUST_LOG=zk_trace=info`).
pub const TARGET: &str = "zk_trace";

/// The zoo.cfg key that turns the trace on.
pub const CONFIG_KEY: &str = "protocolTrace";

/// Whether the trace is on (set once at startup, read everywhere).
static ON: AtomicBool = AtomicBool::new(false);

/// Turns the trace on for the rest of the process; `why` names the
/// switch for the one line that says so.
pub fn enable(why: &str) {
    if !ON.swap(true, Ordering::Relaxed) {
        info!(
            "Protocol trace is on ({}): election notifications, quorum packets, txns and session events are logged under the target {}",
            why, TARGET
        );
    }
}

/// Whether trace lines are being written: the check every emitter makes
/// before it builds anything.
#[inline(always)]
pub fn on() -> bool {
    ON.load(Ordering::Relaxed)
}

/// Whether a `RUST_LOG` value asks for the trace: one of its
/// comma-separated directives names the target exactly (`zk_trace`, or
/// `zk_trace=<level>` with a level of info or finer). A bare level such as
/// `info` does not: the trace is asked for by name only.
pub fn rust_log_asks_for_trace(rust_log: &str) -> bool {
    // A `/regex` suffix filters messages; it applies to every directive.
    let directives = rust_log.split('/').next().unwrap_or("");
    directives.split(',').any(|directive| {
        let mut parts = directive.trim().splitn(2, '=');
        let name = parts.next().unwrap_or("").trim();
        let level = parts.next().map(|l| l.trim().to_ascii_lowercase());
        name == TARGET
            && match level.as_deref() {
                None | Some("") => true,
                Some(l) => ["info", "debug", "trace"].contains(&l),
            }
    })
}

/// Which way a message went, as seen by this server.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// This server sent it to the peer.
    Sent,
    /// This server received it from the peer.
    Received,
}

impl fmt::Display for Direction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Direction::Sent => "send ->",
            Direction::Received => "recv <-",
        })
    }
}

/// A session event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SessionEvent {
    /// A session id was handed out to a connecting client.
    Create,
    /// The session's closeSession txn was applied.
    Close,
    /// The session's timeout passed without a word from its client.
    Expire,
    /// The session's client now talks to it through another owner.
    Move,
}

impl fmt::Display for SessionEvent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            SessionEvent::Create => "create",
            SessionEvent::Close => "close",
            SessionEvent::Expire => "expire",
            SessionEvent::Move => "move",
        })
    }
}

/// A notification: `ELECTION send -> sid 2: LOOKING, proposes leader 3
/// (zxid 0x0, peerEpoch 0x0), round 0x1`. `state` is the sender's.
pub fn notification_line(
    direction: Direction,
    peer: i64,
    state: &str,
    leader: i64,
    zxid: i64,
    election_epoch: i64,
    peer_epoch: i64,
) -> String {
    format!(
        "ELECTION {} sid {}: {}, proposes leader {} (zxid 0x{:x}, peerEpoch 0x{:x}), round 0x{:x}",
        direction, peer, state, leader, zxid, peer_epoch, election_epoch
    )
}

/// A quorum packet: `PACKET send -> sid 2: PROPOSAL zxid=0x100000001
/// len=64` (`len` is the payload size in bytes).
/// Packets that carry no zxid (REQUEST, UPTODATE, REVALIDATE) have -1 on
/// the wire, shown as `zxid=-1`.
pub fn packet_line(direction: Direction, peer: i64, kind: &str, zxid: i64, len: usize) -> String {
    let zxid = match zxid < 0 {
        true => zxid.to_string(),
        false => format!("0x{:x}", zxid),
    };
    format!(
        "PACKET {} sid {}: {} zxid={} len={}",
        direction, peer, kind, zxid, len
    )
}

/// A txn: `TXN logged zxid=0x100000001 create session=0x...` (`what` is
/// `logged` or `applied`).
pub fn txn_line(what: &str, zxid: i64, txn_type: i32, session_id: i64) -> String {
    format!(
        "TXN {} zxid=0x{:x} {} session=0x{:x}",
        what,
        zxid,
        op_name(txn_type),
        session_id
    )
}

/// A session event: `SESSION create 0x... timeout=30000ms`, with `detail`
/// appended when there is one.
pub fn session_line(event: SessionEvent, session_id: i64, detail: &str) -> String {
    match detail.is_empty() {
        true => format!("SESSION {} 0x{:x}", event, session_id),
        false => format!("SESSION {} 0x{:x} {}", event, session_id, detail),
    }
}

/// Traces an election notification (see [`notification_line`]).
#[inline]
pub fn notification(
    direction: Direction,
    peer: i64,
    state: &dyn fmt::Display,
    vote: (i64, i64, i64, i64),
) {
    if on() {
        emit_notification(direction, peer, state, vote);
    }
}

#[cold]
#[inline(never)]
fn emit_notification(
    direction: Direction,
    peer: i64,
    state: &dyn fmt::Display,
    (leader, zxid, election_epoch, peer_epoch): (i64, i64, i64, i64),
) {
    let state = state.to_string();
    let line = notification_line(
        direction,
        peer,
        &state,
        leader,
        zxid,
        election_epoch,
        peer_epoch,
    );
    info!(target: TARGET, "{}", line);
}

/// Traces a quorum packet (see [`packet_line`]); `name` turns the type
/// number into its name, and is called only when the trace is on.
#[inline]
pub fn packet(
    direction: Direction,
    peer: i64,
    name: fn(i32) -> &'static str,
    kind: i32,
    zxid: i64,
    len: usize,
) {
    if on() {
        emit_packet(direction, peer, name(kind), zxid, len);
    }
}

#[cold]
#[inline(never)]
fn emit_packet(direction: Direction, peer: i64, kind: &str, zxid: i64, len: usize) {
    info!(target: TARGET, "{}", packet_line(direction, peer, kind, zxid, len));
}

/// Traces a txn appended to the log.
#[inline]
pub fn txn_logged(zxid: i64, txn_type: i32, session_id: i64) {
    if on() {
        emit_txn("logged", zxid, txn_type, session_id);
    }
}

/// Traces a txn applied to the DataTree.
#[inline]
pub fn txn_applied(zxid: i64, txn_type: i32, session_id: i64) {
    if on() {
        emit_txn("applied", zxid, txn_type, session_id);
    }
}

#[cold]
#[inline(never)]
fn emit_txn(what: &str, zxid: i64, txn_type: i32, session_id: i64) {
    info!(target: TARGET, "{}", txn_line(what, zxid, txn_type, session_id));
}

/// Traces a session event; `detail` is built only when the trace is on.
#[inline]
pub fn session(event: SessionEvent, session_id: i64, detail: impl FnOnce() -> String) {
    if on() {
        emit_session(event, session_id, &detail());
    }
}

#[cold]
#[inline(never)]
fn emit_session(event: SessionEvent, session_id: i64, detail: &str) {
    info!(target: TARGET, "{}", session_line(event, session_id, detail));
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::zoo_defs::op_code;

    #[test]
    fn rust_log_asks_for_the_trace_by_name_only() {
        assert!(rust_log_asks_for_trace("zk_trace"));
        assert!(rust_log_asks_for_trace("zk_trace=info"));
        assert!(rust_log_asks_for_trace("warn, zk_trace=DEBUG"));
        assert!(rust_log_asks_for_trace("info,zk_trace=trace/PROPOSAL"));
        // A bare level, another target, or a level that hides info lines.
        assert!(!rust_log_asks_for_trace("info"));
        assert!(!rust_log_asks_for_trace("trace"));
        assert!(!rust_log_asks_for_trace("zookeeper=debug"));
        assert!(!rust_log_asks_for_trace("zk_trace=off"));
        assert!(!rust_log_asks_for_trace("zk_trace=warn"));
        assert!(!rust_log_asks_for_trace("zk_tracer=info"));
        assert!(!rust_log_asks_for_trace(""));
    }

    #[test]
    fn notification_lines_name_state_leader_zxid_epochs_and_peer() {
        assert_eq!(
            notification_line(Direction::Sent, 2, "LOOKING", 3, 0x1_0000_0002, 1, 1),
            "ELECTION send -> sid 2: LOOKING, proposes leader 3 (zxid 0x100000002, peerEpoch 0x1), round 0x1"
        );
        assert_eq!(
            notification_line(Direction::Received, 1, "FOLLOWING", 3, 0, 0x2a, 0),
            "ELECTION recv <- sid 1: FOLLOWING, proposes leader 3 (zxid 0x0, peerEpoch 0x0), round 0x2a"
        );
    }

    #[test]
    fn packet_lines_name_type_zxid_size_and_peer() {
        assert_eq!(
            packet_line(Direction::Sent, 2, "PROPOSAL", 0x1_0000_0001, 64),
            "PACKET send -> sid 2: PROPOSAL zxid=0x100000001 len=64"
        );
        // Packets without a zxid carry -1 on the wire.
        assert_eq!(
            packet_line(Direction::Received, 3, "UPTODATE", -1, 0),
            "PACKET recv <- sid 3: UPTODATE zxid=-1 len=0"
        );
    }

    #[test]
    fn txn_and_session_lines() {
        assert_eq!(
            txn_line(
                "logged",
                0x2_0000_0001,
                op_code::CREATE,
                0x100_0000_0000_0001
            ),
            "TXN logged zxid=0x200000001 create session=0x100000000000001"
        );
        assert_eq!(
            txn_line("applied", 1, op_code::CREATE_SESSION, 5),
            "TXN applied zxid=0x1 createSession session=0x5"
        );
        assert_eq!(
            session_line(SessionEvent::Create, 0x10, "timeout=30000ms"),
            "SESSION create 0x10 timeout=30000ms"
        );
        assert_eq!(
            session_line(SessionEvent::Close, 0x10, ""),
            "SESSION close 0x10"
        );
        assert_eq!(SessionEvent::Expire.to_string(), "expire");
        assert_eq!(SessionEvent::Move.to_string(), "move");
    }

    #[test]
    fn emitters_build_nothing_while_off() {
        // The flag is process-wide and only ever set by `enable`, which no
        // unit test calls: a detail closure must not run.
        assert!(!on());
        session(SessionEvent::Create, 1, || {
            panic!("built a trace line with the trace off")
        });
        packet(
            Direction::Sent,
            1,
            |_| panic!("named a packet with the trace off"),
            2,
            0,
            0,
        );
    }
}
