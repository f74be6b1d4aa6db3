//! The `sasl` scheme: the identity a connection proved in its SASL
//! exchange (opcode 102), and `sasl:<name>` ACL entries.
//!
//! Registered only when `authProvider.N` names Java's
//! `SASLAuthenticationProvider` (as in Java, where nothing registers it by
//! default): otherwise `sasl:` ACLs are refused at create and grant
//! nothing. Clients never `addauth sasl`: the id comes from the exchange.
//!
//! Pure code. Mirrors: `org.apache.zookeeper.server.auth.SASLAuthenticationProvider`.

use super::kerberos_name::KerberosName;

/// The `sasl` scheme's settings.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SaslAuthenticationProvider {
    /// `zookeeper.letAnySaslUserDoX`: an ACL id every SASL user matches.
    pub let_any_user_do_x: Option<String>,
}

impl SaslAuthenticationProvider {
    /// An ACL entry's id must be a well-formed Kerberos name.
    pub fn is_valid(id: &str) -> bool {
        KerberosName::parse(id).is_some()
    }

    /// Whether connection id `id` satisfies ACL id `acl_expr`: equal
    /// names, the SASL user `super`, or the letAnySaslUserDoX id.
    pub fn matches(&self, id: &str, acl_expr: &str) -> bool {
        id == "super" || id == acl_expr || self.let_any_user_do_x.as_deref() == Some(acl_expr)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matching_and_validity() {
        let p = SaslAuthenticationProvider::default();
        assert!(p.matches("bob", "bob"));
        assert!(!p.matches("bob", "alice"));
        assert!(p.matches("super", "alice"));
        let any = SaslAuthenticationProvider {
            let_any_user_do_x: Some("anyone-sasl".into()),
        };
        assert!(any.matches("bob", "anyone-sasl"));
        assert!(!any.matches("bob", "alice"));
        assert!(SaslAuthenticationProvider::is_valid("zk/host@REALM"));
        assert!(SaslAuthenticationProvider::is_valid("bob"));
        assert!(!SaslAuthenticationProvider::is_valid("a@b@c"));
    }
}
