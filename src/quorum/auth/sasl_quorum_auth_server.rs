//! The accepting side of quorum SASL: checks a peer that dialed this one
//! (on the election port, or as a learner on the leader's quorum port).
//!
//! The exchange: the peer's token in, this side's challenge out with
//! status IN_PROGRESS, until the mechanism completes; then SUCCESS (with
//! the last token, if any). Any failure sends ERROR. DIGEST-MD5 checks
//! the `user_<name>` passwords of the server section; with a Kerberos
//! login the peer's ticket is accepted instead (GSSAPI).
//!
//! Whether a failure closes the connection is the policy of
//! `quorum.auth.serverRequireSasl`: when required, a peer that does not
//! start with SASL, or fails it, is refused; when not required, it is let
//! in with a warning (the upgrade path: first enable SASL everywhere, then
//! require it).
//!
//! Authorization (`SaslQuorumServerCallbackHandler`): the peer must act as
//! itself (its authorization id equals its authentication id), and a
//! Kerberos peer named `service/host@REALM` must have a `host` from one of
//! the `server.N` lines.
//!
//! Runs on the connection's thread (an election receiver thread or a
//! LearnerHandler).
//!
//! Mirrors: `org.apache.zookeeper.server.quorum.auth.SaslQuorumAuthServer`
//! and `SaslQuorumServerCallbackHandler`.

use std::collections::{BTreeMap, BTreeSet};
use std::io::{Read, Write};

use log::{error, info, warn};

use super::quorum_auth::{receive, send, QuorumAuthError, Status, DIGEST_SERVER_NAME, PROTOCOL};
use crate::config::auth_config::KerberosLogin;
use crate::config::quorum_auth_config::QuorumAuthConfig;
use crate::server::auth::digest_md5_server::{new_nonce, DigestMd5Server, SaslError, Verified};
#[cfg(feature = "gssapi")]
use crate::server::auth::gssapi_server::GssapiServer;

/// Rounds of challenges a peer gets before it is refused.
const MAX_RETRIES: u32 = 5;

/// The accepting side's settings (shared read-only by every connection).
#[derive(Debug, Clone)]
pub struct SaslQuorumAuthServer {
    require: bool,
    users: BTreeMap<String, String>,
    kerberos: Option<KerberosLogin>,
    authz_hosts: BTreeSet<String>,
}

/// One exchange's mechanism.
enum Mechanism {
    Digest(DigestMd5Server),
    #[cfg(feature = "gssapi")]
    Gssapi(Box<GssapiServer>),
}

impl SaslQuorumAuthServer {
    pub fn new(config: &QuorumAuthConfig) -> SaslQuorumAuthServer {
        SaslQuorumAuthServer {
            require: config.server_require,
            users: config.users.clone(),
            kerberos: config.server_kerberos.clone(),
            authz_hosts: config.authz_hosts.clone(),
        }
    }

    /// Checks the peer at `remote`. `starts_with_auth` says whether its
    /// next bytes are a quorum auth packet (the caller peeked). `Ok` lets
    /// the connection go on; `Err` means close it.
    pub fn authenticate(
        &self,
        starts_with_auth: bool,
        input: &mut dyn Read,
        output: &mut dyn Write,
        remote: &str,
    ) -> Result<(), QuorumAuthError> {
        if !starts_with_auth {
            if self.require {
                return Err(QuorumAuthError(format!(
                    "Learner {} not trying to authenticate and authentication is required",
                    remote
                )));
            }
            return Ok(());
        }
        let mut started = false;
        match self.exchange(input, output, &mut started) {
            Ok(()) => {
                info!(
                    "Successfully completed the authentication using SASL. learner addr: {}",
                    remote
                );
                Ok(())
            }
            Err(e) => {
                if started {
                    if let Err(io) = send(output, Status::Error, Some(&[])) {
                        warn!(
                            "Exception while sending failed status to {}: {}",
                            remote, io
                        );
                    }
                }
                if self.require {
                    error!("Failed to authenticate using SASL, peer {}: {}", remote, e);
                    Err(QuorumAuthError(format!(
                        "Failed to authenticate using SASL: {}",
                        e
                    )))
                } else {
                    warn!(
                        "Failed to authenticate using SASL, peer {}: {}; maintaining the connection despite the failure, quorum.auth.serverRequireSasl: false",
                        remote, e
                    );
                    Ok(())
                }
            }
        }
    }

    /// The token rounds; `started` is set once a reply may be sent.
    fn exchange(
        &self,
        input: &mut dyn Read,
        output: &mut dyn Write,
        started: &mut bool,
    ) -> Result<(), QuorumAuthError> {
        let (_, token) = receive(input)?;
        *started = true;
        let mut token = token.unwrap_or_default();
        let mut mechanism = self.mechanism()?;
        let mut tries = 0;
        loop {
            let (challenge, complete) = self.evaluate(&mut mechanism, &token)?;
            if complete {
                send(output, Status::Success, challenge.as_deref())?;
                return Ok(());
            }
            tries += 1;
            if tries > MAX_RETRIES {
                return Err(QuorumAuthError(format!("retries={} exceeded", tries)));
            }
            send(output, Status::InProgress, challenge.as_deref())?;
            token = receive(input)?.1.unwrap_or_default();
        }
    }

    fn mechanism(&self) -> Result<Mechanism, QuorumAuthError> {
        let sasl = |e: SaslError| QuorumAuthError(e.to_string());
        match &self.kerberos {
            #[cfg(feature = "gssapi")]
            Some(login) => {
                let (service, host) = login.service_and_host();
                Ok(Mechanism::Gssapi(Box::new(
                    GssapiServer::new(service, host, &login.keytab).map_err(sasl)?,
                )))
            }
            // Refused at startup (auth_config): never reached.
            #[cfg(not(feature = "gssapi"))]
            Some(_) => Err(QuorumAuthError("built without Kerberos (GSSAPI)".into())),
            None => Ok(Mechanism::Digest(DigestMd5Server::new(
                PROTOCOL,
                DIGEST_SERVER_NAME,
                new_nonce().map_err(sasl)?,
            ))),
        }
    }

    /// One round: the token to send back and whether the exchange is done.
    fn evaluate(
        &self,
        mechanism: &mut Mechanism,
        token: &[u8],
    ) -> Result<(Option<Vec<u8>>, bool), QuorumAuthError> {
        let authorize = |v: &Verified| self.authorize(v);
        let sasl = |e: SaslError| QuorumAuthError(e.to_string());
        match mechanism {
            Mechanism::Digest(server) => {
                let password = |user: &str| self.users.get(user).cloned();
                let out = server
                    .evaluate_response(token, &password, &authorize)
                    .map_err(sasl)?;
                Ok((Some(out), server.authorization_id().is_some()))
            }
            #[cfg(feature = "gssapi")]
            Mechanism::Gssapi(server) => {
                let out = server.evaluate_response(token, &authorize).map_err(sasl)?;
                Ok((out, server.authorization_id().is_some()))
            }
        }
    }

    /// `handleAuthorizeCallback`: a peer acts only as itself, and a
    /// three-part Kerberos name must carry a member's host.
    pub fn authorize(&self, verified: &Verified) -> Result<String, SaslError> {
        let Verified {
            authentication_id: authn,
            authorization_id: authz,
        } = verified;
        if authn != authz {
            return Err(SaslError(format!("{} may not act as {}", authn, authz)));
        }
        let parts: Vec<&str> = authz.split(['/', '@']).collect();
        if parts.len() == 3 && !self.authz_hosts.contains(parts[1]) {
            error!(
                "SASL authorization completed, {} is not authorized to connect",
                parts[1]
            );
            return Err(SaslError(format!(
                "host {} is not one of the ensemble's servers",
                parts[1]
            )));
        }
        info!(
            "Successfully authenticated learner: authenticationID={};  authorizationID={}.",
            authn, authz
        );
        Ok(authz.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::quorum_auth_config::LearnerLogin;
    use std::path::PathBuf;

    pub(crate) fn config(require: bool) -> QuorumAuthConfig {
        QuorumAuthConfig {
            server_require: require,
            learner_require: true,
            service_principal: "zkquorum/localhost".into(),
            jaas_path: PathBuf::from("/j"),
            server_section: "QuorumServer".into(),
            users: [("test".to_string(), "mypassword".to_string())].into(),
            server_kerberos: None,
            learner_section: "QuorumLearner".into(),
            learner: LearnerLogin::Digest {
                username: "test".into(),
                password: "mypassword".into(),
            },
            authz_hosts: ["h1".to_string(), "h2".to_string()].into(),
        }
    }

    #[test]
    fn authorization_rules() {
        let server = SaslQuorumAuthServer::new(&config(true));
        let v = |a: &str, b: &str| Verified {
            authentication_id: a.into(),
            authorization_id: b.into(),
        };
        assert_eq!(server.authorize(&v("test", "test")).unwrap(), "test");
        assert!(server.authorize(&v("test", "other")).is_err());
        assert!(server
            .authorize(&v("zkquorum/h1@R", "zkquorum/h1@R"))
            .is_ok());
        assert!(server
            .authorize(&v("zkquorum/h9@R", "zkquorum/h9@R"))
            .is_err());
        assert!(server.authorize(&v("zkquorum@R", "zkquorum@R")).is_ok());
    }

    #[test]
    fn policy_without_auth() {
        let mut out = Vec::new();
        let required = SaslQuorumAuthServer::new(&config(true));
        assert!(required
            .authenticate(false, &mut &b""[..], &mut out, "peer")
            .is_err());
        let optional = SaslQuorumAuthServer::new(&config(false));
        assert!(optional
            .authenticate(false, &mut &b""[..], &mut out, "peer")
            .is_ok());
        assert!(out.is_empty(), "nothing is sent to a peer without SASL");
        // A broken exchange: refused when required, let in otherwise.
        let mut garbage = Vec::new();
        super::super::quorum_auth::send(&mut garbage, Status::InProgress, Some(b"nonsense"))
            .unwrap();
        assert!(required
            .authenticate(true, &mut garbage.as_slice(), &mut out, "peer")
            .is_err());
        let sent = super::super::quorum_auth::receive(&mut out.as_slice()).unwrap();
        assert_eq!(sent.0, Status::Error);
        assert!(optional
            .authenticate(true, &mut garbage.as_slice(), &mut Vec::new(), "peer")
            .is_ok());
    }
}
