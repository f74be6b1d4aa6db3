//! The standalone server's boot: the `zk-server <zoo.cfg>` or `zk-server
//! <port> <dataDir> [tickTime] [maxClientCnxns]` command line as a
//! config, the data directory checks, the database load, the client
//! port (and the secure one), the AdminServer and `/metrics`, then the
//! wait for SIGTERM / SIGINT and a clean shutdown.
//!
//! Runs on the process's main thread; `src/main.rs` calls [`run`] once it
//! knows the config is not an ensemble's (that one goes to
//! `quorum::quorum_peer_main`). The first signal shuts down cleanly (stop
//! accepting, close connections, drain the pipeline and fsync, exit 0); a
//! second one exits at once with 128 + the signal number (143 for SIGTERM,
//! 130 for SIGINT, as a shell reports a process killed by it).
//!
//! Exit codes follow Java's `ExitCode`: 2 invalid invocation or config
//! (`INVALID_INVOCATION`), 3 data directory unusable
//! (`UNABLE_TO_ACCESS_DATADIR`), 1 anything else (`UNEXPECTED_ERROR`,
//! e.g. the client port is taken).
//!
//! Mirrors: `org.apache.zookeeper.server.ZooKeeperServerMain`
//! (`initializeAndRun`, `runFromConfig`).

use std::path::Path;
use std::process::exit;
use std::sync::Arc;
use std::time::Duration;

use log::{error, info, warn};
use signal_hook::consts::{SIGINT, SIGTERM};
use signal_hook::iterator::Signals;

use super::blocking_server_cnxn::TlsAcceptor;
use super::cert_file_reloader;
use super::server_cnxn_factory::{Limits, ServerCnxnFactory};
use super::server_metrics::{metrics, names::DB_INIT_TIME};
use super::zookeeper_server::ZooKeeperServer;
use crate::admin::admin_server::{AdminServer, EXIT_ERROR_STARTING_ADMIN_SERVER};
use crate::admin::prometheus::{self, PrometheusEndpoint};
use crate::config::client_tls::ClientTls;
use crate::config::config_error::{ConfigError, EXIT_INVALID_CONFIG, EXIT_UNEXPECTED_ERROR};
use crate::config::properties::Properties;
use crate::config::server_config::ServerConfig;
use crate::config::system_properties::SystemProperties;
use crate::jute;

/// `ExitCode.UNABLE_TO_ACCESS_DATADIR`.
const EXIT_DATADIR: i32 = 3;
/// How long a clean shutdown may take before the process gives up on it.
const SHUTDOWN_DEADLINE: Duration = Duration::from_secs(15);
const USAGE: &str =
    "Usage: zk-server [-Dname=value ...] configfile | port datadir [ticktime] [maxcnxns]";

/// Runs the standalone server from the command line (`-D` flags already
/// taken out into `system`); returns the exit code.
pub fn run(rest: &[String], system: &SystemProperties) -> i32 {
    let config = match load_config(rest, system) {
        Ok(config) => config,
        Err(code) => return code,
    };
    jute::set_max_buffer(config.jute_max_buffer);
    jute::set_extra_max_buffer(config.jute_max_buffer_extra_size);
    if config.protocol_trace {
        super::protocol_trace::enable("protocolTrace=true");
    }
    info!("Starting server with the effective configuration:");
    for line in config.effective_lines() {
        info!("  {}", line);
    }
    if let Err(message) = check_data_dirs(&config) {
        error!("Unable to access datadir, exiting abnormally: {}", message);
        eprintln!("Unable to access datadir, exiting abnormally: {}", message);
        return EXIT_DATADIR;
    }
    // Signals are caught from here on, so one arriving during startup is
    // not lost (it takes effect once startup is done).
    let signals = match Signals::new([SIGTERM, SIGINT]) {
        Ok(signals) => signals,
        Err(e) => return unexpected(&format!("cannot install signal handlers: {}", e)),
    };
    serve(config, signals)
}

/// Parses the command line into a config; `Err(exit code)` after printing
/// why.
fn load_config(rest: &[String], system: &SystemProperties) -> Result<ServerConfig, i32> {
    let parsed = match rest {
        [path] => ServerConfig::parse_file_with(Path::new(path), system),
        [port, data_dir, extra @ ..] if extra.len() <= 2 => {
            ServerConfig::from_properties_with(&short_form(port, data_dir, extra), None, system)
        }
        _ => {
            error!("Invalid arguments, exiting abnormally: {:?}", rest);
            eprintln!("{}", USAGE);
            return Err(EXIT_INVALID_CONFIG);
        }
    };
    parsed.map_err(|e| report_config_error(&e))
}

/// `port datadir [ticktime] [maxcnxns]` as properties.
fn short_form(port: &str, data_dir: &str, extra: &[String]) -> Properties {
    let mut pairs = vec![
        ("clientPort", port.to_string()),
        ("dataDir", data_dir.to_string()),
    ];
    let names = ["tickTime", "maxClientCnxns"];
    pairs.extend(names.iter().zip(extra).map(|(k, v)| (*k, v.clone())));
    Properties::from_pairs(pairs)
}

fn report_config_error(e: &ConfigError) -> i32 {
    match e {
        ConfigError::QuorumNotImplemented { .. } => {
            error!("{}", e);
            eprintln!("{}", e);
        }
        _ => {
            error!("Invalid config, exiting abnormally: {}", e);
            eprintln!("Invalid config, exiting abnormally: {}", e);
        }
    }
    e.exit_code()
}

fn unexpected(message: &str) -> i32 {
    error!("Unexpected exception, exiting abnormally: {}", message);
    eprintln!("Unexpected exception, exiting abnormally: {}", message);
    EXIT_UNEXPECTED_ERROR
}

/// The checks Java's `FileTxnSnapLog` turns into `DatadirException`, done
/// before anything is loaded: each data directory must be a directory, and
/// must exist when `zookeeper.datadir.autocreate=false`.
fn check_data_dirs(config: &ServerConfig) -> Result<(), String> {
    for dir in [&config.data_dir, &config.data_log_dir] {
        if dir.exists() && !dir.is_dir() {
            return Err(format!("{} is not a directory", dir.display()));
        }
        if !dir.join("version-2").is_dir() && !config.datadir_autocreate {
            return Err(format!(
                "Missing data directory {}, automatic data directory creation is disabled \
                 (zookeeper.datadir.autocreate is false). Please create this directory manually.",
                dir.join("version-2").display()
            ));
        }
    }
    Ok(())
}

/// The HTTP endpoints started next to the client port.
struct HttpEndpoints {
    admin: Option<AdminServer>,
    metrics: Option<PrometheusEndpoint>,
}

impl HttpEndpoints {
    fn shutdown(&mut self) {
        if let Some(admin) = self.admin.as_mut() {
            admin.shutdown();
        }
        if let Some(endpoint) = self.metrics.as_mut() {
            endpoint.shutdown();
        }
    }
}

/// Starts the Prometheus endpoint (if configured) and the AdminServer (if
/// enabled); `Err(exit code)` when one cannot start, as Java exits then.
fn start_http(
    zks: &Arc<ZooKeeperServer>,
    factory: &ServerCnxnFactory,
) -> Result<HttpEndpoints, i32> {
    let config = zks.config();
    let mut endpoints = HttpEndpoints {
        admin: None,
        metrics: None,
    };
    // The same checks and address as the quorum boot (quorum_serving).
    let metrics_address = prometheus::endpoint_address(config).map_err(|m| unexpected(&m))?;
    if let Some((host, port)) = metrics_address {
        match PrometheusEndpoint::start(&host, port, zks.clone(), factory.registry().clone()) {
            Ok(endpoint) => endpoints.metrics = Some(endpoint),
            Err(e) => {
                return Err(unexpected(&format!(
                    "Cannot boot MetricsProvider {}: Cannot start /metrics server: {}",
                    config.metrics_provider_class_name, e
                )))
            }
        }
    }
    if config.admin_enable_server {
        match AdminServer::start(zks.clone(), factory.registry().clone()) {
            Ok(admin) => endpoints.admin = Some(admin),
            Err(e) => {
                error!("Unable to start AdminServer, exiting abnormally: {}", e);
                eprintln!(
                    "Unable to start AdminServer, exiting abnormally: {} (choose another admin.serverPort, \
                     or set admin.enableServer=false, in the config)",
                    e
                );
                endpoints.shutdown();
                return Err(EXIT_ERROR_STARTING_ADMIN_SERVER);
            }
        }
    } else {
        info!("AdminServer disabled (admin.enableServer=false)");
    }
    Ok(endpoints)
}

/// Loads, binds, starts, waits for a signal, shuts down.
fn serve(config: ServerConfig, mut signals: Signals) -> i32 {
    // Java boots the metrics provider before anything else and stops when
    // it cannot: an unknown provider class is an error.
    if let Err(message) = prometheus::check_provider(&config) {
        return unexpected(&message);
    }
    let limits = Limits {
        max_cnxns: config.max_cnxns,
        max_client_cnxns: config.max_client_cnxns,
        listen_backlog: config.client_port_listen_backlog,
    };
    // Claim the port before touching the data, as Java does: a second
    // instance on the same config fails here without writing anything.
    // Without `clientPort` only the secure client port serves.
    let plain_listener = match config.client_port_address {
        Some(addr) => match ServerCnxnFactory::bind_listener(addr) {
            Ok(listener) => Some(listener),
            Err(e) => return unexpected(&e.to_string()),
        },
        None => None,
    };
    let loading = std::time::Instant::now();
    let zks = match ZooKeeperServer::new(config) {
        Ok(zks) => {
            metrics().server_started();
            metrics()
                .summary(DB_INIT_TIME)
                .add(loading.elapsed().as_millis() as i64);
            zks
        }
        Err(e) if e.is_permission_denied() => {
            error!("Unable to access datadir, exiting abnormally: {}", e);
            eprintln!("Unable to access datadir, exiting abnormally: {}", e);
            return EXIT_DATADIR;
        }
        Err(e) => return unexpected(&format!("cannot load the database: {}", e)),
    };
    let tls = match zks.config().client_tls.clone() {
        Some(tls) => match cert_file_reloader::acceptor(&tls, &zks.config().system_properties) {
            Ok((acceptor, reloader)) => Some((tls, acceptor, reloader)),
            Err(e) => {
                zks.shutdown();
                return unexpected(&format!("cannot start the certificate reloader: {}", e));
            }
        },
        None => None,
    };
    let plain = match plain_listener {
        Some(listener) => match ServerCnxnFactory::from_listener(listener, limits, zks.clone()) {
            Ok(factory) => Some(match &tls {
                Some((tls, acceptor, _)) if tls.port_unification => {
                    factory.with_port_unification(acceptor.clone())
                }
                _ => factory,
            }),
            Err(e) => {
                zks.shutdown();
                return unexpected(&e.to_string());
            }
        },
        None => None,
    };
    let secure = match &tls {
        Some((
            ClientTls {
                address: Some(address),
                ..
            },
            acceptor,
            _,
        )) => match secure_port(*address, acceptor.clone(), &zks, plain.as_ref(), limits) {
            Ok(secure) => Some(secure),
            Err(message) => {
                zks.shutdown();
                return unexpected(&message);
            }
        },
        _ => None,
    };
    // The configuration guarantees at least one of the two; the first
    // listener is the one the AdminServer and shutdown go through.
    let (factory, secure) = match (plain, secure) {
        (Some(plain), secure) => ((plain, ""), secure),
        (None, Some(secure)) => ((secure, "TLS "), None),
        (None, None) => {
            zks.shutdown();
            return unexpected("neither clientPort nor secureClientPort is configured");
        }
    };
    let (factory, first_kind) = factory;
    zks.startup();
    let mut endpoints = match start_http(&zks, &factory) {
        Ok(endpoints) => endpoints,
        Err(code) => {
            zks.shutdown();
            return code;
        }
    };
    let listeners =
        std::iter::once((&factory, first_kind)).chain(secure.as_ref().map(|s| (s, "TLS ")));
    for (listener, kind) in listeners {
        if let Err(e) = listener.start() {
            endpoints.shutdown();
            if let Some(secure) = &secure {
                secure.shutdown();
            }
            shutdown(&factory, &zks);
            return unexpected(&format!("cannot start the accept thread: {}", e));
        }
        info!(
            "Serving {}client connections on {}",
            kind,
            listener.local_addr()
        );
    }
    let reloader = tls.and_then(|(_, _, reloader)| reloader);
    let Some(signal) = signals.forever().next() else {
        return unexpected("signal handling stopped");
    };
    info!("Received signal {}, shutting down", signal_name(signal));
    exit_on_next_signal(signals);
    endpoints.shutdown();
    drop(reloader);
    if let Some(secure) = secure {
        secure.shutdown();
    }
    shutdown(&factory, &zks);
    0
}

/// The secure client port (`secureClientPort`), bound: a listener whose
/// connections run TLS first and share the plain port's registry (or
/// have their own when it is the only port).
fn secure_port(
    address: std::net::SocketAddr,
    acceptor: TlsAcceptor,
    zks: &Arc<ZooKeeperServer>,
    plain: Option<&ServerCnxnFactory>,
    limits: Limits,
) -> Result<ServerCnxnFactory, String> {
    let listener = ServerCnxnFactory::bind_listener(address).map_err(|e| e.to_string())?;
    let secure = ServerCnxnFactory::from_listener(listener, limits, zks.clone())
        .map_err(|e| e.to_string())?;
    let registry = plain.unwrap_or(&secure).registry().clone();
    Ok(secure.with_tls(acceptor, registry))
}

/// Clean shutdown, bounded by [`SHUTDOWN_DEADLINE`].
fn shutdown(factory: &ServerCnxnFactory, zks: &Arc<ZooKeeperServer>) {
    let watchdog = std::thread::Builder::new()
        .name("shutdown-watchdog".into())
        .spawn(|| {
            std::thread::sleep(SHUTDOWN_DEADLINE);
            error!(
                "Shutdown did not finish within {:?}; exiting",
                SHUTDOWN_DEADLINE
            );
            exit(EXIT_UNEXPECTED_ERROR);
        });
    if let Err(e) = watchdog {
        warn!("cannot start the shutdown watchdog: {}", e);
    }
    factory.shutdown();
    zks.shutdown();
    info!("Shutdown complete");
}

/// A second signal during shutdown ends the process at once.
fn exit_on_next_signal(mut signals: Signals) {
    let spawned = std::thread::Builder::new()
        .name("signal-watch".into())
        .spawn(move || {
            if let Some(signal) = signals.forever().next() {
                error!(
                    "Received {} again during shutdown; exiting immediately",
                    signal_name(signal)
                );
                exit(128 + signal);
            }
        });
    if let Err(e) = spawned {
        warn!("cannot watch for a second signal: {}", e);
    }
}

fn signal_name(signal: i32) -> &'static str {
    match signal {
        SIGTERM => "SIGTERM",
        SIGINT => "SIGINT",
        _ => "signal",
    }
}
