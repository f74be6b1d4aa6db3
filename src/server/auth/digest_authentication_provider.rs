//! The `digest` scheme: `addauth digest user:password`.
//!
//! A client authenticates with the clear text `user:password`; the server
//! keeps the id `user:base64(H("user:password"))`, which is also how
//! digest ACL entries are written. H is SHA-1 unless
//! `DigestAuthenticationProvider.digestAlg` names another hash. If that id equals the configured super
//! digest, the connection is also granted `super` (every ACL passes).
//!
//! Pure code, called on connection threads. Mirrors:
//! `org.apache.zookeeper.server.auth.DigestAuthenticationProvider`.

use base64::Engine;
use sha1::Digest;

use crate::config::auth_config::DigestAlgorithm;
use crate::jute::data::Id;

/// Digest authentication, with the optional super user.
#[derive(Debug, Clone, Default)]
pub struct DigestAuthenticationProvider {
    /// `zookeeper.DigestAuthenticationProvider.superDigest`:
    /// `super:<base64 sha1>`; whoever authenticates to exactly this id
    /// becomes super.
    super_digest: Option<String>,
    /// The hash of the ids.
    alg: DigestAlgorithm,
}

impl DigestAuthenticationProvider {
    /// A SHA-1 provider; `super_digest` as configured (`None` = no super user).
    pub fn new(super_digest: Option<String>) -> DigestAuthenticationProvider {
        DigestAuthenticationProvider::with_algorithm(super_digest, DigestAlgorithm::Sha1)
    }

    /// A provider hashing with `alg`.
    pub fn with_algorithm(
        super_digest: Option<String>,
        alg: DigestAlgorithm,
    ) -> DigestAuthenticationProvider {
        DigestAuthenticationProvider { super_digest, alg }
    }

    /// The ids a successful `addauth digest <auth>` grants: `super:` first
    /// when it matches the super digest, then `digest:<user:hash>`.
    /// Never fails: any text is a valid "user:password" to Java.
    pub fn handle_authentication(&self, auth: &[u8]) -> Vec<Id> {
        let id_password = String::from_utf8_lossy(auth);
        let digest = generate_digest_with(&id_password, self.alg);
        let mut ids = Vec::with_capacity(2);
        if self.super_digest.as_deref() == Some(digest.as_str()) {
            ids.push(Id {
                scheme: "super".into(),
                id: "".into(),
            });
        }
        ids.push(Id {
            scheme: "digest".into(),
            id: digest,
        });
        ids
    }
}

/// `user:password` -> `user:base64(sha1(user:password))`.
pub fn generate_digest(id_password: &str) -> String {
    generate_digest_with(id_password, DigestAlgorithm::Sha1)
}

/// `user:password` -> `user:base64(H(user:password))`.
pub fn generate_digest_with(id_password: &str, alg: DigestAlgorithm) -> String {
    let user = id_password.split(':').next().unwrap_or("");
    let hash = hash(alg, id_password.as_bytes());
    format!(
        "{}:{}",
        user,
        base64::engine::general_purpose::STANDARD.encode(hash)
    )
}

/// `MessageDigest.getInstance(alg).digest(bytes)`.
fn hash(alg: DigestAlgorithm, bytes: &[u8]) -> Vec<u8> {
    use DigestAlgorithm::*;
    match alg {
        Md5 => md5::Md5::digest(bytes).to_vec(),
        Sha1 => sha1::Sha1::digest(bytes).to_vec(),
        Sha224 => sha2::Sha224::digest(bytes).to_vec(),
        Sha256 => sha2::Sha256::digest(bytes).to_vec(),
        Sha384 => sha2::Sha384::digest(bytes).to_vec(),
        Sha512 => sha2::Sha512::digest(bytes).to_vec(),
        Sha512_224 => sha2::Sha512_224::digest(bytes).to_vec(),
        Sha512_256 => sha2::Sha512_256::digest(bytes).to_vec(),
        Sha3_224 => sha3::Sha3_224::digest(bytes).to_vec(),
        Sha3_256 => sha3::Sha3_256::digest(bytes).to_vec(),
        Sha3_384 => sha3::Sha3_384::digest(bytes).to_vec(),
        Sha3_512 => sha3::Sha3_512::digest(bytes).to_vec(),
    }
}

/// A digest ACL id must be exactly `user:hash` (Java: `split(":")` yields
/// two parts, trailing empty parts dropped).
pub fn is_valid(id: &str) -> bool {
    super::java_split(id, ':').len() == 2
}

/// Digest ids match an ACL entry by plain equality.
pub fn matches(id: &str, acl_expr: &str) -> bool {
    id == acl_expr
}

/// The user part of `user:hash` (for whoAmI).
pub fn user_name(id: &str) -> String {
    super::java_split(id, ':')
        .first()
        .cloned()
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use sha1::Sha1;

    #[test]
    fn digest_of_a_known_password() {
        // `DigestAuthenticationProvider.generateDigest("super:test")` in Java.
        assert_eq!(
            generate_digest("super:test"),
            "super:D/InIHSb7yEEbrWz8b9l71RjZJU="
        );
        assert_eq!(
            generate_digest("user1:pw1"),
            format!("user1:{}", {
                let h = Sha1::digest(b"user1:pw1");
                base64::engine::general_purpose::STANDARD.encode(h)
            })
        );
    }

    #[test]
    fn other_algorithms_match_javas_digests() {
        // From Java 17: DigestAuthenticationProvider.generateDigest with
        // -Dzookeeper.DigestAuthenticationProvider.digestAlg=<alg>.
        for (alg, expected) in [
            (DigestAlgorithm::Sha256, "super:wjySwxg860UATFtciuZ1lpzrCHrPeov6SPu/ZD56uig="),
            (DigestAlgorithm::Sha3_256, "super:cRy/KPYuDpW/dtsepniTMpuiuupnWgdU9txltIfv3hA="),
            (DigestAlgorithm::Sha512, "super:cMAGk13FCMtJkaVQImGEKhjqoGELCiVjYdIhiD8stB1FnIpdGeFvKwAHh5mf4tUYmBR2ZY9181dZTXEHMlkVhg=="),
            (DigestAlgorithm::Md5, "super:yzhcGieXAe2NBWh0Znxa3g=="),
        ] {
            assert_eq!(generate_digest_with("super:test", alg), expected, "{:?}", alg);
        }
        let p = DigestAuthenticationProvider::with_algorithm(None, DigestAlgorithm::Sha256);
        assert_eq!(
            p.handle_authentication(b"super:test")[0].id,
            "super:wjySwxg860UATFtciuZ1lpzrCHrPeov6SPu/ZD56uig="
        );
    }

    #[test]
    fn super_digest_grants_super() {
        let p = DigestAuthenticationProvider::new(Some(generate_digest("super:test")));
        let ids = p.handle_authentication(b"super:test");
        assert_eq!(ids[0].scheme, "super");
        assert_eq!(ids[1].id, generate_digest("super:test"));
        let ids = p.handle_authentication(b"super:wrong");
        assert_eq!(ids.len(), 1);
        assert_eq!(ids[0].scheme, "digest");
    }

    #[test]
    fn valid_ids_have_exactly_two_parts() {
        assert!(is_valid("user:hash"));
        assert!(is_valid(":hash"));
        assert!(!is_valid("user"));
        assert!(!is_valid("user:"));
        assert!(!is_valid("a:b:c"));
        assert_eq!(user_name("bob:xyz="), "bob");
    }
}
