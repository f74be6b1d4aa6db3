//! Validated settings of a server, built from the raw `zoo.cfg` properties.
//!
//! Field defaults are Java's. Every key that Java reads as a system property
//! when it appears in zoo.cfg (`zookeeper.<key>`) is resolved here, so the
//! rest of the server never looks at raw strings.
//!
//! Mirrors: `org.apache.zookeeper.server.ServerConfig` and the standalone
//! part of `QuorumPeerConfig`.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::PathBuf;

/// Snapshot compression (`zookeeper.snapshot.compression.method`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SnapshotCompression {
    /// No compression: `snapshot.<zxid>`.
    None,
    /// `snapshot.<zxid>.gz`.
    Gz,
    /// `snapshot.<zxid>.snappy`.
    Snappy,
}

/// Everything a standalone server needs to know, validated.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    /// Where the client port listens (`clientPortAddress`:`clientPort`).
    pub client_port_address: SocketAddr,
    /// `dataDir`: snapshots (and logs, unless `dataLogDir` is set).
    pub data_dir: PathBuf,
    /// `dataLogDir`: txn logs; equals `data_dir` when unset.
    pub data_log_dir: PathBuf,
    /// `tickTime`, ms (default 3000).
    pub tick_time: i32,
    /// `minSessionTimeout`, ms (default 2 x tickTime).
    pub min_session_timeout: i32,
    /// `maxSessionTimeout`, ms (default 20 x tickTime).
    pub max_session_timeout: i32,
    /// `maxClientCnxns`: connections per client IP (default 60; 0 = no limit).
    pub max_client_cnxns: usize,
    /// `maxCnxns`: connections in total (default 0 = no limit).
    pub max_cnxns: usize,
    /// `globalOutstandingLimit` (default 1000).
    pub global_outstanding_limit: usize,
    /// `snapCount` (default 100000): txns between snapshots (randomised).
    pub snap_count: u64,
    /// `snapSizeLimitInKb` (default 4 GiB in KiB; <= 0 disables).
    pub snap_size_limit_kb: i64,
    /// `txnLogSizeLimitInKb` (default -1: no limit).
    pub txn_log_size_limit_kb: i64,
    /// `preAllocSize` in KiB (default 65536 = 64 MiB).
    pub pre_alloc_size_kb: u64,
    /// `forceSync` (default yes): fsync the log before replying.
    pub force_sync: bool,
    /// `fsync.warningthresholdms` (default 1000).
    pub fsync_warning_threshold_ms: u64,
    /// `digest.enabled` (default true).
    pub digest_enabled: bool,
    /// `extendedTypesEnabled` / `zookeeper.extendedTypesEnabled`: TTL nodes.
    pub extended_types_enabled: bool,
    /// `skipACL` (default no).
    pub skip_acl: bool,
    /// `DigestAuthenticationProvider.superDigest`: `super:<base64 sha1>`.
    pub super_digest: Option<String>,
    /// `closeSessionTxn.enabled` (default true).
    pub close_session_txn_enabled: bool,
    /// `4lw.commands.whitelist`, parsed (default: `srvr` only; `*` = all).
    pub four_letter_word_whitelist: Vec<String>,
    /// `znode.container.checkIntervalMs` (default 60000).
    pub container_check_interval_ms: u64,
    /// `znode.container.maxPerMinute` (default 10000).
    pub container_max_per_minute: u32,
    /// `znode.container.maxNeverUsedIntervalMs` (default 0 = off).
    pub container_max_never_used_interval_ms: u64,
    /// `snapshot.compression.method` (default none).
    pub snapshot_compression: SnapshotCompression,
    /// `snapshot.trust.empty` (default false).
    pub snapshot_trust_empty: bool,
    /// `autopurge.snapRetainCount` (default 3, at least 3).
    pub autopurge_snap_retain_count: usize,
    /// `autopurge.purgeInterval` in hours (default 0 = off).
    pub autopurge_purge_interval_hours: u64,
    /// `jute.maxbuffer` (default 0xfffff).
    pub jute_max_buffer: usize,
    /// `admin.enableServer` (default true).
    pub admin_enable_server: bool,
    /// `admin.serverAddress` (default 0.0.0.0).
    pub admin_server_address: String,
    /// `admin.serverPort` (default 8080).
    pub admin_server_port: u16,
    /// `admin.commandURL` (default /commands).
    pub admin_command_url: String,
    /// Every key/value as read, in file order, for `conf` and `envi`.
    pub raw: BTreeMap<String, String>,
}
