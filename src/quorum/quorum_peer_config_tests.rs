//! Table tests of the ensemble config: member lines, myid, client ports,
//! peer types, limits, dynamic files.
//!
//! Mirrors: `org.apache.zookeeper.server.quorum.QuorumPeerConfigTest`.

use super::*;

struct Dir(PathBuf);

impl Dir {
    fn new(tag: &str) -> Dir {
        let dir = std::env::temp_dir().join(format!("zkrs-qpc-{}-{}", tag, std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        Dir(dir)
    }
}

impl Drop for Dir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn parse(tag: &str, myid: Option<&str>, cfg: &str) -> (Dir, Result<QuorumPeerConfig, ConfigError>) {
    let dir = Dir::new(tag);
    if let Some(id) = myid {
        std::fs::write(dir.0.join("myid"), id).unwrap();
    }
    let text = format!("dataDir={}\ntickTime=2000\n{}", dir.0.display(), cfg);
    let path = dir.0.join("zoo.cfg");
    std::fs::write(&path, &text).unwrap();
    let files = read_config_files(&path).unwrap();
    let result = QuorumPeerConfig::from_files(&files, Some(&path), &SystemProperties::new());
    (dir, result)
}

const THREE: &str = "initLimit=5\nsyncLimit=2\nserver.1=127.0.0.1:2881:3881\nserver.2=127.0.0.1:2882:3882\nserver.3=127.0.0.1:2883:3883\n";

#[test]
fn a_three_server_ensemble() {
    let (_d, c) = parse("three", Some("2"), &format!("clientPort=2182\n{}", THREE));
    let c = c.unwrap();
    assert_eq!(c.my_id, 2);
    assert_eq!(c.learner_type, LearnerType::Participant);
    assert_eq!((c.init_limit, c.sync_limit), (5, 2));
    assert_eq!(c.server.client_port_address.map(|a| a.port()), Some(2182));
    assert!(c.client_port_configured);
    assert_eq!(c.verifier.voters().len(), 3);
    assert_eq!(c.quorum_socket_timeout_ms(), 4000);
    assert_eq!(c.cnx_timeout_ms, 5000);
    assert_eq!(c.election_port_bind_retry, 3);
    // The static client port is not part of the config text.
    assert!(c.verifier.to_string().starts_with(
        "server.1=127.0.0.1:2881:3881:participant\nserver.2=127.0.0.1:2882:3882:participant\n"
    ));
}

#[test]
fn client_port_from_the_server_line() {
    let cfg = "initLimit=5\nsyncLimit=2\nserver.1=127.0.0.1:2881:3881;127.0.0.1:2191\nserver.2=127.0.0.1:2882:3882;2192\n";
    let (_d, c) = parse("line", Some("1"), cfg);
    let c = c.unwrap();
    assert_eq!(
        c.server
            .client_port_address
            .map(|a| a.to_string())
            .as_deref(),
        Some("127.0.0.1:2191")
    );
    assert!(c
        .verifier
        .to_string()
        .contains("server.2=127.0.0.1:2882:3882:participant;0.0.0.0:2192"));
    // A different static port is refused.
    let (_d, c) = parse("line2", Some("1"), &format!("clientPort=2000\n{}", cfg));
    assert_eq!(c.unwrap_err().key(), Some("clientPort"));
    // Without any client port the peer runs without one.
    let (_d, c) = parse("none", Some("2"), THREE);
    let c = c.unwrap();
    assert!(!c.client_port_configured);
    assert_eq!(c.server.client_port_address, None);
}

#[test]
fn refusals_table() {
    let cases: [(&str, Option<&str>, String, &str); 6] = [
        ("nomyid", None, format!("clientPort=1\n{}", THREE), "myid"),
        (
            "badmyid",
            Some("x"),
            format!("clientPort=1\n{}", THREE),
            "myid",
        ),
        (
            "notpeer",
            Some("9"),
            format!("clientPort=1\n{}", THREE),
            "myid",
        ),
        (
            "noinit",
            Some("1"),
            format!("clientPort=1\nsyncLimit=2\n{}", &THREE[12..]),
            "initLimit",
        ),
        (
            "nosync",
            Some("1"),
            format!("clientPort=1\ninitLimit=2\n{}", &THREE[23..]),
            "syncLimit",
        ),
        (
            "samePort",
            Some("1"),
            "clientPort=1\ninitLimit=1\nsyncLimit=1\nserver.1=h:5:5\nserver.2=h:6:7\n".to_string(),
            "server.1",
        ),
    ];
    for (tag, myid, cfg, key) in cases {
        let (_d, c) = parse(tag, myid, &cfg);
        let err = c.expect_err(tag);
        assert_eq!(err.key(), Some(key), "{}: {}", tag, err);
    }
}

#[test]
fn observers_and_peer_type() {
    let cfg = format!(
        "clientPort=1\n{}server.4=127.0.0.1:2884:3884:observer\npeerType=participant\n",
        THREE
    );
    let (_d, c) = parse("obs", Some("4"), &cfg);
    let c = c.unwrap();
    assert_eq!(
        c.learner_type,
        LearnerType::Observer,
        "the server list wins over peerType"
    );
    assert!(!c.verifier.is_voter(4));
}

#[test]
fn hierarchical_and_dynamic_file() {
    let dir = Dir::new("dyn");
    std::fs::write(dir.0.join("myid"), "1").unwrap();
    let dynamic = dir.0.join("zoo.cfg.dynamic.100000000");
    std::fs::write(
        &dynamic,
        "server.1=127.0.0.1:2881:3881\nserver.2=127.0.0.1:2882:3882\ngroup.1=1:2\nweight.2=2\n",
    )
    .unwrap();
    let path = dir.0.join("zoo.cfg");
    std::fs::write(
        &path,
        format!(
            "dataDir={}\nclientPort=2181\ninitLimit=5\nsyncLimit=2\ndynamicConfigFile={}\n",
            dir.0.display(),
            dynamic.display()
        ),
    )
    .unwrap();
    let files = read_config_files(&path).unwrap();
    assert!(is_quorum(&files).unwrap());
    let c = QuorumPeerConfig::from_files(&files, Some(&path), &SystemProperties::new()).unwrap();
    assert_eq!(c.verifier.version(), 0x1_0000_0000);
    assert_eq!(c.verifier.weight(2), 2);
    assert!(c
        .verifier
        .to_string()
        .ends_with("group.1=1:2\nweight.1=1\nweight.2=2\nversion=100000000"));
    assert_eq!(
        version_from_filename("zoo.cfg.dynamic.0100"),
        Some("100".to_string())
    );
    assert_eq!(version_from_filename("zoo.cfg.dynamic"), None);
}

#[test]
fn system_properties_from_zoo_cfg() {
    let cfg = format!(
        "clientPort=1\ncnxTimeout=700\nelectionPortBindRetry=0\nquorumListenOnAllIPs=true\n{}",
        THREE
    );
    let (_d, c) = parse("sys", Some("1"), &cfg);
    let c = c.unwrap();
    assert_eq!(c.cnx_timeout_ms, 700);
    assert_eq!(c.election_port_bind_retry, 0);
    assert!(c.quorum_listen_on_all_ips);
}

#[test]
fn voter_counts_java_warns_about() {
    assert!(voter_count_warning(1)
        .unwrap()
        .contains("No server failure will be tolerated"));
    assert!(voter_count_warning(2)
        .unwrap()
        .contains("No server failure will be tolerated"));
    assert_eq!(voter_count_warning(3), None);
    assert!(voter_count_warning(4).unwrap().contains("odd number"));
    assert_eq!(voter_count_warning(5), None);
}

#[test]
fn local_sessions_and_read_only_mode_are_read() {
    let (_d, c) = parse(
        "localsess",
        Some("1"),
        &format!("clientPort=2182\nlocalSessionsEnabled=true\n{}", THREE),
    );
    let c = c.unwrap();
    assert!(c.server.local_sessions_enabled && !c.server.local_sessions_upgrading_enabled);
    let cfg = format!(
        "clientPort=2182\nlocalSessionsEnabled=true\nlocalSessionsUpgradingEnabled=true\n{}",
        THREE
    );
    assert!(
        parse("localsess-up", Some("1"), &cfg)
            .1
            .unwrap()
            .server
            .local_sessions_upgrading_enabled
    );
    let (_d, c) = parse(
        "localsess-bad",
        Some("1"),
        &format!("clientPort=2182\nlocalSessionsEnabled=yes\n{}", THREE),
    );
    assert_eq!(c.unwrap_err().key(), Some("localSessionsEnabled"));
    // Read-only mode: a system property, any case of "true" as Boolean.getBoolean.
    let dir = Dir::new("romode");
    std::fs::write(dir.0.join("myid"), "1").unwrap();
    let path = dir.0.join("zoo.cfg");
    std::fs::write(
        &path,
        format!(
            "dataDir={}\ntickTime=2000\nclientPort=2182\n{}",
            dir.0.display(),
            THREE
        ),
    )
    .unwrap();
    let files = read_config_files(&path).unwrap();
    for (value, enabled) in [
        ("TRUE", true),
        ("true", true),
        ("false", false),
        ("yes", false),
    ] {
        let mut system = SystemProperties::new();
        system.set("readonlymode.enabled", value);
        let config = QuorumPeerConfig::from_files(&files, Some(&path), &system).unwrap();
        assert_eq!(config.read_only_mode_enabled, enabled, "{}", value);
    }
    // A zoo.cfg key of that name is not the property (Java ignores it too).
    let (_d, c) = parse(
        "romode-key",
        Some("1"),
        &format!("clientPort=2182\nreadonlymode.enabled=true\n{}", THREE),
    );
    assert!(!c.unwrap().read_only_mode_enabled);
}

#[test]
fn an_observer_master_port_is_read_on_participants() {
    let (_d, c) = parse(
        "obsmaster",
        Some("1"),
        &format!("clientPort=2182\nobserverMasterPort=2191\n{}", THREE),
    );
    assert_eq!(c.unwrap().observer_master_port, Some(2191));
    let (_d, c) = parse(
        "obsmaster-off",
        Some("1"),
        &format!("clientPort=2182\nobserverMasterPort=0\n{}", THREE),
    );
    assert_eq!(
        c.unwrap().observer_master_port,
        None,
        "0 (or none) leaves observers on the leader, as Java"
    );
}

#[test]
fn learner_connection_and_sync_settings_are_typed() {
    let (_d, c) = parse("learnerdefaults", Some("1"), THREE);
    let c = c.unwrap();
    assert_eq!(c.connect_to_learner_master_limit, 0);
    assert_eq!(c.leader_connect_delay_during_retry_ms, 100);
    assert!(!c.force_snapshot_sync);
    let cfg = format!(
        "{}connectToLearnerMasterLimit=7\nleaderConnectDelayDuringRetryMs=250\nforceSnapshotSync=true\n",
        THREE
    );
    let (_d, c) = parse("learnerset", Some("1"), &cfg);
    let c = c.unwrap();
    assert_eq!(c.connect_to_learner_master_limit, 7);
    assert_eq!(c.leader_connect_delay_during_retry_ms, 250);
    assert!(c.force_snapshot_sync);
    let (_d, c) = parse(
        "learnerbad",
        Some("1"),
        &format!("{}connectToLearnerMasterLimit=x\n", THREE),
    );
    assert!(
        c.is_err(),
        "Java refuses a non-integer connectToLearnerMasterLimit"
    );
}

#[test]
fn sync_throttle_limits_are_read_and_must_be_positive() {
    let (_d, c) = parse(
        "throttle-default",
        Some("1"),
        &format!("clientPort=2182\n{}", THREE),
    );
    let c = c.unwrap();
    assert_eq!(
        (c.max_concurrent_snap_syncs, c.max_concurrent_diff_syncs),
        (10, 100)
    );
    let (_d, c) = parse(
        "throttle-set",
        Some("1"),
        &format!(
            "clientPort=2182\nleader.maxConcurrentSnapSyncs=2\nleader.maxConcurrentDiffSyncs=0x10\n{}",
            THREE
        ),
    );
    let c = c.unwrap();
    assert_eq!(
        (c.max_concurrent_snap_syncs, c.max_concurrent_diff_syncs),
        (2, 16)
    );
    let (_d, c) = parse(
        "throttle-zero",
        Some("1"),
        &format!(
            "clientPort=2182\nleader.maxConcurrentSnapSyncs=0\n{}",
            THREE
        ),
    );
    assert_eq!(
        c.unwrap_err().key(),
        Some("zookeeper.leader.maxConcurrentSnapSyncs")
    );
}

#[test]
fn a_next_dynamic_file_beside_a_dynamic_file_is_the_pending_config() {
    let dir = Dir::new("next");
    std::fs::write(dir.0.join("myid"), "1").unwrap();
    let dynamic = dir.0.join("zoo.cfg.dynamic.100000000");
    std::fs::write(
        &dynamic,
        "server.1=127.0.0.1:2881:3881;2181\nserver.2=127.0.0.1:2882:3882;2182\nserver.3=127.0.0.1:2883:3883;2183\n",
    )
    .unwrap();
    let path = dir.0.join("zoo.cfg");
    let with_dynamic = format!(
        "dataDir={}\ninitLimit=5\nsyncLimit=2\ndynamicConfigFile={}\n",
        dir.0.display(),
        dynamic.display()
    );
    std::fs::write(&path, &with_dynamic).unwrap();
    let read = |path: &Path| {
        let files = read_config_files(path).unwrap();
        QuorumPeerConfig::from_files(&files, Some(path), &SystemProperties::new())
    };
    assert!(read(&path).unwrap().next_verifier.is_none());
    std::fs::write(
        dir.0.join("zoo.cfg.dynamic.next"),
        "server.1=127.0.0.1:2881:3881;2181\nserver.3=127.0.0.1:2883:3883;2183\nversion=100000002\n",
    )
    .unwrap();
    let c = read(&path).unwrap();
    assert_eq!(c.verifier.version(), 0x1_0000_0000);
    let next = c.next_verifier.unwrap();
    assert_eq!(next.version(), 0x1_0000_0002);
    assert_eq!(next.voters().len(), 2);
    // Unreadable server lines stop startup, as Java's ConfigException does.
    std::fs::write(dir.0.join("zoo.cfg.dynamic.next"), "server.x=1\n").unwrap();
    assert!(read(&path).is_err());
    // Without a dynamic file the .next file is not read (Java's rule).
    std::fs::write(
        &path,
        format!(
            "dataDir={}\ninitLimit=5\nsyncLimit=2\n{}",
            dir.0.display(),
            THREE
        ),
    )
    .unwrap();
    assert!(read(&path).unwrap().next_verifier.is_none());
}
