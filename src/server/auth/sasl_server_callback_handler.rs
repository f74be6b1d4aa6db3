//! The server's answers during a DIGEST-MD5 exchange: a user's password
//! (from the JAAS `Server` section's `user_<name>` options, or
//! `superPassword` for the user `super`) and the name the connection is
//! authorized as (the authenticated name, host and realm kept or dropped
//! by `kerberos.removeHostFromPrincipal` / `removeRealmFromPrincipal`,
//! primary shortened by the `DEFAULT` rule).
//!
//! Pure code, shared read-only by every connection.
//!
//! Mirrors: `org.apache.zookeeper.server.auth.SaslServerCallbackHandler`.
//! Java's handler remembers the last user found in a field shared by all
//! connections, so a password lookup for an unknown user can return the
//! previous user's password; here an unknown user has no password.

use std::collections::BTreeMap;

use log::{error, info};

use super::digest_md5_server::{SaslError, Verified};
use super::kerberos_name::KerberosName;
use crate::config::auth_config::{KerberosLogin, NameRules, SaslServerConfig};

/// Password and name lookups for SASL exchanges.
#[derive(Debug, Clone, Default)]
pub struct SaslServerCallbackHandler {
    users: BTreeMap<String, String>,
    super_password: Option<String>,
    rules: NameRules,
    /// The server's Kerberos identity: GSSAPI instead of DIGEST-MD5.
    kerberos: Option<KerberosLogin>,
}

impl SaslServerCallbackHandler {
    pub fn new(config: &SaslServerConfig, rules: &NameRules) -> SaslServerCallbackHandler {
        SaslServerCallbackHandler {
            users: config.users.clone(),
            super_password: config.super_password.clone(),
            rules: rules.clone(),
            kerberos: config.kerberos.clone(),
        }
    }

    /// The server's Kerberos identity, when clients use GSSAPI.
    pub fn kerberos(&self) -> Option<&KerberosLogin> {
        self.kerberos.as_ref()
    }

    /// The password of a DIGEST-MD5 user.
    pub fn password(&self, user: &str) -> Option<String> {
        if user == "super" {
            if let Some(password) = &self.super_password {
                return Some(password.clone());
            }
        }
        self.users.get(user).cloned()
    }

    /// The authorization id of a verified client: from the name it
    /// authenticated as (an `authzid` it asked for is not honoured, as in
    /// Java), by the name rules. A malformed principal fails the exchange;
    /// a principal no rule shortens keeps the id the client asked for.
    pub fn authorize(&self, verified: &Verified) -> Result<String, SaslError> {
        info!(
            "Successfully authenticated client: authenticationID={}; authorizationID={}.",
            verified.authentication_id, verified.authorization_id
        );
        let Some(name) = KerberosName::parse(&verified.authentication_id) else {
            return Err(SaslError(format!(
                "malformed Kerberos name: {}",
                verified.authentication_id
            )));
        };
        let mut id = match name.short_name(&self.rules.auth_to_local, &self.rules.default_realm) {
            Ok(Some(id)) => id,
            Ok(None) => {
                error!("Failed to set name based on Kerberos authentication rules: no rules applied to {}", name);
                return Ok(verified.authorization_id.clone());
            }
            Err(e) => {
                error!(
                    "Failed to set name based on Kerberos authentication rules: {}",
                    e
                );
                return Ok(verified.authorization_id.clone());
            }
        };
        if let (false, Some(host)) = (self.rules.remove_host, &name.host) {
            id.push('/');
            id.push_str(host);
        }
        if let (false, Some(realm)) = (self.rules.remove_realm, &name.realm) {
            id.push('@');
            id.push_str(realm);
        }
        info!("Setting authorizedID: {}", id);
        Ok(id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn verified(authn: &str, authz: &str) -> Verified {
        Verified {
            authentication_id: authn.into(),
            authorization_id: authz.into(),
        }
    }

    fn handler(remove_host: bool, remove_realm: bool) -> SaslServerCallbackHandler {
        let mut users = BTreeMap::new();
        users.insert("bob".to_string(), "bobsecret".to_string());
        users.insert("super".to_string(), "jaas-super".to_string());
        let config = SaslServerConfig {
            jaas_path: "/j".into(),
            section: "Server".into(),
            users,
            super_password: None,
            kerberos: None,
        };
        let rules = NameRules {
            remove_host,
            remove_realm,
            default_realm: "EXAMPLE.COM".into(),
            ..NameRules::default()
        };
        SaslServerCallbackHandler::new(&config, &rules)
    }

    #[test]
    fn passwords() {
        let h = handler(false, false);
        assert_eq!(h.password("bob").as_deref(), Some("bobsecret"));
        assert_eq!(h.password("super").as_deref(), Some("jaas-super"));
        assert_eq!(h.password("eve"), None);
        let mut with_super = h.clone();
        with_super.super_password = Some("override".into());
        assert_eq!(with_super.password("super").as_deref(), Some("override"));
    }

    #[test]
    fn name_rules_shape_the_id() {
        let h = handler(false, false);
        assert_eq!(
            h.authorize(&verified("bob", "alice")).unwrap(),
            "bob",
            "authzid is not honoured"
        );
        assert_eq!(
            h.authorize(&verified("zk/h1@EXAMPLE.COM", "x")).unwrap(),
            "zk/h1@EXAMPLE.COM"
        );
        assert_eq!(
            handler(true, false)
                .authorize(&verified("zk/h1@EXAMPLE.COM", "x"))
                .unwrap(),
            "zk@EXAMPLE.COM"
        );
        assert_eq!(
            handler(true, true)
                .authorize(&verified("zk/h1@EXAMPLE.COM", "x"))
                .unwrap(),
            "zk"
        );
        assert_eq!(
            handler(false, true)
                .authorize(&verified("zk/h1@EXAMPLE.COM", "x"))
                .unwrap(),
            "zk/h1"
        );
        // Another realm: no rule applies, the requested id stays.
        assert_eq!(
            handler(true, true)
                .authorize(&verified("zk@OTHER", "zk@OTHER"))
                .unwrap(),
            "zk@OTHER"
        );
        assert!(h.authorize(&verified("a@b@c", "a")).is_err());
    }
}
