//! Utilities below every other layer: TLS key material, certificate
//! names and UTC dates. Nothing here knows about servers or configs; `config` loads
//! keystores through it at startup and `server` reads client identities
//! with it.
//!
//! | module | role | Java twin |
//! |---|---|---|
//! | [`key_store_file_type`] | JKS / PEM / PKCS12, from `ssl.*.type` or the file name | `common.KeyStoreFileType` |
//! | [`jks_file_loader`] | Java KeyStore files (read-only) | `common.JKSFileLoader` (the JDK's `JavaKeyStore`) |
//! | [`pem_file_loader`] | PEM key and trust stores | `common.PEMFileLoader` |
//! | [`pkcs12_file_loader`] | PKCS#12 files | `common.PKCS12FileLoader` |
//! | [`x509_util`] | key and trust material into rustls server and (quorum) client configs | `common.X509Util`, `ClientX509Util`, `SSLContextAndOptions` |
//! | [`client_x509_util`] | the TLS client side from the `zookeeper.ssl.*` client properties | `common.ClientX509Util`, `ZKTrustManager` |
//! | [`four_letter_word_main`] | `zk-server four-letter-word`: one 4lw, plain or TLS | `client.FourLetterWordMain` |
//! | [`x500_principal`] | a certificate subject as RFC 2253 text | `javax.security.auth.x500.X500Principal` |
//! | [`time`] | Unix time to a UTC calendar date | `java.util.Date` as the logs print it |
//!
//! Mirrors: `org.apache.zookeeper.common` (its X.509 part, `Time`).

pub mod client_x509_util;
pub mod four_letter_word_main;
pub mod jks_file_loader;
pub mod key_store_file_type;
pub mod pem_file_loader;
pub mod pkcs12_file_loader;
pub mod time;
pub mod x500_principal;
pub mod x509_util;
