//! One watch table: path → watching connections, and connection → its
//! watched paths with the modes it registered each one with.
//!
//! The DataTree keeps two of these, one for data watches (getData,
//! exists, persistent and persistent-recursive) and one for child watches
//! (getChildren, persistent). Triggering an event at a path notifies every
//! watcher registered at that exact path (dropping their one-shot
//! Standard registration) plus, when any recursive watch exists, the
//! recursive watchers of every ancestor. Each watcher hears an event once
//! per trigger, however many registrations matched.
//!
//! Tables are behind a mutex because reads (running under the tree's read
//! lock) register watches. Events are delivered after the mutex is
//! released; `Watcher::process` only queues, so delivering while the
//! caller holds the tree's write lock is fine.
//!
//! Not done here (yet): skipping closed connections (Java's
//! `isDeadWatcher`) and 3.9's READ-ACL filtering of events (ZOOKEEPER-4799,
//! needs the receiving connection's auth ids).
//!
//! Mirrors: `org.apache.zookeeper.server.watch.WatchManager`,
//! `WatchStats`, `PathParentIterator`, `WatchesSummary`.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use log::{debug, trace, warn};
use parking_lot::Mutex;

use super::{may_deliver, EventAclFilter, WatchedEvent, Watcher, WatcherMode};
use crate::jute::data::Acl;
use crate::zoo_defs::keeper_state;

/// The set of modes one watcher registered at one path (Java's
/// `WatchStats`): bit 0 Standard, bit 1 Persistent, bit 2 Recursive.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
struct WatchStats(u8);

impl WatchStats {
    fn flag(mode: WatcherMode) -> u8 {
        match mode {
            WatcherMode::Standard => 1,
            WatcherMode::Persistent => 2,
            WatcherMode::PersistentRecursive => 4,
        }
    }
    fn add(self, mode: WatcherMode) -> WatchStats {
        WatchStats(self.0 | Self::flag(mode))
    }
    fn remove(self, mode: WatcherMode) -> WatchStats {
        WatchStats(self.0 & !Self::flag(mode))
    }
    fn has(self, mode: WatcherMode) -> bool {
        self.0 & Self::flag(mode) != 0
    }
    fn is_none(self) -> bool {
        self.0 == 0
    }
}

/// Ids of the watchers one trigger notified (Java's `WatcherOrBitSet`),
/// used to avoid telling a connection twice about one delete.
pub type WatcherSet = HashSet<u64>;

/// Counts for `wchs` (Java's `WatchesSummary`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct WatchesSummary {
    /// Connections with at least one watch.
    pub num_connections: usize,
    /// Paths with at least one watcher.
    pub num_paths: usize,
    /// (connection, path) pairs.
    pub total_watches: usize,
}

/// A watcher and the paths it watches.
struct WatcherEntry {
    watcher: Arc<dyn Watcher>,
    paths: HashMap<String, WatchStats>,
}

#[derive(Default)]
struct Tables {
    /// path → ids of the watchers registered there.
    watch_table: HashMap<String, HashSet<u64>>,
    /// watcher id → the watcher and its paths.
    watch2paths: HashMap<u64, WatcherEntry>,
    /// Number of (watcher, path) pairs with a recursive registration; when
    /// zero, triggers skip the ancestor walk.
    recursive_qty: usize,
}

/// One watch table (data or child).
#[derive(Default)]
pub struct WatchManager {
    tables: Mutex<Tables>,
    /// Set by the first registration, never cleared: until then a trigger
    /// returns without taking the lock (a server replaying its log, or
    /// one nobody watches). Registrations happen under the tree's read
    /// lock and triggers under its write lock, which orders the two.
    ever_watched: AtomicBool,
    /// The event ACL check; set once when the server starts (before any
    /// watch exists), `None` in tests and tools (deliver everything).
    filter: Option<EventAclFilter>,
}

/// `path`, then its ancestors up to "/" (Java's `PathParentIterator`).
fn path_and_parents(path: &str) -> impl Iterator<Item = &str> {
    std::iter::successors(Some(path).filter(|p| !p.is_empty()), |p| match *p {
        "/" => None,
        p => match p.rfind('/') {
            Some(0) => Some("/"),
            Some(i) => Some(&p[..i]),
            None => None,
        },
    })
}

impl WatchManager {
    /// Empty tables.
    pub fn new() -> Self {
        Self::default()
    }

    /// Installs (or removes) the event ACL check.
    pub fn set_filter(&mut self, filter: Option<EventAclFilter>) {
        self.filter = filter;
    }

    /// Registers `watcher` at `path` in `mode`; false if it already was,
    /// or if the watcher's connection is closed.
    pub fn add_watch(&self, path: &str, watcher: Arc<dyn Watcher>, mode: WatcherMode) -> bool {
        if watcher.is_stale() {
            debug!(
                "Ignoring addWatch with closed cnxn {}",
                watcher.watcher_id()
            );
            return false;
        }
        let id = watcher.watcher_id();
        let mut t = self.tables.lock();
        self.ever_watched.store(true, Ordering::Release);
        t.watch_table
            .entry(path.to_string())
            .or_default()
            .insert(id);
        let entry = t.watch2paths.entry(id).or_insert_with(|| WatcherEntry {
            watcher,
            paths: HashMap::new(),
        });
        let old = entry.paths.get(path).copied().unwrap_or_default();
        let new = old.add(mode);
        if new == old {
            return false;
        }
        entry.paths.insert(path.to_string(), new);
        if mode == WatcherMode::PersistentRecursive {
            t.recursive_qty += 1;
        }
        true
    }

    /// Drops every watch of a connection.
    pub fn remove_watcher(&self, watcher_id: u64) {
        let mut t = self.tables.lock();
        let Some(entry) = t.watch2paths.remove(&watcher_id) else {
            return;
        };
        for (path, stats) in &entry.paths {
            if let Some(ids) = t.watch_table.get_mut(path) {
                ids.remove(&watcher_id);
                if ids.is_empty() {
                    t.watch_table.remove(path);
                }
            }
            if stats.has(WatcherMode::PersistentRecursive) {
                t.recursive_qty -= 1;
            }
        }
    }

    /// Fires `event_type` at `path`: removes the one-shot registrations
    /// that match, then tells each matched watcher (except those in
    /// `suppress`, and those the filter says may not READ a node with
    /// `acl`) once. Returns the ids of all matched watchers, told or not.
    pub fn trigger_watch(
        &self,
        path: &str,
        event_type: i32,
        zxid: i64,
        acl: Option<&[Acl]>,
        suppress: Option<&WatcherSet>,
    ) -> WatcherSet {
        if !self.ever_watched.load(Ordering::Acquire) {
            return WatcherSet::default();
        }
        let matched = self.collect_and_consume(path);
        let ids: WatcherSet = matched.iter().map(|w| w.watcher_id()).collect();
        if matched.is_empty() {
            trace!("No watchers for {}", path);
            return ids;
        }
        let event = WatchedEvent {
            event_type,
            state: keeper_state::SYNC_CONNECTED,
            path: path.to_string(),
            zxid,
        };
        for w in matched {
            if suppress.is_some_and(|s| s.contains(&w.watcher_id())) {
                continue;
            }
            if !may_deliver(self.filter.as_ref(), acl, w.as_ref()) {
                trace!(
                    "Not delivering event {:?} to watcher {} (filtered by ACL)",
                    event,
                    w.watcher_id()
                );
                continue;
            }
            w.process(event.clone());
        }
        ids
    }

    /// Under the lock: the watchers to notify, in discovery order, with
    /// Standard registrations at `path` removed.
    fn collect_and_consume(&self, path: &str) -> Vec<Arc<dyn Watcher>> {
        let mut t = self.tables.lock();
        if t.watch_table.is_empty() {
            // No watch at all (a server loading its database, or one
            // nobody watches): nothing to look up.
            return Vec::new();
        }
        let Tables {
            watch_table,
            watch2paths,
            recursive_qty,
        } = &mut *t;
        let mut seen = HashSet::new();
        let mut matched = Vec::new();
        let levels: Vec<&str> = if *recursive_qty == 0 {
            vec![path]
        } else {
            path_and_parents(path).collect()
        };
        for (level, local) in levels.into_iter().enumerate() {
            let Some(ids) = watch_table.get_mut(local) else {
                continue;
            };
            ids.retain(|id| {
                let Some(entry) = watch2paths.get_mut(id) else {
                    return true;
                };
                let Some(&stats) = entry.paths.get(local) else {
                    warn!(
                        "inconsistent watch table for watcher {}, {} not in path list",
                        id, local
                    );
                    return true;
                };
                if level == 0 {
                    if seen.insert(*id) {
                        matched.push(entry.watcher.clone());
                    }
                    let new = stats.remove(WatcherMode::Standard);
                    if new.is_none() {
                        entry.paths.remove(local);
                        return false;
                    }
                    entry.paths.insert(local.to_string(), new);
                } else if stats.has(WatcherMode::PersistentRecursive) && seen.insert(*id) {
                    matched.push(entry.watcher.clone());
                }
                true
            });
            if ids.is_empty() {
                watch_table.remove(local);
            }
        }
        // Like Java, a watcher whose last one-shot watch fired keeps its
        // (now empty) entry until it is removed: `wchs` still counts it.
        matched
    }

    /// Whether `watcher_id` watches `path` (in `mode`, or in any mode).
    pub fn contains_watcher(&self, path: &str, watcher_id: u64, mode: Option<WatcherMode>) -> bool {
        let t = self.tables.lock();
        let stats = t
            .watch2paths
            .get(&watcher_id)
            .and_then(|e| e.paths.get(path))
            .copied();
        match (stats, mode) {
            (None, _) => false,
            (Some(_), None) => true,
            (Some(s), Some(m)) => s.has(m),
        }
    }

    /// Removes the `mode` registration (or all, for `None`) of
    /// `watcher_id` at `path`; true if something was removed.
    pub fn remove_watch(&self, path: &str, watcher_id: u64, mode: Option<WatcherMode>) -> bool {
        let mut t = self.tables.lock();
        if !t.watch_table.contains_key(path) {
            return false;
        }
        let Some(entry) = t.watch2paths.get_mut(&watcher_id) else {
            return false;
        };
        let old = entry.paths.get(path).copied().unwrap_or_default();
        let new = mode.map_or(WatchStats::default(), |m| old.remove(m));
        if new == old {
            return false;
        }
        if new.is_none() {
            entry.paths.remove(path);
            if entry.paths.is_empty() {
                t.watch2paths.remove(&watcher_id);
            }
            if let Some(ids) = t.watch_table.get_mut(path) {
                ids.remove(&watcher_id);
                if ids.is_empty() {
                    t.watch_table.remove(path);
                }
            }
        } else {
            entry.paths.insert(path.to_string(), new);
        }
        if old.has(WatcherMode::PersistentRecursive) && !new.has(WatcherMode::PersistentRecursive) {
            t.recursive_qty -= 1;
        }
        true
    }

    /// Number of (path, watcher) pairs (Java's `size()`).
    pub fn size(&self) -> usize {
        self.tables
            .lock()
            .watch_table
            .values()
            .map(|s| s.len())
            .sum()
    }

    /// For `wchs`.
    pub fn summary(&self) -> WatchesSummary {
        let t = self.tables.lock();
        WatchesSummary {
            num_connections: t.watch2paths.len(),
            num_paths: t.watch_table.len(),
            total_watches: t.watch2paths.values().map(|e| e.paths.len()).sum(),
        }
    }

    /// For `wchc`: watcher id → watched paths.
    pub fn watches_by_connection(&self) -> HashMap<u64, Vec<String>> {
        let t = self.tables.lock();
        t.watch2paths
            .iter()
            .map(|(id, e)| (*id, e.paths.keys().cloned().collect()))
            .collect()
    }

    /// For `wchp`: path → watcher ids.
    pub fn watches_by_path(&self) -> HashMap<String, Vec<u64>> {
        let t = self.tables.lock();
        t.watch_table
            .iter()
            .map(|(p, ids)| (p.clone(), ids.iter().copied().collect()))
            .collect()
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::jute::data::Id;
    use crate::zoo_defs::event_type::*;

    /// A watcher that records what it is told.
    pub(crate) struct Recorder {
        pub id: u64,
        pub events: Mutex<Vec<WatchedEvent>>,
        /// What `watcher_auth_info` answers.
        pub ids: Mutex<Vec<Id>>,
        /// What `is_stale` answers.
        pub stale: std::sync::atomic::AtomicBool,
    }

    impl Recorder {
        pub fn new(id: u64) -> Arc<Recorder> {
            Arc::new(Recorder {
                id,
                events: Mutex::new(Vec::new()),
                ids: Mutex::new(Vec::new()),
                stale: Default::default(),
            })
        }
        /// A recorder authenticated as `scheme:id`.
        pub fn with_id(id: u64, scheme: &str, name: &str) -> Arc<Recorder> {
            let r = Recorder::new(id);
            r.ids.lock().push(Id {
                scheme: scheme.into(),
                id: name.into(),
            });
            r
        }
        /// (type, path) of every event so far, then forgets them.
        pub fn take(&self) -> Vec<(i32, String)> {
            self.events
                .lock()
                .drain(..)
                .map(|e| (e.event_type, e.path))
                .collect()
        }
    }

    impl Watcher for Recorder {
        fn watcher_id(&self) -> u64 {
            self.id
        }
        fn process(&self, event: WatchedEvent) {
            self.events.lock().push(event);
        }
        fn watcher_auth_info(&self) -> Vec<Id> {
            self.ids.lock().clone()
        }
        fn is_stale(&self) -> bool {
            self.stale.load(std::sync::atomic::Ordering::SeqCst)
        }
    }

    /// Passes when some id equals some ACL entry's id (a stand-in for the
    /// server's checkACL).
    fn exact_match_filter() -> EventAclFilter {
        Arc::new(|acl: &[Acl], ids: &[Id]| acl.iter().any(|a| ids.contains(&a.id)))
    }

    #[test]
    fn events_go_only_to_watchers_the_filter_lets_read() {
        let mut m = WatchManager::new();
        m.set_filter(Some(exact_match_filter()));
        let alice = Recorder::with_id(1, "digest", "alice:x");
        let bob = Recorder::with_id(2, "digest", "bob:y");
        m.add_watch("/", alice.clone(), WatcherMode::PersistentRecursive);
        m.add_watch("/s", bob.clone(), WatcherMode::Standard);
        let acl = [Acl {
            perms: 1,
            id: Id {
                scheme: "digest".into(),
                id: "alice:x".into(),
            },
        }];
        let hit = m.trigger_watch("/s", NODE_DATA_CHANGED, 3, Some(&acl), None);
        assert_eq!(alice.take(), [(NODE_DATA_CHANGED, "/s".to_string())]);
        // Bob was matched (his one-shot watch is consumed) but not told.
        assert!(bob.take().is_empty());
        assert!(hit.contains(&2));
        assert!(!m.contains_watcher("/s", 2, None));
        // No ACL with the trigger (setWatches' synthesized events): told.
        m.add_watch("/s", bob.clone(), WatcherMode::Standard);
        m.trigger_watch("/s", NODE_DATA_CHANGED, 4, None, None);
        assert_eq!(bob.take().len(), 1);
    }

    #[test]
    fn without_a_filter_every_event_is_delivered() {
        let m = WatchManager::new();
        let w = Recorder::new(1);
        m.add_watch("/s", w.clone(), WatcherMode::Standard);
        let acl = [Acl {
            perms: 0,
            id: Id {
                scheme: "digest".into(),
                id: "x".into(),
            },
        }];
        m.trigger_watch("/s", NODE_DELETED, 1, Some(&acl), None);
        assert_eq!(w.take().len(), 1);
    }

    #[test]
    fn closed_connections_get_no_new_watches() {
        let m = WatchManager::new();
        let w = Recorder::new(1);
        w.stale.store(true, std::sync::atomic::Ordering::SeqCst);
        assert!(!m.add_watch("/a", w.clone(), WatcherMode::Standard));
        assert_eq!(m.size(), 0);
        assert_eq!(m.summary(), WatchesSummary::default());
    }

    #[test]
    fn standard_watch_fires_once() {
        let m = WatchManager::new();
        let w = Recorder::new(1);
        assert!(m.add_watch("/a", w.clone(), WatcherMode::Standard));
        assert!(!m.add_watch("/a", w.clone(), WatcherMode::Standard));
        let hit = m.trigger_watch("/a", NODE_DATA_CHANGED, 7, None, None);
        assert!(hit.contains(&1));
        m.trigger_watch("/a", NODE_DATA_CHANGED, 8, None, None);
        assert_eq!(w.take(), [(NODE_DATA_CHANGED, "/a".to_string())]);
        assert_eq!(m.size(), 0);
        let summary = WatchesSummary {
            num_connections: 1,
            num_paths: 0,
            total_watches: 0,
        };
        assert_eq!(m.summary(), summary);
    }

    #[test]
    fn event_carries_zxid_and_state() {
        let m = WatchManager::new();
        let w = Recorder::new(1);
        m.add_watch("/a", w.clone(), WatcherMode::Standard);
        m.trigger_watch("/a", NODE_CREATED, 0x1_0000_0005, None, None);
        let e = w.events.lock()[0].clone();
        assert_eq!(
            (e.zxid, e.state),
            (0x1_0000_0005, keeper_state::SYNC_CONNECTED)
        );
    }

    #[test]
    fn persistent_watch_stays() {
        let m = WatchManager::new();
        let w = Recorder::new(1);
        m.add_watch("/a", w.clone(), WatcherMode::Persistent);
        m.add_watch("/a", w.clone(), WatcherMode::Standard);
        m.trigger_watch("/a", NODE_DATA_CHANGED, 1, None, None);
        m.trigger_watch("/a", NODE_DATA_CHANGED, 2, None, None);
        // Standard + persistent on one path: one event per trigger.
        assert_eq!(w.take().len(), 2);
        assert!(m.contains_watcher("/a", 1, Some(WatcherMode::Persistent)));
        assert!(!m.contains_watcher("/a", 1, Some(WatcherMode::Standard)));
    }

    #[test]
    fn recursive_watch_sees_descendants_only_via_recursion() {
        let m = WatchManager::new();
        let rec = Recorder::new(1);
        let std = Recorder::new(2);
        m.add_watch("/a", rec.clone(), WatcherMode::PersistentRecursive);
        m.add_watch("/a", std.clone(), WatcherMode::Standard);
        m.trigger_watch("/a/b/c", NODE_CREATED, 1, None, None);
        assert_eq!(rec.take(), [(NODE_CREATED, "/a/b/c".to_string())]);
        assert!(std.take().is_empty());
        assert!(m.contains_watcher("/a", 2, None));
        m.trigger_watch("/ab", NODE_CREATED, 2, None, None);
        assert!(rec.take().is_empty());
    }

    #[test]
    fn recursive_watch_on_root_sees_everything() {
        let m = WatchManager::new();
        let rec = Recorder::new(1);
        m.add_watch("/", rec.clone(), WatcherMode::PersistentRecursive);
        m.trigger_watch("/x/y", NODE_DELETED, 1, None, None);
        m.trigger_watch("/", NODE_DATA_CHANGED, 2, None, None);
        assert_eq!(rec.take().len(), 2);
    }

    #[test]
    fn suppressed_watchers_are_consumed_but_not_told() {
        let m = WatchManager::new();
        let w = Recorder::new(1);
        m.add_watch("/a", w.clone(), WatcherMode::Standard);
        let suppress: WatcherSet = [1].into_iter().collect();
        let hit = m.trigger_watch("/a", NODE_DELETED, 1, None, Some(&suppress));
        assert!(hit.contains(&1));
        assert!(w.take().is_empty());
        assert_eq!(m.size(), 0);
    }

    #[test]
    fn remove_by_mode_and_by_connection() {
        let m = WatchManager::new();
        let w = Recorder::new(1);
        m.add_watch("/a", w.clone(), WatcherMode::Standard);
        m.add_watch("/a", w.clone(), WatcherMode::PersistentRecursive);
        m.add_watch("/b", w.clone(), WatcherMode::Standard);
        assert!(!m.remove_watch("/a", 1, Some(WatcherMode::Persistent)));
        assert!(m.remove_watch("/a", 1, Some(WatcherMode::PersistentRecursive)));
        assert!(m.contains_watcher("/a", 1, Some(WatcherMode::Standard)));
        assert!(m.remove_watch("/a", 1, None));
        assert!(!m.remove_watch("/a", 1, None));
        assert_eq!(m.watches_by_connection()[&1], ["/b".to_string()]);
        assert_eq!(m.watches_by_path()["/b"], [1]);
        m.remove_watcher(1);
        assert_eq!(m.size(), 0);
        // No recursive watches left: the ancestor walk is skipped.
        assert_eq!(m.tables.lock().recursive_qty, 0);
    }

    #[test]
    fn parents_of_a_path() {
        let all: Vec<&str> = path_and_parents("/a/b/c").collect();
        assert_eq!(all, ["/a/b/c", "/a/b", "/a", "/"]);
        assert_eq!(path_and_parents("/").collect::<Vec<_>>(), ["/"]);
    }
}
