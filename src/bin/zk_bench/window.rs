//! The measured window of a timed workload: a warm-up that is not
//! counted (JIT compilation, caches, TCP windows), then `duration`
//! seconds that are.
//!
//! Workers compare their own timestamps with the window; the main thread
//! samples the server's CPU at its two edges with [`sample_cpu`].
//!
//! Mirrors: nothing in ZooKeeper; part of the zk-bench tool.

use std::thread;
use std::time::{Duration, Instant};

use crate::proc_stat;

/// When counting starts and stops.
#[derive(Debug, Clone, Copy)]
pub struct Window {
    pub start: Instant,
    pub end: Instant,
}

impl Window {
    /// A window opening `warmup` from now and lasting `duration`.
    pub fn starting_in(warmup: Duration, duration: Duration) -> Window {
        let start = Instant::now() + warmup;
        Window {
            start,
            end: start + duration,
        }
    }

    /// True if a request sent at `sent` and answered at `done` counts.
    pub fn counts(&self, sent: Instant, done: Instant) -> bool {
        sent >= self.start && done <= self.end
    }

    pub fn seconds(&self) -> f64 {
        (self.end - self.start).as_secs_f64()
    }
}

/// Sleeps until `at` (returns at once if it has passed).
pub fn sleep_until(at: Instant) {
    let now = Instant::now();
    if at > now {
        thread::sleep(at - now);
    }
}

/// CPU seconds spent inside a window by the server and by this tool
/// (the client's share shows how little it takes from the server).
#[derive(Debug, Clone, Copy, Default)]
pub struct Cpu {
    pub server: Option<f64>,
    pub client: Option<f64>,
}

/// Reads both processes' CPU seconds now.
pub fn cpu_now(pids: &[u32]) -> Cpu {
    Cpu {
        server: proc_stat::cpu_seconds_sum(pids),
        client: proc_stat::cpu_seconds(std::process::id()),
    }
}

/// The CPU spent between two readings.
pub fn cpu_between(before: Cpu, after: Cpu) -> Cpu {
    let delta = |a: Option<f64>, b: Option<f64>| Some(a? - b?);
    Cpu {
        server: delta(after.server, before.server),
        client: delta(after.client, before.client),
    }
}

/// On the calling thread: waits for the window to open, reads the CPU
/// counters, waits for it to close, reads again (the server's only with
/// a pid).
pub fn sample_cpu(pids: &[u32], window: &Window) -> Cpu {
    sleep_until(window.start);
    let before = cpu_now(pids);
    sleep_until(window.end);
    cpu_between(before, cpu_now(pids))
}

/// CPU microseconds per operation, when both are known.
pub fn cpu_per_op(cpu_seconds: Option<f64>, ops: u64) -> Option<f64> {
    match cpu_seconds {
        Some(s) if ops > 0 => Some(s * 1e6 / ops as f64),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_requests_inside_the_window_count() {
        let w = Window::starting_in(Duration::from_millis(100), Duration::from_millis(100));
        let before = w.start - Duration::from_millis(1);
        let inside = w.start + Duration::from_millis(10);
        let after = w.end + Duration::from_millis(1);
        assert!(!w.counts(before, inside));
        assert!(w.counts(inside, inside));
        assert!(!w.counts(inside, after));
        assert!((w.seconds() - 0.1).abs() < 1e-9);
    }

    #[test]
    fn cpu_per_op_needs_ops_and_cpu() {
        assert_eq!(cpu_per_op(Some(2.0), 1_000_000), Some(2.0));
        assert_eq!(cpu_per_op(None, 10), None);
        assert_eq!(cpu_per_op(Some(1.0), 0), None);
    }
}
