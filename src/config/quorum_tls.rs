//! TLS between quorum peers: `sslQuorum`, `portUnification` and the
//! `ssl.quorum.*` keys (zoo.cfg keys or `-D` flags, read as the
//! `zookeeper.ssl.quorum.*` system properties), turned at startup into the
//! two rustls sides every quorum connection uses: a server side for what
//! the election and quorum ports accept, a client side for what this peer
//! dials (election connections and the learner's connection to the leader).
//!
//! The switches, as Java applies them on both ports:
//!
//! | sslQuorum | portUnification | accepts | dials |
//! |---|---|---|---|
//! | false | false | plaintext | plaintext |
//! | false | true | TLS and plaintext | plaintext |
//! | true | true | TLS and plaintext | TLS |
//! | true | false | TLS only | TLS |
//!
//! The middle rows are the steps of a rolling upgrade from plaintext to TLS,
//! one node at a time. Either switch needs a key store and a trust store; a
//! store that cannot be used stops startup naming the key, the file and
//! the reason.
//!
//! Checks, as Java's quorum trust manager makes them: the peer's chain must
//! lead to the trust store; with `ssl.quorum.hostnameVerification` (default
//! true) the certificate must also name the peer's IP address, on both
//! sides (the dialed address, and the address a connection came from).
//! Java falls back to the reverse-DNS name of the address; we do not, so a
//! certificate must carry the IP address as a subject alternative name.
//!
//! Runs once, on the main thread, while `QuorumPeerConfig` is built.
//!
//! Mirrors: `QuorumX509Util`, `X509Util.createSSLContextAndOptions`, the
//! `sslQuorum` / `portUnification` reads of `QuorumPeerConfig`.

use std::sync::{Arc, PoisonError, RwLock};
use std::time::Duration;

use log::info;

use super::client_tls::{invalid, load, TlsOptions};
use super::config_error::ConfigError;
use super::system_properties::SystemProperties;
use crate::common::x509_util::{self, ClientAuth, ClientTlsParams, ServerTlsParams};

/// The key family of the quorum.
const PREFIX: &str = "zookeeper.ssl.quorum.";

/// The `ssl.quorum.*` keys this server honours (their `zookeeper.` form);
/// `security_keys` refuses the rest of the family.
pub const HONOURED_QUORUM_SSL_KEYS: &[&str] = &[
    "zookeeper.ssl.quorum.keyStore.location",
    "zookeeper.ssl.quorum.keyStore.password",
    "zookeeper.ssl.quorum.keyStore.passwordPath",
    "zookeeper.ssl.quorum.keyStore.type",
    "zookeeper.ssl.quorum.trustStore.location",
    "zookeeper.ssl.quorum.trustStore.password",
    "zookeeper.ssl.quorum.trustStore.passwordPath",
    "zookeeper.ssl.quorum.trustStore.type",
    "zookeeper.ssl.quorum.clientAuth",
    "zookeeper.ssl.quorum.protocol",
    "zookeeper.ssl.quorum.enabledProtocols",
    "zookeeper.ssl.quorum.ciphersuites",
    "zookeeper.ssl.quorum.handshakeDetectionTimeoutMillis",
    "zookeeper.ssl.quorum.hostnameVerification",
    // Asks Java to accept a certificate naming the peer's reverse-DNS
    // host name; we accept only the address itself (stricter, never
    // weaker). The engine choice changes nothing we do.
    "zookeeper.ssl.quorum.allowReverseDnsLookup",
    "zookeeper.ssl.quorum.sslProvider",
];

/// The two rustls sides, replaced together on a reload.
struct Sides {
    server: Arc<rustls::ServerConfig>,
    client: Arc<rustls::ClientConfig>,
}

/// How the quorum ports talk, ready for the transport.
pub struct QuorumTls {
    /// `sslQuorum`: dial peers with TLS (and accept only TLS unless
    /// `port_unification`).
    pub ssl_quorum: bool,
    /// `portUnification`: accept TLS and plaintext on the same ports.
    pub port_unification: bool,
    /// What accepted TLS connections are served with, and what dialed
    /// ones use (swapped by [`QuorumTls::reload`]).
    sides: RwLock<Sides>,
    /// `sslQuorumReloadCertFiles`: new store files are used without a
    /// restart.
    pub reload_cert_files: bool,
    /// `ssl.quorum.hostnameVerification`: a connecting peer's certificate
    /// must name its address too.
    pub verify_peer_address: bool,
    /// `ssl.quorum.handshakeDetectionTimeoutMillis`: how long an accepted
    /// connection may take to show whether it speaks TLS.
    pub detection_timeout: Duration,
}

impl QuorumTls {
    /// The server side for connections accepted from now on.
    pub fn server_config(&self) -> Arc<rustls::ServerConfig> {
        self.sides
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .server
            .clone()
    }

    /// The client side for connections dialed from now on.
    pub fn client_config(&self) -> Arc<rustls::ClientConfig> {
        self.sides
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .client
            .clone()
    }

    /// The store files to watch for `sslQuorumReloadCertFiles`.
    pub fn store_files(system: &SystemProperties) -> Vec<std::path::PathBuf> {
        [
            "zookeeper.ssl.quorum.keyStore.location",
            "zookeeper.ssl.quorum.trustStore.location",
        ]
        .iter()
        .filter_map(|k| system.get(k).filter(|v| !v.is_empty()))
        .map(std::path::PathBuf::from)
        .collect()
    }

    /// Builds both sides again from the stores (new connections get
    /// them; live ones keep theirs). A store that cannot be used leaves
    /// the old sides in service and says why.
    pub fn reload(&self, system: &SystemProperties) -> Result<(), ConfigError> {
        let built = sides(system, "sslQuorumReloadCertFiles")?;
        *self.sides.write().unwrap_or_else(PoisonError::into_inner) = built.sides;
        Ok(())
    }

    /// Whether an accepted connection that does not start a TLS handshake
    /// is served (plaintext).
    pub fn accepts_plaintext(&self) -> bool {
        self.port_unification || !self.ssl_quorum
    }
}

impl std::fmt::Debug for QuorumTls {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("QuorumTls")
            .field("ssl_quorum", &self.ssl_quorum)
            .field("port_unification", &self.port_unification)
            .field("verify_peer_address", &self.verify_peer_address)
            .field("detection_timeout", &self.detection_timeout)
            .finish()
    }
}

/// Java's `Boolean.parseBoolean` on a trimmed value.
fn is_true(value: Option<&str>) -> bool {
    value.is_some_and(|v| v.trim().eq_ignore_ascii_case("true"))
}

/// What [`sides`] builds.
struct Built {
    sides: Sides,
    client_auth: ClientAuth,
    verify_hostname: bool,
    options: TlsOptions,
}

/// Both rustls sides from the `ssl.quorum.*` keys; `switch` names the key
/// that asked for them (for the messages).
fn sides(system: &SystemProperties, switch: &str) -> Result<Built, ConfigError> {
    let key_location = "zookeeper.ssl.quorum.keyStore.location";
    let trust_location = "zookeeper.ssl.quorum.trustStore.location";
    let key_store = load(system, PREFIX, "keyStore", false)?.ok_or_else(|| {
        invalid(
            key_location,
            "",
            format!(
                "must be set when {}=true (a peer needs a certificate)",
                switch
            ),
        )
    })?;
    let location = system.get(key_location).unwrap_or("");
    let (chain, key) =
        x509_util::key_and_chain(&key_store).map_err(|e| invalid(key_location, location, e))?;
    x509_util::check_validity(&chain[0]).map_err(|e| invalid(key_location, location, e))?;
    let trusted: Vec<_> = match load(system, PREFIX, "trustStore", true)? {
        Some(store) => store.trusted.into_iter().map(Into::into).collect(),
        None => Vec::new(),
    };
    let trust_value = system.get(trust_location).unwrap_or("");
    if trusted.is_empty() {
        return Err(invalid(
            trust_location,
            trust_value,
            format!(
                "{}=true needs a trust store with the certificates peers are checked against",
                switch
            ),
        ));
    }
    let auth_key = "zookeeper.ssl.quorum.clientAuth";
    let auth_value = system.get(auth_key).unwrap_or("");
    let client_auth = ClientAuth::from_property_value(auth_value)
        .map_err(|e| invalid(auth_key, auth_value, e))?;
    let options = TlsOptions::from_system(system, PREFIX)?;
    let verify_hostname = !system
        .get("zookeeper.ssl.quorum.hostnameVerification")
        .is_some_and(|v| v.trim().eq_ignore_ascii_case("false"));
    let server_config = x509_util::server_config(ServerTlsParams {
        chain: chain.clone(),
        key: key.clone_key(),
        trusted: trusted.clone(),
        client_auth,
        versions: options.versions.clone(),
        suites: options.suites.clone(),
    })
    .map_err(|e| invalid(key_location, location, e))?;
    let client_config = x509_util::client_config(ClientTlsParams {
        chain,
        key,
        trusted,
        versions: options.versions.clone(),
        suites: options.suites.clone(),
        verify_hostname,
    })
    .map_err(|e| invalid(trust_location, trust_value, e))?;
    Ok(Built {
        sides: Sides {
            server: server_config,
            client: client_config,
        },
        client_auth,
        verify_hostname,
        options,
    })
}

/// Builds the quorum's TLS sides when `sslQuorum` or `portUnification`
/// (zoo.cfg values, `None` when absent) asks for them; `None` when both
/// are off (everything plaintext, as before). `reload` is
/// `sslQuorumReloadCertFiles`.
pub fn quorum_tls(
    ssl_quorum: Option<&str>,
    port_unification: Option<&str>,
    reload: Option<&str>,
    system: &SystemProperties,
) -> Result<Option<QuorumTls>, ConfigError> {
    let (ssl_quorum, port_unification) = (is_true(ssl_quorum), is_true(port_unification));
    if !ssl_quorum && !port_unification {
        info!("Using insecure (non-TLS) quorum communication");
        return Ok(None);
    }
    let switch = if ssl_quorum {
        "sslQuorum"
    } else {
        "portUnification"
    };
    let Built {
        sides,
        client_auth,
        verify_hostname,
        options,
    } = sides(system, switch)?;
    if ssl_quorum {
        info!(
            "Using TLS encrypted quorum communication ({}, client auth {:?})",
            options.protocol_names.join(","),
            client_auth
        );
    } else {
        info!("Using insecure (non-TLS) quorum communication");
    }
    if port_unification {
        info!("Port unification enabled");
    }
    Ok(Some(QuorumTls {
        ssl_quorum,
        port_unification,
        sides: RwLock::new(sides),
        reload_cert_files: is_true(reload),
        verify_peer_address: verify_hostname && client_auth != ClientAuth::None,
        detection_timeout: options.handshake_timeout,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_switches_off_is_plaintext_and_needs_no_stores() {
        let system = SystemProperties::new();
        assert!(quorum_tls(None, Some("false"), None, &system)
            .unwrap()
            .is_none());
        assert!(quorum_tls(Some("FALSE"), None, Some("true"), &system)
            .unwrap()
            .is_none());
    }

    #[test]
    fn a_switch_without_a_key_store_names_the_key() {
        let system = SystemProperties::new();
        for (ssl, unified, switch) in [
            (Some("true"), None, "sslQuorum"),
            (None, Some(" True "), "portUnification"),
        ] {
            match quorum_tls(ssl, unified, None, &system) {
                Err(ConfigError::InvalidValue { key, reason, .. }) => {
                    assert_eq!(key, "ssl.quorum.keyStore.location");
                    assert!(reason.contains(switch), "{}", reason);
                }
                other => panic!("{:?}", other.map(|_| ())),
            }
        }
    }
}
