//! Watches: who is told when a znode changes.
//!
//! A standard watch (set by getData/exists/getChildren with `watch=true`)
//! fires once and is gone. A persistent watch (addWatch mode 0) fires on
//! every change of its node; a persistent-recursive one (mode 1) on every
//! change of its node and all descendants, except child-list changes.
//! Watches belong to a connection: they vanish when it closes, and clients
//! re-register them with setWatches after reconnecting.
//!
//! Mirrors: `org.apache.zookeeper.server.watch` (`IWatchManager`,
//! `WatcherMode`) and `org.apache.zookeeper.Watcher`.

pub mod watch_manager;

use std::sync::Arc;

use crate::jute::data::{Acl, Id};

/// An event to deliver to one watcher.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WatchedEvent {
    /// `zoo_defs::event_type`.
    pub event_type: i32,
    /// `zoo_defs::keeper_state`; the server always sends SyncConnected.
    pub state: i32,
    /// The server-side path of the node that changed.
    pub path: String,
    /// The zxid of the txn that fired it (-1 when synthesized by
    /// setWatches). Java 3.8 always sends -1 in the notification header;
    /// the connection decides what to put on the wire.
    pub zxid: i64,
}

/// Something that can be told about events: a client connection.
pub trait Watcher: Send + Sync {
    /// A process-unique id (the connection id) keying the watch tables.
    fn watcher_id(&self) -> u64;
    /// Delivers an event: queues a notification frame. Never blocks on the
    /// network, because it runs on the thread applying txns. The event ACL
    /// check (see [`EventAclFilter`]) has already passed.
    fn process(&self, event: WatchedEvent);
    /// The identities whose READ permission on the changed node decides
    /// whether an event is delivered (a connection's auth info, `ip:` id
    /// included).
    fn watcher_auth_info(&self) -> Vec<Id>;
    /// True once the connection is closed: watches are no longer added for
    /// it (Java's `ServerCnxn.isStale`), so a read racing with the close
    /// cannot leave a watch behind after the connection's cleanup.
    fn is_stale(&self) -> bool {
        false
    }
}

/// Whether identities hold READ on a node with this ACL: the server's
/// `checkACL` (skipACL, super, providers). Events about a node are
/// delivered only to watchers that pass it (3.9, ZOOKEEPER-4799; 3.8.0
/// delivers unconditionally). Without a filter (tests, offline tools)
/// every event is delivered.
pub type EventAclFilter = Arc<dyn Fn(&[Acl], &[Id]) -> bool + Send + Sync>;

/// Java's `ServerCnxn.process(event, znodeAcl)` decision: deliver when no
/// filter is installed, when the trigger carries no ACL (setWatches'
/// synthesized events), or when the watcher may read the node.
pub fn may_deliver(
    filter: Option<&EventAclFilter>,
    acl: Option<&[Acl]>,
    watcher: &dyn Watcher,
) -> bool {
    match (filter, acl) {
        (Some(f), Some(acl)) => f(acl, &watcher.watcher_auth_info()),
        _ => true,
    }
}

/// How a watch was registered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum WatcherMode {
    /// One-shot (getData/exists/getChildren with watch=true).
    Standard,
    /// addWatch mode 0: fires on every change of the node itself.
    Persistent,
    /// addWatch mode 1: fires on changes of the node and its descendants.
    PersistentRecursive,
}
