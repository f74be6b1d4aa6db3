//! The client side of the GSSAPI SASL mechanism (RFC 4752) over MIT
//! Kerberos, authentication only (no security layer), as the JDK's SASL
//! client speaks it. A quorum peer uses it to prove itself, with its
//! keytab principal, to the peers it dials.
//!
//! The exchange, one [`GssapiClient`] per connection:
//!
//! ```text
//!  client: GSS token (AP-REQ, mutual authentication asked for)
//!  server: GSS token (AP-REP)          client: (empty: the context is up)
//!  server: wrap([layers, max buffer])  client: wrap([0x01, 0, 0, 0, authzid])
//! ```
//!
//! The initiator's credentials come from its keytab
//! (`KRB5_CLIENT_KTNAME`, set at startup from the JAAS `Krb5LoginModule`;
//! tickets are kept in a private in-memory cache).
//!
//! Called on the dialing thread; the Kerberos library does the
//! cryptography. Mirrors: the JDK's `com.sun.security.sasl.gsskerb.GssKrb5Client`.

use libgssapi::context::{ClientCtx, CtxFlags, SecurityContext};
use libgssapi::credential::{Cred, CredUsage};
use libgssapi::name::Name;
use libgssapi::oid::{OidSet, GSS_MECH_KRB5, GSS_NT_HOSTBASED_SERVICE, GSS_NT_KRB5_PRINCIPAL};

use super::digest_md5_server::SaslError;

/// "No security layer", the only protection this side chooses.
const NO_SECURITY_LAYER: u8 = 0x01;

#[derive(Debug, Clone, PartialEq, Eq)]
enum Stage {
    /// Context tokens are exchanged.
    Context,
    /// The context is up; the server's layer offer comes next.
    Layers,
    Complete,
    Failed,
}

/// One GSSAPI exchange, client side.
pub struct GssapiClient {
    ctx: ClientCtx,
    stage: Stage,
    authorization_id: String,
}

impl std::fmt::Debug for GssapiClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GssapiClient")
            .field("stage", &self.stage)
            .finish()
    }
}

fn gss(what: &str, e: libgssapi::error::Error) -> SaslError {
    SaslError(format!("GSSAPI {}: {}", what, e))
}

impl GssapiClient {
    /// A client logged in as `principal`, for the service principal
    /// `target` (`service/host[@REALM]`, addressed as the host-based
    /// name `service@host` as the JDK does); returns it with its first
    /// token.
    pub fn new(principal: &str, target: &str) -> Result<(GssapiClient, Vec<u8>), SaslError> {
        let without_realm = target.split('@').next().unwrap_or("");
        let (service, host) = without_realm.split_once('/').unwrap_or((without_realm, ""));
        let target_name = Name::new(
            format!("{}@{}", service, host).as_bytes(),
            Some(&GSS_NT_HOSTBASED_SERVICE),
        )
        .map_err(|e| gss("service name", e))?;
        let me = Name::new(principal.as_bytes(), Some(&GSS_NT_KRB5_PRINCIPAL))
            .map_err(|e| gss("client name", e))?;
        let mut mechs = OidSet::new().map_err(|e| gss("mechanisms", e))?;
        mechs
            .add(&GSS_MECH_KRB5)
            .map_err(|e| gss("mechanisms", e))?;
        let cred = Cred::acquire(Some(&me), None, CredUsage::Initiate, Some(&mechs))
            .map_err(|e| gss("client credentials (keytab)", e))?;
        let mut ctx = ClientCtx::new(
            Some(cred),
            target_name,
            CtxFlags::GSS_C_MUTUAL_FLAG | CtxFlags::GSS_C_INTEG_FLAG,
            Some(&GSS_MECH_KRB5),
        );
        let first = ctx
            .step(None, None)
            .map_err(|e| gss(&format!("initiate to {}", target), e))?
            .map(|b| b.to_vec())
            .unwrap_or_default();
        let stage = match ctx.is_complete() {
            true => Stage::Layers,
            false => Stage::Context,
        };
        let client = GssapiClient {
            ctx,
            stage,
            authorization_id: principal.to_string(),
        };
        Ok((client, first))
    }

    /// The id asked for in the last message (the JDK sends the client's
    /// principal).
    pub fn set_authorization_id(&mut self, id: &str) {
        self.authorization_id = id.to_string();
    }

    /// True once the layer choice went out.
    pub fn is_complete(&self) -> bool {
        self.stage == Stage::Complete
    }

    /// Takes the server's token; returns the client's.
    pub fn evaluate_challenge(&mut self, challenge: &[u8]) -> Result<Option<Vec<u8>>, SaslError> {
        match std::mem::replace(&mut self.stage, Stage::Failed) {
            Stage::Context => {
                let out = self
                    .ctx
                    .step(Some(challenge), None)
                    .map_err(|e| gss("initiate", e))?;
                self.stage = match self.ctx.is_complete() {
                    true => Stage::Layers,
                    false => Stage::Context,
                };
                Ok(Some(out.map(|b| b.to_vec()).unwrap_or_default()))
            }
            Stage::Layers => {
                let offer = self.ctx.unwrap(challenge).map_err(|e| gss("unwrap", e))?;
                if offer.len() != 4 {
                    return Err(SaslError("GSSAPI: malformed security layer offer".into()));
                }
                if offer[0] & NO_SECURITY_LAYER == 0 {
                    return Err(SaslError(
                        "GSSAPI: the server requires a security layer".into(),
                    ));
                }
                let mut choice = vec![NO_SECURITY_LAYER, 0, 0, 0];
                choice.extend_from_slice(self.authorization_id.as_bytes());
                let wrapped = self.ctx.wrap(false, &choice).map_err(|e| gss("wrap", e))?;
                self.stage = Stage::Complete;
                Ok(Some(wrapped.to_vec()))
            }
            Stage::Complete => Err(SaslError("GSSAPI: authentication already completed".into())),
            Stage::Failed => Err(SaslError("GSSAPI: authentication already failed".into())),
        }
    }
}
