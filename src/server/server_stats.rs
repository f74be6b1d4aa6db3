//! Counters behind `srvr`, `stat` and `mntr`: request latency min/avg/max
//! and packets in/out.
//!
//! Lock-free atomics: connection threads count packets, the Final thread
//! records latencies, 4lw threads read. Figures are allowed to be a little
//! inconsistent with each other, as in Java.
//!
//! Mirrors: `org.apache.zookeeper.server.ServerStats` and
//! `metric.AvgMinMaxCounter`.

use std::sync::atomic::{AtomicU64, Ordering};

use super::server_metrics::summary::AvgMinMax;

/// Request latency (ms) and packet counters.
#[derive(Debug)]
pub struct ServerStats {
    packets_sent: AtomicU64,
    packets_received: AtomicU64,
    /// Latencies of answered requests, in ms.
    latency: AvgMinMax,
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
            latency: AvgMinMax::new(),
        }
    }

    /// Records one answered request's latency; negative values (clock
    /// steps) are ignored as in Java.
    pub fn update_latency(&self, latency_ms: i64) {
        if latency_ms < 0 {
            return;
        }
        self.latency.add(latency_ms);
    }

    /// Smallest latency, 0 before the first request.
    pub fn min_latency(&self) -> i64 {
        self.latency.min()
    }

    /// Largest latency, 0 before the first request.
    pub fn max_latency(&self) -> i64 {
        self.latency.max()
    }

    /// Mean latency rounded half-up to 4 decimals (Java's BigDecimal
    /// rounding), 0 before the first request.
    pub fn avg_latency(&self) -> f64 {
        self.latency.avg()
    }

    /// `srst`: forget latencies.
    pub fn reset_latency(&self) {
        self.latency.reset();
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
        assert_eq!(
            (s.min_latency(), s.avg_latency(), s.max_latency()),
            (0, 0.0, 0)
        );
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
