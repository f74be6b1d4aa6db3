//! The server side of the GSSAPI SASL mechanism (RFC 4752) over MIT
//! Kerberos, authentication only (no security layer), as the JDK's SASL
//! server speaks it to ZooKeeper clients.
//!
//! The exchange, one [`GssapiServer`] per connection:
//!
//! ```text
//!  client: GSS token (AP-REQ)         server: GSS token (AP-REP), or the
//!                                             layer offer when none is due
//!  client: (empty, after an AP-REP)   server: wrap([0x01, max buffer 65536])
//!  client: wrap([0x01, buffer, authzid]) server: (no token; complete)
//! ```
//!
//! The context is accepted with the server's key from the keytab
//! (`KRB5_KTNAME`, set from the JAAS `Krb5LoginModule` at startup) for
//! the host-based name `service@host` of its principal. The client's
//! principal is the authentication id; the caller turns it into the
//! connection's `sasl` id.
//!
//! Called on connection threads; the Kerberos library does the
//! cryptography. Mirrors: the JDK's `com.sun.security.sasl.gsskerb.GssKrb5Server`.

use libgssapi::context::{SecurityContext, ServerCtx};
use libgssapi::credential::{Cred, CredUsage};
use libgssapi::name::Name;
use libgssapi::oid::{OidSet, GSS_MECH_KRB5, GSS_NT_HOSTBASED_SERVICE};

use super::digest_md5_server::{SaslError, Verified};

/// "No security layer", the only protection offered.
const NO_SECURITY_LAYER: u8 = 0x01;
/// The largest message the server would receive (the JDK's default).
const MAX_RECEIVE_BUFFER: u32 = 65536;

#[derive(Debug)]
enum Stage {
    /// Context tokens are exchanged.
    Accepting,
    /// The context is established and its last token sent; the client
    /// answers with an empty token before the layer offer.
    Established,
    /// The layer offer is out; the client's choice comes next.
    Offered,
    Complete(String),
    Failed,
}

/// One GSSAPI exchange, server side.
pub struct GssapiServer {
    ctx: ServerCtx,
    stage: Stage,
    /// The client's principal, once the context is established.
    peer: String,
}

impl std::fmt::Debug for GssapiServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GssapiServer")
            .field("stage", &self.stage)
            .field("peer", &self.peer)
            .finish()
    }
}

fn gss(what: &str, e: libgssapi::error::Error) -> SaslError {
    SaslError(format!("GSSAPI {}: {}", what, e))
}

impl GssapiServer {
    /// An acceptor for `service@host` (the principal's host-based name).
    pub fn new(service: &str, host: &str) -> Result<GssapiServer, SaslError> {
        let name = Name::new(
            format!("{}@{}", service, host).as_bytes(),
            Some(&GSS_NT_HOSTBASED_SERVICE),
        )
        .map_err(|e| gss("server name", e))?;
        let name = name
            .canonicalize(Some(&GSS_MECH_KRB5))
            .map_err(|e| gss("server name", e))?;
        let mut mechs = OidSet::new().map_err(|e| gss("mechanisms", e))?;
        mechs
            .add(&GSS_MECH_KRB5)
            .map_err(|e| gss("mechanisms", e))?;
        let cred = Cred::acquire(Some(&name), None, CredUsage::Accept, Some(&mechs))
            .map_err(|e| gss("server credentials (keytab)", e))?;
        Ok(GssapiServer {
            ctx: ServerCtx::new(Some(cred)),
            stage: Stage::Accepting,
            peer: String::new(),
        })
    }

    /// The authorization id once complete.
    pub fn authorization_id(&self) -> Option<&str> {
        match &self.stage {
            Stage::Complete(id) => Some(id),
            _ => None,
        }
    }

    /// Takes the client's token; returns the server's (None = no token).
    pub fn evaluate_response(
        &mut self,
        token: &[u8],
        authorize: &dyn Fn(&Verified) -> Result<String, SaslError>,
    ) -> Result<Option<Vec<u8>>, SaslError> {
        match std::mem::replace(&mut self.stage, Stage::Failed) {
            Stage::Accepting => {
                let out = self.ctx.step(token).map_err(|e| gss("accept", e))?;
                if !self.ctx.is_complete() {
                    self.stage = Stage::Accepting;
                    return Ok(out.map(|b| b.to_vec()));
                }
                self.peer = self
                    .ctx
                    .source_name()
                    .map_err(|e| gss("client name", e))?
                    .to_string();
                match out {
                    Some(last) if !last.is_empty() => {
                        self.stage = Stage::Established;
                        Ok(Some(last.to_vec()))
                    }
                    _ => self.offer_layers().map(Some),
                }
            }
            Stage::Established if token.is_empty() => self.offer_layers().map(Some),
            Stage::Established => Err(SaslError("GSSAPI: expected an empty token".into())),
            Stage::Offered => {
                let choice = self.ctx.unwrap(token).map_err(|e| gss("unwrap", e))?;
                if choice.len() < 4 {
                    return Err(SaslError("GSSAPI: short security layer choice".into()));
                }
                if choice[0] & NO_SECURITY_LAYER == 0 {
                    return Err(SaslError(format!(
                        "GSSAPI: unsupported protection {:#x}",
                        choice[0]
                    )));
                }
                let authorization_id = match &choice[4..] {
                    [] => self.peer.clone(),
                    authzid => String::from_utf8(authzid.to_vec())
                        .map_err(|_| SaslError("GSSAPI: authzid is not UTF-8".into()))?,
                };
                let verified = Verified {
                    authentication_id: self.peer.clone(),
                    authorization_id,
                };
                self.stage = Stage::Complete(authorize(&verified)?);
                Ok(None)
            }
            Stage::Complete(_) => Err(SaslError("GSSAPI: authentication already completed".into())),
            Stage::Failed => Err(SaslError("GSSAPI: authentication already failed".into())),
        }
    }

    /// Wraps the offer: the supported layers and the receive buffer size.
    fn offer_layers(&mut self) -> Result<Vec<u8>, SaslError> {
        let size = MAX_RECEIVE_BUFFER.to_be_bytes();
        let offer = [NO_SECURITY_LAYER, size[1], size[2], size[3]];
        let wrapped = self.ctx.wrap(false, &offer).map_err(|e| gss("wrap", e))?;
        self.stage = Stage::Offered;
        Ok(wrapped.to_vec())
    }
}
