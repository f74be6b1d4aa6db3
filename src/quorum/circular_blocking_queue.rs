//! A bounded blocking queue that never blocks the producer: when full, the
//! oldest element is dropped to make room. The election transport uses it
//! with capacity 1 per peer (only the newest vote matters) and 100 for
//! received messages.
//!
//! Shared by any number of threads (a mutex and a condition variable).
//!
//! Mirrors: `org.apache.zookeeper.util.CircularBlockingQueue`.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use parking_lot::{Condvar, Mutex};

/// The queue.
pub struct CircularBlockingQueue<T> {
    /// Elements, oldest first.
    items: Mutex<VecDeque<T>>,
    /// Signalled on every offer.
    not_empty: Condvar,
    /// Maximum length (at least 1).
    capacity: usize,
}

impl<T> CircularBlockingQueue<T> {
    /// An empty queue holding at most `capacity` elements.
    pub fn new(capacity: usize) -> Self {
        CircularBlockingQueue {
            items: Mutex::new(VecDeque::new()),
            not_empty: Condvar::new(),
            capacity: capacity.max(1),
        }
    }

    /// Adds `item`, dropping the oldest element if the queue is full.
    /// Returns true when something was dropped.
    pub fn offer(&self, item: T) -> bool {
        let mut items = self.items.lock();
        let dropped = if items.len() >= self.capacity {
            items.pop_front().is_some()
        } else {
            false
        };
        items.push_back(item);
        self.not_empty.notify_one();
        dropped
    }

    /// Takes the oldest element, waiting up to `timeout` for one.
    pub fn poll(&self, timeout: Duration) -> Option<T> {
        let deadline = Instant::now() + timeout;
        let mut items = self.items.lock();
        loop {
            if let Some(item) = items.pop_front() {
                return Some(item);
            }
            if self.not_empty.wait_until(&mut items, deadline).timed_out() {
                return items.pop_front();
            }
        }
    }

    /// True when nothing is queued.
    pub fn is_empty(&self) -> bool {
        self.items.lock().is_empty()
    }

    /// Drops everything queued.
    pub fn clear(&self) {
        self.items.lock().clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn full_queue_replaces_the_oldest() {
        let q = CircularBlockingQueue::new(1);
        assert!(!q.offer(1));
        assert!(q.offer(2));
        assert_eq!(q.poll(Duration::ZERO), Some(2));
        assert_eq!(q.poll(Duration::from_millis(10)), None);
        let q = CircularBlockingQueue::new(2);
        q.offer(1);
        q.offer(2);
        q.offer(3);
        assert_eq!(q.poll(Duration::ZERO), Some(2));
        assert_eq!(q.poll(Duration::ZERO), Some(3));
        assert!(q.is_empty());
    }

    #[test]
    fn poll_wakes_on_offer() {
        let q = std::sync::Arc::new(CircularBlockingQueue::new(4));
        let q2 = q.clone();
        let t = std::thread::spawn(move || q2.poll(Duration::from_secs(5)));
        std::thread::sleep(Duration::from_millis(20));
        q.offer(7);
        assert_eq!(t.join().unwrap(), Some(7));
    }
}
