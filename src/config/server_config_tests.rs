//! Unit tests for `ServerConfig` validation: defaults, every rule, and
//! that each error names the key, the value and the reason.
//!
//! Mirrors: `org.apache.zookeeper.ServerConfigTest`.

use super::*;

fn parse(text: &str) -> Result<ServerConfig, ConfigError> {
    ServerConfig::from_properties(&Properties::parse(text).unwrap())
}

fn parse_with(text: &str, flags: &[(&str, &str)]) -> Result<ServerConfig, ConfigError> {
    let mut system = SystemProperties::new();
    for (k, v) in flags {
        system.set(k, v);
    }
    ServerConfig::from_properties_with(&Properties::parse(text).unwrap(), None, &system)
}

const MINIMAL: &str = "dataDir=/tmp/zk\nclientPort=2181\n";

fn error_of(text: &str) -> ConfigError {
    match parse(text) {
        Ok(_) => panic!("config was accepted: {:?}", text),
        Err(e) => e,
    }
}

#[test]
fn minimal_config_gets_java_defaults() {
    let c = parse(MINIMAL).unwrap();
    assert_eq!(c.client_port_address, Some("0.0.0.0:2181".parse().unwrap()));
    assert_eq!(c.data_dir, PathBuf::from("/tmp/zk"));
    assert_eq!(c.data_log_dir, PathBuf::from("/tmp/zk"));
    assert_eq!(c.tick_time, 3000);
    assert_eq!(
        (c.min_session_timeout, c.max_session_timeout),
        (6000, 60000)
    );
    assert_eq!(c.max_client_cnxns, 60);
    assert_eq!(c.max_cnxns, 0);
    assert_eq!(c.global_outstanding_limit, 1000);
    assert_eq!(c.snap_count, 100_000);
    assert_eq!(c.snap_size_limit_kb, 4_194_304);
    assert_eq!(c.txn_log_size_limit_kb, -1);
    assert_eq!(c.pre_alloc_size_kb, 65_536);
    assert!(c.force_sync && c.digest_enabled && c.close_session_txn_enabled);
    assert!(!c.skip_acl && !c.extended_types_enabled && !c.snapshot_trust_empty);
    assert_eq!(c.four_letter_word_whitelist, vec!["srvr".to_string()]);
    assert_eq!(c.snapshot_compression, SnapshotCompression::None);
    assert_eq!(c.autopurge_snap_retain_count, 3);
    assert_eq!(c.autopurge_purge_interval_hours, 0);
    assert_eq!(c.jute_max_buffer, 0xfffff);
    assert!(c.admin_enable_server);
    assert_eq!(c.admin_server_port, 8080);
    assert_eq!(c.admin_command_url, "/commands");
    assert_eq!(c.client_port_listen_backlog, -1);
    assert!(c.datadir_autocreate);
    assert!(c.db_autocreate);
}

#[test]
fn autocreate_switches_from_jvm_flags_and_zoo_cfg() {
    let flags = [
        ("zookeeper.db.autocreate", "false"),
        ("zookeeper.datadir.autocreate", "false"),
    ];
    let c = parse_with(MINIMAL, &flags).unwrap();
    assert!(!c.db_autocreate && !c.datadir_autocreate);
    // A zoo.cfg line wins over the flag.
    let c = parse_with(&format!("{}db.autocreate=true\n", MINIMAL), &flags).unwrap();
    assert!(c.db_autocreate);
}

#[test]
fn snapshot_settings_from_jvm_flags_and_zoo_cfg() {
    let c = parse(MINIMAL).unwrap();
    assert!(c.serialize_last_processed_zxid_enabled);
    assert_eq!(c.snapshot_size_factor, 0.33);
    let flags = [("zookeeper.serializeLastProcessedZxid.enabled", "false")];
    let c = parse_with(&format!("{}snapshotSizeFactor=-1\n", MINIMAL), &flags).unwrap();
    assert!(!c.serialize_last_processed_zxid_enabled);
    assert_eq!(c.snapshot_size_factor, -1.0);
    let c = parse(&format!(
        "{}serializeLastProcessedZxid.enabled=false\n",
        MINIMAL
    ))
    .unwrap();
    assert!(!c.serialize_last_processed_zxid_enabled);
}

#[test]
fn reconfig_enabled_is_a_typed_setting() {
    assert!(!parse(MINIMAL).unwrap().reconfig_enabled);
    let c = parse(&format!("{}reconfigEnabled= TRUE \n", MINIMAL)).unwrap();
    assert!(c.reconfig_enabled);
    let c = parse(&format!("{}reconfigEnabled=false\n", MINIMAL)).unwrap();
    assert!(!c.reconfig_enabled);
}

#[test]
fn sample_cfg_values() {
    let c = parse(
        "tickTime=2000\ninitLimit=10\nsyncLimit=5\ndataDir=/tmp/zookeeper\nclientPort=2181\n",
    )
    .unwrap();
    assert_eq!(c.tick_time, 2000);
    assert_eq!(
        (c.min_session_timeout, c.max_session_timeout),
        (4000, 40000)
    );
}

#[test]
fn keys_and_values_are_trimmed_and_last_wins() {
    let c = parse("dataDir = /tmp/a  \nclientPort:1\nclientPort 2182\n").unwrap();
    assert_eq!(c.data_dir, PathBuf::from("/tmp/a"));
    assert_eq!(c.client_port_address.map(|a| a.port()), Some(2182));
    assert_eq!(c.raw.get("clientPort").map(String::as_str), Some("2182"));
}

#[test]
fn data_dir_paths_are_normalised_like_java_file() {
    let c = parse("dataDir=/tmp//zk/\ndataLogDir=logs\nclientPort=1\n").unwrap();
    assert_eq!(c.data_dir, PathBuf::from("/tmp/zk"));
    assert_eq!(
        c.data_log_dir,
        PathBuf::from("logs"),
        "relative paths stay relative to the cwd"
    );
}

#[test]
fn client_port_address_and_ephemeral_port() {
    let c = parse("dataDir=/d\nclientPort=0\nclientPortAddress=127.0.0.1\n").unwrap();
    assert_eq!(c.client_port_address, Some("127.0.0.1:0".parse().unwrap()));
    let c = parse("dataDir=/d\nclientPort=5\nclientPortAddress=[::1]\n").unwrap();
    assert_eq!(c.client_port_address, Some("[::1]:5".parse().unwrap()));
}

#[test]
fn a_secure_client_port_alone_needs_no_client_port() {
    // Without clientPort the secure port alone serves: what stops this
    // config is the missing key store, not the missing clientPort.
    let e = error_of("dataDir=/d\nsecureClientPort=5\n");
    assert_eq!(e.key(), Some("ssl.keyStore.location"), "{}", e);
    assert_eq!(error_of("dataDir=/d\n").key(), Some("clientPort"));
}

#[test]
fn unknown_keys_become_zookeeper_system_properties() {
    let c = parse(
        "dataDir=/d\nclientPort=1\nsnapCount=7\n4lw.commands.whitelist=ruok, stat ,,\n\
         skipACL=yes\nforceSync=no\nDigestAuthenticationProvider.superDigest=super:abc\n\
         maxCnxns=10\nglobalOutstandingLimit=5\nsnapshot.compression.method=GZ\n\
         extendedTypesEnabled=True\ndigest.enabled=nope\nadmin.enableServer=false\n\
         admin.serverPort=9090\npreAllocSize=16\nfsync.warningthresholdms=50\nfoo.bar=baz\n",
    )
    .unwrap();
    assert_eq!(c.system_properties.get("zookeeper.foo.bar"), Some("baz"));
    assert_eq!(c.system_properties.get("zookeeper.snapCount"), Some("7"));
    assert_eq!(c.snap_count, 7);
    assert_eq!(c.four_letter_word_whitelist, vec!["ruok", "stat", "srvr"]);
    assert!(c.skip_acl);
    assert!(!c.force_sync);
    assert_eq!(c.super_digest.as_deref(), Some("super:abc"));
    assert_eq!(c.max_cnxns, 10);
    assert_eq!(c.global_outstanding_limit, 5);
    assert_eq!(c.snapshot_compression, SnapshotCompression::Gz);
    assert!(c.extended_types_enabled);
    assert!(
        !c.digest_enabled,
        "Boolean.parseBoolean: anything but 'true' is false"
    );
    assert!(!c.admin_enable_server);
    assert_eq!(c.admin_server_port, 9090);
    assert_eq!(c.pre_alloc_size_kb, 16);
    assert_eq!(c.fsync_warning_threshold_ms, 50);
    // Known keys are not turned into system properties.
    assert_eq!(c.system_properties.get("zookeeper.dataDir"), None);
}

#[test]
fn lenient_system_property_parsing_keeps_defaults() {
    let c = parse("dataDir=/d\nclientPort=1\nsnapCount=lots\nmaxCnxns=-3\npreAllocSize=0x10\n")
        .unwrap();
    assert_eq!(
        c.snap_count, 100_000,
        "Integer.getInteger falls back to the default"
    );
    assert_eq!(c.max_cnxns, 0, "negative maxCnxns means the default");
    assert_eq!(c.pre_alloc_size_kb, 65_536, "Long.parseLong rejects hex");
    let c = parse("dataDir=/d\nclientPort=1\nsnapCount=0x10\n").unwrap();
    assert_eq!(c.snap_count, 16, "Integer.getInteger decodes hex");
    let c = parse("dataDir=/d\nclientPort=1\nsnapCount=1\n").unwrap();
    assert_eq!(c.snap_count, 2, "snapCount is at least 2");
}

#[test]
fn whitelist_star_and_read_only_mode() {
    assert_eq!(parse_whitelist(Some("*"), false), vec!["*", "srvr"]);
    assert_eq!(
        parse_whitelist(Some("ruok,*,stat"), false),
        vec!["ruok", "*", "srvr"]
    );
    assert_eq!(parse_whitelist(None, true), vec!["isro", "srvr"]);
    assert_eq!(
        parse_whitelist(Some(" srvr , ruok"), false),
        vec!["srvr", "ruok"]
    );
}

#[test]
fn dash_d_flags_and_zoo_cfg_precedence() {
    let c = parse_with(
        MINIMAL,
        &[
            ("jute.maxbuffer", "4096"),
            ("znode.container.maxPerMinute", "7"),
        ],
    )
    .unwrap();
    assert_eq!(c.jute_max_buffer, 4096);
    assert_eq!(c.jute_max_buffer_extra_size, 4096);
    assert_eq!(c.container_max_per_minute, 7);
    // zoo.cfg's `jute.maxbuffer` is `zookeeper.jute.maxbuffer`: ignored.
    let c = parse("dataDir=/d\nclientPort=1\njute.maxbuffer=10\n").unwrap();
    assert_eq!(c.jute_max_buffer, 0xfffff);
    // zoo.cfg overrides a -D flag of the same (prefixed) name.
    let c = parse_with(
        "dataDir=/d\nclientPort=1\nsnapCount=9\n",
        &[("zookeeper.snapCount", "8")],
    )
    .unwrap();
    assert_eq!(c.snap_count, 9);
}

#[test]
fn session_timeouts() {
    let c = parse("dataDir=/d\nclientPort=1\ntickTime=100\nminSessionTimeout=50\n").unwrap();
    assert_eq!((c.min_session_timeout, c.max_session_timeout), (50, 2000));
    let e = error_of("dataDir=/d\nclientPort=1\nminSessionTimeout=5000\nmaxSessionTimeout=4000\n");
    assert_eq!(e.key(), Some("minSessionTimeout"));
    assert!(e.to_string().contains("5000") && e.to_string().contains("maxSessionTimeout"));
}

#[test]
fn negative_tick_time_is_accepted_with_explicit_timeouts_as_in_java() {
    let c = parse("dataDir=/d\nclientPort=1\ntickTime=-2000\nminSessionTimeout=4000\nmaxSessionTimeout=40000\n")
        .unwrap();
    assert_eq!(c.tick_time, -2000);
    assert_eq!(
        (c.min_session_timeout, c.max_session_timeout),
        (4000, 40000)
    );
    let e = error_of("dataDir=/d\nclientPort=1\ntickTime=-1\n");
    assert_eq!(e.key(), Some("minSessionTimeout"));
    assert!(e.to_string().contains("derived"), "{}", e);
}

#[test]
fn derived_timeouts_wrap_like_java_int_arithmetic() {
    // 2^30 x 2 wraps to i32::MIN and 2^30 x 20 to 0, so min <= max.
    let c = parse("dataDir=/d\nclientPort=1\ntickTime=1073741824\n").unwrap();
    assert_eq!(c.min_session_timeout, i32::MIN);
    assert_eq!(c.max_session_timeout, 1073741824i32.wrapping_mul(20));
}

#[test]
fn snap_retain_count_below_three_is_raised() {
    let c =
        parse("dataDir=/d\nclientPort=1\nautopurge.snapRetainCount=1\nautopurge.purgeInterval=2\n")
            .unwrap();
    assert_eq!(c.autopurge_snap_retain_count, 3);
    assert_eq!(c.autopurge_purge_interval_hours, 2);
}

/// Each rejected config: (text, key the error must name, value it must quote).
#[test]
fn every_error_names_key_value_and_reason() {
    let cases: &[(&str, &str, &str)] = &[
        ("clientPort=1\n", "dataDir", ""),
        ("dataDir=/d\n", "clientPort", ""),
        ("dataDir=/d\nclientPort=abc\n", "clientPort", "abc"),
        ("dataDir=/d\nclientPort=70000\n", "clientPort", "70000"),
        ("dataDir=/d\nclientPort=0x10\n", "clientPort", "0x10"),
        ("dataDir=/d\nclientPort=1\ntickTime=0\n", "tickTime", "0"),
        // No sign check in Java: the derived timeouts (-10 > -100) fail.
        (
            "dataDir=/d\nclientPort=1\ntickTime=-5\n",
            "minSessionTimeout",
            "-10",
        ),
        ("dataDir=/d\nclientPort=1\ntickTime=2s\n", "tickTime", "2s"),
        (
            "dataDir=/d\nclientPort=1\nmaxClientCnxns=many\n",
            "maxClientCnxns",
            "many",
        ),
        (
            "dataDir=/d\nclientPortAddress=1.2.3.4\n",
            "clientPortAddress",
            "1.2.3.4",
        ),
        (
            "dataDir=/d\nclientPort=1\nelectionAlg=1\n",
            "electionAlg",
            "1",
        ),
        (
            "dataDir=/d\nclientPort=1\npeerType=boss\n",
            "peerType",
            "boss",
        ),
        (
            "dataDir=/d\nclientPort=1\nstandaloneEnabled=yes\n",
            "standaloneEnabled",
            "yes",
        ),
        (
            "dataDir=/d\nclientPort=1\nreconfigEnabled=1\n",
            "reconfigEnabled",
            "1",
        ),
        (
            "dataDir=/d\nclientPort=1\ninitLimit=ten\n",
            "initLimit",
            "ten",
        ),
        (
            "dataDir=/d\nclientPort=1\nautopurge.purgeInterval=x\n",
            "autopurge.purgeInterval",
            "x",
        ),
        (
            "dataDir=/d\nclientPort=1\nmetricsProvider.className=a.B\n",
            "metricsProvider.className",
            "a.B",
        ),
        (
            "dataDir=/d\nclientPort=1\nsecureClientPortAddress=h\n",
            "secureClientPortAddress",
            "h",
        ),
        (
            "dataDir=/d\nclientPort=1\nquorum.auth.serverRequireSasl=true\n",
            "quorum.auth.serverRequireSasl",
            "true",
        ),
        (
            "dataDir=/d\nclientPort=1\ndynamicConfigFile=x\nserver.1=a:1:2\n",
            "server.1",
            "a:1:2",
        ),
        (
            "dataDir=/d\nclientPort=1\nserver.one=a:1:2\n",
            "server.one",
            "a:1:2",
        ),
        ("dataDir=\nclientPort=1\n", "dataDir", ""),
    ];
    for (text, key, value) in cases {
        let err = error_of(text);
        assert_eq!(err.key(), Some(*key), "for {:?}: {}", text, err);
        let message = err.to_string();
        assert!(message.contains(key), "{:?} does not name {}", message, key);
        assert!(
            message.contains(value),
            "{:?} does not quote {:?}",
            message,
            value
        );
        assert_eq!(
            err.exit_code(),
            2,
            "config errors exit like ExitCode.INVALID_INVOCATION"
        );
    }
}

#[test]
fn two_voting_servers_means_quorum_mode() {
    let e = error_of("dataDir=/d\nclientPort=1\nserver.1=a:1:2\nserver.2=b:1:2\n");
    assert!(matches!(
        e,
        ConfigError::QuorumNotImplemented { voting_members: 2 }
    ));
    assert!(e.to_string().contains("a quorum peer's config"));
    assert_ne!(e.exit_code(), 0);
    // One server line: standalone, the line is ignored (as Java does).
    assert!(parse("dataDir=/d\nclientPort=1\nserver.1=a:1:2\n").is_ok());
    // A server line becomes a system property too, as in Java.
    let c = parse("dataDir=/d\nclientPort=1\nserver.1=a:1:2\n").unwrap();
    assert_eq!(c.system_properties.get("zookeeper.server.1"), Some("a:1:2"));
}

#[test]
fn dynamic_config_file_supplies_the_server_lines() {
    let props = Properties::parse("dataDir=/d\nclientPort=1\ndynamicConfigFile=zoo.dyn\n").unwrap();
    let dynamic = Properties::parse("server.1=a:1:2\nserver.2=b:1:2\n").unwrap();
    let e = ServerConfig::from_properties_with(&props, Some(&dynamic), &SystemProperties::new())
        .unwrap_err();
    assert!(matches!(e, ConfigError::QuorumNotImplemented { .. }));
}

#[test]
fn parse_file_reads_file_and_reports_missing_files() {
    let dir = std::env::temp_dir().join(format!("zkrs-cfg-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("zoo.cfg");
    std::fs::write(&path, "# sample\ndataDir=/tmp/zk\nclientPort=2181\n").unwrap();
    let c = ServerConfig::parse_file(&path).unwrap();
    assert_eq!(c.config_path.as_deref(), Some(path.as_path()));
    assert!(c.initial_config.starts_with("# sample"));
    let missing = dir.join("nope.cfg");
    let e = ServerConfig::parse_file(&missing).unwrap_err();
    assert!(matches!(e, ConfigError::Read { .. }));
    assert!(e.to_string().contains("nope.cfg"));
    std::fs::write(&path, "dataDir=\\u00zz\n").unwrap();
    assert!(matches!(
        ServerConfig::parse_file(&path),
        Err(ConfigError::Syntax { .. })
    ));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn effective_lines_use_java_key_names() {
    let lines = parse(MINIMAL).unwrap().effective_lines();
    assert!(lines.contains(&"tickTime=3000".to_string()));
    assert!(lines.contains(&"dataDir=/tmp/zk".to_string()));
    assert!(lines.contains(&"4lw.commands.whitelist=srvr".to_string()));
}

#[test]
fn protocol_trace_is_a_typed_key_off_by_default() {
    assert!(!parse(MINIMAL).unwrap().protocol_trace);
    let on = parse(&format!("{}protocolTrace=true\n", MINIMAL)).unwrap();
    assert!(on.protocol_trace);
    // Known, so not passed on as the system property zookeeper.protocolTrace.
    assert!(on
        .system_properties
        .get("zookeeper.protocolTrace")
        .is_none());
    assert!(
        !parse(&format!("{}protocolTrace=False\n", MINIMAL))
            .unwrap()
            .protocol_trace
    );
    let e = error_of(&format!("{}protocolTrace=yes\n", MINIMAL));
    assert!(e.to_string().contains("protocolTrace"), "{}", e);
}
