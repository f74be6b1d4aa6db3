//! Latency samples and their percentiles.
//!
//! Each worker thread keeps its own [`Latencies`] (no sharing while the
//! workload runs); the main thread merges them after joining the workers
//! and computes the percentiles once. Samples are kept exactly
//! (nanoseconds, 8 bytes each): a 10 s run at 100k ops/s is 8 MB.
//!
//! Mirrors: nothing in ZooKeeper; part of the zk-bench tool.

/// Latency samples of one thread, or of a whole run once merged.
#[derive(Debug, Default, Clone)]
pub struct Latencies {
    samples_ns: Vec<u64>,
}

/// The summary printed and written to JSON, in microseconds.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Summary {
    pub count: usize,
    pub p50_us: f64,
    pub p99_us: f64,
    pub p999_us: f64,
    pub max_us: f64,
}

impl Latencies {
    pub fn record_ns(&mut self, ns: u64) {
        self.samples_ns.push(ns);
    }

    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.samples_ns.len()
    }

    pub fn merge(&mut self, other: Latencies) {
        self.samples_ns.extend(other.samples_ns);
    }

    /// Sorts the samples and reads the percentiles (nearest rank).
    pub fn summary(&mut self) -> Summary {
        if self.samples_ns.is_empty() {
            return Summary::default();
        }
        self.samples_ns.sort_unstable();
        let us = |ns: u64| ns as f64 / 1000.0;
        Summary {
            count: self.samples_ns.len(),
            p50_us: us(nearest_rank(&self.samples_ns, 0.50)),
            p99_us: us(nearest_rank(&self.samples_ns, 0.99)),
            p999_us: us(nearest_rank(&self.samples_ns, 0.999)),
            max_us: us(*self.samples_ns.last().unwrap_or(&0)),
        }
    }
}

/// The smallest sample with at least `q` of the samples at or below it.
fn nearest_rank(sorted: &[u64], q: f64) -> u64 {
    if sorted.is_empty() {
        return 0;
    }
    let rank = (q * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_of_one_to_thousand() {
        let mut l = Latencies::default();
        for v in (1..=1000u64).rev() {
            l.record_ns(v * 1000);
        }
        let s = l.summary();
        assert_eq!(s.count, 1000);
        assert_eq!(s.p50_us, 500.0);
        assert_eq!(s.p99_us, 990.0);
        assert_eq!(s.p999_us, 999.0);
        assert_eq!(s.max_us, 1000.0);
    }

    #[test]
    fn a_single_sample_is_every_percentile() {
        let mut l = Latencies::default();
        l.record_ns(2500);
        let s = l.summary();
        assert_eq!((s.p50_us, s.p999_us, s.max_us), (2.5, 2.5, 2.5));
    }

    #[test]
    fn merging_keeps_every_sample() {
        let mut a = Latencies::default();
        a.record_ns(1);
        let mut b = Latencies::default();
        b.record_ns(2);
        b.record_ns(3);
        a.merge(b);
        assert_eq!(a.len(), 3);
        assert_eq!(Latencies::default().summary(), Summary::default());
    }
}
