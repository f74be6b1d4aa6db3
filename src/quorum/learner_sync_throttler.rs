//! How many learners a learner master (the leader, or a follower serving
//! observers) syncs at once, per kind of sync: at most
//! `zookeeper.leader.maxConcurrentSnapSyncs` snapshots (default 10) and
//! `zookeeper.leader.maxConcurrentDiffSyncs` diffs (default 100). A sync
//! counts from the moment it is decided until the learner acknowledges
//! NEWLEADER. Only observers are refused when the limit is reached (their
//! handler closes the connection and they try again later); followers are
//! *essential*: always let through, but counted.
//!
//! Shared by the LearnerHandler threads of one master; a [`SyncPermit`]
//! ends its sync when dropped, on every path out of the handler.
//!
//! Mirrors: `org.apache.zookeeper.server.quorum.LearnerSyncThrottler` and
//! `SyncThrottleException`.

use std::fmt;

use parking_lot::Mutex;

/// The system property of each limit, and Java's defaults.
pub const MAX_CONCURRENT_SNAP_SYNCS: &str = "zookeeper.leader.maxConcurrentSnapSyncs";
pub const MAX_CONCURRENT_DIFF_SYNCS: &str = "zookeeper.leader.maxConcurrentDiffSyncs";
pub const DEFAULT_CONCURRENT_SNAP_SYNCS: i32 = 10;
pub const DEFAULT_CONCURRENT_DIFF_SYNCS: i32 = 100;

/// Which kind of sync a throttler counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SyncType {
    Diff,
    Snap,
}

/// One limit and the syncs in progress under it.
#[derive(Debug)]
pub struct LearnerSyncThrottler {
    kind: SyncType,
    max: i32,
    in_progress: Mutex<i32>,
}

/// A sync refused: starting it would pass the limit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyncThrottled {
    pub kind: SyncType,
    /// In progress with this one.
    pub wanted: i32,
    pub max: i32,
}

impl fmt::Display for SyncThrottled {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kind = match self.kind {
            SyncType::Diff => "diff",
            SyncType::Snap => "snap",
        };
        write!(
            f,
            "new {} sync would make {} concurrently in progress; maximum is {}",
            kind, self.wanted, self.max
        )
    }
}

impl std::error::Error for SyncThrottled {}

/// A sync in progress; dropping it ends the sync.
#[derive(Debug)]
pub struct SyncPermit<'a> {
    throttler: &'a LearnerSyncThrottler,
}

impl Drop for SyncPermit<'_> {
    fn drop(&mut self) {
        *self.throttler.in_progress.lock() -= 1;
    }
}

impl LearnerSyncThrottler {
    /// A throttler allowing `max` (> 0, checked by the config) syncs.
    pub fn new(kind: SyncType, max: i32) -> LearnerSyncThrottler {
        LearnerSyncThrottler {
            kind,
            max,
            in_progress: Mutex::new(0),
        }
    }

    /// Starts a sync: always for an essential learner (a follower), else
    /// only under the limit.
    pub fn begin_sync(&self, essential: bool) -> Result<SyncPermit<'_>, SyncThrottled> {
        let mut n = self.in_progress.lock();
        if !essential && *n >= self.max {
            return Err(SyncThrottled {
                kind: self.kind,
                wanted: *n + 1,
                max: self.max,
            });
        }
        *n += 1;
        Ok(SyncPermit { throttler: self })
    }

    /// Syncs in progress now.
    pub fn in_progress(&self) -> i32 {
        *self.in_progress.lock()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn observers_are_refused_at_the_limit_followers_never() {
        let t = LearnerSyncThrottler::new(SyncType::Snap, 2);
        let a = t.begin_sync(false).unwrap();
        let _b = t.begin_sync(false).unwrap();
        let refused = t.begin_sync(false).unwrap_err();
        assert_eq!(
            refused.to_string(),
            "new snap sync would make 3 concurrently in progress; maximum is 2"
        );
        // A follower passes, and counts.
        let c = t.begin_sync(true).unwrap();
        assert_eq!(t.in_progress(), 3);
        drop(c);
        assert!(t.begin_sync(false).is_err());
        // A sync that ends frees its place.
        drop(a);
        assert_eq!(t.in_progress(), 1);
        let _d = t.begin_sync(false).unwrap();
        assert_eq!(t.in_progress(), 2);
    }
}
