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
//! `ServerCnxnFactory.configureSaslLogin` and `SaslServerCallbackHandler`
//! (the JAAS file, its `Server` section, the DIGEST-MD5 users, the
//! principal name rules), `ZooKeeperServer` (`superUser`,
//! `allowSaslFailedClients`), `SASLAuthenticationProvider`
//! (`letAnySaslUserDoX`), `KerberosName` (`auth_to_local`, the default
//! realm) and `QuorumPeerConfig` (`quorum.auth.*`).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use log::{info, warn};

use super::auth_to_local::AuthToLocal;
use super::config_error::ConfigError;
use super::jaas_configuration::{JaasConfiguration, LoginModuleEntry};
use super::system_properties::SystemProperties;

/// `Environment.JAAS_CONF_KEY`: the JAAS file.
pub const JAAS_CONF_KEY: &str = "java.security.auth.login.config";
/// `ZooKeeperSaslServer.LOGIN_CONTEXT_NAME_KEY`: the server's JAAS section.
pub const SASL_SERVER_CONFIG_KEY: &str = "zookeeper.sasl.serverconfig";
/// The section used when [`SASL_SERVER_CONFIG_KEY`] is unset.
pub const DEFAULT_SERVER_SECTION: &str = "Server";
/// `ProviderRegistry.AUTHPROVIDER_PROPERTY_PREFIX`.
pub const AUTH_PROVIDER_PREFIX: &str = "zookeeper.authProvider.";
/// `ZooKeeperServer.SASL_SUPER_USER` (also `zookeeper.superUser.<anything>`).
pub const SUPER_USER_KEY: &str = "zookeeper.superUser";
/// The password of the DIGEST-MD5 user `super`, overriding the JAAS file.
pub const SUPER_PASSWORD_KEY: &str = "zookeeper.SASLAuthenticationProvider.superPassword";
/// The JAAS login module whose `user_<name>` options are DIGEST-MD5 users.
pub const DIGEST_LOGIN_MODULE: &str = "org.apache.zookeeper.server.auth.DigestLoginModule";
/// The JDK's Kerberos login module: the server authenticates clients
/// with GSSAPI, as the principal in the module's keytab.
pub const KRB5_LOGIN_MODULE: &str = "com.sun.security.auth.module.Krb5LoginModule";
/// `-Djava.security.krb5.conf`: the Kerberos configuration file.
pub const KRB5_CONF_KEY: &str = "java.security.krb5.conf";

const DIGEST_ALG_KEY: &str = "zookeeper.DigestAuthenticationProvider.digestAlg";
const DIGEST_ENABLED_KEY: &str = "zookeeper.DigestAuthenticationProvider.enabled";
const ENFORCE_ENABLED_KEY: &str = "zookeeper.enforce.auth.enabled";
const ENFORCE_SCHEMES_KEY: &str = "zookeeper.enforce.auth.schemes";
const SESSION_REQUIRE_SASL_KEY: &str = "zookeeper.sessionRequireClientSASLAuth";
const AUTH_TO_LOCAL_KEY: &str = "zookeeper.security.auth_to_local";
const JAVA_PACKAGE: &str = "org.apache.zookeeper.server.auth.";

/// The hash of `digest` ids (`DigestAuthenticationProvider.digestAlg`),
/// by any name Java's `MessageDigest.getInstance` accepts for it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum DigestAlgorithm {
    Md5,
    #[default]
    Sha1,
    Sha224,
    Sha256,
    Sha384,
    Sha512,
    Sha512_224,
    Sha512_256,
    Sha3_224,
    Sha3_256,
    Sha3_384,
    Sha3_512,
}

impl DigestAlgorithm {
    /// The algorithm for a JCA name (case-insensitive, with Java's aliases).
    pub fn from_java_name(name: &str) -> Option<DigestAlgorithm> {
        use DigestAlgorithm::*;
        let upper = name.to_ascii_uppercase();
        Some(match upper.as_str() {
            "MD5" => Md5,
            "SHA" | "SHA1" | "SHA-1" => Sha1,
            "SHA-224" | "SHA224" => Sha224,
            "SHA-256" | "SHA256" => Sha256,
            "SHA-384" | "SHA384" => Sha384,
            "SHA-512" | "SHA512" => Sha512,
            "SHA-512/224" | "SHA512/224" => Sha512_224,
            "SHA-512/256" | "SHA512/256" => Sha512_256,
            "SHA3-224" => Sha3_224,
            "SHA3-256" => Sha3_256,
            "SHA3-384" => Sha3_384,
            "SHA3-512" => Sha3_512,
            _ => return None,
        })
    }
}

/// The server side of SASL: present when the JAAS file has the server's
/// section (Java then creates a SASL server for every connection).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SaslServerConfig {
    /// The JAAS file it came from.
    pub jaas_path: PathBuf,
    /// The section's name (`Server` unless `zookeeper.sasl.serverconfig`).
    pub section: String,
    /// DIGEST-MD5 users: name -> password (`user_<name>="<password>"`).
    pub users: BTreeMap<String, String>,
    /// `zookeeper.SASLAuthenticationProvider.superPassword`: the password
    /// of the user `super` when set.
    pub super_password: Option<String>,
    /// A `Krb5LoginModule` in the section: clients authenticate with
    /// GSSAPI (Kerberos) instead of DIGEST-MD5, as in Java, where a
    /// server whose login has a Kerberos principal speaks only GSSAPI.
    pub kerberos: Option<KerberosLogin>,
}

/// The server's Kerberos identity (`Krb5LoginModule` with `useKeyTab=true`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KerberosLogin {
    /// `principal`, e.g. `zookeeper/host.example.com@EXAMPLE.COM`.
    pub principal: String,
    /// `keyTab`: the file holding the principal's keys.
    pub keytab: PathBuf,
}

impl KerberosLogin {
    /// The service name and host of `service/host@REALM` (Java's
    /// `SecurityUtils.createSaslServer` splits the principal this way).
    pub fn service_and_host(&self) -> (&str, &str) {
        let without_realm = self.principal.split('@').next().unwrap_or("");
        without_realm.split_once('/').unwrap_or((without_realm, ""))
    }
}

/// How an authenticated SASL name becomes the connection's `sasl` id
/// (`SaslServerCallbackHandler.handleAuthorizeCallback` + `KerberosName`).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct NameRules {
    /// `zookeeper.kerberos.removeHostFromPrincipal=true`.
    pub remove_host: bool,
    /// `zookeeper.kerberos.removeRealmFromPrincipal=true`.
    pub remove_realm: bool,
    /// `zookeeper.security.auth_to_local` (default `DEFAULT`).
    pub auth_to_local: AuthToLocal,
    /// The Kerberos default realm (`-Djava.security.krb5.realm`, else
    /// `default_realm` of the krb5.conf the JDK would read, else empty):
    /// the `DEFAULT` auth_to_local rule shortens names of this realm.
    pub default_realm: String,
}

/// The authentication settings, validated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthConfig {
    /// The SASL server, when configured.
    pub sasl: Option<SaslServerConfig>,
    /// The `sasl` scheme is registered (`authProvider.N` names
    /// `SASLAuthenticationProvider`): `sasl:` ACLs can be set and match.
    pub sasl_provider: bool,
    /// The `digest` scheme is registered (default yes).
    pub digest_enabled: bool,
    /// The hash of digest ids.
    pub digest_alg: DigestAlgorithm,
    /// Requests need an identity of one of `enforce_auth_schemes`.
    pub enforce_auth_enabled: bool,
    /// The schemes that count for `enforce_auth_enabled`.
    pub enforce_auth_schemes: Vec<String>,
    /// `zookeeper.allowSaslFailedClients`: a failed SASL exchange keeps
    /// the connection (unless SASL is required).
    pub allow_sasl_failed_clients: bool,
    /// `zookeeper.superUser[.x]` values: SASL ids that also get `super`.
    pub super_users: Vec<String>,
    /// `zookeeper.letAnySaslUserDoX`: this ACL id matches any SASL user.
    pub let_any_sasl_user_do_x: Option<String>,
    pub name_rules: NameRules,
}

impl Default for AuthConfig {
    fn default() -> Self {
        AuthConfig {
            sasl: None,
            sasl_provider: false,
            digest_enabled: true,
            digest_alg: DigestAlgorithm::Sha1,
            enforce_auth_enabled: false,
            enforce_auth_schemes: Vec::new(),
            allow_sasl_failed_clients: false,
            super_users: Vec::new(),
            let_any_sasl_user_do_x: None,
            name_rules: NameRules::default(),
        }
    }
}

impl AuthConfig {
    /// Whether a failed or missing SASL exchange ends the session with
    /// SESSIONCLOSEDREQUIRESASLAUTH (`AuthenticationHelper.isSaslAuthRequired`).
    pub fn sasl_auth_required(&self) -> bool {
        self.enforce_auth_enabled && self.enforce_auth_schemes.iter().any(|s| s == "sasl")
    }

    /// Reads and checks the settings from the system properties in force
    /// (the `-D` flags plus zoo.cfg's pass-through keys).
    pub fn from_system(system: &SystemProperties) -> Result<AuthConfig, ConfigError> {
        let mut config = AuthConfig::default();
        config.apply_providers(system)?;
        config.sasl = sasl_server(system)?;
        match &config.sasl {
            Some(SaslServerConfig {
                kerberos: Some(login),
                section,
                jaas_path,
                ..
            }) => info!(
                "SASL server: GSSAPI (Kerberos) as {} from section '{}' of {}",
                login.principal,
                section,
                jaas_path.display()
            ),
            Some(sasl) => info!(
                "SASL server: DIGEST-MD5 with {} user(s) from section '{}' of {}",
                sasl.users.len(),
                sasl.section,
                sasl.jaas_path.display()
            ),
            None => {}
        }
        config.allow_sasl_failed_clients = system.get_boolean("zookeeper.allowSaslFailedClients");
        config.super_users = super_users(system);
        config.let_any_sasl_user_do_x = system
            .get("zookeeper.letAnySaslUserDoX")
            .map(str::to_string);
        config.name_rules = name_rules(system)?;
        config.apply_enforcement(system)?;
        Ok(config)
    }

    /// `authProvider.N`, `DigestAuthenticationProvider.enabled/digestAlg`.
    fn apply_providers(&mut self, system: &SystemProperties) -> Result<(), ConfigError> {
        self.digest_enabled = system.get_boolean_or(DIGEST_ENABLED_KEY, true);
        if let Some(name) = system.get(DIGEST_ALG_KEY) {
            self.digest_alg = DigestAlgorithm::from_java_name(name)
                .ok_or_else(|| refused(DIGEST_ALG_KEY, name, "not a digest algorithm this server has (MD5, SHA-1, SHA-224/256/384/512, SHA-512/224, SHA-512/256, SHA3-224/256/384/512)"))?;
        }
        for (key, class) in system
            .iter()
            .filter(|(k, _)| k.starts_with(AUTH_PROVIDER_PREFIX))
        {
            match class.strip_prefix(JAVA_PACKAGE) {
                Some("SASLAuthenticationProvider") => self.sasl_provider = true,
                // Java registers a named digest provider even when disabled.
                Some("DigestAuthenticationProvider") => self.digest_enabled = true,
                Some("IPAuthenticationProvider") => {}
                // Registered with the secure client port (client_tls).
                Some("X509AuthenticationProvider") => {}
                _ => {
                    return Err(refused(
                        key,
                        class,
                        "not one of Java's built-in providers this server has (SASL, Digest, IP and X509AuthenticationProvider); provider plug-ins are not supported",
                    ))
                }
            }
        }
        Ok(())
    }

    /// `AuthenticationHelper`: `sessionRequireClientSASLAuth=true` means
    /// enforcement with the `sasl` scheme; otherwise `enforce.auth.*`.
    /// Every enforced scheme must be registered.
    fn apply_enforcement(&mut self, system: &SystemProperties) -> Result<(), ConfigError> {
        let (key, value) = if system.get_boolean_or(SESSION_REQUIRE_SASL_KEY, false) {
            self.enforce_auth_enabled = true;
            self.enforce_auth_schemes = vec!["sasl".to_string()];
            (SESSION_REQUIRE_SASL_KEY, "true".to_string())
        } else {
            self.enforce_auth_enabled = system.get_boolean_or(ENFORCE_ENABLED_KEY, false);
            if let Some(schemes) = system.get(ENFORCE_SCHEMES_KEY) {
                self.enforce_auth_schemes =
                    schemes.split(',').map(|s| s.trim().to_string()).collect();
            }
            (
                ENFORCE_SCHEMES_KEY,
                system.get(ENFORCE_SCHEMES_KEY).unwrap_or("").to_string(),
            )
        };
        if !self.enforce_auth_enabled {
            return Ok(());
        }
        if self.enforce_auth_schemes.is_empty() {
            return Err(refused(
                ENFORCE_SCHEMES_KEY,
                "",
                "must be set when zookeeper.enforce.auth.enabled is true",
            ));
        }
        for scheme in &self.enforce_auth_schemes {
            let available = match scheme.as_str() {
                "ip" => true,
                "digest" => self.digest_enabled,
                "sasl" => self.sasl_provider,
                _ => false,
            };
            if !available {
                let hint = if scheme == "sasl" {
                    " (set authProvider.1=org.apache.zookeeper.server.auth.SASLAuthenticationProvider)"
                } else {
                    ""
                };
                return Err(refused(
                    key,
                    &value,
                    &format!(
                        "authentication scheme '{}' is not available{}",
                        scheme, hint
                    ),
                ));
            }
        }
        info!(
            "zookeeper.enforce.auth.enabled = true, schemes {:?}",
            self.enforce_auth_schemes
        );
        Ok(())
    }
}

/// The SASL server's settings from the JAAS file, if any.
///
/// A file that cannot be read or parsed stops startup (naming the file and
/// line), as does a section named by `zookeeper.sasl.serverconfig` that is
/// not there. Without that key, a file without a `Server` section (a
/// client-only file shared through JVMFLAGS) means no SASL server, as in
/// Java. Only `DigestLoginModule` is honoured in the server's section.
fn sasl_server(system: &SystemProperties) -> Result<Option<SaslServerConfig>, ConfigError> {
    let explicit_section = system.get(SASL_SERVER_CONFIG_KEY);
    let section = explicit_section.unwrap_or(DEFAULT_SERVER_SECTION);
    let Some(path) = system.get(JAAS_CONF_KEY) else {
        if let Some(name) = explicit_section {
            return Err(refused(
                SASL_SERVER_CONFIG_KEY,
                name,
                &format!("no JAAS file ({} is not set)", JAAS_CONF_KEY),
            ));
        }
        return Ok(None);
    };
    let jaas_path = PathBuf::from(path);
    let jaas = read_jaas(&jaas_path, system)?;
    let Some(entries) = jaas.section(section) else {
        let why = format!(
            "no JAAS configuration section named '{}' in {}",
            section, path
        );
        if let Some(name) = explicit_section {
            return Err(refused(SASL_SERVER_CONFIG_KEY, name, &why));
        }
        warn!("{}: the server runs without SASL", why);
        return Ok(None);
    };
    let mut users = BTreeMap::new();
    let mut kerberos = None;
    for entry in entries {
        let at_line = |what: &str| {
            let why = format!("line {} of section '{}': {}", entry.line, section, what);
            refused(JAAS_CONF_KEY, path, &why)
        };
        if entry.class_name == KRB5_LOGIN_MODULE {
            kerberos = Some(kerberos_login(entry).map_err(|why| at_line(&why))?);
            continue;
        }
        if entry.class_name != DIGEST_LOGIN_MODULE {
            return Err(at_line(&format!(
                "login module {} is not supported (only {} and {})",
                entry.class_name, DIGEST_LOGIN_MODULE, KRB5_LOGIN_MODULE
            )));
        }
        for (option, value) in &entry.options {
            if let Some(user) = option.strip_prefix("user_") {
                users.insert(user.to_string(), value.clone());
            }
        }
    }
    let super_password = system.get(SUPER_PASSWORD_KEY).map(str::to_string);
    let section = section.to_string();
    Ok(Some(SaslServerConfig {
        jaas_path,
        section,
        users,
        super_password,
        kerberos,
    }))
}

/// A server `Krb5LoginModule` entry: a keytab login is required (a
/// server has no one to type a password or refresh a ticket cache).
pub(super) fn kerberos_login(entry: &LoginModuleEntry) -> Result<KerberosLogin, String> {
    let option = |name: &str| entry.options.get(name).map(String::as_str);
    if !option("useKeyTab").is_some_and(|v| v.eq_ignore_ascii_case("true")) {
        return Err("Krb5LoginModule needs useKeyTab=true on a server".to_string());
    }
    let Some(keytab) = option("keyTab") else {
        return Err("Krb5LoginModule needs keyTab".to_string());
    };
    let Some(principal) = option("principal") else {
        return Err("Krb5LoginModule needs principal".to_string());
    };
    if !Path::new(keytab).is_file() {
        return Err(format!("the keyTab {} is not a readable file", keytab));
    }
    if !cfg!(feature = "gssapi") {
        return Err(
            "this zk-server was built without Kerberos (GSSAPI): build it with \
                    `cargo build --release --features gssapi` (needs libkrb5-dev and libclang-dev)"
                .to_string(),
        );
    }
    Ok(KerberosLogin {
        principal: principal.to_string(),
        keytab: PathBuf::from(keytab),
    })
}

/// The Kerberos library's environment for this process: `KRB5_CONFIG`
/// from `-Djava.security.krb5.conf` and `KRB5_KTNAME` from the server's
/// JAAS `Krb5LoginModule` keytab. `zk-server` sets these on its main
/// thread before any other thread starts (the library reads them when it
/// first runs). Anything wrong with the files is reported by
/// [`AuthConfig::from_system`], not here.
pub fn kerberos_environment(system: &SystemProperties) -> Vec<(&'static str, String)> {
    let mut env = Vec::new();
    if let Some(conf) = system.get(KRB5_CONF_KEY) {
        env.push(("KRB5_CONFIG", conf.to_string()));
    }
    if let Ok(Some(SaslServerConfig {
        kerberos: Some(login),
        ..
    })) = sasl_server(system)
    {
        env.push(("KRB5_KTNAME", format!("FILE:{}", login.keytab.display())));
    }
    env
}

pub(super) fn read_jaas(
    path: &Path,
    system: &SystemProperties,
) -> Result<JaasConfiguration, ConfigError> {
    let shown = path.display().to_string();
    let bytes = std::fs::read(path).map_err(|e| {
        refused(
            JAAS_CONF_KEY,
            &shown,
            &format!("cannot read the JAAS file: {}", e),
        )
    })?;
    let text = String::from_utf8_lossy(&bytes);
    JaasConfiguration::parse(&text, system).map_err(|e| {
        refused(
            JAAS_CONF_KEY,
            &shown,
            &format!("malformed JAAS file, {}", e),
        )
    })
}

/// `isSaslSuperUser`: `zookeeper.superUser` and `zookeeper.superUser.<x>`.
fn super_users(system: &SystemProperties) -> Vec<String> {
    system
        .iter()
        .filter(|(k, _)| {
            k.strip_prefix(SUPER_USER_KEY)
                .is_some_and(|rest| rest.is_empty() || rest.starts_with('.'))
        })
        .map(|(_, v)| v.to_string())
        .filter(|v| !v.is_empty())
        .collect()
}

/// The principal name rules; a malformed auth_to_local rule is refused.
fn name_rules(system: &SystemProperties) -> Result<NameRules, ConfigError> {
    let auth_to_local = match system.get(AUTH_TO_LOCAL_KEY) {
        Some(rules) => {
            AuthToLocal::parse(rules).map_err(|e| refused(AUTH_TO_LOCAL_KEY, rules, &e))?
        }
        None => AuthToLocal::default(),
    };
    Ok(NameRules {
        remove_host: system.get("zookeeper.kerberos.removeHostFromPrincipal") == Some("true"),
        remove_realm: system.get("zookeeper.kerberos.removeRealmFromPrincipal") == Some("true"),
        auth_to_local,
        default_realm: default_realm(system),
    })
}

/// The JDK's default realm: `java.security.krb5.realm`, else
/// `[libdefaults] default_realm` of `java.security.krb5.conf` (or
/// `/etc/krb5.conf`), else empty (Java's `KerberosName` falls back to "").
fn default_realm(system: &SystemProperties) -> String {
    if let Some(realm) = system.get("java.security.krb5.realm") {
        return realm.to_string();
    }
    let path = system.get(KRB5_CONF_KEY).unwrap_or("/etc/krb5.conf");
    std::fs::read_to_string(path)
        .ok()
        .and_then(|text| krb5_default_realm(&text))
        .unwrap_or_default()
}

/// `default_realm` in the `[libdefaults]` section of a krb5.conf.
fn krb5_default_realm(text: &str) -> Option<String> {
    let mut in_libdefaults = false;
    for line in text.lines().map(str::trim) {
        if line.starts_with('[') {
            in_libdefaults = line == "[libdefaults]";
        } else if in_libdefaults {
            if let Some((key, value)) = line.split_once('=') {
                if key.trim() == "default_realm" {
                    return Some(value.trim().to_string());
                }
            }
        }
    }
    None
}

fn refused(key: &str, value: &str, reason: &str) -> ConfigError {
    ConfigError::InvalidValue {
        key: key.to_string(),
        value: value.to_string(),
        reason: reason.to_string(),
    }
}

#[cfg(test)]
#[path = "auth_config_tests.rs"]
mod tests;
