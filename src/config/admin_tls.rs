//! The AdminServer's HTTPS settings: `admin.forceHttps` (TLS only),
//! `admin.portUnification` (TLS and plain HTTP on the one port, told
//! apart by the first byte) and `admin.needClientAuth` (3.9: a client
//! certificate from the trust store is required). The certificates are
//! the quorum's: `ssl.quorum.keyStore.*` and `ssl.quorum.trustStore.*`
//! (location, password, passwordPath, type), as Java's AdminServer reads
//! them. Both stores are required (Java cannot start its HTTPS connector
//! without them); a store that cannot be used stops startup naming the
//! key, the file and the reason. TLS 1.2 and 1.3 with the default suites
//! of Java's Jetty connector; without `admin.needClientAuth` no
//! certificate is asked for.
//!
//! With `admin.needClientAuth`, a client certificate also authenticates
//! the `x509` scheme of the protected commands (see
//! `admin::auth_request`) once the client port's trust store
//! (`ssl.trustStore.*`) accepts it too, as Java's x509 provider checks.
//!
//! Runs once, on the main thread, while `ServerConfig` is built (only
//! when the AdminServer is enabled, as Java loads the stores only then).
//!
//! Mirrors: the HTTPS part of `JettyAdminServer`'s constructor.

use std::path::PathBuf;
use std::sync::Arc;

use log::info;

use super::config_error::ConfigError;
use super::system_properties::SystemProperties;
use crate::common::key_store_file_type::{KeyStoreFileType, StoreContents};
use crate::common::x509_util::{self, ClientAuth, ServerTlsParams};

/// How the AdminServer port uses TLS.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AdminTlsMode {
    /// `admin.forceHttps`: every connection; a plain request gets Java's
    /// TLS alert and is closed.
    ForceHttps,
    /// `admin.portUnification`: connections that open a TLS handshake;
    /// the others are served plain HTTP.
    PortUnification,
}

/// The AdminServer's TLS, ready to accept.
#[derive(Clone)]
pub struct AdminTls {
    /// Which switch asked for it (forceHttps wins, as in Java).
    pub mode: AdminTlsMode,
    /// Key, chain, client verifier.
    pub server_config: Arc<rustls::ServerConfig>,
    /// The `x509` scheme's check of a client certificate the handshake
    /// accepted: the client port's trust store (`ssl.trustStore.*`), as
    /// Java's `X509AuthenticationProvider` has it; `None` without
    /// `admin.needClientAuth` or without that store (no certificate
    /// authenticates then).
    pub x509_verifier: Option<x509_util::ChainVerifier>,
}

impl std::fmt::Debug for AdminTls {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AdminTls")
            .field("mode", &self.mode)
            .finish()
    }
}

fn is_true(system: &SystemProperties, key: &str) -> bool {
    system
        .get(key)
        .is_some_and(|v| v.trim().eq_ignore_ascii_case("true"))
}

fn invalid(key: &str, value: &str, reason: impl Into<String>) -> ConfigError {
    ConfigError::InvalidValue {
        key: key.strip_prefix("zookeeper.").unwrap_or(key).to_string(),
        value: value.to_string(),
        reason: reason.into(),
    }
}

/// The mode the switches ask for, if any (Java: forceHttps wins).
pub fn mode(system: &SystemProperties) -> Option<AdminTlsMode> {
    if is_true(system, "zookeeper.admin.forceHttps") {
        Some(AdminTlsMode::ForceHttps)
    } else if is_true(system, "zookeeper.admin.portUnification") {
        Some(AdminTlsMode::PortUnification)
    } else {
        None
    }
}

/// One quorum store, loaded; its location is required.
fn load(system: &SystemProperties, store: &str, trust: bool) -> Result<StoreContents, ConfigError> {
    load_from(system, &format!("zookeeper.ssl.quorum.{}", store), trust)
}

/// The store whose keys start with `prefix` (`zookeeper.ssl.trustStore`).
fn load_from(
    system: &SystemProperties,
    prefix: &str,
    trust: bool,
) -> Result<StoreContents, ConfigError> {
    let location_key = format!("{}.location", prefix);
    let location = system.get(&location_key).unwrap_or("");
    if location.is_empty() {
        return Err(invalid(
            &location_key,
            "",
            "must be set when the AdminServer serves HTTPS (admin.forceHttps or admin.portUnification)",
        ));
    }
    let type_key = format!("{}.type", prefix);
    let kind = KeyStoreFileType::from_property_value_or_file_name(system.get(&type_key), location)
        .map_err(|e| match system.get(&type_key) {
            Some(t) if !t.is_empty() => invalid(&type_key, t, e),
            _ => invalid(&location_key, location, e),
        })?;
    // The password file wins over the password; one line end is dropped.
    let path_key = format!("{}.passwordPath", prefix);
    let password = match system.get(&path_key).filter(|p| !p.is_empty()) {
        Some(path) => {
            let text = std::fs::read_to_string(path).map_err(|e| {
                invalid(
                    &path_key,
                    path,
                    format!("cannot read the password file: {}", e),
                )
            })?;
            text.strip_suffix('\n').unwrap_or(&text).to_string()
        }
        None => system
            .get(&format!("{}.password", prefix))
            .unwrap_or("")
            .to_string(),
    };
    x509_util::load_store(&PathBuf::from(location), &password, kind, trust)
        .map_err(|e| invalid(&location_key, location, e))
}

/// The AdminServer's TLS when a switch asks for it, from the quorum
/// stores; `None` for plain HTTP.
pub fn admin_tls(system: &SystemProperties) -> Result<Option<AdminTls>, ConfigError> {
    let Some(mode) = mode(system) else {
        return Ok(None);
    };
    let key_store = load(system, "keyStore", false)?;
    let key_location = "zookeeper.ssl.quorum.keyStore.location";
    let location = system.get(key_location).unwrap_or("");
    let (chain, key) =
        x509_util::key_and_chain(&key_store).map_err(|e| invalid(key_location, location, e))?;
    x509_util::check_validity(&chain[0]).map_err(|e| invalid(key_location, location, e))?;
    let trust_store = load(system, "trustStore", true)?;
    let need = is_true(system, "zookeeper.admin.needClientAuth");
    let trust_location_key = "zookeeper.ssl.quorum.trustStore.location";
    if need && trust_store.trusted.is_empty() {
        return Err(invalid(
            trust_location_key,
            system.get(trust_location_key).unwrap_or(""),
            "admin.needClientAuth=true needs trusted certificates to check clients with",
        ));
    }
    let versions = ["TLSv1.3", "TLSv1.2"]
        .iter()
        .map(|v| x509_util::protocol_version(v))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| invalid(key_location, location, e))?;
    let suites =
        x509_util::suites_for(None, true).map_err(|e| invalid(key_location, location, e))?;
    let params = ServerTlsParams {
        chain,
        key,
        trusted: trust_store.trusted.into_iter().map(Into::into).collect(),
        client_auth: if need {
            ClientAuth::Need
        } else {
            ClientAuth::None
        },
        versions,
        suites,
    };
    let server_config =
        x509_util::server_config(params).map_err(|e| invalid(key_location, location, e))?;
    let x509_verifier = match system.get(X509_TRUST_STORE_LOCATION) {
        Some(location) if need && !location.is_empty() => {
            let store = load_from(system, "zookeeper.ssl.trustStore", true)?;
            let trusted: Vec<_> = store.trusted.into_iter().map(Into::into).collect();
            let verifier = x509_util::chain_verifier(&trusted)
                .map_err(|e| invalid(X509_TRUST_STORE_LOCATION, location, e))?;
            Some(verifier)
        }
        _ => None,
    };
    info!(
        "AdminServer: HTTPS ({:?}, client certificates {})",
        mode,
        if need { "required" } else { "not asked for" }
    );
    Ok(Some(AdminTls {
        mode,
        server_config,
        x509_verifier,
    }))
}

/// The trust store the `x509` scheme checks certificates with.
const X509_TRUST_STORE_LOCATION: &str = "zookeeper.ssl.trustStore.location";

#[cfg(test)]
mod tests {
    use super::*;

    fn system(pairs: &[(&str, &str)]) -> SystemProperties {
        let mut s = SystemProperties::new();
        for (k, v) in pairs {
            s.set(k, v);
        }
        s
    }

    #[test]
    fn force_https_wins_over_port_unification() {
        assert_eq!(mode(&system(&[])), None);
        let both = system(&[
            ("zookeeper.admin.portUnification", "true"),
            ("zookeeper.admin.forceHttps", "TRUE"),
        ]);
        assert_eq!(mode(&both), Some(AdminTlsMode::ForceHttps));
        let unified = system(&[("zookeeper.admin.portUnification", "true")]);
        assert_eq!(mode(&unified), Some(AdminTlsMode::PortUnification));
        let off = system(&[("zookeeper.admin.forceHttps", "false")]);
        assert_eq!(mode(&off), None);
    }

    #[test]
    fn https_without_a_key_store_names_the_key() {
        let s = system(&[("zookeeper.admin.forceHttps", "true")]);
        let e = admin_tls(&s).unwrap_err();
        assert_eq!(e.key(), Some("ssl.quorum.keyStore.location"));
        assert!(e.to_string().contains("admin.forceHttps"), "{}", e);
    }
}
