//! The client side of the DIGEST-MD5 SASL mechanism (RFC 2831),
//! authentication only (qop `auth`), as the JDK's SASL client answers a
//! ZooKeeper server. A quorum peer uses it to prove itself to the peers it
//! dials (the `QuorumLearner` login).
//!
//! The exchange, one [`DigestMd5Client`] per connection:
//!
//! ```text
//!  client: (no initial response: an empty token)
//!  server: realm="…",nonce="…",charset=utf-8,algorithm=md5-sess
//!  client: charset=utf-8,username="…",realm="…",nonce="…",nc=00000001,
//!          cnonce="…",digest-uri="<protocol>/<server name>",maxbuf=65536,
//!          response=<32 hex>,qop=auth
//!  server: rspauth=<32 hex>     (checked: the server knows the password too)
//! ```
//!
//! Pure code (the cnonce is given by the caller), called on the dialing
//! thread.
//!
//! Mirrors: the JDK's `com.sun.security.sasl.digest.DigestMD5Client` (the
//! parts ZooKeeper uses).

use super::digest_md5_server::{constant_time_eq, decode, parse_directives, Parts, SaslError};

/// The largest message the client would receive (the JDK's default).
const MAX_BUFFER: u32 = 65536;

#[derive(Debug, Clone, PartialEq, Eq)]
enum Step {
    /// Waiting for the server's challenge.
    Challenge,
    /// The response went out; the server's rspauth must match this.
    Rspauth(String),
    Complete,
    Failed,
}

/// One DIGEST-MD5 exchange, client side.
#[derive(Debug)]
pub struct DigestMd5Client {
    username: String,
    password: String,
    /// `<protocol>/<server name>`.
    digest_uri: String,
    cnonce: String,
    step: Step,
}

impl DigestMd5Client {
    /// A fresh exchange for `protocol` at `server_name`; `cnonce` must be
    /// unpredictable (see `digest_md5_server::new_nonce`).
    pub fn new(
        username: &str,
        password: &str,
        protocol: &str,
        server_name: &str,
        cnonce: String,
    ) -> DigestMd5Client {
        DigestMd5Client {
            username: username.to_string(),
            password: password.to_string(),
            digest_uri: format!("{}/{}", protocol, server_name),
            cnonce,
            step: Step::Challenge,
        }
    }

    /// True once the server's rspauth was verified.
    pub fn is_complete(&self) -> bool {
        self.step == Step::Complete
    }

    /// Takes the server's next token; returns the client's (`None` once
    /// complete: nothing more to send).
    pub fn evaluate_challenge(&mut self, challenge: &[u8]) -> Result<Option<Vec<u8>>, SaslError> {
        match std::mem::replace(&mut self.step, Step::Failed) {
            Step::Challenge => {
                let (response, rspauth) = self.respond(challenge)?;
                self.step = Step::Rspauth(rspauth);
                Ok(Some(response.into_bytes()))
            }
            Step::Rspauth(expected) => {
                let directives = parse_directives(challenge)?;
                let Some(got) = directives.get("rspauth") else {
                    return Err(SaslError("the server sent no rspauth".into()));
                };
                if !constant_time_eq(expected.as_bytes(), &got.to_ascii_lowercase()) {
                    return Err(SaslError(
                        "the server's rspauth does not match: it does not know the password".into(),
                    ));
                }
                self.step = Step::Complete;
                Ok(None)
            }
            Step::Complete => Err(SaslError("authentication already completed".into())),
            Step::Failed => Err(SaslError("authentication already failed".into())),
        }
    }

    /// The digest-response to a challenge, and the rspauth it implies.
    fn respond(&self, challenge: &[u8]) -> Result<(String, String), SaslError> {
        let directives = parse_directives(challenge)?;
        let utf8 = directives
            .get("charset")
            .is_some_and(|v| v.eq_ignore_ascii_case(b"utf-8"));
        let text = |name: &str| -> Result<Option<String>, SaslError> {
            directives.get(name).map(|v| decode(v, utf8)).transpose()
        };
        let Some(nonce) = text("nonce")? else {
            return Err(SaslError("the challenge has no nonce".into()));
        };
        if let Some(algorithm) = text("algorithm")? {
            if algorithm != "md5-sess" {
                return Err(SaslError(format!("unsupported algorithm {}", algorithm)));
            }
        }
        if let Some(qop) = text("qop")? {
            if !qop.split(',').any(|q| q.trim() == "auth") {
                return Err(SaslError(format!(
                    "the server offers no qop auth ({})",
                    qop
                )));
            }
        }
        let realm = text("realm")?.unwrap_or_default();
        let parts = Parts {
            username: &self.username,
            realm: &realm,
            password: &self.password,
            nonce: &nonce,
            cnonce: &self.cnonce,
            authzid: None,
            utf8,
        };
        let response = parts.response_value(&format!("AUTHENTICATE:{}", self.digest_uri))?;
        let rspauth = parts.response_value(&format!(":{}", self.digest_uri))?;
        let mut out = String::new();
        if utf8 {
            out.push_str("charset=utf-8,");
        }
        out.push_str(&format!(
            "username=\"{}\",realm=\"{}\",nonce=\"{}\",nc=00000001,cnonce=\"{}\",digest-uri=\"{}\",maxbuf={},response={},qop=auth",
            quote(&self.username),
            quote(&realm),
            quote(&nonce),
            quote(&self.cnonce),
            quote(&self.digest_uri),
            MAX_BUFFER,
            response
        ));
        Ok((out, rspauth))
    }
}

/// A quoted-string's content: `"` and `\` escaped.
fn quote(s: &str) -> String {
    s.replace('\\', "\\\\").replace('"', "\\\"")
}

#[cfg(test)]
mod tests {
    use super::super::digest_md5_server::{DigestMd5Server, Verified};
    use super::*;

    fn exchange(client_password: &str) -> Result<(DigestMd5Server, DigestMd5Client), SaslError> {
        let mut server = DigestMd5Server::new(
            "zookeeper-quorum",
            "zk-quorum-sasl-md5",
            "OA6MG9tEQGm2hh".into(),
        );
        let mut client = DigestMd5Client::new(
            "test",
            client_password,
            "zookeeper-quorum",
            "zk-quorum-sasl-md5",
            "OA6MHXh6VqTrRk".into(),
        );
        let password = |user: &str| (user == "test").then(|| "mypassword".to_string());
        let authorize = |v: &Verified| Ok(v.authorization_id.clone());
        let challenge = server.evaluate_response(b"", &password, &authorize)?;
        let response = client.evaluate_challenge(&challenge)?.unwrap();
        let text = String::from_utf8(response.clone()).unwrap();
        assert!(
            text.contains("digest-uri=\"zookeeper-quorum/zk-quorum-sasl-md5\""),
            "{}",
            text
        );
        assert!(text.contains("realm=\"zk-quorum-sasl-md5\""), "{}", text);
        let rspauth = server.evaluate_response(&response, &password, &authorize)?;
        assert_eq!(client.evaluate_challenge(&rspauth)?, None);
        Ok((server, client))
    }

    #[test]
    fn against_our_server() {
        let (server, client) = exchange("mypassword").unwrap();
        assert_eq!(server.authorization_id(), Some("test"));
        assert!(client.is_complete());
        assert!(exchange("wrong").is_err());
    }

    #[test]
    fn rfc_2831_example() {
        // RFC 2831 section 4: the client's response and the server's rspauth.
        let mut client = DigestMd5Client::new(
            "chris",
            "secret",
            "imap",
            "elwood.innosoft.com",
            "OA6MHXh6VqTrRk".into(),
        );
        let challenge = b"realm=\"elwood.innosoft.com\",nonce=\"OA6MG9tEQGm2hh\",qop=\"auth\",algorithm=md5-sess,charset=utf-8";
        let response = client.evaluate_challenge(challenge).unwrap().unwrap();
        let text = String::from_utf8(response).unwrap();
        assert!(
            text.contains("response=d388dad90d4bbd760a152321f2143af7"),
            "{}",
            text
        );
        assert!(client
            .evaluate_challenge(b"rspauth=00000000000000000000000000000000")
            .is_err());
        let mut client = DigestMd5Client::new(
            "chris",
            "secret",
            "imap",
            "elwood.innosoft.com",
            "OA6MHXh6VqTrRk".into(),
        );
        client.evaluate_challenge(challenge).unwrap();
        assert_eq!(
            client
                .evaluate_challenge(b"rspauth=ea40f60335c427b5527b84dbabcdfffd")
                .unwrap(),
            None
        );
        assert!(client.is_complete());
    }
}
