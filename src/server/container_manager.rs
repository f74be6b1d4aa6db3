//! Deletes containers that have become empty and TTL nodes that have
//! expired, by submitting internal deleteContainer requests.
//!
//! Every `znode.container.checkIntervalMs` the thread lists candidates: a
//! container with no children whose stored cversion is above 0 (it had a
//! child once: a fresh container is not deleted before its first child
//! arrives), or older than `maxNeverUsedIntervalMs` if that is set; a TTL
//! node with no children whose mtime is more than its TTL ago. Each gets a
//! deleteContainer request (session 0, cxid 0) through Prep, which
//! re-checks everything; deletions are spread out to at most
//! `maxPerMinute`.
//!
//! Thread: "ContainerManagerTask"; reads the tree under its read lock.
//!
//! Mirrors: `org.apache.zookeeper.server.ContainerManager`.

use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crossbeam::channel::{bounded, Receiver, RecvTimeoutError, Sender};
use log::{error, info};

use super::data_tree::DataTree;
use super::ephemeral_type::EphemeralType;
use super::prep_request_processor::{delete_container_payload, PrepSubmitter};
use super::request::{Origin, Request};
use super::server_state::ServerState;
use crate::zoo_defs::op_code;

/// The running container manager.
pub struct ContainerManager {
    /// Dropping (or sending on) it stops the thread at once.
    stop: Sender<()>,
    thread: JoinHandle<()>,
}

/// The knobs, from the config.
#[derive(Debug, Clone, Copy)]
struct Settings {
    check_interval: Duration,
    /// Pause between two deletions (one minute / maxPerMinute).
    min_interval: Duration,
    max_never_used_ms: i64,
}

impl ContainerManager {
    /// Starts the thread; `None` if it could not be spawned.
    pub fn start(state: Arc<ServerState>, submitter: PrepSubmitter) -> Option<ContainerManager> {
        let cfg = &state.config;
        let settings = Settings {
            check_interval: Duration::from_millis(cfg.container_check_interval_ms.max(1)),
            min_interval: Duration::from_millis(
                60_000 / u64::from(cfg.container_max_per_minute.max(1)),
            ),
            max_never_used_ms: cfg.container_max_never_used_interval_ms as i64,
        };
        info!(
            "Using checkIntervalMs={} maxPerMinute={} maxNeverUsedIntervalMs={}",
            cfg.container_check_interval_ms,
            cfg.container_max_per_minute,
            settings.max_never_used_ms
        );
        let (stop, stopped) = bounded(1);
        let spawned = std::thread::Builder::new()
            .name("ContainerManagerTask".into())
            .spawn(move || run(state, submitter, settings, stopped));
        match spawned {
            Ok(thread) => Some(ContainerManager { stop, thread }),
            Err(e) => {
                error!("Cannot start the container manager: {}", e);
                None
            }
        }
    }

    /// Stops the thread and waits for it.
    pub fn stop(self) {
        let _ = self.stop.send(());
        let _ = self.thread.join();
    }
}

/// Waits `d` unless told to stop; true if it should stop.
fn sleep_or_stop(stopped: &Receiver<()>, d: Duration) -> bool {
    !matches!(stopped.recv_timeout(d), Err(RecvTimeoutError::Timeout))
}

fn run(state: Arc<ServerState>, submitter: PrepSubmitter, s: Settings, stopped: Receiver<()>) {
    while !sleep_or_stop(&stopped, s.check_interval) {
        let now = wall_clock_ms();
        let found = candidates(&state.zkdb.tree.read(), now, s.max_never_used_ms);
        for path in found {
            info!("Attempting to delete candidate container: {}", path);
            let payload = delete_container_payload(&path);
            let request = Request::new(None, 0, 0, op_code::DELETE_CONTAINER, payload, Vec::new())
                .from(Origin::Server);
            if !submitter.submit(request) {
                return;
            }
            if sleep_or_stop(&stopped, s.min_interval) {
                return;
            }
        }
    }
}

fn wall_clock_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

/// The containers and TTL nodes due for deletion at wall time `now`.
pub fn candidates(tree: &DataTree, now: i64, max_never_used_ms: i64) -> Vec<String> {
    let mut out = Vec::new();
    for path in tree.containers() {
        let Some(node) = tree.get_node(&path) else {
            continue;
        };
        if node.num_children() != 0 {
            continue;
        }
        let elapsed = now - node.stat.mtime;
        if node.stat.cversion > 0 || (max_never_used_ms != 0 && elapsed > max_never_used_ms) {
            out.push(path);
        }
    }
    for path in tree.ttls() {
        let Some(node) = tree.get_node(&path) else {
            continue;
        };
        if node.num_children() != 0 {
            continue;
        }
        let owner = node.stat.ephemeral_owner;
        if EphemeralType::get(owner) == Ok(EphemeralType::Ttl) {
            let ttl = EphemeralType::ttl_of(owner);
            if ttl != 0 && now - node.stat.mtime > ttl {
                out.push(path);
            }
        }
    }
    out.sort();
    out.dedup();
    out
}
