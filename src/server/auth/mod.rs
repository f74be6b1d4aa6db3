//! Authentication schemes and ACL checks.
//!
//! A connection collects identities ([`Id`]s): `ip:<address>` from the
//! start, more with `addauth` (auth packets). A znode's ACL grants
//! permission bits to identities; [`acl::check_acl`] decides whether a
//! connection's identities hold a permission, and [`acl::fixup_acl`] checks
//! and expands an ACL list given to create/setACL.
//!
//! The registry knows the built-in schemes `ip` and `digest` (Java also
//! loads `zookeeper.authProvider.*` classes; we have no plug-ins, and no
//! SASL); `x509` is registered with a secure client port).
//!
//! Mirrors: `org.apache.zookeeper.server.auth.ProviderRegistry`,
//! `AuthenticationProvider`, `util.AuthUtil`.

pub mod acl;
pub mod digest_authentication_provider;
pub mod ip_authentication_provider;
pub mod x509_authentication_provider;

use std::net::IpAddr;

use self::digest_authentication_provider::DigestAuthenticationProvider;
use crate::jute::data::{ClientInfo, Id};

/// One authentication scheme.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scheme {
    /// `ip`: automatic, address/mask matching.
    Ip,
    /// `digest`: `user:password`, SHA1 + base64.
    Digest,
    /// `x509`: a client certificate's subject (secure client port).
    X509,
}

impl Scheme {
    /// Whether ids of this scheme are "authenticated" users, i.e. what an
    /// `auth` ACL entry expands to (digest yes, ip no).
    pub fn is_authenticated(self) -> bool {
        matches!(self, Scheme::Digest | Scheme::X509)
    }

    /// Whether `id` is well formed for this scheme (for ACL entries).
    pub fn is_valid(self, id: &str) -> bool {
        match self {
            Scheme::Ip => ip_authentication_provider::is_valid(id),
            Scheme::Digest => digest_authentication_provider::is_valid(id),
            Scheme::X509 => x509_authentication_provider::is_valid(id),
        }
    }

    /// Whether a connection id `id` satisfies ACL id `acl_expr`.
    pub fn matches(self, id: &str, acl_expr: &str) -> bool {
        match self {
            Scheme::Ip => ip_authentication_provider::matches(id, acl_expr),
            Scheme::Digest => digest_authentication_provider::matches(id, acl_expr),
            Scheme::X509 => x509_authentication_provider::matches(id, acl_expr),
        }
    }

    /// The user name shown by whoAmI.
    pub fn user_name(self, id: &str) -> String {
        match self {
            Scheme::Ip | Scheme::X509 => id.to_string(),
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
#[derive(Debug, Clone, Default)]
pub struct ProviderRegistry {
    digest: DigestAuthenticationProvider,
    /// The `x509` scheme is registered (a secure client port, or
    /// `authProvider.x509`), as Java registers its provider.
    x509: bool,
}

impl ProviderRegistry {
    /// The built-in providers; `super_digest` enables the super user.
    pub fn new(super_digest: Option<String>) -> ProviderRegistry {
        ProviderRegistry { digest: DigestAuthenticationProvider::new(super_digest), x509: false }
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
            "digest" => Some(Scheme::Digest),
            x509_authentication_provider::SCHEME if self.x509 => Some(Scheme::X509),
            _ => None,
        }
    }

    /// Handles an auth packet from a connection at `remote`.
    pub fn authenticate(&self, scheme: &str, auth: &[u8], remote: IpAddr) -> AuthOutcome {
        match self.provider(scheme) {
            Some(Scheme::Digest) => AuthOutcome::Granted(self.digest.handle_authentication(auth)),
            Some(Scheme::Ip) => AuthOutcome::Granted(vec![Id {
                scheme: "ip".into(),
                id: ip_authentication_provider::host_address(remote),
            }]),
            // An addauth cannot bring a certificate: the handshake did.
            Some(Scheme::X509) | None => AuthOutcome::Failed,
        }
    }

    /// whoAmI: each id as (scheme, user); unknown schemes (e.g. `super`)
    /// have an empty user.
    pub fn client_infos(&self, ids: &[Id]) -> Vec<ClientInfo> {
        ids.iter()
            .map(|id| ClientInfo {
                auth_scheme: id.scheme.clone(),
                user: self.provider(&id.scheme).map(|p| p.user_name(&id.id)).unwrap_or_default(),
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
    fn who_am_i_shows_user_names() {
        let r = ProviderRegistry::new(None);
        let ids = vec![
            Id { scheme: "ip".into(), id: "127.0.0.1".into() },
            Id { scheme: "digest".into(), id: "bob:abc=".into() },
            Id { scheme: "super".into(), id: "".into() },
        ];
        let infos = r.client_infos(&ids);
        let pairs: Vec<(&str, &str)> =
            infos.iter().map(|c| (c.auth_scheme.as_str(), c.user.as_str())).collect();
        assert_eq!(pairs, vec![("ip", "127.0.0.1"), ("digest", "bob"), ("super", "")]);
    }
}
