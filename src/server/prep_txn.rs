//! Turning one write into a txn: the checks and pending-state updates of
//! each write opcode.
//!
//! Each builder validates the request against the pending state of the
//! nodes it touches (outstanding [`ChangeRecord`]s, else the tree), adds
//! the new pending states, and returns the txn body, or the result code
//! the client will get (the caller then logs an error txn instead). When
//! `digest.enabled`, each new record carries the tree digest the tree will
//! have once it is applied, and the txn gets the last one.
//!
//! Runs on the Prep thread with the outstanding-changes lock held.
//!
//! Mirrors: `PrepRequestProcessor.pRequest2Txn`, `pRequest2TxnCreate`,
//! `getRecordForPath`, `precalculateDigest`.

use std::collections::BTreeSet;
use std::sync::Arc;

use super::auth::acl::fixup_acl;
use super::auth::ProviderRegistry;
use super::change_record::{ChangeRecord, OutstandingChanges, PendingData, PrecalculatedDigest};
use super::create_mode::{self, CreateMode};
use super::ephemeral_type::{extended_types_enabled, EphemeralType};
use super::path_utils::validate_path;
use super::server_state::ServerState;
use super::session_tracker::SessionOwner;
use crate::jute::data::{Acl, Id};
use crate::jute::proto::{CheckVersionRequest, SetAclRequest, SetDataRequest};
use crate::jute::txn::{
    CheckVersionTxn, CloseSessionTxn, CreateContainerTxn, CreateSessionTxn, CreateTtlTxn,
    CreateTxn, DeleteTxn, SetAclTxn, SetDataTxn, TxnBody,
};
use crate::keeper_exception::Code;
use crate::zoo_defs::{op_code, perms};

/// The fields of create/create2/createContainer/createTTL requests (the
/// data moves on into the txn).
#[derive(Debug, Clone)]
pub struct CreateFields {
    pub path: String,
    pub data: Option<Vec<u8>>,
    pub acl: Vec<Acl>,
    pub flags: i32,
    /// -1 unless the opcode is createTTL.
    pub ttl: i64,
}

/// One txn being built.
pub struct TxnBuilder<'a> {
    pub state: &'a ServerState,
    pub changes: &'a mut OutstandingChanges,
    pub zxid: i64,
    /// The txn header's time (leader wall clock).
    pub time: i64,
    pub session_id: i64,
    /// The server the request came through (checked against the session's owner).
    pub owner: SessionOwner,
    /// The request's local session could not be upgraded (upgrading is
    /// off): its ephemeral creates fail with EPHEMERALONLOCALSESSION.
    pub refuse_ephemeral: bool,
    pub auth_info: &'a [Id],
    /// The tree digest after this txn, once a builder has computed it.
    pub txn_digest: Option<i64>,
}

/// Checks a client path (BADARGUMENTS).
fn check_path(path: &str) -> Result<(), Code> {
    validate_path(path).map_err(|e| e.code())
}

/// `fixup_acl` of a create's ACL, keeping the request's own list when
/// fixing changes nothing: a single `world:anyone` entry, by far the most
/// common ACL, comes out of `fixup_acl` as an equal copy.
fn fixed_acl(
    registry: &ProviderRegistry,
    auth_info: &[Id],
    acl: Vec<Acl>,
) -> Result<Vec<Acl>, Code> {
    match acl.as_slice() {
        [only] if only.id.scheme == "world" && only.id.id == "anyone" => Ok(acl),
        _ => fixup_acl(registry, auth_info, &acl),
    }
}

/// The special nodes that can never be deleted.
fn is_special_path(path: &str) -> bool {
    matches!(
        path,
        "/" | "/zookeeper" | "/zookeeper/quota" | "/zookeeper/config"
    )
}

/// Java's parent for a delete: everything before the last '/'; no slash,
/// a NUL or a special path is BADARGUMENTS.
fn parent_for_delete(path: &str) -> Result<&str, Code> {
    match path.rfind('/') {
        Some(i) if !path.contains('\0') && !is_special_path(path) => Ok(&path[..i]),
        _ => Err(Code::BadArguments),
    }
}

/// `expected` -1 matches anything; else it must equal `current`.
/// Returns the next version.
pub fn check_and_inc_version(current: i32, expected: i32) -> Result<i32, Code> {
    if expected != -1 && expected != current {
        return Err(Code::BadVersion);
    }
    Ok(current.wrapping_add(1))
}

/// The name of a sequential node: the requested path plus the parent's
/// stored cversion as `%010d` (negative values keep their sign).
pub fn sequential_path(path: &str, parent_cversion: i32) -> String {
    format!("{}{:010}", path, parent_cversion)
}

impl<'a> TxnBuilder<'a> {
    fn digest_enabled(&self) -> bool {
        self.state.config.digest_enabled
    }

    /// The pending state of `path`, else its state in the tree; NONODE if
    /// neither has it (or it is pending deletion).
    pub fn record(&self, path: &str) -> Result<Arc<ChangeRecord>, Code> {
        if let Some(r) = self.changes.get(path) {
            return if r.stat.is_some() {
                Ok(Arc::clone(r))
            } else {
                Err(Code::NoNode)
            };
        }
        let tree = self.state.zkdb.tree.read();
        let tree_path = if path.is_empty() { "/" } else { path };
        let node = tree.get_node(tree_path).ok_or(Code::NoNode)?;
        let data = PendingData::of(path, node.data(), self.digest_enabled());
        let digest = self.digest_enabled().then(|| PrecalculatedDigest {
            node_digest: data.node_digest(path, &node.stat),
            tree_digest: 0,
        });
        Ok(Arc::new(ChangeRecord {
            zxid: -1,
            path: Arc::from(path),
            stat: Some(node.stat.clone()),
            child_count: node.num_children() as i32,
            acl: Arc::new(tree.get_acl(node)),
            data,
            digest,
        }))
    }

    /// The tree digest after everything pending.
    fn current_tree_digest(&self) -> i64 {
        match self.changes.last().and_then(|r| r.digest) {
            Some(d) => d.tree_digest,
            None => self.state.zkdb.tree.read().digest(),
        }
    }

    /// The node and tree digests once `record` (the node's new state,
    /// `stat: None` for a deletion) replaces a state whose node digest was
    /// `prev` (0 for a node being created).
    fn precalc(&self, prev: i64, record: &ChangeRecord) -> Option<PrecalculatedDigest> {
        if !self.digest_enabled() {
            return None;
        }
        let new = record
            .stat
            .as_ref()
            .map_or(0, |s| record.data.node_digest(&record.path, s));
        let tree_digest = self
            .current_tree_digest()
            .wrapping_sub(prev)
            .wrapping_add(new);
        Some(PrecalculatedDigest {
            node_digest: new,
            tree_digest,
        })
    }

    /// Adds a pending state; a record with a digest sets the txn's digest.
    fn add(&mut self, record: ChangeRecord, sets_txn_digest: bool) {
        if sets_txn_digest {
            if let Some(d) = record.digest {
                self.txn_digest = Some(d.tree_digest);
            }
        }
        self.changes.add(record);
    }

    /// QUOTAEXCEEDED past a hard quota, when `enforceQuota` is on (Java
    /// reads the quota nodes as applied, not the pending ones).
    fn check_quota(&self, path: &str, bytes_diff: i64, count_diff: i64) -> Result<(), Code> {
        if !self.state.config.enforce_quota {
            return Ok(());
        }
        self.state
            .zkdb
            .tree
            .read()
            .check_quota(path, bytes_diff, count_diff)
    }

    /// If no builder set a digest: the current predicted tree digest.
    pub fn finish_digest(&mut self) {
        if self.digest_enabled() && self.txn_digest.is_none() {
            self.txn_digest = Some(self.current_tree_digest());
        }
    }

    /// create / create2 / createContainer / createTTL.
    pub fn create(&mut self, op: i32, req: CreateFields) -> Result<TxnBody, Code> {
        let mode = CreateMode::from_flag(req.flags)?;
        create_mode::validate_mode(mode, req.ttl, extended_types_enabled())?;
        if mode.is_ephemeral() {
            if self.refuse_ephemeral {
                return Err(Code::EphemeralOnLocalSession);
            }
            self.state
                .sessions
                .check_global_session(self.session_id, self.owner)?;
        } else {
            self.state
                .sessions
                .check_session(self.session_id, self.owner)?;
        }
        let slash = match req.path.rfind('/') {
            Some(i) if !req.path.contains('\0') => i,
            _ => return Err(Code::BadArguments),
        };
        let parent_path = &req.path[..slash];
        let acl = fixed_acl(&self.state.auth, self.auth_info, req.acl)?;
        let parent = self.record(parent_path)?;
        self.state
            .check_acl(&parent.acl, perms::CREATE, self.auth_info)?;
        let parent_stat = parent.stat.clone().unwrap_or_default();
        let path = if mode.is_sequential() {
            sequential_path(&req.path, parent_stat.cversion)
        } else {
            req.path
        };
        check_path(&path)?;
        if self.record(&path).is_ok() {
            return Err(Code::NodeExists);
        }
        let parent_type =
            EphemeralType::get(parent_stat.ephemeral_owner).map_err(|_| Code::MarshallingError)?;
        if parent_type == EphemeralType::Normal {
            return Err(Code::NoChildrenForEphemerals);
        }
        let new_cversion = parent_stat.cversion.wrapping_add(1);
        let data = PendingData::of(&path, req.data.as_deref(), self.digest_enabled());
        self.check_quota(&path, data.len, 1)?;
        let stat = crate::server::data_tree::create_stat(
            self.zxid,
            self.time,
            create_mode::ephemeral_owner(mode, req.ttl, self.session_id),
        );
        let mut new_parent = parent.duplicate(self.zxid);
        new_parent.child_count += 1;
        if let Some(s) = new_parent.stat.as_mut() {
            s.cversion = new_cversion;
            s.pzxid = self.zxid;
        }
        new_parent.digest = self.precalc(parent.node_digest(), &new_parent);
        self.add(new_parent, false);
        let mut node = ChangeRecord {
            zxid: self.zxid,
            path: Arc::from(path.as_str()),
            stat: Some(stat),
            child_count: 0,
            acl: self.changes.shared_acl(&acl),
            data,
            digest: None,
        };
        node.digest = self.precalc(0, &node);
        self.add(node, true);
        Ok(match op {
            op_code::CREATE_CONTAINER => TxnBody::CreateContainer(CreateContainerTxn {
                path,
                data: req.data,
                acl,
                parent_c_version: new_cversion,
            }),
            op_code::CREATE_TTL => TxnBody::CreateTtl(CreateTtlTxn {
                path,
                data: req.data,
                acl,
                parent_c_version: new_cversion,
                ttl: req.ttl,
            }),
            _ => TxnBody::Create(CreateTxn {
                path,
                data: req.data,
                acl,
                ephemeral: mode.is_ephemeral(),
                parent_c_version: new_cversion,
            }),
        })
    }

    /// Records the deletion of `node` (its current state) whose parent's
    /// current state is `parent`.
    fn delete_node(&mut self, node: &ChangeRecord, parent: &ChangeRecord) {
        let mut new_parent = parent.duplicate(self.zxid);
        new_parent.child_count -= 1;
        if let Some(s) = new_parent.stat.as_mut() {
            s.pzxid = self.zxid;
        }
        new_parent.digest = self.precalc(parent.node_digest(), &new_parent);
        self.add(new_parent, false);
        let mut gone = ChangeRecord::deleted(self.zxid, &node.path);
        gone.digest = self.precalc(node.node_digest(), &gone);
        self.add(gone, true);
    }

    /// delete.
    pub fn delete(&mut self, path: &str, version: i32) -> Result<TxnBody, Code> {
        self.state
            .sessions
            .check_session(self.session_id, self.owner)?;
        let parent_path = parent_for_delete(path)?;
        let parent = self.record(parent_path)?;
        self.state
            .check_acl(&parent.acl, perms::DELETE, self.auth_info)?;
        let node = self.record(path)?;
        check_and_inc_version(node.stat.as_ref().map_or(0, |s| s.version), version)?;
        if node.child_count > 0 {
            return Err(Code::NotEmpty);
        }
        self.delete_node(&node, &parent);
        Ok(TxnBody::Delete(DeleteTxn {
            path: path.to_string(),
        }))
    }

    /// deleteContainer (from the container manager; no session, no ACL).
    /// Only a node owned by a session is refused (BADVERSION), as in Java.
    pub fn delete_container(&mut self, path: &str) -> Result<TxnBody, Code> {
        let parent_path = parent_for_delete(path)?;
        let node = self.record(path)?;
        if node.child_count > 0 {
            return Err(Code::NotEmpty);
        }
        let owner = node.stat.as_ref().map_or(0, |s| s.ephemeral_owner);
        if EphemeralType::get(owner).map_err(|_| Code::MarshallingError)? == EphemeralType::Normal {
            return Err(Code::BadVersion);
        }
        let parent = self.record(parent_path)?;
        self.delete_node(&node, &parent);
        Ok(TxnBody::Delete(DeleteTxn {
            path: path.to_string(),
        }))
    }

    /// setData (the data moves on into the txn).
    pub fn set_data(&mut self, req: SetDataRequest) -> Result<TxnBody, Code> {
        self.state
            .sessions
            .check_session(self.session_id, self.owner)?;
        check_path(&req.path)?;
        let node = self.record(&req.path)?;
        self.state
            .check_acl(&node.acl, perms::WRITE, self.auth_info)?;
        let data = PendingData::of(&req.path, req.data.as_deref(), self.digest_enabled());
        self.check_quota(&req.path, data.len - node.data.len, 0)?;
        let current = node.stat.as_ref().map_or(0, |s| s.version);
        let new_version = check_and_inc_version(current, req.version)?;
        let mut changed = node.duplicate(self.zxid);
        if let Some(s) = changed.stat.as_mut() {
            s.version = new_version;
            s.mtime = self.time;
            s.mzxid = self.zxid;
        }
        changed.data = data;
        changed.digest = self.precalc(node.node_digest(), &changed);
        self.add(changed, true);
        Ok(TxnBody::SetData(SetDataTxn {
            path: req.path,
            data: req.data,
            version: new_version,
        }))
    }

    /// reconfig: `/zookeeper/config` gets the new config's text (its data
    /// version is left at -1 in the pending record, as Java does); the
    /// caller checked the session and built the text.
    pub fn reconfig(&mut self, config_text: String) -> Result<TxnBody, Code> {
        let path = super::data_tree::CONFIG_ZOOKEEPER;
        let node = self.record(path)?;
        self.state
            .check_acl(&node.acl, perms::WRITE, self.auth_info)?;
        let data = PendingData::of(path, Some(config_text.as_bytes()), self.digest_enabled());
        let mut changed = node.duplicate(self.zxid);
        if let Some(s) = changed.stat.as_mut() {
            s.version = -1;
        }
        changed.data = data;
        changed.digest = self.precalc(node.node_digest(), &changed);
        self.add(changed, true);
        Ok(TxnBody::SetData(SetDataTxn {
            path: path.to_string(),
            data: Some(config_text.into_bytes()),
            version: -1,
        }))
    }

    /// setACL. The version is compared with the ACL version. (As in Java,
    /// the pending record keeps the old ACL list.)
    pub fn set_acl(&mut self, req: &SetAclRequest) -> Result<TxnBody, Code> {
        self.state
            .sessions
            .check_session(self.session_id, self.owner)?;
        check_path(&req.path)?;
        let acl = fixup_acl(&self.state.auth, self.auth_info, &req.acl)?;
        let node = self.record(&req.path)?;
        self.state
            .check_acl(&node.acl, perms::ADMIN, self.auth_info)?;
        let current = node.stat.as_ref().map_or(0, |s| s.aversion);
        let new_version = check_and_inc_version(current, req.version)?;
        let mut changed = node.duplicate(self.zxid);
        if let Some(s) = changed.stat.as_mut() {
            s.aversion = new_version;
        }
        changed.digest = self.precalc(node.node_digest(), &changed);
        self.add(changed, true);
        Ok(TxnBody::SetAcl(SetAclTxn {
            path: req.path.clone(),
            acl,
            version: new_version,
        }))
    }

    /// check (inside a multi): READ on the node and a matching version.
    pub fn check(&mut self, req: &CheckVersionRequest) -> Result<TxnBody, Code> {
        self.state
            .sessions
            .check_session(self.session_id, self.owner)?;
        check_path(&req.path)?;
        let node = self.record(&req.path)?;
        self.state
            .check_acl(&node.acl, perms::READ, self.auth_info)?;
        let current = node.stat.as_ref().map_or(0, |s| s.version);
        let version = check_and_inc_version(current, req.version)?;
        Ok(TxnBody::Check(CheckVersionTxn {
            path: req.path.clone(),
            version,
        }))
    }

    /// createSession: start tracking the session with its timeout.
    pub fn create_session(&mut self, txn: CreateSessionTxn) -> TxnBody {
        self.state
            .sessions
            .track_session(self.session_id, txn.time_out);
        // Just tracked, so it cannot be unknown or closing.
        let _ = self.state.sessions.set_owner(self.session_id, self.owner);
        TxnBody::CreateSession(txn)
    }

    /// closeSession: delete the session's ephemerals, including those
    /// created by txns still pending, and mark the session closing.
    pub fn close_session(&mut self) -> Result<TxnBody, Code> {
        let mut paths: BTreeSet<String> = self
            .state
            .zkdb
            .tree
            .read()
            .get_ephemerals(self.session_id)
            .into_iter()
            .collect();
        for c in self.changes.iter() {
            match &c.stat {
                None => {
                    paths.remove(&*c.path);
                }
                Some(s) if s.ephemeral_owner == self.session_id => {
                    paths.insert(c.path.to_string());
                }
                Some(_) => {}
            }
        }
        for path in &paths {
            if self.digest_enabled() {
                let parent_path = parent_for_delete(path)?;
                let parent = self.record(parent_path)?;
                let mut new_parent = parent.duplicate(self.zxid);
                if let Some(s) = new_parent.stat.as_mut() {
                    s.pzxid = self.zxid;
                }
                new_parent.digest = self.precalc(parent.node_digest(), &new_parent);
                self.add(new_parent, false);
            }
            let prev = if self.digest_enabled() {
                self.record(path)?.node_digest()
            } else {
                0
            };
            let mut gone = ChangeRecord::deleted(self.zxid, path);
            gone.digest = self.precalc(prev, &gone);
            self.add(gone, false);
        }
        self.state.sessions.set_session_closing(self.session_id);
        if self.state.config.close_session_txn_enabled {
            Ok(TxnBody::CloseSession(Some(CloseSessionTxn {
                paths2_delete: paths.into_iter().collect(),
            })))
        } else {
            Ok(TxnBody::CloseSession(None))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sequential_suffix_is_ten_digits_with_sign() {
        assert_eq!(sequential_path("/a/s-", 0), "/a/s-0000000000");
        assert_eq!(sequential_path("/a/s-", 42), "/a/s-0000000042");
        assert_eq!(sequential_path("/", -1), "/-000000001");
        assert_eq!(sequential_path("/x", i32::MAX), "/x2147483647");
    }

    #[test]
    fn versions_match_or_are_unconditional() {
        assert_eq!(check_and_inc_version(3, -1), Ok(4));
        assert_eq!(check_and_inc_version(3, 3), Ok(4));
        assert_eq!(check_and_inc_version(3, 2), Err(Code::BadVersion));
        assert_eq!(check_and_inc_version(i32::MAX, -1), Ok(i32::MIN));
    }

    #[test]
    fn the_world_acl_is_kept_as_fixup_would_copy_it() {
        let registry = ProviderRegistry::default();
        let world = |perms| Acl {
            perms,
            id: Id {
                scheme: "world".into(),
                id: "anyone".into(),
            },
        };
        let ip = Acl {
            perms: 1,
            id: Id {
                scheme: "ip".into(),
                id: "10.0.0.1".into(),
            },
        };
        let auth = Acl {
            perms: 31,
            id: Id {
                scheme: "auth".into(),
                id: String::new(),
            },
        };
        let me = [Id {
            scheme: "ip".into(),
            id: "127.0.0.1".into(),
        }];
        let cases = [
            vec![world(31)],
            vec![world(0)],
            vec![world(1), world(1)],
            vec![world(1), ip.clone()],
            vec![ip],
            vec![auth],
            vec![],
        ];
        for acl in cases {
            assert_eq!(
                fixed_acl(&registry, &me, acl.clone()),
                fixup_acl(&registry, &me, &acl),
                "{:?}",
                acl
            );
        }
    }

    #[test]
    fn special_paths_cannot_be_deleted() {
        for p in [
            "/",
            "/zookeeper",
            "/zookeeper/quota",
            "/zookeeper/config",
            "nosl",
            "/a\0b",
        ] {
            assert_eq!(parent_for_delete(p), Err(Code::BadArguments), "{:?}", p);
        }
        assert_eq!(parent_for_delete("/a"), Ok(""));
        assert_eq!(parent_for_delete("/a/b"), Ok("/a"));
        assert_eq!(parent_for_delete("/zookeeper/x"), Ok("/zookeeper"));
    }
}
