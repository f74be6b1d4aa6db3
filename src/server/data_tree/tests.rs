//! DataTree behaviour, txn by txn: stats, cversion/pzxid sequences,
//! ephemerals, containers/TTL, multi, watches, snapshots and digests.
//!
//! Mirrors: `org.apache.zookeeper.server.DataTreeTest` (in spirit: written
//! from the protocol facts, not ported).

use super::*;
use crate::jute::txn::{
    CheckVersionTxn, CloseSessionTxn, CreateContainerTxn, CreateSessionTxn, CreateTtlTxn,
    CreateTxn, DeleteTxn, ErrorTxn, MultiTxn, SetAclTxn, SetDataTxn, Txn,
};
use crate::server::ephemeral_type::EphemeralType;
use crate::server::watch::watch_manager::tests::Recorder;
use crate::zoo_defs::event_type::*;
use crate::zoo_defs::op_code;

const T0: i64 = 1_795_335_953_720;
const SESSION: i64 = 0x100_0000_0000_0001;

fn hdr(zxid: i64, txn_type: i32) -> TxnHeader {
    TxnHeader {
        client_id: SESSION,
        cxid: 7,
        zxid,
        time: T0 + zxid,
        r#type: txn_type,
    }
}

fn create_txn(path: &str, data: &[u8], parent_cversion: i32, ephemeral: bool) -> TxnBody {
    TxnBody::Create(CreateTxn {
        path: path.into(),
        data: Some(data.to_vec()),
        acl: ids::open_acl_unsafe(),
        ephemeral,
        parent_c_version: parent_cversion,
    })
}

fn apply(tree: &mut DataTree, zxid: i64, txn_type: i32, body: TxnBody) -> ProcessTxnResult {
    tree.process_txn(&hdr(zxid, txn_type), &body, None)
}

/// Creates `path` with the next parent cversion, as Prep would.
fn create(tree: &mut DataTree, zxid: i64, path: &str, data: &[u8]) -> ProcessTxnResult {
    let parent = tree
        .get_node(parent_path_of(path))
        .map_or(0, |n| n.stat.cversion);
    apply(
        tree,
        zxid,
        op_code::CREATE2,
        create_txn(path, data, parent + 1, false),
    )
}

fn parent_path_of(path: &str) -> &str {
    crate::server::path_utils::client_parent_path(path)
}

fn stat(tree: &DataTree, path: &str) -> Stat {
    tree.stat_node(path, None).unwrap()
}

fn delete_body(path: &str) -> TxnBody {
    TxnBody::Delete(DeleteTxn { path: path.into() })
}

fn multi(ops: &[(i32, TxnBody)]) -> TxnBody {
    TxnBody::Multi(MultiTxn {
        txns: ops
            .iter()
            .map(|(t, b)| Txn {
                r#type: *t,
                data: Some(b.to_bytes()),
            })
            .collect(),
    })
}

#[test]
fn fresh_tree_matches_java() {
    let tree = DataTree::new();
    assert_eq!(tree.node_count(), 5);
    let root = stat(&tree, "/");
    assert_eq!(
        (
            root.cversion,
            root.num_children,
            root.czxid,
            root.data_length
        ),
        (-1, 1, 0, 0)
    );
    assert_eq!(stat(&tree, "/zookeeper").cversion, -2);
    let (acl, config) = tree.get_acl_of("/zookeeper/config").unwrap();
    assert_eq!((acl, config.aversion), (ids::read_acl_unsafe(), -1));
    assert_eq!(tree.get_node("/zookeeper").unwrap().acl, -1);
    assert_eq!(
        tree.get_data("/zookeeper/quota", None).unwrap().0,
        Some(vec![])
    );
    assert_eq!(tree.digest(), 0x51c6d660);
    assert_eq!(tree.approximate_data_size(), 44);
    assert_eq!(tree.get_all_children_number("/"), Ok(3));
    assert_eq!(tree.get_all_children_number("/zookeeper"), Ok(2));
    let (mut children, _) = tree.get_children("/zookeeper", None).unwrap();
    children.sort();
    assert_eq!(children, ["config", "quota"]);
}

/// Java 3.8.0's digest: `create /a "hello"` at zxid 3 → 0x1b017e72e.
#[test]
fn create_sets_stats_and_digest() {
    let mut tree = DataTree::new();
    let header = TxnHeader {
        time: T0,
        ..hdr(3, op_code::CREATE)
    };
    let rc = tree.process_txn(&header, &create_txn("/a", b"hello", 1, false), None);
    assert_eq!((rc.err, rc.path.as_str(), rc.stat), (Code::Ok, "/a", None));
    assert_eq!(tree.digest(), 0x1b017e72e);
    let s = stat(&tree, "/a");
    assert_eq!(
        (s.czxid, s.mzxid, s.pzxid, s.ctime, s.mtime),
        (3, 3, 3, T0, T0)
    );
    assert_eq!(
        (
            s.version,
            s.cversion,
            s.aversion,
            s.data_length,
            s.ephemeral_owner
        ),
        (0, 0, 0, 5, 0)
    );
    let root = stat(&tree, "/");
    assert_eq!((root.pzxid, root.cversion, root.num_children), (3, 0, 2));
    assert_eq!(tree.last_processed_zxid(), 3);
    assert_eq!(tree.node_count(), 6);
    // create2 returns the stat.
    let rc = create(&mut tree, 4, "/a/b", b"");
    assert_eq!(rc.stat.unwrap().czxid, 4);
}

#[test]
fn cversion_and_pzxid_sequence() {
    let mut tree = DataTree::new();
    create(&mut tree, 1, "/p", b"");
    create(&mut tree, 2, "/p/x", b"");
    create(&mut tree, 3, "/p/y", b"");
    let s = stat(&tree, "/p");
    assert_eq!(
        (
            tree.get_node("/p").unwrap().stat.cversion,
            s.cversion,
            s.pzxid
        ),
        (2, 2, 3)
    );
    apply(&mut tree, 4, op_code::DELETE, delete_body("/p/x"));
    let s = stat(&tree, "/p");
    // Stored cversion unchanged; clients see creates + deletes.
    assert_eq!(
        (
            tree.get_node("/p").unwrap().stat.cversion,
            s.cversion,
            s.pzxid
        ),
        (2, 3, 4)
    );
    // A version-0 create (-1) takes stored + 1.
    apply(
        &mut tree,
        5,
        op_code::CREATE,
        create_txn("/p/z", b"", -1, false),
    );
    assert_eq!(tree.get_node("/p").unwrap().stat.cversion, 3);
}

#[test]
fn replayed_create_and_delete_are_tolerated() {
    let mut tree = DataTree::new();
    create(&mut tree, 1, "/a", b"");
    // Re-applying an older create of an existing node: NODEEXISTS, and the
    // parent's cversion/pzxid move forward only.
    let rc = apply(
        &mut tree,
        9,
        op_code::CREATE,
        create_txn("/a", b"", 5, false),
    );
    assert_eq!(rc.err, Code::NodeExists);
    let root = tree.get_node("/").unwrap().stat.clone();
    assert_eq!((root.cversion, root.pzxid), (5, 9));
    let rc = apply(
        &mut tree,
        10,
        op_code::CREATE,
        create_txn("/a", b"", 2, false),
    );
    assert_eq!(rc.err, Code::NodeExists);
    assert_eq!(tree.get_node("/").unwrap().stat.pzxid, 9);
    // Missing parent / missing node.
    let rc = apply(
        &mut tree,
        11,
        op_code::CREATE,
        create_txn("/x/y", b"", 1, false),
    );
    assert_eq!(rc.err, Code::NoNode);
    let rc = apply(&mut tree, 12, op_code::DELETE, delete_body("/gone"));
    assert_eq!(rc.err, Code::NoNode);
    // ... but the parent's pzxid still moved (fuzzy replay).
    assert_eq!(tree.get_node("/").unwrap().stat.pzxid, 12);
    let rc = apply(
        &mut tree,
        13,
        op_code::SET_DATA,
        TxnBody::SetData(SetDataTxn {
            path: "/gone".into(),
            data: None,
            version: 1,
        }),
    );
    assert_eq!(rc.err, Code::NoNode);
    assert_eq!(tree.last_processed_zxid(), 13);
}

#[test]
fn set_data_and_set_acl() {
    let mut tree = DataTree::new();
    create(&mut tree, 1, "/a", b"x");
    let rc = apply(
        &mut tree,
        2,
        op_code::SET_DATA,
        TxnBody::SetData(SetDataTxn {
            path: "/a".into(),
            data: Some(b"hello".to_vec()),
            version: 1,
        }),
    );
    let s = rc.stat.unwrap();
    assert_eq!(
        (s.version, s.mzxid, s.mtime, s.czxid, s.data_length),
        (1, 2, T0 + 2, 1, 5)
    );
    assert_eq!(tree.approximate_data_size(), 44 + 2 + 5);
    let acl = ids::read_acl_unsafe();
    let rc = apply(
        &mut tree,
        3,
        op_code::SET_ACL,
        TxnBody::SetAcl(SetAclTxn {
            path: "/a".into(),
            acl: acl.clone(),
            version: 1,
        }),
    );
    assert_eq!(rc.stat.unwrap().aversion, 1);
    assert_eq!(tree.get_acl_of("/a").unwrap().0, acl);
    // READ_ACL_UNSAFE is shared with /zookeeper/config; the open list
    // /a used before is gone from the cache.
    assert_eq!(tree.acl_cache_size(), 1);
    assert_eq!(
        tree.get_node("/a").unwrap().acl,
        tree.get_node("/zookeeper/config").unwrap().acl
    );
}

#[test]
fn ephemerals_and_close_session() {
    let mut tree = DataTree::new();
    create(&mut tree, 1, "/app", b"");
    apply(
        &mut tree,
        2,
        op_code::CREATE,
        create_txn("/app/e1", b"", 2, true),
    );
    apply(
        &mut tree,
        3,
        op_code::CREATE,
        create_txn("/e2", b"", 3, true),
    );
    assert_eq!(stat(&tree, "/e2").ephemeral_owner, SESSION);
    let mut all = tree.get_ephemerals(SESSION);
    all.sort();
    assert_eq!(all, ["/app/e1", "/e2"]);
    assert_eq!(
        tree.get_ephemerals_with_prefix(SESSION, "/app"),
        ["/app/e1"]
    );
    assert_eq!(tree.get_ephemerals_with_prefix(SESSION, " / ").len(), 2);
    assert_eq!(tree.ephemerals_count(), 2);
    // closeSession listing only one path still removes both.
    let body = TxnBody::CloseSession(Some(CloseSessionTxn {
        paths2_delete: vec!["/e2".into()],
    }));
    let rc = apply(&mut tree, 4, op_code::CLOSE_SESSION, body);
    assert_eq!(rc.err, Code::Ok);
    assert!(tree.get_node("/e2").is_none() && tree.get_node("/app/e1").is_none());
    assert!(tree.get_ephemerals(SESSION).is_empty());
    assert_eq!(tree.get_node("/app").unwrap().stat.pzxid, 4);
    assert!(tree.ephemerals_by_session().is_empty());
}

#[test]
fn close_session_without_body_deletes_all_ephemerals() {
    let mut tree = DataTree::new();
    apply(
        &mut tree,
        1,
        op_code::CREATE,
        create_txn("/e", b"", 1, true),
    );
    apply(
        &mut tree,
        2,
        op_code::CREATE_SESSION,
        TxnBody::CreateSession(CreateSessionTxn { time_out: 30000 }),
    );
    apply(
        &mut tree,
        3,
        op_code::CLOSE_SESSION,
        TxnBody::CloseSession(None),
    );
    assert!(tree.get_node("/e").is_none());
    assert_eq!(tree.node_count(), 5);
}

#[test]
fn deleted_ephemeral_leaves_an_empty_session_entry() {
    let mut tree = DataTree::new();
    apply(
        &mut tree,
        1,
        op_code::CREATE,
        create_txn("/e", b"", 1, true),
    );
    apply(&mut tree, 2, op_code::DELETE, delete_body("/e"));
    assert_eq!(tree.ephemerals_by_session()[&SESSION], Vec::<String>::new());
}

#[test]
fn containers_and_ttls_are_indexed() {
    let mut tree = DataTree::new();
    tree.set_extended_types_enabled(true);
    let body = TxnBody::CreateContainer(CreateContainerTxn {
        path: "/c".into(),
        data: None,
        acl: ids::open_acl_unsafe(),
        parent_c_version: 1,
    });
    let rc = apply(&mut tree, 1, op_code::CREATE_CONTAINER, body);
    assert_eq!(rc.stat.unwrap().ephemeral_owner, 0);
    assert_eq!(tree.get_node("/c").unwrap().stat.ephemeral_owner, i64::MIN);
    let body = TxnBody::CreateTtl(CreateTtlTxn {
        path: "/t".into(),
        data: None,
        acl: ids::open_acl_unsafe(),
        parent_c_version: 2,
        ttl: 500,
    });
    let rc = apply(&mut tree, 2, op_code::CREATE_TTL, body);
    assert_eq!(rc.stat.unwrap().ephemeral_owner, 0);
    assert_eq!(
        EphemeralType::ttl_of(tree.get_node("/t").unwrap().stat.ephemeral_owner),
        500
    );
    assert_eq!(
        (tree.containers(), tree.ttls()),
        (vec!["/c".to_string()], vec!["/t".to_string()])
    );
    assert!(tree.get_ephemerals(SESSION).is_empty());
    apply(&mut tree, 3, op_code::DELETE_CONTAINER, delete_body("/c"));
    apply(&mut tree, 4, op_code::DELETE, delete_body("/t"));
    assert!(tree.containers().is_empty() && tree.ttls().is_empty());
    // A TTL outside the bounds is refused, not a panic.
    let body = TxnBody::CreateTtl(CreateTtlTxn {
        path: "/bad".into(),
        data: None,
        acl: ids::open_acl_unsafe(),
        parent_c_version: 3,
        ttl: 0,
    });
    assert_eq!(
        apply(&mut tree, 5, op_code::CREATE_TTL, body).err,
        Code::BadArguments
    );
}

#[test]
fn multi_applies_each_op() {
    let mut tree = DataTree::new();
    let body = multi(&[
        (op_code::CREATE, create_txn("/m", b"1", 1, false)),
        (op_code::CREATE2, create_txn("/m/n", b"", 1, false)),
        (
            op_code::SET_DATA,
            TxnBody::SetData(SetDataTxn {
                path: "/m".into(),
                data: None,
                version: 1,
            }),
        ),
        (
            op_code::CHECK,
            TxnBody::Check(CheckVersionTxn {
                path: "/m".into(),
                version: 2,
            }),
        ),
    ]);
    let rc = apply(&mut tree, 8, op_code::MULTI, body);
    assert_eq!(rc.err, Code::Ok);
    let types: Vec<i32> = rc.multi_result.iter().map(|r| r.op_type).collect();
    assert_eq!(types, [1, 15, 5, 13]);
    assert!(rc.multi_result[0].stat.is_none() && rc.multi_result[1].stat.is_some());
    assert_eq!(rc.multi_result[3].path, "/m");
    assert_eq!(stat(&tree, "/m").version, 1);
    assert_eq!(tree.last_processed_zxid(), 8);
}

#[test]
fn failed_multi_reports_per_op_codes_and_changes_nothing() {
    let mut tree = DataTree::new();
    let before = tree.digest();
    let err = |c: Code| TxnBody::Error(ErrorTxn { err: c.as_i32() });
    let body = multi(&[
        (op_code::ERROR, err(Code::Ok)),
        (op_code::ERROR, err(Code::NoNode)),
        (op_code::ERROR, err(Code::RuntimeInconsistency)),
    ]);
    let rc = apply(&mut tree, 4, op_code::MULTI, body);
    let errs: Vec<Code> = rc.multi_result.iter().map(|r| r.err).collect();
    assert_eq!(errs, [Code::Ok, Code::NoNode, Code::RuntimeInconsistency]);
    assert_eq!(rc.err, Code::NoNode);
    assert_eq!(tree.digest(), before);
    // A mixed multi (real ops around an error) is applied as all errors.
    let body = multi(&[
        (op_code::CREATE, create_txn("/x", b"", 1, false)),
        (op_code::ERROR, err(Code::BadVersion)),
        (op_code::DELETE, delete_body("/zookeeper")),
    ]);
    let rc = apply(&mut tree, 5, op_code::MULTI, body);
    let errs: Vec<(i32, Code)> = rc.multi_result.iter().map(|r| (r.op_type, r.err)).collect();
    assert_eq!(
        errs,
        [
            (-1, Code::Ok),
            (-1, Code::BadVersion),
            (-1, Code::RuntimeInconsistency)
        ]
    );
    assert!(tree.get_node("/x").is_none());
}

#[test]
fn error_txn_reports_its_code() {
    let mut tree = DataTree::new();
    let rc = apply(
        &mut tree,
        2,
        op_code::ERROR,
        TxnBody::Error(ErrorTxn { err: -110 }),
    );
    assert_eq!((rc.err, tree.last_processed_zxid()), (Code::NodeExists, 2));
}

#[test]
fn snapshot_round_trip_is_byte_identical() {
    let mut tree = DataTree::new();
    tree.set_extended_types_enabled(true);
    for (i, p) in ["/a", "/a/b", "/a/c", "/d", "/a/b/e"].iter().enumerate() {
        create(&mut tree, i as i64 + 1, p, p.as_bytes());
    }
    apply(
        &mut tree,
        6,
        op_code::CREATE,
        create_txn("/eph", b"", 3, true),
    );
    apply(
        &mut tree,
        7,
        op_code::CREATE_CONTAINER,
        TxnBody::CreateContainer(CreateContainerTxn {
            path: "/a/box".into(),
            data: None,
            acl: ids::read_acl_unsafe(),
            parent_c_version: 3,
        }),
    );
    apply(&mut tree, 8, op_code::DELETE, delete_body("/a/c"));
    let bytes = snapshot_bytes(&tree);
    let back = DataTree::deserialize(&mut InputArchive::new(&bytes[..])).unwrap();
    assert_eq!(snapshot_bytes(&back), bytes);
    assert_eq!(back.node_count(), tree.node_count());
    assert_eq!(back.digest(), tree.digest());
    assert_eq!(back.approximate_data_size(), tree.approximate_data_size());
    assert_eq!(back.get_ephemerals(SESSION), ["/eph"]);
    assert_eq!(back.containers(), ["/a/box"]);
    assert_eq!(
        back.get_children("/a", None).unwrap(),
        tree.get_children("/a", None).unwrap()
    );
    assert_eq!(stat(&back, "/"), stat(&tree, "/"));
}

fn snapshot_bytes(tree: &DataTree) -> Vec<u8> {
    let mut oa = OutputArchive::new(Vec::new());
    tree.serialize(&mut oa).unwrap();
    oa.into_inner()
}

/// As observed on Java 3.8.0: a fresh snapshot holds the ACL map
/// {1 → [READ world:anyone]} and the nodes "", /zookeeper,
/// /zookeeper/config, /zookeeper/quota, then "/".
#[test]
fn fresh_snapshot_layout_matches_java() {
    let bytes = snapshot_bytes(&DataTree::new());
    let mut ia = InputArchive::new(&bytes[..]);
    assert_eq!(ia.read_int().unwrap(), 1);
    assert_eq!(ia.read_long().unwrap(), 1);
    assert_eq!(
        crate::jute::Record::deserialize(&mut ia)
            .map(|a: Vec<Acl>| a)
            .unwrap(),
        ids::read_acl_unsafe()
    );
    let mut paths = Vec::new();
    loop {
        let p = ia.read_string().unwrap();
        if p == "/" {
            break;
        }
        let node = DataNode::deserialize(&mut ia).unwrap();
        paths.push((p, node.acl, node.stat.aversion));
    }
    let expect = [
        ("", -1, 0),
        ("/zookeeper", -1, 0),
        ("/zookeeper/config", 1, -1),
        ("/zookeeper/quota", -1, 0),
    ];
    let got: Vec<(&str, i64, i32)> = paths.iter().map(|(p, a, v)| (p.as_str(), *a, *v)).collect();
    assert_eq!(got, expect);
    // 4 + (8 + 4 + 4+5+4+6) ACLs + nodes + "/"; the file adds header,
    // sessions, seals and digest around this.
    assert_eq!(ia.into_inner().len(), 0);
}

#[test]
fn bad_snapshots_are_errors() {
    let tree = DataTree::new();
    let bytes = snapshot_bytes(&tree);
    for cut in [0, 3, 20, bytes.len() / 2, bytes.len() - 1] {
        assert!(
            DataTree::deserialize(&mut InputArchive::new(&bytes[..cut])).is_err(),
            "cut {}",
            cut
        );
    }
    // A node whose parent is missing.
    let mut oa = OutputArchive::new(Vec::new());
    oa.write_int(0).unwrap();
    oa.write_string("").unwrap();
    DataNode::default().serialize(&mut oa).unwrap();
    oa.write_string("/x/y").unwrap();
    DataNode::default().serialize(&mut oa).unwrap();
    oa.write_string("/").unwrap();
    let bytes = oa.into_inner();
    let err = DataTree::deserialize(&mut InputArchive::new(&bytes[..]))
        .err()
        .unwrap();
    assert!(err.to_string().contains("/x/y"), "{}", err);
}

#[test]
fn loading_purges_unused_acls_and_continues_ids() {
    let mut tree = DataTree::new();
    create(&mut tree, 1, "/a", b"");
    apply(&mut tree, 2, op_code::DELETE, delete_body("/a"));
    let mut bytes = Vec::new();
    {
        // An ACL map entry nobody uses (what a fuzzy snapshot may hold).
        let mut oa = OutputArchive::new(&mut bytes);
        oa.write_int(2).unwrap();
        oa.write_long(1).unwrap();
        crate::jute::Record::serialize(&ids::read_acl_unsafe(), &mut oa).unwrap();
        oa.write_long(7).unwrap();
        crate::jute::Record::serialize(&ids::open_acl_unsafe(), &mut oa).unwrap();
    }
    let nodes = snapshot_bytes(&tree);
    // Skip the tree's own ACL section (4 + 8 + 4 + 4 + 5 + 4 + 6 + 4 bytes).
    let acl_section = 4 + 8 + 4 + (4 + 4 + 5 + 4 + 6);
    bytes.extend_from_slice(&nodes[acl_section..]);
    let mut back = DataTree::deserialize(&mut InputArchive::new(&bytes[..])).unwrap();
    assert_eq!(back.acl_cache_size(), 1);
    create(&mut back, 3, "/b", b"");
    assert_eq!(back.get_node("/b").unwrap().acl, 8);
}

#[test]
fn quota_usage_follows_changes() {
    let mut tree = DataTree::new();
    create(&mut tree, 1, "/q", b"ab");
    create(&mut tree, 2, "/zookeeper/quota/q", b"");
    create(
        &mut tree,
        3,
        "/zookeeper/quota/q/zookeeper_limits",
        b"count=-1,bytes=-1=;countHardLimit=2",
    );
    create(
        &mut tree,
        4,
        "/zookeeper/quota/q/zookeeper_stats",
        b"count=0,bytes=0",
    );
    let usage = |t: &DataTree| {
        let d = t
            .get_data("/zookeeper/quota/q/zookeeper_stats", None)
            .unwrap()
            .0
            .unwrap();
        String::from_utf8(d).unwrap()
    };
    assert_eq!(usage(&tree), "count=1,bytes=2");
    assert_eq!(tree.max_prefix_with_quota("/q/x"), Some("/q".into()));
    create(&mut tree, 5, "/q/x", b"xyz");
    assert_eq!(usage(&tree), "count=2,bytes=5");
    assert_eq!(tree.check_quota("/q/y", 0, 1), Err(Code::QuotaExceeded));
    assert_eq!(tree.check_quota("/other", 0, 1), Ok(()));
    apply(
        &mut tree,
        6,
        op_code::SET_DATA,
        TxnBody::SetData(SetDataTxn {
            path: "/q/x".into(),
            data: Some(b"x".to_vec()),
            version: 1,
        }),
    );
    assert_eq!(usage(&tree), "count=2,bytes=3");
    apply(&mut tree, 7, op_code::DELETE, delete_body("/q/x"));
    assert_eq!(usage(&tree), "count=1,bytes=2");
    // Quotas come back from a snapshot.
    let back = DataTree::deserialize(&mut InputArchive::new(&snapshot_bytes(&tree)[..])).unwrap();
    assert_eq!(back.max_prefix_with_quota("/q/x"), Some("/q".into()));
    assert_eq!(usage(&back), "count=1,bytes=2");
    // Removing the limits node removes the quota.
    apply(
        &mut tree,
        8,
        op_code::DELETE,
        delete_body("/zookeeper/quota/q/zookeeper_limits"),
    );
    assert_eq!(tree.max_prefix_with_quota("/q/x"), None);
}

#[test]
fn txn_digest_mismatch_is_counted_not_fatal() {
    let mut tree = DataTree::new();
    let body = create_txn("/a", b"hello", 1, false);
    let good = TxnDigest {
        version: 2,
        tree_digest: 0x1b017e72e,
    };
    tree.process_txn(
        &TxnHeader {
            time: T0,
            ..hdr(3, op_code::CREATE)
        },
        &body,
        Some(&good),
    );
    assert_eq!(tree.digest_mismatches(), 0);
    let bad = TxnDigest {
        version: 2,
        tree_digest: 1,
    };
    let rc = tree.process_txn(
        &hdr(4, op_code::CREATE),
        &create_txn("/b", b"", 2, false),
        Some(&bad),
    );
    assert_eq!((rc.err, tree.digest_mismatches()), (Code::Ok, 1));
    assert_eq!(tree.last_processed_zxid_digest().unwrap().zxid, 4);
    // While replaying after a snapshot, txn digests are not compared.
    tree.set_snapshot_digest(
        Some(ZxidDigest {
            zxid: 6,
            digest_version: 2,
            digest: 0,
        }),
        5,
    );
    tree.process_txn(
        &hdr(5, op_code::CREATE),
        &create_txn("/c", b"", 3, false),
        Some(&bad),
    );
    assert_eq!(tree.digest_mismatches(), 1);
    tree.process_txn(
        &hdr(6, op_code::CREATE),
        &create_txn("/d", b"", 4, false),
        None,
    );
    assert_eq!(
        tree.digest_mismatches(),
        2,
        "snapshot digest 0 mismatches at its zxid"
    );
}

#[test]
fn incremental_digest_equals_recomputed() {
    let mut tree = DataTree::new();
    create(&mut tree, 1, "/a", b"1");
    create(&mut tree, 2, "/a/b", b"22");
    apply(
        &mut tree,
        3,
        op_code::SET_DATA,
        TxnBody::SetData(SetDataTxn {
            path: "/".into(),
            data: Some(b"r".to_vec()),
            version: 1,
        }),
    );
    apply(&mut tree, 4, op_code::DELETE, delete_body("/a/b"));
    let mut sum = crate::server::digest_calculator::TreeDigest::default();
    tree.nodes
        .for_each(|p, n| sum.add(DigestCalculator::node_digest(p, &n.stat, n.data())));
    assert_eq!(tree.digest(), sum.value());
}

#[test]
fn get_all_children_number_counts_descendants() {
    let mut tree = DataTree::new();
    create(&mut tree, 1, "/a", b"");
    create(&mut tree, 2, "/a/b", b"");
    create(&mut tree, 3, "/a/b/c", b"");
    create(&mut tree, 4, "/ab", b"");
    assert_eq!(tree.get_all_children_number("/a"), Ok(2));
    assert_eq!(tree.get_all_children_number("/"), Ok(7));
    assert_eq!(tree.get_all_children_number("/nope"), Err(Code::NoNode));
}

/// Watches fired by txns (a child module: it shares the helpers above).
#[path = "watch_tests.rs"]
mod watch_tests;
