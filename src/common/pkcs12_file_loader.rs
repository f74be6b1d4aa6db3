//! Reads PKCS#12 files (what keytool writes by default and what
//! `openssl pkcs12 -export` makes): private keys with their chains, and
//! the certificates marked trusted for Java (keytool's trusted-usage
//! attribute). As in Java, a certificate without a key and without that
//! mark is not a trust anchor.
//!
//! Pure functions over bytes, no threads; the PKCS#12 decoding is the
//! `p12-keystore` crate's.
//!
//! Mirrors: `org.apache.zookeeper.common.PKCS12FileLoader` (the JDK's
//! `PKCS12KeyStore`, read side).

use p12_keystore::{KeyStore, KeyStoreEntry, Pkcs12ImportPolicy};

use super::key_store_file_type::{KeyEntry, KeyKind, StoreContents};

/// Parses a PKCS#12 file with `password` (which also checks its MAC).
pub fn load(bytes: &[u8], password: &str) -> Result<StoreContents, String> {
    let store = KeyStore::from_pkcs12(bytes, password, Pkcs12ImportPolicy::Strict).map_err(
        |e| match e {
            p12_keystore::error::Error::MacError(_) => {
                "the password is incorrect (or the file is damaged)".to_string()
            }
            other => format!("not a readable PKCS#12 file ({})", other),
        },
    )?;
    let mut contents = StoreContents::default();
    for (alias, entry) in store.entries() {
        match entry {
            KeyStoreEntry::PrivateKeyChain(chain) => contents.keys.push(KeyEntry {
                alias: alias.clone(),
                kind: KeyKind::Pkcs8,
                der: chain.key().as_der().to_vec(),
                chain: chain.certs().iter().map(|c| c.as_der().to_vec()).collect(),
            }),
            KeyStoreEntry::Certificate(cert) => contents.trusted.push(cert.as_der().to_vec()),
            KeyStoreEntry::Secret(_) => {}
        }
    }
    Ok(contents)
}
