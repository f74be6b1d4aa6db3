//! Quorum SASL settings: whether peers authenticate each other on the
//! election and quorum ports, and with what (the JAAS `QuorumServer` and
//! `QuorumLearner` sections).
//!
//! The switches are zoo.cfg keys (`quorum.auth.enableSasl`,
//! `quorum.auth.serverRequireSasl`, `quorum.auth.learnerRequireSasl`,
//! `quorum.auth.kerberos.servicePrincipal`, and the section names
//! `quorum.auth.server.saslLoginContext` /
//! `quorum.auth.learner.saslLoginContext`); the JAAS file is the one of
//! `-Djava.security.auth.login.config`. With SASL enabled both sections
//! must exist, as in Java, or startup stops naming the key.
//!
//! A peer's server side checks DIGEST-MD5 users (`user_<name>` options of
//! a `DigestLoginModule`) or, with a `Krb5LoginModule`, accepts Kerberos
//! tickets for its keytab principal; its learner side logs in with the
//! `DigestLoginModule`'s `username`/`password`, or with its keytab
//! principal (GSSAPI) to the service principal of the peer it dials.
//!
//! Read once, on the main thread, while the quorum config is validated.
//!
//! Mirrors: the `quorum.auth.*` part of `QuorumPeerConfig.parseProperties`
//! and the JAAS lookups of `QuorumPeer.initialize`,
//! `SaslQuorumAuthServer`/`SaslQuorumAuthLearner` constructors and
//! `SaslQuorumServerCallbackHandler`.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

use log::info;

use super::auth_config::{
    kerberos_login, read_jaas, KerberosLogin, DIGEST_LOGIN_MODULE, JAAS_CONF_KEY, KRB5_LOGIN_MODULE,
};
use super::config_error::ConfigError;
use super::system_properties::SystemProperties;

/// `quorum.auth.server.saslLoginContext` default.
pub const DEFAULT_SERVER_SECTION: &str = "QuorumServer";
/// `quorum.auth.learner.saslLoginContext` default.
pub const DEFAULT_LEARNER_SECTION: &str = "QuorumLearner";
/// `quorum.auth.kerberos.servicePrincipal` default.
pub const DEFAULT_SERVICE_PRINCIPAL: &str = "zkquorum/localhost";

const ENABLE_KEY: &str = "quorum.auth.enableSasl";
const SERVER_SECTION_KEY: &str = "quorum.auth.server.saslLoginContext";
const LEARNER_SECTION_KEY: &str = "quorum.auth.learner.saslLoginContext";
const SERVICE_PRINCIPAL_KEY: &str = "quorum.auth.kerberos.servicePrincipal";

/// How this peer proves itself to the peers it dials.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LearnerLogin {
    /// DIGEST-MD5 as `username` with `password`.
    Digest { username: String, password: String },
    /// GSSAPI with this keytab principal.
    Kerberos(KerberosLogin),
}

/// Quorum SASL, when `quorum.auth.enableSasl=true`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QuorumAuthConfig {
    /// `quorum.auth.serverRequireSasl`: a peer that does not authenticate
    /// (or fails) is refused; otherwise it is let in with a warning.
    pub server_require: bool,
    /// `quorum.auth.learnerRequireSasl`: authenticate when dialing a peer
    /// (without it this peer sends no SASL at all).
    pub learner_require: bool,
    /// `quorum.auth.kerberos.servicePrincipal` (`_HOST` is replaced by the
    /// dialed peer's host name).
    pub service_principal: String,
    /// The JAAS file both sections come from.
    pub jaas_path: PathBuf,
    /// The server side's section name.
    pub server_section: String,
    /// DIGEST-MD5 users of the server side: name -> password.
    pub users: BTreeMap<String, String>,
    /// The server side's Kerberos identity (GSSAPI instead of DIGEST-MD5).
    pub server_kerberos: Option<KerberosLogin>,
    /// The learner side's section name.
    pub learner_section: String,
    /// The learner side's credentials.
    pub learner: LearnerLogin,
    /// Host names of every `server.N` line: a Kerberos peer named
    /// `service/host@REALM` is only let in when `host` is one of them.
    pub authz_hosts: BTreeSet<String>,
}

impl QuorumAuthConfig {
    /// The settings from zoo.cfg's keys (`get`), the JAAS file named in
    /// `system`, and the members' host names; `None` when quorum SASL is
    /// off. The require/enable combinations are checked by `ServerConfig`.
    pub fn from_config(
        get: &dyn Fn(&str) -> Option<String>,
        system: &SystemProperties,
        member_hosts: BTreeSet<String>,
    ) -> Result<Option<QuorumAuthConfig>, ConfigError> {
        let flag = |key: &str| get(key).is_some_and(|v| v.trim().eq_ignore_ascii_case("true"));
        if !flag(ENABLE_KEY) {
            info!("QuorumPeer communication is not secured! (SASL auth disabled)");
            return Ok(None);
        }
        let server_section =
            get(SERVER_SECTION_KEY).unwrap_or_else(|| DEFAULT_SERVER_SECTION.to_string());
        let learner_section =
            get(LEARNER_SECTION_KEY).unwrap_or_else(|| DEFAULT_LEARNER_SECTION.to_string());
        let Some(path) = system.get(JAAS_CONF_KEY) else {
            return Err(refused(
                ENABLE_KEY,
                "true",
                &format!(
                    "quorum SASL needs a JAAS file (-D{}=<file>) with the '{}' and '{}' sections",
                    JAAS_CONF_KEY, server_section, learner_section
                ),
            ));
        };
        let jaas_path = PathBuf::from(path);
        let jaas = read_jaas(&jaas_path, system)?;
        let section = |key: &str, name: &str| {
            jaas.section(name).filter(|s| !s.is_empty()).ok_or_else(|| {
                refused(
                    key,
                    name,
                    &format!(
                        "SASL-authentication failed because the specified JAAS configuration section '{}' could not be found in {}",
                        name, path
                    ),
                )
            })
        };
        let server_entries = section(SERVER_SECTION_KEY, &server_section)?;
        let learner_entries = section(LEARNER_SECTION_KEY, &learner_section)?;
        let at_line = |section: &str, line: usize, what: &str| {
            let why = format!("line {} of section '{}': {}", line, section, what);
            refused(JAAS_CONF_KEY, path, &why)
        };
        let mut users = BTreeMap::new();
        let mut server_kerberos = None;
        for entry in server_entries {
            match entry.class_name.as_str() {
                KRB5_LOGIN_MODULE => {
                    server_kerberos = Some(
                        kerberos_login(entry)
                            .map_err(|why| at_line(&server_section, entry.line, &why))?,
                    )
                }
                DIGEST_LOGIN_MODULE => {
                    for (option, value) in &entry.options {
                        if let Some(user) = option.strip_prefix("user_") {
                            users.insert(user.to_string(), value.clone());
                        }
                    }
                }
                other => return Err(at_line(&server_section, entry.line, &unsupported(other))),
            }
        }
        let mut learner = None;
        for entry in learner_entries {
            let option = |name: &str| entry.options.get(name).cloned();
            let login = match entry.class_name.as_str() {
                KRB5_LOGIN_MODULE => LearnerLogin::Kerberos(
                    kerberos_login(entry)
                        .map_err(|why| at_line(&learner_section, entry.line, &why))?,
                ),
                DIGEST_LOGIN_MODULE => match (option("username"), option("password")) {
                    (Some(username), Some(password)) => LearnerLogin::Digest { username, password },
                    _ => {
                        return Err(at_line(
                            &learner_section,
                            entry.line,
                            "DigestLoginModule needs username and password for a quorum learner",
                        ))
                    }
                },
                other => return Err(at_line(&learner_section, entry.line, &unsupported(other))),
            };
            learner.get_or_insert(login);
        }
        let Some(learner) = learner else {
            return Err(refused(
                LEARNER_SECTION_KEY,
                &learner_section,
                "empty section",
            ));
        };
        let config = QuorumAuthConfig {
            server_require: flag("quorum.auth.serverRequireSasl"),
            learner_require: flag("quorum.auth.learnerRequireSasl"),
            service_principal: get(SERVICE_PRINCIPAL_KEY)
                .unwrap_or_else(|| DEFAULT_SERVICE_PRINCIPAL.to_string()),
            jaas_path,
            server_section,
            users,
            server_kerberos,
            learner_section,
            learner,
            authz_hosts: member_hosts,
        };
        info!(
            "Quorum SASL enabled: server side {} (serverRequireSasl={}), learner side {} (learnerRequireSasl={})",
            match &config.server_kerberos {
                Some(k) => format!("GSSAPI as {}", k.principal),
                None => format!("DIGEST-MD5 with {} user(s)", config.users.len()),
            },
            config.server_require,
            match &config.learner {
                LearnerLogin::Kerberos(k) => format!("GSSAPI as {}", k.principal),
                LearnerLogin::Digest { username, .. } => format!("DIGEST-MD5 as {}", username),
            },
            config.learner_require
        );
        Ok(Some(config))
    }
}

impl QuorumAuthConfig {
    /// The Kerberos library's environment for quorum Kerberos, set on the
    /// main thread before any other starts: the learner's keytab for its
    /// own tickets (`KRB5_CLIENT_KTNAME`) and a private in-memory ticket
    /// cache, so no user's cache is read or overwritten. (The acceptor
    /// reads its keys from its section's keytab itself, so the quorum
    /// and the client port may each have their own.)
    pub fn kerberos_environment(&self) -> Vec<(&'static str, String)> {
        let mut env = Vec::new();
        if let LearnerLogin::Kerberos(login) = &self.learner {
            env.push((
                "KRB5_CLIENT_KTNAME",
                format!("FILE:{}", login.keytab.display()),
            ));
            env.push(("KRB5CCNAME", "MEMORY:zookeeper-quorum-learner".to_string()));
        }
        env
    }
}

fn unsupported(class: &str) -> String {
    format!(
        "login module {} is not supported (only {} and {})",
        class, DIGEST_LOGIN_MODULE, KRB5_LOGIN_MODULE
    )
}

/// `SecurityUtils.getServerPrincipal`: exactly `service/_HOST` becomes
/// `service/<host, lower case>`; anything else (with a realm too) is kept
/// as written, as in Java.
pub fn server_principal(config: &str, host: &str) -> String {
    match config.split('/').collect::<Vec<&str>>().as_slice() {
        [service, "_HOST"] => format!("{}/{}", service, host.to_lowercase()),
        _ => config.to_string(),
    }
}

fn refused(key: &str, value: &str, reason: &str) -> ConfigError {
    ConfigError::InvalidValue {
        key: key.to_string(),
        value: value.to_string(),
        reason: reason.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn jaas(text: &str) -> (tempdir::Dir, SystemProperties) {
        let dir = tempdir::Dir::new();
        let path = dir.0.join("jaas.conf");
        std::fs::write(&path, text).unwrap();
        let mut system = SystemProperties::default();
        system.set(JAAS_CONF_KEY, path.to_str().unwrap());
        (dir, system)
    }

    mod tempdir {
        pub struct Dir(pub std::path::PathBuf);
        impl Dir {
            pub fn new() -> Dir {
                let n = std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .unwrap()
                    .as_nanos();
                let p = std::env::temp_dir().join(format!("qauth-{}-{}", std::process::id(), n));
                std::fs::create_dir_all(&p).unwrap();
                Dir(p)
            }
        }
        impl Drop for Dir {
            fn drop(&mut self) {
                let _ = std::fs::remove_dir_all(&self.0);
            }
        }
    }

    fn cfg(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: BTreeMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |k: &str| map.get(k).cloned()
    }

    const DIGEST: &str = r#"
QuorumServer {
   org.apache.zookeeper.server.auth.DigestLoginModule required
   user_test="mypassword";
};
QuorumLearner {
   org.apache.zookeeper.server.auth.DigestLoginModule required
   username="test"
   password="mypassword";
};
"#;

    #[test]
    fn digest_sections() {
        let (_d, system) = jaas(DIGEST);
        let hosts: BTreeSet<String> = ["127.0.0.1".to_string()].into();
        let get = cfg(&[
            ("quorum.auth.enableSasl", "true"),
            ("quorum.auth.learnerRequireSasl", "true"),
        ]);
        let c = QuorumAuthConfig::from_config(&get, &system, hosts)
            .unwrap()
            .unwrap();
        assert!(c.learner_require && !c.server_require);
        assert_eq!(c.users.get("test").map(String::as_str), Some("mypassword"));
        assert_eq!(
            c.learner,
            LearnerLogin::Digest {
                username: "test".into(),
                password: "mypassword".into()
            }
        );
        assert_eq!(c.service_principal, DEFAULT_SERVICE_PRINCIPAL);
        let off = cfg(&[]);
        assert!(
            QuorumAuthConfig::from_config(&off, &system, BTreeSet::new())
                .unwrap()
                .is_none()
        );
    }

    #[test]
    fn missing_sections_and_file_stop_startup() {
        let (_d, system) = jaas(DIGEST);
        let get = cfg(&[
            ("quorum.auth.enableSasl", "true"),
            ("quorum.auth.server.saslLoginContext", "Nope"),
        ]);
        let e = QuorumAuthConfig::from_config(&get, &system, BTreeSet::new()).unwrap_err();
        assert!(
            e.to_string()
                .contains("quorum.auth.server.saslLoginContext"),
            "{}",
            e
        );
        assert!(e.to_string().contains("'Nope'"), "{}", e);
        let get = cfg(&[("quorum.auth.enableSasl", "true")]);
        let e = QuorumAuthConfig::from_config(&get, &SystemProperties::default(), BTreeSet::new())
            .unwrap_err();
        assert!(e.to_string().contains("quorum.auth.enableSasl"), "{}", e);
        let (_d, system) =
            jaas("QuorumServer { x.Y required; };\nQuorumLearner { x.Y required; };\n");
        let e = QuorumAuthConfig::from_config(&get, &system, BTreeSet::new()).unwrap_err();
        assert!(e.to_string().contains("line 1"), "{}", e);
    }

    #[test]
    fn kerberos_environment_names_the_learner_keytab_only() {
        let login = |keytab: &str| KerberosLogin {
            principal: "zkquorum/h@R".into(),
            keytab: keytab.into(),
        };
        let (_d, system) = jaas(DIGEST);
        let get = cfg(&[("quorum.auth.enableSasl", "true")]);
        let mut c = QuorumAuthConfig::from_config(&get, &system, BTreeSet::new())
            .unwrap()
            .unwrap();
        assert!(
            c.kerberos_environment().is_empty(),
            "DIGEST-MD5 needs no Kerberos"
        );
        c.server_kerberos = Some(login("/k/q.keytab"));
        c.learner = LearnerLogin::Kerberos(login("/k/l.keytab"));
        // The acceptor's keytab is no process-wide setting: only the
        // learner's own tickets are.
        assert_eq!(
            c.kerberos_environment(),
            vec![
                ("KRB5_CLIENT_KTNAME", "FILE:/k/l.keytab".to_string()),
                ("KRB5CCNAME", "MEMORY:zookeeper-quorum-learner".to_string()),
            ]
        );
    }

    #[test]
    fn host_pattern() {
        assert_eq!(
            server_principal("zkquorum/_HOST", "Node1.Example"),
            "zkquorum/node1.example"
        );
        assert_eq!(
            server_principal("zkquorum/_HOST@EXAMPLE.COM", "h"),
            "zkquorum/_HOST@EXAMPLE.COM"
        );
        assert_eq!(
            server_principal("zkquorum/localhost", "h"),
            "zkquorum/localhost"
        );
        assert_eq!(server_principal("a/b/_HOST", "h"), "a/b/_HOST");
    }
}
