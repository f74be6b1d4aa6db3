//! A learner's view of sessions: the leader owns every global session and
//! its expiry; a learner only records which sessions its clients touched
//! since the last PING, and sends that table in the PING reply so the
//! leader can touch them.
//!
//! Threads: connection threads touch; the role thread takes the table when
//! a PING arrives; the commit path forgets closed sessions. One mutex.
//!
//! Mirrors: `org.apache.zookeeper.server.quorum.LearnerSessionTracker`
//! (global sessions only: local sessions are not supported).

use std::collections::HashMap;

use parking_lot::Mutex;

/// Sessions touched since the last PING.
#[derive(Default)]
pub struct LearnerSessionTracker {
    /// Session id → timeout of each session touched since the last ping.
    touch_table: Mutex<HashMap<i64, i32>>,
}

impl LearnerSessionTracker {
    /// An empty table.
    pub fn new() -> LearnerSessionTracker {
        LearnerSessionTracker::default()
    }

    /// A client of `session_id` was heard from. Always true: whether a
    /// global session is still alive is the leader's call (a request of
    /// an expired session is answered SESSIONEXPIRED by the leader).
    pub fn touch_session(&self, session_id: i64, timeout: i32) -> bool {
        self.touch_table.lock().insert(session_id, timeout);
        true
    }

    /// The table for a PING reply; starts a new one.
    pub fn take_touch_snapshot(&self) -> HashMap<i64, i32> {
        std::mem::take(&mut *self.touch_table.lock())
    }

    /// A session closed: stop reporting it.
    pub fn remove_session(&self, session_id: i64) {
        self.touch_table.lock().remove(&session_id);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn touches_are_reported_once() {
        let t = LearnerSessionTracker::new();
        assert!(t.touch_session(1, 3000));
        assert!(t.touch_session(2, 4000));
        t.touch_session(1, 5000);
        t.remove_session(2);
        let snap = t.take_touch_snapshot();
        assert_eq!(snap, [(1, 5000)].into_iter().collect());
        assert!(t.take_touch_snapshot().is_empty());
    }
}
