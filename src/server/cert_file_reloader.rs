//! `client.certReload`: new key and trust store files on disk are served
//! to new TLS connections without a restart. A watcher thread looks at
//! the stores' modification times and sizes once a second; when either
//! changed it builds the whole TLS server side again from the same
//! settings and, if that works, swaps it in for connections accepted from
//! then on (live connections keep their session). A store that cannot be
//! used (half written, wrong password) is logged and the previous
//! certificates stay in service until a later change works.
//!
//! Threads: one "CertReloader" thread, started with the secure port and
//! stopped with it.
//!
//! Mirrors: `X509Util.enableCertFileReloading` with
//! `common.FileChangeWatcher` (Java watches the stores' directories).

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, RwLock};
use std::thread::JoinHandle;
use std::time::{Duration, SystemTime};

use log::{info, warn};

use super::blocking_server_cnxn::TlsAcceptor;
use crate::config::client_tls;
use crate::config::system_properties::SystemProperties;

/// How often the store files are looked at.
const POLL: Duration = Duration::from_secs(1);

/// The TLS server side new connections get; swapped on reload.
pub type SharedTlsConfig = Arc<RwLock<Arc<rustls::ServerConfig>>>;

/// The TLS side of the client ports from `tls`, and its reloader when
/// `client.certReload` is true (stop it by dropping it).
pub fn acceptor(
    tls: &client_tls::ClientTls,
    system: &SystemProperties,
) -> std::io::Result<(TlsAcceptor, Option<CertFileReloader>)> {
    let shared: SharedTlsConfig = Arc::new(RwLock::new(tls.server_config.clone()));
    let reload = system
        .get("zookeeper.client.certReload")
        .is_some_and(|v| v.trim().eq_ignore_ascii_case("true"));
    let reloader = match reload {
        true => Some(CertFileReloader::start(system.clone(), shared.clone())?),
        false => None,
    };
    let acceptor = TlsAcceptor {
        config: shared,
        handshake_timeout: tls.handshake_timeout,
        x509_super_user: tls.x509_super_user.as_deref().map(Into::into),
    };
    Ok((acceptor, reloader))
}

/// What identifies one version of a file: (modified, length), or `None`
/// while it is missing.
type Stamp = Option<(SystemTime, u64)>;

fn stamp(path: &PathBuf) -> Stamp {
    let meta = std::fs::metadata(path).ok()?;
    Some((meta.modified().ok()?, meta.len()))
}

/// The running watcher; stops (and joins) on drop.
pub struct CertFileReloader {
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl CertFileReloader {
    /// Watches the stores `system` names and rebuilds `shared` from them.
    pub fn start(
        system: SystemProperties,
        shared: SharedTlsConfig,
    ) -> std::io::Result<CertFileReloader> {
        let files: Vec<PathBuf> = [
            "zookeeper.ssl.keyStore.location",
            "zookeeper.ssl.trustStore.location",
        ]
        .iter()
        .filter_map(|k| system.get(k).filter(|v| !v.is_empty()).map(PathBuf::from))
        .collect();
        info!(
            "watching {:?} for new client TLS certificates (client.certReload)",
            files
        );
        CertFileReloader::watch(files.clone(), move || {
            match client_tls::server_side(&system, "client.certReload") {
                Ok((config, _, _)) => {
                    *shared
                        .write()
                        .unwrap_or_else(std::sync::PoisonError::into_inner) = config;
                    info!("client TLS certificates reloaded from {:?}", files);
                }
                Err(e) => warn!(
                    "client TLS certificates not reloaded, keeping the old ones: {}",
                    e
                ),
            }
        })
    }

    /// Calls `changed` on a "CertReloader" thread whenever one of `files`
    /// changes (looked at once a second).
    pub fn watch(
        files: Vec<PathBuf>,
        mut changed: impl FnMut() + Send + 'static,
    ) -> std::io::Result<CertFileReloader> {
        let stop = Arc::new(AtomicBool::new(false));
        let stopping = stop.clone();
        let thread = std::thread::Builder::new()
            .name("CertReloader".into())
            .spawn(move || {
                let mut seen: Vec<Stamp> = files.iter().map(stamp).collect();
                while !stopping.load(Ordering::Relaxed) {
                    std::thread::sleep(POLL);
                    let now: Vec<Stamp> = files.iter().map(stamp).collect();
                    if now == seen {
                        continue;
                    }
                    seen = now;
                    changed();
                }
            })?;
        Ok(CertFileReloader {
            stop,
            thread: Some(thread),
        })
    }
}

impl Drop for CertFileReloader {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}
