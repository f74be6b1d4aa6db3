//! The `flags` of a create request, and the checks Prep runs on them
//! before anything else.
//!
//! Pure code. Mirrors: `org.apache.zookeeper.CreateMode` and the first
//! half of `PrepRequestProcessor.validateCreateRequest`.

use super::ephemeral_type::EphemeralType;
use crate::keeper_exception::Code;

/// How a node is created (the `flags` of a create request: Java's `CreateMode`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CreateMode {
    Persistent,
    Ephemeral,
    PersistentSequential,
    EphemeralSequential,
    Container,
    PersistentWithTtl,
    PersistentSequentialWithTtl,
}

impl CreateMode {
    /// The mode for a wire flag; anything but 0..=6 is BADARGUMENTS.
    pub fn from_flag(flag: i32) -> Result<CreateMode, Code> {
        use CreateMode::*;
        Ok(match flag {
            0 => Persistent,
            1 => Ephemeral,
            2 => PersistentSequential,
            3 => EphemeralSequential,
            4 => Container,
            5 => PersistentWithTtl,
            6 => PersistentSequentialWithTtl,
            _ => return Err(Code::BadArguments),
        })
    }

    /// Owned by the creating session.
    pub fn is_ephemeral(self) -> bool {
        matches!(
            self,
            CreateMode::Ephemeral | CreateMode::EphemeralSequential
        )
    }

    /// Gets a `%010d` suffix from the parent's cversion.
    pub fn is_sequential(self) -> bool {
        matches!(
            self,
            CreateMode::PersistentSequential
                | CreateMode::EphemeralSequential
                | CreateMode::PersistentSequentialWithTtl
        )
    }

    /// Deleted by the container manager once empty.
    pub fn is_container(self) -> bool {
        self == CreateMode::Container
    }

    /// Deleted by the container manager once empty and expired.
    pub fn is_ttl(self) -> bool {
        matches!(
            self,
            CreateMode::PersistentWithTtl | CreateMode::PersistentSequentialWithTtl
        )
    }
}

/// The mode checks, in Java's order: a TTL mode needs extended types
/// (else UNIMPLEMENTED); a TTL mode needs a TTL in 1..=MAX_TTL and any
/// other mode must not carry one (`ttl` is -1 for non-TTL opcodes), else
/// BADARGUMENTS.
pub fn validate_mode(mode: CreateMode, ttl: i64, extended_types: bool) -> Result<(), Code> {
    if mode.is_ttl() && !extended_types {
        return Err(Code::Unimplemented);
    }
    if mode.is_ttl() {
        EphemeralType::ttl_owner(ttl).map_err(|_| Code::BadArguments)?;
    } else if ttl >= 0 {
        return Err(Code::BadArguments);
    }
    Ok(())
}

/// The `ephemeralOwner` a new node gets.
pub fn ephemeral_owner(mode: CreateMode, ttl: i64, session_id: i64) -> i64 {
    if mode.is_container() {
        super::ephemeral_type::CONTAINER_EPHEMERAL_OWNER
    } else if mode.is_ttl() {
        EphemeralType::ttl_owner(ttl).unwrap_or(0)
    } else if mode.is_ephemeral() {
        session_id
    } else {
        0
    }
}

#[cfg(test)]
mod tests {
    use super::CreateMode::*;
    use super::*;

    #[test]
    fn flags_map_to_modes() {
        assert_eq!(CreateMode::from_flag(3), Ok(EphemeralSequential));
        assert_eq!(CreateMode::from_flag(7), Err(Code::BadArguments));
        assert_eq!(CreateMode::from_flag(-1), Err(Code::BadArguments));
        assert!(
            PersistentSequentialWithTtl.is_sequential() && PersistentSequentialWithTtl.is_ttl()
        );
        assert!(!Container.is_ephemeral());
    }

    /// Java checks a create's flags in a fixed order, and the order decides
    /// which code a request with several faults gets.
    #[test]
    fn validation_order() {
        // TTL mode, extended types off: UNIMPLEMENTED even with a bad ttl.
        assert_eq!(
            validate_mode(PersistentWithTtl, -1, false),
            Err(Code::Unimplemented)
        );
        // TTL mode with ttl -1 (createTTL flags via opcode 1): BADARGUMENTS.
        assert_eq!(
            validate_mode(PersistentWithTtl, -1, true),
            Err(Code::BadArguments)
        );
        assert_eq!(
            validate_mode(PersistentWithTtl, 0, true),
            Err(Code::BadArguments)
        );
        assert_eq!(
            validate_mode(PersistentWithTtl, 1 << 40, true),
            Err(Code::BadArguments)
        );
        assert_eq!(validate_mode(PersistentWithTtl, 1000, true), Ok(()));
        // Non-TTL mode carrying a ttl (opcode 21 with flags 0).
        assert_eq!(validate_mode(Persistent, 0, true), Err(Code::BadArguments));
        assert_eq!(validate_mode(Persistent, 5, false), Err(Code::BadArguments));
        assert_eq!(validate_mode(Container, -1, false), Ok(()));
    }

    #[test]
    fn owners_by_mode() {
        assert_eq!(ephemeral_owner(Ephemeral, -1, 0x42), 0x42);
        assert_eq!(ephemeral_owner(Persistent, -1, 0x42), 0);
        assert_eq!(ephemeral_owner(Container, -1, 0x42), i64::MIN);
        assert_eq!(
            ephemeral_owner(PersistentWithTtl, 100, 0x42),
            EphemeralType::ttl_owner(100).unwrap()
        );
    }
}
