//! Reads Java KeyStore (JKS) files: private keys with their certificate
//! chains, and trusted certificates. Read-only.
//!
//! The format: the magic `FEEDFEED`, a version (1 or 2) and an entry
//! count, then entries (tag 1: alias, date, a protected PKCS#8 key and
//! its chain; tag 2: alias, date, one trusted certificate), all big
//! endian with Java's modified-UTF-8 strings; last, a SHA-1 over the
//! password (UTF-16BE), the bytes of "Mighty Aphrodite" and everything
//! before it, which checks the password and the file together. A key is
//! protected by Sun's own scheme: a 20-byte salt, the key XORed with a
//! SHA-1 chain seeded by password and salt, and a SHA-1 of password and
//! plain key to check the result.
//!
//! As the JDK's JKS keystore does by default, a file without the JKS
//! magic is read as PKCS#12 (keytool has written PKCS#12 by default since
//! Java 9, whatever the file is called).
//!
//! Pure functions over bytes, no threads.
//!
//! Mirrors: `org.apache.zookeeper.common.JKSFileLoader` and the JDK's
//! `sun.security.provider.JavaKeyStore` / `KeyProtector` (read side).

use sha1::{Digest, Sha1};

use super::key_store_file_type::{KeyEntry, KeyKind, StoreContents};
use super::x500_principal::read_tlv;

const MAGIC: u32 = 0xfeed_feed;
const PRIVATE_KEY: u32 = 1;
const TRUSTED_CERT: u32 = 2;
/// Sun's key protection algorithm, 1.3.6.1.4.1.42.2.17.1.1.
const KEY_PROTECTOR_OID: &[u8] = &[0x2b, 0x06, 0x01, 0x04, 0x01, 0x2a, 0x02, 0x11, 0x01, 0x01];
const SALT_LEN: usize = 20;
const DIGEST_LEN: usize = 20;

/// True when `bytes` start with the JKS magic.
pub fn is_jks(bytes: &[u8]) -> bool {
    bytes.len() >= 4 && u32::from_be_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]) == MAGIC
}

/// Parses a JKS file, checking its integrity digest and unprotecting
/// every key with `password`.
pub fn load(bytes: &[u8], password: &str) -> Result<StoreContents, String> {
    if bytes.len() < DIGEST_LEN {
        return Err("file too short for a JKS keystore".to_string());
    }
    let (body, digest) = bytes.split_at(bytes.len() - DIGEST_LEN);
    let password_bytes = utf16be(password);
    let mut sha = Sha1::new();
    sha.update(&password_bytes);
    sha.update(b"Mighty Aphrodite");
    sha.update(body);
    if sha.finalize().as_slice() != digest {
        return Err("keystore was tampered with, or password was incorrect".to_string());
    }
    let mut r = Reader {
        bytes: body,
        pos: 0,
    };
    if r.u32()? != MAGIC {
        return Err("not a JKS keystore (bad magic)".to_string());
    }
    let version = r.u32()?;
    if version != 1 && version != 2 {
        return Err(format!("unsupported JKS version {}", version));
    }
    let count = r.u32()?;
    let mut contents = StoreContents::default();
    for _ in 0..count {
        let tag = r.u32()?;
        let alias = r.utf()?;
        let _date = r.u64()?;
        match tag {
            PRIVATE_KEY => {
                let protected = r.bytes()?.to_vec();
                let chain_len = r.u32()?;
                let mut chain = Vec::new();
                for _ in 0..chain_len {
                    chain.push(r.certificate(version)?);
                }
                let pkcs8 = unprotect(&protected, &password_bytes)
                    .map_err(|e| format!("private key '{}': {}", alias, e))?;
                contents.keys.push(KeyEntry {
                    alias,
                    kind: KeyKind::Pkcs8,
                    der: pkcs8,
                    chain,
                });
            }
            TRUSTED_CERT => contents.trusted.push(r.certificate(version)?),
            other => return Err(format!("unknown JKS entry tag {}", other)),
        }
    }
    Ok(contents)
}

/// The plain PKCS#8 key inside Sun's `EncryptedPrivateKeyInfo`.
fn unprotect(encoded: &[u8], password: &[u8]) -> Result<Vec<u8>, String> {
    let bad = |_| "malformed protected key".to_string();
    let (info, _) = read_tlv(encoded).map_err(bad)?;
    let (algorithm, rest) = read_tlv(info.content).map_err(bad)?;
    let (oid, _) = read_tlv(algorithm.content).map_err(bad)?;
    if oid.content != KEY_PROTECTOR_OID {
        return Err("key protected by an algorithm other than JKS's own (JCEKS?)".to_string());
    }
    let (data, _) = read_tlv(rest).map_err(bad)?;
    let data = data.content;
    if data.len() < SALT_LEN + DIGEST_LEN {
        return Err("malformed protected key".to_string());
    }
    let (salt, rest) = data.split_at(SALT_LEN);
    let (encrypted, check) = rest.split_at(rest.len() - DIGEST_LEN);
    let mut plain = Vec::with_capacity(encrypted.len());
    let mut block = salt.to_vec();
    for chunk in encrypted.chunks(DIGEST_LEN) {
        let mut sha = Sha1::new();
        sha.update(password);
        sha.update(&block);
        block = sha.finalize().to_vec();
        plain.extend(chunk.iter().zip(&block).map(|(a, b)| a ^ b));
    }
    let mut sha = Sha1::new();
    sha.update(password);
    sha.update(&plain);
    if sha.finalize().as_slice() != check {
        return Err(
            "cannot recover the key (its password differs from the keystore's)".to_string(),
        );
    }
    Ok(plain)
}

/// A password as Java hands it to the digest: UTF-16 big endian.
fn utf16be(password: &str) -> Vec<u8> {
    password.encode_utf16().flat_map(u16::to_be_bytes).collect()
}

/// A cursor over the file body.
struct Reader<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], String> {
        let end = self.pos.checked_add(n).filter(|&e| e <= self.bytes.len());
        let end = end.ok_or_else(|| "truncated JKS keystore".to_string())?;
        let out = &self.bytes[self.pos..end];
        self.pos = end;
        Ok(out)
    }

    fn u32(&mut self) -> Result<u32, String> {
        let b = self.take(4)?;
        Ok(u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    }

    fn u64(&mut self) -> Result<u64, String> {
        Ok((u64::from(self.u32()?) << 32) | u64::from(self.u32()?))
    }

    /// A u32 length and that many bytes.
    fn bytes(&mut self) -> Result<&'a [u8], String> {
        let n = self.u32()? as usize;
        self.take(n)
    }

    /// `DataInput.readUTF` (modified UTF-8; aliases are plain text).
    fn utf(&mut self) -> Result<String, String> {
        let b = self.take(2)?;
        let n = usize::from(u16::from_be_bytes([b[0], b[1]]));
        Ok(String::from_utf8_lossy(self.take(n)?).into_owned())
    }

    /// A certificate: (version 2) its type, then its encoding.
    fn certificate(&mut self, version: u32) -> Result<Vec<u8>, String> {
        if version == 2 {
            let kind = self.utf()?;
            if kind != "X.509" {
                return Err(format!(
                    "certificate of type {} (only X.509 is supported)",
                    kind
                ));
            }
        }
        Ok(self.bytes()?.to_vec())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Protects `key` as JKS does (the inverse of `unprotect`).
    fn protect(key: &[u8], password: &str, salt: [u8; 20]) -> Vec<u8> {
        let pw = utf16be(password);
        let mut data = salt.to_vec();
        let mut block = salt.to_vec();
        for chunk in key.chunks(20) {
            let mut sha = Sha1::new();
            sha.update(&pw);
            sha.update(&block);
            block = sha.finalize().to_vec();
            data.extend(chunk.iter().zip(&block).map(|(a, b)| a ^ b));
        }
        let mut sha = Sha1::new();
        sha.update(&pw);
        sha.update(key);
        data.extend_from_slice(&sha.finalize());
        let oid = [
            &[0x06, KEY_PROTECTOR_OID.len() as u8][..],
            KEY_PROTECTOR_OID,
            &[0x05, 0x00],
        ]
        .concat();
        let alg = [&[0x30, oid.len() as u8][..], &oid].concat();
        let octets = [&[0x04, 0x81, data.len() as u8][..], &data].concat();
        let body = [alg, octets].concat();
        [&[0x30, 0x81, body.len() as u8][..], &body].concat()
    }

    /// A JKS file as keytool lays it out, with one key and one trusted cert.
    fn store(password: &str, key: &[u8]) -> Vec<u8> {
        let mut b = Vec::new();
        b.extend_from_slice(&MAGIC.to_be_bytes());
        b.extend_from_slice(&2u32.to_be_bytes());
        b.extend_from_slice(&2u32.to_be_bytes());
        let utf = |b: &mut Vec<u8>, s: &str| {
            b.extend_from_slice(&(s.len() as u16).to_be_bytes());
            b.extend_from_slice(s.as_bytes());
        };
        b.extend_from_slice(&PRIVATE_KEY.to_be_bytes());
        utf(&mut b, "server");
        b.extend_from_slice(&0u64.to_be_bytes());
        let protected = protect(key, password, [7; 20]);
        b.extend_from_slice(&(protected.len() as u32).to_be_bytes());
        b.extend_from_slice(&protected);
        b.extend_from_slice(&1u32.to_be_bytes());
        utf(&mut b, "X.509");
        b.extend_from_slice(&3u32.to_be_bytes());
        b.extend_from_slice(b"crt");
        b.extend_from_slice(&TRUSTED_CERT.to_be_bytes());
        utf(&mut b, "ca");
        b.extend_from_slice(&0u64.to_be_bytes());
        utf(&mut b, "X.509");
        b.extend_from_slice(&2u32.to_be_bytes());
        b.extend_from_slice(b"ca");
        let mut sha = Sha1::new();
        sha.update(utf16be(password));
        sha.update(b"Mighty Aphrodite");
        sha.update(&b);
        b.extend_from_slice(&sha.finalize());
        b
    }

    #[test]
    fn reads_keys_chains_and_trusted_certs() {
        let key: Vec<u8> = (0..45u8).collect(); // not a multiple of 20
        let contents = load(&store("s3cret", &key), "s3cret").unwrap();
        assert_eq!(contents.keys.len(), 1);
        assert_eq!(contents.keys[0].alias, "server");
        assert_eq!(contents.keys[0].der, key);
        assert_eq!(contents.keys[0].chain, vec![b"crt".to_vec()]);
        assert_eq!(contents.trusted, vec![b"ca".to_vec()]);
        assert!(is_jks(&store("x", &key)));
    }

    #[test]
    fn a_wrong_password_or_a_damaged_file_is_refused() {
        let file = store("s3cret", &[1, 2, 3]);
        assert!(load(&file, "wrong")
            .unwrap_err()
            .contains("password was incorrect"));
        let mut damaged = file.clone();
        damaged[12] ^= 1;
        assert!(load(&damaged, "s3cret").is_err());
        assert!(load(&file[..10], "s3cret").is_err());
    }
}
