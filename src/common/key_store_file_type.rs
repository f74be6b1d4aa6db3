//! What a key or trust store holds, and which format its file is in: the `ssl.*.type` value
//! when set (any case), else the file name's extension, as Java infers it.
//!
//! Pure functions, no threads.
//!
//! Mirrors: `org.apache.zookeeper.common.KeyStoreFileType`.

use std::fmt;

/// How a private key is encoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyKind {
    /// PKCS#8 `PrivateKeyInfo` (JKS, PKCS#12, PEM "PRIVATE KEY").
    Pkcs8,
    /// PKCS#1 RSA key (PEM "RSA PRIVATE KEY").
    Pkcs1,
    /// SEC1 EC key (PEM "EC PRIVATE KEY").
    Sec1,
}

/// A private key entry: the key and its chain (DER, leaf first).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyEntry {
    pub alias: String,
    pub kind: KeyKind,
    pub der: Vec<u8>,
    pub chain: Vec<Vec<u8>>,
}

/// What a key or trust store holds.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StoreContents {
    /// Private keys with chains, in file order.
    pub keys: Vec<KeyEntry>,
    /// Trusted certificates (DER), in file order.
    pub trusted: Vec<Vec<u8>>,
}

/// A store format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyStoreFileType {
    /// Java KeyStore (`.jks`).
    Jks,
    /// PEM text (`.pem`).
    Pem,
    /// PKCS#12 (`.p12`).
    Pkcs12,
    /// Bouncy Castle FIPS keystore (`.bcfks`): known, not readable here.
    Bcfks,
}

impl KeyStoreFileType {
    /// Java's name of the type (the property value).
    pub fn name(self) -> &'static str {
        match self {
            KeyStoreFileType::Jks => "JKS",
            KeyStoreFileType::Pem => "PEM",
            KeyStoreFileType::Pkcs12 => "PKCS12",
            KeyStoreFileType::Bcfks => "BCFKS",
        }
    }

    fn extension(self) -> &'static str {
        match self {
            KeyStoreFileType::Jks => ".jks",
            KeyStoreFileType::Pem => ".pem",
            KeyStoreFileType::Pkcs12 => ".p12",
            KeyStoreFileType::Bcfks => ".bcfks",
        }
    }

    const ALL: [KeyStoreFileType; 4] = [
        KeyStoreFileType::Jks,
        KeyStoreFileType::Pem,
        KeyStoreFileType::Pkcs12,
        KeyStoreFileType::Bcfks,
    ];

    /// The type named by a property value (case-insensitive); `Ok(None)`
    /// when the value is empty (infer from the file name).
    pub fn from_property_value(value: &str) -> Result<Option<KeyStoreFileType>, String> {
        if value.is_empty() {
            return Ok(None);
        }
        KeyStoreFileType::ALL
            .into_iter()
            .find(|t| t.name().eq_ignore_ascii_case(value))
            .map(Some)
            .ok_or_else(|| format!("unknown store type (choose {})", KeyStoreFileType::names()))
    }

    /// The type a file name's last extension stands for (exact case, as
    /// Java compares it).
    pub fn from_file_name(file_name: &str) -> Result<KeyStoreFileType, String> {
        let extension = file_name.rfind('.').map(|i| &file_name[i..]);
        KeyStoreFileType::ALL.into_iter().find(|t| Some(t.extension()) == extension).ok_or_else(|| {
            "cannot tell the store type from the file name (use .jks, .pem or .p12, or set the type)".to_string()
        })
    }

    /// The property value if set, else the file name's type.
    pub fn from_property_value_or_file_name(
        value: Option<&str>,
        file_name: &str,
    ) -> Result<KeyStoreFileType, String> {
        match KeyStoreFileType::from_property_value(value.unwrap_or(""))? {
            Some(t) => Ok(t),
            None => KeyStoreFileType::from_file_name(file_name),
        }
    }

    fn names() -> String {
        KeyStoreFileType::ALL
            .iter()
            .map(|t| t.name())
            .collect::<Vec<_>>()
            .join(", ")
    }
}

impl fmt::Display for KeyStoreFileType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn property_value_wins_in_any_case() {
        assert_eq!(
            KeyStoreFileType::from_property_value_or_file_name(Some("pkcs12"), "/a/x.jks"),
            Ok(KeyStoreFileType::Pkcs12)
        );
        assert_eq!(
            KeyStoreFileType::from_property_value_or_file_name(Some(""), "/a/x.pem"),
            Ok(KeyStoreFileType::Pem)
        );
        assert!(KeyStoreFileType::from_property_value("JCEKS")
            .unwrap_err()
            .contains("JKS, PEM, PKCS12"));
    }

    #[test]
    fn file_name_extension_as_java_matches_it() {
        assert_eq!(
            KeyStoreFileType::from_file_name("/etc/zk/server.jks"),
            Ok(KeyStoreFileType::Jks)
        );
        assert_eq!(
            KeyStoreFileType::from_file_name("k.tar.p12"),
            Ok(KeyStoreFileType::Pkcs12)
        );
        assert_eq!(
            KeyStoreFileType::from_file_name("k.bcfks"),
            Ok(KeyStoreFileType::Bcfks)
        );
        // Java compares the extension exactly: no .pfx, no upper case.
        assert!(KeyStoreFileType::from_file_name("k.pfx").is_err());
        assert!(KeyStoreFileType::from_file_name("k.JKS").is_err());
        assert!(KeyStoreFileType::from_file_name("keystore").is_err());
    }
}
