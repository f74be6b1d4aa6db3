//! Reads PEM key and trust stores: a key store is one file with a private
//! key (PKCS#8, PKCS#1 or SEC1) and its certificate chain, leaf first; a
//! trust store is a file of certificates, every one a trust anchor.
//!
//! Java also reads a password-encrypted PKCS#8 key ("ENCRYPTED PRIVATE
//! KEY") when a password is set; we refuse such a file by name rather
//! than guess (use PKCS#12 or JKS for a protected key).
//!
//! Pure functions over bytes, no threads; PEM decoding is rustls's.
//!
//! Mirrors: `org.apache.zookeeper.common.PEMFileLoader` (and
//! `util.PemReader`).

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};

use super::key_store_file_type::{KeyEntry, KeyKind, StoreContents};

/// The certificates of a PEM file, in file order.
fn certificates(bytes: &[u8]) -> Result<Vec<Vec<u8>>, String> {
    CertificateDer::pem_slice_iter(bytes)
        .map(|c| {
            c.map(|c| c.to_vec())
                .map_err(|e| format!("bad PEM certificate: {}", e))
        })
        .collect()
}

/// A PEM key store: its private key and the chain.
pub fn load_key_store(bytes: &[u8]) -> Result<StoreContents, String> {
    if contains(bytes, b"-----BEGIN ENCRYPTED PRIVATE KEY-----") {
        return Err(
            "the private key is encrypted (ENCRYPTED PRIVATE KEY); encrypted PEM keys are not \
                    supported, use a PKCS#12 or JKS key store"
                .to_string(),
        );
    }
    let key = PrivateKeyDer::from_pem_slice(bytes)
        .map_err(|e| format!("no private key in the PEM file ({})", e))?;
    let (kind, der) = match key {
        PrivateKeyDer::Pkcs8(k) => (KeyKind::Pkcs8, k.secret_pkcs8_der().to_vec()),
        PrivateKeyDer::Pkcs1(k) => (KeyKind::Pkcs1, k.secret_pkcs1_der().to_vec()),
        PrivateKeyDer::Sec1(k) => (KeyKind::Sec1, k.secret_sec1_der().to_vec()),
        _ => return Err("unsupported private key kind in the PEM file".to_string()),
    };
    let chain = certificates(bytes)?;
    Ok(StoreContents {
        keys: vec![KeyEntry {
            alias: "key".to_string(),
            kind,
            der,
            chain,
        }],
        trusted: Vec::new(),
    })
}

/// A PEM trust store: every certificate in it.
pub fn load_trust_store(bytes: &[u8]) -> Result<StoreContents, String> {
    let trusted = certificates(bytes)?;
    if trusted.is_empty() {
        return Err("no certificate in the PEM file".to_string());
    }
    Ok(StoreContents {
        keys: Vec::new(),
        trusted,
    })
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_encrypted_key_is_refused_by_name() {
        let pem =
            b"-----BEGIN ENCRYPTED PRIVATE KEY-----\nAAAA\n-----END ENCRYPTED PRIVATE KEY-----\n";
        assert!(load_key_store(pem)
            .unwrap_err()
            .contains("ENCRYPTED PRIVATE KEY"));
    }

    #[test]
    fn empty_stores_are_refused() {
        assert!(load_key_store(b"nothing here")
            .unwrap_err()
            .contains("no private key"));
        assert!(load_trust_store(b"")
            .unwrap_err()
            .contains("no certificate"));
    }
}
