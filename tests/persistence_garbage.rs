//! Corrupt persisted data never panics the server.
//!
//! A snapshot's tree section and a log's txns come from disk (or, for
//! txns, from a leader's PROPOSAL): a corrupt or hostile byte must turn
//! into an error or a txn that fails as Java's would, never a panic. These
//! tests decode and apply single-byte corruptions, truncations and odd
//! paths; a panic fails them. A fixed-seed xorshift makes a failure
//! reproducible.

mod persistence_util;

use persistence_util::{open_acl, workload_txns, SESSION_A};
use zookeeper::jute::txn::{
    CreateContainerTxn, CreateTtlTxn, CreateTxn, DeleteTxn, MultiTxn, SetAclTxn, SetDataTxn, Txn,
    TxnBody, TxnHeader, TxnLogEntry,
};
use zookeeper::jute::{InputArchive, OutputArchive};
use zookeeper::server::data_tree::DataTree;

struct XorShift(u64);

impl XorShift {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

/// A tree built from the shared workload (every kind of node, quotas
/// left out), serialized as a snapshot's tree section.
fn serialized_tree() -> (DataTree, Vec<u8>) {
    let mut tree = DataTree::new();
    for entry in workload_txns(1, 60) {
        tree.process_txn(&entry.header, &entry.body, None);
    }
    let mut bytes = Vec::new();
    tree.serialize(&mut OutputArchive::new(&mut bytes)).unwrap();
    (tree, bytes)
}

fn decode_tree(bytes: &[u8]) -> Result<DataTree, zookeeper::jute::Error> {
    DataTree::deserialize(&mut InputArchive::new(bytes))
}

#[test]
fn a_tree_section_round_trips_before_it_is_corrupted() {
    let (tree, bytes) = serialized_tree();
    let back = decode_tree(&bytes).expect("an intact tree section decodes");
    assert_eq!(back.node_count(), tree.node_count());
    assert_eq!(back.digest(), tree.digest());
}

#[test]
fn every_truncation_of_a_tree_section_is_an_error() {
    let (_, bytes) = serialized_tree();
    for len in 0..bytes.len() {
        assert!(
            decode_tree(&bytes[..len]).is_err(),
            "a tree cut at byte {} of {} decoded",
            len,
            bytes.len()
        );
    }
}

#[test]
fn corrupt_bytes_in_a_tree_section_never_panic() {
    let (_, bytes) = serialized_tree();
    let mut rng = XorShift(0x5eed_7233);
    for offset in 0..bytes.len() {
        for value in [0x00, 0xff, 0x7f, 0x80, (rng.next() as u8) | 1] {
            let mut bad = bytes.clone();
            bad[offset] = value;
            let _ = decode_tree(&bad);
        }
    }
}

fn header(zxid: i64, r#type: i32) -> TxnHeader {
    TxnHeader {
        client_id: SESSION_A,
        cxid: zxid as i32,
        zxid,
        time: 1_700_000_000_000 + zxid,
        r#type,
    }
}

/// Txns whose paths or targets make no sense: Java fails them (NONODE,
/// NODEEXISTS...) or applies them blindly; we must do the same without
/// panicking.
fn hostile_bodies() -> Vec<(i32, TxnBody)> {
    let paths = [
        "",
        "/",
        "a",
        "//",
        "/a/",
        "/zookeeper",
        "/zookeeper/quota",
        "/zookeeper/quota/x/zookeeper_limits",
        "/no/parent",
        "/n00010/child",
        "/\u{0}",
        "/a/../b",
        "/\u{10ffff}",
    ];
    let mut out = Vec::new();
    for path in paths {
        let p = path.to_string();
        let create = CreateTxn {
            path: p.clone(),
            data: Some(b"x".to_vec()),
            acl: open_acl(),
            ephemeral: false,
            parent_c_version: i32::MAX,
        };
        out.push((1, TxnBody::Create(create.clone())));
        out.push((
            1,
            TxnBody::Create(CreateTxn {
                ephemeral: true,
                acl: vec![],
                data: None,
                ..create
            }),
        ));
        out.push((
            19,
            TxnBody::CreateContainer(CreateContainerTxn {
                path: p.clone(),
                data: None,
                acl: open_acl(),
                parent_c_version: -1,
            }),
        ));
        out.push((
            21,
            TxnBody::CreateTtl(CreateTtlTxn {
                path: p.clone(),
                data: None,
                acl: open_acl(),
                parent_c_version: i32::MIN,
                ttl: -1,
            }),
        ));
        out.push((
            5,
            TxnBody::SetData(SetDataTxn {
                path: p.clone(),
                data: None,
                version: i32::MAX,
            }),
        ));
        out.push((
            7,
            TxnBody::SetAcl(SetAclTxn {
                path: p.clone(),
                acl: vec![],
                version: -1,
            }),
        ));
        out.push((2, TxnBody::Delete(DeleteTxn { path: p.clone() })));
        out.push((20, TxnBody::Delete(DeleteTxn { path: p })));
    }
    out
}

#[test]
fn hostile_txns_apply_without_panicking() {
    let (base, _) = serialized_tree();
    let bodies = hostile_bodies();
    let mut tree = decode_tree(&{
        let mut b = Vec::new();
        base.serialize(&mut OutputArchive::new(&mut b)).unwrap();
        b
    })
    .unwrap();
    let mut zxid = 1000;
    for (ty, body) in &bodies {
        zxid += 1;
        tree.process_txn(&header(zxid, *ty), body, None);
    }
    // The same txns again, wrapped in one multi, then garbage sub-txns.
    let txns = bodies
        .iter()
        .map(|(ty, body)| Txn {
            r#type: *ty,
            data: Some(body.to_bytes()),
        })
        .collect();
    tree.process_txn(
        &header(zxid + 1, 14),
        &TxnBody::Multi(MultiTxn { txns }),
        None,
    );
    let garbage = vec![
        Txn {
            r#type: 1,
            data: None,
        },
        Txn {
            r#type: 999,
            data: Some(vec![1, 2, 3]),
        },
        Txn {
            r#type: 5,
            data: Some(vec![0xff; 7]),
        },
        Txn {
            r#type: 14,
            data: Some(vec![0, 0, 0, 1]),
        },
    ];
    tree.process_txn(
        &header(zxid + 2, 14),
        &TxnBody::Multi(MultiTxn { txns: garbage }),
        None,
    );
    // The tree is still whole: it snapshots and loads back the same.
    let mut bytes = Vec::new();
    tree.serialize(&mut OutputArchive::new(&mut bytes)).unwrap();
    let back = decode_tree(&bytes).expect("the tree after hostile txns snapshots cleanly");
    assert_eq!(back.node_count(), tree.node_count());
    assert_eq!(back.digest(), tree.digest());
}

#[test]
fn corrupt_logged_txns_decode_and_apply_without_panicking() {
    let entries: Vec<TxnLogEntry> = workload_txns(1, 40);
    let mut rng = XorShift(0xdead_beef_1234);
    let mut tree = DataTree::new();
    for entry in &entries {
        let bytes = entry.to_bytes();
        for _ in 0..40 {
            let mut bad = bytes.clone();
            let at = (rng.next() as usize) % bad.len();
            bad[at] = rng.next() as u8;
            if let Ok(decoded) = TxnLogEntry::from_bytes(&bad) {
                tree.process_txn(&decoded.header, &decoded.body, decoded.digest.as_ref());
            }
        }
        tree.process_txn(&entry.header, &entry.body, None);
    }
    assert!(tree.get_node("/").is_some());
}
