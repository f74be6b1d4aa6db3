//! Helpers of the persistence tests: a temp directory per test, a
//! deterministic workload of txns of every kind, and a full tree dump.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};

use zookeeper::jute::data::{Acl, Id, Stat};
use zookeeper::jute::txn::{
    CloseSessionTxn, CreateContainerTxn, CreateSessionTxn, CreateTtlTxn, CreateTxn, DeleteTxn,
    ErrorTxn, MultiTxn, SetAclTxn, SetDataTxn, Txn, TxnBody, TxnHeader, TxnLogEntry,
};
use zookeeper::server::data_tree::DataTree;

/// A directory removed when dropped.
pub struct TempDir(PathBuf);

impl TempDir {
    pub fn new(name: &str) -> TempDir {
        static COUNTER: AtomicU32 = AtomicU32::new(0);
        let n = COUNTER.fetch_add(1, Ordering::SeqCst);
        let dir =
            std::env::temp_dir().join(format!("zkrs-it-{}-{}-{}", name, std::process::id(), n));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        TempDir(dir)
    }

    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

pub const SESSION_A: i64 = 0x1000_0000_0000_0100;
pub const SESSION_B: i64 = 0x1000_0000_0000_0101;

pub fn open_acl() -> Vec<Acl> {
    vec![Acl {
        perms: 31,
        id: Id {
            scheme: "world".into(),
            id: "anyone".into(),
        },
    }]
}

fn digest_acl() -> Vec<Acl> {
    vec![
        Acl {
            perms: 31,
            id: Id {
                scheme: "digest".into(),
                id: "u:oyDjlIQ5tu0TiSjvWCh5ts9RFHg=".into(),
            },
        },
        Acl {
            perms: 1,
            id: Id {
                scheme: "world".into(),
                id: "anyone".into(),
            },
        },
    ]
}

fn create(path: &str, data: &str, ephemeral: bool) -> TxnBody {
    TxnBody::Create(CreateTxn {
        path: path.into(),
        data: Some(data.as_bytes().to_vec()),
        acl: open_acl(),
        ephemeral,
        parent_c_version: -1,
    })
}

/// `n` txns starting at `first_zxid`: two sessions, then creates of every
/// kind, setData, setACL, deletes, multi, error txns, and finally session B
/// closes. Every txn applies cleanly to a fresh tree.
pub fn workload_txns(first_zxid: i64, n: i64) -> Vec<TxnLogEntry> {
    let mut out = Vec::new();
    let mut persistent: Vec<(String, i32, i32)> = Vec::new(); // path, version, aversion
    for k in 0..n {
        let zxid = first_zxid + k;
        let mut session = SESSION_A;
        let (ty, body) = if k == 0 {
            (
                -10,
                TxnBody::CreateSession(CreateSessionTxn { time_out: 30000 }),
            )
        } else if k == 1 {
            session = SESSION_B;
            (
                -10,
                TxnBody::CreateSession(CreateSessionTxn { time_out: 12000 }),
            )
        } else if k == n - 1 {
            session = SESSION_B;
            (
                -11,
                TxnBody::CloseSession(Some(CloseSessionTxn {
                    paths2_delete: vec![],
                })),
            )
        } else {
            match k % 10 {
                0 | 9 => {
                    let p = format!("/n{:05}", k);
                    persistent.push((p.clone(), 0, 0));
                    (1, create(&p, &format!("value {}", k), false))
                }
                1 => {
                    session = if k % 20 == 1 { SESSION_A } else { SESSION_B };
                    (15, create(&format!("/e{:05}", k), "eph", true))
                }
                2 => match persistent.last_mut() {
                    Some((p, version, _)) => {
                        *version += 1;
                        (
                            5,
                            TxnBody::SetData(SetDataTxn {
                                path: p.clone(),
                                data: Some(vec![k as u8; 40]),
                                version: *version,
                            }),
                        )
                    }
                    None => (-1, TxnBody::Error(ErrorTxn { err: -101 })),
                },
                3 => match persistent.last_mut() {
                    Some((p, _, aversion)) => {
                        *aversion += 1;
                        (
                            7,
                            TxnBody::SetAcl(SetAclTxn {
                                path: p.clone(),
                                acl: digest_acl(),
                                version: *aversion,
                            }),
                        )
                    }
                    None => (-1, TxnBody::Error(ErrorTxn { err: -101 })),
                },
                4 => (
                    19,
                    TxnBody::CreateContainer(CreateContainerTxn {
                        path: format!("/c{:05}", k),
                        data: None,
                        acl: open_acl(),
                        parent_c_version: -1,
                    }),
                ),
                5 => {
                    let p = format!("/m{:05}", k);
                    let sub1 = create(&p, "multi", false);
                    let sub2 = TxnBody::SetData(SetDataTxn {
                        path: p.clone(),
                        data: Some(b"m2".to_vec()),
                        version: 1,
                    });
                    persistent.push((p, 1, 0));
                    (
                        14,
                        TxnBody::Multi(MultiTxn {
                            txns: vec![
                                Txn {
                                    r#type: 1,
                                    data: Some(sub1.to_bytes()),
                                },
                                Txn {
                                    r#type: 5,
                                    data: Some(sub2.to_bytes()),
                                },
                            ],
                        }),
                    )
                }
                6 => (-1, TxnBody::Error(ErrorTxn { err: -110 })),
                7 => match persistent.pop() {
                    Some((p, _, _)) => (2, TxnBody::Delete(DeleteTxn { path: p })),
                    None => (-1, TxnBody::Error(ErrorTxn { err: -101 })),
                },
                _ => (
                    21,
                    TxnBody::CreateTtl(CreateTtlTxn {
                        path: format!("/t{:05}", k),
                        data: Some(b"ttl".to_vec()),
                        acl: open_acl(),
                        parent_c_version: -1,
                        ttl: 600_000,
                    }),
                ),
            }
        };
        out.push(TxnLogEntry {
            header: TxnHeader {
                client_id: session,
                cxid: k as i32,
                zxid,
                time: 1_700_000_000_000 + k,
                r#type: ty,
            },
            body,
            digest: None,
        });
    }
    out
}

/// One node as [`dump_tree`] lists it: path, data, ACL, stat.
pub type DumpedNode = (String, Option<Vec<u8>>, Vec<Acl>, Stat);

/// Every node of a tree: path, data, ACL, stat; sorted by path.
pub fn dump_tree(tree: &DataTree) -> Vec<DumpedNode> {
    let mut paths = vec!["/".to_string()];
    let mut i = 0;
    while i < paths.len() {
        let path = paths[i].clone();
        if let Ok((children, _)) = tree.get_children(&path, None) {
            for c in children {
                paths.push(if path == "/" {
                    format!("/{}", c)
                } else {
                    format!("{}/{}", path, c)
                });
            }
        }
        i += 1;
    }
    paths.sort();
    paths
        .into_iter()
        .map(|p| {
            let (data, stat) = tree.get_data(&p, None).unwrap();
            let acl = tree
                .get_node(&p)
                .map(|n| tree.get_acl(n))
                .unwrap_or_default();
            (p, data, acl, stat)
        })
        .collect()
}
