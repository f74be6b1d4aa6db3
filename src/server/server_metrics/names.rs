//! The names of every metric Java 3.8.0's `ServerMetrics` registers, by
//! kind and in registration order (the order decides where they appear in
//! `mntr`), and typed handles for the ones we record.
//!
//! Pure data. A test checks each handle against its name.
//!
//! Mirrors: the constructor of `org.apache.zookeeper.server.ServerMetrics`.

/// Index of a counter in [`COUNTERS`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CounterId(pub usize);
/// Index of a summary in [`BASIC_SUMMARIES`] (`advanced` false) or
/// [`ADVANCED_SUMMARIES`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SummaryId {
    pub advanced: bool,
    pub index: usize,
}
/// Index of a summary set in [`BASIC_SUMMARY_SETS`] (`advanced` false) or
/// [`ADVANCED_SUMMARY_SETS`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SummarySetId {
    pub advanced: bool,
    pub index: usize,
}

const fn basic(index: usize) -> SummaryId {
    SummaryId {
        advanced: false,
        index,
    }
}
const fn advanced(index: usize) -> SummaryId {
    SummaryId {
        advanced: true,
        index,
    }
}

/// `connection_request_count`: ConnectRequests received.
pub const CONNECTION_REQUEST_COUNT: CounterId = CounterId(4);
/// `connection_rejected`: sockets refused by maxCnxns/maxClientCnxns.
pub const CONNECTION_REJECTED: CounterId = CounterId(5);
/// `bytes_received_count`: bytes of client frames (length prefix included).
pub const BYTES_RECEIVED_COUNT: CounterId = CounterId(6);
/// `digest_mismatches_count`: txn digests that did not match the tree.
pub const DIGEST_MISMATCHES_COUNT: CounterId = CounterId(38);
/// `response_bytes`: bytes of replies queued to clients.
pub const RESPONSE_BYTES: CounterId = CounterId(45);

/// `fsynctime`: ms per txn log fsync.
pub const FSYNC_TIME: SummaryId = basic(0);
/// `snapshottime`: ms per snapshot.
pub const SNAPSHOT_TIME: SummaryId = basic(1);
/// `dbinittime`: ms to load the database at startup.
pub const DB_INIT_TIME: SummaryId = basic(2);
/// `sync_processor_batch_size`: requests committed per fsync.
pub const SYNC_PROCESSOR_BATCH_SIZE: SummaryId = basic(37);
/// `readlatency`: ms from arrival to reply, reads.
pub const READ_LATENCY: SummaryId = advanced(0);
/// `updatelatency`: ms from arrival to reply, writes.
pub const UPDATE_LATENCY: SummaryId = advanced(1);

/// `write_per_namespace`: bytes written per top-level znode.
pub const WRITE_PER_NAMESPACE: SummarySetId = SummarySetId {
    advanced: false,
    index: 0,
};
/// `read_per_namespace`: bytes read per top-level znode.
pub const READ_PER_NAMESPACE: SummarySetId = SummarySetId {
    advanced: false,
    index: 1,
};

/// Counters, in `ServerMetrics`' registration order.
pub const COUNTERS: [&str; 47] = [
    "looking_count",
    "diff_count",
    "snap_count",
    "commit_count",
    "connection_request_count",
    "connection_rejected",
    "bytes_received_count",
    "unrecoverable_error_count",
    "add_dead_watcher_stall_time",
    "dead_watchers_queued",
    "dead_watchers_cleared",
    "response_packet_cache_hits",
    "response_packet_cache_misses",
    "response_packet_get_children_cache_hits",
    "response_packet_get_children_cache_misses",
    "ensemble_auth_success",
    "ensemble_auth_fail",
    "ensemble_auth_skip",
    "prep_processor_request_queued",
    "outstanding_changes_queued",
    "outstanding_changes_removed",
    "revalidate_count",
    "connection_drop_count",
    "connection_revalidate_count",
    "sessionless_connections_expired",
    "stale_sessions_expired",
    "request_commit_queued",
    "throttled_ops",
    "learner_proposal_received_count",
    "learner_commit_received_count",
    "sync_processor_request_queued",
    "proposal_count",
    "quit_leading_due_to_disloyal_voter",
    "stale_requests",
    "stale_requests_dropped",
    "stale_replies",
    "request_throttle_wait_count",
    "large_requests_rejected",
    "digest_mismatches_count",
    "unsuccessful_handshake",
    "insecure_admin_count",
    "tls_handshake_exceeded",
    "cnxn_closed_without_zk_server_running",
    "skip_learner_request_to_next_processor_count",
    "requests_not_forwarded_to_commit_processor",
    "response_bytes",
    "watch_bytes",
];

/// BASIC summaries (avg/min/max/cnt/sum), in registration order.
pub const BASIC_SUMMARIES: [&str; 41] = [
    "fsynctime",
    "snapshottime",
    "dbinittime",
    "follower_sync_time",
    "observer_sync_time",
    "election_time",
    "connection_token_deficit",
    "inflight_snap_count",
    "inflight_diff_count",
    "node_created_watch_count",
    "node_deleted_watch_count",
    "node_changed_watch_count",
    "node_children_watch_count",
    "prep_processor_queue_size",
    "prep_process_time",
    "proposal_process_time",
    "unavailable_time",
    "leader_unavailable_time",
    "requests_in_session_queue",
    "pending_session_queue_size",
    "reads_after_write_in_session_queue",
    "reads_issued_from_session_queue",
    "session_queues_drained",
    "time_waiting_empty_pool_in_commit_processor_read_ms",
    "write_batch_time_in_commit_processor",
    "concurrent_request_processing_in_commit_processor",
    "read_commit_proc_req_queued",
    "write_commit_proc_req_queued",
    "commit_commit_proc_req_queued",
    "read_commit_proc_issued",
    "write_commit_proc_issued",
    "commit_process_time",
    "startup_txns_loaded",
    "startup_txns_load_time",
    "startup_snap_load_time",
    "sync_processor_queue_size",
    "sync_process_time",
    "sync_processor_batch_size",
    "netty_queued_buffer_capacity",
    "learner_request_processor_queue_size",
    "socket_closing_time",
];

/// ADVANCED summaries (plus p50/p95/p99/p999), in registration order.
pub const ADVANCED_SUMMARIES: [&str; 23] = [
    "readlatency",
    "updatelatency",
    "propagation_latency",
    "dead_watchers_cleaner_latency",
    "prep_processor_queue_time_ms",
    "close_session_prep_time",
    "read_commitproc_time_ms",
    "write_commitproc_time_ms",
    "local_write_committed_time_ms",
    "server_write_committed_time_ms",
    "om_proposal_process_time_ms",
    "om_commit_process_time_ms",
    "read_final_proc_time_ms",
    "write_final_proc_time_ms",
    "proposal_latency",
    "proposal_ack_creation_latency",
    "commit_propagation_latency",
    "sync_processor_queue_and_flush_time_ms",
    "sync_processor_queue_time_ms",
    "sync_processor_queue_flush_time_ms",
    "quorum_ack_latency",
    "request_throttle_queue_time_ms",
    "jvm_pause_time_ms",
];

/// BASIC summary sets (one summary per key), in registration order.
pub const BASIC_SUMMARY_SETS: [&str; 3] = [
    "write_per_namespace",
    "read_per_namespace",
    "learner_handler_qp_size",
];

/// ADVANCED summary sets, in registration order.
pub const ADVANCED_SUMMARY_SETS: [&str; 2] = ["learner_handler_qp_time_ms", "ack_latency"];

/// The gauges `ZooKeeperServer.registerMetrics` registers, in its order
/// (their values come from the running server, see `command::monitor`).
pub const GAUGES: [&str; 24] = [
    "avg_latency",
    "max_latency",
    "min_latency",
    "packets_received",
    "packets_sent",
    "num_alive_connections",
    "outstanding_requests",
    "uptime",
    "znode_count",
    "watch_count",
    "ephemerals_count",
    "approximate_data_size",
    "global_sessions",
    "local_sessions",
    "open_file_descriptor_count",
    "max_file_descriptor_count",
    "connection_drop_probability",
    "last_client_response_size",
    "max_client_response_size",
    "min_client_response_size",
    "outstanding_tls_handshake",
    "auth_failed_count",
    "non_mtls_remote_conn_count",
    "non_mtls_local_conn_count",
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn handles_point_at_their_names() {
        assert_eq!(
            COUNTERS[CONNECTION_REQUEST_COUNT.0],
            "connection_request_count"
        );
        assert_eq!(COUNTERS[CONNECTION_REJECTED.0], "connection_rejected");
        assert_eq!(COUNTERS[BYTES_RECEIVED_COUNT.0], "bytes_received_count");
        assert_eq!(
            COUNTERS[DIGEST_MISMATCHES_COUNT.0],
            "digest_mismatches_count"
        );
        assert_eq!(COUNTERS[RESPONSE_BYTES.0], "response_bytes");
        assert_eq!(BASIC_SUMMARIES[FSYNC_TIME.index], "fsynctime");
        assert_eq!(BASIC_SUMMARIES[SNAPSHOT_TIME.index], "snapshottime");
        assert_eq!(BASIC_SUMMARIES[DB_INIT_TIME.index], "dbinittime");
        assert_eq!(
            BASIC_SUMMARIES[SYNC_PROCESSOR_BATCH_SIZE.index],
            "sync_processor_batch_size"
        );
        assert_eq!(ADVANCED_SUMMARIES[READ_LATENCY.index], "readlatency");
        assert_eq!(ADVANCED_SUMMARIES[UPDATE_LATENCY.index], "updatelatency");
        assert_eq!(
            BASIC_SUMMARY_SETS[WRITE_PER_NAMESPACE.index],
            "write_per_namespace"
        );
        assert_eq!(
            BASIC_SUMMARY_SETS[READ_PER_NAMESPACE.index],
            "read_per_namespace"
        );
    }

    #[test]
    fn names_are_unique() {
        let mut all: Vec<&str> = COUNTERS
            .iter()
            .chain(&BASIC_SUMMARIES)
            .chain(&ADVANCED_SUMMARIES)
            .copied()
            .collect();
        all.extend(
            BASIC_SUMMARY_SETS
                .iter()
                .chain(&ADVANCED_SUMMARY_SETS)
                .chain(&GAUGES),
        );
        let n = all.len();
        all.sort_unstable();
        all.dedup();
        assert_eq!(all.len(), n);
    }
}
