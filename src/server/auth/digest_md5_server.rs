//! The server side of the DIGEST-MD5 SASL mechanism (RFC 2831), for
//! authentication only (qop `auth`), as the JDK's SASL server speaks it
//! to ZooKeeper clients.
//!
//! The exchange, one [`DigestMd5Server`] per connection:
//!
//! ```text
//!  client: (empty token)
//!  server: realm="zk-sasl-md5",nonce="…",charset=utf-8,algorithm=md5-sess
//!  client: username="bob",realm="zk-sasl-md5",nonce="…",cnonce="…",nc=00000001,
//!          qop=auth,digest-uri="zookeeper/zk-sasl-md5",response=<32 hex>
//!  server: rspauth=<32 hex>          (complete: the client is authenticated)
//! ```
//!
//! The response proves the client knows the password without sending it:
//! `HEX(KD(HEX(H(A1)), nonce:nc:cnonce:qop:HEX(H(A2))))` with
//! `A1 = H(user:realm:password):nonce:cnonce[:authzid]` and
//! `A2 = AUTHENTICATE:digest-uri`; `rspauth` is the same with
//! `A2 = :digest-uri`, proving the server knows it too. Any violation ends
//! the exchange with an error; the server never answers twice.
//!
//! Pure code (no I/O, no clock; the nonce is given by the caller), called
//! on connection threads.
//!
//! Mirrors: the JDK's `com.sun.security.sasl.digest.DigestMD5Server` (the
//! parts ZooKeeper uses) with the name/password lookups of ZooKeeper's
//! `SaslServerCallbackHandler` supplied by the caller.

use std::collections::HashMap;
use std::fmt;

use md5::{Digest, Md5};

/// The longest client response the JDK server accepts.
pub const MAX_RESPONSE_LENGTH: usize = 4096;
/// The only nonce count a one-shot authentication can have.
const NONCE_COUNT: &str = "00000001";

/// Why an exchange failed (the text goes to the log, never to the client).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SaslError(pub String);

impl fmt::Display for SaslError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "DIGEST-MD5: {}", self.0)
    }
}

impl std::error::Error for SaslError {}

fn fail<T>(message: impl Into<String>) -> Result<T, SaslError> {
    Err(SaslError(message.into()))
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Step {
    /// Nothing received yet: the next token must be empty.
    Initial,
    /// The challenge went out; the next token is the digest response.
    Challenged,
    /// Authenticated as the contained authorization id.
    Complete(String),
    /// Failed; nothing more is accepted.
    Failed,
}

/// The result of a verified response, before the caller's authorization.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verified {
    /// The `username` the client proved the password of.
    pub authentication_id: String,
    /// The `authzid` it asked to act as, or the username.
    pub authorization_id: String,
}

/// One DIGEST-MD5 exchange, server side.
#[derive(Debug)]
pub struct DigestMd5Server {
    /// `zookeeper`.
    protocol: String,
    /// `zk-sasl-md5`: the host part of the digest-uri, also the realm.
    server_name: String,
    nonce: String,
    step: Step,
}

impl DigestMd5Server {
    /// A fresh exchange; `nonce` must be unpredictable (see [`new_nonce`]).
    pub fn new(protocol: &str, server_name: &str, nonce: String) -> DigestMd5Server {
        DigestMd5Server {
            protocol: protocol.to_string(),
            server_name: server_name.to_string(),
            nonce,
            step: Step::Initial,
        }
    }

    /// The authorization id once the exchange is complete.
    pub fn authorization_id(&self) -> Option<&str> {
        match &self.step {
            Step::Complete(id) => Some(id),
            _ => None,
        }
    }

    /// Takes the client's next token and returns the server's.
    ///
    /// `password` looks a user up (by authentication id and realm);
    /// `authorize` turns a verified identity into the authorization id the
    /// connection gets. On success after the digest response the exchange
    /// is complete. Any error fails the exchange for good.
    pub fn evaluate_response(
        &mut self,
        response: &[u8],
        password: &dyn Fn(&str) -> Option<String>,
        authorize: &dyn Fn(&Verified) -> Result<String, SaslError>,
    ) -> Result<Vec<u8>, SaslError> {
        let step = std::mem::replace(&mut self.step, Step::Failed);
        match step {
            Step::Initial if response.is_empty() => {
                self.step = Step::Challenged;
                Ok(self.challenge().into_bytes())
            }
            Step::Initial => fail("the mechanism has no initial response"),
            Step::Challenged => {
                let (verified, rspauth) = self.verify(response, password)?;
                self.step = Step::Complete(authorize(&verified)?);
                Ok(format!("rspauth={}", rspauth).into_bytes())
            }
            Step::Complete(_) => fail("authentication already completed"),
            Step::Failed => fail("authentication already failed"),
        }
    }

    /// The digest-challenge, as the JDK words it: qop `auth` is the
    /// default, so it is not named.
    fn challenge(&self) -> String {
        format!(
            "realm=\"{}\",nonce=\"{}\",charset=utf-8,algorithm=md5-sess",
            self.server_name, self.nonce
        )
    }

    /// Checks a digest-response; returns who it proves and the rspauth.
    fn verify(
        &self,
        response: &[u8],
        password: &dyn Fn(&str) -> Option<String>,
    ) -> Result<(Verified, String), SaslError> {
        if response.len() > MAX_RESPONSE_LENGTH {
            return fail(format!(
                "response of {} bytes (at most {})",
                response.len(),
                MAX_RESPONSE_LENGTH
            ));
        }
        let directives = parse_directives(response)?;
        let get = |name: &str| directives.get(name).map(Vec::as_slice);
        let utf8 = match get("charset") {
            None => false,
            Some(v) if v.eq_ignore_ascii_case(b"utf-8") => true,
            Some(v) => {
                return fail(format!(
                    "unsupported charset {}",
                    String::from_utf8_lossy(v)
                ))
            }
        };
        let text = |name: &str| -> Result<Option<String>, SaslError> {
            get(name).map(|v| decode(v, utf8)).transpose()
        };
        let Some(username) = text("username")? else {
            return fail("missing username");
        };
        let realm = text("realm")?.unwrap_or_default();
        if realm != self.server_name {
            return fail(format!("unknown realm '{}'", realm));
        }
        if text("nonce")?.as_deref() != Some(self.nonce.as_str()) {
            return fail("nonce does not match");
        }
        let Some(cnonce) = text("cnonce")? else {
            return fail("missing cnonce");
        };
        if let Some(nc) = text("nc")? {
            if u32::from_str_radix(&nc, 16).ok() != Some(1) {
                return fail(format!("nonce count {} (must be 1)", nc));
            }
        }
        let qop = text("qop")?.unwrap_or_else(|| "auth".to_string());
        if qop != "auth" {
            return fail(format!("qop {} was not offered", qop));
        }
        if get("cipher").is_some() {
            return fail("cipher without confidentiality protection");
        }
        let Some(digest_uri) = text("digest-uri")? else {
            return fail("missing digest-uri");
        };
        let expected_uri = format!("{}/{}", self.protocol, self.server_name);
        if !digest_uri.eq_ignore_ascii_case(&expected_uri) {
            return fail(format!(
                "digest-uri '{}' (expected '{}')",
                digest_uri, expected_uri
            ));
        }
        let Some(client_response) = text("response")? else {
            return fail("missing response");
        };
        let authzid = text("authzid")?;
        let Some(secret) = password(&username) else {
            return fail(format!(
                "no password for user '{}' in realm '{}'",
                username, realm
            ));
        };
        let parts = Parts {
            username: &username,
            realm: &realm,
            password: &secret,
            nonce: &self.nonce,
            cnonce: &cnonce,
            authzid: authzid.as_deref(),
            utf8,
        };
        let expected = parts.response_value(&format!("AUTHENTICATE:{}", digest_uri))?;
        if !constant_time_eq(
            expected.as_bytes(),
            client_response.to_ascii_lowercase().as_bytes(),
        ) {
            return fail(format!("wrong password for user '{}'", username));
        }
        let rspauth = parts.response_value(&format!(":{}", digest_uri))?;
        let authorization_id = authzid.unwrap_or_else(|| username.clone());
        Ok((
            Verified {
                authentication_id: username,
                authorization_id,
            },
            rspauth,
        ))
    }
}

/// 30 random bytes as base64 (40 characters), as the JDK makes its nonces.
pub fn new_nonce() -> Result<String, SaslError> {
    use base64::Engine;
    let mut raw = [0u8; 30];
    getrandom::getrandom(&mut raw)
        .map_err(|e| SaslError(format!("no random source for the nonce: {}", e)))?;
    Ok(base64::engine::general_purpose::STANDARD.encode(raw))
}

/// The values that go into a response value (shared with the client side).
pub(super) struct Parts<'a> {
    pub(super) username: &'a str,
    pub(super) realm: &'a str,
    pub(super) password: &'a str,
    pub(super) nonce: &'a str,
    pub(super) cnonce: &'a str,
    pub(super) authzid: Option<&'a str>,
    pub(super) utf8: bool,
}

impl Parts<'_> {
    /// `HEX(KD(HEX(H(A1)), nonce:nc:cnonce:auth:HEX(H(A2))))` for the given A2.
    pub(super) fn response_value(&self, a2: &str) -> Result<String, SaslError> {
        let mut user_realm_pass = Md5::new();
        user_realm_pass.update(encode_8859_1(self.username, self.utf8)?);
        user_realm_pass.update(b":");
        user_realm_pass.update(encode_8859_1(self.realm, self.utf8)?);
        user_realm_pass.update(b":");
        user_realm_pass.update(encode_8859_1(self.password, self.utf8)?);
        let mut a1 = Md5::new();
        a1.update(user_realm_pass.finalize());
        a1.update(format!(":{}:{}", self.nonce, self.cnonce).as_bytes());
        if let Some(authzid) = self.authzid {
            a1.update(b":");
            a1.update(encode(authzid, self.utf8)?);
        }
        let ha1 = hex(&a1.finalize());
        let ha2 = hex(&Md5::digest(a2.as_bytes()));
        let kd = format!(
            "{}:{}:{}:{}:auth:{}",
            ha1, self.nonce, NONCE_COUNT, self.cnonce, ha2
        );
        Ok(hex(&Md5::digest(kd.as_bytes())))
    }
}

/// RFC 2831's rule for the values hashed into A1 under `charset=utf-8`:
/// ISO 8859-1 bytes when every character fits, UTF-8 otherwise.
fn encode_8859_1(s: &str, utf8: bool) -> Result<Vec<u8>, SaslError> {
    if s.chars().all(|c| (c as u32) <= 0xff) {
        return Ok(s.chars().map(|c| c as u8).collect());
    }
    if utf8 {
        return Ok(s.as_bytes().to_vec());
    }
    fail("a character outside ISO 8859-1 without charset=utf-8")
}

/// A value in the negotiated charset.
fn encode(s: &str, utf8: bool) -> Result<Vec<u8>, SaslError> {
    if utf8 {
        Ok(s.as_bytes().to_vec())
    } else {
        encode_8859_1(s, false)
    }
}

/// Bytes as text: UTF-8 under `charset=utf-8`, else ISO 8859-1.
pub(super) fn decode(bytes: &[u8], utf8: bool) -> Result<String, SaslError> {
    if utf8 {
        String::from_utf8(bytes.to_vec())
            .map_err(|_| SaslError("a value is not valid UTF-8".into()))
    } else {
        Ok(bytes.iter().map(|&b| b as char).collect())
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{:02x}", b)).collect()
}

pub(super) fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// The directives of a digest-response: `name=value` or
/// `name="quoted \" value"`, separated by commas, with optional linear
/// white space; empty elements are allowed. A repeated directive is an
/// error. Names are lower-cased.
pub fn parse_directives(input: &[u8]) -> Result<HashMap<String, Vec<u8>>, SaslError> {
    let mut out = HashMap::new();
    let mut i = 0;
    let skip_lws = |i: &mut usize| {
        while *i < input.len() && matches!(input[*i], b' ' | b'\t' | b'\r' | b'\n') {
            *i += 1;
        }
    };
    loop {
        skip_lws(&mut i);
        while i < input.len() && input[i] == b',' {
            i += 1;
            skip_lws(&mut i);
        }
        if i >= input.len() {
            return Ok(out);
        }
        let start = i;
        while i < input.len() && !matches!(input[i], b'=' | b',' | b' ' | b'\t' | b'\r' | b'\n') {
            i += 1;
        }
        let name = String::from_utf8_lossy(&input[start..i]).to_ascii_lowercase();
        skip_lws(&mut i);
        if name.is_empty() || i >= input.len() || input[i] != b'=' {
            return fail(format!("malformed directive near byte {}", start));
        }
        i += 1;
        skip_lws(&mut i);
        let mut value = Vec::new();
        if i < input.len() && input[i] == b'"' {
            i += 1;
            loop {
                match input.get(i) {
                    None => return fail(format!("unterminated quoted value of {}", name)),
                    Some(b'"') => {
                        i += 1;
                        break;
                    }
                    Some(b'\\') if i + 1 < input.len() => {
                        value.push(input[i + 1]);
                        i += 2;
                    }
                    Some(&b) => {
                        value.push(b);
                        i += 1;
                    }
                }
            }
        } else {
            while i < input.len() && !matches!(input[i], b',' | b' ' | b'\t' | b'\r' | b'\n') {
                value.push(input[i]);
                i += 1;
            }
        }
        skip_lws(&mut i);
        if i < input.len() && input[i] != b',' {
            return fail(format!("expected ',' after the value of {}", name));
        }
        if out.insert(name.clone(), value).is_some() {
            return fail(format!("more than one {} directive", name));
        }
    }
}

#[cfg(test)]
#[path = "digest_md5_server_tests.rs"]
mod tests;
