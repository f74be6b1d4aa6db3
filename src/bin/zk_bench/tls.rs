//! `--tls-truststore` / `--tls-keystore` / `--tls-password`: every
//! session of the run connects over TLS (the server's secure client
//! port), its certificate checked against the trust store by address, and
//! the key store's certificate presented when one is given. The TLS
//! client side is the one `zookeeper::common::client_x509_util` builds
//! from Java's `zookeeper.ssl.*` client properties.
//!
//! The config is set once, on the main thread, before any session opens;
//! each session thread then owns its stream.
//!
//! Mirrors: the Netty client socket of `ClientCnxnSocketNetty` with
//! `zookeeper.client.secure=true` (only the transport).

use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use rustls::pki_types::ServerName;
use rustls::{ClientConfig, ClientConnection, StreamOwned};
use zookeeper::common::client_x509_util;

use crate::error::BenchError;
use crate::options::Options;

/// The run's TLS client config; unset: plaintext.
static CONFIG: OnceLock<Arc<ClientConfig>> = OnceLock::new();

/// Sets up TLS when the options ask for it.
pub fn configure(opts: &Options) -> Result<(), BenchError> {
    let Some(trust) = &opts.tls_truststore else {
        return Ok(());
    };
    let mut props = vec![
        ("zookeeper.ssl.trustStore.location", trust.clone()),
        (
            "zookeeper.ssl.trustStore.password",
            opts.tls_password.clone(),
        ),
    ];
    if let Some(keys) = &opts.tls_keystore {
        props.push(("zookeeper.ssl.keyStore.location", keys.clone()));
        props.push(("zookeeper.ssl.keyStore.password", opts.tls_password.clone()));
    }
    let get = |name: &str| {
        props
            .iter()
            .find(|(k, _)| *k == name)
            .map(|(_, v)| v.clone())
    };
    let config = client_x509_util::client_config(&get).map_err(BenchError::Usage)?;
    let _ = CONFIG.set(config);
    Ok(())
}

/// A session's byte stream: plain or TLS.
pub enum Stream {
    Plain(TcpStream),
    Tls(Box<StreamOwned<ClientConnection, TcpStream>>),
}

impl Stream {
    /// Connects to `addr`; over TLS when configured (the handshake runs
    /// with the first write).
    pub fn connect(addr: SocketAddr, timeout: Duration) -> Result<Stream, BenchError> {
        let tcp = TcpStream::connect_timeout(&addr, timeout)?;
        tcp.set_nodelay(true)?;
        tcp.set_read_timeout(Some(timeout))?;
        let Some(config) = CONFIG.get() else {
            return Ok(Stream::Plain(tcp));
        };
        let session =
            ClientConnection::new(config.clone(), ServerName::IpAddress(addr.ip().into()))
                .map_err(|e| BenchError::Protocol(format!("TLS: {}", e)))?;
        Ok(Stream::Tls(Box::new(StreamOwned::new(session, tcp))))
    }

    /// The TCP socket under the stream (for poll(2)).
    pub fn tcp(&self) -> &TcpStream {
        match self {
            Stream::Plain(s) => s,
            Stream::Tls(s) => s.get_ref(),
        }
    }

    /// Sets TCP_NODELAY.
    pub fn set_nodelay(&self, on: bool) -> io::Result<()> {
        self.tcp().set_nodelay(on)
    }

    /// Sets the blocking-read timeout.
    pub fn set_read_timeout(&self, timeout: Option<Duration>) -> io::Result<()> {
        self.tcp().set_read_timeout(timeout)
    }
}

impl From<TcpStream> for Stream {
    fn from(tcp: TcpStream) -> Stream {
        Stream::Plain(tcp)
    }
}

impl Read for Stream {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Stream::Plain(s) => s.read(buf),
            Stream::Tls(s) => match s.read(buf) {
                // A server that closes without close_notify: end of stream.
                Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => Ok(0),
                other => other,
            },
        }
    }
}

impl Write for Stream {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Stream::Plain(s) => s.write(buf),
            Stream::Tls(s) => s.write(buf),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match self {
            Stream::Plain(s) => s.flush(),
            Stream::Tls(s) => s.flush(),
        }
    }
}
