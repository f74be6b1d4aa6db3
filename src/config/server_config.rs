//! Validated settings of a server, built from the raw `zoo.cfg` properties.
//!
//! Step two of the config parse: [`super::properties::Properties`] (raw
//! pairs) → [`ServerConfig`] (typed, defaults applied, every rule checked).
//! Field defaults are Java's. Keys `QuorumPeerConfig` does not know become
//! system properties `zookeeper.<key>` (as Java's `System.setProperty`),
//! and the settings Java reads as system properties are read from that
//! map with the JDK's lenient rules ([`super::system_properties`]), so the
//! rest of the server never looks at raw strings. Runs once, on the main
//! thread, before anything else starts.
//!
//! Mirrors: `org.apache.zookeeper.server.ServerConfig` and the standalone
//! part of `org.apache.zookeeper.server.quorum.QuorumPeerConfig`
//! (`parse`, `parseProperties`, the mode decision of `QuorumPeerMain`).

use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv4Addr, SocketAddr, ToSocketAddrs};
use std::path::{Path, PathBuf};

use log::{info, warn};

use super::auth_config::AuthConfig;
pub use super::config_error::ConfigError;
use super::pass_through::apply_system_properties;
pub use super::pass_through::parse_whitelist;
use super::properties::Properties;
use super::quorum_mode::{self, ServerLines};
use super::system_properties::{parse_int, parse_long, SystemProperties};

/// `ZooKeeperServer.DEFAULT_TICK_TIME`, ms (zoo_sample.cfg says 2000).
pub const DEFAULT_TICK_TIME: i32 = 3000;
/// `maxClientCnxns` default: connections per client IP.
pub const DEFAULT_MAX_CLIENT_CNXNS: usize = 60;
/// `PurgeTxnLog.MIN_SNAP_RETAIN_COUNT`: fewer snapshots are never kept.
pub const MIN_SNAP_RETAIN_COUNT: usize = 3;
/// `BinaryInputArchive.maxBuffer` default (`jute.maxbuffer`).
pub const DEFAULT_JUTE_MAX_BUFFER: usize = 0xfffff;
/// The metrics provider Java uses when none is configured.
pub const DEFAULT_METRICS_PROVIDER: &str =
    "org.apache.zookeeper.metrics.impl.DefaultMetricsProvider";
/// Java's Prometheus provider, the only other one we know.
pub const PROMETHEUS_METRICS_PROVIDER: &str =
    "org.apache.zookeeper.metrics.prometheus.PrometheusMetricsProvider";

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
    /// `clientPort=0` asks the OS for a free port (3.9 behaviour). `None`
    /// when `clientPort` is unset: then only the secure client port
    /// serves (a standalone server without either is refused), or, for a
    /// quorum peer, possibly no client port at all.
    pub client_port_address: Option<SocketAddr>,
    /// `dataDir`: snapshots (and logs, unless `dataLogDir` is set). Kept as
    /// written (relative paths are relative to the working directory, as
    /// for Java's `new File(dataDir)`), separators normalised like `File`.
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
    /// `4lw.commands.whitelist`, parsed: trimmed non-empty names, `*` kept
    /// as `*` (= all), `srvr` always added (zkServer.sh status needs it),
    /// `isro` added when `readonlymode.enabled=true`. Default: `[srvr]`.
    pub four_letter_word_whitelist: Vec<String>,
    /// `znode.container.checkIntervalMs` (default 60000). Java reads it
    /// without the `zookeeper.` prefix, so only `-D` sets it.
    pub container_check_interval_ms: u64,
    /// `znode.container.maxPerMinute` (default 10000; `-D` only).
    pub container_max_per_minute: u32,
    /// `znode.container.maxNeverUsedIntervalMs` (default 0 = off; `-D` only).
    pub container_max_never_used_interval_ms: u64,
    /// `snapshot.compression.method` (default none).
    pub snapshot_compression: SnapshotCompression,
    /// `snapshot.trust.empty` (default false).
    pub snapshot_trust_empty: bool,
    /// `autopurge.snapRetainCount` (default 3, at least 3).
    pub autopurge_snap_retain_count: usize,
    /// `autopurge.purgeInterval` in hours (default 0 = off).
    pub autopurge_purge_interval_hours: u64,
    /// `jute.maxbuffer` (default 0xfffff). Java reads it only as the
    /// un-prefixed JVM property, so it comes from `-Djute.maxbuffer=N`; a
    /// `jute.maxbuffer` line in zoo.cfg has no effect, as in Java.
    pub jute_max_buffer: usize,
    /// `admin.enableServer` (default true).
    pub admin_enable_server: bool,
    /// `admin.serverAddress` (default 0.0.0.0).
    pub admin_server_address: String,
    /// `admin.serverPort` (default 8080).
    pub admin_server_port: u16,
    /// `admin.commandURL` (default /commands).
    pub admin_command_url: String,
    /// Every key/value as read (keys and values trimmed, last duplicate
    /// wins), for `conf` and `envi`.
    pub raw: BTreeMap<String, String>,

    /// The zoo.cfg path given on the command line, if any.
    pub config_path: Option<PathBuf>,
    /// The whole zoo.cfg text, for the admin `icfg` command.
    pub initial_config: String,
    /// `clientPortListenBacklog` (default -1: the longest queue the kernel
    /// allows, see `server_cnxn_factory::listen_backlog`).
    pub client_port_listen_backlog: i32,
    /// `zookeeper.jute.maxbuffer.extrasize` (default = jute.maxbuffer):
    /// slack allowed per field on top of `jute_max_buffer`.
    pub jute_max_buffer_extra_size: usize,
    /// `zookeeper.datadir.autocreate` (default true): create a missing
    /// dataDir instead of refusing to start.
    pub datadir_autocreate: bool,
    /// `zookeeper.db.autocreate` (default true): an empty dataDir is a new,
    /// trustworthy database (false: only with the `initialize` marker).
    pub db_autocreate: bool,
    /// `readonlymode.enabled` (JVM property, default false).
    pub read_only_mode_enabled: bool,
    /// `localSessionsEnabled` (quorum peers only; set by QuorumPeerConfig).
    pub local_sessions_enabled: bool,
    /// `localSessionsUpgradingEnabled` (quorum peers only).
    pub local_sessions_upgrading_enabled: bool,
    /// `zookeeper.enforceQuota` (default false): reject writes over quota.
    pub enforce_quota: bool,
    /// `zookeeper.serializeLastProcessedZxid.enabled` (3.9, default true):
    /// snapshots end with the last processed zxid after the digest.
    pub serialize_last_processed_zxid_enabled: bool,
    /// `reconfigEnabled` (default false): whether the reconfig request is
    /// served (RECONFIGDISABLED otherwise).
    pub reconfig_enabled: bool,
    /// `protocolTrace` (ours, default false): log every election
    /// notification, quorum packet, txn and session event under the
    /// `zk_trace` target (`server::protocol_trace`).
    pub protocol_trace: bool,
    /// `zookeeper.snapshotSizeFactor` (default 0.33; negative: learners
    /// are never synced from the txn log).
    pub snapshot_size_factor: f64,
    /// `admin.idleTimeout`, ms (default 30000).
    pub admin_idle_timeout_ms: u64,
    /// `admin.rateLimiterIntervalInMS` (3.9, default 300000): how often
    /// the rate-limited commands (`snapshot`) may run.
    pub admin_rate_limiter_interval_ms: i32,
    /// `admin.snapshot.enabled` (3.9, default true): the `snapshot`
    /// command runs (else 503).
    pub admin_snapshot_enabled: bool,
    /// `IPAuthenticationProvider.usexforwardedfor` (default false): the
    /// AdminServer's `ip` identity is the first `X-Forwarded-For` entry.
    pub ip_use_x_forwarded_for: bool,
    /// `metricsProvider.className` (default Java's DefaultMetricsProvider).
    pub metrics_provider_class_name: String,
    /// `metricsProvider.*` keys, prefix removed (e.g. `httpPort`).
    pub metrics_provider_configuration: BTreeMap<String, String>,
    /// `secureClientPortAddress`:`secureClientPort` with its TLS server
    /// side, when a secure client port is configured.
    pub client_tls: Option<super::client_tls::ClientTls>,
    /// The AdminServer's HTTPS (`admin.forceHttps`, `admin.portUnification`),
    /// when asked for and the AdminServer is enabled.
    pub admin_tls: Option<super::admin_tls::AdminTls>,
    /// The JVM-style system properties in effect: `-D` flags plus
    /// `zookeeper.<key>` for every zoo.cfg key Java does not recognise.
    pub system_properties: SystemProperties,
    /// Authentication: schemes, SASL, and what sessions must prove.
    pub auth: AuthConfig,
}

impl ServerConfig {
    /// A configuration with every default, for tests and embedding.
    pub fn with_defaults(data_dir: impl Into<PathBuf>, client_port_address: SocketAddr) -> Self {
        let data_dir = data_dir.into();
        ServerConfig {
            client_port_address: Some(client_port_address),
            data_log_dir: data_dir.clone(),
            data_dir,
            tick_time: DEFAULT_TICK_TIME,
            min_session_timeout: DEFAULT_TICK_TIME * 2,
            max_session_timeout: DEFAULT_TICK_TIME * 20,
            max_client_cnxns: DEFAULT_MAX_CLIENT_CNXNS,
            max_cnxns: 0,
            global_outstanding_limit: 1000,
            snap_count: 100_000,
            snap_size_limit_kb: 4_194_304,
            txn_log_size_limit_kb: -1,
            pre_alloc_size_kb: 65_536,
            force_sync: true,
            fsync_warning_threshold_ms: 1000,
            digest_enabled: true,
            extended_types_enabled: false,
            skip_acl: false,
            super_digest: None,
            close_session_txn_enabled: true,
            four_letter_word_whitelist: vec!["srvr".to_string()],
            container_check_interval_ms: 60_000,
            container_max_per_minute: 10_000,
            container_max_never_used_interval_ms: 0,
            snapshot_compression: SnapshotCompression::None,
            snapshot_trust_empty: false,
            autopurge_snap_retain_count: MIN_SNAP_RETAIN_COUNT,
            autopurge_purge_interval_hours: 0,
            jute_max_buffer: DEFAULT_JUTE_MAX_BUFFER,
            admin_enable_server: true,
            admin_server_address: "0.0.0.0".to_string(),
            admin_server_port: 8080,
            admin_command_url: "/commands".to_string(),
            raw: BTreeMap::new(),
            config_path: None,
            initial_config: String::new(),
            client_port_listen_backlog: -1,
            jute_max_buffer_extra_size: DEFAULT_JUTE_MAX_BUFFER,
            datadir_autocreate: true,
            db_autocreate: true,
            read_only_mode_enabled: false,
            local_sessions_enabled: false,
            local_sessions_upgrading_enabled: false,
            enforce_quota: false,
            serialize_last_processed_zxid_enabled: true,
            reconfig_enabled: false,
            protocol_trace: false,
            snapshot_size_factor: super::pass_through::DEFAULT_SNAPSHOT_SIZE_FACTOR,
            admin_idle_timeout_ms: 30_000,
            admin_rate_limiter_interval_ms:
                super::pass_through::DEFAULT_ADMIN_RATE_LIMITER_INTERVAL_MS,
            admin_snapshot_enabled: true,
            ip_use_x_forwarded_for: false,
            metrics_provider_class_name: DEFAULT_METRICS_PROVIDER.to_string(),
            metrics_provider_configuration: BTreeMap::new(),
            system_properties: SystemProperties::new(),
            client_tls: None,
            admin_tls: None,
            auth: AuthConfig::default(),
        }
    }

    /// Whether the `x509` scheme is registered: a secure client port
    /// registers it (Java's `configureSSLAuth`), and so does
    /// `authProvider.x509`.
    pub fn x509_enabled(&self) -> bool {
        self.client_tls.is_some()
            || self.system_properties.iter().any(|(k, v)| {
                k.starts_with("zookeeper.authProvider.")
                    && v.trim() == super::security_keys::X509_PROVIDER
            })
    }

    /// Reads and validates a zoo.cfg file, without `-D` flags.
    pub fn parse_file(path: &Path) -> Result<ServerConfig, ConfigError> {
        ServerConfig::parse_file_with(path, &SystemProperties::new())
    }

    /// Reads and validates a zoo.cfg file; `system` holds the `-D` flags.
    /// A `dynamicConfigFile` is read too (for its server lines).
    pub fn parse_file_with(
        path: &Path,
        system: &SystemProperties,
    ) -> Result<ServerConfig, ConfigError> {
        info!("Reading configuration from: {}", path.display());
        let (props, text) = read_properties_file(path)?;
        let dynamic = match props.get("dynamicConfigFile").map(java_trim) {
            Some(dynamic_path) => Some(read_properties_file(Path::new(dynamic_path))?.0),
            None => None,
        };
        let mut config = ServerConfig::from_properties_with(&props, dynamic.as_ref(), system)?;
        config.config_path = Some(path.to_path_buf());
        config.initial_config = text;
        Ok(config)
    }

    /// Validates raw properties (no `-D` flags, no dynamic file).
    pub fn from_properties(props: &Properties) -> Result<ServerConfig, ConfigError> {
        ServerConfig::from_properties_with(props, None, &SystemProperties::new())
    }

    /// Validates raw properties. `dynamic` is the content of
    /// `dynamicConfigFile`, if any; `system` holds the `-D` flags.
    /// Fails with [`ConfigError::QuorumNotImplemented`] when Java would
    /// start a quorum peer.
    pub fn from_properties_with(
        props: &Properties,
        dynamic: Option<&Properties>,
        system: &SystemProperties,
    ) -> Result<ServerConfig, ConfigError> {
        let mut known = KnownKeys::default();
        let mut system = system.clone();
        let mut raw = BTreeMap::new();
        for (key, value) in props.effective() {
            let (key, value) = (java_trim(key), java_trim(value));
            raw.insert(key.to_string(), value.to_string());
            if !known.accept(key, value, props)? {
                system.set(&format!("zookeeper.{}", key), value);
            }
        }
        known.check_sasl()?;
        let servers = ServerLines::from_properties(dynamic.unwrap_or(props))?;
        let standalone_enabled = known.standalone_enabled;
        if quorum_mode::is_distributed(&servers, standalone_enabled)? {
            return Err(ConfigError::QuorumNotImplemented {
                voting_members: servers.voting,
            });
        }
        let secure_address = known.secure_address()?;
        let reconfig_enabled = known.reconfig_enabled;
        let mut config = known.into_config()?;
        config.reconfig_enabled = reconfig_enabled;
        if config.client_port_address.is_none() && secure_address.is_none() {
            // Java starts without any client listener; a standalone server
            // that nobody can reach is surely a mistake, so we refuse. (A
            // quorum peer without client ports is its config's business.)
            return Err(ConfigError::Missing { key: "clientPort" });
        }
        apply_system_properties(&mut config, &system);
        super::security_keys::check(&raw, &system)?;
        config.client_tls = super::client_tls::client_tls(secure_address, &system)?;
        if config.admin_enable_server {
            config.admin_tls = super::admin_tls::admin_tls(&system)?;
        }
        config.auth = AuthConfig::from_system(&system)?;
        config.raw = raw;
        config.system_properties = system;
        Ok(config)
    }

    /// The settings as `key=value` lines with Java's key names, for the
    /// startup log.
    pub fn effective_lines(&self) -> Vec<String> {
        let whitelist = self.four_letter_word_whitelist.join(",");
        let lines = [
            (
                "clientPortAddress",
                self.client_port_address
                    .map_or("<unset>".to_string(), |a| a.to_string()),
            ),
            ("dataDir", self.data_dir.display().to_string()),
            ("dataLogDir", self.data_log_dir.display().to_string()),
            ("tickTime", self.tick_time.to_string()),
            ("minSessionTimeout", self.min_session_timeout.to_string()),
            ("maxSessionTimeout", self.max_session_timeout.to_string()),
            ("maxClientCnxns", self.max_client_cnxns.to_string()),
            ("maxCnxns", self.max_cnxns.to_string()),
            (
                "clientPortListenBacklog",
                self.client_port_listen_backlog.to_string(),
            ),
            (
                "globalOutstandingLimit",
                self.global_outstanding_limit.to_string(),
            ),
            ("snapCount", self.snap_count.to_string()),
            ("snapSizeLimitInKb", self.snap_size_limit_kb.to_string()),
            (
                "txnLogSizeLimitInKb",
                self.txn_log_size_limit_kb.to_string(),
            ),
            ("preAllocSize", self.pre_alloc_size_kb.to_string()),
            ("forceSync", yes_no(self.force_sync).to_string()),
            (
                "fsync.warningthresholdms",
                self.fsync_warning_threshold_ms.to_string(),
            ),
            ("digest.enabled", self.digest_enabled.to_string()),
            (
                "extendedTypesEnabled",
                self.extended_types_enabled.to_string(),
            ),
            ("skipACL", yes_no(self.skip_acl).to_string()),
            (
                "superDigest",
                if self.super_digest.is_some() {
                    "<set>"
                } else {
                    "<unset>"
                }
                .into(),
            ),
            (
                "closeSessionTxn.enabled",
                self.close_session_txn_enabled.to_string(),
            ),
            ("4lw.commands.whitelist", whitelist),
            (
                "snapshot.compression.method",
                format!("{:?}", self.snapshot_compression),
            ),
            (
                "snapshot.trust.empty",
                self.snapshot_trust_empty.to_string(),
            ),
            (
                "autopurge.snapRetainCount",
                self.autopurge_snap_retain_count.to_string(),
            ),
            (
                "autopurge.purgeInterval",
                self.autopurge_purge_interval_hours.to_string(),
            ),
            ("jute.maxbuffer", self.jute_max_buffer.to_string()),
            ("admin.enableServer", self.admin_enable_server.to_string()),
            (
                "metricsProvider.className",
                self.metrics_provider_class_name.clone(),
            ),
        ];
        lines.iter().map(|(k, v)| format!("{}={}", k, v)).collect()
    }
}

fn yes_no(b: bool) -> &'static str {
    if b {
        "yes"
    } else {
        "no"
    }
}

/// Reads a properties file: its parsed pairs and its text.
fn read_properties_file(path: &Path) -> Result<(Properties, String), ConfigError> {
    let bytes = std::fs::read(path).map_err(|source| ConfigError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    let props = Properties::from_bytes(&bytes).map_err(|source| ConfigError::Syntax {
        path: path.to_path_buf(),
        source,
    })?;
    // Java keeps the text with the platform charset (UTF-8 here).
    Ok((props, String::from_utf8_lossy(&bytes).into_owned()))
}

/// `String.trim()`: drops every char <= U+0020 at both ends.
pub fn java_trim(s: &str) -> &str {
    s.trim_matches(|c: char| c <= ' ')
}

/// `new File(path).getPath()`: repeated and trailing separators removed.
pub fn java_file_path(path: &str) -> PathBuf {
    let mut out = String::with_capacity(path.len());
    for c in path.chars() {
        if c == '/' && out.ends_with('/') {
            continue;
        }
        out.push(c);
    }
    if out.len() > 1 && out.ends_with('/') {
        out.pop();
    }
    PathBuf::from(out)
}

fn invalid(key: &str, value: &str, reason: impl Into<String>) -> ConfigError {
    ConfigError::InvalidValue {
        key: key.to_string(),
        value: value.to_string(),
        reason: reason.into(),
    }
}

/// `Integer.parseInt` of a known key, or an error naming it.
fn int_value(key: &str, value: &str) -> Result<i32, ConfigError> {
    parse_int(value).ok_or_else(|| invalid(key, value, "not a 32-bit decimal integer"))
}

/// `Long.parseLong` of a known key, or an error naming it.
fn long_value(key: &str, value: &str) -> Result<i64, ConfigError> {
    parse_long(value).ok_or_else(|| invalid(key, value, "not a 64-bit decimal integer"))
}

/// `QuorumPeerConfig.parseBoolean`: only true/false, any case.
fn bool_value(key: &str, value: &str) -> Result<bool, ConfigError> {
    if value.eq_ignore_ascii_case("true") {
        Ok(true)
    } else if value.eq_ignore_ascii_case("false") {
        Ok(false)
    } else {
        Err(invalid(key, value, "choose 'true' or 'false'"))
    }
}

#[path = "server_config_keys.rs"]
mod keys;
use keys::KnownKeys;

#[cfg(test)]
#[path = "server_config_tests.rs"]
mod tests;
