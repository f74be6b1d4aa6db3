//! A fixed-window rate limit for expensive admin commands: at most `rate`
//! calls per window; a call more than `interval` milliseconds after the
//! window opened opens a new one. Time is whole milliseconds, as Java's
//! elapsed-time clock, so with an interval of 0 two calls in the same
//! millisecond are one too many (as in Java).
//!
//! Called from the AdminServer's worker threads (a mutex guards the window).
//!
//! Mirrors: `org.apache.zookeeper.server.util.RateLimiter`.

use std::time::Instant;

use parking_lot::Mutex;

/// The limiter.
pub struct RateLimiter {
    /// Calls allowed per window.
    rate: u32,
    /// The window's length in ms (negative: every call opens a new one).
    interval_ms: i64,
    /// Where the clock counts from.
    origin: Instant,
    /// (when the window opened, calls left in it).
    window: Mutex<(i64, u32)>,
}

impl RateLimiter {
    /// `rate` calls per `interval_ms`; the first window opens now.
    pub fn new(rate: u32, interval_ms: i64) -> RateLimiter {
        RateLimiter {
            rate,
            interval_ms,
            origin: Instant::now(),
            window: Mutex::new((0, rate)),
        }
    }

    /// Whether a call may go ahead now (and counts it if so).
    pub fn allow(&self) -> bool {
        self.allow_at(self.origin.elapsed().as_millis() as i64)
    }

    /// [`RateLimiter::allow`] at `now` ms after the limiter was made.
    pub fn allow_at(&self, now: i64) -> bool {
        let mut window = self.window.lock();
        if now > window.0.saturating_add(self.interval_ms) {
            *window = (now, self.rate);
        }
        if window.1 == 0 {
            return false;
        }
        window.1 -= 1;
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_per_window() {
        let r = RateLimiter::new(1, 300);
        assert!(r.allow_at(0), "the first call of the first window");
        assert!(!r.allow_at(1));
        assert!(!r.allow_at(300), "the window is still open at its end");
        assert!(r.allow_at(301));
        assert!(!r.allow_at(400));
    }

    #[test]
    fn zero_and_negative_intervals() {
        let zero = RateLimiter::new(1, 0);
        assert!(zero.allow_at(5));
        assert!(!zero.allow_at(5), "same millisecond");
        assert!(zero.allow_at(6));
        let negative = RateLimiter::new(1, -1);
        assert!(negative.allow_at(7) && negative.allow_at(7));
    }
}
