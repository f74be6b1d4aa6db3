//! Applying txns: create, delete, setData, setACL, closeSession and multi,
//! with the stat, ephemeral, quota, digest and watch upkeep each implies.
//!
//! Replaying a fuzzy snapshot plus the log re-applies txns whose effects
//! the snapshot may already hold, so failures here are results, not
//! panics: a create of an existing node yields NODEEXISTS (and still
//! raises the parent's cversion/pzxid), a delete of a missing one NONODE.
//!
//! Mirrors: `DataTree.processTxn`, `createNode`, `deleteNode`, `setData`,
//! `setACL`, `setCversionPzxid` and `killSession`; the quota upkeep they
//! call is in `quota_upkeep.rs`.

use log::{debug, error, warn};

use super::create_ref::{parse_create, AclMemo, RawCreate};
use super::{create_stat, node_size, DataTree, ProcessTxnResult, PROC_ZOOKEEPER};
use crate::jute::data::{Acl, Stat};
use crate::jute::txn::{ErrorTxn, MultiTxn, TxnBody, TxnHeader};
use crate::keeper_exception::Code;
use crate::server::data_node::DataNode;
use crate::server::digest_calculator::DigestCalculator;
use crate::server::ephemeral_type::{EphemeralType, CONTAINER_EPHEMERAL_OWNER};
use crate::server::path_utils::{client_parent_path, last_component, parent_path};
use crate::server::quota::{self, LIMIT_NODE};
use crate::zoo_defs::{event_type, op_code};

/// Sub-txn types a multi may hold (others make Java abandon the multi).
const MULTI_SUB_TYPES: [i32; 9] = [
    op_code::CREATE,
    op_code::CREATE2,
    op_code::CREATE_TTL,
    op_code::CREATE_CONTAINER,
    op_code::DELETE,
    op_code::DELETE_CONTAINER,
    op_code::SET_DATA,
    op_code::ERROR,
    op_code::CHECK,
];

/// Consecutive create ops of one multi applied in place. The parent they
/// go under keeps its digest out of the tree digest while the run adds
/// children to it (one parent digest per run instead of two per create;
/// only the parent and the new child change during a create), and the
/// ACL id of the run's list is looked up once (nothing in a run of
/// creates releases an ACL). Ended (`end_create_run`) before anything
/// else touches the tree.
#[derive(Debug, Default)]
struct CreateRun {
    /// The parent whose digest is out of the sum, and its path.
    parent: Option<(u32, String)>,
    /// The ACL id of the current list (see `AclMemo`).
    acl_id: Option<i64>,
}

/// A result with the header's fields and nothing else yet.
fn new_result(header: &TxnHeader) -> ProcessTxnResult {
    ProcessTxnResult {
        client_id: header.client_id,
        cxid: header.cxid,
        zxid: header.zxid,
        op_type: header.r#type,
        err: Code::Ok,
        path: String::new(),
        stat: None,
        multi_result: Vec::new(),
    }
}

impl DataTree {
    /// `processTxn(header, txn, isSubTxn)`.
    pub(super) fn process_txn_inner(
        &mut self,
        header: &TxnHeader,
        body: &TxnBody,
        is_sub: bool,
    ) -> ProcessTxnResult {
        let mut rc = new_result(header);
        let outcome = self.dispatch(header, body, &mut rc);
        let parent_c_version = match body {
            TxnBody::Create(t) => Some(t.parent_c_version),
            _ => None,
        };
        self.finish_txn(header, outcome, parent_c_version, is_sub, &mut rc);
        rc
    }

    /// The end of `processTxn`: records the failure, moves the parent of
    /// an existing node forward for a create (`parent_c_version` is the
    /// create's), and for a top-level txn records its zxid and digest.
    fn finish_txn(
        &mut self,
        header: &TxnHeader,
        outcome: Result<(), Code>,
        parent_c_version: Option<i32>,
        is_sub: bool,
        rc: &mut ProcessTxnResult,
    ) {
        if let Err(code) = outcome {
            debug!(
                "Failed: txn type {} zxid 0x{:x} path {}: {}",
                header.r#type, header.zxid, rc.path, code
            );
            rc.err = code;
        }
        if header.r#type == op_code::CREATE && rc.err == Code::NodeExists {
            if let Some(v) = parent_c_version {
                self.adjust_parent_after_node_exists(header, v, rc);
            }
        } else if rc.err != Code::Ok {
            debug!(
                "Ignoring processTxn failure hdr: {} : error: {}",
                header.r#type, rc.err
            );
        }
        if !is_sub {
            // Only after the whole txn (all of a multi) is applied, so a
            // snapshot never claims a zxid whose effects are half there.
            self.last_processed_zxid = self.last_processed_zxid.max(rc.zxid);
            self.record_txn_digest(rc.zxid);
        }
    }

    /// A replayed create of a node the (fuzzy) snapshot already has: the
    /// parent's cversion/pzxid must still move forward.
    fn adjust_parent_after_node_exists(
        &mut self,
        header: &TxnHeader,
        parent_c_version: i32,
        rc: &mut ProcessTxnResult,
    ) {
        debug!(
            "Adjusting parent cversion for Txn: {} path: {} err: {}",
            header.r#type, rc.path, rc.err
        );
        let parent = parent_path(&rc.path).to_string();
        if self
            .set_cversion_pzxid(&parent, parent_c_version, header.zxid)
            .is_err()
        {
            error!("Failed to set parent cversion for: {}", parent);
            rc.err = Code::NoNode;
        }
    }

    /// The switch of Java's processTxn.
    fn dispatch(
        &mut self,
        header: &TxnHeader,
        body: &TxnBody,
        rc: &mut ProcessTxnResult,
    ) -> Result<(), Code> {
        let (zxid, time) = (header.zxid, header.time);
        match (header.r#type, body) {
            (op_code::CREATE | op_code::CREATE2, TxnBody::Create(t)) => {
                rc.path = t.path.clone();
                let owner = if t.ephemeral { header.client_id } else { 0 };
                let stat = self.create_node(
                    &t.path,
                    t.data.as_deref(),
                    &t.acl,
                    owner,
                    t.parent_c_version,
                    zxid,
                    time,
                )?;
                if header.r#type == op_code::CREATE2 {
                    rc.stat = Some(stat);
                }
            }
            (op_code::CREATE_TTL, TxnBody::CreateTtl(t)) => {
                rc.path = t.path.clone();
                let owner = EphemeralType::ttl_owner(t.ttl).map_err(|e| {
                    warn!("createTTL txn 0x{:x} for {}: {}", zxid, t.path, e);
                    Code::BadArguments
                })?;
                let stat = self.create_node(
                    &t.path,
                    t.data.as_deref(),
                    &t.acl,
                    owner,
                    t.parent_c_version,
                    zxid,
                    time,
                )?;
                rc.stat = Some(stat);
            }
            (op_code::CREATE_CONTAINER, TxnBody::CreateContainer(t)) => {
                rc.path = t.path.clone();
                let owner = CONTAINER_EPHEMERAL_OWNER;
                let stat = self.create_node(
                    &t.path,
                    t.data.as_deref(),
                    &t.acl,
                    owner,
                    t.parent_c_version,
                    zxid,
                    time,
                )?;
                rc.stat = Some(stat);
            }
            (op_code::DELETE | op_code::DELETE_CONTAINER, TxnBody::Delete(t)) => {
                rc.path = t.path.clone();
                self.delete_node(&t.path, zxid)?;
            }
            (op_code::SET_DATA | op_code::RECONFIG, TxnBody::SetData(t)) => {
                rc.path = t.path.clone();
                rc.stat = Some(self.set_data(&t.path, t.data.as_deref(), t.version, zxid, time)?);
            }
            (op_code::SET_ACL, TxnBody::SetAcl(t)) => {
                rc.path = t.path.clone();
                rc.stat = Some(self.set_acl(&t.path, &t.acl, t.version)?);
            }
            (op_code::CLOSE_SESSION, TxnBody::CloseSession(t)) => {
                let listed = t.as_ref().map(|t| t.paths2_delete.as_slice());
                self.kill_session(header.client_id, zxid, listed);
            }
            (op_code::CREATE_SESSION, TxnBody::CreateSession(_)) => {}
            (op_code::ERROR, TxnBody::Error(t)) => {
                rc.err = Code::from_i32(t.err).unwrap_or_else(|| {
                    warn!("error txn 0x{:x} carries unknown code {}", zxid, t.err);
                    Code::SystemError
                });
            }
            (op_code::CHECK, TxnBody::Check(t)) => rc.path = t.path.clone(),
            (op_code::MULTI, TxnBody::Multi(t)) => self.apply_multi(header, t, rc),
            (txn_type, _) => warn!(
                "Ignoring txn 0x{:x}: type {} does not match its body",
                zxid, txn_type
            ),
        }
        Ok(())
    }

    /// Applies each op of a multi. When any op is an error txn the multi
    /// failed in Prep: every op is applied as an error, those before the
    /// failing one with code 0, those after with RUNTIMEINCONSISTENCY.
    /// Creates are read in place from the op's bytes when they can be
    /// (see `create_ref.rs`).
    fn apply_multi(&mut self, header: &TxnHeader, multi: &MultiTxn, rc: &mut ProcessTxnResult) {
        let failed = multi.txns.iter().any(|t| t.r#type == op_code::ERROR);
        let mut post_failed = false;
        let mut acls = AclMemo::default();
        let mut run = CreateRun::default();
        let max_len = crate::jute::max_field_length();
        rc.multi_result.reserve_exact(multi.txns.len());
        for sub in &multi.txns {
            let bytes = sub.data.as_deref().unwrap_or(&[]);
            let sub_header = TxnHeader {
                r#type: sub.r#type,
                ..header.clone()
            };
            if !failed && matches!(sub.r#type, op_code::CREATE | op_code::CREATE2) {
                if let Some(raw) = parse_create(bytes, max_len) {
                    let (acl, new_list) = acls.get(raw.acl_bytes);
                    if new_list {
                        run.acl_id = None;
                    }
                    let sub_rc = self.apply_raw_create(&sub_header, &raw, acl, &mut run);
                    Self::add_sub_result(rc, sub_rc);
                    continue;
                }
            }
            self.end_create_run(&mut run);
            if !MULTI_SUB_TYPES.contains(&sub.r#type) {
                debug!(
                    "Failed: Invalid type of op: {} in multi 0x{:x}",
                    sub.r#type, header.zxid
                );
                return;
            }
            let mut body = match TxnBody::from_bytes(sub.r#type, bytes) {
                Ok(body) => body,
                Err(e) => {
                    debug!(
                        "Failed: multi 0x{:x} op type {} does not decode: {}",
                        header.zxid, sub.r#type, e
                    );
                    return;
                }
            };
            let mut sub_type = sub.r#type;
            if sub_type == op_code::ERROR {
                post_failed = true;
            } else if failed {
                let err = if post_failed {
                    Code::RuntimeInconsistency
                } else {
                    Code::Ok
                };
                sub_type = op_code::ERROR;
                body = TxnBody::Error(ErrorTxn { err: err.as_i32() });
            }
            let sub_header = TxnHeader {
                r#type: sub_type,
                ..sub_header
            };
            let sub_rc = self.process_txn_inner(&sub_header, &body, true);
            Self::add_sub_result(rc, sub_rc);
        }
        self.end_create_run(&mut run);
    }

    /// Appends an op's result to its multi's; the first failure is the
    /// multi's.
    fn add_sub_result(rc: &mut ProcessTxnResult, sub_rc: ProcessTxnResult) {
        if sub_rc.err != Code::Ok && rc.err == Code::Ok {
            rc.err = sub_rc.err;
        }
        rc.multi_result.push(sub_rc);
    }

    /// `process_txn_inner` of a create op of a multi read in place, as
    /// part of `run`.
    fn apply_raw_create(
        &mut self,
        header: &TxnHeader,
        raw: &RawCreate<'_>,
        acl: &[Acl],
        run: &mut CreateRun,
    ) -> ProcessTxnResult {
        let mut rc = new_result(header);
        rc.path = raw.path.to_string();
        let owner = if raw.ephemeral { header.client_id } else { 0 };
        let args = (raw.parent_c_version, header.zxid, header.time);
        let created = self.create_node_in(raw.path, raw.data, acl, owner, args, Some(run));
        if created.is_err() {
            // A failed create may move the parent forward by path (see
            // finish_txn): its digest must be in the sum first.
            self.end_create_run(run);
        }
        let outcome = created.map(|stat| {
            if header.r#type == op_code::CREATE2 {
                rc.stat = Some(stat);
            }
        });
        self.finish_txn(header, outcome, Some(raw.parent_c_version), true, &mut rc);
        rc
    }

    /// Ends a run of creates: the parent's digest goes back into the
    /// tree digest, and the remembered ACL id is forgotten (what comes
    /// next may release it).
    fn end_create_run(&mut self, run: &mut CreateRun) {
        run.acl_id = None;
        if let Some((slot, path)) = run.parent.take() {
            let node = self.nodes.node(slot);
            self.digest.add(DigestCalculator::node_digest(
                &path,
                &node.stat,
                node.data(),
            ));
        }
    }

    /// Java's `createNode`. Returns the new node's stat.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn create_node(
        &mut self,
        path: &str,
        data: Option<&[u8]>,
        acl: &[Acl],
        owner: i64,
        parent_cversion: i32,
        zxid: i64,
        time: i64,
    ) -> Result<Stat, Code> {
        self.create_node_in(path, data, acl, owner, (parent_cversion, zxid, time), None)
    }

    /// `create_node`, as part of a run of creates when `run` is given.
    /// `(parent_cversion, zxid, time)` come from the txn.
    fn create_node_in(
        &mut self,
        path: &str,
        data: Option<&[u8]>,
        acl: &[Acl],
        owner: i64,
        (parent_cversion, zxid, time): (i32, i64, i64),
        mut run: Option<&mut CreateRun>,
    ) -> Result<Stat, Code> {
        if !path.starts_with('/') {
            warn!(
                "Ignoring create of {:?} at 0x{:x}: not an absolute path",
                path, zxid
            );
            return Err(Code::BadArguments);
        }
        // "/a/b" -> ("/a", "b"); a top-level node's parent is "" (the root).
        let slash = path.bytes().rposition(|b| b == b'/').unwrap_or(0);
        let (parent_name, child_name) = (&path[..slash], &path[slash + 1..]);
        let parent_slot = self.nodes.parent_slot(parent_name).ok_or(Code::NoNode)?;
        // Interned first (as Java does), so an existing node re-created by
        // a replayed txn takes the txn's ACL.
        let acl_id = match run.as_deref_mut() {
            Some(CreateRun {
                acl_id: Some(id), ..
            }) => {
                self.acl_cache.add_usage(*id);
                *id
            }
            Some(r) => *r.acl_id.insert(self.acl_cache.convert_acls(acl)),
            None => self.acl_cache.convert_acls(acl),
        };
        if let Some(existing) = self.nodes.child_slot(parent_slot, child_name, path) {
            self.nodes.node_mut(existing).acl = acl_id;
            return Err(Code::NodeExists);
        }
        let parent_acl = self.event_acl(self.nodes.node(parent_slot).acl);
        let bump = |parent: &mut DataNode| {
            let cversion = match parent_cversion {
                -1 => parent.stat.cversion.wrapping_add(1),
                v => v,
            };
            // Only forward: a replayed create must not undo a later one.
            if cversion > parent.stat.cversion {
                parent.stat.cversion = cversion;
                parent.stat.pzxid = zxid;
            }
        };
        match run {
            Some(run) => {
                if run.parent.as_ref().map(|(slot, _)| *slot) != Some(parent_slot) {
                    self.end_create_run_parent(run);
                    let parent = self.nodes.node(parent_slot);
                    self.digest.remove(DigestCalculator::node_digest(
                        parent_name,
                        &parent.stat,
                        parent.data(),
                    ));
                    run.parent = Some((parent_slot, parent_name.to_string()));
                }
                bump(self.nodes.node_mut(parent_slot));
            }
            None => self.change_slot(parent_slot, parent_name, bump),
        }
        self.node_data_size += node_size(path, data);
        let node = DataNode::new(data.map(Into::into), acl_id, create_stat(zxid, time, owner));
        let stat = node.copy_stat(self.extended_types);
        self.digest
            .add(DigestCalculator::node_digest(path, &node.stat, node.data()));
        self.nodes.insert_child(parent_slot, child_name, node);
        self.index_owner(path, owner);
        self.quota_after_create(
            parent_name,
            child_name,
            path,
            data.map_or(0, |d| d.len()) as i64,
        );
        let acl = self.event_filter.is_some().then_some(acl);
        self.data_watches
            .trigger_watch(path, event_type::NODE_CREATED, zxid, acl, None);
        let parent_acl = parent_acl.as_deref();
        let client_parent = if parent_name.is_empty() {
            "/"
        } else {
            parent_name
        };
        self.child_watches.trigger_watch(
            client_parent,
            event_type::NODE_CHILDREN_CHANGED,
            zxid,
            parent_acl,
            None,
        );
        Ok(stat)
    }

    /// Puts the digest of a run's parent back into the sum (the run goes
    /// on under another parent).
    fn end_create_run_parent(&mut self, run: &mut CreateRun) {
        let acl_id = run.acl_id;
        self.end_create_run(run);
        run.acl_id = acl_id;
    }

    /// Java's `deleteNode`. The parent's pzxid moves forward even when the
    /// node is already gone (fuzzy snapshot replay).
    pub(super) fn delete_node(&mut self, path: &str, zxid: i64) -> Result<(), Code> {
        if path == "/" || !path.starts_with('/') {
            warn!(
                "Ignoring delete of {:?} at 0x{:x}: not a deletable path",
                path, zxid
            );
            return Err(Code::BadArguments);
        }
        let (parent_name, child_name) = (parent_path(path), last_component(path));
        self.change_node(parent_name, |parent| {
            if zxid > parent.stat.pzxid {
                parent.stat.pzxid = zxid;
            }
        })
        .ok_or(Code::NoNode)?;
        let node = self.remove_node(path).ok_or(Code::NoNode)?;
        if node.num_children() > 0 {
            // Prep never lets this happen; Java would leave the children
            // unreachable in its map. Their slots are freed with the node.
            warn!(
                "Deleted {} at 0x{:x} while it had {} children",
                path,
                zxid,
                node.num_children()
            );
        }
        let acl = self.event_acl(node.acl);
        let parent_acl = self.event_acl_of(parent_name);
        self.acl_cache.remove_usage(node.acl);
        self.node_data_size -= node_size(path, node.data());
        self.unindex_owner(path, node.stat.ephemeral_owner);
        if parent_name.starts_with(PROC_ZOOKEEPER) && child_name == LIMIT_NODE {
            match quota::trim_quota_path(parent_name) {
                Some(q) if !q.is_empty() => self.quota_trie.delete_path(q),
                _ => warn!("Ignoring quota limit node outside a quota path: {}", path),
            }
        }
        if let Some(prefix) = self.quota_prefix(path) {
            self.update_quota_stat(&prefix, -(node.data_len() as i64), -1);
        }
        let (acl, parent_acl) = (acl.as_deref(), parent_acl.as_deref());
        let told = self
            .data_watches
            .trigger_watch(path, event_type::NODE_DELETED, zxid, acl, None);
        self.child_watches
            .trigger_watch(path, event_type::NODE_DELETED, zxid, acl, Some(&told));
        self.child_watches.trigger_watch(
            client_parent_path(path),
            event_type::NODE_CHILDREN_CHANGED,
            zxid,
            parent_acl,
            None,
        );
        Ok(())
    }

    /// Java's `setData`: `version` is the new data version.
    pub(super) fn set_data(
        &mut self,
        path: &str,
        data: Option<&[u8]>,
        version: i32,
        zxid: i64,
        time: i64,
    ) -> Result<Stat, Code> {
        let extended = self.extended_types;
        let (old_len, old_size, stat) = self
            .change_node(path, |n| {
                let old = (n.data_len() as i64, node_size(path, n.data()));
                n.data = data.map(Into::into);
                n.stat.mtime = time;
                n.stat.mzxid = zxid;
                n.stat.version = version;
                (old.0, old.1, n.copy_stat(extended))
            })
            .ok_or(Code::NoNode)?;
        let new_len = data.map_or(0, |d| d.len()) as i64;
        if let Some(prefix) = self.quota_prefix(path) {
            self.update_quota_stat(&prefix, new_len - old_len, 0);
        }
        self.node_data_size += node_size(path, data) - old_size;
        let acl = self.event_acl_of(path);
        self.data_watches.trigger_watch(
            path,
            event_type::NODE_DATA_CHANGED,
            zxid,
            acl.as_deref(),
            None,
        );
        Ok(stat)
    }

    /// Java's `setACL`: `version` is the new ACL version.
    pub(super) fn set_acl(&mut self, path: &str, acl: &[Acl], version: i32) -> Result<Stat, Code> {
        let old_id = self.get_node(path).ok_or(Code::NoNode)?.acl;
        // Released before interning the new list, as in Java.
        self.acl_cache.remove_usage(old_id);
        let new_id = self.acl_cache.convert_acls(acl);
        let extended = self.extended_types;
        self.change_node(path, |n| {
            n.stat.aversion = version;
            n.acl = new_id;
            n.copy_stat(extended)
        })
        .ok_or(Code::NoNode)
    }

    /// Java's `setCversionPzxid` (-1 means "one more than now").
    pub fn set_cversion_pzxid(
        &mut self,
        path: &str,
        new_cversion: i32,
        zxid: i64,
    ) -> Result<(), Code> {
        let path = path.strip_suffix('/').unwrap_or(path);
        let current = self.get_node(path).ok_or(Code::NoNode)?.stat.cversion;
        let new_cversion = if new_cversion == -1 {
            current.wrapping_add(1)
        } else {
            new_cversion
        };
        if new_cversion > current {
            self.change_node(path, |n| {
                n.stat.cversion = new_cversion;
                n.stat.pzxid = zxid;
            });
        }
        Ok(())
    }

    /// Java's `killSession(session, zxid)` without a txn: removes the
    /// ephemerals of a session that no longer exists (found when loading,
    /// see `ZkDatabase::kill_dead_sessions`), with `zxid` as the parents'
    /// pzxid.
    pub fn kill_dead_session(&mut self, session: i64, zxid: i64) {
        self.kill_session(session, zxid, None);
    }

    /// closeSession: deletes the paths the txn lists, then any ephemeral
    /// of the session the txn did not list (old logs list none).
    fn kill_session(&mut self, session: i64, zxid: i64, listed: Option<&[String]>) {
        let local = self.ephemerals.remove(&session);
        if let Some(paths) = listed {
            self.delete_ephemerals(session, zxid, paths.iter().map(String::as_str));
        }
        let Some(mut local) = local else { return };
        if let Some(paths) = listed {
            for p in paths {
                local.remove(p.as_str());
            }
            if !local.is_empty() {
                let extra: Vec<&str> = local.keys().map(|k| &**k).collect();
                warn!(
                    "Unexpected extra paths under session 0x{:x} which are not in txn 0x{:x}: {:?}",
                    session, zxid, extra
                );
            }
        }
        let rest: Vec<Box<str>> = local.keys().cloned().collect();
        self.delete_ephemerals(session, zxid, rest.iter().map(|p| &**p));
    }

    fn delete_ephemerals<'a>(
        &mut self,
        session: i64,
        zxid: i64,
        paths: impl Iterator<Item = &'a str>,
    ) {
        for path in paths {
            match self.delete_node(path, zxid) {
                Ok(()) => debug!("Deleting ephemeral node {} for session 0x{:x}", path, session),
                Err(_) => warn!(
                    "Ignoring NoNodeException for path {} while removing ephemeral for dead session 0x{:x}",
                    path, session
                ),
            }
        }
    }

    /// Files a new node under the container set, TTL set or its session.
    pub(super) fn index_owner(&mut self, path: &str, owner: i64) {
        match EphemeralType::get_with(owner, self.extended_types) {
            Ok(EphemeralType::Container) => {
                self.containers.insert(path.to_string());
            }
            Ok(EphemeralType::Ttl) => {
                self.ttls.insert(path.to_string());
            }
            Ok(EphemeralType::Void) => {}
            Ok(EphemeralType::Normal) | Err(_) => {
                self.ephemerals
                    .entry(owner)
                    .or_default()
                    .insert(path.into(), ());
            }
        }
    }

    /// Undoes `index_owner` for a deleted node.
    fn unindex_owner(&mut self, path: &str, owner: i64) {
        match EphemeralType::get_with(owner, self.extended_types) {
            Ok(EphemeralType::Container) => {
                self.containers.remove(path);
            }
            Ok(EphemeralType::Ttl) => {
                self.ttls.remove(path);
            }
            Ok(EphemeralType::Void) => {}
            Ok(EphemeralType::Normal) | Err(_) => {
                if let Some(set) = self.ephemerals.get_mut(&owner) {
                    set.remove(path);
                }
            }
        }
    }
}
