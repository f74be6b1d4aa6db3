//! The AdminServer's auth decision, case by case as Java 3.9.4+ decides.

use super::*;
use crate::config::auth_config::AuthConfig;
use crate::server::auth::digest_authentication_provider::generate_digest;

fn acl(perms: i32, scheme: &str, id: &str) -> Acl {
    Acl {
        perms,
        id: Id {
            scheme: scheme.into(),
            id: id.into(),
        },
    }
}

fn conn() -> Connection {
    Connection {
        client_ip: Some("127.0.0.1".into()),
        x509_subject: None,
    }
}

fn verdict(registry: &ProviderRegistry, acl: &[Acl], header: Option<&str>) -> AuthVerdict {
    check(registry, false, acl, ALL_ON_ROOT, header, &conn(), None)
}

fn alice_all() -> Vec<Acl> {
    vec![acl(perms::ALL, "digest", &generate_digest("alice:secret"))]
}

#[test]
fn no_header_is_missing_and_401() {
    let r = ProviderRegistry::new(None);
    let v = verdict(&r, &alice_all(), None);
    assert_eq!(v, AuthVerdict::Missing);
    assert_eq!(v.status(), 401);
    assert_eq!(v.error(), Some("Auth info is missing for the command"));
    // Even where the ACL is open: the header is required.
    let open = [acl(perms::ALL, "world", "anyone")];
    assert_eq!(verdict(&r, &open, None), AuthVerdict::Missing);
}

#[test]
fn the_right_digest_user_is_allowed() {
    let r = ProviderRegistry::new(None);
    let v = verdict(&r, &alice_all(), Some("digest alice:secret"));
    assert_eq!(v, AuthVerdict::Allowed);
    assert_eq!((v.status(), v.error()), (200, None));
}

#[test]
fn a_wrong_password_or_user_is_an_identity_without_rights() {
    let r = ProviderRegistry::new(None);
    for header in ["digest alice:wrong", "digest bob:secret", "digest alice"] {
        let v = verdict(&r, &alice_all(), Some(header));
        assert_eq!(v, AuthVerdict::NotAuthorized, "{}", header);
        assert_eq!((v.status(), v.error()), (403, Some("Not authorized")));
    }
}

#[test]
fn headers_that_yield_no_identity_are_401() {
    let r = ProviderRegistry::new(None);
    for header in [
        "",
        "digest",
        "digest ",
        "Digest alice:secret",
        "basic YWxpY2U6c2VjcmV0",
        "digest alice:secret extra",
        " digest alice:secret",
        "digest  alice:secret",
        "x509",
        "sasl alice",
        "world anyone",
        "super x",
    ] {
        let v = verdict(&r, &alice_all(), Some(header));
        assert_eq!(v, AuthVerdict::NotAuthenticated, "{:?}", header);
        assert_eq!((v.status(), v.error()), (401, Some("Not authenticated")));
    }
}

#[test]
fn every_bit_is_checked_on_its_own() {
    let r = ProviderRegistry::new(None);
    let alice = generate_digest("alice:secret");
    // READ alone: 3.9.0-3.9.3 let this through (one bit matched "ALL").
    let read_only = [acl(perms::READ, "digest", &alice)];
    assert_eq!(
        verdict(&r, &read_only, Some("digest alice:secret")),
        AuthVerdict::NotAuthorized
    );
    // All five bits, spread over two entries, do add up.
    let split = [
        acl(perms::READ | perms::WRITE, "digest", &alice),
        acl(
            perms::CREATE | perms::DELETE | perms::ADMIN,
            "digest",
            &alice,
        ),
    ];
    assert_eq!(
        verdict(&r, &split, Some("digest alice:secret")),
        AuthVerdict::Allowed
    );
    // All but ADMIN is not enough.
    let no_admin = [acl(perms::ALL & !perms::ADMIN, "digest", &alice)];
    assert_eq!(
        verdict(&r, &no_admin, Some("digest alice:secret")),
        AuthVerdict::NotAuthorized
    );
}

#[test]
fn an_open_root_lets_any_identity_in() {
    let r = ProviderRegistry::new(None);
    let open = [acl(perms::ALL, "world", "anyone")];
    for header in ["digest anyone:at-all", "ip", "ip ignored"] {
        assert_eq!(
            verdict(&r, &open, Some(header)),
            AuthVerdict::Allowed,
            "{}",
            header
        );
    }
}

#[test]
fn the_ip_scheme_uses_the_connection_address() {
    let r = ProviderRegistry::new(None);
    let local = [acl(perms::ALL, "ip", "127.0.0.0/8")];
    assert_eq!(verdict(&r, &local, Some("ip")), AuthVerdict::Allowed);
    let elsewhere = [acl(perms::ALL, "ip", "10.0.0.0/8")];
    assert_eq!(
        verdict(&r, &elsewhere, Some("ip")),
        AuthVerdict::NotAuthorized
    );
}

#[test]
fn no_client_address_fails_the_ip_scheme() {
    let r = ProviderRegistry::new(None);
    let open = [acl(perms::ALL, "world", "anyone")];
    let nowhere = Connection::default();
    let v = check(&r, false, &open, ALL_ON_ROOT, Some("ip"), &nowhere, None);
    assert_eq!(v, AuthVerdict::NotAuthenticated);
}

#[test]
fn super_users_and_skip_acl_pass() {
    let digest = generate_digest("super:pw");
    let r = ProviderRegistry::new(Some(digest));
    assert_eq!(
        verdict(&r, &alice_all(), Some("digest super:pw")),
        AuthVerdict::Allowed
    );
    let plain = ProviderRegistry::new(None);
    assert_eq!(
        check(
            &plain,
            true,
            &alice_all(),
            ALL_ON_ROOT,
            Some("digest bob:x"),
            &conn(),
            None
        ),
        AuthVerdict::Allowed,
        "skipACL passes every identity"
    );
    assert_eq!(
        check(&plain, true, &alice_all(), ALL_ON_ROOT, None, &conn(), None),
        AuthVerdict::Missing,
        "but not a request without credentials"
    );
}

#[test]
fn digest_switched_off_is_an_unknown_scheme() {
    let config = AuthConfig {
        digest_enabled: false,
        ..AuthConfig::default()
    };
    let r = ProviderRegistry::with_config(None, &config);
    assert_eq!(
        verdict(&r, &alice_all(), Some("digest alice:secret")),
        AuthVerdict::NotAuthenticated
    );
}

#[test]
fn x509_needs_the_scheme_and_a_trusted_certificate() {
    let subject = "CN=admin,O=Acme";
    let acl_all = [acl(perms::ALL, "x509", subject)];
    let with_cert = Connection {
        client_ip: Some("127.0.0.1".into()),
        x509_subject: Some(subject.into()),
    };
    let unregistered = ProviderRegistry::new(None);
    let registered = ProviderRegistry::new(None).with_x509(true);
    let run = |r: &ProviderRegistry, c: &Connection, super_user: Option<&str>| {
        check(r, false, &acl_all, ALL_ON_ROOT, Some("x509"), c, super_user)
    };
    assert_eq!(
        run(&unregistered, &with_cert, None),
        AuthVerdict::NotAuthenticated
    );
    assert_eq!(
        run(&registered, &conn(), None),
        AuthVerdict::NotAuthenticated
    );
    assert_eq!(run(&registered, &with_cert, None), AuthVerdict::Allowed);
    let other = Connection {
        x509_subject: Some("CN=other".into()),
        ..with_cert.clone()
    };
    assert_eq!(run(&registered, &other, None), AuthVerdict::NotAuthorized);
    assert_eq!(
        run(&registered, &other, Some("CN=other")),
        AuthVerdict::Allowed,
        "X509AuthenticationProvider.superUser"
    );
}
