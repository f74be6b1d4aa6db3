//! Authentication schemes and ACL checks.
//!
//! A connection collects identities ([`Id`]s): `ip:<address>` from the
//! start, more with `addauth` (auth packets). A znode's ACL grants
//! permission bits to identities; [`acl::check_acl`] decides whether a
//! connection's identities hold a permission, and [`acl::fixup_acl`] checks
//! and expands an ACL list given to create/setACL.
//!
//! The registry knows the built-in schemes `ip`, `digest` (unless
//! `DigestAuthenticationProvider.enabled=false`), `x509` (registered with
//! a secure client port) and `sasl` (when `authProvider.N` names Java's
//! `SASLAuthenticationProvider`). Java also loads other `authProvider.N`
//! classes; we have no plug-ins, and such a setting is refused at
//! startup. The SASL exchange itself (opcode 102) is [`sasl_server`]'s.
//!
//! Mirrors: `org.apache.zookeeper.server.auth.ProviderRegistry`,
//! `AuthenticationProvider`, `util.AuthUtil`.

pub mod acl;
pub mod digest_authentication_provider;
pub mod digest_md5_client;
pub mod digest_md5_server;
#[cfg(feature = "gssapi")]
pub mod gssapi_client;
#[cfg(feature = "gssapi")]
pub mod gssapi_server;
pub mod ip_authentication_provider;
pub mod kerberos_name;
pub mod sasl_authentication_provider;
pub mod sasl_server;
pub mod sasl_server_callback_handler;
pub mod x509_authentication_provider;

use std::net::IpAddr;

use self::digest_authentication_provider::DigestAuthenticationProvider;
use self::sasl_authentication_provider::SaslAuthenticationProvider;
use crate::config::auth_config::AuthConfig;
use crate::jute::data::{ClientInfo, Id};

/// One authentication scheme.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scheme {
    /// `ip`: automatic, address/mask matching.
    Ip,
    /// `digest`: `user:password`, hashed (SHA1 by default) + base64.
    Digest,
    /// `x509`: a client certificate's subject (secure client port).
    X509,
    /// `sasl`: the name a SASL exchange authenticated.
    Sasl,
}

impl Scheme {
    /// Whether ids of this scheme are "authenticated" users, i.e. what an
    /// `auth` ACL entry expands to (digest and sasl yes, ip no).
    pub fn is_authenticated(self) -> bool {
        matches!(self, Scheme::Digest | Scheme::X509 | Scheme::Sasl)
    }

    /// Whether `id` is well formed for this scheme (for ACL entries).
    pub fn is_valid(self, id: &str) -> bool {
        match self {
            Scheme::Ip => ip_authentication_provider::is_valid(id),
            Scheme::Digest => digest_authentication_provider::is_valid(id),
            Scheme::X509 => x509_authentication_provider::is_valid(id),
            Scheme::Sasl => SaslAuthenticationProvider::is_valid(id),
        }
    }

    /// The user name shown by whoAmI.
    pub fn user_name(self, id: &str) -> String {
        match self {
            Scheme::Ip | Scheme::X509 | Scheme::Sasl => id.to_string(),
            Scheme::Digest => digest_authentication_provider::user_name(id),
        }
    }
}

/// Outcome of an `addauth`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuthOutcome {
    /// Add these ids to the connection.
    Granted(Vec<Id>),
    /// No provider for the scheme (or it refused): AUTHFAILED, close.
    Failed,
}

/// The schemes this server knows.
#[derive(Debug, Clone)]
pub struct ProviderRegistry {
    /// `None` when `DigestAuthenticationProvider.enabled=false`.
    digest: Option<DigestAuthenticationProvider>,
    /// The `x509` scheme is registered (a secure client port, or
    /// `authProvider.x509`), as Java registers its provider.
    x509: bool,
    /// `None` unless registered through `authProvider.N`.
    sasl: Option<SaslAuthenticationProvider>,
}

impl Default for ProviderRegistry {
    fn default() -> Self {
        ProviderRegistry::new(None)
    }
}

impl ProviderRegistry {
    /// Java's default providers (ip, SHA1 digest); `super_digest` enables
    /// the super user.
    pub fn new(super_digest: Option<String>) -> ProviderRegistry {
        ProviderRegistry::with_config(super_digest, &AuthConfig::default())
    }

    /// The providers `config` registers (x509 separately: [`Self::with_x509`]).
    pub fn with_config(super_digest: Option<String>, config: &AuthConfig) -> ProviderRegistry {
        ProviderRegistry {
            digest: config.digest_enabled.then(|| {
                DigestAuthenticationProvider::with_algorithm(super_digest, config.digest_alg)
            }),
            x509: false,
            sasl: config.sasl_provider.then(|| SaslAuthenticationProvider {
                let_any_user_do_x: config.let_any_sasl_user_do_x.clone(),
            }),
        }
    }

    /// Registers the `x509` scheme.
    pub fn with_x509(mut self, enabled: bool) -> ProviderRegistry {
        self.x509 = enabled;
        self
    }

    /// The provider for `scheme`, if there is one.
    pub fn provider(&self, scheme: &str) -> Option<Scheme> {
        match scheme {
            "ip" => Some(Scheme::Ip),
            "digest" if self.digest.is_some() => Some(Scheme::Digest),
            x509_authentication_provider::SCHEME if self.x509 => Some(Scheme::X509),
            "sasl" if self.sasl.is_some() => Some(Scheme::Sasl),
            _ => None,
        }
    }

    /// Whether a connection id `id` satisfies ACL id `acl_expr` of `scheme`.
    pub fn matches(&self, scheme: Scheme, id: &str, acl_expr: &str) -> bool {
        match (scheme, &self.sasl) {
            (Scheme::Ip, _) => ip_authentication_provider::matches(id, acl_expr),
            (Scheme::Digest, _) => digest_authentication_provider::matches(id, acl_expr),
            (Scheme::X509, _) => x509_authentication_provider::matches(id, acl_expr),
            (Scheme::Sasl, Some(sasl)) => sasl.matches(id, acl_expr),
            (Scheme::Sasl, None) => false,
        }
    }

    /// Handles an auth packet from a connection at `remote`. `addauth sasl`
    /// always fails: SASL ids come from the exchange (opcode 102).
    pub fn authenticate(&self, scheme: &str, auth: &[u8], remote: IpAddr) -> AuthOutcome {
        match (self.provider(scheme), &self.digest) {
            (Some(Scheme::Digest), Some(digest)) => {
                AuthOutcome::Granted(digest.handle_authentication(auth))
            }
            (Some(Scheme::Ip), _) => AuthOutcome::Granted(vec![Id {
                scheme: "ip".into(),
                id: ip_authentication_provider::host_address(remote),
            }]),
            // An addauth cannot bring a certificate (the handshake did) nor
            // a SASL identity (the exchange does).
            _ => AuthOutcome::Failed,
        }
    }

    /// The ids `digest <user:password>` credentials yield (`None` when the
    /// digest scheme is switched off); used where no connection exists
    /// (the AdminServer's `Authorization` header).
    pub fn digest_ids(&self, auth: &[u8]) -> Option<Vec<Id>> {
        self.digest.as_ref().map(|d| d.handle_authentication(auth))
    }

    /// whoAmI: each id as (scheme, user); unknown schemes (e.g. `super`)
    /// have an empty user.
    pub fn client_infos(&self, ids: &[Id]) -> Vec<ClientInfo> {
        ids.iter()
            .map(|id| ClientInfo {
                auth_scheme: id.scheme.clone(),
                user: self
                    .provider(&id.scheme)
                    .map(|p| p.user_name(&id.id))
                    .unwrap_or_default(),
            })
            .collect()
    }
}

/// Java's `String.split(char)`: split on every separator, then drop
/// trailing empty parts.
pub(crate) fn java_split(s: &str, sep: char) -> Vec<String> {
    let mut parts: Vec<String> = s.split(sep).map(str::to_string).collect();
    while parts.last().is_some_and(|p| p.is_empty()) {
        parts.pop();
    }
    parts
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn java_split_drops_trailing_empties() {
        assert_eq!(java_split("a:b::", ':'), vec!["a", "b"]);
        assert_eq!(java_split(":a", ':'), vec!["", "a"]);
        assert!(java_split("", ':').is_empty());
    }

    #[test]
    fn unknown_schemes_fail_authentication() {
        let r = ProviderRegistry::new(None);
        let remote: IpAddr = "127.0.0.1".parse().unwrap();
        assert_eq!(r.authenticate("world", b"x", remote), AuthOutcome::Failed);
        assert_eq!(r.authenticate("super", b"x", remote), AuthOutcome::Failed);
        match r.authenticate("digest", b"u:p", remote) {
            AuthOutcome::Granted(ids) => assert_eq!(ids[0].scheme, "digest"),
            other => panic!("{:?}", other),
        }
    }

    #[test]
    fn configured_schemes() {
        let remote: IpAddr = "127.0.0.1".parse().unwrap();
        let config = AuthConfig {
            digest_enabled: false,
            sasl_provider: true,
            ..AuthConfig::default()
        };
        let r = ProviderRegistry::with_config(None, &config);
        assert_eq!(r.provider("digest"), None);
        assert_eq!(
            r.authenticate("digest", b"u:p", remote),
            AuthOutcome::Failed
        );
        assert_eq!(r.provider("sasl"), Some(Scheme::Sasl));
        assert_eq!(r.authenticate("sasl", b"u:p", remote), AuthOutcome::Failed);
        assert!(r.matches(Scheme::Sasl, "bob", "bob"));
        let default = ProviderRegistry::new(None);
        assert_eq!(default.provider("sasl"), None);
        assert!(!default.matches(Scheme::Sasl, "bob", "bob"));
    }

    #[test]
    fn who_am_i_shows_user_names() {
        let r = ProviderRegistry::new(None);
        let ids = vec![
            Id {
                scheme: "ip".into(),
                id: "127.0.0.1".into(),
            },
            Id {
                scheme: "digest".into(),
                id: "bob:abc=".into(),
            },
            Id {
                scheme: "super".into(),
                id: "".into(),
            },
        ];
        let infos = r.client_infos(&ids);
        let pairs: Vec<(&str, &str)> = infos
            .iter()
            .map(|c| (c.auth_scheme.as_str(), c.user.as_str()))
            .collect();
        assert_eq!(
            pairs,
            vec![("ip", "127.0.0.1"), ("digest", "bob"), ("super", "")]
        );
    }
}
