//! Quorum mode's entry point: when zoo.cfg describes an ensemble, parse the
//! quorum config, load the database and the epoch files, open the client
//! port (four-letter words), the AdminServer and `/metrics` (once for the
//! process, showing whichever role serves; see `quorum_serving`) and the
//! election port, start the election threads and the QuorumPeer main
//! thread, then wait for SIGTERM/SIGINT.
//!
//! Runs on the process's main thread; `zk-server`'s `main` calls
//! [`run_if_quorum`] first and falls back to standalone when it returns
//! `None`.
//!
//! Exit codes as Java's: 2 invalid config, 14 election port cannot be
//! bound (`UNABLE_TO_BIND_QUORUM_PORT`), 1 anything else (a metrics
//! provider that cannot start included). A taken admin port is only a
//! warning in quorum mode, as in Java's `QuorumPeer.start`.
//!
//! Mirrors: `org.apache.zookeeper.server.quorum.QuorumPeerMain`
//! (`initializeAndRun`, `runFromConfig`) and `QuorumPeer.start`.

use std::path::Path;
use std::process::exit;
use std::sync::Arc;
use std::thread;
use std::time::Duration;

use log::{error, info, warn};
use signal_hook::consts::{SIGINT, SIGTERM};
use signal_hook::iterator::Signals;

use super::auth::sasl_quorum_auth_learner::SaslQuorumAuthLearner;
use super::auth::sasl_quorum_auth_server::SaslQuorumAuthServer;
use super::epoch_files::load_epochs;
use super::fast_leader_election::{ElectionTiming, FastLeaderElection};
use super::quorum_client_port;
use super::quorum_cnx_manager::{CnxSettings, QuorumCnxManager};
use super::quorum_error::QuorumError;
use super::quorum_peer::{QuorumPeer, RoleContext, RoleSettings};
use super::quorum_peer_config::{is_quorum, read_config_files, QuorumPeerConfig};
use super::quorum_peer_reconfig::ReconfigSettings;
use super::quorum_serving::{start_endpoints, PeerServing};
use crate::config::config_error::EXIT_UNEXPECTED_ERROR;
use crate::config::quorum_peer_config_files::backup_old_config;
use crate::config::quorum_tls::QuorumTls;
use crate::config::system_properties::SystemProperties;
use crate::jute;
use crate::persistence::datadir_cleanup_manager::DatadirCleanupManager;
use crate::server::cert_file_reloader::CertFileReloader;
use crate::server::ephemeral_type::set_extended_types_enabled;
use crate::server::server_metrics::metrics;
use crate::server::zk_database::ZkDatabase;
use crate::server::zookeeper_critical_thread;

/// `sslQuorumReloadCertFiles`: a "CertReloader" thread that builds the
/// quorum's TLS sides again when a store file changes (connections made
/// from then on use them; a store that does not load keeps the old ones).
fn quorum_cert_reloader(config: &QuorumPeerConfig) -> std::io::Result<Option<CertFileReloader>> {
    let Some(tls) = config.quorum_tls.clone().filter(|t| t.reload_cert_files) else {
        return Ok(None);
    };
    let system = config.server.system_properties.clone();
    let files = QuorumTls::store_files(&system);
    info!(
        "watching {:?} for new quorum TLS certificates (sslQuorumReloadCertFiles)",
        files
    );
    let watched = files.clone();
    CertFileReloader::watch(files, move || match tls.reload(&system) {
        Ok(()) => info!("quorum TLS certificates reloaded from {:?}", watched),
        Err(e) => warn!(
            "quorum TLS certificates not reloaded, keeping the old ones: {}",
            e
        ),
    })
    .map(Some)
}

pub use super::quorum_error::EXIT_UNABLE_TO_BIND_QUORUM_PORT;
/// How long a clean shutdown may take.
const SHUTDOWN_DEADLINE: Duration = Duration::from_secs(10);

/// Runs a quorum peer if `args` is one zoo.cfg that describes an ensemble;
/// returns its exit code. `None` means "not quorum mode" (standalone, or a
/// config the standalone path should report on).
pub fn run_if_quorum(args: &[String], system: &SystemProperties) -> Option<i32> {
    let [path] = args else { return None };
    let path = Path::new(path);
    let files = read_config_files(path).ok()?;
    if !matches!(is_quorum(&files), Ok(true)) {
        return None;
    }
    info!("Reading configuration from: {}", path.display());
    let config = match QuorumPeerConfig::from_files(&files, Some(path), system) {
        Ok(config) => config,
        Err(e) => {
            error!("Invalid config, exiting abnormally: {}", e);
            eprintln!("Invalid config, exiting abnormally: {}", e);
            return Some(e.exit_code());
        }
    };
    // The Kerberos library reads these when it first runs; this is still
    // the only thread.
    for (name, value) in config
        .quorum_auth
        .iter()
        .flat_map(|a| a.kerberos_environment())
    {
        std::env::set_var(name, value);
    }
    Some(run(config))
}

/// Starts the peer from a validated config and serves until a signal;
/// returns the exit code.
pub fn run(config: QuorumPeerConfig) -> i32 {
    match serve(config) {
        Ok(()) => 0,
        Err(e) => {
            let report = exit_report(&e);
            for line in &report.log {
                error!("{}", line);
            }
            if let Some(line) = &report.stderr {
                eprintln!("{}", line);
            }
            report.code
        }
    }
}

/// What the process says and returns when startup fails.
#[derive(Debug, PartialEq, Eq)]
struct ExitReport {
    /// Error lines for the log, in order.
    log: Vec<String>,
    /// The line for stderr, if any.
    stderr: Option<String>,
    /// The exit code.
    code: i32,
}

/// The lines Java's QuorumPeerMain logs for `e` and the exit code: an
/// election port that cannot be bound is told as the listener thread
/// tells it (exit 14); anything else is an unexpected exception (exit 1),
/// and epochs that cannot be trusted also say the database did not load.
fn exit_report(e: &QuorumError) -> ExitReport {
    if let QuorumError::ElectionPort(bind) = e {
        return ExitReport {
            log: vec![
                bind.to_string(),
                "As I'm leaving the listener thread, I won't be able to participate in leader election any longer".to_string(),
            ],
            stderr: None,
            code: e.exit_code(),
        };
    }
    let line = format!("Unexpected exception, exiting abnormally: {}", e);
    let mut log = Vec::new();
    if let QuorumError::Epochs(epochs) = e {
        log.push(format!("Unable to load database on disk: {}", epochs));
    }
    log.push(line.clone());
    ExitReport {
        log,
        stderr: Some(line),
        code: e.exit_code(),
    }
}

/// Starts everything, then serves until a signal and shuts down.
fn serve(config: QuorumPeerConfig) -> Result<(), QuorumError> {
    jute::set_max_buffer(config.server.jute_max_buffer);
    jute::set_extra_max_buffer(config.server.jute_max_buffer_extra_size);
    // Before the tree is built: it decides how TTL and container owners
    // are read and shown (a TTL node's stat says ephemeralOwner 0).
    set_extended_types_enabled(config.server.extended_types_enabled);
    let signals = Signals::new([SIGTERM, SIGINT]).map_err(QuorumError::SignalHandlers)?;
    if config.server.protocol_trace {
        crate::server::protocol_trace::enable("protocolTrace=true");
    }
    info!("Starting quorum peer, myid={}", config.my_id);
    let db = ZkDatabase::open(&config.server)
        .map_err(|e| QuorumError::OpenDatabase(e.into()))
        .map(Arc::new)?;
    db.enable_committed_log();
    let last_zxid = db
        .load_database()
        .map_err(|e| QuorumError::LoadDatabase(e.into()))?;
    // Uptime (srvr, mntr) counts from here, as the standalone server's.
    metrics().server_started();
    let epochs = load_epochs(&db, last_zxid)?;
    let verifier = Arc::new(config.verifier.clone());
    db.init_config_in_zk_database(&verifier.to_string(), verifier.version());
    let tick = Duration::from_millis(config.server.tick_time.max(1) as u64);
    let role = RoleSettings {
        tick,
        listen_on_all_ips: config.quorum_listen_on_all_ips,
    };
    let peer = Arc::new(
        QuorumPeer::new(
            config.my_id,
            config.learner_type,
            verifier.clone(),
            last_zxid,
            epochs.current,
            epochs.accepted,
            role,
        )
        .with_reconfig(ReconfigSettings {
            enabled: config.reconfig_enabled,
            config_file: config.server.config_path.clone(),
            multi_address: config.multi_address_enabled,
        }),
    );
    if let Some(next) = &config.next_verifier {
        // A reconfig was proposed but not committed when this server
        // stopped: the proposal stays the last-seen config, so a leader
        // we elect offers it with NEWLEADER and activates it.
        info!(
            "Found a proposed config 0x{:x} in {}",
            next.version(),
            crate::config::quorum_peer_config_files::NEXT_DYNAMIC_SUFFIX
        );
        peer.set_last_seen_quorum_verifier(next.clone(), false);
    }
    if config.reconfig_enabled && config.dynamic_config_file.is_none() {
        // The members are still in zoo.cfg: keep the operator's file as
        // zoo.cfg.bak before the first activation rewrites it.
        if let Some(path) = &config.server.config_path {
            if let Err(e) = backup_old_config(path) {
                warn!("cannot back up {}: {}", path.display(), e);
            }
        }
    }
    let plain = config.server.client_port_address;
    let client_port = if plain.is_some() || config.server.client_tls.is_some() {
        let port = quorum_client_port::start(plain, peer.clone(), &config.server)
            .map_err(QuorumError::ClientPorts)?;
        Some(port)
    } else {
        None
    };
    let serving = Arc::new(PeerServing::new(peer.clone(), client_port));
    let mut endpoints = start_endpoints(&config.server, serving.clone())?;
    peer.attach_roles(RoleContext {
        db: db.clone(),
        config: Arc::new(config.clone()),
        serving,
    });
    let mut purge = DatadirCleanupManager::new(&config.server);
    purge.start();
    let Some(me) = verifier.all_members().get(&config.my_id) else {
        return Err(QuorumError::NotAMember(config.my_id));
    };
    let socket_timeout = Duration::from_millis(config.quorum_socket_timeout_ms().max(1) as u64);
    info!(
        "Using {}ms as the quorum cnxn socket timeout",
        socket_timeout.as_millis()
    );
    let _cert_reloader = quorum_cert_reloader(&config).map_err(QuorumError::CertReloader)?;
    let manager = QuorumCnxManager::new(
        CnxSettings {
            my_id: config.my_id,
            my_election_addrs: me.election_addrs(),
            listen_on_all_ips: config.quorum_listen_on_all_ips,
            multi_address: config.multi_address_enabled,
            connect_timeout: Duration::from_millis(config.cnx_timeout_ms as u64),
            handshake_timeout: socket_timeout,
            bind_retry: config.election_port_bind_retry,
            tls: config.quorum_tls.clone(),
            auth_server: config.quorum_auth.as_ref().map(SaslQuorumAuthServer::new),
            auth_learner: config.quorum_auth.as_ref().map(SaslQuorumAuthLearner::new),
            max_auth_threads: config.quorum_cnxn_threads_size.max(1) as usize,
            accept_unknown_sids: config.reconfig_enabled,
        },
        peer.shared_views(),
    );
    manager.start_listener()?;
    {
        let manager = Arc::downgrade(&manager);
        peer.on_config_activated(Box::new(move || {
            if let Some(m) = manager.upgrade() {
                m.follow_my_election_address();
            }
        }));
    }
    let timing = ElectionTiming {
        min_notification_interval: Duration::from_millis(
            config.min_notification_interval_ms as u64,
        ),
        max_notification_interval: Duration::from_millis(
            config.max_notification_interval_ms as u64,
        ),
        ..ElectionTiming::default()
    };
    let fle = FastLeaderElection::start(peer.clone(), manager.clone(), timing)
        .map_err(|e| QuorumError::Thread("election threads", e))?;
    let main_thread = {
        let (peer, fle) = (peer.clone(), fle.clone());
        thread::Builder::new()
            .name(format!("QuorumPeer[myid={}]", config.my_id))
            .spawn(move || {
                zookeeper_critical_thread::mark();
                peer.run(&fle)
            })
    };
    let main_thread = main_thread.map_err(|e| QuorumError::Thread("QuorumPeer thread", e))?;
    wait_for_signal(signals);
    start_watchdog();
    peer.shutdown();
    manager.halt();
    fle.shutdown();
    let _ = main_thread.join();
    endpoints.shutdown();
    drop(purge);
    if let Err(e) = db.close() {
        warn!("closing the database: {}", e);
    }
    info!("Shutdown complete");
    Ok(())
}

fn wait_for_signal(mut signals: Signals) {
    let signal = signals.forever().next();
    info!("Received signal {:?}, shutting down", signal);
    let spawned = thread::Builder::new()
        .name("signal-watch".into())
        .spawn(move || {
            if let Some(signal) = signals.forever().next() {
                error!(
                    "Received signal {} again during shutdown; exiting immediately",
                    signal
                );
                exit(128 + signal);
            }
        });
    if let Err(e) = spawned {
        warn!("cannot watch for a second signal: {}", e);
    }
}

fn start_watchdog() {
    let spawned = thread::Builder::new()
        .name("shutdown-watchdog".into())
        .spawn(|| {
            thread::sleep(SHUTDOWN_DEADLINE);
            error!(
                "Shutdown did not finish within {:?}; exiting",
                SHUTDOWN_DEADLINE
            );
            exit(EXIT_UNEXPECTED_ERROR);
        });
    if let Err(e) = spawned {
        warn!("cannot start the shutdown watchdog: {}", e);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::quorum::epoch_files::EpochError;
    use crate::quorum::quorum_cnx_manager::BindError;

    #[test]
    fn a_taken_election_port_is_told_as_the_listener_tells_it() {
        let e = QuorumError::from(BindError {
            addr: "127.0.0.1:3888".into(),
            attempts: 3,
            source: std::io::Error::from(std::io::ErrorKind::AddrInUse),
        });
        let report = exit_report(&e);
        assert_eq!(report.code, EXIT_UNABLE_TO_BIND_QUORUM_PORT);
        assert_eq!(report.stderr, None);
        assert_eq!(report.log.len(), 2);
        assert!(
            report.log[0]
                .starts_with("Leaving listener thread for address 127.0.0.1:3888 after 3 errors."),
            "{:?}",
            report
        );
        assert!(report.log[1].starts_with("As I'm leaving the listener thread"));
    }

    #[test]
    fn other_failures_are_unexpected_exceptions_and_bad_epochs_say_the_database_did_not_load() {
        let report = exit_report(&QuorumError::NotAMember(4));
        let line = "Unexpected exception, exiting abnormally: My id 4 not in the peer list";
        assert_eq!(
            report,
            ExitReport {
                log: vec![line.to_string()],
                stderr: Some(line.to_string()),
                code: EXIT_UNEXPECTED_ERROR,
            }
        );
        let report = exit_report(&QuorumError::from(EpochError::CurrentOlderThanZxid {
            current: 1,
            last_zxid: 0x200000005,
        }));
        let cause = "The current epoch, 0x1, is older than the last zxid, 8589934597";
        assert_eq!(
            report.log,
            vec![
                format!("Unable to load database on disk: {}", cause),
                format!(
                    "Unexpected exception, exiting abnormally: Unable to run quorum server: {}",
                    cause
                ),
            ]
        );
        assert_eq!(report.code, EXIT_UNEXPECTED_ERROR);
    }
}
