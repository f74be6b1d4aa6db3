//! Reconfig on the leader: checking a `reconfig` request and building the
//! next config (incremental `joiningServers`/`leavingServers`, or bulk
//! `newMembers`), whether the connected and synced learners form a quorum
//! of it, and, when the reconfig commits, the designated leader and the
//! COMMITANDACTIVATE / INFORMANDACTIVATE packets.
//!
//! The decisions ([`next_config`], [`designated_leader`]) are pure; the
//! [`LeaderReconfig`] proposer runs on a connection thread under Prep's
//! lock and reads the peer's views and the leader's learners.
//!
//! Mirrors: `PrepRequestProcessor` (`case reconfig`),
//! `Leader.isQuorumSynced`, `Leader.getDesignatedLeader`,
//! `Leader.commitAndActivate`, `Leader.informAndActivate`.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Weak};

use log::{info, warn};

use super::flexible::quorum_maj::QuorumMaj;
use super::flexible::{Members, QuorumVerifier};
use super::leader::Leader;
use super::quorum_peer_reconfig::config_from_string;
use super::quorum_server::QuorumServer;
use crate::jute::proto::ReconfigRequest;
use crate::keeper_exception::Code;
use crate::server::prep_reconfig::ReconfigProposer;

/// The next config a request asks for (version not yet set), from the
/// last-seen config; BADARGUMENTS when the request is malformed or leaves
/// too few voters (two with `standaloneEnabled`, else one).
pub fn next_config(
    last_seen: &QuorumVerifier,
    request: &ReconfigRequest,
    standalone_enabled: bool,
    multi_address: bool,
) -> Result<QuorumVerifier, Code> {
    let given = |s: &str| (!s.is_empty()).then(|| s.to_string());
    let next = match given(&request.new_members) {
        Some(members) => {
            info!("Non-incremental reconfig");
            let text = members.replace(',', "\n");
            config_from_string(&text, multi_address).map_err(|e| {
                warn!("Reconfig failed: {}", e);
                Code::BadArguments
            })?
        }
        None => {
            info!("Incremental reconfig");
            let QuorumVerifier::Majority(maj) = last_seen else {
                warn!("Incremental reconfiguration requested but last configuration seen has a non-majority quorum system");
                return Err(Code::BadArguments);
            };
            let mut servers: BTreeMap<i64, QuorumServer> = maj.members.all.clone();
            if let Some(leaving) = given(&request.leaving_servers) {
                for sid in leaving.split(',') {
                    // Java's parse throws outside its checks: MARSHALLINGERROR.
                    let sid: i64 = sid.trim().parse().map_err(|_| Code::MarshallingError)?;
                    servers.remove(&sid);
                }
            }
            if let Some(joining) = given(&request.joining_servers) {
                for joiner in joining.split(',') {
                    let server = parse_joiner(joiner, multi_address)?;
                    let mine = checked_addresses(&server);
                    for other in servers.values().filter(|o| o.id != server.id) {
                        let theirs = checked_addresses(other);
                        if let Some(a) = mine.iter().find(|a| theirs.contains(a)) {
                            warn!(
                                "Reconfiguration failed: {} of server.{} conflicts {} of server.{}",
                                a, server.id, a, other.id
                            );
                            return Err(Code::BadArguments);
                        }
                    }
                    servers.insert(server.id, server);
                }
            }
            QuorumVerifier::Majority(QuorumMaj {
                members: Members {
                    all: servers,
                    version: 0,
                },
                oracle: maj.oracle.clone(),
            })
        }
    };
    let voters = next.voters().len();
    if standalone_enabled && voters < 2 {
        warn!("Reconfig failed - new configuration must include at least 2 followers");
        return Err(Code::BadArguments);
    }
    if voters < 1 {
        warn!("Reconfig failed - new configuration must include at least 1 follower");
        return Err(Code::BadArguments);
    }
    Ok(next)
}

/// The addresses of a server that must not be another member's too
/// (Java's `checkAddressDuplicate`): quorum, client and election
/// addresses, resolved, without wildcard and loopback addresses (several
/// servers of one machine share those) nor names that do not resolve.
fn checked_addresses(server: &QuorumServer) -> Vec<std::net::SocketAddr> {
    use std::net::ToSocketAddrs;
    let mut pairs: Vec<(&str, u16)> = server
        .addresses
        .iter()
        .map(|a| (a.host.as_str(), a.quorum_port))
        .collect();
    pairs.extend(server.client_addr.iter().map(|c| (c.host.as_str(), c.port)));
    pairs.extend(
        server
            .addresses
            .iter()
            .map(|a| (a.host.as_str(), a.election_port)),
    );
    pairs
        .into_iter()
        .filter_map(|hp| hp.to_socket_addrs().ok()?.next())
        .filter(|a| !a.ip().is_loopback() && !a.ip().is_unspecified())
        .collect()
}

/// `server.N=host:quorum:election[:role];[host:]client`: all three ports
/// are required.
fn parse_joiner(joiner: &str, multi_address: bool) -> Result<QuorumServer, Code> {
    let parts: Vec<&str> = joiner.split('=').collect();
    if parts.len() != 2 {
        warn!("Wrong format of server string");
        return Err(Code::BadArguments);
    }
    let sid: i64 = parts[0]
        .rsplit('.')
        .next()
        .and_then(|s| s.trim().parse().ok())
        .ok_or(Code::MarshallingError)?;
    let server = QuorumServer::parse(sid, parts[1].trim(), multi_address).map_err(|e| {
        warn!("Reconfiguration failed: {}", e.0);
        Code::BadArguments
    })?;
    if server.client_addr.is_none() {
        warn!("Wrong format of server string - each server should have 3 ports specified");
        return Err(Code::BadArguments);
    }
    Ok(server)
}

/// `isQuorumSynced`: me (if I vote in `qv`) and the synced followers that
/// vote in `qv` form a quorum of it.
pub fn is_quorum_synced(qv: &QuorumVerifier, my_id: i64, synced_followers: &[i64]) -> bool {
    let mut ids: BTreeSet<i64> = synced_followers
        .iter()
        .copied()
        .filter(|s| qv.is_voter(*s))
        .collect();
    if qv.is_voter(my_id) {
        ids.insert(my_id);
    }
    qv.has_quorum(&ids)
}

/// Who leads once `new` is active (Java's `getDesignatedLeader`): me if I
/// still vote at the same quorum address; else, among the voters of `new`
/// that acked the reconfig, the one that also acked the most of the
/// proposals made after it (`later`: each proposal's ack sets in zxid
/// order), so the fewest of them are lost with the change of leader; ties
/// go to the lowest id (the first of Java's hash set for small ids).
pub fn designated_leader(
    new: &QuorumVerifier,
    old: &QuorumVerifier,
    my_id: i64,
    new_acks: &BTreeSet<i64>,
    later: &[Vec<&BTreeSet<i64>>],
) -> i64 {
    let addrs = |q: &QuorumVerifier| {
        q.all_members()
            .get(&my_id)
            .filter(|s| s.is_participant())
            .map(|s| s.quorum_addrs())
    };
    if addrs(new).is_some() && addrs(new) == old.all_members().get(&my_id).map(|s| s.quorum_addrs())
    {
        return my_id;
    }
    let mut candidates: BTreeSet<i64> = new_acks
        .iter()
        .copied()
        .filter(|s| *s != my_id && new.is_voter(*s))
        .collect();
    let Some(mut best) = candidates.first().copied() else {
        return my_id;
    };
    for acks in later.iter().flatten() {
        candidates.retain(|s| acks.contains(s));
        match candidates.first() {
            None => return best,
            Some(first) => best = *first,
        }
        if candidates.len() == 1 {
            return best;
        }
    }
    best
}

/// COMMITANDACTIVATE's data: the designated leader.
pub fn commit_and_activate_data(designated: i64) -> Vec<u8> {
    designated.to_be_bytes().to_vec()
}

/// INFORMANDACTIVATE's data: the designated leader, then the proposal.
pub fn inform_and_activate_data(designated: i64, proposal: &[u8]) -> Vec<u8> {
    let mut out = designated.to_be_bytes().to_vec();
    out.extend_from_slice(proposal);
    out
}

/// The leader's reconfig proposer (installed in its server's state).
pub struct LeaderReconfig {
    /// Weak: the server must not keep a finished role alive.
    pub leader: Weak<Leader>,
    /// `standaloneEnabled`.
    pub standalone_enabled: bool,
    /// `multiAddress.enabled`.
    pub multi_address: bool,
}

impl ReconfigProposer for LeaderReconfig {
    fn prepare(&self, request: &ReconfigRequest, zxid: i64) -> Result<String, Code> {
        let leader = self.leader.upgrade().ok_or(Code::ConnectionLoss)?;
        let (committed, last_seen) = {
            let v = leader.views.lock();
            (Arc::clone(&v.committed), Arc::clone(&v.last_seen))
        };
        if last_seen.version() != committed.version() {
            return Err(Code::ReconfigInProgress);
        }
        let cur = request.cur_config_id;
        if cur != -1 && cur != last_seen.version() {
            warn!(
                "Reconfiguration from version {:x} failed -- last seen version is {:x}",
                cur,
                last_seen.version()
            );
            return Err(Code::BadVersion);
        }
        let mut next = next_config(
            &last_seen,
            request,
            self.standalone_enabled,
            self.multi_address,
        )?;
        next.members_mut().version = zxid;
        if !is_quorum_synced(&next, leader.my_id, &leader.synced_follower_sids()) {
            warn!("Reconfig failed - there must be a connected and synced quorum in new configuration");
            return Err(Code::NewConfigNoQuorum);
        }
        Ok(next.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const THREE: &str = "server.1=127.0.0.1:2001:3001:participant;127.0.0.1:2181\n\
                         server.2=127.0.0.1:2002:3002:participant;127.0.0.1:2182\n\
                         server.3=127.0.0.1:2003:3003:participant;127.0.0.1:2183\n\
                         version=100000000";

    fn qv(t: &str) -> QuorumVerifier {
        config_from_string(t, false).unwrap()
    }

    fn req(joining: &str, leaving: &str, members: &str) -> ReconfigRequest {
        ReconfigRequest {
            joining_servers: joining.into(),
            leaving_servers: leaving.into(),
            new_members: members.into(),
            cur_config_id: -1,
        }
    }

    #[test]
    fn incremental_adds_and_removes() {
        let last = qv(THREE);
        let next = next_config(
            &last,
            &req("server.4=127.0.0.1:2004:3004:observer;2184", "2", ""),
            true,
            false,
        )
        .unwrap();
        assert_eq!(
            next.all_members().keys().copied().collect::<Vec<_>>(),
            vec![1, 3, 4]
        );
        assert!(!next.is_voter(4));
        assert_eq!(next.voters().len(), 2);
    }

    #[test]
    fn bad_arguments() {
        let last = qv(THREE);
        for r in [
            req("server.4=127.0.0.1:2004:3004", "", ""), // no client port
            req("server.4", "", ""),
            req("", "1,2", ""), // one voter left with standaloneEnabled
            req("", "", "server.1=bad"),
        ] {
            assert_eq!(
                next_config(&last, &r, true, false).unwrap_err(),
                Code::BadArguments,
                "{:?}",
                r
            );
        }
        assert!(next_config(&last, &req("", "1,2", ""), false, false).is_ok());
        assert_eq!(
            next_config(&last, &req("", "1,2,3", ""), false, false).unwrap_err(),
            Code::BadArguments
        );
        for r in [req("", "x", ""), req("server.x=127.0.0.1:1:2;3", "", "")] {
            assert_eq!(
                next_config(&last, &r, true, false).unwrap_err(),
                Code::MarshallingError
            );
        }
    }

    #[test]
    fn a_joiner_may_not_take_another_members_address() {
        let base = qv(&THREE.replace(
            "version=100000000",
            "server.4=192.0.2.10:2004:3004;192.0.2.10:2184\nversion=100000000",
        ));
        let clash = req("server.5=192.0.2.10:2184:3005;192.0.2.11:2185", "", "");
        assert_eq!(
            next_config(&base, &clash, true, false).unwrap_err(),
            Code::BadArguments
        );
        // Replacing server 4 itself, or sharing loopback addresses, is fine.
        let same = req("server.4=192.0.2.10:2004:3004;192.0.2.10:2184", "", "");
        assert!(next_config(&base, &same, true, false).is_ok());
        let local = req("server.5=127.0.0.1:2001:3005;127.0.0.1:2185", "", "");
        assert!(next_config(&base, &local, true, false).is_ok());
    }

    #[test]
    fn bulk_replaces_the_members() {
        let next = next_config(
            &qv(THREE),
            &req(
                "",
                "",
                "server.1=127.0.0.1:2001:3001;2181,server.5=127.0.0.1:2005:3005;2185",
            ),
            true,
            false,
        )
        .unwrap();
        assert_eq!(
            next.all_members().keys().copied().collect::<Vec<_>>(),
            vec![1, 5]
        );
    }

    #[test]
    fn quorum_of_the_new_config_must_be_synced() {
        let next = qv(&THREE.replace(
            "version=100000000",
            "server.4=127.0.0.1:2004:3004;2184\nversion=1",
        ));
        assert!(!is_quorum_synced(&next, 1, &[2]));
        assert!(is_quorum_synced(&next, 1, &[2, 4]));
        assert!(!is_quorum_synced(&next, 9, &[2, 3]));
    }

    #[test]
    fn the_leader_stays_unless_it_stops_voting() {
        let old = qv(THREE);
        let acks: BTreeSet<i64> = [1, 2, 3].into();
        let observer1 = qv(&THREE.replace("2001:3001:participant", "2001:3001:observer"));
        assert_eq!(designated_leader(&old, &old, 1, &acks, &[]), 1);
        assert_eq!(designated_leader(&observer1, &old, 1, &acks, &[]), 2);
        assert_eq!(
            inform_and_activate_data(2, &[9]),
            vec![0, 0, 0, 0, 0, 0, 0, 2, 9]
        );
        assert_eq!(commit_and_activate_data(3), 3i64.to_be_bytes().to_vec());
    }

    #[test]
    fn the_designated_leader_acked_the_most_later_proposals() {
        // Five voters; leader 1 leaves; 2, 3 and 4 acked the reconfig.
        let five = qv(&THREE.replace(
            "version=100000000",
            "server.4=127.0.0.1:2004:3004;2184\nserver.5=127.0.0.1:2005:3005;2185\nversion=100000000",
        ));
        let new = qv(&five
            .to_string()
            .lines()
            .filter(|l| !l.starts_with("server.1=") && !l.starts_with("version="))
            .chain(["version=100000009"])
            .collect::<Vec<_>>()
            .join("\n"));
        assert!(!new.is_voter(1) && new.voters().len() == 4);
        let acks: BTreeSet<i64> = [1, 2, 3, 4].into();
        let set = |ids: &[i64]| ids.iter().copied().collect::<BTreeSet<i64>>();
        // No later proposals: the lowest candidate.
        assert_eq!(designated_leader(&new, &five, 1, &acks, &[]), 2);
        // 3 and 4 acked the next proposal (both configs), only 4 the one
        // after: 4 has the most.
        let (a, b) = (set(&[1, 3, 4]), set(&[1, 4]));
        assert_eq!(
            designated_leader(&new, &five, 1, &acks, &[vec![&a, &a], vec![&b, &b]]),
            4
        );
        // Nobody acked the second one: the best so far (3, the lowest of 3 and 4).
        let none = set(&[1]);
        assert_eq!(
            designated_leader(&new, &five, 1, &acks, &[vec![&a, &a], vec![&none, &none]]),
            3
        );
        // A candidate that did not ack the reconfig itself never counts.
        let (c, d) = (set(&[5]), set(&[2, 5]));
        assert_eq!(
            designated_leader(&new, &five, 1, &acks, &[vec![&d, &d], vec![&c]]),
            2
        );
    }
}
