//! The process-wide metrics: every counter, summary and summary set Java's
//! `ServerMetrics` registers (most stay 0 here — the keys are what
//! dashboards and `mntr` parsers rely on), the recording hooks the request
//! pipeline calls, and the dump `mntr`, the AdminServer `monitor` command
//! and the Prometheus endpoint read, in Java's order.
//!
//! Like Java's `ServerMetrics.getMetrics()`, one instance per process
//! ([`metrics`]): the hooks sit in hot paths of threads that have no handle
//! on the server. Any thread records; readers take a consistent-enough view.
//!
//! Mirrors: `org.apache.zookeeper.server.ServerMetrics` and the dump order
//! of `org.apache.zookeeper.metrics.impl.DefaultMetricsProvider`.

mod java_order;
pub mod names;
pub mod summary;

use std::sync::OnceLock;
use std::time::{Duration, Instant, SystemTime};

use parking_lot::Mutex;

pub use java_order::in_java_order;
use names::{CounterId, SummaryId, SummarySetId};
pub use summary::{Counter, Detail, MetricValue, Summary, SummarySet};

use super::request::Request;
use crate::jute::txn::{TxnBody, TxnLogEntry};
use crate::keeper_exception::Code;
use crate::zoo_defs::op_code;

/// Java's `DataTree.STAT_OVERHEAD_BYTES`: what a Stat adds to a read.
const STAT_OVERHEAD_BYTES: i64 = 6 * 8 + 5 * 4;

/// Every metric, by kind, in registration order.
pub struct ServerMetrics {
    counters: Vec<Counter>,
    basic: Vec<Summary>,
    advanced: Vec<Summary>,
    basic_sets: Vec<SummarySet>,
    advanced_sets: Vec<SummarySet>,
    /// When the server was started (uptime) — monotonic and wall clock
    /// taken together. Set by `server_started`; the process start until then.
    started: Mutex<(Instant, SystemTime)>,
}

/// The process's metrics.
pub fn metrics() -> &'static ServerMetrics {
    static METRICS: OnceLock<ServerMetrics> = OnceLock::new();
    METRICS.get_or_init(ServerMetrics::new)
}

impl Default for ServerMetrics {
    fn default() -> Self {
        ServerMetrics::new()
    }
}

impl ServerMetrics {
    /// All metrics at zero.
    pub fn new() -> ServerMetrics {
        ServerMetrics {
            counters: names::COUNTERS.iter().map(|_| Counter::default()).collect(),
            basic: names::BASIC_SUMMARIES
                .iter()
                .map(|_| Summary::new(Detail::Basic))
                .collect(),
            advanced: names::ADVANCED_SUMMARIES
                .iter()
                .map(|_| Summary::new(Detail::Advanced))
                .collect(),
            basic_sets: names::BASIC_SUMMARY_SETS
                .iter()
                .map(|_| SummarySet::new(Detail::Basic))
                .collect(),
            advanced_sets: names::ADVANCED_SUMMARY_SETS
                .iter()
                .map(|_| SummarySet::new(Detail::Advanced))
                .collect(),
            started: Mutex::new((Instant::now(), SystemTime::now())),
        }
    }

    /// A counter.
    pub fn counter(&self, id: CounterId) -> &Counter {
        &self.counters[id.0]
    }

    /// A summary.
    pub fn summary(&self, id: SummaryId) -> &Summary {
        match id.advanced {
            false => &self.basic[id.index],
            true => &self.advanced[id.index],
        }
    }

    /// A summary set.
    pub fn summary_set(&self, id: SummarySetId) -> &SummarySet {
        match id.advanced {
            false => &self.basic_sets[id.index],
            true => &self.advanced_sets[id.index],
        }
    }

    /// Marks the server start (uptime counts from here). Called by main
    /// right after the server object (and its session clock) is built.
    pub fn server_started(&self) {
        *self.started.lock() = (Instant::now(), SystemTime::now());
    }

    /// Milliseconds since [`Self::server_started`].
    pub fn uptime_ms(&self) -> i64 {
        self.started.lock().0.elapsed().as_millis() as i64
    }

    /// The wall-clock time of `ms` on a clock that started with the server
    /// (the session tracker's expiry clock).
    pub fn server_clock_to_wall(&self, ms: i64) -> SystemTime {
        let (_, wall) = *self.started.lock();
        match u64::try_from(ms) {
            Ok(ms) => wall + Duration::from_millis(ms),
            Err(_) => wall,
        }
    }

    /// Zeroes counters and summaries (`srst`; Java's `resetAllValues`).
    pub fn reset_all(&self) {
        self.counters.iter().for_each(Counter::reset);
        self.basic
            .iter()
            .chain(&self.advanced)
            .for_each(Summary::reset);
        self.basic_sets
            .iter()
            .chain(&self.advanced_sets)
            .for_each(SummarySet::reset);
    }

    /// The metric entries in the order Java's default provider dumps them
    /// (after the gauges): counters, BASIC summaries, ADVANCED summaries,
    /// BASIC summary sets, ADVANCED summary sets — each kind in the
    /// iteration order of Java's map of that kind.
    pub fn dump(&self) -> Vec<(String, MetricValue)> {
        let mut out = Vec::with_capacity(512);
        for name in in_java_order(&names::COUNTERS) {
            let index = names::COUNTERS.iter().position(|n| *n == name).unwrap_or(0);
            out.push((
                name.to_string(),
                MetricValue::Long(self.counters[index].get()),
            ));
        }
        for (table, summaries) in [
            (&names::BASIC_SUMMARIES[..], &self.basic),
            (&names::ADVANCED_SUMMARIES[..], &self.advanced),
        ] {
            for index in java_order::concurrent_hash_map_order(table) {
                summaries[index].values(table[index], &mut out);
            }
        }
        let set_tables = [
            (&names::BASIC_SUMMARY_SETS[..], &self.basic_sets),
            (&names::ADVANCED_SUMMARY_SETS[..], &self.advanced_sets),
        ];
        for (table, sets) in set_tables {
            for index in java_order::concurrent_hash_map_order(table) {
                let entries = sets[index].entries();
                let keys: Vec<&str> = entries.iter().map(|(k, _)| k.as_str()).collect();
                for key_index in java_order::concurrent_hash_map_order(&keys) {
                    let (key, summary) = &entries[key_index];
                    summary.values(&format!("{}_{}", key, table[index]), &mut out);
                }
            }
        }
        out
    }

    /// Every counter with its name (for Prometheus).
    pub fn counters(&self) -> impl Iterator<Item = (&'static str, &Counter)> {
        names::COUNTERS.iter().copied().zip(&self.counters)
    }

    /// Every summary with its name (for Prometheus).
    pub fn summaries(&self) -> impl Iterator<Item = (&'static str, &Summary)> {
        let basic = names::BASIC_SUMMARIES.iter().copied().zip(&self.basic);
        basic.chain(
            names::ADVANCED_SUMMARIES
                .iter()
                .copied()
                .zip(&self.advanced),
        )
    }

    /// Every summary set with its name (for Prometheus).
    pub fn summary_sets(&self) -> impl Iterator<Item = (&'static str, &SummarySet)> {
        let basic = names::BASIC_SUMMARY_SETS
            .iter()
            .copied()
            .zip(&self.basic_sets);
        basic.chain(
            names::ADVANCED_SUMMARY_SETS
                .iter()
                .copied()
                .zip(&self.advanced_sets),
        )
    }
}

// ---- hooks called by the pipeline (one line each at the call site) ----

/// A request was answered (FinalRequestProcessor): its latency goes to
/// `updatelatency` for a txn, `readlatency` otherwise (as `ServerStats.updateLatency`).
pub fn record_latency(request: &Request) {
    let ms = request.create_time.elapsed().as_millis() as i64;
    let id = if request.txn.is_some() {
        names::UPDATE_LATENCY
    } else {
        names::READ_LATENCY
    };
    metrics().summary(id).add(ms);
}

/// A read was answered with `body` (FinalRequestProcessor): bytes read per
/// top-level namespace, as Java's `DataTree.updateReadStat` (only reads
/// that found their node).
pub fn record_read(request: &Request, err: Code, body: Option<&[u8]>) {
    if err != Code::Ok || request.txn.is_some() {
        return;
    }
    let body_len = body.map_or(0, |b| b.len()) as i64;
    let payload_bytes = match request.op_type {
        // data buffer (4-byte length + data) + Stat: the data is the rest.
        op_code::GET_DATA => body_len - 4 - STAT_OVERHEAD_BYTES,
        op_code::EXISTS => 0,
        // vector of names (4 + per name 4 + len) [+ Stat]: approximated.
        op_code::GET_CHILDREN | op_code::GET_CHILDREN2 => body_len,
        _ => return,
    };
    let Ok(path) = crate::jute::from_bytes::<String>(&request.payload) else {
        return;
    };
    if let Some(ns) = top_namespace(&path) {
        let bytes = path.encode_utf16().count() as i64 + payload_bytes.max(0) + STAT_OVERHEAD_BYTES;
        metrics()
            .summary_set(names::READ_PER_NAMESPACE)
            .add(ns, bytes);
    }
}

/// A txn was applied: bytes written per top-level namespace, as Java's
/// `DataTree.updateWriteStat` (create: path + data, delete: path, setData:
/// path + data; multi: each op).
pub fn record_txn(entry: &TxnLogEntry) {
    let mut writes = Vec::new();
    write_stats(&entry.body, &mut writes);
    for (path, bytes) in writes {
        if let Some(ns) = top_namespace(&path) {
            metrics()
                .summary_set(names::WRITE_PER_NAMESPACE)
                .add(ns, path.encode_utf16().count() as i64 + bytes);
        }
    }
}

/// (path, data bytes) of every write in a txn body.
fn write_stats(body: &TxnBody, out: &mut Vec<(String, i64)>) {
    let len = |d: &Option<Vec<u8>>| d.as_ref().map_or(0, |d| d.len()) as i64;
    match body {
        TxnBody::Create(t) => out.push((t.path.clone(), len(&t.data))),
        TxnBody::CreateTtl(t) => out.push((t.path.clone(), len(&t.data))),
        TxnBody::CreateContainer(t) => out.push((t.path.clone(), len(&t.data))),
        TxnBody::Delete(t) => out.push((t.path.clone(), 0)),
        TxnBody::SetData(t) => out.push((t.path.clone(), len(&t.data))),
        TxnBody::Multi(multi) => {
            for txn in &multi.txns {
                let bytes = txn.data.as_deref().unwrap_or(&[]);
                if let Ok(inner) = TxnBody::from_bytes(txn.r#type, bytes) {
                    write_stats(&inner, out);
                }
            }
        }
        _ => {}
    }
}

/// The SyncThread committed `batch` requests with one fsync taking `fsync`.
pub fn record_sync_batch(batch: usize, fsync: Option<Duration>) {
    let m = metrics();
    m.summary(names::SYNC_PROCESSOR_BATCH_SIZE)
        .add(batch as i64);
    if let Some(d) = fsync {
        m.summary(names::FSYNC_TIME).add(d.as_millis() as i64);
    }
}

/// A client frame of `len` bytes (plus its 4-byte length) arrived.
pub fn record_bytes_received(len: usize) {
    metrics()
        .counter(names::BYTES_RECEIVED_COUNT)
        .add(len as i64 + 4);
}

/// `PathUtils.getTopNamespace`: the first path component, if any.
pub fn top_namespace(path: &str) -> Option<&str> {
    path.split('/').nth(1).filter(|s| !s.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dump_lists_every_java_key_once() {
        let m = ServerMetrics::new();
        let dump = m.dump();
        let counters = names::COUNTERS.len();
        let expected =
            counters + 5 * names::BASIC_SUMMARIES.len() + 9 * names::ADVANCED_SUMMARIES.len();
        assert_eq!(dump.len(), expected, "no summary-set keys before first use");
        // Java 3.8.0 [obs]: the first counters and summaries printed.
        assert_eq!(dump[0].0, "proposal_count");
        assert_eq!(dump[1].0, "watch_bytes");
        assert_eq!(dump[counters].0, "avg_socket_closing_time");
    }

    #[test]
    fn summary_sets_appear_after_first_use_in_java_order() {
        let m = ServerMetrics::new();
        m.summary_set(names::WRITE_PER_NAMESPACE).add("e", 3);
        m.summary_set(names::WRITE_PER_NAMESPACE).add("a", 10);
        m.summary_set(names::READ_PER_NAMESPACE).add("a", 70);
        let dump = m.dump();
        let keys: Vec<&str> = dump
            .iter()
            .map(|(k, _)| k.as_str())
            .filter(|k| k.ends_with("_per_namespace"))
            .collect();
        // [obs]: read set before write set, "a" before "e".
        assert_eq!(keys[0], "avg_a_read_per_namespace");
        assert_eq!(keys[5], "avg_a_write_per_namespace");
        assert_eq!(keys[10], "avg_e_write_per_namespace");
        assert_eq!(keys.len(), 15);
        let sum_e = dump
            .iter()
            .find(|(k, _)| k == "sum_e_write_per_namespace")
            .map(|(_, v)| v.clone());
        assert_eq!(sum_e, Some(MetricValue::Long(3)));
    }

    #[test]
    fn reset_zeroes_everything() {
        let m = ServerMetrics::new();
        m.counter(names::BYTES_RECEIVED_COUNT).add(5);
        m.summary(names::FSYNC_TIME).add(7);
        m.reset_all();
        assert_eq!(m.counter(names::BYTES_RECEIVED_COUNT).get(), 0);
        assert_eq!(m.summary(names::FSYNC_TIME).count(), 0);
    }

    #[test]
    fn namespaces() {
        assert_eq!(top_namespace("/a/b"), Some("a"));
        assert_eq!(top_namespace("/zookeeper"), Some("zookeeper"));
        assert_eq!(top_namespace("/"), None);
        assert_eq!(top_namespace(""), None);
    }

    #[test]
    fn multi_writes_are_split_per_op() {
        use crate::jute::txn::{CreateTxn, DeleteTxn, MultiTxn, Txn};
        let create = CreateTxn {
            path: "/x/y".into(),
            data: Some(vec![1, 2]),
            acl: vec![],
            ephemeral: false,
            parent_c_version: 0,
        };
        let delete = DeleteTxn { path: "/z".into() };
        let multi = MultiTxn {
            txns: vec![
                Txn {
                    r#type: op_code::CREATE,
                    data: Some(crate::jute::to_bytes(&create)),
                },
                Txn {
                    r#type: op_code::DELETE,
                    data: Some(crate::jute::to_bytes(&delete)),
                },
            ],
        };
        let mut out = Vec::new();
        write_stats(&TxnBody::Multi(multi), &mut out);
        assert_eq!(out, vec![("/x/y".to_string(), 2), ("/z".to_string(), 0)]);
    }
}
