//! What a znode's `ephemeralOwner` encodes: nothing (persistent), an
//! owning session, a container marker, or a TTL.
//!
//! Extended types (TTL) are only recognised when
//! `zookeeper.extendedTypesEnabled=true`; Java reads that system property
//! on every call, we keep it in a process-wide flag set once at startup by
//! the config ([`set_extended_types_enabled`]). Pure otherwise; any thread.
//!
//! Mirrors: `org.apache.zookeeper.server.EphemeralType` (without the
//! `zookeeper.emulate353TTLNodes` emulation).

use std::fmt;
use std::sync::atomic::{AtomicBool, Ordering};

/// `ephemeralOwner` of a container node (Long.MIN_VALUE).
pub const CONTAINER_EPHEMERAL_OWNER: i64 = i64::MIN;
/// Highest server id allowed when extended types are on: the top byte of
/// a session id must not look like the extended marker 0xFF.
pub const MAX_EXTENDED_SERVER_ID: i64 = 0xfe;
/// Top byte all set: an extended type.
const EXTENDED_MASK: i64 = 0xff00_0000_0000_0000_u64 as i64;
/// Bits 40..55 select which extended type (0 = TTL).
const RESERVED_BITS_MASK: i64 = 0x00ff_ff00_0000_0000;
const RESERVED_BITS_SHIFT: u32 = 40;
const EXTENDED_BIT_TTL: i64 = 0;
/// The value bits of an extended type (the TTL in ms).
const EXTENDED_FEATURE_VALUE_MASK: i64 = !(EXTENDED_MASK | RESERVED_BITS_MASK);
/// Largest TTL, in ms (about 34 years).
pub const MAX_TTL: i64 = EXTENDED_FEATURE_VALUE_MASK;

/// `zookeeper.extendedTypesEnabled`, as a process-wide switch.
static EXTENDED_TYPES_ENABLED: AtomicBool = AtomicBool::new(false);

/// Sets `zookeeper.extendedTypesEnabled` (startup, before loading data).
pub fn set_extended_types_enabled(enabled: bool) {
    EXTENDED_TYPES_ENABLED.store(enabled, Ordering::Relaxed);
}

/// Whether TTL nodes are enabled.
pub fn extended_types_enabled() -> bool {
    EXTENDED_TYPES_ENABLED.load(Ordering::Relaxed)
}

/// The kind of node an `ephemeralOwner` value denotes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EphemeralType {
    /// 0: a persistent node.
    Void,
    /// A session id: an ephemeral node owned by that session.
    Normal,
    /// A container node (deleted by the leader once empty).
    Container,
    /// A TTL node (deleted by the leader once empty and expired).
    Ttl,
}

/// An `ephemeralOwner` with the extended marker but an unknown type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvalidEphemeralOwner(pub i64);

impl fmt::Display for InvalidEphemeralOwner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Invalid ephemeralOwner. [{:x}]", self.0)
    }
}

impl std::error::Error for InvalidEphemeralOwner {}

/// A TTL outside 1..=[`MAX_TTL`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvalidTtl(pub i64);

impl fmt::Display for InvalidTtl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "ttl must be positive and cannot be larger than: {} (got {})",
            MAX_TTL, self.0
        )
    }
}

impl std::error::Error for InvalidTtl {}

impl EphemeralType {
    /// Classifies an owner with the process-wide extended-types flag.
    pub fn get(owner: i64) -> Result<EphemeralType, InvalidEphemeralOwner> {
        Self::get_with(owner, extended_types_enabled())
    }

    /// Classifies an owner; `extended` = `zookeeper.extendedTypesEnabled`.
    pub fn get_with(owner: i64, extended: bool) -> Result<EphemeralType, InvalidEphemeralOwner> {
        if extended && owner & EXTENDED_MASK == EXTENDED_MASK {
            let feature = (owner & RESERVED_BITS_MASK) >> RESERVED_BITS_SHIFT;
            return if feature == EXTENDED_BIT_TTL {
                Ok(EphemeralType::Ttl)
            } else {
                Err(InvalidEphemeralOwner(owner))
            };
        }
        Ok(match owner {
            CONTAINER_EPHEMERAL_OWNER => EphemeralType::Container,
            0 => EphemeralType::Void,
            _ => EphemeralType::Normal,
        })
    }

    /// Like [`EphemeralType::get`], but an invalid owner counts as a
    /// session (where Java would throw): used where failing is not an
    /// option, e.g. building a client Stat.
    pub fn get_lenient(owner: i64) -> EphemeralType {
        Self::get(owner).unwrap_or(EphemeralType::Normal)
    }

    /// The TTL of a TTL node's owner value (0 for other types).
    pub fn ttl_of(owner: i64) -> i64 {
        owner & EXTENDED_FEATURE_VALUE_MASK
    }

    /// The `ephemeralOwner` of a TTL node.
    pub fn ttl_owner(ttl: i64) -> Result<i64, InvalidTtl> {
        if ttl <= 0 || ttl > MAX_TTL {
            return Err(InvalidTtl(ttl));
        }
        Ok(EXTENDED_MASK | EXTENDED_BIT_TTL | ttl)
    }

    /// What clients see in `Stat.ephemeralOwner`: the session for an
    /// ephemeral, 0 for everything else (containers and TTL nodes too).
    pub fn client_ephemeral_owner(owner: i64) -> i64 {
        match Self::get_lenient(owner) {
            EphemeralType::Normal => owner,
            _ => 0,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::EphemeralType::*;
    use super::*;

    #[test]
    fn classifies_owners() {
        assert_eq!(EphemeralType::get_with(0, false), Ok(Void));
        assert_eq!(EphemeralType::get_with(0x1000_0000_0001, false), Ok(Normal));
        assert_eq!(EphemeralType::get_with(i64::MIN, false), Ok(Container));
        assert_eq!(EphemeralType::get_with(i64::MIN, true), Ok(Container));
        let ttl = EphemeralType::ttl_owner(5000).unwrap();
        assert_eq!(ttl as u64, 0xff00_0000_0000_1388);
        // Without extended types a TTL owner looks like a session.
        assert_eq!(EphemeralType::get_with(ttl, false), Ok(Normal));
        assert_eq!(EphemeralType::get_with(ttl, true), Ok(Ttl));
        assert_eq!(EphemeralType::ttl_of(ttl), 5000);
        let bad = 0xff01_0000_0000_0001_u64 as i64;
        assert_eq!(
            EphemeralType::get_with(bad, true),
            Err(InvalidEphemeralOwner(bad))
        );
    }

    #[test]
    fn ttl_bounds() {
        assert!(EphemeralType::ttl_owner(0).is_err());
        assert!(EphemeralType::ttl_owner(-1).is_err());
        assert!(EphemeralType::ttl_owner(MAX_TTL).is_ok());
        assert!(EphemeralType::ttl_owner(MAX_TTL + 1).is_err());
        assert_eq!(MAX_TTL, 0xff_ffff_ffff);
    }

    #[test]
    fn clients_see_zero_for_containers() {
        assert_eq!(EphemeralType::client_ephemeral_owner(i64::MIN), 0);
        assert_eq!(EphemeralType::client_ephemeral_owner(0x1234), 0x1234);
    }
}
