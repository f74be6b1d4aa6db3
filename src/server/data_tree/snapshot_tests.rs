//! Fuzzy snapshots: a walk written in chunks while txns are applied
//! between the chunks, loaded and replayed from the zxid it started at,
//! gives back the live tree exactly (Java's fuzzy-snapshot contract).
//!
//! Mirrors: `org.apache.zookeeper.server.quorum.FuzzySnapshotRelatedTest`
//! (in spirit, not ported).

use super::*;
use crate::jute::data::Id;
use crate::jute::txn::{CloseSessionTxn, CreateTxn, DeleteTxn, SetAclTxn, SetDataTxn};
use crate::zoo_defs::op_code;

const OWNER: i64 = 0x100_0000_0000_0009;

fn entry(zxid: i64, txn_type: i32, body: TxnBody) -> (TxnHeader, TxnBody) {
    (
        TxnHeader {
            client_id: OWNER,
            cxid: 1,
            zxid,
            time: 1_700_000_000_000 + zxid,
            r#type: txn_type,
        },
        body,
    )
}

fn create(path: &str, acl: Vec<Acl>, parent_cversion: i32, ephemeral: bool) -> TxnBody {
    TxnBody::Create(CreateTxn {
        path: path.into(),
        data: Some(path.as_bytes().to_vec()),
        acl,
        ephemeral,
        parent_c_version: parent_cversion,
    })
}

fn digest_acl(user: &str) -> Vec<Acl> {
    vec![Acl {
        perms: crate::zoo_defs::perms::ALL,
        id: Id {
            scheme: "digest".into(),
            id: format!("{}:h", user),
        },
    }]
}

/// One node as a client sees it: path, data, ACL, stat.
type NodeView = (String, Option<Vec<u8>>, Vec<Acl>, Stat);

/// Every node, sorted by path.
fn dump(tree: &DataTree) -> Vec<NodeView> {
    let mut paths = vec!["/".to_string()];
    let mut i = 0;
    while i < paths.len() {
        let p = paths[i].clone();
        let (mut children, _) = tree.get_children(&p, None).unwrap();
        children.sort();
        paths.extend(children.into_iter().map(|c| {
            if p == "/" {
                format!("/{}", c)
            } else {
                format!("{}/{}", p, c)
            }
        }));
        i += 1;
    }
    paths.sort();
    paths
        .into_iter()
        .map(|p| {
            let (data, stat) = tree.get_data(&p, None).unwrap();
            (p.clone(), data, tree.get_acl_of(&p).unwrap().0, stat)
        })
        .collect()
}

/// /p0../p4 with five children each, and an ephemeral /e of OWNER.
fn base_tree() -> (DataTree, i64) {
    let mut tree = DataTree::new();
    let mut zxid = 0;
    let mut apply = |tree: &mut DataTree, t: i32, b: TxnBody| {
        zxid += 1;
        let (h, b) = entry(zxid, t, b);
        assert_eq!(tree.process_txn(&h, &b, None).err, Code::Ok);
    };
    for i in 0..5 {
        apply(
            &mut tree,
            op_code::CREATE,
            create(&format!("/p{}", i), ids::open_acl_unsafe(), i + 1, false),
        );
        for j in 0..5 {
            apply(
                &mut tree,
                op_code::CREATE,
                create(
                    &format!("/p{}/c{}", i, j),
                    ids::open_acl_unsafe(),
                    j + 1,
                    false,
                ),
            );
        }
    }
    apply(
        &mut tree,
        op_code::CREATE,
        create("/e", ids::open_acl_unsafe(), 6, true),
    );
    (tree, zxid)
}

/// The changes made while the snapshot is being written, one batch after
/// each chunk: creates under visited and unvisited parents, deletes of
/// written and unwritten nodes, a delete and re-create, new ACL lists
/// (ids the snapshot's ACL section lacks), and a closeSession.
fn batches(first_zxid: i64) -> Vec<Vec<(TxnHeader, TxnBody)>> {
    let mut z = first_zxid;
    let mut next = |t: i32, b: TxnBody| {
        z += 1;
        entry(z, t, b)
    };
    vec![
        vec![
            next(
                op_code::CREATE,
                create("/p0/new", ids::open_acl_unsafe(), 6, false),
            ),
            next(
                op_code::CREATE,
                create("/p4/new", digest_acl("alice"), 6, false),
            ),
            next(
                op_code::DELETE,
                TxnBody::Delete(DeleteTxn {
                    path: "/p1/c1".into(),
                }),
            ),
        ],
        vec![
            next(
                op_code::SET_DATA,
                TxnBody::SetData(SetDataTxn {
                    path: "/p2/c2".into(),
                    data: None,
                    version: 1,
                }),
            ),
            next(
                op_code::DELETE,
                TxnBody::Delete(DeleteTxn {
                    path: "/p3/c0".into(),
                }),
            ),
            next(
                op_code::CREATE,
                create("/p3/c0", digest_acl("bob"), 6, false),
            ),
        ],
        vec![
            next(
                op_code::SET_ACL,
                TxnBody::SetAcl(SetAclTxn {
                    path: "/p0".into(),
                    acl: digest_acl("carol"),
                    version: 1,
                }),
            ),
            next(
                op_code::CLOSE_SESSION,
                TxnBody::CloseSession(Some(CloseSessionTxn {
                    paths2_delete: vec!["/e".into()],
                })),
            ),
            next(
                op_code::CREATE,
                create("/p1/c1", ids::open_acl_unsafe(), 6, false),
            ),
        ],
        vec![
            next(
                op_code::DELETE,
                TxnBody::Delete(DeleteTxn {
                    path: "/p4/c4".into(),
                }),
            ),
            next(
                op_code::CREATE,
                create("/q", ids::read_acl_unsafe(), 7, false),
            ),
        ],
    ]
}

#[test]
fn a_fuzzy_snapshot_plus_replay_is_the_live_tree() {
    for chunk in [1, 2, 3, 7] {
        let (mut tree, start_zxid) = base_tree();
        let mut oa = OutputArchive::new(Vec::new());
        tree.serialize_acl_cache(&mut oa).unwrap();
        let mut cursor = SnapshotCursor::new();
        let mut replay = Vec::new();
        for batch in batches(start_zxid) {
            assert!(!tree
                .serialize_nodes_chunk(&mut cursor, &mut oa, chunk)
                .unwrap());
            for (h, b) in &batch {
                tree.process_txn(h, b, None);
            }
            replay.extend(batch);
        }
        while !tree
            .serialize_nodes_chunk(&mut cursor, &mut oa, chunk)
            .unwrap()
        {}
        assert!(cursor.is_done());
        let bytes = oa.into_inner();

        let mut back = DataTree::deserialize(&mut InputArchive::new(&bytes[..])).unwrap();
        assert_ne!(
            dump(&back),
            dump(&tree),
            "chunk {}: the snapshot is fuzzy",
            chunk
        );
        back.set_last_processed_zxid(start_zxid);
        for (h, b) in &replay {
            back.process_txn(h, b, None);
        }
        assert_eq!(dump(&back), dump(&tree), "chunk {}", chunk);
        assert_eq!(back.digest(), tree.digest(), "chunk {}", chunk);
        assert_eq!(back.node_count(), tree.node_count());
        assert_eq!(back.approximate_data_size(), tree.approximate_data_size());
        assert!(back.sessions_with_ephemerals().is_empty());
        assert_eq!(back.get_acl_of("/p0").unwrap().0, digest_acl("carol"));
    }
}

#[test]
fn chunked_and_whole_walks_write_the_same_bytes() {
    let (tree, _) = base_tree();
    let mut whole = OutputArchive::new(Vec::new());
    tree.serialize(&mut whole).unwrap();
    let mut chunked = OutputArchive::new(Vec::new());
    tree.serialize_acl_cache(&mut chunked).unwrap();
    let mut cursor = SnapshotCursor::new();
    let mut chunks = 0;
    while !tree
        .serialize_nodes_chunk(&mut cursor, &mut chunked, 4)
        .unwrap()
    {
        chunks += 1;
    }
    assert_eq!(chunks, 8, "31 nodes + 4 built-in, 4 per chunk");
    assert_eq!(chunked.into_inner(), whole.into_inner());
}

/// A walk keeps the slots of a written node's children across chunks;
/// a child deleted between chunks whose slot another node took must be
/// skipped, not written with the other node's data.
#[test]
fn a_reused_slot_is_not_written_under_the_old_path() {
    let mut tree = DataTree::new();
    let mut zxid = 0;
    let mut apply = |tree: &mut DataTree, t: i32, b: TxnBody| {
        zxid += 1;
        let (h, b) = entry(zxid, t, b);
        assert_eq!(tree.process_txn(&h, &b, None).err, Code::Ok);
    };
    apply(
        &mut tree,
        op_code::CREATE,
        create("/a", ids::open_acl_unsafe(), 1, false),
    );
    apply(
        &mut tree,
        op_code::CREATE,
        create("/a/x", ids::open_acl_unsafe(), 1, false),
    );
    apply(
        &mut tree,
        op_code::CREATE,
        create("/a/y", ids::open_acl_unsafe(), 2, false),
    );
    let mut oa = OutputArchive::new(Vec::new());
    tree.serialize_acl_cache(&mut oa).unwrap();
    let mut cursor = SnapshotCursor::new();
    let a_written = |bytes: &[u8]| bytes.windows(6).any(|w| w == [0, 0, 0, 2, b'/', b'a']);
    while !a_written(oa.inner_mut()) {
        assert!(!tree.serialize_nodes_chunk(&mut cursor, &mut oa, 1).unwrap());
    }
    // /a is written (its children not yet): /a/y goes, /b takes its slot.
    apply(
        &mut tree,
        op_code::DELETE,
        TxnBody::Delete(DeleteTxn {
            path: "/a/y".into(),
        }),
    );
    apply(
        &mut tree,
        op_code::CREATE,
        create("/b", digest_acl("eve"), 3, false),
    );
    while !tree.serialize_nodes_chunk(&mut cursor, &mut oa, 1).unwrap() {}
    let bytes = oa.into_inner();
    let back = DataTree::deserialize(&mut InputArchive::new(&bytes[..])).unwrap();
    assert!(back.get_node("/a/x").is_some());
    assert!(
        back.get_node("/a/y").is_none(),
        "a deleted child was written"
    );
    assert!(
        back.get_node("/b").is_none(),
        "created after its parent was written"
    );
}
