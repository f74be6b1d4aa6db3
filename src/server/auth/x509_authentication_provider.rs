//! The `x509` scheme: a client that presented a certificate on the secure
//! client port is `x509:<subject>`, its certificate's subject name in RFC
//! 2253 form (`common::x500_principal`), e.g. `x509:CN=app,O=Acme,C=US`.
//! The identity is added by the connection right after its TLS handshake
//! (the handshake already checked the chain against the trust store); the
//! subject named by `X509AuthenticationProvider.superUser` also gets the
//! `super` identity. ACL entries `x509:<subject>` match it exactly.
//!
//! Pure functions, no threads.
//!
//! Mirrors: `org.apache.zookeeper.server.auth.X509AuthenticationProvider`.

use crate::jute::data::Id;

/// The scheme name.
pub const SCHEME: &str = "x509";

/// The identities a verified client certificate with subject `subject`
/// brings: `super` first when it is the configured super user, then
/// `x509:<subject>`.
pub fn identities(subject: &str, super_user: Option<&str>) -> Vec<Id> {
    let mut ids = Vec::with_capacity(2);
    if super_user == Some(subject) {
        ids.push(Id {
            scheme: "super".to_string(),
            id: subject.to_string(),
        });
    }
    ids.push(Id {
        scheme: SCHEME.to_string(),
        id: subject.to_string(),
    });
    ids
}

/// An ACL id must be a distinguished name: `type=value` parts split by
/// unescaped commas (or plus signs).
pub fn is_valid(id: &str) -> bool {
    let mut parts = vec![String::new()];
    let mut chars = id.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                let last = parts.last_mut().expect("never empty");
                last.push(c);
                last.extend(chars.next());
            }
            ',' | '+' => parts.push(String::new()),
            _ => parts.last_mut().expect("never empty").push(c),
        }
    }
    !id.is_empty()
        && parts
            .iter()
            .all(|p| p.split_once('=').is_some_and(|(t, _)| !t.trim().is_empty()))
}

/// A connection id matches an ACL id when they are the same name.
pub fn matches(id: &str, acl_expr: &str) -> bool {
    id == acl_expr
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_super_user_also_gets_super() {
        let ids = identities("CN=admin", Some("CN=admin"));
        assert_eq!(ids.len(), 2);
        assert_eq!(
            (ids[0].scheme.as_str(), ids[1].scheme.as_str()),
            ("super", "x509")
        );
        assert_eq!(identities("CN=app", Some("CN=admin")).len(), 1);
        assert_eq!(identities("CN=app", None)[0].id, "CN=app");
    }

    #[test]
    fn names_match_exactly() {
        assert!(matches("CN=a,O=b", "CN=a,O=b"));
        assert!(!matches("CN=a,O=b", "CN=a, O=b"));
        assert!(is_valid("CN=a,O=b") && !is_valid("") && !is_valid("nobody"));
        assert!(is_valid("CN=zk client,O=Acme\\, Inc.,C=US"));
        assert!(!is_valid("CN=a,O=b, Inc."));
    }
}
