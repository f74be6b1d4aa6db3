//! The value types behind the metrics: a counter, an avg/min/max summary
//! (with percentiles at the ADVANCED detail level), and a summary set (one
//! summary per key, e.g. per top-level namespace).
//!
//! Any thread records (lock-free atomics for the counts; a short mutex for
//! the percentile sample); 4lw, AdminServer and Prometheus threads read.
//!
//! Mirrors: `org.apache.zookeeper.server.metric.SimpleCounter`,
//! `AvgMinMaxCounter`, `AvgMinMaxPercentileCounter`, `AvgMinMaxCounterSet`,
//! `AvgMinMaxPercentileCounterSet`.

use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::Arc;

use parking_lot::Mutex;

/// One value of a metrics dump, typed as Java prints it in `mntr`:
/// integers plain, other numbers as Java doubles, text as is.
#[derive(Debug, Clone, PartialEq)]
pub enum MetricValue {
    Long(i64),
    Double(f64),
    Text(String),
}

impl MetricValue {
    /// The `mntr` text of the value.
    pub fn mntr_text(&self) -> String {
        match self {
            MetricValue::Long(v) => v.to_string(),
            MetricValue::Double(v) => crate::server::command::java_double_to_string(*v),
            MetricValue::Text(t) => t.clone(),
        }
    }

    /// The value as a JSON value (AdminServer `monitor`).
    pub fn to_json(&self) -> serde_json::Value {
        match self {
            MetricValue::Long(v) => serde_json::Value::from(*v),
            MetricValue::Double(v) => {
                serde_json::Number::from_f64(*v).map_or(serde_json::Value::Null, Into::into)
            }
            MetricValue::Text(t) => serde_json::Value::from(t.clone()),
        }
    }
}

/// How much a summary records (Java's `MetricsContext.DetailLevel`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Detail {
    /// avg/min/max/cnt/sum.
    Basic,
    /// Plus p50/p95/p99/p999.
    Advanced,
}

/// A monotonically growing count (reset by `srst`).
#[derive(Debug, Default)]
pub struct Counter(AtomicI64);

impl Counter {
    /// Adds `delta`.
    pub fn add(&self, delta: i64) {
        self.0.fetch_add(delta, Ordering::Relaxed);
    }

    /// The current count.
    pub fn get(&self) -> i64 {
        self.0.load(Ordering::Relaxed)
    }

    /// Back to zero.
    pub fn reset(&self) {
        self.0.store(0, Ordering::Relaxed);
    }
}

/// How many samples the percentile estimate keeps (Dropwizard's uniform
/// reservoir default, which Java's percentile counter uses).
const RESERVOIR_SIZE: usize = 1028;

/// A uniform random sample of everything recorded (Vitter's algorithm R).
#[derive(Debug, Default)]
struct Reservoir {
    values: Vec<i64>,
    seen: u64,
    /// xorshift state; any non-zero seed.
    rng: u64,
}

impl Reservoir {
    fn add(&mut self, value: i64) {
        self.seen += 1;
        if self.values.len() < RESERVOIR_SIZE {
            self.values.push(value);
            return;
        }
        self.rng = if self.rng == 0 {
            0x9E37_79B9_7F4A_7C15
        } else {
            self.rng
        };
        self.rng ^= self.rng << 13;
        self.rng ^= self.rng >> 7;
        self.rng ^= self.rng << 17;
        let slot = self.rng % self.seen;
        if let Some(v) = self.values.get_mut(slot as usize) {
            *v = value;
        }
    }
}

/// The `quantile` of a sorted sample, interpolated as Dropwizard's
/// `UniformSnapshot.getValue` does; 0 for an empty sample.
pub fn quantile_of_sorted(sorted: &[i64], quantile: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let pos = quantile * (sorted.len() as f64 + 1.0);
    if pos < 1.0 {
        return sorted[0] as f64;
    }
    if pos >= sorted.len() as f64 {
        return sorted[sorted.len() - 1] as f64;
    }
    let index = pos as usize;
    let lower = sorted[index - 1] as f64;
    let upper = sorted[index] as f64;
    lower + (pos - pos.floor()) * (upper - lower)
}

/// The percentiles `mntr` prints for an ADVANCED summary.
pub const MNTR_PERCENTILES: [(&str, f64); 4] =
    [("p50", 0.5), ("p95", 0.95), ("p99", 0.99), ("p999", 0.999)];

/// avg/min/max/count/sum of recorded values, lock-free: any thread adds,
/// readers see figures that may be a little inconsistent with each other
/// (as Java's).
///
/// Mirrors: `org.apache.zookeeper.server.metric.AvgMinMaxCounter`.
#[derive(Debug)]
pub struct AvgMinMax {
    total: AtomicI64,
    count: AtomicU64,
    /// `i64::MAX` while empty.
    min: AtomicI64,
    /// `i64::MIN` while empty.
    max: AtomicI64,
}

impl Default for AvgMinMax {
    fn default() -> Self {
        AvgMinMax::new()
    }
}

impl AvgMinMax {
    /// Nothing recorded.
    pub const fn new() -> AvgMinMax {
        AvgMinMax {
            total: AtomicI64::new(0),
            count: AtomicU64::new(0),
            min: AtomicI64::new(i64::MAX),
            max: AtomicI64::new(i64::MIN),
        }
    }

    /// Records one value.
    pub fn add(&self, value: i64) {
        self.total.fetch_add(value, Ordering::Relaxed);
        self.count.fetch_add(1, Ordering::Relaxed);
        self.min.fetch_min(value, Ordering::Relaxed);
        self.max.fetch_max(value, Ordering::Relaxed);
    }

    /// Values recorded since the last reset.
    pub fn count(&self) -> u64 {
        self.count.load(Ordering::Relaxed)
    }

    /// Sum of the values.
    pub fn total(&self) -> i64 {
        self.total.load(Ordering::Relaxed)
    }

    /// Smallest value, 0 when empty.
    pub fn min(&self) -> i64 {
        match self.min.load(Ordering::Relaxed) {
            i64::MAX => 0,
            v => v,
        }
    }

    /// Largest value, 0 when empty.
    pub fn max(&self) -> i64 {
        match self.max.load(Ordering::Relaxed) {
            i64::MIN => 0,
            v => v,
        }
    }

    /// Mean rounded half-up to 4 decimals (Java's BigDecimal HALF_UP), 0
    /// when empty.
    pub fn avg(&self) -> f64 {
        match self.count() {
            0 => 0.0,
            n => (self.total() as f64 / n as f64 * 10_000.0).round() / 10_000.0,
        }
    }

    /// Forgets everything.
    pub fn reset(&self) {
        self.total.store(0, Ordering::Relaxed);
        self.count.store(0, Ordering::Relaxed);
        self.min.store(i64::MAX, Ordering::Relaxed);
        self.max.store(i64::MIN, Ordering::Relaxed);
    }
}

/// avg/min/max/count/sum of recorded values (e.g. latencies in ms), plus
/// a sample for percentiles.
#[derive(Debug)]
pub struct Summary {
    detail: Detail,
    stats: AvgMinMax,
    /// Sample for percentiles (Prometheus quantiles use it at every level).
    sample: Mutex<Reservoir>,
}

impl Summary {
    /// An empty summary.
    pub fn new(detail: Detail) -> Summary {
        Summary {
            detail,
            stats: AvgMinMax::new(),
            sample: Mutex::new(Reservoir::default()),
        }
    }

    /// Records one value.
    pub fn add(&self, value: i64) {
        self.stats.add(value);
        self.sample.lock().add(value);
    }

    /// The detail level it was registered with.
    pub fn detail(&self) -> Detail {
        self.detail
    }

    /// Values recorded since the last reset.
    pub fn count(&self) -> u64 {
        self.stats.count()
    }

    /// Sum of the values.
    pub fn total(&self) -> i64 {
        self.stats.total()
    }

    /// Smallest value, 0 when empty.
    pub fn min(&self) -> i64 {
        self.stats.min()
    }

    /// Largest value, 0 when empty.
    pub fn max(&self) -> i64 {
        self.stats.max()
    }

    /// Mean rounded half-up to 4 decimals, 0 when empty.
    pub fn avg(&self) -> f64 {
        self.stats.avg()
    }

    /// The estimated quantiles (0..1) of the recorded values.
    pub fn quantiles(&self, quantiles: &[f64]) -> Vec<f64> {
        let mut sorted = self.sample.lock().values.clone();
        sorted.sort_unstable();
        quantiles
            .iter()
            .map(|q| quantile_of_sorted(&sorted, *q))
            .collect()
    }

    /// Forgets everything (`srst`).
    pub fn reset(&self) {
        self.stats.reset();
        *self.sample.lock() = Reservoir::default();
    }

    /// The `mntr` entries for a summary called `name`, in Java's order:
    /// avg, min, max, cnt, sum (+ p50, p95, p99, p999 when ADVANCED).
    pub fn values(&self, name: &str, out: &mut Vec<(String, MetricValue)>) {
        out.push((format!("avg_{}", name), MetricValue::Double(self.avg())));
        out.push((format!("min_{}", name), MetricValue::Long(self.min())));
        out.push((format!("max_{}", name), MetricValue::Long(self.max())));
        out.push((
            format!("cnt_{}", name),
            MetricValue::Long(self.count() as i64),
        ));
        out.push((format!("sum_{}", name), MetricValue::Long(self.total())));
        if self.detail == Detail::Advanced {
            let qs: Vec<f64> = MNTR_PERCENTILES.iter().map(|(_, q)| *q).collect();
            for ((label, _), v) in MNTR_PERCENTILES.iter().zip(self.quantiles(&qs)) {
                out.push((
                    format!("{}_{}", label, name),
                    MetricValue::Long(v.round() as i64),
                ));
            }
        }
    }
}

/// One summary per key, created on first use.
#[derive(Debug)]
pub struct SummarySet {
    detail: Detail,
    /// Keys in first-use order (the dump reorders them as Java's map).
    by_key: Mutex<Vec<(String, Arc<Summary>)>>,
}

impl SummarySet {
    /// An empty set.
    pub fn new(detail: Detail) -> SummarySet {
        SummarySet {
            detail,
            by_key: Mutex::new(Vec::new()),
        }
    }

    /// Records `value` under `key`.
    pub fn add(&self, key: &str, value: i64) {
        let summary = {
            let mut by_key = self.by_key.lock();
            match by_key.iter().find(|(k, _)| k == key) {
                Some((_, s)) => Arc::clone(s),
                None => {
                    let s = Arc::new(Summary::new(self.detail));
                    by_key.push((key.to_string(), Arc::clone(&s)));
                    s
                }
            }
        };
        summary.add(value);
    }

    /// The detail level of its summaries.
    pub fn detail(&self) -> Detail {
        self.detail
    }

    /// The keys and their summaries, in first-use order.
    pub fn entries(&self) -> Vec<(String, Arc<Summary>)> {
        self.by_key.lock().clone()
    }

    /// Resets every key's summary (the keys stay, as in Java).
    pub fn reset(&self) {
        for (_, s) in self.by_key.lock().iter() {
            s.reset();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_summary_reads_as_zero() {
        let s = Summary::new(Detail::Advanced);
        let mut out = Vec::new();
        s.values("x", &mut out);
        let keys: Vec<&str> = out.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(
            keys,
            ["avg_x", "min_x", "max_x", "cnt_x", "sum_x", "p50_x", "p95_x", "p99_x", "p999_x"]
        );
        assert_eq!(out[0].1, MetricValue::Double(0.0));
        assert!(out[1..].iter().all(|(_, v)| *v == MetricValue::Long(0)));
    }

    #[test]
    fn summary_tracks_avg_min_max() {
        let s = Summary::new(Detail::Basic);
        for v in [3, 1, 2] {
            s.add(v);
        }
        s.add(1);
        assert_eq!((s.min(), s.max(), s.count(), s.total()), (1, 3, 4, 7));
        assert_eq!(s.avg(), 1.75);
        let mut out = Vec::new();
        s.values("fsynctime", &mut out);
        assert_eq!(out.len(), 5, "basic summaries have no percentiles");
        s.reset();
        assert_eq!((s.min(), s.max(), s.count()), (0, 0, 0));
    }

    #[test]
    fn quantiles_interpolate_like_dropwizard() {
        let sorted: Vec<i64> = (1..=10).collect();
        assert_eq!(quantile_of_sorted(&sorted, 0.5), 5.5);
        assert_eq!(quantile_of_sorted(&sorted, 0.05), 1.0);
        assert_eq!(quantile_of_sorted(&sorted, 0.999), 10.0);
        assert_eq!(quantile_of_sorted(&[], 0.5), 0.0);
    }

    #[test]
    fn reservoir_stays_bounded() {
        let s = Summary::new(Detail::Advanced);
        for v in 0..5000 {
            s.add(v);
        }
        assert_eq!(s.sample.lock().values.len(), RESERVOIR_SIZE);
        let p50 = s.quantiles(&[0.5])[0];
        assert!((1000.0..4000.0).contains(&p50), "{}", p50);
    }

    #[test]
    fn summary_set_creates_keys_on_first_use() {
        let set = SummarySet::new(Detail::Basic);
        set.add("e", 5);
        set.add("a", 1);
        set.add("e", 7);
        let entries = set.entries();
        assert_eq!(
            entries.iter().map(|(k, _)| k.as_str()).collect::<Vec<_>>(),
            ["e", "a"]
        );
        assert_eq!(entries[0].1.total(), 12);
        set.reset();
        assert_eq!(set.entries().len(), 2);
        assert_eq!(set.entries()[0].1.count(), 0);
    }

    #[test]
    fn mntr_text_of_values() {
        assert_eq!(MetricValue::Long(-1).mntr_text(), "-1");
        assert_eq!(MetricValue::Double(0.0).mntr_text(), "0.0");
        assert_eq!(
            MetricValue::Text("standalone".into()).mntr_text(),
            "standalone"
        );
    }
}
