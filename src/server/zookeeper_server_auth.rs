//! The authentication requests a connection sends outside the pipeline:
//! `addauth` (answered at once), the SASL exchange (opcode 102, one
//! token each way per request) and the check that a session has the
//! identities `enforce.auth` and `sessionRequireClientSASLAuth` demand.
//! Split from `zookeeper_server.rs`; runs on the connection's thread.
//!
//! Mirrors: `ZooKeeperServer.processPacket`'s auth branch, `processSasl`
//! and `checkRequestsAuth`/`enforceAuthentication`.

use super::*;

impl ZooKeeperServer {
    /// addauth: answered at once with xid -4 (the request's xid), zxid 0;
    /// a failure is AUTHFAILED and the connection is closed.
    pub(super) fn process_auth(
        &self,
        cnxn: &Arc<dyn ServerCnxn>,
        header: &RequestHeader,
        payload: &[u8],
    ) {
        let Ok(packet) = jute::from_bytes::<AuthPacket>(payload) else {
            warn!("Malformed auth packet from {}", cnxn.remote_addr());
            cnxn.close(CloseReason::BadRequest);
            return;
        };
        info!("got auth packet {}", cnxn.remote_addr());
        let outcome = match (&packet.auth, packet.scheme.as_str()) {
            (None, "digest") => AuthOutcome::Failed,
            (auth, scheme) => self.state.auth.authenticate(
                scheme,
                auth.as_deref().unwrap_or(&[]),
                cnxn.remote_addr().ip(),
            ),
        };
        match outcome {
            AuthOutcome::Granted(ids) => {
                let existing: Vec<Id> = cnxn.auth_info();
                for id in ids.into_iter().filter(|id| !existing.contains(id)) {
                    cnxn.add_auth_info(id);
                }
                info!(
                    "Session {:#x}: auth success for scheme {} and address {}",
                    cnxn.session_id(),
                    packet.scheme,
                    cnxn.remote_addr()
                );
                cnxn.send_response(
                    &ReplyHeader {
                        xid: header.xid,
                        zxid: 0,
                        err: 0,
                    },
                    None,
                );
            }
            AuthOutcome::Failed => {
                warn!(
                    "Authentication failed for scheme: {} from {}",
                    packet.scheme,
                    cnxn.remote_addr()
                );
                let reply = ReplyHeader {
                    xid: header.xid,
                    zxid: 0,
                    err: Code::AuthFailed.as_i32(),
                };
                cnxn.send_response(&reply, None);
                cnxn.close(CloseReason::AuthFailed);
            }
        }
    }

    /// A SASL token (opcode 102): the connection's exchange takes it and
    /// the answer carries the server's next token; once complete, the
    /// connection gets `sasl:<authorizationID>` (and `super` when that is
    /// a configured super user).
    ///
    /// A failed exchange is AUTHFAILED (SESSIONCLOSEDREQUIRESASLAUTH when
    /// SASL is required) and closes the connection, unless
    /// `allowSaslFailedClients` keeps it (with no SASL id). Without a SASL
    /// server (no JAAS `Server` section) every exchange fails: Java 3.8
    /// answers OK with no token there (its missing SASL server is a caught
    /// NullPointerException), which a client may take for success;
    /// refusing is the fail-closed answer, and what Java's clients end up
    /// reporting anyway.
    pub(super) fn process_sasl(
        &self,
        cnxn: &Arc<dyn ServerCnxn>,
        header: &RequestHeader,
        payload: &[u8],
    ) {
        let Ok(request) = jute::from_bytes::<GetSaslRequest>(payload) else {
            warn!("Malformed SASL packet from {}", cnxn.remote_addr());
            cnxn.close(CloseReason::BadRequest);
            return;
        };
        let token = request.token.unwrap_or_default();
        let auth = &self.state.config.auth;
        let (response, authorized) = match self.evaluate_sasl(cnxn.watcher_id(), &token) {
            Ok(outcome) => outcome,
            Err(e) => {
                warn!(
                    "Client {} failed to SASL authenticate: {}",
                    cnxn.remote_addr(),
                    e
                );
                if auth.allow_sasl_failed_clients && !auth.sasl_auth_required() {
                    warn!("Maintaining client connection despite SASL authentication failure.");
                    (None, None)
                } else {
                    let code = if auth.sasl_auth_required() {
                        warn!("Closing client connection: the server requires SASL authentication and it failed");
                        Code::SessionClosedRequireSaslAuth
                    } else {
                        warn!("Closing client connection due to SASL authentication failure.");
                        Code::AuthFailed
                    };
                    let body = jute::to_bytes(&SetSaslResponse { token: None });
                    cnxn.send_response(
                        &ReplyHeader {
                            xid: header.xid,
                            zxid: 0,
                            err: code.as_i32(),
                        },
                        Some(&body),
                    );
                    cnxn.close(CloseReason::AuthFailed);
                    return;
                }
            }
        };
        if let Some(id) = authorized {
            info!(
                "Session {:#x}: adding SASL authorization for authorizationID: {}",
                cnxn.session_id(),
                id
            );
            cnxn.add_auth_info(Id {
                scheme: "sasl".into(),
                id: id.clone(),
            });
            if auth.super_users.contains(&id) {
                cnxn.add_auth_info(Id {
                    scheme: "super".into(),
                    id: String::new(),
                });
                info!(
                    "Session {:#x}: Authenticated Id '{}' as super user",
                    cnxn.session_id(),
                    id
                );
            }
        }
        let body = jute::to_bytes(&SetSaslResponse { token: response });
        cnxn.send_response(
            &ReplyHeader {
                xid: header.xid,
                zxid: 0,
                err: 0,
            },
            Some(&body),
        );
    }

    /// Runs one token through connection `cnxn_id`'s exchange (made at its
    /// first token): the server's token, and the authorization id when
    /// this token completed the exchange.
    fn evaluate_sasl(
        &self,
        cnxn_id: u64,
        token: &[u8],
    ) -> Result<(Option<Vec<u8>>, Option<String>), String> {
        let Some(handler) = &self.sasl_handler else {
            return Err("no SASL server is configured (no JAAS Server section)".to_string());
        };
        let mut servers = self.sasl_servers.lock();
        let server = match servers.entry(cnxn_id) {
            std::collections::hash_map::Entry::Occupied(e) => e.into_mut(),
            std::collections::hash_map::Entry::Vacant(e) => {
                e.insert(ZooKeeperSaslServer::new(handler).map_err(|e| e.to_string())?)
            }
        };
        let was_complete = server.authorization_id().is_some();
        let response = server
            .evaluate_response(token, handler)
            .map_err(|e| e.to_string())?;
        let authorized = match (was_complete, server.authorization_id()) {
            (false, Some(id)) => Some(id.to_string()),
            _ => None,
        };
        Ok((response, authorized))
    }

    /// `AuthenticationHelper.enforceAuthentication`: with
    /// `enforce.auth.enabled`, a request from a connection holding no id
    /// of an enforced scheme is answered SESSIONCLOSEDREQUIRESASLAUTH and
    /// the connection closed. True when the request may go on.
    pub(super) fn enforce_authentication(
        &self,
        cnxn: &Arc<dyn ServerCnxn>,
        auth: &[Id],
        xid: i32,
    ) -> bool {
        let config = &self.state.config.auth;
        if !config.enforce_auth_enabled
            || auth
                .iter()
                .any(|id| config.enforce_auth_schemes.contains(&id.scheme))
        {
            return true;
        }
        let schemes: Vec<&str> = auth.iter().map(|id| id.scheme.as_str()).collect();
        error!(
            "Client authentication scheme(s) {:?} does not match with any of the expected authentication scheme {:?}, closing session.",
            schemes, config.enforce_auth_schemes
        );
        let reply = ReplyHeader {
            xid,
            zxid: 0,
            err: Code::SessionClosedRequireSaslAuth.as_i32(),
        };
        cnxn.send_response(&reply, None);
        cnxn.close(CloseReason::AuthFailed);
        false
    }
}
