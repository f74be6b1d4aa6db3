//! Which sessions are alive, and the thread that expires the silent ones.
//!
//! Every packet from a client touches its session, moving it to a later
//! expiry bucket ([`ExpiryQueue`]). The expiry thread ("SessionTracker")
//! sleeps until the next bucket is due, marks each session in it as
//! closing and hands it to the expirer, which submits a closeSession
//! request; the session is removed for good when that txn is applied.
//!
//! Ownership: each session remembers which server its client talks to
//! ([`SessionOwner`]): this server's own connections, or one learner's link
//! to the leader. A request checked against a session it does not own is
//! refused with SESSIONMOVED, so a client that resumed its session on
//! another server is fenced on the old one. The first checked request of a
//! session without an owner claims it; a createSession or a resumption
//! sets it.
//!
//! Local sessions (`localSessionsEnabled`, quorum peers only): a session
//! created here is local, known to this server alone: no createSession
//! txn, expired here (learners expire only their local sessions), and
//! upgraded to a global session (a createSession txn through the leader)
//! on its first ephemeral create. The leader accepts requests of other
//! servers' local sessions (their ids carry another server id).
//!
//! Threads: the state is behind one mutex, taken by connection threads
//! (touch, create), the Prep thread (check, closing) and the Final thread
//! (commit, remove). The expirer callback runs on the expiry thread without
//! the lock held.
//!
//! Mirrors: `org.apache.zookeeper.server.SessionTracker` and
//! `SessionTrackerImpl`.

use std::collections::HashMap;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use log::{debug, info};
use parking_lot::{Condvar, Mutex};

use super::expiry_queue::ExpiryQueue;
use super::protocol_trace::{self, SessionEvent};
use crate::keeper_exception::Code;

/// The ephemeralOwner value reserved for containers; never a session id.
const CONTAINER_EPHEMERAL_OWNER: i64 = i64::MIN;

/// Called on the expiry thread with (session id, timeout) of each expired
/// session.
pub type Expirer = Box<dyn Fn(i64, i32) + Send + 'static>;

/// Which server a session's client is attached to, as the leader (or a
/// standalone server) sees it (Java compares owner objects by identity:
/// `ServerCnxn.me` for its own connections, the `LearnerHandler` of a
/// learner's link).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SessionOwner {
    /// A client connection of this server.
    Local,
    /// A learner's link to the leader, by the handler's unique number (a
    /// learner that reconnects gets a new one).
    Learner(u64),
}

/// An owner as the protocol trace names it.
fn owner_name(owner: SessionOwner) -> String {
    match owner {
        SessionOwner::Local => "a client connection of this server".to_string(),
        SessionOwner::Learner(n) => format!("learner link #{}", n),
    }
}

/// One live session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Session {
    timeout: i32,
    /// Where its client is attached; `None` until a request or a
    /// resumption claims it (sessions restored from disk or created before
    /// this server led).
    owner: Option<SessionOwner>,
    /// Known to this server only (no createSession txn yet).
    local: bool,
    /// Set once a closeSession is under way (expiry or client close):
    /// from then on touches fail and new requests get SESSIONEXPIRED.
    closing: bool,
}

/// Everything behind the tracker's lock.
struct TrackerState {
    /// Live sessions (created, restored from disk, or resumed).
    sessions: HashMap<i64, Session>,
    /// Sessions whose createSession txn has been applied, with the timeout
    /// it recorded (Java's `sessionsWithTimeout`, shared with ZKDatabase).
    committed: HashMap<i64, i32>,
    /// Expiry buckets of the live sessions.
    queue: ExpiryQueue<i64>,
    /// Cleared by `shutdown` to stop the expiry thread.
    running: bool,
}

/// The session table and expiry clock of a standalone server (or leader).
pub struct SessionTracker {
    state: Mutex<TrackerState>,
    /// Wakes the expiry thread early (shutdown).
    wakeup: Condvar,
    /// The next id `create_session` hands out.
    next_session_id: AtomicI64,
    /// Origin of the monotonic clock the expiry queue runs on.
    epoch: Instant,
    /// The server id in the top byte of the ids made here.
    server_id: i64,
    /// `localSessionsEnabled`: sessions created here start local.
    local_sessions: bool,
    /// Whether the expiry thread expires global sessions too (false on
    /// learners: the leader expires those).
    expire_global: bool,
}

impl SessionTracker {
    /// A tracker for server `server_id` (1 for standalone) with buckets of
    /// `tick_time` ms, already tracking `restored` sessions (id -> timeout)
    /// as if each had just been touched, as Java does after a restart.
    pub fn new(server_id: i64, tick_time: i32, restored: &HashMap<i64, i32>) -> SessionTracker {
        let tracker = SessionTracker {
            state: Mutex::new(TrackerState {
                sessions: HashMap::new(),
                committed: restored.clone(),
                queue: ExpiryQueue::new(tick_time, 0),
                running: true,
            }),
            wakeup: Condvar::new(),
            next_session_id: AtomicI64::new(initial_session_id(server_id, wall_clock_ms())),
            epoch: Instant::now(),
            server_id,
            local_sessions: false,
            expire_global: true,
        };
        for (&id, &timeout) in restored {
            tracker.track_session(id, timeout);
        }
        tracker
    }

    /// With `localSessionsEnabled`: new sessions start local; a learner
    /// (`expire_global` false) expires only those.
    pub fn with_local_sessions(mut self, enabled: bool, expire_global: bool) -> SessionTracker {
        self.local_sessions = enabled;
        self.expire_global = expire_global;
        self
    }

    /// Whether sessions created here start local.
    pub fn local_sessions_enabled(&self) -> bool {
        self.local_sessions
    }

    /// Milliseconds since the tracker was built (the expiry clock).
    fn now(&self) -> i64 {
        self.epoch.elapsed().as_millis() as i64
    }

    /// Allocates a session id and starts tracking it.
    pub fn create_session(&self, timeout: i32) -> i64 {
        let id = self.next_session_id.fetch_add(1, Ordering::SeqCst);
        self.track_session(id, timeout);
        if self.local_sessions {
            if let Some(s) = self.state.lock().sessions.get_mut(&id) {
                s.local = true;
            }
        }
        protocol_trace::session(SessionEvent::Create, id, || {
            let local = if self.local_sessions { " (local)" } else { "" };
            format!("timeout={}ms{}", timeout, local)
        });
        id
    }

    /// True if `id` is a local session of this server.
    pub fn is_local_session(&self, id: i64) -> bool {
        self.state.lock().sessions.get(&id).is_some_and(|s| s.local)
    }

    /// True if `id` is tracked here as a global session.
    pub fn is_global_session(&self, id: i64) -> bool {
        self.state
            .lock()
            .sessions
            .get(&id)
            .is_some_and(|s| !s.local)
    }

    /// A local session's first ephemeral create: it becomes global (its
    /// createSession txn is on its way); returns its timeout, or `None` if
    /// it is not (or no longer) local.
    pub fn upgrade_session(&self, id: i64) -> Option<i32> {
        let mut st = self.state.lock();
        let s = st.sessions.get_mut(&id).filter(|s| s.local && !s.closing)?;
        info!("Upgrading session 0x{:x}", id);
        s.local = false;
        Some(s.timeout)
    }

    /// How many local sessions are tracked (`mntr`'s local_sessions).
    pub fn local_session_count(&self) -> usize {
        self.state
            .lock()
            .sessions
            .values()
            .filter(|s| s.local)
            .count()
    }

    /// Starts tracking `id` (or refreshes it); true if it was new.
    pub fn track_session(&self, id: i64, timeout: i32) -> bool {
        let now = self.now();
        let mut st = self.state.lock();
        let added = !st.sessions.contains_key(&id);
        if added {
            debug!("Adding session {:#x}", id);
            st.sessions.insert(
                id,
                Session {
                    timeout,
                    owner: None,
                    local: false,
                    closing: false,
                },
            );
        }
        st.queue.update(id, timeout, now);
        added
    }

    /// Records that the createSession txn of `id` was applied.
    pub fn commit_session(&self, id: i64, timeout: i32) -> bool {
        let mut st = self.state.lock();
        if let Some(s) = st.sessions.get_mut(&id) {
            s.local = false;
        }
        st.committed.insert(id, timeout).is_none()
    }

    /// Pushes a live session's expiry out by `timeout`; false if the session
    /// is unknown or closing.
    pub fn touch_session(&self, id: i64, timeout: i32) -> bool {
        let now = self.now();
        let mut st = self.state.lock();
        match st.sessions.get(&id) {
            Some(s) if !s.closing => {
                st.queue.update(id, timeout, now);
                true
            }
            _ => false,
        }
    }

    /// Marks a session as closing (its closeSession is on its way).
    pub fn set_session_closing(&self, id: i64) {
        if let Some(s) = self.state.lock().sessions.get_mut(&id) {
            s.closing = true;
        }
    }

    /// Forgets a session (its closeSession txn was applied).
    pub fn remove_session(&self, id: i64) {
        debug!("Removing session {:#x}", id);
        let mut st = self.state.lock();
        st.sessions.remove(&id);
        st.committed.remove(&id);
        st.queue.remove(&id);
        drop(st);
        protocol_trace::session(SessionEvent::Close, id, String::new);
    }

    /// Prep's check before a request of session `id` coming through
    /// `owner`: UNKNOWNSESSION if it is not tracked, SESSIONEXPIRED if it is
    /// closing, SESSIONMOVED if another server owns it. A session without
    /// an owner is claimed by `owner`.
    pub fn check_session(&self, id: i64, owner: SessionOwner) -> Result<(), Code> {
        match self.state.lock().sessions.get_mut(&id) {
            // Another server's local session: that server vouches for it.
            None if self.local_sessions && id >> 56 != self.server_id => Ok(()),
            None if self.local_sessions => Err(Code::SessionExpired),
            None => Err(Code::UnknownSession),
            Some(s) if s.closing => Err(Code::SessionExpired),
            Some(s) => match s.owner {
                None => {
                    s.owner = Some(owner);
                    Ok(())
                }
                Some(current) if current == owner => Ok(()),
                Some(_) => Err(Code::SessionMoved),
            },
        }
    }

    /// The session's client is now attached through `owner` (it was
    /// created or resumed there); SESSIONEXPIRED if the session is unknown
    /// or closing.
    pub fn set_owner(&self, id: i64, owner: SessionOwner) -> Result<(), Code> {
        let before = match self.state.lock().sessions.get_mut(&id) {
            Some(s) if !s.closing => s.owner.replace(owner),
            _ => return Err(Code::SessionExpired),
        };
        if before.is_some_and(|b| b != owner) {
            protocol_trace::session(SessionEvent::Move, id, || {
                format!("to {}", owner_name(owner))
            });
        }
        Ok(())
    }

    /// As `check_session`, but an unknown session counts as expired (used
    /// before creating an ephemeral node).
    pub fn check_global_session(&self, id: i64, owner: SessionOwner) -> Result<(), Code> {
        if self.local_sessions && !self.is_global_session(id) {
            return Err(Code::SessionExpired);
        }
        match self.check_session(id, owner) {
            Err(Code::UnknownSession) => Err(Code::SessionExpired),
            other => other,
        }
    }

    /// True if `id` is tracked (closing or not).
    pub fn is_tracking(&self, id: i64) -> bool {
        self.state.lock().sessions.contains_key(&id)
    }

    /// The timeout a live session was created or restored with.
    pub fn session_timeout(&self, id: i64) -> Option<i32> {
        self.state.lock().sessions.get(&id).map(|s| s.timeout)
    }

    /// Ids of every tracked session.
    pub fn sessions(&self) -> Vec<i64> {
        self.state.lock().sessions.keys().copied().collect()
    }

    /// Committed sessions and their timeouts.
    pub fn sessions_with_timeouts(&self) -> HashMap<i64, i32> {
        self.state.lock().committed.clone()
    }

    /// Expiry time (ms on the tracker clock) -> session ids, for `dump`.
    pub fn expiry_map(&self) -> Vec<(i64, Vec<i64>)> {
        self.state.lock().queue.expiry_map()
    }

    /// The expiry buckets of the local sessions only (`local`), or of the
    /// global ones only: what Java's separate local and global trackers
    /// each hold. A bucket left empty by the filter is dropped.
    pub fn expiry_map_of(&self, local: bool) -> Vec<(i64, Vec<i64>)> {
        let st = self.state.lock();
        st.queue
            .expiry_map()
            .into_iter()
            .filter_map(|(at, ids)| {
                let was_empty = ids.is_empty();
                let ids: Vec<i64> = ids
                    .into_iter()
                    .filter(|id| st.sessions.get(id).is_some_and(|s| s.local) == local)
                    .collect();
                (was_empty || !ids.is_empty()).then_some((at, ids))
            })
            .collect()
    }

    /// A learner's tracker (global sessions are the leader's to expire):
    /// Java's `LearnerSessionTracker`, which `dump` shows differently.
    pub fn is_learner_tracker(&self) -> bool {
        !self.expire_global
    }

    /// Starts the expiry thread; `expirer` is called for each expired
    /// session after it was marked closing.
    pub fn start(self: &Arc<Self>, expirer: Expirer) -> std::io::Result<JoinHandle<()>> {
        let tracker = Arc::clone(self);
        std::thread::Builder::new()
            .name("SessionTracker".into())
            .spawn(move || {
                super::zookeeper_critical_thread::mark();
                tracker.run(expirer)
            })
    }

    /// The expiry loop: wait for the next bucket, expire what is in it.
    fn run(&self, expirer: Expirer) {
        loop {
            let expired = {
                let mut st = self.state.lock();
                if !st.running {
                    break;
                }
                let wait = st.queue.wait_time(self.now());
                if wait > 0 {
                    self.wakeup
                        .wait_for(&mut st, Duration::from_millis(wait as u64));
                    continue;
                }
                let ids = st.queue.poll(self.now());
                let mut expired = Vec::with_capacity(ids.len());
                for id in ids {
                    if let Some(s) = st
                        .sessions
                        .get_mut(&id)
                        .filter(|s| s.local || self.expire_global)
                    {
                        s.closing = true;
                        expired.push((id, s.timeout));
                    }
                }
                expired
            };
            for (id, timeout) in expired {
                protocol_trace::session(SessionEvent::Expire, id, || {
                    format!("timeout={}ms", timeout)
                });
                info!(
                    "Expiring session {:#x}, timeout of {}ms exceeded",
                    id, timeout
                );
                expirer(id, timeout);
            }
        }
        info!("SessionTrackerImpl exited loop!");
    }

    /// Stops the expiry thread (it exits at its next wake-up, promptly).
    pub fn shutdown(&self) {
        self.state.lock().running = false;
        self.wakeup.notify_all();
    }
}

/// Java's first session id: the server id in the top byte, 40 bits of a
/// millisecond clock below it, 16 zero bits for the counter.
///
/// Java takes the clock from `System.nanoTime()` (arbitrary origin); any
/// clock works as long as ids do not repeat across restarts, and the wall
/// clock is the safer choice for that.
pub fn initial_session_id(server_id: i64, clock_ms: i64) -> i64 {
    let shifted = ((clock_ms << 24) as u64 >> 8) as i64;
    let id = shifted | (server_id << 56);
    if id == CONTAINER_EPHEMERAL_OWNER {
        id + 1
    } else {
        id
    }
}

fn wall_clock_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::mpsc;

    #[test]
    fn session_ids_carry_the_server_id_in_the_top_byte() {
        // [obs] standalone id 0x100000a71af0000 came from clock 0xa71af.
        assert_eq!(initial_session_id(1, 0xa71af), 0x0100_000a_71af_0000);
        // Only 40 bits of the clock survive.
        assert_eq!(
            initial_session_id(1, 0xff_ffff_ffff_ffff),
            0x01ff_ffff_ffff_0000
        );
        assert_eq!(initial_session_id(5, 0) >> 56, 5);
    }

    #[test]
    fn ids_are_consecutive() {
        let t = SessionTracker::new(1, 2000, &HashMap::new());
        let a = t.create_session(4000);
        let b = t.create_session(4000);
        assert_eq!(b, a + 1);
        assert_eq!(a >> 56, 1);
    }

    #[test]
    fn check_session_reports_unknown_and_closing() {
        let t = SessionTracker::new(1, 2000, &HashMap::new());
        let me = SessionOwner::Local;
        assert_eq!(t.check_session(42, me), Err(Code::UnknownSession));
        assert_eq!(t.check_global_session(42, me), Err(Code::SessionExpired));
        let id = t.create_session(4000);
        assert_eq!(t.check_session(id, me), Ok(()));
        t.set_session_closing(id);
        assert_eq!(t.check_session(id, me), Err(Code::SessionExpired));
        assert_eq!(t.set_owner(id, me), Err(Code::SessionExpired));
        assert!(
            !t.touch_session(id, 4000),
            "a closing session cannot be touched"
        );
        t.remove_session(id);
        assert!(!t.is_tracking(id));
    }

    #[test]
    fn a_session_is_owned_by_the_server_it_was_last_attached_to() {
        let t = SessionTracker::new(1, 2000, &HashMap::new());
        let (me, a, b) = (
            SessionOwner::Local,
            SessionOwner::Learner(1),
            SessionOwner::Learner(2),
        );
        // Unowned (restored, or made before this server led): the first
        // checked request claims it.
        let id = t.create_session(4000);
        assert_eq!(t.check_session(id, a), Ok(()));
        assert_eq!(t.check_session(id, a), Ok(()));
        assert_eq!(t.check_session(id, me), Err(Code::SessionMoved));
        assert_eq!(t.check_global_session(id, b), Err(Code::SessionMoved));
        // Resumed through learner b: a is fenced, b is not.
        assert_eq!(t.set_owner(id, b), Ok(()));
        assert_eq!(t.check_session(id, a), Err(Code::SessionMoved));
        assert_eq!(t.check_session(id, b), Ok(()));
        // Resumed on this server.
        assert_eq!(t.set_owner(id, me), Ok(()));
        assert_eq!(t.check_session(id, b), Err(Code::SessionMoved));
        assert_eq!(t.check_session(id, me), Ok(()));
        assert_eq!(t.set_owner(42, me), Err(Code::SessionExpired));
    }

    #[test]
    fn local_sessions_stay_local_until_upgraded_or_committed() {
        let t = SessionTracker::new(2, 2000, &HashMap::new()).with_local_sessions(true, true);
        let me = SessionOwner::Local;
        let id = t.create_session(4000);
        assert!(t.is_local_session(id) && !t.is_global_session(id));
        assert_eq!(t.local_session_count(), 1);
        assert_eq!(t.check_session(id, me), Ok(()));
        // No ephemerals on a local session.
        assert_eq!(t.check_global_session(id, me), Err(Code::SessionExpired));
        assert_eq!(t.upgrade_session(id), Some(4000));
        assert_eq!(t.upgrade_session(id), None, "upgraded once");
        assert!(t.is_global_session(id));
        assert_eq!(t.check_global_session(id, me), Ok(()));
        // A learner's commit of the createSession makes it global too.
        let other = t.create_session(5000);
        t.commit_session(other, 5000);
        assert!(!t.is_local_session(other));
        assert_eq!(t.local_session_count(), 0);
        // The leader accepts other servers' local sessions, not its own unknown ones.
        assert_eq!(t.check_session(0x0300_0000_0000_0001, me), Ok(()));
        assert_eq!(
            t.check_session(0x0200_0000_0000_0001, me),
            Err(Code::SessionExpired)
        );
        assert_eq!(
            t.check_global_session(0x0300_0000_0000_0001, me),
            Err(Code::SessionExpired)
        );
    }

    #[test]
    fn restored_sessions_are_tracked_and_committed() {
        let restored: HashMap<i64, i32> = [(7, 6000)].into_iter().collect();
        let t = SessionTracker::new(1, 2000, &restored);
        assert!(t.touch_session(7, 6000));
        assert_eq!(t.sessions_with_timeouts().get(&7), Some(&6000));
    }

    #[test]
    fn a_silent_session_is_expired_and_a_touched_one_is_not() {
        let t = Arc::new(SessionTracker::new(1, 10, &HashMap::new()));
        let silent = t.create_session(30);
        // A longer timeout, so a loaded machine pausing this thread for a
        // moment does not expire the busy session between touches.
        let busy = t.create_session(200);
        let (tx, rx) = mpsc::channel();
        let tx = Mutex::new(tx);
        let handle = t
            .start(Box::new(move |id, _| tx.lock().send(id).unwrap()))
            .unwrap();
        let started = Instant::now();
        let mut expired = Vec::new();
        while expired.is_empty() && started.elapsed() < Duration::from_secs(5) {
            assert!(t.touch_session(busy, 200));
            std::thread::sleep(Duration::from_millis(5));
            expired.extend(rx.try_iter());
        }
        // Touched for well past its own timeout: never expired.
        let until = Instant::now() + Duration::from_millis(500);
        while Instant::now() < until {
            assert!(t.touch_session(busy, 200));
            std::thread::sleep(Duration::from_millis(5));
        }
        expired.extend(rx.try_iter());
        assert!(started.elapsed() >= Duration::from_millis(30));
        assert_eq!(expired, vec![silent]);
        assert_eq!(
            t.check_session(silent, SessionOwner::Local),
            Err(Code::SessionExpired)
        );
        t.shutdown();
        handle.join().unwrap();
    }
}
