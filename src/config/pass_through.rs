//! The settings Java reads as system properties (from `-D` flags, or from
//! zoo.cfg keys passed through as `zookeeper.<key>`), applied to a
//! [`ServerConfig`] with Java's defaults and its lenient parsing: garbage
//! means the default, with a warning where Java warns.
//!
//! Runs once, on the main thread, at the end of `ServerConfig` parsing.
//!
//! Mirrors: the `System.getProperty` / `Integer.getInteger` reads spread
//! over `ZooKeeperServer`, `FileTxnLog`, `FilePadding`, `SnapStream`,
//! `FileTxnSnapLog`, `ServerCnxnFactory`, `FourLetterCommands`,
//! `JettyAdminServer`, `BinaryInputArchive` and `ZooKeeperServerMain`.

use log::{error, warn};

use super::server_config::{java_trim, ServerConfig, SnapshotCompression, DEFAULT_JUTE_MAX_BUFFER};
use super::system_properties::{parse_long, SystemProperties};

/// Reads every setting Java takes from system properties, with Java's
/// defaults and its lenient parsing (garbage = default, with a warning
/// where Java warns).
pub(super) fn apply_system_properties(config: &mut ServerConfig, system: &SystemProperties) {
    let snap_count = system.get_integer("zookeeper.snapCount", 100_000);
    if snap_count < 2 {
        warn!("SnapCount should be 2 or more. Now, snapCount is reset to 2");
    }
    config.snap_count = snap_count.max(2) as u64;
    config.snap_size_limit_kb = system.get_long("zookeeper.snapSizeLimitInKb", 4_194_304);
    config.txn_log_size_limit_kb = system.get_long("zookeeper.txnLogSizeLimitInKb", -1);
    config.pre_alloc_size_kb = pre_alloc_size_kb(system);
    config.force_sync = system.get("zookeeper.forceSync").unwrap_or("yes") != "no";
    let fsync = system
        .get_long_opt("zookeeper.fsync.warningthresholdms")
        .unwrap_or_else(|| system.get_long("fsync.warningthresholdms", 1000));
    config.fsync_warning_threshold_ms = fsync.max(0) as u64;
    config.digest_enabled = system.get_boolean_or("zookeeper.digest.enabled", true);
    config.extended_types_enabled = system.get_boolean("zookeeper.extendedTypesEnabled");
    config.skip_acl = system.get("zookeeper.skipACL") == Some("yes");
    config.super_digest = system
        .get("zookeeper.DigestAuthenticationProvider.superDigest")
        .map(str::to_string);
    config.close_session_txn_enabled =
        system.get_boolean_or("zookeeper.closeSessionTxn.enabled", true);
    config.read_only_mode_enabled = system.get("readonlymode.enabled") == Some("true");
    config.four_letter_word_whitelist = parse_whitelist(
        system.get("zookeeper.4lw.commands.whitelist"),
        config.read_only_mode_enabled,
    );
    apply_container_and_storage(config, system);
    apply_limits(config, system);
    apply_admin(config, system);
}

/// `FilePadding`: `Long.parseLong(zookeeper.preAllocSize)`, warn on garbage.
fn pre_alloc_size_kb(system: &SystemProperties) -> u64 {
    match system.get("zookeeper.preAllocSize") {
        None => 65_536,
        Some(text) => match parse_long(text) {
            Some(kb) => kb.max(0) as u64,
            None => {
                warn!("{} is not a valid value for preAllocSize", text);
                65_536
            }
        },
    }
}

fn apply_container_and_storage(config: &mut ServerConfig, system: &SystemProperties) {
    config.container_check_interval_ms = system
        .get_integer("znode.container.checkIntervalMs", 60_000)
        .max(0) as u64;
    config.container_max_per_minute = system
        .get_integer("znode.container.maxPerMinute", 10_000)
        .max(0) as u32;
    config.container_max_never_used_interval_ms = system
        .get_long("znode.container.maxNeverUsedIntervalMs", 0)
        .max(0) as u64;
    config.snapshot_compression = match system
        .get("zookeeper.snapshot.compression.method")
        .unwrap_or("")
    {
        m if m.eq_ignore_ascii_case("gz") => SnapshotCompression::Gz,
        m if m.eq_ignore_ascii_case("snappy") => SnapshotCompression::Snappy,
        _ => SnapshotCompression::None,
    };
    config.snapshot_trust_empty = system.get_boolean("zookeeper.snapshot.trust.empty");
    config.datadir_autocreate = system.get_boolean_or("zookeeper.datadir.autocreate", true);
    config.db_autocreate = system.get_boolean_or("zookeeper.db.autocreate", true);
    config.enforce_quota = system.get_boolean("zookeeper.enforceQuota");
    config.serialize_last_processed_zxid_enabled =
        system.get_boolean_or("zookeeper.serializeLastProcessedZxid.enabled", true);
    config.snapshot_size_factor =
        snapshot_size_factor_of(system.get("zookeeper.snapshotSizeFactor"));
}

/// `zookeeper.snapshotSizeFactor` by default: a learner older than the
/// committed log is synced from the txn log while the log to read is at
/// most this fraction of the newest snapshot's size.
pub const DEFAULT_SNAPSHOT_SIZE_FACTOR: f64 = 0.33;

/// `zookeeper.snapshotSizeFactor` from its text: the default when unset,
/// unparsable, or above 1 (as Java).
pub fn snapshot_size_factor_of(value: Option<&str>) -> f64 {
    let Some(text) = value else {
        return DEFAULT_SNAPSHOT_SIZE_FACTOR;
    };
    match text.trim().parse::<f64>() {
        Ok(f) if f > 1.0 => {
            warn!(
                "The configured zookeeper.snapshotSizeFactor is invalid, going to use the default {}",
                DEFAULT_SNAPSHOT_SIZE_FACTOR
            );
            DEFAULT_SNAPSHOT_SIZE_FACTOR
        }
        Ok(f) if !f.is_nan() => f,
        _ => {
            error!(
                "Error parsing zookeeper.snapshotSizeFactor, using default value {}",
                DEFAULT_SNAPSHOT_SIZE_FACTOR
            );
            DEFAULT_SNAPSHOT_SIZE_FACTOR
        }
    }
}

fn apply_limits(config: &mut ServerConfig, system: &SystemProperties) {
    let max_cnxns = system.get_integer("zookeeper.maxCnxns", 0);
    if max_cnxns < 0 {
        warn!("maxCnxns should be greater than or equal to 0, using default value 0.");
    }
    config.max_cnxns = max_cnxns.max(0) as usize;
    config.global_outstanding_limit = system
        .get_integer("zookeeper.globalOutstandingLimit", 1000)
        .max(0) as usize;
    let max_buffer = system.get_integer("jute.maxbuffer", DEFAULT_JUTE_MAX_BUFFER as i32);
    config.jute_max_buffer = max_buffer.max(0) as usize;
    let extra = system.get_integer("zookeeper.jute.maxbuffer.extrasize", max_buffer);
    config.jute_max_buffer_extra_size = extra.max(1024) as usize;
    if system.get("zookeeper.jute.maxbuffer").is_some() {
        warn!(
            "jute.maxbuffer in zoo.cfg has no effect (Java reads it only as a JVM property); \
             pass -Djute.maxbuffer=<bytes> instead"
        );
    }
}

fn apply_admin(config: &mut ServerConfig, system: &SystemProperties) {
    config.admin_enable_server = system.get("zookeeper.admin.enableServer") != Some("false");
    config.admin_server_address = system
        .get("zookeeper.admin.serverAddress")
        .unwrap_or("0.0.0.0")
        .to_string();
    let port = system.get_integer("zookeeper.admin.serverPort", 8080);
    config.admin_server_port = u16::try_from(port).unwrap_or_else(|_| {
        warn!("admin.serverPort={} is out of range; using 8080", port);
        8080
    });
    config.admin_command_url = system
        .get("zookeeper.admin.commandURL")
        .unwrap_or("/commands")
        .to_string();
    config.admin_idle_timeout_ms = system
        .get_integer("zookeeper.admin.idleTimeout", 30_000)
        .max(0) as u64;
    // A value Java's Integer.parseInt rejects is refused by security_keys.
    config.admin_rate_limiter_interval_ms = system
        .get(ADMIN_RATE_LIMITER_INTERVAL)
        .and_then(parse_int)
        .unwrap_or(DEFAULT_ADMIN_RATE_LIMITER_INTERVAL_MS);
    config.admin_snapshot_enabled = system.get_boolean_or("zookeeper.admin.snapshot.enabled", true);
    config.ip_use_x_forwarded_for =
        system.get_boolean("zookeeper.IPAuthenticationProvider.usexforwardedfor");
}

/// `Commands.ADMIN_RATE_LIMITER_INTERVAL`.
pub const ADMIN_RATE_LIMITER_INTERVAL: &str = "zookeeper.admin.rateLimiterIntervalInMS";

/// Its default: five minutes.
pub const DEFAULT_ADMIN_RATE_LIMITER_INTERVAL_MS: i32 = 300_000;

/// `Integer.parseInt`: an optional sign, then decimal digits; must fit.
pub fn parse_int(text: &str) -> Option<i32> {
    let digits = text.strip_prefix(['+', '-']).unwrap_or(text);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse().ok()
}

/// `FourLetterCommands.isEnabled`'s list: comma-separated, trimmed, empty
/// entries skipped, `*` stops the scan (it means all); `isro` when
/// read-only mode is enabled; `srvr` always.
pub fn parse_whitelist(value: Option<&str>, read_only_mode: bool) -> Vec<String> {
    let mut list: Vec<String> = Vec::new();
    for item in value.unwrap_or("").split(',').map(java_trim) {
        if item == "*" {
            list.push("*".to_string());
            break;
        }
        if !item.is_empty() && !list.iter().any(|c| c == item) {
            list.push(item.to_string());
        }
    }
    for always in [read_only_mode.then_some("isro"), Some("srvr")]
        .into_iter()
        .flatten()
    {
        if !list.iter().any(|c| c == always) {
            list.push(always.to_string());
        }
    }
    list
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn admin_command_keys() {
        assert_eq!(parse_int("0"), Some(0));
        assert_eq!(parse_int("+600000"), Some(600_000));
        assert_eq!(parse_int("-1"), Some(-1));
        for bad in ["", "-", "5m", " 5", "0x10", "2147483648", "1.5"] {
            assert_eq!(parse_int(bad), None, "{:?}", bad);
        }
        let mut config =
            ServerConfig::with_defaults("/nonexistent", "127.0.0.1:2181".parse().unwrap());
        apply_admin(&mut config, &SystemProperties::new());
        assert_eq!(config.admin_rate_limiter_interval_ms, 300_000);
        assert!(config.admin_snapshot_enabled && !config.ip_use_x_forwarded_for);
        let mut system = SystemProperties::new();
        system.set(ADMIN_RATE_LIMITER_INTERVAL, "0");
        system.set("zookeeper.admin.snapshot.enabled", "yes");
        system.set(
            "zookeeper.IPAuthenticationProvider.usexforwardedfor",
            "TRUE",
        );
        apply_admin(&mut config, &system);
        assert_eq!(config.admin_rate_limiter_interval_ms, 0);
        assert!(
            !config.admin_snapshot_enabled,
            "only \"true\" is true, as in Java"
        );
        assert!(config.ip_use_x_forwarded_for);
    }

    #[test]
    fn snapshot_size_factor_parsing() {
        assert_eq!(snapshot_size_factor_of(None), DEFAULT_SNAPSHOT_SIZE_FACTOR);
        assert_eq!(snapshot_size_factor_of(Some(" 0.5 ")), 0.5);
        assert_eq!(snapshot_size_factor_of(Some("-1")), -1.0);
        assert_eq!(
            snapshot_size_factor_of(Some("2")),
            DEFAULT_SNAPSHOT_SIZE_FACTOR
        );
        assert_eq!(
            snapshot_size_factor_of(Some("x")),
            DEFAULT_SNAPSHOT_SIZE_FACTOR
        );
    }
}
