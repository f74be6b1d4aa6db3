//! Counters behind `srvr`, `stat` and `mntr`: request latency min/avg/max
//! and packets in/out.
//!
//! Lock-free atomics: connection threads count packets, the Final thread
//! records latencies, 4lw threads read. Figures are allowed to be a little
//! inconsistent with each other, as in Java.
//!
//! Mirrors: `org.apache.zookeeper.server.ServerStats` and
//! `metric.AvgMinMaxCounter`.

use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};

/// Request latency (ms) and packet counters.
#[derive(Debug)]
pub struct ServerStats {
    packets_sent: AtomicU64,
    packets_received: AtomicU64,
    /// Sum of all recorded latencies.
    latency_total: AtomicI64,
    /// Number of recorded latencies.
    latency_count: AtomicI64,
    /// Smallest latency (`i64::MAX` when none yet).
    latency_min: AtomicI64,
    /// Largest latency (`i64::MIN` when none yet).
    latency_max: AtomicI64,
}

impl Default for ServerStats {
    fn default() -> Self {
        ServerStats::new()
    }
}

impl ServerStats {
    /// All counters at zero.
    pub fn new() -> ServerStats {
        ServerStats {
            packets_sent: AtomicU64::new(0),
            packets_received: AtomicU64::new(0),
            latency_total: AtomicI64::new(0),
            latency_count: AtomicI64::new(0),
            latency_min: AtomicI64::new(i64::MAX),
            latency_max: AtomicI64::new(i64::MIN),
        }
    }

    /// Records one answered request's latency; negative values (clock
    /// steps) are ignored as in Java.
    pub fn update_latency(&self, latency_ms: i64) {
        if latency_ms < 0 {
            return;
        }
        self.latency_total.fetch_add(latency_ms, Ordering::Relaxed);
        self.latency_count.fetch_add(1, Ordering::Relaxed);
        self.latency_min.fetch_min(latency_ms, Ordering::Relaxed);
        self.latency_max.fetch_max(latency_ms, Ordering::Relaxed);
    }

    /// Smallest latency, 0 before the first request.
    pub fn min_latency(&self) -> i64 {
        match self.latency_min.load(Ordering::Relaxed) {
            i64::MAX => 0,
            v => v,
        }
    }

    /// Largest latency, 0 before the first request.
    pub fn max_latency(&self) -> i64 {
        match self.latency_max.load(Ordering::Relaxed) {
            i64::MIN => 0,
            v => v,
        }
    }

    /// Mean latency rounded half-up to 4 decimals (Java's BigDecimal
    /// rounding), 0 before the first request.
    pub fn avg_latency(&self) -> f64 {
        let count = self.latency_count.load(Ordering::Relaxed);
        if count <= 0 {
            return 0.0;
        }
        let avg = self.latency_total.load(Ordering::Relaxed) as f64 / count as f64;
        (avg * 10_000.0).round() / 10_000.0
    }

    /// `srst`: forget latencies.
    pub fn reset_latency(&self) {
        self.latency_total.store(0, Ordering::Relaxed);
        self.latency_count.store(0, Ordering::Relaxed);
        self.latency_min.store(i64::MAX, Ordering::Relaxed);
        self.latency_max.store(i64::MIN, Ordering::Relaxed);
    }

    /// `srst`: forget packet counts.
    pub fn reset_request_counters(&self) {
        self.packets_sent.store(0, Ordering::Relaxed);
        self.packets_received.store(0, Ordering::Relaxed);
    }

    /// A frame came in from a client.
    pub fn incr_packets_received(&self) {
        self.packets_received.fetch_add(1, Ordering::Relaxed);
    }

    /// A frame went out to a client.
    pub fn incr_packets_sent(&self) {
        self.packets_sent.fetch_add(1, Ordering::Relaxed);
    }

    /// Frames received so far.
    pub fn packets_received(&self) -> u64 {
        self.packets_received.load(Ordering::Relaxed)
    }

    /// Frames sent so far.
    pub fn packets_sent(&self) -> u64 {
        self.packets_sent.load(Ordering::Relaxed)
    }
}

#[cfg(test)]
mod tests {
    use super::ServerStats;

    #[test]
    fn empty_stats_read_as_zero() {
        let s = ServerStats::new();
        assert_eq!((s.min_latency(), s.avg_latency(), s.max_latency()), (0, 0.0, 0));
    }

    #[test]
    fn latency_min_avg_max() {
        let s = ServerStats::new();
        for v in [3, 1, 2, -5] {
            s.update_latency(v);
        }
        assert_eq!(s.min_latency(), 1);
        assert_eq!(s.max_latency(), 3);
        assert_eq!(s.avg_latency(), 2.0);
        s.update_latency(0);
        assert_eq!(s.avg_latency(), 1.5);
        s.update_latency(0);
        assert_eq!(s.avg_latency(), 1.2);
        s.reset_latency();
        assert_eq!(s.max_latency(), 0);
    }

    #[test]
    fn averages_round_to_four_decimals() {
        let s = ServerStats::new();
        for v in [1, 0, 0] {
            s.update_latency(v);
        }
        assert_eq!(s.avg_latency(), 0.3333);
    }

    #[test]
    fn packets_are_counted() {
        let s = ServerStats::new();
        s.incr_packets_received();
        s.incr_packets_received();
        s.incr_packets_sent();
        assert_eq!((s.packets_received(), s.packets_sent()), (2, 1));
        s.reset_request_counters();
        assert_eq!(s.packets_received(), 0);
    }
}
