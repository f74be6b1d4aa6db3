//! The secure client port's settings: `secureClientPort` /
//! `secureClientPortAddress` and the `ssl.*` keys (zoo.cfg keys or `-D`
//! flags, read as the `zookeeper.ssl.*` system properties), turned into a
//! ready TLS server config at startup. A key store or trust store that
//! cannot be used (missing file, wrong password, no key, a certificate
//! out of its validity period, a key that does not match its
//! certificate) stops startup with a config error naming the key, the
//! file and the reason.
//!
//! Runs once, on the main thread, while `ServerConfig` is built.
//!
//! Mirrors: the reads of `ClientX509Util` / `X509Util` /
//! `SSLContextAndOptions` and `QuorumPeerConfig.configureSSLAuth`.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use log::{info, warn};

use super::config_error::ConfigError;
use super::system_properties::{parse_int, SystemProperties};
use crate::common::key_store_file_type::KeyStoreFileType;
use crate::common::x509_util::{self, ClientAuth, ServerTlsParams};

/// Java's default `ssl.protocol` (3.8): the one version enabled unless
/// `ssl.enabledProtocols` lists others.
pub const DEFAULT_PROTOCOL: &str = "TLSv1.2";
/// `X509Util.DEFAULT_HANDSHAKE_DETECTION_TIMEOUT_MILLIS`.
pub const DEFAULT_HANDSHAKE_TIMEOUT_MS: u64 = 5000;

/// The `ssl.*` keys of the client port this server honours (their
/// `zookeeper.` form); `security_keys` refuses the rest.
pub const HONOURED_SSL_KEYS: &[&str] = &[
    "zookeeper.ssl.keyStore.location",
    "zookeeper.ssl.keyStore.password",
    "zookeeper.ssl.keyStore.passwordPath",
    "zookeeper.ssl.keyStore.type",
    "zookeeper.ssl.trustStore.location",
    "zookeeper.ssl.trustStore.password",
    "zookeeper.ssl.trustStore.passwordPath",
    "zookeeper.ssl.trustStore.type",
    "zookeeper.ssl.clientAuth",
    "zookeeper.ssl.protocol",
    "zookeeper.ssl.enabledProtocols",
    "zookeeper.ssl.ciphersuites",
    "zookeeper.ssl.handshakeDetectionTimeoutMillis",
    // Server-side these only matter for client hostname checks, which are
    // off for the client port unless clientHostnameVerification is true
    // (refused); the JDK/OpenSSL engine choice changes nothing we do.
    "zookeeper.ssl.hostnameVerification",
    "zookeeper.ssl.allowReverseDnsLookup",
    "zookeeper.ssl.sslProvider",
];

/// The key family of the client port.
const PREFIX: &str = "zookeeper.ssl.";

/// The protocol, suite and timing settings of one key family.
pub(super) struct TlsOptions {
    /// Java's names of the enabled versions (for the log).
    pub protocol_names: Vec<String>,
    /// The enabled versions.
    pub versions: Vec<&'static rustls::SupportedProtocolVersion>,
    /// The suites (IANA codes) in preference order.
    pub suites: Vec<u16>,
    /// `handshakeDetectionTimeoutMillis`.
    pub handshake_timeout: Duration,
}

impl TlsOptions {
    /// `protocol`, `enabledProtocols`, `ciphersuites` and
    /// `handshakeDetectionTimeoutMillis` of the family `prefix`.
    pub(super) fn from_system(
        system: &SystemProperties,
        prefix: &str,
    ) -> Result<TlsOptions, ConfigError> {
        let key = |name: &str| format!("{}{}", prefix, name);
        let protocol_key = key("protocol");
        let protocol = system.get(&protocol_key).unwrap_or(DEFAULT_PROTOCOL);
        let protocols_key = key("enabledProtocols");
        let names: Vec<&str> = match system.get(&protocols_key) {
            Some(list) => list
                .split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .collect(),
            None => vec![protocol],
        };
        let mut versions = Vec::new();
        for name in &names {
            let version = x509_util::protocol_version(name).map_err(|e| {
                match system.get(&protocols_key) {
                    Some(list) => invalid(&protocols_key, list, e),
                    None => invalid(&protocol_key, protocol, e),
                }
            })?;
            versions.push(version);
        }
        let suites_key = key("ciphersuites");
        let configured: Option<Vec<String>> = system.get(&suites_key).map(|l| {
            l.split(',')
                .map(|s| s.trim().to_string())
                .filter(|s| !s.is_empty())
                .collect()
        });
        let tls13 = versions
            .iter()
            .any(|v| v.version == rustls::ProtocolVersion::TLSv1_3);
        let suites = x509_util::suites_for(configured.as_deref(), tls13)
            .map_err(|e| invalid(&suites_key, system.get(&suites_key).unwrap_or(""), e))?;
        let timeout_key = key("handshakeDetectionTimeoutMillis");
        let timeout_ms = match system.get(&timeout_key) {
            None => DEFAULT_HANDSHAKE_TIMEOUT_MS,
            Some(text) => match parse_int(text) {
                Some(ms) if ms >= 1 => ms as u64,
                Some(ms) => {
                    warn!(
                        "Invalid value for {}: {}, using the default value of {}",
                        timeout_key, ms, DEFAULT_HANDSHAKE_TIMEOUT_MS
                    );
                    DEFAULT_HANDSHAKE_TIMEOUT_MS
                }
                None => return Err(invalid(&timeout_key, text, "not a 32-bit decimal integer")),
            },
        };
        Ok(TlsOptions {
            protocol_names: names.iter().map(|s| s.to_string()).collect(),
            versions,
            suites,
            handshake_timeout: Duration::from_millis(timeout_ms),
        })
    }
}

/// The client port's TLS, ready to accept: on the secure client port,
/// and on the plain port too when `client.portUnification` is true.
#[derive(Clone)]
pub struct ClientTls {
    /// Where the secure client port listens (`None`: no secure port, TLS
    /// only through port unification).
    pub address: Option<SocketAddr>,
    /// `client.portUnification`: the plain client port also accepts TLS
    /// clients (told apart by their first byte).
    pub port_unification: bool,
    /// The TLS server side (key, chain, client verifier, versions, suites).
    pub server_config: Arc<rustls::ServerConfig>,
    /// `ssl.clientAuth`.
    pub client_auth: ClientAuth,
    /// `ssl.handshakeDetectionTimeoutMillis`: how long a handshake may take.
    pub handshake_timeout: Duration,
    /// `X509AuthenticationProvider.superUser`: the certificate subject
    /// that is also `super`.
    pub x509_super_user: Option<String>,
}

impl std::fmt::Debug for ClientTls {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientTls")
            .field("address", &self.address)
            .field("port_unification", &self.port_unification)
            .field("client_auth", &self.client_auth)
            .field("handshake_timeout", &self.handshake_timeout)
            .finish()
    }
}

pub(super) fn invalid(key: &str, value: &str, reason: impl Into<String>) -> ConfigError {
    let key = key.strip_prefix("zookeeper.").unwrap_or(key);
    ConfigError::InvalidValue {
        key: key.to_string(),
        value: value.to_string(),
        reason: reason.into(),
    }
}

/// `X509Util.getPasswordFromConfigPropertyOrFile`: the password file wins;
/// one line separator at its end is dropped.
fn password(system: &SystemProperties, prefix: &str, store: &str) -> Result<String, ConfigError> {
    let path_key = format!("{}{}.passwordPath", prefix, store);
    match system.get(&path_key).filter(|p| !p.is_empty()) {
        Some(path) => {
            let text = std::fs::read_to_string(path).map_err(|e| {
                invalid(
                    &path_key,
                    path,
                    format!("cannot read the password file: {}", e),
                )
            })?;
            Ok(text.strip_suffix('\n').unwrap_or(&text).to_string())
        }
        None => Ok(system
            .get(&format!("{}{}.password", prefix, store))
            .unwrap_or("")
            .to_string()),
    }
}

/// One store's file (`store` is `keyStore` or `trustStore` of the key
/// family `prefix`), loaded; `None` when its location is not set.
pub(super) fn load(
    system: &SystemProperties,
    prefix: &str,
    store: &str,
    trust: bool,
) -> Result<Option<crate::common::key_store_file_type::StoreContents>, ConfigError> {
    let location_key = format!("{}{}.location", prefix, store);
    let Some(location) = system.get(&location_key).filter(|l| !l.is_empty()) else {
        return Ok(None);
    };
    let type_key = format!("{}{}.type", prefix, store);
    let kind = KeyStoreFileType::from_property_value_or_file_name(system.get(&type_key), location)
        .map_err(|e| match system.get(&type_key) {
            Some(t) if !t.is_empty() => invalid(&type_key, t, e),
            _ => invalid(&location_key, location, e),
        })?;
    let password = password(system, prefix, store)?;
    x509_util::load_store(&PathBuf::from(location), &password, kind, trust)
        .map(Some)
        .map_err(|e| invalid(&location_key, location, e))
}

/// `client.portUnification` (Java's `Boolean.getBoolean`: "true" in any
/// case).
pub fn port_unification(system: &SystemProperties) -> bool {
    system
        .get("zookeeper.client.portUnification")
        .is_some_and(|v| v.trim().eq_ignore_ascii_case("true"))
}

/// Builds the client port's TLS from the system properties, when
/// `secure_address` (secureClientPort) is set or `client.portUnification`
/// is true.
pub fn client_tls(
    secure_address: Option<SocketAddr>,
    system: &SystemProperties,
) -> Result<Option<ClientTls>, ConfigError> {
    let port_unification = port_unification(system);
    if secure_address.is_none() && !port_unification {
        return Ok(None);
    }
    let asker = match secure_address {
        Some(_) => "secureClientPort",
        None => "client.portUnification",
    };
    let (server_config, client_auth, handshake_timeout) = server_side(system, asker)?;
    let where_ = match secure_address {
        Some(a) => format!("secure client port {}", a),
        None => "client port".to_string(),
    };
    info!(
        "{}: TLS (client auth {:?}){}",
        where_,
        client_auth,
        if port_unification {
            "; the plain client port accepts TLS too (client.portUnification)"
        } else {
            ""
        }
    );
    Ok(Some(ClientTls {
        address: secure_address,
        port_unification,
        server_config,
        client_auth,
        handshake_timeout,
        x509_super_user: system
            .get("zookeeper.X509AuthenticationProvider.superUser")
            .map(str::to_string),
    }))
}

/// The TLS server side from the `ssl.*` keys: config, client auth and
/// handshake timeout. `asker` names the key that asked for TLS (for the
/// missing key store message). Also what `client.certReload` rebuilds.
pub fn server_side(
    system: &SystemProperties,
    asker: &str,
) -> Result<(Arc<rustls::ServerConfig>, ClientAuth, Duration), ConfigError> {
    let key_location = "zookeeper.ssl.keyStore.location";
    let key_store = load(system, PREFIX, "keyStore", false)?.ok_or_else(|| {
        invalid(
            key_location,
            "",
            format!(
                "must be set when {} is set (the server needs a certificate)",
                asker
            ),
        )
    })?;
    let location = system.get(key_location).unwrap_or("");
    let (chain, key) =
        x509_util::key_and_chain(&key_store).map_err(|e| invalid(key_location, location, e))?;
    x509_util::check_validity(&chain[0]).map_err(|e| invalid(key_location, location, e))?;
    let auth_key = "zookeeper.ssl.clientAuth";
    let auth_value = system.get(auth_key).unwrap_or("");
    let client_auth = ClientAuth::from_property_value(auth_value)
        .map_err(|e| invalid(auth_key, auth_value, e))?;
    let trusted = match load(system, PREFIX, "trustStore", true)? {
        Some(store) => store.trusted.into_iter().map(Into::into).collect(),
        None => Vec::new(),
    };
    let trust_location = system
        .get("zookeeper.ssl.trustStore.location")
        .unwrap_or("");
    if client_auth != ClientAuth::None && trusted.is_empty() {
        return Err(invalid(
            "zookeeper.ssl.trustStore.location",
            trust_location,
            format!("ssl.clientAuth={:?} needs a trust store with trusted certificates to check clients with", client_auth).to_lowercase(),
        ));
    }
    let options = TlsOptions::from_system(system, PREFIX)?;
    let params = ServerTlsParams {
        chain,
        key,
        trusted,
        client_auth,
        versions: options.versions,
        suites: options.suites,
    };
    let server_config =
        x509_util::server_config(params).map_err(|e| invalid(key_location, location, e))?;
    log::debug!("client TLS protocols {}", options.protocol_names.join(","));
    Ok((server_config, client_auth, options.handshake_timeout))
}
