//! One connection's SASL exchange (opcode 102): the mechanism's state,
//! created at the connection's first token, kept until it closes.
//!
//! Only DIGEST-MD5 exists (Kerberos/GSSAPI is refused at startup), with
//! Java's fixed names: protocol `zookeeper`, server name and realm
//! `zk-sasl-md5`. A completed exchange yields the authorization id the
//! connection gets as `sasl:<id>`.
//!
//! Used by `ZooKeeperServer::process_sasl` on the connection's thread.
//!
//! Mirrors: `org.apache.zookeeper.server.ZooKeeperSaslServer` and
//! `util.SecurityUtils.createSaslServer` (the DIGEST-MD5 branch).

use super::digest_md5_server::{new_nonce, DigestMd5Server, SaslError};
use super::sasl_server_callback_handler::SaslServerCallbackHandler;

/// The SASL protocol (service) name ZooKeeper uses.
pub const PROTOCOL: &str = "zookeeper";
/// The server name (and DIGEST-MD5 realm) Java's server uses for DIGEST-MD5.
pub const DIGEST_SERVER_NAME: &str = "zk-sasl-md5";

/// A connection's SASL server.
#[derive(Debug)]
pub struct ZooKeeperSaslServer {
    mechanism: DigestMd5Server,
}

impl ZooKeeperSaslServer {
    /// A fresh DIGEST-MD5 exchange with a random nonce.
    pub fn new() -> Result<ZooKeeperSaslServer, SaslError> {
        Ok(ZooKeeperSaslServer {
            mechanism: DigestMd5Server::new(PROTOCOL, DIGEST_SERVER_NAME, new_nonce()?),
        })
    }

    /// The client's next token in, the server's out.
    pub fn evaluate_response(
        &mut self,
        token: &[u8],
        handler: &SaslServerCallbackHandler,
    ) -> Result<Vec<u8>, SaslError> {
        self.mechanism
            .evaluate_response(token, &|user| handler.password(user), &|v| {
                handler.authorize(v)
            })
    }

    /// The authorization id once the exchange is complete.
    pub fn authorization_id(&self) -> Option<&str> {
        self.mechanism.authorization_id()
    }
}
