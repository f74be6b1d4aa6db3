//! What the server's threads share: the database, sessions, pending
//! changes, the zxid counter, counters and the session -> connection map.
//!
//! Java keeps all of this in `ZooKeeperServer` and hands `this` to every
//! processor; we keep it in one `Arc<ServerState>` so the processors do
//! not need the server object (which owns them) and there is no cycle.
//!
//! Threads and locks: `outstanding` (Prep, Final) is taken before the
//! tree lock; `cnxns` and `capacity_lock` are leaf locks.
//!
//! Mirrors: the shared fields of `org.apache.zookeeper.server.ZooKeeperServer`.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::sync::Arc;

use log::info;
use parking_lot::{Condvar, Mutex};

use super::auth::acl;
use super::auth::ProviderRegistry;
use super::change_record::OutstandingChanges;
use super::server_cnxn::{CloseReason, ServerCnxn};
use super::server_stats::ServerStats;
use super::session_tracker::SessionTracker;
use super::zk_database::ZkDatabase;
use crate::config::server_config::ServerConfig;
use crate::jute::data::{Acl, Id};
use crate::keeper_exception::Code;

/// The connection currently serving a session.
#[derive(Clone)]
pub struct SessionCnxn {
    pub cnxn: Arc<dyn ServerCnxn>,
    /// The timeout negotiated on this connection (Java keeps it on the
    /// connection; touches use it).
    pub timeout: i32,
}

/// Shared state of one server.
pub struct ServerState {
    pub config: ServerConfig,
    pub zkdb: Arc<ZkDatabase>,
    pub sessions: Arc<SessionTracker>,
    /// Changes Prep made that Final has not applied yet.
    pub outstanding: Mutex<OutstandingChanges>,
    /// The highest zxid handed out (Java's `hzxid`); only Prep increments.
    pub hzxid: AtomicI64,
    pub stats: ServerStats,
    pub auth: ProviderRegistry,
    /// Session id -> its connection, to close it on session close, expiry
    /// or reconnect elsewhere.
    cnxns: Mutex<HashMap<i64, SessionCnxn>>,
    /// Requests from connections submitted but not yet answered, for the
    /// globalOutstandingLimit backpressure.
    in_process: AtomicI64,
    /// Held by submitters waiting for capacity and by `dec_in_process`
    /// when it signals them (guards no data: it orders the wake-ups).
    capacity_lock: Mutex<()>,
    /// Signalled (one waiter per freed slot) when `in_process` drops
    /// below the limit, and for everyone when the server stops.
    in_process_changed: Condvar,
    /// False once shutdown starts: blocked submitters give up.
    pub running: AtomicBool,
    /// A peer's read-only server (read-only mode): handshake answers say
    /// read-only. Set by that role when it builds its chain.
    pub read_only: AtomicBool,
    /// The leader's side of `reconfig` (set by the leader role when it
    /// builds its chain; `None` on standalone servers and learners).
    pub reconfig: Mutex<Option<Arc<dyn super::prep_reconfig::ReconfigProposer>>>,
}

impl ServerState {
    /// Builds the shared state around a loaded database.
    pub fn new(config: ServerConfig, zkdb: Arc<ZkDatabase>, sessions: Arc<SessionTracker>) -> Self {
        let last = zkdb.last_processed_zxid();
        let auth = ProviderRegistry::with_config(config.super_digest.clone(), &config.auth)
            .with_x509(config.x509_enabled());
        ServerState {
            config,
            zkdb,
            sessions,
            outstanding: Mutex::new(OutstandingChanges::new()),
            hzxid: AtomicI64::new(last),
            stats: ServerStats::new(),
            auth,
            cnxns: Mutex::new(HashMap::new()),
            in_process: AtomicI64::new(0),
            capacity_lock: Mutex::new(()),
            in_process_changed: Condvar::new(),
            running: AtomicBool::new(true),
            read_only: AtomicBool::new(false),
            reconfig: Mutex::new(None),
        }
    }

    /// The next zxid (Prep only).
    pub fn next_zxid(&self) -> i64 {
        self.hzxid.fetch_add(1, Ordering::SeqCst) + 1
    }

    /// The last zxid handed out.
    pub fn zxid(&self) -> i64 {
        self.hzxid.load(Ordering::SeqCst)
    }

    /// `ZooKeeperServer.checkACL` with this server's providers and skipACL.
    pub fn check_acl(&self, node_acl: &[Acl], perm: i32, ids: &[Id]) -> Result<(), Code> {
        acl::check_acl(&self.auth, self.config.skip_acl, node_acl, perm, ids)
    }

    /// Binds `cnxn` to `session_id`; returns the connection it replaces.
    pub fn bind_cnxn(
        &self,
        session_id: i64,
        cnxn: Arc<dyn ServerCnxn>,
        timeout: i32,
    ) -> Option<SessionCnxn> {
        self.cnxns
            .lock()
            .insert(session_id, SessionCnxn { cnxn, timeout })
    }

    /// The connection serving `session_id`.
    pub fn cnxn_for(&self, session_id: i64) -> Option<SessionCnxn> {
        self.cnxns.lock().get(&session_id).cloned()
    }

    /// Forgets `session_id`'s connection if it is `watcher_id`.
    pub fn unbind_cnxn(&self, session_id: i64, watcher_id: u64) {
        let mut map = self.cnxns.lock();
        if map
            .get(&session_id)
            .is_some_and(|e| e.cnxn.watcher_id() == watcher_id)
        {
            map.remove(&session_id);
        }
    }

    /// Closes and forgets the connection of a session (Java's
    /// `ServerCnxnFactory.closeSession`). True if there was one.
    pub fn close_session_cnxn(&self, session_id: i64, reason: CloseReason) -> bool {
        let entry = self.cnxns.lock().remove(&session_id);
        match entry {
            Some(e) => {
                info!(
                    "Closing connection of session {:#x} ({:?})",
                    session_id, reason
                );
                e.cnxn.close(reason);
                true
            }
            None => false,
        }
    }

    /// Every bound connection (shutdown closes them).
    pub fn all_cnxns(&self) -> Vec<SessionCnxn> {
        self.cnxns.lock().values().cloned().collect()
    }

    /// A connection's request entered the pipeline.
    pub fn inc_in_process(&self) {
        self.in_process.fetch_add(1, Ordering::AcqRel);
    }

    /// A connection's request was answered. Past the limit, each answer
    /// wakes one blocked submitter (one freed slot, one waiter: no herd).
    pub fn dec_in_process(&self) {
        let prev = self
            .in_process
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| {
                Some((n - 1).max(0))
            })
            .unwrap_or(0);
        if prev > self.outstanding_limit() {
            let _guard = self.capacity_lock.lock();
            self.in_process_changed.notify_one();
        }
    }

    /// Requests submitted by connections and not yet answered.
    pub fn in_process(&self) -> i64 {
        self.in_process.load(Ordering::Acquire)
    }

    fn outstanding_limit(&self) -> i64 {
        self.config.global_outstanding_limit.max(1) as i64
    }

    /// Blocks the calling connection thread while more than
    /// `globalOutstandingLimit` requests are in the pipeline (Java stops
    /// reading from the socket instead; the effect on the client is the
    /// same). Returns at once when the server is stopping.
    pub fn wait_for_capacity(&self) {
        let limit = self.outstanding_limit();
        if self.in_process() <= limit {
            return;
        }
        // Replies this thread has corked must not wait with it.
        super::server_cnxn::flush_corked();
        let mut guard = self.capacity_lock.lock();
        // The count is re-read under the lock that `dec_in_process`
        // notifies under, so no wake-up is lost.
        while self.in_process() > limit && self.running.load(Ordering::SeqCst) {
            self.in_process_changed
                .wait_for(&mut guard, std::time::Duration::from_millis(100));
        }
    }

    /// Wakes every thread blocked in `wait_for_capacity` (shutdown).
    pub fn wake_all(&self) {
        let _guard = self.capacity_lock.lock();
        self.in_process_changed.notify_all();
    }
}
