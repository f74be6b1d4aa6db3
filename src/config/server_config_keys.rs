//! The keys of zoo.cfg that `ServerConfig` knows, each validated as it
//! is read (a bad value names its key), then turned into the settings:
//! the part of Java's `ServerConfig.parse` and
//! `QuorumPeerConfig.parseProperties` that reads one key at a time.
//! Runs once, on the main thread at startup.

use super::*;

/// The keys `QuorumPeerConfig.parseProperties` handles itself, as read.
/// Keys for quorum mode are validated (so a bad value fails as in Java)
/// but not kept: the quorum config will read them when it lands.
pub(super) struct KnownKeys {
    data_dir: Option<String>,
    data_log_dir: Option<String>,
    client_port: Option<i32>,
    client_port_address: Option<String>,
    secure_client_port: Option<i32>,
    secure_client_port_address: Option<String>,
    client_port_listen_backlog: i32,
    tick_time: i32,
    max_client_cnxns: i32,
    min_session_timeout: i32,
    max_session_timeout: i32,
    snap_retain_count: i32,
    purge_interval: i32,
    pub(super) standalone_enabled: bool,
    pub(super) reconfig_enabled: bool,
    protocol_trace: bool,
    quorum_sasl_enabled: bool,
    quorum_server_require_sasl: bool,
    quorum_learner_require_sasl: bool,
    metrics_provider_class_name: String,
    metrics_provider_configuration: BTreeMap<String, String>,
}

impl Default for KnownKeys {
    fn default() -> Self {
        KnownKeys {
            data_dir: None,
            data_log_dir: None,
            client_port: None,
            client_port_address: None,
            secure_client_port: None,
            secure_client_port_address: None,
            client_port_listen_backlog: -1,
            tick_time: DEFAULT_TICK_TIME,
            max_client_cnxns: DEFAULT_MAX_CLIENT_CNXNS as i32,
            min_session_timeout: -1,
            max_session_timeout: -1,
            snap_retain_count: MIN_SNAP_RETAIN_COUNT as i32,
            purge_interval: 0,
            standalone_enabled: true,
            reconfig_enabled: false,
            protocol_trace: false,
            quorum_sasl_enabled: false,
            quorum_server_require_sasl: false,
            quorum_learner_require_sasl: false,
            metrics_provider_class_name: DEFAULT_METRICS_PROVIDER.to_string(),
            metrics_provider_configuration: BTreeMap::new(),
        }
    }
}

/// Known keys whose value is any string (quorum-only, checked later).
const FREE_TEXT_KEYS: &[&str] = &[
    "dynamicConfigFile",
    "quorum.auth.learner.saslLoginContext",
    "quorum.auth.server.saslLoginContext",
    "quorum.auth.kerberos.servicePrincipal",
    "oraclePath",
];

/// Known keys holding an `int` that only quorum mode uses.
const QUORUM_INT_KEYS: &[&str] = &[
    "observerMasterPort",
    "initLimit",
    "syncLimit",
    "connectToLearnerMasterLimit",
    "quorum.cnxn.threads.size",
    "multiAddress.reachabilityCheckTimeoutMs",
];

/// Known boolean keys that only quorum mode (or features we lack) use.
const OTHER_BOOL_KEYS: &[&str] = &[
    "localSessionsEnabled",
    "localSessionsUpgradingEnabled",
    "quorumListenOnAllIPs",
    "syncEnabled",
    "sslQuorum",
    "portUnification",
    "sslQuorumReloadCertFiles",
    "jvm.pause.monitor",
    "multiAddress.enabled",
    "multiAddress.reachabilityCheckEnabled",
];

/// Known keys holding a `long` (JVM pause monitor; no JVM here).
const LONG_KEYS: &[&str] = &[
    "jvm.pause.info-threshold.ms",
    "jvm.pause.warn-threshold.ms",
    "jvm.pause.sleep.time.ms",
];

impl KnownKeys {
    /// Takes one trimmed pair. `Ok(false)` = not a key Java recognises
    /// (the caller stores it as `zookeeper.<key>`).
    pub(super) fn accept(
        &mut self,
        key: &str,
        value: &str,
        props: &Properties,
    ) -> Result<bool, ConfigError> {
        match key {
            "dataDir" => self.data_dir = Some(value.to_string()),
            "dataLogDir" => self.data_log_dir = Some(value.to_string()),
            "clientPort" => self.client_port = Some(int_value(key, value)?),
            "clientPortAddress" => self.client_port_address = Some(value.to_string()),
            "secureClientPort" => self.secure_client_port = Some(int_value(key, value)?),
            "secureClientPortAddress" => self.secure_client_port_address = Some(value.to_string()),
            "clientPortListenBacklog" => self.client_port_listen_backlog = int_value(key, value)?,
            "tickTime" => self.tick_time = int_value(key, value)?,
            "maxClientCnxns" => self.max_client_cnxns = int_value(key, value)?,
            "minSessionTimeout" => self.min_session_timeout = int_value(key, value)?,
            "maxSessionTimeout" => self.max_session_timeout = int_value(key, value)?,
            "autopurge.snapRetainCount" => self.snap_retain_count = int_value(key, value)?,
            "autopurge.purgeInterval" => self.purge_interval = int_value(key, value)?,
            "standaloneEnabled" => self.standalone_enabled = bool_value(key, value)?,
            "reconfigEnabled" => self.reconfig_enabled = bool_value(key, value)?,
            // Ours (Java has no such key): the protocol trace.
            "protocolTrace" => self.protocol_trace = bool_value(key, value)?,
            "quorum.auth.enableSasl" => self.quorum_sasl_enabled = bool_value(key, value)?,
            "quorum.auth.serverRequireSasl" => {
                self.quorum_server_require_sasl = bool_value(key, value)?
            }
            "quorum.auth.learnerRequireSasl" => {
                self.quorum_learner_require_sasl = bool_value(key, value)?
            }
            "electionAlg" => {
                if int_value(key, value)? != 3 {
                    return Err(invalid(key, value, "only 3 is supported"));
                }
            }
            "peerType" => {
                let lower = value.to_ascii_lowercase();
                if lower != "observer" && lower != "participant" {
                    return Err(invalid(key, value, "choose 'observer' or 'participant'"));
                }
            }
            "metricsProvider.className" => self.metrics_provider_class_name = value.to_string(),
            _ if key.starts_with("metricsProvider.") => {
                let name = &key["metricsProvider.".len()..];
                self.metrics_provider_configuration
                    .insert(name.to_string(), value.to_string());
            }
            _ if (key.starts_with("server.")
                || key.starts_with("group")
                || key.starts_with("weight"))
                && props.contains_key("dynamicConfigFile") =>
            {
                return Err(invalid(
                    key,
                    value,
                    "must be in a separate dynamic config file",
                ));
            }
            _ if FREE_TEXT_KEYS.contains(&key) => {}
            _ if QUORUM_INT_KEYS.contains(&key) => {
                int_value(key, value)?;
            }
            _ if OTHER_BOOL_KEYS.contains(&key) => {
                bool_value(key, value)?;
            }
            _ if LONG_KEYS.contains(&key) => {
                long_value(key, value)?;
            }
            _ => return Ok(false),
        }
        Ok(true)
    }

    /// The SASL combinations `parseProperties` rejects (quorum SASL itself
    /// is read by `quorum_auth_config` for ensembles; standalone ignores it).
    pub(super) fn check_sasl(&self) -> Result<(), ConfigError> {
        let rule = |key: &str, reason: &str| Err(invalid(key, "true", reason));
        if !self.quorum_sasl_enabled && self.quorum_server_require_sasl {
            return rule(
                "quorum.auth.serverRequireSasl",
                "quorum.auth.enableSasl is disabled",
            );
        }
        if !self.quorum_sasl_enabled && self.quorum_learner_require_sasl {
            return rule(
                "quorum.auth.learnerRequireSasl",
                "quorum.auth.enableSasl is disabled",
            );
        }
        if !self.quorum_learner_require_sasl && self.quorum_server_require_sasl {
            return rule(
                "quorum.auth.serverRequireSasl",
                "quorum.auth.learnerRequireSasl is disabled",
            );
        }
        Ok(())
    }

    /// The checks at the end of `parseProperties`, in Java's order.
    pub(super) fn into_config(self) -> Result<ServerConfig, ConfigError> {
        let snap_retain_count = if self.snap_retain_count < MIN_SNAP_RETAIN_COUNT as i32 {
            warn!(
                "Invalid autopurge.snapRetainCount: {}. Defaulting to {}",
                self.snap_retain_count, MIN_SNAP_RETAIN_COUNT
            );
            MIN_SNAP_RETAIN_COUNT
        } else {
            self.snap_retain_count as usize
        };
        let data_dir = match &self.data_dir {
            Some(dir) if !dir.is_empty() => data_dir_path(dir),
            Some(dir) => return Err(invalid("dataDir", dir, "must not be empty")),
            None => return Err(ConfigError::Missing { key: "dataDir" }),
        };
        let data_log_dir = match &self.data_log_dir {
            Some(dir) if !dir.is_empty() => data_dir_path(dir),
            Some(dir) => return Err(invalid("dataLogDir", dir, "must not be empty")),
            None => data_dir.clone(),
        };
        let client_port_address = self.client_address()?;
        self.check_secure_port()?;
        if self.tick_time == 0 {
            return Err(invalid(
                "tickTime",
                "0",
                "tickTime is not set (must be > 0)",
            ));
        }
        if self.tick_time < 0 {
            // Java has no sign check; only the derived timeouts can fail.
            warn!(
                "tickTime={} is negative; sessions expire on a 1 ms tick",
                self.tick_time
            );
        }
        let (min, max) = session_timeouts(
            self.tick_time,
            self.min_session_timeout,
            self.max_session_timeout,
        )?;
        let class = self.metrics_provider_class_name.as_str();
        if class != DEFAULT_METRICS_PROVIDER && class != PROMETHEUS_METRICS_PROVIDER {
            return Err(invalid(
                "metricsProvider.className",
                class,
                "metrics provider class was not found",
            ));
        }
        let mut config = ServerConfig::with_defaults(data_dir, SocketAddr::from(([0, 0, 0, 0], 0)));
        config.client_port_address = client_port_address;
        config.data_log_dir = data_log_dir;
        config.tick_time = self.tick_time;
        config.min_session_timeout = min;
        config.max_session_timeout = max;
        // Java only limits when maxClientCnxns > 0.
        config.max_client_cnxns = self.max_client_cnxns.max(0) as usize;
        config.client_port_listen_backlog = self.client_port_listen_backlog;
        config.autopurge_snap_retain_count = snap_retain_count;
        config.autopurge_purge_interval_hours = self.purge_interval.max(0) as u64;
        config.metrics_provider_class_name = self.metrics_provider_class_name;
        config.metrics_provider_configuration = self.metrics_provider_configuration;
        config.protocol_trace = self.protocol_trace;
        Ok(config)
    }

    /// `clientPortAddress`:`clientPort`, resolved as `InetAddress.getByName`
    /// (`None`: no `clientPort`, so no plain client port).
    fn client_address(&self) -> Result<Option<SocketAddr>, ConfigError> {
        let Some(port) = self.client_port else {
            if let Some(address) = &self.client_port_address {
                return Err(invalid(
                    "clientPortAddress",
                    address,
                    "is set but clientPort is not set",
                ));
            }
            return Ok(None);
        };
        let port = u16::try_from(port).map_err(|_| {
            invalid(
                "clientPort",
                &port.to_string(),
                "port out of range (0-65535)",
            )
        })?;
        match &self.client_port_address {
            None => Ok(Some(SocketAddr::new(
                IpAddr::V4(Ipv4Addr::UNSPECIFIED),
                port,
            ))),
            Some(host) => resolve_host("clientPortAddress", host, port).map(Some),
        }
    }

    /// `secureClientPortAddress`:`secureClientPort` (0 or unset: none).
    pub(super) fn secure_address(&self) -> Result<Option<SocketAddr>, ConfigError> {
        let Some(port) = self.secure_client_port.filter(|&p| p != 0) else {
            return Ok(None);
        };
        let port = u16::try_from(port).map_err(|_| {
            invalid(
                "secureClientPort",
                &port.to_string(),
                "port out of range (0-65535)",
            )
        })?;
        match &self.secure_client_port_address {
            None => Ok(Some(SocketAddr::new(
                IpAddr::V4(Ipv4Addr::UNSPECIFIED),
                port,
            ))),
            Some(host) => resolve_host("secureClientPortAddress", host, port).map(Some),
        }
    }

    /// Java's rule for the secure port's address (whether TLS is asked for
    /// at all is `security_keys`' business).
    fn check_secure_port(&self) -> Result<(), ConfigError> {
        match (self.secure_client_port, &self.secure_client_port_address) {
            (None, Some(address)) => Err(invalid(
                "secureClientPortAddress",
                address,
                "is set but secureClientPort is not set",
            )),
            _ => Ok(()),
        }
    }
}

/// `minSessionTimeout`/`maxSessionTimeout` (-1 = unset: 2 and 20 ticks,
/// with Java's wrapping `int` arithmetic); min above max is refused.
fn session_timeouts(tick_time: i32, min: i32, max: i32) -> Result<(i32, i32), ConfigError> {
    let derived = |set: i32, ticks: i32| {
        if set == -1 {
            (
                tick_time.wrapping_mul(ticks),
                format!(" (derived: {} x tickTime)", ticks),
            )
        } else {
            (set, String::new())
        }
    };
    let ((min, min_how), (max, max_how)) = (derived(min, 2), derived(max, 20));
    if min > max {
        return Err(invalid(
            "minSessionTimeout",
            &format!("{}{}", min, min_how),
            format!(
                "must not be larger than maxSessionTimeout ({}{})",
                max, max_how
            ),
        ));
    }
    Ok((min, max))
}

/// A data directory path as Java's `VerifyingFileFactory` builds it,
/// warning about relative paths.
fn data_dir_path(value: &str) -> PathBuf {
    let path = java_file_path(value);
    if !path.is_absolute() && !value.starts_with("./") {
        warn!(
            "{} is relative. Prepend ./ to indicate that you're sure!",
            path.display()
        );
    }
    path
}

/// `InetAddress.getByName(host)` + port: literal IPs (brackets allowed
/// around IPv6) or a name resolved by the system, IPv4 preferred as Java
/// does by default.
fn resolve_host(key: &str, host: &str, port: u16) -> Result<SocketAddr, ConfigError> {
    let bare = host
        .strip_prefix('[')
        .and_then(|h| h.strip_suffix(']'))
        .unwrap_or(host);
    if let Ok(ip) = bare.parse::<IpAddr>() {
        return Ok(SocketAddr::new(ip, port));
    }
    let addrs: Vec<SocketAddr> = (bare, port)
        .to_socket_addrs()
        .map_err(|e| invalid(key, host, format!("unknown host: {}", e)))?
        .collect();
    addrs
        .iter()
        .find(|a| a.is_ipv4())
        .or_else(|| addrs.first())
        .copied()
        .ok_or_else(|| invalid(key, host, "unknown host: no address"))
}
