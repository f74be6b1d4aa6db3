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
//! The context is accepted with the server's key from the keytab of its
//! JAAS `Krb5LoginModule` section (read through MIT's credential store,
//! `gss_acquire_cred_from`, so the client port's `Server` section and the
//! quorum's `QuorumServer` section may each have their own keytab, as
//! Java's logins do) for the host-based name `service@host` of its
//! principal. The client's
//! principal is the authentication id; the caller turns it into the
//! connection's `sasl` id.
//!
//! Called on connection threads; the Kerberos library does the
//! cryptography. Mirrors: the JDK's `com.sun.security.sasl.gsskerb.GssKrb5Server`.

use std::ffi::CString;
use std::path::Path;
use std::ptr;

use libgssapi::context::{SecurityContext, ServerCtx};
use libgssapi::credential::Cred;
use libgssapi::error::{Error as GssError, MajorFlags};
use libgssapi_sys as sys;

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
    /// An acceptor for `service@host` (the principal's host-based name)
    /// with the keys of `keytab`.
    pub fn new(service: &str, host: &str, keytab: &Path) -> Result<GssapiServer, SaslError> {
        let cred = acceptor_cred(&format!("{}@{}", service, host), keytab).map_err(|e| {
            gss(
                &format!("server credentials (keytab {})", keytab.display()),
                e,
            )
        })?;
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

/// The Kerberos mechanism's OID, 1.2.840.113554.1.2.2.
const KRB5_MECH_OID: &[u8] = b"\x2a\x86\x48\x86\xf7\x12\x01\x02\x02";

fn gss_error(major: u32, minor: u32) -> GssError {
    GssError {
        major: MajorFlags::from_bits_retain(major),
        minor,
    }
}

/// Accept credentials for the host-based name `service_host` from the
/// keytab at `keytab` only (MIT's credential store key `keytab`), not
/// from the process's default keytab.
fn acceptor_cred(service_host: &str, keytab: &Path) -> Result<Cred, GssError> {
    let invalid = || gss_error(sys::_GSS_S_FAILURE, 0);
    let store_key = CString::new("keytab").map_err(|_| invalid())?;
    let store_value = CString::new(format!("FILE:{}", keytab.display())).map_err(|_| invalid())?;
    let mut name_bytes = service_host.as_bytes().to_vec();
    let mut minor: sys::OM_uint32 = 0;
    let mut name: sys::gss_name_t = ptr::null_mut();
    let mut name_buf = sys::gss_buffer_desc {
        length: name_bytes.len(),
        value: name_bytes.as_mut_ptr().cast(),
    };
    // SAFETY: the buffer points at `name_bytes`, alive for the call; the
    // name type is the library's own static OID; `name` is written only.
    let major = unsafe {
        sys::gss_import_name(
            &mut minor,
            &mut name_buf,
            sys::GSS_C_NT_HOSTBASED_SERVICE,
            &mut name,
        )
    };
    if major != sys::GSS_S_COMPLETE {
        return Err(gss_error(major, minor));
    }
    let mut mech = sys::gss_OID_desc {
        length: KRB5_MECH_OID.len() as sys::OM_uint32,
        elements: KRB5_MECH_OID.as_ptr() as *mut _,
    };
    let mut mechs = sys::gss_OID_set_desc {
        count: 1,
        elements: &mut mech,
    };
    let element = sys::gss_key_value_element_desc {
        key: store_key.as_ptr(),
        value: store_value.as_ptr(),
    };
    let store = sys::gss_key_value_set_desc {
        count: 1,
        elements: &element as *const _ as *mut _,
    };
    let mut cred: sys::gss_cred_id_t = ptr::null_mut();
    // SAFETY: every pointer is to a local that outlives the call (the
    // library copies what it keeps); `cred` is written only, and owned by
    // the `Cred` made of it below; `name` is released here once.
    let (major, acquire_minor) = unsafe {
        let mut acquire_minor: sys::OM_uint32 = 0;
        let major = sys::gss_acquire_cred_from(
            &mut acquire_minor,
            name,
            sys::_GSS_C_INDEFINITE,
            &mut mechs,
            sys::GSS_C_ACCEPT as sys::gss_cred_usage_t,
            &store,
            &mut cred,
            ptr::null_mut(),
            ptr::null_mut(),
        );
        sys::gss_release_name(&mut minor, &mut name);
        (major, acquire_minor)
    };
    if major != sys::GSS_S_COMPLETE {
        return Err(gss_error(major, acquire_minor));
    }
    Ok(Cred::from(cred))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_acceptor_reads_only_the_keytab_it_is_given() {
        // No such keytab: the acquisition fails and says which one, even
        // if the process's default keytab would hold the key.
        let e = GssapiServer::new(
            "zookeeper",
            "localhost",
            Path::new("/nonexistent/zk.keytab"),
        )
        .unwrap_err();
        assert!(e.0.contains("/nonexistent/zk.keytab"), "{}", e.0);
    }
}
