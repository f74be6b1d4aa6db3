//! Elements grouped into fixed-width time buckets, expired a bucket at a
//! time.
//!
//! A session touched at time `t` with timeout `T` is put in the bucket that
//! ends at the first multiple of the interval (tickTime) *after* `t + T`:
//! rounding up gives every session a little grace, and lets the expirer
//! wake once per tick instead of once per session.
//!
//! Pure code: every method takes the current time (ms on a monotonic
//! clock) as an argument, so tests need no clock. The caller (the session
//! tracker) does the locking.
//!
//! Mirrors: `org.apache.zookeeper.server.ExpiryQueue`.

use std::collections::{HashMap, HashSet};
use std::hash::Hash;

/// Time-bucketed expiry sets.
#[derive(Debug)]
pub struct ExpiryQueue<E: Eq + Hash + Clone> {
    /// Each element's current bucket (its expiry time).
    elem_map: HashMap<E, i64>,
    /// Bucket end time -> the elements expiring then. Empty buckets are
    /// dropped lazily when their time comes, as Java does.
    expiry_map: HashMap<i64, HashSet<E>>,
    /// The next bucket `poll` will hand out.
    next_expiration_time: i64,
    /// Bucket width in ms (tickTime).
    expiration_interval: i64,
}

impl<E: Eq + Hash + Clone> ExpiryQueue<E> {
    /// An empty queue whose first bucket ends after `now`.
    pub fn new(expiration_interval: i32, now: i64) -> ExpiryQueue<E> {
        let expiration_interval = i64::from(expiration_interval.max(1));
        ExpiryQueue {
            elem_map: HashMap::new(),
            expiry_map: HashMap::new(),
            next_expiration_time: round_to_next_interval(now, expiration_interval),
            expiration_interval,
        }
    }

    /// Adds or moves `elem` to the bucket for `now + timeout`. Returns the
    /// new expiry time, or `None` when the bucket did not change.
    pub fn update(&mut self, elem: E, timeout: i32, now: i64) -> Option<i64> {
        let new_time = round_to_next_interval(
            now.saturating_add(i64::from(timeout)),
            self.expiration_interval,
        );
        let previous = self.elem_map.insert(elem.clone(), new_time);
        if previous == Some(new_time) {
            return None;
        }
        if let Some(prev) = previous {
            if let Some(set) = self.expiry_map.get_mut(&prev) {
                set.remove(&elem);
            }
        }
        self.expiry_map.entry(new_time).or_default().insert(elem);
        Some(new_time)
    }

    /// Forgets `elem`; returns the time it was due to expire.
    pub fn remove(&mut self, elem: &E) -> Option<i64> {
        let time = self.elem_map.remove(elem)?;
        if let Some(set) = self.expiry_map.get_mut(&time) {
            set.remove(elem);
        }
        Some(time)
    }

    /// Milliseconds until the next bucket is due (0 if it already is).
    pub fn wait_time(&self, now: i64) -> i64 {
        (self.next_expiration_time - now).max(0)
    }

    /// Takes the next due bucket, or nothing if none is due yet. Elements
    /// handed out are forgotten.
    pub fn poll(&mut self, now: i64) -> Vec<E> {
        if now < self.next_expiration_time {
            return Vec::new();
        }
        let due = self.next_expiration_time;
        self.next_expiration_time += self.expiration_interval;
        let set = self.expiry_map.remove(&due).unwrap_or_default();
        for elem in &set {
            self.elem_map.remove(elem);
        }
        set.into_iter().collect()
    }

    /// Bucket end time -> elements, for `dump`/`cons`-style reports.
    pub fn expiry_map(&self) -> Vec<(i64, Vec<E>)> {
        let mut buckets: Vec<(i64, Vec<E>)> = self
            .expiry_map
            .iter()
            .filter(|(_, set)| !set.is_empty())
            .map(|(t, set)| (*t, set.iter().cloned().collect()))
            .collect();
        buckets.sort_by_key(|(t, _)| *t);
        buckets
    }
}

/// The first multiple of `interval` strictly after `time`.
fn round_to_next_interval(time: i64, interval: i64) -> i64 {
    (time / interval + 1) * interval
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_round_up_to_the_next_tick() {
        assert_eq!(round_to_next_interval(0, 2000), 2000);
        assert_eq!(round_to_next_interval(1999, 2000), 2000);
        // Exactly on a tick still moves to the next one.
        assert_eq!(round_to_next_interval(2000, 2000), 4000);
        let mut q = ExpiryQueue::new(2000, 0);
        assert_eq!(q.update(1_i64, 4000, 500), Some(6000));
    }

    #[test]
    fn nothing_expires_before_its_bucket() {
        let mut q = ExpiryQueue::new(1000, 0);
        q.update("s", 3000, 100); // bucket 4000
        for now in [1000, 2000, 3000, 3999] {
            assert!(q.poll(now).is_empty(), "polled at {}", now);
        }
        assert_eq!(q.wait_time(3999), 1);
        assert_eq!(q.poll(4000), vec!["s"]);
        // Handed out once only.
        assert!(q.poll(5000).is_empty());
    }

    #[test]
    fn touching_moves_an_element_to_a_later_bucket() {
        let mut q = ExpiryQueue::new(1000, 0);
        q.update(7, 2000, 0); // bucket 3000
        assert_eq!(q.update(7, 2000, 1500), Some(4000));
        assert_eq!(q.update(7, 2000, 1600), None, "same bucket: no change");
        assert!(q.poll(1000).is_empty());
        assert!(q.poll(2000).is_empty());
        assert!(q.poll(3000).is_empty(), "old bucket must no longer hold it");
        assert_eq!(q.poll(4000), vec![7]);
    }

    #[test]
    fn removed_elements_never_expire() {
        let mut q = ExpiryQueue::new(1000, 0);
        q.update(1, 500, 0);
        assert_eq!(q.remove(&1), Some(1000));
        assert_eq!(q.remove(&1), None);
        assert!(q.poll(1000).is_empty());
    }

    #[test]
    fn wait_time_counts_down_to_the_next_bucket() {
        let q: ExpiryQueue<i32> = ExpiryQueue::new(2000, 100);
        assert_eq!(q.wait_time(100), 1900);
        assert_eq!(q.wait_time(2500), 0);
    }

    #[test]
    fn a_late_poller_catches_up_one_bucket_per_call() {
        let mut q = ExpiryQueue::new(1000, 0);
        q.update('a', 100, 0); // 1000
        q.update('b', 1100, 0); // 2000
        assert_eq!(q.poll(5000), vec!['a']);
        assert_eq!(q.poll(5000), vec!['b']);
        assert!(q.poll(5000).is_empty());
        let map = q.expiry_map();
        assert!(map.is_empty());
    }
}
