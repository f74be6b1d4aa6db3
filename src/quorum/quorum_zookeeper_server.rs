//! What the leader's and the learners' servers share about local sessions
//! (`localSessionsEnabled`): a local session that creates its first
//! ephemeral node must become global first, since the ensemble has to
//! remove that node when the session ends. The request is preceded by a
//! createSession for the session (the "upgrade"); with
//! `localSessionsUpgradingEnabled` off the create is refused instead,
//! with EPHEMERALONLOCALSESSION (-120).
//!
//! Threads: called on the connection thread submitting the request, before
//! it enters the role's chain, so the upgrade is queued ahead of it.
//!
//! Mirrors: `org.apache.zookeeper.server.quorum.QuorumZooKeeperServer`
//! (`checkUpgradeSession`, `makeUpgradeRequest`), as called by
//! `LeaderRequestProcessor` and `FollowerRequestProcessor`.

use crate::jute::multi::{MultiOp, MultiOperationRecord};
use crate::jute::proto::CreateRequest;
use crate::jute::{self};
use crate::keeper_exception::Code;
use crate::server::create_mode::CreateMode;
use crate::server::request::{Origin, Request};
use crate::server::session_tracker::SessionTracker;
use crate::zoo_defs::op_code;

/// Whether `request` creates an ephemeral node (create, create2, or a
/// multi holding one). Undecodable bodies count as not: Prep refuses them.
pub fn creates_ephemeral(request: &Request) -> bool {
    let ephemeral = |flags: i32| CreateMode::from_flag(flags).is_ok_and(CreateMode::is_ephemeral);
    match request.op_type {
        op_code::CREATE | op_code::CREATE2 => {
            jute::from_bytes::<CreateRequest>(&request.payload).is_ok_and(|r| ephemeral(r.flags))
        }
        op_code::MULTI => jute::from_bytes::<MultiOperationRecord>(&request.payload).is_ok_and(|m| {
            m.ops.iter().any(|op| {
                matches!(op, MultiOp::Create(code, r) if (*code == op_code::CREATE || *code == op_code::CREATE2) && ephemeral(r.flags))
            })
        }),
        _ => false,
    }
}

/// Before `request` enters the chain: if it is a local session's
/// ephemeral create, upgrade the session and return the createSession to
/// submit first; with upgrading off, mark the request failed
/// (EPHEMERALONLOCALSESSION, reported when its answer comes).
pub fn check_upgrade_session(
    sessions: &SessionTracker,
    upgrading: bool,
    request: &mut Request,
) -> Option<Request> {
    if !matches!(
        request.op_type,
        op_code::CREATE | op_code::CREATE2 | op_code::MULTI
    ) || !sessions.is_local_session(request.session_id)
        || !creates_ephemeral(request)
    {
        return None;
    }
    if !upgrading {
        request.err = Code::EphemeralOnLocalSession;
        return None;
    }
    let timeout = sessions.upgrade_session(request.session_id)?;
    let payload = timeout.to_be_bytes().to_vec();
    Some(
        Request::new(
            None,
            request.session_id,
            0,
            op_code::CREATE_SESSION,
            payload,
            Vec::new(),
        )
        .from(Origin::Server),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::jute::data::Acl;
    use std::collections::HashMap;

    fn create(flags: i32) -> Vec<u8> {
        jute::to_bytes(&CreateRequest {
            path: "/e".into(),
            data: Some(vec![]),
            acl: Vec::<Acl>::new(),
            flags,
        })
    }

    #[test]
    fn an_ephemeral_create_of_a_local_session_upgrades_it_once() {
        let t = SessionTracker::new(1, 2000, &HashMap::new()).with_local_sessions(true, true);
        let id = t.create_session(6000);
        let mut persistent = Request::new(None, id, 1, op_code::CREATE, create(0), vec![]);
        assert!(check_upgrade_session(&t, true, &mut persistent).is_none());
        assert!(t.is_local_session(id));
        let mut ephemeral = Request::new(None, id, 2, op_code::CREATE2, create(1), vec![]);
        let upgrade = check_upgrade_session(&t, true, &mut ephemeral).expect("an upgrade");
        assert_eq!(
            (upgrade.session_id, upgrade.cxid, upgrade.op_type),
            (id, 0, op_code::CREATE_SESSION)
        );
        assert_eq!(upgrade.payload, 6000i32.to_be_bytes().to_vec());
        assert!(!upgrade.local_session && ephemeral.err == Code::Ok);
        let mut again = Request::new(None, id, 3, op_code::CREATE, create(1), vec![]);
        assert!(
            check_upgrade_session(&t, true, &mut again).is_none(),
            "already global"
        );
    }

    #[test]
    fn without_upgrading_the_ephemeral_create_fails() {
        let t = SessionTracker::new(1, 2000, &HashMap::new()).with_local_sessions(true, true);
        let id = t.create_session(6000);
        let mut ephemeral = Request::new(None, id, 2, op_code::CREATE, create(3), vec![]);
        assert!(check_upgrade_session(&t, false, &mut ephemeral).is_none());
        assert_eq!(ephemeral.err, Code::EphemeralOnLocalSession);
        assert!(t.is_local_session(id));
    }
}
