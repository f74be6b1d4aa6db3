//! The TLS sides of the client port and of the quorum, built once at
//! startup from the `ssl.*` / `ssl.quorum.*` settings: load the key store
//! and trust store (JKS, PKCS#12 or PEM), map Java's protocol and
//! cipher-suite names to rustls's, and build a rustls server config with
//! the client-certificate policy (`need` / `want` / `none`), and for the
//! quorum also a client config (our certificate, the peers' trust
//! anchors, the host name check on or off) and the check that a peer's
//! certificate names its IP address.
//!
//! Failures are strings naming the file and the reason; the config layer
//! prefixes the key. rustls with its `ring` provider does the TLS itself.
//!
//! Mirrors: `org.apache.zookeeper.common.X509Util` (`createKeyManager`,
//! `createTrustManager`, `createSSLContextAndOptions`),
//! `ClientX509Util`, `QuorumX509Util` and `SSLContextAndOptions`
//! (protocols, suites, client auth), `ZKTrustManager` (host name checks).

use std::path::Path;
use std::sync::Arc;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::CryptoProvider;
use rustls::pki_types::{
    CertificateDer, PrivateKeyDer, PrivatePkcs1KeyDer, PrivatePkcs8KeyDer, PrivateSec1KeyDer,
};
use rustls::pki_types::{ServerName, UnixTime};
use rustls::server::WebPkiClientVerifier;
use rustls::{
    CertificateError, ClientConfig, DigitallySignedStruct, RootCertStore, ServerConfig,
    SignatureScheme, SupportedCipherSuite, SupportedProtocolVersion,
};

use super::key_store_file_type::{KeyKind, KeyStoreFileType, StoreContents};
use super::{jks_file_loader, pem_file_loader, pkcs12_file_loader};

/// `ssl.clientAuth`: whether a client must, may or must not present a
/// certificate (Java's default: need).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClientAuth {
    Need,
    Want,
    None,
}

impl ClientAuth {
    /// `X509Util.ClientAuth.fromPropertyValue`: empty means need.
    pub fn from_property_value(value: &str) -> Result<ClientAuth, String> {
        match value.to_ascii_uppercase().as_str() {
            "" | "NEED" => Ok(ClientAuth::Need),
            "WANT" => Ok(ClientAuth::Want),
            "NONE" => Ok(ClientAuth::None),
            _ => Err("choose need, want or none".to_string()),
        }
    }
}

/// Java's name of a TLS version, as rustls knows it.
pub fn protocol_version(java_name: &str) -> Result<&'static SupportedProtocolVersion, String> {
    match java_name {
        "TLSv1.2" => Ok(&rustls::version::TLS12),
        "TLSv1.3" => Ok(&rustls::version::TLS13),
        "TLSv1" | "TLSv1.1" | "SSLv3" | "SSLv2Hello" => Err(format!(
            "{} is not supported (only TLSv1.2 and TLSv1.3)",
            java_name
        )),
        "TLS" => {
            Err("the generic TLS protocol name: name a version (TLSv1.2 or TLSv1.3)".to_string())
        }
        _ => Err(format!("unknown protocol {}", java_name)),
    }
}

/// The suites rustls's ring provider has, by the IANA names Java uses.
const SUITE_NAMES: &[(&str, u16)] = &[
    ("TLS_AES_128_GCM_SHA256", 0x1301),
    ("TLS_AES_256_GCM_SHA384", 0x1302),
    ("TLS_CHACHA20_POLY1305_SHA256", 0x1303),
    ("TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256", 0xc02b),
    ("TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384", 0xc02c),
    ("TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", 0xc02f),
    ("TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384", 0xc030),
    ("TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256", 0xcca8),
    ("TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256", 0xcca9),
];

/// Java 9+'s default suites for ZooKeeper (`X509Util.getDefaultCipherSuites`)
/// that rustls has: the ECDHE GCM ones (rustls has no CBC suites).
const JAVA_DEFAULT_SUITES: &[&str] = &[
    "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256",
    "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
    "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384",
    "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
];

/// TLS 1.3 suites, kept when TLS 1.3 is enabled and no list was given.
const TLS13_SUITES: &[&str] = &[
    "TLS_AES_128_GCM_SHA256",
    "TLS_AES_256_GCM_SHA384",
    "TLS_CHACHA20_POLY1305_SHA256",
];

/// The IANA code of a suite Java names; `Err` for one rustls lacks.
pub fn cipher_suite(java_name: &str) -> Result<u16, String> {
    SUITE_NAMES
        .iter()
        .find(|(n, _)| *n == java_name)
        .map(|&(_, code)| code)
        .ok_or_else(|| {
            format!(
                "{} is not available (supported: {})",
                java_name,
                SUITE_NAMES
                    .iter()
                    .map(|(n, _)| *n)
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        })
}

/// The suites to offer: the configured list, or Java's defaults (plus the
/// TLS 1.3 suites when TLS 1.3 is on).
pub fn suites_for(configured: Option<&[String]>, tls13: bool) -> Result<Vec<u16>, String> {
    match configured {
        Some(names) => names.iter().map(|n| cipher_suite(n)).collect(),
        None => {
            let extra = if tls13 { TLS13_SUITES } else { &[] };
            extra
                .iter()
                .chain(JAVA_DEFAULT_SUITES)
                .map(|n| cipher_suite(n))
                .collect()
        }
    }
}

/// Reads a store file of the given type.
pub fn load_store(
    path: &Path,
    password: &str,
    kind: KeyStoreFileType,
    trust: bool,
) -> Result<StoreContents, String> {
    let bytes =
        std::fs::read(path).map_err(|e| format!("cannot read {}: {}", path.display(), e))?;
    let loaded = match kind {
        KeyStoreFileType::Jks if jks_file_loader::is_jks(&bytes) => {
            jks_file_loader::load(&bytes, password)
        }
        // The JDK's JKS keystore reads PKCS#12 files too.
        KeyStoreFileType::Jks | KeyStoreFileType::Pkcs12 => {
            pkcs12_file_loader::load(&bytes, password)
        }
        KeyStoreFileType::Pem if trust => pem_file_loader::load_trust_store(&bytes),
        KeyStoreFileType::Pem => pem_file_loader::load_key_store(&bytes),
        KeyStoreFileType::Bcfks => {
            Err("BCFKS stores are not supported (use JKS, PKCS12 or PEM)".to_string())
        }
    };
    loaded.map_err(|e| format!("{} ({} file {})", e, kind, path.display()))
}

/// The private key and chain a server presents: the store's first key.
pub fn key_and_chain(
    store: &StoreContents,
) -> Result<(Vec<CertificateDer<'static>>, PrivateKeyDer<'static>), String> {
    let entry = store
        .keys
        .first()
        .ok_or("no private key entry in the key store")?;
    if entry.chain.is_empty() {
        return Err(format!("the key '{}' has no certificate", entry.alias));
    }
    let chain = entry
        .chain
        .iter()
        .map(|c| CertificateDer::from(c.clone()))
        .collect();
    let key = match entry.kind {
        KeyKind::Pkcs8 => PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(entry.der.clone())),
        KeyKind::Pkcs1 => PrivateKeyDer::Pkcs1(PrivatePkcs1KeyDer::from(entry.der.clone())),
        KeyKind::Sec1 => PrivateKeyDer::Sec1(PrivateSec1KeyDer::from(entry.der.clone())),
    };
    Ok((chain, key))
}

/// Checks a certificate's validity period against now; `Err` says why
/// it is not valid.
pub fn check_validity(cert_der: &[u8]) -> Result<(), String> {
    let (_, cert) = x509_parser::parse_x509_certificate(cert_der)
        .map_err(|e| format!("unreadable certificate: {}", e))?;
    let validity = cert.validity();
    let now = x509_parser::time::ASN1Time::now();
    if now < validity.not_before {
        return Err(format!(
            "certificate not valid before {}",
            validity.not_before
        ));
    }
    if now > validity.not_after {
        return Err(format!("certificate expired on {}", validity.not_after));
    }
    Ok(())
}

/// Everything the client port's TLS needs, resolved.
pub struct ServerTlsParams {
    pub chain: Vec<CertificateDer<'static>>,
    pub key: PrivateKeyDer<'static>,
    /// Trust anchors for client certificates (empty: none configured).
    pub trusted: Vec<CertificateDer<'static>>,
    pub client_auth: ClientAuth,
    pub versions: Vec<&'static SupportedProtocolVersion>,
    /// IANA codes, in preference order.
    pub suites: Vec<u16>,
}

/// The crypto provider with only `suites` (IANA codes, in order).
fn provider_for(suites: &[u16]) -> Arc<CryptoProvider> {
    // ring keeps the build light (no C toolchain beyond cc, no cmake);
    // its provider lacks only the post-quantum key exchange.
    #[allow(deprecated)]
    let base = rustls::crypto::ring::default_provider();
    let suites: Vec<SupportedCipherSuite> = suites
        .iter()
        .filter_map(|code| {
            base.cipher_suites
                .iter()
                .find(|s| u16::from(s.suite()) == *code)
                .copied()
        })
        .collect();
    Arc::new(CryptoProvider {
        cipher_suites: suites,
        ..base
    })
}

/// The root store of `trusted`, refused when empty (nothing could be
/// verified with it); `what` names what it verifies, for the message.
fn trust_anchors(
    trusted: &[CertificateDer<'static>],
    what: &str,
) -> Result<Arc<RootCertStore>, String> {
    let mut roots = RootCertStore::empty();
    for cert in trusted {
        roots
            .add(cert.clone())
            .map_err(|e| format!("unusable trusted certificate: {}", e))?;
    }
    if roots.is_empty() {
        return Err(format!("no trusted certificate to verify {} with", what));
    }
    Ok(Arc::new(roots))
}

/// The rustls server config for `params`.
pub fn server_config(params: ServerTlsParams) -> Result<Arc<ServerConfig>, String> {
    let provider = provider_for(&params.suites);
    let verifier = match params.client_auth {
        ClientAuth::None => WebPkiClientVerifier::no_client_auth(),
        auth => {
            let roots = trust_anchors(&params.trusted, "client certificates")?;
            let builder = WebPkiClientVerifier::builder_with_provider(roots, provider.clone());
            let builder = if auth == ClientAuth::Want {
                builder.allow_unauthenticated()
            } else {
                builder
            };
            builder
                .build()
                .map_err(|e| format!("cannot verify client certificates: {}", e))?
        }
    };
    let config = ServerConfig::builder_with_provider(provider)
        .with_protocol_versions(&params.versions)
        .map_err(|e| format!("no usable protocol and cipher suite: {}", e))?
        .with_client_cert_verifier(verifier)
        .with_single_cert(params.chain, params.key)
        .map_err(|e| format!("the key and certificate do not make a usable pair: {}", e))?;
    Ok(Arc::new(config))
}

/// What checks a presented client certificate chain against `trusted`
/// after the handshake (the `x509` scheme's own trust manager, where the
/// handshake used another store).
pub type ChainVerifier = Arc<dyn rustls::server::danger::ClientCertVerifier>;

/// A [`ChainVerifier`] trusting `trusted`.
pub fn chain_verifier(trusted: &[CertificateDer<'static>]) -> Result<ChainVerifier, String> {
    let roots = trust_anchors(trusted, "client certificates")?;
    #[allow(deprecated)]
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    WebPkiClientVerifier::builder_with_provider(roots, provider)
        .build()
        .map_err(|e| format!("cannot verify client certificates: {}", e))
}

/// Whether `chain` (DER, the client's own certificate first) leads to a
/// certificate `verifier` trusts, valid now.
pub fn chain_is_trusted(verifier: &ChainVerifier, chain: &[Vec<u8>]) -> bool {
    let Some((own, rest)) = chain.split_first() else {
        return false;
    };
    let own = CertificateDer::from(own.as_slice());
    let rest: Vec<CertificateDer<'_>> = rest
        .iter()
        .map(|c| CertificateDer::from(c.as_slice()))
        .collect();
    verifier
        .verify_client_cert(&own, &rest, UnixTime::now())
        .is_ok()
}

/// The dialing side of a quorum connection: our certificate, the peers'
/// trust anchors, versions and suites, and whether the peer's certificate
/// must name the address we dialed.
pub struct ClientTlsParams {
    pub chain: Vec<CertificateDer<'static>>,
    pub key: PrivateKeyDer<'static>,
    pub trusted: Vec<CertificateDer<'static>>,
    pub versions: Vec<&'static SupportedProtocolVersion>,
    pub suites: Vec<u16>,
    /// `hostnameVerification`: check the peer's certificate against the
    /// address dialed (false: the chain only).
    pub verify_hostname: bool,
}

/// Checks the chain like the web PKI verifier but accepts a certificate
/// that does not name the peer (`hostnameVerification=false`).
#[derive(Debug)]
pub(crate) struct ChainOnly(pub(crate) Arc<rustls::client::WebPkiServerVerifier>);

impl ServerCertVerifier for ChainOnly {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let checked =
            self.0
                .verify_server_cert(end_entity, intermediates, server_name, ocsp_response, now);
        match checked {
            // The name is checked after the chain: only the name failed.
            Err(rustls::Error::InvalidCertificate(
                CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. },
            )) => Ok(ServerCertVerified::assertion()),
            other => other,
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.0.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.0.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.supported_verify_schemes()
    }
}

/// The rustls client config for `params` (quorum connections we dial
/// always present our certificate, as Java's quorum sockets do).
pub fn client_config(params: ClientTlsParams) -> Result<Arc<ClientConfig>, String> {
    let provider = provider_for(&params.suites);
    let roots = trust_anchors(&params.trusted, "peers")?;
    let web_pki =
        rustls::client::WebPkiServerVerifier::builder_with_provider(roots, provider.clone())
            .build()
            .map_err(|e| format!("cannot verify peer certificates: {}", e))?;
    let verifier: Arc<dyn ServerCertVerifier> = match params.verify_hostname {
        true => web_pki,
        false => Arc::new(ChainOnly(web_pki)),
    };
    let config = ClientConfig::builder_with_provider(provider)
        .with_protocol_versions(&params.versions)
        .map_err(|e| format!("no usable protocol and cipher suite: {}", e))?
        .dangerous()
        .with_custom_certificate_verifier(verifier)
        .with_client_auth_cert(params.chain, params.key)
        .map_err(|e| format!("the key and certificate do not make a usable pair: {}", e))?;
    Ok(Arc::new(config))
}

/// Whether a certificate names `ip` among its subject alternative names
/// (what Java's hostname verifier checks first for an address).
pub fn names_ip(cert_der: &[u8], ip: std::net::IpAddr) -> bool {
    let Ok((_, cert)) = x509_parser::parse_x509_certificate(cert_der) else {
        return false;
    };
    let Ok(Some(san)) = cert.subject_alternative_name() else {
        return false;
    };
    let want: Vec<u8> = match ip {
        std::net::IpAddr::V4(v4) => v4.octets().to_vec(),
        std::net::IpAddr::V6(v6) => v6.octets().to_vec(),
    };
    san.value.general_names.iter().any(|name| match name {
        x509_parser::extensions::GeneralName::IPAddress(bytes) => *bytes == want.as_slice(),
        _ => false,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn java_names_map_to_rustls_or_are_refused() {
        assert_eq!(
            cipher_suite("TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384"),
            Ok(0xc030)
        );
        assert!(cipher_suite("TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256")
            .unwrap_err()
            .contains("not available"));
        assert!(protocol_version("TLSv1.3").is_ok());
        assert!(protocol_version("TLSv1.1")
            .unwrap_err()
            .contains("not supported"));
        assert_eq!(
            ClientAuth::from_property_value("want"),
            Ok(ClientAuth::Want)
        );
        assert_eq!(ClientAuth::from_property_value(""), Ok(ClientAuth::Need));
        assert!(ClientAuth::from_property_value("maybe").is_err());
    }

    #[test]
    fn default_suites_are_javas_gcm_ones_plus_tls13_when_on() {
        assert_eq!(
            suites_for(None, false).unwrap(),
            vec![0xc02b, 0xc02f, 0xc02c, 0xc030]
        );
        assert_eq!(suites_for(None, true).unwrap().len(), 7);
        let one = vec!["TLS_AES_128_GCM_SHA256".to_string()];
        assert_eq!(suites_for(Some(&one), true).unwrap(), vec![0x1301]);
        // Every name in the table is one the ring provider has.
        #[allow(deprecated)]
        let ring = rustls::crypto::ring::default_provider();
        for (name, code) in SUITE_NAMES {
            assert!(
                ring.cipher_suites
                    .iter()
                    .any(|s| u16::from(s.suite()) == *code),
                "{}",
                name
            );
        }
    }
}
