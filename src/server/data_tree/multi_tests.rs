//! The multi fast path (creates read in place, runs of creates with the
//! parent's digest deferred and the ACL id remembered) against the plain
//! one (every op decoded and applied as its own txn): same tree, same
//! snapshot bytes, same digest, same ACL counts, same per-op results.
//! Also the parent lookup remembered across creates, after deletes.
//!
//! Mirrors: nothing in Java (checks our shortcuts only).

use super::*;
use crate::jute::data::Id;
use crate::jute::txn::{CreateTxn, DeleteTxn, MultiTxn, SetDataTxn, Txn};
use crate::server::digest_calculator::TreeDigest;
use crate::zoo_defs::op_code;

const T0: i64 = 1_795_335_953_720;
const SESSION: i64 = 0x100_0000_0000_0001;

fn hdr(zxid: i64, txn_type: i32) -> TxnHeader {
    TxnHeader {
        client_id: SESSION,
        cxid: 7,
        zxid,
        time: T0,
        r#type: txn_type,
    }
}

fn create(
    path: &str,
    data: Option<&[u8]>,
    acl: Vec<Acl>,
    parent_c_version: i32,
    ephemeral: bool,
) -> TxnBody {
    TxnBody::Create(CreateTxn {
        path: path.into(),
        data: data.map(<[u8]>::to_vec),
        acl,
        ephemeral,
        parent_c_version,
    })
}

fn ip_acl() -> Vec<Acl> {
    vec![Acl {
        perms: 1,
        id: Id {
            scheme: "ip".into(),
            id: "10.0.0.1".into(),
        },
    }]
}

fn snapshot_bytes(tree: &DataTree) -> Vec<u8> {
    let mut oa = OutputArchive::new(Vec::new());
    tree.serialize(&mut oa).unwrap();
    oa.into_inner()
}

fn recomputed_digest(tree: &DataTree) -> i64 {
    let mut sum = TreeDigest::default();
    tree.nodes
        .for_each(|p, n| sum.add(DigestCalculator::node_digest(p, &n.stat, n.data())));
    sum.value()
}

/// Ops mixing everything a run of creates meets: several parents, a
/// parent created in the same multi, NODEEXISTS (which moves the parent
/// forward), NONODE, a second ACL list, an ephemeral, CREATE2, a
/// version-0 create (decoded the slow way), a null path (slow way), a
/// delete and a setData between creates, and a create after the delete.
fn ops() -> Vec<(i32, Vec<u8>)> {
    let open = ids::open_acl_unsafe;
    let mut ops = vec![
        (
            op_code::CREATE,
            create("/a", Some(b"1"), open(), 1, false).to_bytes(),
        ),
        (
            op_code::CREATE,
            create("/a/b", Some(b"22"), open(), 1, false).to_bytes(),
        ),
        (
            op_code::CREATE2,
            create("/a/c", None, open(), 2, false).to_bytes(),
        ),
        (
            op_code::CREATE,
            create("/d", Some(b""), open(), 2, true).to_bytes(),
        ),
        (
            op_code::CREATE,
            create("/a", Some(b"again"), ip_acl(), 9, false).to_bytes(),
        ),
        (
            op_code::CREATE,
            create("/x/y", None, open(), 1, false).to_bytes(),
        ),
        (
            op_code::CREATE,
            create("/a/e", Some(b"e"), ip_acl(), 3, false).to_bytes(),
        ),
        (
            op_code::CREATE,
            create("/a/f", Some(b"f"), ip_acl(), -1, false).to_bytes(),
        ),
        (
            op_code::DELETE,
            TxnBody::Delete(DeleteTxn {
                path: "/a/b".into(),
            })
            .to_bytes(),
        ),
        (
            op_code::SET_DATA,
            TxnBody::SetData(SetDataTxn {
                path: "/a".into(),
                data: None,
                version: 1,
            })
            .to_bytes(),
        ),
        (
            op_code::CREATE,
            create("/a/b", Some(b"back"), open(), 6, false).to_bytes(),
        ),
        (
            op_code::CREATE,
            create("/d/g", None, open(), 1, false).to_bytes(),
        ),
    ];
    // Version 0: no parentCVersion at the end.
    let mut v0 = create("/a/v0", Some(b"0"), open(), 0, false).to_bytes();
    v0.truncate(v0.len() - 4);
    ops.push((op_code::CREATE, v0));
    // A null path: decoded by jute as "", refused as not absolute.
    let mut null_path = (-1i32).to_be_bytes().to_vec();
    null_path.extend_from_slice(&create("", None, open(), 1, false).to_bytes()[4..]);
    ops.push((op_code::CREATE, null_path));
    ops
}

#[test]
fn multi_creates_match_the_same_ops_applied_one_by_one() {
    let ops = ops();
    let mut fast = DataTree::new();
    let body = TxnBody::Multi(MultiTxn {
        txns: ops
            .iter()
            .map(|(t, b)| Txn {
                r#type: *t,
                data: Some(b.clone()),
            })
            .collect(),
    });
    let rc = fast.process_txn(&hdr(10, op_code::MULTI), &body, None);

    let mut slow = DataTree::new();
    let mut singles = Vec::new();
    for (t, bytes) in &ops {
        let body = TxnBody::from_bytes(*t, bytes).unwrap();
        singles.push(slow.process_txn(&hdr(10, *t), &body, None));
    }

    let results = |r: &[ProcessTxnResult]| -> Vec<(i32, Code, String, Option<Stat>)> {
        r.iter()
            .map(|r| (r.op_type, r.err, r.path.clone(), r.stat.clone()))
            .collect()
    };
    assert_eq!(results(&rc.multi_result), results(&singles));
    let errs: Vec<Code> = rc.multi_result.iter().map(|r| r.err).collect();
    assert!(
        errs.contains(&Code::NodeExists) && errs.contains(&Code::NoNode),
        "{:?}",
        errs
    );
    assert!(errs.contains(&Code::BadArguments), "{:?}", errs);
    assert_eq!(snapshot_bytes(&fast), snapshot_bytes(&slow));
    assert_eq!(fast.digest(), slow.digest());
    assert_eq!(fast.digest(), recomputed_digest(&fast));
    assert_eq!(fast.approximate_data_size(), slow.approximate_data_size());
    assert_eq!(fast.get_ephemerals(SESSION), ["/d"]);
    for id in 1..=3 {
        assert_eq!(
            fast.acl_cache.usage(id),
            slow.acl_cache.usage(id),
            "usage of ACL {}",
            id
        );
    }
    assert_eq!(stat(&fast, "/a"), stat(&slow, "/a"));
    assert_eq!(fast.get_data("/a/v0", None).unwrap().0, Some(b"0".to_vec()));
}

#[test]
fn a_long_run_under_one_parent_digests_like_the_plain_path() {
    let creates: Vec<(i32, Vec<u8>)> = (0..300)
        .map(|i| {
            let parent = if i < 150 { "/p" } else { "/q" };
            (
                op_code::CREATE,
                create(
                    &format!("{}/n{}", parent, i),
                    Some(&[i as u8; 16]),
                    ids::open_acl_unsafe(),
                    -1,
                    false,
                )
                .to_bytes(),
            )
        })
        .collect();
    let mut fast = DataTree::new();
    let mut slow = DataTree::new();
    for tree in [&mut fast, &mut slow] {
        for (z, p) in [(1, "/p"), (2, "/q")] {
            tree.process_txn(
                &hdr(z, op_code::CREATE),
                &create(p, None, ids::open_acl_unsafe(), -1, false),
                None,
            );
        }
    }
    let body = TxnBody::Multi(MultiTxn {
        txns: creates
            .iter()
            .map(|(t, b)| Txn {
                r#type: *t,
                data: Some(b.clone()),
            })
            .collect(),
    });
    fast.process_txn(&hdr(3, op_code::MULTI), &body, None);
    for (t, bytes) in &creates {
        slow.process_txn(&hdr(3, *t), &TxnBody::from_bytes(*t, bytes).unwrap(), None);
    }
    assert_eq!(fast.digest(), slow.digest());
    assert_eq!(fast.digest(), recomputed_digest(&fast));
    assert_eq!(snapshot_bytes(&fast), snapshot_bytes(&slow));
    assert_eq!(stat(&fast, "/p").cversion, 150 * 2 - 150);
}

#[test]
fn remembered_parent_is_forgotten_when_nodes_go() {
    let mut tree = DataTree::new();
    let open = ids::open_acl_unsafe;
    let mut zxid = 0;
    let mut apply = |tree: &mut DataTree, t: i32, body: TxnBody| {
        zxid += 1;
        tree.process_txn(&hdr(zxid, t), &body, None).err
    };
    assert_eq!(
        apply(
            &mut tree,
            op_code::CREATE,
            create("/a", None, open(), -1, false)
        ),
        Code::Ok
    );
    assert_eq!(
        apply(
            &mut tree,
            op_code::CREATE,
            create("/a/b", None, open(), -1, false)
        ),
        Code::Ok
    );
    apply(
        &mut tree,
        op_code::DELETE,
        TxnBody::Delete(DeleteTxn {
            path: "/a/b".into(),
        }),
    );
    apply(
        &mut tree,
        op_code::DELETE,
        TxnBody::Delete(DeleteTxn { path: "/a".into() }),
    );
    // /c takes the freed slot of /a (or of /a/b); /a comes back elsewhere.
    assert_eq!(
        apply(
            &mut tree,
            op_code::CREATE,
            create("/c", None, open(), -1, false)
        ),
        Code::Ok
    );
    assert_eq!(
        apply(
            &mut tree,
            op_code::CREATE,
            create("/a/x", None, open(), -1, false)
        ),
        Code::NoNode
    );
    assert_eq!(
        apply(
            &mut tree,
            op_code::CREATE,
            create("/a", None, open(), -1, false)
        ),
        Code::Ok
    );
    assert_eq!(
        apply(
            &mut tree,
            op_code::CREATE,
            create("/a/x", None, open(), -1, false)
        ),
        Code::Ok
    );
    assert_eq!(tree.get_children("/a", None).unwrap().0, ["x"]);
    assert!(tree.get_children("/c", None).unwrap().0.is_empty());
    assert_eq!(tree.digest(), recomputed_digest(&tree));
}

fn stat(tree: &DataTree, path: &str) -> Stat {
    tree.stat_node(path, None).unwrap()
}
