//! One connection's SASL exchange (opcode 102): the mechanism's state,
//! created at the connection's first token, kept until it closes.
//!
//! As in Java there is no mechanism negotiation: a server whose JAAS
//! section logs in with Kerberos speaks GSSAPI (service and host from its
//! principal), any other speaks DIGEST-MD5 with Java's fixed names
//! (protocol `zookeeper`, server name and realm `zk-sasl-md5`). A
//! completed exchange yields the authorization id the connection gets as
//! `sasl:<id>`.
//!
//! Used by `ZooKeeperServer::process_sasl` on the connection's thread.
//!
//! Mirrors: `org.apache.zookeeper.server.ZooKeeperSaslServer` and
//! `util.SecurityUtils.createSaslServer`.

use super::digest_md5_server::{new_nonce, DigestMd5Server, SaslError};
#[cfg(feature = "gssapi")]
use super::gssapi_server::GssapiServer;
use super::sasl_server_callback_handler::SaslServerCallbackHandler;

/// The SASL protocol (service) name ZooKeeper uses for DIGEST-MD5.
pub const PROTOCOL: &str = "zookeeper";
/// The server name (and DIGEST-MD5 realm) Java's server uses for DIGEST-MD5.
pub const DIGEST_SERVER_NAME: &str = "zk-sasl-md5";

/// A connection's SASL server.
#[derive(Debug)]
pub enum ZooKeeperSaslServer {
    DigestMd5(DigestMd5Server),
    #[cfg(feature = "gssapi")]
    Gssapi(Box<GssapiServer>),
}

impl ZooKeeperSaslServer {
    /// A fresh exchange of the mechanism `handler`'s login calls for.
    pub fn new(handler: &SaslServerCallbackHandler) -> Result<ZooKeeperSaslServer, SaslError> {
        Ok(match handler.kerberos() {
            #[cfg(feature = "gssapi")]
            Some(login) => {
                let (service, host) = login.service_and_host();
                ZooKeeperSaslServer::Gssapi(Box::new(GssapiServer::new(
                    service,
                    host,
                    &login.keytab,
                )?))
            }
            // Refused at startup (auth_config): never reached.
            #[cfg(not(feature = "gssapi"))]
            Some(_) => return Err(SaslError("built without Kerberos (GSSAPI)".to_string())),
            None => ZooKeeperSaslServer::DigestMd5(DigestMd5Server::new(
                PROTOCOL,
                DIGEST_SERVER_NAME,
                new_nonce()?,
            )),
        })
    }

    /// The client's next token in, the server's out (`None`: no token).
    pub fn evaluate_response(
        &mut self,
        token: &[u8],
        handler: &SaslServerCallbackHandler,
    ) -> Result<Option<Vec<u8>>, SaslError> {
        match self {
            ZooKeeperSaslServer::DigestMd5(server) => server
                .evaluate_response(token, &|user| handler.password(user), &|v| {
                    handler.authorize(v)
                })
                .map(Some),
            #[cfg(feature = "gssapi")]
            ZooKeeperSaslServer::Gssapi(server) => {
                server.evaluate_response(token, &|v| handler.authorize(v))
            }
        }
    }

    /// The authorization id once the exchange is complete.
    pub fn authorization_id(&self) -> Option<&str> {
        match self {
            ZooKeeperSaslServer::DigestMd5(server) => server.authorization_id(),
            #[cfg(feature = "gssapi")]
            ZooKeeperSaslServer::Gssapi(server) => server.authorization_id(),
        }
    }
}
