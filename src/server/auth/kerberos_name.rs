//! Kerberos principal names (`primary[/instance]@REALM`) and the
//! `DEFAULT` auth_to_local rule: how a SASL identity becomes the short
//! name in a `sasl:` id.
//!
//! Pure code. Mirrors: `org.apache.zookeeper.server.auth.KerberosName`
//! (the rules themselves are `config::auth_to_local`, parsed at startup).

use crate::config::auth_to_local::AuthToLocal;

/// A principal split into its parts. A name without `@` is a simple
/// name (even with slashes): only `service` is set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KerberosName {
    pub service: String,
    pub host: Option<String>,
    pub realm: Option<String>,
}

impl KerberosName {
    /// Splits `name`; a name with `@` that is not `primary[/instance]@REALM`
    /// (one `@`, at most one `/` before it, none after) is malformed.
    pub fn parse(name: &str) -> Option<KerberosName> {
        let Some((principal, realm)) = name.split_once('@') else {
            return Some(KerberosName {
                service: name.to_string(),
                host: None,
                realm: None,
            });
        };
        if realm.contains(['@', '/']) {
            return None;
        }
        let (service, host) = match principal.split_once('/') {
            Some((_, host)) if host.contains('/') => return None,
            Some((service, host)) => (service, Some(host.to_string())),
            None => (principal, None),
        };
        Some(KerberosName {
            service: service.to_string(),
            host,
            realm: Some(realm.to_string()),
        })
    }

    /// The short name by the auth_to_local `rules`: a simple name as it
    /// is; `Ok(None)` when no rule applies.
    pub fn short_name(
        &self,
        rules: &AuthToLocal,
        default_realm: &str,
    ) -> Result<Option<String>, String> {
        let Some(realm) = &self.realm else {
            return Ok(Some(self.service.clone()));
        };
        let mut components = vec![self.service.as_str()];
        components.extend(self.host.as_deref());
        rules.short_name(realm, &components, default_realm)
    }
}

impl std::fmt::Display for KerberosName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.service)?;
        if let Some(host) = &self.host {
            write!(f, "/{}", host)?;
        }
        if let Some(realm) = &self.realm {
            write!(f, "@{}", realm)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_like_javas_pattern() {
        let k = KerberosName::parse("zookeeper/host.example.com@EXAMPLE.COM").unwrap();
        assert_eq!(
            (k.service.as_str(), k.host.as_deref(), k.realm.as_deref()),
            ("zookeeper", Some("host.example.com"), Some("EXAMPLE.COM"))
        );
        assert_eq!(k.to_string(), "zookeeper/host.example.com@EXAMPLE.COM");
        let bob = KerberosName::parse("bob@EXAMPLE.COM").unwrap();
        assert_eq!(
            (bob.host.as_deref(), bob.realm.as_deref()),
            (None, Some("EXAMPLE.COM"))
        );
        assert_eq!(KerberosName::parse("a/b/c").unwrap().service, "a/b/c");
        assert_eq!(KerberosName::parse("").unwrap().service, "");
        assert_eq!(
            KerberosName::parse("@R").unwrap().realm.as_deref(),
            Some("R")
        );
        for bad in ["a@b@c", "a/b/c@R", "a@R/x"] {
            assert!(KerberosName::parse(bad).is_none(), "{}", bad);
        }
    }

    #[test]
    fn default_rule() {
        let k = KerberosName::parse("zk/h@EXAMPLE.COM").unwrap();
        let rules = AuthToLocal::default();
        assert_eq!(
            k.short_name(&rules, "EXAMPLE.COM").unwrap().as_deref(),
            Some("zk")
        );
        assert_eq!(k.short_name(&rules, "OTHER.COM").unwrap(), None);
        assert_eq!(k.short_name(&rules, "").unwrap(), None);
        let bob = KerberosName::parse("bob").unwrap();
        assert_eq!(bob.short_name(&rules, "").unwrap().as_deref(), Some("bob"));
    }
}
