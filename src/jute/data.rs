//! Schema module `org.apache.zookeeper.data`: identities, ACLs and stats.
//!
//! Mirrors: the classes jute generates for `org.apache.zookeeper.data`.

jute_record! {
    /// An identity: an auth scheme and the id within it (`world:anyone`,
    /// `digest:user:hash`, `ip:10.0.0.0/8`, ...).
    pub struct Id {
        scheme: String,
        id: String,
    }

    /// One access-control entry: permission bits (`ZooDefs.Perms`) granted
    /// to an identity.
    pub struct Acl {
        perms: i32,
        id: Id,
    }

    /// A znode's metadata as clients see it (68 bytes on the wire).
    pub struct Stat {
        /// zxid of the create.
        czxid: i64,
        /// zxid of the last setData.
        mzxid: i64,
        /// create time, ms since the epoch.
        ctime: i64,
        /// last setData time.
        mtime: i64,
        /// data version.
        version: i32,
        /// child version as clients see it (2 x stored - numChildren).
        cversion: i32,
        /// ACL version.
        aversion: i32,
        /// owning session of an ephemeral, else 0.
        ephemeral_owner: i64,
        /// length of the data.
        data_length: i32,
        /// number of children.
        num_children: i32,
        /// zxid of the last child create or delete.
        pzxid: i64,
    }

    /// A znode's metadata as snapshots store it (no computed fields).
    pub struct StatPersisted {
        czxid: i64,
        mzxid: i64,
        ctime: i64,
        mtime: i64,
        version: i32,
        /// stored child version: counts child creations only.
        cversion: i32,
        aversion: i32,
        /// session id, container marker or TTL (see `EphemeralType`).
        ephemeral_owner: i64,
        pzxid: i64,
    }

    /// One authenticated identity of a connection, as `whoAmI` reports it.
    pub struct ClientInfo {
        auth_scheme: String,
        user: String,
    }
}

/// Well-known ids and ACL lists (`ZooDefs.Ids`): records built from the
/// constants of [`crate::zoo_defs`], kept here so that `zoo_defs` stays
/// below `jute`.
pub mod ids {
    use super::{Acl, Id};
    use crate::zoo_defs::perms;

    /// `world:anyone`.
    pub fn anyone_id_unsafe() -> Id {
        Id {
            scheme: "world".into(),
            id: "anyone".into(),
        }
    }

    /// `auth:` — expands to the caller's authenticated ids.
    pub fn auth_ids() -> Id {
        Id {
            scheme: "auth".into(),
            id: "".into(),
        }
    }

    /// All permissions to everyone.
    pub fn open_acl_unsafe() -> Vec<Acl> {
        vec![Acl {
            perms: perms::ALL,
            id: anyone_id_unsafe(),
        }]
    }

    /// All permissions to the creator's authenticated ids.
    pub fn creator_all_acl() -> Vec<Acl> {
        vec![Acl {
            perms: perms::ALL,
            id: auth_ids(),
        }]
    }

    /// Read permission to everyone.
    pub fn read_acl_unsafe() -> Vec<Acl> {
        vec![Acl {
            perms: perms::READ,
            id: anyone_id_unsafe(),
        }]
    }
}
