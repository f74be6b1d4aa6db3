//! Quotas: which subtrees have one, how their limits and usage are written
//! down, and whether a change would exceed them.
//!
//! A quota on `/app` is two znodes: `/zookeeper/quota/app/zookeeper_limits`
//! (set by the client, e.g. `count=10,bytes=-1` or with hard limits
//! `count=-1,bytes=-1=;byteHardLimit=-1;countHardLimit=10`) and
//! `/zookeeper/quota/app/zookeeper_stats` (kept current by the DataTree
//! on every create/delete/setData below `/app`). Enforcement (3.7+,
//! `zookeeper.enforceQuota`, default off) happens before a txn is built,
//! in Prep, through [`check_quota`]; exceeding a soft limit only logs.
//!
//! Pure; the DataTree owns the [`QuotaTrie`].
//!
//! Mirrors: `org.apache.zookeeper.Quotas`, `StatsTrack`,
//! `common.PathTrie` (as used by DataTree) and
//! `ZooKeeperServer.checkQuota`.

use std::collections::{BTreeMap, HashSet};
use std::fmt;

use log::warn;

/// Parent of every quota node.
pub const QUOTA_ZOOKEEPER: &str = "/zookeeper/quota";
/// The `/zookeeper` node.
pub const PROC_ZOOKEEPER: &str = "/zookeeper";
/// Name of the node holding the limits.
pub const LIMIT_NODE: &str = "zookeeper_limits";
/// Name of the node holding the usage.
pub const STAT_NODE: &str = "zookeeper_stats";

/// `/zookeeper/quota<path>/zookeeper_limits`.
pub fn limit_path(path: &str) -> String {
    format!("{}{}/{}", QUOTA_ZOOKEEPER, path, LIMIT_NODE)
}

/// `/zookeeper/quota<path>/zookeeper_stats`.
pub fn stat_path(path: &str) -> String {
    format!("{}{}/{}", QUOTA_ZOOKEEPER, path, STAT_NODE)
}

/// The quota'd path a `/zookeeper/quota...` path stands for; `None` when
/// the path is shorter than the prefix (Java would throw).
pub fn trim_quota_path(quota_path: &str) -> Option<&str> {
    quota_path.get(QUOTA_ZOOKEEPER.len()..)
}

const COUNT: &str = "count";
const BYTES: &str = "bytes";
const COUNT_HARD_LIMIT: &str = "countHardLimit";
const BYTE_HARD_LIMIT: &str = "byteHardLimit";

/// The `key=value` text of a limits or stats node; missing keys read -1.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StatsTrack {
    stats: BTreeMap<String, i64>,
}

impl StatsTrack {
    /// Parses the node text (`count=1,bytes=2=;byteHardLimit=5`).
    /// Malformed pairs (where Java would throw) are skipped with a warning.
    pub fn parse(text: &str) -> StatsTrack {
        let mut stats = BTreeMap::new();
        if text.is_empty() {
            return StatsTrack { stats };
        }
        // The separator is the regex "[,;]+": runs of separators are one.
        let pairs = java_split(text, |c| c == ',' || c == ';');
        for pair in pairs.into_iter().filter(|p| !p.is_empty()) {
            let kv = java_split(pair, |c| c == '=');
            let value = match kv.get(1) {
                Some(&"") => Some(-1),
                Some(v) => v.parse::<i64>().ok(),
                None => None,
            };
            match (kv.first(), value) {
                (Some(key), Some(value)) => {
                    stats.insert(key.to_string(), value);
                }
                _ => warn!("Ignoring malformed quota entry {:?} in {:?}", pair, text),
            }
        }
        StatsTrack { stats }
    }

    /// Parses node data (UTF-8, lossy; `None` reads as empty).
    pub fn from_bytes(data: Option<&[u8]>) -> StatsTrack {
        Self::parse(&String::from_utf8_lossy(data.unwrap_or(&[])))
    }

    fn get(&self, key: &str) -> i64 {
        self.stats.get(key).copied().unwrap_or(-1)
    }

    /// Node count (or soft count limit).
    pub fn count(&self) -> i64 {
        self.get(COUNT)
    }
    /// Sets the count.
    pub fn set_count(&mut self, v: i64) {
        self.stats.insert(COUNT.into(), v);
    }
    /// Data bytes (or soft byte limit).
    pub fn bytes(&self) -> i64 {
        self.get(BYTES)
    }
    /// Sets the bytes.
    pub fn set_bytes(&mut self, v: i64) {
        self.stats.insert(BYTES.into(), v);
    }
    /// Hard count limit (-1 = none).
    pub fn count_hard_limit(&self) -> i64 {
        self.get(COUNT_HARD_LIMIT)
    }
    /// Hard byte limit (-1 = none).
    pub fn byte_hard_limit(&self) -> i64 {
        self.get(BYTE_HARD_LIMIT)
    }

    /// The node text, as Java writes it.
    pub fn to_bytes(&self) -> Vec<u8> {
        self.to_string().into_bytes()
    }
}

impl fmt::Display for StatsTrack {
    /// `count=N,bytes=M`, then (if any other key) `=` and `;key=value`
    /// sorted by key — the extra `=` hides them from pre-3.7 parsers.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}={},{}={}", COUNT, self.count(), BYTES, self.bytes())?;
        let mut extra = self
            .stats
            .iter()
            .filter(|(k, _)| *k != COUNT && *k != BYTES)
            .peekable();
        if extra.peek().is_some() {
            f.write_str("=")?;
            for (k, v) in extra {
                write!(f, ";{}={}", k, v)?;
            }
        }
        Ok(())
    }
}

/// Java's `String.split`: trailing empty strings are dropped.
fn java_split(s: &str, sep: impl Fn(char) -> bool) -> Vec<&str> {
    let mut parts: Vec<&str> = s.split(sep).collect();
    while parts.last().is_some_and(|p| p.is_empty()) {
        parts.pop();
    }
    parts
}

/// The set of quota'd paths, answering "deepest quota above this path".
#[derive(Debug, Clone, Default)]
pub struct QuotaTrie {
    /// Normalized paths ("a/b" for "/a/b") with a quota.
    paths: HashSet<String>,
}

/// Components as PathTrie sees them: empty and blank ones dropped.
fn components(path: &str) -> Vec<&str> {
    path.split('/')
        .filter(|t| !t.trim_matches(|c: char| c <= ' ').is_empty())
        .collect()
}

impl QuotaTrie {
    /// Marks `path` as having a quota.
    pub fn add_path(&mut self, path: &str) {
        self.paths.insert(components(path).join("/"));
    }

    /// Removes the quota mark of `path`.
    pub fn delete_path(&mut self, path: &str) {
        self.paths.remove(&components(path).join("/"));
    }

    /// Forgets every quota.
    pub fn clear(&mut self) {
        self.paths.clear();
    }

    /// The deepest quota'd path that is `path` or an ancestor, "/" if none.
    pub fn find_max_prefix(&self, path: &str) -> String {
        let parts = components(path);
        (1..=parts.len())
            .rev()
            .map(|n| parts[..n].join("/"))
            .find(|p| self.paths.contains(p))
            .map_or_else(|| "/".to_string(), |p| format!("/{}", p))
    }

    /// Java's `getMaxPrefixWithQuota`: like `find_max_prefix` but `None`
    /// when no quota applies.
    pub fn max_prefix_with_quota(&self, path: &str) -> Option<String> {
        match self.find_max_prefix(path) {
            p if p == "/" || p.is_empty() => None,
            p => Some(p),
        }
    }
}

/// A change that would pass a hard quota limit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QuotaExceeded {
    /// The quota'd path.
    pub path: String,
}

impl fmt::Display for QuotaExceeded {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Quota has exceeded : {}", self.path)
    }
}

impl std::error::Error for QuotaExceeded {}

/// Checks a change of `count_diff` nodes and `bytes_diff` bytes under the
/// quota at `last_prefix` (with its `limits` and current `stats`). Passing a
/// soft limit logs "Quota exceeded"; passing a hard limit also fails.
pub fn check_quota(
    last_prefix: &str,
    limits: &StatsTrack,
    stats: &StatsTrack,
    bytes_diff: i64,
    count_diff: i64,
) -> Result<(), QuotaExceeded> {
    if count_diff != 0 {
        let new_count = stats.count() + count_diff;
        check_limit(
            last_prefix,
            "count",
            "Count",
            new_count,
            limits.count(),
            limits.count_hard_limit(),
        )?;
    }
    if bytes_diff != 0 {
        let new_bytes = stats.bytes() + bytes_diff;
        check_limit(
            last_prefix,
            "bytes",
            "Byte",
            new_bytes,
            limits.bytes(),
            limits.byte_hard_limit(),
        )?;
    }
    Ok(())
}

/// One dimension of [`check_quota`]: the hard limit wins when set (> -1),
/// else the soft one; -1 for both means no limit.
fn check_limit(
    last_prefix: &str,
    what: &str,
    limit_name: &str,
    new_value: i64,
    soft: i64,
    hard: i64,
) -> Result<(), QuotaExceeded> {
    let is_hard = hard > -1;
    let limit = if is_hard { hard } else { soft };
    if limit <= -1 || new_value <= limit {
        return Ok(());
    }
    warn!(
        "Quota exceeded: {} [current {}={}, {}{}Limit={}]",
        last_prefix,
        what,
        new_value,
        if is_hard { "hard" } else { "soft" },
        limit_name,
        limit
    );
    if is_hard {
        return Err(QuotaExceeded {
            path: last_prefix.to_string(),
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stats_text_round_trips() {
        let s = StatsTrack::parse("count=3,bytes=10");
        assert_eq!((s.count(), s.bytes(), s.count_hard_limit()), (3, 10, -1));
        assert_eq!(s.to_string(), "count=3,bytes=10");
        let h = StatsTrack::parse("count=-1,bytes=-1=;byteHardLimit=-1;countHardLimit=10");
        assert_eq!(h.count_hard_limit(), 10);
        assert_eq!(
            h.to_string(),
            "count=-1,bytes=-1=;byteHardLimit=-1;countHardLimit=10"
        );
        assert_eq!(StatsTrack::parse("").to_string(), "count=-1,bytes=-1");
        // Malformed pairs are skipped rather than fatal.
        assert_eq!(StatsTrack::parse("count,bytes=x;count=2").count(), 2);
    }

    #[test]
    fn trie_finds_deepest_quota() {
        let mut t = QuotaTrie::default();
        t.add_path("/a");
        t.add_path("/a/b/c");
        assert_eq!(t.find_max_prefix("/a/b/c/d"), "/a/b/c");
        assert_eq!(t.find_max_prefix("/a/b"), "/a");
        assert_eq!(t.find_max_prefix("/x"), "/");
        assert_eq!(t.max_prefix_with_quota("/x"), None);
        t.delete_path("/a");
        assert_eq!(t.max_prefix_with_quota("/a/b"), None);
        assert_eq!(t.max_prefix_with_quota("/a/b/c"), Some("/a/b/c".into()));
    }

    #[test]
    fn paths_of_quota_nodes() {
        assert_eq!(limit_path("/a"), "/zookeeper/quota/a/zookeeper_limits");
        assert_eq!(stat_path("/a"), "/zookeeper/quota/a/zookeeper_stats");
        assert_eq!(trim_quota_path("/zookeeper/quota/a/b"), Some("/a/b"));
        assert_eq!(trim_quota_path("/zookeeper"), None);
    }

    #[test]
    fn soft_limits_log_hard_limits_fail() {
        let stats = StatsTrack::parse("count=2,bytes=5");
        let soft = StatsTrack::parse("count=2,bytes=-1");
        assert_eq!(check_quota("/a", &soft, &stats, 0, 1), Ok(()));
        let hard = StatsTrack::parse("count=-1,bytes=-1=;countHardLimit=2");
        assert!(check_quota("/a", &hard, &stats, 0, 1).is_err());
        assert_eq!(check_quota("/a", &hard, &stats, 3, 0), Ok(()));
        let bytes = StatsTrack::parse("count=-1,bytes=-1=;byteHardLimit=6");
        assert_eq!(check_quota("/a", &bytes, &stats, 1, 0), Ok(()));
        assert!(check_quota("/a", &bytes, &stats, 2, 0).is_err());
        // A hard limit replaces the soft one of the same dimension.
        let both = StatsTrack::parse("count=1,bytes=-1=;countHardLimit=4");
        assert_eq!(check_quota("/a", &both, &stats, 0, 2), Ok(()));
        assert!(check_quota("/a", &both, &stats, 0, 3).is_err());
    }
}
