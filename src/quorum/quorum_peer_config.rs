//! The ensemble part of `zoo.cfg`: the `server.N` lines (from zoo.cfg or
//! its `dynamicConfigFile`), `group`/`weight` quorums, `myid`, the quorum
//! timing (`initLimit`, `syncLimit`) and the election settings, validated
//! as `QuorumPeerConfig` does. The standalone settings (dataDir, tickTime,
//! clientPort, ...) are still parsed by [`ServerConfig`], from the same
//! file with the ensemble keys set aside.
//!
//! Runs once, on the main thread, before the peer starts.
//!
//! Mirrors: `org.apache.zookeeper.server.quorum.QuorumPeerConfig`
//! (`parse`, `parseDynamicConfig`, `setupMyId`, `setupClientPort`,
//! `setupPeerType`, `checkValidity`, `getVersionFromFilename`).

use std::path::{Path, PathBuf};
use std::sync::Arc;

use log::{info, warn};

use super::flexible::QuorumVerifier;
use super::quorum_server::{HostPort, LearnerType};
use crate::config::config_error::ConfigError;
use crate::config::properties::Properties;
use crate::config::quorum_auth_config::QuorumAuthConfig;
use crate::config::quorum_mode::{self, ServerLines};
use crate::config::server_config::{java_file_path, java_trim, ServerConfig};
use crate::config::system_properties::SystemProperties;

/// `zookeeper.cnxTimeout` default, ms.
pub const DEFAULT_CNX_TIMEOUT_MS: i64 = 5000;
/// `zookeeper.electionPortBindRetry` default.
pub const DEFAULT_ELECTION_PORT_BIND_RETRY: u32 = 3;

/// Everything a quorum peer needs, validated.
#[derive(Debug, Clone)]
pub struct QuorumPeerConfig {
    /// The standalone part: data dirs, tickTime, client port, limits.
    pub server: ServerConfig,
    /// False when neither `clientPort` nor this server's line gives a
    /// client port (`server.client_port_address` is then `None`): Java
    /// serves clients only on the secure client port, if any.
    pub client_port_configured: bool,
    /// This server's id (the `myid` file in dataDir).
    pub my_id: i64,
    /// The members and the quorum rule.
    pub verifier: QuorumVerifier,
    /// Participant or observer (from the server list, which wins over
    /// `peerType`).
    pub learner_type: LearnerType,
    /// `initLimit`, ticks (required).
    pub init_limit: i32,
    /// `syncLimit`, ticks (required).
    pub sync_limit: i32,
    /// `quorumListenOnAllIPs`: bind the election port on 0.0.0.0.
    pub quorum_listen_on_all_ips: bool,
    /// `multiAddress.enabled` (zoo.cfg key, defaulting to the
    /// `zookeeper.multiAddress.enabled` property): initial message V2.
    pub multi_address_enabled: bool,
    /// `reconfigEnabled` (reconfig itself is a later issue).
    pub reconfig_enabled: bool,
    /// `standaloneEnabled`.
    pub standalone_enabled: bool,
    /// `dynamicConfigFile`, when the members come from there.
    pub dynamic_config_file: Option<PathBuf>,
    /// The config of `<zoo.cfg>.dynamic.next`: proposed by a reconfig
    /// that had not committed when this server stopped; it starts as the
    /// peer's last-seen config.
    pub next_verifier: Option<QuorumVerifier>,
    /// `zookeeper.cnxTimeout`, ms: election-port connect timeout.
    pub cnx_timeout_ms: i64,
    /// `zookeeper.quorumCnxnTimeoutMs`, ms (-1 = tickTime × syncLimit).
    pub quorum_cnxn_timeout_ms: i64,
    /// `zookeeper.electionPortBindRetry` (0 = retry forever).
    pub election_port_bind_retry: u32,
    /// `zookeeper.fastleader.minNotificationInterval`, ms (200).
    pub min_notification_interval_ms: i64,
    /// `zookeeper.fastleader.maxNotificationInterval`, ms (60000).
    pub max_notification_interval_ms: i64,
    /// `leaderServes` (`zookeeper.leaderServes`, default yes): `no` keeps
    /// clients off the leader, so it spends itself on the followers.
    pub leader_serves: bool,
    /// `readonlymode.enabled` (system property, read as Java's
    /// `Boolean.getBoolean`: any case of `true`): serve read-only clients
    /// while cut off from the quorum.
    pub read_only_mode_enabled: bool,
    /// `zookeeper.quorum.maxRoleHoldMs` (ours, until Zab lands): end an
    /// elected role after this long even if the ensemble looks healthy.
    /// Unset = hold while healthy.
    pub max_role_hold_ms: Option<u64>,
    /// `sslQuorum` / `portUnification` with the `ssl.quorum.*` stores;
    /// `None` when both are off (plaintext between peers).
    pub quorum_tls: Option<Arc<crate::config::quorum_tls::QuorumTls>>,
    /// `connectToLearnerMasterLimit`, ticks (0 = `initLimit`): how long a
    /// learner keeps trying to reach the leader.
    pub connect_to_learner_master_limit: u32,
    /// `zookeeper.leaderConnectDelayDuringRetryMs`, ms (100): the pause
    /// between a learner's connection attempts.
    pub leader_connect_delay_during_retry_ms: u64,
    /// `zookeeper.forceSnapshotSync` (read as `Boolean.getBoolean`): the
    /// leader syncs every learner with a SNAP (a test switch in Java).
    pub force_snapshot_sync: bool,
    /// `zookeeper.leader.maxConcurrentSnapSyncs` (zoo.cfg
    /// `leader.maxConcurrentSnapSyncs`, default 10): snapshots a learner
    /// master sends to observers at once.
    pub max_concurrent_snap_syncs: i32,
    /// `zookeeper.leader.maxConcurrentDiffSyncs` (default 100): the same
    /// for diffs.
    pub max_concurrent_diff_syncs: i32,
    /// `observerMasterPort`: on an observer, it syncs from a voting
    /// member's ObserverMaster at this port instead of from the leader; on
    /// a participant, it serves observers there while following.
    pub observer_master_port: Option<u16>,
    /// `zookeeper.observerMaster.sizeLimit`: bytes of committed txns a
    /// follower's ObserverMaster keeps to catch up observers that connect.
    pub observer_master_size_limit: usize,
    /// Quorum SASL (`quorum.auth.enableSasl=true`), with its JAAS logins.
    pub quorum_auth: Option<QuorumAuthConfig>,
    /// `quorum.cnxn.threads.size` (20): election connections in their
    /// SASL exchange at once.
    pub quorum_cnxn_threads_size: i32,
}

impl QuorumPeerConfig {
    /// The handshake read timeout of the election port, ms.
    pub fn quorum_socket_timeout_ms(&self) -> i64 {
        if self.quorum_cnxn_timeout_ms > 0 {
            self.quorum_cnxn_timeout_ms
        } else {
            i64::from(self.server.tick_time) * i64::from(self.sync_limit)
        }
    }
}

/// A config file read as Java reads it: its pairs and the dynamic file's.
pub struct ConfigFiles {
    /// zoo.cfg.
    pub props: Properties,
    /// The dynamic config file, with `version` added from its name.
    pub dynamic: Option<Properties>,
    /// The dynamic file's path.
    pub dynamic_path: Option<PathBuf>,
    /// `<zoo.cfg>.dynamic.next` (a config proposed but not committed when
    /// the server stopped), read only beside a dynamic file, as Java does.
    pub next: Option<Properties>,
    /// zoo.cfg's text.
    pub text: String,
}

/// Reads zoo.cfg and, when named, its dynamic config file.
pub fn read_config_files(path: &Path) -> Result<ConfigFiles, ConfigError> {
    let (props, text) = read_properties(path)?;
    let (dynamic, dynamic_path) = match props.get("dynamicConfigFile").map(java_trim) {
        Some(dynamic_path) => {
            let dynamic_path = PathBuf::from(dynamic_path);
            let (dynamic, _) = read_properties(&dynamic_path)?;
            if dynamic.contains_key("version") {
                return Err(invalid(
                    "version",
                    "",
                    "dynamic file shouldn't have version inside",
                ));
            }
            let mut pairs: Vec<(String, String)> = dynamic.raw_entries().to_vec();
            if let Some(version) = version_from_filename(&dynamic_path.to_string_lossy()) {
                pairs.push(("version".to_string(), version));
            }
            (Some(Properties::from_pairs(pairs)), Some(dynamic_path))
        }
        None => (None, None),
    };
    let next = match dynamic_path {
        Some(_) => read_next_dynamic(path),
        None => None,
    };
    Ok(ConfigFiles {
        props,
        dynamic,
        dynamic_path,
        next,
        text,
    })
}

/// The `.dynamic.next` file beside zoo.cfg, if there is one; a file that
/// cannot be read is left out with a warning (Java's "NextQuorumVerifier
/// is initiated to null").
fn read_next_dynamic(config_file: &Path) -> Option<Properties> {
    let path = crate::config::quorum_peer_config_files::next_dynamic_config_filename(config_file);
    if !path.exists() {
        return None;
    }
    match read_properties(&path) {
        Ok((props, _)) => Some(props),
        Err(e) => {
            log::warn!("NextQuorumVerifier is initiated to null: {}", e);
            None
        }
    }
}

fn read_properties(path: &Path) -> Result<(Properties, String), ConfigError> {
    let bytes = std::fs::read(path).map_err(|source| ConfigError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    let props = Properties::from_bytes(&bytes).map_err(|source| ConfigError::Syntax {
        path: path.to_path_buf(),
        source,
    })?;
    Ok((props, String::from_utf8_lossy(&bytes).into_owned()))
}

/// `getVersionFromFilename`: the hex suffix after `.dynamic.`, normalised.
pub fn version_from_filename(name: &str) -> Option<String> {
    let (_, suffix) = name.rsplit_once(".dynamic.")?;
    u64::from_str_radix(suffix, 16)
        .ok()
        .map(|v| format!("{:x}", v))
}

/// True when the files describe an ensemble (Java would start a quorum peer).
pub fn is_quorum(files: &ConfigFiles) -> Result<bool, ConfigError> {
    let standalone_enabled = match files.props.get("standaloneEnabled").map(java_trim) {
        Some(v) => bool_value("standaloneEnabled", v)?,
        None => true,
    };
    let lines = ServerLines::from_properties(files.dynamic.as_ref().unwrap_or(&files.props))?;
    quorum_mode::is_distributed(&lines, standalone_enabled)
}

/// Keys that belong to the ensemble part.
fn is_ensemble_key(key: &str) -> bool {
    key.starts_with("server.")
        || key.starts_with("group")
        || key.starts_with("weight")
        || key == "version"
}

impl QuorumPeerConfig {
    /// Validates a quorum config read by [`read_config_files`]; `system`
    /// holds the `-D` flags.
    pub fn from_files(
        files: &ConfigFiles,
        config_path: Option<&Path>,
        system: &SystemProperties,
    ) -> Result<QuorumPeerConfig, ConfigError> {
        let props = &files.props;
        let get = |key: &str| props.get(key).map(java_trim);
        let ensemble = ensemble_pairs(files)?;
        let merged = merged_system_properties(props, system);
        let multi_address_property = merged.get_boolean_or("zookeeper.multiAddress.enabled", false);
        let mut verifier = QuorumVerifier::from_pairs(&ensemble, multi_address_property)
            .map_err(|e| invalid(&e.key, "", e.reason))?;
        if let Some(path) = get("oraclePath") {
            match &mut verifier {
                QuorumVerifier::Majority(m) => m.oracle = Some(PathBuf::from(path)),
                QuorumVerifier::Hierarchical(_) => {
                    return Err(invalid("oraclePath", path, "an oracle only breaks ties of a majority of two; this ensemble has groups or weights"))
                }
            }
        }
        let next_verifier = files
            .next
            .as_ref()
            .map(|next| {
                let pairs: Vec<(String, String)> = next
                    .effective()
                    .into_iter()
                    .map(|(k, v)| (java_trim(k).to_string(), java_trim(v).to_string()))
                    .collect();
                QuorumVerifier::from_pairs(&pairs, multi_address_property)
            })
            .transpose()
            .map_err(|e| invalid(&e.key, "", e.reason))?;
        let standalone_enabled = get("standaloneEnabled")
            .map(|v| bool_value("standaloneEnabled", v))
            .transpose()?
            .unwrap_or(true);
        let data_dir = get("dataDir").ok_or(ConfigError::Missing { key: "dataDir" })?;
        let my_id = read_my_id(&java_file_path(data_dir))?;
        // The standalone part, parsed by ServerConfig without the ensemble.
        let (server_props, client_port_configured) = standalone_part(props, my_id, &mut verifier)?;
        let mut server = ServerConfig::from_properties_with(&server_props, None, system)?;
        if !client_port_configured {
            // The placeholder port only got the standalone rules past.
            server.client_port_address = None;
        }
        server.raw = props
            .effective()
            .into_iter()
            .map(|(k, v)| (java_trim(k).to_string(), java_trim(v).to_string()))
            .collect();
        server.config_path = config_path.map(Path::to_path_buf);
        server.initial_config = files.text.clone();
        let int = |key: &str, default: i32| -> Result<i32, ConfigError> {
            match get(key) {
                Some(v) => v
                    .parse::<i32>()
                    .map_err(|_| invalid(key, v, "not a 32-bit decimal integer")),
                None => Ok(default),
            }
        };
        let boolean = |key: &str, default: bool| -> Result<bool, ConfigError> {
            get(key)
                .map(|v| bool_value(key, v))
                .transpose()
                .map(|b| b.unwrap_or(default))
        };
        let init_limit = int("initLimit", 0)?;
        let sync_limit = int("syncLimit", 0)?;
        if init_limit == 0 {
            return Err(invalid("initLimit", "0", "initLimit is not set"));
        }
        if sync_limit == 0 {
            return Err(invalid("syncLimit", "0", "syncLimit is not set"));
        }
        let learner_type = peer_type(get("peerType"), &verifier, my_id)?;
        server.local_sessions_enabled = boolean("localSessionsEnabled", false)?;
        server.local_sessions_upgrading_enabled = boolean("localSessionsUpgradingEnabled", false)?;
        let bind_retry = merged.get_integer(
            "zookeeper.electionPortBindRetry",
            DEFAULT_ELECTION_PORT_BIND_RETRY as i32,
        );
        let bind_retry = u32::try_from(bind_retry).unwrap_or_else(|_| {
            warn!(
                "zookeeper.electionPortBindRetry={} is negative; using {}",
                bind_retry, DEFAULT_ELECTION_PORT_BIND_RETRY
            );
            DEFAULT_ELECTION_PORT_BIND_RETRY
        });
        let member_hosts = verifier
            .all_members()
            .values()
            .filter_map(|m| m.addresses.first().map(|a| a.host.clone()))
            .collect();
        let quorum_auth = QuorumAuthConfig::from_config(
            &|key: &str| get(key).map(str::to_string),
            &server.system_properties,
            member_hosts,
        )?;
        let config = QuorumPeerConfig {
            server,
            client_port_configured,
            my_id,
            verifier,
            learner_type,
            init_limit,
            sync_limit,
            quorum_listen_on_all_ips: boolean("quorumListenOnAllIPs", false)?,
            multi_address_enabled: boolean("multiAddress.enabled", multi_address_property)?,
            reconfig_enabled: boolean("reconfigEnabled", false)?,
            standalone_enabled,
            dynamic_config_file: files.dynamic_path.clone(),
            next_verifier,
            cnx_timeout_ms: merged
                .get_long("zookeeper.cnxTimeout", DEFAULT_CNX_TIMEOUT_MS)
                .max(1),
            quorum_cnxn_timeout_ms: merged.get_long("zookeeper.quorumCnxnTimeoutMs", -1),
            election_port_bind_retry: bind_retry,
            min_notification_interval_ms: merged
                .get_long("zookeeper.fastleader.minNotificationInterval", 200)
                .max(1),
            max_notification_interval_ms: merged
                .get_long("zookeeper.fastleader.maxNotificationInterval", 60_000)
                .max(1),
            leader_serves: merged.get("zookeeper.leaderServes") != Some("no"),
            read_only_mode_enabled: system
                .get("readonlymode.enabled")
                .is_some_and(|v| v.eq_ignore_ascii_case("true")),
            max_role_hold_ms: merged
                .get_long_opt("zookeeper.quorum.maxRoleHoldMs")
                .and_then(|v| u64::try_from(v).ok()),
            quorum_tls: crate::config::quorum_tls::quorum_tls(
                get("sslQuorum"),
                get("portUnification"),
                get("sslQuorumReloadCertFiles"),
                &merged,
            )?
            .map(Arc::new),
            connect_to_learner_master_limit: int("connectToLearnerMasterLimit", 0)?.max(0) as u32,
            leader_connect_delay_during_retry_ms: merged
                .get_long("zookeeper.leaderConnectDelayDuringRetryMs", 100)
                .max(0) as u64,
            force_snapshot_sync: merged.get_boolean("zookeeper.forceSnapshotSync"),
            max_concurrent_snap_syncs: positive_property(
                &merged,
                "zookeeper.leader.maxConcurrentSnapSyncs",
                10,
            )?,
            max_concurrent_diff_syncs: positive_property(
                &merged,
                "zookeeper.leader.maxConcurrentDiffSyncs",
                100,
            )?,
            observer_master_port: None,
            observer_master_size_limit: merged
                .get_integer("zookeeper.observerMaster.sizeLimit", 32 * 1024 * 1024)
                .max(0) as usize,
            quorum_auth,
            quorum_cnxn_threads_size: int("quorum.cnxn.threads.size", 20)?,
        };
        if !config.verifier.all_members().contains_key(&my_id) {
            return Err(invalid(
                "myid",
                &my_id.to_string(),
                format!("My id {} not in the peer list", my_id),
            ));
        }
        // On an observer: sync from the followers' ObserverMasters at this
        // port. On a participant: serve observers there while following.
        let observer_master_port = int("observerMasterPort", 0)?;
        let mut config = config;
        config.observer_master_port = u16::try_from(observer_master_port).ok().filter(|p| *p > 0);
        let voters = config.verifier.voters().len();
        if let Some(warning) = voter_count_warning(voters) {
            warn!("{}", warning);
        }
        info!(
            "Quorum config: myid {}, {} voters, {} members, version {:x}",
            my_id,
            voters,
            config.verifier.all_members().len(),
            config.verifier.version()
        );
        Ok(config)
    }
}

/// The ensemble's `server.N` / `group` / `weight` / `version` pairs,
/// trimmed: from the dynamic file when there is one (which then may hold
/// nothing else, and the static file none of them), else from zoo.cfg.
fn ensemble_pairs(files: &ConfigFiles) -> Result<Vec<(String, String)>, ConfigError> {
    let props = &files.props;
    if files.dynamic.is_some() {
        if let Some((key, _)) = props
            .effective()
            .into_iter()
            .find(|(k, _)| is_ensemble_key(java_trim(k)) && *k != "version")
        {
            return Err(invalid(
                key,
                "",
                "must be in a separate dynamic config file",
            ));
        }
    }
    let source = files.dynamic.as_ref().unwrap_or(props);
    if files.dynamic.is_some() {
        if let Some((key, _)) = source
            .effective()
            .into_iter()
            .find(|(k, _)| !is_ensemble_key(java_trim(k)))
        {
            return Err(invalid(
                java_trim(key),
                "",
                "Unrecognised parameter in the dynamic config file",
            ));
        }
    }
    Ok(source
        .effective()
        .into_iter()
        .map(|(k, v)| (java_trim(k).to_string(), java_trim(v).to_string()))
        .filter(|(k, _)| is_ensemble_key(k))
        .collect())
}

/// The system properties in force: the `-D` flags, plus every zoo.cfg key
/// Java's parser does not know as `zookeeper.<key>` (as ServerConfig
/// merges them).
fn merged_system_properties(props: &Properties, system: &SystemProperties) -> SystemProperties {
    let mut merged = system.clone();
    for (key, value) in props.effective() {
        let key = java_trim(key);
        if !known_quorum_key(key) && !is_ensemble_key(key) {
            merged.set(&format!("zookeeper.{}", key), java_trim(value));
        }
    }
    merged
}

/// Java's warnings about the number of voters: none tolerated to fail
/// (<= 2), or an even number (no gain over one fewer).
fn voter_count_warning(voters: usize) -> Option<&'static str> {
    if voters <= 2 {
        Some("No server failure will be tolerated. You need at least 3 servers.")
    } else if voters.is_multiple_of(2) {
        Some("Non-optimal configuration, consider an odd number of servers.")
    } else {
        None
    }
}

/// `Integer.getInteger(name, default)` for a limit that must be positive:
/// Java's leader fails when it builds its sync throttlers with one that is
/// not, so we refuse to start instead, naming the property.
fn positive_property(
    merged: &SystemProperties,
    name: &str,
    default: i32,
) -> Result<i32, ConfigError> {
    let value = merged.get_integer(name, default);
    if value <= 0 {
        return Err(invalid(
            name,
            &value.to_string(),
            format!("maxConcurrentSyncs must be positive, was {}", value),
        ));
    }
    Ok(value)
}

/// Keys `QuorumPeerConfig.parseProperties` knows (they never become
/// `zookeeper.<key>` system properties).
fn known_quorum_key(key: &str) -> bool {
    const KNOWN: &[&str] = &[
        "dataDir",
        "dataLogDir",
        "clientPort",
        "localSessionsEnabled",
        "localSessionsUpgradingEnabled",
        "clientPortAddress",
        "secureClientPort",
        "secureClientPortAddress",
        "observerMasterPort",
        "clientPortListenBacklog",
        "tickTime",
        "maxClientCnxns",
        "minSessionTimeout",
        "maxSessionTimeout",
        "initLimit",
        "syncLimit",
        "connectToLearnerMasterLimit",
        "electionAlg",
        "quorumListenOnAllIPs",
        "peerType",
        "syncEnabled",
        "dynamicConfigFile",
        "autopurge.snapRetainCount",
        "autopurge.purgeInterval",
        "standaloneEnabled",
        "reconfigEnabled",
        "sslQuorum",
        "portUnification",
        "sslQuorumReloadCertFiles",
        "quorum.auth.enableSasl",
        "quorum.auth.serverRequireSasl",
        "quorum.auth.learnerRequireSasl",
        "quorum.auth.learner.saslLoginContext",
        "quorum.auth.server.saslLoginContext",
        "quorum.auth.kerberos.servicePrincipal",
        "quorum.cnxn.threads.size",
        "jvm.pause.info-threshold.ms",
        "jvm.pause.warn-threshold.ms",
        "jvm.pause.sleep.time.ms",
        "jvm.pause.monitor",
        "metricsProvider.className",
        "multiAddress.enabled",
        "multiAddress.reachabilityCheckTimeoutMs",
        "multiAddress.reachabilityCheckEnabled",
        "oraclePath",
    ];
    KNOWN.contains(&key) || key.starts_with("metricsProvider.")
}

/// zoo.cfg without the ensemble keys, with a client port ServerConfig can
/// use: the static one, else the one on my server line, else a
/// placeholder (and `false`: no client port). Also applies
/// `setupClientPort` to my entry of the member list.
fn standalone_part(
    props: &Properties,
    my_id: i64,
    verifier: &mut QuorumVerifier,
) -> Result<(Properties, bool), ConfigError> {
    let mut pairs: Vec<(String, String)> = props
        .raw_entries()
        .iter()
        .filter(|(k, _)| {
            let k = java_trim(k);
            !is_ensemble_key(k) && k != "standaloneEnabled" && k != "dynamicConfigFile"
        })
        .cloned()
        .collect();
    let static_port = props.get("clientPort").map(java_trim).filter(|p| *p != "0");
    let static_host = props
        .get("clientPortAddress")
        .map(java_trim)
        .unwrap_or("0.0.0.0")
        .to_string();
    let me = verifier.members_mut().all.get_mut(&my_id);
    let line_client = me.as_ref().and_then(|qs| qs.client_addr.clone());
    match (&line_client, static_port) {
        (Some(line), Some(port)) => {
            let static_port: u16 = port
                .parse()
                .map_err(|_| invalid("clientPort", port, "not a port"))?;
            let host_is_wildcard = HostPort {
                host: static_host.clone(),
                port: static_port,
            }
            .is_wildcard();
            let differs = if host_is_wildcard {
                static_port != line.port
            } else {
                static_port != line.port || static_host != line.host
            };
            if differs {
                return Err(invalid(
                    "clientPort",
                    port,
                    format!(
                        "client address for this server (id = {}) in static config file is {}:{} is different from client address found in dynamic file: {}",
                        my_id, static_host, static_port, line
                    ),
                ));
            }
        }
        (None, Some(port)) => {
            if let (Some(qs), Ok(port)) = (me, port.parse::<u16>()) {
                qs.client_addr = Some(HostPort {
                    host: static_host.clone(),
                    port,
                });
                qs.client_addr_from_static = true;
            }
        }
        _ => {}
    }
    let configured = match (line_client, static_port) {
        (Some(line), _) => {
            pairs.retain(|(k, _)| {
                java_trim(k) != "clientPort" && java_trim(k) != "clientPortAddress"
            });
            pairs.push(("clientPort".into(), line.port.to_string()));
            pairs.push(("clientPortAddress".into(), line.host));
            true
        }
        (None, Some(_)) => true,
        (None, None) => {
            info!("clientPort is not set");
            pairs.retain(|(k, _)| java_trim(k) != "clientPort");
            pairs.push(("clientPort".into(), "0".into()));
            false
        }
    };
    Ok((Properties::from_pairs(pairs), configured))
}

/// `setupMyId`: the first line of `<dataDir>/myid`.
fn read_my_id(data_dir: &Path) -> Result<i64, ConfigError> {
    let path = data_dir.join("myid");
    let text = match std::fs::read_to_string(&path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(invalid(
                "myid",
                &path.display().to_string(),
                "myid file is missing",
            ))
        }
        Err(source) => return Err(ConfigError::Read { path, source }),
    };
    let line = text.lines().next().unwrap_or("");
    line.parse::<i64>()
        .map_err(|_| invalid("myid", line, format!("serverid {} is not a number", line)))
}

/// `setupPeerType`: the server list decides; `peerType` only warns.
fn peer_type(
    configured: Option<&str>,
    verifier: &QuorumVerifier,
    my_id: i64,
) -> Result<LearnerType, ConfigError> {
    let configured = match configured {
        Some(v) => LearnerType::parse(v)
            .ok_or_else(|| invalid("peerType", v, "choose 'observer' or 'participant'"))?,
        None => LearnerType::Participant,
    };
    let by_list = match verifier.all_members().get(&my_id) {
        Some(qs) => qs.learner_type,
        None => LearnerType::Participant,
    };
    if by_list != configured {
        warn!(
            "Peer type from servers list ({}) doesn't match peerType ({}). Defaulting to servers list.",
            by_list.java_name(),
            configured.java_name()
        );
    }
    Ok(by_list)
}

fn invalid(key: &str, value: &str, reason: impl Into<String>) -> ConfigError {
    ConfigError::InvalidValue {
        key: key.to_string(),
        value: value.to_string(),
        reason: reason.into(),
    }
}

fn bool_value(key: &str, value: &str) -> Result<bool, ConfigError> {
    match value.to_ascii_lowercase().as_str() {
        "true" => Ok(true),
        "false" => Ok(false),
        _ => Err(invalid(key, value, "choose 'true' or 'false'")),
    }
}

#[cfg(test)]
#[path = "quorum_peer_config_tests.rs"]
mod tests;
