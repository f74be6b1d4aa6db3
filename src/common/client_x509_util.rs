//! The TLS client side that Java's client tools build from the
//! `zookeeper.ssl.*` properties: the server is checked against the trust
//! store (and, unless `zookeeper.ssl.hostnameVerification=false`, against
//! the host name or address it was reached by); the key store, when set,
//! gives the client certificate. Used by `zk-server four-letter-word`
//! (`zkServer.sh status` on a secure port) and by `zk-bench --tls`.
//!
//! Runs on the caller's thread, once per tool run.
//!
//! Mirrors: `org.apache.zookeeper.common.ClientX509Util` with
//! `X509Util.createSSLContext` and `ZKTrustManager`'s server host check.

use std::path::Path;
use std::sync::Arc;

use rustls::client::danger::ServerCertVerifier;
use rustls::client::WebPkiServerVerifier;
use rustls::pki_types::{CertificateDer, ServerName};
use rustls::{ClientConfig, RootCertStore};

use super::key_store_file_type::{KeyStoreFileType, StoreContents};
use super::x509_util;

/// A property source: `zookeeper.ssl.*` name → value.
pub type Lookup<'a> = &'a dyn Fn(&str) -> Option<String>;

/// One store from its `location`/`password`/`passwordPath`/`type`
/// properties; `None` when no location is set.
fn store(get: Lookup, name: &str, trust: bool) -> Result<Option<StoreContents>, String> {
    let prop = |suffix: &str| get(&format!("zookeeper.ssl.{}.{}", name, suffix));
    let Some(location) = prop("location").filter(|l| !l.is_empty()) else {
        return Ok(None);
    };
    let kind =
        KeyStoreFileType::from_property_value_or_file_name(prop("type").as_deref(), &location)
            .map_err(|e| format!("zookeeper.ssl.{}.location={}: {}", name, location, e))?;
    let password = match prop("passwordPath").filter(|p| !p.is_empty()) {
        Some(path) => {
            let text = std::fs::read_to_string(&path)
                .map_err(|e| format!("cannot read the password file {}: {}", path, e))?;
            text.strip_suffix('\n').unwrap_or(&text).to_string()
        }
        None => prop("password").unwrap_or_default(),
    };
    x509_util::load_store(Path::new(&location), &password, kind, trust)
        .map(Some)
        .map_err(|e| format!("zookeeper.ssl.{}.location={}: {}", name, location, e))
}

/// The client config for the `zookeeper.ssl.*` properties `get` knows.
pub fn client_config(get: Lookup) -> Result<Arc<ClientConfig>, String> {
    let trust = store(get, "trustStore", true)?
        .ok_or("zookeeper.ssl.trustStore.location is not set (the server cannot be checked)")?;
    let mut roots = RootCertStore::empty();
    for der in trust.trusted {
        roots
            .add(CertificateDer::from(der))
            .map_err(|e| format!("unusable trusted certificate: {}", e))?;
    }
    #[allow(deprecated)]
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let webpki = WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider.clone())
        .build()
        .map_err(|e| format!("cannot check server certificates: {}", e))?;
    let check_host = !get("zookeeper.ssl.hostnameVerification")
        .is_some_and(|v| v.trim().eq_ignore_ascii_case("false"));
    let verifier: Arc<dyn ServerCertVerifier> = match check_host {
        true => webpki,
        false => Arc::new(x509_util::ChainOnly(webpki)),
    };
    let builder = ClientConfig::builder_with_provider(provider)
        .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])
        .map_err(|e| format!("no usable protocol: {}", e))?
        .dangerous()
        .with_custom_certificate_verifier(verifier);
    let config = match store(get, "keyStore", false)? {
        Some(keys) => {
            let (chain, key) = x509_util::key_and_chain(&keys)?;
            builder
                .with_client_auth_cert(chain, key)
                .map_err(|e| format!("the client key and certificate do not match: {}", e))?
        }
        None => builder.with_no_client_auth(),
    };
    Ok(Arc::new(config))
}

/// The name the server's certificate is checked against: an address as
/// an address, anything else as a DNS name.
pub fn server_name(host: &str) -> Result<ServerName<'static>, String> {
    ServerName::try_from(host.trim_matches(['[', ']']).to_string())
        .map_err(|e| format!("{} is not a host name: {}", host, e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_missing_trust_store() {
        assert!(matches!(
            server_name("127.0.0.1"),
            Ok(ServerName::IpAddress(_))
        ));
        assert!(matches!(server_name("[::1]"), Ok(ServerName::IpAddress(_))));
        assert!(matches!(
            server_name("localhost"),
            Ok(ServerName::DnsName(_))
        ));
        let none = |_: &str| None;
        assert!(client_config(&none)
            .unwrap_err()
            .contains("trustStore.location"));
    }
}
