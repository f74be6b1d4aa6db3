//! ACL decisions: may these identities do this to that node, and is this
//! ACL list acceptable for create/setACL.
//!
//! Pure functions, called by Prep (writes) and Final (reads).
//!
//! Mirrors: `ZooKeeperServer.checkACL` and `PrepRequestProcessor.fixupACL`.

use log::error;

use super::ProviderRegistry;
use crate::jute::data::{Acl, Id};
use crate::keeper_exception::Code;

/// NOAUTH unless `ids` hold `perm` on a node with ACL `acl`.
///
/// Order as in Java: `skip_acl` passes everything; an empty ACL passes; a
/// `super` identity passes; then some entry must grant a bit of `perm` to
/// `world:anyone` or to an identity of the same scheme that the scheme's
/// provider says matches.
pub fn check_acl(
    registry: &ProviderRegistry,
    skip_acl: bool,
    acl: &[Acl],
    perm: i32,
    ids: &[Id],
) -> Result<(), Code> {
    if skip_acl || acl.is_empty() || ids.iter().any(|id| id.scheme == "super") {
        return Ok(());
    }
    for entry in acl.iter().filter(|a| a.perms & perm != 0) {
        if entry.id.scheme == "world" && entry.id.id == "anyone" {
            return Ok(());
        }
        let Some(provider) = registry.provider(&entry.id.scheme) else {
            continue;
        };
        let matched = ids
            .iter()
            .filter(|id| id.scheme == entry.id.scheme)
            .any(|id| registry.matches(provider, &id.id, &entry.id.id));
        if matched {
            return Ok(());
        }
    }
    Err(Code::NoAuth)
}

/// Validates and expands the ACL of a create/setACL.
///
/// Duplicates are dropped (first occurrence kept); an empty list is
/// INVALIDACL; `world:anyone` is kept; `auth` expands to every
/// authenticated identity of the caller (none: INVALIDACL); any other
/// entry needs a known scheme whose provider accepts the id.
pub fn fixup_acl(
    registry: &ProviderRegistry,
    auth_info: &[Id],
    acls: &[Acl],
) -> Result<Vec<Acl>, Code> {
    let mut unique: Vec<&Acl> = Vec::with_capacity(acls.len());
    for a in acls {
        if !unique.contains(&a) {
            unique.push(a);
        }
    }
    if unique.is_empty() {
        return Err(Code::InvalidAcl);
    }
    let mut fixed = Vec::with_capacity(unique.len());
    for a in unique {
        if a.id.scheme == "world" && a.id.id == "anyone" {
            fixed.push(a.clone());
        } else if a.id.scheme == "auth" {
            let before = fixed.len();
            for cid in auth_info {
                match registry.provider(&cid.scheme) {
                    None => error!("Missing AuthenticationProvider for {}", cid.scheme),
                    Some(p) if p.is_authenticated() => fixed.push(Acl {
                        perms: a.perms,
                        id: cid.clone(),
                    }),
                    Some(_) => {}
                }
            }
            if fixed.len() == before {
                return Err(Code::InvalidAcl);
            }
        } else {
            match registry.provider(&a.id.scheme) {
                Some(p) if p.is_valid(&a.id.id) => fixed.push(a.clone()),
                _ => return Err(Code::InvalidAcl),
            }
        }
    }
    Ok(fixed)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::jute::data::ids;
    use crate::zoo_defs::perms;

    fn id(scheme: &str, id: &str) -> Id {
        Id {
            scheme: scheme.into(),
            id: id.into(),
        }
    }

    fn acl(perms: i32, scheme: &str, i: &str) -> Acl {
        Acl {
            perms,
            id: id(scheme, i),
        }
    }

    fn reg() -> ProviderRegistry {
        ProviderRegistry::new(None)
    }

    #[test]
    fn world_anyone_needs_the_bit() {
        let read_only = ids::read_acl_unsafe();
        let me = [id("ip", "127.0.0.1")];
        assert_eq!(
            check_acl(&reg(), false, &read_only, perms::READ, &me),
            Ok(())
        );
        assert_eq!(
            check_acl(&reg(), false, &read_only, perms::WRITE, &me),
            Err(Code::NoAuth)
        );
        // skipACL and super bypass everything.
        assert_eq!(
            check_acl(&reg(), true, &read_only, perms::WRITE, &me),
            Ok(())
        );
        let su = [id("super", "")];
        assert_eq!(
            check_acl(&reg(), false, &read_only, perms::WRITE, &su),
            Ok(())
        );
        assert_eq!(check_acl(&reg(), false, &[], perms::WRITE, &me), Ok(()));
    }

    #[test]
    fn digest_and_ip_entries_match_by_scheme() {
        let node = [
            acl(perms::ALL, "digest", "bob:h="),
            acl(perms::READ, "ip", "10.0.0.0/8"),
        ];
        let bob = [id("ip", "1.1.1.1"), id("digest", "bob:h=")];
        let lan = [id("ip", "10.2.3.4")];
        assert_eq!(check_acl(&reg(), false, &node, perms::DELETE, &bob), Ok(()));
        assert_eq!(check_acl(&reg(), false, &node, perms::READ, &lan), Ok(()));
        assert_eq!(
            check_acl(&reg(), false, &node, perms::WRITE, &lan),
            Err(Code::NoAuth)
        );
        // A digest id never matches an ip entry even with the same text.
        let odd = [id("digest", "10.0.0.1")];
        assert_eq!(
            check_acl(&reg(), false, &node, perms::READ, &odd),
            Err(Code::NoAuth)
        );
    }

    #[test]
    fn fixup_expands_auth_to_authenticated_ids() {
        let caller = [
            id("ip", "127.0.0.1"),
            id("digest", "bob:h="),
            id("super", ""),
        ];
        let fixed = fixup_acl(&reg(), &caller, &ids::creator_all_acl()).unwrap();
        assert_eq!(fixed, vec![acl(perms::ALL, "digest", "bob:h=")]);
        // Nobody authenticated: INVALIDACL.
        let anon = [id("ip", "127.0.0.1")];
        assert_eq!(
            fixup_acl(&reg(), &anon, &ids::creator_all_acl()),
            Err(Code::InvalidAcl)
        );
    }

    #[test]
    fn fixup_rejects_bad_lists_and_drops_duplicates() {
        assert_eq!(fixup_acl(&reg(), &[], &[]), Err(Code::InvalidAcl));
        let dup = [ids::open_acl_unsafe(), ids::open_acl_unsafe()].concat();
        assert_eq!(
            fixup_acl(&reg(), &[], &dup).unwrap(),
            ids::open_acl_unsafe()
        );
        for bad in [
            acl(perms::ALL, "world", "someone"),
            acl(perms::ALL, "nosuch", "x"),
            acl(perms::ALL, "digest", "no-colon"),
            acl(perms::ALL, "ip", "300.1.1.1"),
            acl(perms::ALL, "super", ""),
        ] {
            assert_eq!(
                fixup_acl(&reg(), &[], std::slice::from_ref(&bad)),
                Err(Code::InvalidAcl),
                "{:?}",
                bad
            );
        }
        let ok = [
            acl(perms::READ, "ip", "10.0.0.0/8"),
            acl(perms::ALL, "digest", "u:h"),
        ];
        assert_eq!(fixup_acl(&reg(), &[], &ok).unwrap(), ok.to_vec());
    }
}
