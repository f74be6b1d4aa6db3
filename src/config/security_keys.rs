//! The fail-closed gate for security settings: every key that asks for
//! encryption or authentication this server does not give stops startup
//! with a message naming the key, instead of running without it.
//!
//! Java reads these settings in many places (`X509Util` and its
//! subclasses `ClientX509Util` / `QuorumX509Util` for the `ssl.*` and
//! `ssl.quorum.*` families, `ServerCnxnFactory` for `serverCnxnFactory`,
//! `ProviderRegistry` for `authProvider.N`, `JettyAdminServer` for the
//! `admin.*` HTTPS switches, `QuorumPeerConfig` for `sslQuorum` and
//! `portUnification`); the authentication settings are honoured by
//! [`super::auth_config`]. Here they are looked at once, on the main thread,
//! after `ServerConfig` has merged zoo.cfg keys into system properties:
//! each key is *honoured* (we do what it asks), *harmless* (its value asks
//! for nothing, e.g. `sslQuorum=false`), or *refused*.
//!
//! As a feature lands, its keys move from [`verdict`]'s refusals to the
//! honoured side; nothing else in the server has to know about refusals.
//!
//! Mirrors: no single Java class (see above for the readers it stands in
//! for at startup).

use std::collections::BTreeMap;

use super::client_tls::HONOURED_SSL_KEYS;
use super::config_error::ConfigError;
use super::quorum_tls::HONOURED_QUORUM_SSL_KEYS;
use super::system_properties::SystemProperties;

/// Authentication providers whose scheme we serve, by Java class name.
const HONOURED_AUTH_PROVIDERS: &[&str] = &[
    X509_PROVIDER,
    "org.apache.zookeeper.server.auth.DigestAuthenticationProvider",
    "org.apache.zookeeper.server.auth.IPAuthenticationProvider",
    "org.apache.zookeeper.server.auth.SASLAuthenticationProvider",
];

/// Java's x509 provider class.
pub const X509_PROVIDER: &str = "org.apache.zookeeper.server.auth.X509AuthenticationProvider";

/// `serverCnxnFactory` values Java ships: both mean "the client port" to
/// us (one connection model serves both).
pub const SERVER_CNXN_FACTORIES: &[&str] = &[
    "org.apache.zookeeper.server.NIOServerCnxnFactory",
    "org.apache.zookeeper.server.NettyServerCnxnFactory",
];

/// zoo.cfg keys `QuorumPeerConfig` knows itself (never system properties)
/// that ask for TLS or SASL when true, with what they ask for.
/// (`sslQuorum`, `portUnification` and `sslQuorumReloadCertFiles` are
/// honoured by `quorum_tls`, `quorum.auth.*` by `quorum_auth_config`:
/// none is refused today.)
const KNOWN_BOOLEAN_SWITCHES: &[(&str, &str)] = &[];

/// Why a key was refused: what it asks for, for the message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    /// The key as the operator wrote it (zoo.cfg form when it came from
    /// zoo.cfg, the `-D` name otherwise).
    pub key: String,
    /// Its value.
    pub value: String,
    /// What the key asks for that this server does not give.
    pub asks_for: String,
}

/// Java's `Boolean.parseBoolean` / `ZKConfig.getBoolean`: true only for
/// "true" in any case (ZKConfig trims first).
fn is_true(value: &str) -> bool {
    value.trim().eq_ignore_ascii_case("true")
}

/// The verdict on one system property (`system` for keys that depend on
/// others): `Some(what it asks for)` when it must be refused.
pub fn verdict(name: &str, value: &str, system: &SystemProperties) -> Option<String> {
    if name.starts_with("zookeeper.ssl.quorum.") {
        return quorum_ssl_verdict(name, value);
    }
    if name.starts_with("zookeeper.ssl.") {
        return client_ssl_verdict(name, value, system);
    }
    if name.starts_with("zookeeper.authProvider.") {
        let class = value.trim();
        return match HONOURED_AUTH_PROVIDERS.contains(&class) {
            true => None,
            false => Some(format!("the authentication provider class {}", class)),
        };
    }
    match name {
        "zookeeper.serverCnxnFactory" => match SERVER_CNXN_FACTORIES.contains(&value.trim()) {
            true => None,
            false => Some(format!("the connection factory class {}", value.trim())),
        },
        // Java 3.9's `restore` command (on by default there) replaces the
        // data tree from an HTTP body; we do not have it.
        "zookeeper.admin.restore.enabled" => value
            .eq_ignore_ascii_case("true")
            .then(|| "the AdminServer's restore command".to_string()),
        // Java cannot start its admin commands with such a value.
        super::pass_through::ADMIN_RATE_LIMITER_INTERVAL => {
            super::pass_through::parse_int(value).is_none().then(|| {
                "an admin command rate limit that is not a whole number of milliseconds".to_string()
            })
        }
        _ => None,
    }
}

/// The client port's `ssl.*` keys: the ones `client_tls` reads are
/// honoured; revocation checks, client hostname checks and custom
/// context suppliers are not.
fn client_ssl_verdict(name: &str, value: &str, system: &SystemProperties) -> Option<String> {
    if HONOURED_SSL_KEYS.contains(&name) {
        return None;
    }
    if name == "zookeeper.ssl.authProvider" {
        // The scheme whose provider checks client certificates: ours is x509.
        return (value.trim() != "x509")
            .then(|| format!("the TLS authentication scheme {}", value.trim()));
    }
    match name {
        "zookeeper.ssl.crl" | "zookeeper.ssl.ocsp" => {
            is_true(value).then(|| "certificate revocation checks (CRL/OCSP)".to_string())
        }
        "zookeeper.ssl.clientHostnameVerification" => {
            let hostnames = !system
                .get("zookeeper.ssl.hostnameVerification")
                .is_some_and(|v| v.trim().eq_ignore_ascii_case("false"));
            (is_true(value) && hostnames)
                .then(|| "checking client certificates against client host names".to_string())
        }
        _ => Some("a client-port TLS setting this server does not have".to_string()),
    }
}

/// The quorum's `ssl.quorum.*` keys: the ones `quorum_tls` reads are
/// honoured; revocation checks and custom context suppliers are not.
fn quorum_ssl_verdict(name: &str, value: &str) -> Option<String> {
    if HONOURED_QUORUM_SSL_KEYS.contains(&name) {
        return None;
    }
    match name {
        "zookeeper.ssl.quorum.crl" | "zookeeper.ssl.quorum.ocsp" => is_true(value)
            .then(|| "certificate revocation checks (CRL/OCSP) between quorum peers".to_string()),
        _ => Some("a quorum TLS setting this server does not have".to_string()),
    }
}

/// Every refused key, known zoo.cfg keys first (in a fixed order), then
/// system properties by name. `raw` holds the zoo.cfg pairs as read (to
/// show an operator's zoo.cfg key in its zoo.cfg form); `system` the
/// merged system properties (zoo.cfg pass-through plus `-D` flags).
pub fn refusals(raw: &BTreeMap<String, String>, system: &SystemProperties) -> Vec<Refusal> {
    let mut out = Vec::new();
    for (key, what) in KNOWN_BOOLEAN_SWITCHES {
        if let Some(value) = raw.get(*key).filter(|v| is_true(v)) {
            out.push(Refusal {
                key: key.to_string(),
                value: value.clone(),
                asks_for: what.to_string(),
            });
        }
    }
    for (name, value) in system.iter() {
        if let Some(asks_for) = verdict(name, value, system) {
            let key = match name.strip_prefix("zookeeper.") {
                Some(short) if raw.get(short).map(String::as_str) == Some(value) => {
                    short.to_string()
                }
                _ => name.to_string(),
            };
            out.push(Refusal {
                key,
                value: value.to_string(),
                asks_for,
            });
        }
    }
    out
}

/// The first refusal as a config error (exit code 2, like every other
/// config error); every refusal is in the message.
pub fn check(raw: &BTreeMap<String, String>, system: &SystemProperties) -> Result<(), ConfigError> {
    let all = refusals(raw, system);
    let Some(first) = all.first() else {
        return Ok(());
    };
    let also: Vec<&str> = all[1..].iter().map(|r| r.key.as_str()).collect();
    let mut reason = format!(
        "asks for {}, which this server does not support; refusing to start without it",
        first.asks_for
    );
    if !also.is_empty() {
        reason.push_str(&format!(" (also refused: {})", also.join(", ")));
    }
    Err(ConfigError::InvalidValue {
        key: first.key.clone(),
        value: first.value.clone(),
        reason,
    })
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

    fn verdict_of(name: &str, value: &str) -> Option<String> {
        verdict(name, value, &SystemProperties::new())
    }

    fn raw(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn switches_refuse_only_when_they_ask() {
        // Honoured: HTTPS on the AdminServer (admin_tls).
        assert!(verdict_of("zookeeper.admin.forceHttps", " TRUE ").is_none());
        assert!(verdict_of("zookeeper.admin.needClientAuth", "true").is_none());
        // Honoured: the plain client port also accepts TLS (client_tls).
        assert!(verdict_of("zookeeper.client.portUnification", "true").is_none());
        // Quorum TLS (quorum_tls) and quorum SASL (quorum_auth_config)
        // are honoured.
        let r = refusals(
            &raw(&[
                ("sslQuorum", "true"),
                ("portUnification", "true"),
                ("sslQuorumReloadCertFiles", "true"),
                ("quorum.auth.enableSasl", "true"),
            ]),
            &system(&[]),
        );
        assert!(r.is_empty(), "{:?}", r);
    }

    #[test]
    fn tls_families_are_refused_by_prefix() {
        assert!(verdict_of("zookeeper.ssl.quorum.keyStore.location", "/k").is_none());
        assert!(verdict_of("zookeeper.ssl.quorum.hostnameVerification", "false").is_none());
        assert!(verdict_of("zookeeper.ssl.quorum.crl", "true")
            .unwrap()
            .contains("revocation"));
        assert!(verdict_of("zookeeper.ssl.quorum.ocsp", "false").is_none());
        assert!(verdict_of("zookeeper.ssl.quorum.context.supplier.class", "x.Y").is_some());
        assert!(verdict_of("zookeeper.ssl.crl", "true")
            .unwrap()
            .contains("revocation"));
        assert!(verdict_of("zookeeper.ssl.ocsp", "false").is_none());
        assert!(verdict_of("zookeeper.ssl.context.supplier.class", "x.Y").is_some());
        assert!(verdict_of("zookeeper.ssl.keyStore.location", "/k.jks").is_none());
        assert!(verdict_of("zookeeper.ssl.clientHostnameVerification", "true").is_some());
        let off = system(&[("zookeeper.ssl.hostnameVerification", "false")]);
        assert!(verdict("zookeeper.ssl.clientHostnameVerification", "true", &off).is_none());
        assert!(
            verdict_of("zookeeper.sslQuorum", "true").is_none(),
            "not a key Java reads"
        );
    }

    #[test]
    fn auth_providers_and_factories_by_class_name() {
        let digest = "org.apache.zookeeper.server.auth.DigestAuthenticationProvider";
        assert!(verdict_of("zookeeper.authProvider.1", digest).is_none());
        let sasl = "org.apache.zookeeper.server.auth.SASLAuthenticationProvider";
        // SASL, enforce.auth, sessionRequireClientSASLAuth, the digest
        // switch and the JAAS file are honoured (config::auth_config).
        assert!(verdict_of("zookeeper.authProvider.sasl", sasl).is_none());
        assert!(verdict_of("zookeeper.sessionRequireClientSASLAuth", "true").is_none());
        assert!(verdict_of("java.security.auth.login.config", "/j").is_none());
        assert!(verdict_of("zookeeper.authProvider.2", "com.example.Mine").is_some());
        for class in SERVER_CNXN_FACTORIES {
            assert!(verdict_of("zookeeper.serverCnxnFactory", class).is_none());
        }
        assert!(verdict_of("zookeeper.serverCnxnFactory", "com.example.Mine").is_some());
    }

    #[test]
    fn admin_command_keys() {
        assert!(verdict_of("zookeeper.admin.restore.enabled", "false").is_none());
        assert!(verdict_of("zookeeper.admin.restore.enabled", "TRUE")
            .unwrap()
            .contains("restore"));
        assert!(verdict_of("zookeeper.admin.rateLimiterIntervalInMS", "600000").is_none());
        assert!(verdict_of("zookeeper.admin.rateLimiterIntervalInMS", "5m").is_some());
        let e = check(
            &raw(&[("admin.restore.enabled", "true")]),
            &system(&[("zookeeper.admin.restore.enabled", "true")]),
        )
        .unwrap_err();
        assert_eq!(e.key(), Some("admin.restore.enabled"));
    }

    #[test]
    fn the_message_names_the_zoo_cfg_key_its_value_and_the_rest() {
        let raw = raw(&[("ssl.crl", "true")]);
        let system = system(&[
            ("zookeeper.ssl.crl", "true"),
            ("zookeeper.ssl.keyStore.location", "/k.jks"),
            ("zookeeper.ssl.quorum.crl", "true"),
        ]);
        let e = check(&raw, &system).unwrap_err();
        assert_eq!(e.key(), Some("ssl.crl"));
        let text = e.to_string();
        assert!(text.contains("revocation"), "{}", text);
        assert!(
            text.contains("also refused: zookeeper.ssl.quorum.crl"),
            "{}",
            text
        );
        assert!(check(&BTreeMap::new(), &SystemProperties::new()).is_ok());
    }
}
