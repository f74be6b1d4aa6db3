//! Who may run the AdminServer's protected commands (3.9's `snapshot`):
//! the request's `Authorization` header names a scheme and, for the
//! schemes that take one, its credentials (`digest user:password`, or
//! just `ip` / `x509`, whose identity comes from the connection); the
//! identities it yields must hold every permission bit the command needs
//! on the ACL of `/`.
//!
//! The answers are Java's: no header at all is 401 "Auth info is missing
//! for the command"; a header that yields no identity (an unknown or
//! unregistered scheme, more than one space-separated credential, a
//! digest without credentials, `x509` without a trusted client
//! certificate, `sasl`) is 401 "Not authenticated"; identities that lack
//! one of the bits are 403 "Not authorized". A digest is never checked
//! against a password list: `user:password` becomes the id
//! `user:base64(hash)` as for `addauth`, so a wrong password is an
//! identity the ACL does not name (403), exactly as in Java. Each bit is
//! checked on its own (Java 3.9.4 and later; 3.9.0-3.9.3 let any one bit
//! of the ACL entry pass for all).
//!
//! Pure functions, called on the AdminServer's worker threads.
//!
//! Mirrors: `org.apache.zookeeper.server.admin.AuthRequest` and the
//! `handleAuthentication` / `handleAuthorization` steps of `Commands`.

use crate::jute::data::{Acl, Id};
use crate::server::auth::acl::check_acl;
use crate::server::auth::{java_split, x509_authentication_provider, ProviderRegistry, Scheme};
use crate::zoo_defs::perms;

/// The node whose ACL guards the protected commands.
pub const ROOT_PATH: &str = "/";

/// What a protected command needs: these permission bits on this node.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AuthRequest {
    /// Every bit is required (`ZooDefs.Perms`).
    pub permission: i32,
    /// The node whose ACL is checked.
    pub path: &'static str,
}

/// `snapshot` and `restore`: everything on `/`.
pub const ALL_ON_ROOT: AuthRequest = AuthRequest {
    permission: perms::ALL,
    path: ROOT_PATH,
};

/// What the HTTP request brings besides its `Authorization` header.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Connection {
    /// The client's address as the `ip` scheme sees it (the peer address,
    /// or the first `X-Forwarded-For` entry when
    /// `IPAuthenticationProvider.usexforwardedfor` is on; `None` when
    /// that header has no entry: Java's provider fails then).
    pub client_ip: Option<String>,
    /// The subject (RFC 2253) of a client certificate the TLS handshake
    /// presented and that the `x509` scheme's trust store accepts.
    pub x509_subject: Option<String>,
}

/// The outcome of the check.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthVerdict {
    /// Run the command.
    Allowed,
    /// No `Authorization` header.
    Missing,
    /// The header yields no identity.
    NotAuthenticated,
    /// The identities lack a required bit.
    NotAuthorized,
}

impl AuthVerdict {
    /// The HTTP status Java answers.
    pub fn status(self) -> u16 {
        match self {
            AuthVerdict::Allowed => 200,
            AuthVerdict::Missing | AuthVerdict::NotAuthenticated => 401,
            AuthVerdict::NotAuthorized => 403,
        }
    }

    /// The `error` of Java's JSON answer (`None` when allowed).
    pub fn error(self) -> Option<&'static str> {
        match self {
            AuthVerdict::Allowed => None,
            AuthVerdict::Missing => Some("Auth info is missing for the command"),
            AuthVerdict::NotAuthenticated => Some("Not authenticated"),
            AuthVerdict::NotAuthorized => Some("Not authorized"),
        }
    }
}

/// The identities an `Authorization` header value yields (`None`: not
/// authenticated). `x509_super_user` is
/// `X509AuthenticationProvider.superUser`.
pub fn authenticate(
    registry: &ProviderRegistry,
    header: &str,
    connection: &Connection,
    x509_super_user: Option<&str>,
) -> Option<Vec<Id>> {
    let parts = java_split(header, ' ');
    let (scheme, data) = match parts.as_slice() {
        [scheme] => (scheme.as_str(), None),
        [scheme, data] => (scheme.as_str(), Some(data.as_bytes())),
        _ => return None,
    };
    let ids = match registry.provider(scheme)? {
        Scheme::Ip => vec![Id {
            scheme: "ip".into(),
            id: connection.client_ip.clone()?,
        }],
        // Java's digest provider fails on a missing credential.
        Scheme::Digest => registry.digest_ids(data?)?,
        Scheme::X509 => match &connection.x509_subject {
            Some(subject) => x509_authentication_provider::identities(subject, x509_super_user),
            None => Vec::new(),
        },
        // A SASL identity comes from a SASL exchange, which HTTP has not.
        Scheme::Sasl => Vec::new(),
    };
    (!ids.is_empty()).then_some(ids)
}

/// Whether `ids` hold every bit of `permission` on a node with ACL `acl`
/// (each bit checked on its own).
pub fn authorize(
    registry: &ProviderRegistry,
    skip_acl: bool,
    acl: &[Acl],
    permission: i32,
    ids: &[Id],
) -> bool {
    (0..31)
        .map(|b| 1 << b)
        .filter(|bit| permission & bit != 0)
        .all(|bit| check_acl(registry, skip_acl, acl, bit, ids).is_ok())
}

/// The whole check for one request: `header` is the `Authorization`
/// value, `acl` the ACL of `request.path`.
pub fn check(
    registry: &ProviderRegistry,
    skip_acl: bool,
    acl: &[Acl],
    request: AuthRequest,
    header: Option<&str>,
    connection: &Connection,
    x509_super_user: Option<&str>,
) -> AuthVerdict {
    let Some(header) = header else {
        return AuthVerdict::Missing;
    };
    let Some(ids) = authenticate(registry, header, connection, x509_super_user) else {
        return AuthVerdict::NotAuthenticated;
    };
    if authorize(registry, skip_acl, acl, request.permission, &ids) {
        AuthVerdict::Allowed
    } else {
        AuthVerdict::NotAuthorized
    }
}

#[cfg(test)]
#[path = "auth_request_tests.rs"]
mod tests;
