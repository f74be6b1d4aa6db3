//! The read half of the Final stage: every opcode that reads the tree or
//! the watch tables, and the replies of the xid -8 and whoAmI requests.
//!
//! A read runs under the tree's read lock, with the READ ACL checks of
//! 3.9.5 (exists included, ZOOKEEPER-2590), on whichever thread answers
//! it: the connection's own thread when its session has nothing in the
//! pipeline, else the thread that runs Final (the Sync thread on a
//! standalone server), after the session's earlier requests.
//!
//! Mirrors: the read cases of `FinalRequestProcessor.processRequest`,
//! `handleGetDataRequest`, `handleGetChildrenRequest`.

use std::sync::Arc;

use super::final_request_processor::Outcome;
use super::request::Request;
use super::server_cnxn::ServerCnxn;
use super::server_state::ServerState;
use super::watch::{Watcher, WatcherMode};
use crate::jute::data::{Acl, Id};
use crate::jute::multi::{MultiOp, MultiOperationRecord, MultiResponse, OpResult};
use crate::jute::proto::{
    AddWatchRequest, CheckWatchesRequest, ErrorResponse, ExistsRequest, ExistsResponse,
    GetAclRequest, GetAclResponse, GetAllChildrenNumberRequest, GetAllChildrenNumberResponse,
    GetChildren2Request, GetChildren2Response, GetChildrenRequest, GetChildrenResponse,
    GetDataRequest, GetDataResponse, GetEphemeralsRequest, GetEphemeralsResponse,
    RemoveWatchesRequest, SetWatches, SetWatches2, SyncRequest, SyncResponse, WhoAmIResponse,
};
use crate::jute::{self, Record};
use crate::keeper_exception::Code;
use crate::zoo_defs::{add_watch_mode, op_code, perms, watcher_type};

/// Decodes a request body; a bad body is MARSHALLINGERROR.
fn decode<R: Record>(payload: &[u8]) -> Result<R, Code> {
    jute::from_bytes(payload).map_err(|_| Code::MarshallingError)
}

/// The watcher to register when the request asked for one.
fn watcher_if(watch: bool, cnxn: &Arc<dyn ServerCnxn>) -> Option<Arc<dyn Watcher>> {
    watch.then(|| Arc::clone(cnxn) as Arc<dyn Watcher>)
}

/// The ACL of an existing node; NONODE if it does not exist.
fn node_acl(state: &ServerState, path: &str) -> Result<Vec<Acl>, Code> {
    let tree = state.zkdb.tree.read();
    let node = tree.get_node(path).ok_or(Code::NoNode)?;
    Ok(tree.get_acl(node))
}

/// NONODE, or NOAUTH without `perm` on the node.
fn check_node(state: &ServerState, path: &str, perm: i32, ids: &[Id]) -> Result<(), Code> {
    state.check_acl(&node_acl(state, path)?, perm, ids)
}

/// The reply of a read-type request.
pub(crate) fn read_reply(
    state: &ServerState,
    request: &Request,
    cnxn: &Arc<dyn ServerCnxn>,
) -> Result<Outcome, Code> {
    let payload = &request.payload;
    let ids = &request.auth_info;
    Ok(match request.op_type {
        op_code::SYNC => {
            let r: SyncRequest = decode(payload)?;
            Outcome::of(Code::Ok, &SyncResponse { path: r.path })
        }
        op_code::EXISTS => {
            let r: ExistsRequest = decode(payload)?;
            if r.path.contains('\0') {
                return Err(Code::BadArguments);
            }
            if let Ok(acl) = node_acl(state, &r.path) {
                state.check_acl(&acl, perms::READ, ids)?;
            }
            let stat = state
                .zkdb
                .tree
                .read()
                .stat_node(&r.path, watcher_if(r.watch, cnxn))?;
            Outcome::of(Code::Ok, &ExistsResponse { stat })
        }
        op_code::GET_DATA => {
            let r: GetDataRequest = decode(payload)?;
            Outcome::of(Code::Ok, &get_data(state, &r, ids, cnxn)?)
        }
        op_code::GET_CHILDREN => {
            let r: GetChildrenRequest = decode(payload)?;
            Outcome::of(Code::Ok, &get_children(state, &r, ids, cnxn)?)
        }
        op_code::GET_CHILDREN2 => {
            let r: GetChildren2Request = decode(payload)?;
            check_node(state, &r.path, perms::READ, ids)?;
            let (children, stat) = state
                .zkdb
                .tree
                .read()
                .get_children(&r.path, watcher_if(r.watch, cnxn))?;
            Outcome::of(Code::Ok, &GetChildren2Response { children, stat })
        }
        op_code::GET_ALL_CHILDREN_NUMBER => {
            let r: GetAllChildrenNumberRequest = decode(payload)?;
            check_node(state, &r.path, perms::READ, ids)?;
            let total_number = state.zkdb.tree.read().get_all_children_number(&r.path)?;
            Outcome::of(Code::Ok, &GetAllChildrenNumberResponse { total_number })
        }
        op_code::GET_ACL => {
            let r: GetAclRequest = decode(payload)?;
            Outcome::of(Code::Ok, &get_acl(state, &r.path, ids)?)
        }
        op_code::SET_WATCHES => {
            let r: SetWatches = decode(payload)?;
            let all = SetWatches2 {
                relative_zxid: r.relative_zxid,
                data_watches: r.data_watches,
                exist_watches: r.exist_watches,
                child_watches: r.child_watches,
                persistent_watches: Vec::new(),
                persistent_recursive_watches: Vec::new(),
            };
            state
                .zkdb
                .tree
                .read()
                .set_watches(&all, Arc::clone(cnxn) as Arc<dyn Watcher>);
            Outcome::ok(None)
        }
        op_code::SET_WATCHES2 => {
            let r: SetWatches2 = decode(payload)?;
            state
                .zkdb
                .tree
                .read()
                .set_watches(&r, Arc::clone(cnxn) as Arc<dyn Watcher>);
            Outcome::ok(None)
        }
        op_code::ADD_WATCH => {
            let r: AddWatchRequest = decode(payload)?;
            let mode = match r.mode {
                add_watch_mode::PERSISTENT => WatcherMode::Persistent,
                add_watch_mode::PERSISTENT_RECURSIVE => WatcherMode::PersistentRecursive,
                _ => return Err(Code::MarshallingError),
            };
            state
                .zkdb
                .tree
                .read()
                .add_watch(&r.path, Arc::clone(cnxn) as Arc<dyn Watcher>, mode);
            Outcome::of(Code::Ok, &ErrorResponse { err: 0 })
        }
        op_code::CHECK_WATCHES => {
            let r: CheckWatchesRequest = decode(payload)?;
            watch_query(state, &r.path, r.r#type, cnxn, false)?
        }
        op_code::REMOVE_WATCHES => {
            let r: RemoveWatchesRequest = decode(payload)?;
            watch_query(state, &r.path, r.r#type, cnxn, true)?
        }
        op_code::WHO_AM_I => Outcome::of(
            Code::Ok,
            &WhoAmIResponse {
                client_info: state.auth.client_infos(ids),
            },
        ),
        op_code::GET_EPHEMERALS => {
            let r: GetEphemeralsRequest = decode(payload)?;
            let all = state.zkdb.tree.read().get_ephemerals(request.session_id);
            let ephemerals = filter_prefix(all, &r.prefix_path);
            Outcome::of(Code::Ok, &GetEphemeralsResponse { ephemerals })
        }
        op_code::MULTI_READ => multi_read(state, request, cnxn)?,
        _ => Outcome::ok(None),
    })
}

fn get_data(
    state: &ServerState,
    r: &GetDataRequest,
    ids: &[Id],
    cnxn: &Arc<dyn ServerCnxn>,
) -> Result<GetDataResponse, Code> {
    check_node(state, &r.path, perms::READ, ids)?;
    let (data, stat) = state
        .zkdb
        .tree
        .read()
        .get_data(&r.path, watcher_if(r.watch, cnxn))?;
    Ok(GetDataResponse { data, stat })
}

fn get_children(
    state: &ServerState,
    r: &GetChildrenRequest,
    ids: &[Id],
    cnxn: &Arc<dyn ServerCnxn>,
) -> Result<GetChildrenResponse, Code> {
    check_node(state, &r.path, perms::READ, ids)?;
    let (children, _) = state
        .zkdb
        .tree
        .read()
        .get_children(&r.path, watcher_if(r.watch, cnxn))?;
    Ok(GetChildrenResponse { children })
}

/// getACL: READ or ADMIN; without ADMIN, digest ids are shown as
/// `user:x` so the password hash does not leak.
fn get_acl(state: &ServerState, path: &str, ids: &[Id]) -> Result<GetAclResponse, Code> {
    let acl = node_acl(state, path)?;
    state.check_acl(&acl, perms::READ | perms::ADMIN, ids)?;
    let stat = state.zkdb.tree.read().stat_node(path, None)?;
    if state.check_acl(&acl, perms::ADMIN, ids).is_ok() {
        return Ok(GetAclResponse { acl, stat });
    }
    let masked = acl.into_iter().map(mask_digest).collect();
    Ok(GetAclResponse { acl: masked, stat })
}

/// `digest:user:hash` -> `digest:user:x` (Java: `replaceAll(":.*", ":x")`).
pub fn mask_digest(mut a: Acl) -> Acl {
    if a.id.scheme == "digest" {
        if let Some(i) = a.id.id.find(':') {
            a.id.id.truncate(i);
            a.id.id.push_str(":x");
        }
    }
    a
}

/// getEphemerals' prefix filter: blank or "/" means all.
pub fn filter_prefix(paths: Vec<String>, prefix: &str) -> Vec<String> {
    let p = prefix.trim();
    if p.is_empty() || p == "/" {
        return paths;
    }
    paths
        .into_iter()
        .filter(|e| e.starts_with(prefix))
        .collect()
}

/// checkWatches / removeWatches; NOWATCHER when there is none.
fn watch_query(
    state: &ServerState,
    path: &str,
    kind: i32,
    cnxn: &Arc<dyn ServerCnxn>,
    remove: bool,
) -> Result<Outcome, Code> {
    if !(watcher_type::CHILDREN..=watcher_type::PERSISTENT_RECURSIVE).contains(&kind) {
        return Err(Code::MarshallingError);
    }
    let watcher: &dyn Watcher = &**cnxn;
    if state
        .zkdb
        .tree
        .read()
        .contains_or_remove_watch(path, kind, watcher, remove)
    {
        Ok(Outcome::ok(None))
    } else {
        Err(Code::NoWatcher)
    }
}

/// multiRead: each op on its own; failures are per-op results.
fn multi_read(
    state: &ServerState,
    request: &Request,
    cnxn: &Arc<dyn ServerCnxn>,
) -> Result<Outcome, Code> {
    let record: MultiOperationRecord = decode(&request.payload)?;
    let ids = &request.auth_info;
    let mut results = Vec::with_capacity(record.ops.len());
    for op in &record.ops {
        let result = match op {
            MultiOp::GetChildren(r) => {
                get_children(state, r, ids, cnxn).map(|resp| OpResult::GetChildren {
                    children: resp.children,
                })
            }
            MultiOp::GetData(r) => get_data(state, r, ids, cnxn).map(|resp| OpResult::GetData {
                data: resp.data,
                stat: resp.stat,
            }),
            _ => return Err(Code::MarshallingError),
        };
        results.push(result.unwrap_or_else(|err| OpResult::Error { err: err.as_i32() }));
    }
    Ok(Outcome::of(Code::Ok, &MultiResponse { results }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digest_ids_are_masked_without_admin() {
        let a = Acl {
            perms: 31,
            id: Id {
                scheme: "digest".into(),
                id: "bob:abc:def".into(),
            },
        };
        assert_eq!(mask_digest(a).id.id, "bob:x");
        let ip = Acl {
            perms: 1,
            id: Id {
                scheme: "ip".into(),
                id: "1.2.3.4".into(),
            },
        };
        assert_eq!(mask_digest(ip.clone()), ip);
    }

    #[test]
    fn ephemerals_prefix_filter() {
        let all = vec!["/a/1".to_string(), "/b/2".to_string()];
        assert_eq!(filter_prefix(all.clone(), " / ").len(), 2);
        assert_eq!(filter_prefix(all.clone(), ""), all);
        assert_eq!(filter_prefix(all, "/a"), vec!["/a/1".to_string()]);
    }
}
