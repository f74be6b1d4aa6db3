//! Quota upkeep of the tree: a create under /zookeeper/quota that adds a
//! quota or starts its usage count, the usage recorded in each quota's
//! stats node as txns are applied, the trie of quota'd paths, and the
//! check Prep makes before a create or setData when quotas are enforced.
//!
//! Runs where the txns are applied (the thread holding the tree's write
//! lock), except `check_quota` and `max_prefix_with_quota`, which Prep calls
//! under the read lock.
//!
//! Mirrors: `DataTree.updateQuotaStat`, `updateQuotaForPath`,
//! `getMaxPrefixWithQuota` and `ZooKeeperServer.checkQuota`.

use log::{error, warn};

use super::{DataTree, QUOTA_ZOOKEEPER};
use crate::keeper_exception::Code;
use crate::server::quota::{self, StatsTrack, LIMIT_NODE, STAT_NODE};

impl DataTree {
    /// A create under /zookeeper/quota may add a quota (limits node) or
    /// start its usage count (stats node); any create under a quota'd
    /// path counts against it.
    pub(super) fn quota_after_create(
        &mut self,
        parent_name: &str,
        child_name: &str,
        path: &str,
        bytes: i64,
    ) {
        if parent_name.starts_with(QUOTA_ZOOKEEPER) {
            let quota_path = quota::trim_quota_path(parent_name)
                .unwrap_or("")
                .to_string();
            if child_name == LIMIT_NODE {
                if quota_path.is_empty() {
                    warn!(
                        "Ignoring a quota limits node without a quota path: {}",
                        path
                    );
                } else {
                    self.mark_quota(&quota_path);
                }
            }
            if child_name == STAT_NODE {
                self.update_quota_for_path(&quota_path);
            }
        }
        if let Some(prefix) = self.quota_prefix(path) {
            self.update_quota_stat(&prefix, bytes, 1);
        }
    }

    /// Adds to the usage recorded in the stats node of quota `prefix`.
    /// Like Java, rewrites the data without touching the node's stat.
    pub(super) fn update_quota_stat(&mut self, prefix: &str, bytes_diff: i64, count_diff: i64) {
        let stat_path = quota::stat_path(prefix);
        let Some(node) = self.nodes.get_mut(&stat_path) else {
            error!("Missing node for stat {}", stat_path);
            return;
        };
        let mut stats = StatsTrack::from_bytes(node.data());
        stats.set_count(stats.count() + count_diff);
        stats.set_bytes(stats.bytes() + bytes_diff);
        node.data = Some(stats.to_bytes().into());
    }

    /// Recounts nodes and bytes under `path` into its stats node.
    pub(super) fn update_quota_for_path(&mut self, path: &str) {
        let (count, bytes) = self.count_subtree(path);
        let mut stats = StatsTrack::default();
        stats.set_bytes(bytes);
        stats.set_count(count);
        let stat_path = quota::stat_path(path);
        if self
            .change_node(&stat_path, |n| n.data = Some(stats.to_bytes().into()))
            .is_none()
        {
            warn!("Missing quota stat node {}", stat_path);
        }
    }

    /// Nodes and data bytes of the subtree at `path` (itself included).
    fn count_subtree(&self, path: &str) -> (i64, i64) {
        let (mut count, mut bytes) = (0i64, 0i64);
        let mut stack = vec![path.to_string()];
        while let Some(p) = stack.pop() {
            let Some(node) = self.get_node(&p) else {
                continue;
            };
            count += 1;
            bytes += node.data_len() as i64;
            stack.extend(node.children().map(|c| format!("{}/{}", p, c)));
        }
        (count, bytes)
    }

    /// The quota'd path governing `path`, if any (`getMaxPrefixWithQuota`).
    pub fn max_prefix_with_quota(&self, path: &str) -> Option<String> {
        self.quota_prefix(path)
    }

    /// `max_prefix_with_quota`, answered at once while no quota exists.
    pub(super) fn quota_prefix(&self, path: &str) -> Option<String> {
        if !self.quota_marked {
            return None;
        }
        self.quota_trie.max_prefix_with_quota(path)
    }

    /// Gives `path` a quota in the trie.
    pub(super) fn mark_quota(&mut self, path: &str) {
        self.quota_marked = true;
        self.quota_trie.add_path(path);
    }

    /// Prep's quota check for a create (`count_diff` 1, `bytes_diff` the
    /// data length) or a setData (0, new − old length). Logs "Quota
    /// exceeded" past a soft limit; QUOTAEXCEEDED past a hard one. The
    /// caller skips it unless `zookeeper.enforceQuota` is on.
    pub fn check_quota(&self, path: &str, bytes_diff: i64, count_diff: i64) -> Result<(), Code> {
        let Some(prefix) = self.max_prefix_with_quota(path) else {
            return Ok(());
        };
        let Some(limit_node) = self.get_node(&quota::limit_path(&prefix)) else {
            error!(
                "Missing limit node for quota {}",
                quota::limit_path(&prefix)
            );
            return Ok(());
        };
        let limits = StatsTrack::from_bytes(limit_node.data());
        let Some(stat_node) = self.get_node(&quota::stat_path(&prefix)) else {
            error!("Missing node for stat {}", quota::stat_path(&prefix));
            return Ok(());
        };
        let stats = StatsTrack::from_bytes(stat_node.data());
        quota::check_quota(&prefix, &limits, &stats, bytes_diff, count_diff)
            .map_err(|_| Code::QuotaExceeded)
    }
}
