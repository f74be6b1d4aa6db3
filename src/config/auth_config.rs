//! The authentication settings of a server: which schemes exist, what
//! SASL may do, and what every session must prove before it is served.
//!
//! Java reads these as system properties (a `-D` flag, or a zoo.cfg key
//! passed through as `zookeeper.<key>`) in several classes; here they are
//! read once, on the main thread, while `ServerConfig` is built, so a
//! setting we cannot honour stops startup with a message naming the key
//! (fail closed: a server that was asked to require authentication never
//! runs without it).
//!
//! Mirrors the property reads of `ProviderRegistry` (`authProvider.N`),
//! `DigestAuthenticationProvider` (`enabled`, `digestAlg`),
//! `AuthenticationHelper` (`enforce.auth.*`, `sessionRequireClientSASLAuth`),
//! `ServerCnxnFactory.configureSaslLogin` (the JAAS file and its section),
//! `SaslServerCallbackHandler` (the principal name rules) and
//! `QuorumPeerConfig` (`quorum.auth.*`).

use super::config_error::ConfigError;
use super::system_properties::SystemProperties;

/// `Environment.JAAS_CONF_KEY`: the JAAS file.
pub const JAAS_CONF_KEY: &str = "java.security.auth.login.config";
/// `ZooKeeperSaslServer.LOGIN_CONTEXT_NAME_KEY`: the server's JAAS section.
pub const SASL_SERVER_CONFIG_KEY: &str = "zookeeper.sasl.serverconfig";
/// `ProviderRegistry.AUTHPROVIDER_PROPERTY_PREFIX`.
pub const AUTH_PROVIDER_PREFIX: &str = "zookeeper.authProvider.";

/// Properties that only matter once a SASL server exists; until one can
/// be configured they are refused rather than silently ignored.
const SASL_ONLY_KEYS: &[&str] = &[
    "zookeeper.superUser",
    "zookeeper.SASLAuthenticationProvider.superPassword",
    "zookeeper.allowSaslFailedClients",
    "zookeeper.letAnySaslUserDoX",
    "zookeeper.kerberos.removeHostFromPrincipal",
    "zookeeper.kerberos.removeRealmFromPrincipal",
    "zookeeper.kerberos.canonicalizeHostNames",
    "zookeeper.security.auth_to_local",
];

/// The authentication settings, validated.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct AuthConfig {}

impl AuthConfig {
    /// Reads and checks the settings from the system properties in force
    /// (the `-D` flags plus zoo.cfg's pass-through keys).
    pub fn from_system(system: &SystemProperties) -> Result<AuthConfig, ConfigError> {
        if let Some(path) = system.get(JAAS_CONF_KEY) {
            return Err(refused(
                JAAS_CONF_KEY,
                path,
                "SASL authentication (a JAAS Server section) is not supported yet",
            ));
        }
        if let Some(section) = system.get(SASL_SERVER_CONFIG_KEY) {
            return Err(refused(
                SASL_SERVER_CONFIG_KEY,
                section,
                "SASL authentication (a JAAS Server section) is not supported yet",
            ));
        }
        for key in SASL_ONLY_KEYS {
            if let Some(value) = system.get(key) {
                return Err(refused(
                    key,
                    value,
                    "SASL authentication is not supported yet",
                ));
            }
        }
        if let Some((key, class)) = system
            .iter()
            .find(|(k, _)| k.starts_with(AUTH_PROVIDER_PREFIX))
        {
            return Err(refused(
                key,
                class,
                "authentication provider classes are not supported yet",
            ));
        }
        if system.get_boolean_or("zookeeper.sessionRequireClientSASLAuth", false) {
            return Err(refused(
                "zookeeper.sessionRequireClientSASLAuth",
                "true",
                "requiring SASL authentication is not supported yet",
            ));
        }
        if system.get_boolean_or("zookeeper.enforce.auth.enabled", false) {
            return Err(refused(
                "zookeeper.enforce.auth.enabled",
                "true",
                "enforcing authentication is not supported yet",
            ));
        }
        if let Some(alg) = system.get("zookeeper.DigestAuthenticationProvider.digestAlg") {
            if !is_sha1(alg) {
                return Err(refused(
                    "zookeeper.DigestAuthenticationProvider.digestAlg",
                    alg,
                    "only SHA1 digests are supported yet",
                ));
            }
        }
        if !system.get_boolean_or("zookeeper.DigestAuthenticationProvider.enabled", true) {
            let value = system
                .get("zookeeper.DigestAuthenticationProvider.enabled")
                .unwrap_or("");
            return Err(refused(
                "zookeeper.DigestAuthenticationProvider.enabled",
                value,
                "disabling the digest scheme is not supported yet",
            ));
        }
        Ok(AuthConfig {})
    }
}

/// The names Java's `MessageDigest.getInstance` accepts for SHA-1.
fn is_sha1(alg: &str) -> bool {
    ["SHA1", "SHA-1", "SHA"]
        .iter()
        .any(|name| alg.eq_ignore_ascii_case(name))
}

fn refused(key: &str, value: &str, reason: &str) -> ConfigError {
    ConfigError::InvalidValue {
        key: key.to_string(),
        value: value.to_string(),
        reason: reason.to_string(),
    }
}

/// `quorum.auth.enableSasl=true`: refused until quorum SASL is built (a
/// peer asked to authenticate its peers must not run without it).
pub fn check_quorum_sasl(enabled: bool) -> Result<(), ConfigError> {
    if enabled {
        return Err(refused(
            "quorum.auth.enableSasl",
            "true",
            "quorum SASL authentication is not supported yet",
        ));
    }
    Ok(())
}

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
    fn nothing_set_is_accepted() {
        assert_eq!(
            AuthConfig::from_system(&SystemProperties::new()).unwrap(),
            AuthConfig::default()
        );
        let sha1 = system(&[("zookeeper.DigestAuthenticationProvider.digestAlg", "SHA-1")]);
        assert!(AuthConfig::from_system(&sha1).is_ok());
    }

    #[test]
    fn settings_we_cannot_honour_are_refused_by_name() {
        for (key, value) in [
            (JAAS_CONF_KEY, "/etc/jaas.conf"),
            (SASL_SERVER_CONFIG_KEY, "Server"),
            ("zookeeper.superUser", "admin"),
            (
                "zookeeper.authProvider.1",
                "org.apache.zookeeper.server.auth.SASLAuthenticationProvider",
            ),
            ("zookeeper.sessionRequireClientSASLAuth", "true"),
            ("zookeeper.enforce.auth.enabled", "true"),
            (
                "zookeeper.DigestAuthenticationProvider.digestAlg",
                "SHA-256",
            ),
            ("zookeeper.DigestAuthenticationProvider.enabled", "false"),
            ("zookeeper.kerberos.removeHostFromPrincipal", "true"),
        ] {
            let err = AuthConfig::from_system(&system(&[(key, value)])).unwrap_err();
            assert_eq!(err.key(), Some(key), "{}", err);
            assert!(err.to_string().contains(value), "{}", err);
        }
        assert_eq!(
            check_quorum_sasl(true).unwrap_err().key(),
            Some("quorum.auth.enableSasl")
        );
        assert!(check_quorum_sasl(false).is_ok());
    }
}
