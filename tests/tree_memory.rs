//! Memory of the DataTree (issue 6's target): 1,000,000 znodes of 16 bytes
//! must fit in 300 MB of RSS (Java needs over 1.3 GB). Builds the tree
//! through `process_txn`, as the server does, and reads VmRSS from
//! /proc/self/status. Meaningful only in a release build, so a debug
//! build skips it (saying so); `scripts/test.sh` runs `cargo test
//! --release`, which measures:
//!
//! ```text
//! cargo test --release --test tree_memory -- --nocapture
//! ```

use std::time::Instant;

use zookeeper::jute::data::ids;
use zookeeper::jute::txn::{CreateTxn, TxnBody, TxnHeader};
use zookeeper::server::data_tree::DataTree;
use zookeeper::zoo_defs::op_code;

/// VmRSS of this process in bytes (0 where /proc is missing).
fn rss_bytes() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        .map_or(0, |kb| kb * 1024)
}

fn create(tree: &mut DataTree, zxid: i64, path: String, parent_cversion: i32) {
    let header = TxnHeader {
        client_id: 0x42,
        cxid: 1,
        zxid,
        time: 1_700_000_000_000 + zxid,
        r#type: op_code::CREATE,
    };
    let body = TxnBody::Create(CreateTxn {
        path,
        data: Some(vec![b'x'; 16]),
        acl: ids::open_acl_unsafe(),
        ephemeral: false,
        parent_c_version: parent_cversion,
    });
    let rc = tree.process_txn(&header, &body, None);
    assert_eq!(rc.err, zookeeper::keeper_exception::Code::Ok);
}

/// 1000 parents under / with 1000 children each: 1,001,000 znodes.
#[test]
fn a_million_small_znodes_fit_in_300_mb() {
    if cfg!(debug_assertions) {
        eprintln!("SKIPPED: a release-only measurement (cargo test --release --test tree_memory)");
        return;
    }
    const PARENTS: i64 = 1000;
    const CHILDREN: i64 = 1000;
    let before = rss_bytes();
    let started = Instant::now();
    let mut tree = DataTree::new();
    let mut zxid = 0;
    for p in 0..PARENTS {
        zxid += 1;
        create(&mut tree, zxid, format!("/app{:04}", p), p as i32 + 2);
        for c in 0..CHILDREN {
            zxid += 1;
            create(
                &mut tree,
                zxid,
                format!("/app{:04}/node-{:010}", p, c),
                c as i32 + 1,
            );
        }
    }
    let built = started.elapsed();
    let after = rss_bytes();
    let nodes = (PARENTS * (CHILDREN + 1)) as u64;
    let per_node = (after - before) / nodes;
    println!(
        "{} znodes built in {:?}: RSS {} MB (was {} MB before), {} bytes/znode",
        nodes,
        built,
        after >> 20,
        before >> 20,
        per_node
    );
    assert_eq!(tree.node_count() as u64, nodes + 5);
    assert!(after < 300 << 20, "RSS {} MB exceeds 300 MB", after >> 20);
}
