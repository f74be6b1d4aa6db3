//! The dialing side of quorum SASL: proves this peer to the peer it has
//! just connected to (on the election port, or to the leader's quorum
//! port), before anything else is sent after the election's initial
//! message.
//!
//! Without `quorum.auth.learnerRequireSasl` nothing is sent at all (the
//! accepting side then lets the peer in only if it does not require
//! SASL). Otherwise: the first token (empty for DIGEST-MD5, the Kerberos
//! AP-REQ for GSSAPI) goes out with status IN_PROGRESS; each IN_PROGRESS
//! answer is evaluated and answered; SUCCESS ends it once the mechanism
//! is complete (DIGEST-MD5 checks the server's rspauth there); ERROR, or
//! SUCCESS before the mechanism is satisfied, fails it and the caller
//! closes the connection.
//!
//! Runs on the dialing thread (an election connect thread, or the
//! learner's role thread).
//!
//! Mirrors: `org.apache.zookeeper.server.quorum.auth.SaslQuorumAuthLearner`
//! with `SecurityUtils.createSaslClient` / `getServerPrincipal`.

use std::io::{Read, Write};
use std::time::Duration;

use log::info;

use super::super::unified_socket::QuorumSocket;
use super::quorum_auth::{receive, send, QuorumAuthError, Status, DIGEST_SERVER_NAME, PROTOCOL};
use crate::config::quorum_auth_config::{server_principal, LearnerLogin, QuorumAuthConfig};
use crate::server::auth::digest_md5_client::DigestMd5Client;
use crate::server::auth::digest_md5_server::{new_nonce, SaslError};
#[cfg(feature = "gssapi")]
use crate::server::auth::gssapi_client::GssapiClient;

/// The dialing side's settings.
#[derive(Debug, Clone)]
pub struct SaslQuorumAuthLearner {
    require: bool,
    login: LearnerLogin,
    service_principal: String,
}

/// One exchange's mechanism.
enum Mechanism {
    Digest(DigestMd5Client),
    #[cfg(feature = "gssapi")]
    Gssapi(Box<GssapiClient>),
}

impl Mechanism {
    fn is_complete(&self) -> bool {
        match self {
            Mechanism::Digest(c) => c.is_complete(),
            #[cfg(feature = "gssapi")]
            Mechanism::Gssapi(c) => c.is_complete(),
        }
    }

    fn evaluate(&mut self, challenge: &[u8]) -> Result<Option<Vec<u8>>, SaslError> {
        match self {
            Mechanism::Digest(c) => c.evaluate_challenge(challenge),
            #[cfg(feature = "gssapi")]
            Mechanism::Gssapi(c) => c.evaluate_challenge(challenge),
        }
    }
}

impl SaslQuorumAuthLearner {
    pub fn new(config: &QuorumAuthConfig) -> SaslQuorumAuthLearner {
        SaslQuorumAuthLearner {
            require: config.learner_require,
            login: config.learner.clone(),
            service_principal: config.service_principal.clone(),
        }
    }

    /// Authenticates to the peer `host` (its host name in the server
    /// list, for `_HOST`) at `remote`. `Err`: close the connection.
    pub fn authenticate(
        &self,
        input: &mut dyn Read,
        output: &mut dyn Write,
        host: &str,
        remote: &str,
    ) -> Result<(), QuorumAuthError> {
        if !self.require {
            info!("Skipping SASL authentication as quorum.auth.learnerRequireSasl=false");
            return Ok(());
        }
        let fail = |why: String| {
            QuorumAuthError(format!(
                "Authentication failed against server addr: {}: {}",
                remote, why
            ))
        };
        let sasl = |e: SaslError| fail(e.to_string());
        let (mut mechanism, first) = self.mechanism(host).map_err(sasl)?;
        send(output, Status::InProgress, Some(&first))?;
        let (mut status, mut token) = receive(input)?;
        while !mechanism.is_complete() {
            match status {
                Status::Success => {
                    let Some(challenge) = token.take() else {
                        return Err(fail("the server's last token is missing".into()));
                    };
                    if mechanism.evaluate(&challenge).map_err(sasl)?.is_some() {
                        return Err(fail("protocol error: a response after completion".into()));
                    }
                    if !mechanism.is_complete() {
                        return Err(fail("the server ended the exchange early".into()));
                    }
                }
                Status::InProgress => {
                    let Some(challenge) = token.take() else {
                        return Err(fail("the server's token is missing".into()));
                    };
                    let response = mechanism.evaluate(&challenge).map_err(sasl)?;
                    send(output, Status::InProgress, response.as_deref())?;
                    (status, token) = receive(input)?;
                }
                Status::Error => return Err(fail("the server refused".into())),
            }
        }
        if status != Status::Success {
            return Err(fail(format!("qpStatus: {:?}", status)));
        }
        info!(
            "Successfully completed the authentication using SASL. server addr: {}, status: SUCCESS",
            remote
        );
        Ok(())
    }

    /// [`Self::authenticate`] on a connected socket, each read waiting at
    /// most `timeout`.
    pub fn authenticate_socket(
        &self,
        sock: &QuorumSocket,
        host: &str,
        timeout: Duration,
    ) -> Result<(), QuorumAuthError> {
        let remote = sock.peer_addr().map(|a| a.to_string()).unwrap_or_default();
        sock.set_read_timeout(Some(timeout))?;
        self.authenticate(&mut &*sock, &mut &*sock, host, &remote)
    }

    /// The mechanism for this login, and its first token.
    fn mechanism(&self, host: &str) -> Result<(Mechanism, Vec<u8>), SaslError> {
        match &self.login {
            LearnerLogin::Digest { username, password } => Ok((
                Mechanism::Digest(DigestMd5Client::new(
                    username,
                    password,
                    PROTOCOL,
                    DIGEST_SERVER_NAME,
                    new_nonce()?,
                )),
                Vec::new(),
            )),
            #[cfg(feature = "gssapi")]
            LearnerLogin::Kerberos(login) => {
                let target = server_principal(&self.service_principal, host);
                let (mut client, first) = GssapiClient::new(&login.principal, &target)?;
                client.set_authorization_id(&login.principal);
                Ok((Mechanism::Gssapi(Box::new(client)), first))
            }
            #[cfg(not(feature = "gssapi"))]
            LearnerLogin::Kerberos(_) => {
                let _ = (host, server_principal);
                Err(SaslError("built without Kerberos (GSSAPI)".into()))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::sasl_quorum_auth_server::SaslQuorumAuthServer;
    use super::*;
    use crate::config::quorum_auth_config::LearnerLogin;
    use std::net::{TcpListener, TcpStream};
    use std::thread;

    fn config(password: &str) -> QuorumAuthConfig {
        QuorumAuthConfig {
            server_require: true,
            learner_require: true,
            service_principal: "zkquorum/localhost".into(),
            jaas_path: "/j".into(),
            server_section: "QuorumServer".into(),
            users: [("test".to_string(), "mypassword".to_string())].into(),
            server_kerberos: None,
            learner_section: "QuorumLearner".into(),
            learner: LearnerLogin::Digest {
                username: "test".into(),
                password: password.into(),
            },
            authz_hosts: Default::default(),
        }
    }

    /// Our learner against our server over a socket; the server's verdict
    /// and the learner's.
    fn run(password: &str) -> (bool, bool) {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let server = SaslQuorumAuthServer::new(&config("unused"));
        let accept = thread::spawn(move || {
            let s = QuorumSocket::plain(listener.accept().unwrap().0);
            let is_auth = super::super::quorum_auth::next_packet_is_auth(
                &s,
                std::time::Duration::from_secs(5),
            )
            .unwrap();
            server
                .authenticate(is_auth, &mut &s, &mut &s, "learner")
                .is_ok()
        });
        let s = QuorumSocket::plain(TcpStream::connect(addr).unwrap());
        let learner = SaslQuorumAuthLearner::new(&config(password));
        let ok = learner
            .authenticate_socket(&s, "localhost", std::time::Duration::from_secs(5))
            .is_ok();
        (accept.join().unwrap(), ok)
    }

    #[test]
    fn digest_over_a_socket() {
        assert_eq!(run("mypassword"), (true, true));
        assert_eq!(run("wrong"), (false, false));
    }
}
